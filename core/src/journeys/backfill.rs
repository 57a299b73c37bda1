//! Rebuilding every account's path through a model from its touchpoints: when
//! a model is created on a workspace with history, and when a stage is added
//! or its entry rules change. The rebuild runs in the background, a chunk of
//! accounts per transaction, so a large workspace is neither held in one long
//! transaction nor locked for long; the model's row says how far it got.
//!
//! The model's row is the rebuild's cursor and its lock: each chunk locks it
//! (on PostgreSQL), reads where the last chunk stopped and moves it on in the
//! same transaction, so instances that run at once share the work and a crash
//! loses at most the chunk in flight. A new request sets the cursor back to
//! the start, and the next chunk starts over under the new rules. An instance
//! holds a lease while it works, so others leave the model alone; when the
//! lease lapses (the instance died), any instance takes the rebuild over.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::{account, journey_model};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::progression;
use crate::{CoreError, CoreResult, db, time};

/// Where a model's rebuild stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackfillState {
    /// Waiting for an instance to take it.
    Pending,
    /// An instance is rebuilding paths.
    Running,
    /// Every account's path follows the model's current rules.
    Done,
}

/// A model's rebuild: its state and how many accounts it has rebuilt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backfill {
    pub state: BackfillState,
    pub processed: u64,
    pub total: u64,
}

impl Backfill {
    /// The rebuild of `model` at `now`.
    pub fn of(model: &journey_model::Model, now: DateTime<Utc>) -> Self {
        let state = if !model.backfill_pending {
            BackfillState::Done
        } else if model.backfill_lease_until.is_some_and(|until| until > now) {
            BackfillState::Running
        } else {
            BackfillState::Pending
        };
        let count = |n: i64| u64::try_from(n).unwrap_or_default();
        Self {
            state,
            processed: count(model.backfill_processed),
            total: count(model.backfill_total),
        }
    }
}

/// How rebuilds run.
#[derive(Debug, Clone, Copy)]
pub struct BackfillSettings {
    /// Accounts rebuilt per transaction.
    pub chunk: u64,
    /// How long an instance holds a rebuild between chunks.
    pub lease: Duration,
    /// How often an instance looks for rebuilds to take over.
    pub tick: Duration,
}

impl Default for BackfillSettings {
    fn default() -> Self {
        Self {
            chunk: 200,
            lease: Duration::from_secs(30),
            tick: Duration::from_secs(5),
        }
    }
}

/// Asks for every account's path through `model` of `ws` to be rebuilt, in
/// the caller's transaction (so the edit and the request commit together).
/// Returns whether there is anything to rebuild: a workspace with no
/// accounts has none, and its model is done at once.
pub async fn request(db: &impl ConnectionTrait, ws: Uuid, model: Uuid) -> CoreResult<bool> {
    let total = accounts_to_rebuild(db, ws).await?;
    journey_model::Entity::update_many()
        .col_expr(
            journey_model::Column::BackfillPending,
            Expr::value(total > 0),
        )
        .col_expr(
            journey_model::Column::BackfillAfter,
            Expr::value(None::<Uuid>),
        )
        .col_expr(journey_model::Column::BackfillProcessed, Expr::value(0_i64))
        .col_expr(
            journey_model::Column::BackfillTotal,
            Expr::value(i64::try_from(total).unwrap_or(i64::MAX)),
        )
        .filter(journey_model::Column::Id.eq(model))
        .filter(journey_model::Column::WorkspaceId.eq(ws))
        .exec(db)
        .await?;
    Ok(total > 0)
}

/// How many accounts a rebuild of one of `ws`'s models goes through: all of
/// the workspace's.
pub async fn accounts_to_rebuild(db: &impl ConnectionTrait, ws: Uuid) -> CoreResult<u64> {
    Ok(account::Entity::find()
        .filter(account::Column::WorkspaceId.eq(ws))
        .count(db)
        .await?)
}

/// How one chunk went.
enum Chunk {
    More,
    Finished,
}

/// Runs every rebuild no live instance holds, until none is left; returns
/// how many it finished.
pub async fn run_pending(db: &DatabaseConnection, settings: BackfillSettings) -> CoreResult<usize> {
    let mut finished = 0;
    loop {
        let now = time::now();
        let lapsed = || {
            Condition::any()
                .add(journey_model::Column::BackfillLeaseUntil.is_null())
                .add(journey_model::Column::BackfillLeaseUntil.lt(now))
        };
        let Some(model) = journey_model::Entity::find()
            .select_only()
            .column(journey_model::Column::Id)
            .filter(journey_model::Column::BackfillPending.eq(true))
            .filter(lapsed())
            .order_by_asc(journey_model::Column::Id)
            .into_tuple::<Uuid>()
            .one(db)
            .await?
        else {
            return Ok(finished);
        };
        // Conditional on the lapse, so one instance takes it.
        let claimed = journey_model::Entity::update_many()
            .col_expr(
                journey_model::Column::BackfillLeaseUntil,
                Expr::value(lease_until(now, settings.lease)),
            )
            .filter(journey_model::Column::Id.eq(model))
            .filter(journey_model::Column::BackfillPending.eq(true))
            .filter(lapsed())
            .exec(db)
            .await?
            .rows_affected
            == 1;
        if !claimed {
            continue;
        }
        tracing::info!(model = %model, "rebuilding journeys");
        while let Chunk::More = chunk(db, model, settings).await? {}
        tracing::info!(model = %model, "journeys rebuilt");
        finished += 1;
    }
}

fn lease_until(now: DateTime<Utc>, lease: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(30))
}

/// Rebuilds the next chunk of accounts of `model`, in one transaction.
async fn chunk(
    db: &DatabaseConnection,
    model: Uuid,
    settings: BackfillSettings,
) -> CoreResult<Chunk> {
    let txn = db::begin_write(db).await?;
    // Locked, so a concurrent request or chunk waits for this one.
    let Some(row) = journey_model::Entity::find_by_id(model)
        .lock_exclusive()
        .one(&txn)
        .await?
    else {
        db::commit(txn).await?;
        return Ok(Chunk::Finished);
    };
    if !row.backfill_pending {
        db::commit(txn).await?;
        return Ok(Chunk::Finished);
    }
    let ws = row.workspace_id;
    let mut accounts = account::Entity::find()
        .select_only()
        .column(account::Column::Id)
        .filter(account::Column::WorkspaceId.eq(ws))
        .order_by_asc(account::Column::Id)
        .limit(settings.chunk);
    if let Some(after) = row.backfill_after {
        accounts = accounts.filter(account::Column::Id.gt(after));
    }
    let accounts: Vec<Uuid> = accounts.into_tuple().all(&txn).await?;
    let rules = progression::load_rules(&txn, ws).await?;
    let rules = rules
        .iter()
        .find(|m| m.model.id == model)
        .ok_or(CoreError::not_found("journey model"))?;
    let replays = accounts.iter().map(|a| progression::Replay::from_start(*a));
    progression::replay_many(&txn, rules, replays).await?;
    let processed = row.backfill_processed + accounts.len() as i64;
    let done = (accounts.len() as u64) < settings.chunk;
    let mut update = journey_model::Entity::update_many()
        .col_expr(
            journey_model::Column::BackfillProcessed,
            Expr::value(processed),
        )
        // Accounts created meanwhile are rebuilt too, and counted.
        .col_expr(
            journey_model::Column::BackfillTotal,
            Expr::value(row.backfill_total.max(processed)),
        )
        .filter(journey_model::Column::Id.eq(model));
    if let Some(last) = accounts.last() {
        update = update.col_expr(journey_model::Column::BackfillAfter, Expr::value(*last));
    }
    update = if done {
        update
            .col_expr(journey_model::Column::BackfillPending, Expr::value(false))
            .col_expr(
                journey_model::Column::BackfillLeaseUntil,
                Expr::value(None::<DateTime<Utc>>),
            )
    } else {
        update.col_expr(
            journey_model::Column::BackfillLeaseUntil,
            Expr::value(lease_until(time::now(), settings.lease)),
        )
    };
    update.exec(&txn).await?;
    db::commit(txn).await?;
    Ok(if done { Chunk::Finished } else { Chunk::More })
}

/// Runs rebuilds in the background: when woken after a request, and on
/// each tick, to take over those whose instance died.
pub struct Backfills {
    wake: tokio::sync::Notify,
}

impl Backfills {
    /// Starts the background task on `db`; it runs for the life of the process.
    pub fn start(db: DatabaseConnection, settings: BackfillSettings) -> Arc<Self> {
        let this = Arc::new(Self {
            wake: tokio::sync::Notify::new(),
        });
        let woken = Arc::clone(&this);
        tokio::spawn(async move {
            loop {
                // A rebuild left by a dead instance is taken over at the
                // first tick, once its lease has had time to lapse.
                tokio::select! {
                    _ = woken.wake.notified() => {}
                    _ = tokio::time::sleep(settings.tick) => {}
                }
                if let Err(e) = run_pending(&db, settings).await {
                    tracing::error!(error = %e, "could not rebuild journeys");
                }
            }
        });
        this
    }

    /// Runs the rebuilds requested by a transaction that just committed.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}
