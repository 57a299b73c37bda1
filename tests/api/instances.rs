//! Several `journeys serve` processes on one database, as behind a load
//! balancer: they migrate an empty database once, and a subscriber on one
//! process receives what another records.

use std::time::Duration;

use futures_util::future::join_all;
use journeys_core::testing::applied_migrations;
use migration::MigratorTrait;
use serde_json::json;

use crate::helpers::{RECORD, ServeProcess, create_account, spawn_app};
use crate::subscriptions::{Socket, TOUCHPOINTS, visit};

#[tokio::test]
async fn five_processes_started_together_on_an_empty_database_migrate_it_once() {
    let (url, _dir) = journeys_core::testing::fresh_database_url().await;
    let processes = join_all((0..5).map(|_| ServeProcess::start(&url))).await;
    for process in &processes {
        assert!(process.healthy().await, "{} is up", process.addr);
    }
    let db = sea_orm::Database::connect(&url).await.unwrap();
    assert_eq!(
        applied_migrations(&db).await,
        migration::Migrator::migrations().len()
    );
}

#[tokio::test]
async fn a_subscriber_on_one_process_receives_what_another_records() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    create_account(&app, &token, "Initech", &["initech.com"]).await;
    let (writer, reader) = tokio::join!(
        ServeProcess::start(&app.database_url),
        ServeProcess::start(&app.database_url)
    );
    let mut socket = Socket::accepted_at(&reader.addr, &token).await;
    socket.subscribe("t", TOUCHPOINTS, json!({})).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let client = reqwest::Client::new();
    for (n, id) in ["v1", "v2", "v3"].iter().enumerate() {
        let at = format!("2026-03-0{}T10:00:00Z", n + 1);
        let input = json!({ "touchpoints": [visit(id, "ada@initech.com", &at)] });
        let body = json!({ "query": RECORD, "variables": { "input": input } });
        let res = client
            .post(format!("http://{}/graphql", writer.addr))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let answer: serde_json::Value = res.json().await.unwrap();
        assert!(answer.get("errors").is_none(), "{answer}");
        let message = socket
            .next_within(Duration::from_secs(1))
            .await
            .expect("on the other process within a second of the commit");
        assert_eq!(
            message["payload"]["data"]["touchpointRecorded"]["externalId"], *id,
            "{message}"
        );
    }
}
