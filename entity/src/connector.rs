//! A configured connector: which plugin kind, its settings, its encrypted
//! secrets, its schedule, and the cursor the next sync starts from.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "connectors")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    /// The plugin's kind name (`twitter`, `zoom`, `zendesk`).
    pub kind: String,
    pub name: String,
    /// The plugin's config, as validated against its schema.
    pub config: Json,
    /// AES-256-GCM ciphertext of the secrets' JSON object (base64 of nonce and
    /// ciphertext), bound to this connector's id.
    pub secrets: String,
    /// The names of the secrets that are set, so the API can say which are
    /// without decrypting or showing them.
    pub secret_names: Json,
    /// Seconds between scheduled syncs; none means on demand only.
    pub schedule_seconds: Option<i32>,
    pub enabled: bool,
    /// Where the next pull starts; saved with each batch it covers.
    pub cursor: Option<Json>,
    /// When its paced requests were sent (the SDK's `PacingLog`), saved with
    /// each batch so the next run, on any instance, counts them too.
    pub pacing: Option<Json>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
