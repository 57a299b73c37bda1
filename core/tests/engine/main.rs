//! The engine in process against a real database: ingestion, progression,
//! scoring, lifecycle and analytics through `journeys-core`'s own functions,
//! no GraphQL and no HTTP. SQLite by default; a new PostgreSQL database per
//! test when `TEST_DATABASE_URL` names a server.
//!
//! Every touchpoint is a `journeys_core::testing::Touch`; the helpers below
//! only record them and read back what the engine wrote.

mod account_scores;
mod analytics;
mod backfill;
mod concurrency;
mod dmu;
mod engagement;
mod events;
mod ingestion;
mod lifecycle;
mod lifecycle_rules;
mod live;
mod migrations;
mod next_steps;
mod outbound;
mod pages;
mod privacy;
mod progression;
mod revocations;
mod scoring;
mod stage_insights;
mod team_handoffs;

use chrono::{DateTime, Utc};
use entity::vocab::{Channel, Lifecycle};
use entity::{account, scoring_rule, touchpoint};
use journeys_core::ingestion::{NewTouchpoint, RawTouchpoint, RecordOutcome, Recorded};
use journeys_core::lifecycle::{Subject, changes_of};
use journeys_core::people::accounts::{self, NewAccount};
use journeys_core::scoring::rules::{self, RuleSpec};
use journeys_core::testing::{TestDatabase, fresh_database};
use journeys_core::{CoreError, CoreResult, db, workspaces};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, Statement};
use uuid::Uuid;

/// A fresh database with one workspace, `acme`, and its default FIVE_STAGE
/// model. Holds the database for as long as the test runs.
pub struct Engine {
    pub test: TestDatabase,
    pub ws: Uuid,
}

impl Engine {
    pub async fn new() -> Self {
        let test = fresh_database().await;
        let ws = workspaces::create(&test.db, "acme", "Acme")
            .await
            .expect("create the workspace")
            .id;
        Self { test, ws }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.test.db
    }

    /// Records one batch as `recordTouchpoints` does: checked as of the time
    /// of each try, written in one transaction.
    pub async fn try_record(
        &self,
        items: impl IntoIterator<Item = impl Into<RawTouchpoint>>,
    ) -> CoreResult<Vec<Recorded>> {
        let raws: Vec<RawTouchpoint> = items.into_iter().map(Into::into).collect();
        journeys_core::ingestion::record(self.db(), self.ws, raws.len(), |now| {
            raws.iter()
                .map(|raw| NewTouchpoint::check(raw.clone(), now))
                .collect()
        })
        .await
    }

    pub async fn record(
        &self,
        items: impl IntoIterator<Item = impl Into<RawTouchpoint>>,
    ) -> Vec<Recorded> {
        self.try_record(items).await.expect("record the batch")
    }

    /// Records a batch every item of which must be written; returns them.
    pub async fn record_ok(
        &self,
        items: impl IntoIterator<Item = impl Into<RawTouchpoint>>,
    ) -> Vec<touchpoint::Model> {
        self.record(items)
            .await
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                assert_ne!(r.outcome, RecordOutcome::Failed, "item {i}: {:?}", r.result);
                r.result
                    .unwrap_or_else(|e| panic!("item {i}: {e:?}"))
                    .unwrap_or_else(|| panic!("item {i} is an erased person's"))
            })
            .collect()
    }

    /// Records each item in a batch of its own, in the order given.
    pub async fn record_one_by_one(
        &self,
        items: impl IntoIterator<Item = impl Into<RawTouchpoint>>,
    ) -> Vec<touchpoint::Model> {
        let mut out = Vec::new();
        for item in items {
            out.extend(self.record_ok([item]).await);
        }
        out
    }

    /// Creates an account as `createAccount` does, in a write transaction.
    pub async fn account_with(&self, new: NewAccount) -> account::Model {
        let txn = db::begin_write(self.db()).await.unwrap();
        let created = accounts::create(&txn, self.ws, new)
            .await
            .expect("create the account");
        db::commit(txn).await.unwrap();
        created
    }

    /// A visitor account with these domains.
    pub async fn account(&self, name: &str, domains: &[&str]) -> account::Model {
        self.account_with(NewAccount {
            domains: domains.iter().map(|d| (*d).to_owned()).collect(),
            ..NewAccount::named(name)
        })
        .await
    }

    /// Checks and upserts a scoring rule as `upsertScoringRule` does, which
    /// rescores the workspace.
    pub async fn upsert_rule(&self, rule: RuleSpec) -> scoring_rule::Model {
        let checked = rule.check().expect("a valid rule");
        let txn = db::begin_write(self.db()).await.unwrap();
        let saved = rules::upsert(&txn, self.ws, checked).await.unwrap();
        db::commit(txn).await.unwrap();
        saved
    }

    /// A subject's lifecycle changes, oldest first, as
    /// `(from, to, cause, external id of the touchpoint that caused it)`.
    pub async fn changes(&self, subject: Subject) -> Vec<Change> {
        let (accounts, people) = match subject {
            Subject::Account(id) => (vec![id], vec![]),
            Subject::Stakeholder(id) => (vec![], vec![id]),
        };
        let changes = changes_of(self.db(), self.ws, accounts, people)
            .await
            .unwrap();
        let mut out = Vec::new();
        for c in changes {
            out.push(Change {
                from: c.from_lifecycle,
                to: c.to_lifecycle,
                cause: c.cause.clone(),
                touchpoint: self.external_id(c.touchpoint_id).await,
                actor: c.actor.clone(),
                at: c.occurred_at,
            });
        }
        out
    }

    /// The plan `statement` gets, one line per step: `EXPLAIN` (with
    /// `ANALYZE` when asked, for the rows each step read) on PostgreSQL,
    /// `EXPLAIN QUERY PLAN` on SQLite.
    pub async fn plan(&self, statement: Statement, analyze: bool) -> String {
        let backend = self.db().get_database_backend();
        let (explain, column) = match backend {
            DbBackend::Postgres if analyze => ("EXPLAIN ANALYZE", 0),
            DbBackend::Postgres => ("EXPLAIN", 0),
            _ => ("EXPLAIN QUERY PLAN", 3),
        };
        let explain = Statement::from_sql_and_values(
            backend,
            format!("{explain} {}", statement.sql),
            statement.values.map(|v| v.0).unwrap_or_default(),
        );
        let lines: Vec<String> = self
            .db()
            .query_all_raw(explain)
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get_by_index::<String>(column).unwrap())
            .collect();
        lines.join("\n")
    }

    /// The external id of a touchpoint, if any.
    pub async fn external_id(&self, touchpoint: Option<Uuid>) -> Option<String> {
        let id = touchpoint?;
        let tp = touchpoint::Entity::find_by_id(id)
            .one(self.db())
            .await
            .unwrap()
            .expect("the touchpoint exists");
        Some(tp.external_id)
    }
}

/// A rule of `points` per touchpoint of a kind and/or on a channel, uncapped
/// and never decaying.
pub fn rule(name: &str, kind: Option<&str>, channel: Option<Channel>, points: f64) -> RuleSpec {
    RuleSpec {
        name: name.to_owned(),
        kind: kind.map(str::to_owned),
        channel,
        points,
        max_count: None,
        half_life_days: None,
    }
}

/// One lifecycle change as a test compares it.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub from: Option<Lifecycle>,
    pub to: Lifecycle,
    pub cause: String,
    pub touchpoint: Option<String>,
    pub actor: Option<String>,
    pub at: DateTime<Utc>,
}

impl Change {
    /// The part of a change that does not depend on when the test ran.
    pub fn what(&self) -> (Option<Lifecycle>, Lifecycle, &str, Option<&str>) {
        (
            self.from,
            self.to,
            self.cause.as_str(),
            self.touchpoint.as_deref(),
        )
    }
}

/// The first change of `changes` to `to`.
pub fn change_to(changes: &[Change], to: Lifecycle) -> &Change {
    changes
        .iter()
        .find(|c| c.to == to)
        .unwrap_or_else(|| panic!("no change to {to:?} in {changes:?}"))
}

/// An RFC 3339 time of a fixture.
pub fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("fixture time {text:?}: {e}"))
        .to_utc()
}

/// The field an input error names; panics on any other error.
pub fn refused_field(err: &CoreError) -> Option<&'static str> {
    match err {
        CoreError::InvalidInput { field, .. } => *field,
        other => panic!("expected invalid input, got {other:?}"),
    }
}
