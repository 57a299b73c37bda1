//! The decision-making-unit roles a workspace's deals need, one row per
//! role; a workspace with no rows needs none. Existing workspaces get the
//! default set, as new ones do when they are created.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum NeededDmuRoles {
    Table,
    WorkspaceId,
    Role,
}

#[derive(DeriveIden)]
enum Workspaces {
    Table,
    Id,
}

/// The roles a deal needs unless the workspace says otherwise.
const DEFAULT_ROLES: [&str; 5] = ["DECISION_MAKER", "BUYER", "INFLUENCER", "USER", "CHAMPION"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(NeededDmuRoles::Table)
                .col(uuid(NeededDmuRoles::WorkspaceId))
                .col(string_len(NeededDmuRoles::Role, 16))
                .primary_key(
                    Index::create()
                        .col(NeededDmuRoles::WorkspaceId)
                        .col(NeededDmuRoles::Role),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(NeededDmuRoles::Table, NeededDmuRoles::WorkspaceId)
                        .to(Workspaces::Table, Workspaces::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        for role in DEFAULT_ROLES {
            let defaults = Query::insert()
                .into_table(NeededDmuRoles::Table)
                .columns([NeededDmuRoles::WorkspaceId, NeededDmuRoles::Role])
                .select_from(
                    Query::select()
                        .column(Workspaces::Id)
                        .expr(Expr::val(role))
                        .from(Workspaces::Table)
                        .take(),
                )
                .map_err(|e| DbErr::Migration(e.to_string()))?
                .take();
            m.exec_stmt(defaults).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(NeededDmuRoles::Table).take())
            .await
    }
}
