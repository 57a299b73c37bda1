//! Nested pages read through the parent's index: at most a page and one
//! more row per parent, never every child and a window over them.

use entity::stakeholder;
use entity::vocab::Channel;
use journeys_core::batch::{Total, TouchpointOwner, touchpoint_pages_statement};
use journeys_core::ingestion::MAX_BATCH;
use journeys_core::page::{Page, Position, SortKey};
use journeys_core::testing::Touch;
use journeys_core::touchpoints::NEWEST_FIRST;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder};

use crate::{Engine, at};

const PEOPLE: usize = 200;

/// 4,000 touchpoints, 20 for each of 200 people, analyzed.
async fn twenty_touchpoints_each() -> Engine {
    let e = Engine::new().await;
    for batch in 0..4 {
        e.record_ok((0..MAX_BATCH).map(|i| {
            let n = batch * MAX_BATCH + i;
            let at = format!("2026-03-{:02}T{:02}:00:00Z", 1 + n % 28, n % 24);
            Touch::new(&format!("t-{n}"), "page.visited", Channel::Web, &at)
                .email(&format!("p{}@example.com", n % PEOPLE))
        }))
        .await;
    }
    let analyze = match e.db().get_database_backend() {
        DbBackend::Postgres => "VACUUM ANALYZE",
        _ => "ANALYZE",
    };
    e.db().execute_unprepared(analyze).await.unwrap();
    e
}

/// The touchpoint pages of five people, first and past a cursor, with their
/// counts: each person's page is an index range of `(workspace, stakeholder)`
/// that stops after 11 rows, and the counts come from the same index.
#[tokio::test]
async fn a_touchpoint_page_per_person_reads_its_page_through_the_index() {
    let e = twenty_touchpoints_each().await;
    let backend = e.db().get_database_backend();
    let people: Vec<_> = stakeholder::Entity::find()
        .filter(stakeholder::Column::WorkspaceId.eq(e.ws))
        .order_by_asc(stakeholder::Column::Id)
        .all(e.db())
        .await
        .unwrap()
        .iter()
        .take(5)
        .map(|p| p.id)
        .collect();
    assert_eq!(people.len(), 5);
    let past = Page {
        after: Some(Position {
            key: SortKey::Time(at("2026-03-15T00:00:00Z")),
            id: uuid::Uuid::nil(),
        }),
        ..Page::first(10)
    };
    for page in [Page::first(10), past] {
        let stmt = touchpoint_pages_statement(
            backend,
            e.ws,
            TouchpointOwner::Stakeholder,
            &people,
            NEWEST_FIRST,
            &page,
            Total::Count,
        );
        let plan = e.plan(backend.build(&stmt), true).await;
        assert!(
            !plan.contains("Seq Scan") && !plan.contains("SCAN touchpoints"),
            "{plan}"
        );
        assert!(!plan.contains("SCAN r"), "{plan}");
        assert!(!plan.contains("WindowAgg"), "{plan}");
        match backend {
            DbBackend::Postgres => {
                let (scan, condition) = index_scan(&plan, "Index Scan");
                assert!(
                    condition.contains("workspace_id") && condition.contains("stakeholder_id"),
                    "both key columns bound the page's scan:\n{plan}"
                );
                let rows = actual_rows(scan);
                assert!(rows <= 11.0, "{rows} rows a person:\n{plan}");
                assert!(scan.contains("loops=5"), "one range a person:\n{plan}");
                let (_, condition) = index_scan(&plan, "Index Only Scan");
                assert!(
                    condition.contains("workspace_id") && condition.contains("stakeholder_id"),
                    "the counts read the index alone:\n{plan}"
                );
            }
            _ => {
                let searches = plan
                    .lines()
                    .filter(|l| {
                        l.contains(
                            "idx_touchpoints_ws_stakeholder_time (workspace_id=? AND stakeholder_id=?",
                        )
                    })
                    .count();
                assert_eq!(searches, 2, "the page and the counts:\n{plan}");
            }
        }
    }
}

/// The first step of `kind` on the stakeholder index in a PostgreSQL plan,
/// and its `Index Cond`.
fn index_scan<'a>(plan: &'a str, kind: &str) -> (&'a str, &'a str) {
    let mut lines = plan.lines();
    let scan = lines
        .find(|l| {
            l.contains(&format!("{kind} using idx_touchpoints_ws_stakeholder_time"))
                || l.contains(&format!(
                    "{kind} Backward using idx_touchpoints_ws_stakeholder_time"
                ))
        })
        .unwrap_or_else(|| panic!("no {kind} on the stakeholder index:\n{plan}"));
    let condition = lines
        .find(|l| l.contains("Index Cond"))
        .unwrap_or_else(|| panic!("no Index Cond:\n{plan}"));
    (scan, condition)
}

/// The rows a step returned per loop, from `(actual time=… rows=R loops=L)`.
fn actual_rows(step: &str) -> f64 {
    let actual = &step[step.find("actual").expect("EXPLAIN ANALYZE")..];
    let rows = &actual[actual.find("rows=").unwrap() + 5..];
    rows[..rows.find(' ').unwrap()].parse().unwrap()
}
