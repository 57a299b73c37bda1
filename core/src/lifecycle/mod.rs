//! Lifecycle: VISITOR → LEAD → MQL → SQL → OPPORTUNITY → CUSTOMER → PROMOTER,
//! with DISQUALIFIED and CHURNED as side exits, for people and accounts. Every
//! change is recorded with its time and cause; hand-off analytics read them.
//!
//! A subject's changes are a ledger read in the order they were recorded (ids
//! are UUIDv7, so id order is record order): each change's `from` is the `to`
//! before it, and the last `to` is the current lifecycle. A change's time is
//! when its cause happened (a touchpoint's time, a hand's moment), so a late
//! touchpoint's change, recorded after a later-dated one, keeps its own time
//! without moving in front of the changes it follows.
//!
//! This module records and sets lifecycles; deciding when a score qualifies
//! someone is `scoring`'s, which calls in here (never the other way round).
//! What moves people on after qualification, by the kinds of touchpoints
//! recorded, is [`rules`].

pub mod rules;

use chrono::{DateTime, Utc};
use entity::vocab::Lifecycle as L;
use entity::{account, lifecycle_change, stakeholder};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::events::{self, NewEvent};
use crate::{CoreError, CoreResult, time};

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

/// The ledger row of a change, none when it goes nowhere (`from` is `to`):
/// the ledger holds no self-transitions.
pub fn row(
    ws: Uuid,
    subject: Subject,
    change: &Change<'_>,
) -> Option<lifecycle_change::ActiveModel> {
    if change.from == Some(change.to) {
        return None;
    }
    let (account_id, stakeholder_id) = match subject {
        Subject::Account(id) => (Some(id), None),
        Subject::Stakeholder(id) => (None, Some(id)),
    };
    Some(lifecycle_change::ActiveModel {
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
    })
}

/// Records a change, none when it goes nowhere. The caller has set (or is
/// setting) the subject's lifecycle.
pub async fn record(
    db: &impl ConnectionTrait,
    ws: Uuid,
    subject: Subject,
    change: Change<'_>,
) -> CoreResult<Option<lifecycle_change::Model>> {
    let Some(row) = row(ws, subject, &change) else {
        return Ok(None);
    };
    let recorded = row.insert(db).await?;
    events::append(db, ws, NewEvent::lifecycle(&recorded)).await?;
    Ok(Some(recorded))
}

/// Sets the lifecycles of many subjects, all to `to`, and records their
/// changes (in the order given), and logs them: four statements however
/// many.
pub async fn set_all(
    db: &impl ConnectionTrait,
    ws: Uuid,
    to: L,
    changes: &[(Subject, Change<'_>)],
) -> CoreResult<()> {
    let rows: Vec<_> = changes
        .iter()
        .filter(|(_, change)| change.to == to)
        .filter_map(|(subject, change)| row(ws, *subject, change).map(|r| (*subject, r)))
        .collect();
    let accounts: Vec<Uuid> = rows
        .iter()
        .filter_map(|(s, _)| match s {
            Subject::Account(id) => Some(*id),
            Subject::Stakeholder(_) => None,
        })
        .collect();
    let people: Vec<Uuid> = rows
        .iter()
        .filter_map(|(s, _)| match s {
            Subject::Stakeholder(id) => Some(*id),
            Subject::Account(_) => None,
        })
        .collect();
    set_lifecycles(db, ws, to, accounts, people).await?;
    let rows: Vec<_> = rows.into_iter().map(|(_, r)| r).collect();
    let logged = NewEvent::lifecycle_rows(&rows);
    crate::db::insert_all(db, rows, None).await?;
    events::append(db, ws, logged).await
}

/// Sets the lifecycle of these accounts and people to `to`, recording
/// nothing: a statement for each side that has any.
pub(crate) async fn set_lifecycles(
    db: &impl ConnectionTrait,
    ws: Uuid,
    to: L,
    accounts: Vec<Uuid>,
    people: Vec<Uuid>,
) -> CoreResult<()> {
    let now = time::now();
    if !accounts.is_empty() {
        account::Entity::update_many()
            .col_expr(account::Column::Lifecycle, Expr::value(to))
            .col_expr(account::Column::UpdatedAt, Expr::value(now))
            .filter(account::Column::WorkspaceId.eq(ws))
            .filter(account::Column::Id.is_in(accounts))
            .exec(db)
            .await?;
    }
    if !people.is_empty() {
        stakeholder::Entity::update_many()
            .col_expr(stakeholder::Column::Lifecycle, Expr::value(to))
            .col_expr(stakeholder::Column::UpdatedAt, Expr::value(now))
            .filter(stakeholder::Column::WorkspaceId.eq(ws))
            .filter(stakeholder::Column::Id.is_in(people))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Sets a subject's lifecycle and records the change, which it returns; a
/// no-op when unchanged.
pub async fn set(
    db: &impl ConnectionTrait,
    ws: Uuid,
    subject: Subject,
    change: Change<'_>,
) -> CoreResult<Option<lifecycle_change::Model>> {
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
    record(db, ws, subject, change).await
}

/// Whether a subject at `lifecycle` is still before qualification.
pub fn is_unqualified(lifecycle: L) -> bool {
    matches!(lifecycle, L::Visitor | L::Lead)
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
fn check_undecided(what: &str, lifecycle: L) -> CoreResult<()> {
    match lifecycle {
        L::Opportunity | L::Customer | L::Promoter | L::Churned => {
            Err(CoreError::Conflict(format!(
                "the {what} is {}, past lead qualification",
                sea_orm::ActiveEnum::to_value(&lifecycle)
            )))
        }
        _ => Ok(()),
    }
}

/// A sales decision on a lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Sales accepts the lead: it becomes an SQL.
    Accept,
    /// Sales rejects the lead: it becomes DISQUALIFIED.
    Disqualify,
}

/// Moves a lead (a stakeholder or an account) by a person's decision, with the
/// reason they gave: optional to accept, required to disqualify.
pub async fn decide(
    txn: &impl ConnectionTrait,
    ws: Uuid,
    subject: Subject,
    decision: Decision,
    reason: Option<&str>,
    actor: &str,
) -> CoreResult<()> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    let (to, cause) = match decision {
        Decision::Accept => {
            if reason.is_some_and(|r| r.chars().count() > 1_000) {
                return Err(CoreError::invalid_field(
                    "reason",
                    "`reason` must be at most 1,000 characters",
                ));
            }
            let cause = match reason {
                Some(reason) => with_reason("accepted by sales", reason),
                None => "accepted by sales".to_owned(),
            };
            (L::Sql, cause)
        }
        Decision::Disqualify => {
            let Some(reason) = reason.filter(|r| r.chars().count() <= 1_000) else {
                return Err(CoreError::invalid_field(
                    "reason",
                    "`reason` must be 1 to 1,000 characters",
                ));
            };
            (
                L::Disqualified,
                with_reason("disqualified by sales", reason),
            )
        }
    };
    let (what, from) = current(txn, ws, subject).await?;
    check_undecided(what, from)?;
    let change = Change {
        from: Some(from),
        to,
        at: time::now(),
        cause: &cause,
        actor: Some(actor),
        touchpoint: None,
    };
    set(txn, ws, subject, change).await?;
    Ok(())
}

/// A subject's current lifecycle, and what it is for messages. Read here
/// rather than through `people`, which records its changes through this module.
async fn current(
    txn: &impl ConnectionTrait,
    ws: Uuid,
    subject: Subject,
) -> CoreResult<(&'static str, L)> {
    let (what, found) = match subject {
        Subject::Stakeholder(id) => (
            "stakeholder",
            stakeholder::Entity::find_by_id(id)
                .filter(stakeholder::Column::WorkspaceId.eq(ws))
                .one(txn)
                .await?
                .map(|s| s.lifecycle),
        ),
        Subject::Account(id) => (
            "account",
            account::Entity::find_by_id(id)
                .filter(account::Column::WorkspaceId.eq(ws))
                .one(txn)
                .await?
                .map(|a| a.lifecycle),
        ),
    };
    Ok((what, found.ok_or(CoreError::not_found(what))?))
}

/// Finds the lifecycle changes of many subjects at once (for the loader), in
/// the order they were recorded: the ledger's order (see the module docs).
pub async fn changes_of(
    db: &impl ConnectionTrait,
    ws: Uuid,
    accounts: Vec<Uuid>,
    stakeholders: Vec<Uuid>,
) -> CoreResult<Vec<lifecycle_change::Model>> {
    use sea_orm::{Condition, QueryOrder};
    Ok(lifecycle_change::Entity::find()
        .filter(lifecycle_change::Column::WorkspaceId.eq(ws))
        .filter(
            Condition::any()
                .add(lifecycle_change::Column::AccountId.is_in(accounts))
                .add(lifecycle_change::Column::StakeholderId.is_in(stakeholders)),
        )
        .order_by_asc(lifecycle_change::Column::Id)
        .all(db)
        .await?)
}
