//! Stage progression: entry rules, forward-only moves, loops, manual moves, and
//! late touchpoints giving the same journey as punctual ones.

use serde_json::{Value, json};

use entity::vocab::Channel;
use journeys_core::testing::Touch;

use crate::helpers::{TestApp, create_account, input, record, spawn_app};

const JOURNEY: &str = r#"query($id: ID!, $model: ID) {
  journey(accountId: $id, modelId: $model) {
    currentStage { key } enteredAt
    transitions { from { key } to { key } occurredAt cause actor reason touchpoint { externalId } }
    stages { stage { key } enteredAt leftAt current touchpoints { nodes { externalId } } }
  }
}"#;

/// Ada's touchpoint at the account of `domain`; its id is prefixed with the
/// domain so that two accounts can share a fixture.
fn ada(domain: &str, id: &str, kind: &str, channel: Channel, at: &str) -> Value {
    input(Touch::new(&format!("{domain}-{id}"), kind, channel, at).email(&format!("ada@{domain}")))
}

/// The five-stage fixture: awareness, consideration, (a step back that is
/// ignored), purchase decision, retention.
fn fixture(domain: &str) -> Vec<Value> {
    vec![
        ada(
            domain,
            "t1",
            "tweet.mention",
            Channel::Social,
            "2026-01-01T09:00:00Z",
        ),
        ada(
            domain,
            "t2",
            "webinar.registered",
            Channel::Webinar,
            "2026-01-10T09:00:00Z",
        ),
        ada(
            domain,
            "t3",
            "page.visited",
            Channel::Web,
            "2026-01-20T09:00:00Z",
        ),
        ada(
            domain,
            "t4",
            "meeting.held",
            Channel::Meeting,
            "2026-02-01T09:00:00Z",
        ),
        ada(
            domain,
            "t5",
            "ticket.opened",
            Channel::Support,
            "2026-03-01T09:00:00Z",
        ),
    ]
}

fn path(journey: &Value) -> Vec<(Value, String, String, String)> {
    journey["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["from"]["key"].clone(),
                t["to"]["key"].as_str().unwrap().to_owned(),
                t["occurredAt"].as_str().unwrap().to_owned(),
                // External ids are `<domain>-<id>`: compare the id.
                t["touchpoint"]["externalId"]
                    .as_str()
                    .and_then(|e| e.rsplit('-').next())
                    .unwrap_or("-")
                    .to_owned(),
            )
        })
        .collect()
}

async fn journey(app: &TestApp, token: &str, account: &str) -> Value {
    app.ok(token, JOURNEY, json!({ "id": account })).await["journey"].clone()
}

#[tokio::test]
async fn touchpoints_move_accounts_forward_through_the_default_model() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let account = create_account(&app, &token, "Initech", &["initech.com"]).await;
    record(&app, &token, json!(fixture("initech.com"))).await;
    let j = journey(&app, &token, &account).await;
    let at = |d: &str| format!("2026-{d}T09:00:00+00:00");
    assert_eq!(
        path(&j),
        vec![
            (Value::Null, "awareness".into(), at("01-01"), "t1".into()),
            (
                json!("awareness"),
                "consideration".into(),
                at("01-10"),
                "t2".into()
            ),
            (
                json!("consideration"),
                "purchase_decision".into(),
                at("02-01"),
                "t4".into()
            ),
            (
                json!("purchase_decision"),
                "retention".into(),
                at("03-01"),
                "t5".into()
            ),
        ]
    );
    assert_eq!(j["currentStage"]["key"], "retention");
    assert_eq!(j["enteredAt"], at("03-01"));
    let consideration = &j["stages"][1];
    assert_eq!(consideration["enteredAt"], at("01-10"));
    assert_eq!(consideration["leftAt"], at("02-01"));
    assert_eq!(
        consideration["touchpoints"]["nodes"],
        json!([{ "externalId": "initech.com-t2" }, { "externalId": "initech.com-t3" }])
    );
    assert_eq!(j["stages"][3]["current"], true);
    assert_eq!(j["stages"][4]["enteredAt"], Value::Null);

    let data = app
        .ok(
            &token,
            "{ touchpoints(orderBy: OLDEST_FIRST) { nodes { stage { key } } } }",
            json!({}),
        )
        .await;
    let stages: Vec<&str> = data["touchpoints"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["stage"]["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        stages,
        [
            "awareness",
            "consideration",
            "consideration",
            "purchase_decision",
            "retention"
        ]
    );

    // The same journey through Account.journey, and the stage filters.
    let data = app
        .ok(
            &token,
            "query($id: ID!) { account(id: $id) { journey { currentStage { id key } } } }",
            json!({ "id": account }),
        )
        .await;
    let retention = data["account"]["journey"]["currentStage"]["id"].clone();
    let data = app
        .ok(
            &token,
            "query($s: ID!) { accounts(filter: { stageId: $s }) { nodes { name } } }",
            json!({ "s": retention }),
        )
        .await;
    assert_eq!(data["accounts"]["nodes"], json!([{ "name": "Initech" }]));
    let stage_id = app
        .ok(&token, "{ journeyModels { stages { id key } } }", json!({}))
        .await["journeyModels"][0]["stages"][1]["id"]
        .clone();
    let data = app
        .ok(&token, "query($s: ID!) { touchpoints(filter: { stageId: $s }, orderBy: OLDEST_FIRST) { nodes { externalId } } }", json!({ "s": stage_id }))
        .await;
    assert_eq!(
        data["touchpoints"]["nodes"],
        json!([{ "externalId": "initech.com-t2" }, { "externalId": "initech.com-t3" }])
    );
}

#[tokio::test]
async fn late_touchpoints_give_the_same_journey_as_punctual_ones() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let punctual = create_account(&app, &token, "Punctual", &["punctual.com"]).await;
    let late = create_account(&app, &token, "Late", &["late.com"]).await;
    record(&app, &token, json!(fixture("punctual.com"))).await;
    let shuffled = fixture("late.com");
    for i in [4, 0, 3, 2, 1] {
        record(&app, &token, json!([shuffled[i].clone()])).await;
    }
    let a = journey(&app, &token, &punctual).await;
    let b = journey(&app, &token, &late).await;
    assert_eq!(path(&a), path(&b));
    let stage_times = |j: &Value| -> Vec<(Value, Value)> {
        j["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["enteredAt"].clone(), s["leftAt"].clone()))
            .collect()
    };
    assert_eq!(stage_times(&a), stage_times(&b));
    assert_eq!(path(&a).len(), 4);
}

#[tokio::test]
async fn manual_moves_go_anywhere_and_are_kept_through_replays() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let account = create_account(&app, &token, "Initech", &["initech.com"]).await;
    record(&app, &token, json!(fixture("initech.com")[..2])).await;
    let stages = app
        .ok(&token, "{ journeyModels { stages { id key } } }", json!({}))
        .await;
    let loyalty = stages["journeyModels"][0]["stages"][4]["id"].clone();
    let mv = r#"mutation($input: MoveAccountToStageInput!) {
      moveAccountToStage(input: $input) { transition { from { key } to { key } cause actor reason } journey { currentStage { key } } }
    }"#;
    let data = app
        .ok(&token, mv, json!({ "input": { "accountId": account, "stageId": loyalty, "reason": "Signed a referral agreement" } }))
        .await;
    assert_eq!(
        data["moveAccountToStage"],
        json!({ "transition": { "from": { "key": "consideration" }, "to": { "key": "loyalty_advocacy" }, "cause": "MANUAL",
                                "actor": "tester", "reason": "Signed a referral agreement" },
                "journey": { "currentStage": { "key": "loyalty_advocacy" } } })
    );
    // Moving it to where it already is is refused, and records nothing.
    let again = app
        .gql(
            &token,
            mv,
            json!({ "input": { "accountId": account, "stageId": loyalty, "reason": "Again" } }),
        )
        .await;
    crate::helpers::assert_code(&again, "BAD_USER_INPUT");
    assert_eq!(
        again["errors"][0]["extensions"]["field"], "stageId",
        "{again}"
    );
    // A touchpoint from before the move arrives late: it is placed before the
    // manual move, which still decides where the account is now.
    record(&app, &token, json!([fixture("initech.com")[3].clone()])).await;
    let j = journey(&app, &token, &account).await;
    let keys: Vec<&str> = j["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["to"]["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "awareness",
            "consideration",
            "purchase_decision",
            "loyalty_advocacy"
        ]
    );
    assert_eq!(j["transitions"][3]["from"]["key"], "purchase_decision");
    assert_eq!(j["currentStage"]["key"], "loyalty_advocacy");

    let bad = app
        .gql(
            &token,
            mv,
            json!({ "input": { "accountId": account, "stageId": loyalty, "reason": "  " } }),
        )
        .await;
    crate::helpers::assert_code(&bad, "BAD_USER_INPUT");
    app.workspace("globex").await;
    let foreign = app
        .gql(
            &app.admin("globex"),
            mv,
            json!({ "input": { "accountId": account, "stageId": loyalty, "reason": "x" } }),
        )
        .await;
    crate::helpers::assert_code(&foreign, "NOT_FOUND");
}

#[tokio::test]
async fn circular_models_loop_back_and_models_run_side_by_side() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let data = app
        .ok(&token, "mutation { createJourneyModel(input: { template: MCKINSEY }) { journeyModel { id } } }", json!({}))
        .await;
    let mckinsey = data["createJourneyModel"]["journeyModel"]["id"].clone();
    let account = create_account(&app, &token, "Initech", &["initech.com"]).await;
    let d = "initech.com";
    record(
        &app,
        &token,
        json!([
            ada(d, "m1", "ad.clicked", Channel::Ad, "2026-01-01T09:00:00Z"),
            ada(
                d,
                "m2",
                "webinar.attended",
                Channel::Webinar,
                "2026-01-05T09:00:00Z"
            ),
            ada(d, "m3", "deal.won", Channel::Other, "2026-01-10T09:00:00Z"),
            ada(
                d,
                "m4",
                "ticket.opened",
                Channel::Support,
                "2026-02-01T09:00:00Z"
            ),
            ada(
                d,
                "m5",
                "review.posted",
                Channel::Other,
                "2026-03-01T09:00:00Z"
            ),
            ada(
                d,
                "m6",
                "renewal.signed",
                Channel::Other,
                "2026-06-01T09:00:00Z"
            ),
        ]),
    )
    .await;
    let j = app
        .ok(&token, JOURNEY, json!({ "id": account, "model": mckinsey }))
        .await["journey"]
        .clone();
    let keys: Vec<&str> = j["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["to"]["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "consider",
            "evaluate",
            "purchase",
            "experience",
            "advocate",
            "purchase"
        ]
    );
    assert_eq!(j["currentStage"]["key"], "purchase");
    // The same touchpoints moved the account through the default model too.
    let default = journey(&app, &token, &account).await;
    assert_eq!(default["currentStage"]["key"], "loyalty_advocacy");
}

#[tokio::test]
async fn an_identified_visitor_brings_their_touchpoints_into_the_account() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let account = create_account(&app, &token, "Initech", &["initech.com"]).await;
    let visit = |id: &str, kind: &str, channel: &str, date: &str, person: Value| {
        json!({ "source": "web", "externalId": id, "kind": kind, "channel": channel,
                "occurredAt": format!("2026-03-{date}T09:00:00Z"), "person": person })
    };
    let anon = json!({ "anonymousId": "cookie-42" });
    let payload = record(
        &app,
        &token,
        json!([
            visit("v1", "page.visited", "WEB", "01", anon.clone()),
            visit("v2", "whitepaper.downloaded", "WEB", "05", anon.clone()),
        ]),
    )
    .await;
    assert_eq!(payload["results"][0]["touchpoint"]["account"], Value::Null);
    // The visitor fills in the webinar form with their work email.
    record(
        &app,
        &token,
        json!([visit(
            "v3",
            "webinar.registered",
            "WEBINAR",
            "10",
            json!({ "anonymousId": "cookie-42", "email": "ada@initech.com" })
        )]),
    )
    .await;
    let data = app
        .ok(&token, "query($id: ID!) { account(id: $id) { touchpoints { totalCount } stakeholders { nodes { email lifecycle } } } }", json!({ "id": account }))
        .await;
    assert_eq!(data["account"]["touchpoints"]["totalCount"], 3);
    assert_eq!(
        data["account"]["stakeholders"]["nodes"],
        json!([{ "email": "ada@initech.com", "lifecycle": "LEAD" }])
    );
    let j = journey(&app, &token, &account).await;
    let keys: Vec<(&str, &str)> = j["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["to"]["key"].as_str().unwrap(),
                t["occurredAt"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            ("awareness", "2026-03-01T09:00:00+00:00"),
            ("consideration", "2026-03-05T09:00:00+00:00")
        ]
    );
}

/// The keys of the stages an account moved to in a model, in order.
async fn moves(app: &TestApp, token: &str, account: &str, model: &Value) -> Vec<String> {
    let j = app
        .ok(token, JOURNEY, json!({ "id": account, "model": model }))
        .await["journey"]
        .clone();
    path(&j).into_iter().map(|(_, to, _, _)| to).collect()
}

async fn create_model(app: &TestApp, token: &str, template: &str) -> Value {
    let data = app
        .ok(
            token,
            "mutation($t: JourneyTemplate!) { createJourneyModel(input: { template: $t }) { journeyModel { id } } }",
            json!({ "t": template }),
        )
        .await;
    data["createJourneyModel"]["journeyModel"]["id"].clone()
}

#[tokio::test]
async fn late_touchpoints_in_a_circular_model_give_the_same_loops() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let mckinsey = create_model(&app, &token, "MCKINSEY").await;
    let fixture = |d: &str| {
        vec![
            ada(d, "l1", "deal.won", Channel::Other, "2026-01-10T09:00:00Z"),
            ada(
                d,
                "l2",
                "ticket.opened",
                Channel::Support,
                "2026-02-01T09:00:00Z",
            ),
            ada(
                d,
                "l3",
                "renewal.signed",
                Channel::Other,
                "2026-06-01T09:00:00Z",
            ),
            ada(
                d,
                "l4",
                "ticket.opened",
                Channel::Support,
                "2026-07-01T09:00:00Z",
            ),
        ]
    };
    let punctual = create_account(&app, &token, "Punctual", &["punctual.com"]).await;
    let late = create_account(&app, &token, "Late", &["late.com"]).await;
    record(&app, &token, json!(fixture("punctual.com"))).await;
    // The renewal arrives after the ticket that followed it: the account has
    // not moved since the renewal happened, but its loop still has to be
    // placed before that ticket.
    let shuffled = fixture("late.com");
    for i in [0, 1, 3, 2] {
        record(&app, &token, json!([shuffled[i].clone()])).await;
    }
    let expected = ["purchase", "experience", "purchase", "experience"];
    assert_eq!(moves(&app, &token, &punctual, &mckinsey).await, expected);
    assert_eq!(moves(&app, &token, &late, &mckinsey).await, expected);
}

#[tokio::test]
async fn advocacy_is_a_continuous_phase_beside_the_babcock_jenkins_sequence() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let bj = create_model(&app, &token, "BABCOCK_JENKINS").await;
    let fixture = |d: &str| {
        vec![
            ada(
                d,
                "b1",
                "tweet.mention",
                Channel::Social,
                "2026-01-01T09:00:00Z",
            ),
            ada(
                d,
                "b2",
                "page.visited",
                Channel::Web,
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
                "review.posted",
                Channel::Other,
                "2026-02-01T09:00:00Z",
            ),
            // Behind where the account has reached: no move.
            ada(
                d,
                "b5",
                "page.visited",
                Channel::Web,
                "2026-02-10T09:00:00Z",
            ),
            ada(
                d,
                "b6",
                "proposal.sent",
                Channel::Other,
                "2026-03-01T09:00:00Z",
            ),
        ]
    };
    let punctual = create_account(&app, &token, "Punctual", &["punctual.com"]).await;
    let late = create_account(&app, &token, "Late", &["late.com"]).await;
    record(&app, &token, json!(fixture("punctual.com"))).await;
    let shuffled = fixture("late.com");
    for i in [1, 5, 3, 0, 4, 2] {
        record(&app, &token, json!([shuffled[i].clone()])).await;
    }
    // A first mention puts a prospect in Advocate, beside the sequence: it
    // goes on through Discover, Consider and Decide, and stays an advocate
    // (the review on 02-01 enters nothing new).
    let expected = ["advocate", "discover", "consider", "decide"];
    assert_eq!(moves(&app, &token, &punctual, &bj).await, expected);
    assert_eq!(moves(&app, &token, &late, &bj).await, expected);
    let q = r#"query($a: ID!, $m: ID!) { account(id: $a) { journey(modelId: $m) {
        currentStage { key } enteredAt phases { stage { key } enteredAt }
        stages { stage { key } current leftAt }
        transitions { from { key } to { key } phase } } } }"#;
    for account in [&punctual, &late] {
        let data = app.ok(&token, q, json!({ "a": account, "m": bj })).await;
        let journey = &data["account"]["journey"];
        assert_eq!(journey["currentStage"]["key"], "decide");
        assert_eq!(journey["enteredAt"], "2026-03-01T09:00:00+00:00");
        assert_eq!(
            journey["phases"],
            json!([{ "stage": { "key": "advocate" }, "enteredAt": "2026-01-01T09:00:00+00:00" }])
        );
        let transitions = journey["transitions"].as_array().unwrap();
        assert_eq!(
            transitions[0],
            json!({ "from": null, "to": { "key": "advocate" }, "phase": true })
        );
        // Discover is entered from nowhere: the phase is no stage to leave.
        assert_eq!(
            transitions[1],
            json!({ "from": null, "to": { "key": "discover" }, "phase": false })
        );
        let current: Vec<&str> = journey["stages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["current"] == true)
            .map(|s| s["stage"]["key"].as_str().unwrap())
            .collect();
        assert_eq!(current, ["decide", "advocate"]);
    }
    // The funnel counts the sequence: Discover was left for Consider on 01-10.
    let funnel = app
        .ok(
            &token,
            r#"query($m: ID!) { funnel(modelId: $m, from: "2026-01-01T00:00:00Z", to: "2026-04-01T00:00:00Z") {
                stages { stage { key } entered movedOn medianSeconds } } }"#,
            json!({ "m": bj }),
        )
        .await;
    assert_eq!(
        funnel["funnel"]["stages"][0],
        json!({ "stage": { "key": "discover" }, "entered": 2, "movedOn": 2, "medianSeconds": 5.0 * 86_400.0 })
    );
}

#[tokio::test]
async fn a_removed_stage_stays_in_journeys_through_later_replays() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let account = create_account(&app, &token, "Initech", &["initech.com"]).await;
    let d = "initech.com";
    record(&app, &token, json!(fixture(d)[..2])).await;
    let stages = app
        .ok(
            &token,
            "{ journeyModels { id stages { id key } } }",
            json!({}),
        )
        .await;
    let model = stages["journeyModels"][0]["id"].clone();
    let consideration = stages["journeyModels"][0]["stages"][1].clone();
    assert_eq!(consideration["key"], "consideration");
    app.ok(
        &token,
        "mutation($id: ID!) { removeStage(input: { id: $id }) { stage { archivedAt } } }",
        json!({ "id": consideration["id"] }),
    )
    .await;

    // A late touchpoint replays the path from its time on; the move into the
    // removed stage happened before its removal, so it stays.
    record(
        &app,
        &token,
        json!([ada(
            d,
            "late",
            "tweet.mention",
            Channel::Social,
            "2026-01-05T09:00:00Z"
        )]),
    )
    .await;
    assert_eq!(
        moves(&app, &token, &account, &model).await,
        ["awareness", "consideration"]
    );
    // From the removed stage the account still only moves forward.
    record(&app, &token, json!([fixture(d)[3].clone()])).await;
    let j = journey(&app, &token, &account).await;
    assert_eq!(
        path(&j)
            .into_iter()
            .map(|(from, to, _, _)| (from, to))
            .collect::<Vec<_>>(),
        [
            (Value::Null, "awareness".to_owned()),
            (json!("awareness"), "consideration".to_owned()),
            (json!("consideration"), "purchase_decision".to_owned()),
        ]
    );
    let kept: Vec<&str> = j["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stage"]["key"].as_str().unwrap())
        .collect();
    assert!(kept.contains(&"consideration"), "{kept:?}");

    let mv = r#"mutation($input: MoveAccountToStageInput!) { moveAccountToStage(input: $input) { transition { to { key } } } }"#;
    let refused = app
        .gql(
            &token,
            mv,
            json!({ "input": { "accountId": account, "stageId": consideration["id"], "reason": "back" } }),
        )
        .await;
    crate::helpers::assert_code(&refused, "BAD_USER_INPUT");
}
