//! The GraphQL face of journey models and their stages; the models, the
//! templates and their rules live in `journeys_core::journeys`.

pub mod editing;

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{journey_model, stage, vocab};
use journeys_core::journeys::backfill::{self, Backfills};
use journeys_core::journeys::models::{self, ModelSpec, NewModel, NewStage};
use journeys_core::journeys::playbooks::{self, PlaybookStep as CoreStep};
use journeys_core::{db, time};

use crate::auth::Scope;
use crate::graphql::connection::load_error;
use crate::graphql::context::request;
use crate::graphql::error::ApiResult;
use crate::graphql::ids::{self, NodeType};
use crate::graphql::loaders::StagesOf;
use crate::vocab::{Channel, JourneyTemplate, OwnerTeam};

/// Other modules find a workspace's model through here.
pub use journeys_core::journeys::models::find;

/// A journey model: the ordered stages an account moves through.
pub struct JourneyModel(pub journey_model::Model);

/// A journey model: the ordered stages an account moves through, built from a
/// template or custom. A workspace can run several side by side.
#[Object]
impl JourneyModel {
    /// Opaque global id; resolves with `node`.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::JourneyModel, self.0.id)
    }
    /// The model's name, 1 to 200 characters.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The template it was created from, or CUSTOM.
    async fn template(&self) -> JourneyTemplate {
        self.0.template.into()
    }
    /// A circular model loops back after its last stage.
    async fn circular(&self) -> bool {
        self.0.circular
    }
    /// The stage a circular model loops back to.
    async fn loop_to_stage_key(&self) -> Option<&str> {
        self.0.loop_to_stage_key.as_deref()
    }
    /// The workspace's default model.
    async fn is_default(&self) -> bool {
        self.0.is_default
    }
    /// When the model was created (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Whether every account's path follows the model's current rules: a
    /// model created on a workspace with history, or whose entry rules
    /// changed, rebuilds each account's path from its touchpoints in the
    /// background, and says how far it got.
    async fn backfill(&self) -> JourneyBackfill {
        let b = backfill::Backfill::of(&self.0, time::now());
        JourneyBackfill {
            state: b.state.into(),
            processed_accounts: b.processed,
            total_accounts: b.total,
        }
    }
    /// The stages, by position.
    async fn stages(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default,
            desc = "Also list removed (archived) stages, which accounts' history may still name."
        )]
        include_archived: bool,
    ) -> ApiResult<Vec<Stage>> {
        let rows = request(ctx)
            .loader
            .load_one(StagesOf(self.0.id))
            .await
            .map_err(load_error)?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .filter(|s| include_archived || s.archived_at.is_none())
            .map(Stage)
            .collect())
    }
}

/// Where the rebuild of a model's paths stands.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "journeys_core::journeys::backfill::BackfillState")]
pub enum BackfillState {
    /// Waiting for a server instance to take it.
    Pending,
    /// Paths are being rebuilt.
    Running,
    /// Every account's path follows the model's current rules.
    Done,
}

/// The rebuild of every account's path through a model from its touchpoints.
#[derive(SimpleObject)]
pub struct JourneyBackfill {
    pub state: BackfillState,
    /// Accounts whose path has been rebuilt so far.
    pub processed_accounts: u64,
    /// Accounts to rebuild: the workspace's, and those created meanwhile.
    pub total_accounts: u64,
}

/// Starts the rebuild an edit of `model` asked for, once its transaction has
/// committed.
pub fn wake_backfill(ctx: &Context<'_>, model: &journey_model::Model) {
    if model.backfill_pending
        && let Some(backfills) = ctx.data_opt::<Arc<Backfills>>()
    {
        backfills.wake();
    }
}

/// One stage of a journey model.
pub struct Stage(pub stage::Model);

/// One stage of a journey model, owned by one team, with the rules that move
/// accounts into it and the time they should take to move on.
#[Object]
impl Stage {
    /// Opaque global id; resolves with `node`.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Stage, self.0.id)
    }
    /// Unique within its model.
    async fn key(&self) -> &str {
        &self.0.key
    }
    /// The display name, 1 to 200 characters.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Its place in the model's order, from 0. An archived stage keeps the
    /// position it last had.
    async fn position(&self) -> i32 {
        self.0.position
    }
    /// The team that owns accounts in this stage.
    async fn owner_team(&self) -> OwnerTeam {
        self.0.owner_team.into()
    }
    /// How long an account should stay here before it counts as stalled.
    async fn target_duration_seconds(&self) -> Option<i32> {
        self.0
            .target_duration_secs
            .map(|s| i32::try_from(s).unwrap_or(i32::MAX))
    }
    /// A continuous phase (like Babcock-Jenkins' Advocate) runs beside the
    /// sequence: its entry rules take an account in whatever its stage, the
    /// account stays in it, and its stage in the sequence moves on as before.
    async fn continuous(&self) -> bool {
        self.0.continuous
    }
    /// The phase this decision point sits under.
    async fn parent_stage_id(&self) -> Option<ID> {
        self.0
            .parent_stage_id
            .map(|id| ids::encode(NodeType::Stage, id))
    }
    /// When the stage was removed; removed stages stay in accounts' history.
    async fn archived_at(&self) -> Option<DateTime<Utc>> {
        self.0.archived_at
    }
    /// Touchpoint kinds that move an account into this stage.
    async fn entry_kinds(&self) -> Vec<String> {
        serde_json::from_value(self.0.entry_kinds.clone()).unwrap_or_default()
    }
    /// Touchpoint channels that move an account into this stage.
    async fn entry_channels(&self) -> Vec<Channel> {
        let channels: Vec<vocab::Channel> =
            serde_json::from_value(self.0.entry_channels.clone()).unwrap_or_default();
        channels.into_iter().map(Into::into).collect()
    }
    /// What an account in this stage should get, in order; `Account.nextSteps`
    /// suggests the steps not yet done. Empty without a playbook.
    async fn playbook(&self) -> Vec<PlaybookStep> {
        playbooks::of(&self.0)
            .into_iter()
            .map(|step| PlaybookStep {
                text: step.text,
                owner_team: step.owner_team.into(),
                done_when: step.done_when,
            })
            .collect()
    }
}

/// One step of a stage's playbook.
#[derive(SimpleObject)]
pub struct PlaybookStep {
    /// What to do.
    text: String,
    /// The team that does it.
    owner_team: OwnerTeam,
    /// Touchpoint kinds that show the step was done: a touchpoint of one of
    /// them on the account after it entered the stage. With none, the step
    /// is suggested as long as the account is in the stage.
    done_when: Vec<String>,
}

/// One step of a stage's playbook.
#[derive(InputObject)]
pub struct PlaybookStepInput {
    /// What to do, 1 to 500 characters.
    pub text: String,
    /// The team that does it.
    pub owner_team: OwnerTeam,
    /// Touchpoint kinds that show the step was done (at most 10): a
    /// touchpoint of one of them on the account after it entered the stage.
    #[graphql(default)]
    pub done_when: Vec<String>,
}

impl From<PlaybookStepInput> for CoreStep {
    fn from(step: PlaybookStepInput) -> Self {
        Self {
            text: step.text,
            owner_team: step.owner_team.into(),
            done_when: step.done_when,
        }
    }
}

/// A stage of a CUSTOM model, or one to add to a model with `addStage`.
#[derive(InputObject)]
pub struct StageInput {
    /// Unique within the model: 1 to 64 of a-z, 0-9 and `_`.
    pub key: String,
    /// The display name, 1 to 200 characters.
    pub name: String,
    /// The team that owns accounts in this stage.
    pub owner_team: OwnerTeam,
    /// How long an account should stay, in seconds (positive), before it
    /// counts as stalled; no target when left out.
    pub target_duration_seconds: Option<i32>,
    /// A continuous phase (like Babcock-Jenkins' Advocate) runs beside the
    /// sequence: its entry rules take an account in whatever its stage, the
    /// account stays in it, and its stage in the sequence moves on as before.
    #[graphql(default)]
    pub continuous: bool,
    /// The key of the phase this stage sits under.
    pub parent_key: Option<String>,
    /// Touchpoint kinds that move an account into this stage.
    #[graphql(default)]
    pub entry_kinds: Vec<String>,
    /// Touchpoint channels that move an account into this stage.
    #[graphql(default)]
    pub entry_channels: Vec<Channel>,
    /// What an account in this stage should get, in order (at most 20 steps).
    #[graphql(default)]
    pub playbook: Vec<PlaybookStepInput>,
}

/// A new journey model.
#[derive(InputObject)]
pub struct CreateJourneyModelInput {
    /// Defaults to the template's name.
    pub name: Option<String>,
    /// A built-in template, or CUSTOM with `stages`.
    pub template: JourneyTemplate,
    /// Required for CUSTOM, refused otherwise.
    pub stages: Option<Vec<StageInput>>,
    /// CUSTOM only.
    #[graphql(default)]
    pub circular: bool,
    /// CUSTOM only: the stage key a circular model loops back to.
    pub loop_to_stage_key: Option<String>,
}

impl From<StageInput> for NewStage {
    fn from(s: StageInput) -> Self {
        Self {
            key: s.key,
            name: s.name,
            owner_team: s.owner_team.into(),
            target_duration_secs: s.target_duration_seconds.map(i64::from),
            continuous: s.continuous,
            parent_key: s.parent_key,
            entry_kinds: s.entry_kinds,
            entry_channels: s.entry_channels.into_iter().map(Into::into).collect(),
            playbook: s.playbook.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<CreateJourneyModelInput> for NewModel {
    fn from(input: CreateJourneyModelInput) -> Self {
        Self {
            name: input.name,
            template: input.template.into(),
            stages: input
                .stages
                .map(|stages| stages.into_iter().map(NewStage::from).collect()),
            circular: input.circular,
            loop_to_stage_key: input.loop_to_stage_key,
        }
    }
}

/// A journey model after a change.
#[derive(SimpleObject)]
pub struct JourneyModelPayload {
    /// The model, with its stages as they are now.
    pub journey_model: JourneyModel,
}

#[derive(Default)]
pub struct JourneyQuery;

#[Object]
impl JourneyQuery {
    /// The workspace's journey models, oldest first.
    async fn journey_models(&self, ctx: &Context<'_>) -> ApiResult<Vec<JourneyModel>> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Read)?.workspace_id;
        let rows = models::list(&rc.db, ws).await?;
        Ok(rows.into_iter().map(JourneyModel).collect())
    }

    /// One journey model; NOT_FOUND when it is not in the token's workspace.
    async fn journey_model(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The model's global id.")] id: ID,
    ) -> ApiResult<Option<JourneyModel>> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Read)?.workspace_id;
        let id = ids::decode(&id, NodeType::JourneyModel)?;
        Ok(Some(JourneyModel(models::find(&rc.db, ws, id).await?)))
    }
}

#[derive(Default)]
pub struct JourneyMutation;

#[Object]
impl JourneyMutation {
    /// Creates a journey model from a template, or CUSTOM with its own stages.
    /// On a workspace with history, every account's path through it is built
    /// from its touchpoints in the background (see `JourneyModel.backfill`).
    /// Needs the `admin` scope.
    async fn create_journey_model(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The template, or the custom stages, and a name.")]
        input: CreateJourneyModelInput,
    ) -> ApiResult<JourneyModelPayload> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Admin)?.workspace_id;
        let spec = ModelSpec::resolve(input.into())?;
        let txn = db::begin_write(&rc.db).await?;
        let model = models::create(&txn, ws, &spec, false).await?;
        db::commit(txn).await?;
        wake_backfill(ctx, &model);
        Ok(JourneyModelPayload {
            journey_model: JourneyModel(model),
        })
    }
}
