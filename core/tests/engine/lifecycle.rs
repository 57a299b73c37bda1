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
