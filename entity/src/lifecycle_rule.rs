//! A touchpoint kind, with optional conditions, that moves its person and
//! account forward to a lifecycle value.

use sea_orm::entity::prelude::*;

use crate::vocab::Lifecycle;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "lifecycle_rules")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    /// Unique within the workspace.
    pub name: String,
    pub kind: String,
    /// The touchpoint's score (an NPS answer's 0 to 10) must be at least this.
    pub min_score: Option<f64>,
    pub max_score: Option<f64>,
    /// The lifecycle values the rule applies from, as stored strings; any
    /// when null.
    pub from_lifecycles: Option<Json>,
    pub to_lifecycle: Lifecycle,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
