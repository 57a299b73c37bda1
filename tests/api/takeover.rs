//! A run whose instance was SIGKILLed mid-pull is taken over within a
//! minute, by the same instance restarted or by another one on the same
//! database, and resumes after its last saved batch: nothing lost, nothing
//! doubled. A webhook delivery cut off the same way is sent again by
//! another instance once its lease lapses. The killed instance is a real
//! `journeys serve` process.

use std::time::{Duration, Instant};

use journeys_core::connectors::sync::SyncSettings;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::connectors::{
    EXPORT, create, export_page, external_ids, no_events_or_ratings, ticket, user, zendesk_input,
};
use crate::helpers::{
    SERVE_LEASE_SECS, ServeProcess, TestApp, quick_sync, spawn_app, spawn_app_with_sync, sync_runs,
};
use crate::webhooks_out::{create as create_endpoint, hook_url, received_within, visit};

/// Asks the instance for a sync of the connector.
async fn trigger(instance: &ServeProcess, token: &str, connector: &str) {
    let body: Value = reqwest::Client::new()
        .post(format!("http://{}/graphql", instance.addr))
        .bearer_auth(token)
        .json(&json!({
            "query": "mutation($id: ID!) { triggerSync(input: {connectorId: $id}) { queued } }",
            "variables": { "id": connector },
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["data"]["triggerSync"]["queued"], true, "{body}");
}

/// A Zendesk export of two pages, the second of which hangs (for now).
async fn two_pages_the_second_hanging(server: &MockServer) -> wiremock::MockGuard {
    let ana = user(501, "Ana Souza", "ana@acme.example");
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .and(query_param_is_missing("cursor"))
        .respond_with(ResponseTemplate::new(200).set_body_json(export_page(
            vec![ticket(1, "open", 501, 2)],
            vec![ana],
            "c1",
            false,
        )))
        .mount(server)
        .await;
    no_events_or_ratings(server).await;
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .and(query_param("cursor", "c1"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(600)))
        .mount_as_scoped(server)
        .await
}

/// The second page answers at once from now on.
async fn second_page_answers(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .and(query_param("cursor", "c1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(export_page(
            vec![ticket(2, "solved", 501, 3)],
            vec![user(501, "Ana Souza", "ana@acme.example")],
            "c2",
            true,
        )))
        .mount(server)
        .await;
}

/// Waits until the instance asks for the second page: the first is saved
/// and the run is RUNNING, mid-pull.
async fn wait_for_second_page(server: &MockServer) {
    for _ in 0..600 {
        let asked =
            server.received_requests().await.unwrap().iter().any(|r| {
                r.url.path() == EXPORT && r.url.query().unwrap_or("").contains("cursor=c1")
            });
        if asked {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the second page was never asked for");
}

/// Waits for the connector's newest run to succeed; returns how long it took.
/// (Reads only the newest run: `sync_runs` checks that its count and its
/// page agree, which a takeover landing between the two reads would upset.)
async fn wait_for_takeover(
    app: &TestApp,
    token: &str,
    connector: &str,
    since: Instant,
) -> Duration {
    let newest = "query($id: ID!) { syncRuns(connectorId: $id, first: 1) { nodes { status } } }";
    loop {
        let runs = app.ok(token, newest, json!({ "id": connector })).await;
        if runs["syncRuns"]["nodes"][0]["status"] == "SUCCEEDED" {
            return since.elapsed();
        }
        assert!(
            since.elapsed() < Duration::from_secs(90),
            "no takeover: {runs}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Kills the instance mid-run, lets `survivor` take over, and checks what
/// the runs and the touchpoints came to.
async fn killed_run_is_taken_over(app: &TestApp, survivor: impl AsyncFnOnce(&str)) {
    let ws_token = app.admin("acme");
    let server = MockServer::start().await;
    let hanging = two_pages_the_second_hanging(&server).await;
    let connector = create(app, &ws_token, zendesk_input(&server)).await;
    let connector = connector["id"].as_str().unwrap().to_owned();

    let mut first = ServeProcess::start(&app.database_url).await;
    trigger(&first, &ws_token, &connector).await;
    wait_for_second_page(&server).await;
    first.kill();
    let killed = Instant::now();
    drop(hanging);
    second_page_answers(&server).await;

    survivor(&app.database_url).await;
    let took = wait_for_takeover(app, &ws_token, &connector, killed).await;
    assert!(took < Duration::from_secs(60), "taken over after {took:?}");

    let runs = sync_runs(app, &ws_token, &connector).await;
    // The takeover fetched only the second page and the ratings: the first
    // page had been saved with its cursor before the kill.
    assert_eq!(
        runs,
        json!([
            ["SUCCEEDED", null, [2, 2, 0, 0, 0, 3]],
            ["FAILED", "ABANDONED", [1, 1, 0, 0, 0, 1]],
        ]),
    );
    let triggers = app
        .ok(
            &ws_token,
            "query($id: ID!) { syncRuns(connectorId: $id, first: 5) { nodes { trigger } } }",
            json!({ "id": connector }),
        )
        .await;
    assert_eq!(
        triggers["syncRuns"]["nodes"],
        json!([{ "trigger": "TAKEOVER" }, { "trigger": "API" }])
    );
    assert_eq!(
        external_ids(app, &ws_token, "zendesk").await,
        ["ticket:1:opened", "ticket:2:opened", "ticket:2:solved"]
    );
}

#[tokio::test]
async fn a_killed_run_is_taken_over_by_the_restarted_instance() {
    // The in-process server only reads and writes fixtures: it looks for
    // abandoned runs once, at its start, before there are any.
    let app = spawn_app().await;
    app.workspace("acme").await;
    let mut restarted = None;
    killed_run_is_taken_over(&app, async |database_url| {
        restarted = Some(ServeProcess::start(database_url).await);
    })
    .await;
    drop(restarted);
}

#[tokio::test]
async fn a_killed_run_is_taken_over_by_another_instance() {
    // This instance runs beside the one killed, and looks every second.
    let app = spawn_app_with_sync(SyncSettings {
        lease: Duration::from_secs(SERVE_LEASE_SECS),
        tick: Duration::from_secs(1),
        ..quick_sync()
    })
    .await;
    app.workspace("acme").await;
    killed_run_is_taken_over(&app, async |_| {}).await;
}

/// An instance killed while its receiver has not yet answered never records
/// the attempt nor moves the endpoint on: once its lease lapses, another
/// instance sends the same event (the same `webhook-id`) and it is recorded
/// delivered once.
#[tokio::test]
async fn a_killed_webhook_delivery_is_sent_again_by_another_instance() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let server = MockServer::start().await;
    let hanging = Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(600)))
        .mount_as_scoped(&server)
        .await;
    let env = [
        ("JOURNEYS_WEBHOOK_ALLOW_PRIVATE", "true"),
        ("JOURNEYS_WEBHOOK_LEASE_SECS", "15"),
    ];
    let mut first = ServeProcess::start_with(&app.database_url, &env).await;
    let url = hook_url(&server);
    let (endpoint, _) = create_endpoint(&app, &token, &url, &["TOUCHPOINT_RECORDED"]).await;
    visit(&app, &token, "v1").await;
    let sent = received_within(&server, "/hook", 1, Duration::from_secs(20)).await;
    first.kill();
    let killed = Instant::now();
    drop(hanging);
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;

    let _second = ServeProcess::start_with(&app.database_url, &env).await;
    let resent = received_within(&server, "/hook", 2, Duration::from_secs(40)).await;
    let took = killed.elapsed();
    assert!(took < Duration::from_secs(40), "taken over after {took:?}");
    let id = |r: &wiremock::Request| r.headers["webhook-id"].to_str().unwrap().to_owned();
    assert_eq!(id(&resent[1]), id(&sent[0]), "the same event");
    assert_eq!(resent[1].body, sent[0].body);
    let attempts = app
        .ok(
            &token,
            "query($id: ID!) { webhookDeliveries(endpointId: $id, first: 10) {
               nodes { attempt statusCode succeeded } } }",
            json!({ "id": endpoint }),
        )
        .await;
    assert_eq!(
        attempts["webhookDeliveries"]["nodes"],
        json!([{ "attempt": 1, "statusCode": 204, "succeeded": true }]),
        "the killed attempt left no row"
    );
    // Delivered: nothing more is sent.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        received_within(&server, "/hook", 2, Duration::ZERO)
            .await
            .len(),
        2
    );
}
