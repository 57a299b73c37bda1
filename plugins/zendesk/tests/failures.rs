//! Rate limits, server errors, refused credentials and broken bodies.

mod common;

use std::time::{Duration, Instant};

use journeys_plugin_sdk::{Connector, PullError};
use journeys_plugin_zendesk::{Cursor, Phase};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use common::*;

fn one_ticket_page() -> serde_json::Value {
    export_page(
        vec![ticket(1, "open", 501, Some(9001), 2)],
        vec![user(501, "Ana Souza", "ana@acme.example", Some(9001))],
        vec![organization(9001, "Acme")],
        Some("c1"),
        true,
    )
}

/// Zendesk's answer when the export's per-minute allowance is spent.
fn export_rate_limited(retry_after: &str) -> ResponseTemplate {
    ResponseTemplate::new(429)
        .insert_header("retry-after", retry_after)
        .insert_header("x-rate-limit", "700")
        .insert_header("x-rate-limit-remaining", "0")
        .set_body_json(json!({
            "error": "APIRateLimitExceeded",
            "description": "Number of allowed incremental export API requests per minute exceeded"
        }))
}

async fn export_requests(server: &MockServer) -> usize {
    queries(server, EXPORT).await.len()
}

#[tokio::test]
async fn a_429_waits_its_retry_after_seconds_then_gets_the_page() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .respond_with(export_rate_limited("1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount_export(&server, None, one_ticket_page()).await;
    no_ratings(&server).await;
    no_ticket_events(&server).await;

    let started = Instant::now();
    let run = sync(&mut connector(&server), Cursor::default())
        .await
        .unwrap();
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(1), "waited {waited:?}");
    assert!(waited < Duration::from_secs(4), "waited {waited:?}");
    assert_eq!(external_ids(&run.touchpoints), ["ticket:1:opened"]);
    assert_eq!(export_requests(&server).await, 2, "the 429, then the page");
}

#[tokio::test]
async fn a_retry_after_longer_than_allowed_fails_the_run_in_seconds() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .respond_with(export_rate_limited("60"))
        .mount(&server)
        .await;
    let err = connector(&server)
        .pull(Cursor::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            PullError::RateLimited {
                wait_seconds: 60,
                max_seconds: 5
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn server_errors_are_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount_export(&server, None, one_ticket_page()).await;
    no_ticket_events(&server).await;
    Mock::given(method("GET"))
        .and(path(RATINGS))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount_ratings(
        &server,
        None,
        ratings_page(
            vec![rating(7001, "good", 1, 501, "2026-03-05T10:00:00Z")],
            None,
        ),
    )
    .await;

    let run = sync(&mut connector(&server), Cursor::default())
        .await
        .unwrap();
    assert_eq!(
        external_ids(&run.touchpoints),
        ["ticket:1:opened", "satisfaction:7001"]
    );
    assert_eq!(export_requests(&server).await, 2);
    assert_eq!(queries(&server, RATINGS).await.len(), 2);
}

#[tokio::test]
async fn a_server_that_keeps_failing_makes_the_run_unavailable() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(502))
        .mount(&server)
        .await;
    let err = connector(&server)
        .pull(Cursor::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, PullError::Unavailable { attempts: 3, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_refused_credential_names_email_and_api_token_and_is_not_retried() {
    for status in [401, 403] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(status)
                    .set_body_json(json!({ "error": "Couldn't authenticate you" })),
            )
            .mount(&server)
            .await;
        let err = connector(&server)
            .pull(Cursor::default())
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                PullError::Unauthorized { credential: "email` and `api_token", status: s } if s == status
            ),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(
            message.contains(&format!(
                "the vendor refused the credential `email` and `api_token` (HTTP {status})"
            )),
            "{message}"
        );
        assert!(!message.contains(API_TOKEN), "{message}");
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn a_refused_credential_on_the_ratings_or_ticket_events_is_named_too() {
    for (endpoint, phase) in [
        (RATINGS, Phase::Ratings),
        (TICKET_EVENTS, Phase::TicketEvents),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(endpoint))
            .respond_with(
                ResponseTemplate::new(401)
                    .set_body_json(json!({ "error": "Couldn't authenticate you" })),
            )
            .mount(&server)
            .await;
        let cursor = Cursor {
            phase,
            ..Cursor::default()
        };
        let err = connector(&server).pull(cursor).await.unwrap_err();
        assert!(
            matches!(
                err,
                PullError::Unauthorized {
                    credential: "email` and `api_token",
                    status: 401
                }
            ),
            "{endpoint}: {err:?}"
        );
    }
}

#[tokio::test]
async fn broken_bodies_are_malformed_and_the_caller_keeps_its_cursor() {
    let bodies = [
        ("truncated", "{\"tickets\":[{\"id\":3,"),
        ("not json", "<html><body>Maintenance</body></html>"),
        (
            "wrong shape",
            "{\"tickets\":{\"id\":3},\"end_of_stream\":true}",
        ),
    ];
    for (what, body) in bodies {
        let server = MockServer::start().await;
        let broken = Mock::given(method("GET"))
            .and(path(EXPORT))
            .respond_with(ResponseTemplate::new(200).set_body_string(body))
            .mount_as_scoped(&server)
            .await;
        let saved = Cursor {
            export_after: Some("c7".into()),
            ..Cursor::default()
        };
        let mut zendesk = connector(&server);
        let err = zendesk.pull(saved.clone()).await.unwrap_err();
        assert!(
            matches!(&err, PullError::Malformed { endpoint, .. } if endpoint == EXPORT),
            "{what}: {err:?}"
        );

        // Pulled again from the same cursor once the vendor is well: the same
        // page is asked for, and its data arrives.
        drop(broken);
        mount_export(&server, Some("c7"), one_ticket_page()).await;
        let batch = zendesk.pull(saved).await.unwrap();
        assert_eq!(
            external_ids(&batch.touchpoints),
            ["ticket:1:opened"],
            "{what}"
        );
        let asked = queries(&server, EXPORT).await;
        assert_eq!(asked.len(), 2);
        assert_eq!(asked[0], asked[1], "{what}: the same page both times");
    }
}

#[tokio::test]
async fn a_broken_ratings_page_is_malformed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(RATINGS))
        .respond_with(
            ResponseTemplate::new(200).set_body_string("{\"satisfaction_ratings\":[{\"id\":70"),
        )
        .mount(&server)
        .await;
    let cursor = Cursor {
        phase: Phase::Ratings,
        export_after: Some("c1".into()),
        ..Cursor::default()
    };
    let err = connector(&server).pull(cursor).await.unwrap_err();
    assert!(
        matches!(&err, PullError::Malformed { endpoint, .. } if endpoint == RATINGS),
        "{err:?}"
    );
}
