//! Consent per stakeholder and channel, and erasure (the right to be forgotten).
//!
//! Erasure removes what identifies a person: their name, email and title,
//! identities, consents, the contents of their touchpoints (and their external
//! ids, which become digests that re-deliveries still match), and their rows
//! in merge snapshots. The stakeholder and touchpoint rows stay, anonymous, so
//! funnels, scores and NPS totals do not change.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{consent, identity, lifecycle_change, merge, stakeholder, touchpoint};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::Value;
use uuid::Uuid;

use crate::auth::Scope;
use crate::graphql::context::request;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::ids::{self, NodeType};
use crate::stakeholders::Stakeholder;
use crate::vocab::Channel;
use journeys_core::{db, time};

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
    let mut seen = Vec::new();
    Ok(rows
        .into_iter()
        .filter(|c| {
            history || {
                let first = !seen.contains(&c.channel);
                seen.push(c.channel);
                first
            }
        })
        .map(Consent)
        .collect())
}

/// Removes a person's identifying data everywhere; see the module docs.
pub async fn erase(db: &impl ConnectionTrait, ws: Uuid, person: Uuid) -> ApiResult<()> {
    let found = journeys_core::people::stakeholders::find(db, ws, person).await?;
    let now = time::now();
    stakeholder::ActiveModel {
        id: Set(found.id),
        name: Set(None),
        email: Set(None),
        title: Set(None),
        updated_at: Set(now),
        erased_at: Set(Some(now)),
        ..Default::default()
    }
    .update(db)
    .await?;
    identity::Entity::delete_many()
        .filter(identity::Column::StakeholderId.eq(person))
        .exec(db)
        .await?;
    consent::Entity::delete_many()
        .filter(consent::Column::StakeholderId.eq(person))
        .exec(db)
        .await?;
    // External ids are rewritten one by one (each to its own digest); an
    // erasure touches one person's touchpoints, and it is rare.
    let touchpoints = touchpoint::Entity::find()
        .filter(touchpoint::Column::WorkspaceId.eq(ws))
        .filter(touchpoint::Column::StakeholderId.eq(person))
        .all(db)
        .await?;
    for old in touchpoints {
        touchpoint::ActiveModel {
            id: Set(old.id),
            external_id: Set(journeys_core::ingestion::erased_external_id(
                ws,
                &old.source,
                &old.external_id,
            )),
            ..Default::default()
        }
        .update(db)
        .await?;
    }
    touchpoint::Entity::update_many()
        .col_expr(
            touchpoint::Column::Title,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            touchpoint::Column::Body,
            Expr::value(Option::<String>::None),
        )
        .col_expr(touchpoint::Column::Url, Expr::value(Option::<String>::None))
        .col_expr(
            touchpoint::Column::Properties,
            Expr::value(Option::<serde_json::Value>::None),
        )
        .col_expr(touchpoint::Column::UpdatedAt, Expr::value(now))
        .filter(touchpoint::Column::WorkspaceId.eq(ws))
        .filter(touchpoint::Column::StakeholderId.eq(person))
        .exec(db)
        .await?;
    // Sales' free-text reasons for their lifecycle changes may describe them;
    // the kind of decision stays ("disqualified by sales").
    for change in lifecycle_change::Entity::find()
        .filter(lifecycle_change::Column::WorkspaceId.eq(ws))
        .filter(lifecycle_change::Column::StakeholderId.eq(person))
        .all(db)
        .await?
    {
        if let Some(cause) = journeys_core::lifecycle::reason_erased(&change.cause) {
            lifecycle_change::ActiveModel {
                id: Set(change.id),
                cause: Set(cause),
                ..Default::default()
            }
            .update(db)
            .await?;
        }
    }
    // Merge snapshots keep copies of people's rows: scrub this person's, and
    // in merges into them, the rows of the records found to be them too.
    for entry in merge::Entity::find()
        .filter(merge::Column::WorkspaceId.eq(ws))
        .all(db)
        .await?
    {
        let mut snapshot = entry.snapshot.clone();
        let whom = if entry.survivor_id == person {
            None
        } else {
            Some(person.to_string())
        };
        if scrub(&mut snapshot, whom.as_deref()) {
            merge::ActiveModel {
                id: Set(entry.id),
                snapshot: Set(snapshot),
                ..Default::default()
            }
            .update(db)
            .await?;
        }
    }
    Ok(())
}

/// Blanks the personal fields of the person rows (those with an `email` field)
/// in a snapshot: of the one with id `person`, or of all when `None`.
fn scrub(value: &mut Value, person: Option<&str>) -> bool {
    let mut changed = false;
    match value {
        Value::Object(map) => {
            let id = map.get("id").and_then(Value::as_str);
            if map.contains_key("email") && (person.is_none() || id == person) {
                for field in ["name", "email", "title"] {
                    map.insert(field.into(), Value::Null);
                }
                changed = true;
            }
            for child in map.values_mut() {
                changed |= scrub(child, person);
            }
        }
        Value::Array(items) => {
            for child in items {
                changed |= scrub(child, person);
            }
        }
        _ => {}
    }
    changed
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
        let source = input.source.trim().to_owned();
        if source.is_empty() || source.chars().count() > 200 {
            return Err(ApiError::bad_input("`source` must be 1 to 200 characters"));
        }
        let txn = db::begin_write(&rc.db).await.map_err(ApiError::from)?;
        let found = journeys_core::people::stakeholders::find(&txn, ws, person).await?;
        if found.erased_at.is_some() {
            return Err(ApiError::Conflict("this stakeholder was erased".into()));
        }
        let row = consent::ActiveModel {
            id: Set(entity::new_id()),
            workspace_id: Set(ws),
            stakeholder_id: Set(person),
            channel: Set(input.channel.into()),
            granted: Set(input.granted),
            source: Set(source),
            recorded_at: Set(time::now()),
        }
        .insert(&txn)
        .await
        .map_err(ApiError::from)?;
        txn.commit().await.map_err(ApiError::from)?;
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
        let txn = db::begin_write(&rc.db).await.map_err(ApiError::from)?;
        erase(&txn, ws, person).await?;
        let found = journeys_core::people::stakeholders::find(&txn, ws, person).await?;
        txn.commit().await.map_err(ApiError::from)?;
        Ok(EraseStakeholderPayload {
            stakeholder: Stakeholder(found),
        })
    }
}
