//! Scoring: rule validation, capped and decayed sums worked out by hand, and
//! qualification at the MQL threshold.

use chrono::{DateTime, Utc};
use entity::stakeholder;
use entity::vocab::{Channel, Lifecycle};
use journeys_core::batch::contributions_of;
use journeys_core::lifecycle::Subject;
use journeys_core::people::accounts;
use journeys_core::people::stakeholders;
use journeys_core::scoring::rules::{self, RuleSpec};
use journeys_core::scoring::{self, decayed};
use journeys_core::testing::Touch;
use journeys_core::{db, time};
use uuid::Uuid;

use crate::{Engine, change_to, refused_field, rule as spec};

fn days_ago(days: i64) -> DateTime<Utc> {
    Utc::now() - chrono::Duration::days(days)
}

/// Equal to within what a second of decay or rounding moves a score.
pub fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() < 1e-3
}

async fn set_threshold(e: &Engine, mql: f64) {
    let txn = db::begin_write(e.db()).await.unwrap();
    scoring::set_mql_threshold(&txn, e.ws, mql).await.unwrap();
    db::commit(txn).await.unwrap();
}

async fn person(e: &Engine, id: Uuid) -> stakeholder::Model {
    stakeholders::find(e.db(), e.ws, id).await.unwrap()
}

/// A person's score today: each rule's stored contribution, decayed to now
/// (as the `score` field reads it), as `(rule, count, points)` by rule name.
async fn breakdown(e: &Engine, id: Uuid) -> Vec<(String, i32, f64)> {
    breakdown_in(e.db(), e.ws, id).await
}

pub async fn breakdown_in(
    db: &impl sea_orm::ConnectionTrait,
    ws: Uuid,
    id: Uuid,
) -> Vec<(String, i32, f64)> {
    let now = time::now();
    let mut parts: Vec<(String, i32, f64)> = contributions_of(db, ws, &[id])
        .await
        .unwrap()
        .remove(&id)
        .unwrap_or_default()
        .into_iter()
        .map(|(c, rule)| {
            let points = decayed(c.points, rule.half_life_days, c.reference_at, now);
            (rule.name, c.count, points)
        })
        .collect();
    parts.sort_by(|a, b| a.0.cmp(&b.0));
    parts
}

#[tokio::test]
async fn bad_rules_are_refused_naming_their_field_and_nothing_is_written() {
    let e = Engine::new().await;
    let webinar = || spec("webinar", Some("webinar.attended"), None, 10.0);
    let cases = [
        (spec("nothing", None, None, 1.0), None),
        (spec("blank kind", Some("  "), None, 1.0), None),
        (spec("", Some("x"), None, 1.0), Some("name")),
        (
            RuleSpec {
                points: f64::INFINITY,
                ..webinar()
            },
            Some("points"),
        ),
        (
            RuleSpec {
                max_count: Some(0),
                ..webinar()
            },
            Some("maxCount"),
        ),
        (
            RuleSpec {
                half_life_days: Some(-1.0),
                ..webinar()
            },
            Some("halfLifeDays"),
        ),
    ];
    for (rule, field) in cases {
        let name = rule.name.clone();
        let err = rule.check().unwrap_err();
        assert_eq!(refused_field(&err), field, "rule {name:?}: {err}");
    }
    let err = spec("nothing", None, None, 1.0).check().unwrap_err();
    assert_eq!(
        err.to_string(),
        "a rule needs a `kind`, a `channel`, or both"
    );
    let txn = db::begin_write(e.db()).await.unwrap();
    for bad in [-1.0, 0.0, f64::NAN] {
        let err = scoring::set_mql_threshold(&txn, e.ws, bad)
            .await
            .unwrap_err();
        assert_eq!(refused_field(&err), Some("mql"), "threshold {bad}");
    }
    db::commit(txn).await.unwrap();
    assert!(scoring::rules_of(e.db(), e.ws).await.unwrap().is_empty());
    assert_eq!(
        scoring::mql_threshold(e.db(), e.ws).await.unwrap(),
        scoring::DEFAULT_MQL_THRESHOLD
    );
}

/// Three rules, then Ada with two webinars, a tweet a week old and five
/// emails, and Bob with one webinar, both at Initech. Returns (Initech, Ada,
/// Bob).
async fn initech(e: &Engine) -> (Uuid, Uuid, Uuid) {
    let account = e.account("Initech", &["initech.com"]).await;
    e.upsert_rule(spec("webinar", Some("webinar.attended"), None, 10.0))
        .await;
    e.upsert_rule(RuleSpec {
        max_count: Some(3),
        ..spec("emails", None, Some(Channel::Email), 2.0)
    })
    .await;
    e.upsert_rule(RuleSpec {
        half_life_days: Some(7.0),
        ..spec("tweets", Some("tweet.mention"), None, 8.0)
    })
    .await;
    let ada = "ada@initech.com";
    let mut items = vec![
        Touch::at("w1", "webinar.attended", Channel::Webinar, days_ago(30)).email(ada),
        Touch::at("w2", "webinar.attended", Channel::Webinar, days_ago(20)).email(ada),
        Touch::at("t1", "tweet.mention", Channel::Social, days_ago(7)).email(ada),
        Touch::at("b1", "webinar.attended", Channel::Webinar, days_ago(3)).email("bob@initech.com"),
    ];
    for i in 0..5 {
        items.push(
            Touch::at(
                &format!("e{i}"),
                "email.opened",
                Channel::Email,
                days_ago(10 + i),
            )
            .email(ada),
        );
    }
    let written = e.record_ok(items).await;
    let ada = written[0].stakeholder_id.unwrap();
    let bob = written[3].stakeholder_id.unwrap();
    (account.id, ada, bob)
}

#[tokio::test]
async fn a_score_sums_capped_and_decayed_contributions() {
    let e = Engine::new().await;
    let (account, ada, bob) = initech(&e).await;
    // Webinars 2 x 10 = 20; emails capped at the newest 3 x 2 = 6; one tweet a
    // half-life old: 8 / 2 = 4. Ada 30.
    let parts = breakdown(&e, ada).await;
    let summary: Vec<(&str, i32)> = parts.iter().map(|(n, c, _)| (n.as_str(), *c)).collect();
    assert_eq!(summary, [("emails", 3), ("tweets", 1), ("webinar", 2)]);
    let points: Vec<f64> = parts.iter().map(|(_, _, p)| *p).collect();
    assert!(
        close(points[0], 6.0) && close(points[1], 4.0) && close(points[2], 20.0),
        "{parts:?}"
    );
    let ada = person(&e, ada).await;
    assert!(close(ada.score, 30.0), "stored {}", ada.score);
    // Below the default threshold of 50: still a lead.
    assert_eq!(ada.lifecycle, Lifecycle::Lead);
    assert!(close(person(&e, bob).await.score, 10.0));
    // The account's is the sum of its people's: 30 + 10.
    let initech = accounts::find(e.db(), e.ws, account).await.unwrap();
    assert!(close(initech.score, 40.0), "stored {}", initech.score);
    assert_eq!(initech.lifecycle, Lifecycle::Visitor);
}

#[tokio::test]
async fn a_lower_threshold_qualifies_who_is_over_it_and_a_touchpoint_who_crosses_it() {
    let e = Engine::new().await;
    let (account, ada, _) = initech(&e).await;
    // 35 is under Initech's 40 but over Ada's 30: the account qualifies now,
    // for the threshold change; Ada when a touchpoint takes her there.
    set_threshold(&e, 35.0).await;
    let changes = e.changes(Subject::Account(account)).await;
    assert_eq!(
        change_to(&changes, Lifecycle::Mql).what(),
        (
            Some(Lifecycle::Visitor),
            Lifecycle::Mql,
            "score 40.0 reached the MQL threshold 35 (the MQL threshold changed)",
            None
        )
    );
    assert_eq!(person(&e, ada).await.lifecycle, Lifecycle::Lead);

    let fresh = Utc::now();
    e.record_ok(
        [Touch::at("t2", "tweet.mention", Channel::Social, fresh).email("ada@initech.com")],
    )
    .await;
    assert_eq!(person(&e, ada).await.lifecycle, Lifecycle::Mql);
    let changes = e.changes(Subject::Stakeholder(ada)).await;
    // 30 + a fresh tweet's 8, at the tweet.
    let mql = change_to(&changes, Lifecycle::Mql);
    assert_eq!(
        mql.what(),
        (
            Some(Lifecycle::Lead),
            Lifecycle::Mql,
            "score 38.0 reached the MQL threshold 35",
            Some("t2")
        )
    );
    assert_eq!(mql.at, time::to_micros(fresh));
    // Raising it again takes no one back.
    set_threshold(&e, 100.0).await;
    assert_eq!(person(&e, ada).await.lifecycle, Lifecycle::Mql);
}

#[tokio::test]
async fn the_touchpoint_that_crossed_the_threshold_is_credited_whatever_the_batch_order() {
    let e = Engine::new().await;
    e.upsert_rule(spec("webinar", Some("webinar.attended"), None, 20.0))
        .await;
    let ada = "ada@initech.com";
    let webinar = |id: &str, days| {
        Touch::at(id, "webinar.attended", Channel::Webinar, days_ago(days)).email(ada)
    };
    // 20, 40, 60, 80 points on days -4, -3, -2, -1: the third crosses 50. The
    // batch lists the fourth first, then the first, the third and the second.
    let written = e
        .record_ok([
            webinar("w4", 1),
            webinar("w1", 4),
            webinar("w3", 2),
            webinar("w2", 3),
        ])
        .await;
    let id = written[0].stakeholder_id.unwrap();
    assert_eq!(person(&e, id).await.score, 80.0);
    let changes = e.changes(Subject::Stakeholder(id)).await;
    let mql = change_to(&changes, Lifecycle::Mql);
    assert_eq!(
        mql.what(),
        (
            Some(Lifecycle::Lead),
            Lifecycle::Mql,
            "score 80.0 reached the MQL threshold 50",
            Some("w3")
        )
    );
    assert_eq!(mql.at, written[2].occurred_at);
}

#[tokio::test]
async fn a_rule_change_rescores_everyone_and_qualifies_who_now_reaches_the_threshold() {
    let e = Engine::new().await;
    let webinar = |points| spec("webinar", Some("webinar.attended"), None, points);
    e.upsert_rule(webinar(1.0)).await;
    let cara = "cara@initech.com";
    let written = e
        .record_ok([
            Touch::at("c1", "webinar.attended", Channel::Webinar, days_ago(3)).email(cara),
            Touch::at("c2", "webinar.attended", Channel::Webinar, days_ago(2)).email(cara),
            Touch::at("d1", "webinar.attended", Channel::Webinar, days_ago(1))
                .email("dee@initech.com"),
        ])
        .await;
    let (cara, dee) = (
        written[0].stakeholder_id.unwrap(),
        written[2].stakeholder_id.unwrap(),
    );
    assert_eq!(person(&e, cara).await.score, 2.0);

    // 30 a webinar, replacing the rule of the same name: Cara 60, over the
    // default threshold of 50; Dee 30, under it.
    let rule = e.upsert_rule(webinar(30.0)).await;
    assert_eq!(scoring::rules_of(e.db(), e.ws).await.unwrap().len(), 1);
    let (c, d) = (person(&e, cara).await, person(&e, dee).await);
    assert_eq!((c.score, c.lifecycle), (60.0, Lifecycle::Mql));
    assert_eq!((d.score, d.lifecycle), (30.0, Lifecycle::Lead));
    let changes = e.changes(Subject::Stakeholder(cara)).await;
    assert_eq!(
        change_to(&changes, Lifecycle::Mql).what(),
        (
            Some(Lifecycle::Lead),
            Lifecycle::Mql,
            "score 60.0 reached the MQL threshold 50 (a scoring rule changed)",
            None
        )
    );

    // Without rules every score is 0, and no one is taken back from MQL.
    let txn = db::begin_write(e.db()).await.unwrap();
    rules::delete(&txn, e.ws, rule.id).await.unwrap();
    db::commit(txn).await.unwrap();
    let c = person(&e, cara).await;
    assert_eq!((c.score, c.lifecycle), (0.0, Lifecycle::Mql));
    assert!(breakdown(&e, cara).await.is_empty());
    let txn = db::begin_write(e.db()).await.unwrap();
    let again = rules::delete(&txn, e.ws, rule.id).await;
    assert!(
        matches!(
            again,
            Err(journeys_core::CoreError::NotFound {
                what: "scoring rule"
            })
        ),
        "{again:?}"
    );
}

/// What a recomputation from the whole history gives `person` (their parts
/// and score) and, if named, `account` (its score): made in a transaction
/// and undone, so that the stored parts stay as the engine left them.
pub struct Recomputed {
    pub parts: Vec<(String, i32, f64)>,
    pub score: f64,
    pub account_score: Option<f64>,
}

pub async fn recomputation(e: &Engine, person: Uuid, account: Option<Uuid>) -> Recomputed {
    let txn = db::begin_write(e.db()).await.unwrap();
    let rules = scoring::rules_of(&txn, e.ws).await.unwrap();
    let recomputed = scoring::recompute_stakeholder(&txn, e.ws, &rules, person, time::now())
        .await
        .unwrap();
    let parts = breakdown_in(&txn, e.ws, person).await;
    let account_score = match account {
        Some(id) => Some(scoring::recompute_account(&txn, id).await.unwrap().score),
        None => None,
    };
    txn.rollback().await.unwrap();
    Recomputed {
        parts,
        score: recomputed.score,
        account_score,
    }
}

/// A batch grows the stored parts of people whose only news is new
/// touchpoints, and reads history only for a rule whose cap they overflow:
/// after every batch, the parts and score agree with a recomputation from
/// the whole history (made and undone, so that each batch grows the last
/// one's parts).
#[tokio::test]
async fn grown_parts_agree_with_a_recomputation_from_the_whole_history() {
    let e = Engine::new().await;
    e.account("Initech", &["initech.com"]).await;
    let globex = e.account("Globex", &[]).await;
    e.upsert_rule(RuleSpec {
        half_life_days: Some(30.0),
        ..spec("webinar", Some("webinar.attended"), None, 10.0)
    })
    .await;
    e.upsert_rule(RuleSpec {
        max_count: Some(3),
        ..spec("emails", None, Some(Channel::Email), 2.0)
    })
    .await;
    e.upsert_rule(RuleSpec {
        max_count: Some(2),
        half_life_days: Some(7.0),
        ..spec("tweets", Some("tweet.mention"), None, 8.0)
    })
    .await;
    let ada = "ada@initech.com";
    let email =
        |id: &str, days| Touch::at(id, "email.opened", Channel::Email, days_ago(days)).email(ada);
    let tweet =
        |id: &str, days| Touch::at(id, "tweet.mention", Channel::Social, days_ago(days)).email(ada);
    let webinar = |id: &str, days| {
        Touch::at(id, "webinar.attended", Channel::Webinar, days_ago(days)).email(ada)
    };
    let batches = vec![
        vec![webinar("w1", 40), email("e1", 30), tweet("t1", 20)],
        // Under every cap: grown without history.
        vec![webinar("w2", 25), email("e2", 20)],
        // The emails overflow their cap of 3, the tweets theirs of 2; one
        // webinar is on another account.
        vec![
            email("e3", 15),
            email("e4", 10),
            tweet("t2", 9),
            tweet("t3", 8),
        ],
        vec![webinar("w3", 5).account(globex.id), webinar("w4", 4)],
        // Late: older than what the caps count, so it changes no email part.
        vec![email("e0", 60), webinar("w0", 90)],
    ];
    let mut person = None;
    for batch in batches {
        let written = e.record_ok(batch).await;
        let ada = *person.get_or_insert(written[0].stakeholder_id.unwrap());
        let grown = breakdown(&e, ada).await;
        let grown_score = self::person(&e, ada).await.score;
        // Undone, so that the next batch grows what the last one grew.
        let recomputed = recomputation(&e, ada, None).await;
        let full = recomputed.parts;
        assert_eq!(grown.len(), full.len(), "{grown:?} against {full:?}");
        for (g, f) in grown.iter().zip(&full) {
            assert!(
                g.0 == f.0 && g.1 == f.1 && (g.2 - f.2).abs() < 1e-6,
                "{grown:?} against {full:?}"
            );
        }
        assert!(
            (grown_score - recomputed.score).abs() < 1e-6,
            "{grown_score} against {}",
            recomputed.score
        );
    }
    let parts = breakdown(&e, person.unwrap()).await;
    let count = |rule: &str| -> i32 { parts.iter().filter(|p| p.0 == rule).map(|p| p.1).sum() };
    // Five webinars, one of them on Globex: a part of its own.
    assert_eq!(
        (count("emails"), count("tweets"), count("webinar")),
        (3, 2, 5)
    );
    assert_eq!(
        parts.iter().filter(|p| p.0 == "webinar").count(),
        2,
        "{parts:?}"
    );
}
