//! A `(kind, value)` pair that points to one stakeholder, unique in a workspace.

use sea_orm::entity::prelude::*;

use crate::vocab::IdentityKind;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "identities")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub stakeholder_id: Uuid,
    pub kind: IdentityKind,
    /// Normalised for its kind (see the server's `identities` module).
    pub value: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
