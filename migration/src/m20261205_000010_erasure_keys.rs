//! Each workspace gets a secret key under which an erased person's external
//! ids are digested (an HMAC), so a database dump cannot be searched by
//! hashing guesses such as `attended:81:email:ada@example.com`.
//!
//! The column is nullable: a migration cannot draw random keys portably, so a
//! workspace that predates it gets its key from the server the first time it
//! records touchpoints or erases someone, and its touchpoints erased under
//! bare SHA-256 digests are re-digested under the key then.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Workspaces {
    Table,
    ErasureKey,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Workspaces::Table)
                    .add_column(ColumnDef::new(Workspaces::ErasureKey).binary().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Workspaces::Table)
                    .drop_column(Workspaces::ErasureKey)
                    .to_owned(),
            )
            .await
    }
}
