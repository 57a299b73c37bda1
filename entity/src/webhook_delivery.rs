//! One attempt to deliver one event to one webhook endpoint, and how it went.

use sea_orm::entity::prelude::*;

use crate::vocab::EventType;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub endpoint_id: Uuid,
    /// The event sent; also the `webhook-id` header, the same on every try.
    pub event_id: Uuid,
    pub event_sequence: i64,
    pub event_type: EventType,
    /// 1 for the event's first try at this endpoint, one more for each after.
    pub attempt: i32,
    pub attempted_at: DateTimeUtc,
    /// The response's status; none when no response came.
    pub status_code: Option<i32>,
    pub duration_ms: i64,
    /// What went wrong, without the secret; none when it succeeded.
    pub error: Option<String>,
    pub succeeded: bool,
    /// Sent by `redeliverWebhook` rather than by the log's order.
    pub redelivery: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
