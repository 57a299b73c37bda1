//! Lifecycle: every change recorded with its time and cause, whether a
//! touchpoint, a person's details, a sales decision or a hand made it.

use entity::vocab::{Channel, Lifecycle};
use journeys_core::CoreError;
use journeys_core::db;
use journeys_core::lifecycle::{Decision, Subject, decide};
use journeys_core::people::accounts::{self, AccountChanges};
use journeys_core::people::stakeholders::{self, StakeholderChanges};
use journeys_core::testing::Touch;

use crate::{Engine, at, refused_field};

async fn webinar_worth(e: &Engine, points: f64) {
    e.upsert_rule(crate::rule(
        "webinar",
        Some("webinar.registered"),
        None,
        points,
    ))
    .await;
}

#[tokio::test]
async fn a_lead_and_their_account_become_mqls_with_the_touchpoint_as_the_cause() {
    use Lifecycle::{Lead, Mql, Visitor};
    let e = Engine::new().await;
    // Exactly the default threshold: reaching it is enough.
    webinar_worth(&e, 50.0).await;
    let initech = e.account("Initech", &["initech.com"]).await;
    let registered = "2026-03-01T10:00:00Z";
    let tp = e
        .record_ok([
            Touch::new("w1", "webinar.registered", Channel::Webinar, registered)
                .source("zoom")
                .email("ada@initech.com"),
        ])
        .await
        .remove(0);
    let ada = tp.stakeholder_id.unwrap();
    let cause = "score 50.0 reached the MQL threshold 50";

    let changes = e.changes(Subject::Stakeholder(ada)).await;
    let what: Vec<_> = changes.iter().map(|c| c.what()).collect();
    assert_eq!(
        what,
        [
            (None, Lead, "left their details", None),
            (Some(Lead), Mql, cause, Some("w1")),
        ]
    );
    // Both at the registration: first seen then, qualified by it.
    assert!(
        changes.iter().all(|c| c.at == at(registered)),
        "{changes:?}"
    );
    assert_eq!(
        stakeholders::find(e.db(), e.ws, ada)
            .await
            .unwrap()
            .lifecycle,
        Mql
    );

    let account = e.changes(Subject::Account(initech.id)).await;
    let mql = crate::change_to(&account, Mql);
    assert_eq!(mql.what(), (Some(Visitor), Mql, cause, Some("w1")));
    assert_eq!(mql.at, at(registered));
    assert_eq!(
        accounts::find(e.db(), e.ws, initech.id)
            .await
            .unwrap()
            .lifecycle,
        Mql
    );
}

#[tokio::test]
async fn a_visitor_who_leaves_their_email_becomes_a_lead() {
    use Lifecycle::{Lead, Visitor};
    let e = Engine::new().await;
    let visit = |id: &str, at: &str| {
        Touch::new(id, "page.visited", Channel::Web, at)
            .source("web")
            .person(|p| p.anonymous_id = Some("cookie-42".into()))
    };
    let first = e
        .record_ok([visit("v1", "2026-03-01T09:00:00Z")])
        .await
        .remove(0);
    let person = first.stakeholder_id.unwrap();
    let later = e
        .record_ok([visit("v2", "2026-03-10T09:00:00Z").email("Ada@Initech.com")])
        .await
        .remove(0);
    assert_eq!(later.stakeholder_id, Some(person), "the same person");
    let changes = e.changes(Subject::Stakeholder(person)).await;
    let what: Vec<_> = changes.iter().map(|c| (c.what(), c.at)).collect();
    assert_eq!(
        what,
        [
            (
                (None, Visitor, "first seen", None),
                at("2026-03-01T09:00:00Z")
            ),
            (
                (Some(Visitor), Lead, "left their details", None),
                at("2026-03-10T09:00:00Z")
            ),
        ]
    );
    let ada = stakeholders::find(e.db(), e.ws, person).await.unwrap();
    assert_eq!(
        (ada.email.as_deref(), ada.lifecycle),
        (Some("ada@initech.com"), Lead)
    );
}

#[tokio::test]
async fn a_change_by_hand_is_recorded_with_its_actor_once() {
    use Lifecycle::{Customer, Visitor};
    let e = Engine::new().await;
    let initech = e.account("Initech", &["initech.com"]).await;
    let to_customer = || AccountChanges {
        lifecycle: Some(Customer),
        ..Default::default()
    };
    let txn = db::begin_write(e.db()).await.unwrap();
    let updated = accounts::update(&txn, e.ws, initech.id, to_customer(), "sam@us.example")
        .await
        .unwrap();
    // The same lifecycle again is no change, and is not recorded.
    accounts::update(&txn, e.ws, initech.id, to_customer(), "eve@us.example")
        .await
        .unwrap();
    db::commit(txn).await.unwrap();
    assert_eq!(updated.lifecycle, Customer);
    let changes = e.changes(Subject::Account(initech.id)).await;
    let what: Vec<_> = changes
        .iter()
        .map(|c| (c.what(), c.actor.as_deref()))
        .collect();
    assert_eq!(
        what,
        [
            ((None, Visitor, "created", None), None),
            (
                (Some(Visitor), Customer, "set by hand", None),
                Some("sam@us.example")
            ),
        ]
    );
}

#[tokio::test]
async fn sales_decides_on_leads_but_not_on_those_past_qualification() {
    use Lifecycle::{Customer, Disqualified, Lead, Sql};
    let e = Engine::new().await;
    let [ada, bob] = ["ada@initech.com", "bob@initech.com"].map(|email| {
        Touch::new(
            email,
            "email.opened",
            Channel::Email,
            "2026-03-01T09:00:00Z",
        )
        .email(email)
    });
    let written = e.record_ok([ada, bob]).await;
    let (ada, bob) = (
        written[0].stakeholder_id.unwrap(),
        written[1].stakeholder_id.unwrap(),
    );
    let e = &e;
    let lifecycle = |id| async move {
        stakeholders::find(e.db(), e.ws, id)
            .await
            .unwrap()
            .lifecycle
    };

    let txn = db::begin_write(e.db()).await.unwrap();
    let (a, b) = (Subject::Stakeholder(ada), Subject::Stakeholder(bob));
    decide(
        &txn,
        e.ws,
        a,
        Decision::Accept,
        Some("Budget confirmed"),
        "sam",
    )
    .await
    .unwrap();
    // Disqualifying needs a reason.
    let err = decide(&txn, e.ws, b, Decision::Disqualify, Some(" "), "sam")
        .await
        .unwrap_err();
    assert_eq!(refused_field(&err), Some("reason"));
    decide(
        &txn,
        e.ws,
        b,
        Decision::Disqualify,
        Some("No budget this year"),
        "sam",
    )
    .await
    .unwrap();
    db::commit(txn).await.unwrap();
    assert_eq!(
        (lifecycle(ada).await, lifecycle(bob).await),
        (Sql, Disqualified)
    );
    let last = |changes: Vec<crate::Change>| {
        let c = changes.last().unwrap().clone();
        (c.from, c.to, c.cause, c.actor)
    };
    assert_eq!(
        last(e.changes(a).await),
        (
            Some(Lead),
            Sql,
            "accepted by sales: Budget confirmed".to_owned(),
            Some("sam".to_owned())
        )
    );
    assert_eq!(
        last(e.changes(b).await),
        (
            Some(Lead),
            Disqualified,
            "disqualified by sales: No budget this year".to_owned(),
            Some("sam".to_owned())
        )
    );

    // A customer is past lead qualification: accepting them again would take
    // them back to SQL, so it is refused and nothing changes.
    let txn = db::begin_write(e.db()).await.unwrap();
    let to_customer = StakeholderChanges {
        lifecycle: Some(Customer),
        ..Default::default()
    };
    stakeholders::update(&txn, e.ws, ada, to_customer, "sam")
        .await
        .unwrap();
    let refused = decide(&txn, e.ws, a, Decision::Accept, None, "sam").await;
    assert!(
        matches!(&refused, Err(CoreError::Conflict(m)) if m == "the stakeholder is CUSTOMER, past lead qualification"),
        "{refused:?}"
    );
    db::commit(txn).await.unwrap();
    assert_eq!(lifecycle(ada).await, Customer);
    assert_eq!(e.changes(a).await.len(), 3, "a lead, accepted, set by hand");
}

/// A subject's changes read as a ledger: the first has no `from`, each
/// other's `from` is the `to` before it, none stays where it was, and the last
/// `to` is the lifecycle the subject has now.
pub(crate) async fn assert_adds_up(e: &Engine, subject: Subject, context: &str) {
    let changes = e.changes(subject).await;
    let current = match subject {
        Subject::Account(id) => accounts::find(e.db(), e.ws, id).await.unwrap().lifecycle,
        Subject::Stakeholder(id) => {
            stakeholders::find(e.db(), e.ws, id)
                .await
                .unwrap()
                .lifecycle
        }
    };
    let what: Vec<_> = changes.iter().map(|c| (c.from, c.to)).collect();
    assert_eq!(
        changes.first().map(|c| c.from),
        Some(None),
        "{context}: {what:?}"
    );
    for pair in changes.windows(2) {
        assert_eq!(pair[1].from, Some(pair[0].to), "{context}: {what:?}");
    }
    assert!(
        changes.iter().all(|c| c.from != Some(c.to)),
        "{context}: a self-transition in {what:?}"
    );
    assert_eq!(
        changes.last().map(|c| c.to),
        Some(current),
        "{context}: {what:?}"
    );
}

#[tokio::test]
async fn a_hand_set_value_is_a_change_and_a_later_qualification_follows_it() {
    use Lifecycle::{Lead, Mql, Visitor};
    let e = Engine::new().await;
    e.upsert_rule(crate::rule("meetings", Some("meeting.held"), None, 20.0))
        .await;
    let initech = e.account("Initech", &["initech.com"]).await;
    let touch = |id: &str, kind: &str, channel, at: &str| {
        Touch::new(id, kind, channel, at).email("ada@initech.com")
    };
    let meetings = e
        .record_one_by_one(["m1", "m2", "m3"].into_iter().enumerate().map(|(i, id)| {
            let day = format!("2026-11-0{}T10:00:00Z", i + 1);
            touch(id, "meeting.held", Channel::Meeting, &day)
        }))
        .await;
    let ada = meetings[0].stakeholder_id.unwrap();
    let account = Subject::Account(initech.id);
    let person = Subject::Stakeholder(ada);

    let txn = db::begin_write(e.db()).await.unwrap();
    let back = AccountChanges {
        lifecycle: Some(Visitor),
        ..Default::default()
    };
    accounts::update(&txn, e.ws, initech.id, back, "sam")
        .await
        .unwrap();
    let back = StakeholderChanges {
        lifecycle: Some(Lead),
        ..Default::default()
    };
    stakeholders::update(&txn, e.ws, ada, back, "sam")
        .await
        .unwrap();
    db::commit(txn).await.unwrap();
    // A visit scores nothing, but the score of 60 still reaches the
    // threshold: both qualify again, after the hand that moved them back.
    e.record_ok([touch(
        "p1",
        "page.visited",
        Channel::Web,
        "2026-11-10T10:00:00Z",
    )])
    .await;

    let cause = "score 60.0 reached the MQL threshold 50";
    let what = |changes: Vec<crate::Change>| {
        changes
            .into_iter()
            .map(|c| (c.from, c.to, c.cause, c.touchpoint))
            .collect::<Vec<_>>()
    };
    let by = |from, to, cause: &str, tp: Option<&str>| {
        (from, to, cause.to_owned(), tp.map(str::to_owned))
    };
    assert_eq!(
        what(e.changes(account).await),
        [
            by(None, Visitor, "created", None),
            by(Some(Visitor), Mql, cause, Some("m3")),
            by(Some(Mql), Visitor, "set by hand", None),
            by(Some(Visitor), Mql, cause, Some("p1")),
        ]
    );
    assert_eq!(
        what(e.changes(person).await),
        [
            by(None, Lead, "left their details", None),
            by(Some(Lead), Mql, cause, Some("m3")),
            by(Some(Mql), Lead, "set by hand", None),
            by(Some(Lead), Mql, cause, Some("p1")),
        ]
    );
    assert_adds_up(&e, account, "the account").await;
    assert_adds_up(&e, person, "Ada").await;
}

/// splitmix64: a fixed, seeded sequence, so a failure replays exactly.
struct Sequence(u64);

impl Sequence {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[tokio::test]
async fn any_mix_of_touchpoints_late_and_on_time_and_hands_adds_up() {
    use Lifecycle::*;
    const LIFECYCLES: [Lifecycle; 9] = [
        Visitor,
        Lead,
        Mql,
        Sql,
        Opportunity,
        Customer,
        Promoter,
        Disqualified,
        Churned,
    ];
    let e = Engine::new().await;
    e.upsert_rule(crate::rule("meetings", Some("meeting.held"), None, 20.0))
        .await;
    e.upsert_rule(crate::rule(
        "webinars",
        Some("webinar.registered"),
        None,
        35.0,
    ))
    .await;
    let initech = e.account("Initech", &["initech.com"]).await;
    let emails = ["ada@initech.com", "bob@initech.com", "cy@initech.com"];
    let kinds = [
        ("meeting.held", Channel::Meeting),
        ("webinar.registered", Channel::Webinar),
        ("page.visited", Channel::Web),
    ];
    let start = crate::at("2026-06-01T00:00:00Z");
    let mut seq = Sequence(0x5EED_2026);
    let mut people = Vec::new();
    let mut recorded = 0;
    for step in 0..60 {
        let roll = seq.below(10);
        if roll < 6 || people.is_empty() {
            // A batch of one to three touchpoints, each at any time of the
            // half year (so often before what came earlier), some of them
            // a touchpoint already recorded, delivered again at a new time.
            let n = 1 + seq.below(3);
            let mut batch = Vec::new();
            for _ in 0..n {
                let (kind, channel) = kinds[seq.below(3) as usize];
                let again = recorded > 0 && seq.below(5) == 0;
                let id = if again {
                    format!("t{}", seq.below(recorded))
                } else {
                    recorded += 1;
                    format!("t{}", recorded - 1)
                };
                let when = start + chrono::Duration::hours(seq.below(180 * 24) as i64);
                let email = emails[seq.below(3) as usize];
                batch.push(Touch::at(&id, kind, channel, when).email(email));
            }
            for tp in e.record_ok(batch).await {
                let person = tp.stakeholder_id.unwrap();
                if !people.contains(&person) {
                    people.push(person);
                }
            }
        } else {
            let to = LIFECYCLES[seq.below(LIFECYCLES.len() as u64) as usize];
            let txn = db::begin_write(e.db()).await.unwrap();
            if roll < 8 {
                let changes = AccountChanges {
                    lifecycle: Some(to),
                    ..Default::default()
                };
                accounts::update(&txn, e.ws, initech.id, changes, "sam")
                    .await
                    .unwrap();
            } else {
                let person = people[seq.below(people.len() as u64) as usize];
                let changes = StakeholderChanges {
                    lifecycle: Some(to),
                    ..Default::default()
                };
                stakeholders::update(&txn, e.ws, person, changes, "sam")
                    .await
                    .unwrap();
            }
            db::commit(txn).await.unwrap();
        }
        let context = format!("after step {step}");
        assert_adds_up(&e, Subject::Account(initech.id), &context).await;
        for person in &people {
            assert_adds_up(&e, Subject::Stakeholder(*person), &context).await;
        }
    }
}

#[tokio::test]
async fn a_merge_keeps_the_survivors_history_a_chain_and_an_unmerge_gives_each_back() {
    use journeys_core::people::stakeholders::StakeholderDetails;
    let e = Engine::new().await;
    let txn = db::begin_write(e.db()).await.unwrap();
    let mut people = Vec::new();
    for (name, email) in [("Ada", "ada@initech.com"), ("Ada L.", "ada.l@initech.com")] {
        let details = StakeholderDetails {
            name: Some(name.into()),
            email: Some(email.into()),
            ..Default::default()
        };
        people.push(stakeholders::create(&txn, e.ws, details).await.unwrap().id);
    }
    let [ada, twin] = [people[0], people[1]];
    // The twin's history goes on without Ada's: disqualified by hand.
    let out = StakeholderChanges {
        lifecycle: Some(Lifecycle::Disqualified),
        ..Default::default()
    };
    stakeholders::update(&txn, e.ws, twin, out, "sam")
        .await
        .unwrap();
    db::commit(txn).await.unwrap();
    let twin_before = e.changes(Subject::Stakeholder(twin)).await;
    assert_eq!(twin_before.len(), 2);

    let txn = db::begin_write(e.db()).await.unwrap();
    let merged = journeys_core::merges::merge(&txn, e.ws, ada, vec![twin], "sam")
        .await
        .unwrap();
    db::commit(txn).await.unwrap();
    // Ada's history is hers alone: one chain to her lifecycle, not two
    // interleaved.
    assert_adds_up(&e, Subject::Stakeholder(ada), "Ada after the merge").await;

    let txn = db::begin_write(e.db()).await.unwrap();
    journeys_core::merges::unmerge(&txn, e.ws, merged.id)
        .await
        .unwrap();
    db::commit(txn).await.unwrap();
    assert_adds_up(&e, Subject::Stakeholder(ada), "Ada after the unmerge").await;
    assert_adds_up(&e, Subject::Stakeholder(twin), "the twin after the unmerge").await;
    assert_eq!(e.changes(Subject::Stakeholder(twin)).await, twin_before);
}

#[tokio::test]
async fn an_unmerge_after_later_changes_leaves_every_history_adding_up() {
    let e = Engine::new().await;
    webinar_worth(&e, 30.0).await;
    let registered = |id: &str, email: &str| {
        Touch::new(
            id,
            "webinar.registered",
            Channel::Webinar,
            "2026-05-01T10:00:00Z",
        )
        .email(email)
    };
    let ada = e.record_ok([registered("w1", "ada@initech.com")]).await[0]
        .stakeholder_id
        .unwrap();
    let twin = e.record_ok([registered("w2", "ada.l@initech.com")]).await[0]
        .stakeholder_id
        .unwrap();
    // Together they score 60: the merge qualifies Ada, and sales accepts her.
    let txn = db::begin_write(e.db()).await.unwrap();
    let merged = journeys_core::merges::merge(&txn, e.ws, ada, vec![twin], "sam")
        .await
        .unwrap();
    decide(
        &txn,
        e.ws,
        Subject::Stakeholder(ada),
        Decision::Accept,
        None,
        "sam",
    )
    .await
    .unwrap();
    db::commit(txn).await.unwrap();
    let ada_now = stakeholders::find(e.db(), e.ws, ada).await.unwrap();
    assert_eq!(ada_now.lifecycle, Lifecycle::Sql);

    let txn = db::begin_write(e.db()).await.unwrap();
    journeys_core::merges::unmerge(&txn, e.ws, merged.id)
        .await
        .unwrap();
    db::commit(txn).await.unwrap();
    // What followed the merge's qualification stays, so the history still
    // reads to where she is: accepted, an SQL.
    assert_adds_up(&e, Subject::Stakeholder(ada), "Ada").await;
    assert_adds_up(&e, Subject::Stakeholder(twin), "the twin").await;
    let ada_now = stakeholders::find(e.db(), e.ws, ada).await.unwrap();
    assert_eq!(ada_now.lifecycle, Lifecycle::Sql);
}
