//! An account's score counts what happened with that account, and stored
//! account scores, their filters and qualification follow memberships as
//! they change.

use chrono::{DateTime, Utc};
use entity::account;
use entity::vocab::{Channel, Lifecycle};
use journeys_core::lifecycle::Subject;
use journeys_core::people::accounts::{self, AccountFilter};
use journeys_core::people::{memberships, stakeholders};
use journeys_core::testing::Touch;
use journeys_core::{db, merges};
use uuid::Uuid;

use crate::{Engine, change_to, rule};

fn days_ago(days: i64) -> DateTime<Utc> {
    Utc::now() - chrono::Duration::days(days)
}

/// `n` webinars for `email`, on `account` when given, a day apart from 2
/// days ago; 10 points each under [`webinars_score`].
fn webinars(prefix: &str, n: usize, email: &str, account: Option<Uuid>) -> Vec<Touch> {
    webinars_from(2, prefix, n, email, account)
}

/// `n` webinars a day apart, the newest `newest` days ago.
fn webinars_from(
    newest: i64,
    prefix: &str,
    n: usize,
    email: &str,
    account: Option<Uuid>,
) -> Vec<Touch> {
    (0..n)
        .map(|i| {
            let touch = Touch::at(
                &format!("{prefix}{i}"),
                "webinar.attended",
                Channel::Webinar,
                days_ago(newest + i as i64),
            )
            .email(email);
            match account {
                Some(a) => touch.account(a),
                None => touch,
            }
        })
        .collect()
}

async fn webinars_score(e: &Engine) {
    e.upsert_rule(rule("webinar", Some("webinar.attended"), None, 10.0))
        .await;
}

async fn stored(e: &Engine, id: Uuid) -> account::Model {
    accounts::find(e.db(), e.ws, id).await.unwrap()
}

/// How many accounts the `minScore`/`maxScore` filters find.
async fn scoring_between(e: &Engine, min: f64, max: f64) -> u64 {
    let filter = AccountFilter {
        min_score: Some(min),
        max_score: Some(max),
        ..Default::default()
    };
    accounts::count(e.db(), e.ws, &filter).await.unwrap()
}

async fn add(e: &Engine, account: Uuid, person: Uuid, primary: Option<bool>) {
    let txn = db::begin_write(e.db()).await.unwrap();
    memberships::add(&txn, e.ws, account, person, None, primary)
        .await
        .unwrap();
    db::commit(txn).await.unwrap();
}

async fn remove(e: &Engine, account: Uuid, person: Uuid) {
    let txn = db::begin_write(e.db()).await.unwrap();
    assert!(
        memberships::remove(&txn, e.ws, account, person)
            .await
            .unwrap()
            .removed
    );
    db::commit(txn).await.unwrap();
}

async fn delete_account(e: &Engine, account: Uuid) {
    let txn = db::begin_write(e.db()).await.unwrap();
    accounts::delete(&txn, e.ws, account).await.unwrap();
    db::commit(txn).await.unwrap();
}

#[tokio::test]
async fn a_persons_activity_with_one_account_does_not_score_for_another() {
    let e = Engine::new().await;
    webinars_score(&e).await;
    let initech = e.account("Initech", &["initech.com"]).await.id;
    let globex = e.account("Globex", &["globex.com"]).await.id;
    // Three webinars with Initech (her email's domain), then two with Globex,
    // which she joins too: 50 points, the default MQL threshold.
    let ada = "ada@initech.com";
    let written = e.record_ok(webinars_from(10, "i", 3, ada, None)).await;
    let ada = written[0].stakeholder_id.unwrap();
    add(&e, globex, ada, None).await;
    e.record_ok(webinars("g", 2, "ada@initech.com", Some(globex)))
        .await;

    let person = stakeholders::find(e.db(), e.ws, ada).await.unwrap();
    assert_eq!((person.score, person.lifecycle), (50.0, Lifecycle::Mql));
    // Each account counts what happened with it: neither reached 50.
    let (i, g) = (stored(&e, initech).await, stored(&e, globex).await);
    assert_eq!((i.score, i.lifecycle), (30.0, Lifecycle::Visitor));
    assert_eq!((g.score, g.lifecycle), (20.0, Lifecycle::Visitor));
    assert_eq!(scoring_between(&e, 45.0, 55.0).await, 0);

    // A cap counts her newest touchpoints whatever their account: capped at
    // two, her two newest webinars, both Globex's, count; Initech's older
    // three no longer do.
    e.upsert_rule(journeys_core::scoring::rules::RuleSpec {
        max_count: Some(2),
        ..rule("webinar", Some("webinar.attended"), None, 10.0)
    })
    .await;
    let person = stakeholders::find(e.db(), e.ws, ada).await.unwrap();
    assert_eq!(person.score, 20.0);
    assert_eq!(stored(&e, initech).await.score, 0.0);
    assert_eq!(stored(&e, globex).await.score, 20.0);
}

#[tokio::test]
async fn account_less_touchpoints_count_for_the_primary_account_only() {
    let e = Engine::new().await;
    webinars_score(&e).await;
    let initech = e.account("Initech", &["initech.com"]).await.id;
    let hooli = e.account("Hooli", &[]).await.id;
    let globex = e.account("Globex", &[]).await.id;
    // Two webinars with Initech, her primary account, three with Hooli.
    let written = e.record_ok(webinars("i", 2, "ada@initech.com", None)).await;
    let ada = written[0].stakeholder_id.unwrap();
    add(&e, hooli, ada, None).await;
    add(&e, globex, ada, None).await;
    e.record_ok(webinars("h", 3, "ada@initech.com", Some(hooli)))
        .await;
    assert_eq!(stored(&e, initech).await.score, 20.0);
    assert_eq!(stored(&e, hooli).await.score, 30.0);
    assert_eq!(stored(&e, globex).await.score, 0.0);

    // Hooli goes: its touchpoints stay, account-less, and count for Ada's
    // primary account, which reaches the threshold with no touchpoint to
    // credit.
    delete_account(&e, hooli).await;
    let i = stored(&e, initech).await;
    assert_eq!((i.score, i.lifecycle), (50.0, Lifecycle::Mql));
    let changes = e.changes(Subject::Account(initech)).await;
    assert_eq!(
        change_to(&changes, Lifecycle::Mql).what(),
        (
            Some(Lifecycle::Visitor),
            Lifecycle::Mql,
            "score 50.0 reached the MQL threshold 50 (a membership changed)",
            None
        )
    );
    assert_eq!(stored(&e, globex).await.score, 0.0);

    // Globex becomes her primary account: the account-less touchpoints go
    // with it; what happened with Initech stays Initech's.
    add(&e, globex, ada, Some(true)).await;
    assert_eq!(stored(&e, initech).await.score, 20.0);
    assert_eq!(stored(&e, globex).await.score, 30.0);
    assert_eq!(scoring_between(&e, 25.0, 35.0).await, 1);
}

#[tokio::test]
async fn stored_account_scores_follow_joins_leaves_and_deletes_at_once() {
    let e = Engine::new().await;
    webinars_score(&e).await;
    let initech = e.account("Initech", &["initech.com"]).await.id;
    let written = e.record_ok(webinars("b", 1, "bob@initech.com", None)).await;
    let bob = written[0].stakeholder_id.unwrap();
    // Ada, from elsewhere, attends three webinars with Initech and so joins it.
    let written = e
        .record_ok(webinars("a", 3, "ada@example.org", Some(initech)))
        .await;
    let ada = written[0].stakeholder_id.unwrap();
    assert_eq!(stored(&e, initech).await.score, 40.0);

    // She leaves: the stored score, and the filters that compare it, no
    // longer count her.
    remove(&e, initech, ada).await;
    assert_eq!(stored(&e, initech).await.score, 10.0);
    assert_eq!(scoring_between(&e, 30.0, 45.0).await, 0);
    assert_eq!(scoring_between(&e, 5.0, 15.0).await, 1);

    // Bob attends another; Ada rejoins: 20 + 30 reaches the threshold at
    // once, with no touchpoint to credit.
    e.record_ok(webinars("b2-", 1, "bob@initech.com", None))
        .await;
    add(&e, initech, ada, None).await;
    let i = stored(&e, initech).await;
    assert_eq!((i.score, i.lifecycle), (50.0, Lifecycle::Mql));
    let changes = e.changes(Subject::Account(initech)).await;
    assert_eq!(
        change_to(&changes, Lifecycle::Mql).what(),
        (
            Some(Lifecycle::Visitor),
            Lifecycle::Mql,
            "score 50.0 reached the MQL threshold 50 (a membership changed)",
            None
        )
    );

    // Bob is deleted: his 20 go with him.
    let txn = db::begin_write(e.db()).await.unwrap();
    stakeholders::delete(&txn, e.ws, bob).await.unwrap();
    db::commit(txn).await.unwrap();
    assert_eq!(stored(&e, initech).await.score, 30.0);
}

#[tokio::test]
async fn a_merge_and_its_undo_keep_each_account_to_what_happened_with_it() {
    let e = Engine::new().await;
    webinars_score(&e).await;
    let initech = e.account("Initech", &["initech.com"]).await.id;
    let globex = e.account("Globex", &["globex.com"]).await.id;
    // One person under two emails: 20 points with Initech, 30 with Globex.
    let ada = e.record_ok(webinars("i", 2, "ada@initech.com", None)).await[0]
        .stakeholder_id
        .unwrap();
    let other = e.record_ok(webinars("g", 3, "ada@globex.com", None)).await[0]
        .stakeholder_id
        .unwrap();
    let txn = db::begin_write(e.db()).await.unwrap();
    let merge = merges::merge(&txn, e.ws, ada, vec![other], "sam")
        .await
        .unwrap();
    db::commit(txn).await.unwrap();
    // Each account still counts what happened with it.
    assert_eq!(stored(&e, initech).await.score, 20.0);
    assert_eq!(stored(&e, globex).await.score, 30.0);

    let txn = db::begin_write(e.db()).await.unwrap();
    merges::unmerge(&txn, e.ws, merge.id).await.unwrap();
    db::commit(txn).await.unwrap();
    assert_eq!(stored(&e, initech).await.score, 20.0);
    assert_eq!(stored(&e, globex).await.score, 30.0);
    let survivor = stakeholders::find(e.db(), e.ws, ada).await.unwrap();
    assert_eq!(survivor.score, 20.0);
}

#[tokio::test]
async fn a_score_then_is_what_the_touchpoints_by_then_give_decayed_to_then() {
    use journeys_core::scoring::trend::account_scores_at;
    let e = Engine::new().await;
    webinars_score(&e).await;
    // Halving every 10 days; at most 5 counted.
    e.upsert_rule(journeys_core::scoring::rules::RuleSpec {
        half_life_days: Some(10.0),
        max_count: Some(5),
        ..rule("visits", Some("page.visited"), None, 8.0)
    })
    .await;
    let acme = e.account("Acme", &["acme.com"]).await;
    let quiet = e.account("Quiet", &["quiet.com"]).await;
    // Webinars 2, 3, 40 and 41 days ago (10 points each, no decay).
    let mut touches = webinars("recent", 2, "ann@acme.com", None);
    touches.extend(webinars_from(40, "old", 2, "bo@acme.com", None));
    // Six visits, 31 to 36 days ago: the cap counts 5 of them.
    for i in 0..6 {
        touches.push(
            Touch::at(
                &format!("visit{i}"),
                "page.visited",
                Channel::Web,
                days_ago(31 + i),
            )
            .email("bo@acme.com"),
        );
    }
    e.record_ok(touches).await;

    let now = Utc::now();
    let scores = account_scores_at(e.db(), e.ws, &[acme.id, quiet.id], now)
        .await
        .unwrap();
    // Today it is the score every field shows.
    let today = stored(&e, acme.id).await.score;
    assert!(
        (scores[&acme.id] - today).abs() < 1e-6,
        "{scores:?} vs {today}"
    );
    assert_eq!(scores[&quiet.id], 0.0);

    // 30 days ago: the two old webinars (20) and the five newest visits
    // before then, 1 to 5 days old then, 8 points halving every 10 days.
    let then = now - chrono::Duration::days(30);
    let visits: f64 = (1..=5)
        .map(|d| 8.0 * 0.5_f64.powf(f64::from(d) / 10.0))
        .sum();
    let scores = account_scores_at(e.db(), e.ws, &[acme.id], then)
        .await
        .unwrap();
    assert!(
        (scores[&acme.id] - (20.0 + visits)).abs() < 1e-6,
        "{scores:?} against {}",
        20.0 + visits
    );
    // Before anything happened, nothing.
    let before = now - chrono::Duration::days(50);
    let scores = account_scores_at(e.db(), e.ws, &[acme.id], before)
        .await
        .unwrap();
    assert_eq!(scores[&acme.id], 0.0);
}
