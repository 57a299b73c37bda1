//! Database connection: SQLite (embedded default) or PostgreSQL, migrated on start.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use migration::{Migrator, MigratorTrait};

use crate::CoreResult;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
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
    let mut db = Database::connect(options).await?;
    let count = counter.0.clone();
    db.set_metric_callback(move |info| {
        count.fetch_add(1, Ordering::Relaxed);
        tracing::trace!(target: "journeys::sql", elapsed = ?info.elapsed, failed = info.failed, sql = %info.statement.sql);
    });
    Migrator::up(&db, None).await?;
    Ok(db)
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

/// Commits a transaction from [`begin_write`], so that callers outside the
/// engine meet only [`crate::CoreError`].
pub async fn commit(txn: DatabaseTransaction) -> CoreResult<()> {
    Ok(txn.commit().await?)
}

/// True when the database answers and every migration is applied.
pub async fn is_ready(db: &DatabaseConnection) -> bool {
    matches!(Migrator::get_pending_migrations(db).await, Ok(pending) if pending.is_empty())
}
