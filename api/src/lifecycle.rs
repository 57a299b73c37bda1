//! The GraphQL face of lifecycles: recorded changes and sales' decisions on
//! leads. Recording is `journeys_core::lifecycle`; thresholds and
//! qualification are `journeys_core::scoring`.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::lifecycle_change;
use journeys_core::lifecycle::{self, Decision, Subject};
use journeys_core::people::{accounts, stakeholders};
use journeys_core::{db, scoring};

use crate::accounts::Account;
use crate::auth::Scope;
use crate::graphql::context::request;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::ids::{self, NodeType};
use crate::stakeholders::Stakeholder;
use crate::vocab::Lifecycle;

/// One recorded lifecycle change.
pub struct LifecycleChange(pub lifecycle_change::Model);

/// One recorded change of an account's or a person's lifecycle, with its time
/// and cause.
#[Object]
impl LifecycleChange {
    /// The lifecycle before; null for the first one recorded.
    async fn from(&self) -> Option<Lifecycle> {
        self.0.from_lifecycle.map(Into::into)
    }
    /// The lifecycle after.
    async fn to(&self) -> Lifecycle {
        self.0.to_lifecycle.into()
    }
    /// When the change took effect (UTC); for a change a touchpoint caused,
    /// the touchpoint's time, which for a touchpoint that arrived late may be
    /// before the change recorded ahead of it.
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
    /// Why, in words.
    async fn cause(&self) -> &str {
        &self.0.cause
    }
    /// Who made it, for changes made by a person.
    async fn actor(&self) -> Option<&str> {
        self.0.actor.as_deref()
    }
    /// The touchpoint that caused it, if one did.
    async fn touchpoint(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Option<crate::touchpoints::Touchpoint>> {
        crate::touchpoints::load(ctx, self.0.touchpoint_id).await
    }
}

/// Loads the changes of one subject, in the order recorded.
pub async fn history(ctx: &Context<'_>, subject: Subject) -> ApiResult<Vec<LifecycleChange>> {
    use crate::graphql::connection::load_error;
    let rows = request(ctx)
        .loader
        .load_one(crate::graphql::loaders::LifecycleOf(subject))
        .await
        .map_err(load_error)?;
    Ok(rows
        .unwrap_or_default()
        .into_iter()
        .map(LifecycleChange)
        .collect())
}

/// A lead that sales accepts.
#[derive(InputObject)]
pub struct AcceptLeadInput {
    /// A stakeholder or an account.
    pub id: ID,
    /// Why, at most 1,000 characters; kept in the lifecycle change's cause.
    pub reason: Option<String>,
}

/// A lead that sales rejects.
#[derive(InputObject)]
pub struct DisqualifyLeadInput {
    /// A stakeholder or an account.
    pub id: ID,
    /// Why, 1 to 1,000 characters; kept in the lifecycle change's cause.
    pub reason: String,
}

/// New qualification thresholds for the workspace.
#[derive(InputObject)]
pub struct SetQualificationThresholdsInput {
    /// The score at which a lead becomes an MQL.
    pub mql: f64,
}

/// The subject of a sales decision, after it.
#[derive(SimpleObject)]
pub struct LeadPayload {
    /// The stakeholder, when the id named one; null otherwise.
    pub stakeholder: Option<Stakeholder>,
    /// The account, when the id named one; null otherwise.
    pub account: Option<Account>,
}

/// The scores at which the workspace qualifies leads.
#[derive(SimpleObject)]
pub struct QualificationThresholds {
    /// The score (positive) at which a lead becomes an MQL.
    pub mql: f64,
}

/// Moves a lead by a sales decision, in one transaction.
async fn decide(
    ctx: &Context<'_>,
    id: &ID,
    decision: Decision,
    reason: Option<&str>,
) -> ApiResult<LeadPayload> {
    let rc = request(ctx);
    let principal = rc.require(Scope::Write)?;
    let ws = principal.workspace_id;
    let subject = match ids::decode_any(id)? {
        (NodeType::Stakeholder, key) => Subject::Stakeholder(key),
        (NodeType::Account, key) => Subject::Account(key),
        _ => {
            return Err(ApiError::bad_input(
                "expected a Stakeholder or an Account id",
            ));
        }
    };
    let txn = db::begin_write(&rc.db).await?;
    lifecycle::decide(&txn, ws, subject, decision, reason, &principal.subject).await?;
    let payload = match subject {
        Subject::Stakeholder(key) => LeadPayload {
            stakeholder: Some(Stakeholder(stakeholders::find(&txn, ws, key).await?)),
            account: None,
        },
        Subject::Account(key) => LeadPayload {
            stakeholder: None,
            account: Some(Account(accounts::find(&txn, ws, key).await?)),
        },
    };
    db::commit(txn).await?;
    Ok(payload)
}

#[derive(Default)]
pub struct LifecycleQuery;

#[Object]
impl LifecycleQuery {
    /// The workspace's qualification thresholds.
    async fn qualification_thresholds(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<QualificationThresholds> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Read)?.workspace_id;
        Ok(QualificationThresholds {
            mql: scoring::mql_threshold(&rc.db, ws).await?,
        })
    }
}

#[derive(Default)]
pub struct LifecycleMutation;

#[Object]
impl LifecycleMutation {
    /// Sales accepts a lead: it becomes an SQL.
    async fn accept_lead(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The lead and an optional reason.")] input: AcceptLeadInput,
    ) -> ApiResult<LeadPayload> {
        decide(ctx, &input.id, Decision::Accept, input.reason.as_deref()).await
    }

    /// Sales rejects a lead, with a reason: it becomes DISQUALIFIED.
    async fn disqualify_lead(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The lead and the reason.")] input: DisqualifyLeadInput,
    ) -> ApiResult<LeadPayload> {
        decide(ctx, &input.id, Decision::Disqualify, Some(&input.reason)).await
    }

    /// Sets the score at which leads become MQLs; unqualified people and
    /// accounts already at or above it qualify now. Raising it qualifies no
    /// one and takes no one back. Needs `admin`.
    async fn set_qualification_thresholds(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new thresholds.")] input: SetQualificationThresholdsInput,
    ) -> ApiResult<QualificationThresholds> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Admin)?.workspace_id;
        let txn = db::begin_write(&rc.db).await?;
        scoring::set_mql_threshold(&txn, ws, input.mql).await?;
        db::commit(txn).await?;
        Ok(QualificationThresholds { mql: input.mql })
    }
}
