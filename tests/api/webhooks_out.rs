//! Outbound webhooks for partners over HTTP: endpoints made through
//! GraphQL, deliveries received by a local server that checks what a
//! partner would (the Standard Webhooks headers and signature), retries,
//! disabling, redelivery, redirects, the private-address rule, two
//! instances on one database delivering each event once, and changing an
//! endpoint: rotating its secret, updating, turning off and on, deleting.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::helpers::{
    TestApp, assert_code, quick_webhooks, record, spawn_app_with_webhooks,
    spawn_pair_with_webhooks, test_webhooks,
};
use journeys_core::outbound::WebhookSettings;
use sea_orm::{ConnectionTrait, Statement};

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

const UPDATE: &str = "mutation($input: UpdateWebhookEndpointInput!) {
  updateWebhookEndpoint(input: $input) {
    endpoint { id url description eventTypes status disabledReason }
  }
}";

const ROTATE: &str = "mutation($input: RotateWebhookSecretInput!) {
  rotateWebhookSecret(input: $input) { signingSecret endpoint { id previousSecretExpiresAt } }
}";

const DELETE: &str =
    "mutation($id: ID!) { deleteWebhookEndpoint(input: { id: $id }) { deletedId } }";

/// Creates an endpoint on `url` for `types`; returns its id and secret.
pub(crate) async fn create(
    app: &TestApp,
    token: &str,
    url: &str,
    types: &[&str],
) -> (String, String) {
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
pub(crate) async fn visit(app: &TestApp, token: &str, external_id: &str) -> String {
    let payload = record(app, token, json!([page_visit(external_id)])).await;
    payload["results"][0]["touchpoint"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The touchpoint `visit` records.
fn page_visit(external_id: &str) -> Value {
    json!({ "externalId": external_id, "channel": "WEB", "kind": "page.visited",
            "occurredAt": "2026-03-01T10:00:00Z", "person": { "email": "ada@initech.com" } })
}

/// The visit of `external_id` recorded again with a title: a
/// TOUCHPOINT_UPDATED event. Returns the touchpoint's id.
async fn retitle(app: &TestApp, token: &str, external_id: &str, title: &str) -> String {
    let mut changed = page_visit(external_id);
    changed["title"] = json!(title);
    let payload = record(app, token, json!([changed])).await;
    assert_eq!(payload["results"][0]["status"], "UPDATED", "{payload}");
    payload["results"][0]["touchpoint"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The requests `server` received on `at`, once there are at least `n`
/// (fails after 10 s).
async fn received(server: &MockServer, at: &str, n: usize) -> Vec<Request> {
    received_within(server, at, n, Duration::from_secs(10)).await
}

/// [`received`], failing after `within`.
pub(crate) async fn received_within(
    server: &MockServer,
    at: &str,
    n: usize,
    within: Duration,
) -> Vec<Request> {
    let deadline = Instant::now() + within;
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
    let expected = signature(request, secret);
    signatures(request).contains(&expected.as_str())
}

/// The `v1,` signature a receiver expects of `request` under `secret`.
fn signature(request: &Request, secret: &str) -> String {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(header(request, "webhook-id").as_bytes());
    mac.update(b".");
    mac.update(header(request, "webhook-timestamp").as_bytes());
    mac.update(b".");
    mac.update(&request.body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The space-separated entries of the `webhook-signature` header.
fn signatures(request: &Request) -> Vec<&str> {
    header(request, "webhook-signature").split(' ').collect()
}

/// A delivery's body.
fn body(request: &Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

/// The `n` column of a one-row SQL count.
async fn count(app: &TestApp, sql: &str) -> i64 {
    let statement = Statement::from_string(app.db.get_database_backend(), sql);
    let row = app.db.query_one_raw(statement).await.unwrap().unwrap();
    row.try_get("", "n").unwrap()
}

/// Waits until every active endpoint is idle: no delivery under way and
/// no event left that it has not delivered or skipped (fails after 10 s).
async fn settled(app: &TestApp) {
    let busy = "SELECT COUNT(*) AS n FROM webhook_endpoints e WHERE e.status = 'ACTIVE' \
                AND (e.lease_owner IS NOT NULL OR e.cursor < \
                (SELECT COALESCE(MAX(v.sequence), 0) FROM events v WHERE v.workspace_id = e.workspace_id))";
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let n = count(app, busy).await;
        if n == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "{n} endpoints still delivering");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Where `server` takes deliveries.
pub(crate) fn hook_url(server: &MockServer) -> String {
    format!("{}/hook", server.uri())
}

/// A server delivering webhooks every 100 ms with workspaces `acme` and
/// `globex`, and an admin token of `acme`.
async fn two_workspaces() -> (TestApp, String) {
    let app = spawn_app_with_webhooks(quick_webhooks()).await;
    app.workspace("acme").await;
    app.workspace("globex").await;
    let token = app.admin("acme");
    (app, token)
}

async fn receiver(status: u16) -> MockServer {
    receiver_answering(ResponseTemplate::new(status)).await
}

/// A receiver on `/hook` that answers every delivery with `answer`.
async fn receiver_answering(answer: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(answer)
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
    let url = hook_url(&server);
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
    let url = hook_url(&server);
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
    let url = hook_url(&server);
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
    let url = hook_url(&server);
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
    let url = hook_url(&server);
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
    let server =
        receiver_answering(ResponseTemplate::new(200).set_delay(Duration::from_millis(30))).await;
    let url = hook_url(&server);
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
    let (endpoint, _) = create(&app, &acme, &hook_url(&server), &[]).await;
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

#[tokio::test]
async fn webhooks_out_rotated_secret_signs_with_both_during_the_overlap() {
    let (app, token) = two_workspaces().await;
    let server = receiver(200).await;
    let url = hook_url(&server);
    let (endpoint, first) = create(&app, &token, &url, &["TOUCHPOINT_RECORDED"]).await;

    // Refused rotations change nothing: another workspace's token gets
    // NOT_FOUND, an overlap outside 0 to 604800 BAD_USER_INPUT naming it.
    let theirs = app
        .gql(
            &app.admin("globex"),
            ROTATE,
            json!({ "input": { "id": endpoint } }),
        )
        .await;
    assert_code(&theirs, "NOT_FOUND");
    for overlap in [-1, 604_801] {
        let refused = app
            .gql(
                &token,
                ROTATE,
                json!({ "input": { "id": endpoint, "overlapSeconds": overlap } }),
            )
            .await;
        assert_code(&refused, "BAD_USER_INPUT");
        assert_eq!(
            refused["errors"][0]["extensions"]["field"], "overlapSeconds",
            "{refused}"
        );
    }
    visit(&app, &token, "v1").await;
    let requests = received(&server, "/hook", 1).await;
    assert_eq!(
        signatures(&requests[0]),
        [signature(&requests[0], &first)],
        "only the first secret signs"
    );

    // The default overlap is 24 h: the new secret, shown once, signs first
    // and the old one beside it.
    let rotated = app
        .ok(&token, ROTATE, json!({ "input": { "id": endpoint } }))
        .await;
    let payload = &rotated["rotateWebhookSecret"];
    let second = payload["signingSecret"].as_str().unwrap().to_owned();
    assert!(second.starts_with("whsec_") && second != first, "{rotated}");
    assert_eq!(STANDARD.decode(&second[6..]).unwrap().len(), 32);
    let until = payload["endpoint"]["previousSecretExpiresAt"]
        .as_str()
        .unwrap();
    let until = chrono::DateTime::parse_from_rfc3339(until).unwrap();
    let expected = chrono::Utc::now() + chrono::Duration::seconds(86_400);
    assert!(
        (until.to_utc() - expected).num_seconds().abs() < 60,
        "{rotated}"
    );
    let v2 = visit(&app, &token, "v2").await;
    let requests = received(&server, "/hook", 2).await;
    let during = &requests[1];
    assert_eq!(body(during)["data"]["touchpointId"], v2.as_str());
    assert_eq!(
        signatures(during),
        [signature(during, &second), signature(during, &first)],
        "`v1,<new> v1,<old>`"
    );
    assert!(verify(during, &first) && verify(during, &second));
    let read = app
        .ok(
            &token,
            "query($id: ID!) {
              node(id: $id) { ... on WebhookEndpoint { id url previousSecretExpiresAt updatedAt } }
              webhookEndpoints { nodes { id url description eventTypes } }
            }",
            json!({ "id": endpoint }),
        )
        .await;
    assert!(!read.to_string().contains(&second[6..]), "{read}");
    assert!(
        read["node"]["previousSecretExpiresAt"].is_string(),
        "{read}"
    );

    // With no overlap only the newest secret signs.
    let rotated = app
        .ok(
            &token,
            ROTATE,
            json!({ "input": { "id": endpoint, "overlapSeconds": 0 } }),
        )
        .await;
    let payload = &rotated["rotateWebhookSecret"];
    let third = payload["signingSecret"].as_str().unwrap().to_owned();
    assert!(third != second && third != first, "{rotated}");
    assert_eq!(
        payload["endpoint"]["previousSecretExpiresAt"],
        Value::Null,
        "{rotated}"
    );
    let v3 = visit(&app, &token, "v3").await;
    let requests = received(&server, "/hook", 3).await;
    let after = &requests[2];
    assert_eq!(body(after)["data"]["touchpointId"], v3.as_str());
    assert_eq!(signatures(after), [signature(after, &third)]);
    assert!(!verify(after, &second) && !verify(after, &first));
}

#[tokio::test]
async fn webhooks_out_updated_url_and_types_take_effect() {
    let (app, token) = two_workspaces().await;
    let old = receiver(200).await;
    let new = receiver(200).await;
    let new_url = hook_url(&new);
    let old_url = hook_url(&old);
    let (endpoint, secret) = create(&app, &token, &old_url, &["TOUCHPOINT_RECORDED"]).await;
    let change = json!({ "input": { "id": endpoint, "url": new_url, "eventTypes": ["TOUCHPOINT_UPDATED"] } });

    // Another workspace's token cannot change it: the visit goes to the
    // old url, as TOUCHPOINT_RECORDED.
    assert_code(
        &app.gql(&app.admin("globex"), UPDATE, change.clone()).await,
        "NOT_FOUND",
    );
    let v1 = visit(&app, &token, "v1").await;
    let before = received(&old, "/hook", 1).await;
    assert_eq!(body(&before[0])["type"], "TOUCHPOINT_RECORDED");
    assert_eq!(body(&before[0])["data"]["touchpointId"], v1.as_str());
    deliveries_until(&app, &token, &endpoint, |d| !d.is_empty()).await;
    settled(&app).await;

    let updated = app.ok(&token, UPDATE, change).await;
    assert_eq!(
        updated["updateWebhookEndpoint"]["endpoint"],
        json!({ "id": endpoint, "url": new_url, "description": "CRM",
                "eventTypes": ["TOUCHPOINT_UPDATED"], "status": "ACTIVE", "disabledReason": null }),
        "absent fields stay as they were"
    );

    // A new visit (TOUCHPOINT_RECORDED, no longer asked for), then the
    // first one again with other content (TOUCHPOINT_UPDATED): events go
    // in log order, so the first to reach the new url is the update.
    visit(&app, &token, "v2").await;
    assert_eq!(retitle(&app, &token, "v1", "Pricing").await, v1);
    let after = received(&new, "/hook", 1).await;
    let sent = body(&after[0]);
    assert_eq!(sent["type"], "TOUCHPOINT_UPDATED", "{sent}");
    assert_eq!(sent["data"]["touchpointId"], v1.as_str(), "{sent}");
    assert!(verify(&after[0], &secret), "the secret is unchanged");
    let attempts = deliveries_until(&app, &token, &endpoint, |d| d.len() >= 2).await;
    assert_eq!(attempts[0]["eventType"], "TOUCHPOINT_UPDATED");
    assert_eq!(attempts[0]["succeeded"], true);
    settled(&app).await;
    assert_eq!(
        new.received_requests().await.unwrap().len(),
        1,
        "only the update"
    );
    assert_eq!(
        old.received_requests().await.unwrap().len(),
        1,
        "nothing more at the old url"
    );
}

#[tokio::test]
async fn webhooks_out_turned_off_endpoint_gets_nothing_until_turned_on() {
    let app = spawn_app_with_webhooks(quick_webhooks()).await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let server = receiver(200).await;
    let url = hook_url(&server);
    let (endpoint, secret) = create(&app, &token, &url, &["TOUCHPOINT_RECORDED"]).await;
    visit(&app, &token, "v1").await;
    received(&server, "/hook", 1).await;
    let first = deliveries_until(&app, &token, &endpoint, |d| !d.is_empty()).await;
    settled(&app).await;

    let off = app
        .ok(
            &token,
            UPDATE,
            json!({ "input": { "id": endpoint, "enabled": false } }),
        )
        .await;
    let saved = &off["updateWebhookEndpoint"]["endpoint"];
    assert_eq!(saved["status"], "DISABLED", "{off}");
    assert!(saved["disabledReason"].is_string(), "{off}");
    let redeliver = app
        .gql(
            &token,
            "mutation($id: ID!) { redeliverWebhook(input: { deliveryId: $id }) { endpoint { id } } }",
            json!({ "id": first[0]["id"] }),
        )
        .await;
    assert_code(&redeliver, "CONFLICT");

    // A visit while it is off reaches another endpoint, not this one.
    let other = receiver(200).await;
    let other_url = hook_url(&other);
    let (witness, _) = create(&app, &token, &other_url, &["TOUCHPOINT_RECORDED"]).await;
    let v2 = visit(&app, &token, "v2").await;
    let seen = received(&other, "/hook", 1).await;
    assert_eq!(body(&seen[0])["data"]["touchpointId"], v2.as_str());
    deliveries_until(&app, &token, &witness, |d| !d.is_empty()).await;
    settled(&app).await;
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    assert_eq!(deliveries(&app, &token, &endpoint).await.len(), 1);

    // Turned on, it resumes after the last event delivered: the visit it
    // missed comes now.
    let on = app
        .ok(
            &token,
            UPDATE,
            json!({ "input": { "id": endpoint, "enabled": true } }),
        )
        .await;
    let saved = &on["updateWebhookEndpoint"]["endpoint"];
    assert_eq!(saved["status"], "ACTIVE", "{on}");
    assert_eq!(saved["disabledReason"], Value::Null, "{on}");
    let requests = received(&server, "/hook", 2).await;
    let resumed = &requests[1];
    assert_eq!(body(resumed)["type"], "TOUCHPOINT_RECORDED");
    assert_eq!(body(resumed)["data"]["touchpointId"], v2.as_str());
    assert!(verify(resumed, &secret));
    let attempts = deliveries_until(&app, &token, &endpoint, |d| d.len() >= 2).await;
    assert_eq!(attempts[0]["succeeded"], true);
    assert_eq!(attempts[0]["attempt"], 1);
    assert_eq!(attempts[0]["redelivery"], false);
}

#[tokio::test]
async fn webhooks_out_deleted_endpoint_receives_nothing_more() {
    let (app, token) = two_workspaces().await;
    let server = receiver(200).await;
    let other = receiver(200).await;
    let url = hook_url(&server);
    let other_url = hook_url(&other);
    let (endpoint, _) = create(&app, &token, &url, &["TOUCHPOINT_RECORDED"]).await;
    let (witness, _) = create(&app, &token, &other_url, &["TOUCHPOINT_RECORDED"]).await;
    let vars = json!({ "id": endpoint });

    // Another workspace's token cannot delete it: it still delivers.
    assert_code(
        &app.gql(&app.admin("globex"), DELETE, vars.clone()).await,
        "NOT_FOUND",
    );
    visit(&app, &token, "v1").await;
    received(&server, "/hook", 1).await;
    deliveries_until(&app, &token, &endpoint, |d| !d.is_empty()).await;
    deliveries_until(&app, &token, &witness, |d| !d.is_empty()).await;
    settled(&app).await;
    let attempts = "SELECT COUNT(*) AS n FROM webhook_deliveries";
    assert_eq!(count(&app, attempts).await, 2);

    let deleted = app.ok(&token, DELETE, vars.clone()).await;
    assert_eq!(
        deleted["deleteWebhookEndpoint"]["deletedId"],
        endpoint.as_str()
    );
    // Gone, with its attempts.
    for query in [
        ENDPOINT,
        DELIVERIES,
        DELETE,
        "mutation($id: ID!) { updateWebhookEndpoint(input: { id: $id, enabled: true }) { endpoint { id } } }",
        "mutation($id: ID!) { rotateWebhookSecret(input: { id: $id }) { signingSecret } }",
    ] {
        assert_code(&app.gql(&token, query, vars.clone()).await, "NOT_FOUND");
    }
    let listed = app
        .ok(
            &token,
            "{ webhookEndpoints { totalCount nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        listed["webhookEndpoints"],
        json!({ "totalCount": 1, "nodes": [{ "id": witness }] })
    );
    assert_eq!(count(&app, attempts).await, 1, "the witness's attempt");

    // The next visit reaches the other endpoint only.
    let v2 = visit(&app, &token, "v2").await;
    let seen = received(&other, "/hook", 2).await;
    assert_eq!(body(&seen[1])["data"]["touchpointId"], v2.as_str());
    deliveries_until(&app, &token, &witness, |d| d.len() >= 2).await;
    settled(&app).await;
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    assert_eq!(count(&app, attempts).await, 2);
}

#[tokio::test]
async fn webhooks_out_update_refuses_bad_input_and_changes_nothing() {
    // A worker that looks hourly: this test sends nothing anywhere.
    let app = spawn_app_with_webhooks(WebhookSettings {
        allow_private: false,
        ..test_webhooks()
    })
    .await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let (endpoint, _) = create(
        &app,
        &token,
        "http://192.0.2.1/hook",
        &["TOUCHPOINT_RECORDED"],
    )
    .await;
    for (mut input, field) in [
        (json!({ "url": "ftp://example.com/hook" }), Some("url")),
        (json!({ "url": "not a url" }), Some("url")),
        (json!({ "url": "http://[::1]:9/hook" }), Some("url")),
        (
            json!({ "url": "http://127.0.0.1:9/hook", "eventTypes": ["STAGE_CHANGED"], "description": "moved" }),
            Some("url"),
        ),
        (
            json!({ "description": "x".repeat(501), "eventTypes": ["STAGE_CHANGED"], "enabled": false }),
            Some("description"),
        ),
        (json!({ "eventTypes": ["NOT_AN_EVENT_TYPE"] }), None),
    ] {
        input["id"] = json!(endpoint);
        let body = app.gql(&token, UPDATE, json!({ "input": input })).await;
        assert_code(&body, "BAD_USER_INPUT");
        if let Some(field) = field {
            assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
        }
    }
    let read = app
        .ok(
            &token,
            "query($id: ID!) { node(id: $id) { ... on WebhookEndpoint { url description eventTypes status } } }",
            json!({ "id": endpoint }),
        )
        .await;
    assert_eq!(
        read["node"],
        json!({ "url": "http://192.0.2.1/hook", "description": "CRM",
                "eventTypes": ["TOUCHPOINT_RECORDED"], "status": "ACTIVE" })
    );
}

#[tokio::test]
async fn webhooks_out_types_added_during_a_delivery_apply_to_later_events() {
    let app = spawn_app_with_webhooks(quick_webhooks()).await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    // A slow receiver (within the 2 s timeout), so that the types change
    // while the first delivery is under way.
    let server =
        receiver_answering(ResponseTemplate::new(200).set_delay(Duration::from_millis(1000))).await;
    let url = hook_url(&server);
    let (endpoint, _) = create(&app, &token, &url, &["TOUCHPOINT_RECORDED"]).await;
    let v1 = visit(&app, &token, "v1").await;
    received(&server, "/hook", 1).await;

    let updated = app
        .ok(
            &token,
            UPDATE,
            json!({ "input": { "id": endpoint,
                               "eventTypes": ["TOUCHPOINT_RECORDED", "TOUCHPOINT_UPDATED"] } }),
        )
        .await;
    assert_eq!(
        updated["updateWebhookEndpoint"]["endpoint"]["eventTypes"],
        json!(["TOUCHPOINT_RECORDED", "TOUCHPOINT_UPDATED"])
    );
    // Recorded after the update returned: a type the endpoint now wants.
    retitle(&app, &token, "v1", "Pricing").await;
    let requests = received(&server, "/hook", 2).await;
    let sent = body(&requests[1]);
    assert_eq!(sent["type"], "TOUCHPOINT_UPDATED", "{sent}");
    assert_eq!(sent["data"]["touchpointId"], v1.as_str(), "{sent}");
}
