//! Analytics across accounts as GraphQL: funnel, stalled accounts, hand-off
//! gap, NPS, attribution, hand-offs between teams, bouncing accounts and
//! stage insights. The queries and the arithmetic are
//! `journeys_core::analytics`; here are the types, the conversion of inputs
//! and results, and the paging.

pub(crate) mod stage_insights;
mod team_handoffs;

use async_graphql::{ComplexObject, Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::stage_position;
use journeys_core::analytics::{
    Segment, Window, attribution, bouncing, funnel, handoff, nps, stalled,
};
use journeys_core::time;

use crate::accounts::Account;
use crate::auth::Scope;
use crate::graphql::connection::{CountBy, KnownCount, load_error, page_computed};
use crate::graphql::context::request;
use crate::graphql::error::ApiResult;
use crate::graphql::ids::{self, NodeType};
use crate::graphql::loaders::{AccountById, Total, TouchpointOwner, TouchpointsOf};
use crate::graphql::pagination::{Cursor, PageArgs, SortKey, TotalCount, connection};
use crate::journeys::{JourneyModel, Stage};
use crate::touchpoints::{Touchpoint, TouchpointConnection, TouchpointOrder, list};
use crate::vocab::Lifecycle;
use stage_insights::StageInsight;
use team_handoffs::{BouncingStayConnection, TeamHandoff, bouncing_page};

/// A count as GraphQL's `Int`, saturating.
pub(crate) fn int(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
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

impl From<SegmentFilter> for Segment {
    fn from(f: SegmentFilter) -> Self {
        Self {
            lifecycle: f.lifecycle.map(|l| l.into_iter().map(Into::into).collect()),
            owner: f.owner,
            industry: f.industry,
        }
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

impl From<funnel::FunnelStage> for FunnelStage {
    fn from(s: funnel::FunnelStage) -> Self {
        let f = s.flow;
        Self {
            stage: Stage(s.stage),
            entered: int(f.entered),
            moved_on: int(f.moved_on),
            conversion: f.conversion,
            drop_off: f.drop_off,
            median_seconds: f.median_seconds,
            p90_seconds: f.p90_seconds,
        }
    }
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

const STALLED_ORDER: &str = "stalled.due.asc";

connection!(
    /// A page of stalled accounts, longest overdue first.
    StalledAccountConnection, StalledAccountEdge, StalledAccount
);

/// One account's wait from MQL to sales' first touch.
#[derive(Clone)]
pub struct HandoffEntry(handoff::HandoffEntry);

/// One account's wait from becoming an MQL to sales' first touchpoint.
#[Object]
impl HandoffEntry {
    /// The account.
    async fn account(&self) -> Account {
        Account(self.0.account.clone())
    }
    /// When the account first became an MQL within the window (UTC).
    async fn mql_at(&self) -> DateTime<Utc> {
        self.0.mql_at
    }
    /// Sales' first touchpoint after the MQL; null while the account waits.
    async fn first_sales_touchpoint(&self) -> Option<Touchpoint> {
        self.0.first_sales_touch.clone().map(Touchpoint)
    }
    /// Seconds from MQL to sales' first touch; null while waiting.
    async fn gap_seconds(&self) -> Option<f64> {
        self.0.gap_seconds()
    }
    /// What happened in between (until now while waiting), oldest first.
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
        let filter = self.0.touchpoints_between();
        let args = PageArgs::new(first, after, last, before);
        let ws = self.0.account.workspace_id;
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
    /// Of those, how many sales has not touched yet and are still in
    /// qualification (MQL or SQL).
    pub waiting: i32,
    /// Of those, how many left qualification before any sales touch
    /// (disqualified, moved back, or on to a customer): not waiting.
    pub left: i32,
    /// The median gap of the handed-off accounts, in seconds (nearest rank);
    /// null when none was handed off.
    pub median_seconds: Option<f64>,
    /// The 90th percentile of the same gaps, in seconds (nearest rank); null
    /// when none was handed off.
    pub p90_seconds: Option<f64>,
}

impl From<handoff::HandoffGap> for HandoffGap {
    fn from(h: handoff::HandoffGap) -> Self {
        Self {
            entries: h.entries.into_iter().map(HandoffEntry).collect(),
            handed_off: int(h.gaps.handed_off),
            waiting: int(h.gaps.waiting),
            left: int(h.gaps.left),
            median_seconds: h.gaps.median_seconds,
            p90_seconds: h.gaps.p90_seconds,
        }
    }
}

const HANDOFF_ORDER: &str = "handoff_mql_at";

connection!(
    /// A page of accounts' hand-off gaps, earliest MQL first.
    HandoffEntryConnection, HandoffEntryEdge, HandoffEntry
);

#[ComplexObject]
impl HandoffGap {
    /// Accounts that became MQLs within the window, earliest MQL first.
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
        let cursor = |e: &HandoffEntry| {
            Cursor::new(HANDOFF_ORDER, SortKey::Time(e.0.mql_at), e.0.account.id)
        };
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

impl From<nps::Nps> for Nps {
    fn from(n: nps::Nps) -> Self {
        Self {
            score: n.score,
            responses: int(n.responses),
            promoters: int(n.promoters),
            passives: int(n.passives),
            detractors: int(n.detractors),
        }
    }
}

/// Where an account that became a customer first and last came from.
#[derive(Clone)]
pub struct AttributionEntry(attribution::AttributionEntry);

/// Where an account that became a customer first and last came from.
#[Object]
impl AttributionEntry {
    /// The account.
    async fn account(&self) -> Account {
        Account(self.0.account.clone())
    }
    /// When it first became a CUSTOMER, or went past it (PROMOTER, CHURNED),
    /// within the window (UTC).
    async fn customer_at(&self) -> DateTime<Utc> {
        self.0.customer_at
    }
    /// Its first touchpoint, up to when it became a customer.
    async fn first_touch(&self) -> Option<Touchpoint> {
        self.0.first.clone().map(Touchpoint)
    }
    /// Its last touchpoint before it became a customer.
    async fn last_touch(&self) -> Option<Touchpoint> {
        self.0.last.clone().map(Touchpoint)
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

impl From<attribution::Share> for AttributionShare {
    fn from(s: attribution::Share) -> Self {
        Self {
            source: s.source,
            channel: s.channel.into(),
            accounts: int(s.accounts),
        }
    }
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

impl From<attribution::Attribution> for Attribution {
    fn from(a: attribution::Attribution) -> Self {
        Self {
            entries: a.entries.into_iter().map(AttributionEntry).collect(),
            first_touch: a.first_touch.into_iter().map(Into::into).collect(),
            last_touch: a.last_touch.into_iter().map(Into::into).collect(),
        }
    }
}

const CUSTOMERS_ORDER: &str = "attribution_customer_at";

connection!(
    /// A page of new customers with their first and last touch, earliest first.
    AttributionEntryConnection, AttributionEntryEdge, AttributionEntry
);

#[ComplexObject]
impl Attribution {
    /// Each account that became a customer within the window, earliest first.
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
            Cursor::new(
                CUSTOMERS_ORDER,
                SortKey::Time(e.0.customer_at),
                e.0.account.id,
            )
        };
        let (edges, page_info) = page_computed(self.entries.clone(), &page, cursor);
        Ok(AttributionEntryConnection::new(
            edges,
            page_info,
            TotalCount::new(KnownCount(self.entries.len() as u64)),
        ))
    }
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
        let window = Window::new(from, to)?;
        let model =
            crate::journeys::find(&rc.db, ws, ids::decode(&model_id, NodeType::JourneyModel)?)
                .await?;
        let segment = filter.map(Segment::from).unwrap_or_default();
        let stages = funnel::funnel(&rc.db, ws, model.id, window, &segment).await?;
        Ok(Funnel {
            model: JourneyModel(model),
            from,
            to,
            stages: stages.into_iter().map(FunnelStage::from).collect(),
        })
    }

    /// Accounts in a stage of the model's sequence longer than the stage's
    /// target, longest overdue first (by how long past the target, whatever
    /// each stage's target is).
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
        let now = time::now();
        let stalled = stalled::stalled(&rc.db, ws, model.id, now).await?;
        let rows = stalled.page(&rc.db, &page).await?;
        // Every stalled position has fallen due.
        let cursor = |p: &stage_position::Model| {
            let due = p.due_at.unwrap_or(p.entered_at);
            Cursor::new(STALLED_ORDER, SortKey::Time(due), p.id)
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
            total: Total::Skip,
        });
        let mut latest = loader.load_many(keys).await.map_err(load_error)?;
        let mut edges = Vec::with_capacity(positions.len());
        for (cursor, p) in positions {
            let (Some(stage), Some(account)) = (
                stalled.stages.get(&p.stage_id).cloned(),
                accounts.remove(&AccountById(p.account_id)),
            ) else {
                continue;
            };
            let key = TouchpointsOf {
                owner: TouchpointOwner::Account,
                parent: p.account_id,
                page: newest.clone(),
                total: Total::Skip,
            };
            let last = latest
                .remove(&key)
                .and_then(|listed| listed.rows.into_iter().next());
            edges.push(StalledAccountEdge {
                cursor,
                node: StalledAccount {
                    account: Account(account),
                    overdue_seconds: stalled::overdue_seconds(
                        p.entered_at,
                        stage.target_duration_secs,
                        now,
                    ),
                    stage: Stage(stage),
                    entered_at: p.entered_at,
                    last_touchpoint: last.map(Touchpoint),
                },
            });
        }
        Ok(StalledAccountConnection {
            edges,
            page_info,
            total: TotalCount::new(CountBy(move |db| {
                let stalled = stalled.clone();
                async move { stalled.count(&db).await }
            })),
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
        let window = Window::new(from, to)?;
        Ok(handoff::handoff_gap(&rc.db, ws, window).await?.into())
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
        let window = Window::new(from, to)?;
        Ok(nps::nps(&rc.db, ws, window).await?.into())
    }

    /// The detractors' answers within the window, to follow up; newest first.
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
        let detractors = nps::detractors(Window::new(from, to)?);
        let args = PageArgs::new(first, after, last, before);
        list(ctx, ws, detractors, TouchpointOrder::NewestFirst, args).await
    }

    /// First- and last-touch source and channel of the accounts that became
    /// customers within the window: every account that reached CUSTOMER or
    /// later (PROMOTER, CHURNED; straight there too), dated by its first such
    /// change.
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
        let window = Window::new(from, to)?;
        Ok(attribution::attribution(&rc.db, ws, window).await?.into())
    }

    /// Hand-offs between teams in a model's sequence: one entry per boundary
    /// (two adjacent stages owned by different teams), in the sequence's
    /// order, crossed within the window or not.
    async fn handoffs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The journey model whose sequence is measured.")] model_id: ID,
        #[graphql(desc = "Start of the window in which accounts crossed, inclusive; before `to`.")]
        from: DateTime<Utc>,
        #[graphql(desc = "End of the window in which accounts crossed, exclusive.")] to: DateTime<
            Utc,
        >,
    ) -> ApiResult<Vec<TeamHandoff>> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Read)?.workspace_id;
        let window = Window::new(from, to)?;
        let model =
            crate::journeys::find(&rc.db, ws, ids::decode(&model_id, NodeType::JourneyModel)?)
                .await?;
        let report =
            journeys_core::analytics::team_handoffs::team_handoffs(&rc.db, ws, model.id, window)
                .await?;
        Ok(report.into_iter().map(TeamHandoff::from).collect())
    }

    /// Stays in a stage of the model's sequence during which the owner team
    /// of the account's touchpoints switched between MARKETING and SALES at
    /// least `minSwitches` times within the window (a switch: a MARKETING or
    /// SALES touchpoint whose team differs from the previous such one's; other
    /// teams' are passed over). Most switches first, then by the move that
    /// began the stay.
    #[allow(clippy::too_many_arguments)]
    async fn bouncing_accounts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The journey model whose stages the stays are in.")] model_id: ID,
        #[graphql(
            desc = "Start of the window the switches are counted in, inclusive; before `to`."
        )]
        from: DateTime<Utc>,
        #[graphql(desc = "End of the window the switches are counted in, exclusive.")] to: DateTime<
            Utc,
        >,
        #[graphql(
            desc = "The fewest switches a stay must have, from 1 to 100.",
            default = 2
        )]
        min_switches: i32,
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
    ) -> ApiResult<BouncingStayConnection> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Read)?.workspace_id;
        let window = Window::new(from, to)?;
        bouncing::check_min_switches(min_switches)?;
        let args = PageArgs::new(first, after, last, before);
        let model =
            crate::journeys::find(&rc.db, ws, ids::decode(&model_id, NodeType::JourneyModel)?)
                .await?;
        let stays = bouncing::bouncing(&rc.db, ws, model.id, window, min_switches).await?;
        bouncing_page(stays, args)
    }

    /// Per stage of the model's sequence, by position: the stays that began
    /// within the window and the touchpoints during them, for all stays and
    /// apart for those that moved on and those that dropped off.
    async fn stage_insights(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The journey model whose stages are measured.")] model_id: ID,
        #[graphql(desc = "Start of the window the stays began in, inclusive; before `to`.")]
        from: DateTime<Utc>,
        #[graphql(
            desc = "End of the window the stays began in, exclusive; touchpoints from then on are not counted."
        )]
        to: DateTime<Utc>,
    ) -> ApiResult<Vec<StageInsight>> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Read)?.workspace_id;
        let window = Window::new(from, to)?;
        let model =
            crate::journeys::find(&rc.db, ws, ids::decode(&model_id, NodeType::JourneyModel)?)
                .await?;
        let report =
            journeys_core::analytics::stage_insights::stage_insights(&rc.db, ws, model.id, window)
                .await?;
        Ok(report.into_iter().map(StageInsight::from).collect())
    }
}
