//! Analytics across accounts: funnel, stalled accounts, hand-off gap, NPS,
//! attribution, hand-offs between teams, bouncing accounts, what happens in
//! each stage, sales engagement and content effectiveness. Each reads the
//! records kept up to date as data arrives (stage transitions and positions,
//! lifecycle changes) or an indexed slice of touchpoints (one kind, one team,
//! the assets, one window), never every touchpoint.
//!
//! Each report is a query function that fetches rows and a pure function that
//! turns them into the figures, so the arithmetic is tested without a database.

pub mod attribution;
pub mod bouncing;
pub mod content;
pub mod funnel;
pub mod handoff;
pub mod nps;
pub mod sales_engagement;
pub mod stage_insights;
pub mod stalled;
pub mod team_handoffs;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::vocab::{Lifecycle, OwnerTeam};
use entity::{account, lifecycle_change, stage, stage_transition, touchpoint};
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Order, Query, SelectStatement};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::{CoreError, CoreResult, time};

/// The nearest-rank percentile of sorted values: the smallest value with at
/// least `q` of all values at or below it.
pub fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted.get(rank - 1).copied()
}

fn seconds(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6
}

/// A time window, `from` inclusive to `to` exclusive; only a non-empty one can
/// be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

impl Window {
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> CoreResult<Self> {
        if from >= to {
            return Err(CoreError::invalid("`from` must be before `to`"));
        }
        Ok(Self { from, to })
    }

    pub fn from(&self) -> DateTime<Utc> {
        self.from
    }

    pub fn to(&self) -> DateTime<Utc> {
        self.to
    }
}

/// The model's sequence: its active, top-level stages that are not
/// continuous phases, by position.
pub async fn sequence(
    db: &impl ConnectionTrait,
    ws: Uuid,
    model: Uuid,
) -> CoreResult<Vec<stage::Model>> {
    Ok(stage::Entity::find()
        .filter(stage::Column::WorkspaceId.eq(ws))
        .filter(stage::Column::ModelId.eq(model))
        .filter(stage::Column::ArchivedAt.is_null())
        .filter(stage::Column::Continuous.eq(false))
        .filter(stage::Column::ParentStageId.is_null())
        .order_by_asc(stage::Column::Position)
        .order_by_asc(stage::Column::Id)
        .all(db)
        .await?)
}

/// When the stay begun by the move `st` (an alias of `stage_transitions` in
/// the enclosing query) ended: the time of the account's next move in the
/// model's sequence, ties broken by id as `during_stage` does; null while it
/// lasts. A short walk of the (account, model, time) index.
fn stay_end(st: &Alias) -> SelectStatement {
    use stage_transition::Column as T;
    let nx = Alias::new("nx");
    let col = |alias: &Alias, c: T| Expr::col((alias.clone(), c));
    Query::select()
        .expr(col(&nx, T::OccurredAt))
        .from_as(stage_transition::Entity, nx.clone())
        .and_where(col(&nx, T::AccountId).equals((st.clone(), T::AccountId)))
        .and_where(col(&nx, T::ModelId).equals((st.clone(), T::ModelId)))
        // Entering a phase leaves no stage.
        .and_where(col(&nx, T::Phase).eq(false))
        .cond_where(
            Condition::any()
                .add(col(&nx, T::OccurredAt).gt(col(st, T::OccurredAt)))
                .add(
                    Condition::all()
                        .add(col(&nx, T::OccurredAt).eq(col(st, T::OccurredAt)))
                        .add(col(&nx, T::Id).gt(col(st, T::Id))),
                ),
        )
        .order_by((nx.clone(), T::OccurredAt), Order::Asc)
        .order_by((nx, T::Id), Order::Asc)
        .limit(1)
        .to_owned()
}

/// A subquery as a value of the enclosing query.
fn scalar(q: SelectStatement) -> Expr {
    Expr::SubQuery(None, Box::new(q.into()))
}

/// Which accounts an analysis covers; every account when all are `None`.
#[derive(Debug, Clone, Default)]
pub struct Segment {
    /// Accounts now in any of these lifecycle stages.
    pub lifecycle: Option<Vec<Lifecycle>>,
    /// Accounts owned by this employee.
    pub owner: Option<String>,
    /// Accounts in this industry, matched exactly.
    pub industry: Option<String>,
}

impl Segment {
    /// The ids of the segment's accounts, as a subquery; `None` when it selects
    /// every account.
    fn accounts(&self, ws: Uuid) -> Option<SelectStatement> {
        if self.lifecycle.is_none() && self.owner.is_none() && self.industry.is_none() {
            return None;
        }
        let mut q = Query::select();
        q.column(account::Column::Id)
            .from(account::Entity)
            .and_where(account::Column::WorkspaceId.eq(ws));
        if let Some(l) = &self.lifecycle {
            q.and_where(account::Column::Lifecycle.is_in(l.iter().copied()));
        }
        if let Some(owner) = &self.owner {
            q.and_where(account::Column::Owner.eq(owner.trim()));
        }
        if let Some(industry) = &self.industry {
            q.and_where(account::Column::Industry.eq(industry.trim()));
        }
        Some(q)
    }
}

/// Each account once, at its first change, from `(account, time)` changes
/// oldest first; changes without an account are skipped.
fn first_changes(
    pairs: impl IntoIterator<Item = (Option<Uuid>, DateTime<Utc>)>,
) -> Vec<(Uuid, DateTime<Utc>)> {
    let mut firsts: Vec<(Uuid, DateTime<Utc>)> = Vec::new();
    for (account, at) in pairs {
        if let Some(account) = account
            && !firsts.iter().any(|(a, _)| *a == account)
        {
            firsts.push((account, at));
        }
    }
    firsts
}

/// The accounts with these ids, by id.
async fn accounts_by_id(
    db: &impl ConnectionTrait,
    ws: Uuid,
    ids: &[Uuid],
) -> CoreResult<HashMap<Uuid, account::Model>> {
    Ok(account::Entity::find()
        .filter(account::Column::WorkspaceId.eq(ws))
        .filter(account::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect())
}

/// Which touchpoint of each account, relative to the moment it first reached
/// a lifecycle within a window.
#[derive(Clone, Copy)]
enum Touch {
    /// Its first touchpoint up to then.
    First,
    /// Its last touchpoint up to then.
    Last,
    /// Its first SALES-owned touchpoint from then on.
    FirstSalesAfter,
}

/// Each account's `touch` around the moment it first reached any of
/// `lifecycles` within the window, for all the accounts in one windowed query.
async fn touch_around(
    db: &impl ConnectionTrait,
    ws: Uuid,
    accounts: &[Uuid],
    lifecycles: &[Lifecycle],
    window: Window,
    touch: Touch,
) -> CoreResult<HashMap<Uuid, touchpoint::Model>> {
    use sea_orm::QueryTrait;
    use sea_orm::sea_query::{Asterisk, Func, QueryStatementBuilder, WindowStatement};
    if accounts.is_empty() {
        return Ok(HashMap::new());
    }
    let lc = Alias::new("lc");
    let at = || Expr::col((lc.clone(), lifecycle_change::Column::OccurredAt));
    let reached = Query::select()
        .expr(Func::min(at()))
        .from_as(lifecycle_change::Entity, lc.clone())
        .and_where(
            Expr::col((lc.clone(), lifecycle_change::Column::AccountId))
                .equals((touchpoint::Entity, touchpoint::Column::AccountId)),
        )
        .and_where(
            Expr::col((lc.clone(), lifecycle_change::Column::ToLifecycle))
                .is_in(lifecycles.iter().map(sea_orm::ActiveEnum::to_value)),
        )
        .and_where(at().gte(time::to_micros(window.from)))
        .and_where(at().lt(time::to_micros(window.to)))
        .to_owned();
    let reached = Expr::SubQuery(None, Box::new(reached.into_sub_query_statement()));
    let at = Expr::col((touchpoint::Entity, touchpoint::Column::OccurredAt));
    let (order, when) = match touch {
        Touch::First => (Order::Asc, Condition::all().add(at.lte(reached))),
        Touch::Last => (Order::Desc, Condition::all().add(at.lte(reached))),
        Touch::FirstSalesAfter => (
            Order::Asc,
            Condition::all()
                .add(at.gte(reached))
                .add(touchpoint::Column::OwnerTeam.eq(OwnerTeam::Sales)),
        ),
    };
    let mut window = WindowStatement::partition_by(touchpoint::Column::AccountId);
    window
        .order_by(touchpoint::Column::OccurredAt, order.clone())
        .order_by(touchpoint::Column::Id, order);
    let mut ranked = touchpoint::Entity::find()
        .filter(touchpoint::Column::WorkspaceId.eq(ws))
        .filter(touchpoint::Column::AccountId.is_in(accounts.iter().copied()))
        .filter(when)
        .into_query();
    ranked.expr_window_as(Expr::cust("ROW_NUMBER()"), window, Alias::new("rn"));
    let outer = Query::select()
        .column(Asterisk)
        .from_subquery(ranked, Alias::new("ranked"))
        .and_where(Expr::col(Alias::new("rn")).eq(1))
        .to_owned();
    let stmt = db.get_database_backend().build(&outer);
    let rows = touchpoint::Entity::find()
        .from_raw_sql(stmt)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|t| Some((t.account_id?, t)))
        .collect())
}

/// The changes of accounts to any of `lifecycles` within the window, oldest
/// first.
async fn accounts_becoming(
    db: &impl ConnectionTrait,
    ws: Uuid,
    lifecycles: &[Lifecycle],
    window: Window,
) -> CoreResult<Vec<lifecycle_change::Model>> {
    changes_of(db, ws, None, lifecycles, Some(window.from), window.to).await
}

/// The changes of accounts (of `accounts` when given) to any of
/// `lifecycles` from `from` (since ever when `None`) to before `to`, oldest
/// first.
async fn changes_of(
    db: &impl ConnectionTrait,
    ws: Uuid,
    accounts: Option<&[Uuid]>,
    lifecycles: &[Lifecycle],
    from: Option<DateTime<Utc>>,
    to: DateTime<Utc>,
) -> CoreResult<Vec<lifecycle_change::Model>> {
    let mut query = lifecycle_change::Entity::find()
        .filter(lifecycle_change::Column::WorkspaceId.eq(ws))
        .filter(lifecycle_change::Column::ToLifecycle.is_in(lifecycles.iter().copied()))
        .filter(lifecycle_change::Column::AccountId.is_not_null())
        .filter(lifecycle_change::Column::OccurredAt.lt(time::to_micros(to)));
    if let Some(from) = from {
        query = query.filter(lifecycle_change::Column::OccurredAt.gte(time::to_micros(from)));
    }
    if let Some(accounts) = accounts {
        query = query.filter(lifecycle_change::Column::AccountId.is_in(accounts.iter().copied()));
    }
    Ok(query
        .order_by_asc(lifecycle_change::Column::OccurredAt)
        .order_by_asc(lifecycle_change::Column::Id)
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: u32) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("2026-03-01T10:{minute:02}:00Z"))
            .unwrap()
            .to_utc()
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        assert_eq!(percentile(&v, 0.5), Some(5.0));
        assert_eq!(percentile(&v, 0.9), Some(9.0));
        assert_eq!(percentile(&[4.0], 0.9), Some(4.0));
        assert_eq!(percentile(&[], 0.5), None);
    }

    #[test]
    fn a_window_must_not_be_empty() {
        assert!(Window::new(at(0), at(1)).is_ok());
        for (from, to) in [(at(1), at(1)), (at(2), at(1))] {
            let err = Window::new(from, to).unwrap_err();
            assert!(matches!(err, CoreError::InvalidInput { field: None, .. }));
            assert_eq!(err.to_string(), "`from` must be before `to`");
        }
    }

    #[test]
    fn each_account_counts_once_at_its_first_time() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let pairs = [
            (Some(a), at(1)),
            (None, at(2)),
            (Some(b), at(3)),
            (Some(a), at(4)),
        ];
        assert_eq!(first_changes(pairs), vec![(a, at(1)), (b, at(3))]);
    }
}
