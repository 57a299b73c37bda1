//! A journey model: an ordered set of stages an account moves through.

use sea_orm::entity::prelude::*;

use crate::vocab::JourneyTemplate;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "journey_models")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub name: String,
    pub template: JourneyTemplate,
    /// A circular model loops back after its last stage (McKinsey's loyalty loop).
    pub circular: bool,
    /// The stage key a circular model loops back to.
    pub loop_to_stage_key: Option<String>,
    pub is_default: bool,
    pub created_at: DateTimeUtc,
    /// Every account's path is being rebuilt from its touchpoints (the model
    /// is new to a workspace with history, or its entry rules changed).
    pub backfill_pending: bool,
    /// The last account rebuilt, in id order; none before the first.
    pub backfill_after: Option<Uuid>,
    pub backfill_processed: i64,
    pub backfill_total: i64,
    /// Until when an instance holds the rebuild; past, any instance takes it.
    pub backfill_lease_until: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
