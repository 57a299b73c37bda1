//! Pulling mentions and search matches page by page, as the runtime does.

mod common;

use chrono::{TimeZone, Utc};
use common::*;
use journeys_plugin_sdk::{Channel, PersonHint, PullError};
use serde_json::json;
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const T1: &str = "1900000000000000001";
const T2: &str = "1900000000000000002";
const T3: &str = "1900000000000000003";
const T4: &str = "1900000000000000004";
const T5: &str = "1900000000000000005";

fn ok(body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

/// Mentions in three pages, newest first, as X returns them.
async fn mount_three_mention_pages(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path(MENTIONS_PATH))
        .and(query_param_is_missing("pagination_token"))
        .respond_with(ok(page(
            vec![
                tweet(T5, "1001", "@acme five", "2026-03-05T10:05:00.000Z"),
                tweet(T4, "1002", "@acme four", "2026-03-05T10:04:00.000Z"),
            ],
            Some("7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5i"),
        )))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(MENTIONS_PATH))
        .and(query_param(
            "pagination_token",
            "7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5i",
        ))
        .respond_with(ok(page(
            vec![tweet(T3, "1001", "@acme three", "2026-03-05T10:03:00.000Z")],
            Some("7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5j"),
        )))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(MENTIONS_PATH))
        .and(query_param(
            "pagination_token",
            "7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5j",
        ))
        .respond_with(ok(page(
            vec![
                tweet(T2, "1002", "@acme two", "2026-03-05T10:02:00.000Z"),
                tweet(T1, "1001", "@acme one", "2026-03-05T10:01:00.000Z"),
            ],
            None,
        )))
        .mount(server)
        .await;
}

#[tokio::test]
async fn mentions_arrive_page_by_page_as_exact_touchpoints() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(MENTIONS_PATH))
        .and(header("authorization", format!("Bearer {BEARER}").as_str()))
        .and(query_param("expansions", "author_id"))
        .and(query_param(
            "tweet.fields",
            "created_at,author_id,conversation_id,public_metrics",
        ))
        .and(query_param("user.fields", "username,name"))
        .and(query_param("max_results", "100"))
        .and(query_param_is_missing("since_id"))
        .and(query_param_is_missing("pagination_token"))
        .respond_with(ok(page(
            vec![tweet(
                T2,
                "1001",
                "Hey @acme, love the new API!",
                "2024-01-15T10:30:00.000Z",
            )],
            Some("t3buvdr5pujq9g7bggsnf3ep2ha28"),
        )))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(MENTIONS_PATH))
        .and(query_param(
            "pagination_token",
            "t3buvdr5pujq9g7bggsnf3ep2ha28",
        ))
        .respond_with(ok(page(
            vec![tweet(T1, "1002", "@acme help?", "2024-01-14T08:00:00.000Z")],
            None,
        )))
        .mount(&server)
        .await;

    let mut twitter = connector(&server, None);
    let run = sync(twitter.as_mut(), None).await.unwrap();

    assert_eq!(run.batches, 2, "one batch per page");
    assert_eq!(
        run.external_ids(),
        [format!("mention:{T2}"), format!("mention:{T1}")]
    );
    let first = &run.touchpoints[0];
    assert_eq!(first.kind, "tweet.mention");
    assert_eq!(first.channel, Channel::Social);
    assert_eq!(
        first.occurred_at,
        Utc.with_ymd_and_hms(2024, 1, 15, 10, 30, 0).unwrap()
    );
    assert_eq!(first.title, None);
    assert_eq!(first.body.as_deref(), Some("Hey @acme, love the new API!"));
    assert_eq!(
        first.url.as_deref(),
        Some(format!("https://x.com/devana/status/{T2}").as_str())
    );
    assert_eq!(first.score, None);
    assert_eq!(
        serde_json::Value::Object(first.properties.clone()),
        json!({
            "conversation_id": T2,
            "public_metrics": {
                "retweet_count": 1, "reply_count": 0, "like_count": 4, "quote_count": 0,
                "bookmark_count": 0, "impression_count": 120
            }
        })
    );
    assert_eq!(
        first.person,
        PersonHint {
            twitter_user_id: Some("1001".into()),
            twitter_handle: Some("devana".into()),
            name: Some("Ana Dev".into()),
            ..PersonHint::default()
        }
    );
    assert_eq!(first.account, None);
    let second = &run.touchpoints[1];
    assert_eq!(second.person.twitter_handle.as_deref(), Some("bobbuilds"));
    assert_eq!(second.person.name.as_deref(), Some("Bob Builder"));
    assert_eq!(
        second.occurred_at,
        Utc.with_ymd_and_hms(2024, 1, 14, 8, 0, 0).unwrap()
    );
    // The completed pass leaves the newest id for the next poll.
    assert_eq!(
        run.cursor.unwrap(),
        json!({
            "stream": "mentions",
            "mentions": { "since_id": T2, "newest_id": null, "page_token": null },
            "search": { "since_id": null, "newest_id": null, "page_token": null },
            "search_query": null
        })
    );
}

#[tokio::test]
async fn an_empty_page_ends_the_run_and_keeps_since_id() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(MENTIONS_PATH))
        .respond_with(ok(empty_page()))
        .mount(&server)
        .await;
    let mut twitter = connector(&server, None);

    let first = sync(twitter.as_mut(), None).await.unwrap();
    assert!(first.touchpoints.is_empty());
    assert_eq!(first.batches, 1);
    assert_eq!(
        first.cursor.as_ref().unwrap()["mentions"]["since_id"],
        json!(null)
    );

    // From a cursor with a since_id, an empty poll leaves it where it was.
    let cursor = json!({ "mentions": { "since_id": T3 } });
    let second = sync(twitter.as_mut(), Some(cursor)).await.unwrap();
    assert!(second.touchpoints.is_empty());
    assert_eq!(second.cursor.unwrap()["mentions"]["since_id"], json!(T3));
    assert_eq!(
        params_sent(&server, MENTIONS_PATH, "since_id").await,
        [None, Some(T3.to_owned())]
    );
}

#[tokio::test]
async fn a_tweet_on_two_pages_keeps_one_external_id() {
    let server = MockServer::start().await;
    // A new mention arriving mid-walk shifts the pages: T2 is seen twice.
    Mock::given(method("GET"))
        .and(path(MENTIONS_PATH))
        .and(query_param_is_missing("pagination_token"))
        .respond_with(ok(page(
            vec![
                tweet(T3, "1001", "@acme three", "2026-03-05T10:03:00.000Z"),
                tweet(T2, "1002", "@acme two", "2026-03-05T10:02:00.000Z"),
            ],
            Some("b26v89c19zqg8o3fpds6bmbwz3qq0zxr1xtv3xj5n5qh9"),
        )))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(MENTIONS_PATH))
        .and(query_param(
            "pagination_token",
            "b26v89c19zqg8o3fpds6bmbwz3qq0zxr1xtv3xj5n5qh9",
        ))
        .respond_with(ok(page(
            vec![
                tweet(T2, "1002", "@acme two", "2026-03-05T10:02:00.000Z"),
                tweet(T1, "1001", "@acme one", "2026-03-05T10:01:00.000Z"),
            ],
            None,
        )))
        .mount(&server)
        .await;
    let mut twitter = connector(&server, None);
    let run = sync(twitter.as_mut(), None).await.unwrap();

    let ids = run.external_ids();
    assert_eq!(
        ids,
        [
            format!("mention:{T3}"),
            format!("mention:{T2}"),
            format!("mention:{T2}"),
            format!("mention:{T1}")
        ]
    );
    // The two deliveries of T2 are the same touchpoint, so the upsert keeps one.
    assert_eq!(run.touchpoints[1], run.touchpoints[2]);
    let mut distinct = ids.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 3);
}

#[tokio::test]
async fn a_run_killed_after_two_pages_resumes_without_loss_or_repeat() {
    let server = MockServer::start().await;
    mount_three_mention_pages(&server).await;
    // Both runs are later polls: they must send the same since_id throughout.
    let earlier = json!({ "mentions": { "since_id": "1899999999999999999" } });

    let mut whole = connector(&server, None);
    let uninterrupted = sync(whole.as_mut(), Some(earlier.clone())).await.unwrap();
    drop(whole);

    let mut killed = connector(&server, None);
    let before = sync_at_most(killed.as_mut(), Some(earlier), 2)
        .await
        .unwrap();
    assert_eq!(before.batches, 2);
    drop(killed);
    let mut fresh = connector(&server, None);
    let after = sync(fresh.as_mut(), before.cursor.clone()).await.unwrap();

    let expected = [
        format!("mention:{T5}"),
        format!("mention:{T4}"),
        format!("mention:{T3}"),
        format!("mention:{T2}"),
        format!("mention:{T1}"),
    ];
    assert_eq!(uninterrupted.external_ids(), expected);
    let mut union = before.external_ids();
    union.extend(after.external_ids());
    assert_eq!(union, expected);
    assert_eq!(after.batches, 1, "the resumed run reads only the last page");
    // The saved cursor mid-pass: the old since_id, the pass's newest id, the next page.
    assert_eq!(
        before.cursor.unwrap()["mentions"],
        json!({
            "since_id": "1899999999999999999",
            "newest_id": T5,
            "page_token": "7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5j"
        })
    );
    // After the last page the pass's newest id is promoted, for both runs alike.
    assert_eq!(after.cursor, uninterrupted.cursor);
    assert_eq!(after.cursor.unwrap()["mentions"]["since_id"], json!(T5));
    let since_ids = params_sent(&server, MENTIONS_PATH, "since_id").await;
    assert_eq!(since_ids.len(), 6);
    assert!(
        since_ids
            .iter()
            .all(|s| s.as_deref() == Some("1899999999999999999")),
        "{since_ids:?}"
    );
}

#[tokio::test]
async fn a_later_poll_asks_only_for_tweets_after_the_numerically_newest() {
    // Lexically "987…" > "1000…"; as tweet ids it is older.
    let older = "987654321098765432";
    let newer = "1000000000000000001";
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(MENTIONS_PATH))
        .and(query_param_is_missing("since_id"))
        .respond_with(ok(page(
            vec![
                tweet(older, "1001", "@acme old", "2017-01-01T00:00:00.000Z"),
                tweet(newer, "1002", "@acme new", "2018-01-01T00:00:00.000Z"),
            ],
            None,
        )))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(MENTIONS_PATH))
        .and(query_param("since_id", newer))
        .respond_with(ok(page(
            vec![tweet(
                T1,
                "1001",
                "@acme newest",
                "2026-03-05T10:01:00.000Z",
            )],
            None,
        )))
        .mount(&server)
        .await;
    let mut twitter = connector(&server, None);
    let first = sync(twitter.as_mut(), None).await.unwrap();
    assert_eq!(first.touchpoints.len(), 2);
    assert_eq!(
        first.cursor.as_ref().unwrap()["mentions"]["since_id"],
        json!(newer)
    );

    let second = sync(twitter.as_mut(), first.cursor).await.unwrap();
    assert_eq!(second.external_ids(), [format!("mention:{T1}")]);
    assert_eq!(second.cursor.unwrap()["mentions"]["since_id"], json!(T1));
    assert_eq!(
        params_sent(&server, MENTIONS_PATH, "since_id").await,
        [None, Some(newer.to_owned())]
    );
}

#[tokio::test]
async fn with_a_query_search_matches_follow_mentions_with_their_own_cursor() {
    let query = "\"acme api\" -is:retweet";
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(MENTIONS_PATH))
        .respond_with(ok(page(
            vec![tweet(T3, "1001", "@acme hi", "2026-03-05T10:03:00.000Z")],
            None,
        )))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(SEARCH_PATH))
        .and(query_param("query", query))
        .and(query_param("expansions", "author_id"))
        .and(query_param_is_missing("next_token"))
        .respond_with(ok(page(
            vec![tweet(
                T5,
                "1002",
                "the acme api rocks",
                "2026-03-05T10:05:00.000Z",
            )],
            Some("b26v89c19zqg8o3fosbvdd4pn7ibqiqgfksjsqfpsy1p9"),
        )))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(SEARCH_PATH))
        .and(query_param(
            "next_token",
            "b26v89c19zqg8o3fosbvdd4pn7ibqiqgfksjsqfpsy1p9",
        ))
        .respond_with(ok(page(
            // The mention matches the query too: a second touchpoint, of another kind.
            vec![tweet(T3, "1001", "@acme hi", "2026-03-05T10:03:00.000Z")],
            None,
        )))
        .mount(&server)
        .await;
    let mut twitter = connector(&server, Some(query));
    let run = sync(twitter.as_mut(), None).await.unwrap();

    assert_eq!(run.batches, 3);
    assert_eq!(
        run.external_ids(),
        [
            format!("mention:{T3}"),
            format!("search:{T5}"),
            format!("search:{T3}")
        ]
    );
    let kinds: Vec<&str> = run.touchpoints.iter().map(|t| t.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["tweet.mention", "tweet.search_match", "tweet.search_match"]
    );
    let matched = &run.touchpoints[1];
    assert_eq!(matched.properties["query"], json!(query));
    assert_eq!(matched.person.twitter_handle.as_deref(), Some("bobbuilds"));
    assert_eq!(
        matched.url.as_deref(),
        Some(format!("https://x.com/bobbuilds/status/{T5}").as_str())
    );
    assert_eq!(
        run.cursor.unwrap(),
        json!({
            "stream": "mentions",
            "mentions": { "since_id": T3, "newest_id": null, "page_token": null },
            "search": { "since_id": T5, "newest_id": null, "page_token": null },
            "search_query": query
        })
    );
}

#[tokio::test]
async fn a_changed_query_starts_search_over() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(MENTIONS_PATH))
        .respond_with(ok(empty_page()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(SEARCH_PATH))
        .and(query_param("query", "acme widgets"))
        .and(query_param_is_missing("since_id"))
        .and(query_param_is_missing("next_token"))
        .respond_with(ok(page(
            vec![tweet(
                T2,
                "1001",
                "acme widgets!",
                "2026-03-05T10:02:00.000Z",
            )],
            None,
        )))
        .mount(&server)
        .await;
    // Saved mid-pass under the old query.
    let saved = json!({
        "stream": "search",
        "search": { "since_id": T4, "newest_id": T5, "page_token": "old-query-page" },
        "search_query": "acme api"
    });
    let mut twitter = connector(&server, Some("acme widgets"));
    let run = sync(twitter.as_mut(), Some(saved)).await.unwrap();
    assert_eq!(run.external_ids(), [format!("search:{T2}")]);
    let cursor = run.cursor.unwrap();
    assert_eq!(cursor["search"]["since_id"], json!(T2));
    assert_eq!(cursor["search_query"], json!("acme widgets"));
}

#[tokio::test]
async fn a_refused_stale_page_token_starts_the_pass_over() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(MENTIONS_PATH))
        .and(query_param("pagination_token", "expired-token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "errors": [{
                "parameters": { "pagination_token": ["expired-token"] },
                "message": "The `pagination_token` query parameter value [expired-token] is not valid"
            }],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request"
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(MENTIONS_PATH))
        .and(query_param("since_id", T1))
        .and(query_param_is_missing("pagination_token"))
        .respond_with(ok(page(
            vec![
                tweet(T3, "1001", "@acme three", "2026-03-05T10:03:00.000Z"),
                tweet(T2, "1002", "@acme two", "2026-03-05T10:02:00.000Z"),
            ],
            None,
        )))
        .mount(&server)
        .await;
    let saved = json!({
        "mentions": { "since_id": T1, "newest_id": T2, "page_token": "expired-token" }
    });
    let mut twitter = connector(&server, None);
    let run = sync(twitter.as_mut(), Some(saved)).await.unwrap();
    assert_eq!(
        run.external_ids(),
        [format!("mention:{T3}"), format!("mention:{T2}")]
    );
    assert_eq!(run.cursor.unwrap()["mentions"]["since_id"], json!(T3));

    // A 400 to a request without saved state is a plain refusal.
    let mut twitter = connector(&server, None);
    let fresh = json!({ "mentions": { "since_id": "5" } });
    Mock::given(method("GET"))
        .and(path(MENTIONS_PATH))
        .and(query_param("since_id", "5"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request"
        })))
        .mount(&server)
        .await;
    let error = twitter.pull(Some(&fresh)).await.unwrap_err();
    assert!(
        matches!(error, PullError::Refused { status: 400, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_search_since_id_outside_the_window_is_dropped_once_refused() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(MENTIONS_PATH))
        .respond_with(ok(empty_page()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(SEARCH_PATH))
        .and(query_param("since_id", "1519056945277198339"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "errors": [{
                "parameters": { "since_id": ["1519056945277198339"] },
                "message": "Invalid 'since_id':'1519056945277198339'. 'since_id' must be a tweet id created after 2026-02-26T10:00Z."
            }],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request"
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(SEARCH_PATH))
        .and(query_param_is_missing("since_id"))
        .respond_with(ok(page(
            vec![tweet(T4, "1002", "acme", "2026-03-05T10:04:00.000Z")],
            None,
        )))
        .mount(&server)
        .await;
    let saved = json!({
        "search": { "since_id": "1519056945277198339" },
        "search_query": "acme"
    });
    let mut twitter = connector(&server, Some("acme"));
    let run = sync(twitter.as_mut(), Some(saved)).await.unwrap();
    assert_eq!(run.external_ids(), [format!("search:{T4}")]);
    assert_eq!(run.cursor.unwrap()["search"]["since_id"], json!(T4));
}

#[tokio::test]
async fn partial_errors_keep_the_data() {
    let server = MockServer::start().await;
    // The author of T2 is suspended: X leaves them out of includes and says so.
    let mut body = page(
        vec![
            tweet(T3, "1001", "@acme three", "2026-03-05T10:03:00.000Z"),
            tweet(T2, "4040", "@acme two", "2026-03-05T10:02:00.000Z"),
        ],
        None,
    );
    body["errors"] = json!([{
        "value": "4040", "detail": "User has been suspended: [4040].",
        "title": "Forbidden", "resource_type": "user", "parameter": "author_id",
        "resource_id": "4040", "type": "https://api.twitter.com/2/problems/resource-not-found"
    }]);
    Mock::given(method("GET"))
        .and(path(MENTIONS_PATH))
        .respond_with(ok(body))
        .mount(&server)
        .await;
    let mut twitter = connector(&server, None);
    let run = sync(twitter.as_mut(), None).await.unwrap();
    assert_eq!(
        run.external_ids(),
        [format!("mention:{T3}"), format!("mention:{T2}")]
    );
    let unexpanded = &run.touchpoints[1];
    assert_eq!(
        unexpanded.person,
        PersonHint {
            twitter_user_id: Some("4040".into()),
            ..PersonHint::default()
        }
    );
    assert_eq!(
        unexpanded.url.as_deref(),
        Some(format!("https://x.com/i/web/status/{T2}").as_str())
    );
}

#[tokio::test]
async fn a_page_of_errors_only_is_a_refusal_in_x_words() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(MENTIONS_PATH))
        .respond_with(ok(json!({
            "errors": [{
                "title": "Forbidden", "type": "https://api.twitter.com/2/problems/not-authorized-for-resource",
                "detail": "Sorry, you are not authorized to see the user with id: [2244994945].",
                "resource_type": "user", "resource_id": USER_ID, "section": "data"
            }]
        })))
        .mount(&server)
        .await;
    let mut twitter = connector(&server, None);
    let error = twitter.pull(None).await.unwrap_err();
    match error {
        PullError::Refused { status, detail } => {
            assert_eq!(status, 200);
            assert_eq!(
                detail,
                "Forbidden: Sorry, you are not authorized to see the user with id: [2244994945]."
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn an_unknown_user_id_fails_naming_the_config_field() {
    let not_found = json!({
        "errors": [{
            "value": USER_ID, "detail": "Could not find user with id: [2244994945].",
            "title": "Not Found Error", "resource_type": "user", "parameter": "id",
            "resource_id": USER_ID, "type": "https://api.twitter.com/2/problems/resource-not-found"
        }]
    });
    let answers = [
        ("errors only", ok(not_found)),
        (
            "HTTP 404",
            ResponseTemplate::new(404).set_body_json(json!({
                "title": "Not Found Error", "type": "about:blank", "status": 404,
                "detail": "Not Found Error"
            })),
        ),
    ];
    for (what, answer) in answers {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(MENTIONS_PATH))
            .respond_with(answer)
            .mount(&server)
            .await;
        let mut twitter = connector(&server, None);
        let error = twitter.pull(None).await.unwrap_err();
        assert_eq!(error.code(), "CONNECTOR_REFUSED", "{what}");
        let message = error.to_string();
        assert!(
            message.contains(&format!("X knows no user with the configured id {USER_ID}")),
            "{what}: {message}"
        );
        assert!(
            message.contains("config field `user_id`"),
            "{what}: {message}"
        );
        assert!(message.contains("Not Found Error"), "{what}: {message}");
        assert_eq!(server.received_requests().await.unwrap().len(), 1, "{what}");
    }
}
