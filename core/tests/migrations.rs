//! Migrations over a database that already holds data: what the schema was
//! before a migration is written with plain statements, then the migration
//! runs and what it moved is read back. SQLite by default; a new PostgreSQL
//! database when `TEST_DATABASE_URL` names a server.

use chrono::{Duration, Utc};
use entity::{account, account_ref, touchpoint};
use journeys_core::testing::fresh_database_url;
use migration::{Alias, Migrator, MigratorTrait, Query};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait, QueryOrder, Set,
};
use uuid::Uuid;

/// The migrations before each connector became its own source.
const BEFORE_CONNECTOR_SOURCES: u32 = 7;

/// Inserts a row of the schema as it was, column by column.
async fn insert(
    db: &DatabaseConnection,
    table: &str,
    row: impl IntoIterator<Item = (&str, sea_orm::Value)>,
) {
    let (columns, values): (Vec<_>, Vec<_>) = row
        .into_iter()
        .map(|(column, value)| (Alias::new(column), value))
        .unzip();
    let statement = Query::insert()
        .into_table(Alias::new(table))
        .columns(columns)
        .values_panic(values.into_iter().map(Into::into))
        .to_owned();
    db.execute(&statement).await.unwrap();
}

/// A connector as migration 7 left the table, created `age_days` ago.
async fn connector(db: &DatabaseConnection, ws: Uuid, kind: &str, age_days: i64) -> Uuid {
    let id = Uuid::now_v7();
    let at = Utc::now() - Duration::days(age_days);
    let json = |v: serde_json::Value| sea_orm::Value::from(v);
    insert(
        db,
        "connectors",
        [
            ("id", id.into()),
            ("workspace_id", ws.into()),
            ("kind", kind.into()),
            ("name", format!("{kind} {age_days}").into()),
            ("config", json(serde_json::json!({}))),
            ("secrets", "".into()),
            ("secret_names", json(serde_json::json!([]))),
            ("enabled", true.into()),
            ("created_at", at.into()),
            ("updated_at", at.into()),
        ],
    )
    .await;
    id
}

#[tokio::test]
async fn existing_touchpoints_and_organisation_ids_move_to_their_connector() {
    let (url, _dir) = fresh_database_url().await;
    let db = Database::connect(&url).await.unwrap();
    Migrator::up(&db, Some(BEFORE_CONNECTOR_SOURCES))
        .await
        .unwrap();

    let now = Utc::now();
    let ws = Uuid::now_v7();
    insert(
        &db,
        "workspaces",
        [
            ("id", ws.into()),
            ("slug", "acme".into()),
            ("name", "Acme".into()),
            ("created_at", now.into()),
            ("mql_threshold", 50.0.into()),
        ],
    )
    .await;
    let acme = account::ActiveModel {
        id: Set(Uuid::now_v7()),
        workspace_id: Set(ws),
        name: Set("Acme".into()),
        industry: Set(None),
        employees: Set(None),
        lifecycle: Set(entity::vocab::Lifecycle::Visitor),
        owner: Set(None),
        score: Set(0.0),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&db)
    .await
    .unwrap()
    .id;
    // Two Zendesk connectors (the older recorded everything so far), one
    // Zoom connector, and no Twitter connector any more.
    let older_zendesk = connector(&db, ws, "zendesk", 9).await;
    connector(&db, ws, "zendesk", 2).await;
    let zoom = connector(&db, ws, "zoom", 5).await;

    let rows = [
        ("zendesk", "ticket:1:opened"),
        ("zoom", "attended:81:email:ada@initech.com"),
        ("twitter", "tweet:77"),
        ("api", "crm:1"),
    ];
    let mut ids = Vec::new();
    for (source, external_id) in rows {
        let id = Uuid::now_v7();
        ids.push(id);
        insert(
            &db,
            "touchpoints",
            [
                ("id", id.into()),
                ("workspace_id", ws.into()),
                ("source", source.into()),
                ("external_id", external_id.into()),
                ("channel", "SUPPORT".into()),
                ("kind", "ticket.opened".into()),
                ("occurred_at", now.into()),
                ("created_at", now.into()),
                ("updated_at", now.into()),
            ],
        )
        .await;
    }
    insert(
        &db,
        "account_refs",
        [
            ("workspace_id", ws.into()),
            ("source", "zendesk".into()),
            ("external_id", "9001".into()),
            ("account_id", acme.into()),
        ],
    )
    .await;

    Migrator::up(&db, None).await.unwrap();

    let moved: Vec<(Uuid, String, Option<Uuid>)> = touchpoint::Entity::find()
        .order_by_asc(touchpoint::Column::Id)
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.id, t.source, t.connector_id))
        .collect();
    assert_eq!(
        moved,
        [
            (ids[0], "zendesk".to_owned(), Some(older_zendesk)),
            (ids[1], "zoom".to_owned(), Some(zoom)),
            // Its connector is gone, and the API's never had one.
            (ids[2], "twitter".to_owned(), None),
            (ids[3], "api".to_owned(), None),
        ]
    );
    let refs = account_ref::Entity::find().all(&db).await.unwrap();
    assert_eq!(
        refs,
        [account_ref::Model {
            workspace_id: ws,
            connector_id: older_zendesk,
            external_id: "9001".into(),
            account_id: acme,
        }]
    );
}
