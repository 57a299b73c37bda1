//! What happens in each stage of the default FIVE_STAGE model over March
//! 2026, on a small fixture whose figures are worked out by hand below.

use entity::vocab::{Channel, Emotion, OwnerTeam};
use journeys_core::analytics::funnel::funnel;
use journeys_core::analytics::stage_insights::{Group, Tally, stage_insights};
use journeys_core::analytics::{Segment, Window};
use journeys_core::testing::Touch;
use sea_orm::Iterable;

use crate::{Engine, at};

fn march() -> Window {
    Window::new(at("2026-03-01T00:00:00Z"), at("2026-04-01T00:00:00Z")).unwrap()
}

/// Ten o'clock on a day of 2026, given as `MM-DD`.
fn ten(date: &str) -> String {
    format!("2026-{date}T10:00:00Z")
}

/// - Fox: a sales meeting on 03-02 (purchase decision; no emotion), an email
///   on 03-03 (WANT, 0.6), a call on 03-04 (NEED, 0.2); a ticket on 03-10
///   (PAIN, -0.4) moves it to retention, where a call on 03-12 (FEAR, -0.8)
///   and an email on 03-15 (neither) follow. Its purchase decision stay
///   moved on; its retention stay is open at the window's end: dropped off.
/// - Gil: a sales meeting on 03-05 (FEAR, -0.2), an email on 03-06 (FEAR, no
///   sentiment), and a call on 04-02 (PAIN, -1.0), after the window: its
///   purchase decision stay dropped off.
async fn fixture(e: &Engine) {
    e.account("Fox", &["f.com"]).await;
    e.account("Gil", &["g.com"]).await;
    let touch = |id: &str, kind: &str, channel: Channel, date: &str, email: &str| {
        Touch::new(id, kind, channel, &ten(date))
            .email(email)
            .owner_team(OwnerTeam::Sales)
    };
    e.record_one_by_one([
        touch("f1", "meeting.held", Channel::Meeting, "03-02", "fa@f.com"),
        touch("f2", "email.sent", Channel::Email, "03-03", "fa@f.com")
            .emotion(Emotion::Want)
            .sentiment(0.6),
        touch("f3", "call.logged", Channel::Phone, "03-04", "fa@f.com")
            .emotion(Emotion::Need)
            .sentiment(0.2),
        touch("f4", "ticket.opened", Channel::Support, "03-10", "fa@f.com")
            .emotion(Emotion::Pain)
            .sentiment(-0.4),
        touch("f5", "call.logged", Channel::Phone, "03-12", "fa@f.com")
            .emotion(Emotion::Fear)
            .sentiment(-0.8),
        touch("f6", "email.sent", Channel::Email, "03-15", "fa@f.com"),
        touch("g1", "meeting.held", Channel::Meeting, "03-05", "gi@g.com")
            .emotion(Emotion::Fear)
            .sentiment(-0.2),
        touch("g2", "email.sent", Channel::Email, "03-06", "gi@g.com").emotion(Emotion::Fear),
        touch("g3", "call.logged", Channel::Phone, "04-02", "gi@g.com")
            .emotion(Emotion::Pain)
            .sentiment(-1.0),
    ])
    .await;
}

/// Counts of the six emotions, in the enum's order (PAIN, PROBLEM, FEAR,
/// WANT, NEED, DESIRE).
fn emotions(counts: [usize; 6]) -> Vec<Tally<Emotion>> {
    Emotion::iter()
        .zip(counts)
        .map(|(value, count)| Tally { value, count })
        .collect()
}

fn tallies<T: Clone>(pairs: &[(T, usize)]) -> Vec<Tally<T>> {
    pairs
        .iter()
        .map(|(value, count)| Tally {
            value: value.clone(),
            count: *count,
        })
        .collect()
}

fn close(value: Option<f64>, expected: f64) -> bool {
    value.is_some_and(|v| (v - expected).abs() < 1e-9)
}

#[tokio::test]
async fn stays_that_moved_on_and_dropped_off_tell_their_touchpoints_apart() {
    let e = Engine::new().await;
    fixture(&e).await;
    let model = journeys_core::batch::default_model(e.db(), e.ws)
        .await
        .unwrap()
        .unwrap()
        .id;
    let before = e.test.statements.get();
    let report = stage_insights(e.db(), e.ws, model, march()).await.unwrap();
    // The sequence, the stays, their touchpoints.
    assert_eq!(e.test.statements.get() - before, 3);
    let keys: Vec<&str> = report.iter().map(|s| s.stage.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "awareness",
            "consideration",
            "purchase_decision",
            "retention",
            "loyalty_advocacy"
        ]
    );
    let purchase = &report[2];

    // Moved on: Fox's stay, from the meeting up to (not including) the
    // ticket that ended it: the meeting, the email (WANT, 0.6) and the call
    // (NEED, 0.2): mean (0.6 + 0.2) / 2 = 0.4 over the two with a sentiment.
    let moved_on = &purchase.moved_on;
    assert_eq!((moved_on.stays, moved_on.touchpoints), (1, 3));
    assert_eq!(moved_on.emotions, emotions([0, 0, 0, 1, 1, 0]));
    assert!(close(moved_on.mean_sentiment, 0.4), "{moved_on:?}");

    // Dropped off: Gil's stay, open: the meeting (FEAR, -0.2) and the email
    // (FEAR, none); the call on 04-02 is after the window.
    let dropped = &purchase.dropped_off;
    assert_eq!((dropped.stays, dropped.touchpoints), (1, 2));
    assert_eq!(dropped.emotions, emotions([0, 0, 2, 0, 0, 0]));
    assert!(close(dropped.mean_sentiment, -0.2), "{dropped:?}");
    assert_eq!(
        dropped.by_kind,
        tallies(&[("email.sent".to_owned(), 1), ("meeting.held".to_owned(), 1)])
    );

    // All: two stays, five touchpoints; mean (0.6 + 0.2 - 0.2) / 3 = 0.2.
    // Two emails and two meetings (a tie, by name), one call.
    let all = &purchase.all;
    assert_eq!((all.stays, all.touchpoints), (2, 5));
    assert_eq!(all.touchpoints_per_stay(), Some(2.5));
    assert!(close(all.mean_sentiment, 0.2), "{all:?}");
    assert_eq!(
        all.by_channel,
        tallies(&[
            (Channel::Email, 2),
            (Channel::Meeting, 2),
            (Channel::Phone, 1)
        ])
    );
    assert_eq!(all.emotions, emotions([0, 0, 2, 1, 1, 0]));

    // Retention: Fox's stay, open, dropped off: the ticket (PAIN, -0.4), the
    // call (FEAR, -0.8) and the email (neither): mean -0.6.
    let retention = &report[3];
    assert_eq!(retention.moved_on, empty());
    let dropped = &retention.dropped_off;
    assert_eq!((dropped.stays, dropped.touchpoints), (1, 3));
    assert_eq!(dropped.emotions, emotions([1, 0, 1, 0, 0, 0]));
    assert!(close(dropped.mean_sentiment, -0.6), "{dropped:?}");

    // Nobody entered the other stages.
    for stage in [&report[0], &report[1], &report[4]] {
        assert_eq!(stage.all, empty());
    }

    // The funnel counts the same stays: entered = all stays, moved on = the
    // stays that moved on (no account loops back in this fixture).
    let funnel = funnel(e.db(), e.ws, model, march(), &Segment::default())
        .await
        .unwrap();
    assert_eq!(funnel.len(), report.len());
    for (flow, insight) in funnel.iter().zip(&report) {
        assert_eq!(flow.stage.id, insight.stage.id);
        assert_eq!(
            (flow.flow.entered, flow.flow.moved_on),
            (insight.all.stays, insight.moved_on.stays),
            "{}",
            insight.stage.key
        );
    }
}

/// A group without stays.
fn empty() -> Group {
    Group {
        emotions: emotions([0; 6]),
        ..Group::default()
    }
}

/// Every `loops=N` of an `EXPLAIN ANALYZE` plan.
fn loops(plan: &str) -> Vec<u64> {
    plan.match_indices("loops=")
        .filter_map(|(i, _)| {
            let digits: String = plan[i + 6..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        })
        .collect()
}

#[tokio::test]
async fn each_stays_end_is_found_once_not_once_per_touchpoint() {
    use journeys_core::analytics::sequence;
    use journeys_core::analytics::stage_insights::touch_counts_statement;
    use sea_orm::DbBackend;
    let e = Engine::new().await;
    let backend = e.db().get_database_backend();
    if backend != DbBackend::Postgres {
        // SQLite's EXPLAIN QUERY PLAN shows no loop counts.
        return;
    }
    fixture(&e).await;
    // Forty more emails in Fox's purchase decision stay.
    let more: Vec<Touch> = (0..40)
        .map(|i| {
            Touch::new(
                &format!("more{i}"),
                "email.sent",
                Channel::Email,
                &format!("2026-03-03T{:02}:{:02}:00Z", 11 + i / 60, i % 60),
            )
            .email("fa@f.com")
        })
        .collect();
    e.record_ok(more).await;
    let model = journeys_core::journeys::models::list(e.db(), e.ws)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.is_default)
        .unwrap()
        .id;
    let stages: Vec<uuid::Uuid> = sequence(e.db(), e.ws, model)
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    let stmt = touch_counts_statement(e.ws, model, march(), &stages);
    let plan = e.plan(backend.build(&stmt), true).await;
    // Three stays (Fox's two, Gil's one) and 49 touchpoints: no step runs
    // more than once per stay.
    let most = loops(&plan).into_iter().max().unwrap_or(0);
    assert!(most <= 3, "a step ran {most} times:\n{plan}");
}
