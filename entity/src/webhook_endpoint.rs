//! A partner's webhook endpoint: where the workspace's events are POSTed,
//! which types it wants, its sealed signing secrets, how far it has been
//! delivered, and the lease that keeps one delivery in flight at a time.

use sea_orm::entity::prelude::*;

use crate::vocab::WebhookStatus;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub url: String,
    pub description: String,
    /// A JSON array of `EventType` values; empty for every type.
    pub event_types: Json,
    /// SecretBox ciphertext of the signing secret (`whsec_…`), bound to the
    /// endpoint's id.
    pub secret: String,
    /// The secret a rotation replaced, which keeps signing beside the new
    /// one until `previous_secret_expires_at`.
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<DateTimeUtc>,
    /// The sequence of the last event delivered with a 2xx (or skipped as
    /// not wanted); the next delivery is of the first wanted one after it.
    pub cursor: i64,
    pub status: WebhookStatus,
    pub disabled_reason: Option<String>,
    /// The instance delivering now, until `lease_expires_at`.
    pub lease_owner: Option<Uuid>,
    pub lease_expires_at: Option<DateTimeUtc>,
    /// Not before this time (a backoff after a failure); none for now.
    pub next_attempt_at: Option<DateTimeUtc>,
    /// When the current run of failures began; none while deliveries succeed.
    pub failing_since: Option<DateTimeUtc>,
    /// An event queued by `redeliverWebhook`, sent once at the next claim.
    pub redeliver_event_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
