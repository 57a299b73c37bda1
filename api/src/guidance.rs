//! The GraphQL face of guidance: an account's next steps (`Account.nextSteps`),
//! each with its reason, and its sales brief (`Account.brief`). What calls for a step, and its priority, is
//! `journeys_core::guidance`.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Duration, Utc};
use entity::account;
use journeys_core::CoreError;
use journeys_core::guidance::{self, Guidance};
use uuid::Uuid;

use crate::graphql::connection::load_error;
use crate::graphql::context::request;
use crate::graphql::error::ApiResult;
use crate::graphql::ids::{self, NodeType};
use crate::graphql::loaders::{GuidanceOf, SalesOf, ScoreDaysAgo, StaysOf};
use crate::graphql::pagination::PageArgs;
use crate::journeys::{JourneyModel, Stage};
use crate::stakeholders::Stakeholder;
use crate::touchpoints::{Touchpoint, TouchpointConnection};
use crate::vocab::{Channel, DmuRole, OwnerTeam};

/// What guidance knows about an account now, loaded for a page of accounts
/// at once.
pub async fn load(ctx: &Context<'_>, account: Uuid) -> ApiResult<Option<Arc<Guidance>>> {
    request(ctx)
        .loader
        .load_one(GuidanceOf(account))
        .await
        .map_err(load_error)
}

/// What calls for a next step.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "journeys_core::guidance::StepKind")]
pub enum NextStepKind {
    /// An MQL or SQL with no SALES-owned touchpoint since it qualified.
    AwaitingSales,
    /// The newest NPS answer is a detractor's (0 to 6) and no team-owned
    /// touchpoint on the account came after it.
    DetractorFollowUp,
    /// A support ticket opened and not solved since.
    OpenTicket,
    /// No touchpoint for longer than the current stage's target duration
    /// (counted from the stage's entry when that came later).
    NoRecentTouch,
    /// A role the workspace's deals need that nobody at the account holds,
    /// while it is in a deal (MQL, SQL or OPPORTUNITY).
    MissingRole,
    /// A needed role whose holders were none of them in touch in the last
    /// 90 days, while the account is in a deal.
    ColdRole,
    /// A step of the playbook of a stage or phase the account is in, not
    /// done since it entered.
    Playbook,
}

/// How soon a next step should be taken.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "journeys_core::guidance::Priority")]
pub enum NextStepPriority {
    /// Someone waits on us, or the account is past its stage's target:
    /// AWAITING_SALES, DETRACTOR_FOLLOW_UP, OPEN_TICKET, NO_RECENT_TOUCH.
    High,
    /// A missing role, and the first open step of each playbook.
    Medium,
    /// A cold role, and the later playbook steps.
    Low,
}

/// One thing the account should get now, with the reason.
pub struct NextStep {
    pub step: guidance::NextStep,
    /// The account's guidance, for the model and stage the step names.
    pub guidance: Arc<Guidance>,
}

impl NextStep {
    /// Every next step of `guidance`, in its order.
    pub fn all(guidance: &Arc<Guidance>) -> Vec<NextStep> {
        guidance
            .next_steps
            .iter()
            .map(|step| NextStep {
                step: step.clone(),
                guidance: Arc::clone(guidance),
            })
            .collect()
    }
}

#[Object]
impl NextStep {
    /// What calls for it.
    async fn kind(&self) -> NextStepKind {
        self.step.kind.into()
    }
    /// How soon; the list is ordered by priority, then kind.
    async fn priority(&self) -> NextStepPriority {
        self.step.priority.into()
    }
    /// What to do. It never names a channel: `contactOn` has those.
    async fn text(&self) -> &str {
        &self.step.text
    }
    /// Why, from the records it was read from (dates are UTC).
    async fn reason(&self) -> &str {
        &self.step.reason
    }
    /// The team that should do it.
    async fn owner_team(&self) -> OwnerTeam {
        self.step.owner_team.into()
    }
    /// The model of the stage it comes from (PLAYBOOK, NO_RECENT_TOUCH).
    async fn model(&self) -> Option<JourneyModel> {
        let id = self.step.model_id?;
        let positions = &self.guidance.facts.positions;
        let found = positions.iter().find(|p| p.model.id == id)?;
        Some(JourneyModel(found.model.clone()))
    }
    /// The stage it comes from (PLAYBOOK, NO_RECENT_TOUCH).
    async fn stage(&self) -> Option<Stage> {
        let id = self.step.stage_id?;
        let positions = &self.guidance.facts.positions;
        let found = positions.iter().find(|p| p.stage.id == id)?;
        Some(Stage(found.stage.clone()))
    }
    /// The decision-making-unit role it is about (MISSING_ROLE, COLD_ROLE).
    async fn role(&self) -> Option<DmuRole> {
        self.step.role.map(Into::into)
    }
    /// The person it is about: the role holder to re-engage, the NPS
    /// respondent, the ticket's requester.
    async fn stakeholder(&self, ctx: &Context<'_>) -> ApiResult<Option<Stakeholder>> {
        match self.step.stakeholder_id {
            Some(id) => crate::stakeholders::load(ctx, id).await,
            None => Ok(None),
        }
    }
    /// The channels that person may be contacted on: their newest consent on
    /// each was given, and they were not erased. A channel they revoked is
    /// never here; empty when there is no person or no consent.
    async fn contact_on(&self) -> Vec<Channel> {
        self.step
            .contact_on
            .iter()
            .copied()
            .map(Into::into)
            .collect()
    }
    /// The touchpoint that calls for it: the NPS answer, the ticket's opening.
    async fn touchpoint(&self, ctx: &Context<'_>) -> ApiResult<Option<Touchpoint>> {
        crate::touchpoints::load(ctx, self.step.touchpoint_id).await
    }
}

/// One stage an account has been in.
#[derive(SimpleObject)]
pub struct AccountStage {
    pub stage: Stage,
    /// The account's stays in the stage and what happened in them.
    pub stays: crate::analytics::stage_insights::StayGroup,
}

/// How an account's score moved.
#[derive(SimpleObject)]
pub struct ScoreTrend {
    /// How many days back `then` is.
    pub days: i32,
    /// The score today, as `Account.score`.
    pub now: f64,
    /// The score `days` ago.
    pub then: f64,
    /// `now - then`: positive when it warmed up.
    pub change: f64,
}

/// A sales brief of one account: each field reads what the account's other
/// fields read, through the same per-request loaders, so a page of briefs
/// costs a fixed number of statements.
pub struct AccountBrief(pub account::Model);

impl AccountBrief {
    async fn guidance(&self, ctx: &Context<'_>) -> ApiResult<Option<Arc<Guidance>>> {
        load(ctx, self.0.id).await
    }
}

#[Object]
impl AccountBrief {
    /// Where the account is in each model (its stage, and each continuous
    /// phase it is in), with the time spent there.
    async fn positions(&self, ctx: &Context<'_>) -> ApiResult<Vec<BriefPosition>> {
        let now = journeys_core::time::now();
        let guidance = self.guidance(ctx).await?;
        let positions = guidance
            .map(|g| g.facts.positions.clone())
            .unwrap_or_default();
        Ok(positions
            .into_iter()
            .map(|position| BriefPosition { position, now })
            .collect())
    }
    /// The account's score today, as `Account.score`.
    async fn score(&self, ctx: &Context<'_>) -> ApiResult<f64> {
        crate::scoring::account_score(ctx, self.0.id).await
    }
    /// The score today beside the score `days` ago: what today's rules give
    /// the touchpoints that had happened by then, decayed to then, through
    /// the account's members now.
    async fn score_trend(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many days back, 1 to 365.", default = 30)] days: i32,
    ) -> ApiResult<ScoreTrend> {
        let days = u16::try_from(days)
            .ok()
            .filter(|d| (1..=365).contains(d))
            .ok_or_else(|| CoreError::invalid_field("days", "`days` must be 1 to 365"))?;
        let now = crate::scoring::account_score(ctx, self.0.id).await?;
        let then = request(ctx)
            .loader
            .load_one(ScoreDaysAgo {
                account: self.0.id,
                days,
            })
            .await
            .map_err(load_error)?
            .unwrap_or(0.0);
        Ok(ScoreTrend {
            days: i32::from(days),
            now,
            then,
            change: now - then,
        })
    }
    /// The largest parts of the score today, largest first (ties in
    /// `scoreBreakdown`'s order).
    async fn top_score_contributions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many, 1 to 20.", default = 3)] first: i32,
    ) -> ApiResult<Vec<crate::scoring::AccountScoreContribution>> {
        let first = usize::try_from(first.clamp(1, 20)).unwrap_or(3);
        let mut parts = crate::scoring::account_breakdown(ctx, self.0.id).await?;
        parts.sort_by(|a, b| b.points_today().total_cmp(&a.points_today()));
        parts.truncate(first);
        Ok(parts)
    }
    /// What sales did with the account between its hand-off (its first MQL
    /// or SQL) and its outcome (its first CUSTOMER or DISQUALIFIED), or up
    /// to now while open: the SALES-owned touchpoints, who made them and the
    /// assets they named. Null when it never qualified or sales never touched it.
    async fn sales_engagement(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Option<crate::engagement::SalesAccountEngagement>> {
        let found = request(ctx)
            .loader
            .load_one(SalesOf(self.0.id))
            .await
            .map_err(load_error)?;
        Ok(found.map(crate::engagement::SalesAccountEngagement))
    }
    /// The stages of a model's sequence the account has been in, by
    /// position, each with what happened in its stays there up to now: the
    /// touchpoints by channel and kind, what they expressed (emotions) and
    /// their mean sentiment.
    async fn stages(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The journey model; the default model when left out.")] model_id: Option<
            ID,
        >,
    ) -> ApiResult<Vec<AccountStage>> {
        let model = model_id
            .map(|id| ids::decode(&id, NodeType::JourneyModel))
            .transpose()?;
        let found = request(ctx)
            .loader
            .load_one(StaysOf {
                account: self.0.id,
                model,
            })
            .await
            .map_err(load_error)?;
        Ok(found
            .unwrap_or_default()
            .into_iter()
            .map(|s| AccountStage {
                stage: Stage(s.stage),
                stays: s.group.into(),
            })
            .collect())
    }
    /// The buying group over the 90 days up to now, as `Account.dmu`.
    async fn dmu(&self, ctx: &Context<'_>) -> ApiResult<crate::dmu::AccountDmu> {
        // Guidance read the same unit for the next steps: no second read.
        match self.guidance(ctx).await? {
            Some(g) => Ok(crate::dmu::AccountDmu::of(g.facts.unit.clone())),
            None => crate::dmu::load(ctx, self.0.id, None, None).await,
        }
    }
    /// The account's newest touchpoint, from any source.
    async fn last_touch_at(&self, ctx: &Context<'_>) -> ApiResult<Option<DateTime<Utc>>> {
        Ok(self
            .guidance(ctx)
            .await?
            .and_then(|g| g.facts.last_touch_at))
    }
    /// The newest touchpoints across every source, newest first.
    async fn last_touches(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many, 0 to 500.", default = 5)] first: i32,
    ) -> ApiResult<TouchpointConnection> {
        crate::accounts::touchpoints_of(
            ctx,
            self.0.id,
            PageArgs::new(Some(first), None, None, None),
        )
        .await
    }
    /// Support tickets opened and not solved since, oldest first: a
    /// ticket's status touchpoints (`ticket.opened`, `ticket.solved`,
    /// `ticket.reopened`, `ticket.pending`, `ticket.on_hold`) paired by their
    /// source and `properties.ticket_id`.
    async fn open_tickets(&self, ctx: &Context<'_>) -> ApiResult<Vec<SupportTicket>> {
        let guidance = self.guidance(ctx).await?;
        let tickets = guidance
            .map(|g| g.facts.open_tickets.clone())
            .unwrap_or_default();
        Ok(tickets.into_iter().map(SupportTicket).collect())
    }
    /// The account's newest NPS answer (`nps.responded`).
    async fn latest_nps(&self, ctx: &Context<'_>) -> ApiResult<Option<Touchpoint>> {
        let guidance = self.guidance(ctx).await?;
        Ok(guidance
            .and_then(|g| g.facts.latest_nps.clone())
            .map(Touchpoint))
    }
    /// Whether a team-owned touchpoint on the account came after that answer.
    async fn latest_nps_followed_up(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        Ok(self
            .guidance(ctx)
            .await?
            .is_some_and(|g| g.facts.nps_followed_up))
    }
    /// What the account should get now, as `Account.nextSteps`.
    async fn next_steps(&self, ctx: &Context<'_>) -> ApiResult<Vec<NextStep>> {
        let guidance = self.guidance(ctx).await?;
        Ok(guidance.map(|g| NextStep::all(&g)).unwrap_or_default())
    }
}

/// Where an account is in one model: its stage in the sequence, or a
/// continuous phase it is in.
pub struct BriefPosition {
    position: guidance::next_steps::Position,
    now: DateTime<Utc>,
}

#[Object]
impl BriefPosition {
    /// The model.
    async fn model(&self) -> JourneyModel {
        JourneyModel(self.position.model.clone())
    }
    /// The stage or phase.
    async fn stage(&self) -> Stage {
        Stage(self.position.stage.clone())
    }
    /// A continuous phase, held beside the account's stage in the sequence.
    async fn phase(&self) -> bool {
        self.position.phase
    }
    /// When the account entered it.
    async fn entered_at(&self) -> DateTime<Utc> {
        self.position.entered_at
    }
    /// Seconds since then.
    async fn seconds_in_stage(&self) -> f64 {
        (self.now - self.position.entered_at).num_milliseconds() as f64 / 1000.0
    }
    /// Whether the account has been in this stage of the sequence longer
    /// than its target duration; never for phases or stages without one.
    async fn past_target(&self) -> bool {
        let target = self.position.stage.target_duration_secs;
        !self.position.phase
            && target.is_some_and(|t| self.now - self.position.entered_at > Duration::seconds(t))
    }
}

/// A support ticket opened and not solved since.
pub struct SupportTicket(guidance::tickets::OpenTicket);

#[Object]
impl SupportTicket {
    /// The help desk's ticket id.
    async fn ticket_id(&self) -> &str {
        &self.0.ticket_id
    }
    /// The ticket's subject, as its opening touchpoint's title.
    async fn subject(&self) -> Option<&str> {
        self.0.opened.title.as_deref()
    }
    /// When it was opened.
    async fn opened_at(&self) -> DateTime<Utc> {
        self.0.opened.occurred_at
    }
    /// When it was last reopened after a solve; null when never solved.
    async fn reopened_at(&self) -> Option<DateTime<Utc>> {
        self.0.reopened_at
    }
    /// The touchpoint that opened it: requester, link, properties.
    async fn touchpoint(&self) -> Touchpoint {
        Touchpoint(self.0.opened.clone())
    }
}
