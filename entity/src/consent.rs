//! A stakeholder's consent on one channel, as granted or revoked at a time.
//! The newest row per (stakeholder, channel) is the current state.

use sea_orm::entity::prelude::*;

use crate::vocab::Channel;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "consents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub stakeholder_id: Uuid,
    pub channel: Channel,
    pub granted: bool,
    /// Where the consent was given or taken back: a form, an email reply.
    pub source: String,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
