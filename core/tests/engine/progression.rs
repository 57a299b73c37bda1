//! Stage progression: entry rules move accounts forward only, template and
//! custom models run side by side, manual moves, and late touchpoints giving
//! the same journey as punctual ones.

use chrono::{DateTime, Utc};
use entity::vocab::{Channel, JourneyTemplate, OwnerTeam, TransitionCause};
use entity::{journey_model, stage, stage_position, stage_transition, touchpoint};
use journeys_core::journeys::models::{self, ModelSpec, NewModel, NewStage};
use journeys_core::journeys::progression::move_by_hand;
use journeys_core::page::Page;
use journeys_core::testing::Touch;
use journeys_core::touchpoints::{self, OLDEST_FIRST, TouchpointFilter};
use journeys_core::{CoreError, db, workspaces};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::{Engine, at, refused_field};

/// Ada's touchpoint at the account of `domain`; its id is prefixed with the
/// domain so that two accounts can share a fixture.
pub fn ada(domain: &str, id: &str, kind: &str, channel: Channel, at: &str) -> Touch {
    Touch::new(&format!("{domain}-{id}"), kind, channel, at).email(&format!("ada@{domain}"))
}

/// The five-stage fixture: awareness, consideration, a step back that is
/// ignored, purchase decision, retention.
pub fn fixture(d: &str) -> Vec<Touch> {
    vec![
        ada(
            d,
            "t1",
            "tweet.mention",
            Channel::Social,
            "2026-01-01T09:00:00Z",
        ),
        ada(
            d,
            "t2",
            "webinar.registered",
            Channel::Webinar,
            "2026-01-10T09:00:00Z",
        ),
        ada(
            d,
            "t3",
            "page.visited",
            Channel::Web,
            "2026-01-20T09:00:00Z",
        ),
        ada(
            d,
            "t4",
            "meeting.held",
            Channel::Meeting,
            "2026-02-01T09:00:00Z",
        ),
        ada(
            d,
            "t5",
            "ticket.opened",
            Channel::Support,
            "2026-03-01T09:00:00Z",
        ),
    ]
}

/// One move as a test compares it: from which stage key to which, when, and
/// the touchpoint that caused it (its id without the domain), or `-`.
pub type Move = (Option<String>, String, DateTime<Utc>, String);

pub async fn default_model(e: &Engine) -> journey_model::Model {
    models::list(e.db(), e.ws)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.is_default)
        .expect("the workspace has a default model")
}

/// The stage keys of a model, archived stages included, by id.
async fn keys(e: &Engine, model: Uuid) -> std::collections::HashMap<Uuid, String> {
    stage::Entity::find()
        .filter(stage::Column::ModelId.eq(model))
        .all(e.db())
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.id, s.key))
        .collect()
}

async fn transitions(e: &Engine, account: Uuid, model: Uuid) -> Vec<stage_transition::Model> {
    stage_transition::Entity::find()
        .filter(stage_transition::Column::AccountId.eq(account))
        .filter(stage_transition::Column::ModelId.eq(model))
        .order_by_asc(stage_transition::Column::OccurredAt)
        .order_by_asc(stage_transition::Column::Id)
        .all(e.db())
        .await
        .unwrap()
}

/// An account's moves through a model, oldest first.
pub async fn path(e: &Engine, account: Uuid, model: Uuid) -> Vec<Move> {
    let keys = keys(e, model).await;
    let mut out = Vec::new();
    for t in transitions(e, account, model).await {
        let cause = match e.external_id(t.touchpoint_id).await {
            Some(id) => id.rsplit('-').next().unwrap().to_owned(),
            None => "-".to_owned(),
        };
        out.push((
            t.from_stage_id.map(|s| keys[&s].clone()),
            keys[&t.to_stage_id].clone(),
            t.occurred_at,
            cause,
        ));
    }
    out
}

/// The stage keys an account moved to in a model, in order.
async fn moved_to(e: &Engine, account: Uuid, model: Uuid) -> Vec<String> {
    path(e, account, model)
        .await
        .into_iter()
        .map(|(_, to, _, _)| to)
        .collect()
}

/// Where the account is in a model's sequence: the stage key and since when.
pub async fn position(e: &Engine, account: Uuid, model: Uuid) -> Option<(String, DateTime<Utc>)> {
    let keys = keys(e, model).await;
    stage_position::Entity::find()
        .filter(stage_position::Column::AccountId.eq(account))
        .filter(stage_position::Column::ModelId.eq(model))
        .filter(stage_position::Column::Phase.eq(false))
        .one(e.db())
        .await
        .unwrap()
        .map(|p| (keys[&p.stage_id].clone(), p.entered_at))
}

pub fn nine(date: &str) -> DateTime<Utc> {
    at(&format!("2026-{date}T09:00:00Z"))
}

pub fn mv(from: Option<&str>, to: &str, date: &str, cause: &str) -> Move {
    (
        from.map(str::to_owned),
        to.to_owned(),
        nine(date),
        cause.to_owned(),
    )
}

#[tokio::test]
async fn touchpoints_move_an_account_forward_through_the_default_model() {
    let e = Engine::new().await;
    let initech = e.account("Initech", &["initech.com"]).await;
    let model = default_model(&e).await;
    assert_eq!(model.template, JourneyTemplate::FiveStage);
    e.record_ok(fixture("initech.com")).await;
    // The page visit on 01-20 matches awareness, behind consideration: no move.
    assert_eq!(
        path(&e, initech.id, model.id).await,
        [
            mv(None, "awareness", "01-01", "t1"),
            mv(Some("awareness"), "consideration", "01-10", "t2"),
            mv(Some("consideration"), "purchase_decision", "02-01", "t4"),
            mv(Some("purchase_decision"), "retention", "03-01", "t5"),
        ]
    );
    assert_eq!(
        position(&e, initech.id, model.id).await,
        Some(("retention".to_owned(), nine("03-01")))
    );
    let moves = transitions(&e, initech.id, model.id).await;
    assert!(moves.iter().all(|t| t.cause == TransitionCause::Touchpoint));
    // What happened while the account was in consideration: t2 and t3.
    let consideration = moves[1].to_stage_id;
    let during = TouchpointFilter {
        stage: Some(consideration),
        ..Default::default()
    };
    let listed = touchpoints::list(e.db(), e.ws, &during, OLDEST_FIRST, &Page::first(10))
        .await
        .unwrap();
    let ids: Vec<&str> = listed.iter().map(|t| t.external_id.as_str()).collect();
    assert_eq!(ids, ["initech.com-t2", "initech.com-t3"]);
}

#[tokio::test]
async fn late_touchpoints_give_the_same_journey_as_punctual_ones() {
    let e = Engine::new().await;
    let punctual = e.account("Punctual", &["punctual.com"]).await;
    let late = e.account("Late", &["late.com"]).await;
    let model = default_model(&e).await.id;
    e.record_ok(fixture("punctual.com")).await;
    // One at a time, the last first: each earlier one replays the path.
    let shuffled = fixture("late.com");
    e.record_one_by_one([4, 0, 3, 2, 1].map(|i| shuffled[i].clone()))
        .await;
    let expected = [
        mv(None, "awareness", "01-01", "t1"),
        mv(Some("awareness"), "consideration", "01-10", "t2"),
        mv(Some("consideration"), "purchase_decision", "02-01", "t4"),
        mv(Some("purchase_decision"), "retention", "03-01", "t5"),
    ];
    assert_eq!(path(&e, punctual.id, model).await, expected);
    assert_eq!(path(&e, late.id, model).await, expected);
    assert_eq!(
        position(&e, late.id, model).await,
        position(&e, punctual.id, model).await
    );
}

#[tokio::test]
async fn a_template_model_runs_beside_the_default_and_loops_back() {
    let e = Engine::new().await;
    let mckinsey = models::create_from_template(e.db(), e.ws, JourneyTemplate::Mckinsey, false)
        .await
        .unwrap();
    assert!(mckinsey.circular);
    let initech = e.account("Initech", &["initech.com"]).await;
    let d = "initech.com";
    e.record_ok([
        ada(d, "m1", "ad.clicked", Channel::Ad, "2026-01-01T09:00:00Z"),
        ada(
            d,
            "m2",
            "webinar.attended",
            Channel::Webinar,
            "2026-01-05T09:00:00Z",
        ),
        ada(d, "m3", "deal.won", Channel::Other, "2026-01-10T09:00:00Z"),
        ada(
            d,
            "m4",
            "ticket.opened",
            Channel::Support,
            "2026-02-01T09:00:00Z",
        ),
        ada(
            d,
            "m5",
            "review.posted",
            Channel::Other,
            "2026-03-01T09:00:00Z",
        ),
        // A renewal after advocacy: back to the loop stage, purchase.
        ada(
            d,
            "m6",
            "renewal.signed",
            Channel::Other,
            "2026-06-01T09:00:00Z",
        ),
    ])
    .await;
    assert_eq!(
        moved_to(&e, initech.id, mckinsey.id).await,
        [
            "consider",
            "evaluate",
            "purchase",
            "experience",
            "advocate",
            "purchase"
        ]
    );
    assert_eq!(
        position(&e, initech.id, mckinsey.id).await,
        Some(("purchase".to_owned(), nine("06-01")))
    );
    // The same touchpoints moved it through the default model too, which
    // does not loop: the renewal leaves it in loyalty.
    let default = default_model(&e).await.id;
    assert_eq!(
        moved_to(&e, initech.id, default).await,
        [
            "awareness",
            "consideration",
            "purchase_decision",
            "retention",
            "loyalty_advocacy"
        ]
    );
}

/// The continuous phases an account is in, by key, with when it entered.
async fn phases(e: &Engine, account: Uuid, model: Uuid) -> Vec<(String, DateTime<Utc>)> {
    let keys = keys(e, model).await;
    stage_position::Entity::find()
        .filter(stage_position::Column::AccountId.eq(account))
        .filter(stage_position::Column::ModelId.eq(model))
        .filter(stage_position::Column::Phase.eq(true))
        .all(e.db())
        .await
        .unwrap()
        .into_iter()
        .map(|p| (keys[&p.stage_id].clone(), p.entered_at))
        .collect()
}

#[tokio::test]
async fn a_continuous_phase_runs_beside_the_sequence_never_in_place_of_it() {
    let e = Engine::new().await;
    let bj = models::create_from_template(e.db(), e.ws, JourneyTemplate::BabcockJenkins, false)
        .await
        .unwrap();
    let initech = e.account("Initech", &["initech.com"]).await;
    let d = "initech.com";
    e.record_ok([
        ada(
            d,
            "b1",
            "page.visited",
            Channel::Web,
            "2026-01-01T09:00:00Z",
        ),
        // A prospect's first mention: an advocate beside the sequence, still
        // discovering.
        ada(
            d,
            "b2",
            "tweet.mention",
            Channel::Social,
            "2026-01-05T09:00:00Z",
        ),
        ada(
            d,
            "b3",
            "meeting.held",
            Channel::Meeting,
            "2026-01-10T09:00:00Z",
        ),
        ada(
            d,
            "b4",
            "tweet.mention",
            Channel::Social,
            "2026-01-20T09:00:00Z",
        ),
    ])
    .await;
    assert_eq!(
        path(&e, initech.id, bj.id).await,
        [
            mv(None, "discover", "01-01", "b1"),
            mv(None, "advocate", "01-05", "b2"),
            mv(Some("discover"), "consider", "01-10", "b3"),
        ]
    );
    assert_eq!(
        position(&e, initech.id, bj.id).await,
        Some(("consider".to_owned(), nine("01-10")))
    );
    assert_eq!(
        phases(&e, initech.id, bj.id).await,
        [("advocate".to_owned(), nine("01-05"))]
    );
    // The funnel counts the sequence: discover was left for consider, on
    // 01-10, not for the phase on 01-05.
    let window = journeys_core::analytics::Window::new(
        at("2026-01-01T00:00:00Z"),
        at("2026-02-01T00:00:00Z"),
    )
    .unwrap();
    let segment = journeys_core::analytics::Segment::default();
    let funnel = journeys_core::analytics::funnel::funnel(e.db(), e.ws, bj.id, window, &segment)
        .await
        .unwrap();
    let discover = &funnel[0];
    assert_eq!(discover.stage.key, "discover");
    assert_eq!((discover.flow.entered, discover.flow.moved_on), (1, 1));
    assert_eq!(discover.flow.median_seconds, Some(9.0 * 86_400.0));
    // The same path when the mention arrives last, late.
    let late = e.account("Late", &["late.com"]).await;
    let l = "late.com";
    e.record_one_by_one([
        ada(
            l,
            "b1",
            "page.visited",
            Channel::Web,
            "2026-01-01T09:00:00Z",
        ),
        ada(
            l,
            "b3",
            "meeting.held",
            Channel::Meeting,
            "2026-01-10T09:00:00Z",
        ),
        ada(
            l,
            "b2",
            "tweet.mention",
            Channel::Social,
            "2026-01-05T09:00:00Z",
        ),
    ])
    .await;
    assert_eq!(
        path(&e, late.id, bj.id).await,
        path(&e, initech.id, bj.id).await
    );
    assert_eq!(
        phases(&e, late.id, bj.id).await,
        phases(&e, initech.id, bj.id).await
    );
}

fn stage_spec(key: &str, kinds: &[&str], channels: &[Channel]) -> NewStage {
    NewStage {
        key: key.to_owned(),
        name: key.to_uppercase(),
        owner_team: OwnerTeam::Sales,
        target_duration_secs: Some(86_400),
        continuous: false,
        parent_key: None,
        entry_kinds: kinds.iter().map(|k| (*k).to_owned()).collect(),
        entry_channels: channels.to_vec(),
        playbook: vec![],
    }
}

fn custom(stages: Vec<NewStage>) -> NewModel {
    NewModel {
        name: Some("Self-serve".into()),
        template: JourneyTemplate::Custom,
        stages: Some(stages),
        circular: false,
        loop_to_stage_key: None,
    }
}

#[tokio::test]
async fn a_custom_model_is_checked_whole_and_follows_its_own_entry_rules() {
    let e = Engine::new().await;
    // A key used twice: refused before anything is written.
    let twice = ModelSpec::resolve(custom(vec![
        stage_spec("trial", &["trial.started"], &[]),
        stage_spec("trial", &["invoice.paid"], &[]),
    ]))
    .unwrap();
    let err = models::create(e.db(), e.ws, &twice, false)
        .await
        .unwrap_err();
    assert_eq!(refused_field(&err), None);
    assert_eq!(err.to_string(), "stage key `trial` is used twice");
    assert_eq!(models::list(e.db(), e.ws).await.unwrap().len(), 1);

    // By kind, by channel (any web touchpoint), by kind.
    let spec = ModelSpec::resolve(custom(vec![
        stage_spec("trial", &["trial.started"], &[]),
        stage_spec("active", &[], &[Channel::Web]),
        stage_spec("paid", &["invoice.paid"], &[]),
    ]))
    .unwrap();
    let model = models::create(e.db(), e.ws, &spec, false).await.unwrap();
    let initech = e.account("Initech", &["initech.com"]).await;
    let d = "initech.com";
    e.record_ok([
        ada(
            d,
            "c1",
            "trial.started",
            Channel::Other,
            "2026-01-01T09:00:00Z",
        ),
        ada(d, "c2", "docs.read", Channel::Web, "2026-01-05T09:00:00Z"),
        ada(
            d,
            "c3",
            "invoice.paid",
            Channel::Email,
            "2026-01-10T09:00:00Z",
        ),
        // Another web touchpoint after payment: no step back to active.
        ada(
            d,
            "c4",
            "page.visited",
            Channel::Web,
            "2026-01-15T09:00:00Z",
        ),
    ])
    .await;
    assert_eq!(
        path(&e, initech.id, model.id).await,
        [
            mv(None, "trial", "01-01", "c1"),
            mv(Some("trial"), "active", "01-05", "c2"),
            mv(Some("active"), "paid", "01-10", "c3"),
        ]
    );
    assert_eq!(models::list(e.db(), e.ws).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_manual_move_goes_anywhere_and_is_kept_through_a_replay() {
    let e = Engine::new().await;
    let initech = e.account("Initech", &["initech.com"]).await;
    let model = default_model(&e).await.id;
    let fixture = fixture("initech.com");
    e.record_ok(fixture[..2].to_vec()).await;
    let loyalty = stage::Entity::find()
        .filter(stage::Column::ModelId.eq(model))
        .filter(stage::Column::Key.eq("loyalty_advocacy"))
        .one(e.db())
        .await
        .unwrap()
        .unwrap();

    let txn = db::begin_write(e.db()).await.unwrap();
    let blank = move_by_hand(&txn, e.ws, initech.id, loyalty.id, "sam", "  ").await;
    assert_eq!(refused_field(&blank.err().unwrap()), Some("reason"));
    let moved = move_by_hand(
        &txn,
        e.ws,
        initech.id,
        loyalty.id,
        "sam",
        "Signed a referral agreement",
    )
    .await
    .unwrap();
    // Moving it again to where it now is would record a self-transition.
    let again = move_by_hand(&txn, e.ws, initech.id, loyalty.id, "sam", "again").await;
    assert_eq!(refused_field(&again.err().unwrap()), Some("stageId"));
    db::commit(txn).await.unwrap();
    let manual = &moved.transition;
    assert_eq!(manual.cause, TransitionCause::Manual);
    assert_eq!(
        (manual.actor.as_deref(), manual.reason.as_deref()),
        (Some("sam"), Some("Signed a referral agreement"))
    );
    let keys = keys(&e, model).await;
    assert_eq!(keys[&manual.from_stage_id.unwrap()], "consideration");

    // The meeting of 02-01 arrives late: it is placed before the manual move,
    // which still decides where the account is now.
    e.record_ok([fixture[3].clone()]).await;
    let path = path(&e, initech.id, model).await;
    let steps: Vec<(Option<&str>, &str, &str)> = path
        .iter()
        .map(|(from, to, _, cause)| (from.as_deref(), to.as_str(), cause.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            (None, "awareness", "t1"),
            (Some("awareness"), "consideration", "t2"),
            (Some("consideration"), "purchase_decision", "t4"),
            (Some("purchase_decision"), "loyalty_advocacy", "-"),
        ]
    );
    assert_eq!(
        position(&e, initech.id, model).await,
        Some(("loyalty_advocacy".to_owned(), manual.occurred_at))
    );

    // Another workspace cannot move this account.
    let globex = workspaces::create(e.db(), "globex", "Globex")
        .await
        .unwrap();
    let txn = db::begin_write(e.db()).await.unwrap();
    let foreign = move_by_hand(&txn, globex.id, initech.id, loyalty.id, "eve", "x").await;
    assert!(
        matches!(foreign, Err(CoreError::NotFound { what: "account" })),
        "{:?}",
        foreign.err()
    );
}

#[tokio::test]
async fn an_identified_visitor_brings_their_touchpoints_into_the_account() {
    let e = Engine::new().await;
    let initech = e.account("Initech", &["initech.com"]).await;
    let model = default_model(&e).await.id;
    let visit = |id: &str, kind: &str, channel: Channel, date: &str| {
        Touch::new(id, kind, channel, &format!("2026-03-{date}T09:00:00Z"))
            .source("web")
            .person(|p| p.anonymous_id = Some("cookie-42".into()))
    };
    let anonymous = e
        .record_ok([
            visit("v1", "page.visited", Channel::Web, "01"),
            visit("v2", "whitepaper.downloaded", Channel::Web, "05"),
        ])
        .await;
    assert_eq!(anonymous[0].account_id, None);
    assert!(transitions(&e, initech.id, model).await.is_empty());
    // The visitor fills in the webinar form with their work email.
    e.record_ok([
        visit("v3", "webinar.registered", Channel::Webinar, "10").email("ada@initech.com")
    ])
    .await;
    let at_initech = touchpoint::Entity::find()
        .filter(touchpoint::Column::AccountId.eq(initech.id))
        .order_by_asc(touchpoint::Column::OccurredAt)
        .all(e.db())
        .await
        .unwrap();
    let ids: Vec<&str> = at_initech.iter().map(|t| t.external_id.as_str()).collect();
    assert_eq!(ids, ["v1", "v2", "v3"]);
    // Their journey starts where the visitor's did; the registration is
    // behind consideration, which the whitepaper already reached.
    let path = path(&e, initech.id, model).await;
    let steps: Vec<(&str, DateTime<Utc>)> = path
        .iter()
        .map(|(_, to, at, _)| (to.as_str(), *at))
        .collect();
    assert_eq!(
        steps,
        [
            ("awareness", nine("03-01")),
            ("consideration", nine("03-05"))
        ]
    );
}

/// A late touchpoint that would move nobody where it falls in the path (the
/// account had already reached what it leads to) leaves the path as it is
/// and replays nothing; one that would move the account replays from it.
#[tokio::test]
async fn late_touchpoints_that_move_nobody_replay_nothing() {
    let e = Engine::new().await;
    let initech = e.account("Initech", &["initech.com"]).await;
    let model = default_model(&e).await.id;
    e.record_ok(fixture("initech.com")).await;
    let stored = path(&e, initech.id, model).await;
    let d = "initech.com";
    let statements = async |batch: Vec<Touch>| {
        let before = e.test.statements.get();
        e.record_ok(batch).await;
        e.test.statements.get() - before
    };
    // Each falls where the account already is: awareness, consideration,
    // purchase decision.
    let inert = statements(vec![
        ada(
            d,
            "l1",
            "page.visited",
            Channel::Web,
            "2026-01-05T09:00:00Z",
        ),
        ada(
            d,
            "l2",
            "webinar.attended",
            Channel::Webinar,
            "2026-01-15T09:00:00Z",
        ),
        ada(
            d,
            "l3",
            "meeting.held",
            Channel::Meeting,
            "2026-02-10T09:00:00Z",
        ),
    ])
    .await;
    assert_eq!(path(&e, initech.id, model).await, stored);
    // A meeting before the one that took it to purchase decision: it gets
    // there earlier.
    let moving = statements(vec![ada(
        d,
        "l4",
        "meeting.held",
        Channel::Meeting,
        "2026-01-12T09:00:00Z",
    )])
    .await;
    assert_eq!(
        path(&e, initech.id, model).await,
        [
            mv(None, "awareness", "01-01", "t1"),
            mv(Some("awareness"), "consideration", "01-10", "t2"),
            mv(Some("consideration"), "purchase_decision", "01-12", "l4"),
            mv(Some("purchase_decision"), "retention", "03-01", "t5"),
        ]
    );
    assert!(
        inert < moving,
        "{inert} statements for touchpoints that move nobody, {moving} for one that does"
    );
}
