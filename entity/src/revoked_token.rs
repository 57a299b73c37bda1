//! A revoked token, by its `jti` claim: refused from the moment the row
//! exists, in its workspace or, without one, in every workspace.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "revoked_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The workspace whose tokens with this `jti` are refused; `None` for
    /// every workspace.
    pub workspace_id: Option<Uuid>,
    pub jti: String,
    pub revoked_at: DateTimeUtc,
    /// Who revoked it: the subject of the admin's token, or `cli`.
    pub revoked_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
