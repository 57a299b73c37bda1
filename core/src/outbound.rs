//! Outbound webhooks: the workspace's event log POSTed to partners'
//! endpoints, signed the Standard Webhooks way. Named `outbound` because
//! `connectors::webhooks` is the other direction (vendors calling us).
//!
//! Invariants:
//! - An endpoint's `cursor` is the last event it got a 2xx for (or that it
//!   does not want); it advances only after a 2xx, so a crash or a failure
//!   re-sends the event: delivery is at least once, and `webhook-id` (the
//!   event's id, the same on every try) lets a receiver drop duplicates.
//! - One delivery in flight per endpoint across every instance: an instance
//!   delivers only while it holds the endpoint's lease, taken by a
//!   conditional UPDATE (so of several instances one wins) and renewed before
//!   each event, and it sends one event at a time, in log order.
//! - A failure backs the endpoint off exponentially with jitter; once it has
//!   failed for `max_retry_age` (24 h by default) it is DISABLED, with why.
//! - Targets on loopback, private, link-local, CGNAT or unspecified
//!   addresses are refused when an endpoint is saved and again at every
//!   delivery (by the HTTP client's resolver, so DNS changed meanwhile does
//!   not get through), unless `allow_private`. Redirects are not followed.
//! - The signing secret is returned once, when made, and stored sealed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use entity::vocab::{EventType, WebhookStatus};
use entity::{event, webhook_delivery, webhook_endpoint};
use hmac::{KeyInit, Mac};
use rand::{Rng, RngCore};
use reqwest::Url;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::{Value, json};
use sha2::Sha256;
use uuid::Uuid;

use crate::connectors::secrets::SecretBox;
use crate::events::{self, EventFilter};
use crate::page::{Keyset, Page};
use crate::{CoreError, CoreResult, db, time};

/// How deliveries behave; the defaults suit production.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// How often an instance looks for endpoints with events to deliver.
    pub tick: Duration,
    /// How long a claim on an endpoint lasts without renewal; renewed before
    /// each event, so it must outlast `timeout`.
    pub lease: Duration,
    /// Whether targets on private, loopback and link-local addresses are
    /// allowed (`JOURNEYS_WEBHOOK_ALLOW_PRIVATE`).
    pub allow_private: bool,
    /// How long one attempt may take, response included.
    pub timeout: Duration,
    /// How long an endpoint may keep failing before it is disabled.
    pub max_retry_age: chrono::Duration,
    /// The wait after a first failure, doubled with each one after.
    pub base_backoff: Duration,
    /// The longest wait between two attempts.
    pub max_backoff: Duration,
    /// Events sent per claim, so one busy endpoint does not keep its lease
    /// for ever.
    pub batch: u32,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            tick: Duration::from_secs(1),
            lease: Duration::from_secs(30),
            allow_private: false,
            timeout: Duration::from_secs(10),
            max_retry_age: chrono::Duration::hours(24),
            base_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(3600),
            batch: 50,
        }
    }
}

/// What a delivery's `data` holds for an event: the ids it names, in the
/// API's encoding, which the caller (the API crate) provides so that a
/// partner can look them up with `node(id)`.
pub type EventData = fn(&event::Model) -> Value;

/// The prefix Standard Webhooks gives secrets.
const SECRET_PREFIX: &str = "whsec_";

/// A signing secret: 32 random bytes, shown as `whsec_` and their base64.
/// `Debug` never shows it.
pub struct SigningSecret(Vec<u8>);

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret(..)")
    }
}

impl SigningSecret {
    fn generate() -> Self {
        let mut key = vec![0u8; 32];
        rand::rng().fill_bytes(&mut key);
        SigningSecret(key)
    }

    /// From its `whsec_…` text.
    pub fn parse(text: &str) -> Option<Self> {
        let key = STANDARD.decode(text.strip_prefix(SECRET_PREFIX)?).ok()?;
        (!key.is_empty()).then_some(SigningSecret(key))
    }

    /// The `whsec_…` text a receiver verifies with.
    pub fn reveal(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.0))
    }

    /// `v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac =
            hmac::Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

/// The `webhook-signature` header: one signature per secret, space-separated,
/// so a receiver that knows either secret of a rotation verifies it.
pub fn signature_header(
    secrets: &[SigningSecret],
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    secrets
        .iter()
        .map(|s| s.sign(id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The wait before the attempt after the `failures`-th failure in a row:
/// `base · 2^(failures − 1)`, capped at `max`, of which the upper half is
/// random, so waits grow for certain while instances' retries spread out.
pub fn backoff(base: Duration, max: Duration, failures: u32) -> Duration {
    let doubling = 2u32.saturating_pow(failures.saturating_sub(1).min(30));
    let ceiling = base.saturating_mul(doubling).min(max);
    let half = ceiling / 2;
    let jitter = rand::rng().random_range(0..=u64::try_from(half.as_millis()).unwrap_or(u64::MAX));
    half + Duration::from_millis(jitter)
}

/// Whether connecting to `ip` would reach outside the server's own networks.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    let cgnat = a == 100 && (64..128).contains(&b);
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || a == 0
        || cgnat)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    let unique_local = first & 0xfe00 == 0xfc00;
    let link_local = first & 0xffc0 == 0xfe80;
    !(ip.is_loopback() || ip.is_unspecified() || ip.is_multicast() || unique_local || link_local)
}

fn refused(host: &str, ip: IpAddr) -> String {
    format!(
        "`{host}` is {ip}, a loopback, private or link-local address; webhooks go to public addresses only"
    )
}

/// Checks an endpoint's URL: http or https, a host, and (unless
/// `allow_private`) only public addresses for it now.
pub async fn check_url(text: &str, allow_private: bool) -> CoreResult<Url> {
    let invalid = |message: String| CoreError::invalid_field("url", message);
    let text = text.trim();
    if text.len() > 2000 {
        return Err(invalid("`url` must be at most 2,000 characters".into()));
    }
    let url = Url::parse(text).map_err(|e| invalid(format!("`url` is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("`url` must be http or https".into()));
    }
    let host = url
        .host_str()
        .ok_or_else(|| invalid("`url` must name a host".into()))?
        .to_owned();
    if allow_private {
        return Ok(url);
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|e| invalid(format!("`url`'s host `{host}` does not resolve: {e}")))?
        .collect();
    if let Some(ip) = addresses.iter().map(|a| a.ip()).find(|ip| !is_public(*ip)) {
        return Err(invalid(format!("`url` is refused: {}", refused(&host, ip))));
    }
    Ok(url)
}

/// The HTTP client's resolver: names that resolve to non-public addresses
/// are refused at connection time, whatever they resolved to when saved.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addresses: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if let Some(ip) = addresses.iter().map(|a| a.ip()).find(|ip| !is_public(*ip)) {
                return Err(refused(&host, ip).into());
            }
            let addresses: reqwest::dns::Addrs = Box::new(addresses.into_iter());
            Ok(addresses)
        })
    }
}

/// An endpoint to create.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    pub url: String,
    /// Empty for every type.
    pub event_types: Vec<EventType>,
    pub description: String,
}

/// Changes to an endpoint; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct EndpointChanges {
    pub url: Option<String>,
    pub event_types: Option<Vec<EventType>>,
    pub description: Option<String>,
    /// `true` re-enables (and forgets the failures), `false` disables.
    pub enabled: Option<bool>,
}

fn check_description(text: &str) -> CoreResult<String> {
    let text = text.trim();
    if text.chars().count() > 500 {
        return Err(CoreError::invalid_field(
            "description",
            "`description` must be at most 500 characters",
        ));
    }
    Ok(text.to_owned())
}

fn types_json(types: &[EventType]) -> Value {
    let mut names: Vec<String> = types.iter().map(|t| t.to_value()).collect();
    names.sort();
    names.dedup();
    Value::from(names)
}

/// The event types an endpoint wants; empty for every type.
pub fn event_types(endpoint: &webhook_endpoint::Model) -> Vec<EventType> {
    endpoint
        .event_types
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
        .filter_map(|s| EventType::try_from_value(&s.to_owned()).ok())
        .collect()
}

fn missing_key() -> CoreError {
    CoreError::NotConfigured(
        "webhook signing secrets need JOURNEYS_SECRET_KEY (32 bytes, base64) on the server".into(),
    )
}

/// Endpoints sort by creation: oldest first.
pub const ENDPOINT_ORDER: Keyset<webhook_endpoint::Column> = Keyset {
    key: Some(webhook_endpoint::Column::CreatedAt),
    id: webhook_endpoint::Column::Id,
    descending: false,
};

/// Attempts sort by time: newest first.
pub const DELIVERY_ORDER: Keyset<webhook_delivery::Column> = Keyset {
    key: Some(webhook_delivery::Column::AttemptedAt),
    id: webhook_delivery::Column::Id,
    descending: true,
};

/// An endpoint of `ws` by id, or NOT_FOUND.
pub async fn find(
    db: &impl ConnectionTrait,
    ws: Uuid,
    id: Uuid,
) -> CoreResult<webhook_endpoint::Model> {
    webhook_endpoint::Entity::find_by_id(id)
        .filter(webhook_endpoint::Column::WorkspaceId.eq(ws))
        .one(db)
        .await?
        .ok_or(CoreError::not_found("webhook endpoint"))
}

fn endpoints_of(ws: Uuid) -> sea_orm::Select<webhook_endpoint::Entity> {
    webhook_endpoint::Entity::find().filter(webhook_endpoint::Column::WorkspaceId.eq(ws))
}

/// A page of the workspace's endpoints, oldest first (one row more than the
/// page; see `page::finish`).
pub async fn list(
    db: &impl ConnectionTrait,
    ws: Uuid,
    page: &Page,
) -> CoreResult<Vec<webhook_endpoint::Model>> {
    Ok(ENDPOINT_ORDER.fetch(db, endpoints_of(ws), page).await?)
}

pub async fn count(db: &impl ConnectionTrait, ws: Uuid) -> CoreResult<u64> {
    Ok(endpoints_of(ws).count(db).await?)
}

fn deliveries_of(ws: Uuid, endpoint: Uuid) -> sea_orm::Select<webhook_delivery::Entity> {
    webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::WorkspaceId.eq(ws))
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint))
}

/// A page of an endpoint's attempts, newest first, after checking the
/// endpoint is the workspace's.
pub async fn deliveries(
    db: &impl ConnectionTrait,
    ws: Uuid,
    endpoint: Uuid,
    page: &Page,
) -> CoreResult<Vec<webhook_delivery::Model>> {
    let endpoint = find(db, ws, endpoint).await?;
    Ok(DELIVERY_ORDER
        .fetch(db, deliveries_of(ws, endpoint.id), page)
        .await?)
}

pub async fn count_deliveries(
    db: &impl ConnectionTrait,
    ws: Uuid,
    endpoint: Uuid,
) -> CoreResult<u64> {
    Ok(deliveries_of(ws, endpoint).count(db).await?)
}

/// Deletes the delivery attempts made before `before` (the event log's
/// retention: the event itself is gone), endpoint by endpoint through the
/// `(endpoint, attempted_at)` index; returns how many.
pub async fn prune_deliveries(db: &impl ConnectionTrait, before: DateTime<Utc>) -> CoreResult<u64> {
    use webhook_delivery::Column as D;
    let endpoints: Vec<Uuid> = webhook_endpoint::Entity::find()
        .select_only()
        .column(webhook_endpoint::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let mut deleted = 0;
    for endpoint in endpoints {
        let old = webhook_delivery::Entity::find()
            .filter(D::EndpointId.eq(endpoint))
            .filter(D::AttemptedAt.lt(before))
            .order_by_asc(D::AttemptedAt);
        deleted += db::delete_in_chunks(db, old, D::Id).await?;
    }
    Ok(deleted)
}

/// Deletes an endpoint and its attempts.
pub async fn delete(db: &DatabaseConnection, ws: Uuid, id: Uuid) -> CoreResult<()> {
    let txn = db::begin_write(db).await?;
    find(&txn, ws, id).await?;
    webhook_delivery::Entity::delete_many()
        .filter(webhook_delivery::Column::EndpointId.eq(id))
        .exec(&txn)
        .await?;
    webhook_endpoint::Entity::delete_by_id(id)
        .exec(&txn)
        .await?;
    db::commit(txn).await
}

/// Queues one more send of a delivery's event to its endpoint, made at the
/// endpoint's next claim (within a tick) and recorded as a new attempt.
/// CONFLICT when the endpoint is disabled or a redelivery is already queued;
/// NOT_FOUND when the event has left the log.
pub async fn redeliver(
    db: &DatabaseConnection,
    ws: Uuid,
    delivery: Uuid,
) -> CoreResult<webhook_endpoint::Model> {
    let txn = db::begin_write(db).await?;
    let delivery = webhook_delivery::Entity::find_by_id(delivery)
        .filter(webhook_delivery::Column::WorkspaceId.eq(ws))
        .one(&txn)
        .await?
        .ok_or(CoreError::not_found("webhook delivery"))?;
    let endpoint = find(&txn, ws, delivery.endpoint_id).await?;
    if endpoint.status != WebhookStatus::Active {
        return Err(CoreError::conflict(
            "the endpoint is disabled; enable it with updateWebhookEndpoint first",
        ));
    }
    if endpoint.redeliver_event_id.is_some() {
        return Err(CoreError::conflict(
            "a redelivery to this endpoint is already queued; try again once it is sent",
        ));
    }
    event::Entity::find_by_id(delivery.event_id)
        .filter(event::Column::WorkspaceId.eq(ws))
        .one(&txn)
        .await?
        .ok_or(CoreError::not_found("event (past the log's retention)"))?;
    let mut active: webhook_endpoint::ActiveModel = endpoint.into();
    active.redeliver_event_id = Set(Some(delivery.event_id));
    active.next_attempt_at = Set(None);
    active.updated_at = Set(time::now());
    let model = active.update(&txn).await?;
    db::commit(txn).await?;
    Ok(model)
}

/// The result of one attempt.
struct Attempt {
    status_code: Option<i32>,
    duration_ms: i64,
    error: Option<String>,
}

impl Attempt {
    fn succeeded(&self) -> bool {
        self.error.is_none()
    }
}

/// Delivers the event log to the workspaces' endpoints, from any number of
/// instances at once.
pub struct Outbound {
    db: DatabaseConnection,
    secrets: Option<SecretBox>,
    settings: WebhookSettings,
    data: EventData,
    http: reqwest::Client,
    /// This instance, as the owner of the leases it takes.
    instance: Uuid,
}

impl Outbound {
    pub fn new(
        db: DatabaseConnection,
        secrets: Option<SecretBox>,
        settings: WebhookSettings,
        data: EventData,
    ) -> CoreResult<Arc<Self>> {
        let mut http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(settings.timeout)
            .user_agent(concat!("Journeys-Webhooks/", env!("CARGO_PKG_VERSION")));
        if !settings.allow_private {
            http = http.dns_resolver(Arc::new(PublicOnly));
        }
        let http = http
            .build()
            .map_err(|e| CoreError::Internal(format!("cannot build the webhook client: {e}")))?;
        Ok(Arc::new(Outbound {
            db,
            secrets,
            settings,
            data,
            http,
            instance: Uuid::now_v7(),
        }))
    }

    pub fn settings(&self) -> &WebhookSettings {
        &self.settings
    }

    fn secret_box(&self) -> CoreResult<&SecretBox> {
        self.secrets.as_ref().ok_or_else(missing_key)
    }

    /// Creates an endpoint that receives the events recorded from now on;
    /// returns it with its signing secret, which is never shown again.
    pub async fn create(
        &self,
        ws: Uuid,
        new: NewEndpoint,
    ) -> CoreResult<(webhook_endpoint::Model, String)> {
        let url = check_url(&new.url, self.settings.allow_private).await?;
        let description = check_description(&new.description)?;
        let secret_box = self.secret_box()?;
        let secret = SigningSecret::generate();
        let id = entity::new_id();
        let now = time::now();
        let txn = db::begin_write(&self.db).await?;
        let cursor = events::latest(&txn, ws).await?;
        let model = webhook_endpoint::ActiveModel {
            id: Set(id),
            workspace_id: Set(ws),
            url: Set(url.to_string()),
            description: Set(description),
            event_types: Set(types_json(&new.event_types)),
            secret: Set(secret_box.seal(id, secret.reveal().as_bytes())),
            previous_secret: Set(None),
            previous_secret_expires_at: Set(None),
            cursor: Set(cursor),
            status: Set(WebhookStatus::Active),
            disabled_reason: Set(None),
            lease_owner: Set(None),
            lease_expires_at: Set(None),
            next_attempt_at: Set(None),
            failing_since: Set(None),
            redeliver_event_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
        db::commit(txn).await?;
        Ok((model, secret.reveal()))
    }

    /// Changes an endpoint. Re-enabling it forgets its failures and resumes
    /// from the event after the last one delivered.
    pub async fn update(
        &self,
        ws: Uuid,
        id: Uuid,
        changes: EndpointChanges,
    ) -> CoreResult<webhook_endpoint::Model> {
        let url = match &changes.url {
            Some(url) => Some(check_url(url, self.settings.allow_private).await?),
            None => None,
        };
        let description = changes
            .description
            .as_deref()
            .map(check_description)
            .transpose()?;
        let txn = db::begin_write(&self.db).await?;
        let old = find(&txn, ws, id).await?;
        let mut active: webhook_endpoint::ActiveModel = old.into();
        if let Some(url) = url {
            active.url = Set(url.to_string());
        }
        if let Some(description) = description {
            active.description = Set(description);
        }
        if let Some(types) = &changes.event_types {
            active.event_types = Set(types_json(types));
        }
        match changes.enabled {
            Some(true) => {
                active.status = Set(WebhookStatus::Active);
                active.disabled_reason = Set(None);
                active.failing_since = Set(None);
                active.next_attempt_at = Set(None);
            }
            Some(false) => {
                active.status = Set(WebhookStatus::Disabled);
                active.disabled_reason = Set(Some("disabled with updateWebhookEndpoint".into()));
            }
            None => {}
        }
        active.updated_at = Set(time::now());
        let model = active.update(&txn).await?;
        db::commit(txn).await?;
        Ok(model)
    }

    /// Gives an endpoint a new signing secret, returned once; the old one
    /// keeps signing beside it for `overlap`, so the receiver can switch.
    pub async fn rotate_secret(
        &self,
        ws: Uuid,
        id: Uuid,
        overlap: chrono::Duration,
    ) -> CoreResult<(webhook_endpoint::Model, String)> {
        if overlap < chrono::Duration::zero() || overlap > chrono::Duration::days(7) {
            return Err(CoreError::invalid_field(
                "overlapSeconds",
                "`overlapSeconds` must be 0 to 604800 (7 days)",
            ));
        }
        let secret_box = self.secret_box()?;
        let secret = SigningSecret::generate();
        let txn = db::begin_write(&self.db).await?;
        let old = find(&txn, ws, id).await?;
        let now = time::now();
        let previous = old.secret.clone();
        let mut active: webhook_endpoint::ActiveModel = old.into();
        active.secret = Set(secret_box.seal(id, secret.reveal().as_bytes()));
        if overlap > chrono::Duration::zero() {
            active.previous_secret = Set(Some(previous));
            active.previous_secret_expires_at = Set(Some(now + overlap));
        } else {
            active.previous_secret = Set(None);
            active.previous_secret_expires_at = Set(None);
        }
        active.updated_at = Set(now);
        let model = active.update(&txn).await?;
        db::commit(txn).await?;
        Ok((model, secret.reveal()))
    }

    /// The secrets that sign a delivery at `at`: the current one, and the
    /// one it replaced while the rotation's overlap lasts.
    pub fn signing_secrets(
        &self,
        endpoint: &webhook_endpoint::Model,
        at: DateTime<Utc>,
    ) -> CoreResult<Vec<SigningSecret>> {
        let secret_box = self.secret_box()?;
        let open = |sealed: &str| {
            secret_box
                .open(endpoint.id, sealed)
                .and_then(|plain| String::from_utf8(plain).ok())
                .and_then(|text| SigningSecret::parse(&text))
                .ok_or_else(|| {
                    CoreError::NotConfigured(
                        "the endpoint's signing secret does not open with this JOURNEYS_SECRET_KEY; rotate it"
                            .into(),
                    )
                })
        };
        let mut secrets = vec![open(&endpoint.secret)?];
        if let (Some(previous), Some(until)) = (
            &endpoint.previous_secret,
            endpoint.previous_secret_expires_at,
        ) && at < until
        {
            secrets.push(open(previous)?);
        }
        Ok(secrets)
    }

    /// Delivers, in the background, for the life of the process.
    pub fn start(self: &Arc<Self>) {
        let outbound = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(outbound.settings.tick);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = outbound.deliver_due().await {
                    tracing::error!(error = %e.with_causes(), "could not look for webhooks to deliver");
                }
            }
        });
    }

    /// Claims every endpoint that has something to send and is neither
    /// backing off nor leased, and delivers to each in its own task. Returns
    /// how many it claimed.
    pub async fn deliver_due(self: &Arc<Self>) -> CoreResult<usize> {
        use webhook_endpoint::Column as W;
        let now = time::now();
        let due = webhook_endpoint::Entity::find()
            .filter(W::Status.eq(WebhookStatus::Active))
            .filter(
                Condition::any()
                    .add(W::NextAttemptAt.is_null())
                    .add(W::NextAttemptAt.lte(now)),
            )
            .filter(
                Condition::any()
                    .add(W::LeaseExpiresAt.is_null())
                    .add(W::LeaseExpiresAt.lt(now)),
            )
            .limit(500)
            .all(&self.db)
            .await?;
        if due.is_empty() {
            return Ok(0);
        }
        let mut workspaces: Vec<Uuid> = due.iter().map(|e| e.workspace_id).collect();
        workspaces.sort();
        workspaces.dedup();
        let latest = events::latest_of(&self.db, &workspaces).await?;
        let mut claimed = 0;
        for endpoint in due {
            let behind = latest
                .iter()
                .any(|(ws, seq)| *ws == endpoint.workspace_id && *seq > endpoint.cursor);
            if !behind && endpoint.redeliver_event_id.is_none() {
                continue;
            }
            if let Some(endpoint) = self.claim(endpoint.id, now).await? {
                claimed += 1;
                let outbound = Arc::clone(self);
                tokio::spawn(async move {
                    let id = endpoint.id;
                    if let Err(e) = outbound.deliver(endpoint).await {
                        tracing::error!(endpoint = %id, error = %e.with_causes(), "webhook delivery failed to record");
                    }
                    if let Err(e) = outbound.release(id).await {
                        tracing::error!(endpoint = %id, error = %e.with_causes(), "could not release a webhook lease");
                    }
                });
            }
        }
        Ok(claimed)
    }

    fn lease_from(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + chrono::Duration::from_std(self.settings.lease).unwrap_or(chrono::Duration::MAX)
    }

    /// Takes the endpoint's lease if it is still due and free (or lapsed):
    /// conditional, so of several instances one gets it.
    async fn claim(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> CoreResult<Option<webhook_endpoint::Model>> {
        use webhook_endpoint::Column as W;
        let txn = db::begin_write(&self.db).await?;
        let claimed = webhook_endpoint::Entity::update_many()
            .col_expr(W::LeaseOwner, Expr::value(self.instance))
            .col_expr(W::LeaseExpiresAt, Expr::value(self.lease_from(now)))
            .filter(W::Id.eq(id))
            .filter(W::Status.eq(WebhookStatus::Active))
            .filter(
                Condition::any()
                    .add(W::LeaseExpiresAt.is_null())
                    .add(W::LeaseExpiresAt.lt(now)),
            )
            .filter(
                Condition::any()
                    .add(W::NextAttemptAt.is_null())
                    .add(W::NextAttemptAt.lte(now)),
            )
            .exec_with_returning(&txn)
            .await?;
        db::commit(txn).await?;
        Ok(claimed.into_iter().next())
    }

    /// Renews the lease while this instance still holds it, and returns the
    /// endpoint as it now is; `None` when the lease was lost.
    async fn renew(&self, id: Uuid) -> CoreResult<Option<webhook_endpoint::Model>> {
        use webhook_endpoint::Column as W;
        let txn = db::begin_write(&self.db).await?;
        let renewed = webhook_endpoint::Entity::update_many()
            .col_expr(W::LeaseExpiresAt, Expr::value(self.lease_from(time::now())))
            .filter(W::Id.eq(id))
            .filter(W::LeaseOwner.eq(self.instance))
            .exec_with_returning(&txn)
            .await?;
        db::commit(txn).await?;
        Ok(renewed.into_iter().next())
    }

    async fn release(&self, id: Uuid) -> CoreResult<()> {
        use webhook_endpoint::Column as W;
        let txn = db::begin_write(&self.db).await?;
        webhook_endpoint::Entity::update_many()
            .col_expr(W::LeaseOwner, Expr::value(Option::<Uuid>::None))
            .col_expr(
                W::LeaseExpiresAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(W::Id.eq(id))
            .filter(W::LeaseOwner.eq(self.instance))
            .exec(&txn)
            .await?;
        db::commit(txn).await
    }

    /// Sends a queued redelivery, then the endpoint's next events in log
    /// order, one at a time, until it is caught up, a send fails, the batch
    /// is done or the lease is lost.
    async fn deliver(&self, endpoint: webhook_endpoint::Model) -> CoreResult<()> {
        let ws = endpoint.workspace_id;
        for _ in 0..self.settings.batch {
            let Some(endpoint) = self.renew(endpoint.id).await? else {
                return Ok(());
            };
            if endpoint.status != WebhookStatus::Active {
                return Ok(());
            }
            // As the endpoint is now: types changed mid-run apply to the
            // next event, and none of a newly wanted type is skipped.
            let filter = EventFilter::of_types(event_types(&endpoint));
            if let Some(event) = endpoint.redeliver_event_id {
                self.redeliver_now(&endpoint, event).await?;
                continue;
            }
            let latest = events::latest(&self.db, ws).await?;
            let next = events::between(&self.db, ws, endpoint.cursor, latest, &filter, 1).await?;
            let Some(event) = next.into_iter().next() else {
                // Nothing it wants up to `latest`: skip past, so the next
                // look starts there.
                if latest > endpoint.cursor {
                    self.advance(&endpoint, latest).await?;
                }
                return Ok(());
            };
            let attempt = self.send(&endpoint, &event).await;
            let succeeded = attempt.succeeded();
            self.record(&endpoint, &event, attempt, false).await?;
            if !succeeded {
                return Ok(());
            }
        }
        Ok(())
    }

    async fn redeliver_now(&self, endpoint: &webhook_endpoint::Model, id: Uuid) -> CoreResult<()> {
        let event = event::Entity::find_by_id(id)
            .filter(event::Column::WorkspaceId.eq(endpoint.workspace_id))
            .one(&self.db)
            .await?;
        if let Some(event) = event {
            let attempt = self.send(endpoint, &event).await;
            self.record(endpoint, &event, attempt, true).await?;
        } else {
            self.clear_redelivery(&self.db, endpoint.id).await?;
        }
        Ok(())
    }

    async fn clear_redelivery(&self, db: &impl ConnectionTrait, id: Uuid) -> CoreResult<()> {
        use webhook_endpoint::Column as W;
        webhook_endpoint::Entity::update_many()
            .col_expr(W::RedeliverEventId, Expr::value(Option::<Uuid>::None))
            .filter(W::Id.eq(id))
            .filter(W::LeaseOwner.eq(self.instance))
            .exec(db)
            .await?;
        Ok(())
    }

    async fn advance(&self, endpoint: &webhook_endpoint::Model, to: i64) -> CoreResult<()> {
        use webhook_endpoint::Column as W;
        let txn = db::begin_write(&self.db).await?;
        webhook_endpoint::Entity::update_many()
            .col_expr(W::Cursor, Expr::value(to))
            .filter(W::Id.eq(endpoint.id))
            .filter(W::LeaseOwner.eq(self.instance))
            // Unless its types changed since they were read: what it skips
            // might now be wanted.
            .filter(W::UpdatedAt.eq(endpoint.updated_at))
            .exec(&txn)
            .await?;
        db::commit(txn).await
    }

    /// The request body: the event's type and time, and the ids it names.
    fn body(&self, event: &event::Model) -> Vec<u8> {
        let body = json!({
            "type": event.event_type.to_value(),
            "timestamp": event.recorded_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "data": (self.data)(event),
        });
        body.to_string().into_bytes()
    }

    /// POSTs one event: signed now, with the event's id as `webhook-id`.
    async fn send(&self, endpoint: &webhook_endpoint::Model, event: &event::Model) -> Attempt {
        let started = Instant::now();
        let elapsed =
            |started: Instant| i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let failed = |error: String, status_code: Option<i32>| Attempt {
            status_code,
            duration_ms: elapsed(started),
            error: Some(error),
        };
        let url = match Url::parse(&endpoint.url) {
            Ok(url) => url,
            Err(e) => return failed(format!("the saved url does not parse: {e}"), None),
        };
        // Names go through the resolver, which refuses private addresses;
        // an address written in the URL does not, so it is checked here.
        if !self.settings.allow_private {
            let host = url.host_str().unwrap_or_default();
            let literal = host.trim_start_matches('[').trim_end_matches(']');
            if let Some(ip) = literal.parse().ok().filter(|ip| !is_public(*ip)) {
                return failed(refused(host, ip), None);
            }
        }
        let now = time::now();
        let secrets = match self.signing_secrets(endpoint, now) {
            Ok(secrets) => secrets,
            Err(e) => return failed(e.to_string(), None),
        };
        let id = event.id.to_string();
        let timestamp = now.timestamp();
        let body = self.body(event);
        let signature = signature_header(&secrets, &id, timestamp, &body);
        let sent = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        match sent {
            Ok(response) => {
                let status = response.status();
                let code = Some(i32::from(status.as_u16()));
                if status.is_success() {
                    Attempt {
                        status_code: code,
                        duration_ms: elapsed(started),
                        error: None,
                    }
                } else if status.is_redirection() {
                    failed(format!("HTTP {status}: redirects are not followed"), code)
                } else {
                    failed(format!("HTTP {status}"), code)
                }
            }
            Err(e) => failed(with_causes(&e), None),
        }
    }

    /// Records an attempt and what follows from it, in one transaction: a
    /// 2xx advances the cursor (a redelivery's leaves it), a failure backs
    /// off and, past `max_retry_age`, disables the endpoint.
    async fn record(
        &self,
        endpoint: &webhook_endpoint::Model,
        event: &event::Model,
        attempt: Attempt,
        redelivery: bool,
    ) -> CoreResult<()> {
        use webhook_endpoint::Column as W;
        let now = time::now();
        let txn = db::begin_write(&self.db).await?;
        let earlier = webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::EndpointId.eq(endpoint.id))
            .filter(webhook_delivery::Column::EventId.eq(event.id))
            .count(&txn)
            .await?;
        let succeeded = attempt.succeeded();
        let error = attempt.error.clone();
        webhook_delivery::ActiveModel {
            id: Set(entity::new_id()),
            workspace_id: Set(endpoint.workspace_id),
            endpoint_id: Set(endpoint.id),
            event_id: Set(event.id),
            event_sequence: Set(event.sequence),
            event_type: Set(event.event_type),
            attempt: Set(i32::try_from(earlier + 1).unwrap_or(i32::MAX)),
            attempted_at: Set(now),
            status_code: Set(attempt.status_code),
            duration_ms: Set(attempt.duration_ms),
            error: Set(attempt.error),
            succeeded: Set(succeeded),
            redelivery: Set(redelivery),
        }
        .insert(&txn)
        .await?;
        let mut update = webhook_endpoint::Entity::update_many()
            .filter(W::Id.eq(endpoint.id))
            .filter(W::LeaseOwner.eq(self.instance));
        if redelivery {
            // Asked for once, by a person: its failure is shown, not retried.
            update = update.col_expr(W::RedeliverEventId, Expr::value(Option::<Uuid>::None));
        } else if succeeded {
            update = update
                .col_expr(W::Cursor, Expr::value(event.sequence))
                .col_expr(W::FailingSince, Expr::value(Option::<DateTime<Utc>>::None))
                .col_expr(W::NextAttemptAt, Expr::value(Option::<DateTime<Utc>>::None));
        } else {
            let since = endpoint.failing_since.unwrap_or(now);
            let failures = u32::try_from(earlier + 1).unwrap_or(u32::MAX);
            let wait = backoff(
                self.settings.base_backoff,
                self.settings.max_backoff,
                failures,
            );
            let next = now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
            update = update
                .col_expr(W::FailingSince, Expr::value(since))
                .col_expr(W::NextAttemptAt, Expr::value(next));
            if now - since > self.settings.max_retry_age {
                let reason = format!(
                    "deliveries failed for {}: last error: {}",
                    describe(self.settings.max_retry_age),
                    error.unwrap_or_default()
                );
                tracing::warn!(endpoint = %endpoint.id, %reason, "disabled a webhook endpoint");
                update = update
                    .col_expr(W::Status, Expr::value(WebhookStatus::Disabled))
                    .col_expr(W::DisabledReason, Expr::value(reason));
            }
        }
        update.exec(&txn).await?;
        db::commit(txn).await
    }
}

/// `24 h`, `90 s`: a retry age for people.
fn describe(age: chrono::Duration) -> String {
    let seconds = age.num_seconds();
    if seconds >= 3600 && seconds % 3600 == 0 {
        format!("{} h", seconds / 3600)
    } else {
        format!("{seconds} s")
    }
}

/// An HTTP error and its causes ("error sending request: connection
/// refused"), which is what tells a partner what went wrong.
fn with_causes(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timed out".to_owned()
    } else {
        error.to_string()
    };
    let mut cause = std::error::Error::source(error);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_read_back_from_their_text() {
        let secret = SigningSecret::generate();
        let text = secret.reveal();
        assert!(text.starts_with("whsec_"));
        let parsed = SigningSecret::parse(&text).unwrap();
        assert_eq!(parsed.sign("m", 1, b"{}"), secret.sign("m", 1, b"{}"));
        assert!(SigningSecret::parse("nope").is_none());
        assert_eq!(format!("{secret:?}"), "SigningSecret(..)");
    }

    #[test]
    fn ages_read_as_hours_or_seconds() {
        assert_eq!(describe(chrono::Duration::hours(24)), "24 h");
        assert_eq!(describe(chrono::Duration::seconds(1)), "1 s");
    }
}
