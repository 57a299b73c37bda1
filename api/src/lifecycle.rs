//! Lifecycle: VISITOR → LEAD → MQL → SQL → OPPORTUNITY → CUSTOMER → PROMOTER,
//! with DISQUALIFIED and CHURNED as side exits, for people and accounts. Every
//! change is recorded with its time and cause; hand-off analytics read them.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::vocab::Lifecycle as L;
use entity::{account, lifecycle_change, stakeholder, workspace};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::accounts::Account;
use crate::auth::Scope;
use crate::graphql::context::request;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::ids::{self, NodeType};
use crate::stakeholders::Stakeholder;
use crate::vocab::Lifecycle;
use journeys_core::{db, time};

/// Whose lifecycle changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    Account(Uuid),
    Stakeholder(Uuid),
}

/// What changed a lifecycle, for the record.
pub struct Change<'a> {
    pub from: Option<L>,
    pub to: L,
    pub at: DateTime<Utc>,
    pub cause: &'a str,
    pub actor: Option<&'a str>,
    pub touchpoint: Option<Uuid>,
}

/// Records a change. The caller has set (or is setting) the subject's lifecycle.
pub async fn record(
    db: &impl ConnectionTrait,
    ws: Uuid,
    subject: Subject,
    change: Change<'_>,
) -> ApiResult<lifecycle_change::Model> {
    let (account_id, stakeholder_id) = match subject {
        Subject::Account(id) => (Some(id), None),
        Subject::Stakeholder(id) => (None, Some(id)),
    };
    Ok(lifecycle_change::ActiveModel {
        id: Set(entity::new_id()),
        workspace_id: Set(ws),
        account_id: Set(account_id),
        stakeholder_id: Set(stakeholder_id),
        from_lifecycle: Set(change.from),
        to_lifecycle: Set(change.to),
        occurred_at: Set(time::to_micros(change.at)),
        cause: Set(change.cause.to_owned()),
        actor: Set(change.actor.map(str::to_owned)),
        touchpoint_id: Set(change.touchpoint),
    }
    .insert(db)
    .await?)
}

/// Sets a subject's lifecycle and records the change, which it returns; a
/// no-op when unchanged.
pub async fn set(
    db: &impl ConnectionTrait,
    ws: Uuid,
    subject: Subject,
    change: Change<'_>,
) -> ApiResult<Option<lifecycle_change::Model>> {
    if change.from == Some(change.to) {
        return Ok(None);
    }
    let now = time::now();
    match subject {
        Subject::Account(id) => {
            account::ActiveModel {
                id: Set(id),
                lifecycle: Set(change.to),
                updated_at: Set(now),
                ..Default::default()
            }
            .update(db)
            .await?;
        }
        Subject::Stakeholder(id) => {
            stakeholder::ActiveModel {
                id: Set(id),
                lifecycle: Set(change.to),
                updated_at: Set(now),
                ..Default::default()
            }
            .update(db)
            .await?;
        }
    }
    record(db, ws, subject, change).await.map(Some)
}

/// Whether a subject at `lifecycle` is still before qualification.
pub fn is_unqualified(lifecycle: L) -> bool {
    matches!(lifecycle, L::Visitor | L::Lead)
}

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
    /// the touchpoint's time.
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
        use crate::graphql::connection::load_error;
        let Some(id) = self.0.touchpoint_id else {
            return Ok(None);
        };
        let found = request(ctx)
            .loader
            .load_one(crate::graphql::loaders::TouchpointById(id))
            .await
            .map_err(load_error)?;
        Ok(found.map(crate::touchpoints::Touchpoint))
    }
}

/// Loads the changes of one subject, oldest first.
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

/// A cause that carries a person's free-text reason: `{decision}: {reason}`.
fn with_reason(decision: &str, reason: &str) -> String {
    format!("{decision}: {reason}")
}

/// A cause with its free-text reason (see [`with_reason`]) replaced by a
/// note that it was erased; `None` for causes without one.
pub fn reason_erased(cause: &str) -> Option<String> {
    let (decision, _reason) = cause.split_once(": ")?;
    Some(format!("{decision} (reason erased)"))
}

/// Refuses a lead decision on someone already past qualification: accepting a
/// customer would take them back to SQL. A disqualified lead may be accepted
/// after all, and an SQL disqualified.
fn check_undecided(what: &str, lifecycle: L) -> ApiResult<()> {
    match lifecycle {
        L::Opportunity | L::Customer | L::Promoter | L::Churned => {
            Err(ApiError::Conflict(format!(
                "the {what} is {}, past lead qualification",
                sea_orm::ActiveEnum::to_value(&lifecycle)
            )))
        }
        _ => Ok(()),
    }
}

/// Moves a lead to `to` by a person's decision.
async fn decide(ctx: &Context<'_>, id: &ID, to: L, cause: &str) -> ApiResult<LeadPayload> {
    let rc = request(ctx);
    let principal = rc.require(Scope::Write)?;
    let ws = principal.workspace_id;
    let (ty, key) = ids::decode_any(id)?;
    let txn = db::begin_write(&rc.db).await.map_err(ApiError::from)?;
    let change = |from| Change {
        from: Some(from),
        to,
        at: time::now(),
        cause,
        actor: Some(&principal.subject),
        touchpoint: None,
    };
    let payload = match ty {
        NodeType::Stakeholder => {
            let s = crate::stakeholders::find(&txn, ws, key).await?;
            check_undecided("stakeholder", s.lifecycle)?;
            set(&txn, ws, Subject::Stakeholder(key), change(s.lifecycle)).await?;
            let s = crate::stakeholders::find(&txn, ws, key).await?;
            LeadPayload {
                stakeholder: Some(Stakeholder(s)),
                account: None,
            }
        }
        NodeType::Account => {
            let a = crate::accounts::find(&txn, ws, key).await?;
            check_undecided("account", a.lifecycle)?;
            set(&txn, ws, Subject::Account(key), change(a.lifecycle)).await?;
            let a = crate::accounts::find(&txn, ws, key).await?;
            LeadPayload {
                stakeholder: None,
                account: Some(Account(a)),
            }
        }
        _ => {
            return Err(ApiError::bad_input(
                "expected a Stakeholder or an Account id",
            ));
        }
    };
    txn.commit().await.map_err(ApiError::from)?;
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
        let ws = workspace::Entity::find_by_id(ws)
            .one(&rc.db)
            .await
            .map_err(ApiError::from)?
            .ok_or(ApiError::not_found("workspace"))?;
        Ok(QualificationThresholds {
            mql: ws.mql_threshold,
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
        let reason = input
            .reason
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty());
        if reason.as_ref().is_some_and(|r| r.chars().count() > 1_000) {
            return Err(ApiError::bad_input(
                "`reason` must be at most 1,000 characters",
            ));
        }
        let cause = match reason {
            Some(reason) => with_reason("accepted by sales", &reason),
            None => "accepted by sales".to_owned(),
        };
        decide(ctx, &input.id, L::Sql, &cause).await
    }

    /// Sales rejects a lead, with a reason: it becomes DISQUALIFIED.
    async fn disqualify_lead(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The lead and the reason.")] input: DisqualifyLeadInput,
    ) -> ApiResult<LeadPayload> {
        let reason = input.reason.trim();
        if reason.is_empty() || reason.chars().count() > 1_000 {
            return Err(ApiError::bad_input(
                "`reason` must be 1 to 1,000 characters",
            ));
        }
        decide(
            ctx,
            &input.id,
            L::Disqualified,
            &with_reason("disqualified by sales", reason),
        )
        .await
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
        if !input.mql.is_finite() || input.mql <= 0.0 {
            return Err(ApiError::bad_input("`mql` must be a positive number"));
        }
        let txn = db::begin_write(&rc.db).await.map_err(ApiError::from)?;
        workspace::ActiveModel {
            id: Set(ws),
            mql_threshold: Set(input.mql),
            ..Default::default()
        }
        .update(&txn)
        .await
        .map_err(ApiError::from)?;
        crate::scoring::qualify_workspace(&txn, ws, "the MQL threshold changed").await?;
        txn.commit().await.map_err(ApiError::from)?;
        Ok(QualificationThresholds { mql: input.mql })
    }
}

/// Finds the lifecycle changes of many subjects at once (for the loader).
pub async fn changes_of(
    db: &impl ConnectionTrait,
    ws: Uuid,
    accounts: Vec<Uuid>,
    stakeholders: Vec<Uuid>,
) -> Result<Vec<lifecycle_change::Model>, sea_orm::DbErr> {
    use sea_orm::{Condition, QueryOrder};
    lifecycle_change::Entity::find()
        .filter(lifecycle_change::Column::WorkspaceId.eq(ws))
        .filter(
            Condition::any()
                .add(lifecycle_change::Column::AccountId.is_in(accounts))
                .add(lifecycle_change::Column::StakeholderId.is_in(stakeholders)),
        )
        .order_by_asc(lifecycle_change::Column::OccurredAt)
        .order_by_asc(lifecycle_change::Column::Id)
        .all(db)
        .await
}
