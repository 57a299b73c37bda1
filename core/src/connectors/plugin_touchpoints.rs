//! A plugin's touchpoints, as the store records them: the same validation as
//! `recordTouchpoints`, with the connector's kind as their `source` and the
//! connector as the owner of their external ids.

use crate::CoreResult;
use crate::ingestion::{AccountHint, NewPerson, NewTouchpoint, PropertiesUpdate, RawTouchpoint};
use chrono::{DateTime, Utc};
use entity::vocab::{Channel, OwnerTeam};
use journeys_plugin_sdk as sdk;
use uuid::Uuid;

pub fn check(
    connector: Uuid,
    kind: &str,
    touchpoint: sdk::Touchpoint,
    now: DateTime<Utc>,
) -> CoreResult<NewTouchpoint> {
    let hint = touchpoint.person;
    let has_identity = hint.email.is_some()
        || hint.twitter_user_id.is_some()
        || hint.twitter_handle.is_some()
        || hint.zoom_registrant_id.is_some()
        || hint.zendesk_user_id.is_some()
        || hint.vendor_user_id.is_some();
    let person = has_identity.then(|| NewPerson {
        email: hint.email,
        twitter_user_id: hint.twitter_user_id,
        twitter_handle: hint.twitter_handle,
        zoom_registrant_id: hint.zoom_registrant_id,
        zendesk_user_id: hint.zendesk_user_id,
        vendor_user_id: hint.vendor_user_id.map(|id| format!("{kind}:{id}")),
        name: hint.name,
        title: hint.title,
        ..NewPerson::default()
    });
    let raw = RawTouchpoint {
        title: touchpoint.title,
        body: touchpoint.body,
        url: touchpoint.url,
        score: touchpoint.score.map(f64::from),
        properties: (!touchpoint.properties.is_empty())
            .then_some(serde_json::Value::Object(touchpoint.properties)),
        person,
        account_hint: touchpoint.account.map(|a| AccountHint {
            external_id: a.external_id,
            name: a.name,
        }),
        owner_team: touchpoint.owner_team.map(team),
        actor: touchpoint.actor,
        properties_update: PropertiesUpdate::Merge,
        ..RawTouchpoint::new(
            kind,
            &touchpoint.external_id,
            channel(touchpoint.channel),
            &touchpoint.kind,
            touchpoint.occurred_at,
        )
    };
    Ok(NewTouchpoint::check(raw, now)?.of_connector(connector))
}

/// The engine's team for the SDK's.
fn team(team: sdk::Team) -> OwnerTeam {
    match team {
        sdk::Team::Marketing => OwnerTeam::Marketing,
        sdk::Team::Sales => OwnerTeam::Sales,
        sdk::Team::Delivery => OwnerTeam::Delivery,
        sdk::Team::Service => OwnerTeam::Service,
        sdk::Team::Relationship => OwnerTeam::Relationship,
    }
}

/// The engine's channel for the SDK's.
fn channel(channel: sdk::Channel) -> Channel {
    match channel {
        sdk::Channel::Social => Channel::Social,
        sdk::Channel::Webinar => Channel::Webinar,
        sdk::Channel::Support => Channel::Support,
        sdk::Channel::Email => Channel::Email,
        sdk::Channel::Phone => Channel::Phone,
        sdk::Channel::Meeting => Channel::Meeting,
        sdk::Channel::Web => Channel::Web,
        sdk::Channel::Event => Channel::Event,
        sdk::Channel::Ad => Channel::Ad,
        sdk::Channel::Other => Channel::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use entity::vocab::IdentityKind;

    #[test]
    fn a_vendors_own_user_id_is_kept_under_the_connectors_kind() {
        // A connector for a vendor Journeys has no identity kind for.
        let touchpoint = sdk::Touchpoint {
            external_id: "deal:7".into(),
            kind: "deal.won".into(),
            channel: sdk::Channel::Other,
            occurred_at: Utc::now(),
            title: None,
            body: None,
            url: None,
            score: None,
            properties: serde_json::Map::new(),
            person: sdk::PersonHint {
                vendor_user_id: Some("5120".into()),
                ..sdk::PersonHint::default()
            },
            account: None,
            owner_team: None,
            actor: None,
        };
        let checked = check(Uuid::nil(), "hubspot", touchpoint, Utc::now()).unwrap();
        assert_eq!(
            checked.identities(),
            [(IdentityKind::VendorUserId, "hubspot:5120".to_owned())]
        );
    }
}
