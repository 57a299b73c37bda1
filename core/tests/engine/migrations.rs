//! Several instances started at once on an empty database: each one's
//! start-up migrates, and the schema is made exactly once.

use futures_util::future::join_all;
use journeys_core::db::{self, StatementCounter};
use journeys_core::testing::{applied_migrations, fresh_database_url};
use migration::MigratorTrait;

#[tokio::test]
async fn instances_started_together_migrate_an_empty_database_once() {
    let (url, _dir) = fresh_database_url().await;
    let counter = StatementCounter::default();
    let started = join_all((0..6).map(|_| db::connect(&url, &counter))).await;
    let mut connections = vec![];
    for started in started {
        connections.push(started.expect("every instance starts"));
    }
    assert_eq!(
        applied_migrations(&connections[0]).await,
        migration::Migrator::migrations().len()
    );
}
