//! Scoring rules, each stakeholder's contributions per rule, the workspace's
//! qualification threshold, and the record of lifecycle changes.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ScoringRules {
    Table,
    Id,
    WorkspaceId,
    Name,
    Kind,
    Channel,
    Points,
    MaxCount,
    HalfLifeDays,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ScoreContributions {
    Table,
    Id,
    WorkspaceId,
    StakeholderId,
    RuleId,
    Count,
    Points,
    ReferenceAt,
}

#[derive(DeriveIden)]
enum LifecycleChanges {
    Table,
    Id,
    WorkspaceId,
    AccountId,
    StakeholderId,
    FromLifecycle,
    ToLifecycle,
    OccurredAt,
    Cause,
    Actor,
    TouchpointId,
}

#[derive(DeriveIden)]
enum Workspaces {
    Table,
    Id,
    MqlThreshold,
}

#[derive(DeriveIden)]
enum Stakeholders {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Touchpoints {
    Table,
    Id,
}

fn fk(
    from: impl IntoIden + 'static,
    column: impl IntoIden + 'static,
    to: impl IntoIden + 'static,
    to_column: impl IntoIden + 'static,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from, column)
        .to(to, to_column)
        .on_delete(on_delete)
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, SetNull};
        m.alter_table(
            Table::alter()
                .table(Workspaces::Table)
                .add_column(double(Workspaces::MqlThreshold).default(50.0))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ScoringRules::Table)
                .col(pk_uuid(ScoringRules::Id))
                .col(uuid(ScoringRules::WorkspaceId))
                .col(string(ScoringRules::Name))
                .col(string_len_null(ScoringRules::Kind, 128))
                .col(string_len_null(ScoringRules::Channel, 16))
                .col(double(ScoringRules::Points))
                .col(integer_null(ScoringRules::MaxCount))
                .col(double_null(ScoringRules::HalfLifeDays))
                .col(timestamp_with_time_zone(ScoringRules::CreatedAt))
                .col(timestamp_with_time_zone(ScoringRules::UpdatedAt))
                .foreign_key(&mut fk(
                    ScoringRules::Table,
                    ScoringRules::WorkspaceId,
                    Workspaces::Table,
                    Workspaces::Id,
                    Cascade,
                ))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_scoring_rules_ws_name")
                .table(ScoringRules::Table)
                .col(ScoringRules::WorkspaceId)
                .col(ScoringRules::Name)
                .unique()
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ScoreContributions::Table)
                .col(pk_uuid(ScoreContributions::Id))
                .col(uuid(ScoreContributions::WorkspaceId))
                .col(uuid(ScoreContributions::StakeholderId))
                .col(uuid(ScoreContributions::RuleId))
                .col(integer(ScoreContributions::Count))
                .col(double(ScoreContributions::Points))
                .col(timestamp_with_time_zone(ScoreContributions::ReferenceAt))
                .foreign_key(&mut fk(
                    ScoreContributions::Table,
                    ScoreContributions::WorkspaceId,
                    Workspaces::Table,
                    Workspaces::Id,
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    ScoreContributions::Table,
                    ScoreContributions::StakeholderId,
                    Stakeholders::Table,
                    Stakeholders::Id,
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    ScoreContributions::Table,
                    ScoreContributions::RuleId,
                    ScoringRules::Table,
                    ScoringRules::Id,
                    Cascade,
                ))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_score_contributions_stakeholder_rule")
                .table(ScoreContributions::Table)
                .col(ScoreContributions::StakeholderId)
                .col(ScoreContributions::RuleId)
                .unique()
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(LifecycleChanges::Table)
                .col(pk_uuid(LifecycleChanges::Id))
                .col(uuid(LifecycleChanges::WorkspaceId))
                .col(uuid_null(LifecycleChanges::AccountId))
                .col(uuid_null(LifecycleChanges::StakeholderId))
                .col(string_len_null(LifecycleChanges::FromLifecycle, 16))
                .col(string_len(LifecycleChanges::ToLifecycle, 16))
                .col(timestamp_with_time_zone(LifecycleChanges::OccurredAt))
                .col(text(LifecycleChanges::Cause))
                .col(string_null(LifecycleChanges::Actor))
                .col(uuid_null(LifecycleChanges::TouchpointId))
                .foreign_key(&mut fk(
                    LifecycleChanges::Table,
                    LifecycleChanges::WorkspaceId,
                    Workspaces::Table,
                    Workspaces::Id,
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    LifecycleChanges::Table,
                    LifecycleChanges::AccountId,
                    Accounts::Table,
                    Accounts::Id,
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    LifecycleChanges::Table,
                    LifecycleChanges::StakeholderId,
                    Stakeholders::Table,
                    Stakeholders::Id,
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    LifecycleChanges::Table,
                    LifecycleChanges::TouchpointId,
                    Touchpoints::Table,
                    Touchpoints::Id,
                    SetNull,
                ))
                .take(),
        )
        .await?;
        for (name, column) in [
            ("idx_lifecycle_changes_account", LifecycleChanges::AccountId),
            (
                "idx_lifecycle_changes_stakeholder",
                LifecycleChanges::StakeholderId,
            ),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(LifecycleChanges::Table)
                    .col(column)
                    .col(LifecycleChanges::OccurredAt)
                    .take(),
            )
            .await?;
        }
        m.create_index(
            Index::create()
                .name("idx_lifecycle_changes_ws_to_time")
                .table(LifecycleChanges::Table)
                .col(LifecycleChanges::WorkspaceId)
                .col(LifecycleChanges::ToLifecycle)
                .col(LifecycleChanges::OccurredAt)
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(LifecycleChanges::Table).take())
            .await?;
        m.drop_table(Table::drop().table(ScoreContributions::Table).take())
            .await?;
        m.drop_table(Table::drop().table(ScoringRules::Table).take())
            .await?;
        m.alter_table(
            Table::alter()
                .table(Workspaces::Table)
                .drop_column(Workspaces::MqlThreshold)
                .take(),
        )
        .await
    }
}
