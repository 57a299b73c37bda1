//! Funnel, stalled accounts, hand-off gap, NPS and attribution on a small
//! fixture whose figures are worked out by hand below.

use entity::vocab::{Channel, Lifecycle, OwnerTeam};
use entity::{account, stage_position};
use journeys_core::analytics::attribution::{Share, attribution};
use journeys_core::analytics::funnel::{Flow, funnel};
use journeys_core::analytics::handoff::{Gaps, Handoff, handoff_gap};
use journeys_core::analytics::nps::{Nps, detractors, nps};
use journeys_core::analytics::stalled::{overdue_seconds, stalled};
use journeys_core::analytics::{Segment, Window};
use journeys_core::journeys::models;
use journeys_core::page::{Page, Position, SortKey, finish};
use journeys_core::people::accounts::{self, AccountChanges, NewAccount};
use journeys_core::testing::Touch;
use journeys_core::touchpoints::{self, NEWEST_FIRST, OLDEST_FIRST};
use journeys_core::{db, time};
use uuid::Uuid;

use crate::{Engine, at, change_to, refused_field};
use chrono::{DateTime, Utc};
use journeys_core::lifecycle::Subject;

const DAY: f64 = 86_400.0;

/// Noon on a day of 2026, given as `MM-DD`.
fn noon(date: &str) -> String {
    format!("2026-{date}T12:00:00Z")
}

fn window(from: &str, to: &str) -> Window {
    Window::new(at(from), at(to)).unwrap()
}

/// The first half of 2026.
fn half_year() -> Window {
    window("2026-01-01T00:00:00Z", "2026-07-01T00:00:00Z")
}

/// A (Acme, retail): awareness 01-01, consideration 01-11, purchase decision
/// 02-10 (a sales meeting; a sales proposal follows on 03-01), retention 03-12. B (Beta): awareness 01-05,
/// consideration 01-25. C (Cora): awareness 02-01. A webinar registration is
/// worth 60 points, so A and B become MQLs when they register (the default
/// threshold is 50); C never does.
async fn fixture(e: &Engine) -> [account::Model; 3] {
    e.upsert_rule(crate::rule(
        "webinar",
        Some("webinar.registered"),
        None,
        60.0,
    ))
    .await;
    let a = e
        .account_with(NewAccount {
            domains: vec!["a.com".into()],
            industry: Some("Retail".into()),
            ..NewAccount::named("Acme")
        })
        .await;
    let b = e.account("Beta", &["b.com"]).await;
    let c = e.account("Cora", &["c.com"]).await;
    // One batch per touchpoint, in time order, so each lifecycle change
    // carries the touchpoint that caused it.
    e.record_one_by_one([
        Touch::new("a1", "tweet.mention", Channel::Social, &noon("01-01"))
            .source("twitter")
            .email("ann@a.com"),
        Touch::new("b1", "tweet.mention", Channel::Social, &noon("01-05"))
            .source("twitter")
            .email("bo@b.com"),
        Touch::new("a2", "webinar.registered", Channel::Webinar, &noon("01-11"))
            .source("zoom")
            .email("ann@a.com"),
        Touch::new("b2", "webinar.registered", Channel::Webinar, &noon("01-25"))
            .source("zoom")
            .email("bo@b.com"),
        Touch::new("c1", "ad.clicked", Channel::Ad, &noon("02-01")).email("cy@c.com"),
        Touch::new("a3", "meeting.held", Channel::Meeting, &noon("02-10"))
            .email("ann@a.com")
            .owner_team(OwnerTeam::Sales),
        // Sales again: behind the stage A is in, so no move.
        Touch::new("a5", "proposal.sent", Channel::Email, &noon("03-01"))
            .email("ann@a.com")
            .owner_team(OwnerTeam::Sales),
        Touch::new("a4", "ticket.opened", Channel::Support, &noon("03-12"))
            .source("zendesk")
            .email("ann@a.com"),
    ])
    .await;
    [a, b, c]
}

async fn default_model(e: &Engine) -> Uuid {
    let all = models::list(e.db(), e.ws).await.unwrap();
    all.into_iter().find(|m| m.is_default).unwrap().id
}

/// A stage's flow: `days` are the median and 90th percentile of the times
/// in it (one value when they are the same); drop-off is `1 - conversion`.
fn flow(entered: usize, moved_on: usize, conversion: Option<f64>, days: &[f64]) -> Flow {
    let [median, p90] = match days {
        [] => [None, None],
        [d] => [Some(d * DAY), Some(d * DAY)],
        [m, p] => [Some(m * DAY), Some(p * DAY)],
        _ => unreachable!(),
    };
    Flow {
        entered,
        moved_on,
        conversion,
        drop_off: conversion.map(|c| 1.0 - c),
        median_seconds: median,
        p90_seconds: p90,
    }
}

#[tokio::test]
async fn the_funnel_counts_entries_moves_and_times_per_stage() {
    let e = Engine::new().await;
    fixture(&e).await;
    let model = default_model(&e).await;
    let flows = |stages: Vec<journeys_core::analytics::funnel::FunnelStage>| {
        stages
            .into_iter()
            .map(|s| (s.stage.key, s.flow))
            .collect::<Vec<_>>()
    };
    let all = funnel(e.db(), e.ws, model, half_year(), &Segment::default())
        .await
        .unwrap();
    let keys = [
        "awareness",
        "consideration",
        "purchase_decision",
        "retention",
        "loyalty_advocacy",
    ]
    .map(str::to_owned);
    assert_eq!(
        flows(all),
        [
            // A, B, C entered; A (10 days) and B (20 days) moved on: 2/3.
            // Times [10, 20] d: nearest ranks ceil(1.0) = 1 and ceil(1.8) = 2.
            (keys[0].clone(), flow(3, 2, Some(2.0 / 3.0), &[10.0, 20.0])),
            // A and B entered; A moved on after 30 days: 1/2.
            (keys[1].clone(), flow(2, 1, Some(0.5), &[30.0])),
            // A, 30 days from the meeting on 02-10 to the ticket on 03-12.
            (keys[2].clone(), flow(1, 1, Some(1.0), &[30.0])),
            // A, still there: drop-off 1.
            (keys[3].clone(), flow(1, 0, Some(0.0), &[])),
            // Nobody: no conversion at all.
            (keys[4].clone(), flow(0, 0, None, &[])),
        ]
    );

    // From February on: C's entry into awareness, and A's two later moves.
    let feb = window("2026-02-01T00:00:00Z", "2026-07-01T00:00:00Z");
    let later = flows(
        funnel(e.db(), e.ws, model, feb, &Segment::default())
            .await
            .unwrap(),
    );
    let entered: Vec<usize> = later.iter().map(|(_, f)| f.entered).collect();
    assert_eq!(entered, [1, 0, 1, 1, 0]);
    assert_eq!(later[2].1, flow(1, 1, Some(1.0), &[30.0]));

    // Retail accounts only: A, through awareness to retention.
    let retail = Segment {
        industry: Some("Retail".into()),
        ..Default::default()
    };
    let a = flows(
        funnel(e.db(), e.ws, model, half_year(), &retail)
            .await
            .unwrap(),
    );
    assert_eq!(a[0].1, flow(1, 1, Some(1.0), &[10.0]));
    let entered: Vec<usize> = a.iter().map(|(_, f)| f.entered).collect();
    assert_eq!(entered, [1, 1, 1, 1, 0]);
}

#[tokio::test]
async fn stalled_accounts_are_those_past_their_stage_target() {
    let e = Engine::new().await;
    let accounts = fixture(&e).await;
    let model = default_model(&e).await;
    let names = |rows: &[stage_position::Model]| -> Vec<String> {
        rows.iter()
            .map(|p| {
                let account = accounts.iter().find(|a| a.id == p.account_id).unwrap();
                account.name.clone()
            })
            .collect()
    };
    // On 04-01: B has been in consideration (target 45 days) since 01-25, 66
    // days; C in awareness (target 30 days) since 02-01, 59 days. A has been in
    // retention (target 365 days) since 03-12.
    let april = at("2026-04-01T12:00:00Z");
    let report = stalled(e.db(), e.ws, model, april).await.unwrap();
    assert_eq!(report.count(e.db()).await.unwrap(), 2);
    let rows = report.page(e.db(), &Page::first(10)).await.unwrap();
    // Longest overdue first, whatever each stage's target: C is further past
    // its 30 days than B past its 45, though B entered its stage first.
    assert_eq!(names(&rows), ["Cora", "Beta"]);
    let overdue: Vec<(String, f64)> = rows
        .iter()
        .map(|p| {
            let stage = &report.stages[&p.stage_id];
            let late = overdue_seconds(p.entered_at, stage.target_duration_secs, april);
            (stage.key.clone(), late / DAY)
        })
        .collect();
    // 59 - 30 = 29 days over; 66 - 45 = 21.
    assert_eq!(
        overdue,
        [
            ("awareness".to_owned(), 29.0),
            ("consideration".to_owned(), 21.0)
        ]
    );
    // One at a time, by when each fell due.
    let one = Page::first(1);
    let (first, flags) = finish(report.page(e.db(), &one).await.unwrap(), &one);
    assert_eq!(names(&first), ["Cora"]);
    assert!(flags.has_next);
    let next = Page {
        after: Some(Position {
            key: SortKey::Time(first[0].due_at.unwrap()),
            id: first[0].id,
        }),
        ..one
    };
    let (second, flags) = finish(report.page(e.db(), &next).await.unwrap(), &next);
    assert_eq!(names(&second), ["Beta"]);
    assert!(!flags.has_next);

    // On 03-05 only C is over: B's 45 days run until 03-11.
    let march = stalled(e.db(), e.ws, model, at("2026-03-05T12:00:00Z"))
        .await
        .unwrap();
    let rows = march.page(e.db(), &Page::first(10)).await.unwrap();
    assert_eq!(names(&rows), ["Cora"]);
}

#[tokio::test]
async fn the_handoff_gap_runs_from_mql_to_sales_first_touch() {
    let e = Engine::new().await;
    let [a, b, _] = fixture(&e).await;
    let gap = handoff_gap(e.db(), e.ws, half_year()).await.unwrap();
    // A: an MQL at its webinar on 01-11, first met by sales on 02-10 (the
    // proposal of 03-01 came later): 30 days. B has waited since 01-25. C
    // never qualified.
    assert_eq!(
        gap.gaps,
        Gaps {
            handed_off: 1,
            waiting: 1,
            left: 0,
            median_seconds: Some(30.0 * DAY),
            p90_seconds: Some(30.0 * DAY),
        }
    );
    let entries: Vec<(Uuid, _, Option<String>, Option<f64>)> = gap
        .entries
        .iter()
        .map(|en| {
            (
                en.account.id,
                en.mql_at,
                en.first_sales_touch.as_ref().map(|t| t.external_id.clone()),
                en.gap_seconds(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        [
            (
                a.id,
                at(&noon("01-11")),
                Some("a3".to_owned()),
                Some(30.0 * DAY)
            ),
            (b.id, at(&noon("01-25")), None, None),
        ]
    );
    // What happened between A's MQL and the meeting: the registration itself.
    let between = gap.entries[0].touchpoints_between();
    let listed = touchpoints::list(e.db(), e.ws, &between, OLDEST_FIRST, &Page::first(10))
        .await
        .unwrap();
    let ids: Vec<&str> = listed.iter().map(|t| t.external_id.as_str()).collect();
    assert_eq!(ids, ["a2"]);
    // A window after both MQLs holds nobody.
    let later = handoff_gap(
        e.db(),
        e.ws,
        window("2026-02-01T00:00:00Z", "2026-07-01T00:00:00Z"),
    )
    .await
    .unwrap();
    assert!(later.entries.is_empty());
    assert_eq!((later.gaps.handed_off, later.gaps.waiting), (0, 0));

    // B is disqualified by hand before sales got to it: nobody waits for it.
    let txn = db::begin_write(e.db()).await.unwrap();
    let changes = AccountChanges {
        lifecycle: Some(Lifecycle::Disqualified),
        ..AccountChanges::default()
    };
    accounts::update(&txn, e.ws, b.id, changes, "sam")
        .await
        .unwrap();
    db::commit(txn).await.unwrap();
    let gap = handoff_gap(e.db(), e.ws, half_year()).await.unwrap();
    let counts = (gap.gaps.handed_off, gap.gaps.waiting, gap.gaps.left);
    assert_eq!(counts, (1, 0, 1));
    assert_eq!(gap.entries[1].handoff(), Handoff::Left);
}

#[tokio::test]
async fn nps_counts_promoters_passives_and_detractors_within_the_window() {
    let e = Engine::new().await;
    let answer = |id: &str, at: &str, score: f64| {
        Touch::new(id, "nps.responded", Channel::Email, at)
            .source("survey")
            .score(score)
    };
    let answers = [10.0, 9.0, 8.0, 6.0, 3.0, 10.0]
        .iter()
        .enumerate()
        .map(|(i, score)| {
            answer(
                &format!("n{i}"),
                &format!("2026-04-0{}T12:00:00Z", i + 1),
                *score,
            )
        });
    e.record_ok(answers).await;
    // An answer outside the window does not count.
    e.record_ok([answer("old", "2025-12-01T00:00:00Z", 0.0)])
        .await;
    // Answers off the 0-10 scale are refused, one by one.
    let refused = e
        .record([11.0, -1.0, 7.5].map(|s| answer(&format!("bad{s}"), "2026-04-10T12:00:00Z", s)))
        .await;
    for r in &refused {
        assert_eq!(refused_field(r.result.as_ref().unwrap_err()), Some("score"));
    }

    // 3 promoters (10, 9, 10), 1 passive (8), 2 detractors (6, 3) of 6:
    // (3 - 2) * 100 / 6 = 16.67.
    assert_eq!(
        nps(e.db(), e.ws, half_year()).await.unwrap(),
        Nps {
            score: Some(100.0 / 6.0),
            responses: 6,
            promoters: 3,
            passives: 1,
            detractors: 2,
        }
    );
    let listed = touchpoints::list(
        e.db(),
        e.ws,
        &detractors(half_year()),
        NEWEST_FIRST,
        &Page::first(10),
    )
    .await
    .unwrap();
    let scores: Vec<(&str, Option<f64>)> = listed
        .iter()
        .map(|t| (t.external_id.as_str(), t.score))
        .collect();
    assert_eq!(scores, [("n4", Some(3.0)), ("n3", Some(6.0))]);

    let empty = nps(
        e.db(),
        e.ws,
        window("2020-01-01T00:00:00Z", "2020-02-01T00:00:00Z"),
    )
    .await
    .unwrap();
    assert_eq!((empty.score, empty.responses), (None, 0));
    let backwards =
        Window::new(at("2026-02-01T00:00:00Z"), at("2026-01-01T00:00:00Z")).unwrap_err();
    assert_eq!(refused_field(&backwards), None);
    assert_eq!(backwards.to_string(), "`from` must be before `to`");
}

#[tokio::test]
async fn attribution_names_first_and_last_touch_of_new_customers() {
    let e = Engine::new().await;
    let [a, _, _] = fixture(&e).await;
    let customer = || AccountChanges {
        lifecycle: Some(Lifecycle::Customer),
        ..Default::default()
    };
    let txn = db::begin_write(e.db()).await.unwrap();
    accounts::update(&txn, e.ws, a.id, customer(), "sam")
        .await
        .unwrap();
    db::commit(txn).await.unwrap();
    // A customer whose only touchpoint came after its purchase: nothing led it
    // there, so it names no first or last touch.
    let late = e.account("Latecomer", &["latecomer.com"]).await;
    let txn = db::begin_write(e.db()).await.unwrap();
    accounts::update(&txn, e.ws, late.id, customer(), "sam")
        .await
        .unwrap();
    db::commit(txn).await.unwrap();
    let after = time::now() + chrono::Duration::minutes(1);
    e.record_ok([
        Touch::at("after", "ticket.opened", Channel::Support, after).email("x@latecomer.com")
    ])
    .await;

    let report = attribution(
        e.db(),
        e.ws,
        window("2026-01-01T00:00:00Z", "2030-01-01T00:00:00Z"),
    )
    .await
    .unwrap();
    let entries: Vec<(&str, Option<&str>, Option<&str>)> = report
        .entries
        .iter()
        .map(|en| {
            (
                en.account.name.as_str(),
                en.first.as_ref().map(|t| t.external_id.as_str()),
                en.last.as_ref().map(|t| t.external_id.as_str()),
            )
        })
        .collect();
    assert_eq!(
        entries,
        [("Acme", Some("a1"), Some("a4")), ("Latecomer", None, None)]
    );
    let share = |source: &str, channel| Share {
        source: source.to_owned(),
        channel,
        accounts: 1,
    };
    assert_eq!(report.first_touch, [share("twitter", Channel::Social)]);
    assert_eq!(report.last_touch, [share("zendesk", Channel::Support)]);
    // Customers before the window are not counted.
    let later = attribution(
        e.db(),
        e.ws,
        window("2030-01-01T00:00:00Z", "2031-01-01T00:00:00Z"),
    )
    .await
    .unwrap();
    assert!(later.entries.is_empty() && later.first_touch.is_empty());
}

#[tokio::test]
async fn attribution_counts_accounts_won_past_customer_dated_by_the_first_such_change() {
    let e = Engine::new().await;
    let [a, b, _] = fixture(&e).await;
    let set = |account: Uuid, lifecycle| {
        let e = &e;
        async move {
            let txn = db::begin_write(e.db()).await.unwrap();
            let changes = AccountChanges {
                lifecycle: Some(lifecycle),
                ..Default::default()
            };
            accounts::update(&txn, e.ws, account, changes, "sam")
                .await
                .unwrap();
            db::commit(txn).await.unwrap();
        }
    };
    // Acme becomes a customer, then a promoter; Beta goes straight to promoter.
    set(a.id, Lifecycle::Customer).await;
    set(a.id, Lifecycle::Promoter).await;
    set(b.id, Lifecycle::Promoter).await;

    let report = attribution(
        e.db(),
        e.ws,
        window("2026-01-01T00:00:00Z", "2030-01-01T00:00:00Z"),
    )
    .await
    .unwrap();
    let won: Vec<(&str, DateTime<Utc>)> = report
        .entries
        .iter()
        .map(|en| (en.account.name.as_str(), en.customer_at))
        .collect();
    let acme_customer = change_to(
        &e.changes(Subject::Account(a.id)).await,
        Lifecycle::Customer,
    )
    .at;
    let beta_promoter = change_to(
        &e.changes(Subject::Account(b.id)).await,
        Lifecycle::Promoter,
    )
    .at;
    assert_eq!(won, [("Acme", acme_customer), ("Beta", beta_promoter)]);
    let counted: usize = report.first_touch.iter().map(|s| s.accounts).sum();
    assert_eq!(counted, 2, "{:?}", report.first_touch);
}
