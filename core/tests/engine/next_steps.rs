//! Next steps read from a real database: the hand-off to sales, a detractor's
//! answer, an open ticket, a missing role and a stage's playbook, each with
//! its reason, and each gone once the records say it was taken care of.

use chrono::{DateTime, Duration, Utc};
use entity::vocab::{Channel, DmuRole, Lifecycle, OwnerTeam};
use std::collections::HashMap;

use journeys_core::guidance::{NextStep, Priority, StepKind, guide};
use journeys_core::journeys::editing::{self, StageChanges};
use journeys_core::journeys::playbooks::PlaybookStep;
use journeys_core::lifecycle::{self, Change, Subject};
use journeys_core::people::{dmu, memberships};
use journeys_core::testing::Touch;
use journeys_core::{batch, db, privacy};

use crate::Engine;

fn days_ago(days: i64) -> DateTime<Utc> {
    Utc::now() - Duration::days(days)
}

fn playbook_step(text: &str, done_when: &[&str]) -> PlaybookStep {
    PlaybookStep {
        text: text.into(),
        owner_team: OwnerTeam::Service,
        done_when: done_when.iter().map(|k| (*k).to_owned()).collect(),
    }
}

async fn make_mql(e: &Engine, account: uuid::Uuid, at: DateTime<Utc>) {
    let txn = db::begin_write(e.db()).await.unwrap();
    lifecycle::set(
        &txn,
        e.ws,
        Subject::Account(account),
        Change {
            from: None,
            to: Lifecycle::Mql,
            at,
            cause: "qualified by hand",
            actor: None,
            touchpoint: None,
        },
    )
    .await
    .unwrap();
    db::commit(txn).await.unwrap();
}

async fn next_steps(e: &Engine, accounts: &[uuid::Uuid]) -> HashMap<uuid::Uuid, Vec<NextStep>> {
    let guided = guide(e.db(), e.ws, accounts, Utc::now()).await.unwrap();
    guided
        .into_iter()
        .map(|(id, g)| (id, g.next_steps))
        .collect()
}

fn what(steps: &[NextStep]) -> Vec<(StepKind, Priority, &str)> {
    steps
        .iter()
        .map(|s| (s.kind, s.priority, s.text.as_str()))
        .collect()
}

#[tokio::test]
async fn steps_come_from_the_records_and_go_once_they_are_taken() {
    let e = Engine::new().await;
    let acme = e.account("Acme", &["acme.example"]).await;
    let globex = e.account("Globex", &["globex.example"]).await;
    let model = batch::default_model(e.db(), e.ws).await.unwrap().unwrap();
    let stages = batch::stages_of(e.db(), e.ws, &[model.id]).await.unwrap();
    let retention = stages[&model.id]
        .iter()
        .find(|s| s.key == "retention")
        .unwrap()
        .clone();
    let changes = StageChanges {
        playbook: Some(vec![
            playbook_step("Hold the onboarding call", &["call.logged"]),
            playbook_step("Share the admin guide", &[]),
        ]),
        ..StageChanges::default()
    };
    editing::update_stage(e.db(), e.ws, retention.id, changes)
        .await
        .unwrap();
    let txn = db::begin_write(e.db()).await.unwrap();
    dmu::set_needed_roles(&txn, e.ws, &[DmuRole::DecisionMaker, DmuRole::Buyer])
        .await
        .unwrap();
    db::commit(txn).await.unwrap();

    let (ada, bob, cy) = (
        "ada@acme.example",
        "bob@globex.example",
        "cy@globex.example",
    );
    let ticket = |n: u64, event: &str, days: i64| {
        Touch::at(
            &format!("ticket:{n}:{event}"),
            &format!("ticket.{event}"),
            Channel::Support,
            days_ago(days),
        )
        .source("zendesk")
        .email(ada)
        .title(&format!("Ticket {n}"))
        .properties(serde_json::json!({ "ticket_id": n }))
    };
    let tps = e
        .record_ok([
            Touch::at("m1", "meeting.held", Channel::Meeting, days_ago(20)).email(ada),
            // Ticket 8 was solved; ticket 7 is open. The first moved Acme
            // into Retention six days ago.
            ticket(8, "opened", 6),
            ticket(8, "solved", 5),
            ticket(7, "opened", 3),
            Touch::at("n1", "nps.responded", Channel::Email, days_ago(2))
                .email(ada)
                .score(4.0),
            // Globex: sales touched it after it qualified, and after its
            // detractor's answer.
            Touch::at("n2", "nps.responded", Channel::Email, days_ago(3))
                .email(bob)
                .score(3.0),
            Touch::at("s1", "email.sent", Channel::Email, days_ago(1))
                .email(bob)
                .owner_team(OwnerTeam::Sales),
            Touch::at("o1", "email.opened", Channel::Email, days_ago(1)).email(cy),
        ])
        .await;
    let person = |i: usize| tps[i].stakeholder_id.unwrap();
    let (ada_id, bob_id, cy_id) = (person(0), person(5), person(7));
    let (opened_7, answer) = (&tps[3], &tps[4]);
    make_mql(&e, acme.id, days_ago(4)).await;
    make_mql(&e, globex.id, days_ago(4)).await;
    let txn = db::begin_write(e.db()).await.unwrap();
    for (account, person, role) in [
        (acme.id, ada_id, DmuRole::DecisionMaker),
        (globex.id, bob_id, DmuRole::DecisionMaker),
        (globex.id, cy_id, DmuRole::Buyer),
    ] {
        memberships::add(&txn, e.ws, account, person, Some(role), None)
            .await
            .unwrap();
    }
    // Ada took email back; phone she allows.
    for (channel, granted) in [
        (Channel::Email, true),
        (Channel::Phone, true),
        (Channel::Email, false),
    ] {
        privacy::set_consent(&txn, e.ws, ada_id, channel, granted, "preference centre")
            .await
            .unwrap();
    }
    db::commit(txn).await.unwrap();

    let accounts = [acme.id, globex.id];
    let steps = next_steps(&e, &accounts).await;
    use {Priority::*, StepKind::*};
    assert_eq!(
        what(&steps[&acme.id]),
        [
            (AwaitingSales, High, "Make the first sales contact"),
            (
                DetractorFollowUp,
                High,
                "Follow up ada@acme.example's NPS answer of 4"
            ),
            (OpenTicket, High, "Resolve support ticket 7: Ticket 7"),
            (MissingRole, Medium, "Find the account's buyer"),
            (Playbook, Medium, "Hold the onboarding call"),
            (Playbook, Low, "Share the admin guide"),
        ]
    );
    let acme_steps = &steps[&acme.id];
    assert!(acme_steps[0].reason.starts_with(&format!(
        "qualified on {} (4 days ago) and now an MQL",
        days_ago(4).format("%Y-%m-%d")
    )));
    assert_eq!(acme_steps[1].touchpoint_id, Some(answer.id));
    assert_eq!(acme_steps[2].touchpoint_id, Some(opened_7.id));
    for person_step in &acme_steps[1..3] {
        assert_eq!(person_step.stakeholder_id, Some(ada_id));
        assert_eq!(
            person_step.contact_on,
            [Channel::Phone],
            "email was revoked"
        );
    }
    assert_eq!(acme_steps[4].stage_id, Some(retention.id));
    assert!(acme_steps[4].reason.ends_with(&format!(
        "no call.logged touchpoint since the account entered the stage on {}",
        days_ago(6).format("%Y-%m-%d")
    )));
    assert_eq!(what(&steps[&globex.id]), []);

    // A sales call: sales has touched Acme, the answer was followed up, the
    // onboarding call is done; the ticket is solved.
    e.record_ok([
        Touch::at("c1", "call.logged", Channel::Phone, days_ago(0))
            .email(ada)
            .owner_team(OwnerTeam::Sales),
        ticket(7, "solved", 0),
    ])
    .await;
    let steps = next_steps(&e, &accounts).await;
    assert_eq!(
        what(&steps[&acme.id]),
        [
            (MissingRole, Medium, "Find the account's buyer"),
            (Playbook, Medium, "Share the admin guide"),
        ]
    );
}
