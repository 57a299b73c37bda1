//! Sales engagement and content effectiveness as GraphQL. The reads and the
//! arithmetic are `journeys_core::analytics::{sales_engagement, content}`;
//! here are the types and the paging.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use journeys_core::analytics::content::{self, AssetEffect, Comparison, Outcomes};
use journeys_core::analytics::sales_engagement::{
    self as engagement, AccountEngagement, ActorEngagement, AssetRef, AssetUse,
};
use journeys_core::analytics::{Window, sales_engagement::Outcome};
use uuid::Uuid;

use crate::accounts::{self, Account};
use crate::analytics::int;
use crate::auth::Scope;
use crate::graphql::connection::{KnownCount, page_computed};
use crate::graphql::context::request;
use crate::graphql::error::ApiResult;
use crate::graphql::ids::{self, NodeType};
use crate::graphql::pagination::{Cursor, PageArgs, SortKey, TotalCount, connection};
use crate::journeys::{JourneyModel, Stage};
use crate::touchpoints::Asset;

fn asset(a: &AssetRef) -> Asset {
    Asset {
        key: a.key.clone(),
        title: a.title.clone(),
        url: a.url.clone(),
    }
}

/// How an account's deal ended, as of now.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum DealOutcome {
    /// It became a CUSTOMER.
    Won,
    /// It was DISQUALIFIED.
    Lost,
    /// Neither yet.
    Open,
}

impl From<Outcome> for DealOutcome {
    fn from(o: Outcome) -> Self {
        match o {
            Outcome::Won => Self::Won,
            Outcome::Lost => Self::Lost,
            Outcome::Open => Self::Open,
        }
    }
}

/// How many touchpoints used one asset.
#[derive(SimpleObject)]
pub struct AssetUsage {
    /// The asset, with the newest title and address recorded for it.
    pub asset: Asset,
    /// Touchpoints counted that named it.
    pub touchpoints: i32,
}

fn usages(uses: &[AssetUse]) -> Vec<AssetUsage> {
    uses.iter()
        .map(|u| AssetUsage {
            asset: asset(&u.asset),
            touchpoints: int(u.touchpoints),
        })
        .collect()
}

/// What sales did with one account between its hand-off (its first change to
/// MQL or SQL) and its outcome (its first change to CUSTOMER or DISQUALIFIED
/// from then on), within the window.
pub struct SalesAccountEngagement(pub AccountEngagement);

#[Object]
impl SalesAccountEngagement {
    async fn account(&self, ctx: &Context<'_>) -> ApiResult<Option<Account>> {
        accounts::load(ctx, self.0.account).await
    }
    /// When it first became an MQL or SQL.
    async fn handed_off_at(&self) -> DateTime<Utc> {
        self.0.period.handed_off_at
    }
    /// Won, lost or open, as of now.
    async fn outcome(&self) -> DealOutcome {
        self.0.period.outcome.into()
    }
    /// When it was won or lost; null while open.
    async fn outcome_at(&self) -> Option<DateTime<Utc>> {
        self.0.period.outcome_at
    }
    /// Its SALES-owned touchpoints within the window, from the hand-off up to
    /// the outcome.
    async fn touchpoints(&self) -> i32 {
        int(self.0.touchpoints)
    }
    /// The first of those touchpoints.
    async fn first_touch_at(&self) -> DateTime<Utc> {
        self.0.first_at
    }
    /// The last of those touchpoints.
    async fn last_touch_at(&self) -> DateTime<Utc> {
        self.0.last_at
    }
    /// The employees (`actor`) who made them, by name; null for touchpoints
    /// naming nobody.
    async fn actors(&self) -> &[Option<String>] {
        &self.0.actors
    }
    /// The assets they named, most used first, then by key.
    async fn assets(&self) -> Vec<AssetUsage> {
        usages(&self.0.assets)
    }
}

const ENGAGEMENT_ORDER: &str = "sales_engagement_handed_off_at";

connection!(
    /// A page of accounts' sales engagement, earliest hand-off first.
    SalesAccountEngagementConnection, SalesAccountEngagementEdge, SalesAccountEngagement
);

fn page_engagements(
    accounts: &[AccountEngagement],
    args: PageArgs,
) -> ApiResult<SalesAccountEngagementConnection> {
    let page = args.page(ENGAGEMENT_ORDER)?;
    let cursor = |e: &SalesAccountEngagement| {
        Cursor::new(
            ENGAGEMENT_ORDER,
            SortKey::Time(e.0.period.handed_off_at),
            e.0.account,
        )
    };
    let items = accounts
        .iter()
        .cloned()
        .map(SalesAccountEngagement)
        .collect();
    let (edges, page_info) = page_computed(items, &page, cursor);
    Ok(SalesAccountEngagementConnection::new(
        edges,
        page_info,
        TotalCount::new(KnownCount(accounts.len() as u64)),
    ))
}

/// One employee's sales engagement across accounts.
pub struct SalesActorEngagement(ActorEngagement);

#[Object]
impl SalesActorEngagement {
    /// The employee (`actor`); null gathers the touchpoints naming nobody.
    async fn actor(&self) -> Option<&str> {
        self.0.actor.as_deref()
    }
    /// Their SALES-owned touchpoints counted, across accounts.
    async fn touchpoints(&self) -> i32 {
        int(self.0.touchpoints)
    }
    /// Of the accounts they engaged, how many were won.
    async fn won(&self) -> i32 {
        int(self.0.won)
    }
    /// Of the accounts they engaged, how many were lost.
    async fn lost(&self) -> i32 {
        int(self.0.lost)
    }
    /// Of the accounts they engaged, how many are still open.
    async fn open(&self) -> i32 {
        int(self.0.open)
    }
    /// The assets they used, most used first, then by key.
    async fn assets(&self) -> Vec<AssetUsage> {
        usages(&self.0.assets)
    }
    /// Their touchpoints per account, earliest hand-off first.
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
    ) -> ApiResult<SalesAccountEngagementConnection> {
        page_engagements(&self.0.accounts, PageArgs::new(first, after, last, before))
    }
}

/// What sales did between hand-off and outcome within a window: SALES-owned
/// touchpoints of accounts that had become MQL or SQL, up to their first
/// change to CUSTOMER (won) or DISQUALIFIED (lost), with the assets they named.
pub struct SalesEngagement {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    report: Arc<engagement::SalesEngagement>,
}

#[Object]
impl SalesEngagement {
    /// The window's start, inclusive.
    async fn from(&self) -> DateTime<Utc> {
        self.from
    }
    /// The window's end, exclusive.
    async fn to(&self) -> DateTime<Utc> {
        self.to
    }
    /// Per employee, most touchpoints first, then by name; the touchpoints
    /// naming nobody last. One entry per employee with SALES touchpoints in
    /// the window, so not paged.
    async fn actors(&self) -> Vec<SalesActorEngagement> {
        self.report
            .actors
            .iter()
            .cloned()
            .map(SalesActorEngagement)
            .collect()
    }
    /// Per account, every employee together, earliest hand-off first.
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
    ) -> ApiResult<SalesAccountEngagementConnection> {
        page_engagements(
            &self.report.accounts,
            PageArgs::new(first, after, last, before),
        )
    }
}

/// How a group of stays in a stage ended (a stay: an account's first entry
/// into the stage within the window, ended by its next move).
#[derive(SimpleObject)]
pub struct StayOutcomes {
    /// Stays counted.
    pub stays: i32,
    /// Of those, the stays that moved on to another stage before the window's end.
    pub moved_on: i32,
    /// Of those, the stays whose account became a CUSTOMER after entering the
    /// stage and before the window's end.
    pub won: i32,
    /// `movedOn / stays`; null without stays.
    pub moved_on_share: Option<f64>,
    /// `won / stays`; null without stays.
    pub won_share: Option<f64>,
}

impl From<Outcomes> for StayOutcomes {
    fn from(o: Outcomes) -> Self {
        Self {
            stays: int(o.stays),
            moved_on: int(o.moved_on),
            won: int(o.won),
            moved_on_share: o.moved_on_share(),
            won_share: o.won_share(),
        }
    }
}

/// The stays an asset reached (a touchpoint named it while the account was
/// in the stage) beside the stays it did not reach.
#[derive(SimpleObject)]
pub struct AssetComparison {
    pub reached: StayOutcomes,
    pub not_reached: StayOutcomes,
}

impl From<Comparison> for AssetComparison {
    fn from(c: Comparison) -> Self {
        Self {
            reached: c.reached.into(),
            not_reached: c.not_reached.into(),
        }
    }
}

/// One stage's comparison for one asset.
#[derive(SimpleObject)]
pub struct AssetStageEffect {
    pub stage: Stage,
    /// The stage's stays it reached.
    pub reached: StayOutcomes,
    /// The stage's stays it did not reach.
    pub not_reached: StayOutcomes,
}

/// One asset's reach and the outcomes beside it.
#[derive(SimpleObject)]
pub struct AssetEffectiveness {
    /// The asset, with its newest title and address within the window.
    pub asset: Asset,
    /// Touchpoints within the window that named it, on an account.
    pub touchpoints: i32,
    /// Distinct accounts those touchpoints were on, whether in a stay or not.
    pub accounts_reached: i32,
    /// Every stage's stays together.
    pub overall: AssetComparison,
    /// The stages it reached at least one stay in, by position.
    pub stages: Vec<AssetStageEffect>,
}

impl From<AssetEffect> for AssetEffectiveness {
    fn from(e: AssetEffect) -> Self {
        Self {
            asset: asset(&e.asset),
            touchpoints: int(e.touchpoints),
            accounts_reached: int(e.accounts_reached),
            overall: e.overall.into(),
            stages: e
                .stages
                .into_iter()
                .map(|s| AssetStageEffect {
                    stage: Stage(s.stage),
                    reached: s.comparison.reached.into(),
                    not_reached: s.comparison.not_reached.into(),
                })
                .collect(),
        }
    }
}

const CONTENT_ORDER: &str = "content_accounts_reached";

connection!(
    /// A page of assets, most accounts reached first, then by key.
    AssetEffectivenessConnection, AssetEffectivenessEdge, AssetEffectiveness
);

/// Content effectiveness over a window, for one model's stages.
pub struct ContentEffectiveness {
    model: JourneyModel,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    assets: Arc<Vec<AssetEffect>>,
}

#[Object]
impl ContentEffectiveness {
    /// The model whose stages the stays are in.
    async fn model(&self) -> &JourneyModel {
        &self.model
    }
    /// The window's start, inclusive.
    async fn from(&self) -> DateTime<Utc> {
        self.from
    }
    /// The window's end, exclusive.
    async fn to(&self) -> DateTime<Utc> {
        self.to
    }
    /// Every asset named by a touchpoint within the window, most accounts
    /// reached first, then by key.
    async fn assets(
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
    ) -> ApiResult<AssetEffectivenessConnection> {
        let page = PageArgs::new(first, after, last, before).page(CONTENT_ORDER)?;
        // Most reached first, then by key, as one ascending text key; keys are
        // unique, so the id is not needed to break ties.
        let cursor = |e: &AssetEffect| {
            let rank = u32::MAX - u32::try_from(e.accounts_reached).unwrap_or(u32::MAX);
            let key = SortKey::Text(format!("{rank:010}:{}", e.asset.key));
            Cursor::new(CONTENT_ORDER, key, Uuid::nil())
        };
        let (edges, page_info) = page_computed(self.assets.to_vec(), &page, cursor);
        let edges = edges.into_iter().map(|(c, e)| (c, e.into())).collect();
        Ok(AssetEffectivenessConnection::new(
            edges,
            page_info,
            TotalCount::new(KnownCount(self.assets.len() as u64)),
        ))
    }
}

#[derive(Default)]
pub struct EngagementQuery;

#[Object]
impl EngagementQuery {
    /// Per employee and per account, the SALES-owned touchpoints between
    /// hand-off and outcome within the window, the assets they named, and the
    /// outcome.
    async fn sales_engagement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The window's start, inclusive; before `to`.")] from: DateTime<Utc>,
        #[graphql(desc = "The window's end, exclusive.")] to: DateTime<Utc>,
    ) -> ApiResult<SalesEngagement> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Read)?.workspace_id;
        let window = Window::new(from, to)?;
        let report = engagement::sales_engagement(&rc.db, ws, window).await?;
        Ok(SalesEngagement {
            from,
            to,
            report: Arc::new(report),
        })
    }

    /// Per asset, the accounts it reached, the stages they were in, and the
    /// share of those stays that moved on or were won, beside the same shares
    /// for the stays it did not reach.
    async fn content_effectiveness(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The journey model whose stages the stays are in.")] model_id: ID,
        #[graphql(desc = "The window's start, inclusive; before `to`.")] from: DateTime<Utc>,
        #[graphql(desc = "The window's end, exclusive.")] to: DateTime<Utc>,
    ) -> ApiResult<ContentEffectiveness> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Read)?.workspace_id;
        let window = Window::new(from, to)?;
        let model =
            crate::journeys::find(&rc.db, ws, ids::decode(&model_id, NodeType::JourneyModel)?)
                .await?;
        let assets = content::content_effectiveness(&rc.db, ws, model.id, window).await?;
        Ok(ContentEffectiveness {
            model: JourneyModel(model),
            from,
            to,
            assets: Arc::new(assets),
        })
    }
}
