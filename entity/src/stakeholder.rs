//! A person, known or still anonymous.

use sea_orm::entity::prelude::*;

use crate::vocab::Lifecycle;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "stakeholders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub name: Option<String>,
    /// The primary email, normalised; also held as an identity.
    pub email: Option<String>,
    pub title: Option<String>,
    pub lifecycle: Lifecycle,
    pub score: f64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Set when the person's data was erased; the row stays, anonymous, so
    /// counts and funnels do not change.
    pub erased_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
