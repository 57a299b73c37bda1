//! The GraphQL face of guidance: an account's next steps (`Account.nextSteps`),
//! each with its reason. What calls for a step, and its priority, is
//! `journeys_core::guidance`.

use std::sync::Arc;

use async_graphql::{Context, Enum, Object};
use journeys_core::guidance::{self, Guidance};
use uuid::Uuid;

use crate::graphql::connection::load_error;
use crate::graphql::context::request;
use crate::graphql::error::ApiResult;
use crate::graphql::loaders::{GuidanceOf, StakeholderById, TouchpointById};
use crate::journeys::{JourneyModel, Stage};
use crate::stakeholders::Stakeholder;
use crate::touchpoints::Touchpoint;
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
        let Some(id) = self.step.stakeholder_id else {
            return Ok(None);
        };
        let found = request(ctx)
            .loader
            .load_one(StakeholderById(id))
            .await
            .map_err(load_error)?;
        Ok(found.map(Stakeholder))
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
        let Some(id) = self.step.touchpoint_id else {
            return Ok(None);
        };
        let found = request(ctx)
            .loader
            .load_one(TouchpointById(id))
            .await
            .map_err(load_error)?;
        Ok(found.map(Touchpoint))
    }
}
