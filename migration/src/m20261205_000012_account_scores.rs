//! An account's score counts what happened with that account: contributions
//! are kept per (stakeholder, rule, account), the account being the one the
//! counted touchpoints were recorded on (null for account-less touchpoints).
//! Deleting an account detaches its touchpoints, and so its contributions.
//!
//! Contributions written before have no account, and stored scores added a
//! person's whole score to each of their accounts: existing workspaces are
//! marked as scored by an older release (`scores_version` 0), and the server
//! rescores them at start. The migration cannot: scoring is the engine's.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ScoreContributions {
    Table,
    StakeholderId,
    RuleId,
    AccountId,
}

#[derive(DeriveIden)]
enum Workspaces {
    Table,
    ScoresVersion,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // A foreign key on an added column: SQLite only accepts it inside
        // ADD COLUMN, which sea-query does not write. The types are the ones
        // sea-query writes for a uuid on each backend.
        let uuid = match m.get_database_backend() {
            DatabaseBackend::Sqlite => "uuid_text",
            _ => "uuid",
        };
        m.get_connection()
            .execute_unprepared(&format!(
                "ALTER TABLE score_contributions ADD COLUMN account_id {uuid} NULL \
                 REFERENCES accounts (id) ON DELETE SET NULL"
            ))
            .await?;
        m.drop_index(
            Index::drop()
                .name("ux_score_contributions_stakeholder_rule")
                .table(ScoreContributions::Table)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_score_contributions_stakeholder_rule_account")
                .table(ScoreContributions::Table)
                .col(ScoreContributions::StakeholderId)
                .col(ScoreContributions::RuleId)
                .col(ScoreContributions::AccountId)
                .unique()
                .take(),
        )
        .await?;
        // For the deletion of an account, which detaches its contributions.
        m.create_index(
            Index::create()
                .name("idx_score_contributions_account")
                .table(ScoreContributions::Table)
                .col(ScoreContributions::AccountId)
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Workspaces::Table)
                .add_column(integer(Workspaces::ScoresVersion).default(0))
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        m.alter_table(
            Table::alter()
                .table(Workspaces::Table)
                .drop_column(Workspaces::ScoresVersion)
                .take(),
        )
        .await?;
        // One row per (stakeholder, rule) again, summing a person's rows of a
        // rule (written together, so as of one reference time). SQLite cannot
        // drop a column under a foreign key: the table is rebuilt on both.
        m.create_table(
            Table::create()
                .table(Alias::new("score_contributions_v4"))
                .col(pk_uuid(Alias::new("id")))
                .col(uuid(Alias::new("workspace_id")))
                .col(uuid(ScoreContributions::StakeholderId))
                .col(uuid(ScoreContributions::RuleId))
                .col(integer(Alias::new("count")))
                .col(double(Alias::new("points")))
                .col(timestamp_with_time_zone(Alias::new("reference_at")))
                .foreign_key(&mut references("workspace_id", "workspaces"))
                .foreign_key(&mut references("stakeholder_id", "stakeholders"))
                .foreign_key(&mut references("rule_id", "scoring_rules"))
                .take(),
        )
        .await?;
        let same = "o.stakeholder_id = c.stakeholder_id AND o.rule_id = c.rule_id";
        db.execute_unprepared(&format!(
            "INSERT INTO score_contributions_v4 \
             (id, workspace_id, stakeholder_id, rule_id, count, points, reference_at) \
             SELECT c.id, c.workspace_id, c.stakeholder_id, c.rule_id, \
             (SELECT SUM(o.count) FROM score_contributions o WHERE {same}), \
             (SELECT SUM(o.points) FROM score_contributions o WHERE {same}), c.reference_at \
             FROM score_contributions c WHERE NOT EXISTS \
             (SELECT 1 FROM score_contributions o WHERE {same} AND o.id < c.id)"
        ))
        .await?;
        m.drop_table(Table::drop().table(ScoreContributions::Table).take())
            .await?;
        m.rename_table(
            Table::rename()
                .table(
                    Alias::new("score_contributions_v4"),
                    ScoreContributions::Table,
                )
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
        .await
    }
}

/// A cascading foreign key from `column` to `table`'s id.
fn references(column: &str, table: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(Alias::new("score_contributions_v4"), Alias::new(column))
        .to(Alias::new(table), Alias::new("id"))
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}
