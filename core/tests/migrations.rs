//! Migrations over a database that already holds data: what the schema was
//! before a migration is written with plain statements, then the migration
//! runs and what it moved is read back. SQLite by default; a new PostgreSQL
//! database when `TEST_DATABASE_URL` names a server.

use chrono::{Duration, Utc};
use entity::{account, account_ref, score_contribution, stakeholder, touchpoint, workspace};
use journeys_core::scoring;
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

/// A workspace as the migrations before per-account scores left the table.
async fn old_workspace(db: &DatabaseConnection, now: chrono::DateTime<Utc>) -> Uuid {
    let id = Uuid::now_v7();
    insert(
        db,
        "workspaces",
        [
            ("id", id.into()),
            ("slug", "acme".into()),
            ("name", "Acme".into()),
            ("created_at", now.into()),
            ("mql_threshold", 50.0.into()),
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
    let ws = old_workspace(&db, now).await;
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

/// The migrations before an account's score counted only what happened with
/// that account.
const BEFORE_ACCOUNT_SCORES: u32 = 11;

#[tokio::test]
async fn workspaces_an_older_release_scored_are_rescored_per_account_at_start() {
    let (url, _dir) = fresh_database_url().await;
    let db = Database::connect(&url).await.unwrap();
    Migrator::up(&db, Some(BEFORE_ACCOUNT_SCORES))
        .await
        .unwrap();

    let now = Utc::now();
    let ws = old_workspace(&db, now).await;
    let mut accounts = Vec::new();
    for name in ["Initech", "Globex"] {
        let id = Uuid::now_v7();
        insert(
            &db,
            "accounts",
            [
                ("id", id.into()),
                ("workspace_id", ws.into()),
                ("name", name.into()),
                ("lifecycle", "VISITOR".into()),
                ("score", 30.0.into()),
                ("created_at", now.into()),
                ("updated_at", now.into()),
            ],
        )
        .await;
        accounts.push(id);
    }
    let (initech, globex) = (accounts[0], accounts[1]);
    let ada = Uuid::now_v7();
    insert(
        &db,
        "stakeholders",
        [
            ("id", ada.into()),
            ("workspace_id", ws.into()),
            ("email", "ada@initech.com".into()),
            ("lifecycle", "LEAD".into()),
            ("score", 30.0.into()),
            ("created_at", now.into()),
            ("updated_at", now.into()),
        ],
    )
    .await;
    for (account, primary) in [(initech, true), (globex, false)] {
        insert(
            &db,
            "memberships",
            [
                ("id", Uuid::now_v7().into()),
                ("workspace_id", ws.into()),
                ("account_id", account.into()),
                ("stakeholder_id", ada.into()),
                ("primary", primary.into()),
                ("created_at", now.into()),
            ],
        )
        .await;
    }
    let rule = Uuid::now_v7();
    insert(
        &db,
        "scoring_rules",
        [
            ("id", rule.into()),
            ("workspace_id", ws.into()),
            ("name", "webinar".into()),
            ("kind", "webinar.attended".into()),
            ("points", 10.0.into()),
            ("created_at", now.into()),
            ("updated_at", now.into()),
        ],
    )
    .await;
    // Two webinars with Initech, one with Globex: the old release gave Ada's
    // whole 30 to both.
    for (n, account) in [initech, initech, globex].into_iter().enumerate() {
        insert(
            &db,
            "touchpoints",
            [
                ("id", Uuid::now_v7().into()),
                ("workspace_id", ws.into()),
                ("account_id", account.into()),
                ("stakeholder_id", ada.into()),
                ("source", "api".into()),
                ("external_id", format!("w{n}").into()),
                ("channel", "WEBINAR".into()),
                ("kind", "webinar.attended".into()),
                ("occurred_at", (now - Duration::days(1)).into()),
                ("created_at", now.into()),
                ("updated_at", now.into()),
            ],
        )
        .await;
    }
    insert(
        &db,
        "score_contributions",
        [
            ("id", Uuid::now_v7().into()),
            ("workspace_id", ws.into()),
            ("stakeholder_id", ada.into()),
            ("rule_id", rule.into()),
            ("count", 3.into()),
            ("points", 30.0.into()),
            ("reference_at", now.into()),
        ],
    )
    .await;

    Migrator::up(&db, None).await.unwrap();
    let version = |db: DatabaseConnection| async move {
        workspace::Entity::find_by_id(ws)
            .one(&db)
            .await
            .unwrap()
            .unwrap()
            .scores_version
    };
    assert_eq!(
        version(db.clone()).await,
        0,
        "marked as scored by an older release"
    );
    assert_eq!(scoring::rescore_outdated(&db).await.unwrap(), 1);
    assert_eq!(version(db.clone()).await, scoring::SCORES_VERSION);

    let mut rows: Vec<(Option<Uuid>, i32, f64)> = score_contribution::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.account_id, c.count, c.points))
        .collect();
    rows.sort_by_key(|r| (r.0 != Some(initech), r.0));
    assert_eq!(rows, [(Some(initech), 2, 20.0), (Some(globex), 1, 10.0)]);
    let score = |id| {
        let db = db.clone();
        async move {
            account::Entity::find_by_id(id)
                .one(&db)
                .await
                .unwrap()
                .unwrap()
                .score
        }
    };
    assert_eq!((score(initech).await, score(globex).await), (20.0, 10.0));
    let person = stakeholder::Entity::find_by_id(ada)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(person.score, 30.0);
    // Once is enough: the next start finds nothing to do.
    assert_eq!(scoring::rescore_outdated(&db).await.unwrap(), 0);
}

/// The migrations before continuous phases became positions of their own.
const BEFORE_PHASES: u32 = 10;

#[tokio::test]
async fn phases_become_positions_of_their_own_and_every_path_is_rebuilt() {
    use entity::{journey_model, stage_position, stage_transition};
    use journeys_core::journeys::backfill::{self, Backfill, BackfillSettings, BackfillState};

    let (url, _dir) = fresh_database_url().await;
    let db = Database::connect(&url).await.unwrap();
    Migrator::up(&db, Some(BEFORE_PHASES)).await.unwrap();
    let now = Utc::now();
    let [ws, acme, model, discover, advocate] = [(); 5].map(|_| Uuid::now_v7());
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
    insert(
        &db,
        "accounts",
        [
            ("id", acme.into()),
            ("workspace_id", ws.into()),
            ("name", "Acme".into()),
            ("lifecycle", "VISITOR".into()),
            ("score", 0.0.into()),
            ("created_at", now.into()),
            ("updated_at", now.into()),
        ],
    )
    .await;
    insert(
        &db,
        "journey_models",
        [
            ("id", model.into()),
            ("workspace_id", ws.into()),
            ("name", "B2B".into()),
            ("template", "BABCOCK_JENKINS".into()),
            ("circular", false.into()),
            ("is_default", true.into()),
            ("created_at", now.into()),
        ],
    )
    .await;
    for (id, key, position, continuous, kinds) in [
        (discover, "discover", 0, false, ["page.visited"]),
        (advocate, "advocate", 1, true, ["tweet.mention"]),
    ] {
        insert(
            &db,
            "stages",
            [
                ("id", id.into()),
                ("workspace_id", ws.into()),
                ("model_id", model.into()),
                ("key", key.into()),
                ("name", key.into()),
                ("position", position.into()),
                ("owner_team", "MARKETING".into()),
                ("target_duration_secs", 86_400_i64.into()),
                ("continuous", continuous.into()),
                (
                    "entry_kinds",
                    sea_orm::Value::from(serde_json::json!(kinds)),
                ),
                (
                    "entry_channels",
                    sea_orm::Value::from(serde_json::json!([])),
                ),
            ],
        )
        .await;
    }
    // Before: the phase replaced the sequence stage it was entered from.
    let day = |d: i64| now - Duration::days(d);
    for (to, from, at) in [(discover, None, day(3)), (advocate, Some(discover), day(2))] {
        insert(
            &db,
            "stage_transitions",
            [
                ("id", Uuid::now_v7().into()),
                ("workspace_id", ws.into()),
                ("account_id", acme.into()),
                ("model_id", model.into()),
                ("from_stage_id", from.into()),
                ("to_stage_id", to.into()),
                ("occurred_at", at.into()),
                ("cause", "MANUAL".into()),
                ("actor", "sam".into()),
                ("reason", "by hand".into()),
            ],
        )
        .await;
    }
    insert(
        &db,
        "stage_positions",
        [
            ("id", Uuid::now_v7().into()),
            ("workspace_id", ws.into()),
            ("account_id", acme.into()),
            ("model_id", model.into()),
            ("stage_id", advocate.into()),
            ("entered_at", day(2).into()),
        ],
    )
    .await;

    Migrator::up(&db, None).await.unwrap();

    let phases: Vec<(Uuid, bool)> = stage_transition::Entity::find()
        .order_by_asc(stage_transition::Column::OccurredAt)
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.to_stage_id, t.phase))
        .collect();
    assert_eq!(phases, [(discover, false), (advocate, true)]);
    let b2b = journey_model::Entity::find_by_id(model)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        Backfill::of(&b2b, Utc::now()),
        Backfill {
            state: BackfillState::Pending,
            processed: 0,
            total: 1
        }
    );
    // The rebuild puts the account back in Discover, with Advocate beside it,
    // due a day after it entered Discover.
    assert_eq!(
        backfill::run_pending(&db, BackfillSettings::default())
            .await
            .unwrap(),
        1
    );
    let mut positions: Vec<(Uuid, bool, bool)> = stage_position::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.stage_id, p.phase, p.due_at.is_some()))
        .collect();
    positions.sort();
    let mut expected = vec![(discover, false, true), (advocate, true, false)];
    expected.sort();
    assert_eq!(positions, expected);
    let from: Vec<Option<Uuid>> = stage_transition::Entity::find()
        .order_by_asc(stage_transition::Column::OccurredAt)
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.from_stage_id)
        .collect();
    assert_eq!(from, [None, None], "entering a phase leaves no stage");
}
