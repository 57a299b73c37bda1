//! Stage progression: touchpoints move accounts through every journey model.
//!
//! An account's path in a model is a function of its touchpoints in time order
//! and of the manual moves made on it. It holds one place in the model's
//! sequence and, beside it, each continuous phase it has entered (a phase
//! never replaces the sequence stage). Whatever changes an account's
//! touchpoints makes its path be replayed from the earliest time concerned:
//! for a touchpoint arriving in order that is only itself, and for a late one
//! everything after it, so the result is the same as if everything had
//! arrived in order. Moves before that time are kept as they are, so history
//! through stages removed since is never rewritten. Replays are set-based: a
//! batch touching a thousand accounts costs a few statements per model.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use entity::vocab::{Channel, TransitionCause};
use entity::{account, journey_model, stage, stage_position, stage_transition, touchpoint};
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::events::{self, NewEvent};
use crate::{CoreError, CoreResult, db, time};

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
        // Only the sequence moves on: a phase, once entered, lasts, and
        // entering one leaves no stage.
        .and_where(Expr::col((nx.clone(), T::Phase)).eq(false))
        .and_where(Expr::col((st.clone(), T::Phase)).eq(false))
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

/// Where an account stands in a model: its stage in the sequence and the
/// continuous phases it is in beside it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Standing {
    /// The stage of the sequence it is in.
    pub current: Option<Uuid>,
    /// The continuous phases it has entered; it stays in each.
    pub phases: Vec<Uuid>,
}

/// What one touchpoint does to an account's standing in a model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Moves {
    /// The stage of the sequence it moves the account to.
    pub stage: Option<Uuid>,
    /// The continuous phases it puts the account in.
    pub phases: Vec<Uuid>,
}

impl Moves {
    /// Every stage entered, the sequence's first.
    pub fn entered(&self) -> impl Iterator<Item = Uuid> + '_ {
        self.stage.iter().chain(&self.phases).copied()
    }
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

    fn stage(&self, stage: Uuid) -> Option<&stage::Model> {
        (self.stages.iter().chain(&self.archived))
            .map(|s| &s.stage)
            .find(|s| s.id == stage)
    }

    pub fn is_continuous(&self, stage: Uuid) -> bool {
        self.stage(stage).is_some_and(|s| s.continuous)
    }

    /// When a position entered at `at` passes its stage's target: never for
    /// a phase, which has no end to be late for.
    pub fn due_at(&self, stage: Uuid, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let stage = self.stage(stage).filter(|s| !s.continuous)?;
        let target = chrono::Duration::try_seconds(stage.target_duration_secs?)?;
        at.checked_add_signed(target)
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

    /// Where a touchpoint of time `at` moves an account: in the sequence, to
    /// the furthest matching stage ahead of its current one, or in a circular
    /// model to the loop stage when the account is past it; beside it, into
    /// every matching continuous phase it is not in yet.
    pub fn next(
        &self,
        standing: &Standing,
        kind: &str,
        channel: Channel,
        at: DateTime<Utc>,
    ) -> Moves {
        let phases = self
            .open_at(at)
            .filter(|(_, s)| s.stage.continuous && s.matches(kind, channel))
            .map(|(_, s)| s.stage.id)
            .filter(|phase| !standing.phases.contains(phase))
            .collect();
        Moves {
            stage: self.next_in_sequence(standing.current, kind, channel, at),
            phases,
        }
    }

    fn next_in_sequence(
        &self,
        current: Option<Uuid>,
        kind: &str,
        channel: Channel,
        at: DateTime<Utc>,
    ) -> Option<Uuid> {
        let reached = current.and_then(|s| self.rank(s));
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
        None
    }
}

/// The workspace's models with their rules.
///
/// While a model's paths are being rebuilt, its row is read with a shared
/// lock: a write that moves accounts waits for the chunk being rebuilt, and
/// the next chunk waits for the write, so neither works from the other's
/// half-done state.
pub async fn load_rules(db: &impl ConnectionTrait, ws: Uuid) -> CoreResult<Vec<ModelRules>> {
    let find = || {
        journey_model::Entity::find()
            .filter(journey_model::Column::WorkspaceId.eq(ws))
            .order_by_asc(journey_model::Column::Id)
    };
    let mut models = find().all(db).await?;
    if models.iter().any(|m| m.backfill_pending) {
        models = find().lock_shared().all(db).await?;
    }
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

/// The positions of `accounts` in a model (sequence stage and phases), by
/// account, in one statement.
async fn positions_of(
    db: &impl ConnectionTrait,
    model: Uuid,
    accounts: &[Uuid],
) -> CoreResult<HashMap<Uuid, Vec<stage_position::Model>>> {
    let rows = stage_position::Entity::find()
        .filter(stage_position::Column::ModelId.eq(model))
        .filter(stage_position::Column::AccountId.is_in(accounts.iter().copied()))
        .all(db)
        .await?;
    let mut out: HashMap<Uuid, Vec<stage_position::Model>> = HashMap::new();
    for p in rows {
        out.entry(p.account_id).or_default().push(p);
    }
    Ok(out)
}

/// Where an account is in a model, with when it entered each place.
#[derive(Debug, Clone, Default)]
struct Placement {
    sequence: Option<(Uuid, DateTime<Utc>)>,
    /// Each phase with its first entry.
    phases: Vec<(Uuid, DateTime<Utc>)>,
}

impl Placement {
    fn of(rows: &[stage_position::Model]) -> Self {
        let mut placement = Self::default();
        for p in rows {
            if p.phase {
                placement.phases.push((p.stage_id, p.entered_at));
            } else {
                placement.sequence = Some((p.stage_id, p.entered_at));
            }
        }
        placement
    }

    fn standing(&self) -> Standing {
        Standing {
            current: self.sequence.map(|(s, _)| s),
            phases: self.phases.iter().map(|(s, _)| *s).collect(),
        }
    }

    fn holds(&self, stage: Uuid) -> bool {
        self.sequence.is_some_and(|(s, _)| s == stage)
            || self.phases.iter().any(|(s, _)| *s == stage)
    }

    /// The stage a move to `to` leaves: none for a phase, entered beside the
    /// sequence.
    fn left_by(&self, rules: &ModelRules, to: Uuid) -> Option<Uuid> {
        if rules.is_continuous(to) {
            None
        } else {
            self.sequence.map(|(s, _)| s)
        }
    }

    fn enter(&mut self, rules: &ModelRules, to: Uuid, at: DateTime<Utc>) {
        if !rules.is_continuous(to) {
            self.sequence = Some((to, at));
        } else if !self.phases.iter().any(|(s, _)| *s == to) {
            self.phases.push((to, at));
        }
    }
}

/// A move of `account` in the model, not yet written.
fn transition_row(
    rules: &ModelRules,
    account: Uuid,
    from: Option<Uuid>,
    to: Uuid,
    at: DateTime<Utc>,
    cause: Cause,
) -> stage_transition::ActiveModel {
    let (cause, touchpoint_id, actor, reason) = match cause {
        Cause::Touchpoint(id) => (TransitionCause::Touchpoint, Some(id), None, None),
        Cause::Manual { actor, reason } => {
            (TransitionCause::Manual, None, Some(actor), Some(reason))
        }
    };
    stage_transition::ActiveModel {
        id: Set(entity::new_id()),
        workspace_id: Set(rules.model.workspace_id),
        account_id: Set(account),
        model_id: Set(rules.model.id),
        from_stage_id: Set(from),
        to_stage_id: Set(to),
        occurred_at: Set(at),
        cause: Set(cause),
        touchpoint_id: Set(touchpoint_id),
        actor: Set(actor),
        reason: Set(reason),
        phase: Set(rules.is_continuous(to)),
    }
}

/// An account's stored positions in a model and where it should now be.
struct Placed<'r> {
    rules: &'r ModelRules,
    account: Uuid,
    stored: Vec<stage_position::Model>,
    placement: Placement,
}

/// Makes the stored positions of each account say what its placement says,
/// writing only what differs: at most three statements (a delete, an update
/// and an insert) for any number of accounts.
async fn place_all(db: &impl ConnectionTrait, accounts: Vec<Placed<'_>>) -> CoreResult<()> {
    let Some(ws) = accounts.first().map(|p| p.rules.model.workspace_id) else {
        return Ok(());
    };
    let mut deletes = Vec::new();
    let mut updates = Vec::new();
    let mut inserts = Vec::new();
    let mut changes = Vec::new();
    for Placed {
        rules,
        account,
        mut stored,
        placement,
    } in accounts
    {
        changes.extend(stage_changes(rules.model.id, account, &stored, &placement));
        let wanted = (placement.sequence.iter().map(|&(s, at)| (s, at, false)))
            .chain(placement.phases.iter().map(|&(s, at)| (s, at, true)));
        for (stage, entered_at, phase) in wanted {
            let due_at = rules.due_at(stage, entered_at);
            let found = stored
                .iter()
                .position(|p| p.phase == phase && (!phase || p.stage_id == stage));
            match found.map(|i| stored.swap_remove(i)) {
                Some(p)
                    if p.stage_id == stage && p.entered_at == entered_at && p.due_at == due_at => {}
                Some(p) => {
                    let mut active: stage_position::ActiveModel = p.into();
                    active.stage_id = Set(stage);
                    active.entered_at = Set(entered_at);
                    active.due_at = Set(due_at);
                    updates.push(active);
                }
                None => inserts.push(stage_position::ActiveModel {
                    id: Set(entity::new_id()),
                    workspace_id: Set(rules.model.workspace_id),
                    account_id: Set(account),
                    model_id: Set(rules.model.id),
                    stage_id: Set(stage),
                    entered_at: Set(entered_at),
                    phase: Set(phase),
                    due_at: Set(due_at),
                }),
            }
        }
        deletes.extend(stored.into_iter().map(|p| p.id));
    }
    if !deletes.is_empty() {
        stage_position::Entity::delete_many()
            .filter(stage_position::Column::Id.is_in(deletes))
            .exec(db)
            .await?;
    }
    use stage_position::Column as P;
    db::update_all(db, updates, P::Id, [P::StageId, P::EnteredAt, P::DueAt]).await?;
    db::insert_all(db, inserts, None).await?;
    events::append(db, ws, changes).await
}

/// What a new placement changes of the stored positions, as events: the
/// stage in the sequence, when it is another, and each phase entered.
fn stage_changes(
    model: Uuid,
    account: Uuid,
    stored: &[stage_position::Model],
    placement: &Placement,
) -> Vec<NewEvent> {
    let before = Placement::of(stored);
    let mut out = Vec::new();
    let was = before.sequence.map(|(stage, _)| stage);
    if let Some((now, _)) = placement.sequence
        && was != Some(now)
    {
        out.push(NewEvent::stage(model, account, was, now));
    }
    for (phase, _) in &placement.phases {
        if !before.phases.iter().any(|(had, _)| had == phase) {
            out.push(NewEvent::stage(model, account, None, *phase));
        }
    }
    out
}

/// Positions set per statement by [`refresh_due`].
const DUE_CHUNK: usize = 500;

/// Sets when the accounts in `stage` fall due after its target changed: a
/// statement per [`DUE_CHUNK`] positions.
pub async fn refresh_due(db: &impl ConnectionTrait, stage: &stage::Model) -> CoreResult<()> {
    let target = stage
        .target_duration_secs
        .filter(|_| !stage.continuous)
        .and_then(chrono::Duration::try_seconds);
    let held: Vec<(Uuid, DateTime<Utc>)> = stage_position::Entity::find()
        .select_only()
        .columns([
            stage_position::Column::Id,
            stage_position::Column::EnteredAt,
        ])
        .filter(stage_position::Column::StageId.eq(stage.id))
        .filter(stage_position::Column::Phase.eq(false))
        .into_tuple()
        .all(db)
        .await?;
    for chunk in held.chunks(DUE_CHUNK) {
        let due = |entered: DateTime<Utc>| target.and_then(|t| entered.checked_add_signed(t));
        let mut value = sea_orm::sea_query::CaseStatement::new();
        for (id, entered) in chunk {
            value = value.case(
                stage_position::Column::Id.eq(*id),
                Expr::value(due(*entered)),
            );
        }
        stage_position::Entity::update_many()
            .col_expr(stage_position::Column::DueAt, value.into())
            .filter(stage_position::Column::Id.is_in(chunk.iter().map(|(id, _)| *id)))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Why an account moved.
pub enum Cause {
    Touchpoint(Uuid),
    Manual { actor: String, reason: String },
}

/// A rebuild of one account's path: from `since` on, or from the very start
/// under the model's current rules when `None`. Moves before `since` stay as
/// they are, so history through stages removed or changed since is kept;
/// manual moves are always kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replay {
    pub account: Uuid,
    pub since: Option<DateTime<Utc>>,
}

impl Replay {
    pub fn since(account: Uuid, since: DateTime<Utc>) -> Self {
        Self {
            account,
            since: Some(since),
        }
    }

    pub fn from_start(account: Uuid) -> Self {
        Self {
            account,
            since: None,
        }
    }
}

/// One replay per account, from the earliest time asked for it.
fn earliest_per_account(replays: impl IntoIterator<Item = Replay>) -> Vec<Replay> {
    let mut by_account: HashMap<Uuid, Option<DateTime<Utc>>> = HashMap::new();
    for r in replays {
        by_account
            .entry(r.account)
            .and_modify(|since| {
                *since = match (*since, r.since) {
                    (Some(a), Some(b)) => Some(Ord::min(a, b)),
                    _ => None,
                }
            })
            .or_insert(r.since);
    }
    let mut out: Vec<Replay> = by_account
        .into_iter()
        .map(|(account, since)| Replay { account, since })
        .collect();
    // Rows are written in account order, so that concurrent writers take
    // their locks in the same order.
    out.sort_by_key(|r| r.account);
    out
}

/// Time ranges a replay reads and rewrites in one statement.
const REPLAY_RANGES: usize = 8;

/// The replays with their times lowered to a few distinct ones: sorted by
/// time and cut into at most [`REPLAY_RANGES`] groups, each replaying from its
/// earliest. Replaying an account from earlier than it needs gives the same
/// path (moves are a function of the touchpoints in time order), and a few
/// index ranges of many accounts each plan far faster than one per account,
/// while a late touchpoint still widens only the replays of the accounts
/// whose times are near its own.
fn coarsened(mut replays: Vec<Replay>) -> Vec<Replay> {
    replays.sort_by_key(|r| r.since);
    let per_range = replays.len().div_ceil(REPLAY_RANGES).max(1);
    for group in replays.chunks_mut(per_range) {
        let since = group[0].since;
        for r in group {
            r.since = since;
        }
    }
    replays.sort_by_key(|r| r.account);
    replays
}

/// Rows of these accounts (in `account`) from each one's `since` on (in
/// `at`): a term per distinct `since`, each within `scope` so that it can be
/// index ranges.
fn from_each_since(
    scope: impl Fn() -> Condition,
    account: impl ColumnTrait,
    at: impl ColumnTrait,
    replays: &[Replay],
) -> Condition {
    let mut by_since: BTreeMap<Option<DateTime<Utc>>, Vec<Uuid>> = BTreeMap::new();
    for r in replays {
        by_since.entry(r.since).or_default().push(r.account);
    }
    let mut any = Condition::any();
    for (since, accounts) in by_since {
        let mut term = scope().add(account.is_in(accounts));
        if let Some(since) = since {
            term = term.add(at.gte(since));
        }
        any = any.add(term);
    }
    any
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

/// A touchpoint newly on an account: the account's path in every model that
/// reacts to it is rebuilt from its time.
#[derive(Debug, Clone, Copy)]
pub struct Arrival<'a> {
    pub account: Uuid,
    pub kind: &'a str,
    pub channel: Channel,
    pub at: DateTime<Utc>,
}

/// Brings paths up to date after a batch of writes: each model replays the
/// accounts that gained a touchpoint it reacts to from the earliest such
/// that moves them, and every model replays `everywhere` (touchpoints that
/// changed or moved between accounts). A touchpoint that would move nobody
/// where it falls in the stored path (an account already past the stages
/// it leads to, say) replays nothing: the walk's state after it is the one
/// before it, so every later move stays as it is.
pub async fn advance(
    db: &impl ConnectionTrait,
    rules: &[ModelRules],
    arrivals: &[Arrival<'_>],
    everywhere: &[Replay],
) -> CoreResult<()> {
    let stored = stored_paths(db, rules, arrivals).await?;
    let work = rules
        .iter()
        .map(|model| {
            let replays = arrivals
                .iter()
                .filter(|a| model.reacts_to(a.kind, a.channel))
                .filter(|a| {
                    let path = stored.get(&(model.model.id, a.account));
                    moves_on(model, path.map_or(&[][..], Vec::as_slice), a)
                })
                .map(|a| Replay::since(a.account, a.at))
                .chain(everywhere.iter().copied());
            (model, earliest_per_account(replays))
        })
        .collect();
    replay_models(db, work).await
}

/// The stored moves of the accounts that gained touchpoints, by (model,
/// account), oldest first, in one statement.
async fn stored_paths(
    db: &impl ConnectionTrait,
    rules: &[ModelRules],
    arrivals: &[Arrival<'_>],
) -> CoreResult<HashMap<(Uuid, Uuid), Vec<stage_transition::Model>>> {
    let reacting: Vec<&ModelRules> = rules
        .iter()
        .filter(|m| arrivals.iter().any(|a| m.reacts_to(a.kind, a.channel)))
        .collect();
    if reacting.is_empty() {
        return Ok(HashMap::new());
    }
    let accounts: BTreeSet<Uuid> = arrivals.iter().map(|a| a.account).collect();
    use stage_transition::Column as T;
    let rows = stage_transition::Entity::find()
        .filter(T::AccountId.is_in(accounts))
        .filter(T::ModelId.is_in(reacting.iter().map(|m| m.model.id)))
        .order_by_asc(T::AccountId)
        .order_by_asc(T::OccurredAt)
        .order_by_asc(T::Id)
        .all(db)
        .await?;
    let mut paths: HashMap<(Uuid, Uuid), Vec<stage_transition::Model>> = HashMap::new();
    for t in rows {
        paths.entry((t.model_id, t.account_id)).or_default().push(t);
    }
    Ok(paths)
}

/// Whether `arrival` moves its account where it falls in `path`: on the
/// walk's state just before it (every move made earlier), it enters a stage
/// or a phase. A move stored at the very same instant could be ordered
/// either side of it: then it counts as moving, and the path is replayed.
fn moves_on(model: &ModelRules, path: &[stage_transition::Model], arrival: &Arrival<'_>) -> bool {
    let mut placement = Placement::default();
    for t in path {
        if t.occurred_at == arrival.at {
            return true;
        }
        if t.occurred_at > arrival.at {
            break;
        }
        placement.enter(model, t.to_stage_id, t.occurred_at);
    }
    let moves = model.next(
        &placement.standing(),
        arrival.kind,
        arrival.channel,
        arrival.at,
    );
    moves.entered().next().is_some()
}

/// Rebuilds accounts' paths through every model, e.g. after touchpoints
/// joined or left them.
pub async fn replay_all(
    db: &impl ConnectionTrait,
    rules: &[ModelRules],
    replays: &[Replay],
) -> CoreResult<()> {
    advance(db, rules, &[], replays).await
}

/// Rebuilds accounts' paths through one model.
pub async fn replay_many(
    db: &impl ConnectionTrait,
    rules: &ModelRules,
    replays: impl IntoIterator<Item = Replay>,
) -> CoreResult<()> {
    replay_models(db, vec![(rules, earliest_per_account(replays))]).await
}

/// A touchpoint as a replay reads it.
type Reacting = (Uuid, Uuid, String, Channel, DateTime<Utc>);

/// Rebuilds accounts' paths, each model its own accounts (one replay per
/// account), in time order: eight statements at most for any number of
/// models and accounts.
async fn replay_models(
    db: &impl ConnectionTrait,
    work: Vec<(&ModelRules, Vec<Replay>)>,
) -> CoreResult<()> {
    let work: Vec<(&ModelRules, Vec<Replay>)> = work
        .into_iter()
        .filter(|(_, r)| !r.is_empty())
        .map(|(model, replays)| (model, coarsened(replays)))
        .collect();
    let Some(ws) = work.first().map(|(m, _)| m.model.workspace_id) else {
        return Ok(());
    };
    use stage_transition::Column as T;
    let mut stale = Condition::any();
    for (model, replays) in &work {
        let in_model = || Condition::all().add(T::ModelId.eq(model.model.id));
        stale = stale.add(from_each_since(
            in_model,
            T::AccountId,
            T::OccurredAt,
            replays,
        ));
    }
    stage_transition::Entity::delete_many()
        .filter(T::Cause.eq(TransitionCause::Touchpoint))
        .filter(stale)
        .exec(db)
        .await?;
    let all = coarsened(earliest_per_account(
        work.iter().flat_map(|(_, r)| r.iter().copied()),
    ));
    let accounts = || all.iter().map(|r| r.account);
    let mut moves: HashMap<(Uuid, Uuid), Vec<stage_transition::Model>> = HashMap::new();
    let rows = stage_transition::Entity::find()
        .filter(T::AccountId.is_in(accounts()))
        .filter(T::ModelId.is_in(work.iter().map(|(m, _)| m.model.id)))
        .order_by_asc(T::AccountId)
        .order_by_asc(T::OccurredAt)
        .order_by_asc(T::Id)
        .all(db)
        .await?;
    for t in rows {
        moves.entry((t.model_id, t.account_id)).or_default().push(t);
    }
    // Each account's touchpoints from the earliest time any model replays it
    // from, through the (workspace, account, time) index; each model then
    // takes what it reacts to from its own time on.
    let in_workspace = || Condition::all().add(touchpoint::Column::WorkspaceId.eq(ws));
    let touchpoints: Vec<Reacting> = touchpoint::Entity::find()
        .select_only()
        .columns([
            touchpoint::Column::Id,
            touchpoint::Column::AccountId,
            touchpoint::Column::Kind,
            touchpoint::Column::Channel,
            touchpoint::Column::OccurredAt,
        ])
        .filter(from_each_since(
            in_workspace,
            touchpoint::Column::AccountId,
            touchpoint::Column::OccurredAt,
            &all,
        ))
        .order_by_asc(touchpoint::Column::AccountId)
        .order_by_asc(touchpoint::Column::OccurredAt)
        .order_by_asc(touchpoint::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let touchpoints = grouped(touchpoints, |t| t.1);
    let mut new_transitions = Vec::new();
    let mut placements = Vec::new();
    for (model, replays) in &work {
        for replay in replays {
            // What this model reacts to, from this account's `since` on: the
            // read above is the union of every model's.
            let arrived = touchpoints
                .get(&replay.account)
                .into_iter()
                .flatten()
                .filter(|t| replay.since.is_none_or(|since| t.4 >= since))
                .filter(|t| model.reacts_to(&t.2, t.3))
                .cloned()
                .collect();
            let kept = moves
                .remove(&(model.model.id, replay.account))
                .unwrap_or_default();
            let placement = walk(db, model, *replay, kept, arrived, &mut new_transitions).await?;
            placements.push((*model, replay.account, placement));
        }
    }
    db::insert_all(db, new_transitions, None).await?;
    let mut stored: HashMap<(Uuid, Uuid), Vec<stage_position::Model>> = HashMap::new();
    use stage_position::Column as P;
    let mut held = Condition::any();
    for (model, replays) in &work {
        held = held.add(
            Condition::all()
                .add(P::ModelId.eq(model.model.id))
                .add(P::AccountId.is_in(replays.iter().map(|r| r.account))),
        );
    }
    for p in stage_position::Entity::find().filter(held).all(db).await? {
        stored
            .entry((p.model_id, p.account_id))
            .or_default()
            .push(p);
    }
    let placed = placements
        .into_iter()
        .map(|(rules, account, placement)| Placed {
            rules,
            account,
            stored: stored
                .remove(&(rules.model.id, account))
                .unwrap_or_default(),
            placement,
        })
        .collect();
    place_all(db, placed).await
}

/// Groups rows by a key, keeping their order.
fn grouped<T>(rows: Vec<T>, key: impl Fn(&T) -> Uuid) -> HashMap<Uuid, Vec<T>> {
    let mut out: HashMap<Uuid, Vec<T>> = HashMap::new();
    for row in rows {
        out.entry(key(&row)).or_default().push(row);
    }
    out
}

/// Walks one account's path from the moves kept by a replay and its
/// touchpoints from `since` on, both in time order: pushes the touchpoints'
/// moves onto `out` and returns where the account ends up. A touchpoint comes
/// before a manual move made at the same instant; a manual move whose `from`
/// the walk changed is corrected in place (rare: one statement each).
async fn walk(
    db: &impl ConnectionTrait,
    rules: &ModelRules,
    replay: Replay,
    moves: Vec<stage_transition::Model>,
    touchpoints: Vec<Reacting>,
    out: &mut Vec<stage_transition::ActiveModel>,
) -> CoreResult<Placement> {
    let (before, manual): (Vec<_>, Vec<_>) = moves
        .into_iter()
        .partition(|t| replay.since.is_some_and(|since| t.occurred_at < since));
    let mut placement = Placement::default();
    for t in &before {
        placement.enter(rules, t.to_stage_id, t.occurred_at);
    }
    let mut manual = manual.into_iter().peekable();
    let mut touchpoints = touchpoints.into_iter().peekable();
    loop {
        let take_manual = match (manual.peek(), touchpoints.peek()) {
            (Some(m), Some(t)) => m.occurred_at < t.4,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        if take_manual {
            let Some(m) = manual.next() else { break };
            let from = placement.left_by(rules, m.to_stage_id);
            let phase = rules.is_continuous(m.to_stage_id);
            if m.from_stage_id != from || m.phase != phase {
                let mut active: stage_transition::ActiveModel = m.clone().into();
                active.from_stage_id = Set(from);
                active.phase = Set(phase);
                active.update(db).await?;
            }
            placement.enter(rules, m.to_stage_id, m.occurred_at);
        } else {
            let Some((id, _, kind, channel, at)) = touchpoints.next() else {
                break;
            };
            let moves = rules.next(&placement.standing(), &kind, channel, at);
            for to in moves.entered() {
                let from = placement.left_by(rules, to);
                out.push(transition_row(
                    rules,
                    replay.account,
                    from,
                    to,
                    at,
                    Cause::Touchpoint(id),
                ));
                placement.enter(rules, to, at);
            }
        }
    }
    Ok(placement)
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
    // Looked up here, not through `people`, which calls into progression;
    // locked as a batch locks it (`db::lock_in_order`), so a concurrent
    // batch's replay and this move come one after the other.
    let account = account::Entity::find_by_id(account)
        .filter(account::Column::WorkspaceId.eq(ws))
        .lock(sea_orm::sea_query::LockType::NoKeyUpdate)
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
    let all = load_rules(txn, ws).await?;
    let rules = all
        .iter()
        .find(|m| m.model.id == stage.model_id)
        .ok_or(CoreError::not_found("journey model"))?;
    let stored = positions_of(txn, stage.model_id, &[account.id])
        .await?
        .remove(&account.id)
        .unwrap_or_default();
    let mut placement = Placement::of(&stored);
    // A move to where the account already is would record a self-transition.
    if placement.holds(stage.id) {
        return Err(CoreError::invalid_field(
            "stageId",
            "the account is already in that stage",
        ));
    }
    let cause = Cause::Manual {
        actor: actor.to_owned(),
        reason,
    };
    let at = time::now();
    let from = placement.left_by(rules, stage.id);
    let transition = transition_row(rules, account.id, from, stage.id, at, cause)
        .insert(txn)
        .await?;
    placement.enter(rules, stage.id, at);
    let placed = Placed {
        rules,
        account: account.id,
        stored,
        placement,
    };
    place_all(txn, vec![placed]).await?;
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
                backfill_pending: false,
                backfill_after: None,
                backfill_processed: 0,
                backfill_total: 0,
                backfill_lease_until: None,
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
                        playbook: serde_json::json!([]),
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
            phases: vec![],
        }
    }

    fn to(stage: Uuid) -> Moves {
        Moves {
            stage: Some(stage),
            phases: vec![],
        }
    }

    #[test]
    fn replays_are_coarsened_to_a_few_earlier_times() {
        let t0 = Utc::now();
        let asked: Vec<Replay> = (0..100)
            .map(|i| Replay::since(Uuid::now_v7(), t0 + chrono::Duration::minutes(i)))
            .chain([Replay::from_start(Uuid::now_v7())])
            .collect();
        let coarse = coarsened(asked.clone());
        let times: std::collections::BTreeSet<_> = coarse.iter().map(|r| r.since).collect();
        assert!(times.len() <= REPLAY_RANGES, "{times:?}");
        for r in &asked {
            let c = coarse.iter().find(|c| c.account == r.account).unwrap();
            assert!(c.since <= r.since, "never later than asked");
        }
    }

    #[test]
    fn linear_models_only_move_forward() {
        let r = rules(false, &[("a", &["x"]), ("b", &["y"]), ("c", &["z"])]);
        let [a, b, c] = [0, 1, 2].map(|i| r.stages[i].stage.id);
        assert_eq!(
            r.next(&Standing::default(), "y", Channel::Other, now()),
            to(b)
        );
        assert_eq!(r.next(&at(b), "x", Channel::Other, now()), Moves::default());
        assert_eq!(r.next(&at(a), "z", Channel::Other, now()), to(c));
        assert_eq!(
            r.next(&at(c), "nothing", Channel::Other, now()),
            Moves::default()
        );
    }

    #[test]
    fn circular_models_loop_back_to_their_loop_stage() {
        let r = rules(true, &[("a", &["x"]), ("b", &["y"]), ("c", &["z"])]);
        let [_, b, c] = [0, 1, 2].map(|i| r.stages[i].stage.id);
        assert_eq!(r.next(&at(c), "y", Channel::Other, now()), to(b));
        assert_eq!(r.next(&at(c), "x", Channel::Other, now()), Moves::default());
    }

    #[test]
    fn a_continuous_phase_runs_beside_the_sequence() {
        let mut r = rules(false, &[("a", &["x"]), ("b", &["y", "m"]), ("adv", &["m"])]);
        r.stages[2].stage.continuous = true;
        let [a, b, adv] = [0, 1, 2].map(|i| r.stages[i].stage.id);
        // A mention enters the phase and, where it matches, the sequence too.
        let first = r.next(&at(a), "m", Channel::Other, now());
        assert_eq!(
            first,
            Moves {
                stage: Some(b),
                phases: vec![adv]
            }
        );
        // In the phase, the sequence goes on as before; the phase is entered once.
        let in_both = Standing {
            current: Some(a),
            phases: vec![adv],
        };
        assert_eq!(r.next(&in_both, "y", Channel::Other, now()), to(b));
        assert_eq!(
            r.next(&in_both, "x", Channel::Other, now()),
            Moves::default()
        );
        let only_phase = Moves {
            stage: None,
            phases: vec![adv],
        };
        assert_eq!(r.next(&at(b), "m", Channel::Other, now()), only_phase);
        assert_eq!(r.due_at(adv, now()), None, "a phase is never overdue");
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
            r.next(&Standing::default(), "y", Channel::Other, before),
            to(b)
        );
        assert_eq!(
            r.next(&Standing::default(), "y", Channel::Other, after),
            Moves::default()
        );
        // An account left in it moves forward only.
        assert_eq!(r.next(&at(b), "x", Channel::Other, after), Moves::default());
        assert_eq!(r.next(&at(b), "z", Channel::Other, after), to(c));
    }
}
