//! Rebuilding paths: a model added to a workspace with history, or whose
//! entry rules change, gives every account the path its touchpoints would
//! have given, built a chunk of accounts at a time.

use std::time::Duration;

use entity::vocab::{Channel, JourneyTemplate};
use entity::{journey_model, stage};
use journeys_core::journeys::backfill::{self, Backfill, BackfillSettings, BackfillState};
use journeys_core::journeys::editing::{self, StageChanges};
use journeys_core::journeys::models;
use journeys_core::journeys::progression::move_by_hand;
use journeys_core::{db, time};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use crate::Engine;
use crate::progression::{ada, default_model, fixture, mv, path, position};

/// One account per chunk, so that a rebuild of three takes several.
const SMALL: BackfillSettings = BackfillSettings {
    chunk: 1,
    lease: Duration::from_secs(30),
    tick: Duration::from_secs(5),
};

async fn model(e: &Engine, id: Uuid) -> journey_model::Model {
    journey_model::Entity::find_by_id(id)
        .one(e.db())
        .await
        .unwrap()
        .unwrap()
}

async fn progress(e: &Engine, id: Uuid) -> Backfill {
    Backfill::of(&model(e, id).await, time::now())
}

/// Three accounts with the five-stage fixture's touchpoints.
async fn history(e: &Engine) -> Vec<Uuid> {
    let mut accounts = Vec::new();
    for d in ["a.com", "b.com", "c.com"] {
        accounts.push(e.account(d, &[d]).await.id);
        e.record_ok(fixture(d)).await;
    }
    accounts
}

#[tokio::test]
async fn a_new_model_gives_every_account_the_path_its_history_would_have_given() {
    // Where the model existed from the start.
    let punctual = Engine::new().await;
    let kopan =
        models::create_from_template(punctual.db(), punctual.ws, JourneyTemplate::Kopan, false)
            .await
            .unwrap();
    let on_time = history(&punctual).await;
    let expected = path(&punctual, on_time[0], kopan.id).await;
    assert!(
        expected.len() >= 2,
        "the fixture moves accounts through KOPAN"
    );

    let e = Engine::new().await;
    let accounts = history(&e).await;
    let added = models::create_from_template(e.db(), e.ws, JourneyTemplate::Kopan, false)
        .await
        .unwrap();
    // Nothing yet: the rebuild waits for an instance to take it.
    assert_eq!(
        progress(&e, added.id).await,
        Backfill {
            state: BackfillState::Pending,
            processed: 0,
            total: 3
        }
    );
    assert_eq!(path(&e, accounts[0], added.id).await, []);
    assert_eq!(backfill::run_pending(e.db(), SMALL).await.unwrap(), 1);
    assert_eq!(
        progress(&e, added.id).await,
        Backfill {
            state: BackfillState::Done,
            processed: 3,
            total: 3
        }
    );
    for (account, punctual_account) in accounts.iter().zip(&on_time) {
        assert_eq!(
            path(&e, *account, added.id).await,
            path(&punctual, *punctual_account, kopan.id).await
        );
        assert_eq!(
            position(&e, *account, added.id).await,
            position(&punctual, *punctual_account, kopan.id).await
        );
    }
    // A late touchpoint afterwards replays on top of the whole history: the
    // first stage stays where the first touchpoint put it.
    let d = "a.com";
    e.record_ok([ada(
        d,
        "late",
        "page.visited",
        Channel::Web,
        "2026-01-15T09:00:00Z",
    )])
    .await;
    punctual
        .record_ok([ada(
            d,
            "late",
            "page.visited",
            Channel::Web,
            "2026-01-15T09:00:00Z",
        )])
        .await;
    assert_eq!(
        path(&e, accounts[0], added.id).await,
        path(&punctual, on_time[0], kopan.id).await
    );
    // Nothing is left to do, and the other models were not touched.
    assert_eq!(backfill::run_pending(e.db(), SMALL).await.unwrap(), 0);
    let default = default_model(&e).await;
    assert_eq!(progress(&e, default.id).await.state, BackfillState::Done);
}

#[tokio::test]
async fn a_model_on_a_workspace_without_accounts_is_done_at_once() {
    let e = Engine::new().await;
    let added = models::create_from_template(e.db(), e.ws, JourneyTemplate::Aida, false)
        .await
        .unwrap();
    assert_eq!(
        progress(&e, added.id).await,
        Backfill {
            state: BackfillState::Done,
            processed: 0,
            total: 0
        }
    );
}

#[tokio::test]
async fn changed_entry_rules_rebuild_every_path_and_keep_manual_moves() {
    let e = Engine::new().await;
    let accounts = history(&e).await;
    let model = default_model(&e).await;
    let stages = stage::Entity::find()
        .filter(stage::Column::ModelId.eq(model.id))
        .order_by_asc(stage::Column::Position)
        .all(e.db())
        .await
        .unwrap();
    let [awareness, consideration, _, retention, _] = [0, 1, 2, 3, 4].map(|i| stages[i].clone());
    // A manual move of the second account, after its touchpoints.
    let txn = db::begin_write(e.db()).await.unwrap();
    move_by_hand(
        &txn,
        e.ws,
        accounts[1],
        awareness.id,
        "sam",
        "back to the start",
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    // Consideration now also takes tweets: every account considered on
    // 01-01, from its first touchpoint on.
    let txn = db::begin_write(e.db()).await.unwrap();
    let edited = editing::update_stage(
        &txn,
        e.ws,
        consideration.id,
        StageChanges {
            entry_kinds: Some(vec!["tweet.mention".into(), "webinar.registered".into()]),
            ..StageChanges::default()
        },
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    assert!(edited.model.backfill_pending);
    assert_eq!(backfill::run_pending(e.db(), SMALL).await.unwrap(), 1);
    let rebuilt = [
        mv(None, "consideration", "01-01", "t1"),
        mv(Some("consideration"), "purchase_decision", "02-01", "t4"),
        mv(Some("purchase_decision"), "retention", "03-01", "t5"),
    ];
    assert_eq!(path(&e, accounts[0], model.id).await, rebuilt);
    let by_hand = path(&e, accounts[1], model.id).await;
    assert_eq!(by_hand[..3], rebuilt);
    assert_eq!(by_hand.len(), 4);
    assert_eq!(by_hand[3].0.as_deref(), Some(retention.key.as_str()));
    assert_eq!(by_hand[3].1, awareness.key);
    assert_eq!(by_hand[3].3, "-");
    // A change that leaves the rules as they were rebuilds nothing.
    let txn = db::begin_write(e.db()).await.unwrap();
    let renamed = editing::update_stage(
        &txn,
        e.ws,
        consideration.id,
        StageChanges {
            name: Some("Thinking it over".into()),
            ..StageChanges::default()
        },
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    assert!(!renamed.model.backfill_pending);
}

#[tokio::test]
async fn a_rebuild_held_by_a_live_instance_waits_and_a_lapsed_one_is_taken_over() {
    let e = Engine::new().await;
    let accounts = history(&e).await;
    let added = models::create_from_template(e.db(), e.ws, JourneyTemplate::Kopan, false)
        .await
        .unwrap();
    // Another instance took it and got through the first account.
    let held = journey_model::ActiveModel {
        id: Set(added.id),
        backfill_after: Set(Some(accounts[0])),
        backfill_processed: Set(1),
        backfill_lease_until: Set(Some(time::now() + chrono::Duration::seconds(30))),
        ..Default::default()
    };
    held.update(e.db()).await.unwrap();
    assert_eq!(progress(&e, added.id).await.state, BackfillState::Running);
    assert_eq!(backfill::run_pending(e.db(), SMALL).await.unwrap(), 0);
    assert_eq!(progress(&e, added.id).await.processed, 1);
    // It died: its lease lapses and this instance goes on from where it stopped.
    let lapsed = journey_model::ActiveModel {
        id: Set(added.id),
        backfill_lease_until: Set(Some(time::now() - chrono::Duration::seconds(1))),
        ..Default::default()
    };
    lapsed.update(e.db()).await.unwrap();
    assert_eq!(progress(&e, added.id).await.state, BackfillState::Pending);
    assert_eq!(backfill::run_pending(e.db(), SMALL).await.unwrap(), 1);
    assert_eq!(
        progress(&e, added.id).await,
        Backfill {
            state: BackfillState::Done,
            processed: 3,
            total: 3
        }
    );
    // The first account was the dead instance's to do; the others have paths.
    assert_eq!(path(&e, accounts[0], added.id).await, []);
    assert!(!path(&e, accounts[2], added.id).await.is_empty());
}

#[tokio::test]
async fn two_instances_rebuilding_at_once_share_the_work() {
    let e = Engine::new().await;
    let accounts = history(&e).await;
    let added = models::create_from_template(e.db(), e.ws, JourneyTemplate::Kopan, false)
        .await
        .unwrap();
    // Both see it lapsed: the second claim fails, or both work chunk by chunk.
    let (a, b) = tokio::join!(
        backfill::run_pending(e.db(), SMALL),
        backfill::run_pending(e.db(), SMALL)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    assert_eq!(
        progress(&e, added.id).await,
        Backfill {
            state: BackfillState::Done,
            processed: 3,
            total: 3
        }
    );
    let first = path(&e, accounts[0], added.id).await;
    for account in &accounts[1..] {
        // The same touchpoints, each once: the same stages on the same days.
        let other: Vec<_> = path(&e, *account, added.id).await;
        assert_eq!(other, first);
    }
}
