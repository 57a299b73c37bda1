//! The GraphQL face of editing a model's stages; the rules, and the archiving
//! that keeps history, live in `journeys_core::journeys::editing`.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use journeys_core::db;
use journeys_core::journeys::editing::{self, EditedStage, StageChanges};
use uuid::Uuid;

use super::{JourneyModel, JourneyModelPayload, Stage, StageInput};
use crate::auth::Scope;
use crate::graphql::context::request;
use crate::graphql::error::ApiResult;
use crate::graphql::ids::{self, NodeType};
use crate::vocab::{Channel, OwnerTeam};

/// A stage to add to a model.
#[derive(InputObject)]
pub struct AddStageInput {
    /// The model to add it to.
    pub model_id: ID,
    /// The new stage; its key must be new to the model, archived stages included.
    pub stage: StageInput,
    /// Where to insert it, from 0; at the end by default.
    pub position: Option<i32>,
}

/// Changes to a stage; absent fields stay, `null` clears the target duration.
#[derive(InputObject)]
pub struct UpdateStageInput {
    /// The stage to change; an archived stage is NOT_FOUND.
    pub id: ID,
    /// A new display name, 1 to 200 characters.
    pub name: Option<String>,
    /// A new owning team.
    pub owner_team: Option<OwnerTeam>,
    /// A new target in seconds (positive), or `null` for no target.
    pub target_duration_seconds: MaybeUndefined<i32>,
    /// The phase this stage sits under as a decision point: another active
    /// stage of the same model, not one of its own sub-stages; `null` makes
    /// it a top-level stage.
    pub parent_stage_id: MaybeUndefined<ID>,
    /// A continuous phase (like Babcock-Jenkins' Advocate) runs beside the
    /// sequence: its entry rules take an account in whatever its stage, the
    /// account stays in it, and its stage in the sequence moves on as before.
    pub continuous: Option<bool>,
    /// Replaces the entry kinds; every account's path is rebuilt under them.
    pub entry_kinds: Option<Vec<String>>,
    /// Replaces the entry channels; every account's path is rebuilt under them.
    pub entry_channels: Option<Vec<Channel>>,
    /// Replaces the playbook (at most 20 steps); `[]` removes it.
    pub playbook: Option<Vec<super::PlaybookStepInput>>,
}

/// A new order for a model's stages.
#[derive(InputObject)]
pub struct ReorderStagesInput {
    /// The model whose stages to reorder.
    pub model_id: ID,
    /// Every active stage of the model, once, in the new order.
    pub stage_ids: Vec<ID>,
}

/// The stage to remove.
#[derive(InputObject)]
pub struct RemoveStageInput {
    /// The stage's global id; the model must keep at least one other stage.
    pub id: ID,
}

/// A stage after a change, with its model.
#[derive(SimpleObject)]
pub struct StagePayload {
    /// The stage as saved.
    pub stage: Stage,
    /// The model it belongs to.
    pub journey_model: JourneyModel,
}

impl From<EditedStage> for StagePayload {
    fn from(edited: EditedStage) -> Self {
        Self {
            stage: Stage(edited.stage),
            journey_model: JourneyModel(edited.model),
        }
    }
}

impl UpdateStageInput {
    /// The changes for core, with the parent's global id decoded.
    fn changes(self) -> ApiResult<StageChanges> {
        let parent: Option<Option<ID>> = self.parent_stage_id.into();
        Ok(StageChanges {
            name: self.name,
            owner_team: self.owner_team.map(Into::into),
            target_duration_secs: Option::<Option<i32>>::from(self.target_duration_seconds)
                .map(|secs| secs.map(i64::from)),
            parent_stage_id: parent
                .map(|id| id.map(|id| ids::decode(&id, NodeType::Stage)).transpose())
                .transpose()?,
            continuous: self.continuous,
            entry_kinds: self.entry_kinds,
            entry_channels: self
                .entry_channels
                .map(|channels| channels.into_iter().map(Into::into).collect()),
            playbook: self
                .playbook
                .map(|steps| steps.into_iter().map(Into::into).collect()),
        })
    }
}

#[derive(Default)]
pub struct StageEditingMutation;

#[Object]
impl StageEditingMutation {
    /// Adds a stage to a model; every account's path is rebuilt in the
    /// background (see `JourneyModel.backfill`). Needs `admin`.
    async fn add_stage(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The model, the new stage and where to put it.")] input: AddStageInput,
    ) -> ApiResult<StagePayload> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Admin)?.workspace_id;
        let model = ids::decode(&input.model_id, NodeType::JourneyModel)?;
        let txn = db::begin_write(&rc.db).await?;
        let edited =
            editing::add_stage(&txn, ws, model, input.stage.into(), input.position).await?;
        db::commit(txn).await?;
        super::wake_backfill(ctx, &edited.model);
        Ok(edited.into())
    }

    /// Changes a stage's name, owner, target, parent phase or entry rules.
    /// When the entry rules (or `continuous`) change, every account's path is
    /// rebuilt from its touchpoints in the background, keeping manual moves
    /// (see `JourneyModel.backfill`). Needs `admin`.
    async fn update_stage(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The stage and the fields to change.")] input: UpdateStageInput,
    ) -> ApiResult<StagePayload> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Admin)?.workspace_id;
        let id = ids::decode(&input.id, NodeType::Stage)?;
        let changes = input.changes()?;
        let txn = db::begin_write(&rc.db).await?;
        let edited = editing::update_stage(&txn, ws, id, changes).await?;
        db::commit(txn).await?;
        super::wake_backfill(ctx, &edited.model);
        Ok(edited.into())
    }

    /// Puts a model's stages in a new order; every account's path is rebuilt
    /// in the background (see `JourneyModel.backfill`). Needs `admin`.
    async fn reorder_stages(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The model and its stages in the new order.")] input: ReorderStagesInput,
    ) -> ApiResult<JourneyModelPayload> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Admin)?.workspace_id;
        let model = ids::decode(&input.model_id, NodeType::JourneyModel)?;
        let order: Vec<Uuid> = input
            .stage_ids
            .iter()
            .map(|id| ids::decode(id, NodeType::Stage))
            .collect::<Result<_, _>>()?;
        let txn = db::begin_write(&rc.db).await?;
        let model = editing::reorder_stages(&txn, ws, model, &order).await?;
        db::commit(txn).await?;
        super::wake_backfill(ctx, &model);
        Ok(JourneyModelPayload {
            journey_model: JourneyModel(model),
        })
    }

    /// Removes a stage from a model. It is archived: accounts' past moves through
    /// it stay in their journeys, and accounts in it stay until they move on.
    /// Needs `admin`.
    async fn remove_stage(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The stage to remove.")] input: RemoveStageInput,
    ) -> ApiResult<StagePayload> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Admin)?.workspace_id;
        let id = ids::decode(&input.id, NodeType::Stage)?;
        let txn = db::begin_write(&rc.db).await?;
        let edited = editing::remove_stage(&txn, ws, id).await?;
        db::commit(txn).await?;
        Ok(edited.into())
    }
}
