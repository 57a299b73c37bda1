//! Who likes, retweets, quotes and replies to the account's tweets: the
//! engagement pass after mentions, with `engagement` configured.

mod common;

use chrono::{TimeZone, Utc};
use common::*;
use journeys_plugin_sdk::{Channel, PersonHint, Touchpoint};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The account's tweets: O2 (newer, with engagement) and O1 (none).
const O2: &str = "1900000000000000020";
const O1: &str = "1900000000000000010";
/// Someone else's quote of O2, replies in O2's conversation.
const Q1: &str = "1900000000000000031";
const R1: &str = "1900000000000000041";
const R2: &str = "1900000000000000042";
const R3: &str = "1900000000000000043";
const OWN_TWEETS_PATH: &str = "/2/users/2244994945/tweets";

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

fn user(id: &str, username: &str, name: &str) -> Value {
    json!({ "id": id, "username": username, "name": name })
}

fn acme() -> Value {
    user(USER_ID, "acme", "Acme")
}

/// A `Get2TweetsIdLikingUsersResponse` / `Get2TweetsIdRetweetedByResponse`.
fn users_page(users: Vec<Value>, next_token: Option<&str>) -> Value {
    let mut meta = json!({ "result_count": users.len() });
    if let Some(token) = next_token {
        meta["next_token"] = json!(token);
    }
    json!({ "data": users, "meta": meta })
}

/// `tweet` referencing `id` as `relation` (`replied_to`, `quoted`).
fn referencing(mut tweet: Value, relation: &str, id: &str) -> Value {
    tweet["referenced_tweets"] = json!([{ "type": relation, "id": id }]);
    tweet
}

fn tweets_page(tweets: Vec<Value>, users: Vec<Value>, next_token: Option<&str>) -> Value {
    let mut body = page(tweets, next_token);
    body["includes"]["users"] = Value::Array(users);
    body
}

async fn mount(server: &MockServer, endpoint: &str, token: Option<(&str, &str)>, body: Value) {
    let builder = Mock::given(method("GET"))
        .and(path(endpoint))
        .and(query_param("max_results", "100"));
    let builder = match token {
        Some((name, value)) => builder.and(query_param(name, value)),
        None => builder
            .and(query_param_is_missing("pagination_token"))
            .and(query_param_is_missing("next_token")),
    };
    builder.respond_with(ok(body)).mount(server).await;
}

async fn mount_replies(server: &MockServer, tweet: &str, token: Option<&str>, body: Value) {
    let builder = Mock::given(method("GET"))
        .and(path(SEARCH_PATH))
        .and(query_param(
            "query",
            format!("conversation_id:{tweet}").as_str(),
        ));
    let builder = match token {
        Some(token) => builder.and(query_param("next_token", token)),
        None => builder.and(query_param_is_missing("next_token")),
    };
    builder.respond_with(ok(body)).mount(server).await;
}

/// - no mentions;
/// - the account's tweets on two pages: O2, then O1;
/// - O2's likes on two pages (Bob on both, and the account's own like),
///   one retweet, one quote, replies on two pages (R1 on both; the account's
///   own reply R2 and R3, a reply to R1, are not replies to O2 by others);
/// - O1: nothing.
async fn mount_engagement(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path(MENTIONS_PATH))
        .respond_with(ok(empty_page()))
        .mount(server)
        .await;
    mount(
        server,
        OWN_TWEETS_PATH,
        None,
        tweets_page(
            vec![tweet(
                O2,
                USER_ID,
                "Our new API is out",
                "2026-03-04T09:00:00.000Z",
            )],
            vec![acme()],
            Some("ot-2"),
        ),
    )
    .await;
    mount(
        server,
        OWN_TWEETS_PATH,
        Some(("pagination_token", "ot-2")),
        tweets_page(
            vec![tweet(
                O1,
                USER_ID,
                "Hello world",
                "2026-03-02T09:00:00.000Z",
            )],
            vec![acme()],
            None,
        ),
    )
    .await;
    let o2 = |list: &str| format!("/2/tweets/{O2}/{list}");
    mount(
        server,
        &o2("liking_users"),
        None,
        users_page(
            vec![
                user("1001", "devana", "Ana Dev"),
                user("1002", "bobbuilds", "Bob Builder"),
            ],
            Some("lk-2"),
        ),
    )
    .await;
    mount(
        server,
        &o2("liking_users"),
        Some(("pagination_token", "lk-2")),
        users_page(
            vec![
                user("1002", "bobbuilds", "Bob Builder"),
                user("1003", "carol", "Carol C"),
                acme(),
            ],
            None,
        ),
    )
    .await;
    mount(
        server,
        &o2("retweeted_by"),
        None,
        users_page(vec![user("1001", "devana", "Ana Dev")], None),
    )
    .await;
    mount(
        server,
        &o2("quote_tweets"),
        None,
        tweets_page(
            vec![referencing(
                tweet(Q1, "1002", "This is big", "2026-03-04T11:00:00.000Z"),
                "quoted",
                O2,
            )],
            vec![user("1002", "bobbuilds", "Bob Builder")],
            None,
        ),
    )
    .await;
    let r1 = referencing(
        tweet(R1, "1001", "@acme finally!", "2026-03-04T10:00:00.000Z"),
        "replied_to",
        O2,
    );
    mount_replies(
        server,
        O2,
        None,
        tweets_page(
            vec![
                r1.clone(),
                referencing(
                    tweet(R2, USER_ID, "@devana thanks!", "2026-03-04T10:05:00.000Z"),
                    "replied_to",
                    R1,
                ),
            ],
            vec![user("1001", "devana", "Ana Dev"), acme()],
            Some("rs-2"),
        ),
    )
    .await;
    mount_replies(
        server,
        O2,
        Some("rs-2"),
        tweets_page(
            vec![
                referencing(
                    tweet(R3, "1003", "@devana agreed", "2026-03-04T10:10:00.000Z"),
                    "replied_to",
                    R1,
                ),
                r1,
            ],
            vec![
                user("1001", "devana", "Ana Dev"),
                user("1003", "carol", "Carol C"),
            ],
            None,
        ),
    )
    .await;
    for list in ["liking_users", "retweeted_by", "quote_tweets"] {
        mount(
            server,
            &format!("/2/tweets/{O1}/{list}"),
            None,
            empty_page(),
        )
        .await;
    }
    mount_replies(server, O1, None, empty_page()).await;
}

fn expected_batches() -> Vec<Vec<String>> {
    let mut batches = vec![
        vec![],
        vec![],
        vec![format!("like:{O2}:1001"), format!("like:{O2}:1002")],
        vec![format!("like:{O2}:1002"), format!("like:{O2}:1003")],
        vec![format!("retweet:{O2}:1001")],
        vec![format!("quote:{Q1}")],
        vec![format!("reply:{R1}")],
        vec![format!("reply:{R1}")],
    ];
    batches.extend(vec![vec![]; 4]);
    batches
}

/// Pulls like the runtime, at most `max_batches`: each batch's touchpoints
/// and the last saved cursor.
async fn pull_batches(
    server: &MockServer,
    mut cursor: Option<Value>,
    max_batches: usize,
) -> (Vec<Vec<Touchpoint>>, Option<Value>) {
    let mut twitter = connector_with(server, json!({ "engagement": true }));
    let mut batches = Vec::new();
    while batches.len() < max_batches {
        let batch = twitter.pull(cursor.as_ref()).await.unwrap();
        batches.push(batch.touchpoints);
        cursor = Some(batch.cursor);
        if !batch.more {
            break;
        }
        assert!(batches.len() < 50, "the run does not end");
    }
    (batches, cursor)
}

fn ids(batches: &[Vec<Touchpoint>]) -> Vec<Vec<String>> {
    batches
        .iter()
        .map(|b| b.iter().map(|t| t.external_id.clone()).collect())
        .collect()
}

fn find<'a>(batches: &'a [Vec<Touchpoint>], external_id: &str) -> &'a Touchpoint {
    batches
        .iter()
        .flatten()
        .find(|t| t.external_id == external_id)
        .unwrap_or_else(|| panic!("no {external_id}"))
}

/// The API requests received, as path and query.
async fn requests(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| format!("{}?{}", r.url.path(), r.url.query().unwrap_or("")))
        .collect()
}

#[tokio::test]
async fn likes_retweets_quotes_and_replies_arrive_page_by_page() {
    let server = MockServer::start().await;
    mount_engagement(&server).await;
    let (batches, cursor) = pull_batches(&server, None, 100).await;
    assert_eq!(ids(&batches), expected_batches());

    let o2_at = Utc.with_ymd_and_hms(2026, 3, 4, 9, 0, 0).unwrap();
    let mut properties = serde_json::Map::new();
    properties.insert("tweet_id".into(), json!(O2));
    assert_eq!(
        find(&batches, &format!("like:{O2}:1003")),
        &Touchpoint {
            external_id: format!("like:{O2}:1003"),
            kind: "tweet.liked".into(),
            channel: Channel::Social,
            // X does not date likes: the liked tweet's time.
            occurred_at: o2_at,
            title: None,
            body: None,
            url: Some(format!("https://x.com/acme/status/{O2}")),
            score: None,
            properties,
            person: PersonHint {
                twitter_user_id: Some("1003".into()),
                twitter_handle: Some("carol".into()),
                name: Some("Carol C".into()),
                ..PersonHint::default()
            },
            account: None,
            owner_team: None,
            actor: None,
        }
    );
    // Bob, on both pages of likes, is one touchpoint.
    let bobs: Vec<&Touchpoint> = batches
        .iter()
        .flatten()
        .filter(|t| t.external_id == format!("like:{O2}:1002"))
        .collect();
    assert_eq!(bobs.len(), 2);
    assert_eq!(bobs[0], bobs[1]);
    let retweet = find(&batches, &format!("retweet:{O2}:1001"));
    assert_eq!(retweet.kind, "tweet.retweeted");
    assert_eq!(retweet.occurred_at, o2_at);
    assert_eq!(retweet.person.twitter_handle.as_deref(), Some("devana"));

    let quote = find(&batches, &format!("quote:{Q1}"));
    assert_eq!(quote.kind, "tweet.quote");
    assert_eq!(
        quote.occurred_at,
        Utc.with_ymd_and_hms(2026, 3, 4, 11, 0, 0).unwrap()
    );
    assert_eq!(quote.body.as_deref(), Some("This is big"));
    assert_eq!(
        quote.url.as_deref(),
        Some(format!("https://x.com/bobbuilds/status/{Q1}").as_str())
    );
    assert_eq!(quote.properties["quoted_tweet_id"], json!(O2));
    assert_eq!(quote.person.twitter_user_id.as_deref(), Some("1002"));

    let reply = find(&batches, &format!("reply:{R1}"));
    assert_eq!(reply.kind, "tweet.reply");
    assert_eq!(reply.channel, Channel::Social);
    assert_eq!(reply.body.as_deref(), Some("@acme finally!"));
    assert_eq!(reply.properties["in_reply_to"], json!(O2));
    assert_eq!(
        reply.person,
        PersonHint {
            twitter_user_id: Some("1001".into()),
            twitter_handle: Some("devana".into()),
            name: Some("Ana Dev".into()),
            ..PersonHint::default()
        }
    );
    // The pass is over: the next run starts with mentions.
    let cursor = cursor.unwrap();
    assert_eq!(cursor.get("engagement"), None, "{cursor}");
    assert_eq!(cursor["stream"], json!("mentions"));

    // As the OpenAPI description has it: the account's tweets of the last
    // 7 days without retweets, and each list paged by its own token name.
    let sent = server.received_requests().await.unwrap();
    let own = sent
        .iter()
        .find(|r| r.url.path() == OWN_TWEETS_PATH)
        .unwrap();
    let param = |name: &str| {
        own.url
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(param("exclude").as_deref(), Some("retweets"));
    let start = chrono::DateTime::parse_from_rfc3339(&param("start_time").unwrap()).unwrap();
    let days = (Utc::now() - start.with_timezone(&Utc)).num_hours();
    assert!((167..=168).contains(&days), "{days} hours back");
    assert_eq!(
        params_sent(
            &server,
            &format!("/2/tweets/{O2}/liking_users"),
            "pagination_token"
        )
        .await,
        vec![None, Some("lk-2".into())]
    );
    assert_eq!(
        params_sent(&server, SEARCH_PATH, "next_token").await,
        vec![None, Some("rs-2".into()), None]
    );
}

#[tokio::test]
async fn a_re_pull_produces_the_same_touchpoints() {
    let server = MockServer::start().await;
    mount_engagement(&server).await;
    let (first, cursor) = pull_batches(&server, None, 100).await;
    let (again, _) = pull_batches(&server, cursor, 100).await;
    // The same likes and retweets, dated alike: the upsert changes nothing.
    assert_eq!(again, first);
}

#[tokio::test]
async fn a_run_stopped_after_any_batch_resumes_without_asking_again() {
    let server = MockServer::start().await;
    mount_engagement(&server).await;
    let (uninterrupted, _) = pull_batches(&server, None, 100).await;
    for stop_after in 1..uninterrupted.len() {
        server.reset().await;
        mount_engagement(&server).await;
        let (before, cursor) = pull_batches(&server, None, stop_after).await;
        // Saved as the server saves it, read by a new instance.
        let cursor: Value = serde_json::from_str(&cursor.unwrap().to_string()).unwrap();
        let asked_before = requests(&server).await;
        let (rest, _) = pull_batches(&server, Some(cursor), 100).await;
        let mut union = ids(&before);
        union.extend(ids(&rest));
        assert_eq!(union, expected_batches(), "stopped after {stop_after}");
        let asked = requests(&server).await;
        for request in &asked[asked_before.len()..] {
            assert!(
                !asked_before.contains(request),
                "stopped after {stop_after}: {request} asked again"
            );
        }
    }
}

#[tokio::test]
async fn without_engagement_configured_only_mentions_are_read() {
    let server = MockServer::start().await;
    mount_engagement(&server).await;
    let run = sync(connector(&server, None).as_mut(), None).await.unwrap();
    assert_eq!(run.batches, 1);
    assert!(
        requests(&server)
            .await
            .iter()
            .all(|r| r.starts_with(MENTIONS_PATH)),
        "{:?}",
        requests(&server).await
    );
    // A cursor saved mid-pass by a connector that had it on is let go.
    let (_, cursor) = pull_batches(&server, None, 3).await;
    let run = sync(connector(&server, None).as_mut(), cursor)
        .await
        .unwrap();
    assert_eq!(run.batches, 1);
    assert_eq!(run.cursor.unwrap().get("engagement"), None);
}

#[tokio::test]
async fn an_unknown_user_on_the_own_timeline_names_the_config_field() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(MENTIONS_PATH))
        .respond_with(ok(empty_page()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(OWN_TWEETS_PATH))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "title": "Not Found Error", "type": "about:blank", "status": 404,
            "detail": "Not Found Error"
        })))
        .mount(&server)
        .await;
    let mut twitter = connector_with(&server, json!({ "engagement": true }));
    let mentions = twitter.pull(None).await.unwrap();
    assert!(mentions.more);
    let error = twitter.pull(Some(&mentions.cursor)).await.unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains(&format!("X knows no user with the configured id {USER_ID}"))
            && message.contains("config field `user_id`"),
        "{message}"
    );
}
