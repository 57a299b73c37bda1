//! Signed ticket events, verified and turned into the export's touchpoints.

mod common;

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use hmac::{KeyInit, Mac};
use journeys_plugin_sdk::{
    AccountHint, Connector, PersonHint, Touchpoint, WebhookError, WebhookReply, WebhookRequest,
};
use journeys_plugin_zendesk::{Cursor, Secrets, Zendesk};
use serde_json::{Value, json};
use wiremock::MockServer;

use common::*;

/// A `ticket.created` delivery and its signature for timestamp
/// `2026-03-02T09:00:05Z`, computed outside Rust with
/// `python3 -c 'import base64,hmac,hashlib; print(base64.b64encode(hmac.new(b"zd-signing-secret", b"2026-03-02T09:00:05Z" + BODY, hashlib.sha256).digest()))'`.
const CREATED_BODY: &str = r#"{"type":"zen:event-type:ticket.created","account_id":22129848,"id":"cbe4028c-7239-495d-b020-f22348516046","time":"2026-03-02T09:00:01Z","zendesk_event_version":"2022-11-06","subject":"zen:ticket:35436","detail":{"id":"35436","requester_id":"20978392","organization_id":"509974","status":"OPEN","priority":"HIGH","type":"INCIDENT","subject":"Help, my printer is on fire!","description":"The fire is very colorful.","tags":["enterprise","other_tag"],"via":{"channel":"web"},"created_at":"2026-03-02T09:00:00Z","updated_at":"2026-03-02T09:00:00Z"}}"#;
const CREATED_TIMESTAMP: &str = "2026-03-02T09:00:05Z";
const CREATED_SIGNATURE: &str = "evQI/ysW1LKRAgA6Iu97b+gGvEdLH+40wTNWLVHS5/8=";

/// Signs like Zendesk, with the `hmac` crate directly: base64 of
/// HMAC-SHA256(secret, timestamp followed by the body).
fn sign(secret: &str, timestamp: &str, body: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(timestamp.as_bytes());
    mac.update(body.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn headers(timestamp: &str, signature: &str) -> Vec<(String, String)> {
    vec![
        ("content-type".into(), "application/json".into()),
        (
            "x-zendesk-webhook-id".into(),
            "01GDXYD7ZTWYP8ZZ47CB4W6DFA".into(),
        ),
        (
            "x-zendesk-webhook-signature-timestamp".into(),
            timestamp.into(),
        ),
        ("x-zendesk-webhook-signature".into(), signature.into()),
    ]
}

fn deliver(
    zendesk: &Zendesk,
    headers: &[(String, String)],
    body: &str,
    now: DateTime<Utc>,
) -> Result<WebhookReply, WebhookError> {
    let request = WebhookRequest {
        method: "POST",
        query: &[],
        headers,
        body: body.as_bytes(),
    };
    zendesk.webhook(&request, now)
}

fn touchpoints(reply: Result<WebhookReply, WebhookError>) -> Vec<Touchpoint> {
    match reply {
        Ok(WebhookReply::Touchpoints(touchpoints)) => touchpoints,
        other => panic!("expected touchpoints, got {other:?}"),
    }
}

/// A signed delivery of `event`, checked at the signing time plus 5 s.
fn deliver_signed(zendesk: &Zendesk, event: &Value) -> Result<WebhookReply, WebhookError> {
    let body = event.to_string();
    let timestamp = "2026-03-04T12:30:02Z";
    deliver(
        zendesk,
        &headers(timestamp, &sign(SIGNING_SECRET, timestamp, &body)),
        &body,
        at(timestamp) + Duration::seconds(5),
    )
}

fn status_changed(id: &str, to: &str) -> Value {
    json!({
        "type": "zen:event-type:ticket.status_changed",
        "account_id": 22129848,
        "id": "5d8f9c6e-0a3b-4d53-9a63-1f0e2a7b9c11",
        "time": "2026-03-04T12:30:01Z",
        "zendesk_event_version": "2022-11-06",
        "subject": format!("zen:ticket:{id}"),
        "event": { "current": to, "previous": "OPEN" },
        "detail": {
            "id": id, "requester_id": "20978392", "organization_id": "509974", "status": to,
            "priority": "HIGH", "type": "INCIDENT",
            "subject": "Help, my printer is on fire!", "description": "The fire is very colorful.",
            "tags": ["enterprise", "other_tag"], "via": { "channel": "web" },
            "created_at": "2026-03-02T09:00:00Z", "updated_at": "2026-03-04T12:30:00Z"
        }
    })
}

/// Ticket 35436 as the export gives it: opened on 2 March, solved on 4 March.
async fn exported(server: &MockServer, status: &str) -> Vec<Touchpoint> {
    exported_with_events(server, status, vec![]).await
}

/// [`exported`], with these ticket events (and agent 701 sideloaded).
async fn exported_with_events(
    server: &MockServer,
    status: &str,
    events: Vec<Value>,
) -> Vec<Touchpoint> {
    let mut exported = ticket(35436, status, 20978392, Some(509974), 2);
    exported["subject"] = json!("Help, my printer is on fire!");
    exported["description"] = json!("The fire is very colorful.");
    exported["updated_at"] = json!("2026-03-04T12:30:00Z");
    server.reset().await;
    mount_export(
        server,
        None,
        export_page(
            vec![exported],
            vec![
                user(20978392, "Jo Requester", "jo@acme.example", Some(509974)),
                agent(701, "Sam Agent", "sam@acme.example"),
            ],
            vec![organization(509974, "Acme")],
            Some("c1"),
            true,
        ),
    )
    .await;
    no_ratings(server).await;
    mount_ticket_events(server, None, events_page(events, None, true)).await;
    sync(&mut connector(server), Cursor::default())
        .await
        .unwrap()
        .touchpoints
}

/// What the webhook can know of a pulled touchpoint: the requester and the
/// organisation by id only.
fn as_webhook_knows_it(pulled: &Touchpoint) -> Touchpoint {
    Touchpoint {
        person: PersonHint {
            zendesk_user_id: pulled.person.zendesk_user_id.clone(),
            ..PersonHint::default()
        },
        account: Some(AccountHint {
            external_id: pulled.account.as_ref().and_then(|a| a.external_id.clone()),
            name: None,
        }),
        ..pulled.clone()
    }
}

#[tokio::test]
async fn a_signed_ticket_created_event_makes_the_exports_opened_touchpoint() {
    let server = MockServer::start().await;
    let zendesk = connector(&server);
    let now = at(CREATED_TIMESTAMP) + Duration::seconds(3);
    let from_webhook = touchpoints(deliver(
        &zendesk,
        &headers(CREATED_TIMESTAMP, CREATED_SIGNATURE),
        CREATED_BODY,
        now,
    ));

    let pulled = exported(&server, "open").await;
    assert_eq!(pulled[0].external_id, "ticket:35436:opened");
    assert_eq!(from_webhook, [as_webhook_knows_it(&pulled[0])]);
    assert_eq!(
        from_webhook[0].person,
        PersonHint {
            zendesk_user_id: Some("20978392".into()),
            ..PersonHint::default()
        }
    );
    assert_eq!(from_webhook[0].kind, "ticket.opened");
    assert_eq!(from_webhook[0].occurred_at, at("2026-03-02T09:00:00Z"));
}

#[tokio::test]
async fn a_status_change_to_solved_or_closed_makes_the_exports_solved_touchpoint() {
    let server = MockServer::start().await;
    let zendesk = connector(&server);
    let pulled = exported(&server, "solved").await;
    assert_eq!(pulled[1].external_id, "ticket:35436:solved");

    let solved = touchpoints(deliver_signed(&zendesk, &status_changed("35436", "SOLVED")));
    assert_eq!(solved, [as_webhook_knows_it(&pulled[1])]);

    let closed = touchpoints(deliver_signed(&zendesk, &status_changed("35436", "Closed")));
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].external_id, "ticket:35436:solved");
    assert_eq!(closed[0].kind, "ticket.solved");
    assert_eq!(closed[0].properties["status"], "closed");

    // Closing a solved ticket does not move its solve time.
    let mut closed_after_solved = status_changed("35436", "CLOSED");
    closed_after_solved["event"]["previous"] = json!("SOLVED");
    assert!(touchpoints(deliver_signed(&zendesk, &closed_after_solved)).is_empty());

    let pending = touchpoints(deliver_signed(
        &zendesk,
        &status_changed("35436", "PENDING"),
    ));
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].kind, "ticket.pending");
}

#[tokio::test]
async fn other_events_are_accepted_and_make_nothing() {
    let server = MockServer::start().await;
    let zendesk = connector(&server);
    let user_created = json!({
        "type": "zen:event-type:user.created",
        "account_id": 22129848,
        "id": "0b9a3d8f-2c1e-4f7a-9d6b-5e4c3b2a1f00",
        "time": "2026-03-04T12:30:01Z",
        "zendesk_event_version": "2022-11-06",
        "subject": "zen:user:20978392",
        "detail": { "id": "20978392", "email": "jo@acme.example", "role": "END_USER" }
    });
    assert!(touchpoints(deliver_signed(&zendesk, &user_created)).is_empty());
}

#[tokio::test]
async fn a_bad_signature_is_refused() {
    let server = MockServer::start().await;
    let zendesk = connector(&server);
    let now = at(CREATED_TIMESTAMP) + Duration::seconds(3);
    let tampered = CREATED_BODY.replace("very colorful", "out");
    let cases = [
        (
            "tampered body",
            headers(CREATED_TIMESTAMP, CREATED_SIGNATURE),
            tampered.as_str(),
        ),
        (
            "other secret",
            headers(
                CREATED_TIMESTAMP,
                &sign("not-the-secret", CREATED_TIMESTAMP, CREATED_BODY),
            ),
            CREATED_BODY,
        ),
        (
            "other timestamp signed",
            headers(
                CREATED_TIMESTAMP,
                &sign(SIGNING_SECRET, "2026-03-02T09:00:04Z", CREATED_BODY),
            ),
            CREATED_BODY,
        ),
        (
            "not base64",
            headers(CREATED_TIMESTAMP, "%%%"),
            CREATED_BODY,
        ),
        (
            "no signature",
            headers(CREATED_TIMESTAMP, CREATED_SIGNATURE)
                .into_iter()
                .filter(|(n, _)| n != "x-zendesk-webhook-signature")
                .collect(),
            CREATED_BODY,
        ),
    ];
    for (what, headers, body) in cases {
        assert_eq!(
            deliver(&zendesk, &headers, body, now).unwrap_err(),
            WebhookError::BadSignature,
            "{what}"
        );
    }
}

#[tokio::test]
async fn without_a_signing_secret_webhooks_are_refused() {
    let server = MockServer::start().await;
    let zendesk = Zendesk::new(
        config(&server),
        Secrets {
            api_token: API_TOKEN.into(),
            webhook_signing_secret: None,
        },
        quick_http(),
    )
    .unwrap();
    let now = at(CREATED_TIMESTAMP) + Duration::seconds(3);
    assert_eq!(
        deliver(
            &zendesk,
            &headers(CREATED_TIMESTAMP, CREATED_SIGNATURE),
            CREATED_BODY,
            now
        )
        .unwrap_err(),
        WebhookError::BadSignature
    );
}

#[tokio::test]
async fn stale_or_unreadable_timestamps_are_refused() {
    let server = MockServer::start().await;
    let zendesk = connector(&server);
    let signed = headers(CREATED_TIMESTAMP, CREATED_SIGNATURE);
    // The vector is genuine: accepted within the replay window, either side.
    for skew in [-270, 270] {
        let now = at(CREATED_TIMESTAMP) + Duration::seconds(skew);
        assert!(
            deliver(&zendesk, &signed, CREATED_BODY, now).is_ok(),
            "{skew}"
        );
    }
    for skew in [-600, 600] {
        let now = at(CREATED_TIMESTAMP) + Duration::seconds(skew);
        assert_eq!(
            deliver(&zendesk, &signed, CREATED_BODY, now).unwrap_err(),
            WebhookError::Stale,
            "{skew}"
        );
    }
    let now = at(CREATED_TIMESTAMP);
    let unreadable = "yesterday";
    assert_eq!(
        deliver(
            &zendesk,
            &headers(unreadable, &sign(SIGNING_SECRET, unreadable, CREATED_BODY)),
            CREATED_BODY,
            now
        )
        .unwrap_err(),
        WebhookError::Stale
    );
    let no_timestamp: Vec<_> = signed
        .into_iter()
        .filter(|(n, _)| n != "x-zendesk-webhook-signature-timestamp")
        .collect();
    assert_eq!(
        deliver(&zendesk, &no_timestamp, CREATED_BODY, now).unwrap_err(),
        WebhookError::Stale
    );
}

#[tokio::test]
async fn a_signed_but_broken_payload_is_malformed() {
    let server = MockServer::start().await;
    let zendesk = connector(&server);
    let timestamp = "2026-03-04T12:30:02Z";
    let now = at(timestamp);
    for body in [
        r#"{"type":"zen:event-type:ticket.created","detail":{"id":"#.to_owned(),
        json!({"type": "zen:event-type:ticket.created", "time": "2026-03-04T12:30:01Z",
               "detail": {"id": "not-a-number"}})
        .to_string(),
    ] {
        let reply = deliver(
            &zendesk,
            &headers(timestamp, &sign(SIGNING_SECRET, timestamp, &body)),
            &body,
            now,
        );
        assert!(
            matches!(reply, Err(WebhookError::Malformed(_))),
            "{body}: {reply:?}"
        );
    }
}

/// A `ticket.comment_added` delivery for ticket 35436, as the webhooks'
/// ticket event reference shows one: the comment in `event.comment`, its
/// author with `is_staff`, ids as strings.
fn comment_added(comment: &str, author: &str, is_staff: bool, name: &str, public: bool) -> Value {
    let mut event = status_changed("35436", "OPEN");
    event["type"] = json!("zen:event-type:ticket.comment_added");
    event["id"] = json!("7e4b5f2a-9c1d-4e8f-b3a6-2d5c8e1f0a94");
    event["event"] = json!({
        "comment": {
            "id": comment,
            "body": "Have you tried water?",
            "is_public": public,
            "author": { "id": author, "is_staff": is_staff, "name": name }
        }
    });
    event
}

#[tokio::test]
async fn a_comment_added_event_makes_the_pulls_replied_touchpoint() {
    let server = MockServer::start().await;
    let zendesk = connector(&server);
    let pulled = exported_with_events(
        &server,
        "open",
        vec![
            ticket_event(
                8601,
                35436,
                701,
                "2026-03-04T12:30:00Z",
                vec![comment_event(
                    9601,
                    701,
                    true,
                    "Have you tried water?",
                    "2026-03-04T12:30:00Z",
                )],
            ),
            ticket_event(
                8602,
                35436,
                20978392,
                "2026-03-04T12:30:00Z",
                vec![comment_event(
                    9602,
                    20978392,
                    true,
                    "Have you tried water?",
                    "2026-03-04T12:30:00Z",
                )],
            ),
        ],
    )
    .await;
    assert_eq!(
        external_ids(&pulled),
        [
            "ticket:35436:opened",
            "ticket:35436:comment:9601",
            "ticket:35436:comment:9602"
        ]
    );

    let by_agent = touchpoints(deliver_signed(
        &zendesk,
        &comment_added("9601", "701", true, "Sam Agent", true),
    ));
    assert_eq!(by_agent, [as_webhook_knows_it(&pulled[1])]);
    assert_eq!(
        by_agent[0].owner_team,
        Some(journeys_plugin_sdk::Team::Service)
    );
    assert_eq!(by_agent[0].actor.as_deref(), Some("Sam Agent"));

    let by_requester = touchpoints(deliver_signed(
        &zendesk,
        &comment_added("9602", "20978392", false, "Jo Requester", true),
    ));
    assert_eq!(
        by_requester,
        [Touchpoint {
            person: PersonHint {
                zendesk_user_id: Some("20978392".into()),
                name: Some("Jo Requester".into()),
                ..PersonHint::default()
            },
            ..as_webhook_knows_it(&pulled[2])
        }],
        "the requester is the person, by id and the name the event gives"
    );
    assert_eq!(
        (by_requester[0].owner_team, &by_requester[0].actor),
        (None, &None)
    );
}

#[tokio::test]
async fn status_changes_to_pending_on_hold_or_reopened_make_the_pulls_status_touchpoints() {
    let server = MockServer::start().await;
    let zendesk = connector(&server);
    let pulled = exported_with_events(
        &server,
        "open",
        vec![
            ticket_event(
                8701,
                35436,
                701,
                "2026-03-04T12:30:00Z",
                vec![status_change(9701, "open", "pending")],
            ),
            ticket_event(
                8702,
                35436,
                701,
                "2026-03-04T12:30:00Z",
                vec![status_change(9702, "pending", "hold")],
            ),
            ticket_event(
                8703,
                35436,
                701,
                "2026-03-04T12:30:00Z",
                vec![status_change(9703, "solved", "open")],
            ),
        ],
    )
    .await;
    let second = at("2026-03-04T12:30:00Z").timestamp();
    assert_eq!(
        external_ids(&pulled),
        [
            "ticket:35436:opened".to_owned(),
            format!("ticket:35436:status:pending:{second}"),
            format!("ticket:35436:status:hold:{second}"),
            format!("ticket:35436:status:open:{second}"),
        ]
    );
    let kinds: Vec<&str> = pulled[1..].iter().map(|t| t.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["ticket.pending", "ticket.on_hold", "ticket.reopened"]
    );

    let changes = [("OPEN", "PENDING"), ("PENDING", "HOLD"), ("SOLVED", "OPEN")];
    for ((from, to), pulled) in changes.into_iter().zip(&pulled[1..]) {
        let mut event = status_changed("35436", to);
        event["event"]["previous"] = json!(from);
        let from_webhook = touchpoints(deliver_signed(&zendesk, &event));
        assert_eq!(
            from_webhook,
            [as_webhook_knows_it(pulled)],
            "{from} to {to}"
        );
    }

    // Opened again from anything but solved is no reopening.
    let mut from_pending = status_changed("35436", "OPEN");
    from_pending["event"]["previous"] = json!("PENDING");
    assert!(touchpoints(deliver_signed(&zendesk, &from_pending)).is_empty());
}
