//! Twitter/X connector for Journeys (kind `twitter`), on the X API v2.
//!
//! **Config:** `base_url` (`https://api.x.com`), `user_id` (the numeric id of
//! the account whose mentions are synced), an optional recent-search `query`
//! and `engagement` (off unless set: also sync who likes, retweets, quotes
//! and replies to the account's tweets). **Secrets:** `bearer_token`
//! (app-only auth for the pulls) and an optional `consumer_secret` (without
//! it, webhooks are refused).
//!
//! **Streams** (SOCIAL channel; people by X user id, handle and name). Every
//! list is paged by `meta.next_token`, sent back as `pagination_token` (as
//! `next_token` to recent search), `max_results=100`, one batch per page
//! with the cursor after it:
//!
//! | kind | external id | time | source |
//! |------|-------------|------|--------|
//! | `tweet.mention` | `mention:{tweet id}` | the tweet's `created_at` | `GET /2/users/{user_id}/mentions` (`since_id`), and Account Activity webhooks |
//! | `tweet.search_match` | `search:{tweet id}` | `created_at` | `GET /2/tweets/search/recent?query=…` (`since_id`), when a `query` is set |
//! | `tweet.liked` | `like:{tweet id}:{user id}` | the liked tweet's `created_at` | `GET /2/tweets/{id}/liking_users`, with `engagement` |
//! | `tweet.retweeted` | `retweet:{tweet id}:{user id}` | the retweeted tweet's `created_at` | `GET /2/tweets/{id}/retweeted_by`, with `engagement` |
//! | `tweet.quote` | `quote:{quote id}` | the quote's `created_at` | `GET /2/tweets/{id}/quote_tweets`, with `engagement` |
//! | `tweet.reply` | `reply:{reply id}` | the reply's `created_at` | `GET /2/tweets/search/recent?query=conversation_id:{id}`, with `engagement` |
//!
//! - Tweets (mentions, search matches, quotes, replies) have the text as
//!   body, the x.com link as url, and `conversation_id` and `public_metrics`
//!   as properties, the author as the person; search matches add the
//!   `query`, quotes `quoted_tweet_id`, replies `in_reply_to`.
//! - The engagement streams follow the account's own tweets of the last 7
//!   days (`GET /2/users/{user_id}/tweets`, retweets excluded; recent search
//!   reaches back no further). A quote is a tweet whose `referenced_tweets`
//!   has `quoted` the account's tweet, a reply one that has `replied_to` it
//!   (replies further down the conversation are left out); a reply that
//!   mentions the account is a `tweet.mention` too, as with search. The
//!   account's own likes, retweets, quotes and replies are left out.
//! - Likes and retweets name the user as the person, with no body, the
//!   account's tweet's link and its `tweet_id` in the properties. X does not
//!   date them, so they are dated at the account's tweet's `created_at`: a
//!   fixed time, the same on every pull, so a re-pull yields an unchanged,
//!   equal touchpoint (the like itself came at or after that time).
//!
//! **Cursor** (see [`Cursor`]): a run reads the mentions stream, then the
//! search stream, one batch per vendor page. Each stream keeps the newest
//! tweet id of its last completed pass (sent as `since_id`, so a later poll
//! fetches only newer tweets), the newest id seen in the pass under way and
//! the page token to continue it; the newest id becomes the `since_id` once
//! the pass's last page is saved. Tweet ids are compared as numbers.
//!
//! With `engagement`, the run then makes an engagement pass (see
//! [`EngagementPass`]): its first batch lists the account's recent tweets
//! (all pages of the timeline, by `pagination_token`), then each batch is one
//! page of one tweet's likes, retweets, quotes (`pagination_token`) or
//! replies (search's `next_token`), with the tweets left, the list and the
//! page token saved after it, so a stopped run resumes with the next page.
//! Each pass reads the lists whole again (likes come to old tweets too):
//! repeats keep their external ids and times, so nothing is doubled.
//!
//! **Errors:** a 429 waits until `x-rate-limit-reset` (Unix seconds); 401/403
//! name `bearer_token`. A 200 whose `errors` come with data keeps the data
//! (and logs the count); one with errors only fails as the vendor's refusal.
//! A configured `user_id` X does not know (the mentions timeline answering
//! 404, or a 200 with only a resource-not-found problem about that user)
//! fails the pull with a refusal that says so and names the config field
//! `user_id`.
//! When X refuses (400) a request resumed from an old cursor, the pass
//! starts over without the stale page token (and, for search, without a
//! `since_id` that fell out of its 7-day window); repeats are deduplicated by
//! external id.
//!
//! **Webhooks:** see the `webhook` module: CRC checks answered, deliveries
//! verified by HMAC-SHA256 over the body, mentions recorded under the same
//! external ids as the pull.

mod api;
mod cursor;
mod touchpoints;
mod webhook;
mod wire;

use chrono::{DateTime, Utc};
use journeys_plugin_sdk::{
    Batch, Connector, HttpClient, PullError, WebhookError, WebhookReply, WebhookRequest,
    async_trait,
};
use serde::Deserialize;

pub use cursor::{Cursor, Engagement, EngagementPass, OwnTweet, Stream, StreamCursor};
pub use wire::TweetId;

/// X's limit on a recent-search query.
const MAX_QUERY_CHARS: usize = 4096;
/// How far back the account's tweets are followed for engagement: recent
/// search, which finds the replies, reaches back 7 days.
const ENGAGEMENT_DAYS: i64 = 7;

/// Which account to follow, and where the API is.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The API's base URL, e.g. `https://api.x.com`.
    pub base_url: String,
    /// The numeric id of the account whose mentions are synced, e.g. `2244994945`.
    pub user_id: String,
    /// A recent-search query whose matches are synced too, e.g.
    /// `"acme api" -is:retweet`. X searches the last 7 days.
    #[serde(default)]
    pub query: Option<String>,
    /// Whether to sync who likes, retweets, quotes and replies to the
    /// account's tweets of the last 7 days (four more requests per tweet per
    /// run). Off when left out.
    #[serde(default)]
    pub engagement: bool,
}

/// Credentials, stored encrypted.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Secrets {
    /// The app-only bearer token the pulls are made with.
    pub bearer_token: String,
    /// The app's consumer secret (API key secret), which signs webhooks;
    /// without it, webhooks are refused.
    #[serde(default)]
    pub consumer_secret: Option<String>,
}

pub struct Twitter {
    api: api::Api,
    query: Option<String>,
    engagement: bool,
    consumer_secret: Option<String>,
}

#[async_trait]
impl Connector for Twitter {
    const KIND: &'static str = "twitter";
    const DESCRIPTION: &'static str = "Twitter/X: mentions of an account, recent-search matches, and optionally likes, retweets, quotes and replies of its tweets, by API v2 and Account Activity webhooks.";
    type Config = Config;
    type Secrets = Secrets;
    type Cursor = Cursor;

    fn new(config: Config, secrets: Secrets, http: HttpClient) -> Result<Self, String> {
        let base_url = reqwest::Url::parse(&config.base_url)
            .map_err(|e| format!("config: base_url is not a URL ({e})"))?;
        if !matches!(base_url.scheme(), "http" | "https") {
            return Err("config: base_url must be an http(s) URL".into());
        }
        let user_id = config.user_id.trim();
        if !wire::is_numeric_id(user_id) {
            return Err("config: user_id must be the account's numeric id (1 to 19 digits)".into());
        }
        if let Some(query) = &config.query {
            if query.trim().is_empty() {
                return Err(
                    "config: query must not be blank; leave it out to sync mentions only".into(),
                );
            }
            if query.chars().count() > MAX_QUERY_CHARS {
                return Err(format!(
                    "config: query is longer than X's {MAX_QUERY_CHARS} characters"
                ));
            }
        }
        if secrets.bearer_token.trim().is_empty() {
            return Err("secrets: bearer_token must not be empty".into());
        }
        // An empty key would accept signatures anyone can compute.
        if secrets
            .consumer_secret
            .as_deref()
            .is_some_and(str::is_empty)
        {
            return Err(
                "secrets: consumer_secret must not be empty; leave it out to refuse webhooks"
                    .into(),
            );
        }
        Ok(Twitter {
            api: api::Api {
                http,
                base_url,
                bearer_token: secrets.bearer_token,
                user_id: user_id.to_owned(),
            },
            query: config.query,
            engagement: config.engagement,
            consumer_secret: secrets.consumer_secret,
        })
    }

    async fn pull(&mut self, mut cursor: Cursor) -> Result<Batch<Cursor>, PullError> {
        let query = self.query.as_deref();
        cursor.follow_query(query);
        cursor.follow_engagement(self.engagement);
        if let Some(pass) = cursor.engagement.take() {
            return self.pull_engagement(pass, cursor).await;
        }
        let stream = cursor.stream;
        let state = cursor.stream_mut(stream);
        let page = match self.api.page(stream, state, query).await {
            Err(PullError::Refused { status: 400, .. }) if state.forget_stale(stream) => {
                tracing::warn!(
                    ?stream,
                    "X refused a pass resumed from the saved cursor; starting it over"
                );
                self.api.page(stream, state, query).await?
            }
            page => page?,
        };
        let mut touchpoints = Vec::with_capacity(page.tweets.len());
        for tweet in &page.tweets {
            state.saw(tweet.id);
            let touchpoint =
                touchpoints::from_pulled(stream, tweet, &page.users, query).map_err(|detail| {
                    PullError::Malformed {
                        endpoint: page.endpoint.clone(),
                        detail,
                    }
                })?;
            touchpoints.push(touchpoint);
        }
        let more = match page.next_token {
            Some(token) => {
                state.page_token = Some(token);
                true
            }
            None => {
                state.finish_pass();
                match (stream, query) {
                    (Stream::Mentions, Some(_)) => {
                        cursor.stream = Stream::Search;
                        true
                    }
                    _ => {
                        cursor.stream = Stream::Mentions;
                        if self.engagement {
                            cursor.engagement = Some(EngagementPass::default());
                        }
                        self.engagement
                    }
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
            .ok_or(WebhookError::BadSignature)?;
        webhook::handle(secret.as_bytes(), &self.api.user_id, request)
    }
}

impl Twitter {
    /// One batch of the engagement pass: its first lists the account's
    /// recent tweets, each later one reads one page of one tweet's likes,
    /// retweets, quotes or replies. The run ends with the pass.
    async fn pull_engagement(
        &mut self,
        mut pass: EngagementPass,
        mut cursor: Cursor,
    ) -> Result<Batch<Cursor>, PullError> {
        let Some(mut tweets) = pass.tweets.take() else {
            let since = Utc::now() - chrono::Duration::days(ENGAGEMENT_DAYS);
            let tweets = self.api.own_tweets(since).await?;
            let more = !tweets.is_empty();
            cursor.engagement = more.then(|| EngagementPass {
                tweets: Some(tweets.into()),
                ..EngagementPass::default()
            });
            return Ok(Batch {
                touchpoints: Vec::new(),
                cursor,
                more,
            });
        };
        let mut touchpoints = Vec::new();
        if let Some(own) = tweets.front() {
            let page = self
                .api
                .engagement(pass.list, own.id, pass.page_token.as_deref())
                .await?;
            let account = self.api.user_id.as_str();
            touchpoints.extend(
                page.users.iter().filter_map(|user| {
                    touchpoints::from_engaging_user(pass.list, own, user, account)
                }),
            );
            for tweet in &page.tweets {
                let touchpoint =
                    touchpoints::from_engaged(pass.list, own, tweet, &page.users, account)
                        .map_err(|detail| PullError::Malformed {
                            endpoint: page.endpoint.clone(),
                            detail,
                        })?;
                touchpoints.extend(touchpoint);
            }
            match (page.next_token, pass.list.next()) {
                (Some(token), _) => pass.page_token = Some(token),
                (None, Some(next)) => {
                    pass.list = next;
                    pass.page_token = None;
                }
                (None, None) => {
                    tweets.pop_front();
                    pass.list = Engagement::default();
                    pass.page_token = None;
                }
            }
        }
        let more = !tweets.is_empty();
        cursor.engagement = more.then_some(EngagementPass {
            tweets: Some(tweets),
            ..pass
        });
        Ok(Batch {
            touchpoints,
            cursor,
            more,
        })
    }
}
