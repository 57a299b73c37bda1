//! A customer or prospect organisation.

use sea_orm::entity::prelude::*;

use crate::vocab::Lifecycle;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "accounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub name: String,
    pub industry: Option<String>,
    pub employees: Option<i32>,
    pub lifecycle: Lifecycle,
    /// The employee who owns the account, free text (an email or a name).
    pub owner: Option<String>,
    pub score: f64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
