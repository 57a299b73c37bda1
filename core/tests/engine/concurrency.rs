//! Batches for the same person and account at once, as connectors and
//! scripts send them: each batch waits for the ones it overlaps, so the
//! stored scores and paths are those one batch at a time would leave. On
//! SQLite write transactions already run one at a time; on PostgreSQL this
//! is what row locks in id order give.

use entity::vocab::Channel;
use futures_util::future::join_all;
use journeys_core::scoring::rules::RuleSpec;
use journeys_core::testing::Touch;

use crate::progression::{default_model, fixture, path, position};
use crate::scoring::{breakdown_in, close, recomputation};
use crate::{Engine, rule};

/// Records every batch at once and waits for all of them.
async fn all_at_once(e: &Engine, batches: Vec<Vec<Touch>>) {
    join_all(batches.into_iter().map(|batch| e.record_ok(batch))).await;
}

#[tokio::test]
async fn overlapping_batches_score_a_person_as_one_batch_at_a_time_would() {
    let e = Engine::new().await;
    let initech = e.account("Initech", &["initech.com"]).await;
    e.upsert_rule(rule("webinar", Some("webinar.attended"), None, 10.0))
        .await;
    e.upsert_rule(RuleSpec {
        max_count: Some(4),
        half_life_days: Some(30.0),
        ..rule("emails", None, Some(Channel::Email), 2.0)
    })
    .await;
    let ada = "ada@initech.com";
    let first = e
        .record_ok([Touch::new(
            "w-0",
            "webinar.attended",
            Channel::Webinar,
            "2026-11-01T09:00:00Z",
        )
        .email(ada)])
        .await;
    let person = first[0].stakeholder_id.unwrap();
    let batches = (1..=6)
        .map(|b| {
            (0..5)
                .flat_map(|i| {
                    let at = format!("2026-11-{:02}T{:02}:00:00Z", b + 1, 9 + i);
                    [
                        Touch::new(
                            &format!("w-{b}-{i}"),
                            "webinar.attended",
                            Channel::Webinar,
                            &at,
                        )
                        .email(ada),
                        Touch::new(&format!("e-{b}-{i}"), "email.opened", Channel::Email, &at)
                            .email(ada),
                    ]
                })
                .collect()
        })
        .collect();
    all_at_once(&e, batches).await;

    let stored = breakdown_in(e.db(), e.ws, person).await;
    let stored_person = journeys_core::people::stakeholders::find(e.db(), e.ws, person)
        .await
        .unwrap();
    let stored_account = journeys_core::people::accounts::find(e.db(), e.ws, initech.id)
        .await
        .unwrap();
    // Every webinar counted once, the emails up to their cap.
    let counts: Vec<(&str, i32)> = stored.iter().map(|p| (p.0.as_str(), p.1)).collect();
    assert_eq!(counts, [("emails", 4), ("webinar", 31)]);
    let recomputed = recomputation(&e, person, Some(initech.id)).await;
    let full = &recomputed.parts;
    let account_score = recomputed.account_score.unwrap();
    assert_eq!(stored.len(), full.len(), "{stored:?} against {full:?}");
    for (s, f) in stored.iter().zip(full) {
        assert!(
            s.0 == f.0 && s.1 == f.1 && close(s.2, f.2),
            "{stored:?} against {full:?}"
        );
    }
    assert!(
        close(stored_person.score, recomputed.score),
        "{} against {}",
        stored_person.score,
        recomputed.score
    );
    assert!(
        close(stored_account.score, account_score),
        "{} against {account_score}",
        stored_account.score
    );
}

#[tokio::test]
async fn overlapping_batches_walk_an_account_as_one_batch_would() {
    let e = Engine::new().await;
    let together = e.account("Together", &["together.com"]).await;
    let apart = e.account("Apart", &["apart.com"]).await;
    let model = default_model(&e).await.id;
    e.record_ok(fixture("together.com")).await;
    // Each touchpoint from someone else: the batches overlap only on the
    // account.
    let batches = (fixture("apart.com").into_iter().enumerate().rev())
        .map(|(i, t)| vec![t.email(&format!("p{i}@apart.com"))])
        .collect();
    all_at_once(&e, batches).await;
    assert_eq!(
        path(&e, apart.id, model).await,
        path(&e, together.id, model).await
    );
    assert_eq!(
        position(&e, apart.id, model).await,
        position(&e, together.id, model).await
    );
}
