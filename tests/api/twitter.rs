//! The Twitter/X connector against a local server speaking the X API v2
//! (mentions with `expansions=author_id`, `next_token` paging, the
//! `x-rate-limit-reset` 429) and Account Activity webhooks.

use base64::Engine;
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

use crate::connectors::{counts, create, external_ids, sync};
use crate::helpers::{TestApp, create_account, create_stakeholder, spawn_app, sync_runs};

const USER: &str = "2244994945";
const CONSUMER_SECRET: &str = "x-consumer-secret";

fn tweet(id: &str, author: &str, text: &str) -> Value {
    json!({
        "id": id, "text": text, "author_id": author, "conversation_id": id,
        "created_at": "2026-03-05T10:30:00.000Z", "edit_history_tweet_ids": [id],
        "public_metrics": { "retweet_count": 1, "reply_count": 0, "like_count": 4, "quote_count": 0 }
    })
}

fn page(tweets: Vec<Value>, next: Option<&str>) -> Value {
    let ids: Vec<&str> = tweets.iter().map(|t| t["id"].as_str().unwrap()).collect();
    let mut meta = json!({
        "result_count": tweets.len(),
        "newest_id": ids.first(), "oldest_id": ids.last(),
    });
    if let Some(next) = next {
        meta["next_token"] = json!(next);
    }
    json!({
        "data": tweets,
        "includes": { "users": [
            { "id": "1001", "username": "devana", "name": "Ana Dev" },
            { "id": "1002", "username": "bobbuilds", "name": "Bob" }
        ] },
        "meta": meta
    })
}

fn sign(body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(CONSUMER_SECRET.as_bytes()).unwrap();
    mac.update(body);
    format!(
        "sha256={}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

#[tokio::test]
async fn mentions_sync_page_by_page_and_webhooks_do_not_duplicate_them() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let server = MockServer::start().await;
    let mentions = format!("/2/users/{USER}/mentions");
    // First the rate limit, with the window's reset a second away.
    let reset = chrono::Utc::now().timestamp() + 1;
    Mock::given(method("GET")).and(path(&mentions))
        .respond_with(ResponseTemplate::new(429)
            .insert_header("x-rate-limit-limit", "450")
            .insert_header("x-rate-limit-remaining", "0")
            .insert_header("x-rate-limit-reset", reset.to_string())
            .set_body_json(json!({"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429})))
        .up_to_n_times(1).with_priority(1).mount(&server).await;
    Mock::given(method("GET"))
        .and(path(&mentions))
        .and(query_param_is_missing("pagination_token"))
        .and(query_param("expansions", "author_id"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            vec![
                tweet("1900000000000000003", "1001", "@acme love it"),
                tweet("1900000000000000002", "1002", "@acme help?"),
            ],
            Some("t3buvdr5pujq9g7bggsnf3ep2ha28"),
        )))
        .with_priority(2)
        .mount(&server)
        .await;
    // The second page repeats a tweet of the first.
    Mock::given(method("GET"))
        .and(path(&mentions))
        .and(query_param(
            "pagination_token",
            "t3buvdr5pujq9g7bggsnf3ep2ha28",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            vec![
                tweet("1900000000000000002", "1002", "@acme help?"),
                tweet("1900000000000000001", "1001", "@acme hi"),
            ],
            None,
        )))
        .with_priority(2)
        .mount(&server)
        .await;
    let connector = create(
        &app,
        &token,
        json!({
            "kind": "twitter", "name": "X",
            "config": { "base_url": server.uri(), "user_id": USER },
            "secrets": { "bearer_token": "AAAA-bearer", "consumer_secret": CONSUMER_SECRET }
        }),
    )
    .await;
    let id = connector["id"].as_str().unwrap();
    let run = sync(&app, &token, id).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    assert_eq!(
        [
            &run["fetched"],
            &run["created"],
            &run["unchanged"],
            &run["batches"]
        ],
        [4, 3, 1, 2]
    );
    assert_eq!(
        external_ids(&app, &token, "twitter").await,
        [
            "mention:1900000000000000001",
            "mention:1900000000000000002",
            "mention:1900000000000000003"
        ]
    );
    let data = app
        .ok(
            &token,
            "{ stakeholders(first: 10) { nodes { name identities { kind value } } } }",
            json!({}),
        )
        .await;
    let people = data["stakeholders"]["nodes"].as_array().unwrap();
    assert_eq!(people.len(), 2);
    assert!(people.iter().any(|p| {
        p["name"] == "Ana Dev"
            && p["identities"]
                .as_array()
                .unwrap()
                .contains(&json!({"kind": "TWITTER_HANDLE", "value": "devana"}))
    }));

    // The next poll asks only for tweets after the newest seen.
    Mock::given(method("GET"))
        .and(path(&mentions))
        .and(query_param("since_id", "1900000000000000003"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"meta": {"result_count": 0}})),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    let again = sync(&app, &token, id).await;
    assert_eq!(
        [&again["status"], &again["fetched"]],
        [&json!("SUCCEEDED"), &json!(0)],
        "{again}"
    );

    // The CRC check, answered with HMAC-SHA256 of the token under the consumer secret.
    let webhook = app.url(connector["webhookPath"].as_str().unwrap());
    let crc: Value = app
        .client
        .get(&webhook)
        .query(&[("crc_token", "challenge-123")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(CONSUMER_SECRET.as_bytes()).unwrap();
    mac.update(b"challenge-123");
    let expected = format!(
        "sha256={}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    );
    assert_eq!(crc["response_token"], expected);

    // A delivered mention already pulled adds nothing; a new one is recorded.
    let body = json!({
        "for_user_id": USER,
        "tweet_create_events": [
            { "id_str": "1900000000000000003", "text": "@acme love it", "created_at": "Thu Mar 05 10:30:00 +0000 2026",
              "user": { "id_str": "1001", "screen_name": "devana", "name": "Ana Dev" },
              "entities": { "user_mentions": [{ "id_str": USER, "screen_name": "acme" }] } },
            { "id_str": "1900000000000000004", "text": "@acme new here", "created_at": "Thu Mar 05 11:00:00 +0000 2026",
              "user": { "id_str": "1003", "screen_name": "cara", "name": "Cara" },
              "entities": { "user_mentions": [{ "id_str": USER, "screen_name": "acme" }] } }
        ]
    }).to_string();
    let res = app
        .client
        .post(&webhook)
        .header("x-twitter-webhooks-signature", sign(body.as_bytes()))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // A new mention, well formed but signed with the wrong key: refused,
    // and nothing of it stored.
    let forged = json!({
        "for_user_id": USER,
        "tweet_create_events": [
            { "id_str": "1900000000000000005", "text": "@acme forged", "created_at": "Thu Mar 05 12:00:00 +0000 2026",
              "user": { "id_str": "1004", "screen_name": "mallory", "name": "Mallory" },
              "entities": { "user_mentions": [{ "id_str": USER, "screen_name": "acme" }] } }
        ]
    })
    .to_string();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"not-the-consumer-secret").unwrap();
    mac.update(forged.as_bytes());
    let wrong_key = format!(
        "sha256={}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    );
    let res = app
        .client
        .post(&webhook)
        .header("x-twitter-webhooks-signature", wrong_key)
        .body(forged)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let refusal: Value = res.json().await.unwrap();
    assert_eq!(
        refusal["error"]["code"], "WEBHOOK_BAD_SIGNATURE",
        "{refusal}"
    );
    assert_eq!(
        external_ids(&app, &token, "twitter").await,
        [
            "mention:1900000000000000001",
            "mention:1900000000000000002",
            "mention:1900000000000000003",
            "mention:1900000000000000004"
        ]
    );
    let data = app
        .ok(
            &token,
            "{ stakeholders(first: 10) { nodes { name } } }",
            json!({}),
        )
        .await;
    assert!(
        !data.to_string().contains("Mallory"),
        "the forged author was not created: {data}"
    );
}

const BEARER: &str = "AAAA-bearer-never-shown";

/// The tweet id `1900000000000000000 + n`.
fn tid(n: u64) -> String {
    (1_900_000_000_000_000_000 + n).to_string()
}

/// Tweets `ns` by Ana (1001), newest first as X lists them.
fn tweets(ns: &[u64]) -> Vec<Value> {
    ns.iter()
        .map(|&n| tweet(&tid(n), "1001", &format!("@acme number {n}")))
        .collect()
}

fn mention(n: u64) -> String {
    format!("mention:{}", tid(n))
}

/// X's documented empty page.
fn empty_page() -> Value {
    json!({ "meta": { "result_count": 0 } })
}

fn twitter_input(server: &MockServer, query: Option<&str>) -> Value {
    let mut config = json!({ "base_url": server.uri(), "user_id": USER });
    if let Some(query) = query {
        config["query"] = json!(query);
    }
    json!({
        "kind": "twitter", "name": "X", "config": config,
        "secrets": { "bearer_token": BEARER, "consumer_secret": CONSUMER_SECRET }
    })
}

fn mentions_path() -> String {
    format!("/2/users/{USER}/mentions")
}

/// A request for the mentions page after `token` (the first when `None`),
/// made with the bearer token.
fn mentions_page(token: Option<&str>) -> MockBuilder {
    let builder = Mock::given(method("GET"))
        .and(path(mentions_path()))
        .and(header("authorization", format!("Bearer {BEARER}").as_str()));
    match token {
        Some(token) => builder.and(query_param("pagination_token", token)),
        None => builder.and(query_param_is_missing("pagination_token")),
    }
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

/// X's 429, with the window's end in `x-rate-limit-reset` (Unix seconds).
fn too_many_requests(reset: i64) -> ResponseTemplate {
    ResponseTemplate::new(429)
        .insert_header("x-rate-limit-limit", "75")
        .insert_header("x-rate-limit-remaining", "0")
        .insert_header("x-rate-limit-reset", reset.to_string())
        .set_body_json(json!({
            "title": "Too Many Requests", "detail": "Too Many Requests",
            "type": "about:blank", "status": 429
        }))
}

/// X's problem body for a status.
fn problem(status: u16, title: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "title": title, "detail": title, "type": "about:blank", "status": status
    }))
}

/// Requests to `endpoint` whose query has `param` (with `value`, or absent
/// when `None`).
async fn requests(server: &MockServer, endpoint: &str, param: &str, value: Option<&str>) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| {
            r.url.path() == endpoint
                && r.url
                    .query_pairs()
                    .find(|(k, _)| k == param)
                    .map(|(_, v)| v.into_owned())
                    == value.map(str::to_owned)
        })
        .count()
}

async fn create_twitter(app: &TestApp, token: &str, server: &MockServer) -> String {
    create(app, token, twitter_input(server, None)).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_sync_killed_after_its_second_page_resumes_with_nothing_lost_or_doubled() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let server = MockServer::start().await;
    mentions_page(None)
        .respond_with(ok(page(tweets(&[6, 5]), Some("p2"))))
        .mount(&server)
        .await;
    mentions_page(Some("p2"))
        .respond_with(ok(page(tweets(&[4, 3]), Some("p3"))))
        .mount(&server)
        .await;
    // The third page dies mid-body, every time, for now.
    let whole = page(tweets(&[2, 1]), Some("p4")).to_string();
    let broken = mentions_page(Some("p3"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(whole[..whole.len() / 2].to_owned(), "application/json"),
        )
        .mount_as_scoped(&server)
        .await;
    let id = create_twitter(&app, &token, &server).await;

    let failed = sync(&app, &token, &id).await;
    assert_eq!(failed["status"], "FAILED", "{failed}");
    assert_eq!(failed["errorCode"], "CONNECTOR_MALFORMED");
    assert_eq!(counts(&failed), [4, 4, 0, 0, 0, 2], "two pages saved");
    assert_eq!(
        external_ids(&app, &token, "twitter").await,
        [mention(3), mention(4), mention(5), mention(6)]
    );

    // Page 3 now comes whole; it repeats page 2's last tweet, as X's pages
    // shift. Page 4 is empty and ends the pass.
    drop(broken);
    mentions_page(Some("p3"))
        .respond_with(ok(page(tweets(&[3, 2, 1]), Some("p4"))))
        .mount(&server)
        .await;
    mentions_page(Some("p4"))
        .respond_with(ok(empty_page()))
        .mount(&server)
        .await;
    let resumed = sync(&app, &token, &id).await;
    assert_eq!(resumed["status"], "SUCCEEDED", "{resumed}");
    assert_eq!(counts(&resumed), [3, 2, 0, 1, 0, 2], "{resumed}");
    assert_eq!(
        external_ids(&app, &token, "twitter").await,
        (1..=6).map(mention).collect::<Vec<_>>()
    );
    let mentions = mentions_path();
    assert_eq!(
        requests(&server, &mentions, "pagination_token", None).await,
        1,
        "the resumed run did not start over"
    );
    assert_eq!(
        requests(&server, &mentions, "pagination_token", Some("p2")).await,
        1
    );
    assert_eq!(
        requests(&server, &mentions, "pagination_token", Some("p3")).await,
        2
    );
    assert_eq!(requests(&server, &mentions, "since_id", None).await, 5);

    // The pass is over: its newest tweet, seen by the killed run, is where
    // the next poll starts.
    mentions_page(None)
        .and(query_param("since_id", tid(6)))
        .respond_with(ok(empty_page()))
        .with_priority(1)
        .mount(&server)
        .await;
    let next = sync(&app, &token, &id).await;
    assert_eq!(
        [&next["status"], &json!(counts(&next))],
        [&json!("SUCCEEDED"), &json!([0, 0, 0, 0, 0, 1])],
        "{next}"
    );
    assert_eq!(
        requests(&server, &mentions, "since_id", Some(&tid(6))).await,
        1
    );
    assert_eq!(
        sync_runs(&app, &token, &id).await,
        json!([
            ["SUCCEEDED", null, [0, 0, 0, 0, 0, 1]],
            ["SUCCEEDED", null, [3, 2, 0, 1, 0, 2]],
            ["FAILED", "CONNECTOR_MALFORMED", [4, 4, 0, 0, 0, 2]]
        ])
    );
}

#[tokio::test]
async fn server_errors_and_rate_limits_are_waited_out() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let server = MockServer::start().await;
    // The first page: a 503, then a 429 whose window resets in 1–2 s (the
    // run cannot end before then), then the page.
    let started = std::time::Instant::now();
    let reset = chrono::Utc::now().timestamp() + 2;
    mentions_page(None)
        .respond_with(problem(503, "Service Unavailable"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mentions_page(None)
        .respond_with(too_many_requests(reset))
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&server)
        .await;
    mentions_page(None)
        .respond_with(ok(page(tweets(&[3, 2]), Some("p2"))))
        .with_priority(3)
        .mount(&server)
        .await;
    // The second: a 500, then the page, which repeats a tweet of the first.
    mentions_page(Some("p2"))
        .respond_with(problem(500, "Internal Server Error"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mentions_page(Some("p2"))
        .respond_with(ok(page(tweets(&[2, 1]), None)))
        .with_priority(2)
        .mount(&server)
        .await;
    let id = create_twitter(&app, &token, &server).await;

    let run = sync(&app, &token, &id).await;
    let waited = started.elapsed();
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    assert_eq!(counts(&run), [4, 3, 0, 1, 0, 2], "{run}");
    assert!(
        waited >= std::time::Duration::from_secs(1),
        "x-rate-limit-reset was obeyed: {waited:?}"
    );
    let mentions = mentions_path();
    assert_eq!(
        requests(&server, &mentions, "pagination_token", None).await,
        3,
        "503, 429, then the page"
    );
    assert_eq!(
        requests(&server, &mentions, "pagination_token", Some("p2")).await,
        2,
        "500, then the page"
    );
    assert_eq!(
        external_ids(&app, &token, "twitter").await,
        [mention(1), mention(2), mention(3)]
    );
    assert_eq!(
        sync_runs(&app, &token, &id).await,
        json!([["SUCCEEDED", null, [4, 3, 0, 1, 0, 2]]])
    );
}

#[tokio::test]
async fn a_refused_credential_or_a_bad_page_fails_the_run_keeping_the_pages_before_it() {
    let app = spawn_app().await;
    // Page 2 holds tweets 3 and 2; in the truncated and numeric-id bodies
    // tweet 3 is whole, yet nothing of the page may be saved.
    let whole = page(tweets(&[3, 2]), None).to_string();
    let cut = whole[..whole.find(&tid(2)).unwrap() + 40].to_owned();
    let numeric_id = whole.replace(
        &format!("\"id\":\"{}\"", tid(2)),
        &format!("\"id\":{}", tid(2)),
    );
    assert_ne!(numeric_id, whole);
    let raw = |body: String| ResponseTemplate::new(200).set_body_raw(body, "application/json");
    let far = chrono::Utc::now().timestamp() + 900;
    // (what, the second page's answer, the run's error code, requests for the page)
    let cases = [
        (
            "401",
            problem(401, "Unauthorized"),
            "CONNECTOR_UNAUTHORIZED",
            1,
        ),
        (
            "403",
            problem(403, "Forbidden"),
            "CONNECTOR_UNAUTHORIZED",
            1,
        ),
        (
            "not JSON",
            raw("<html><body>Over capacity</body></html>".into()),
            "CONNECTOR_MALFORMED",
            1,
        ),
        ("truncated", raw(cut), "CONNECTOR_MALFORMED", 1),
        (
            "a numeric tweet id",
            raw(numeric_id),
            "CONNECTOR_MALFORMED",
            1,
        ),
        (
            "neither data nor meta",
            raw("{}".into()),
            "CONNECTOR_MALFORMED",
            1,
        ),
        (
            "a reset beyond the allowed wait",
            too_many_requests(far),
            "CONNECTOR_RATE_LIMITED",
            1,
        ),
        (
            "503 every time",
            problem(503, "Service Unavailable"),
            "CONNECTOR_UNAVAILABLE",
            3,
        ),
    ];
    for (n, (what, answer, code, attempts)) in cases.into_iter().enumerate() {
        let slug = format!("case{n}");
        app.workspace(&slug).await;
        let token = app.admin(&slug);
        let server = MockServer::start().await;
        mentions_page(None)
            .respond_with(ok(page(tweets(&[4]), Some("p2"))))
            .mount(&server)
            .await;
        mentions_page(Some("p2"))
            .respond_with(answer)
            .mount(&server)
            .await;
        let id = create_twitter(&app, &token, &server).await;

        let run = sync(&app, &token, &id).await;
        assert_eq!(
            [&run["status"], &run["errorCode"]],
            [&json!("FAILED"), &json!(code)],
            "{what}: {run}"
        );
        assert_eq!(counts(&run), [1, 1, 0, 0, 0, 1], "{what}: page 1 only");
        assert_eq!(
            external_ids(&app, &token, "twitter").await,
            [mention(4)],
            "{what}"
        );
        let error = run["error"].as_str().unwrap();
        assert!(
            !error.contains(BEARER) && !error.contains(CONSUMER_SECRET),
            "{what}: {error}"
        );
        if code == "CONNECTOR_UNAUTHORIZED" {
            assert!(error.contains("`bearer_token`"), "{what}: {error}");
        }
        assert_eq!(
            requests(&server, &mentions_path(), "pagination_token", Some("p2")).await,
            attempts,
            "{what}"
        );
        assert_eq!(
            sync_runs(&app, &token, &id).await,
            json!([["FAILED", code, [1, 1, 0, 0, 0, 1]]]),
            "{what}"
        );
    }
}

#[tokio::test]
async fn a_search_query_records_its_matches_besides_the_mentions() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let server = MockServer::start().await;
    let query = "\"acme api\" -is:retweet";
    mentions_page(None)
        .respond_with(ok(page(tweets(&[1]), None)))
        .mount(&server)
        .await;
    let search = |next: Option<&str>| {
        let builder = Mock::given(method("GET"))
            .and(path("/2/tweets/search/recent"))
            .and(header("authorization", format!("Bearer {BEARER}").as_str()))
            .and(query_param("query", query))
            .and(query_param("expansions", "author_id"));
        match next {
            Some(token) => builder.and(query_param("next_token", token)),
            None => builder.and(query_param_is_missing("next_token")),
        }
    };
    // Tweet 1 both mentions the account and matches; 12 is on both pages.
    search(None)
        .respond_with(ok(page(tweets(&[12, 1]), Some("s2"))))
        .mount(&server)
        .await;
    search(Some("s2"))
        .respond_with(ok(page(tweets(&[12, 11]), None)))
        .mount(&server)
        .await;
    let id = create(&app, &token, twitter_input(&server, Some(query))).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let run = sync(&app, &token, &id).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    assert_eq!(counts(&run), [5, 4, 0, 1, 0, 3], "{run}");
    let data = app
        .ok(
            &token,
            r#"{ touchpoints(filter: {source: "twitter"}, first: 50) { nodes { externalId kind channel properties } } }"#,
            json!({}),
        )
        .await;
    let mut found: Vec<(String, String, Value)> = data["touchpoints"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            assert_eq!(t["channel"], "SOCIAL", "{t}");
            (
                t["externalId"].as_str().unwrap().to_owned(),
                t["kind"].as_str().unwrap().to_owned(),
                t["properties"]["query"].clone(),
            )
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    let matched = |n: u64| {
        (
            format!("search:{}", tid(n)),
            "tweet.search_match".to_owned(),
            json!(query),
        )
    };
    assert_eq!(
        found,
        [
            (mention(1), "tweet.mention".to_owned(), Value::Null),
            matched(1),
            matched(11),
            matched(12),
        ]
    );
    assert_eq!(
        sync_runs(&app, &token, &id).await,
        json!([["SUCCEEDED", null, [5, 4, 0, 1, 0, 3]]])
    );
}

#[tokio::test]
async fn authors_land_on_the_people_and_accounts_already_known() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let labs = create_account(&app, &token, "Devana Labs", &[]).await;
    let builders = create_account(&app, &token, "Bob Builders", &[]).await;
    // Ana is known by her X user id, Bob by his handle.
    let ana = create_stakeholder(
        &app,
        &token,
        json!({ "name": "Ana Known", "identities": [{ "kind": "TWITTER_USER_ID", "value": "1001" }],
                "accountId": labs }),
    )
    .await;
    let bob = create_stakeholder(
        &app,
        &token,
        json!({ "name": "Bob Known", "identities": [{ "kind": "TWITTER_HANDLE", "value": "@BobBuilds" }],
                "accountId": builders }),
    )
    .await;
    let server = MockServer::start().await;
    mentions_page(None)
        .respond_with(ok(page(
            vec![
                tweet(&tid(3), "1003", "@acme who am I"),
                tweet(&tid(2), "1002", "@acme help?"),
                tweet(&tid(1), "1001", "@acme hi"),
            ],
            None,
        )))
        .mount(&server)
        .await;
    let id = create_twitter(&app, &token, &server).await;
    let run = sync(&app, &token, &id).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    assert_eq!(counts(&run), [3, 3, 0, 0, 0, 1], "{run}");

    let data = app
        .ok(
            &token,
            r#"{ touchpoints(filter: {source: "twitter"}, first: 10) { nodes {
                externalId stakeholder { id } account { id } } } }"#,
            json!({}),
        )
        .await;
    let landed = |n: u64| {
        let t = data["touchpoints"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["externalId"] == mention(n).as_str())
            .unwrap_or_else(|| panic!("mention {n}: {data}"))
            .clone();
        (t["stakeholder"]["id"].clone(), t["account"]["id"].clone())
    };
    assert_eq!(landed(1), (json!(ana), json!(labs)));
    assert_eq!(landed(2), (json!(bob), json!(builders)));
    let (stranger, account) = landed(3);
    assert!(stranger.is_string() && stranger != json!(ana) && stranger != json!(bob));
    assert_eq!(account, Value::Null, "an unknown author has no account");

    // No one was created twice, and the known people gained the identity
    // they lacked.
    let data = app
        .ok(
            &token,
            "{ stakeholders(first: 10) { totalCount nodes { id identities { kind value } accounts(first: 5) { nodes { id } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["stakeholders"]["totalCount"], 3, "{data}");
    let person = |id: &str| {
        data["stakeholders"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .unwrap()
            .clone()
    };
    let identities = |id: &str| person(id)["identities"].as_array().unwrap().clone();
    assert!(identities(&ana).contains(&json!({"kind": "TWITTER_HANDLE", "value": "devana"})));
    assert!(identities(&bob).contains(&json!({"kind": "TWITTER_USER_ID", "value": "1002"})));
    assert_eq!(person(&ana)["accounts"]["nodes"], json!([{ "id": labs }]));
    assert_eq!(
        person(&bob)["accounts"]["nodes"],
        json!([{ "id": builders }])
    );
}
