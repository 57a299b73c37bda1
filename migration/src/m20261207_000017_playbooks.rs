//! Stage playbooks and the index that next steps and sales briefs read
//! touchpoints of one kind on one account through.
//!
//! - `stages.playbook`: the stage's ordered next steps (a JSON array of
//!   `{text, owner_team, done_when}`), empty for every existing stage.
//! - `idx_touchpoints_ws_account_kind_time`: an account's newest NPS answer,
//!   its support tickets' status changes and a playbook step's done-when kinds
//!   are each one range of it, never the account's whole history.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Stages {
    Table,
    Playbook,
}

#[derive(DeriveIden)]
enum Touchpoints {
    Table,
    WorkspaceId,
    AccountId,
    Kind,
    OccurredAt,
}

const INDEX: &str = "idx_touchpoints_ws_account_kind_time";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Stages::Table)
                .add_column(
                    ColumnDef::new(Stages::Playbook)
                        .json_binary()
                        .not_null()
                        .default("[]"),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name(INDEX)
                .table(Touchpoints::Table)
                .col(Touchpoints::WorkspaceId)
                .col(Touchpoints::AccountId)
                .col(Touchpoints::Kind)
                .col(Touchpoints::OccurredAt)
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name(INDEX)
                .table(Touchpoints::Table)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Stages::Table)
                .drop_column(Stages::Playbook)
                .take(),
        )
        .await
    }
}
