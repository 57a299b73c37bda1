//! What every request handler shares, in its own module so that handlers
//! reach it without importing the server that builds it.

use std::sync::Arc;

use journeys_api::auth::Verifier;
use journeys_api::graphql::JourneysSchema;
use journeys_api::graphql::limits::{QueryLimits, Shapes};
use journeys_api::graphql::root_nulls::RootFields;
use journeys_core::connectors::sync::SyncRuntime;
use journeys_core::journeys::backfill::Backfills;
use journeys_core::live::EventFeed;
use journeys_core::outbound::Outbound;
use journeys_core::revocations::TokenCache;
use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;

use crate::rate_limit::RateLimiter;
use crate::ws::SubscriptionSettings;

pub struct AppState {
    pub schema: JourneysSchema,
    pub db: DatabaseConnection,
    pub verifier: Arc<Verifier>,
    pub sync: Arc<SyncRuntime>,
    /// Delivers the event log to partners' webhook endpoints.
    pub outbound: Arc<Outbound>,
    /// Rebuilds journeys in the background; woken by the edits that ask.
    pub backfills: Arc<Backfills>,
    /// Which root fields may be null, to complete a failed one's `null`.
    pub root_fields: Arc<RootFields>,
    /// What a query may cost, and the schema's types to cost it with.
    pub limits: QueryLimits,
    pub shapes: Arc<Shapes>,
    /// `None` when the rate limit is off.
    pub rate_limiter: Option<Arc<RateLimiter>>,
    /// Tokens' workspaces, kept for a few seconds.
    pub tokens: Arc<TokenCache>,
    /// How far each followed workspace's event log reached.
    pub feed: Arc<EventFeed>,
    pub subscriptions: SubscriptionSettings,
    /// Cancelled when the server begins to stop: open WebSockets close at
    /// once (1001) rather than hold the graceful stop for its whole timeout.
    pub closing: CancellationToken,
}
