//! Shared by the tests: an X API v2 mock's bodies in the documented shapes,
//! and a sync loop that drives the connector as the server's runtime does.

#![allow(dead_code)] // each test binary uses its own part of this module

use std::time::Duration;

use journeys_plugin_sdk::{DynConnector, HttpClient, PullError, RetryPolicy, Touchpoint, plugin};
use serde_json::{Value, json};
use wiremock::MockServer;

pub const USER_ID: &str = "2244994945";
pub const BEARER: &str = "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid";
pub const CONSUMER_SECRET: &str = "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw";
pub const MENTIONS_PATH: &str = "/2/users/2244994945/mentions";
pub const SEARCH_PATH: &str = "/2/tweets/search/recent";

/// Millisecond backoffs, so failures retry quickly.
pub fn quick_http() -> HttpClient {
    HttpClient::new(RetryPolicy {
        max_attempts: 3,
        min_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        max_rate_limit_wait: Duration::from_secs(10),
        default_rate_limit_wait: Duration::from_millis(10),
        timeout: Duration::from_secs(5),
    })
}

/// Builds the connector from JSON settings, as the server does.
pub fn connector(server: &MockServer, query: Option<&str>) -> Box<dyn DynConnector> {
    let mut config = json!({ "base_url": server.uri(), "user_id": USER_ID });
    if let Some(query) = query {
        config["query"] = json!(query);
    }
    plugin::<journeys_plugin_twitter::Twitter>()
        .build(
            &config,
            &json!({ "bearer_token": BEARER, "consumer_secret": CONSUMER_SECRET }),
            quick_http(),
        )
        .expect("valid settings")
}

/// Builds the connector with more config fields, e.g. `{"engagement": true}`.
pub fn connector_with(server: &MockServer, more: Value) -> Box<dyn DynConnector> {
    let mut config = json!({ "base_url": server.uri(), "user_id": USER_ID });
    for (field, value) in more.as_object().expect("an object") {
        config[field] = value.clone();
    }
    plugin::<journeys_plugin_twitter::Twitter>()
        .build(&config, &json!({ "bearer_token": BEARER }), quick_http())
        .expect("valid settings")
}

/// The authors every page expands.
pub fn users() -> Value {
    json!([
        { "id": "1001", "username": "devana", "name": "Ana Dev" },
        { "id": "1002", "username": "bobbuilds", "name": "Bob Builder" }
    ])
}

/// A tweet with the fields the connector asks for (`edit_history_tweet_ids`
/// comes with every tweet).
pub fn tweet(id: &str, author: &str, text: &str, created_at: &str) -> Value {
    json!({
        "id": id, "text": text, "author_id": author, "conversation_id": id,
        "created_at": created_at, "edit_history_tweet_ids": [id],
        "public_metrics": {
            "retweet_count": 1, "reply_count": 0, "like_count": 4, "quote_count": 0,
            "bookmark_count": 0, "impression_count": 120
        }
    })
}

/// A page in the documented shape; `meta.next_token` only when there is more.
pub fn page(tweets: Vec<Value>, next_token: Option<&str>) -> Value {
    let ids: Vec<Value> = tweets.iter().map(|t| t["id"].clone()).collect();
    let mut meta = json!({
        "result_count": tweets.len(),
        "newest_id": ids.first(),
        "oldest_id": ids.last(),
    });
    if let Some(token) = next_token {
        meta["next_token"] = json!(token);
    }
    json!({ "data": tweets, "includes": { "users": users() }, "meta": meta })
}

/// The documented empty page.
pub fn empty_page() -> Value {
    json!({ "meta": { "result_count": 0 } })
}

/// What one sync run produced.
pub struct Run {
    pub touchpoints: Vec<Touchpoint>,
    /// The last saved cursor.
    pub cursor: Option<Value>,
    pub batches: usize,
}

impl Run {
    pub fn external_ids(&self) -> Vec<&str> {
        self.touchpoints
            .iter()
            .map(|t| t.external_id.as_str())
            .collect()
    }
}

/// Pulls until `more` is false, keeping each batch's cursor as the runtime
/// saves it (as JSON), or stops after `max_batches`.
pub async fn sync_at_most(
    connector: &mut dyn DynConnector,
    mut cursor: Option<Value>,
    max_batches: usize,
) -> Result<Run, PullError> {
    let mut touchpoints = Vec::new();
    let mut batches = 0;
    while batches < max_batches {
        let batch = connector.pull(cursor.as_ref()).await?;
        batches += 1;
        touchpoints.extend(batch.touchpoints);
        cursor = Some(batch.cursor);
        if !batch.more {
            break;
        }
    }
    Ok(Run {
        touchpoints,
        cursor,
        batches,
    })
}

pub async fn sync(
    connector: &mut dyn DynConnector,
    cursor: Option<Value>,
) -> Result<Run, PullError> {
    sync_at_most(connector, cursor, 100).await
}

/// The query parameter `name` of each request the mock received for `path`.
pub async fn params_sent(server: &MockServer, path: &str, name: &str) -> Vec<Option<String>> {
    server
        .received_requests()
        .await
        .expect("recording is on")
        .iter()
        .filter(|r| r.url.path() == path)
        .map(|r| {
            r.url
                .query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        })
        .collect()
}
