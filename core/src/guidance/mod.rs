//! Guidance for working an account: what it should get next and why, read
//! from what the engine already keeps (stage positions and playbooks, the
//! decision-making unit, lifecycle changes, support tickets, NPS answers,
//! consents), in a fixed number of statements for any number of accounts.
//! Nothing here writes; nothing else in the engine imports it.

pub mod next_steps;
mod reads;
pub mod tickets;

pub use next_steps::{Guidance, NextStep, Priority, StepKind, guide};

#[cfg(test)]
pub(crate) mod tests {
    use chrono::{DateTime, Utc};
    use entity::touchpoint;
    use entity::vocab::Channel;
    use uuid::Uuid;

    /// A bare API touchpoint of `kind` at `at`, on no account.
    pub(crate) fn touchpoint_row(kind: &str, at: DateTime<Utc>) -> touchpoint::Model {
        touchpoint::Model {
            id: Uuid::now_v7(),
            workspace_id: Uuid::nil(),
            account_id: None,
            stakeholder_id: None,
            source: "api".into(),
            connector_id: None,
            external_id: Uuid::now_v7().to_string(),
            channel: Channel::Other,
            kind: kind.into(),
            occurred_at: at,
            title: None,
            body: None,
            url: None,
            owner_team: None,
            actor: None,
            emotion: None,
            sentiment: None,
            score: None,
            properties: None,
            asset_key: None,
            asset_title: None,
            asset_url: None,
            created_at: at,
            updated_at: at,
        }
    }
}
