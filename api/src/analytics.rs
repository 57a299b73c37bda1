//! Analytics across accounts: funnel, stalled accounts, hand-off gap, NPS and
//! attribution. Each reads the records kept up to date as data arrives (stage
//! transitions and positions, lifecycle changes) or an indexed slice of
//! touchpoints (one kind, one window), never every touchpoint.

use std::collections::HashMap;

use async_graphql::{ComplexObject, Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::vocab::{Lifecycle as L, OwnerTeam};
use entity::{account, lifecycle_change, stage, stage_position, stage_transition, touchpoint};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::accounts::Account;
use crate::auth::Scope;
use crate::graphql::connection::{KnownCount, SelectCount, load_error, page_computed};
use crate::graphql::context::request;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::ids::{self, NodeType};
use crate::graphql::loaders::{AccountById, TouchpointOwner, TouchpointsOf};
use crate::graphql::pagination::{Cursor, Keyset, PageArgs, SortKey, TotalCount, connection};
use crate::journeys::{JourneyModel, Stage};
use crate::touchpoints::{Touchpoint, TouchpointConnection, TouchpointOrder, list};
use crate::vocab::Lifecycle;
use journeys_core::time;

/// The kind of touchpoint that carries an NPS answer (0-10 in `score`).
pub const NPS_KIND: &str = "nps.responded";

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

fn check_window(from: DateTime<Utc>, to: DateTime<Utc>) -> ApiResult<()> {
    if from >= to {
        return Err(ApiError::bad_input("`from` must be before `to`"));
    }
    Ok(())
}

/// Which accounts an analysis covers.
#[derive(InputObject, Default)]
pub struct SegmentFilter {
    /// Accounts now in any of these lifecycle stages.
    pub lifecycle: Option<Vec<Lifecycle>>,
    /// Accounts owned by this employee.
    pub owner: Option<String>,
    /// Accounts in this industry, matched exactly.
    pub industry: Option<String>,
}

impl SegmentFilter {
    /// `None` when it selects every account.
    fn accounts(&self, ws: Uuid) -> Option<sea_orm::sea_query::SelectStatement> {
        if self.lifecycle.is_none() && self.owner.is_none() && self.industry.is_none() {
            return None;
        }
        let mut q = Query::select();
        q.column(account::Column::Id)
            .from(account::Entity)
            .and_where(account::Column::WorkspaceId.eq(ws));
        if let Some(l) = &self.lifecycle {
            let values: Vec<L> = l.iter().map(|&l| l.into()).collect();
            q.and_where(account::Column::Lifecycle.is_in(values));
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

/// One stage of a funnel.
#[derive(SimpleObject)]
pub struct FunnelStage {
    /// The model's stage.
    pub stage: Stage,
    /// Accounts that entered the stage within the window.
    pub entered: i32,
    /// Of those, accounts that moved on to another stage (before `to`).
    pub moved_on: i32,
    /// `movedOn / entered`; null when none entered.
    pub conversion: Option<f64>,
    /// `1 - conversion`.
    pub drop_off: Option<f64>,
    /// The median time in the stage of the accounts that moved on, in seconds
    /// (nearest rank); null when none moved on.
    pub median_seconds: Option<f64>,
    /// The 90th percentile of the same times in the stage, in seconds
    /// (nearest rank); null when none moved on.
    pub p90_seconds: Option<f64>,
}

/// Where accounts drop off in a journey model over a time window.
#[derive(SimpleObject)]
pub struct Funnel {
    /// The journey model measured.
    pub model: JourneyModel,
    /// The window's start (inclusive, UTC).
    pub from: DateTime<Utc>,
    /// The window's end (exclusive, UTC).
    pub to: DateTime<Utc>,
    /// One entry per active stage, by position.
    pub stages: Vec<FunnelStage>,
}

/// An account that has stayed in a stage longer than the stage's target.
#[derive(SimpleObject)]
pub struct StalledAccount {
    /// The stalled account.
    pub account: Account,
    /// The stage it is stuck in.
    pub stage: Stage,
    /// When it entered that stage (UTC).
    pub entered_at: DateTime<Utc>,
    /// How long past the target, in seconds.
    pub overdue_seconds: f64,
    /// The account's newest touchpoint, from any source; null when it has none.
    pub last_touchpoint: Option<Touchpoint>,
}

const STALLED_ORDER: &str = "stalled.entered.asc";
const STALLED_KEYSET: Keyset<stage_position::Column> = Keyset {
    key: Some(stage_position::Column::EnteredAt),
    id: stage_position::Column::Id,
    descending: false,
};

connection!(
    /// A page of stalled accounts, those that entered their stage earliest first.
    StalledAccountConnection, StalledAccountEdge, StalledAccount
);

/// One account's wait from MQL to sales' first touch.
#[derive(Clone)]
pub struct HandoffEntry {
    account: account::Model,
    mql_at: DateTime<Utc>,
    first_sales_touch: Option<touchpoint::Model>,
}

/// One account's wait from becoming an MQL to sales' first touchpoint.
#[Object]
impl HandoffEntry {
    /// The account.
    async fn account(&self) -> Account {
        Account(self.account.clone())
    }
    /// When the account first became an MQL within the window (UTC).
    async fn mql_at(&self) -> DateTime<Utc> {
        self.mql_at
    }
    /// Sales' first touchpoint after the MQL; null while the account waits.
    async fn first_sales_touchpoint(&self) -> Option<Touchpoint> {
        self.first_sales_touch.clone().map(Touchpoint)
    }
    /// Seconds from MQL to sales' first touch; null while waiting.
    async fn gap_seconds(&self) -> Option<f64> {
        self.first_sales_touch
            .as_ref()
            .map(|t| seconds(self.mql_at, t.occurred_at))
    }
    /// What happened in between (until now while waiting), oldest first.
    #[graphql(
        complexity = "crate::graphql::pagination::page_complexity(first, last, child_complexity)"
    )]
    async fn touchpoints_between(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Page forward: at most this many items (0 to 500) from the start, or after `after`. 50 when neither `first` nor `last` is given; not with `last`."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor, taken from this same list and order."
        )]
        after: Option<String>,
        #[graphql(
            desc = "Page backward: at most this many items (0 to 500) from the end, or before `before`. Not with `first`."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Return the items before this cursor, taken from this same list and order."
        )]
        before: Option<String>,
    ) -> ApiResult<TouchpointConnection> {
        let filter = journeys_core::touchpoints::TouchpointFilter {
            account: Some(self.account.id),
            occurred_after: Some(self.mql_at),
            occurred_before: self.first_sales_touch.as_ref().map(|t| t.occurred_at),
            ..Default::default()
        };
        let args = PageArgs::new(first, after, last, before);
        let ws = self.account.workspace_id;
        list(ctx, ws, filter, TouchpointOrder::OldestFirst, args).await
    }
}

/// How long accounts that became MQLs in a window waited for sales' first
/// touchpoint, per account and as a distribution.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct HandoffGap {
    /// Every account that became an MQL within the window, by MQL time then
    /// id; paged by `accounts`.
    #[graphql(skip)]
    pub entries: Vec<HandoffEntry>,
    /// Of those, how many sales has touched.
    pub handed_off: i32,
    /// Of those, how many sales has not touched yet.
    pub waiting: i32,
    /// The median gap of the handed-off accounts, in seconds (nearest rank);
    /// null when none was handed off.
    pub median_seconds: Option<f64>,
    /// The 90th percentile of the same gaps, in seconds (nearest rank); null
    /// when none was handed off.
    pub p90_seconds: Option<f64>,
}

const HANDOFF_ORDER: &str = "handoff_mql_at";

connection!(
    /// A page of accounts' hand-off gaps, earliest MQL first.
    HandoffEntryConnection, HandoffEntryEdge, HandoffEntry
);

#[ComplexObject]
impl HandoffGap {
    /// Accounts that became MQLs within the window, earliest MQL first.
    #[graphql(
        complexity = "crate::graphql::pagination::page_complexity(first, last, child_complexity)"
    )]
    async fn accounts(
        &self,
        #[graphql(
            desc = "Page forward: at most this many items (0 to 500) from the start, or after `after`. 50 when neither `first` nor `last` is given; not with `last`."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor, taken from this same list and order."
        )]
        after: Option<String>,
        #[graphql(
            desc = "Page backward: at most this many items (0 to 500) from the end, or before `before`. Not with `first`."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Return the items before this cursor, taken from this same list and order."
        )]
        before: Option<String>,
    ) -> ApiResult<HandoffEntryConnection> {
        let page = PageArgs::new(first, after, last, before).page(HANDOFF_ORDER)?;
        let cursor =
            |e: &HandoffEntry| Cursor::new(HANDOFF_ORDER, SortKey::Time(e.mql_at), e.account.id);
        let (edges, page_info) = page_computed(self.entries.clone(), &page, cursor);
        Ok(HandoffEntryConnection::new(
            edges,
            page_info,
            TotalCount::new(KnownCount(self.entries.len() as u64)),
        ))
    }
}

/// Net promoter score over a window, from the `nps.responded` touchpoints'
/// 0-10 scores.
#[derive(SimpleObject)]
pub struct Nps {
    /// Promoters minus detractors, as a percentage from -100 to 100; null without answers.
    pub score: Option<f64>,
    /// Answers within the window.
    pub responses: i32,
    /// 9 or 10.
    pub promoters: i32,
    /// 7 or 8.
    pub passives: i32,
    /// 0 to 6.
    pub detractors: i32,
}

/// Where an account that became a customer first and last came from.
#[derive(Clone)]
pub struct AttributionEntry {
    account: account::Model,
    customer_at: DateTime<Utc>,
    first: Option<touchpoint::Model>,
    last: Option<touchpoint::Model>,
}

/// Where an account that became a customer first and last came from.
#[Object]
impl AttributionEntry {
    /// The account.
    async fn account(&self) -> Account {
        Account(self.account.clone())
    }
    /// When it first became a CUSTOMER within the window (UTC).
    async fn customer_at(&self) -> DateTime<Utc> {
        self.customer_at
    }
    /// Its first touchpoint, up to when it became a customer.
    async fn first_touch(&self) -> Option<Touchpoint> {
        self.first.clone().map(Touchpoint)
    }
    /// Its last touchpoint before it became a customer.
    async fn last_touch(&self) -> Option<Touchpoint> {
        self.last.clone().map(Touchpoint)
    }
}

/// How many customers a source and channel brought, first- or last-touch.
#[derive(SimpleObject, Clone)]
pub struct AttributionShare {
    /// The touchpoints' source: a connector kind or `api`.
    pub source: String,
    /// The touchpoints' channel.
    pub channel: crate::vocab::Channel,
    /// How many customers' first (or last) touchpoint came from this source
    /// and channel.
    pub accounts: i32,
}

/// First- and last-touch attribution of the accounts that became customers
/// within a window.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Attribution {
    /// Every account that became a customer within the window, by when it
    /// did then id; paged by `customers`.
    #[graphql(skip)]
    pub entries: Vec<AttributionEntry>,
    /// Customers counted by their first touchpoint's source and channel, most
    /// first.
    pub first_touch: Vec<AttributionShare>,
    /// Customers counted by their last touchpoint before becoming customers,
    /// by source and channel, most first.
    pub last_touch: Vec<AttributionShare>,
}

const CUSTOMERS_ORDER: &str = "attribution_customer_at";

connection!(
    /// A page of new customers with their first and last touch, earliest first.
    AttributionEntryConnection, AttributionEntryEdge, AttributionEntry
);

#[ComplexObject]
impl Attribution {
    /// Each account that became a customer within the window, earliest first.
    #[graphql(
        complexity = "crate::graphql::pagination::page_complexity(first, last, child_complexity)"
    )]
    async fn customers(
        &self,
        #[graphql(
            desc = "Page forward: at most this many items (0 to 500) from the start, or after `after`. 50 when neither `first` nor `last` is given; not with `last`."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor, taken from this same list and order."
        )]
        after: Option<String>,
        #[graphql(
            desc = "Page backward: at most this many items (0 to 500) from the end, or before `before`. Not with `first`."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Return the items before this cursor, taken from this same list and order."
        )]
        before: Option<String>,
    ) -> ApiResult<AttributionEntryConnection> {
        let page = PageArgs::new(first, after, last, before).page(CUSTOMERS_ORDER)?;
        let cursor = |e: &AttributionEntry| {
            Cursor::new(CUSTOMERS_ORDER, SortKey::Time(e.customer_at), e.account.id)
        };
        let (edges, page_info) = page_computed(self.entries.clone(), &page, cursor);
        Ok(AttributionEntryConnection::new(
            edges,
            page_info,
            TotalCount::new(KnownCount(self.entries.len() as u64)),
        ))
    }
}

fn shares(
    entries: &[AttributionEntry],
    pick: impl Fn(&AttributionEntry) -> Option<&touchpoint::Model>,
) -> Vec<AttributionShare> {
    let mut counts: HashMap<(String, entity::vocab::Channel), i32> = HashMap::new();
    for t in entries.iter().filter_map(pick) {
        *counts.entry((t.source.clone(), t.channel)).or_default() += 1;
    }
    let mut out: Vec<AttributionShare> = counts
        .into_iter()
        .map(|((source, channel), accounts)| AttributionShare {
            source,
            channel: channel.into(),
            accounts,
        })
        .collect();
    out.sort_by(|a, b| b.accounts.cmp(&a.accounts).then(a.source.cmp(&b.source)));
    out
}

#[derive(Default)]
pub struct AnalyticsQuery;

#[Object]
impl AnalyticsQuery {
    /// Per stage of a model: accounts that entered within the window, moved on,
    /// conversion, drop-off, and time in stage.
    async fn funnel(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The journey model to measure.")] model_id: ID,
        #[graphql(desc = "The window's start, inclusive; before `to`.")] from: DateTime<Utc>,
        #[graphql(desc = "The window's end, exclusive.")] to: DateTime<Utc>,
        #[graphql(desc = "Only the accounts of this segment; every account when left out.")]
        filter: Option<SegmentFilter>,
    ) -> ApiResult<Funnel> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Read)?.workspace_id;
        check_window(from, to)?;
        let model =
            crate::journeys::find(&rc.db, ws, ids::decode(&model_id, NodeType::JourneyModel)?)
                .await?;
        let stages = stage::Entity::find()
            .filter(stage::Column::ModelId.eq(model.id))
            .filter(stage::Column::ArchivedAt.is_null())
            .order_by_asc(stage::Column::Position)
            .all(&rc.db)
            .await
            .map_err(ApiError::from)?;
        let mut query = stage_transition::Entity::find()
            .filter(stage_transition::Column::WorkspaceId.eq(ws))
            .filter(stage_transition::Column::ModelId.eq(model.id))
            // Only the window's moves: an entry within it and the move that ended
            // it (before `to`) both lie inside, so history before `from` is never read.
            .filter(stage_transition::Column::OccurredAt.gte(time::to_micros(from)))
            .filter(stage_transition::Column::OccurredAt.lt(time::to_micros(to)))
            .order_by_asc(stage_transition::Column::AccountId)
            .order_by_asc(stage_transition::Column::OccurredAt)
            .order_by_asc(stage_transition::Column::Id);
        if let Some(accounts) = filter.unwrap_or_default().accounts(ws) {
            query = query.filter(stage_transition::Column::AccountId.in_subquery(accounts));
        }
        let transitions = query.all(&rc.db).await.map_err(ApiError::from)?;
        // Per stage: each account's first entry within the window, and when it
        // left (an account that loops back counts once, by its first entry).
        type Visits = HashMap<Uuid, (DateTime<Utc>, Option<DateTime<Utc>>)>;
        let mut visits: HashMap<Uuid, Visits> = HashMap::new();
        for (i, t) in transitions.iter().enumerate() {
            let left = transitions
                .get(i + 1)
                .filter(|n| n.account_id == t.account_id)
                .map(|n| n.occurred_at);
            visits
                .entry(t.to_stage_id)
                .or_default()
                .entry(t.account_id)
                .or_insert((t.occurred_at, left));
        }
        let funnel_stages = stages
            .into_iter()
            .map(|s| {
                let visits = visits.remove(&s.id).unwrap_or_default();
                let entered = visits.len();
                let mut durations: Vec<f64> = visits
                    .values()
                    .filter_map(|(entered, left)| left.map(|l| seconds(*entered, l)))
                    .collect();
                durations.sort_by(f64::total_cmp);
                let moved_on = durations.len();
                let conversion = (entered > 0).then(|| moved_on as f64 / entered as f64);
                FunnelStage {
                    stage: Stage(s),
                    entered: i32::try_from(entered).unwrap_or(i32::MAX),
                    moved_on: i32::try_from(moved_on).unwrap_or(i32::MAX),
                    conversion,
                    drop_off: conversion.map(|c| 1.0 - c),
                    median_seconds: percentile(&durations, 0.5),
                    p90_seconds: percentile(&durations, 0.9),
                }
            })
            .collect();
        Ok(Funnel {
            model: JourneyModel(model),
            from,
            to,
            stages: funnel_stages,
        })
    }

    /// Accounts in a stage of the model longer than the stage's target,
    /// longest-stalled first.
    #[graphql(
        complexity = "crate::graphql::pagination::page_complexity(first, last, child_complexity)"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn stalled_accounts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The journey model whose stages' targets apply.")] model_id: ID,
        #[graphql(
            desc = "Page forward: at most this many items (0 to 500) from the start, or after `after`. 50 when neither `first` nor `last` is given; not with `last`."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor, taken from this same list and order."
        )]
        after: Option<String>,
        #[graphql(
            desc = "Page backward: at most this many items (0 to 500) from the end, or before `before`. Not with `first`."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Return the items before this cursor, taken from this same list and order."
        )]
        before: Option<String>,
    ) -> ApiResult<StalledAccountConnection> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Read)?.workspace_id;
        let page = PageArgs::new(first, after, last, before).page(STALLED_ORDER)?;
        let model =
            crate::journeys::find(&rc.db, ws, ids::decode(&model_id, NodeType::JourneyModel)?)
                .await?;
        let stages: HashMap<Uuid, stage::Model> = stage::Entity::find()
            .filter(stage::Column::ModelId.eq(model.id))
            .filter(stage::Column::TargetDurationSecs.is_not_null())
            .all(&rc.db)
            .await
            .map_err(ApiError::from)?
            .into_iter()
            .map(|s| (s.id, s))
            .collect();
        let now = time::now();
        // Overdue in its own stage's terms; no stage with a target, no rows.
        let mut overdue = Condition::any().add(Expr::val(1).eq(0));
        for s in stages.values() {
            let target = chrono::Duration::seconds(s.target_duration_secs.unwrap_or(i64::MAX / 4));
            overdue = overdue.add(
                Condition::all()
                    .add(stage_position::Column::StageId.eq(s.id))
                    .add(stage_position::Column::EnteredAt.lt(now - target)),
            );
        }
        let base = stage_position::Entity::find()
            .filter(stage_position::Column::WorkspaceId.eq(ws))
            .filter(stage_position::Column::ModelId.eq(model.id))
            .filter(overdue);
        let rows = STALLED_KEYSET
            .fetch(&rc.db, base.clone(), &page)
            .await
            .map_err(ApiError::from)?;
        let cursor = |p: &stage_position::Model| {
            Cursor::new(STALLED_ORDER, SortKey::Time(p.entered_at), p.id)
        };
        let (positions, page_info) = crate::graphql::connection::edges(rows, &page, cursor, |p| p);
        // One batch for the accounts, one for their newest touchpoints.
        let loader = &rc.loader;
        let account_ids = positions.iter().map(|(_, p)| AccountById(p.account_id));
        let mut accounts = loader.load_many(account_ids).await.map_err(load_error)?;
        let newest = PageArgs::new(Some(1), None, None, None)
            .page(crate::touchpoints::NEWEST_FIRST_ORDER)?;
        let keys = positions.iter().map(|(_, p)| TouchpointsOf {
            owner: TouchpointOwner::Account,
            parent: p.account_id,
            page: newest.clone(),
        });
        let mut latest = loader.load_many(keys).await.map_err(load_error)?;
        let mut edges = Vec::with_capacity(positions.len());
        for (cursor, p) in positions {
            let (Some(stage), Some(account)) = (
                stages.get(&p.stage_id).cloned(),
                accounts.remove(&AccountById(p.account_id)),
            ) else {
                continue;
            };
            let key = TouchpointsOf {
                owner: TouchpointOwner::Account,
                parent: p.account_id,
                page: newest.clone(),
            };
            let last = latest.remove(&key).and_then(|rows| rows.into_iter().next());
            let target = stage.target_duration_secs.unwrap_or_default() as f64;
            edges.push(StalledAccountEdge {
                cursor,
                node: StalledAccount {
                    account: Account(account),
                    overdue_seconds: seconds(p.entered_at, now) - target,
                    stage: Stage(stage),
                    entered_at: p.entered_at,
                    last_touchpoint: last.map(Touchpoint),
                },
            });
        }
        Ok(StalledAccountConnection {
            edges,
            page_info,
            total: TotalCount::new(SelectCount(base)),
        })
    }

    /// How long accounts that became MQLs within the window waited for sales'
    /// first touchpoint.
    async fn handoff_gap(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Start of the window in which accounts became MQLs, inclusive; before `to`."
        )]
        from: DateTime<Utc>,
        #[graphql(desc = "End of the window in which accounts became MQLs, exclusive.")]
        to: DateTime<Utc>,
    ) -> ApiResult<HandoffGap> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Read)?.workspace_id;
        check_window(from, to)?;
        let mqls = accounts_becoming(&rc.db, ws, L::Mql, from, to).await?;
        let mut first_mql: Vec<(Uuid, DateTime<Utc>)> = Vec::new();
        for m in &mqls {
            if let Some(a) = m
                .account_id
                .filter(|a| !first_mql.iter().any(|(x, _)| x == a))
            {
                first_mql.push((a, m.occurred_at));
            }
        }
        let account_ids: Vec<Uuid> = first_mql.iter().map(|(a, _)| *a).collect();
        let mut sales = touch_around(
            &rc.db,
            ws,
            &account_ids,
            L::Mql,
            (from, to),
            Touch::FirstSalesAfter,
        )
        .await?;
        let accounts: HashMap<Uuid, account::Model> = account::Entity::find()
            .filter(account::Column::WorkspaceId.eq(ws))
            .filter(account::Column::Id.is_in(account_ids))
            .all(&rc.db)
            .await
            .map_err(ApiError::from)?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        let mut gaps = Vec::new();
        let mut entries = Vec::new();
        for (account, mql_at) in first_mql {
            let Some(model) = accounts.get(&account).cloned() else {
                continue;
            };
            let touch = sales.remove(&account);
            if let Some(t) = &touch {
                gaps.push(seconds(mql_at, t.occurred_at));
            }
            entries.push(HandoffEntry {
                account: model,
                mql_at,
                first_sales_touch: touch,
            });
        }
        gaps.sort_by(f64::total_cmp);
        entries.sort_by_key(|e| (e.mql_at, e.account.id));
        let handed_off = i32::try_from(gaps.len()).unwrap_or(i32::MAX);
        Ok(HandoffGap {
            waiting: i32::try_from(entries.len()).unwrap_or(i32::MAX) - handed_off,
            handed_off,
            median_seconds: percentile(&gaps, 0.5),
            p90_seconds: percentile(&gaps, 0.9),
            entries,
        })
    }

    /// Net promoter score of the `nps.responded` answers within the window.
    async fn nps(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Start of the window the answers occurred in, inclusive; before `to`.")]
        from: DateTime<Utc>,
        #[graphql(desc = "End of the window the answers occurred in, exclusive.")] to: DateTime<
            Utc,
        >,
    ) -> ApiResult<Nps> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Read)?.workspace_id;
        check_window(from, to)?;
        let scores: Vec<Option<f64>> = touchpoint::Entity::find()
            .select_only()
            .column(touchpoint::Column::Score)
            .filter(nps_answers(ws, from, to))
            .into_tuple()
            .all(&rc.db)
            .await
            .map_err(ApiError::from)?;
        let scores: Vec<f64> = scores.into_iter().flatten().collect();
        let promoters = scores.iter().filter(|s| **s >= 9.0).count();
        let detractors = scores.iter().filter(|s| **s <= 6.0).count();
        let n = scores.len();
        let to_i32 = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
        Ok(Nps {
            score: (n > 0).then(|| (promoters as f64 - detractors as f64) * 100.0 / n as f64),
            responses: to_i32(n),
            promoters: to_i32(promoters),
            passives: to_i32(n - promoters - detractors),
            detractors: to_i32(detractors),
        })
    }

    /// The detractors' answers within the window, to follow up; newest first.
    #[graphql(
        complexity = "crate::graphql::pagination::page_complexity(first, last, child_complexity)"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn nps_detractors(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Start of the window the answers occurred in, inclusive; before `to`.")]
        from: DateTime<Utc>,
        #[graphql(desc = "End of the window the answers occurred in, exclusive.")] to: DateTime<
            Utc,
        >,
        #[graphql(
            desc = "Page forward: at most this many items (0 to 500) from the start, or after `after`. 50 when neither `first` nor `last` is given; not with `last`."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor, taken from this same list and order."
        )]
        after: Option<String>,
        #[graphql(
            desc = "Page backward: at most this many items (0 to 500) from the end, or before `before`. Not with `first`."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Return the items before this cursor, taken from this same list and order."
        )]
        before: Option<String>,
    ) -> ApiResult<TouchpointConnection> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Read)?.workspace_id;
        check_window(from, to)?;
        let detractors = journeys_core::touchpoints::TouchpointFilter {
            kinds: Some(vec![NPS_KIND.to_owned()]),
            occurred_after: Some(from),
            occurred_before: Some(to),
            max_score: Some(6.0),
            ..Default::default()
        };
        let args = PageArgs::new(first, after, last, before);
        list(ctx, ws, detractors, TouchpointOrder::NewestFirst, args).await
    }

    /// First- and last-touch source and channel of the accounts that became
    /// customers within the window.
    async fn attribution(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Start of the window in which accounts became customers, inclusive; before `to`."
        )]
        from: DateTime<Utc>,
        #[graphql(desc = "End of the window in which accounts became customers, exclusive.")]
        to: DateTime<Utc>,
    ) -> ApiResult<Attribution> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Read)?.workspace_id;
        check_window(from, to)?;
        let changes = accounts_becoming(&rc.db, ws, L::Customer, from, to).await?;
        // Each account once, at its first change to CUSTOMER in the window.
        let mut converted: Vec<(Uuid, DateTime<Utc>)> = Vec::new();
        for change in changes {
            if let Some(account) = change.account_id
                && !converted.iter().any(|(a, _)| *a == account)
            {
                converted.push((account, change.occurred_at));
            }
        }
        let ids: Vec<Uuid> = converted.iter().map(|(a, _)| *a).collect();
        let mut accounts: HashMap<Uuid, account::Model> = account::Entity::find()
            .filter(account::Column::WorkspaceId.eq(ws))
            .filter(account::Column::Id.is_in(ids.clone()))
            .all(&rc.db)
            .await
            .map_err(ApiError::from)?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        let window = (from, to);
        let around = |touch| touch_around(&rc.db, ws, &ids, L::Customer, window, touch);
        let mut firsts = around(Touch::First).await?;
        let mut lasts = around(Touch::Last).await?;
        let mut customers: Vec<AttributionEntry> = converted
            .into_iter()
            .filter_map(|(id, customer_at)| {
                Some(AttributionEntry {
                    account: accounts.remove(&id)?,
                    customer_at,
                    first: firsts.remove(&id),
                    last: lasts.remove(&id),
                })
            })
            .collect();
        customers.sort_by_key(|c| (c.customer_at, c.account.id));
        Ok(Attribution {
            first_touch: shares(&customers, |c| c.first.as_ref()),
            last_touch: shares(&customers, |c| c.last.as_ref()),
            entries: customers,
        })
    }
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

/// Each account's `touch` around the moment it first reached `lifecycle`
/// within the window, for all the accounts in one windowed query.
async fn touch_around(
    db: &sea_orm::DatabaseConnection,
    ws: Uuid,
    accounts: &[Uuid],
    lifecycle: L,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    touch: Touch,
) -> ApiResult<HashMap<Uuid, touchpoint::Model>> {
    use sea_orm::QueryTrait;
    use sea_orm::sea_query::{
        Alias, Asterisk, Func, Order, QueryStatementBuilder, WindowStatement,
    };
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
                .eq(sea_orm::ActiveEnum::to_value(&lifecycle)),
        )
        .and_where(at().gte(time::to_micros(from)))
        .and_where(at().lt(time::to_micros(to)))
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

/// The changes of accounts to `lifecycle` within the window, oldest first.
async fn accounts_becoming(
    db: &impl sea_orm::ConnectionTrait,
    ws: Uuid,
    lifecycle: L,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> ApiResult<Vec<lifecycle_change::Model>> {
    Ok(lifecycle_change::Entity::find()
        .filter(lifecycle_change::Column::WorkspaceId.eq(ws))
        .filter(lifecycle_change::Column::ToLifecycle.eq(lifecycle))
        .filter(lifecycle_change::Column::AccountId.is_not_null())
        .filter(lifecycle_change::Column::OccurredAt.gte(time::to_micros(from)))
        .filter(lifecycle_change::Column::OccurredAt.lt(time::to_micros(to)))
        .order_by_asc(lifecycle_change::Column::OccurredAt)
        .order_by_asc(lifecycle_change::Column::Id)
        .all(db)
        .await?)
}

fn nps_answers(ws: Uuid, from: DateTime<Utc>, to: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(touchpoint::Column::WorkspaceId.eq(ws))
        .add(touchpoint::Column::Kind.eq(NPS_KIND))
        .add(touchpoint::Column::OccurredAt.gte(time::to_micros(from)))
        .add(touchpoint::Column::OccurredAt.lt(time::to_micros(to)))
        .add(Expr::col(touchpoint::Column::Score).is_not_null())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        assert_eq!(percentile(&v, 0.5), Some(5.0));
        assert_eq!(percentile(&v, 0.9), Some(9.0));
        assert_eq!(percentile(&[4.0], 0.9), Some(4.0));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
