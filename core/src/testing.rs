//! Test support shared by the engine's own tests and the HTTP tests above it
//! (feature `testing`): a fresh database per test and one builder for
//! touchpoints, so every suite describes a fixture the same way.

use chrono::{DateTime, Utc};
use entity::vocab::{Channel, Emotion, OwnerTeam};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use tempfile::TempDir;
use uuid::Uuid;

use crate::db::{self, StatementCounter};
use crate::ingestion::{NewPerson, RawTouchpoint};

/// A migrated, empty database that lives as long as this value: a temporary
/// SQLite file, or a new PostgreSQL database when `TEST_DATABASE_URL` names a
/// server (the URL of a database the test may create others from).
pub struct TestDatabase {
    pub db: DatabaseConnection,
    pub url: String,
    pub statements: StatementCounter,
    _scratch: Scratch,
}

/// Where a test's database lives, removed when this is dropped: a temporary
/// directory for SQLite, or a database on the `TEST_DATABASE_URL` server,
/// dropped with its sessions so that a run leaves nothing behind.
pub enum Scratch {
    Sqlite(TempDir),
    Postgres { admin_url: String, name: String },
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let Self::Postgres { admin_url, name } = self else {
            return;
        };
        let drop_database = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
        let admin_url = admin_url.clone();
        // The test's runtime cannot be blocked on from within: a thread with
        // its own. A database left behind only costs disk, so failures pass.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let admin = Database::connect(&admin_url).await.ok()?;
                admin.execute_unprepared(&drop_database).await.ok()?;
                admin.close().await.ok()
            })
        })
        .join();
    }
}

/// The URL of a fresh, empty database, and where it lives (the database
/// goes when that does).
pub async fn fresh_database_url() -> (String, Scratch) {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            let name = format!("journeys_test_{}", Uuid::now_v7().simple());
            let admin = Database::connect(&admin_url)
                .await
                .expect("connect to TEST_DATABASE_URL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .expect("create the test database");
            admin.close().await.ok();
            let (base, _) = admin_url
                .rsplit_once('/')
                .expect("TEST_DATABASE_URL has a database path");
            let url = format!("{base}/{name}");
            (url, Scratch::Postgres { admin_url, name })
        }
        _ => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}/journeys.db?mode=rwc", dir.path().display());
            (url, Scratch::Sqlite(dir))
        }
    }
}

/// A fresh database, connected and migrated.
pub async fn fresh_database() -> TestDatabase {
    let (url, scratch) = fresh_database_url().await;
    let statements = StatementCounter::default();
    let db = db::connect(&url, &statements)
        .await
        .expect("connect to and migrate the test database");
    TestDatabase {
        db,
        url,
        statements,
        _scratch: scratch,
    }
}

/// How many migrations the database records as applied.
pub async fn applied_migrations(db: &DatabaseConnection) -> usize {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM seaql_migrations",
        ))
        .await
        .expect("read seaql_migrations")
        .expect("a count");
    let n: i64 = row.try_get("", "n").expect("a number");
    usize::try_from(n).expect("a count")
}

/// A touchpoint for a fixture: `Touch::new(id, kind, channel, at)` with the
/// source `api`, then only what the test is about.
///
/// ```ignore
/// Touch::new("w1", "webinar.registered", Channel::Webinar, "2026-03-01T10:00:00Z")
///     .source("zoom")
///     .email("ada@initech.com")
/// ```
#[derive(Debug, Clone)]
pub struct Touch(RawTouchpoint);

impl Touch {
    /// `at` is RFC 3339; a fixture with a bad time is a bug in the test.
    pub fn new(external_id: &str, kind: &str, channel: Channel, at: &str) -> Self {
        let occurred_at = DateTime::parse_from_rfc3339(at)
            .unwrap_or_else(|e| panic!("fixture time {at:?}: {e}"))
            .with_timezone(&Utc);
        Self::at(external_id, kind, channel, occurred_at)
    }

    pub fn at(external_id: &str, kind: &str, channel: Channel, at: DateTime<Utc>) -> Self {
        Self(RawTouchpoint::new("api", external_id, channel, kind, at))
    }

    pub fn source(mut self, source: &str) -> Self {
        self.0.source = source.to_owned();
        self
    }

    /// The person, by email.
    pub fn email(self, email: &str) -> Self {
        self.person(|p| p.email = Some(email.to_owned()))
    }

    /// Sets what `edit` sets on the person the touchpoint is with.
    pub fn person(mut self, edit: impl FnOnce(&mut NewPerson)) -> Self {
        edit(self.0.person.get_or_insert_with(NewPerson::default));
        self
    }

    pub fn account(mut self, account: Uuid) -> Self {
        self.0.account = Some(account);
        self
    }

    pub fn stakeholder(mut self, stakeholder: Uuid) -> Self {
        self.0.stakeholder = Some(stakeholder);
        self
    }

    pub fn owner_team(mut self, team: OwnerTeam) -> Self {
        self.0.owner_team = Some(team);
        self
    }

    pub fn actor(mut self, actor: &str) -> Self {
        self.0.actor = Some(actor.to_owned());
        self
    }

    pub fn emotion(mut self, emotion: Emotion) -> Self {
        self.0.emotion = Some(emotion);
        self
    }

    pub fn sentiment(mut self, sentiment: f64) -> Self {
        self.0.sentiment = Some(sentiment);
        self
    }

    pub fn score(mut self, score: f64) -> Self {
        self.0.score = Some(score);
        self
    }

    pub fn title(mut self, title: &str) -> Self {
        self.0.title = Some(title.to_owned());
        self
    }

    pub fn properties(mut self, properties: serde_json::Value) -> Self {
        self.0.properties = Some(properties);
        self
    }

    pub fn asset(mut self, key: &str, title: &str) -> Self {
        self.0.asset = Some(crate::ingestion::Asset {
            key: key.to_owned(),
            title: Some(title.to_owned()),
            url: None,
        });
        self
    }

    pub fn raw(&self) -> &RawTouchpoint {
        &self.0
    }
}

impl From<Touch> for RawTouchpoint {
    fn from(touch: Touch) -> Self {
        touch.0
    }
}
