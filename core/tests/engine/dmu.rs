//! The decision-making unit of an account: needed roles, their holders, who
//! was in touch within the window, and the accounts missing a role.

use chrono::{Duration, Utc};
use entity::vocab::{Channel, DmuRole};
use journeys_core::analytics::Window;
use journeys_core::db;
use journeys_core::page::Page;
use journeys_core::people::accounts::{self, AccountFilter, AccountOrder};
use journeys_core::people::dmu;
use journeys_core::people::memberships;
use journeys_core::testing::Touch;
use uuid::Uuid;

use crate::Engine;

/// Gives `person` `role` at `account`.
async fn give_role(e: &Engine, account: Uuid, person: Uuid, role: DmuRole) {
    let txn = db::begin_write(e.db()).await.unwrap();
    memberships::add(&txn, e.ws, account, person, Some(role), None)
        .await
        .expect("add the member");
    db::commit(txn).await.unwrap();
}

/// The names of the accounts where nobody holds `role`.
async fn missing_role(e: &Engine, role: DmuRole) -> Vec<String> {
    let filter = AccountFilter {
        missing_role: Some(role),
        ..AccountFilter::default()
    };
    let found = accounts::list(
        e.db(),
        e.ws,
        &filter,
        AccountOrder::default(),
        &Page::first(10),
    )
    .await
    .unwrap();
    found.into_iter().map(|a| a.name).collect()
}

fn days_ago(days: i64) -> chrono::DateTime<Utc> {
    Utc::now() - Duration::days(days)
}

#[tokio::test]
async fn a_unit_names_its_holders_and_the_needed_roles_missing_or_cold() {
    let e = Engine::new().await;
    let acme = e.account("Acme", &["acme.example"]).await;
    let globex = e.account("Globex", &["globex.example"]).await;
    let [ada, bob, cy, dee] = ["ada", "bob", "cy", "dee"].map(|n| format!("{n}@acme.example"));
    let tps = e
        .record_ok([
            // Ada: in touch ten days ago, and once after the window's end.
            Touch::at("a1", "email.opened", Channel::Email, days_ago(10)).email(&ada),
            Touch::at("a2", "email.opened", Channel::Email, days_ago(1)).email(&ada),
            // Bob: on this account 200 days ago; lately only on Globex's.
            Touch::at("b1", "meeting.held", Channel::Meeting, days_ago(200)).email(&bob),
            Touch::at("b2", "meeting.held", Channel::Meeting, days_ago(5))
                .email(&bob)
                .account(globex.id),
            Touch::at("c1", "page.viewed", Channel::Web, days_ago(400)).email(&cy),
            // Dee is in touch but holds no role.
            Touch::at("d1", "page.viewed", Channel::Web, days_ago(3)).email(&dee),
        ])
        .await;
    let person = |i: usize| tps[i].stakeholder_id.expect("a person");
    let (ada, bob, cy) = (person(0), person(2), person(4));
    give_role(&e, acme.id, ada, DmuRole::DecisionMaker).await;
    give_role(&e, acme.id, bob, DmuRole::Buyer).await;
    give_role(&e, acme.id, cy, DmuRole::Influencer).await;

    let window = Window::new(days_ago(90), days_ago(2)).unwrap();
    let units = dmu::units(e.db(), e.ws, &[acme.id, globex.id], window)
        .await
        .unwrap();
    let unit = &units[&acme.id];
    let roles: Vec<(DmuRole, bool, Vec<Uuid>)> = unit
        .roles()
        .iter()
        .map(|c| {
            (
                c.role,
                c.engaged(),
                c.members.iter().map(|m| m.stakeholder.id).collect(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        [
            (DmuRole::DecisionMaker, true, vec![ada]),
            (DmuRole::Influencer, false, vec![cy]),
            (DmuRole::Buyer, false, vec![bob]),
            (DmuRole::User, false, vec![]),
            (DmuRole::Champion, false, vec![]),
        ]
    );
    assert_eq!(unit.missing(), [DmuRole::User, DmuRole::Champion]);
    assert_eq!(unit.cold(), [DmuRole::Influencer, DmuRole::Buyer]);
    let last = |id: Uuid| {
        unit.members
            .iter()
            .find(|m| m.stakeholder.id == id)
            .unwrap()
            .last_touch_at
    };
    // Ada's touchpoint after the window's end does not count.
    assert_eq!(last(ada), Some(tps[0].occurred_at));
    assert_eq!(last(bob), Some(tps[2].occurred_at));
    assert_eq!(last(cy), Some(tps[4].occurred_at));
    // Globex: nobody holds a role, so every needed role is missing.
    assert_eq!(
        units[&globex.id].missing(),
        [
            DmuRole::DecisionMaker,
            DmuRole::Influencer,
            DmuRole::Buyer,
            DmuRole::User,
            DmuRole::Champion
        ]
    );
}

#[tokio::test]
async fn the_needed_roles_are_the_workspaces_and_accounts_are_found_by_a_missing_role() {
    let e = Engine::new().await;
    let acme = e.account("Acme", &["acme.example"]).await;
    let globex = e.account("Globex", &["globex.example"]).await;
    let initech = e.account("Initech", &[]).await;
    let tps = e
        .record_ok([
            Touch::at("a1", "email.opened", Channel::Email, days_ago(1)).email("ada@acme.example"),
            Touch::at("g1", "email.opened", Channel::Email, days_ago(1))
                .email("gus@globex.example"),
        ])
        .await;
    give_role(&e, acme.id, tps[0].stakeholder_id.unwrap(), DmuRole::Buyer).await;
    give_role(
        &e,
        globex.id,
        tps[1].stakeholder_id.unwrap(),
        DmuRole::Champion,
    )
    .await;

    assert_eq!(
        dmu::needed_roles(e.db(), e.ws).await.unwrap(),
        [
            DmuRole::DecisionMaker,
            DmuRole::Influencer,
            DmuRole::Buyer,
            DmuRole::User,
            DmuRole::Champion
        ]
    );
    let txn = db::begin_write(e.db()).await.unwrap();
    let set = dmu::set_needed_roles(
        &txn,
        e.ws,
        &[DmuRole::Champion, DmuRole::Buyer, DmuRole::Buyer],
    )
    .await
    .unwrap();
    db::commit(txn).await.unwrap();
    assert_eq!(set, [DmuRole::Buyer, DmuRole::Champion]);
    let window = Window::new(days_ago(90), Utc::now()).unwrap();
    let units = dmu::units(e.db(), e.ws, &[acme.id, globex.id, initech.id], window)
        .await
        .unwrap();
    assert_eq!(units[&acme.id].missing(), [DmuRole::Champion]);
    assert!(units[&acme.id].cold().is_empty());
    assert_eq!(units[&globex.id].missing(), [DmuRole::Buyer]);
    assert_eq!(
        units[&initech.id].missing(),
        [DmuRole::Buyer, DmuRole::Champion]
    );

    assert_eq!(
        missing_role(&e, DmuRole::Champion).await,
        ["Acme", "Initech"]
    );
    assert_eq!(
        missing_role(&e, DmuRole::Buyer).await,
        ["Globex", "Initech"]
    );
    assert_eq!(
        missing_role(&e, DmuRole::User).await,
        ["Acme", "Globex", "Initech"]
    );

    // No role needed: none is ever missing.
    let txn = db::begin_write(e.db()).await.unwrap();
    dmu::set_needed_roles(&txn, e.ws, &[]).await.unwrap();
    db::commit(txn).await.unwrap();
    let units = dmu::units(e.db(), e.ws, &[initech.id], window)
        .await
        .unwrap();
    assert!(units[&initech.id].missing().is_empty());
    assert!(units[&initech.id].roles().is_empty());
}
