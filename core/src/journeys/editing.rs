//! Editing a model's stages after it was created, without losing history:
//! removed stages are archived, so the transitions through them remain.
//! Each edit checks everything before it writes anything.

use entity::vocab::{Channel, OwnerTeam};
use entity::{journey_model, stage};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use super::models::{self, NewStage, check_stages};
use super::playbooks::{self, PlaybookStep};
use super::{backfill, progression};
use crate::{CoreError, CoreResult, time};

/// A stage after a change, with the model it belongs to.
#[derive(Debug, Clone)]
pub struct EditedStage {
    pub stage: stage::Model,
    pub model: journey_model::Model,
}

/// Changes to a stage: `None` leaves a field as it is; for a nullable field,
/// `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct StageChanges {
    /// 1 to 200 characters once trimmed.
    pub name: Option<String>,
    pub owner_team: Option<OwnerTeam>,
    /// Positive seconds, or `Some(None)` for no target.
    pub target_duration_secs: Option<Option<i64>>,
    /// Another active stage of the same model, not under this one; `Some(None)`
    /// makes the stage top-level.
    pub parent_stage_id: Option<Option<Uuid>>,
    pub continuous: Option<bool>,
    /// Replace the entry rules; every path is rebuilt under the new ones.
    pub entry_kinds: Option<Vec<String>>,
    pub entry_channels: Option<Vec<Channel>>,
    /// Replace the playbook; an empty one removes it.
    pub playbook: Option<Vec<PlaybookStep>>,
}

/// The model's stages, archived ones included, by position.
async fn stages_of(db: &impl ConnectionTrait, model: Uuid) -> CoreResult<Vec<stage::Model>> {
    Ok(stage::Entity::find()
        .filter(stage::Column::ModelId.eq(model))
        .order_by_asc(stage::Column::Position)
        .order_by_asc(stage::Column::Id)
        .all(db)
        .await?)
}

/// The model's active stages, by position.
async fn active_stages(db: &impl ConnectionTrait, model: Uuid) -> CoreResult<Vec<stage::Model>> {
    let mut stages = stages_of(db, model).await?;
    stages.retain(|s| s.archived_at.is_none());
    Ok(stages)
}

/// Gives the active stages positions 0, 1, 2… in the given order.
async fn renumber(db: &impl ConnectionTrait, ordered: &[stage::Model]) -> CoreResult<()> {
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

/// Checks that `parent` can hold `stage`: an active stage of the same model
/// (`stages`) that is neither `stage` nor under it.
fn check_parent(stages: &[stage::Model], stage: Uuid, parent: Uuid) -> CoreResult<Uuid> {
    let find = |id: Uuid| stages.iter().find(|s| s.id == id);
    if find(parent).is_none_or(|p| p.archived_at.is_some()) {
        return Err(CoreError::invalid(
            "the parent must be an active stage of the same model",
        ));
    }
    // Up the parent chain, at most once per stage.
    let mut above = Some(parent);
    for _ in 0..=stages.len() {
        let Some(id) = above else { break };
        if id == stage {
            return Err(CoreError::invalid(
                "a stage cannot sit under itself or one of its own sub-stages",
            ));
        }
        above = find(id).and_then(|s| s.parent_stage_id);
    }
    Ok(parent)
}

/// Adds `new` to `model` of `ws` at `position` (at the end when `None`); its
/// key must be new to the model, archived stages included, so history never
/// names two stages alike.
pub async fn add_stage(
    db: &impl ConnectionTrait,
    ws: Uuid,
    model: Uuid,
    new: NewStage,
    position: Option<i32>,
) -> CoreResult<EditedStage> {
    let new = new.trimmed();
    // The parent is looked up among the model's stages below, not in `new` alone.
    check_stages(
        &[NewStage {
            parent_key: None,
            ..new.clone()
        }],
        None,
    )?;
    let model = models::find(db, ws, model).await?;
    let all = stages_of(db, model.id).await?;
    if all.iter().any(|s| s.key == new.key) {
        return Err(CoreError::conflict(format!(
            "the model already has a stage `{}`",
            new.key
        )));
    }
    let mut active: Vec<stage::Model> = all
        .into_iter()
        .filter(|s| s.archived_at.is_none())
        .collect();
    if active.len() >= 50 {
        return Err(CoreError::invalid("a journey model has at most 50 stages"));
    }
    let parent = match &new.parent_key {
        Some(key) => Some(
            active
                .iter()
                .find(|s| &s.key == key)
                .map(|s| s.id)
                .ok_or_else(|| CoreError::invalid(format!("unknown parent stage `{key}`")))?,
        ),
        None => None,
    };
    let at = match position {
        None => active.len(),
        Some(p) => usize::try_from(p)
            .ok()
            .filter(|p| *p <= active.len())
            .ok_or_else(|| {
                CoreError::invalid(format!("`position` must be 0 to {}", active.len()))
            })?,
    };
    let stage = models::stage_row(ws, model.id, &new, at, parent)
        .insert(db)
        .await?;
    active.insert(at, stage.clone());
    renumber(db, &active).await?;
    // Existing touchpoints may enter the new stage: every path is rebuilt.
    backfill::request(db, ws, model.id).await?;
    let model = models::find(db, ws, model.id).await?;
    Ok(EditedStage { stage, model })
}

/// Applies `changes` to the active stage `id` of `ws`. When its entry rules
/// (or whether it is continuous) change, every account's path is rebuilt from
/// its touchpoints in the background; manual moves are kept.
pub async fn update_stage(
    db: &impl ConnectionTrait,
    ws: Uuid,
    id: Uuid,
    changes: StageChanges,
) -> CoreResult<EditedStage> {
    let current = models::find_stage(db, ws, id).await?;
    let mut row: stage::ActiveModel = current.clone().into();
    if let Some(name) = changes.name {
        let name = name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(CoreError::invalid(
                "a stage name must be 1 to 200 characters",
            ));
        }
        row.name = Set(name);
    }
    if let Some(team) = changes.owner_team {
        row.owner_team = Set(team);
    }
    if let Some(secs) = changes.target_duration_secs {
        if secs.is_some_and(|s| s <= 0) {
            return Err(CoreError::invalid("a target duration must be positive"));
        }
        row.target_duration_secs = Set(secs);
    }
    if let Some(parent) = changes.parent_stage_id {
        let parent = match parent {
            Some(parent) => {
                let stages = stages_of(db, current.model_id).await?;
                Some(check_parent(&stages, current.id, parent)?)
            }
            None => None,
        };
        row.parent_stage_id = Set(parent);
    }
    if let Some(continuous) = changes.continuous {
        row.continuous = Set(continuous);
    }
    if let Some(kinds) = changes.entry_kinds {
        let kinds: Vec<String> = kinds
            .into_iter()
            .map(|k| k.trim().to_owned())
            .filter(|k| !k.is_empty())
            .collect();
        row.entry_kinds = Set(serde_json::json!(kinds));
    }
    if let Some(channels) = changes.entry_channels {
        row.entry_channels = Set(serde_json::json!(channels));
    }
    if let Some(steps) = changes.playbook {
        let steps = playbooks::trimmed(steps);
        playbooks::check(&steps)?;
        row.playbook = Set(playbooks::to_json(&steps));
    }
    let stage = row.update(db).await?;
    let rules_changed = stage.entry_kinds != current.entry_kinds
        || stage.entry_channels != current.entry_channels
        || stage.continuous != current.continuous;
    if rules_changed {
        backfill::request(db, ws, stage.model_id).await?;
    } else if stage.target_duration_secs != current.target_duration_secs {
        progression::refresh_due(db, &stage).await?;
    }
    let model = models::find(db, ws, stage.model_id).await?;
    Ok(EditedStage { stage, model })
}

/// Puts the stages of `model` of `ws` in `order`, which must list every active
/// stage once.
pub async fn reorder_stages(
    db: &impl ConnectionTrait,
    ws: Uuid,
    model: Uuid,
    order: &[Uuid],
) -> CoreResult<journey_model::Model> {
    let model = models::find(db, ws, model).await?;
    let mut active = active_stages(db, model.id).await?;
    let mut wanted = order.to_vec();
    wanted.sort();
    wanted.dedup();
    let mut have: Vec<Uuid> = active.iter().map(|s| s.id).collect();
    have.sort();
    if wanted.len() != order.len() || wanted != have {
        return Err(CoreError::invalid(
            "`stageIds` must list every active stage of the model once",
        ));
    }
    active.sort_by_key(|s| order.iter().position(|id| *id == s.id));
    renumber(db, &active).await?;
    // Forward now means another thing: every path is rebuilt.
    backfill::request(db, ws, model.id).await?;
    models::find(db, ws, model.id).await
}

/// Removes the active stage `id` of `ws` by archiving it: accounts' past moves
/// through it stay in their journeys, and accounts in it stay until they move
/// on. The model keeps at least one other stage.
pub async fn remove_stage(
    db: &impl ConnectionTrait,
    ws: Uuid,
    id: Uuid,
) -> CoreResult<EditedStage> {
    let stage = models::find_stage(db, ws, id).await?;
    let mut rest = active_stages(db, stage.model_id).await?;
    rest.retain(|s| s.id != stage.id);
    if rest.is_empty() {
        return Err(CoreError::invalid(
            "a journey model keeps at least one stage",
        ));
    }
    let archived = stage::ActiveModel {
        id: Set(stage.id),
        archived_at: Set(Some(time::now())),
        ..Default::default()
    }
    .update(db)
    .await?;
    renumber(db, &rest).await?;
    let model = models::find(db, ws, archived.model_id).await?;
    Ok(EditedStage {
        stage: archived,
        model,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(n: u128, parent: Option<u128>) -> stage::Model {
        stage::Model {
            id: Uuid::from_u128(n),
            workspace_id: Uuid::nil(),
            model_id: Uuid::nil(),
            parent_stage_id: parent.map(Uuid::from_u128),
            key: format!("s{n}"),
            name: format!("S{n}"),
            position: 0,
            owner_team: OwnerTeam::Sales,
            target_duration_secs: None,
            continuous: false,
            entry_kinds: serde_json::json!([]),
            entry_channels: serde_json::json!([]),
            playbook: serde_json::json!([]),
            archived_at: None,
        }
    }

    #[test]
    fn a_stage_never_sits_under_itself_or_its_own_sub_stages() {
        // 2 sits under 1, 3 under 2.
        let stages = [stage(1, None), stage(2, Some(1)), stage(3, Some(2))];
        let id = Uuid::from_u128;
        assert_eq!(check_parent(&stages, id(3), id(1)).unwrap(), id(1));
        for (child, parent) in [(1, 1), (1, 3), (2, 3)] {
            let err = check_parent(&stages, id(child), id(parent)).unwrap_err();
            assert_eq!(
                err.to_string(),
                "a stage cannot sit under itself or one of its own sub-stages"
            );
        }
    }

    #[test]
    fn a_parent_is_an_active_stage_of_the_model() {
        let mut archived = stage(2, None);
        archived.archived_at = Some(time::now());
        let stages = [stage(1, None), archived];
        let id = Uuid::from_u128;
        for parent in [2, 9] {
            let err = check_parent(&stages, id(1), id(parent)).unwrap_err();
            assert_eq!(
                err.to_string(),
                "the parent must be an active stage of the same model"
            );
        }
    }
}
