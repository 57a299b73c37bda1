//! Each connector is its own source. A touchpoint a connector recorded is
//! unique by `(connector_id, external_id)`, so two connectors of one kind (two
//! Zendesk subdomains) never fold their tickets together; a touchpoint from
//! the API (`connector_id` null) stays unique by `(workspace_id, source,
//! external_id)`. A vendor's organisation ids map to accounts per connector
//! for the same reason.
//!
//! Existing rows move to their connector without changing ids: a workspace's
//! touchpoints of a kind go to its oldest connector of that kind (with one
//! connector of a kind, the only one; with several, they could not be told
//! apart, and the oldest is the one that recorded them first). Touchpoints
//! whose connector was deleted keep a null `connector_id`. There is no
//! foreign key: a deleted connector's touchpoints keep naming it.
//!
//! Connectors also keep their request pacing (`connectors.pacing`) between runs.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Touchpoints {
    Table,
    ConnectorId,
}

#[derive(DeriveIden)]
enum ConnectorAccountRefs {
    Table,
    WorkspaceId,
    ConnectorId,
    ExternalId,
    AccountId,
}

#[derive(DeriveIden)]
enum AccountRefs {
    Table,
    WorkspaceId,
    Source,
    ExternalId,
    AccountId,
}

#[derive(DeriveIden)]
enum Connectors {
    Table,
    Id,
    Pacing,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
}

/// The oldest connector of a row's kind in its workspace; `row` is the table
/// whose `workspace_id` and kind column (`kind_column`) are matched.
fn oldest_connector(row: &str, kind_column: &str) -> String {
    format!(
        "SELECT c.id FROM connectors c \
         WHERE c.workspace_id = {row}.workspace_id AND c.kind = {row}.{kind_column} \
         ORDER BY c.created_at, c.id LIMIT 1"
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        m.alter_table(
            Table::alter()
                .table(Touchpoints::Table)
                .add_column(uuid_null(Touchpoints::ConnectorId))
                .take(),
        )
        .await?;
        let oldest = oldest_connector("touchpoints", "source");
        db.execute_unprepared(&format!(
            "UPDATE touchpoints SET connector_id = ({oldest}) \
             WHERE EXISTS ({oldest})"
        ))
        .await?;
        // The same partial-index syntax on SQLite and PostgreSQL; both
        // planners use the second for `connector_id = $1`, and the third for
        // a page of one connector's touchpoints in time order. One batch: on a
        // pool of SQLite connections, a second connection may not see the drop.
        db.execute_unprepared(
            "DROP INDEX ux_touchpoints_ws_source_external; \
             CREATE UNIQUE INDEX ux_touchpoints_ws_source_external \
             ON touchpoints (workspace_id, source, external_id) WHERE connector_id IS NULL; \
             CREATE UNIQUE INDEX ux_touchpoints_connector_external \
             ON touchpoints (connector_id, external_id) WHERE connector_id IS NOT NULL; \
             CREATE INDEX idx_touchpoints_connector_time \
             ON touchpoints (connector_id, occurred_at, id) WHERE connector_id IS NOT NULL",
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ConnectorAccountRefs::Table)
                .col(uuid(ConnectorAccountRefs::WorkspaceId))
                .col(uuid(ConnectorAccountRefs::ConnectorId))
                .col(string(ConnectorAccountRefs::ExternalId))
                .col(uuid(ConnectorAccountRefs::AccountId))
                .primary_key(
                    Index::create()
                        .col(ConnectorAccountRefs::ConnectorId)
                        .col(ConnectorAccountRefs::ExternalId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(
                            ConnectorAccountRefs::Table,
                            ConnectorAccountRefs::ConnectorId,
                        )
                        .to(Connectors::Table, Connectors::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ConnectorAccountRefs::Table, ConnectorAccountRefs::AccountId)
                        .to(Accounts::Table, Accounts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        let oldest = oldest_connector("account_refs", "source");
        db.execute_unprepared(&format!(
            "INSERT INTO connector_account_refs (workspace_id, connector_id, external_id, account_id) \
             SELECT workspace_id, ({oldest}), external_id, account_id FROM account_refs \
             WHERE EXISTS ({oldest})"
        ))
        .await?;
        m.drop_table(Table::drop().table(AccountRefs::Table).take())
            .await?;
        // A connector's request pacing outlives its runs (see the SDK's
        // `PacingLog`).
        m.alter_table(
            Table::alter()
                .table(Connectors::Table)
                .add_column(json_binary_null(Connectors::Pacing))
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        m.alter_table(
            Table::alter()
                .table(Connectors::Table)
                .drop_column(Connectors::Pacing)
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AccountRefs::Table)
                .col(uuid(AccountRefs::WorkspaceId))
                .col(string_len(AccountRefs::Source, 32))
                .col(string(AccountRefs::ExternalId))
                .col(uuid(AccountRefs::AccountId))
                .primary_key(
                    Index::create()
                        .col(AccountRefs::WorkspaceId)
                        .col(AccountRefs::Source)
                        .col(AccountRefs::ExternalId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(AccountRefs::Table, AccountRefs::AccountId)
                        .to(Accounts::Table, Accounts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        // Of two connectors of a kind mapping one organisation id, the
        // oldest's mapping is kept.
        db.execute_unprepared(
            "INSERT INTO account_refs (workspace_id, source, external_id, account_id) \
             SELECT r.workspace_id, c.kind, r.external_id, r.account_id \
             FROM connector_account_refs r JOIN connectors c ON c.id = r.connector_id \
             WHERE c.id = (SELECT o.id FROM connectors o \
             JOIN connector_account_refs s ON s.connector_id = o.id \
             WHERE o.workspace_id = c.workspace_id AND o.kind = c.kind \
             AND s.external_id = r.external_id ORDER BY o.created_at, o.id LIMIT 1)",
        )
        .await?;
        m.drop_table(Table::drop().table(ConnectorAccountRefs::Table).take())
            .await?;
        // Rows two connectors of a kind recorded under one external id cannot
        // share a source again: the newer copies go. One batch, as in `up`.
        db.execute_unprepared(
            "DROP INDEX idx_touchpoints_connector_time; \
             DROP INDEX ux_touchpoints_connector_external; \
             DROP INDEX ux_touchpoints_ws_source_external; \
             DELETE FROM touchpoints WHERE connector_id IS NOT NULL AND EXISTS (\
             SELECT 1 FROM touchpoints o WHERE o.workspace_id = touchpoints.workspace_id \
             AND o.source = touchpoints.source AND o.external_id = touchpoints.external_id \
             AND (o.created_at, o.id) < (touchpoints.created_at, touchpoints.id)); \
             CREATE UNIQUE INDEX ux_touchpoints_ws_source_external \
             ON touchpoints (workspace_id, source, external_id)",
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Touchpoints::Table)
                .drop_column(Touchpoints::ConnectorId)
                .take(),
        )
        .await
    }
}
