//! Stage progression: each account's current position per journey model, and
//! every move it made.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StagePositions {
    Table,
    Id,
    WorkspaceId,
    AccountId,
    ModelId,
    StageId,
    EnteredAt,
}

#[derive(DeriveIden)]
enum StageTransitions {
    Table,
    Id,
    WorkspaceId,
    AccountId,
    ModelId,
    FromStageId,
    ToStageId,
    OccurredAt,
    Cause,
    TouchpointId,
    Actor,
    Reason,
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

#[derive(DeriveIden)]
enum JourneyModels {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Stages {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Touchpoints {
    Table,
    Id,
}

fn cascade<F: IntoIden + 'static, T: IntoIden + 'static, C: IntoIden + 'static>(
    from: F,
    column: C,
    to: T,
    to_column: impl IntoIden + 'static,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from, column)
        .to(to, to_column)
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(StagePositions::Table)
                .col(pk_uuid(StagePositions::Id))
                .col(uuid(StagePositions::WorkspaceId))
                .col(uuid(StagePositions::AccountId))
                .col(uuid(StagePositions::ModelId))
                .col(uuid(StagePositions::StageId))
                .col(timestamp_with_time_zone(StagePositions::EnteredAt))
                .foreign_key(&mut cascade(
                    StagePositions::Table,
                    StagePositions::WorkspaceId,
                    Workspaces::Table,
                    Workspaces::Id,
                ))
                .foreign_key(&mut cascade(
                    StagePositions::Table,
                    StagePositions::AccountId,
                    Accounts::Table,
                    Accounts::Id,
                ))
                .foreign_key(&mut cascade(
                    StagePositions::Table,
                    StagePositions::ModelId,
                    JourneyModels::Table,
                    JourneyModels::Id,
                ))
                .foreign_key(&mut cascade(
                    StagePositions::Table,
                    StagePositions::StageId,
                    Stages::Table,
                    Stages::Id,
                ))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_stage_positions_account_model")
                .table(StagePositions::Table)
                .col(StagePositions::AccountId)
                .col(StagePositions::ModelId)
                .unique()
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_stage_positions_ws_stage")
                .table(StagePositions::Table)
                .col(StagePositions::WorkspaceId)
                .col(StagePositions::StageId)
                .col(StagePositions::EnteredAt)
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(StageTransitions::Table)
                .col(pk_uuid(StageTransitions::Id))
                .col(uuid(StageTransitions::WorkspaceId))
                .col(uuid(StageTransitions::AccountId))
                .col(uuid(StageTransitions::ModelId))
                .col(uuid_null(StageTransitions::FromStageId))
                .col(uuid(StageTransitions::ToStageId))
                .col(timestamp_with_time_zone(StageTransitions::OccurredAt))
                .col(string_len(StageTransitions::Cause, 16))
                .col(uuid_null(StageTransitions::TouchpointId))
                .col(string_null(StageTransitions::Actor))
                .col(text_null(StageTransitions::Reason))
                .foreign_key(&mut cascade(
                    StageTransitions::Table,
                    StageTransitions::WorkspaceId,
                    Workspaces::Table,
                    Workspaces::Id,
                ))
                .foreign_key(&mut cascade(
                    StageTransitions::Table,
                    StageTransitions::AccountId,
                    Accounts::Table,
                    Accounts::Id,
                ))
                .foreign_key(&mut cascade(
                    StageTransitions::Table,
                    StageTransitions::ModelId,
                    JourneyModels::Table,
                    JourneyModels::Id,
                ))
                .foreign_key(&mut cascade(
                    StageTransitions::Table,
                    StageTransitions::ToStageId,
                    Stages::Table,
                    Stages::Id,
                ))
                .foreign_key(
                    ForeignKey::create()
                        .from(StageTransitions::Table, StageTransitions::FromStageId)
                        .to(Stages::Table, Stages::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(StageTransitions::Table, StageTransitions::TouchpointId)
                        .to(Touchpoints::Table, Touchpoints::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_stage_transitions_account_model_time")
                .table(StageTransitions::Table)
                .col(StageTransitions::AccountId)
                .col(StageTransitions::ModelId)
                .col(StageTransitions::OccurredAt)
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_stage_transitions_ws_model_time")
                .table(StageTransitions::Table)
                .col(StageTransitions::WorkspaceId)
                .col(StageTransitions::ModelId)
                .col(StageTransitions::OccurredAt)
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(StageTransitions::Table).take())
            .await?;
        m.drop_table(Table::drop().table(StagePositions::Table).take())
            .await?;
        Ok(())
    }
}
