//! Sales engagement and content effectiveness on five deals whose figures are
//! worked out by hand below: an ROI guide sales shared in two of the three
//! won deals and in none of the two lost.

use std::collections::HashMap;

use entity::vocab::{Channel, Emotion, OwnerTeam};
use journeys_core::analytics::Window;
use journeys_core::analytics::content::{Outcomes, content_effectiveness};
use journeys_core::analytics::sales_engagement::{Outcome, account_engagements, sales_engagement};
use journeys_core::analytics::stage_insights::account_stages;
use journeys_core::db;
use journeys_core::journeys::models;
use journeys_core::lifecycle::rules::{self, Template};
use journeys_core::testing::Touch;
use uuid::Uuid;

use crate::{Engine, at};

const NAMES: [&str; 5] = ["a", "b", "c", "d", "e"];

fn march() -> Window {
    Window::new(at("2026-03-01T00:00:00Z"), at("2026-04-01T00:00:00Z")).unwrap()
}

fn day(d: u32) -> String {
    format!("2026-03-{d:02}T12:00:00Z")
}

fn sales(id: &str, kind: &str, d: u32, account: &str, actor: &str) -> Touch {
    Touch::new(id, kind, Channel::Email, &day(d))
        .email(&format!("buyer@{account}.com"))
        .owner_team(OwnerTeam::Sales)
        .actor(actor)
}

/// Accounts a to e register for a webinar on March 1 to 5 (60 points: MQL,
/// and into consideration), meet sales on the 6th (purchase decision), and
/// on the 20th a, b and c are won and d and e lost. Sam shares the ROI guide
/// with a and b on the 8th and the pricing deck with d on the 10th; Ria calls
/// c on the 9th. a and b complete onboarding on the 25th (retention).
async fn deals(e: &Engine) -> HashMap<&'static str, Uuid> {
    e.upsert_rule(crate::rule(
        "webinar",
        Some("webinar.registered"),
        None,
        60.0,
    ))
    .await;
    let txn = db::begin_write(e.db()).await.unwrap();
    rules::install(&txn, e.ws, Template::Standard)
        .await
        .unwrap();
    db::commit(txn).await.unwrap();
    let mut ids = HashMap::new();
    for name in NAMES {
        let account = e.account(name, &[&format!("{name}.com")]).await;
        ids.insert(name, account.id);
    }
    let mut touches = Vec::new();
    for (i, name) in NAMES.iter().enumerate() {
        touches.push(
            Touch::new(
                &format!("{name}-webinar"),
                "webinar.registered",
                Channel::Webinar,
                &day(i as u32 + 1),
            )
            .email(&format!("buyer@{name}.com")),
        );
        touches.push(sales(
            &format!("{name}-meeting"),
            "meeting.held",
            6,
            name,
            "sam",
        ));
        let outcome = if i < 3 { "deal.won" } else { "deal.lost" };
        touches.push(sales(&format!("{name}-outcome"), outcome, 20, name, "sam"));
    }
    for name in ["a", "b"] {
        touches.push(
            sales(&format!("{name}-roi"), "asset.shared", 8, name, "sam")
                .asset("roi-guide", "The ROI guide")
                .emotion(Emotion::Want)
                .sentiment(0.5),
        );
        touches.push(
            Touch::new(
                &format!("{name}-onboarded"),
                "onboarding.completed",
                Channel::Email,
                &day(25),
            )
            .email(&format!("buyer@{name}.com"))
            .owner_team(OwnerTeam::Service),
        );
    }
    touches.push(
        sales("d-deck", "asset.shared", 10, "d", "sam").asset("pricing-deck", "Pricing deck"),
    );
    touches.push(sales("c-call", "call.held", 9, "c", "ria"));
    touches.sort_by_key(|t| t.raw().occurred_at);
    e.record_one_by_one(touches).await;
    ids
}

#[tokio::test]
async fn sales_engagement_counts_each_employees_touches_between_hand_off_and_outcome() {
    let e = Engine::new().await;
    let ids = deals(&e).await;
    let report = sales_engagement(e.db(), e.ws, march()).await.unwrap();

    // Sam: a, b, c and d three touches each (meeting, asset or nothing,
    // outcome; c's call is Ria's), e two: 3 + 3 + 2 + 3 + 2 = 13.
    let actors: Vec<(Option<&str>, usize, usize, usize, usize)> = report
        .actors
        .iter()
        .map(|a| (a.actor.as_deref(), a.touchpoints, a.won, a.lost, a.open))
        .collect();
    assert_eq!(
        actors,
        [(Some("sam"), 13, 3, 2, 0), (Some("ria"), 1, 1, 0, 0)]
    );
    let sam = &report.actors[0];
    let assets: Vec<(&str, usize)> = sam
        .assets
        .iter()
        .map(|u| (u.asset.key.as_str(), u.touchpoints))
        .collect();
    assert_eq!(assets, [("roi-guide", 2), ("pricing-deck", 1)]);

    // Per account, by hand-off: the webinar days 1 to 5.
    let name = |id: Uuid| *ids.iter().find(|(_, v)| **v == id).unwrap().0;
    let accounts: Vec<(&str, usize, Outcome)> = report
        .accounts
        .iter()
        .map(|a| (name(a.account), a.touchpoints, a.period.outcome))
        .collect();
    assert_eq!(
        accounts,
        [
            ("a", 3, Outcome::Won),
            ("b", 3, Outcome::Won),
            ("c", 3, Outcome::Won),
            ("d", 3, Outcome::Lost),
            ("e", 2, Outcome::Lost),
        ]
    );
    let c = &report.accounts[2];
    assert_eq!(c.actors, [Some("ria".to_owned()), Some("sam".to_owned())]);
    assert_eq!(
        (c.period.handed_off_at, c.period.outcome_at),
        (at(&day(3)), Some(at(&day(20))))
    );
    assert_eq!(c.first_at, at(&day(6)));
    assert_eq!(c.last_at, at(&day(20)));

    // February saw no sales touch at all.
    let feb = Window::new(at("2026-02-01T00:00:00Z"), at("2026-03-01T00:00:00Z")).unwrap();
    let quiet = sales_engagement(e.db(), e.ws, feb).await.unwrap();
    assert!(quiet.actors.is_empty() && quiet.accounts.is_empty());
}

#[tokio::test]
async fn content_effectiveness_sets_the_stays_an_asset_reached_beside_the_rest() {
    let e = Engine::new().await;
    deals(&e).await;
    let model = models::list(e.db(), e.ws)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.is_default)
        .unwrap();
    let assets = content_effectiveness(e.db(), e.ws, model.id, march())
        .await
        .unwrap();
    let keys: Vec<(&str, usize, usize)> = assets
        .iter()
        .map(|a| (a.asset.key.as_str(), a.touchpoints, a.accounts_reached))
        .collect();
    assert_eq!(keys, [("roi-guide", 2, 2), ("pricing-deck", 1, 1)]);
    let outcomes = |stays, moved_on, won| Outcomes {
        stays,
        moved_on,
        won,
    };

    // The guide reached a and b in the purchase decision: both moved on to
    // retention and both were won. Of c, d and e, none moved on and c was won.
    let roi = &assets[0];
    assert_eq!(roi.asset.title.as_deref(), Some("The ROI guide"));
    assert_eq!(roi.stages.len(), 1);
    assert_eq!(roi.stages[0].stage.key, "purchase_decision");
    let c = roi.stages[0].comparison;
    assert_eq!(c.reached, outcomes(2, 2, 2));
    assert_eq!(c.not_reached, outcomes(3, 0, 1));
    assert_eq!(c.reached.won_share(), Some(1.0));
    assert_eq!(c.not_reached.won_share(), Some(1.0 / 3.0));
    // Overall, the stays it missed add consideration's five (all moved on,
    // a, b and c won after entering) and retention's two (entered after the
    // win): 3 + 5 + 2 stays, 0 + 5 + 0 moved on, 1 + 3 + 0 won.
    assert_eq!(roi.overall.reached, outcomes(2, 2, 2));
    assert_eq!(roi.overall.not_reached, outcomes(10, 5, 4));

    // The pricing deck reached only d, which was lost.
    let deck = &assets[1];
    assert_eq!(deck.stages[0].comparison.reached, outcomes(1, 0, 0));
    assert_eq!(deck.stages[0].comparison.not_reached, outcomes(4, 2, 3));
}

#[tokio::test]
async fn one_accounts_sales_and_stages_over_its_whole_history() {
    let e = Engine::new().await;
    let ids = deals(&e).await;
    let now = chrono::Utc::now();
    let (a, d) = (ids["a"], ids["d"]);
    let engaged = account_engagements(e.db(), e.ws, &[a, d], now)
        .await
        .unwrap();
    // a: the meeting, the ROI guide and the win; d: the meeting, the deck
    // and the loss.
    let of = |id| {
        let x = &engaged[&id];
        let keys: Vec<&str> = x.assets.iter().map(|u| u.asset.key.as_str()).collect();
        (x.touchpoints, x.period.outcome, keys)
    };
    assert_eq!(of(a), (3, Outcome::Won, vec!["roi-guide"]));
    assert_eq!(of(d), (3, Outcome::Lost, vec!["pricing-deck"]));

    let model = models::list(e.db(), e.ws)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.is_default)
        .unwrap();
    let stages = account_stages(e.db(), e.ws, model.id, &[a, d], now)
        .await
        .unwrap();
    // a: consideration (the webinar), the purchase decision (meeting, guide,
    // win) and retention (onboarding); d never left the purchase decision.
    let seen = |id| -> Vec<(String, usize, usize)> {
        stages[&id]
            .iter()
            .map(|s| (s.stage.key.clone(), s.group.stays, s.group.touchpoints))
            .collect()
    };
    assert_eq!(
        seen(a),
        [
            ("consideration".to_owned(), 1, 1),
            ("purchase_decision".to_owned(), 1, 3),
            ("retention".to_owned(), 1, 1),
        ]
    );
    assert_eq!(
        seen(d),
        [
            ("consideration".to_owned(), 1, 1),
            ("purchase_decision".to_owned(), 1, 3)
        ]
    );
    let decision = &stages[&a][1].group;
    let want = decision
        .emotions
        .iter()
        .find(|t| t.value == Emotion::Want)
        .unwrap();
    assert_eq!(want.count, 1);
    assert_eq!(decision.mean_sentiment, Some(0.5));
    assert_eq!(stages[&d][1].group.mean_sentiment, None);
}
