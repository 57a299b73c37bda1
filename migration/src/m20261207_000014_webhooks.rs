//! Outbound webhooks for partners: endpoints (a URL, the event types it
//! wants, its sealed signing secrets, how far it has been delivered, and the
//! lease that keeps one delivery in flight per endpoint across instances) and
//! every delivery attempt, kept for the endpoint's history.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    WorkspaceId,
    Url,
    Description,
    EventTypes,
    /// SecretBox ciphertext of the signing secret, base64.
    Secret,
    PreviousSecret,
    PreviousSecretExpiresAt,
    Cursor,
    Status,
    DisabledReason,
    LeaseOwner,
    LeaseExpiresAt,
    NextAttemptAt,
    FailingSince,
    RedeliverEventId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    WorkspaceId,
    EndpointId,
    EventId,
    EventSequence,
    EventType,
    Attempt,
    AttemptedAt,
    StatusCode,
    DurationMs,
    Error,
    Succeeded,
    Redelivery,
}

#[derive(DeriveIden)]
enum Workspaces {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(WebhookEndpoints::Table)
                .col(pk_uuid(WebhookEndpoints::Id))
                .col(uuid(WebhookEndpoints::WorkspaceId))
                .col(text(WebhookEndpoints::Url))
                .col(string(WebhookEndpoints::Description))
                .col(json_binary(WebhookEndpoints::EventTypes))
                .col(text(WebhookEndpoints::Secret))
                .col(text_null(WebhookEndpoints::PreviousSecret))
                .col(timestamp_with_time_zone_null(
                    WebhookEndpoints::PreviousSecretExpiresAt,
                ))
                .col(big_integer(WebhookEndpoints::Cursor))
                .col(string_len(WebhookEndpoints::Status, 16))
                .col(text_null(WebhookEndpoints::DisabledReason))
                .col(uuid_null(WebhookEndpoints::LeaseOwner))
                .col(timestamp_with_time_zone_null(
                    WebhookEndpoints::LeaseExpiresAt,
                ))
                .col(timestamp_with_time_zone_null(
                    WebhookEndpoints::NextAttemptAt,
                ))
                .col(timestamp_with_time_zone_null(
                    WebhookEndpoints::FailingSince,
                ))
                .col(uuid_null(WebhookEndpoints::RedeliverEventId))
                .col(timestamp_with_time_zone(WebhookEndpoints::CreatedAt))
                .col(timestamp_with_time_zone(WebhookEndpoints::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(WebhookEndpoints::Table, WebhookEndpoints::WorkspaceId)
                        .to(Workspaces::Table, Workspaces::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        // The API's listing, oldest first.
        m.create_index(
            Index::create()
                .name("idx_webhook_endpoints_workspace")
                .table(WebhookEndpoints::Table)
                .col(WebhookEndpoints::WorkspaceId)
                .col(WebhookEndpoints::CreatedAt)
                .col(WebhookEndpoints::Id)
                .take(),
        )
        .await?;
        // The worker's look for endpoints that are due.
        m.create_index(
            Index::create()
                .name("idx_webhook_endpoints_due")
                .table(WebhookEndpoints::Table)
                .col(WebhookEndpoints::Status)
                .col(WebhookEndpoints::NextAttemptAt)
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(WebhookDeliveries::Table)
                .col(pk_uuid(WebhookDeliveries::Id))
                .col(uuid(WebhookDeliveries::WorkspaceId))
                .col(uuid(WebhookDeliveries::EndpointId))
                .col(uuid(WebhookDeliveries::EventId))
                .col(big_integer(WebhookDeliveries::EventSequence))
                .col(string_len(WebhookDeliveries::EventType, 32))
                .col(integer(WebhookDeliveries::Attempt))
                .col(timestamp_with_time_zone(WebhookDeliveries::AttemptedAt))
                .col(integer_null(WebhookDeliveries::StatusCode))
                .col(big_integer(WebhookDeliveries::DurationMs))
                .col(text_null(WebhookDeliveries::Error))
                .col(boolean(WebhookDeliveries::Succeeded))
                .col(boolean(WebhookDeliveries::Redelivery))
                .foreign_key(
                    ForeignKey::create()
                        .from(WebhookDeliveries::Table, WebhookDeliveries::EndpointId)
                        .to(WebhookEndpoints::Table, WebhookEndpoints::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        // An endpoint's attempts, newest first.
        m.create_index(
            Index::create()
                .name("idx_webhook_deliveries_endpoint")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::EndpointId)
                .col(WebhookDeliveries::AttemptedAt)
                .col(WebhookDeliveries::Id)
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(WebhookDeliveries::Table).take())
            .await?;
        m.drop_table(Table::drop().table(WebhookEndpoints::Table).take())
            .await
    }
}
