//! One entry of a workspace's event log: what changed, when it was
//! recorded, and the ids of what it concerns, never personal data.

use sea_orm::entity::prelude::*;

use crate::vocab::EventType;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    /// Increases by one per event within a workspace, in commit order.
    pub sequence: i64,
    pub event_type: EventType,
    pub recorded_at: DateTimeUtc,
    pub account_id: Option<Uuid>,
    pub stakeholder_id: Option<Uuid>,
    pub touchpoint_id: Option<Uuid>,
    pub model_id: Option<Uuid>,
    /// The stage entered (STAGE_CHANGED).
    pub stage_id: Option<Uuid>,
    /// The stage left, if any (STAGE_CHANGED).
    pub from_stage_id: Option<Uuid>,
    pub lifecycle_change_id: Option<Uuid>,
    pub merge_id: Option<Uuid>,
    pub connector_id: Option<Uuid>,
    pub sync_run_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
