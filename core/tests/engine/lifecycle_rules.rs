//! Lifecycle rules: kinds that move people and accounts on after
//! qualification, forward only, each change caused by its touchpoint.

use entity::vocab::{Channel, Lifecycle};
use journeys_core::db;
use journeys_core::lifecycle::Subject;
use journeys_core::lifecycle::rules::{self, RuleSpec, Template};
use journeys_core::people::accounts;
use journeys_core::testing::Touch;

use crate::Engine;

async fn install_standard(e: &Engine) {
    let txn = db::begin_write(e.db()).await.unwrap();
    rules::install(&txn, e.ws, Template::Standard)
        .await
        .unwrap();
    db::commit(txn).await.unwrap();
}

async fn lifecycle_of(e: &Engine, account: uuid::Uuid) -> Lifecycle {
    accounts::find(e.db(), e.ws, account)
        .await
        .unwrap()
        .lifecycle
}

#[tokio::test]
async fn the_standard_rules_make_a_customer_a_promoter_and_a_churned_account() {
    use Lifecycle::{Churned, Customer, Lead, Promoter, Visitor};
    let e = Engine::new().await;
    install_standard(&e).await;
    let initech = e.account("Initech", &["initech.com"]).await;
    let ada = "ada@initech.com";
    let won = e
        .record_ok([
            Touch::new("d1", "deal.won", Channel::Meeting, "2026-03-01T10:00:00Z").email(ada),
        ])
        .await
        .remove(0);
    let person = won.stakeholder_id.unwrap();
    assert_eq!(lifecycle_of(&e, initech.id).await, Customer);
    // A passive answer moves nobody; a lost deal cannot take a customer back.
    e.record_ok([
        Touch::new(
            "n1",
            "nps.responded",
            Channel::Email,
            "2026-04-01T10:00:00Z",
        )
        .email(ada)
        .score(8.0),
        Touch::new("d2", "deal.lost", Channel::Meeting, "2026-04-02T10:00:00Z").email(ada),
    ])
    .await;
    assert_eq!(lifecycle_of(&e, initech.id).await, Customer);
    e.record_ok([Touch::new(
        "n2",
        "nps.responded",
        Channel::Email,
        "2026-05-01T10:00:00Z",
    )
    .email(ada)
    .score(9.0)])
        .await;
    assert_eq!(lifecycle_of(&e, initech.id).await, Promoter);
    e.record_ok([Touch::new(
        "c1",
        "subscription.cancelled",
        Channel::Email,
        "2026-06-01T10:00:00Z",
    )
    .email(ada)])
        .await;
    assert_eq!(lifecycle_of(&e, initech.id).await, Churned);

    let what = |changes: Vec<crate::Change>| -> Vec<(Option<Lifecycle>, Lifecycle, String, Option<String>)> {
        changes
            .into_iter()
            .map(|c| (c.from, c.to, c.cause, c.touchpoint))
            .collect()
    };
    let rule = |name: &str, kind: &str| format!("lifecycle rule `{name}`: {kind}");
    assert_eq!(
        what(e.changes(Subject::Account(initech.id)).await),
        [
            (None, Visitor, "created".to_owned(), None),
            (
                Some(Visitor),
                Customer,
                rule("Deal won", "deal.won"),
                Some("d1".into())
            ),
            (
                Some(Customer),
                Promoter,
                rule("Promoter", "nps.responded"),
                Some("n2".into())
            ),
            (
                Some(Promoter),
                Churned,
                rule("Subscription cancelled", "subscription.cancelled"),
                Some("c1".into())
            ),
        ]
    );
    let person_changes = what(e.changes(Subject::Stakeholder(person)).await);
    assert_eq!(person_changes[0].1, Lead);
    assert_eq!(
        person_changes[1..].iter().map(|c| c.1).collect::<Vec<_>>(),
        [Customer, Promoter, Churned]
    );
}

#[tokio::test]
async fn one_batch_applies_its_rules_in_the_touchpoints_time_order() {
    use Lifecycle::{Customer, Promoter, Visitor};
    let e = Engine::new().await;
    install_standard(&e).await;
    let initech = e.account("Initech", &["initech.com"]).await;
    let ada = "ada@initech.com";
    // Given newest first: the answer only counts once the deal made a customer.
    e.record_ok([
        Touch::new(
            "n1",
            "nps.responded",
            Channel::Email,
            "2026-05-01T10:00:00Z",
        )
        .email(ada)
        .score(10.0),
        Touch::new("d1", "deal.won", Channel::Meeting, "2026-03-01T10:00:00Z").email(ada),
    ])
    .await;
    let changes = e.changes(Subject::Account(initech.id)).await;
    let what: Vec<_> = changes
        .iter()
        .map(|c| (c.from, c.to, c.touchpoint.clone()))
        .collect();
    assert_eq!(
        what,
        [
            (None, Visitor, None),
            (Some(Visitor), Customer, Some("d1".to_owned())),
            (Some(Customer), Promoter, Some("n1".to_owned())),
        ]
    );
    assert_eq!(lifecycle_of(&e, initech.id).await, Promoter);
}

#[tokio::test]
async fn a_rule_with_a_score_range_and_from_values_applies_only_within_them() {
    use Lifecycle::{Lead, Opportunity, Sql};
    let e = Engine::new().await;
    let spec = RuleSpec {
        name: "Demo done".into(),
        kind: "demo.held".into(),
        min_score: Some(3.0),
        max_score: Some(5.0),
        from: Some(vec![Sql]),
        to: Opportunity,
    };
    let txn = db::begin_write(e.db()).await.unwrap();
    rules::upsert(&txn, e.ws, spec.check().unwrap())
        .await
        .unwrap();
    db::commit(txn).await.unwrap();
    let initech = e.account("Initech", &["initech.com"]).await;
    let ada = "ada@initech.com";
    // From LEAD (the person) and VISITOR (the account): not from SQL.
    let person = e
        .record_ok([
            Touch::new("m1", "demo.held", Channel::Meeting, "2026-03-01T10:00:00Z")
                .email(ada)
                .score(4.0),
        ])
        .await[0]
        .stakeholder_id
        .unwrap();
    assert_ne!(lifecycle_of(&e, initech.id).await, Opportunity);
    let txn = db::begin_write(e.db()).await.unwrap();
    journeys_core::lifecycle::set(
        &txn,
        e.ws,
        Subject::Account(initech.id),
        journeys_core::lifecycle::Change {
            from: Some(lifecycle_of(&e, initech.id).await),
            to: Sql,
            at: chrono::Utc::now(),
            cause: "accepted by sales",
            actor: None,
            touchpoint: None,
        },
    )
    .await
    .unwrap();
    db::commit(txn).await.unwrap();
    // Out of range, then in range.
    e.record_ok([
        Touch::new("m2", "demo.held", Channel::Meeting, "2026-03-02T10:00:00Z")
            .email(ada)
            .score(6.0),
    ])
    .await;
    assert_eq!(lifecycle_of(&e, initech.id).await, Sql);
    e.record_ok([
        Touch::new("m3", "demo.held", Channel::Meeting, "2026-03-03T10:00:00Z")
            .email(ada)
            .score(5.0),
    ])
    .await;
    assert_eq!(lifecycle_of(&e, initech.id).await, Opportunity);
    let account = e.changes(Subject::Account(initech.id)).await;
    assert_eq!(account.last().unwrap().touchpoint.as_deref(), Some("m3"));
    // The person was a LEAD, not an SQL: the rule left them where they were.
    let person = journeys_core::people::stakeholders::find(e.db(), e.ws, person)
        .await
        .unwrap();
    assert_eq!(person.lifecycle, Lead);
}
