//! The per-token rate limit: 429 with `Retry-After` and RATE_LIMITED past a
//! caller's allowance; a bucket per token subject and workspace, and per
//! client address without a token; a batch counts its items.

use journeys::rate_limit::RateLimit;
use journeys_api::auth::{Scope, mint_hs256};
use serde_json::{Value, json};

use crate::helpers::{SECRET, ServerSettings, TestApp, spawn_app_with_settings};

/// Sends `query` with `token` (none: anonymous); the status, the
/// `Retry-After` seconds and the body.
async fn send(
    app: &TestApp,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> (u16, Option<u64>, Value) {
    let mut req = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let retry_after = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse::<u64>().expect("whole seconds"));
    (status, retry_after, res.json().await.unwrap())
}

fn assert_rate_limited((status, retry_after, body): &(u16, Option<u64>, Value)) {
    assert_eq!(*status, 429, "{body}");
    assert!(
        retry_after.is_some_and(|s| s >= 1),
        "Retry-After: {retry_after:?}"
    );
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "RATE_LIMITED",
        "{body}"
    );
}

async fn limited(per_minute: u32, burst: u32) -> TestApp {
    spawn_app_with_settings(ServerSettings {
        rate: RateLimit { per_minute, burst },
        ..Default::default()
    })
    .await
}

#[tokio::test]
async fn a_token_past_its_burst_is_refused_with_retry_after() {
    let app = limited(60, 5).await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    for _ in 0..5 {
        let (status, _, body) =
            send(&app, Some(&token), "{ viewer { workspace } }", json!({})).await;
        assert_eq!(status, 200, "{body}");
    }
    assert_rate_limited(&send(&app, Some(&token), "{ viewer { workspace } }", json!({})).await);
    // Another subject of the workspace has an allowance of its own.
    let other = mint_hs256(
        SECRET,
        "someone-else",
        "acme",
        &[Scope::Read],
        chrono::Duration::hours(1),
    )
    .unwrap();
    let (status, _, _) = send(&app, Some(&other), "{ viewer { workspace } }", json!({})).await;
    assert_eq!(status, 200);
    // Without a token, the client's address has one.
    for _ in 0..5 {
        let (status, _, _) = send(&app, None, "{ __typename }", json!({})).await;
        assert_eq!(status, 200);
    }
    assert_rate_limited(&send(&app, None, "{ __typename }", json!({})).await);
    // A second later the token has one request again.
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let (status, _, _) = send(&app, Some(&token), "{ viewer { workspace } }", json!({})).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_batch_counts_its_items() {
    let app = limited(60, 10).await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let batch = |n: usize, from: usize| {
        let items: Vec<Value> = (from..from + n)
            .map(|i| json!({ "externalId": format!("e{i}"), "channel": "WEB", "kind": "page.visited", "occurredAt": "2026-03-01T10:00:00Z" }))
            .collect();
        json!({ "input": { "touchpoints": items } })
    };
    let record = "mutation($input: RecordTouchpointsInput!) { recordTouchpoints(input: $input) { created } }";
    let (status, _, body) = send(&app, Some(&token), record, batch(8, 0)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["recordTouchpoints"]["created"], 8);
    // Two requests are left: a batch of three is one too many, and writes nothing.
    assert_rate_limited(&send(&app, Some(&token), record, batch(3, 8)).await);
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    let (status, _, body) = send(
        &app,
        Some(&token),
        "{ touchpoints { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["touchpoints"]["totalCount"], 8);
}

#[tokio::test]
async fn the_default_limit_refuses_a_token_sending_faster() {
    let app = limited(RateLimit::default().per_minute, RateLimit::default().burst).await;
    app.workspace("acme").await;
    let token = app.token("acme", &[Scope::Read]);
    let mut sent = 0;
    let refused = loop {
        // Sixteen at a time, until one is refused (at most 2,000 a minute's worth).
        let round = (0..16).map(|_| send(&app, Some(&token), "{ __typename }", json!({})));
        let answers = futures_util::future::join_all(round).await;
        sent += answers.len();
        if let Some(refused) = answers.into_iter().find(|(status, _, _)| *status != 200) {
            break refused;
        }
        assert!(sent < 2_000, "2,000 requests and none refused");
    };
    assert_rate_limited(&refused);
    assert!(
        sent > RateLimit::default().burst as usize,
        "refused after {sent}, within the burst"
    );
}
