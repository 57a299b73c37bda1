//! Outbound webhooks for partners over HTTP: endpoints made through
//! GraphQL, deliveries received by a local server that checks what a
//! partner would (the Standard Webhooks headers and signature), retries,
//! disabling, redelivery, redirects, the private-address rule, and two
//! instances on one database delivering each event once.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::helpers::{
    TestApp, assert_code, quick_webhooks, record, spawn_app_with_webhooks, spawn_pair_with_webhooks,
};
use journeys_core::outbound::WebhookSettings;
use sea_orm::ConnectionTrait;

const CREATE: &str = "mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) {
    signingSecret
    endpoint { id url description eventTypes status disabledReason }
  }
}";

const DELIVERIES: &str = "query($id: ID!) {
  webhookDeliveries(endpointId: $id, first: 50) {
    totalCount
    nodes { id webhookId eventType eventSequence attempt statusCode durationMs error succeeded redelivery
            event { type touchpointId } }
  }
}";

const ENDPOINT: &str = "query($id: ID!) {
  node(id: $id) { ... on WebhookEndpoint { id status disabledReason failingSince } }
}";

/// Creates an endpoint on `url` for `types`; returns its id and secret.
async fn create(app: &TestApp, token: &str, url: &str, types: &[&str]) -> (String, String) {
    let data = app
        .ok(
            token,
            CREATE,
            json!({ "input": { "url": url, "eventTypes": types, "description": "CRM" } }),
        )
        .await;
    let created = &data["createWebhookEndpoint"];
    assert_eq!(created["endpoint"]["status"], "ACTIVE", "{data}");
    (
        created["endpoint"]["id"].as_str().unwrap().to_owned(),
        created["signingSecret"].as_str().unwrap().to_owned(),
    )
}

/// One visit, recorded through `recordTouchpoints`; returns the
/// touchpoint's id.
async fn visit(app: &TestApp, token: &str, external_id: &str) -> String {
    let payload = record(
        app,
        token,
        json!([{ "externalId": external_id, "channel": "WEB", "kind": "page.visited",
                 "occurredAt": "2026-03-01T10:00:00Z", "person": { "email": "ada@initech.com" } }]),
    )
    .await;
    payload["results"][0]["touchpoint"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The requests `server` received on `at`, once there are at least `n`
/// (fails after 10 s).
async fn received(server: &MockServer, at: &str, n: usize) -> Vec<Request> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let requests: Vec<Request> = server
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.url.path() == at)
            .collect();
        if requests.len() >= n {
            return requests;
        }
        assert!(
            Instant::now() < deadline,
            "{at} received {} of {n}",
            requests.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn deliveries(app: &TestApp, token: &str, endpoint: &str) -> Vec<Value> {
    let data = app.ok(token, DELIVERIES, json!({ "id": endpoint })).await;
    let nodes = data["webhookDeliveries"]["nodes"]
        .as_array()
        .unwrap()
        .clone();
    // The count is its own statement, read after the page: an attempt
    // recorded in between counts there only.
    let total = data["webhookDeliveries"]["totalCount"].as_u64().unwrap();
    assert!(total >= nodes.len() as u64, "{data}");
    nodes
}

/// Polls the endpoint's attempts until `done` holds (fails after 10 s).
async fn deliveries_until(
    app: &TestApp,
    token: &str,
    endpoint: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = deliveries(app, token, endpoint).await;
        if done(&found) {
            return found;
        }
        assert!(Instant::now() < deadline, "attempts so far: {found:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn header<'a>(request: &'a Request, name: &str) -> &'a str {
    request
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} header"))
}

/// Verifies a delivery as a receiver would: the HMAC-SHA256, under the
/// secret's decoded bytes, of `{id}.{timestamp}.{body}` is one of the
/// space-separated `v1,` signatures.
fn verify(request: &Request, secret: &str) -> bool {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(header(request, "webhook-id").as_bytes());
    mac.update(b".");
    mac.update(header(request, "webhook-timestamp").as_bytes());
    mac.update(b".");
    mac.update(&request.body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    header(request, "webhook-signature")
        .split(' ')
        .any(|s| s == expected)
}

async fn receiver(status: u16) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(status))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn webhooks_out_delivers_signed_events_of_the_types_asked_for() {
    let app = spawn_app_with_webhooks(quick_webhooks()).await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let server = receiver(200).await;
    let url = format!("{}/hook", server.uri());
    let (endpoint, secret) = create(&app, &token, &url, &["TOUCHPOINT_RECORDED"]).await;
    assert!(secret.starts_with("whsec_"));
    let touchpoint = visit(&app, &token, "v1").await;

    let requests = received(&server, "/hook", 1).await;
    let request = &requests[0];
    assert!(verify(request, &secret), "the signature verifies");
    let timestamp: i64 = header(request, "webhook-timestamp").parse().unwrap();
    assert!((chrono::Utc::now().timestamp() - timestamp).abs() < 60);
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["type"], "TOUCHPOINT_RECORDED", "{body}");
    assert_eq!(body["data"]["touchpointId"], touchpoint.as_str(), "{body}");
    assert!(body["data"]["accountId"].is_string() || body["data"]["stakeholderId"].is_string());
    assert!(body["timestamp"].is_string());

    let attempts = deliveries_until(&app, &token, &endpoint, |d| !d.is_empty()).await;
    assert_eq!(attempts.len(), 1, "{attempts:?}");
    let first = &attempts[0];
    assert_eq!(first["webhookId"], header(request, "webhook-id"));
    assert_eq!(first["statusCode"], 200);
    assert_eq!(first["succeeded"], true);
    assert_eq!(first["attempt"], 1);
    assert_eq!(first["event"]["touchpointId"], touchpoint.as_str());

    // The visit also changed stages and lifecycles: none of those is sent.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let all = server.received_requests().await.unwrap();
    assert_eq!(all.len(), 1, "only TOUCHPOINT_RECORDED");

    // No field returns the secret again.
    let read = app
        .ok(
            &token,
            "query($id: ID!) {
              node(id: $id) { ... on WebhookEndpoint { id url description eventTypes status createdAt } }
              webhookEndpoints { nodes { id } }
              __type(name: \"WebhookEndpoint\") { fields { name } }
            }",
            json!({ "id": endpoint }),
        )
        .await;
    assert!(!read.to_string().contains(&secret[6..]), "{read}");
    let fields: Vec<&str> = read["__type"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(
        fields
            .iter()
            .all(|f| *f != "secret" && *f != "signingSecret"),
        "{fields:?}"
    );
    assert_eq!(
        read["webhookEndpoints"]["nodes"][0]["id"],
        endpoint.as_str()
    );
}

#[tokio::test]
async fn webhooks_out_retries_a_failure_then_delivers_once() {
    let app = spawn_app_with_webhooks(quick_webhooks()).await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let url = format!("{}/hook", server.uri());
    let (endpoint, secret) = create(&app, &token, &url, &["TOUCHPOINT_RECORDED"]).await;
    visit(&app, &token, "v1").await;

    let attempts = deliveries_until(&app, &token, &endpoint, |d| d.len() >= 2).await;
    // Newest first.
    let codes: Vec<&Value> = attempts.iter().map(|a| &a["statusCode"]).collect();
    assert_eq!(codes, [&json!(200), &json!(500)], "{attempts:?}");
    assert_eq!(attempts[1]["error"], "HTTP 500 Internal Server Error");
    assert_eq!(attempts[1]["succeeded"], false);
    assert_eq!(attempts[0]["succeeded"], true);
    assert_eq!(attempts[0]["error"], Value::Null);
    assert_eq!(attempts[0]["attempt"], 2);
    assert_eq!(attempts[0]["webhookId"], attempts[1]["webhookId"]);
    let requests = received(&server, "/hook", 2).await;
    assert_eq!(
        header(&requests[0], "webhook-id"),
        header(&requests[1], "webhook-id")
    );
    assert!(requests.iter().all(|r| verify(r, &secret)));

    // Delivered once successfully: nothing more follows.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    assert_eq!(deliveries(&app, &token, &endpoint).await.len(), 2);
}

#[tokio::test]
async fn webhooks_out_disables_an_endpoint_that_keeps_failing() {
    let app = spawn_app_with_webhooks(WebhookSettings {
        max_retry_age: chrono::Duration::seconds(1),
        ..quick_webhooks()
    })
    .await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let server = receiver(503).await;
    let url = format!("{}/hook", server.uri());
    let (endpoint, _) = create(&app, &token, &url, &[]).await;
    visit(&app, &token, "v1").await;

    let deadline = Instant::now() + Duration::from_secs(10);
    let disabled = loop {
        let data = app.ok(&token, ENDPOINT, json!({ "id": endpoint })).await;
        if data["node"]["status"] == "DISABLED" {
            break data["node"].clone();
        }
        assert!(Instant::now() < deadline, "still {data}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let reason = disabled["disabledReason"].as_str().unwrap();
    assert!(reason.starts_with("deliveries failed for 1 s"), "{reason}");
    assert!(reason.contains("HTTP 503"), "{reason}");
    let attempts = deliveries(&app, &token, &endpoint).await;
    assert!(
        attempts.len() >= 2,
        "retried before giving up: {attempts:?}"
    );

    // Disabled: nothing more is sent.
    let sent = server.received_requests().await.unwrap().len();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(server.received_requests().await.unwrap().len(), sent);

    // Enabling it resumes, and forgets the failures.
    let enabled = app
        .ok(
            &token,
            "mutation($id: ID!) { updateWebhookEndpoint(input: { id: $id, enabled: true }) {
               endpoint { status disabledReason failingSince } } }",
            json!({ "id": endpoint }),
        )
        .await;
    assert_eq!(
        enabled["updateWebhookEndpoint"]["endpoint"],
        json!({ "status": "ACTIVE", "disabledReason": null, "failingSince": null })
    );
    received(&server, "/hook", sent + 1).await;
}

#[tokio::test]
async fn webhooks_out_redelivers_with_the_same_webhook_id() {
    let app = spawn_app_with_webhooks(quick_webhooks()).await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let server = receiver(200).await;
    let url = format!("{}/hook", server.uri());
    let (endpoint, secret) = create(&app, &token, &url, &["TOUCHPOINT_RECORDED"]).await;
    visit(&app, &token, "v1").await;
    let first = deliveries_until(&app, &token, &endpoint, |d| !d.is_empty()).await;

    let queued = app
        .ok(
            &token,
            "mutation($id: ID!) { redeliverWebhook(input: { deliveryId: $id }) { endpoint { id } } }",
            json!({ "id": first[0]["id"] }),
        )
        .await;
    assert_eq!(
        queued["redeliverWebhook"]["endpoint"]["id"],
        endpoint.as_str()
    );
    let requests = received(&server, "/hook", 2).await;
    assert_eq!(
        header(&requests[0], "webhook-id"),
        header(&requests[1], "webhook-id")
    );
    assert_eq!(requests[0].body, requests[1].body);
    assert!(verify(&requests[1], &secret));
    let attempts = deliveries_until(&app, &token, &endpoint, |d| d.len() >= 2).await;
    assert_eq!(attempts[0]["redelivery"], true);
    assert_eq!(attempts[0]["attempt"], 2);
    assert_eq!(attempts[0]["succeeded"], true);
    assert_eq!(attempts[1]["redelivery"], false);
}

#[tokio::test]
async fn webhooks_out_does_not_follow_redirects() {
    let app = spawn_app_with_webhooks(quick_webhooks()).await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/elsewhere", server.uri()).as_str()),
        )
        .mount(&server)
        .await;
    Mock::given(path("/elsewhere"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let url = format!("{}/hook", server.uri());
    let (endpoint, _) = create(&app, &token, &url, &["TOUCHPOINT_RECORDED"]).await;
    visit(&app, &token, "v1").await;

    let attempts = deliveries_until(&app, &token, &endpoint, |d| d.len() >= 2).await;
    for attempt in &attempts {
        assert_eq!(attempt["statusCode"], 302);
        assert_eq!(attempt["succeeded"], false);
        assert!(
            attempt["error"]
                .as_str()
                .unwrap()
                .contains("redirects are not followed"),
            "{attempt}"
        );
    }
    let all = server.received_requests().await.unwrap();
    assert!(
        all.iter().all(|r| r.url.path() == "/hook"),
        "the target got nothing"
    );
}

#[tokio::test]
async fn webhooks_out_refuses_private_targets_unless_allowed() {
    let app = spawn_app_with_webhooks(WebhookSettings {
        allow_private: false,
        ..quick_webhooks()
    })
    .await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://[::1]:9/hook",
        "http://169.254.169.254/latest",
        "http://10.0.0.1/hook",
        "ftp://example.com/hook",
    ] {
        let body = app
            .gql(
                &token,
                CREATE,
                json!({ "input": { "url": url, "eventTypes": [] } }),
            )
            .await;
        assert_code(&body, "BAD_USER_INPUT");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("url"), "{url}: {message}");
    }
    let listed = app
        .ok(&token, "{ webhookEndpoints { totalCount } }", json!({}))
        .await;
    assert_eq!(listed["webhookEndpoints"]["totalCount"], 0);

    // Checked again at delivery: a target that now points inside (as DNS
    // may change) gets nothing, and the attempt says why.
    let (endpoint, _) = create(&app, &token, "http://192.0.2.1/hook", &[]).await;
    let server = receiver(200).await;
    app.db
        .execute_unprepared(&format!(
            "UPDATE webhook_endpoints SET url = '{}/hook'",
            server.uri()
        ))
        .await
        .unwrap();
    visit(&app, &token, "v1").await;
    let attempts = deliveries_until(&app, &token, &endpoint, |d| !d.is_empty()).await;
    let error = attempts[0]["error"].as_str().unwrap();
    assert!(error.contains("loopback, private or link-local"), "{error}");
    assert_eq!(attempts[0]["statusCode"], Value::Null);
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn webhooks_out_two_instances_deliver_each_event_once_in_order() {
    let (a, b) = spawn_pair_with_webhooks(quick_webhooks()).await;
    a.workspace("acme").await;
    let token = a.admin("acme");
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(30)))
        .mount(&server)
        .await;
    let url = format!("{}/hook", server.uri());
    let (endpoint, _) = create(&a, &token, &url, &["TOUCHPOINT_RECORDED"]).await;
    for i in 0..6 {
        let app = if i % 2 == 0 { &a } else { &b };
        visit(app, &token, &format!("v{i}")).await;
    }
    let requests = received(&server, "/hook", 6).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let requests_after = server.received_requests().await.unwrap();
    assert_eq!(requests_after.len(), 6, "each event exactly once");
    let sequences: Vec<i64> = requests
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            body["data"]["sequence"].as_i64().unwrap()
        })
        .collect();
    let mut sorted = sequences.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sequences, sorted, "in log order, one at a time");
    let attempts = deliveries(&b, &token, &endpoint).await;
    assert_eq!(attempts.len(), 6);
    assert!(
        attempts
            .iter()
            .all(|d| d["succeeded"] == true && d["attempt"] == 1)
    );
}

#[tokio::test]
async fn webhooks_out_other_workspaces_endpoints_are_not_found() {
    let app = spawn_app_with_webhooks(quick_webhooks()).await;
    app.workspace("acme").await;
    app.workspace("globex").await;
    let acme = app.admin("acme");
    let globex = app.admin("globex");
    let server = receiver(200).await;
    let (endpoint, _) = create(&app, &acme, &format!("{}/hook", server.uri()), &[]).await;
    let vars = json!({ "id": endpoint });
    assert_code(
        &app.gql(&globex, DELIVERIES, vars.clone()).await,
        "NOT_FOUND",
    );
    for mutation in [
        "mutation($id: ID!) { updateWebhookEndpoint(input: { id: $id, description: \"x\" }) { endpoint { id } } }",
        "mutation($id: ID!) { rotateWebhookSecret(input: { id: $id }) { signingSecret } }",
        "mutation($id: ID!) { deleteWebhookEndpoint(input: { id: $id }) { deletedId } }",
    ] {
        assert_code(&app.gql(&globex, mutation, vars.clone()).await, "NOT_FOUND");
    }
    assert_code(&app.gql(&globex, ENDPOINT, vars.clone()).await, "NOT_FOUND");
    let theirs = app
        .ok(&globex, "{ webhookEndpoints { totalCount } }", json!({}))
        .await;
    assert_eq!(theirs["webhookEndpoints"]["totalCount"], 0);
    // A token without connectors:manage may not read them either.
    let reader = app.token("acme", &[journeys_api::auth::Scope::Read]);
    assert_code(&app.gql(&reader, DELIVERIES, vars).await, "FORBIDDEN");
}
