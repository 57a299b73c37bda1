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
    /// The connector's kind, or what an API caller named (`api` by default).
    pub source: String,
    /// The connector that recorded it; none for the API's. A connector's
    /// touchpoints are unique by `(connector_id, external_id)`, the API's by
    /// `(workspace_id, source, external_id)`. It outlives its connector.
    pub connector_id: Option<Uuid>,
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
    /// The asset it shared or viewed (a whitepaper, a deck): its key, stable
    /// across renames, with the title and address it was recorded with.
    pub asset_key: Option<String>,
    pub asset_title: Option<String>,
    pub asset_url: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
