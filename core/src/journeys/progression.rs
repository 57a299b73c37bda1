//! Stage progression: touchpoints move accounts through every journey model.
//!
//! An account's path in a model is a function of its touchpoints in time order
//! and of the manual moves made on it. A touchpoint that arrives in order is
//! applied on top of the current position; one older than the position's last
//! move (it arrived late), or in a model where order matters (circular, or with
//! a continuous phase) older than any of the account's touchpoints, makes the
//! path be replayed from its time on, so the result is the same as if
//! everything had arrived in order. Moves before that time are kept as they
//! are, so history through stages removed since is never rewritten.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::vocab::{Channel, TransitionCause};
use entity::{account, journey_model, stage, stage_position, stage_transition, touchpoint};
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::{CoreError, CoreResult, time};

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
    /// The active stages, by position.
    pub stages: Vec<StageRule>,
    /// Removed stages: accounts may still be in them, and touchpoints from
    /// before a stage's removal still enter it, so replays keep history.
    pub archived: Vec<StageRule>,
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

/// Where an account stands in a model, as automatic moves see it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Standing {
    /// The stage it is in.
    pub current: Option<Uuid>,
    /// The furthest point of the model's sequence it has reached: its current
    /// stage, or while it is in a continuous phase, the stage it was in before.
    pub reached: Option<Uuid>,
}

impl ModelRules {
    /// A stage's place in the sequence, comparable across active and removed
    /// stages: active stage `i` ranks `2i + 1`; a removed stage ranks between
    /// the active stages that were on either side of it when it was removed.
    fn rank(&self, stage: Uuid) -> Option<i64> {
        if let Some(i) = self.stages.iter().position(|s| s.stage.id == stage) {
            return Some(2 * i as i64 + 1);
        }
        let removed = self.archived.iter().find(|s| s.stage.id == stage)?;
        Some(2 * i64::from(removed.stage.position))
    }

    fn is_continuous(&self, stage: Uuid) -> bool {
        self.stages
            .iter()
            .chain(&self.archived)
            .any(|s| s.stage.id == stage && s.stage.continuous)
    }

    /// The stages a touchpoint of time `at` can enter, with their ranks: the
    /// active ones, and removed ones that still existed then.
    fn open_at(&self, at: DateTime<Utc>) -> impl Iterator<Item = (i64, &StageRule)> {
        let active = (self.stages.iter().enumerate()).map(|(i, s)| (2 * i as i64 + 1, s));
        let removed = self
            .archived
            .iter()
            .filter(move |s| s.stage.archived_at.is_some_and(|gone| at < gone))
            .map(|s| (2 * i64::from(s.stage.position), s));
        active.chain(removed)
    }

    /// Whether any stage of the model, removed ones included, reacts to this
    /// touchpoint.
    pub fn reacts_to(&self, kind: &str, channel: Channel) -> bool {
        (self.stages.iter().chain(&self.archived)).any(|s| s.matches(kind, channel))
    }

    /// Whether a touchpoint arriving after later ones can change the path even
    /// when the account has not moved since it happened: in a circular model or
    /// one with a continuous phase, where the account went depends on order.
    fn order_sensitive(&self) -> bool {
        self.model.circular || self.stages.iter().any(|s| s.stage.continuous)
    }

    /// The standing after moving to `to`.
    fn standing_after(&self, before: Standing, to: Uuid) -> Standing {
        Standing {
            current: Some(to),
            reached: if self.is_continuous(to) {
                before.reached
            } else {
                Some(to)
            },
        }
    }

    /// The stage a touchpoint of time `at` moves an account to, if any: the
    /// furthest matching stage of the sequence ahead of where it has reached;
    /// in a circular model, the loop stage when the account is past it;
    /// otherwise a matching continuous phase it is not in yet.
    pub fn next(
        &self,
        standing: Standing,
        kind: &str,
        channel: Channel,
        at: DateTime<Utc>,
    ) -> Option<Uuid> {
        let reached = standing.reached.and_then(|s| self.rank(s));
        let furthest = self
            .open_at(at)
            .filter(|(_, s)| !s.stage.continuous && s.matches(kind, channel))
            .map(|(rank, s)| (rank, s.stage.id))
            .max();
        if let Some((rank, stage)) = furthest
            && reached.is_none_or(|r| rank > r)
        {
            return Some(stage);
        }
        if self.model.circular
            && let (Some(loop_key), Some(reached)) =
                (self.model.loop_to_stage_key.as_deref(), reached)
            && let Some((i, looped)) = self
                .stages
                .iter()
                .enumerate()
                .find(|(_, s)| s.stage.key == loop_key)
            && (2 * i as i64 + 1) < reached
            && looped.matches(kind, channel)
        {
            return Some(looped.stage.id);
        }
        self.open_at(at)
            .find(|(_, s)| s.stage.continuous && s.matches(kind, channel))
            .map(|(_, s)| s.stage.id)
            .filter(|phase| standing.current != Some(*phase))
    }
}

/// The workspace's models with their rules.
pub async fn load_rules(db: &impl ConnectionTrait, ws: Uuid) -> CoreResult<Vec<ModelRules>> {
    let models = journey_model::Entity::find()
        .filter(journey_model::Column::WorkspaceId.eq(ws))
        .order_by_asc(journey_model::Column::Id)
        .all(db)
        .await?;
    let stages = stage::Entity::find()
        .filter(stage::Column::WorkspaceId.eq(ws))
        .order_by_asc(stage::Column::Position)
        .order_by_asc(stage::Column::Id)
        .all(db)
        .await?;
    let mut by_model: HashMap<Uuid, ModelStages> = HashMap::new();
    for s in stages {
        let of_model = by_model.entry(s.model_id).or_default();
        let list = if s.archived_at.is_some() {
            &mut of_model.archived
        } else {
            &mut of_model.active
        };
        let kinds = serde_json::from_value(s.entry_kinds.clone()).unwrap_or_default();
        let channels = serde_json::from_value(s.entry_channels.clone()).unwrap_or_default();
        list.push(StageRule {
            stage: s,
            kinds,
            channels,
        });
    }
    Ok(models
        .into_iter()
        .map(|model| {
            let stages = by_model.remove(&model.id).unwrap_or_default();
            ModelRules {
                model,
                stages: stages.active,
                archived: stages.archived,
            }
        })
        .collect())
}

#[derive(Default)]
struct ModelStages {
    active: Vec<StageRule>,
    archived: Vec<StageRule>,
}

async fn position(
    db: &impl ConnectionTrait,
    account: Uuid,
    model: Uuid,
) -> CoreResult<Option<stage_position::Model>> {
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
) -> CoreResult<stage_transition::Model> {
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
) -> CoreResult<()> {
    match (current, target) {
        (Some(p), Some((stage, at))) => {
            if p.stage_id != stage || p.entered_at != at {
                let mut active: stage_position::ActiveModel = p.into();
                active.stage_id = Set(stage);
                active.entered_at = Set(at);
                active.update(db).await?;
            }
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

/// The account's standing in a model from its position and, while it is in a
/// continuous phase, its last move into the sequence.
async fn standing(
    db: &impl ConnectionTrait,
    rules: &ModelRules,
    account: Uuid,
    current: Option<&stage_position::Model>,
) -> CoreResult<Standing> {
    let Some(current) = current.map(|p| p.stage_id) else {
        return Ok(Standing::default());
    };
    if !rules.is_continuous(current) {
        return Ok(Standing {
            current: Some(current),
            reached: Some(current),
        });
    }
    let moves = stage_transition::Entity::find()
        .filter(stage_transition::Column::AccountId.eq(account))
        .filter(stage_transition::Column::ModelId.eq(rules.model.id))
        .order_by_desc(stage_transition::Column::OccurredAt)
        .order_by_desc(stage_transition::Column::Id)
        .all(db)
        .await?;
    Ok(Standing {
        current: Some(current),
        reached: moves
            .iter()
            .map(|t| t.to_stage_id)
            .find(|s| !rules.is_continuous(*s)),
    })
}

/// Applies a newly recorded touchpoint of an account to every model.
pub async fn apply(
    db: &impl ConnectionTrait,
    rules: &[ModelRules],
    tp: &touchpoint::Model,
) -> CoreResult<()> {
    let Some(account) = tp.account_id else {
        return Ok(());
    };
    for model in rules.iter().filter(|m| m.reacts_to(&tp.kind, tp.channel)) {
        let current = position(db, account, model.model.id).await?;
        let late = match &current {
            Some(p) if tp.occurred_at < p.entered_at => true,
            _ => model.order_sensitive() && has_later(db, model, account, tp).await?,
        };
        if late {
            replay(db, model, account, tp.occurred_at).await?;
            continue;
        }
        let standing = standing(db, model, account, current.as_ref()).await?;
        if let Some(to) = model.next(standing, &tp.kind, tp.channel, tp.occurred_at) {
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
    Ok(())
}

/// The model's entry rules as a filter on touchpoints.
fn reacting(rules: &ModelRules) -> Condition {
    let stages = || rules.stages.iter().chain(&rules.archived);
    let kinds: Vec<String> = stages().flat_map(|s| s.kinds.clone()).collect();
    let channels: Vec<Channel> = stages().flat_map(|s| s.channels.clone()).collect();
    Condition::any()
        .add(touchpoint::Column::Kind.is_in(kinds))
        .add(touchpoint::Column::Channel.is_in(channels))
}

/// Whether the account has a touchpoint the model reacts to after `tp`.
async fn has_later(
    db: &impl ConnectionTrait,
    rules: &ModelRules,
    account: Uuid,
    tp: &touchpoint::Model,
) -> CoreResult<bool> {
    let later = touchpoint::Entity::find()
        .select_only()
        .column(touchpoint::Column::Id)
        .filter(touchpoint::Column::WorkspaceId.eq(tp.workspace_id))
        .filter(touchpoint::Column::AccountId.eq(account))
        .filter(
            Condition::any()
                .add(touchpoint::Column::OccurredAt.gt(tp.occurred_at))
                .add(
                    Condition::all()
                        .add(touchpoint::Column::OccurredAt.eq(tp.occurred_at))
                        .add(touchpoint::Column::Id.gt(tp.id)),
                ),
        )
        .filter(reacting(rules))
        .into_tuple::<Uuid>()
        .one(db)
        .await?;
    Ok(later.is_some())
}

/// The earliest time among these touchpoints: where a path that gains or loses
/// them has to be rebuilt from.
pub async fn earliest(
    db: &impl ConnectionTrait,
    touchpoints: &[Uuid],
) -> CoreResult<Option<DateTime<Utc>>> {
    if touchpoints.is_empty() {
        return Ok(None);
    }
    let times: Vec<DateTime<Utc>> = touchpoint::Entity::find()
        .select_only()
        .column(touchpoint::Column::OccurredAt)
        .filter(touchpoint::Column::Id.is_in(touchpoints.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(times.into_iter().min())
}

/// Rebuilds an account's path through every model from `since` on, e.g. after
/// a touchpoint of that time changed, joined or left the account.
pub async fn replay_all(
    db: &impl ConnectionTrait,
    rules: &[ModelRules],
    account: Uuid,
    since: DateTime<Utc>,
) -> CoreResult<()> {
    for model in rules {
        replay(db, model, account, since).await?;
    }
    Ok(())
}

/// Rebuilds an account's path through one model from `since` on, in time
/// order. Moves before `since` stay as they are, so history through stages
/// that were removed or changed since is kept.
pub async fn replay(
    db: &impl ConnectionTrait,
    rules: &ModelRules,
    account: Uuid,
    since: DateTime<Utc>,
) -> CoreResult<()> {
    let model = rules.model.id;
    let ws = rules.model.workspace_id;
    stage_transition::Entity::delete_many()
        .filter(stage_transition::Column::AccountId.eq(account))
        .filter(stage_transition::Column::ModelId.eq(model))
        .filter(stage_transition::Column::Cause.eq(TransitionCause::Touchpoint))
        .filter(stage_transition::Column::OccurredAt.gte(since))
        .exec(db)
        .await?;
    let moves = stage_transition::Entity::find()
        .filter(stage_transition::Column::AccountId.eq(account))
        .filter(stage_transition::Column::ModelId.eq(model))
        .order_by_asc(stage_transition::Column::OccurredAt)
        .order_by_asc(stage_transition::Column::Id)
        .all(db)
        .await?;
    let (before, manual): (Vec<_>, Vec<_>) = moves.into_iter().partition(|t| t.occurred_at < since);
    let mut standing = Standing::default();
    let mut entered = None;
    for t in &before {
        standing = rules.standing_after(standing, t.to_stage_id);
        entered = Some(t.occurred_at);
    }
    let touchpoints = touchpoint::Entity::find()
        .filter(touchpoint::Column::WorkspaceId.eq(ws))
        .filter(touchpoint::Column::AccountId.eq(account))
        .filter(touchpoint::Column::OccurredAt.gte(since))
        .filter(reacting(rules))
        .order_by_asc(touchpoint::Column::OccurredAt)
        .order_by_asc(touchpoint::Column::Id)
        .all(db)
        .await?;

    // Merge the two time-ordered streams; a touchpoint comes before a manual
    // move made at the same instant.
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
            if m.from_stage_id != standing.current {
                let mut active: stage_transition::ActiveModel = m.clone().into();
                active.from_stage_id = Set(standing.current);
                active.update(db).await?;
            }
            standing = rules.standing_after(standing, m.to_stage_id);
            entered = Some(m.occurred_at);
        } else {
            let Some(t) = touchpoints.next() else { break };
            if let Some(to) = rules.next(standing, &t.kind, t.channel, t.occurred_at) {
                new_transitions.push(stage_transition::ActiveModel {
                    id: Set(entity::new_id()),
                    workspace_id: Set(ws),
                    account_id: Set(account),
                    model_id: Set(model),
                    from_stage_id: Set(standing.current),
                    to_stage_id: Set(to),
                    occurred_at: Set(t.occurred_at),
                    cause: Set(TransitionCause::Touchpoint),
                    touchpoint_id: Set(Some(t.id)),
                    actor: Set(None),
                    reason: Set(None),
                });
                standing = rules.standing_after(standing, to);
                entered = Some(t.occurred_at);
            }
        }
    }
    if !new_transitions.is_empty() {
        stage_transition::Entity::insert_many(new_transitions)
            .exec(db)
            .await?;
    }
    let existing = position(db, account, model).await?;
    let target = standing.current.zip(entered);
    set_position(db, ws, account, model, existing, target).await
}

/// An account's path through one model after a manual move.
pub struct MovedByHand {
    pub account: entity::account::Model,
    pub model: journey_model::Model,
    /// The model's stages, by position.
    pub stages: Vec<stage::Model>,
    /// The account's moves in the model, oldest first.
    pub transitions: Vec<stage_transition::Model>,
    /// The move just made.
    pub transition: stage_transition::Model,
}

/// Moves an account to any stage of a model (not a removed one), now, with a
/// person's reason. Later touchpoints move it on from there as usual.
pub async fn move_by_hand(
    txn: &impl ConnectionTrait,
    ws: Uuid,
    account: Uuid,
    stage: Uuid,
    actor: &str,
    reason: &str,
) -> CoreResult<MovedByHand> {
    let reason = reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 1_000 {
        return Err(CoreError::invalid_field(
            "reason",
            "`reason` must be 1 to 1,000 characters",
        ));
    }
    // Looked up here, not through `people`, which calls into progression.
    let account = account::Entity::find_by_id(account)
        .filter(account::Column::WorkspaceId.eq(ws))
        .one(txn)
        .await?
        .ok_or(CoreError::not_found("account"))?;
    let stage = stage::Entity::find_by_id(stage)
        .filter(stage::Column::WorkspaceId.eq(ws))
        .one(txn)
        .await?
        .ok_or(CoreError::not_found("stage"))?;
    if stage.archived_at.is_some() {
        return Err(CoreError::invalid_field(
            "stageId",
            "that stage was removed from its model",
        ));
    }
    // A move to where the account already is would record a self-transition.
    let current = stage_transition::Entity::find()
        .filter(stage_transition::Column::AccountId.eq(account.id))
        .filter(stage_transition::Column::ModelId.eq(stage.model_id))
        .order_by_desc(stage_transition::Column::OccurredAt)
        .order_by_desc(stage_transition::Column::Id)
        .one(txn)
        .await?;
    if current.is_some_and(|t| t.to_stage_id == stage.id) {
        return Err(CoreError::invalid_field(
            "stageId",
            "the account is already in that stage",
        ));
    }
    let cause = Cause::Manual {
        actor: actor.to_owned(),
        reason,
    };
    let transition = move_to(
        txn,
        ws,
        account.id,
        stage.model_id,
        stage.id,
        time::now(),
        cause,
    )
    .await?;
    let model = journey_model::Entity::find_by_id(stage.model_id)
        .filter(journey_model::Column::WorkspaceId.eq(ws))
        .one(txn)
        .await?
        .ok_or(CoreError::not_found("journey model"))?;
    let stages = stage::Entity::find()
        .filter(stage::Column::ModelId.eq(model.id))
        .order_by_asc(stage::Column::Position)
        .order_by_asc(stage::Column::Id)
        .all(txn)
        .await?;
    let transitions = stage_transition::Entity::find()
        .filter(stage_transition::Column::AccountId.eq(account.id))
        .filter(stage_transition::Column::ModelId.eq(model.id))
        .order_by_asc(stage_transition::Column::OccurredAt)
        .order_by_asc(stage_transition::Column::Id)
        .all(txn)
        .await?;
    Ok(MovedByHand {
        account,
        model,
        stages,
        transitions,
        transition,
    })
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
            archived: vec![],
        }
    }

    fn now() -> DateTime<Utc> {
        Utc::now()
    }

    fn at(stage: Uuid) -> Standing {
        Standing {
            current: Some(stage),
            reached: Some(stage),
        }
    }

    #[test]
    fn linear_models_only_move_forward() {
        let r = rules(false, &[("a", &["x"]), ("b", &["y"]), ("c", &["z"])]);
        let [a, b, c] = [0, 1, 2].map(|i| r.stages[i].stage.id);
        assert_eq!(
            r.next(Standing::default(), "y", Channel::Other, now()),
            Some(b)
        );
        assert_eq!(r.next(at(b), "x", Channel::Other, now()), None);
        assert_eq!(r.next(at(a), "z", Channel::Other, now()), Some(c));
        assert_eq!(r.next(at(c), "nothing", Channel::Other, now()), None);
    }

    #[test]
    fn circular_models_loop_back_to_their_loop_stage() {
        let r = rules(true, &[("a", &["x"]), ("b", &["y"]), ("c", &["z"])]);
        let [_, b, c] = [0, 1, 2].map(|i| r.stages[i].stage.id);
        assert_eq!(r.next(at(c), "y", Channel::Other, now()), Some(b));
        assert_eq!(r.next(at(c), "x", Channel::Other, now()), None);
    }

    #[test]
    fn a_continuous_phase_runs_beside_the_sequence() {
        let mut r = rules(false, &[("a", &["x"]), ("b", &["y"]), ("adv", &["m"])]);
        r.stages[2].stage.continuous = true;
        let [a, b, adv] = [0, 1, 2].map(|i| r.stages[i].stage.id);
        // A mention puts a new account in the phase; it still enters the sequence.
        assert_eq!(
            r.next(Standing::default(), "m", Channel::Other, now()),
            Some(adv)
        );
        let in_phase = r.standing_after(Standing::default(), adv);
        assert_eq!(r.next(in_phase, "x", Channel::Other, now()), Some(a));
        // In the phase after reaching `b`, only moves past `b` take it out.
        let after_b = r.standing_after(r.standing_after(at(a), b), adv);
        assert_eq!(after_b.reached, Some(b));
        assert_eq!(r.next(after_b, "x", Channel::Other, now()), None);
        assert_eq!(r.next(after_b, "m", Channel::Other, now()), None);
        assert_eq!(r.next(at(b), "m", Channel::Other, now()), Some(adv));
    }

    #[test]
    fn removed_stages_take_in_only_touchpoints_from_before_their_removal() {
        let mut r = rules(false, &[("a", &["x"]), ("b", &["y"]), ("c", &["z"])]);
        // `b` is removed: it sat between `a` and `c`.
        let mut removed = r.stages.remove(1);
        let removed_at = now();
        removed.stage.archived_at = Some(removed_at);
        r.stages[1].stage.position = 1;
        r.archived.push(removed.clone());
        let b = removed.stage.id;
        let c = r.stages[1].stage.id;
        let before = removed_at - chrono::Duration::days(1);
        let after = removed_at + chrono::Duration::days(1);
        assert_eq!(
            r.next(Standing::default(), "y", Channel::Other, before),
            Some(b)
        );
        assert_eq!(
            r.next(Standing::default(), "y", Channel::Other, after),
            None
        );
        // An account left in it moves forward only.
        assert_eq!(r.next(at(b), "x", Channel::Other, after), None);
        assert_eq!(r.next(at(b), "z", Channel::Other, after), Some(c));
    }
}
