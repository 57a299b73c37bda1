//! The event log: every change a dashboard or a partner cares about appends
//! a row in the same transaction as the change, numbered by a per-workspace
//! sequence that increases in commit order (the workspace row's counter is
//! taken last in each transaction, so a later number never commits before
//! an earlier one). Rows name what changed by id only, never personal data;
//! they have no foreign keys but their workspace, so the event of a deletion
//! keeps the deleted id.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
    WorkspaceId,
    Sequence,
    EventType,
    RecordedAt,
    AccountId,
    StakeholderId,
    TouchpointId,
    ModelId,
    StageId,
    FromStageId,
    LifecycleChangeId,
    MergeId,
    ConnectorId,
    SyncRunId,
}

#[derive(DeriveIden)]
enum Workspaces {
    Table,
    Id,
    EventSequence,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Events::Table)
                .col(pk_uuid(Events::Id))
                .col(uuid(Events::WorkspaceId))
                .col(big_integer(Events::Sequence))
                .col(string_len(Events::EventType, 32))
                .col(timestamp_with_time_zone(Events::RecordedAt))
                .col(uuid_null(Events::AccountId))
                .col(uuid_null(Events::StakeholderId))
                .col(uuid_null(Events::TouchpointId))
                .col(uuid_null(Events::ModelId))
                .col(uuid_null(Events::StageId))
                .col(uuid_null(Events::FromStageId))
                .col(uuid_null(Events::LifecycleChangeId))
                .col(uuid_null(Events::MergeId))
                .col(uuid_null(Events::ConnectorId))
                .col(uuid_null(Events::SyncRunId))
                .foreign_key(
                    ForeignKey::create()
                        .from(Events::Table, Events::WorkspaceId)
                        .to(Workspaces::Table, Workspaces::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        // Replay and live reads: a workspace's events after a sequence.
        m.create_index(
            Index::create()
                .name("ux_events_workspace_sequence")
                .table(Events::Table)
                .col(Events::WorkspaceId)
                .col(Events::Sequence)
                .unique()
                .take(),
        )
        .await?;
        // Retention: the oldest events of every workspace.
        m.create_index(
            Index::create()
                .name("idx_events_recorded_at")
                .table(Events::Table)
                .col(Events::RecordedAt)
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Workspaces::Table)
                .add_column(big_integer(Workspaces::EventSequence).default(0))
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Workspaces::Table)
                .drop_column(Workspaces::EventSequence)
                .take(),
        )
        .await?;
        m.drop_table(Table::drop().table(Events::Table).take())
            .await
    }
}
