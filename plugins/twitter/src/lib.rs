//! Twitter/X connector for Journeys (kind `twitter`), on the X API v2.
//!
//! - **Mentions** of `user_id` (`GET /2/users/{id}/mentions`, `expansions=author_id`)
//!   become `tweet.mention` touchpoints (`mention:{tweet id}`); with a `query`,
//!   recent search (`GET /2/tweets/search/recent`) adds `tweet.search_match`
//!   (`search:{tweet id}`). SOCIAL channel; the author is resolved by X user id
//!   and handle.
//! - **Cursor:** per stream, `since_id` (the newest id of the last completed
//!   pass), the newest id seen in the pass under way and its page token, so a
//!   resumed pass walks the same pages with the same `since_id`. One batch per
//!   page.
//! - **Limits:** a 429 waits until `x-rate-limit-reset` (Unix seconds).
//! - **Webhooks** (Account Activity): `GET ?crc_token=` is answered with
//!   `sha256=base64(HMAC-SHA256(consumer_secret, token))`; deliveries carry
//!   `x-twitter-webhooks-signature` over the raw body. X signs no timestamp, so
//!   a replayed delivery is harmless only because its external ids are the
//!   same as the first's.

mod wire;

use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use journeys_plugin_sdk::{
    Batch, Channel, Connector, HttpClient, PersonHint, PullError, Touchpoint, WebhookError,
    WebhookReply, WebhookRequest, async_trait, hmac_sha256, verify_hmac_sha256,
};
use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize};
use serde_json::json;

const TWEET_FIELDS: &str = "created_at,author_id,conversation_id,public_metrics";

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The API's base URL, e.g. `https://api.x.com`.
    pub base_url: String,
    /// The id of the account whose mentions are synced.
    pub user_id: String,
    /// A recent-search query to sync as well, e.g. `"acme api" -is:retweet`.
    #[serde(default)]
    pub query: Option<String>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Secrets {
    /// App-only bearer token for the pulls.
    pub bearer_token: String,
    /// The app's consumer secret, for webhooks; without it, webhooks are refused.
    #[serde(default)]
    pub consumer_secret: Option<String>,
}

/// Where each stream stands.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Cursor {
    #[serde(default)]
    pub stream: Stream,
    #[serde(default)]
    pub mentions: StreamCursor,
    #[serde(default)]
    pub search: StreamCursor,
}

#[derive(Debug, Default, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    #[default]
    Mentions,
    Search,
}

#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct StreamCursor {
    /// Only tweets newer than this; the newest of the last completed pass.
    pub since_id: Option<String>,
    /// The newest id seen in the pass under way.
    pub newest_id: Option<String>,
    /// The next page of the pass under way.
    pub page_token: Option<String>,
}

pub struct Twitter {
    base_url: reqwest::Url,
    user_id: String,
    query: Option<String>,
    bearer_token: String,
    consumer_secret: Option<String>,
    http: HttpClient,
}

/// X says when the window resets, as Unix seconds.
fn until_reset(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let reset: i64 = headers
        .get("x-rate-limit-reset")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(
        u64::try_from(reset - now.timestamp()).unwrap_or(0),
    ))
}

/// Compares tweet ids as the numbers they are.
fn newer(a: Option<String>, b: &str) -> Option<String> {
    let value = |id: &str| id.parse::<u64>().unwrap_or(0);
    match a {
        Some(a) if value(&a) >= value(b) => Some(a),
        _ => Some(b.to_owned()),
    }
}

#[async_trait]
impl Connector for Twitter {
    const KIND: &'static str = "twitter";
    const DESCRIPTION: &'static str = "Twitter/X: mentions of an account and recent-search matches, by API v2 and Account Activity webhooks.";
    type Config = Config;
    type Secrets = Secrets;
    type Cursor = Cursor;

    fn new(config: Config, secrets: Secrets, http: HttpClient) -> Result<Self, String> {
        let base_url = reqwest::Url::parse(&config.base_url)
            .map_err(|e| format!("config: base_url is not a URL ({e})"))?;
        if config.user_id.is_empty() || !config.user_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err("config: user_id must be the account's numeric id".into());
        }
        if secrets.bearer_token.is_empty() {
            return Err("secrets: bearer_token must not be empty".into());
        }
        Ok(Twitter {
            base_url,
            user_id: config.user_id,
            query: config.query.filter(|q| !q.trim().is_empty()),
            bearer_token: secrets.bearer_token,
            consumer_secret: secrets.consumer_secret,
            http,
        })
    }

    async fn pull(&mut self, mut cursor: Cursor) -> Result<Batch<Cursor>, PullError> {
        let stream = cursor.stream;
        let state = match stream {
            Stream::Mentions => &mut cursor.mentions,
            Stream::Search => &mut cursor.search,
        };
        let page = self.fetch(stream, state).await?;
        if !page.errors.is_empty() {
            tracing::warn!(errors = page.errors.len(), "X reported partial errors");
        }
        let users = page.includes.map(|i| i.users).unwrap_or_default();
        let mut touchpoints = Vec::with_capacity(page.data.len());
        for tweet in &page.data {
            state.newest_id = newer(state.newest_id.take(), &tweet.id);
            touchpoints.push(tweet_touchpoint(stream, tweet, &users)?);
        }
        let next = page.meta.and_then(|m| m.next_token);
        let more = match next {
            Some(token) => {
                state.page_token = Some(token);
                true
            }
            None => {
                // The pass is complete: the next polls start after its newest.
                if let Some(newest) = state.newest_id.take() {
                    state.since_id = Some(newest);
                }
                state.page_token = None;
                if stream == Stream::Mentions && self.query.is_some() {
                    cursor.stream = Stream::Search;
                    true
                } else {
                    cursor.stream = Stream::Mentions;
                    false
                }
            }
        };
        Ok(Batch {
            touchpoints,
            cursor,
            more,
        })
    }

    fn webhook(
        &self,
        request: &WebhookRequest<'_>,
        _now: DateTime<Utc>,
    ) -> Result<WebhookReply, WebhookError> {
        let secret = self
            .consumer_secret
            .as_deref()
            .ok_or(WebhookError::BadSignature)?
            .as_bytes();
        let b64 = base64::engine::general_purpose::STANDARD;
        if request.method == "GET" {
            let token = request
                .query("crc_token")
                .ok_or_else(|| WebhookError::Malformed("a CRC check needs crc_token".into()))?;
            let answer = b64.encode(hmac_sha256(secret, &[token.as_bytes()]));
            return Ok(WebhookReply::Challenge(
                json!({ "response_token": format!("sha256={answer}") }),
            ));
        }
        let signature = request
            .header("x-twitter-webhooks-signature")
            .and_then(|s| s.strip_prefix("sha256="))
            .and_then(|s| b64.decode(s).ok())
            .ok_or(WebhookError::BadSignature)?;
        if !verify_hmac_sha256(secret, &[request.body], &signature) {
            return Err(WebhookError::BadSignature);
        }
        let activity: wire::Activity = serde_json::from_slice(request.body)
            .map_err(|e| WebhookError::Malformed(e.to_string()))?;
        let mut out = Vec::new();
        for tweet in &activity.tweet_create_events {
            let mentions_us = tweet.entities.as_ref().is_some_and(|e| {
                e.user_mentions
                    .iter()
                    .any(|m| m.id_str == activity.for_user_id)
            });
            if tweet.user.id_str == activity.for_user_id || !mentions_us {
                continue;
            }
            let occurred_at =
                DateTime::parse_from_str(&tweet.created_at, "%a %b %d %H:%M:%S %z %Y")
                    .map_err(|_| WebhookError::Malformed("tweet created_at".into()))?
                    .with_timezone(&Utc);
            out.push(Touchpoint {
                external_id: format!("mention:{}", tweet.id_str),
                kind: "tweet.mention".into(),
                channel: Channel::Social,
                occurred_at,
                title: None,
                body: Some(tweet.text.clone()),
                url: Some(format!(
                    "https://x.com/{}/status/{}",
                    tweet.user.screen_name, tweet.id_str
                )),
                score: None,
                properties: serde_json::Map::new(),
                person: PersonHint {
                    twitter_user_id: Some(tweet.user.id_str.clone()),
                    twitter_handle: Some(tweet.user.screen_name.clone()),
                    name: tweet.user.name.clone(),
                    ..PersonHint::default()
                },
                account: None,
            });
        }
        Ok(WebhookReply::Touchpoints(out))
    }
}

impl Twitter {
    async fn fetch(
        &self,
        stream: Stream,
        state: &StreamCursor,
    ) -> Result<wire::TweetsPage, PullError> {
        let mut url = self.base_url.clone();
        let (path, token_param) = match stream {
            Stream::Mentions => (
                format!("/2/users/{}/mentions", self.user_id),
                "pagination_token",
            ),
            Stream::Search => ("/2/tweets/search/recent".to_owned(), "next_token"),
        };
        url.set_path(&path);
        let mut request = self
            .http
            .client()
            .get(url)
            .bearer_auth(&self.bearer_token)
            .query(&[
                ("max_results", "100"),
                ("expansions", "author_id"),
                ("tweet.fields", TWEET_FIELDS),
                ("user.fields", "username,name"),
            ]);
        if let (Stream::Search, Some(query)) = (stream, &self.query) {
            request = request.query(&[("query", query)]);
        }
        if let Some(since) = &state.since_id {
            request = request.query(&[("since_id", since)]);
        }
        if let Some(token) = &state.page_token {
            request = request.query(&[(token_param, token)]);
        }
        self.http
            .send(request, "bearer_token", until_reset)
            .await?
            .json()
    }
}

fn tweet_touchpoint(
    stream: Stream,
    tweet: &wire::Tweet,
    users: &[wire::User],
) -> Result<Touchpoint, PullError> {
    let malformed = |detail: &str| PullError::Malformed {
        endpoint: "tweets".into(),
        detail: format!("tweet {}: {detail}", tweet.id),
    };
    let occurred_at = tweet.created_at.ok_or_else(|| malformed("no created_at"))?;
    let author_id = tweet
        .author_id
        .clone()
        .ok_or_else(|| malformed("no author_id"))?;
    let author = users.iter().find(|u| u.id == author_id);
    let (prefix, kind) = match stream {
        Stream::Mentions => ("mention", "tweet.mention"),
        Stream::Search => ("search", "tweet.search_match"),
    };
    let mut properties = serde_json::Map::new();
    if let Some(conversation) = &tweet.conversation_id {
        properties.insert("conversation_id".into(), json!(conversation));
    }
    if let Some(metrics) = &tweet.public_metrics {
        properties.insert("public_metrics".into(), metrics.clone());
    }
    Ok(Touchpoint {
        external_id: format!("{prefix}:{}", tweet.id),
        kind: kind.into(),
        channel: Channel::Social,
        occurred_at,
        title: None,
        body: Some(tweet.text.clone()),
        url: author.map(|a| format!("https://x.com/{}/status/{}", a.username, tweet.id)),
        score: None,
        properties,
        person: PersonHint {
            twitter_user_id: Some(author_id),
            twitter_handle: author.map(|a| a.username.clone()),
            name: author.and_then(|a| a.name.clone()),
            ..PersonHint::default()
        },
        account: None,
    })
}
