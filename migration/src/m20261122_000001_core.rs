//! The core tables: workspaces, journey models and stages, accounts and their
//! domains, stakeholders, memberships, identities and touchpoints.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Workspaces {
    Table,
    Id,
    Slug,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum JourneyModels {
    Table,
    Id,
    WorkspaceId,
    Name,
    Template,
    Circular,
    LoopToStageKey,
    IsDefault,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Stages {
    Table,
    Id,
    WorkspaceId,
    ModelId,
    ParentStageId,
    Key,
    Name,
    Position,
    OwnerTeam,
    TargetDurationSecs,
    Continuous,
    EntryKinds,
    EntryChannels,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
    WorkspaceId,
    Name,
    Industry,
    Employees,
    Lifecycle,
    Owner,
    Score,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AccountDomains {
    Table,
    Id,
    WorkspaceId,
    AccountId,
    Domain,
}

#[derive(DeriveIden)]
enum Stakeholders {
    Table,
    Id,
    WorkspaceId,
    Name,
    Email,
    Title,
    Lifecycle,
    Score,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    Id,
    WorkspaceId,
    AccountId,
    StakeholderId,
    Role,
    Primary,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Identities {
    Table,
    Id,
    WorkspaceId,
    StakeholderId,
    Kind,
    Value,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Touchpoints {
    Table,
    Id,
    WorkspaceId,
    AccountId,
    StakeholderId,
    Source,
    ExternalId,
    Channel,
    Kind,
    OccurredAt,
    Title,
    Body,
    Url,
    OwnerTeam,
    Actor,
    Emotion,
    Sentiment,
    Score,
    Properties,
    CreatedAt,
    UpdatedAt,
}

fn fk_workspace<T: IntoIden + 'static>(table: T) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, Alias::new("workspace_id"))
        .to(Workspaces::Table, Workspaces::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Workspaces::Table)
                .col(pk_uuid(Workspaces::Id))
                .col(string_len_uniq(Workspaces::Slug, 64))
                .col(string(Workspaces::Name))
                .col(timestamp_with_time_zone(Workspaces::CreatedAt))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(JourneyModels::Table)
                .col(pk_uuid(JourneyModels::Id))
                .col(uuid(JourneyModels::WorkspaceId))
                .col(string(JourneyModels::Name))
                .col(string_len(JourneyModels::Template, 24))
                .col(boolean(JourneyModels::Circular))
                .col(string_null(JourneyModels::LoopToStageKey))
                .col(boolean(JourneyModels::IsDefault))
                .col(timestamp_with_time_zone(JourneyModels::CreatedAt))
                .foreign_key(&mut fk_workspace(JourneyModels::Table))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_journey_models_workspace")
                .table(JourneyModels::Table)
                .col(JourneyModels::WorkspaceId)
                .col(JourneyModels::Id)
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Stages::Table)
                .col(pk_uuid(Stages::Id))
                .col(uuid(Stages::WorkspaceId))
                .col(uuid(Stages::ModelId))
                .col(uuid_null(Stages::ParentStageId))
                .col(string_len(Stages::Key, 64))
                .col(string(Stages::Name))
                .col(integer(Stages::Position))
                .col(string_len(Stages::OwnerTeam, 16))
                .col(big_integer_null(Stages::TargetDurationSecs))
                .col(boolean(Stages::Continuous))
                .col(json_binary(Stages::EntryKinds))
                .col(json_binary(Stages::EntryChannels))
                .foreign_key(&mut fk_workspace(Stages::Table))
                .foreign_key(
                    ForeignKey::create()
                        .from(Stages::Table, Stages::ModelId)
                        .to(JourneyModels::Table, JourneyModels::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Stages::Table, Stages::ParentStageId)
                        .to(Stages::Table, Stages::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_stages_model_key")
                .table(Stages::Table)
                .col(Stages::ModelId)
                .col(Stages::Key)
                .unique()
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Accounts::Table)
                .col(pk_uuid(Accounts::Id))
                .col(uuid(Accounts::WorkspaceId))
                .col(string(Accounts::Name))
                .col(string_null(Accounts::Industry))
                .col(integer_null(Accounts::Employees))
                .col(string_len(Accounts::Lifecycle, 16))
                .col(string_null(Accounts::Owner))
                .col(double(Accounts::Score))
                .col(timestamp_with_time_zone(Accounts::CreatedAt))
                .col(timestamp_with_time_zone(Accounts::UpdatedAt))
                .foreign_key(&mut fk_workspace(Accounts::Table))
                .take(),
        )
        .await?;
        for (name, column) in [
            ("idx_accounts_ws_name", Accounts::Name),
            ("idx_accounts_ws_created", Accounts::CreatedAt),
            ("idx_accounts_ws_updated", Accounts::UpdatedAt),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(Accounts::Table)
                    .col(Accounts::WorkspaceId)
                    .col(column)
                    .col(Accounts::Id)
                    .take(),
            )
            .await?;
        }

        m.create_table(
            Table::create()
                .table(AccountDomains::Table)
                .col(pk_uuid(AccountDomains::Id))
                .col(uuid(AccountDomains::WorkspaceId))
                .col(uuid(AccountDomains::AccountId))
                .col(string(AccountDomains::Domain))
                .foreign_key(&mut fk_workspace(AccountDomains::Table))
                .foreign_key(
                    ForeignKey::create()
                        .from(AccountDomains::Table, AccountDomains::AccountId)
                        .to(Accounts::Table, Accounts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_account_domains_ws_domain")
                .table(AccountDomains::Table)
                .col(AccountDomains::WorkspaceId)
                .col(AccountDomains::Domain)
                .unique()
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_account_domains_account")
                .table(AccountDomains::Table)
                .col(AccountDomains::AccountId)
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Stakeholders::Table)
                .col(pk_uuid(Stakeholders::Id))
                .col(uuid(Stakeholders::WorkspaceId))
                .col(string_null(Stakeholders::Name))
                .col(string_null(Stakeholders::Email))
                .col(string_null(Stakeholders::Title))
                .col(string_len(Stakeholders::Lifecycle, 16))
                .col(double(Stakeholders::Score))
                .col(timestamp_with_time_zone(Stakeholders::CreatedAt))
                .col(timestamp_with_time_zone(Stakeholders::UpdatedAt))
                .foreign_key(&mut fk_workspace(Stakeholders::Table))
                .take(),
        )
        .await?;
        for (name, column) in [
            ("idx_stakeholders_ws_name", Stakeholders::Name),
            ("idx_stakeholders_ws_created", Stakeholders::CreatedAt),
            ("idx_stakeholders_ws_updated", Stakeholders::UpdatedAt),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(Stakeholders::Table)
                    .col(Stakeholders::WorkspaceId)
                    .col(column)
                    .col(Stakeholders::Id)
                    .take(),
            )
            .await?;
        }

        m.create_table(
            Table::create()
                .table(Memberships::Table)
                .col(pk_uuid(Memberships::Id))
                .col(uuid(Memberships::WorkspaceId))
                .col(uuid(Memberships::AccountId))
                .col(uuid(Memberships::StakeholderId))
                .col(string_len_null(Memberships::Role, 16))
                .col(boolean(Memberships::Primary))
                .col(timestamp_with_time_zone(Memberships::CreatedAt))
                .foreign_key(&mut fk_workspace(Memberships::Table))
                .foreign_key(
                    ForeignKey::create()
                        .from(Memberships::Table, Memberships::AccountId)
                        .to(Accounts::Table, Accounts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Memberships::Table, Memberships::StakeholderId)
                        .to(Stakeholders::Table, Stakeholders::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_memberships_account_stakeholder")
                .table(Memberships::Table)
                .col(Memberships::AccountId)
                .col(Memberships::StakeholderId)
                .unique()
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_memberships_stakeholder")
                .table(Memberships::Table)
                .col(Memberships::StakeholderId)
                .col(Memberships::AccountId)
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Identities::Table)
                .col(pk_uuid(Identities::Id))
                .col(uuid(Identities::WorkspaceId))
                .col(uuid(Identities::StakeholderId))
                .col(string_len(Identities::Kind, 24))
                .col(string(Identities::Value))
                .col(timestamp_with_time_zone(Identities::CreatedAt))
                .foreign_key(&mut fk_workspace(Identities::Table))
                .foreign_key(
                    ForeignKey::create()
                        .from(Identities::Table, Identities::StakeholderId)
                        .to(Stakeholders::Table, Stakeholders::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_identities_ws_kind_value")
                .table(Identities::Table)
                .col(Identities::WorkspaceId)
                .col(Identities::Kind)
                .col(Identities::Value)
                .unique()
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_identities_stakeholder")
                .table(Identities::Table)
                .col(Identities::StakeholderId)
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Touchpoints::Table)
                .col(pk_uuid(Touchpoints::Id))
                .col(uuid(Touchpoints::WorkspaceId))
                .col(uuid_null(Touchpoints::AccountId))
                .col(uuid_null(Touchpoints::StakeholderId))
                .col(string_len(Touchpoints::Source, 64))
                .col(string(Touchpoints::ExternalId))
                .col(string_len(Touchpoints::Channel, 16))
                .col(string_len(Touchpoints::Kind, 128))
                .col(timestamp_with_time_zone(Touchpoints::OccurredAt))
                .col(text_null(Touchpoints::Title))
                .col(text_null(Touchpoints::Body))
                .col(text_null(Touchpoints::Url))
                .col(string_len_null(Touchpoints::OwnerTeam, 16))
                .col(string_null(Touchpoints::Actor))
                .col(string_len_null(Touchpoints::Emotion, 16))
                .col(double_null(Touchpoints::Sentiment))
                .col(double_null(Touchpoints::Score))
                .col(json_binary_null(Touchpoints::Properties))
                .col(timestamp_with_time_zone(Touchpoints::CreatedAt))
                .col(timestamp_with_time_zone(Touchpoints::UpdatedAt))
                .foreign_key(&mut fk_workspace(Touchpoints::Table))
                .foreign_key(
                    ForeignKey::create()
                        .from(Touchpoints::Table, Touchpoints::AccountId)
                        .to(Accounts::Table, Accounts::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Touchpoints::Table, Touchpoints::StakeholderId)
                        .to(Stakeholders::Table, Stakeholders::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_touchpoints_ws_source_external")
                .table(Touchpoints::Table)
                .col(Touchpoints::WorkspaceId)
                .col(Touchpoints::Source)
                .col(Touchpoints::ExternalId)
                .unique()
                .take(),
        )
        .await?;
        for (name, column) in [
            ("idx_touchpoints_ws_account_time", Touchpoints::AccountId),
            (
                "idx_touchpoints_ws_stakeholder_time",
                Touchpoints::StakeholderId,
            ),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(Touchpoints::Table)
                    .col(Touchpoints::WorkspaceId)
                    .col(column)
                    .col(Touchpoints::OccurredAt)
                    .col(Touchpoints::Id)
                    .take(),
            )
            .await?;
        }
        m.create_index(
            Index::create()
                .name("idx_touchpoints_ws_time")
                .table(Touchpoints::Table)
                .col(Touchpoints::WorkspaceId)
                .col(Touchpoints::OccurredAt)
                .col(Touchpoints::Id)
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Touchpoints::Table.into_iden(),
            Identities::Table.into_iden(),
            Memberships::Table.into_iden(),
            Stakeholders::Table.into_iden(),
            AccountDomains::Table.into_iden(),
            Accounts::Table.into_iden(),
            Stages::Table.into_iden(),
            JourneyModels::Table.into_iden(),
            Workspaces::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).take()).await?;
        }
        Ok(())
    }
}
