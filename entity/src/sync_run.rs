//! One sync of one connector, from queued to finished, with its counts.

use sea_orm::entity::prelude::*;

use crate::vocab::{SyncStatus, SyncTrigger};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "sync_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub connector_id: Uuid,
    pub status: SyncStatus,
    pub trigger: SyncTrigger,
    /// Touchpoints the plugin produced.
    pub fetched: i32,
    pub created: i32,
    pub updated: i32,
    pub unchanged: i32,
    /// Touchpoints refused one by one (bad data); the rest of the batch stands.
    pub failed: i32,
    /// Batches saved, each with its cursor.
    pub batches: i32,
    pub error_code: Option<String>,
    pub error: Option<String>,
    pub queued_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    /// While RUNNING: when the run counts as abandoned unless renewed.
    pub lease_expires_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
