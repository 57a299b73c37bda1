//! `/webhooks/{connectorId}`: signatures computed here with the `hmac` crate,
//! independently of the plugins' own verification.

use base64::Engine;
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::connectors::{
    EXPORT, counts, create, export_page, external_ids, no_events_or_ratings, sync, ticket, user,
    zendesk_input,
};
use crate::helpers::{TestApp, create_account, spawn_app};

const SIGNING_SECRET: &str = "zd-signing-secret";

pub fn zendesk_signature(timestamp: &str, body: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SIGNING_SECRET.as_bytes()).unwrap();
    mac.update(timestamp.as_bytes());
    mac.update(body.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn ticket_created(id: &str) -> String {
    json!({
        "type": "zen:event-type:ticket.created",
        "account_id": 22129848,
        "id": "cbe4028c-7239-495d-b020-f22348516046",
        "time": "2026-03-02T09:00:01Z",
        "zendesk_event_version": "2022-11-06",
        "subject": format!("zen:ticket:{id}"),
        "detail": {
            "id": id, "requester_id": "501", "organization_id": "9001", "status": "OPEN",
            "subject": format!("Ticket {id}"), "description": "Help",
            "created_at": "2026-03-02T09:00:00Z", "updated_at": "2026-03-02T09:00:00Z"
        }
    })
    .to_string()
}

pub async fn post(
    app: &TestApp,
    path: &str,
    body: &str,
    timestamp: &str,
    signature: &str,
) -> (u16, Value) {
    let res = app
        .client
        .post(app.url(path))
        .header("content-type", "application/json")
        .header("x-zendesk-webhook-id", "01GDXYD7ZTWYP8ZZ47CB4W6DFA")
        .header("x-zendesk-webhook-signature-timestamp", timestamp)
        .header("x-zendesk-webhook-signature", signature)
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    (
        res.status().as_u16(),
        res.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn a_signed_zendesk_event_is_recorded_once() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let server = MockServer::start().await;
    let connector = create(&app, &token, zendesk_input(&server)).await;
    let path = connector["webhookPath"].as_str().unwrap();
    let body = ticket_created("35436");
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);

    let (status, reply) = post(&app, path, &body, &now, &zendesk_signature(&now, &body)).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["received"], 1);
    // The same delivery again (a vendor retry) adds nothing: same external id.
    let (status, _) = post(&app, path, &body, &now, &zendesk_signature(&now, &body)).await;
    assert_eq!(status, 200);
    assert_eq!(
        external_ids(&app, &token, "zendesk").await,
        ["ticket:35436:opened"]
    );
}

#[tokio::test]
async fn bad_or_stale_signatures_store_nothing() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let server = MockServer::start().await;
    let connector = create(&app, &token, zendesk_input(&server)).await;
    let path = connector["webhookPath"].as_str().unwrap();
    let body = ticket_created("35436");
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);

    let tampered = body.replace("Help", "Hacked");
    let (status, reply) = post(&app, path, &tampered, &now, &zendesk_signature(&now, &body)).await;
    assert_eq!(
        (status, reply["error"]["code"].as_str()),
        (401, Some("WEBHOOK_BAD_SIGNATURE"))
    );

    let old = (chrono::Utc::now() - chrono::Duration::minutes(30))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (status, reply) = post(&app, path, &body, &old, &zendesk_signature(&old, &body)).await;
    assert_eq!(
        (status, reply["error"]["code"].as_str()),
        (401, Some("WEBHOOK_STALE"))
    );

    let (status, _) = post(
        &app,
        "/webhooks/Q29ubmVjdG9yOm5vcGU",
        &body,
        &now,
        &zendesk_signature(&now, &body),
    )
    .await;
    assert_eq!(status, 404);
    assert!(external_ids(&app, &token, "zendesk").await.is_empty());
}

/// A ticket event for a ticket the export has, carrying the same facts as the
/// export's `ticket(id, status, 501, day)`, as event payloads spell them
/// (string ids, upper-case enumerations).
pub fn ticket_event(event_type: &str, id: u64, status: &str, day: u32, change: Value) -> String {
    json!({
        "type": event_type,
        "account_id": 22129848,
        "id": format!("5d5c2a34-0000-4000-8000-{id:012}"),
        "time": format!("2026-03-{:02}T12:00:01Z", day + 1),
        "zendesk_event_version": "2022-11-06",
        "subject": format!("zen:ticket:{id}"),
        "detail": {
            "id": id.to_string(), "requester_id": "501", "submitter_id": "501",
            "assignee_id": null, "organization_id": "9001", "status": status,
            "priority": "NORMAL", "type": "QUESTION",
            "subject": format!("Ticket {id}"), "description": format!("Help with {id}"),
            "tags": ["api"], "via": { "channel": "web" },
            "created_at": format!("2026-03-{day:02}T09:00:00Z"),
            "updated_at": format!("2026-03-{:02}T12:00:00Z", day + 1),
        },
        "event": change,
    })
    .to_string()
}

/// Every Zendesk touchpoint with what a re-delivery must not change.
async fn zendesk_touchpoints(app: &TestApp, token: &str) -> Vec<Value> {
    let data = app
        .ok(
            token,
            r#"{ touchpoints(filter: {source: "zendesk"}, first: 50) { nodes {
                id externalId kind occurredAt title body url score properties updatedAt
                stakeholder { id } account { id } } } }"#,
            json!({}),
        )
        .await;
    let mut nodes = data["touchpoints"]["nodes"].as_array().unwrap().clone();
    nodes.sort_by_key(|t| t["externalId"].as_str().unwrap().to_owned());
    nodes
}

#[tokio::test]
async fn a_webhook_for_an_exported_ticket_adds_and_changes_nothing() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let server = MockServer::start().await;
    create_account(&app, &token, "Acme", &["acme.example"]).await;
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .respond_with(ResponseTemplate::new(200).set_body_json(export_page(
            vec![
                ticket(35436, "open", 501, 2),
                ticket(35437, "solved", 501, 4),
            ],
            vec![user(501, "Ana Souza", "ana@acme.example")],
            "c1",
            true,
        )))
        .mount(&server)
        .await;
    no_events_or_ratings(&server).await;
    let connector = create(&app, &token, zendesk_input(&server)).await;
    let id = connector["id"].as_str().unwrap();
    let hook = connector["webhookPath"].as_str().unwrap();
    let run = sync(&app, &token, id).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    assert_eq!(counts(&run), [3, 3, 0, 0, 0, 3], "{run}");
    let pulled = zendesk_touchpoints(&app, &token).await;
    assert_eq!(pulled.len(), 3, "{pulled:?}");
    let ana = pulled[0]["stakeholder"]["id"].clone();
    assert!(ana.is_string() && pulled.iter().all(|t| t["stakeholder"]["id"] == ana));

    // Zendesk then delivers the events for what the export already had: the
    // first ticket's creation, and the second's change to solved.
    let created = ticket_event("zen:event-type:ticket.created", 35436, "OPEN", 2, json!({}));
    let solved = ticket_event(
        "zen:event-type:ticket.status_changed",
        35437,
        "SOLVED",
        4,
        json!({ "current": "SOLVED", "previous": "OPEN" }),
    );
    for body in [&created, &solved] {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let (status, reply) = post(&app, hook, body, &now, &zendesk_signature(&now, body)).await;
        assert_eq!(status, 200, "{reply}");
        assert_eq!(reply, json!({ "received": 1, "failed": 0 }));
    }

    // The same external ids, on the same person and account, not even rewritten.
    assert_eq!(
        external_ids(&app, &token, "zendesk").await,
        [
            "ticket:35436:opened",
            "ticket:35437:opened",
            "ticket:35437:solved"
        ]
    );
    assert_eq!(zendesk_touchpoints(&app, &token).await, pulled);
    let data = app
        .ok(
            &token,
            "{ stakeholders(first: 5) { totalCount } accounts(first: 5) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data,
        json!({ "stakeholders": { "totalCount": 1 }, "accounts": { "totalCount": 1 } })
    );
}
