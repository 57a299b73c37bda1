//! A connector's id for an organisation (a Zendesk organization, say), mapped
//! to the account it is. Per connector: two Zendesk subdomains may both have
//! an organization 42.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "connector_account_refs")]
pub struct Model {
    pub workspace_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub connector_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub external_id: String,
    pub account_id: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
