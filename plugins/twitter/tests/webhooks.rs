//! Account Activity webhooks: the CRC check, signed deliveries, and mentions
//! recorded exactly as the pull records them.

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{TimeZone, Utc};
use common::*;
use hmac::{KeyInit, Mac};
use journeys_plugin_sdk::{
    DynConnector, PersonHint, Touchpoint, WebhookError, WebhookReply, WebhookRequest, plugin,
};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Computed here with the `hmac` crate, independently of the connector.
fn signature(body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(CONSUMER_SECRET.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", BASE64.encode(mac.finalize().into_bytes()))
}

fn post<'a>(headers: &'a [(String, String)], body: &'a [u8]) -> WebhookRequest<'a> {
    WebhookRequest {
        method: "POST",
        query: &[],
        headers,
        body,
    }
}

fn signed(body: &[u8]) -> Vec<(String, String)> {
    vec![
        ("content-type".into(), "application/json".into()),
        ("x-twitter-webhooks-signature".into(), signature(body)),
    ]
}

fn delivered(twitter: &dyn DynConnector, body: &[u8]) -> Result<Vec<Touchpoint>, WebhookError> {
    let headers = signed(body);
    match twitter.webhook(&post(&headers, body), Utc::now())? {
        WebhookReply::Touchpoints(touchpoints) => Ok(touchpoints),
        WebhookReply::Challenge(answer) => panic!("a delivery answered as a CRC check: {answer}"),
    }
}

/// A v1.1 tweet as Account Activity delivers it.
fn legacy_tweet(id: &str, author: (&str, &str, &str), text: &str, mentions: &[&str]) -> Value {
    let (id_str, screen_name, name) = author;
    json!({
        "created_at": "Thu Mar 05 10:30:00 +0000 2026",
        "id": id.parse::<u64>().unwrap(),
        "id_str": id,
        "text": text,
        "truncated": false,
        "in_reply_to_status_id": null, "in_reply_to_status_id_str": null,
        "user": { "id": id_str.parse::<u64>().unwrap(), "id_str": id_str, "name": name, "screen_name": screen_name },
        "retweet_count": 1, "favorite_count": 4, "reply_count": 0, "quote_count": 0,
        "entities": {
            "hashtags": [], "urls": [], "symbols": [],
            "user_mentions": mentions.iter().map(|m| json!({
                "screen_name": "acme", "name": "Acme", "id": m.parse::<u64>().unwrap(), "id_str": m, "indices": [0, 5]
            })).collect::<Vec<_>>()
        },
        "favorited": false, "retweeted": false, "lang": "en",
        "timestamp_ms": "1772706600000"
    })
}

fn activity(events: Vec<Value>) -> Vec<u8> {
    json!({ "for_user_id": USER_ID, "tweet_create_events": events })
        .to_string()
        .into_bytes()
}

async fn offline() -> (MockServer, Box<dyn DynConnector>) {
    let server = MockServer::start().await;
    let twitter = connector(&server, None);
    (server, twitter)
}

#[tokio::test]
async fn the_crc_check_is_answered_exactly() {
    let (_server, twitter) = offline().await;
    let query = [("crc_token".to_owned(), "challenge-123".to_owned())];
    let request = WebhookRequest {
        method: "GET",
        query: &query,
        headers: &[],
        body: b"",
    };
    let reply = twitter.webhook(&request, Utc::now()).unwrap();
    // python3 -c 'import hmac,hashlib,base64; print(base64.b64encode(hmac.new(
    //   b"kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw", b"challenge-123", hashlib.sha256).digest()).decode())'
    let expected = "sha256=EqTRamSX/RlRtfZEbA3ZzGOw/b2t1CH1fVeFL1YyNdg=";
    assert_eq!(signature(b"challenge-123"), expected);
    match reply {
        WebhookReply::Challenge(answer) => {
            assert_eq!(answer, json!({ "response_token": expected }));
        }
        other => panic!("expected a challenge answer, got {other:?}"),
    }
    let no_token = WebhookRequest {
        method: "GET",
        query: &[],
        headers: &[],
        body: b"",
    };
    assert!(matches!(
        twitter.webhook(&no_token, Utc::now()),
        Err(WebhookError::Malformed(_))
    ));
}

#[tokio::test]
async fn signatures_are_checked() {
    let (_server, twitter) = offline().await;
    let body = activity(vec![legacy_tweet(
        "1900000000000000004",
        ("1003", "cara", "Cara"),
        "@acme new here",
        &[USER_ID],
    )]);
    assert_eq!(delivered(twitter.as_ref(), &body).unwrap().len(), 1);

    let tampered = {
        let mut b = body.clone();
        let at = b.len() - 3;
        b[at] = b' ';
        b
    };
    let wrong_body = signed(&body);
    assert_eq!(
        twitter
            .webhook(&post(&wrong_body, &tampered), Utc::now())
            .unwrap_err(),
        WebhookError::BadSignature
    );
    for header in [
        signature(b"another body"),
        signature(&body).replace("sha256=", "sha1="),
        "sha256=not base64!".to_owned(),
    ] {
        let headers = vec![("x-twitter-webhooks-signature".to_owned(), header.clone())];
        assert_eq!(
            twitter
                .webhook(&post(&headers, &body), Utc::now())
                .unwrap_err(),
            WebhookError::BadSignature,
            "{header}"
        );
    }
    assert_eq!(
        twitter.webhook(&post(&[], &body), Utc::now()).unwrap_err(),
        WebhookError::BadSignature,
        "unsigned"
    );
}

#[tokio::test]
async fn without_a_consumer_secret_webhooks_are_refused() {
    let server = MockServer::start().await;
    let twitter = plugin::<journeys_plugin_twitter::Twitter>()
        .build(
            &json!({ "base_url": server.uri(), "user_id": USER_ID }),
            &json!({ "bearer_token": BEARER }),
            quick_http(),
        )
        .unwrap();
    let body = activity(vec![]);
    let headers = signed(&body);
    assert_eq!(
        twitter
            .webhook(&post(&headers, &body), Utc::now())
            .unwrap_err(),
        WebhookError::BadSignature
    );
    let query = [("crc_token".to_owned(), "challenge-123".to_owned())];
    let crc = WebhookRequest {
        method: "GET",
        query: &query,
        headers: &[],
        body: b"",
    };
    assert_eq!(
        twitter.webhook(&crc, Utc::now()).unwrap_err(),
        WebhookError::BadSignature
    );
}

#[tokio::test]
async fn x_signs_no_timestamp_so_an_old_delivery_is_not_stale() {
    let (_server, twitter) = offline().await;
    let body = activity(vec![legacy_tweet(
        "1900000000000000004",
        ("1003", "cara", "Cara"),
        "@acme new here",
        &[USER_ID],
    )]);
    let headers = signed(&body);
    let a_day_later = Utc::now() + chrono::Duration::days(1);
    let first = twitter.webhook(&post(&headers, &body), Utc::now()).unwrap();
    let replayed = twitter
        .webhook(&post(&headers, &body), a_day_later)
        .unwrap();
    // A replay is harmless: the same external ids, so the upsert changes nothing.
    match (first, replayed) {
        (WebhookReply::Touchpoints(a), WebhookReply::Touchpoints(b)) => assert_eq!(a, b),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn only_mentions_of_the_account_by_others_are_recorded() {
    let (_server, twitter) = offline().await;
    let body = json!({
        "for_user_id": USER_ID,
        "tweet_create_events": [
            // The account's own tweet mentioning itself.
            legacy_tweet("1900000000000000010", (USER_ID, "acme", "Acme"), "@acme us", &[USER_ID]),
            // A tweet mentioning someone else.
            legacy_tweet("1900000000000000011", ("1003", "cara", "Cara"), "@other hi", &["777"]),
            legacy_tweet("1900000000000000012", ("1003", "cara", "Cara"), "@acme hi", &[USER_ID]),
        ],
        "favorite_events": [{ "id": "f1", "created_at": "Thu Mar 05 10:30:00 +0000 2026" }]
    })
    .to_string()
    .into_bytes();
    let touchpoints = delivered(twitter.as_ref(), &body).unwrap();
    let ids: Vec<&str> = touchpoints.iter().map(|t| t.external_id.as_str()).collect();
    assert_eq!(ids, ["mention:1900000000000000012"]);

    let untracked = json!({
        "for_user_id": USER_ID,
        "follow_events": [{ "type": "follow", "created_timestamp": "1517588749178" }]
    })
    .to_string()
    .into_bytes();
    assert!(delivered(twitter.as_ref(), &untracked).unwrap().is_empty());

    let for_another_account = json!({
        "for_user_id": "999",
        "tweet_create_events": [
            legacy_tweet("1900000000000000013", ("1003", "cara", "Cara"), "@acme hi", &[USER_ID, "999"]),
        ]
    })
    .to_string()
    .into_bytes();
    assert!(
        delivered(twitter.as_ref(), &for_another_account)
            .unwrap()
            .is_empty()
    );

    let signed_garbage = br#"{"for_user_id": 42}"#;
    assert!(matches!(
        delivered(twitter.as_ref(), signed_garbage),
        Err(WebhookError::Malformed(_))
    ));
}

#[tokio::test]
async fn a_delivered_mention_is_the_pulled_mention() {
    let id = "1900000000000000003";
    let server = MockServer::start().await;
    let mut pulled = tweet(id, "1001", "@acme love it", "2026-03-05T10:30:00.000Z");
    pulled["public_metrics"] = json!({
        "retweet_count": 1, "reply_count": 0, "like_count": 4, "quote_count": 0
    });
    Mock::given(method("GET"))
        .and(path(MENTIONS_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(vec![pulled], None)))
        .mount(&server)
        .await;
    let mut twitter = connector(&server, None);
    let run = sync(twitter.as_mut(), None).await.unwrap();
    let [from_pull] = run.touchpoints.as_slice() else {
        panic!("one touchpoint expected");
    };

    let body = activity(vec![legacy_tweet(
        id,
        ("1001", "devana", "Ana Dev"),
        "@acme love it",
        &[USER_ID],
    )]);
    let from_webhook = delivered(twitter.as_ref(), &body).unwrap();
    assert_eq!(from_webhook.as_slice(), std::slice::from_ref(from_pull));
    assert_eq!(from_pull.external_id, format!("mention:{id}"));
    assert_eq!(from_pull.kind, "tweet.mention");
    assert_eq!(
        from_webhook[0].occurred_at,
        Utc.with_ymd_and_hms(2026, 3, 5, 10, 30, 0).unwrap()
    );
    assert_eq!(
        from_webhook[0].person,
        PersonHint {
            twitter_user_id: Some("1001".into()),
            twitter_handle: Some("devana".into()),
            name: Some("Ana Dev".into()),
            ..PersonHint::default()
        }
    );
}

#[tokio::test]
async fn a_long_delivered_tweet_keeps_its_full_text() {
    let (_server, twitter) = offline().await;
    let full = format!("@acme {}", "long ".repeat(40));
    let mut long = legacy_tweet(
        "1900000000000000020",
        ("1003", "cara", "Cara"),
        &format!("{}…", &full[..138]),
        &[USER_ID],
    );
    long["truncated"] = json!(true);
    long["extended_tweet"] = json!({ "full_text": full, "display_text_range": [0, 206] });
    // A reply: its conversation root is not in v1.1, so no conversation_id.
    long["in_reply_to_status_id_str"] = json!("1900000000000000001");
    let touchpoints = delivered(twitter.as_ref(), &activity(vec![long])).unwrap();
    assert_eq!(touchpoints[0].body.as_deref(), Some(full.as_str()));
    assert_eq!(
        Value::Object(touchpoints[0].properties.clone()),
        json!({ "public_metrics": {
            "retweet_count": 1, "reply_count": 0, "like_count": 4, "quote_count": 0
        } })
    );
}
