//! Revoked tokens: a token whose `jti` is listed here is refused, in the
//! workspace the row names or, with no workspace, in every workspace (`jti`s
//! are unique per issuer, and `journeys token revoke` may not know the
//! workspace). The request path reads the list in the same statement that
//! finds the token's workspace, by the unique index below, whose first
//! column is the `jti`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RevokedTokens {
    Table,
    Id,
    WorkspaceId,
    Jti,
    RevokedAt,
    RevokedBy,
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
                .table(RevokedTokens::Table)
                .col(pk_uuid(RevokedTokens::Id))
                .col(uuid_null(RevokedTokens::WorkspaceId))
                .col(string_len(RevokedTokens::Jti, 255))
                .col(timestamp_with_time_zone(RevokedTokens::RevokedAt))
                .col(string_len(RevokedTokens::RevokedBy, 255))
                .foreign_key(
                    ForeignKey::create()
                        .from(RevokedTokens::Table, RevokedTokens::WorkspaceId)
                        .to(Workspaces::Table, Workspaces::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        // One revocation per (jti, workspace), and one per jti for every
        // workspace: partial indexes, in the syntax both backends share.
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_revoked_tokens_jti_workspace \
                 ON revoked_tokens (jti, workspace_id) WHERE workspace_id IS NOT NULL; \
                 CREATE UNIQUE INDEX ux_revoked_tokens_jti_everywhere \
                 ON revoked_tokens (jti) WHERE workspace_id IS NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(RevokedTokens::Table).take())
            .await
    }
}
