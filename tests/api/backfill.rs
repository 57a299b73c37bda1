//! Rebuilding journeys survives its instance: a real `journeys serve` is
//! SIGKILLed mid-rebuild, and a restarted one takes the rebuild over after
//! the lease lapses, from the last chunk committed.

use std::time::{Duration, Instant};

use entity::journey_model;
use journeys_core::journeys::backfill::{Backfill, BackfillState};
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{ServeProcess, create_account, record, spawn_app};

const ACCOUNTS: usize = 120;

/// One account per transaction, so that the rebuild takes a while.
const SLOW: &[(&str, &str)] = &[("JOURNEYS_BACKFILL_CHUNK", "1")];

async fn progress(db: &sea_orm::DatabaseConnection, model: Uuid) -> Backfill {
    let row = journey_model::Entity::find_by_id(model)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    Backfill::of(&row, journeys_core::time::now())
}

async fn create_model(addr: &str, token: &str) -> Value {
    let body: Value = reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .bearer_auth(token)
        .json(&json!({
            "query": "mutation { createJourneyModel(input: { template: KOPAN }) { journeyModel { id } } }",
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["data"]["createJourneyModel"]["journeyModel"]["id"].clone()
}

#[tokio::test]
async fn a_rebuild_whose_instance_was_killed_is_taken_over_and_finishes() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let mut items = Vec::new();
    for a in 0..ACCOUNTS {
        let domain = format!("company{a:03}.com");
        create_account(&app, &token, &format!("Company {a:03}"), &[&domain]).await;
        for (t, (kind, channel, day)) in [
            ("page.visited", "WEB", 1),
            ("webinar.registered", "WEBINAR", 5),
            ("meeting.held", "MEETING", 9),
        ]
        .into_iter()
        .enumerate()
        {
            items.push(json!({
                "externalId": format!("{a}-{t}"), "channel": channel, "kind": kind,
                "occurredAt": format!("2026-02-{day:02}T10:00:00Z"),
                "person": { "email": format!("ada@{domain}") }
            }));
        }
    }
    for chunk in items.chunks(500) {
        record(&app, &token, json!(chunk)).await;
    }

    let mut first = ServeProcess::start_with(&app.database_url, SLOW).await;
    let id = create_model(&first.addr, &token).await;
    let model = journeys_api::graphql::ids::decode(
        &async_graphql::ID(id.as_str().unwrap().to_owned()),
        journeys_api::graphql::ids::NodeType::JourneyModel,
    )
    .unwrap();
    // Killed once it has committed some chunks and not all.
    let started = Instant::now();
    loop {
        let p = progress(&app.db, model).await;
        if p.processed >= 3 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{p:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.kill();
    let killed = progress(&app.db, model).await;
    assert!(
        killed.processed < killed.total,
        "the rebuild finished before the kill: {killed:?}"
    );
    assert_eq!(
        killed.state,
        BackfillState::Running,
        "its lease still holds"
    );

    let _second = ServeProcess::start_with(&app.database_url, SLOW).await;
    let restarted = Instant::now();
    let done = loop {
        let p = progress(&app.db, model).await;
        if p.state == BackfillState::Done {
            break p;
        }
        assert!(restarted.elapsed() < Duration::from_secs(60), "{p:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(done.processed, ACCOUNTS as u64);
    assert_eq!(done.total, ACCOUNTS as u64);

    // Every account, the ones rebuilt before the kill and after, has the
    // same path once: nothing lost, nothing doubled.
    let q = r#"query($m: ID!) { accounts(first: 200) { nodes {
        journey(modelId: $m) { transitions { to { key } occurredAt } } } } }"#;
    let data = app.ok(&token, q, json!({ "m": id })).await;
    let paths: Vec<&Value> = data["accounts"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["journey"]["transitions"])
        .collect();
    assert_eq!(paths.len(), ACCOUNTS);
    assert!(!paths[0].as_array().unwrap().is_empty(), "{}", paths[0]);
    for path in &paths {
        assert_eq!(*path, paths[0]);
    }
}
