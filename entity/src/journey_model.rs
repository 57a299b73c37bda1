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
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
