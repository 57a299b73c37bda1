//! Zoom webhook deliveries: signatures, URL validation, and touchpoints that
//! match the pull's.

mod common;

use chrono::{DateTime, Utc};
use common::*;
use hmac::{KeyInit, Mac};
use journeys_plugin_sdk::{Connector, Touchpoint, WebhookError, WebhookReply, WebhookRequest};
use journeys_plugin_zoom::Cursor;
use serde_json::json;
use wiremock::MockServer;

/// Zoom's signature, computed here with the `hmac` crate directly:
/// `v0=` + hex(HMAC-SHA256(secret, "v0:{timestamp}:{body}")).
fn signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// A delivery signed at `signed_at` with `secret`.
fn signed(secret: &str, signed_at: DateTime<Utc>, body: &[u8]) -> Vec<(String, String)> {
    let timestamp = signed_at.timestamp().to_string();
    vec![
        ("content-type".into(), "application/json".into()),
        ("x-zm-signature".into(), signature(secret, &timestamp, body)),
        ("x-zm-request-timestamp".into(), timestamp),
    ]
}

fn post<'a>(headers: &'a [(String, String)], body: &'a [u8]) -> WebhookRequest<'a> {
    WebhookRequest {
        method: "POST",
        query: &[],
        headers,
        body,
    }
}

fn touchpoints(reply: WebhookReply) -> Vec<Touchpoint> {
    match reply {
        WebhookReply::Touchpoints(touchpoints) => touchpoints,
        other => panic!("{other:?}"),
    }
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

/// The pull's touchpoints for the scenario, by external id.
async fn pulled(server: &MockServer) -> Vec<Touchpoint> {
    mount_scenario(server).await;
    let (batches, _) = drain(&mut zoom(server), Cursor::default()).await;
    batches.into_iter().flatten().collect()
}

fn registration_created() -> serde_json::Value {
    // As Zoom sends it: the webinar id is a string, and the registrant has
    // no create_time.
    let mut registrant = jill();
    let registrant_fields = registrant.as_object_mut().unwrap();
    registrant_fields.remove("create_time");
    json!({
        "event": "webinar.registration_created",
        "event_ts": 1705742100000_i64,
        "payload": {
            "account_id": ACCOUNT_ID,
            "object": {
                "uuid": "4444AAAiAAAAAiAiAiiAii==",
                "id": LAUNCH.to_string(),
                "host_id": "x1yCzABCDEfg23HiJKl4mN",
                "topic": "Launch",
                "type": 5,
                "start_time": "2024-02-01T12:00:00Z",
                "duration": 60,
                "timezone": "America/Los_Angeles",
                "registrant": registrant
            }
        }
    })
}

fn participant_joined() -> serde_json::Value {
    json!({
        "event": "webinar.participant_joined",
        "event_ts": 1706788860000_i64,
        "payload": {
            "account_id": ACCOUNT_ID,
            "object": {
                "uuid": "4444AAAiAAAAAiAiAiiAii==",
                "id": LAUNCH.to_string(),
                "host_id": "x1yCzABCDEfg23HiJKl4mN",
                "topic": "Launch",
                "type": 5,
                "start_time": "2024-02-01T12:00:00Z",
                "timezone": "America/Los_Angeles",
                "duration": 60,
                "participant": {
                    "user_id": "16778240",
                    "user_name": "Jill Chill",
                    "id": "iFxeBPYun6SAiWUzBcEkX",
                    "join_time": "2024-02-01T12:01:00Z",
                    "email": "jchill@example.com",
                    "registrant_id": JILL,
                    "participant_user_id": "rstuvwxyza789-cde"
                }
            }
        }
    })
}

#[tokio::test]
async fn url_validation_is_answered_with_the_hmac_of_the_plain_token() {
    let server = MockServer::start().await;
    let body = br#"{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}"#;
    let headers = signed(WEBHOOK_SECRET, now(), body);
    let reply = zoom(&server).webhook(&post(&headers, body), now()).unwrap();

    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(WEBHOOK_SECRET.as_bytes()).unwrap();
    mac.update(b"qgg8vlvZRS6UYooatFL8Aw");
    let expected = hex::encode(mac.finalize().into_bytes());
    match reply {
        WebhookReply::Challenge(answer) => assert_eq!(
            answer,
            json!({"plainToken": "qgg8vlvZRS6UYooatFL8Aw", "encryptedToken": expected})
        ),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn url_validation_must_be_signed_too() {
    let server = MockServer::start().await;
    let body = br#"{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}"#;
    let headers = signed("another-secret", now(), body);
    let err = zoom(&server)
        .webhook(&post(&headers, body), now())
        .unwrap_err();
    assert_eq!(err, WebhookError::BadSignature);
}

#[tokio::test]
async fn a_signature_vector_computed_elsewhere_is_accepted() {
    let server = MockServer::start().await;
    let body = br#"{"event":"webinar.started","event_ts":1706788800000,"payload":{"account_id":"lAAAAAAAAAAAAA","object":{"id":"81234567890","topic":"Launch"}}}"#;
    // Computed with Python over the same bytes:
    // python3 -c 'import hmac,hashlib; print(hmac.new(b"zoom-webhook-s3cret",
    //   b"v0:1706788800:" + body, hashlib.sha256).hexdigest())'
    let expected = "v0=1650a2a11a22136fc0383f43b2e95cff375b5d53a27ce63d13eec9696dff3294";
    let computed = signature(WEBHOOK_SECRET, "1706788800", body);
    // The two independent computations agree.
    assert_eq!(computed, expected);
    let headers = vec![
        ("x-zm-signature".to_owned(), expected.to_owned()),
        ("x-zm-request-timestamp".to_owned(), "1706788800".to_owned()),
    ];
    let signed_at = DateTime::from_timestamp(1706788800, 0).unwrap();
    let reply = zoom(&server)
        .webhook(
            &post(&headers, body),
            signed_at + chrono::Duration::seconds(3),
        )
        .unwrap();
    assert!(touchpoints(reply).is_empty());
}

#[tokio::test]
async fn bad_signatures_are_refused() {
    let server = MockServer::start().await;
    let zoom = zoom(&server);
    let body = serde_json::to_vec(&participant_joined()).unwrap();

    let headers = signed("not-the-secret", now(), &body);
    assert_eq!(
        zoom.webhook(&post(&headers, &body), now()).unwrap_err(),
        WebhookError::BadSignature
    );
    // Signed, then tampered with.
    let headers = signed(WEBHOOK_SECRET, now(), &body);
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    assert_eq!(
        zoom.webhook(&post(&headers, &tampered), now()).unwrap_err(),
        WebhookError::BadSignature
    );
    // Base64 instead of hex, or no signature at all.
    let mut headers = signed(WEBHOOK_SECRET, now(), &body);
    headers[1].1 = "v0=c2lnbmF0dXJl".into();
    assert_eq!(
        zoom.webhook(&post(&headers, &body), now()).unwrap_err(),
        WebhookError::BadSignature
    );
    headers.remove(1);
    assert_eq!(
        zoom.webhook(&post(&headers, &body), now()).unwrap_err(),
        WebhookError::BadSignature
    );
}

#[tokio::test]
async fn without_a_secret_token_webhooks_are_refused() {
    let server = MockServer::start().await;
    let body = serde_json::to_vec(&participant_joined()).unwrap();
    let headers = signed(WEBHOOK_SECRET, now(), &body);
    let err = zoom_with_webhook_secret(&server, None)
        .webhook(&post(&headers, &body), now())
        .unwrap_err();
    assert_eq!(err, WebhookError::BadSignature);
}

#[tokio::test]
async fn a_stale_timestamp_is_refused() {
    let server = MockServer::start().await;
    let body = serde_json::to_vec(&participant_joined()).unwrap();
    let headers = signed(WEBHOOK_SECRET, now() - chrono::Duration::minutes(10), &body);
    let err = zoom(&server)
        .webhook(&post(&headers, &body), now())
        .unwrap_err();
    assert_eq!(err, WebhookError::Stale);
    // A recent one passes.
    let headers = signed(WEBHOOK_SECRET, now() - chrono::Duration::minutes(2), &body);
    assert!(zoom(&server).webhook(&post(&headers, &body), now()).is_ok());
}

#[tokio::test]
async fn a_registration_matches_the_pulled_registration() {
    let server = MockServer::start().await;
    let pulled = pulled(&server).await;
    let from_pull = pulled
        .iter()
        .find(|t| t.external_id == format!("registered:{LAUNCH}:{JILL}"))
        .unwrap();

    let body = serde_json::to_vec(&registration_created()).unwrap();
    let headers = signed(WEBHOOK_SECRET, now(), &body);
    let delivered = touchpoints(
        zoom(&server)
            .webhook(&post(&headers, &body), now())
            .unwrap(),
    );
    assert_eq!(delivered.len(), 1);
    let delivered = &delivered[0];
    // Without create_time, the event's time (2024-01-20T09:15:00Z) stands in.
    assert_eq!(delivered.occurred_at, at("2024-01-20T09:15:00Z"));
    assert_eq!(delivered, from_pull);
}

#[tokio::test]
async fn a_join_matches_the_pulled_attendance() {
    let server = MockServer::start().await;
    let pulled = pulled(&server).await;
    let from_pull = pulled
        .iter()
        .find(|t| {
            t.kind == "webinar.attended" && t.person.zoom_registrant_id.as_deref() == Some(JILL)
        })
        .unwrap();

    let body = serde_json::to_vec(&participant_joined()).unwrap();
    let headers = signed(WEBHOOK_SECRET, now(), &body);
    let delivered = touchpoints(
        zoom(&server)
            .webhook(&post(&headers, &body), now())
            .unwrap(),
    );
    assert_eq!(delivered.len(), 1);
    let delivered = &delivered[0];
    assert_eq!(delivered.external_id, from_pull.external_id);
    assert_eq!(delivered.kind, from_pull.kind);
    assert_eq!(delivered.person, from_pull.person);
    assert_eq!(delivered.occurred_at, at("2024-02-01T12:01:00Z"));
    // The minutes are not known at the join; the pull fills them in.
    assert_eq!(
        delivered.properties,
        json!({"webinar_id": LAUNCH, "webinar_topic": "Launch"})
            .as_object()
            .unwrap()
            .clone()
    );
}

fn participant_left() -> serde_json::Value {
    let mut left = participant_joined();
    left["event"] = json!("webinar.participant_left");
    left["event_ts"] = json!(1706790060000_i64);
    let participant = left["payload"]["object"]["participant"]
        .as_object_mut()
        .unwrap();
    participant.remove("join_time");
    participant.insert("leave_time".into(), json!("2024-02-01T12:21:00Z"));
    participant.insert("leave_reason".into(), json!("left the webinar"));
    left
}

#[tokio::test]
async fn a_departure_is_its_own_touchpoint_and_leaves_the_attendance_alone() {
    let server = MockServer::start().await;
    let pulled = pulled(&server).await;
    let attended = pulled
        .iter()
        .find(|t| {
            t.kind == "webinar.attended" && t.person.zoom_registrant_id.as_deref() == Some(JILL)
        })
        .unwrap();

    let body = serde_json::to_vec(&participant_left()).unwrap();
    let headers = signed(WEBHOOK_SECRET, now(), &body);
    let connector = zoom(&server);
    let delivered = touchpoints(connector.webhook(&post(&headers, &body), now()).unwrap());
    assert_eq!(delivered.len(), 1);
    let left = &delivered[0];
    assert_eq!(
        left.external_id,
        format!("left:{LAUNCH}:registrant:{JILL}:1706790060")
    );
    assert_eq!(left.kind, "webinar.left");
    assert_eq!(left.occurred_at, at("2024-02-01T12:21:00Z"));
    assert_eq!(left.person, attended.person);
    assert_eq!(
        left.properties,
        json!({"webinar_id": LAUNCH, "webinar_topic": "Launch"})
            .as_object()
            .unwrap()
            .clone()
    );
    assert!(pulled.iter().all(|t| t.external_id != left.external_id));
    // A redelivery is the same touchpoint; leaving again after a rejoin is
    // another.
    let again = touchpoints(connector.webhook(&post(&headers, &body), now()).unwrap());
    assert_eq!(&again[0], left);
    let mut later = participant_left();
    later["payload"]["object"]["participant"]["leave_time"] = json!("2024-02-01T12:55:10Z");
    let body = serde_json::to_vec(&later).unwrap();
    let headers = signed(WEBHOOK_SECRET, now(), &body);
    let second = touchpoints(connector.webhook(&post(&headers, &body), now()).unwrap());
    assert_eq!(
        second[0].external_id,
        format!("left:{LAUNCH}:registrant:{JILL}:1706792110")
    );
}

#[tokio::test]
async fn an_anonymous_departure_records_nothing() {
    let server = MockServer::start().await;
    let mut left = participant_left();
    let participant = &mut left["payload"]["object"]["participant"];
    for field in ["user_name", "email", "registrant_id"] {
        participant[field] = json!("");
    }
    let body = serde_json::to_vec(&left).unwrap();
    let headers = signed(WEBHOOK_SECRET, now(), &body);
    let reply = zoom(&server)
        .webhook(&post(&headers, &body), now())
        .unwrap();
    assert!(touchpoints(reply).is_empty());
}

#[tokio::test]
async fn untracked_events_record_nothing() {
    let server = MockServer::start().await;
    for event in [
        json!({"event": "webinar.ended", "event_ts": 1706792400000_i64, "payload": {"account_id": ACCOUNT_ID, "object": {"id": LAUNCH.to_string(), "topic": "Launch"}}}),
        json!({"event": "webinar.started", "event_ts": 1706788800000_i64, "payload": {"account_id": ACCOUNT_ID, "object": {"id": LAUNCH.to_string(), "topic": "Launch"}}}),
    ] {
        let body = serde_json::to_vec(&event).unwrap();
        let headers = signed(WEBHOOK_SECRET, now(), &body);
        let reply = zoom(&server)
            .webhook(&post(&headers, &body), now())
            .unwrap();
        assert!(touchpoints(reply).is_empty(), "{event}");
    }
}

#[tokio::test]
async fn a_webinar_id_that_is_not_a_number_is_malformed() {
    let server = MockServer::start().await;
    let mut event = participant_joined();
    event["payload"]["object"]["id"] = json!("not-a-number");
    let body = serde_json::to_vec(&event).unwrap();
    let headers = signed(WEBHOOK_SECRET, now(), &body);
    let err = zoom(&server)
        .webhook(&post(&headers, &body), now())
        .unwrap_err();
    assert!(matches!(err, WebhookError::Malformed(_)), "{err:?}");
}
