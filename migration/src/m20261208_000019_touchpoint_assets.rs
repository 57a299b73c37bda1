//! Assets on touchpoints: the whitepaper, deck or demo a touchpoint shared or
//! viewed, kept on the touchpoint as the caller named it.
//!
//! - `touchpoints.asset_key` (stable across renames), `asset_title`, `asset_url`.
//! - `idx_touchpoints_ws_asset_time`: a window's asset touchpoints in time
//!   order, for sales engagement and content effectiveness.
//! - `idx_touchpoints_ws_asset_key_time`: one asset's touchpoints, for the
//!   `assetKey` filter.
//!
//! Both indexes are partial (`asset_key IS NOT NULL`): a touchpoint without an
//! asset, nearly all of them, costs neither an index entry.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::string_null;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Touchpoints {
    Table,
    AssetKey,
    AssetTitle,
    AssetUrl,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for column in [
            Touchpoints::AssetKey,
            Touchpoints::AssetTitle,
            Touchpoints::AssetUrl,
        ] {
            m.alter_table(
                Table::alter()
                    .table(Touchpoints::Table)
                    .add_column(string_null(column))
                    .take(),
            )
            .await?;
        }
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX idx_touchpoints_ws_asset_time \
                 ON touchpoints (workspace_id, occurred_at) WHERE asset_key IS NOT NULL; \
                 CREATE INDEX idx_touchpoints_ws_asset_key_time \
                 ON touchpoints (workspace_id, asset_key, occurred_at) WHERE asset_key IS NOT NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared(
                "DROP INDEX idx_touchpoints_ws_asset_key_time; \
                 DROP INDEX idx_touchpoints_ws_asset_time",
            )
            .await?;
        for column in [
            Touchpoints::AssetUrl,
            Touchpoints::AssetTitle,
            Touchpoints::AssetKey,
        ] {
            m.alter_table(
                Table::alter()
                    .table(Touchpoints::Table)
                    .drop_column(column)
                    .take(),
            )
            .await?;
        }
        Ok(())
    }
}
