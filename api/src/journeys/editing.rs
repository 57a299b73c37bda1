//! Editing a model's stages after it was created, without losing history:
//! removed stages are archived, so the transitions through them remain.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use entity::{journey_model, stage};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use super::{JourneyModel, Stage, StageInput, StageSpec, check_stages, find};
use crate::auth::Scope;
use crate::graphql::context::request;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::ids::{self, NodeType};
use crate::graphql::patch::patch;
use crate::vocab::{Channel, OwnerTeam};
use journeys_core::{db, time};

/// The model's stages, archived ones included, by position.
async fn stages_of(db: &impl ConnectionTrait, model: Uuid) -> ApiResult<Vec<stage::Model>> {
    Ok(stage::Entity::find()
        .filter(stage::Column::ModelId.eq(model))
        .order_by_asc(stage::Column::Position)
        .order_by_asc(stage::Column::Id)
        .all(db)
        .await?)
}

/// Gives the active stages positions 0, 1, 2… in the given order.
async fn renumber(db: &impl ConnectionTrait, ordered: &[stage::Model]) -> ApiResult<()> {
    for (position, s) in ordered.iter().enumerate() {
        let position = i32::try_from(position).unwrap_or(i32::MAX);
        if s.position != position {
            stage::ActiveModel {
                id: Set(s.id),
                position: Set(position),
                ..Default::default()
            }
            .update(db)
            .await?;
        }
    }
    Ok(())
}

async fn find_stage(db: &impl ConnectionTrait, ws: Uuid, id: &ID) -> ApiResult<stage::Model> {
    let id = ids::decode(id, NodeType::Stage)?;
    stage::Entity::find_by_id(id)
        .filter(stage::Column::WorkspaceId.eq(ws))
        .filter(stage::Column::ArchivedAt.is_null())
        .one(db)
        .await?
        .ok_or(ApiError::not_found("stage"))
}

/// Checks that `parent` can hold `stage`: an active stage of the same model
/// (`stages`) that is neither `stage` nor under it.
fn check_parent(stages: &[stage::Model], stage: Uuid, parent: Uuid) -> ApiResult<Uuid> {
    let find = |id: Uuid| stages.iter().find(|s| s.id == id);
    if find(parent).is_none_or(|p| p.archived_at.is_some()) {
        return Err(ApiError::bad_input(
            "the parent must be an active stage of the same model",
        ));
    }
    // Up the parent chain, at most once per stage.
    let mut above = Some(parent);
    for _ in 0..=stages.len() {
        let Some(id) = above else { break };
        if id == stage {
            return Err(ApiError::bad_input(
                "a stage cannot sit under itself or one of its own sub-stages",
            ));
        }
        above = find(id).and_then(|s| s.parent_stage_id);
    }
    Ok(parent)
}

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
    /// sequence: its entry rules take an account in from any stage, and a
    /// touchpoint for a stage beyond the furthest one reached takes it on.
    pub continuous: Option<bool>,
    /// Replaces the entry kinds; later touchpoints follow the new rules.
    pub entry_kinds: Option<Vec<String>>,
    /// Replaces the entry channels; later touchpoints follow the new rules.
    pub entry_channels: Option<Vec<Channel>>,
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

async fn payload(db: &impl ConnectionTrait, stage: stage::Model) -> ApiResult<StagePayload> {
    let model = journey_model::Entity::find_by_id(stage.model_id)
        .one(db)
        .await?
        .ok_or(ApiError::not_found("journey model"))?;
    Ok(StagePayload {
        stage: Stage(stage),
        journey_model: JourneyModel(model),
    })
}

#[derive(Default)]
pub struct StageEditingMutation;

#[Object]
impl StageEditingMutation {
    /// Adds a stage to a model. Needs `admin`.
    async fn add_stage(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The model, the new stage and where to put it.")] input: AddStageInput,
    ) -> ApiResult<StagePayload> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Admin)?.workspace_id;
        let model = ids::decode(&input.model_id, NodeType::JourneyModel)?;
        let spec = StageSpec::from(input.stage);
        let parent_key = spec.parent_key.clone();
        check_stages(
            &[StageSpec {
                parent_key: None,
                ..spec.clone()
            }],
            None,
        )?;
        let txn = db::begin_write(&rc.db).await.map_err(ApiError::from)?;
        let model = find(&txn, ws, model).await?;
        let all = stages_of(&txn, model.id).await?;
        if all.iter().any(|s| s.key == spec.key) {
            return Err(ApiError::Conflict(format!(
                "the model already has a stage `{}`",
                spec.key
            )));
        }
        let mut active: Vec<stage::Model> = all
            .into_iter()
            .filter(|s| s.archived_at.is_none())
            .collect();
        if active.len() >= 50 {
            return Err(ApiError::bad_input("a journey model has at most 50 stages"));
        }
        let parent = match parent_key {
            Some(key) => Some(
                active
                    .iter()
                    .find(|s| s.key == key)
                    .map(|s| s.id)
                    .ok_or_else(|| ApiError::bad_input(format!("unknown parent stage `{key}`")))?,
            ),
            None => None,
        };
        let at = match input.position {
            None => active.len(),
            Some(p) => usize::try_from(p)
                .ok()
                .filter(|p| *p <= active.len())
                .ok_or_else(|| {
                    ApiError::bad_input(format!("`position` must be 0 to {}", active.len()))
                })?,
        };
        let new = stage::ActiveModel {
            id: Set(entity::new_id()),
            workspace_id: Set(ws),
            model_id: Set(model.id),
            parent_stage_id: Set(parent),
            key: Set(spec.key.clone()),
            name: Set(spec.name.trim().to_owned()),
            position: Set(i32::try_from(at).unwrap_or(i32::MAX)),
            owner_team: Set(spec.owner_team),
            target_duration_secs: Set(spec.target_duration_secs),
            continuous: Set(spec.continuous),
            entry_kinds: Set(serde_json::json!(spec.entry_kinds)),
            entry_channels: Set(serde_json::json!(spec.entry_channels)),
            archived_at: Set(None),
        }
        .insert(&txn)
        .await
        .map_err(ApiError::from)?;
        active.insert(at, new.clone());
        renumber(&txn, &active).await?;
        let stage = stage::Entity::find_by_id(new.id)
            .one(&txn)
            .await
            .map_err(ApiError::from)?
            .unwrap_or(new);
        let out = payload(&txn, stage).await?;
        txn.commit().await.map_err(ApiError::from)?;
        Ok(out)
    }

    /// Changes a stage's name, owner, target, parent phase or entry rules.
    /// Accounts keep the moves they made; later touchpoints follow the new
    /// rules. Needs `admin`.
    async fn update_stage(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The stage and the fields to change.")] input: UpdateStageInput,
    ) -> ApiResult<StagePayload> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Admin)?.workspace_id;
        let txn = db::begin_write(&rc.db).await.map_err(ApiError::from)?;
        let current = find_stage(&txn, ws, &input.id).await?;
        let mut active: stage::ActiveModel = current.clone().into();
        if let Some(name) = input.name {
            let name = name.trim().to_owned();
            if name.is_empty() || name.chars().count() > 200 {
                return Err(ApiError::bad_input(
                    "a stage name must be 1 to 200 characters",
                ));
            }
            active.name = Set(name);
        }
        if let Some(team) = input.owner_team {
            active.owner_team = Set(team.into());
        }
        patch(
            &mut active.target_duration_secs,
            input.target_duration_seconds,
            |secs| match secs {
                ..=0 => Err(ApiError::bad_input("a target duration must be positive")),
                secs => Ok(Some(i64::from(secs))),
            },
        )?;
        if !input.parent_stage_id.is_undefined() {
            let stages = stages_of(&txn, current.model_id).await?;
            patch(&mut active.parent_stage_id, input.parent_stage_id, |id| {
                let parent = ids::decode(&id, NodeType::Stage)?;
                check_parent(&stages, current.id, parent).map(Some)
            })?;
        }
        if let Some(continuous) = input.continuous {
            active.continuous = Set(continuous);
        }
        if let Some(kinds) = input.entry_kinds {
            let kinds: Vec<String> = kinds
                .into_iter()
                .map(|k| k.trim().to_owned())
                .filter(|k| !k.is_empty())
                .collect();
            active.entry_kinds = Set(serde_json::json!(kinds));
        }
        if let Some(channels) = input.entry_channels {
            let channels: Vec<entity::vocab::Channel> =
                channels.into_iter().map(Into::into).collect();
            active.entry_channels = Set(serde_json::json!(channels));
        }
        let updated = active.update(&txn).await.map_err(ApiError::from)?;
        let out = payload(&txn, updated).await?;
        txn.commit().await.map_err(ApiError::from)?;
        Ok(out)
    }

    /// Puts a model's stages in a new order. Needs `admin`.
    async fn reorder_stages(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The model and its stages in the new order.")] input: ReorderStagesInput,
    ) -> ApiResult<super::JourneyModelPayload> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Admin)?.workspace_id;
        let model = ids::decode(&input.model_id, NodeType::JourneyModel)?;
        let order: Vec<Uuid> = input
            .stage_ids
            .iter()
            .map(|id| ids::decode(id, NodeType::Stage))
            .collect::<ApiResult<_>>()?;
        let txn = db::begin_write(&rc.db).await.map_err(ApiError::from)?;
        let model = find(&txn, ws, model).await?;
        let mut active: Vec<stage::Model> = stages_of(&txn, model.id)
            .await?
            .into_iter()
            .filter(|s| s.archived_at.is_none())
            .collect();
        let mut wanted = order.clone();
        wanted.sort();
        wanted.dedup();
        let mut have: Vec<Uuid> = active.iter().map(|s| s.id).collect();
        have.sort();
        if wanted.len() != order.len() || wanted != have {
            return Err(ApiError::bad_input(
                "`stageIds` must list every active stage of the model once",
            ));
        }
        active.sort_by_key(|s| order.iter().position(|id| *id == s.id));
        renumber(&txn, &active).await?;
        txn.commit().await.map_err(ApiError::from)?;
        Ok(super::JourneyModelPayload {
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
        let txn = db::begin_write(&rc.db).await.map_err(ApiError::from)?;
        let stage = find_stage(&txn, ws, &input.id).await?;
        let active: Vec<stage::Model> = stages_of(&txn, stage.model_id)
            .await?
            .into_iter()
            .filter(|s| s.archived_at.is_none() && s.id != stage.id)
            .collect();
        if active.is_empty() {
            return Err(ApiError::bad_input(
                "a journey model keeps at least one stage",
            ));
        }
        let archived = stage::ActiveModel {
            id: Set(stage.id),
            archived_at: Set(Some(time::now())),
            ..Default::default()
        }
        .update(&txn)
        .await
        .map_err(ApiError::from)?;
        renumber(&txn, &active).await?;
        let out = payload(&txn, archived).await?;
        txn.commit().await.map_err(ApiError::from)?;
        Ok(out)
    }
}
