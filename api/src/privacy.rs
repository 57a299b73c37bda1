//! The GraphQL face of consent and erasure; both are `journeys_core::privacy`.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::consent;
use journeys_core::privacy;
use uuid::Uuid;

use crate::auth::Scope;
use crate::graphql::context::request;
use crate::graphql::error::ApiResult;
use crate::graphql::ids::{self, NodeType};
use crate::stakeholders::Stakeholder;
use crate::vocab::Channel;
use journeys_core::db;

/// A consent given or taken back.
pub struct Consent(pub consent::Model);

/// A stakeholder's consent for one channel, given or taken back, with where
/// and when.
#[Object]
impl Consent {
    /// The channel it applies to.
    async fn channel(&self) -> Channel {
        self.0.channel.into()
    }
    /// True when consent was given, false when it was taken back.
    async fn granted(&self) -> bool {
        self.0.granted
    }
    /// Where it was given or taken back.
    async fn source(&self) -> &str {
        &self.0.source
    }
    /// When it was recorded (UTC).
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.recorded_at
    }
}

/// A stakeholder's consents: the current one per channel, or the whole history
/// newest first.
pub async fn consents_of(
    ctx: &Context<'_>,
    person: Uuid,
    history: bool,
) -> ApiResult<Vec<Consent>> {
    let rows = request(ctx)
        .loader
        .load_one(crate::graphql::loaders::ConsentsOf(person))
        .await
        .map_err(crate::graphql::connection::load_error)?
        .unwrap_or_default();
    Ok(privacy::current_consents(rows, history)
        .into_iter()
        .map(Consent)
        .collect())
}

/// A consent given or taken back.
#[derive(InputObject)]
pub struct SetConsentInput {
    /// The person; CONFLICT when they were erased.
    pub stakeholder_id: ID,
    /// The channel it applies to.
    pub channel: Channel,
    /// True to give consent, false to take it back.
    pub granted: bool,
    /// Where it was given or taken back: a form, an email reply, a call.
    pub source: String,
}

/// The result of `setConsent`.
#[derive(SimpleObject)]
pub struct SetConsentPayload {
    /// The person.
    pub stakeholder: Stakeholder,
    /// The consent just recorded.
    pub consent: Consent,
}

/// The person to erase.
#[derive(InputObject)]
pub struct EraseStakeholderInput {
    /// The stakeholder's global id.
    pub stakeholder_id: ID,
}

/// The result of `eraseStakeholder`.
#[derive(SimpleObject)]
pub struct EraseStakeholderPayload {
    /// The stakeholder, now anonymous.
    pub stakeholder: Stakeholder,
}

#[derive(Default)]
pub struct PrivacyMutation;

#[Object]
impl PrivacyMutation {
    /// Records a consent given or taken back; the history is kept.
    async fn set_consent(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The person, the channel, and whether consent is given.")]
        input: SetConsentInput,
    ) -> ApiResult<SetConsentPayload> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Write)?.workspace_id;
        let person = ids::decode(&input.stakeholder_id, NodeType::Stakeholder)?;
        let txn = db::begin_write(&rc.db).await?;
        let channel = input.channel.into();
        let (found, row) =
            privacy::set_consent(&txn, ws, person, channel, input.granted, &input.source).await?;
        db::commit(txn).await?;
        Ok(SetConsentPayload {
            stakeholder: Stakeholder(found),
            consent: Consent(row),
        })
    }

    /// Erases a person's data (the right to be forgotten): their name, email,
    /// title, identities and consents, and their touchpoints' title, body, url
    /// and properties; counts, funnels and NPS totals stay. A touchpoint
    /// delivered again later (same source and external id) stays erased.
    /// Needs `admin`.
    async fn erase_stakeholder(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The person to erase.")] input: EraseStakeholderInput,
    ) -> ApiResult<EraseStakeholderPayload> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Admin)?.workspace_id;
        let person = ids::decode(&input.stakeholder_id, NodeType::Stakeholder)?;
        let txn = db::begin_write(&rc.db).await?;
        privacy::erase(&txn, ws, person).await?;
        let found = journeys_core::people::stakeholders::find(&txn, ws, person).await?;
        db::commit(txn).await?;
        Ok(EraseStakeholderPayload {
            stakeholder: Stakeholder(found),
        })
    }
}
