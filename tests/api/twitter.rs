//! The Twitter/X connector against a local server speaking the X API v2
//! (mentions with `expansions=author_id`, `next_token` paging, the
//! `x-rate-limit-reset` 429) and Account Activity webhooks.

use base64::Engine;
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::connectors::{create, external_ids, sync};
use crate::helpers::spawn_app;

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
    let res = app
        .client
        .post(&webhook)
        .header("x-twitter-webhooks-signature", sign(b"other"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(
        external_ids(&app, &token, "twitter").await,
        [
            "mention:1900000000000000001",
            "mention:1900000000000000002",
            "mention:1900000000000000003",
            "mention:1900000000000000004"
        ]
    );
}
