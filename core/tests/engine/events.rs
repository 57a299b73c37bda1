//! The event log: each change appends its events in its own transaction,
//! numbered 1, 2, 3… per workspace with no gap and no repeat.

use entity::event;
use entity::vocab::{Channel, EventType, Lifecycle};
use futures_util::future::join_all;
use journeys_core::events::{self, NewEvent};
use journeys_core::lifecycle::{self, Change, Subject};
use journeys_core::testing::Touch;
use journeys_core::{db, merges, privacy, workspaces};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::Engine;

/// A workspace's whole log, oldest first.
async fn log(e: &Engine, ws: uuid::Uuid) -> Vec<event::Model> {
    events::between(
        e.db(),
        ws,
        0,
        i64::MAX,
        &events::EventFilter::default(),
        10_000,
    )
    .await
    .unwrap()
}

fn types(log: &[event::Model]) -> Vec<EventType> {
    log.iter().map(|e| e.event_type).collect()
}

fn assert_numbered_from_one(log: &[event::Model]) {
    let sequences: Vec<i64> = log.iter().map(|e| e.sequence).collect();
    let expected: Vec<i64> = (1..=log.len() as i64).collect();
    assert_eq!(sequences, expected);
}

#[tokio::test]
async fn a_batch_logs_its_touchpoints_new_people_and_stage_changes() {
    use EventType::{LifecycleChanged, StageChanged, TouchpointRecorded};
    let e = Engine::new().await;
    let initech = e.account("Initech", &["initech.com"]).await;
    let recorded = e
        .record_ok([
            Touch::new("v1", "page.visited", Channel::Web, "2026-03-01T10:00:00Z")
                .email("ada@initech.com"),
            Touch::new("v2", "page.visited", Channel::Web, "2026-03-02T10:00:00Z")
                .email("ada@initech.com"),
        ])
        .await;
    let ada = recorded[0].stakeholder_id.unwrap();
    let log = log(&e, e.ws).await;
    assert_numbered_from_one(&log);
    let recorded_events: Vec<_> = log
        .iter()
        .filter(|e| e.event_type == TouchpointRecorded)
        .collect();
    assert_eq!(recorded_events.len(), 2, "{log:?}");
    for (event, touchpoint) in recorded_events.iter().zip(&recorded) {
        assert_eq!(event.touchpoint_id, Some(touchpoint.id));
        assert_eq!(event.account_id, Some(initech.id));
        assert_eq!(event.stakeholder_id, Some(ada));
    }
    // Ada's first details made her a LEAD; Initech entered its first stage.
    let lead = log
        .iter()
        .find(|e| e.event_type == LifecycleChanged && e.account_id.is_none())
        .unwrap_or_else(|| panic!("Ada's change: {log:?}"));
    assert_eq!(lead.stakeholder_id, Some(ada));
    let change = journeys_core::lifecycle::changes_of(e.db(), e.ws, vec![], vec![ada])
        .await
        .unwrap();
    assert_eq!(lead.lifecycle_change_id, Some(change[0].id));
    let entered: Vec<_> = log
        .iter()
        .filter(|e| e.event_type == StageChanged)
        .collect();
    assert_eq!(
        entered.len(),
        1,
        "one entry, not one per touchpoint: {log:?}"
    );
    assert_eq!(entered[0].account_id, Some(initech.id));
    assert_eq!(entered[0].from_stage_id, None);
    assert!(entered[0].stage_id.is_some() && entered[0].model_id.is_some());
    assert!(
        types(&log)
            .iter()
            .all(|t| [TouchpointRecorded, LifecycleChanged, StageChanged].contains(t))
    );
}

#[tokio::test]
async fn a_redelivery_logs_nothing_and_a_change_logs_an_update() {
    let e = Engine::new().await;
    let first = Touch::new(
        "t1",
        "ticket.opened",
        Channel::Support,
        "2026-03-01T10:00:00Z",
    )
    .email("bo@example.com");
    e.record_ok([first.clone()]).await;
    let before = log(&e, e.ws).await.len();
    e.record_ok([first.clone()]).await;
    assert_eq!(log(&e, e.ws).await.len(), before, "unchanged: no event");
    let updated = e.record_ok([first.title("Cannot log in")]).await;
    let log = log(&e, e.ws).await;
    assert_numbered_from_one(&log);
    let last = log.last().unwrap();
    assert_eq!(last.event_type, EventType::TouchpointUpdated);
    assert_eq!(last.touchpoint_id, Some(updated[0].id));
    assert_eq!(log.len(), before + 1);
}

#[tokio::test]
async fn refused_items_and_rolled_back_changes_log_nothing() {
    let e = Engine::new().await;
    let recorded = e
        .record([Touch::new("bad", "", Channel::Web, "2026-03-01T10:00:00Z")])
        .await;
    assert!(recorded[0].result.is_err());
    assert!(log(&e, e.ws).await.is_empty());
    // A change whose transaction is rolled back leaves no event behind.
    let account = e.account("Initech", &[]).await;
    let before = log(&e, e.ws).await.len();
    let txn = db::begin_write(e.db()).await.unwrap();
    lifecycle::set(
        &txn,
        e.ws,
        Subject::Account(account.id),
        Change {
            from: Some(Lifecycle::Visitor),
            to: Lifecycle::Customer,
            at: journeys_core::time::now(),
            cause: "won",
            actor: Some("tester"),
            touchpoint: None,
        },
    )
    .await
    .unwrap();
    drop(txn);
    assert_eq!(log(&e, e.ws).await.len(), before);
}

#[tokio::test]
async fn each_workspace_numbers_its_own_log() {
    let e = Engine::new().await;
    let other = workspaces::create(e.db(), "other", "Other")
        .await
        .unwrap()
        .id;
    e.record_ok([Touch::new(
        "a",
        "page.visited",
        Channel::Web,
        "2026-03-01T10:00:00Z",
    )])
    .await;
    let txn = db::begin_write(e.db()).await.unwrap();
    events::append(&txn, other, vec![NewEvent::erased(uuid::Uuid::now_v7())])
        .await
        .unwrap();
    db::commit(txn).await.unwrap();
    let mine = log(&e, e.ws).await;
    let theirs = log(&e, other).await;
    assert_numbered_from_one(&mine);
    assert_numbered_from_one(&theirs);
    assert_eq!(types(&theirs), [EventType::StakeholderErased]);
    assert!(mine.iter().all(|ev| ev.workspace_id == e.ws));
    assert_eq!(events::latest(e.db(), other).await.unwrap(), 1);
}

#[tokio::test]
async fn merges_unmerges_and_erasures_are_logged() {
    use EventType::{MergeUndone, StakeholderErased, StakeholdersMerged};
    let e = Engine::new().await;
    let people = e
        .record_ok([
            Touch::new("a", "page.visited", Channel::Web, "2026-03-01T10:00:00Z")
                .email("ada@example.com"),
            Touch::new("b", "page.visited", Channel::Web, "2026-03-01T11:00:00Z")
                .email("ada@personal.example"),
        ])
        .await;
    let (ada, other) = (
        people[0].stakeholder_id.unwrap(),
        people[1].stakeholder_id.unwrap(),
    );
    let txn = db::begin_write(e.db()).await.unwrap();
    let merge = merges::merge(&txn, e.ws, ada, vec![other], "tester")
        .await
        .unwrap();
    db::commit(txn).await.unwrap();
    let txn = db::begin_write(e.db()).await.unwrap();
    merges::unmerge(&txn, e.ws, merge.id).await.unwrap();
    db::commit(txn).await.unwrap();
    let txn = db::begin_write(e.db()).await.unwrap();
    privacy::erase(&txn, e.ws, other).await.unwrap();
    db::commit(txn).await.unwrap();
    let log = log(&e, e.ws).await;
    assert_numbered_from_one(&log);
    let tail: Vec<_> = log
        .iter()
        .filter(|ev| [StakeholdersMerged, MergeUndone, StakeholderErased].contains(&ev.event_type))
        .map(|ev| (ev.event_type, ev.merge_id, ev.stakeholder_id))
        .collect();
    assert_eq!(
        tail,
        [
            (StakeholdersMerged, Some(merge.id), Some(ada)),
            (MergeUndone, Some(merge.id), Some(ada)),
            (StakeholderErased, None, Some(other)),
        ]
    );
}

#[tokio::test]
async fn retention_prunes_old_events_but_numbering_goes_on() {
    let e = Engine::new().await;
    e.record_ok((0..5).map(|i| {
        Touch::new(
            &format!("t{i}"),
            "page.visited",
            Channel::Web,
            "2026-03-01T10:00:00Z",
        )
    }))
    .await;
    let latest = events::latest(e.db(), e.ws).await.unwrap();
    assert!(latest >= 5);
    let pruned = events::prune(
        e.db(),
        journeys_core::time::now() + chrono::Duration::seconds(1),
    )
    .await
    .unwrap();
    // All but the workspace's latest, after which new events are numbered.
    assert_eq!(pruned, latest as u64 - 1);
    let left = log(&e, e.ws).await;
    assert_eq!(
        left.iter().map(|ev| ev.sequence).collect::<Vec<_>>(),
        [latest]
    );
    e.record_ok([Touch::new(
        "later",
        "page.visited",
        Channel::Web,
        "2026-03-02T10:00:00Z",
    )])
    .await;
    let after = log(&e, e.ws).await;
    assert_eq!(after[1].sequence, latest + 1, "{after:?}");
    // Nothing recorded within the retention is pruned.
    let old = journeys_core::time::now() - chrono::Duration::days(30);
    assert_eq!(events::prune(e.db(), old).await.unwrap(), 0);
}

/// Writers in one workspace at once: every number is taken once and none
/// is skipped.
#[tokio::test]
async fn concurrent_batches_share_one_numbering() {
    let e = Engine::new().await;
    let batches = (0..4).map(|b| {
        let e = &e;
        async move {
            e.record_ok((0..25).map(|i| {
                Touch::new(
                    &format!("{b}-{i}"),
                    "page.visited",
                    Channel::Web,
                    "2026-03-01T10:00:00Z",
                )
            }))
            .await
        }
    });
    join_all(batches).await;
    let log = log(&e, e.ws).await;
    assert_numbered_from_one(&log);
    let recorded = event::Entity::find()
        .filter(event::Column::WorkspaceId.eq(e.ws))
        .filter(event::Column::EventType.eq(EventType::TouchpointRecorded))
        .order_by_asc(event::Column::Sequence)
        .all(e.db())
        .await
        .unwrap();
    assert_eq!(recorded.len(), 100);
}
