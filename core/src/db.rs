//! Database connection: SQLite (embedded default) or PostgreSQL, migrated on start.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use migration::{Migrator, MigratorTrait};

use crate::CoreResult;
use sea_orm::sea_query::OnConflict;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection,
    DatabaseTransaction, DbBackend, DbErr, EntityTrait, Iterable, QueryFilter, QueryOrder,
    QuerySelect, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

/// Where the embedded database lives when no `DATABASE_URL` is given.
pub const DEFAULT_SQLITE_URL: &str = "sqlite://journeys.db?mode=rwc";

/// Counts the SQL statements a connection runs; tests use it to prove that nested
/// lists are batched, and it is cheap enough to leave on.
#[derive(Clone, Default, Debug)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// How long the first connection to PostgreSQL may take before the start fails.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// One connection to PostgreSQL before the pool is built, so an unreachable
/// server fails the start within seconds naming its address and the cause
/// (the pool would only say it timed out, after its acquire time-out). Never
/// names the URL: it may hold a password.
async fn probe(url: &str) -> Result<(), DbErr> {
    use sea_orm::sqlx::Connection;
    use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection};
    if !url.starts_with("postgres") {
        return Ok(());
    }
    let options: PgConnectOptions = url
        .parse()
        .map_err(|e| DbErr::Custom(format!("DATABASE_URL is not a PostgreSQL URL: {e}")))?;
    let address = format!("{}:{}", options.get_host(), options.get_port());
    match tokio::time::timeout(PROBE_TIMEOUT, PgConnection::connect_with(&options)).await {
        Ok(Ok(connection)) => {
            connection.close().await.ok();
            Ok(())
        }
        Ok(Err(e)) => Err(DbErr::Custom(format!(
            "cannot connect to the database at {address}: {e}"
        ))),
        Err(_) => Err(DbErr::Custom(format!(
            "cannot connect to the database at {address}: no answer within {} s",
            PROBE_TIMEOUT.as_secs()
        ))),
    }
}

/// Opens the database at `url` and applies pending migrations.
pub async fn connect(url: &str, counter: &StatementCounter) -> Result<DatabaseConnection, DbErr> {
    probe(url).await?;
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30));
    if url.starts_with("sqlite:") {
        // WAL lets readers run beside the one writer; writers queue on the busy
        // timeout because every write transaction begins IMMEDIATE (see `begin_write`).
        options
            .max_connections(4)
            .min_connections(1)
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
            });
    } else {
        options.max_connections(16).min_connections(1);
    }
    // A fresh SQLite file turns to WAL on its first connection, which needs
    // the file to itself: instances starting together on one new file can
    // find it locked for that moment, and try again.
    let open = || Database::connect(options.clone());
    let mut db = open
        .retry(
            ExponentialBuilder::default()
                .with_min_delay(Duration::from_millis(20))
                .with_max_delay(Duration::from_millis(500))
                .with_max_times(10)
                .with_jitter(),
        )
        .sleep(tokio::time::sleep)
        .when(is_locked)
        .await?;
    let count = counter.0.clone();
    db.set_metric_callback(move |info| {
        count.fetch_add(1, Ordering::Relaxed);
        tracing::trace!(target: "journeys::sql", elapsed = ?info.elapsed, failed = info.failed, sql = %info.statement.sql);
    });
    migrate(&db).await?;
    Ok(db)
}

/// SQLite's "database is locked" (`SQLITE_BUSY`) while a connection opens.
fn is_locked(err: &DbErr) -> bool {
    let DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e)) = err else {
        return false;
    };
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|code| code == "5")
}

/// The PostgreSQL advisory lock that migrations run under ("journeys").
const MIGRATION_LOCK: i64 = 0x6a6f_7572_6e65_7973;

/// Applies pending migrations once, however many instances (or a server
/// and a CLI command) start at the same moment; without this, two create
/// the same tables at once and one fails. On PostgreSQL one connection
/// holds an advisory lock for the migrations' length: the others wait on
/// it, then find nothing pending. The lock goes with its session, so a
/// killed instance never leaves it held.
async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        // SQLite: in one IMMEDIATE transaction, whose write lock the others
        // wait for (the busy timeout) before they find nothing pending.
        let txn = db
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await?;
        Migrator::up(&txn, None).await?;
        return txn.commit().await;
    }
    use sea_orm::sqlx;
    let lock_error = |e: sqlx::Error| DbErr::Custom(format!("the migration lock: {e}"));
    let mut session = db
        .get_postgres_connection_pool()
        .acquire()
        .await
        .map_err(lock_error)?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *session)
        .await
        .map_err(lock_error)?;
    let migrated = Migrator::up(db, None).await;
    let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *session)
        .await;
    if let Err(e) = unlocked {
        // Closing the session releases it instead.
        tracing::warn!(error = %e, "releasing the migration lock");
        let _ = session.close().await;
    }
    migrated
}

/// Begins a transaction that will write. On SQLite it takes the write lock at
/// once, so two writers never deadlock upgrading read locks; PostgreSQL ignores
/// the mode.
pub async fn begin_write(db: &DatabaseConnection) -> CoreResult<DatabaseTransaction> {
    Ok(db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await?)
}

/// Locks the rows of `E` whose `id` is among `ids` until the transaction
/// ends, so that a concurrent transaction writing the same rows commits
/// before this one reads what they derive from: in id order, so that two
/// such transactions cannot deadlock on each other, and `FOR NO KEY UPDATE`,
/// which leaves foreign keys' share locks free. On SQLite a write
/// transaction already holds the whole database: no statement.
pub async fn lock_in_order<E: EntityTrait>(
    txn: &impl ConnectionTrait,
    id: E::Column,
    ids: impl IntoIterator<Item = uuid::Uuid>,
) -> CoreResult<()> {
    let ids: std::collections::BTreeSet<uuid::Uuid> = ids.into_iter().collect();
    if ids.is_empty() || txn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    E::find()
        .select_only()
        .column(id)
        .filter(id.is_in(ids))
        .order_by_asc(id)
        .lock(sea_orm::sea_query::LockType::NoKeyUpdate)
        .into_tuple::<uuid::Uuid>()
        .all(txn)
        .await?;
    Ok(())
}

/// Rows deleted per statement by [`delete_in_chunks`], so that pruning
/// never holds a long lock.
const DELETE_CHUNK: u64 = 5_000;

/// Deletes the rows `chosen` selects, in its order, a chunk per statement;
/// returns how many.
pub async fn delete_in_chunks<E: EntityTrait>(
    db: &impl ConnectionTrait,
    chosen: sea_orm::Select<E>,
    id: E::Column,
) -> CoreResult<u64> {
    let mut deleted = 0;
    loop {
        let ids: Vec<uuid::Uuid> = chosen
            .clone()
            .select_only()
            .column(id)
            .limit(DELETE_CHUNK)
            .into_tuple()
            .all(db)
            .await?;
        let n = ids.len() as u64;
        if n > 0 {
            E::delete_many().filter(id.is_in(ids)).exec(db).await?;
        }
        deleted += n;
        if n < DELETE_CHUNK {
            return Ok(deleted);
        }
    }
}

/// Commits a transaction from [`begin_write`], so that callers outside the
/// engine meet only [`crate::CoreError`].
pub async fn commit(txn: DatabaseTransaction) -> CoreResult<()> {
    Ok(txn.commit().await?)
}

/// True when the database answers and every migration is applied.
pub async fn is_ready(db: &DatabaseConnection) -> bool {
    matches!(Migrator::get_pending_migrations(db).await, Ok(pending) if pending.is_empty())
}

/// Bound values per multi-row statement: SQLite takes at most 32,766 and
/// PostgreSQL 65,535.
const MAX_VALUES: usize = 30_000;

/// How many rows of `A` one multi-row statement may carry.
fn rows_per_statement<A: ActiveModelTrait>() -> usize {
    let columns = <A::Entity as EntityTrait>::Column::iter().count().max(1);
    (MAX_VALUES / columns).max(1)
}

/// Inserts `rows` in as few multi-row statements as the backends' limits on
/// bound values allow: one for a batch of 1,000 touchpoints. Returns how
/// many rows were inserted, fewer than given when `on_conflict` skipped some.
pub async fn insert_all<A>(
    db: &impl ConnectionTrait,
    rows: Vec<A>,
    on_conflict: Option<OnConflict>,
) -> CoreResult<u64>
where
    A: ActiveModelTrait + Send,
{
    let per = rows_per_statement::<A>();
    let mut rows = rows.into_iter().peekable();
    let mut inserted = 0;
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(per).collect();
        let mut insert = A::Entity::insert_many(chunk);
        if let Some(on_conflict) = on_conflict.clone() {
            insert = insert.on_conflict(on_conflict);
        }
        inserted += insert.exec_without_returning(db).await?;
    }
    Ok(inserted)
}

/// Writes `rows`, whole rows keyed by `id`, over the stored ones in as few
/// statements as [`insert_all`]: an `UPDATE` per row would cost a round trip
/// each.
pub async fn update_all<A>(
    db: &impl ConnectionTrait,
    rows: Vec<A>,
    id: <A::Entity as EntityTrait>::Column,
    columns: impl IntoIterator<Item = <A::Entity as EntityTrait>::Column>,
) -> CoreResult<()>
where
    A: ActiveModelTrait + Send,
{
    let on_conflict = OnConflict::column(id).update_columns(columns).to_owned();
    insert_all(db, rows, Some(on_conflict)).await?;
    Ok(())
}
