//! The sync runtime: queues runs, runs them one batch at a time, and records
//! what each did.
//!
//! Invariants:
//! - At most one QUEUED or RUNNING run per connector, by a partial unique
//!   index, so it holds across instances sharing one PostgreSQL.
//! - A batch's touchpoints, the connector's cursor after it, and the run's
//!   counts are written in one transaction: a crash loses no batch it saved
//!   and the next run resumes after the last one.
//! - A RUNNING run holds a short lease (30 s by default), renewed every third
//!   of it for as long as the run lives, while it waits on a vendor too; a
//!   batch is saved only while the run is still RUNNING, so a run taken over
//!   after its lease lapsed cannot write behind the new one's back. A QUEUED
//!   run older than a lease (its instance stopped before starting it) counts
//!   as abandoned as well.
//! - Every instance looks for abandoned runs when it starts and on each
//!   scheduler tick, closes each as ABANDONED and starts a TAKEOVER run that
//!   resumes from the last saved batch: a dead instance's run is taken over
//!   within a lease and a tick, by a restarted instance or any other.
//! - A connector's request pacing (the SDK's `PacingLog`) is saved with each
//!   batch and at the end of a run, so the next run goes on counting.
//! - A shutdown stops runs at a batch boundary, as CANCELLED.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::vocab::{SyncStatus, SyncTrigger};
use entity::{connector, sync_run};
use journeys_plugin_sdk::{Batch, HttpClient, PacingLog, PullError, RetryPolicy};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect, Set, SqlErr,
};
use tokio::sync::watch;
use tokio_util::task::TaskTracker;
use uuid::Uuid;

use super::{Registry, Sealing, plugin_touchpoints, secrets::SecretBox};
use crate::events::{self, NewEvent};
use crate::ingestion::{self, Tally};
use crate::{CoreError, CoreResult, db, time};
use backon::Retryable;

/// How the runtime behaves; the defaults suit production.
#[derive(Debug, Clone)]
pub struct SyncSettings {
    /// Retries and timeouts of the plugins' HTTP calls.
    pub retry: RetryPolicy,
    /// How long a run may go without renewing its lease before any instance
    /// takes it for abandoned. A live run renews it every third of this, and
    /// with each batch it saves.
    pub lease: Duration,
    /// How often the scheduler looks for connectors that are due and for
    /// abandoned runs to take over.
    pub tick: Duration,
}

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings {
            retry: RetryPolicy::default(),
            lease: Duration::from_secs(30),
            tick: Duration::from_secs(5),
        }
    }
}

/// Counts of one batch, as saved.
#[derive(Debug, Default, Clone, Copy)]
struct BatchCounts {
    fetched: i32,
    created: i32,
    updated: i32,
    unchanged: i32,
    failed: i32,
}

/// Runs connector syncs for one server (or one `journeys sync`).
pub struct SyncRuntime {
    db: DatabaseConnection,
    registry: Arc<Registry>,
    secrets: Option<SecretBox>,
    settings: SyncSettings,
    stopping: watch::Sender<bool>,
    tasks: TaskTracker,
}

impl SyncRuntime {
    pub fn new(
        db: DatabaseConnection,
        registry: Arc<Registry>,
        secrets: Option<SecretBox>,
        settings: SyncSettings,
    ) -> Arc<Self> {
        Arc::new(SyncRuntime {
            db,
            registry,
            secrets,
            settings,
            stopping: watch::channel(false).0,
            tasks: TaskTracker::new(),
        })
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn secret_box(&self) -> Option<&SecretBox> {
        self.secrets.as_ref()
    }

    /// What connector writes need to check and seal settings.
    pub fn sealing(&self) -> Sealing<'_> {
        Sealing {
            registry: &self.registry,
            secret_box: self.secrets.as_ref(),
        }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Queues a run of `connector`, or returns the one already queued or
    /// running (`false`): a connector never syncs twice at once.
    pub async fn enqueue(
        &self,
        connector: &connector::Model,
        trigger: SyncTrigger,
    ) -> CoreResult<(sync_run::Model, bool)> {
        // Twice at most: the second try follows closing an abandoned run.
        for _ in 0..2 {
            let now = time::now();
            let run = sync_run::ActiveModel {
                id: Set(entity::new_id()),
                workspace_id: Set(connector.workspace_id),
                connector_id: Set(connector.id),
                status: Set(SyncStatus::Queued),
                trigger: Set(trigger),
                fetched: Set(0),
                created: Set(0),
                updated: Set(0),
                unchanged: Set(0),
                failed: Set(0),
                batches: Set(0),
                error_code: Set(None),
                error: Set(None),
                queued_at: Set(now),
                started_at: Set(None),
                finished_at: Set(None),
                lease_expires_at: Set(None),
            };
            let txn = db::begin_write(&self.db).await?;
            let inserted = run.insert(&txn).await;
            if let Ok(run) = &inserted {
                log_runs(&txn, std::slice::from_ref(run)).await?;
                txn.commit().await?;
            } else {
                // Release the write lock before looking: the look and the
                // close below run on other connections.
                txn.rollback().await?;
            }
            match inserted {
                Ok(run) => return Ok((run, true)),
                Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                    let Some(active) = self.active_run(connector.id).await? else {
                        // Finished between our insert and our look: try again.
                        continue;
                    };
                    if !self.close_if_abandoned(&active, now).await? {
                        return Ok((active, false));
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(CoreError::conflict(
            "the connector's runs changed while queueing; try again",
        ))
    }

    /// Closes `run` as ABANDONED if it still is: RUNNING with its lease
    /// lapsed, or QUEUED for longer than a lease. Conditional on both, so of
    /// several instances that find it only one closes it, and a run that
    /// renewed its lease meanwhile is left alone.
    async fn close_if_abandoned(
        &self,
        run: &sync_run::Model,
        now: DateTime<Utc>,
    ) -> CoreResult<bool> {
        let (still, message) = match run.status {
            SyncStatus::Running => (
                sync_run::Column::LeaseExpiresAt.lt(now),
                "abandoned: the instance running it stopped; the next run resumes from its last batch",
            ),
            SyncStatus::Queued => (
                sync_run::Column::QueuedAt.lt(self.lease_before(now)),
                "abandoned: the instance that queued it stopped before starting it",
            ),
            _ => return Ok(false),
        };
        let closed = sync_run::Entity::update_many()
            .col_expr(sync_run::Column::Status, Expr::value(SyncStatus::Failed))
            .col_expr(
                sync_run::Column::ErrorCode,
                Expr::value(RunErrorCode::Abandoned.as_str()),
            )
            .col_expr(sync_run::Column::Error, Expr::value(message))
            .col_expr(sync_run::Column::FinishedAt, Expr::value(now))
            .col_expr(
                sync_run::Column::LeaseExpiresAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(sync_run::Column::Id.eq(run.id))
            .filter(sync_run::Column::Status.eq(run.status))
            .filter(still);
        let txn = db::begin_write(&self.db).await?;
        let closed = closed.exec_with_returning(&txn).await?;
        log_runs(&txn, &closed).await?;
        txn.commit().await?;
        Ok(closed.len() == 1)
    }

    /// Closes every abandoned run (see [`SyncRuntime::close_if_abandoned`])
    /// and starts a TAKEOVER run of each enabled connector among them here,
    /// resuming from its last saved batch. Returns how many it took over.
    pub async fn take_over_abandoned(self: &Arc<Self>) -> CoreResult<usize> {
        let now = time::now();
        let candidates = sync_run::Entity::find()
            .filter(
                Condition::any()
                    .add(
                        Condition::all()
                            .add(sync_run::Column::Status.eq(SyncStatus::Running))
                            .add(sync_run::Column::LeaseExpiresAt.lt(now)),
                    )
                    .add(
                        Condition::all()
                            .add(sync_run::Column::Status.eq(SyncStatus::Queued))
                            .add(sync_run::Column::QueuedAt.lt(self.lease_before(now))),
                    ),
            )
            .all(&self.db)
            .await?;
        let mut taken = 0;
        for run in candidates {
            if !self.close_if_abandoned(&run, now).await? {
                continue;
            }
            tracing::warn!(run = %run.id, connector = %run.connector_id, "took over an abandoned run");
            let connector = connector::Entity::find_by_id(run.connector_id)
                .one(&self.db)
                .await?;
            let Some(connector) = connector.filter(|c| c.enabled) else {
                continue;
            };
            match self.trigger(&connector, SyncTrigger::Takeover).await {
                Ok((_, queued)) => taken += usize::from(queued),
                // One connector's trouble does not hold up the others'
                // takeovers; its next run resumes from the saved cursor.
                Err(e) => {
                    tracing::error!(connector = %connector.id, error = ?e, "could not take over a run")
                }
            }
        }
        Ok(taken)
    }

    async fn active_run(&self, connector: Uuid) -> CoreResult<Option<sync_run::Model>> {
        Ok(sync_run::Entity::find()
            .filter(sync_run::Column::ConnectorId.eq(connector))
            .filter(sync_run::Column::Status.is_in([SyncStatus::Queued, SyncStatus::Running]))
            .one(&self.db)
            .await?)
    }

    /// Queues a run and executes it in the background, or returns the run
    /// already queued or running; the flag is true when this call queued it.
    pub async fn trigger(
        self: &Arc<Self>,
        connector: &connector::Model,
        trigger: SyncTrigger,
    ) -> CoreResult<(sync_run::Model, bool)> {
        let (run, queued) = self.enqueue(connector, trigger).await?;
        if queued {
            let runtime = Arc::clone(self);
            let id = run.id;
            self.tasks.spawn(async move {
                if let Err(e) = runtime.execute(id, |_| {}).await {
                    tracing::error!(run = %id, error = ?e, "sync run failed to record");
                }
            });
        }
        Ok((run, queued))
    }

    /// Starts a sync of the workspace's connector `id` now, or returns its run
    /// already queued or running; CONFLICT when the connector is disabled.
    pub async fn sync_now(
        self: &Arc<Self>,
        ws: Uuid,
        id: Uuid,
        trigger: SyncTrigger,
    ) -> CoreResult<(sync_run::Model, bool)> {
        let connector = super::find(&self.db, ws, id).await?;
        if !connector.enabled {
            return Err(CoreError::conflict("the connector is disabled"));
        }
        self.trigger(&connector, trigger).await
    }

    /// Executes a queued run in the foreground, calling `progress` after each
    /// saved batch; returns the finished run. A run another instance claimed
    /// first is returned as it is.
    pub async fn execute(
        &self,
        run_id: Uuid,
        mut progress: impl FnMut(&sync_run::Model) + Send,
    ) -> CoreResult<sync_run::Model> {
        let now = time::now();
        let claimed = sync_run::Entity::update_many()
            .col_expr(sync_run::Column::Status, Expr::value(SyncStatus::Running))
            .col_expr(sync_run::Column::StartedAt, Expr::value(now))
            .col_expr(
                sync_run::Column::LeaseExpiresAt,
                Expr::value(self.lease_from(now)),
            )
            .filter(sync_run::Column::Id.eq(run_id))
            .filter(sync_run::Column::Status.eq(SyncStatus::Queued));
        let txn = db::begin_write(&self.db).await?;
        let claimed = claimed.exec_with_returning(&txn).await?;
        log_runs(&txn, &claimed).await?;
        txn.commit().await?;
        if claimed.len() == 1 {
            let outcome = self.run_batches(run_id, &mut progress).await;
            let (status, error) = match outcome {
                Ok(status) => (status, None),
                Err(RunError::LostLease) => {
                    tracing::warn!(run = %run_id, "the run was closed by another instance");
                    return self.find_run(run_id).await;
                }
                Err(RunError::Failed(code, message)) => (SyncStatus::Failed, Some((code, message))),
                Err(RunError::Core(e)) => (SyncStatus::Failed, Some(core_failure(run_id, &e))),
            };
            let error = error.as_ref().map(|(c, m)| (*c, m.as_str()));
            self.finish(run_id, status, error).await?;
            tracing::info!(run = %run_id, status = ?status, "sync run finished");
        }
        self.find_run(run_id).await
    }

    async fn run_batches(
        &self,
        run_id: Uuid,
        progress: &mut (impl FnMut(&sync_run::Model) + Send),
    ) -> Result<SyncStatus, RunError> {
        let run = self.find_run(run_id).await?;
        let connector = connector::Entity::find_by_id(run.connector_id)
            .one(&self.db)
            .await
            .map_err(CoreError::from)?
            .ok_or_else(|| {
                RunError::Failed(RunErrorCode::NotFound, "the connector was deleted".into())
            })?;
        let plugin = self.registry.get(&connector.kind).ok_or_else(|| {
            RunError::Failed(
                RunErrorCode::ConnectorConfig,
                format!("no plugin of kind `{}` in this build", connector.kind),
            )
        })?;
        let secrets = super::open_secrets(self.secrets.as_ref(), &connector)
            .map_err(|e| RunError::Failed(RunErrorCode::ConnectorSecrets, e.to_string()))?;
        let pacing = PacingLog::from_json(connector.pacing.as_ref());
        let http = HttpClient::new(self.settings.retry.clone()).with_pacing(pacing.clone());
        let mut instance = plugin
            .build(&connector.config, &secrets, http)
            .map_err(|e| RunError::Failed(RunErrorCode::ConnectorConfig, e))?;
        let mut cursor = connector.cursor.clone();
        let mut stopping = self.stopping.subscribe();
        let batches = async {
            loop {
                if *stopping.borrow() {
                    return Ok(SyncStatus::Cancelled);
                }
                // A pull may wait out a rate limit: a shutdown does not wait for
                // it, and nothing of an unsaved batch is lost (the cursor stays put).
                let batch = tokio::select! {
                    batch = instance.pull(cursor.as_ref()) => batch?,
                    _ = stopping.wait_for(|stop| *stop) => return Ok(SyncStatus::Cancelled),
                };
                let saved = self
                    .save_retrying(&connector, run_id, &batch, &pacing)
                    .await?;
                progress(&saved);
                if !batch.more {
                    return Ok(SyncStatus::Succeeded);
                }
                cursor = Some(batch.cursor);
            }
        };
        // The lease is renewed for as long as the run lives, saving included;
        // a run that is no longer ours stops at once (an unsaved batch rolls back).
        let outcome = tokio::select! {
            outcome = batches => outcome,
            lost = self.keep_lease(run_id) => Err(lost),
        };
        // Requests sent after the last batch (a failed page, say) count too.
        let saved = connector::Entity::update_many()
            .col_expr(connector::Column::Pacing, Expr::value(pacing.to_json()))
            .filter(connector::Column::Id.eq(connector.id))
            .exec(&self.db)
            .await;
        if let Err(e) = saved {
            tracing::warn!(connector = %connector.id, error = %e, "could not save the request pacing");
        }
        outcome
    }

    /// Renews the run's lease every third of its length, for as long as it is
    /// polled (a pull may wait out long rate limits); returns only when the run
    /// is no longer ours.
    async fn keep_lease(&self, run_id: Uuid) -> RunError {
        let every = self.settings.lease / 3;
        loop {
            tokio::time::sleep(every).await;
            let renewed = sync_run::Entity::update_many()
                .col_expr(
                    sync_run::Column::LeaseExpiresAt,
                    Expr::value(self.lease_from(time::now())),
                )
                .filter(sync_run::Column::Id.eq(run_id))
                .filter(sync_run::Column::Status.eq(SyncStatus::Running))
                .exec(&self.db)
                .await;
            match renewed {
                Ok(r) if r.rows_affected == 1 => {}
                Ok(_) => return RunError::LostLease,
                // The next renewal or the batch's save tries again.
                Err(e) => {
                    tracing::warn!(run = %run_id, error = %e, "could not renew the run's lease")
                }
            }
        }
    }

    /// [`SyncRuntime::save_batch`], again when a concurrent write won a
    /// unique key first.
    async fn save_retrying(
        &self,
        connector: &connector::Model,
        run_id: Uuid,
        batch: &Batch<serde_json::Value>,
        pacing: &PacingLog,
    ) -> Result<sync_run::Model, RunError> {
        let attempt = || self.save_batch(connector, run_id, batch, pacing);
        attempt
            .retry(ingestion::contention_backoff())
            .sleep(tokio::time::sleep)
            .when(|e| matches!(e, RunError::Core(e) if e.is_contended()))
            .notify(|_, pause| tracing::debug!(run = %run_id, ?pause, "batch contended; retrying"))
            .await
    }

    /// Writes one batch, the cursor after it, the request pacing and the
    /// run's counts in one transaction, if the run is still ours.
    async fn save_batch(
        &self,
        connector: &connector::Model,
        run_id: Uuid,
        batch: &Batch<serde_json::Value>,
        pacing: &PacingLog,
    ) -> Result<sync_run::Model, RunError> {
        let now = time::now();
        let ws = connector.workspace_id;
        let mut counts = BatchCounts {
            fetched: len_i32(batch.touchpoints.len()),
            ..BatchCounts::default()
        };
        let items = batch
            .touchpoints
            .iter()
            .map(|t| plugin_touchpoints::check(connector.id, &connector.kind, t.clone(), now))
            .collect();
        let txn = db::begin_write(&self.db).await?;
        let mut tally = Tally::default();
        for chunk in chunks(items) {
            let recorded = ingestion::record_in(&txn, ws, chunk).await?;
            tally.add(Tally::of(&recorded));
        }
        counts.created = len_i32(tally.created as usize);
        counts.updated = len_i32(tally.updated as usize);
        counts.unchanged = len_i32(tally.unchanged as usize);
        counts.failed = len_i32(tally.failed as usize);
        connector::Entity::update_many()
            .col_expr(connector::Column::Cursor, Expr::value(batch.cursor.clone()))
            .col_expr(connector::Column::Pacing, Expr::value(pacing.to_json()))
            .filter(connector::Column::Id.eq(connector.id))
            .exec(&txn)
            .await
            .map_err(CoreError::from)?;
        let add = |col: sync_run::Column, n: i32| Expr::col(col).add(n);
        let renewed = sync_run::Entity::update_many()
            .col_expr(
                sync_run::Column::Fetched,
                add(sync_run::Column::Fetched, counts.fetched),
            )
            .col_expr(
                sync_run::Column::Created,
                add(sync_run::Column::Created, counts.created),
            )
            .col_expr(
                sync_run::Column::Updated,
                add(sync_run::Column::Updated, counts.updated),
            )
            .col_expr(
                sync_run::Column::Unchanged,
                add(sync_run::Column::Unchanged, counts.unchanged),
            )
            .col_expr(
                sync_run::Column::Failed,
                add(sync_run::Column::Failed, counts.failed),
            )
            .col_expr(sync_run::Column::Batches, add(sync_run::Column::Batches, 1))
            .col_expr(
                sync_run::Column::LeaseExpiresAt,
                Expr::value(self.lease_from(now)),
            )
            .filter(sync_run::Column::Id.eq(run_id))
            .filter(sync_run::Column::Status.eq(SyncStatus::Running))
            .exec(&txn)
            .await
            .map_err(CoreError::from)?;
        if renewed.rows_affected != 1 {
            txn.rollback().await.map_err(CoreError::from)?;
            return Err(RunError::LostLease);
        }
        let logged = NewEvent::sync_run(connector.id, run_id);
        events::append(&txn, ws, vec![logged]).await?;
        txn.commit().await.map_err(CoreError::from)?;
        Ok(self.find_run(run_id).await?)
    }

    async fn finish(
        &self,
        run_id: Uuid,
        status: SyncStatus,
        error: Option<(RunErrorCode, &str)>,
    ) -> CoreResult<()> {
        let finished = sync_run::Entity::update_many()
            .col_expr(sync_run::Column::Status, Expr::value(status))
            .col_expr(
                sync_run::Column::ErrorCode,
                Expr::value(error.map(|(code, _)| code.as_str())),
            )
            .col_expr(
                sync_run::Column::Error,
                Expr::value(error.map(|(_, message)| message.to_owned())),
            )
            .col_expr(sync_run::Column::FinishedAt, Expr::value(time::now()))
            .col_expr(
                sync_run::Column::LeaseExpiresAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(sync_run::Column::Id.eq(run_id))
            .filter(sync_run::Column::Status.is_in([SyncStatus::Queued, SyncStatus::Running]));
        let txn = db::begin_write(&self.db).await?;
        let finished = finished.exec_with_returning(&txn).await?;
        log_runs(&txn, &finished).await?;
        txn.commit().await?;
        Ok(())
    }

    async fn find_run(&self, run_id: Uuid) -> CoreResult<sync_run::Model> {
        sync_run::Entity::find_by_id(run_id)
            .one(&self.db)
            .await?
            .ok_or(CoreError::not_found("sync run"))
    }

    fn lease(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.settings.lease).unwrap_or(chrono::Duration::hours(1))
    }

    fn lease_from(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        time::to_micros(now + self.lease())
    }

    fn lease_before(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        time::to_micros(now - self.lease())
    }

    /// Takes over abandoned runs at once, then every `tick` takes over those
    /// abandoned since and queues runs for enabled connectors whose interval
    /// has passed since their last run was queued, until
    /// [`SyncRuntime::shutdown`].
    pub fn start_scheduler(self: &Arc<Self>) {
        let runtime = Arc::clone(self);
        let mut stopping = self.stopping.subscribe();
        self.tasks.spawn(async move {
            let every = runtime.settings.tick;
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut first = true;
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stopping.wait_for(|stop| *stop) => return,
                }
                if let Err(e) = runtime.take_over_abandoned().await {
                    tracing::error!(error = ?e, "the sync scheduler could not take over runs");
                }
                // Schedules wait a tick: a server that starts is not due.
                if !std::mem::take(&mut first)
                    && let Err(e) = runtime.queue_due().await
                {
                    tracing::error!(error = ?e, "the sync scheduler could not queue runs");
                }
            }
        });
    }

    async fn queue_due(self: &Arc<Self>) -> CoreResult<()> {
        let scheduled = connector::Entity::find()
            .filter(connector::Column::Enabled.eq(true))
            .filter(connector::Column::ScheduleSeconds.is_not_null())
            .all(&self.db)
            .await?;
        if scheduled.is_empty() {
            return Ok(());
        }
        let ids: Vec<Uuid> = scheduled.iter().map(|c| c.id).collect();
        let last_queued: std::collections::HashMap<Uuid, DateTime<Utc>> = sync_run::Entity::find()
            .select_only()
            .column(sync_run::Column::ConnectorId)
            .column_as(sync_run::Column::QueuedAt.max(), "last_queued")
            .filter(sync_run::Column::ConnectorId.is_in(ids))
            .group_by(sync_run::Column::ConnectorId)
            .into_tuple::<(Uuid, DateTime<Utc>)>()
            .all(&self.db)
            .await?
            .into_iter()
            .collect();
        let now = time::now();
        for connector in scheduled {
            let every = chrono::Duration::seconds(connector.schedule_seconds.unwrap_or(0).into());
            let due = last_queued
                .get(&connector.id)
                .is_none_or(|queued| *queued + every <= now);
            if due && let Err(e) = self.trigger(&connector, SyncTrigger::Schedule).await {
                // One connector's trouble does not hold up the others.
                tracing::error!(connector = %connector.id, error = ?e, "could not queue a scheduled run");
            }
        }
        Ok(())
    }

    /// Asks the scheduler and every run to stop, runs at their next batch
    /// boundary (as CANCELLED); returns at once.
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// [`SyncRuntime::stop`], then waits for the runs to end.
    pub async fn shutdown(&self) {
        self.stop();
        self.tasks.close();
        self.tasks.wait().await;
    }
}

/// A plugin's batch may exceed the API's 1,000-item limit; the store takes
/// it in pieces within the one transaction.
fn chunks<T>(items: Vec<T>) -> Vec<Vec<T>> {
    let mut out = Vec::new();
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        out.push(items.by_ref().take(ingestion::MAX_BATCH).collect());
    }
    out
}

fn len_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Why a run failed, as recorded in `sync_run.error_code`: stable codes
/// clients branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunErrorCode {
    ConnectorUnauthorized,
    ConnectorRateLimited,
    ConnectorUnavailable,
    ConnectorRefused,
    ConnectorMalformed,
    /// The plugin refused the connector's settings, or is not in this build.
    ConnectorConfig,
    /// The secrets do not open (no key, or another key).
    ConnectorSecrets,
    /// The instance running it stopped; the next run resumes after its last batch.
    Abandoned,
    /// The connector was deleted while its run was queued.
    NotFound,
    /// Writes kept meeting concurrent ones.
    Contended,
    /// A failure of ours, detailed in the server log only.
    Internal,
}

impl RunErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConnectorUnauthorized => "CONNECTOR_UNAUTHORIZED",
            Self::ConnectorRateLimited => "CONNECTOR_RATE_LIMITED",
            Self::ConnectorUnavailable => "CONNECTOR_UNAVAILABLE",
            Self::ConnectorRefused => "CONNECTOR_REFUSED",
            Self::ConnectorMalformed => "CONNECTOR_MALFORMED",
            Self::ConnectorConfig => "CONNECTOR_CONFIG",
            Self::ConnectorSecrets => "CONNECTOR_SECRETS",
            Self::Abandoned => "ABANDONED",
            Self::NotFound => "NOT_FOUND",
            Self::Contended => "CONFLICT",
            Self::Internal => "INTERNAL",
        }
    }

    fn of_pull(e: &PullError) -> Self {
        match e {
            PullError::Unauthorized { .. } => Self::ConnectorUnauthorized,
            PullError::RateLimited { .. } => Self::ConnectorRateLimited,
            PullError::Unavailable { .. } => Self::ConnectorUnavailable,
            PullError::Refused { .. } => Self::ConnectorRefused,
            PullError::Malformed { .. } => Self::ConnectorMalformed,
        }
    }
}

/// The code and message an engine failure leaves on a run; a database
/// failure's detail goes to the log, never into the run.
fn core_failure(run_id: Uuid, e: &CoreError) -> (RunErrorCode, String) {
    match e {
        CoreError::Contended(_) => (RunErrorCode::Contended, e.to_string()),
        CoreError::NotFound { .. } => (RunErrorCode::NotFound, e.to_string()),
        _ => {
            tracing::error!(run = %run_id, error = %e.with_causes(), "sync run failed");
            (
                RunErrorCode::Internal,
                "internal error; see the server log".into(),
            )
        }
    }
}

enum RunError {
    /// The run cannot go on: the vendor refused, or the connector cannot run
    /// as configured.
    Failed(RunErrorCode, String),
    Core(CoreError),
    /// Another instance closed the run (its lease had lapsed).
    LostLease,
}

impl From<PullError> for RunError {
    fn from(e: PullError) -> Self {
        RunError::Failed(RunErrorCode::of_pull(&e), e.to_string())
    }
}

impl From<CoreError> for RunError {
    fn from(e: CoreError) -> Self {
        RunError::Core(e)
    }
}

/// Logs that these runs changed, in the caller's transaction.
async fn log_runs(txn: &impl sea_orm::ConnectionTrait, runs: &[sync_run::Model]) -> CoreResult<()> {
    for run in runs {
        let logged = NewEvent::sync_run(run.connector_id, run.id);
        events::append(txn, run.workspace_id, vec![logged]).await?;
    }
    Ok(())
}
