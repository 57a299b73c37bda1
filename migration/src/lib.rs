//! Schema migrations of the Journeys database.
//!
//! One migrator for both backends: SQLite (the embedded default) and PostgreSQL.
//! Column types are chosen so both hold the same values: UUID keys, timestamps
//! with time zone at microsecond precision (the server truncates before writing),
//! closed vocabularies as short strings.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_core;
mod m20261122_000002_progression;
mod m20261122_000003_stage_archive;
mod m20261122_000004_scoring;
mod m20261122_000005_analytics_indexes;
mod m20261122_000006_merges_consent;
mod m20261123_000007_connectors;
mod m20261204_000008_connector_sources;
mod m20261205_000009_revoked_tokens;
mod m20261205_000010_erasure_keys;
mod m20261205_000011_phases_backfill;
mod m20261205_000012_account_scores;
mod m20261207_000013_events;
mod m20261207_000014_webhooks;
mod m20261207_000015_needed_dmu_roles;
mod m20261207_000016_lifecycle_rules;
mod m20261207_000017_playbooks;
mod m20261208_000019_touchpoint_assets;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_core::Migration),
            Box::new(m20261122_000002_progression::Migration),
            Box::new(m20261122_000003_stage_archive::Migration),
            Box::new(m20261122_000004_scoring::Migration),
            Box::new(m20261122_000005_analytics_indexes::Migration),
            Box::new(m20261122_000006_merges_consent::Migration),
            Box::new(m20261123_000007_connectors::Migration),
            Box::new(m20261204_000008_connector_sources::Migration),
            Box::new(m20261205_000009_revoked_tokens::Migration),
            Box::new(m20261205_000010_erasure_keys::Migration),
            Box::new(m20261205_000011_phases_backfill::Migration),
            Box::new(m20261205_000012_account_scores::Migration),
            Box::new(m20261207_000013_events::Migration),
            Box::new(m20261207_000014_webhooks::Migration),
            Box::new(m20261207_000015_needed_dmu_roles::Migration),
            Box::new(m20261207_000016_lifecycle_rules::Migration),
            Box::new(m20261207_000017_playbooks::Migration),
            Box::new(m20261208_000019_touchpoint_assets::Migration),
        ]
    }
}
