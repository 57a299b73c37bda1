//! One stage of a journey model.

use sea_orm::entity::prelude::*;

use crate::vocab::OwnerTeam;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "stages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub model_id: Uuid,
    pub parent_stage_id: Option<Uuid>,
    /// Unique within its model; stable across renames.
    pub key: String,
    pub name: String,
    pub position: i32,
    pub owner_team: OwnerTeam,
    pub target_duration_secs: Option<i64>,
    /// A continuous phase (Babcock-Jenkins' Advocate) runs beside the others.
    pub continuous: bool,
    /// Touchpoint kinds that move an account into this stage (JSON array of strings).
    pub entry_kinds: Json,
    /// Touchpoint channels that move an account into this stage (JSON array of strings).
    pub entry_channels: Json,
    /// The stage's ordered next steps (JSON array of `{text, owner_team,
    /// done_when}`); empty when it has no playbook.
    pub playbook: Json,
    /// Set when the stage was removed; its transitions stay in history.
    pub archived_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
