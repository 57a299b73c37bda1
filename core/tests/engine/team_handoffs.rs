//! Hand-offs between teams and accounts bouncing between marketing and sales
//! on the default FIVE_STAGE model (awareness and consideration MARKETING,
//! purchase decision SALES, retention SERVICE, loyalty RELATIONSHIP), on a
//! small fixture whose figures are worked out by hand below.

use entity::account;
use entity::vocab::{Channel, OwnerTeam};
use journeys_core::CoreError;
use journeys_core::analytics::bouncing::{bouncing, team_touches_statement};
use journeys_core::analytics::handoff::Gaps;
use journeys_core::analytics::team_handoffs::{crossings_statement, team_handoffs};
use journeys_core::analytics::{Window, sequence};
use journeys_core::testing::Touch;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::{Engine, at};

/// 2026-03-02 at `hh:mm`.
fn on_the_day(time: &str) -> String {
    format!("2026-03-02T{time}:00Z")
}

fn window(from: &str, to: &str) -> Window {
    Window::new(at(from), at(to)).unwrap()
}

/// The whole of 2026-03-02.
fn the_day() -> Window {
    window("2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z")
}

async fn default_model(e: &Engine) -> Uuid {
    journeys_core::batch::default_model(e.db(), e.ws)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// On 2026-03-02:
/// - Acme: a sales meeting at 09:00 places it in purchase decision (a first
///   placement, no hand-off); a ticket at 10:00 moves it to retention (SALES
///   → SERVICE); SERVICE called at 09:30, before, and at 13:00: a gap of
///   three hours, 10,800 s.
/// - Beta: a tweet at 09:00 places it in awareness; a sales meeting at 09:30
///   moves it past consideration to purchase decision (MARKETING → SALES,
///   the meeting itself the first SALES touch: 0 s); a ticket at 11:00 to
///   retention, where SERVICE never touched it: waiting.
/// - Cora: a sales meeting at 09:00, a solved ticket at 12:00 (retention),
///   a review at 14:00 (loyalty, SERVICE → RELATIONSHIP): SERVICE never
///   touched it and it is gone from retention: left; nobody from
///   RELATIONSHIP touched it in loyalty, where it still is: waiting.
/// - Delta: a sales meeting at 09:00 (purchase decision), then MARKETING at
///   10:00, SERVICE at 10:15 (not counted), SALES at 10:30, MARKETING at 11:00
///   and 11:30, a touchpoint of no team at 11:45: teams S M S M M, three
///   switches (10:00, 10:30, 11:00).
/// - Echo: a sales meeting at 09:00, MARKETING at 10:00: one switch.
async fn fixture(e: &Engine) {
    let meeting = |id: &str, email: &str, time: &str| {
        Touch::new(id, "meeting.held", Channel::Meeting, &on_the_day(time))
            .email(email)
            .owner_team(OwnerTeam::Sales)
    };
    let call = |id: &str, email: &str, time: &str, team: OwnerTeam| {
        Touch::new(id, "call.logged", Channel::Phone, &on_the_day(time))
            .email(email)
            .owner_team(team)
    };
    let ticket = |id: &str, kind: &str, email: &str, time: &str| {
        Touch::new(id, kind, Channel::Support, &on_the_day(time))
            .source("zendesk")
            .email(email)
    };
    let mail = |id: &str, email: &str, time: &str| {
        Touch::new(id, "email.sent", Channel::Email, &on_the_day(time))
            .email(email)
            .owner_team(OwnerTeam::Marketing)
    };
    for (name, domain) in [
        ("Acme", "a.com"),
        ("Beta", "b.com"),
        ("Cora", "c.com"),
        ("Delta", "d.com"),
        ("Echo", "e.com"),
    ] {
        e.account(name, &[domain]).await;
    }
    e.record_one_by_one([
        meeting("a1", "ann@a.com", "09:00"),
        call("a2", "ann@a.com", "09:30", OwnerTeam::Service),
        ticket("a3", "ticket.opened", "ann@a.com", "10:00"),
        call("a4", "ann@a.com", "13:00", OwnerTeam::Service),
        Touch::new("b1", "tweet.mention", Channel::Social, &on_the_day("09:00"))
            .source("twitter")
            .email("bo@b.com"),
        meeting("b2", "bo@b.com", "09:30"),
        ticket("b3", "ticket.opened", "bo@b.com", "11:00"),
        meeting("c1", "cy@c.com", "09:00"),
        ticket("c2", "ticket.solved", "cy@c.com", "12:00"),
        Touch::new("c3", "review.posted", Channel::Web, &on_the_day("14:00")).email("cy@c.com"),
        meeting("d1", "di@d.com", "09:00"),
        mail("d2", "di@d.com", "10:00"),
        call("d3", "di@d.com", "10:15", OwnerTeam::Service),
        call("d4", "di@d.com", "10:30", OwnerTeam::Sales),
        mail("d5", "di@d.com", "11:00"),
        mail("d6", "di@d.com", "11:30"),
        Touch::new("d7", "page.visited", Channel::Web, &on_the_day("11:45")).email("di@d.com"),
        meeting("e1", "ed@e.com", "09:00"),
        mail("e2", "ed@e.com", "10:00"),
    ])
    .await;
}

fn gaps(
    handed_off: usize,
    waiting: usize,
    left: usize,
    median: Option<f64>,
    p90: Option<f64>,
) -> Gaps {
    Gaps {
        handed_off,
        waiting,
        left,
        median_seconds: median,
        p90_seconds: p90,
    }
}

#[tokio::test]
async fn each_boundary_counts_its_crossings_and_the_new_teams_first_touch() {
    let e = Engine::new().await;
    fixture(&e).await;
    let model = default_model(&e).await;
    let before = e.test.statements.get();
    let report = team_handoffs(e.db(), e.ws, model, the_day()).await.unwrap();
    // The sequence, the crossings with their first touches and whether the
    // accounts are still there, those touchpoints, the accounts.
    assert_eq!(e.test.statements.get() - before, 4);
    let boundaries: Vec<(&str, &str, OwnerTeam, OwnerTeam)> = report
        .iter()
        .map(|h| {
            let b = &h.boundary;
            (
                b.from.key.as_str(),
                b.to.key.as_str(),
                b.from.owner_team,
                b.to.owner_team,
            )
        })
        .collect();
    assert_eq!(
        boundaries,
        [
            (
                "consideration",
                "purchase_decision",
                OwnerTeam::Marketing,
                OwnerTeam::Sales
            ),
            (
                "purchase_decision",
                "retention",
                OwnerTeam::Sales,
                OwnerTeam::Service
            ),
            (
                "retention",
                "loyalty_advocacy",
                OwnerTeam::Service,
                OwnerTeam::Relationship
            ),
        ]
    );
    let names = |i: usize| -> Vec<&str> {
        report[i]
            .crossings
            .iter()
            .map(|c| c.account.name.as_str())
            .collect()
    };

    // MARKETING → SALES: only Beta (the others were placed straight in
    // purchase decision); the meeting that moved it is SALES': 0 s.
    assert_eq!(names(0), ["Beta"]);
    assert_eq!(report[0].gaps, gaps(1, 0, 0, Some(0.0), Some(0.0)));
    let beta = &report[0].crossings[0];
    assert_eq!(beta.crossed_at, at(&on_the_day("09:30")));
    assert_eq!(beta.first_touch.as_ref().unwrap().external_id, "b2");

    // SALES → SERVICE: Acme at 10:00 (touched at 13:00, not by the call at
    // 09:30 before it), Beta at 11:00 (waiting), Cora at 12:00 (left).
    assert_eq!(names(1), ["Acme", "Beta", "Cora"]);
    assert_eq!(
        report[1].gaps,
        gaps(1, 1, 1, Some(10_800.0), Some(10_800.0))
    );
    let [acme, beta, cora] = &report[1].crossings[..] else {
        panic!("three crossings");
    };
    assert_eq!(acme.crossed_at, at(&on_the_day("10:00")));
    assert_eq!(acme.first_touch.as_ref().unwrap().external_id, "a4");
    assert_eq!(acme.gap_seconds(), Some(10_800.0));
    assert!(beta.first_touch.is_none() && beta.still_there);
    assert!(cora.first_touch.is_none() && !cora.still_there);

    // SERVICE → RELATIONSHIP: Cora, untouched and still in loyalty.
    assert_eq!(names(2), ["Cora"]);
    assert_eq!(report[2].gaps, gaps(0, 1, 0, None, None));

    // From 10:30 on, Acme's crossing at 10:00 falls outside; boundaries
    // nobody crossed are still listed.
    let later = team_handoffs(
        e.db(),
        e.ws,
        model,
        window("2026-03-02T10:30:00Z", "2026-03-03T00:00:00Z"),
    )
    .await
    .unwrap();
    assert_eq!(later.len(), 3);
    assert!(later[0].crossings.is_empty());
    assert_eq!(later[0].gaps, gaps(0, 0, 0, None, None));
    assert_eq!(later[1].gaps, gaps(0, 1, 1, None, None));
}

#[tokio::test]
async fn the_first_touch_walks_the_team_time_index() {
    let e = Engine::new().await;
    fixture(&e).await;
    // A busy day for DELIVERY on the same accounts (4,000 touchpoints, in
    // batches), so the statistics see the two teams as the narrow slice of
    // the window they are.
    for batch in 0..8 {
        e.record_ok((0..500).map(|i| {
            let email = format!(
                "p{i}@{}",
                ["a.com", "b.com", "c.com", "d.com", "e.com"][i % 5]
            );
            let at = format!("2026-03-02T{:02}:{:02}:{:02}Z", i % 24, i % 60, batch);
            Touch::new(&format!("h{batch}-{i}"), "call.logged", Channel::Phone, &at)
                .email(&email)
                .owner_team(OwnerTeam::Delivery)
        }))
        .await;
    }
    let model = default_model(&e).await;
    let backend = e.db().get_database_backend();
    // PostgreSQL plans from the statistics autovacuum keeps; SQLite, never
    // analyzed, from its rules.
    if backend == DbBackend::Postgres {
        e.db().execute_unprepared("ANALYZE").await.unwrap();
    }
    let sequence = sequence(e.db(), e.ws, model).await.unwrap();
    let stmt = crossings_statement(e.ws, model, the_day(), &sequence);
    let plan = e.plan(backend.build(&stmt), false).await;
    assert!(
        plan.contains("idx_touchpoints_ws_account_team_time"),
        "the first touch of each crossing:\n{plan}"
    );
    assert!(
        !plan.contains("Seq Scan on touchpoints") && !plan.contains("SCAN tp"),
        "{plan}"
    );
    let accounts: Vec<Uuid> = account::Entity::find()
        .filter(account::Column::WorkspaceId.eq(e.ws))
        .all(e.db())
        .await
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    let stmt = team_touches_statement(e.ws, &accounts, the_day());
    let plan = e.plan(backend.build(&stmt), false).await;
    assert!(
        plan.contains("idx_touchpoints_ws_account_team_time"),
        "the MARKETING and SALES touchpoints:\n{plan}"
    );
    if backend == DbBackend::Postgres {
        assert!(!plan.contains("Seq Scan"), "{plan}");
    }
}

#[tokio::test]
async fn a_stay_bounces_when_marketing_and_sales_alternate() {
    let e = Engine::new().await;
    fixture(&e).await;
    let model = default_model(&e).await;
    let before = e.test.statements.get();
    let bounces = bouncing(e.db(), e.ws, model, the_day(), 2).await.unwrap();
    // The sequence, the stays, the touchpoints, the accounts.
    assert_eq!(e.test.statements.get() - before, 4);
    // Delta's stay in purchase decision: three switches. Echo's one is
    // fewer than two; nobody else had MARKETING and SALES both.
    let [delta] = &bounces[..] else {
        panic!("only Delta bounces: {bounces:?}");
    };
    assert_eq!(
        (delta.account.name.as_str(), delta.stage.key.as_str()),
        ("Delta", "purchase_decision")
    );
    assert_eq!(delta.entered_at, at(&on_the_day("09:00")));
    let switches: Vec<(String, OwnerTeam, OwnerTeam)> = {
        let mut out = Vec::new();
        for s in &delta.switches {
            let id = e.external_id(Some(s.touchpoint)).await.unwrap();
            out.push((id, s.from, s.to));
        }
        out
    };
    use OwnerTeam::{Marketing, Sales};
    assert_eq!(
        switches,
        [
            ("d2".to_owned(), Sales, Marketing),
            ("d4".to_owned(), Marketing, Sales),
            ("d5".to_owned(), Sales, Marketing),
        ]
    );
    assert_eq!(delta.switches[0].at, at(&on_the_day("10:00")));

    // At one switch Echo counts too, after Delta (most switches first).
    let one = bouncing(e.db(), e.ws, model, the_day(), 1).await.unwrap();
    let names: Vec<(&str, usize)> = one
        .iter()
        .map(|b| (b.account.name.as_str(), b.switches.len()))
        .collect();
    assert_eq!(names, [("Delta", 3), ("Echo", 1)]);

    // From 10:20 on, Delta's stay (begun before) overlaps the window, but
    // only its touchpoints within it count: S (10:30), M, M: one switch.
    let late = window("2026-03-02T10:20:00Z", "2026-03-03T00:00:00Z");
    let late = bouncing(e.db(), e.ws, model, late, 1).await.unwrap();
    let names: Vec<(&str, usize)> = late
        .iter()
        .map(|b| (b.account.name.as_str(), b.switches.len()))
        .collect();
    assert_eq!(names, [("Delta", 1)]);

    for bad in [0, 101] {
        let err = bouncing(e.db(), e.ws, model, the_day(), bad)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                CoreError::InvalidInput {
                    field: Some("minSwitches"),
                    ..
                }
            ),
            "{err:?}"
        );
    }
}
