//! How the funnel's latency grows with the workspace: seeds a small and a large
//! workspace through the real ingestion path, then times the same funnel query on
//! each and prints the ratio. The funnel reads stage transitions, not
//! touchpoints, so the ratio should stay far below the ratio of the sizes.
//!
//! Then it times a scoring rule change on each, which rescores the whole
//! workspace: that one is expected to grow with the data, and the ratio says
//! how close to linearly.
//!
//! `cargo bench --bench funnel` (sizes: JOURNEYS_BENCH_SMALL, JOURNEYS_BENCH_LARGE
//! touchpoints; 10,000 and 200,000 by default, 1,000,000 for the full run).

// The whole schema's resolver futures nest deeper than the default limit.
#![recursion_limit = "256"]

use std::collections::HashSet;
use std::time::{Duration, Instant};

use async_graphql::Request;
use chrono::Utc;
use entity::vocab::Channel;
use journeys_api::auth::{Principal, Scope};
use journeys_api::graphql;
use journeys_api::graphql::context::RequestContext;
use journeys_core::db::{self, StatementCounter};
use journeys_core::ingestion::{self, NewPerson, NewTouchpoint, RawTouchpoint};
use journeys_core::workspaces;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const KINDS: [(&str, Channel); 6] = [
    ("tweet.mention", Channel::Social),
    ("page.visited", Channel::Web),
    ("webinar.registered", Channel::Webinar),
    ("email.opened", Channel::Email),
    ("meeting.held", Channel::Meeting),
    ("ticket.opened", Channel::Support),
];

fn size(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Records a batch through ingestion, the path `recordTouchpoints` takes.
async fn record(db: &sea_orm::DatabaseConnection, ws: uuid::Uuid, batch: Vec<RawTouchpoint>) {
    ingestion::record(db, ws, batch.len(), |now| {
        batch
            .iter()
            .map(|raw| NewTouchpoint::check(raw.clone(), now))
            .collect()
    })
    .await
    .expect("batch recorded");
}

/// Seeds `touchpoints` touchpoints over `touchpoints / 100` accounts; returns the
/// workspace principal.
async fn seed(db: &sea_orm::DatabaseConnection, slug: &str, touchpoints: usize) -> Principal {
    let ws = workspaces::create(db, slug, slug).await.expect("workspace");
    let accounts = (touchpoints / 100).max(1);
    let mut rng = StdRng::seed_from_u64(7);
    let now = Utc::now();
    let mut batch = Vec::with_capacity(1_000);
    for i in 0..touchpoints {
        // Later kinds happen later, so accounts move through the stages.
        let step = rng.random_range(0..KINDS.len());
        let (kind, channel) = KINDS[step];
        let days = 360 - (step as i64 * 50) - rng.random_range(0..40);
        let occurred_at = now - chrono::Duration::days(days);
        batch.push(RawTouchpoint {
            person: Some(NewPerson {
                email: Some(format!(
                    "p{}@a{}.example",
                    i % 3,
                    rng.random_range(0..accounts)
                )),
                ..Default::default()
            }),
            ..RawTouchpoint::new("bench", &format!("{i}"), channel, kind, occurred_at)
        });
        if batch.len() == 1_000 {
            record(db, ws.id, std::mem::take(&mut batch)).await;
        }
    }
    if !batch.is_empty() {
        record(db, ws.id, batch).await;
    }
    Principal {
        subject: "bench".into(),
        workspace_id: ws.id,
        workspace_slug: slug.into(),
        scopes: HashSet::from(Scope::ALL),
    }
}

/// The median time of `runs` funnel queries over the last year.
async fn time_funnel(
    schema: &graphql::JourneysSchema,
    db: &sea_orm::DatabaseConnection,
    who: &Principal,
    runs: usize,
) -> Duration {
    let models = schema
        .execute(
            Request::new("{ journeyModels { id } }")
                .data(RequestContext::new(db.clone(), Some(who.clone()))),
        )
        .await;
    let model = models.data.into_json().unwrap()["journeyModels"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let from = (Utc::now() - chrono::Duration::days(365)).to_rfc3339();
    let to = Utc::now().to_rfc3339();
    let query = format!(
        r#"{{ funnel(modelId: "{model}", from: "{from}", to: "{to}") {{ stages {{ entered movedOn medianSeconds p90Seconds }} }} }}"#
    );
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        let response = schema
            .execute(Request::new(&query).data(RequestContext::new(db.clone(), Some(who.clone()))))
            .await;
        times.push(started.elapsed());
        assert!(response.errors.is_empty(), "{:?}", response.errors);
    }
    times.sort();
    times[runs / 2]
}

/// The median time of three `upsertScoringRule` calls, each rescoring the
/// workspace (the first also warms the cache).
async fn time_rule_change(
    schema: &graphql::JourneysSchema,
    db: &sea_orm::DatabaseConnection,
    who: &Principal,
) -> Duration {
    let mut times = Vec::with_capacity(3);
    for points in [3, 4, 5] {
        let query = format!(
            r#"mutation {{ upsertScoringRule(input: {{ name: "visits", kind: "page.visited", points: {points}, maxCount: 5, halfLifeDays: 30 }}) {{ scoringRule {{ id }} }} }}"#
        );
        let started = Instant::now();
        let response = schema
            .execute(Request::new(query).data(RequestContext::new(db.clone(), Some(who.clone()))))
            .await;
        times.push(started.elapsed());
        assert!(response.errors.is_empty(), "{:?}", response.errors);
    }
    times.sort();
    times[1]
}

#[tokio::main]
async fn main() {
    let small = size("JOURNEYS_BENCH_SMALL", 10_000);
    let large = size("JOURNEYS_BENCH_LARGE", 200_000);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/bench.db?mode=rwc", dir.path().display());
    let db = db::connect(&url, &StatementCounter::default())
        .await
        .unwrap();
    let schema = graphql::schema();
    let started = Instant::now();
    let small_ws = seed(&db, "small", small).await;
    let large_ws = seed(&db, "large", large).await;
    eprintln!(
        "seeded {} touchpoints in {:.1?}",
        small + large,
        started.elapsed()
    );
    let t_small = time_funnel(&schema, &db, &small_ws, 21).await;
    let t_large = time_funnel(&schema, &db, &large_ws, 21).await;
    println!("funnel over {small} touchpoints: {t_small:.2?} (median of 21)");
    println!("funnel over {large} touchpoints: {t_large:.2?} (median of 21)");
    println!(
        "data grew {:.0}x, funnel time grew {:.1}x",
        large as f64 / small as f64,
        t_large.as_secs_f64() / t_small.as_secs_f64()
    );
    let r_small = time_rule_change(&schema, &db, &small_ws).await;
    let r_large = time_rule_change(&schema, &db, &large_ws).await;
    println!("rule change over {small} touchpoints: {r_small:.2?} (median of 3)");
    println!("rule change over {large} touchpoints: {r_large:.2?} (median of 3)");
    println!(
        "data grew {:.0}x, rule change time grew {:.1}x",
        large as f64 / small as f64,
        r_large.as_secs_f64() / r_small.as_secs_f64()
    );
}
