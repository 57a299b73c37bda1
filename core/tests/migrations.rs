//! Migrations over a database that already holds data: what the schema was
//! before a migration is written with plain statements, then the migration
//! runs and what it moved is read back. SQLite by default; a new PostgreSQL
//! database when `TEST_DATABASE_URL` names a server.

use chrono::{Duration, Utc};
use entity::{account, account_ref, connector, touchpoint, workspace};
use journeys_core::testing::fresh_database_url;
use migration::{Alias, Migrator, MigratorTrait, Query};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Database, EntityTrait, QueryOrder, Set};
use uuid::Uuid;

/// The migrations before each connector became its own source.
const BEFORE_CONNECTOR_SOURCES: u32 = 7;

fn connector(ws: Uuid, kind: &str, age_days: i64) -> connector::ActiveModel {
    let at = Utc::now() - Duration::days(age_days);
    connector::ActiveModel {
        id: Set(Uuid::now_v7()),
        workspace_id: Set(ws),
        kind: Set(kind.to_owned()),
        name: Set(format!("{kind} {age_days}")),
        config: Set(serde_json::json!({})),
        secrets: Set(String::new()),
        secret_names: Set(serde_json::json!([])),
        schedule_seconds: Set(None),
        enabled: Set(true),
        cursor: Set(None),
        created_at: Set(at),
        updated_at: Set(at),
    }
}

#[tokio::test]
async fn existing_touchpoints_and_organisation_ids_move_to_their_connector() {
    let (url, _dir) = fresh_database_url().await;
    let db = Database::connect(&url).await.unwrap();
    Migrator::up(&db, Some(BEFORE_CONNECTOR_SOURCES))
        .await
        .unwrap();

    let now = Utc::now();
    let ws = workspace::ActiveModel {
        id: Set(Uuid::now_v7()),
        slug: Set("acme".into()),
        name: Set("Acme".into()),
        created_at: Set(now),
        mql_threshold: Set(50.0),
    }
    .insert(&db)
    .await
    .unwrap()
    .id;
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
    let older_zendesk = connector(ws, "zendesk", 9).insert(&db).await.unwrap().id;
    connector(ws, "zendesk", 2).insert(&db).await.unwrap();
    let zoom = connector(ws, "zoom", 5).insert(&db).await.unwrap().id;

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
        let insert = Query::insert()
            .into_table(Alias::new("touchpoints"))
            .columns(
                [
                    "id",
                    "workspace_id",
                    "source",
                    "external_id",
                    "channel",
                    "kind",
                    "occurred_at",
                    "created_at",
                    "updated_at",
                ]
                .map(Alias::new),
            )
            .values_panic([
                id.into(),
                ws.into(),
                source.into(),
                external_id.into(),
                "SUPPORT".into(),
                "ticket.opened".into(),
                now.into(),
                now.into(),
                now.into(),
            ])
            .to_owned();
        db.execute(&insert).await.unwrap();
    }
    let organisation = Query::insert()
        .into_table(Alias::new("account_refs"))
        .columns(["workspace_id", "source", "external_id", "account_id"].map(Alias::new))
        .values_panic([ws.into(), "zendesk".into(), "9001".into(), acme.into()])
        .to_owned();
    db.execute(&organisation).await.unwrap();

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
