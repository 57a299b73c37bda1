//! Continuous phases are positions of their own, beside the sequence: an
//! account holds at most one sequence position per model (`phase` false) and
//! one position per phase it is in. Moves into a phase are marked too, so the
//! funnel and "touchpoints during a stage" read the sequence alone.
//!
//! A sequence position knows when it falls due (`due_at`: entered plus the
//! stage's target), so stalled accounts are read longest-overdue first through
//! an index.
//!
//! A journey model rebuilds every account's path from its touchpoints in the
//! background (`backfill_*`): when it is created on a workspace with history,
//! when its stages' entry rules change, and here, once, so that existing paths
//! get their phases and due times.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StagePositions {
    Table,
    Phase,
    DueAt,
}

#[derive(DeriveIden)]
enum StageTransitions {
    Table,
    Phase,
}

#[derive(DeriveIden)]
enum JourneyModels {
    Table,
    BackfillPending,
    BackfillAfter,
    BackfillProcessed,
    BackfillTotal,
    BackfillLeaseUntil,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        // One column per statement: SQLite alters a table one change at a time.
        let columns = [
            (
                StagePositions::Table.into_iden(),
                boolean(StagePositions::Phase).default(false).take(),
            ),
            (
                StagePositions::Table.into_iden(),
                timestamp_with_time_zone_null(StagePositions::DueAt),
            ),
            (
                StageTransitions::Table.into_iden(),
                boolean(StageTransitions::Phase).default(false).take(),
            ),
            (
                JourneyModels::Table.into_iden(),
                boolean(JourneyModels::BackfillPending)
                    .default(false)
                    .take(),
            ),
            (
                JourneyModels::Table.into_iden(),
                uuid_null(JourneyModels::BackfillAfter),
            ),
            (
                JourneyModels::Table.into_iden(),
                big_integer(JourneyModels::BackfillProcessed)
                    .default(0)
                    .take(),
            ),
            (
                JourneyModels::Table.into_iden(),
                big_integer(JourneyModels::BackfillTotal).default(0).take(),
            ),
            (
                JourneyModels::Table.into_iden(),
                timestamp_with_time_zone_null(JourneyModels::BackfillLeaseUntil),
            ),
        ];
        for (table, mut column) in columns {
            m.alter_table(Table::alter().table(table).add_column(&mut column).take())
                .await?;
        }
        // Same syntax on SQLite and PostgreSQL. One batch: on a pool of
        // SQLite connections, a second connection may not see the drop.
        db.execute_unprepared(
            "UPDATE stage_positions SET phase = TRUE \
             WHERE stage_id IN (SELECT id FROM stages WHERE continuous); \
             UPDATE stage_transitions SET phase = TRUE \
             WHERE to_stage_id IN (SELECT id FROM stages WHERE continuous); \
             DROP INDEX ux_stage_positions_account_model; \
             CREATE UNIQUE INDEX ux_stage_positions_account_model \
             ON stage_positions (account_id, model_id) WHERE NOT phase; \
             CREATE UNIQUE INDEX ux_stage_positions_account_phase \
             ON stage_positions (account_id, stage_id) WHERE phase; \
             CREATE INDEX idx_stage_positions_due \
             ON stage_positions (workspace_id, model_id, due_at, id) WHERE due_at IS NOT NULL; \
             UPDATE journey_models SET backfill_pending = TRUE, backfill_total = \
             (SELECT COUNT(*) FROM accounts a WHERE a.workspace_id = journey_models.workspace_id) \
             WHERE EXISTS (SELECT 1 FROM accounts a WHERE a.workspace_id = journey_models.workspace_id)",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared(
            "DROP INDEX idx_stage_positions_due; \
             DROP INDEX ux_stage_positions_account_phase; \
             DELETE FROM stage_positions WHERE phase; \
             DROP INDEX ux_stage_positions_account_model; \
             CREATE UNIQUE INDEX ux_stage_positions_account_model \
             ON stage_positions (account_id, model_id)",
        )
        .await?;
        let columns = [
            (
                StagePositions::Table.into_iden(),
                StagePositions::Phase.into_iden(),
            ),
            (
                StagePositions::Table.into_iden(),
                StagePositions::DueAt.into_iden(),
            ),
            (
                StageTransitions::Table.into_iden(),
                StageTransitions::Phase.into_iden(),
            ),
            (
                JourneyModels::Table.into_iden(),
                JourneyModels::BackfillPending.into_iden(),
            ),
            (
                JourneyModels::Table.into_iden(),
                JourneyModels::BackfillAfter.into_iden(),
            ),
            (
                JourneyModels::Table.into_iden(),
                JourneyModels::BackfillProcessed.into_iden(),
            ),
            (
                JourneyModels::Table.into_iden(),
                JourneyModels::BackfillTotal.into_iden(),
            ),
            (
                JourneyModels::Table.into_iden(),
                JourneyModels::BackfillLeaseUntil.into_iden(),
            ),
        ];
        for (table, column) in columns {
            m.alter_table(Table::alter().table(table).drop_column(column).take())
                .await?;
        }
        Ok(())
    }
}
