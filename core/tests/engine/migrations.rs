//! Several instances started at once on an empty database: each one's
//! start-up migrates, and the schema is made exactly once.

use futures_util::future::join_all;
use journeys_core::db::{self, StatementCounter};
use journeys_core::testing::fresh_database_url;
use migration::MigratorTrait;
use sea_orm::{ConnectionTrait, Statement};

#[tokio::test]
async fn instances_started_together_migrate_an_empty_database_once() {
    let (url, _dir) = fresh_database_url().await;
    let counter = StatementCounter::default();
    let started = join_all((0..6).map(|_| db::connect(&url, &counter))).await;
    let mut connections = vec![];
    for started in started {
        connections.push(started.expect("every instance starts"));
    }
    let db = &connections[0];
    let applied = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM seaql_migrations",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(applied as usize, migration::Migrator::migrations().len());
}
