//! Connectors, their sync runs, and the map from a vendor's organisation ids
//! to accounts.
//!
//! At most one run per connector is QUEUED or RUNNING: a partial unique index
//! enforces it, so it also holds across server instances sharing PostgreSQL.
//! A RUNNING run holds a lease (`lease_expires_at`) that each batch renews; a
//! run whose lease lapsed was abandoned by a stopped instance and may be
//! closed by anyone.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Connectors {
    Table,
    Id,
    WorkspaceId,
    Kind,
    Name,
    Config,
    /// AES-256-GCM ciphertext of the secrets' JSON, base64.
    Secrets,
    SecretNames,
    ScheduleSeconds,
    Enabled,
    Cursor,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SyncRuns {
    Table,
    Id,
    WorkspaceId,
    ConnectorId,
    Status,
    Trigger,
    Fetched,
    Created,
    Updated,
    Unchanged,
    Failed,
    Batches,
    ErrorCode,
    Error,
    QueuedAt,
    StartedAt,
    FinishedAt,
    LeaseExpiresAt,
}

#[derive(DeriveIden)]
enum AccountRefs {
    Table,
    WorkspaceId,
    Source,
    ExternalId,
    AccountId,
}

#[derive(DeriveIden)]
enum Workspaces {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Connectors::Table)
                .col(pk_uuid(Connectors::Id))
                .col(uuid(Connectors::WorkspaceId))
                .col(string_len(Connectors::Kind, 32))
                .col(string(Connectors::Name))
                .col(json_binary(Connectors::Config))
                .col(text(Connectors::Secrets))
                .col(json_binary(Connectors::SecretNames))
                .col(integer_null(Connectors::ScheduleSeconds))
                .col(boolean(Connectors::Enabled))
                .col(json_binary_null(Connectors::Cursor))
                .col(timestamp_with_time_zone(Connectors::CreatedAt))
                .col(timestamp_with_time_zone(Connectors::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Connectors::Table, Connectors::WorkspaceId)
                        .to(Workspaces::Table, Workspaces::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_connectors_workspace")
                .table(Connectors::Table)
                .col(Connectors::WorkspaceId)
                .col(Connectors::Id)
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(SyncRuns::Table)
                .col(pk_uuid(SyncRuns::Id))
                .col(uuid(SyncRuns::WorkspaceId))
                .col(uuid(SyncRuns::ConnectorId))
                .col(string_len(SyncRuns::Status, 16))
                .col(string_len(SyncRuns::Trigger, 16))
                .col(integer(SyncRuns::Fetched))
                .col(integer(SyncRuns::Created))
                .col(integer(SyncRuns::Updated))
                .col(integer(SyncRuns::Unchanged))
                .col(integer(SyncRuns::Failed))
                .col(integer(SyncRuns::Batches))
                .col(string_len_null(SyncRuns::ErrorCode, 40))
                .col(text_null(SyncRuns::Error))
                .col(timestamp_with_time_zone(SyncRuns::QueuedAt))
                .col(timestamp_with_time_zone_null(SyncRuns::StartedAt))
                .col(timestamp_with_time_zone_null(SyncRuns::FinishedAt))
                .col(timestamp_with_time_zone_null(SyncRuns::LeaseExpiresAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(SyncRuns::Table, SyncRuns::ConnectorId)
                        .to(Connectors::Table, Connectors::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_sync_runs_connector")
                .table(SyncRuns::Table)
                .col(SyncRuns::ConnectorId)
                .col(SyncRuns::Id)
                .take(),
        )
        .await?;
        // The same partial-index syntax on SQLite and PostgreSQL.
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX idx_sync_runs_one_active ON sync_runs (connector_id) \
                 WHERE status IN ('QUEUED', 'RUNNING')",
            )
            .await?;
        m.create_table(
            Table::create()
                .table(AccountRefs::Table)
                .col(uuid(AccountRefs::WorkspaceId))
                .col(string_len(AccountRefs::Source, 32))
                .col(string(AccountRefs::ExternalId))
                .col(uuid(AccountRefs::AccountId))
                .primary_key(
                    Index::create()
                        .col(AccountRefs::WorkspaceId)
                        .col(AccountRefs::Source)
                        .col(AccountRefs::ExternalId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(AccountRefs::Table, AccountRefs::AccountId)
                        .to(Accounts::Table, Accounts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(AccountRefs::Table).take())
            .await?;
        m.drop_table(Table::drop().table(SyncRuns::Table).take())
            .await?;
        m.drop_table(Table::drop().table(Connectors::Table).take())
            .await
    }
}
