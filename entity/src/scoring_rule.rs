//! Points a touchpoint earns by kind and/or channel, with an optional cap and
//! half-life.

use sea_orm::entity::prelude::*;

use crate::vocab::Channel;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "scoring_rules")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    /// Unique within the workspace.
    pub name: String,
    pub kind: Option<String>,
    pub channel: Option<Channel>,
    pub points: f64,
    /// Count at most this many (the newest) matching touchpoints.
    pub max_count: Option<i32>,
    pub half_life_days: Option<f64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
