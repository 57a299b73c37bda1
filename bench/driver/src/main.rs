//! The benchmark harness's driver (see `bench/README.md`).
//!
//! - `ingest`: W4, batches of `recordTouchpoints` sent back to back (by one or
//!   more workers), a share of each batch re-sent from the worker's previous
//!   batch; every item's status is checked against what it must be.
//! - `load`: one GraphQL request sent over and over, at saturation or at a
//!   fixed rate with the latency measured from when each request was due
//!   (coordinated omission corrected, as `oha --latency-correction`); every
//!   response is checked for GraphQL errors. `bench/run` measures with oha;
//!   this is the smoke run's load generator and the statement-counting pass's.
//!
//! Each prints one JSON object on stdout and fails (exit code 1) on any error.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use chrono::{SecondsFormat, Utc};
use clap::{Args, Parser, Subcommand};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

#[derive(Parser)]
#[command(
    name = "journeys-bench-driver",
    about = "Drivers of the Journeys benchmark harness"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// W4: record batches of touchpoints and report touchpoints a second.
    Ingest(IngestArgs),
    /// Send one GraphQL request repeatedly and report its rate and latency.
    Load(LoadArgs),
}

#[derive(Args)]
struct Server {
    /// The GraphQL endpoint, `http://127.0.0.1:PORT/graphql`.
    #[arg(long)]
    url: String,
    /// A bearer token of the seeded workspace.
    #[arg(long, env = "JOURNEYS_BENCH_TOKEN", hide_env_values = true)]
    token: String,
}

#[derive(Args)]
struct IngestArgs {
    #[command(flatten)]
    server: Server,
    /// The seeded workspace's slug: its accounts' domains are
    /// `<slug><5-digit index>.example`.
    #[arg(long, default_value = "bench")]
    workspace: String,
    /// Accounts in the seeded workspace (items go to people at their domains).
    #[arg(long)]
    accounts: usize,
    /// People per account the items name (new ones are created).
    #[arg(long, default_value_t = 20)]
    people_per_account: usize,
    /// Timed batches per worker (after one untimed warm-up batch each).
    #[arg(long, default_value_t = 10)]
    batches: usize,
    /// Stop a worker after this many seconds even if batches remain.
    #[arg(long)]
    duration: Option<f64>,
    #[arg(long, default_value_t = 1000)]
    batch_size: usize,
    /// Percent of each batch re-sent unchanged from the worker's previous batch.
    #[arg(long, default_value_t = 0)]
    known_percent: usize,
    /// Workers sending batches at once.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Makes this run's external ids unique; random when left out.
    #[arg(long)]
    tag: Option<String>,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Args)]
struct LoadArgs {
    #[command(flatten)]
    server: Server,
    /// A file holding the JSON body `{"query": …, "variables": …}`.
    #[arg(long)]
    body_file: PathBuf,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Seconds to send for.
    #[arg(long)]
    duration: Option<f64>,
    /// Requests to send in all.
    #[arg(long)]
    requests: Option<u64>,
    /// A fixed offered rate (requests a second); latency counts from when
    /// each request was due. As fast as possible when left out.
    #[arg(long)]
    rate: Option<f64>,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Ingest(args) => ingest(args).await,
        Command::Load(args) => load(args).await,
    };
    match result {
        Ok(report) => println!("{report}"),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(1);
        }
    }
}

fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .pool_max_idle_per_host(256)
        .build()?)
}

/// Posts a GraphQL body; the `data`, or an error naming the first GraphQL error.
async fn post(client: &reqwest::Client, server: &Server, body: &Value) -> anyhow::Result<Value> {
    let response = client
        .post(&server.url)
        .bearer_auth(&server.token)
        .json(body)
        .send()
        .await?;
    let status = response.status();
    let text = response.text().await?;
    ensure!(
        status.is_success(),
        "HTTP {status}: {}",
        text.chars().take(500).collect::<String>()
    );
    let value: Value = serde_json::from_str(&text).context("the response is not JSON")?;
    if let Some(errors) = value.get("errors").filter(|e| !e.is_null()) {
        bail!(
            "GraphQL errors: {}",
            errors.to_string().chars().take(1000).collect::<String>()
        );
    }
    Ok(value["data"].clone())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn latency_summary(mut ms: Vec<f64>) -> Value {
    ms.sort_by(f64::total_cmp);
    json!({
        "p50_ms": percentile(&ms, 50.0),
        "p90_ms": percentile(&ms, 90.0),
        "p99_ms": percentile(&ms, 99.0),
        "max_ms": ms.last().copied().unwrap_or(0.0),
    })
}

async fn load(args: LoadArgs) -> anyhow::Result<Value> {
    ensure!(
        args.duration.is_some() || args.requests.is_some(),
        "give --duration or --requests"
    );
    ensure!(args.concurrency > 0, "--concurrency must be at least 1");
    let body: Value = serde_json::from_str(
        &std::fs::read_to_string(&args.body_file)
            .with_context(|| format!("reading {}", args.body_file.display()))?,
    )
    .context("the body file is not JSON")?;
    let client = client()?;
    // One request first: a wrong query fails at once, before any load.
    post(&client, &args.server, &body).await?;
    let args = Arc::new(args);
    let body = Arc::new(body);
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..args.concurrency {
        let (args, body, next, client) = (args.clone(), body.clone(), next.clone(), client.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if args.requests.is_some_and(|r| n >= r) {
                    break;
                }
                let due = match args.rate {
                    Some(rate) => start + Duration::from_secs_f64(n as f64 / rate),
                    None => Instant::now(),
                };
                if args
                    .duration
                    .is_some_and(|d| due.duration_since(start).as_secs_f64() >= d)
                {
                    break;
                }
                tokio::time::sleep_until(due.into()).await;
                post(&client, &args.server, &body).await?;
                latencies.push(due.elapsed().as_secs_f64() * 1000.0);
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await??);
    }
    let elapsed = start.elapsed().as_secs_f64();
    let requests = latencies.len();
    let mut report = json!({
        "requests": requests,
        "errors": 0,
        "seconds": elapsed,
        "requests_per_s": requests as f64 / elapsed,
        "concurrency": args.concurrency,
        "offered_rate": args.rate,
    });
    if let (Value::Object(r), Value::Object(l)) = (&mut report, latency_summary(latencies)) {
        r.extend(l);
    }
    Ok(report)
}

/// What the seed's connectors record: source, channel, kind, title.
const ACTIVITIES: [(&str, &str, &str, &str); 10] = [
    ("twitter", "SOCIAL", "tweet.mention", "Mentioned @journeys"),
    ("web", "WEB", "page.visited", "Visited /pricing"),
    (
        "web",
        "WEB",
        "whitepaper.downloaded",
        "Downloaded a whitepaper",
    ),
    (
        "zoom",
        "WEBINAR",
        "webinar.registered",
        "Registered: Journey analytics 101",
    ),
    (
        "zoom",
        "WEBINAR",
        "webinar.attended",
        "Attended: Journey analytics 101",
    ),
    (
        "email",
        "EMAIL",
        "email.clicked",
        "Clicked the product newsletter",
    ),
    (
        "email",
        "EMAIL",
        "email.replied",
        "Replied to the follow-up",
    ),
    ("api", "MEETING", "meeting.held", "Discovery call"),
    ("api", "MEETING", "demo.requested", "Requested a demo"),
    ("zendesk", "SUPPORT", "ticket.opened", "Opened a ticket"),
];

const RECORD: &str = "mutation($input: RecordTouchpointsInput!) { recordTouchpoints(input: $input) { created updated unchanged failed results { status error { code message } } } }";

struct Generator {
    rng: StdRng,
    workspace: String,
    accounts: usize,
    people: usize,
    tag: String,
    serial: u64,
}

impl Generator {
    /// A new touchpoint of a person at one of the seeded accounts, within
    /// the last seven days.
    fn item(&mut self) -> Value {
        let (source, channel, kind, title) = ACTIVITIES[self.rng.random_range(0..ACTIVITIES.len())];
        let account = self.rng.random_range(0..self.accounts);
        let n = self.people;
        // The first people of an account are the most active, as in the seed.
        let person = self.rng.random_range(0..n).min(self.rng.random_range(0..n));
        let at = Utc::now() - chrono::Duration::seconds(self.rng.random_range(60..7 * 86_400));
        self.serial += 1;
        json!({
            "source": source,
            "externalId": format!("{source}-{}-{}", self.tag, self.serial),
            "channel": channel,
            "kind": kind,
            "occurredAt": at.to_rfc3339_opts(SecondsFormat::Secs, true),
            "title": title,
            "person": {
                "email": format!("bench.person{person}@{}{account:05}.example", self.workspace),
                "name": format!("Bench Person {person}"),
            },
        })
    }
}

/// Counts of one batch's item statuses.
#[derive(Default, Clone, Copy)]
struct Statuses {
    created: u64,
    updated: u64,
    unchanged: u64,
}

async fn ingest(args: IngestArgs) -> anyhow::Result<Value> {
    ensure!(args.concurrency > 0, "--concurrency must be at least 1");
    ensure!(
        args.accounts > 0 && args.people_per_account > 0,
        "give --accounts"
    );
    ensure!(
        args.known_percent < 100,
        "--known-percent must be below 100"
    );
    let tag = args
        .tag
        .clone()
        .unwrap_or_else(|| uuid::Uuid::now_v7().simple().to_string());
    let known = args.batch_size * args.known_percent / 100;
    let client = client()?;
    let args = Arc::new(args);
    let start = Instant::now();
    let mut workers = Vec::new();
    for w in 0..args.concurrency {
        let (args, client) = (args.clone(), client.clone());
        let mut generator = Generator {
            rng: StdRng::seed_from_u64(args.seed.wrapping_mul(1000) + w as u64),
            workspace: args.workspace.clone(),
            accounts: args.accounts,
            people: args.people_per_account,
            tag: format!("{tag}-w{w}"),
            serial: 0,
        };
        workers.push(tokio::spawn(async move {
            let mut previous: Vec<Value> = Vec::new();
            let mut timings = Vec::new();
            let mut total = Statuses::default();
            let mut timed_items = 0u64;
            let mut timed_seconds = 0.0;
            let worker_start = Instant::now();
            // Batch 0 is the warm-up: untimed, and the source of batch 1's re-sent items.
            for b in 0..=args.batches {
                if b > 0
                    && args
                        .duration
                        .is_some_and(|d| worker_start.elapsed().as_secs_f64() >= d)
                {
                    break;
                }
                let resent = if b > 0 { known.min(previous.len()) } else { 0 };
                let mut items: Vec<Value> = previous[..resent].to_vec();
                while items.len() < args.batch_size {
                    items.push(generator.item());
                }
                let body = json!({ "query": RECORD, "variables": { "input": { "touchpoints": items } } });
                let sent = Instant::now();
                let data = post(&client, &args.server, &body)
                    .await
                    .with_context(|| format!("worker {w}, batch {b}"))?;
                let seconds = sent.elapsed().as_secs_f64();
                let payload = &data["recordTouchpoints"];
                let mut statuses = Statuses::default();
                for result in payload["results"].as_array().context("no results")? {
                    match result["status"].as_str() {
                        Some("CREATED") => statuses.created += 1,
                        Some("UPDATED") => statuses.updated += 1,
                        Some("UNCHANGED") => statuses.unchanged += 1,
                        Some("ERROR") => {
                            bail!("worker {w}, batch {b}: an item was refused: {}", result["error"]);
                        }
                        other => bail!("worker {w}, batch {b}: unknown status {other:?}"),
                    }
                }
                let expected_new = (args.batch_size - resent) as u64;
                ensure!(
                    statuses.created == expected_new
                        && statuses.unchanged == resent as u64
                        && statuses.updated == 0
                        && payload["created"].as_u64() == Some(statuses.created)
                        && payload["unchanged"].as_u64() == Some(statuses.unchanged),
                    "worker {w}, batch {b}: expected {expected_new} CREATED and {resent} UNCHANGED, got {} CREATED, {} UPDATED, {} UNCHANGED (payload: created {}, unchanged {})",
                    statuses.created,
                    statuses.updated,
                    statuses.unchanged,
                    payload["created"],
                    payload["unchanged"]
                );
                if b > 0 {
                    timings.push(seconds * 1000.0);
                    timed_items += items.len() as u64;
                    timed_seconds += seconds;
                    total.created += statuses.created;
                    total.updated += statuses.updated;
                    total.unchanged += statuses.unchanged;
                }
                previous = items;
            }
            anyhow::Ok((timings, total, timed_items, timed_seconds))
        }));
    }
    let mut timings = Vec::new();
    let mut total = Statuses::default();
    let mut items = 0;
    for worker in workers {
        let (t, s, n, _) = worker.await??;
        timings.extend(t);
        total.created += s.created;
        total.updated += s.updated;
        total.unchanged += s.unchanged;
        items += n;
    }
    // Wall time of the whole run, less the warm-up's share is not separable
    // with several workers: the rate is items over the sum of batch times
    // divided by the workers, i.e. over the time the timed batches took.
    let batch_seconds: f64 = timings.iter().sum::<f64>() / 1000.0;
    let wall = start.elapsed().as_secs_f64();
    let batches = timings.len();
    let mut report = json!({
        "batches": batches,
        "batch_size": args.batch_size,
        "known_percent": args.known_percent,
        "concurrency": args.concurrency,
        "touchpoints": items,
        "touchpoints_per_s": items as f64 * args.concurrency as f64 / batch_seconds.max(1e-9),
        "wall_seconds": wall,
        "created": total.created,
        "updated": total.updated,
        "unchanged": total.unchanged,
        // Any ERROR has failed the run.
        "error": 0,
        "tag": tag,
    });
    if let (Value::Object(r), Value::Object(l)) = (&mut report, latency_summary(timings)) {
        r.extend(l.into_iter().map(|(k, v)| (format!("batch_{k}"), v)));
    }
    Ok(report)
}
