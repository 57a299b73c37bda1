//! Lifecycle rules: a touchpoint of a kind (with an optional condition on its
//! score, and on the lifecycle it finds) moves its person and account forward
//! to a lifecycle value, after qualification, as sales and service report
//! deals won and lost, answers and cancellations.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LifecycleRules {
    Table,
    Id,
    WorkspaceId,
    Name,
    Kind,
    MinScore,
    MaxScore,
    /// A JSON array of lifecycle values the rule applies from; any when null.
    FromLifecycles,
    ToLifecycle,
    CreatedAt,
    UpdatedAt,
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
                .table(LifecycleRules::Table)
                .col(pk_uuid(LifecycleRules::Id))
                .col(uuid(LifecycleRules::WorkspaceId))
                .col(string(LifecycleRules::Name))
                .col(string(LifecycleRules::Kind))
                .col(double_null(LifecycleRules::MinScore))
                .col(double_null(LifecycleRules::MaxScore))
                .col(json_binary_null(LifecycleRules::FromLifecycles))
                .col(string_len(LifecycleRules::ToLifecycle, 16))
                .col(timestamp_with_time_zone(LifecycleRules::CreatedAt))
                .col(timestamp_with_time_zone(LifecycleRules::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(LifecycleRules::Table, LifecycleRules::WorkspaceId)
                        .to(Workspaces::Table, Workspaces::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_lifecycle_rules_workspace_name")
                .table(LifecycleRules::Table)
                .col(LifecycleRules::WorkspaceId)
                .col(LifecycleRules::Name)
                .unique()
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(LifecycleRules::Table).take())
            .await
    }
}
