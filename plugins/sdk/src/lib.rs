//! The contract between Journeys and its connector plugins.
//!
//! A connector crate implements [`Connector`]: its kind name, its config and
//! secrets types (serde, unknown fields refused, with a JSON schema), an
//! incremental [`Connector::pull`] from a saved cursor, and optionally
//! [`Connector::webhook`]. It knows nothing of the database or of GraphQL: it
//! turns a vendor's API into [`Touchpoint`]s with [`PersonHint`]s and
//! [`AccountHint`]s, and the server's sync runtime does everything else
//! (scheduling, leases, saving each batch with its cursor, run records).
//!
//! The server sees plugins only as [`Plugin`] trait objects, made by
//! [`plugin`]; registering a connector is one line there.

mod http;
mod plugin;
mod webhook;

pub use async_trait::async_trait;
pub use http::{
    Fetched, HttpClient, Pace, PacingLog, RateLimitHint, RetryPolicy, UnhintedRateLimit,
    retry_after,
};
pub use plugin::{DynConnector, Plugin, plugin};
pub use webhook::{
    REPLAY_WINDOW, WebhookError, WebhookReply, WebhookRequest, check_fresh, hmac_sha256,
    verify_hmac_sha256,
};

use chrono::{DateTime, Utc};
use serde::{Serialize, de::DeserializeOwned};

/// One connector kind (Twitter, Zoom, Zendesk, …). An instance is built for one
/// sync run or one webhook delivery from the connector's config and secrets.
#[async_trait]
pub trait Connector: Sized + Send + Sync + 'static {
    /// The kind's name, as stored on connectors and used as the touchpoints'
    /// `source`. External ids are each connector's own: a pull and a webhook
    /// of one connector share them, two connectors of a kind never do.
    const KIND: &'static str;
    /// One sentence for the `plugins` query.
    const DESCRIPTION: &'static str;

    /// The non-secret settings. Derive `Deserialize` with
    /// `#[serde(deny_unknown_fields)]` and `JsonSchema`.
    type Config: DeserializeOwned + schemars::JsonSchema + Send + Sync;
    /// The secrets, stored encrypted and never shown again once written.
    type Secrets: DeserializeOwned + schemars::JsonSchema + Send + Sync;
    /// Where the next pull starts. `Default` is a first sync.
    type Cursor: Serialize + DeserializeOwned + Default + Send + Sync;

    /// Builds an instance, refusing settings that are well-typed but unusable.
    fn new(config: Self::Config, secrets: Self::Secrets, http: HttpClient) -> Result<Self, String>;

    /// Fetches the next batch after `cursor`. The runtime saves the batch and
    /// its cursor in one transaction, then calls again while `more` is set, so
    /// a batch should be one vendor page (or a few) and its cursor must let a
    /// later run resume right after it. Re-delivering a touchpoint is harmless:
    /// the runtime upserts on `(connector, external_id)`.
    async fn pull(&mut self, cursor: Self::Cursor) -> Result<Batch<Self::Cursor>, PullError>;

    /// Verifies and parses one webhook delivery. The default refuses all.
    fn webhook(
        &self,
        request: &WebhookRequest<'_>,
        now: DateTime<Utc>,
    ) -> Result<WebhookReply, WebhookError> {
        let _ = (request, now);
        Err(WebhookError::Unsupported)
    }
}

/// What one pull produced.
#[derive(Debug)]
pub struct Batch<C> {
    pub touchpoints: Vec<Touchpoint>,
    /// The cursor after this batch.
    pub cursor: C,
    /// Whether the vendor has more right now; the run ends on the first `false`.
    pub more: bool,
}

/// The channel a touchpoint came through (the server's `Channel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Channel {
    Social,
    Webinar,
    Support,
    Email,
    Phone,
    Meeting,
    Web,
    Event,
    Ad,
    Other,
}

/// A normalised interaction, as the server records it.
#[derive(Debug, Clone, PartialEq)]
pub struct Touchpoint {
    /// Stable across pulls and webhooks for the same interaction: the
    /// idempotency key within the connector.
    pub external_id: String,
    /// Dotted, lower case: `tweet.mention`, `webinar.attended`, `ticket.solved`.
    pub kind: String,
    pub channel: Channel,
    pub occurred_at: DateTime<Utc>,
    pub title: Option<String>,
    pub body: Option<String>,
    pub url: Option<String>,
    /// A rating on the touchpoint, when the vendor has one: 0–10 for NPS-like
    /// answers, 1 (good) or 0 (bad) for CSAT; the vendor's own wording goes in
    /// `properties`.
    pub score: Option<i32>,
    /// Vendor facts worth keeping (JSON object), e.g. `{"minutes": 42}`.
    pub properties: serde_json::Map<String, serde_json::Value>,
    pub person: PersonHint,
    pub account: Option<AccountHint>,
    /// The company's team that owns it (an agent's reply is SERVICE's).
    pub owner_team: Option<Team>,
    /// The company's employee in it, as the vendor names them (an agent).
    pub actor: Option<String>,
}

/// The company's teams (the server's `OwnerTeam`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Team {
    Marketing,
    Sales,
    Delivery,
    Service,
    Relationship,
}

/// Who the touchpoint is from. The server resolves the person by these
/// identities, strongest first, and creates them when none matches.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PersonHint {
    pub email: Option<String>,
    pub twitter_user_id: Option<String>,
    pub twitter_handle: Option<String>,
    pub zoom_registrant_id: Option<String>,
    pub zendesk_user_id: Option<String>,
    /// The vendor's own id for the person, for a connector whose vendor has no
    /// identity kind of its own: Journeys keeps it as `{connector kind}:{id}`.
    pub vendor_user_id: Option<String>,
    pub name: Option<String>,
    /// Job title.
    pub title: Option<String>,
}

/// Which company the person belongs to, when the vendor says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountHint {
    /// The vendor's id for the organisation, e.g. a Zendesk organization id.
    pub external_id: Option<String>,
    /// The organisation's name as the vendor has it.
    pub name: Option<String>,
}

/// Why a pull failed. Each variant's message names what to fix and never
/// includes a secret.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// The vendor refused a credential (401/403).
    #[error(
        "the vendor refused the credential `{credential}` (HTTP {status}); check it and save it again"
    )]
    Unauthorized {
        credential: &'static str,
        status: u16,
    },
    /// The vendor asked us to wait longer than the retry policy allows.
    #[error(
        "rate limited: the vendor asked to wait {wait_seconds} s, more than the {max_seconds} s allowed"
    )]
    RateLimited { wait_seconds: u64, max_seconds: u64 },
    /// A server error or a timeout that outlasted the retries.
    #[error("the vendor kept failing after {attempts} attempts: {last}")]
    Unavailable { attempts: u32, last: String },
    /// A 4xx other than 401/403/429.
    #[error("the vendor refused the request (HTTP {status}): {detail}")]
    Refused { status: u16, detail: String },
    /// A body that is not what the vendor documents (bad or truncated JSON).
    #[error("malformed response from {endpoint}: {detail}")]
    Malformed { endpoint: String, detail: String },
}

impl PullError {
    /// A stable code for run records and GraphQL errors.
    pub fn code(&self) -> &'static str {
        match self {
            PullError::Unauthorized { .. } => "CONNECTOR_UNAUTHORIZED",
            PullError::RateLimited { .. } => "CONNECTOR_RATE_LIMITED",
            PullError::Unavailable { .. } => "CONNECTOR_UNAVAILABLE",
            PullError::Refused { .. } => "CONNECTOR_REFUSED",
            PullError::Malformed { .. } => "CONNECTOR_MALFORMED",
        }
    }
}
