//! Hand-offs between teams and accounts bouncing between marketing and
//! sales, as GraphQL; the queries are `journeys_core::analytics`'s
//! `team_handoffs` and `bouncing`.

use async_graphql::{ComplexObject, Context, Object, SimpleObject};
use chrono::{DateTime, Utc};
use journeys_core::analytics::{bouncing, team_handoffs};

use super::int;
use crate::accounts::Account;
use crate::graphql::connection::{KnownCount, page_computed};
use crate::graphql::error::ApiResult;
use crate::graphql::pagination::{Cursor, PageArgs, SortKey, TotalCount, connection};
use crate::journeys::Stage;
use crate::touchpoints::{self, Touchpoint};
use crate::vocab::OwnerTeam;

/// One account's first crossing of a boundary between teams within the
/// window.
#[derive(Clone)]
pub struct HandoffCrossing(team_handoffs::Crossing);

/// One account's first crossing of a boundary within the window, and the
/// new team's first touchpoint after it.
#[Object]
impl HandoffCrossing {
    /// The account.
    async fn account(&self) -> Account {
        Account(self.0.account.clone())
    }
    /// When it first moved into the boundary's later stage within the window
    /// (UTC).
    async fn crossed_at(&self) -> DateTime<Utc> {
        self.0.crossed_at
    }
    /// The later stage's owner team's first touchpoint on the account at or
    /// after the crossing (of several at the same instant, any one); null
    /// while that team has not touched it.
    async fn first_touchpoint(&self) -> Option<Touchpoint> {
        self.0.first_touch.clone().map(Touchpoint)
    }
    /// Seconds from the crossing to that first touchpoint; null while
    /// untouched.
    async fn gap_seconds(&self) -> Option<f64> {
        self.0.gap_seconds()
    }
    /// Whether the account is untouched by the new team and still in the
    /// later stage now: someone should take it over.
    async fn waiting(&self) -> bool {
        self.0.handoff() == journeys_core::analytics::handoff::Handoff::Waiting
    }
}

const CROSSINGS_ORDER: &str = "team_handoff_crossed_at";

connection!(
    /// A page of a boundary's crossings, earliest first (then by account id).
    HandoffCrossingConnection, HandoffCrossingEdge, HandoffCrossing
);

/// A boundary between teams in a model's sequence: two adjacent stages owned
/// by different teams, with the accounts that crossed it within the window
/// and how long the new team took to touch them.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct TeamHandoff {
    /// Every account that crossed, once at its first crossing, by crossing
    /// time then account id; paged by `accounts`.
    #[graphql(skip)]
    pub crossings: Vec<HandoffCrossing>,
    /// The earlier stage, owned by the team handing off.
    pub from_stage: Stage,
    /// The later stage, owned by the team taking over.
    pub to_stage: Stage,
    /// The earlier stage's owner team.
    pub from_team: OwnerTeam,
    /// The later stage's owner team.
    pub to_team: OwnerTeam,
    /// Accounts that moved into the later stage within the window from a
    /// stage before it in the sequence (skipping stages counts; a first
    /// placement does not), each once.
    pub crossed: i32,
    /// Of those, accounts the later stage's team has touched since crossing.
    pub handed_off: i32,
    /// Of those, accounts that team has not touched and that are still in
    /// the later stage.
    pub waiting: i32,
    /// Of those, accounts that team has not touched and that have left the
    /// later stage since: nobody is waiting for them any more.
    pub left: i32,
    /// The median gap from crossing to the new team's first touchpoint of
    /// the handed-off accounts, in seconds (nearest rank); null when none was
    /// handed off.
    pub median_seconds: Option<f64>,
    /// The 90th percentile of the same gaps, in seconds (nearest rank); null
    /// when none was handed off.
    pub p90_seconds: Option<f64>,
}

impl From<team_handoffs::TeamHandoff> for TeamHandoff {
    fn from(h: team_handoffs::TeamHandoff) -> Self {
        let b = h.boundary;
        Self {
            crossed: int(h.crossings.len()),
            crossings: h.crossings.into_iter().map(HandoffCrossing).collect(),
            from_team: b.from.owner_team.into(),
            to_team: b.to.owner_team.into(),
            from_stage: Stage(b.from),
            to_stage: Stage(b.to),
            handed_off: int(h.gaps.handed_off),
            waiting: int(h.gaps.waiting),
            left: int(h.gaps.left),
            median_seconds: h.gaps.median_seconds,
            p90_seconds: h.gaps.p90_seconds,
        }
    }
}

#[ComplexObject]
impl TeamHandoff {
    /// The accounts that crossed, earliest crossing first (then by account
    /// id).
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
    ) -> ApiResult<HandoffCrossingConnection> {
        let page = PageArgs::new(first, after, last, before).page(CROSSINGS_ORDER)?;
        let cursor = |c: &HandoffCrossing| {
            Cursor::new(
                CROSSINGS_ORDER,
                SortKey::Time(c.0.crossed_at),
                c.0.account.id,
            )
        };
        let (edges, page_info) = page_computed(self.crossings.clone(), &page, cursor);
        Ok(HandoffCrossingConnection::new(
            edges,
            page_info,
            TotalCount::new(KnownCount(self.crossings.len() as u64)),
        ))
    }
}

/// A change of owner team between MARKETING and SALES from one touchpoint of
/// an account to the next.
pub struct TeamSwitch(bouncing::Switch);

/// A touchpoint owned by MARKETING or SALES whose team differs from the
/// account's previous such touchpoint's.
#[Object]
impl TeamSwitch {
    /// When the switching touchpoint occurred (UTC).
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// The previous touchpoint's team.
    async fn from_team(&self) -> OwnerTeam {
        self.0.from.into()
    }
    /// The switching touchpoint's team.
    async fn to_team(&self) -> OwnerTeam {
        self.0.to.into()
    }
    /// The touchpoint that switched.
    async fn touchpoint(&self, ctx: &Context<'_>) -> ApiResult<Option<Touchpoint>> {
        touchpoints::load(ctx, Some(self.0.touchpoint)).await
    }
}

/// One account's stay in a stage during which MARKETING and SALES kept
/// taking turns.
#[derive(Clone)]
pub struct BouncingStay(pub bouncing::Bounce);

/// One account's stay in a stage of the model's sequence, with the switches
/// between MARKETING and SALES among its touchpoints during the stay and the
/// window.
#[Object]
impl BouncingStay {
    /// The account.
    async fn account(&self) -> Account {
        Account(self.0.account.clone())
    }
    /// The stage it stayed in.
    async fn stage(&self) -> Stage {
        Stage(self.0.stage.clone())
    }
    /// When the stay began (UTC); possibly before the window.
    async fn entered_at(&self) -> DateTime<Utc> {
        self.0.entered_at
    }
    /// How many switches between MARKETING and SALES the stay had within the
    /// window.
    async fn switch_count(&self) -> i32 {
        int(self.0.switches.len())
    }
    /// Those switches, oldest first.
    async fn switches(&self) -> Vec<TeamSwitch> {
        self.0.switches.iter().copied().map(TeamSwitch).collect()
    }
}

pub const BOUNCING_ORDER: &str = "bouncing_switches_desc";

connection!(
    /// A page of bouncing stays, most switches first, then by the move that
    /// began the stay (ids are time-ordered).
    BouncingStayConnection, BouncingStayEdge, BouncingStay
);

/// A page of bouncing stays; `stays` is the whole list in its order.
pub fn bouncing_page(
    stays: Vec<bouncing::Bounce>,
    args: PageArgs,
) -> ApiResult<BouncingStayConnection> {
    let page = args.page(BOUNCING_ORDER)?;
    let total = stays.len() as u64;
    let cursor = |b: &BouncingStay| {
        let switches = i64::try_from(b.0.switches.len()).unwrap_or(i64::MAX);
        Cursor::new(BOUNCING_ORDER, SortKey::Number(-switches), b.0.stay)
    };
    let stays: Vec<BouncingStay> = stays.into_iter().map(BouncingStay).collect();
    let (edges, page_info) = page_computed(stays, &page, cursor);
    Ok(BouncingStayConnection::new(
        edges,
        page_info,
        TotalCount::new(KnownCount(total)),
    ))
}
