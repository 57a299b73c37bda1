//! The merge ledger (what each merge moved, so it can be undone exactly),
//! consent per stakeholder and channel with its history, and erasure marks.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Merges {
    Table,
    Id,
    WorkspaceId,
    SurvivorId,
    Snapshot,
    Actor,
    CreatedAt,
    UndoneAt,
}

#[derive(DeriveIden)]
enum Consents {
    Table,
    Id,
    WorkspaceId,
    StakeholderId,
    Channel,
    Granted,
    Source,
    RecordedAt,
}

#[derive(DeriveIden)]
enum Workspaces {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Stakeholders {
    Table,
    Id,
    ErasedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Stakeholders::Table)
                .add_column(timestamp_with_time_zone_null(Stakeholders::ErasedAt))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Merges::Table)
                .col(pk_uuid(Merges::Id))
                .col(uuid(Merges::WorkspaceId))
                .col(uuid(Merges::SurvivorId))
                .col(json_binary(Merges::Snapshot))
                .col(string_null(Merges::Actor))
                .col(timestamp_with_time_zone(Merges::CreatedAt))
                .col(timestamp_with_time_zone_null(Merges::UndoneAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Merges::Table, Merges::WorkspaceId)
                        .to(Workspaces::Table, Workspaces::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_merges_survivor")
                .table(Merges::Table)
                .col(Merges::SurvivorId)
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Consents::Table)
                .col(pk_uuid(Consents::Id))
                .col(uuid(Consents::WorkspaceId))
                .col(uuid(Consents::StakeholderId))
                .col(string_len(Consents::Channel, 16))
                .col(boolean(Consents::Granted))
                .col(string(Consents::Source))
                .col(timestamp_with_time_zone(Consents::RecordedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Consents::Table, Consents::WorkspaceId)
                        .to(Workspaces::Table, Workspaces::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Consents::Table, Consents::StakeholderId)
                        .to(Stakeholders::Table, Stakeholders::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_consents_stakeholder_channel")
                .table(Consents::Table)
                .col(Consents::StakeholderId)
                .col(Consents::Channel)
                .col(Consents::RecordedAt)
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Consents::Table).take())
            .await?;
        m.drop_table(Table::drop().table(Merges::Table).take())
            .await?;
        m.alter_table(
            Table::alter()
                .table(Stakeholders::Table)
                .drop_column(Stakeholders::ErasedAt)
                .take(),
        )
        .await
    }
}
