//! Removed stages are archived, not deleted, so the transitions through them
//! stay in every account's history.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Stages {
    Table,
    ArchivedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Stages::Table)
                .add_column(timestamp_with_time_zone_null(Stages::ArchivedAt))
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Stages::Table)
                .drop_column(Stages::ArchivedAt)
                .take(),
        )
        .await
    }
}
