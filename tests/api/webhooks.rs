//! `/webhooks/{connectorId}`: signatures computed here with the `hmac` crate,
//! independently of the plugins' own verification.

use base64::Engine;
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};
use wiremock::MockServer;

use crate::connectors::{create, external_ids, zendesk_input};
use crate::helpers::{TestApp, spawn_app};

const SIGNING_SECRET: &str = "zd-signing-secret";

fn zendesk_signature(timestamp: &str, body: &str) -> String {
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

async fn post(
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
