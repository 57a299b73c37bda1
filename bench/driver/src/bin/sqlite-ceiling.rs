//! The SQLite ceiling: the same data access as a workload, as plain SQL, in a
//! loop over N connections for a duration (see `bench/ceiling/sqlite/`).
//!
//! A script holds a `-- setup` query, run once, whose one row's columns are
//! the parameters `?1`, `?2`, … of every statement, then one or more
//! `-- statement` sections run in turn per iteration (one iteration stands for
//! one request). A statement holding a line `-- repeat N` is a multi-row
//! statement: the rows from there to a line `-- end repeat` (or the end) are
//! repeated N times, joined by commas.
//!
//! It goes through sqlx, the driver the server uses, on its own connections
//! in WAL mode with `synchronous=NORMAL` as the server opens them, and prints
//! one JSON object: iterations, iterations a second, and their latencies.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use clap::Parser;
use sea_orm::sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sea_orm::sqlx::{self, Arguments, AssertSqlSafe, Column, Row, TypeInfo, ValueRef};
use serde_json::json;

#[derive(Parser)]
#[command(
    name = "sqlite-ceiling",
    about = "Plain SQL against the seeded SQLite file"
)]
struct Cli {
    /// The seeded database file.
    #[arg(long)]
    db: PathBuf,
    /// The script (see the module's documentation).
    #[arg(long)]
    script: PathBuf,
    /// Connections, each in its own loop.
    #[arg(long, default_value_t = 2)]
    connections: usize,
    #[arg(long, default_value_t = 20.0)]
    duration: f64,
}

#[derive(Clone, Debug)]
enum Param {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

fn params_of(row: &SqliteRow) -> anyhow::Result<Vec<Param>> {
    let mut params = Vec::new();
    for (i, column) in row.columns().iter().enumerate() {
        let raw = row.try_get_raw(i)?;
        let param = if raw.is_null() {
            Param::Null
        } else {
            match raw.type_info().name() {
                "INTEGER" | "BOOLEAN" | "INT8" => Param::Int(row.try_get(i)?),
                "REAL" => Param::Real(row.try_get(i)?),
                "BLOB" => Param::Blob(row.try_get(i)?),
                "TEXT" | "DATETIME" | "DATE" | "TIME" => Param::Text(row.try_get(i)?),
                other => anyhow::bail!("setup column {} has type {other}", column.name()),
            }
        };
        params.push(param);
    }
    Ok(params)
}

fn arguments(params: &[Param]) -> anyhow::Result<SqliteArguments> {
    let mut args = SqliteArguments::default();
    for p in params {
        match p {
            Param::Null => args.add(Option::<i64>::None),
            Param::Int(v) => args.add(*v),
            Param::Real(v) => args.add(*v),
            Param::Text(v) => args.add(v.clone()),
            Param::Blob(v) => args.add(v.clone()),
        }
        .map_err(|e| anyhow::anyhow!("binding a parameter: {e}"))?;
    }
    Ok(args)
}

struct Script {
    setup: String,
    statements: Vec<String>,
}

fn parse(text: &str) -> anyhow::Result<Script> {
    let mut setup = None;
    let mut statements = Vec::new();
    let mut current: Option<(bool, String)> = None;
    let mut flush = |current: &mut Option<(bool, String)>| -> anyhow::Result<()> {
        if let Some((is_setup, sql)) = current.take() {
            let sql = expand(&sql)?;
            if is_setup {
                setup = Some(sql);
            } else {
                statements.push(sql);
            }
        }
        Ok(())
    };
    for line in text.lines() {
        match line.trim() {
            "-- setup" => {
                flush(&mut current)?;
                current = Some((true, String::new()));
            }
            "-- statement" => {
                flush(&mut current)?;
                current = Some((false, String::new()));
            }
            _ => {
                if let Some((_, sql)) = current.as_mut() {
                    sql.push_str(line);
                    sql.push('\n');
                }
            }
        }
    }
    flush(&mut current)?;
    let setup = setup.context("the script has no `-- setup` section")?;
    ensure!(
        !statements.is_empty(),
        "the script has no `-- statement` section"
    );
    Ok(Script { setup, statements })
}

/// Expands the rows between a `-- repeat N` line and `-- end repeat` (or the
/// end): N times, comma-joined.
fn expand(sql: &str) -> anyhow::Result<String> {
    let Some(at) = sql.find("-- repeat ") else {
        return Ok(sql.trim().trim_end_matches(';').to_owned());
    };
    let (head, rest) = sql.split_at(at);
    let (line, body) = rest.split_once('\n').unwrap_or((rest, ""));
    let n: usize = line["-- repeat ".len()..]
        .trim()
        .parse()
        .context("`-- repeat N` needs a number")?;
    let (row, tail) = body.split_once("-- end repeat").unwrap_or((body, ""));
    let row = row.trim().trim_end_matches(';');
    let rows = vec![row; n].join(",\n");
    let tail = tail.trim().trim_end_matches(';');
    Ok(format!("{head}{rows}\n{tail}"))
}

#[tokio::main]
async fn main() {
    if let Err(e) = run(Cli::parse()).await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let script = parse(
        &std::fs::read_to_string(&cli.script)
            .with_context(|| format!("reading {}", cli.script.display()))?,
    )?;
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", cli.db.display()))?
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(u32::try_from(cli.connections)?)
        .min_connections(u32::try_from(cli.connections)?)
        .connect_with(options)
        .await?;
    let row = sqlx::query(AssertSqlSafe(script.setup.clone()))
        .fetch_optional(&pool)
        .await
        .context("the setup query")?
        .context("the setup query found no row")?;
    let params = Arc::new(params_of(&row)?);
    let statements = Arc::new(script.statements);
    // One iteration first: a wrong statement fails before the loop.
    let mut rows = 0usize;
    for sql in statements.iter() {
        rows += sqlx::query_with(AssertSqlSafe(sql.clone()), arguments(&params)?)
            .fetch_all(&pool)
            .await
            .with_context(|| format!("running {}", sql.chars().take(300).collect::<String>()))?
            .len();
    }
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(cli.duration);
    let mut workers = Vec::new();
    for _ in 0..cli.connections {
        let (pool, params, statements) = (pool.clone(), params.clone(), statements.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut conn = pool.acquire().await?;
            while Instant::now() < deadline {
                let began = Instant::now();
                for sql in statements.iter() {
                    sqlx::query_with(AssertSqlSafe(sql.clone()), arguments(&params)?)
                        .fetch_all(&mut *conn)
                        .await?;
                }
                latencies.push(began.elapsed().as_secs_f64() * 1000.0);
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await??);
    }
    let elapsed = start.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let pick = |p: f64| {
        let rank = ((p / 100.0) * latencies.len() as f64).ceil() as usize;
        latencies
            .get(rank.clamp(1, latencies.len().max(1)) - 1)
            .copied()
            .unwrap_or(0.0)
    };
    println!(
        "{}",
        json!({
            "iterations": latencies.len(),
            "seconds": elapsed,
            "iterations_per_s": latencies.len() as f64 / elapsed,
            "statements_per_iteration": statements.len(),
            "rows_first_iteration": rows,
            "connections": cli.connections,
            "p50_ms": pick(50.0),
            "p99_ms": pick(99.0),
        })
    );
    Ok(())
}
