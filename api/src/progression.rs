//! The journey of an account as the API shows it, and manual moves.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{account, journey_model, stage, stage_transition};
use uuid::Uuid;

use crate::accounts::Account;
use crate::auth::Scope;
use crate::graphql::connection::load_error;
use crate::graphql::context::request;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::ids::{self, NodeType};
use crate::graphql::loaders::{DefaultModel, JourneyModelById, StagesOf, TransitionsOf};
use crate::graphql::pagination::PageArgs;
use crate::journeys::{JourneyModel, Stage};
use crate::touchpoints::{Touchpoint, TouchpointConnection, TouchpointOrder, empty_list, list};
use journeys_core::db;
use journeys_core::journeys::progression::move_by_hand;
use journeys_core::touchpoints::TouchpointFilter;

/// What moved an account between stages.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::vocab::TransitionCause")]
pub enum TransitionCause {
    /// A touchpoint matched the stage's entry rules.
    Touchpoint,
    /// A person moved the account, with a reason.
    Manual,
}

/// An account's unified journey through one model.
pub struct Journey {
    account: account::Model,
    model: journey_model::Model,
    stages: Vec<stage::Model>,
    transitions: Vec<stage_transition::Model>,
}

/// Loads a journey through the request's batching loaders, so a page of
/// accounts each asking for its journey costs a fixed number of statements.
pub async fn load(
    ctx: &Context<'_>,
    account: account::Model,
    model: Option<Uuid>,
) -> ApiResult<Journey> {
    let loader = &request(ctx).loader;
    let model = match model {
        Some(id) => loader
            .load_one(JourneyModelById(id))
            .await
            .map_err(load_error)?,
        None => loader.load_one(DefaultModel).await.map_err(load_error)?,
    }
    .ok_or(ApiError::not_found("journey model"))?;
    let stages = loader
        .load_one(StagesOf(model.id))
        .await
        .map_err(load_error)?
        .unwrap_or_default();
    let transitions = loader
        .load_one(TransitionsOf {
            account: account.id,
            model: model.id,
        })
        .await
        .map_err(load_error)?
        .unwrap_or_default();
    Ok(Journey {
        account,
        model,
        stages,
        transitions,
    })
}

impl Journey {
    fn stage(&self, id: Uuid) -> Option<Stage> {
        self.stages.iter().find(|s| s.id == id).cloned().map(Stage)
    }

    /// The last move into the sequence: where the account is now.
    fn current(&self) -> Option<&stage_transition::Model> {
        self.transitions.iter().rfind(|t| !t.phase)
    }

    /// The latest visit of a stage: entered at, left at. A stage of the
    /// sequence is left by the next move in the sequence; a phase, entered
    /// once, is never left.
    fn visit(&self, stage: Uuid) -> Option<(DateTime<Utc>, Option<DateTime<Utc>>)> {
        let continuous = self.stages.iter().any(|s| s.id == stage && s.continuous);
        if continuous {
            let first = self.transitions.iter().find(|t| t.to_stage_id == stage)?;
            return Some((first.occurred_at, None));
        }
        let sequence: Vec<&stage_transition::Model> =
            self.transitions.iter().filter(|t| !t.phase).collect();
        let entered = sequence.iter().rposition(|t| t.to_stage_id == stage)?;
        let left = sequence.get(entered + 1).map(|t| t.occurred_at);
        Some((sequence[entered].occurred_at, left))
    }

    /// The continuous phases the account is in, in the order it entered them.
    fn phases_entered(&self) -> Vec<(Uuid, DateTime<Utc>)> {
        let mut phases: Vec<(Uuid, DateTime<Utc>)> = Vec::new();
        for t in self.transitions.iter().filter(|t| t.phase) {
            if !phases.iter().any(|(s, _)| *s == t.to_stage_id) {
                phases.push((t.to_stage_id, t.occurred_at));
            }
        }
        phases
    }
}

/// An account's unified journey through one model: where it is in the
/// model's sequence, the continuous phases it is in beside it, each stage with
/// when it entered and left, every move, and a cross-source timeline of its
/// touchpoints.
#[Object]
impl Journey {
    /// The account travelling.
    async fn account(&self) -> Account {
        Account(self.account.clone())
    }
    /// The journey model followed.
    async fn model(&self) -> JourneyModel {
        JourneyModel(self.model.clone())
    }
    /// Where the account is in the model's sequence; null before its first
    /// move. A continuous phase is never the current stage: see `phases`.
    async fn current_stage(&self) -> Option<Stage> {
        self.current().and_then(|t| self.stage(t.to_stage_id))
    }
    /// When the account entered its current stage.
    async fn entered_at(&self) -> Option<DateTime<Utc>> {
        self.current().map(|t| t.occurred_at)
    }
    /// The continuous phases (like Babcock-Jenkins' Advocate) the account is
    /// in beside the sequence, in the order it entered them; it stays in each.
    async fn phases(&self) -> Vec<JourneyPhase> {
        self.phases_entered()
            .into_iter()
            .filter_map(|(id, entered_at)| {
                Some(JourneyPhase {
                    stage: self.stage(id)?,
                    entered_at,
                })
            })
            .collect()
    }
    /// Every stage of the model, with the account's latest visit of it.
    async fn stages(&self) -> Vec<JourneyStage> {
        let current = self.current().map(|t| t.to_stage_id);
        let phases = self.phases_entered();
        self.stages
            .iter()
            // A removed stage still shows when the account went through it.
            .filter(|s| s.archived_at.is_none() || self.visit(s.id).is_some())
            .map(|s| {
                let visit = self.visit(s.id);
                JourneyStage {
                    stage: s.clone(),
                    account: self.account.id,
                    workspace: self.account.workspace_id,
                    entered_at: visit.map(|(entered, _)| entered),
                    left_at: visit.and_then(|(_, left)| left),
                    current: current == Some(s.id) || phases.iter().any(|(p, _)| *p == s.id),
                }
            })
            .collect()
    }
    /// Every move, oldest first.
    async fn transitions(&self) -> Vec<StageTransition> {
        self.transitions
            .iter()
            .map(|t| StageTransition {
                transition: t.clone(),
                from: t.from_stage_id.and_then(|id| self.stage(id)),
                to: self.stage(t.to_stage_id),
            })
            .collect()
    }
    /// All the account's touchpoints from every source, oldest first by default.
    async fn timeline(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The order by `occurredAt`; OLDEST_FIRST when left out.")]
        order_by: Option<TouchpointOrder>,
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
        let filter = TouchpointFilter {
            account: Some(self.account.id),
            ..TouchpointFilter::default()
        };
        let order = order_by.unwrap_or(TouchpointOrder::OldestFirst);
        let args = PageArgs::new(first, after, last, before);
        list(ctx, self.account.workspace_id, filter, order, args).await
    }
}

/// A continuous phase an account is in, beside the model's sequence.
#[derive(SimpleObject)]
pub struct JourneyPhase {
    /// The phase: a stage of the model marked continuous.
    stage: Stage,
    /// When the account entered it.
    entered_at: DateTime<Utc>,
}

/// One stage of an account's journey.
pub struct JourneyStage {
    stage: stage::Model,
    account: Uuid,
    workspace: Uuid,
    entered_at: Option<DateTime<Utc>>,
    left_at: Option<DateTime<Utc>>,
    current: bool,
}

/// One stage of an account's journey, with the account's latest visit of it.
#[Object]
impl JourneyStage {
    /// The model's stage.
    async fn stage(&self) -> Stage {
        Stage(self.stage.clone())
    }
    /// When the account last entered this stage; null if it never did.
    async fn entered_at(&self) -> Option<DateTime<Utc>> {
        self.entered_at
    }
    /// When it left; null while it is still here or never came.
    async fn left_at(&self) -> Option<DateTime<Utc>> {
        self.left_at
    }
    /// Whether the account is in this stage now: its stage in the sequence,
    /// or a continuous phase it is in.
    async fn current(&self) -> bool {
        self.current
    }
    /// The touchpoints of the account's latest visit of this stage, oldest first.
    async fn touchpoints(
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
        let args = PageArgs::new(first, after, last, before);
        let Some(entered) = self.entered_at else {
            // Never entered: an empty page, read from nowhere.
            return empty_list(TouchpointOrder::OldestFirst, args);
        };
        let filter = TouchpointFilter {
            account: Some(self.account),
            occurred_after: Some(entered),
            occurred_before: self.left_at,
            ..TouchpointFilter::default()
        };
        list(
            ctx,
            self.workspace,
            filter,
            TouchpointOrder::OldestFirst,
            args,
        )
        .await
    }
}

/// One move of an account between stages.
pub struct StageTransition {
    transition: stage_transition::Model,
    from: Option<Stage>,
    to: Option<Stage>,
}

/// One move of an account from one stage of a model to another.
#[Object]
impl StageTransition {
    /// The stage of the sequence the account left; null for its first move
    /// and for a move into a phase.
    async fn from(&self) -> Option<&Stage> {
        self.from.as_ref()
    }
    /// The stage the account moved into.
    async fn to(&self) -> Option<&Stage> {
        self.to.as_ref()
    }
    /// Whether this move entered a continuous phase beside the sequence,
    /// leaving the account's stage in the sequence as it was.
    async fn phase(&self) -> bool {
        self.transition.phase
    }
    /// When the move happened (UTC): the causing touchpoint's time, or when a
    /// person made it.
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.transition.occurred_at
    }
    /// Whether a touchpoint or a person caused the move.
    async fn cause(&self) -> TransitionCause {
        self.transition.cause.into()
    }
    /// The touchpoint that caused a TOUCHPOINT move.
    async fn touchpoint(&self, ctx: &Context<'_>) -> ApiResult<Option<Touchpoint>> {
        crate::touchpoints::load(ctx, self.transition.touchpoint_id).await
    }
    /// Who made a MANUAL move.
    async fn actor(&self) -> Option<&str> {
        self.transition.actor.as_deref()
    }
    /// Why a MANUAL move was made.
    async fn reason(&self) -> Option<&str> {
        self.transition.reason.as_deref()
    }
}

#[derive(Default)]
pub struct ProgressionQuery;

#[Object]
impl ProgressionQuery {
    /// An account's journey through a model (the default model when none is given).
    async fn journey(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account whose journey to show.")] account_id: ID,
        #[graphql(
            desc = "The journey model to follow; the workspace's default model when left out."
        )]
        model_id: Option<ID>,
    ) -> ApiResult<Journey> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Read)?.workspace_id;
        let account = ids::decode(&account_id, NodeType::Account)?;
        let model = model_id
            .as_ref()
            .map(|id| ids::decode(id, NodeType::JourneyModel))
            .transpose()?;
        let account = journeys_core::people::accounts::find(&rc.db, ws, account).await?;
        load(ctx, account, model).await
    }
}

/// A manual move of an account.
#[derive(InputObject)]
pub struct MoveAccountToStageInput {
    /// The account to move.
    pub account_id: ID,
    /// The stage to move to; it names its model.
    pub stage_id: ID,
    /// Why, 1 to 1,000 characters: kept on the transition for the record.
    pub reason: String,
}

/// The result of a manual move.
#[derive(SimpleObject)]
pub struct MoveAccountToStagePayload {
    /// The move just recorded.
    pub transition: StageTransition,
    /// The account's journey through the stage's model, after the move.
    pub journey: Journey,
}

#[derive(Default)]
pub struct ProgressionMutation;

#[Object]
impl ProgressionMutation {
    /// Moves an account to any stage of a model (not a removed one), now, with
    /// a reason. Later touchpoints move it on from there as usual.
    async fn move_account_to_stage(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account, the stage to move it to and why.")]
        input: MoveAccountToStageInput,
    ) -> ApiResult<MoveAccountToStagePayload> {
        let rc = request(ctx);
        let principal = rc.require(Scope::Write)?;
        let ws = principal.workspace_id;
        let account_id = ids::decode(&input.account_id, NodeType::Account)?;
        let stage_id = ids::decode(&input.stage_id, NodeType::Stage)?;
        let txn = db::begin_write(&rc.db).await?;
        let moved = move_by_hand(
            &txn,
            ws,
            account_id,
            stage_id,
            &principal.subject,
            &input.reason,
        )
        .await?;
        db::commit(txn).await?;
        let transition = moved.transition;
        let journey = Journey {
            account: moved.account,
            model: moved.model,
            stages: moved.stages,
            transitions: moved.transitions,
        };
        let payload_transition = StageTransition {
            from: transition.from_stage_id.and_then(|id| journey.stage(id)),
            to: journey.stage(transition.to_stage_id),
            transition,
        };
        Ok(MoveAccountToStagePayload {
            transition: payload_transition,
            journey,
        })
    }
}
