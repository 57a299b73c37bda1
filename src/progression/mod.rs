//! Stage progression: touchpoints move accounts through every journey model.
//!
//! An account's path in a model is a function of its touchpoints in time order
//! and of the manual moves made on it. A touchpoint that arrives in order is
//! applied on top of the current position; one older than the position's last
//! move (it arrived late) makes the whole path be replayed from the start, so
//! the result is the same as if everything had arrived in order.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::vocab::{Channel, TransitionCause};
use entity::{journey_model, stage, stage_position, stage_transition, touchpoint};
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use crate::graphql::error::ApiResult;

pub mod api;

/// Touchpoints that happened while their account was in `stage`: at or after a
/// move into it, and before the account's next move in that model.
pub fn during_stage(stage: Uuid) -> Expr {
    use stage_transition::Column as T;
    let (st, nx) = (Alias::new("st"), Alias::new("nx"));
    let tp_time = || Expr::col((touchpoint::Entity, touchpoint::Column::OccurredAt));
    let next_move = Query::select()
        .expr(Expr::val(1))
        .from_as(stage_transition::Entity, nx.clone())
        .and_where(Expr::col((nx.clone(), T::AccountId)).equals((st.clone(), T::AccountId)))
        .and_where(Expr::col((nx.clone(), T::ModelId)).equals((st.clone(), T::ModelId)))
        .and_where(Expr::col((nx.clone(), T::OccurredAt)).lte(tp_time()))
        .cond_where(
            Condition::any()
                .add(
                    Expr::col((nx.clone(), T::OccurredAt))
                        .gt(Expr::col((st.clone(), T::OccurredAt))),
                )
                .add(
                    Condition::all()
                        .add(
                            Expr::col((nx.clone(), T::OccurredAt))
                                .eq(Expr::col((st.clone(), T::OccurredAt))),
                        )
                        .add(Expr::col((nx, T::Id)).gt(Expr::col((st.clone(), T::Id)))),
                ),
        )
        .to_owned();
    let entered = Query::select()
        .expr(Expr::val(1))
        .from_as(stage_transition::Entity, st.clone())
        .and_where(
            Expr::col((st.clone(), T::AccountId))
                .equals((touchpoint::Entity, touchpoint::Column::AccountId)),
        )
        .and_where(Expr::col((st.clone(), T::ToStageId)).eq(stage))
        .and_where(Expr::col((st, T::OccurredAt)).lte(tp_time()))
        .and_where(Expr::exists(next_move).not())
        .to_owned();
    Expr::exists(entered)
}

/// A journey model with its stages and their entry rules, ready to match.
#[derive(Debug, Clone)]
pub struct ModelRules {
    pub model: journey_model::Model,
    /// By position.
    pub stages: Vec<StageRule>,
}

#[derive(Debug, Clone)]
pub struct StageRule {
    pub stage: stage::Model,
    pub kinds: Vec<String>,
    pub channels: Vec<Channel>,
}

impl StageRule {
    fn matches(&self, kind: &str, channel: Channel) -> bool {
        self.kinds.iter().any(|k| k == kind) || self.channels.contains(&channel)
    }
}

impl ModelRules {
    fn position_of(&self, stage: Uuid) -> Option<usize> {
        self.stages.iter().position(|s| s.stage.id == stage)
    }

    /// Whether any stage of the model reacts to this touchpoint.
    pub fn reacts_to(&self, kind: &str, channel: Channel) -> bool {
        self.stages.iter().any(|s| s.matches(kind, channel))
    }

    /// The stage a touchpoint moves an account to from `current`, if any:
    /// the furthest matching stage ahead; in a circular model, the loop stage
    /// when the account is past it.
    pub fn next(&self, current: Option<Uuid>, kind: &str, channel: Channel) -> Option<Uuid> {
        let current_pos = current.and_then(|c| self.position_of(c));
        let furthest = self
            .stages
            .iter()
            .enumerate()
            .filter(|(_, s)| s.matches(kind, channel))
            .map(|(i, _)| i)
            .max()?;
        match current_pos {
            None => Some(self.stages[furthest].stage.id),
            Some(pos) if furthest > pos => Some(self.stages[furthest].stage.id),
            Some(pos) if self.model.circular => {
                let loop_key = self.model.loop_to_stage_key.as_deref()?;
                let (loop_pos, loop_stage) = self
                    .stages
                    .iter()
                    .enumerate()
                    .find(|(_, s)| s.stage.key == loop_key)?;
                (loop_pos < pos && loop_stage.matches(kind, channel)).then_some(loop_stage.stage.id)
            }
            Some(_) => None,
        }
    }
}

/// The workspace's models with their rules.
pub async fn load_rules(db: &impl ConnectionTrait, ws: Uuid) -> ApiResult<Vec<ModelRules>> {
    let models = journey_model::Entity::find()
        .filter(journey_model::Column::WorkspaceId.eq(ws))
        .order_by_asc(journey_model::Column::Id)
        .all(db)
        .await?;
    let stages = stage::Entity::find()
        .filter(stage::Column::WorkspaceId.eq(ws))
        .filter(stage::Column::ArchivedAt.is_null())
        .order_by_asc(stage::Column::Position)
        .order_by_asc(stage::Column::Id)
        .all(db)
        .await?;
    let mut by_model: HashMap<Uuid, Vec<StageRule>> = HashMap::new();
    for s in stages {
        let kinds = serde_json::from_value(s.entry_kinds.clone()).unwrap_or_default();
        let channels = serde_json::from_value(s.entry_channels.clone()).unwrap_or_default();
        by_model.entry(s.model_id).or_default().push(StageRule {
            stage: s,
            kinds,
            channels,
        });
    }
    Ok(models
        .into_iter()
        .map(|model| {
            let stages = by_model.remove(&model.id).unwrap_or_default();
            ModelRules { model, stages }
        })
        .collect())
}

async fn position(
    db: &impl ConnectionTrait,
    account: Uuid,
    model: Uuid,
) -> ApiResult<Option<stage_position::Model>> {
    Ok(stage_position::Entity::find()
        .filter(stage_position::Column::AccountId.eq(account))
        .filter(stage_position::Column::ModelId.eq(model))
        .one(db)
        .await?)
}

/// Records a move and sets the account's position to its target.
pub async fn move_to(
    db: &impl ConnectionTrait,
    ws: Uuid,
    account: Uuid,
    model: Uuid,
    to: Uuid,
    at: DateTime<Utc>,
    cause: Cause,
) -> ApiResult<stage_transition::Model> {
    let current = position(db, account, model).await?;
    let (cause, touchpoint_id, actor, reason) = match cause {
        Cause::Touchpoint(id) => (TransitionCause::Touchpoint, Some(id), None, None),
        Cause::Manual { actor, reason } => {
            (TransitionCause::Manual, None, Some(actor), Some(reason))
        }
    };
    let transition = stage_transition::ActiveModel {
        id: Set(entity::new_id()),
        workspace_id: Set(ws),
        account_id: Set(account),
        model_id: Set(model),
        from_stage_id: Set(current.as_ref().map(|p| p.stage_id)),
        to_stage_id: Set(to),
        occurred_at: Set(at),
        cause: Set(cause),
        touchpoint_id: Set(touchpoint_id),
        actor: Set(actor),
        reason: Set(reason),
    }
    .insert(db)
    .await?;
    set_position(db, ws, account, model, current, Some((to, at))).await?;
    Ok(transition)
}

async fn set_position(
    db: &impl ConnectionTrait,
    ws: Uuid,
    account: Uuid,
    model: Uuid,
    current: Option<stage_position::Model>,
    target: Option<(Uuid, DateTime<Utc>)>,
) -> ApiResult<()> {
    match (current, target) {
        (Some(p), Some((stage, at))) => {
            let mut active: stage_position::ActiveModel = p.into();
            active.stage_id = Set(stage);
            active.entered_at = Set(at);
            active.update(db).await?;
        }
        (None, Some((stage, at))) => {
            stage_position::ActiveModel {
                id: Set(entity::new_id()),
                workspace_id: Set(ws),
                account_id: Set(account),
                model_id: Set(model),
                stage_id: Set(stage),
                entered_at: Set(at),
            }
            .insert(db)
            .await?;
        }
        (Some(p), None) => {
            stage_position::Entity::delete_by_id(p.id).exec(db).await?;
        }
        (None, None) => {}
    }
    Ok(())
}

/// Why an account moved.
pub enum Cause {
    Touchpoint(Uuid),
    Manual { actor: String, reason: String },
}

/// Applies a newly recorded touchpoint of an account to every model.
pub async fn apply(
    db: &impl ConnectionTrait,
    rules: &[ModelRules],
    tp: &touchpoint::Model,
) -> ApiResult<()> {
    let Some(account) = tp.account_id else {
        return Ok(());
    };
    for model in rules.iter().filter(|m| m.reacts_to(&tp.kind, tp.channel)) {
        let current = position(db, account, model.model.id).await?;
        match current {
            Some(p) if tp.occurred_at < p.entered_at => replay(db, model, account).await?,
            current => {
                if let Some(to) = model.next(current.map(|p| p.stage_id), &tp.kind, tp.channel) {
                    let ws = tp.workspace_id;
                    move_to(
                        db,
                        ws,
                        account,
                        model.model.id,
                        to,
                        tp.occurred_at,
                        Cause::Touchpoint(tp.id),
                    )
                    .await?;
                }
            }
        }
    }
    Ok(())
}

/// Rebuilds an account's path through every model from its touchpoints and
/// manual moves, e.g. after a touchpoint changed or left the account.
pub async fn replay_all(
    db: &impl ConnectionTrait,
    rules: &[ModelRules],
    account: Uuid,
) -> ApiResult<()> {
    for model in rules {
        replay(db, model, account).await?;
    }
    Ok(())
}

/// Rebuilds an account's path through one model, in time order.
pub async fn replay(db: &impl ConnectionTrait, rules: &ModelRules, account: Uuid) -> ApiResult<()> {
    let model = rules.model.id;
    let ws = rules.model.workspace_id;
    stage_transition::Entity::delete_many()
        .filter(stage_transition::Column::AccountId.eq(account))
        .filter(stage_transition::Column::ModelId.eq(model))
        .filter(stage_transition::Column::Cause.eq(TransitionCause::Touchpoint))
        .exec(db)
        .await?;
    let manual = stage_transition::Entity::find()
        .filter(stage_transition::Column::AccountId.eq(account))
        .filter(stage_transition::Column::ModelId.eq(model))
        .order_by_asc(stage_transition::Column::OccurredAt)
        .order_by_asc(stage_transition::Column::Id)
        .all(db)
        .await?;
    let kinds: Vec<String> = rules.stages.iter().flat_map(|s| s.kinds.clone()).collect();
    let channels: Vec<Channel> = rules
        .stages
        .iter()
        .flat_map(|s| s.channels.clone())
        .collect();
    let touchpoints = touchpoint::Entity::find()
        .filter(touchpoint::Column::WorkspaceId.eq(ws))
        .filter(touchpoint::Column::AccountId.eq(account))
        .filter(
            Condition::any()
                .add(touchpoint::Column::Kind.is_in(kinds))
                .add(touchpoint::Column::Channel.is_in(channels)),
        )
        .order_by_asc(touchpoint::Column::OccurredAt)
        .order_by_asc(touchpoint::Column::Id)
        .all(db)
        .await?;

    // Merge the two time-ordered streams; a touchpoint comes before a manual
    // move made at the same instant.
    let mut current: Option<(Uuid, DateTime<Utc>)> = None;
    let mut new_transitions = Vec::new();
    let mut manual = manual.into_iter().peekable();
    let mut touchpoints = touchpoints.into_iter().peekable();
    loop {
        let take_manual = match (manual.peek(), touchpoints.peek()) {
            (Some(m), Some(t)) => m.occurred_at < t.occurred_at,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        if take_manual {
            let Some(m) = manual.next() else { break };
            let from = current.map(|(stage, _)| stage);
            if m.from_stage_id != from {
                let mut active: stage_transition::ActiveModel = m.clone().into();
                active.from_stage_id = Set(from);
                active.update(db).await?;
            }
            current = Some((m.to_stage_id, m.occurred_at));
        } else {
            let Some(t) = touchpoints.next() else { break };
            if let Some(to) = rules.next(current.map(|(s, _)| s), &t.kind, t.channel) {
                new_transitions.push(stage_transition::ActiveModel {
                    id: Set(entity::new_id()),
                    workspace_id: Set(ws),
                    account_id: Set(account),
                    model_id: Set(model),
                    from_stage_id: Set(current.map(|(s, _)| s)),
                    to_stage_id: Set(to),
                    occurred_at: Set(t.occurred_at),
                    cause: Set(TransitionCause::Touchpoint),
                    touchpoint_id: Set(Some(t.id)),
                    actor: Set(None),
                    reason: Set(None),
                });
                current = Some((to, t.occurred_at));
            }
        }
    }
    if !new_transitions.is_empty() {
        stage_transition::Entity::insert_many(new_transitions)
            .exec(db)
            .await?;
    }
    let existing = position(db, account, model).await?;
    set_position(db, ws, account, model, existing, current).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use entity::vocab::{JourneyTemplate, OwnerTeam};

    fn rules(circular: bool, stages: &[(&str, &[&str])]) -> ModelRules {
        let model_id = Uuid::now_v7();
        ModelRules {
            model: journey_model::Model {
                id: model_id,
                workspace_id: Uuid::nil(),
                name: "m".into(),
                template: JourneyTemplate::Custom,
                circular,
                loop_to_stage_key: circular.then(|| "b".into()),
                is_default: false,
                created_at: Utc::now(),
            },
            stages: stages
                .iter()
                .enumerate()
                .map(|(i, (key, kinds))| StageRule {
                    stage: stage::Model {
                        id: Uuid::now_v7(),
                        workspace_id: Uuid::nil(),
                        model_id,
                        parent_stage_id: None,
                        key: (*key).into(),
                        name: (*key).into(),
                        position: i as i32,
                        owner_team: OwnerTeam::Sales,
                        target_duration_secs: None,
                        continuous: false,
                        entry_kinds: serde_json::json!(kinds),
                        entry_channels: serde_json::json!([]),
                        archived_at: None,
                    },
                    kinds: kinds.iter().map(|k| (*k).to_owned()).collect(),
                    channels: vec![],
                })
                .collect(),
        }
    }

    #[test]
    fn linear_models_only_move_forward() {
        let r = rules(false, &[("a", &["x"]), ("b", &["y"]), ("c", &["z"])]);
        let [a, b, c] = [0, 1, 2].map(|i| r.stages[i].stage.id);
        assert_eq!(r.next(None, "y", Channel::Other), Some(b));
        assert_eq!(r.next(Some(b), "x", Channel::Other), None);
        assert_eq!(r.next(Some(a), "z", Channel::Other), Some(c));
        assert_eq!(r.next(Some(c), "nothing", Channel::Other), None);
    }

    #[test]
    fn circular_models_loop_back_to_their_loop_stage() {
        let r = rules(true, &[("a", &["x"]), ("b", &["y"]), ("c", &["z"])]);
        let [_, b, c] = [0, 1, 2].map(|i| r.stages[i].stage.id);
        assert_eq!(r.next(Some(c), "y", Channel::Other), Some(b));
        assert_eq!(r.next(Some(c), "x", Channel::Other), None);
    }
}
