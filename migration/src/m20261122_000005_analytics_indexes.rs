//! Indexes for the analytics' access paths: touchpoints of one kind in a window
//! (NPS answers), and sales-owned touchpoints of an account (hand-off gap).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Touchpoints {
    Table,
    WorkspaceId,
    AccountId,
    Kind,
    OwnerTeam,
    OccurredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("idx_touchpoints_ws_kind_time")
                .table(Touchpoints::Table)
                .col(Touchpoints::WorkspaceId)
                .col(Touchpoints::Kind)
                .col(Touchpoints::OccurredAt)
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_touchpoints_ws_account_team_time")
                .table(Touchpoints::Table)
                .col(Touchpoints::WorkspaceId)
                .col(Touchpoints::AccountId)
                .col(Touchpoints::OwnerTeam)
                .col(Touchpoints::OccurredAt)
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_touchpoints_ws_account_team_time")
                .table(Touchpoints::Table)
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("idx_touchpoints_ws_kind_time")
                .table(Touchpoints::Table)
                .to_owned(),
        )
        .await
    }
}
