//! A stakeholder's membership of an account, with its decision-making-unit role.

use sea_orm::entity::prelude::*;

use crate::vocab::DmuRole;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "memberships")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub account_id: Uuid,
    pub stakeholder_id: Uuid,
    pub role: Option<DmuRole>,
    /// The stakeholder's main account, used when a touchpoint names only the person.
    pub primary: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
