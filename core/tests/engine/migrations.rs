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

#[tokio::test]
async fn a_workspace_older_than_the_needed_roles_needs_the_default_ones() {
    use entity::workspace;
    use journeys_core::people::dmu;
    use sea_orm::{ActiveModelTrait, Database, Set};

    let (url, _dir) = fresh_database_url().await;
    let db = Database::connect(&url).await.unwrap();
    let before = migration::Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20261207_000015_needed_dmu_roles")
        .expect("the migration is listed");
    migration::Migrator::up(&db, Some(before as u32))
        .await
        .unwrap();
    let ws = workspace::ActiveModel {
        id: Set(entity::new_id()),
        slug: Set("old".to_owned()),
        name: Set("Old".to_owned()),
        created_at: Set(chrono::Utc::now()),
        mql_threshold: Set(50.0),
        scores_version: Set(1),
        erasure_key: Set(None),
        event_sequence: Set(0),
    }
    .insert(&db)
    .await
    .unwrap();
    migration::Migrator::up(&db, None).await.unwrap();
    let mut needed = dmu::needed_roles(&db, ws.id).await.unwrap();
    let mut default = dmu::DEFAULT_NEEDED.to_vec();
    let key = |r: &entity::vocab::DmuRole| format!("{r:?}");
    needed.sort_by_key(key);
    default.sort_by_key(key);
    assert_eq!(needed, default);
}
