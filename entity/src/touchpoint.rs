//! One interaction between the company and an account's people.

use sea_orm::entity::prelude::*;

use crate::vocab::{Channel, Emotion, OwnerTeam};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "touchpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub account_id: Option<Uuid>,
    pub stakeholder_id: Option<Uuid>,
    /// The connector's kind or `api`; with `external_id`, unique in a workspace.
    pub source: String,
    pub external_id: String,
    pub channel: Channel,
    pub kind: String,
    pub occurred_at: DateTimeUtc,
    pub title: Option<String>,
    pub body: Option<String>,
    pub url: Option<String>,
    pub owner_team: Option<OwnerTeam>,
    pub actor: Option<String>,
    pub emotion: Option<Emotion>,
    pub sentiment: Option<f64>,
    pub score: Option<f64>,
    pub properties: Option<Json>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
