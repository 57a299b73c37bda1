//! Zendesk Support connector for Journeys (kind `zendesk`).
//!
//! - **Tickets** come from the incremental cursor export
//!   (`GET /api/v2/incremental/tickets/cursor`, with `include=users`): every
//!   ticket is a `ticket.opened` touchpoint (`ticket:{id}:opened`, at its
//!   creation), and a solved or closed one also a `ticket.solved`
//!   (`ticket:{id}:solved`, at its last update). SUPPORT channel; the requester
//!   is resolved by Zendesk user id and email; the organisation id maps to an
//!   account.
//! - **Satisfaction ratings** (`GET /api/v2/satisfaction_ratings`, cursor pages)
//!   rated good or bad become `satisfaction.rated` (`satisfaction:{id}`).
//! - **Cursor:** the export's `after_cursor` is kept across runs (also at end of
//!   stream, so the next poll starts there); ratings keep a `start_time`
//!   watermark and, while paging, `page[after]`. One batch per vendor page.
//! - **Limits:** the export allows 10 requests a minute; requests are spaced to
//!   `export_requests_per_minute`, and a 429's `Retry-After` (seconds) is obeyed.
//! - **Webhooks:** `X-Zendesk-Webhook-Signature` is base64 HMAC-SHA256 of the
//!   signature timestamp followed by the raw body; stale timestamps are refused.
//!   `ticket.created` and a status change to solved or closed make the same
//!   touchpoints (same external ids) as the export.

mod webhook;
mod wire;

use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use journeys_plugin_sdk::{
    AccountHint, Batch, Channel, Connector, HttpClient, PersonHint, PullError, Touchpoint,
    WebhookError, WebhookReply, WebhookRequest, async_trait,
};
use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize};
use serde_json::json;

const EXPORT_PATH: &str = "/api/v2/incremental/tickets/cursor";
const RATINGS_PATH: &str = "/api/v2/satisfaction_ratings";
const RATINGS_PAGE_SIZE: &str = "100";

/// Where the Zendesk account is and who calls it.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The account's URL, e.g. `https://acme.zendesk.com`.
    pub base_url: String,
    /// The agent whose API token is used.
    pub email: String,
    /// Unix seconds to start the first export from; 0 (everything) by default.
    #[serde(default)]
    pub start_time: Option<i64>,
    /// Export requests a minute at most; Zendesk allows 10.
    #[serde(default)]
    pub export_requests_per_minute: Option<u32>,
}

/// Credentials, stored encrypted.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Secrets {
    /// An API token of `email`.
    pub api_token: String,
    /// The webhook's signing secret; without it, webhooks are refused.
    #[serde(default)]
    pub webhook_signing_secret: Option<String>,
}

/// Where the next pull starts.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Cursor {
    /// Tickets first, then ratings; a run ends after the ratings.
    #[serde(default)]
    pub phase: Phase,
    /// The export's `after_cursor`; none before the first export.
    #[serde(default)]
    pub export_cursor: Option<String>,
    /// Ratings created at or after this time (Unix seconds) are fetched.
    #[serde(default)]
    pub ratings_since: Option<i64>,
    /// The newest rating seen in the ratings pass under way.
    #[serde(default)]
    pub ratings_newest: Option<i64>,
    /// `page[after]` within the ratings pass under way.
    #[serde(default)]
    pub ratings_after: Option<String>,
}

#[derive(Debug, Default, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    #[default]
    Tickets,
    Ratings,
}

pub struct Zendesk {
    base_url: reqwest::Url,
    authorization: String,
    start_time: i64,
    export_interval: Duration,
    last_export: Option<tokio::time::Instant>,
    signing_secret: Option<String>,
    http: HttpClient,
}

/// Zendesk says how long to wait in `Retry-After`, in seconds.
fn retry_after_seconds(headers: &HeaderMap, _now: DateTime<Utc>) -> Option<Duration> {
    let seconds: u64 = headers
        .get("retry-after")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
}

#[async_trait]
impl Connector for Zendesk {
    const KIND: &'static str = "zendesk";
    const DESCRIPTION: &'static str = "Zendesk Support: tickets opened and solved, and satisfaction ratings, by incremental export and webhooks.";
    type Config = Config;
    type Secrets = Secrets;
    type Cursor = Cursor;

    fn new(config: Config, secrets: Secrets, http: HttpClient) -> Result<Self, String> {
        let base_url = reqwest::Url::parse(&config.base_url)
            .map_err(|e| format!("config: base_url is not a URL ({e})"))?;
        if config.email.trim().is_empty() {
            return Err("config: email must not be empty".into());
        }
        if secrets.api_token.is_empty() {
            return Err("secrets: api_token must not be empty".into());
        }
        let per_minute = config.export_requests_per_minute.unwrap_or(10);
        if per_minute == 0 {
            return Err("config: export_requests_per_minute must be at least 1".into());
        }
        let credentials = format!("{}/token:{}", config.email.trim(), secrets.api_token);
        Ok(Zendesk {
            base_url,
            authorization: format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(credentials)
            ),
            start_time: config.start_time.unwrap_or(0),
            export_interval: Duration::from_secs(60) / per_minute,
            last_export: None,
            signing_secret: secrets.webhook_signing_secret,
            http,
        })
    }

    async fn pull(&mut self, cursor: Cursor) -> Result<Batch<Cursor>, PullError> {
        match cursor.phase {
            Phase::Tickets => self.export_page(cursor).await,
            Phase::Ratings => self.ratings_page(cursor).await,
        }
    }

    fn webhook(
        &self,
        request: &WebhookRequest<'_>,
        now: DateTime<Utc>,
    ) -> Result<WebhookReply, WebhookError> {
        let secret = self
            .signing_secret
            .as_deref()
            .ok_or(WebhookError::BadSignature)?;
        webhook::receive(secret, request, now)
    }
}

impl Zendesk {
    fn url(&self, path: &str) -> reqwest::Url {
        let mut url = self.base_url.clone();
        url.set_path(path);
        url
    }

    /// Spaces export requests to the configured rate.
    async fn pace_export(&mut self) {
        if let Some(last) = self.last_export {
            tokio::time::sleep_until(last + self.export_interval).await;
        }
        self.last_export = Some(tokio::time::Instant::now());
    }

    async fn export_page(&mut self, mut cursor: Cursor) -> Result<Batch<Cursor>, PullError> {
        self.pace_export().await;
        let mut request = self
            .http
            .client()
            .get(self.url(EXPORT_PATH))
            .header("authorization", &self.authorization)
            .query(&[("include", "users")]);
        request = match &cursor.export_cursor {
            Some(after) => request.query(&[("cursor", after)]),
            None => request.query(&[("start_time", self.start_time)]),
        };
        let page: wire::ExportPage = self
            .http
            .send(request, "api_token", retry_after_seconds)
            .await?
            .json()?;
        let touchpoints = page
            .tickets
            .iter()
            .flat_map(|ticket| ticket_touchpoints(ticket, &page.users))
            .collect();
        if let Some(after) = page.after_cursor {
            cursor.export_cursor = Some(after);
        }
        if page.end_of_stream {
            cursor.phase = Phase::Ratings;
        }
        Ok(Batch {
            touchpoints,
            cursor,
            more: true,
        })
    }

    async fn ratings_page(&mut self, mut cursor: Cursor) -> Result<Batch<Cursor>, PullError> {
        let mut request = self
            .http
            .client()
            .get(self.url(RATINGS_PATH))
            .header("authorization", &self.authorization)
            .query(&[("page[size]", RATINGS_PAGE_SIZE)]);
        if let Some(since) = cursor.ratings_since {
            request = request.query(&[("start_time", since)]);
        }
        if let Some(after) = &cursor.ratings_after {
            request = request.query(&[("page[after]", after)]);
        }
        let page: wire::RatingsPage = self
            .http
            .send(request, "api_token", retry_after_seconds)
            .await?
            .json()?;
        let mut touchpoints = Vec::new();
        for rating in &page.satisfaction_ratings {
            let created = rating.created_at.timestamp();
            cursor.ratings_newest = Some(cursor.ratings_newest.map_or(created, |n| n.max(created)));
            touchpoints.extend(rating_touchpoint(rating));
        }
        let has_more = page.meta.as_ref().is_some_and(|m| m.has_more);
        let after = page.meta.and_then(|m| m.after_cursor);
        match (has_more, after) {
            (true, Some(after)) => {
                cursor.ratings_after = Some(after);
                Ok(Batch {
                    touchpoints,
                    cursor,
                    more: true,
                })
            }
            _ => {
                // The pass is done: the next starts at the newest rating seen
                // (re-reading it is harmless) and with the tickets again.
                if let Some(newest) = cursor.ratings_newest.take() {
                    cursor.ratings_since = Some(newest);
                }
                cursor.ratings_after = None;
                cursor.phase = Phase::Tickets;
                Ok(Batch {
                    touchpoints,
                    cursor,
                    more: false,
                })
            }
        }
    }
}

fn person(user_id: u64, users: &[wire::User]) -> PersonHint {
    let user = users.iter().find(|u| u.id == user_id);
    PersonHint {
        zendesk_user_id: Some(user_id.to_string()),
        email: user.and_then(|u| u.email.clone()),
        name: user.and_then(|u| u.name.clone()),
        ..PersonHint::default()
    }
}

fn organisation(id: Option<u64>) -> Option<AccountHint> {
    id.map(|id| AccountHint {
        external_id: Some(id.to_string()),
        name: None,
    })
}

pub(crate) fn is_solved(status: &str) -> bool {
    status.eq_ignore_ascii_case("solved") || status.eq_ignore_ascii_case("closed")
}

fn ticket_touchpoints(ticket: &wire::Ticket, users: &[wire::User]) -> Vec<Touchpoint> {
    let mut properties = serde_json::Map::new();
    properties.insert("ticket_id".into(), json!(ticket.id));
    properties.insert("status".into(), json!(ticket.status));
    if let Some(priority) = &ticket.priority {
        properties.insert("priority".into(), json!(priority));
    }
    if let Some(kind) = &ticket.r#type {
        properties.insert("type".into(), json!(kind));
    }
    if !ticket.tags.is_empty() {
        properties.insert("tags".into(), json!(ticket.tags));
    }
    if let Some(channel) = ticket.via.as_ref().and_then(|v| v.channel.as_ref()) {
        properties.insert("via".into(), json!(channel));
    }
    let opened = Touchpoint {
        external_id: format!("ticket:{}:opened", ticket.id),
        kind: "ticket.opened".into(),
        channel: Channel::Support,
        occurred_at: ticket.created_at,
        title: ticket.subject.clone(),
        body: ticket.description.clone(),
        url: ticket.url.clone(),
        score: None,
        properties,
        person: person(ticket.requester_id, users),
        account: organisation(ticket.organization_id),
    };
    let mut out = Vec::with_capacity(2);
    if is_solved(&ticket.status) {
        out.push(Touchpoint {
            external_id: format!("ticket:{}:solved", ticket.id),
            kind: "ticket.solved".into(),
            occurred_at: ticket.updated_at,
            ..opened.clone()
        });
    }
    out.insert(0, opened);
    out
}

fn rating_touchpoint(rating: &wire::Rating) -> Option<Touchpoint> {
    if rating.score != "good" && rating.score != "bad" {
        return None;
    }
    let mut properties = serde_json::Map::new();
    properties.insert("rating".into(), json!(rating.score));
    if let Some(ticket) = rating.ticket_id {
        properties.insert("ticket_id".into(), json!(ticket));
    }
    if let Some(comment) = &rating.comment {
        properties.insert("comment".into(), json!(comment));
    }
    Some(Touchpoint {
        external_id: format!("satisfaction:{}", rating.id),
        kind: "satisfaction.rated".into(),
        channel: Channel::Support,
        occurred_at: rating.created_at,
        title: None,
        body: rating.comment.clone(),
        url: None,
        score: None,
        properties,
        person: PersonHint {
            zendesk_user_id: rating.requester_id.map(|id| id.to_string()),
            ..PersonHint::default()
        },
        account: None,
    })
}
