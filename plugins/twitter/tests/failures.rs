//! How X's failures reach the runtime: waits, retries and clear errors.

mod common;

use std::time::{Duration, Instant};

use common::*;
use journeys_plugin_sdk::PullError;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const T1: &str = "1900000000000000001";

fn one_mention() -> serde_json::Value {
    page(
        vec![tweet(T1, "1001", "@acme hi", "2026-03-05T10:01:00.000Z")],
        None,
    )
}

/// X's 429: the documented problem body and rate-limit headers.
fn too_many_requests(reset: i64) -> ResponseTemplate {
    ResponseTemplate::new(429)
        .insert_header("x-rate-limit-limit", "450")
        .insert_header("x-rate-limit-remaining", "0")
        .insert_header("x-rate-limit-reset", reset.to_string())
        .set_body_json(json!({
            "title": "Too Many Requests", "detail": "Too Many Requests",
            "type": "about:blank", "status": 429
        }))
}

#[tokio::test]
async fn a_429_waits_until_the_window_resets_then_gets_the_data() {
    let server = MockServer::start().await;
    // The window resets two seconds from now (whole seconds): a wait of 1–2 s.
    let reset = chrono::Utc::now().timestamp() + 2;
    Mock::given(method("GET"))
        .and(path(MENTIONS_PATH))
        .respond_with(too_many_requests(reset))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(MENTIONS_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(one_mention()))
        .mount(&server)
        .await;
    let mut twitter = connector(&server, None);
    let started = Instant::now();
    let run = sync(twitter.as_mut(), None).await.unwrap();
    let waited = started.elapsed();

    assert_eq!(run.external_ids(), [format!("mention:{T1}")]);
    // Measured against the reset X gave, not the stopwatch started later.
    let returned = chrono::Utc::now().timestamp();
    assert!(returned >= reset, "returned at {returned}, before {reset}");
    assert!(waited < Duration::from_secs(5), "waited {waited:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_reset_beyond_the_allowed_wait_fails_the_run() {
    let server = MockServer::start().await;
    let reset = chrono::Utc::now().timestamp() + 900;
    Mock::given(method("GET"))
        .and(path(MENTIONS_PATH))
        .respond_with(too_many_requests(reset))
        .mount(&server)
        .await;
    let mut twitter = connector(&server, None);
    let started = Instant::now();
    let error = twitter.pull(None).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "it did not sleep"
    );
    match error {
        PullError::RateLimited {
            wait_seconds,
            max_seconds,
        } => {
            assert!((898..=900).contains(&wait_seconds), "{wait_seconds}");
            assert_eq!(max_seconds, 10);
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
}

#[tokio::test]
async fn a_5xx_is_retried_then_the_data_arrives() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(MENTIONS_PATH))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!({
            "title": "Service Unavailable", "detail": "Service Unavailable",
            "type": "about:blank", "status": 503
        })))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(MENTIONS_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(one_mention()))
        .mount(&server)
        .await;
    let mut twitter = connector(&server, None);
    let run = sync(twitter.as_mut(), None).await.unwrap();
    assert_eq!(run.external_ids(), [format!("mention:{T1}")]);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_401_names_the_bearer_token_and_never_shows_it() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(MENTIONS_PATH))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"
        })))
        .mount(&server)
        .await;
    let mut twitter = connector(&server, None);
    let error = twitter.pull(None).await.unwrap_err();
    assert!(
        matches!(
            error,
            PullError::Unauthorized {
                credential: "bearer_token",
                status: 401
            }
        ),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("bearer_token"), "{message}");
    assert!(!message.contains(BEARER), "{message}");
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "no retry"
    );
}

#[tokio::test]
async fn malformed_and_truncated_bodies_are_malformed() {
    let whole = one_mention().to_string();
    let bodies = [
        ("truncated", whole[..whole.len() / 2].to_owned()),
        (
            "not json",
            "<html><body>Over capacity</body></html>".to_owned(),
        ),
        // Ids are strings of digits; a number is not what X documents.
        (
            "numeric id",
            whole.replace(&format!("\"id\":\"{T1}\""), &format!("\"id\":{T1}")),
        ),
        ("neither data nor meta", "{}".to_owned()),
    ];
    for (what, body) in bodies {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(MENTIONS_PATH))
            .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
            .mount(&server)
            .await;
        let mut twitter = connector(&server, None);
        let saved = json!({ "mentions": { "since_id": "1800000000000000000" } });
        let error = twitter.pull(Some(&saved)).await.unwrap_err();
        match error {
            PullError::Malformed { endpoint, .. } => assert_eq!(endpoint, MENTIONS_PATH, "{what}"),
            other => panic!("{what}: expected Malformed, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_tweet_without_its_requested_fields_is_malformed() {
    let server = MockServer::start().await;
    let mut body = one_mention();
    body["data"][0]
        .as_object_mut()
        .unwrap()
        .remove("created_at");
    Mock::given(method("GET"))
        .and(path(MENTIONS_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    let mut twitter = connector(&server, None);
    let error = twitter.pull(None).await.unwrap_err();
    match error {
        PullError::Malformed { detail, .. } => {
            assert_eq!(detail, format!("tweet {T1} has no created_at"));
        }
        other => panic!("expected Malformed, got {other:?}"),
    }
}
