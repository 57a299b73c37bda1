//! One change of an account's or a stakeholder's lifecycle, with its cause.

use sea_orm::entity::prelude::*;

use crate::vocab::Lifecycle;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "lifecycle_changes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    /// Exactly one of `account_id` and `stakeholder_id` is set.
    pub account_id: Option<Uuid>,
    pub stakeholder_id: Option<Uuid>,
    pub from_lifecycle: Option<Lifecycle>,
    pub to_lifecycle: Lifecycle,
    pub occurred_at: DateTimeUtc,
    /// Why, in words: "score 52 reached the MQL threshold 50", "accepted by sales".
    pub cause: String,
    pub actor: Option<String>,
    pub touchpoint_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
