//! Hand-offs between teams, bouncing accounts and stage insights over HTTP on
//! the default FIVE_STAGE model (awareness and consideration MARKETING,
//! purchase decision SALES, retention SERVICE, loyalty RELATIONSHIP), on a
//! fixture whose figures are worked out by hand below; and who may read them.

use entity::vocab::{Channel, Emotion, OwnerTeam};
use journeys_api::auth::Scope;
use journeys_core::testing::Touch;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_code, create_account, input, record, spawn_app};

const FROM: &str = "2026-03-02T00:00:00Z";
const TO: &str = "2026-03-03T00:00:00Z";

fn on_the_day(time: &str) -> String {
    format!("2026-03-02T{time}:00Z")
}

/// On 2026-03-02:
/// - Acme: a sales meeting at 09:00 (purchase decision, a first placement),
///   a SERVICE call at 09:30 (WANT, 0.8), a ticket at 10:00 (retention: SALES
///   → SERVICE), a SERVICE call at 13:00: a gap of 10,800 s.
/// - Beta: a tweet at 09:00 (awareness), a sales meeting at 09:30 (purchase
///   decision, past consideration: MARKETING → SALES, 0 s), a ticket at 11:00
///   (retention, never touched by SERVICE: waiting).
/// - Cora: a sales meeting at 09:00, a solved ticket at 12:00 (retention), a
///   review at 14:00 (loyalty): SERVICE never touched it and it left.
/// - Delta: a sales meeting at 09:00 (purchase decision, still there), then
///   MARKETING at 10:00 (FEAR, -0.5), SERVICE at 10:15, SALES at 10:30,
///   MARKETING at 11:00 (PAIN, -0.7) and 11:30, a web visit at 11:45: teams
///   S M S M M, three switches.
async fn fixture(app: &TestApp, token: &str) {
    for (name, domain) in [
        ("Acme", "a.com"),
        ("Beta", "b.com"),
        ("Cora", "c.com"),
        ("Delta", "d.com"),
    ] {
        create_account(app, token, name, &[domain]).await;
    }
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
        Touch::new(id, kind, Channel::Support, &on_the_day(time)).email(email)
    };
    let mail = |id: &str, time: &str| {
        Touch::new(id, "email.sent", Channel::Email, &on_the_day(time))
            .email("di@d.com")
            .owner_team(OwnerTeam::Marketing)
    };
    // One batch per touchpoint, in time order per account.
    for item in [
        meeting("a1", "ann@a.com", "09:00"),
        call("a2", "ann@a.com", "09:30", OwnerTeam::Service)
            .emotion(Emotion::Want)
            .sentiment(0.8),
        ticket("a3", "ticket.opened", "ann@a.com", "10:00"),
        call("a4", "ann@a.com", "13:00", OwnerTeam::Service),
        Touch::new("b1", "tweet.mention", Channel::Social, &on_the_day("09:00")).email("bo@b.com"),
        meeting("b2", "bo@b.com", "09:30"),
        ticket("b3", "ticket.opened", "bo@b.com", "11:00"),
        meeting("c1", "cy@c.com", "09:00"),
        ticket("c2", "ticket.solved", "cy@c.com", "12:00"),
        Touch::new("c3", "review.posted", Channel::Web, &on_the_day("14:00")).email("cy@c.com"),
        meeting("d1", "di@d.com", "09:00"),
        mail("d2", "10:00").emotion(Emotion::Fear).sentiment(-0.5),
        call("d3", "di@d.com", "10:15", OwnerTeam::Service),
        call("d4", "di@d.com", "10:30", OwnerTeam::Sales),
        mail("d5", "11:00").emotion(Emotion::Pain).sentiment(-0.7),
        mail("d6", "11:30"),
        Touch::new("d7", "page.visited", Channel::Web, &on_the_day("11:45")).email("di@d.com"),
    ] {
        record(app, token, json!([input(item)])).await;
    }
}

async fn default_model(app: &TestApp, token: &str) -> Value {
    app.ok(token, "{ journeyModels { id } }", json!({})).await["journeyModels"][0]["id"].clone()
}

fn close(v: &Value, expected: f64) -> bool {
    v.as_f64().is_some_and(|x| (x - expected).abs() < 1e-9)
}

const HANDOFFS: &str = r#"query($m: ID!, $from: DateTime!, $to: DateTime!, $first: Int, $after: String) {
  handoffs(modelId: $m, from: $from, to: $to) {
    fromStage { key } toStage { key } fromTeam toTeam
    crossed handedOff waiting left medianSeconds p90Seconds
    accounts(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { account { name } crossedAt firstTouchpoint { externalId } gapSeconds waiting }
    }
  }
}"#;

/// Bouncing accounts at the default of two switches.
const BOUNCING: &str = r#"query($m: ID!, $from: DateTime!, $to: DateTime!) {
  bouncingAccounts(modelId: $m, from: $from, to: $to) {
    totalCount
    nodes { account { name } stage { key } enteredAt switchCount
      switches { at fromTeam toTeam touchpoint { externalId } } }
  }
}"#;

const BOUNCING_AT_LEAST: &str = r#"query($m: ID!, $from: DateTime!, $to: DateTime!, $min: Int!) {
  bouncingAccounts(modelId: $m, from: $from, to: $to, minSwitches: $min) { totalCount }
}"#;

const INSIGHTS: &str = r#"query($m: ID!, $from: DateTime!, $to: DateTime!) {
  stageInsights(modelId: $m, from: $from, to: $to) {
    stage { key }
    all { ...group } movedOn { ...group } droppedOff { ...group }
  }
}
fragment group on StayGroup {
  stays touchpoints meanSentiment touchpointsPerStay
  byChannel { channel count } byKind { kind count } emotions { emotion count }
}"#;

#[tokio::test]
async fn handoffs_bouncing_accounts_and_stage_insights_answer_with_the_figures() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    fixture(&app, &token).await;
    let model = default_model(&app, &token).await;
    let reader = app.token("acme", &[Scope::Read]);
    let day = json!({ "m": model, "from": FROM, "to": TO });

    let data = app.ok(&reader, HANDOFFS, day.clone()).await;
    let boundaries = data["handoffs"].as_array().unwrap();
    let pairs: Vec<(String, String)> = boundaries
        .iter()
        .map(|b| {
            (
                format!("{}>{}", b["fromStage"]["key"], b["toStage"]["key"]),
                format!("{}>{}", b["fromTeam"], b["toTeam"]),
            )
        })
        .map(|(s, t)| (s.replace('"', ""), t.replace('"', "")))
        .collect();
    assert_eq!(
        pairs,
        [
            (
                "consideration>purchase_decision".to_owned(),
                "MARKETING>SALES".to_owned()
            ),
            (
                "purchase_decision>retention".to_owned(),
                "SALES>SERVICE".to_owned()
            ),
            (
                "retention>loyalty_advocacy".to_owned(),
                "SERVICE>RELATIONSHIP".to_owned()
            ),
        ]
    );
    // MARKETING → SALES: Beta alone, touched by the meeting that moved it.
    let first = &boundaries[0];
    assert_eq!(
        (&first["crossed"], &first["handedOff"]),
        (&json!(1), &json!(1))
    );
    assert!(close(&first["medianSeconds"], 0.0));
    // SALES → SERVICE: Acme touched after 10,800 s, Beta waiting, Cora left.
    let service = &boundaries[1];
    let counts: Vec<&Value> = ["crossed", "handedOff", "waiting", "left"]
        .iter()
        .map(|f| &service[*f])
        .collect();
    assert_eq!(counts, [&json!(3), &json!(1), &json!(1), &json!(1)]);
    assert!(close(&service["medianSeconds"], 10_800.0));
    assert!(close(&service["p90Seconds"], 10_800.0));
    let crossings = &service["accounts"];
    assert_eq!(crossings["totalCount"], 3);
    let nodes = crossings["nodes"].as_array().unwrap();
    let rows: Vec<(&Value, &Value, &Value)> = nodes
        .iter()
        .map(|n| (&n["account"]["name"], &n["firstTouchpoint"], &n["waiting"]))
        .collect();
    assert_eq!(
        rows,
        [
            (
                &json!("Acme"),
                &json!({ "externalId": "a4" }),
                &json!(false)
            ),
            (&json!("Beta"), &Value::Null, &json!(true)),
            (&json!("Cora"), &Value::Null, &json!(false)),
        ]
    );
    assert!(close(&nodes[0]["gapSeconds"], 10_800.0));
    assert_eq!(nodes[0]["crossedAt"], "2026-03-02T10:00:00+00:00");
    assert!(nodes[1]["gapSeconds"].is_null());
    // SERVICE → RELATIONSHIP: Cora, waiting; no median.
    assert_eq!(boundaries[2]["waiting"], 1);
    assert!(boundaries[2]["medianSeconds"].is_null());

    // Pages of two: Acme and Beta, then Cora after the cursor.
    let mut paged = day.clone();
    paged["first"] = json!(2);
    let data = app.ok(&reader, HANDOFFS, paged.clone()).await;
    let page = &data["handoffs"][1]["accounts"];
    assert_eq!(page["nodes"].as_array().unwrap().len(), 2);
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    paged["after"] = page["pageInfo"]["endCursor"].clone();
    let data = app.ok(&reader, HANDOFFS, paged).await;
    let page = &data["handoffs"][1]["accounts"];
    assert_eq!(page["nodes"][0]["account"]["name"], "Cora");
    assert_eq!(page["pageInfo"]["hasNextPage"], false);

    // Bouncing, at least two switches by default: Delta's stay in purchase
    // decision, three switches (d2 S→M, d4 M→S, d5 S→M).
    let data = app.ok(&reader, BOUNCING, day.clone()).await;
    let bouncing = &data["bouncingAccounts"];
    assert_eq!(bouncing["totalCount"], 1);
    let delta = &bouncing["nodes"][0];
    assert_eq!(delta["account"]["name"], "Delta");
    assert_eq!(delta["stage"]["key"], "purchase_decision");
    assert_eq!(delta["enteredAt"], "2026-03-02T09:00:00+00:00");
    assert_eq!(delta["switchCount"], 3);
    let switches: Vec<String> = delta["switches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{} {}>{}",
                s["touchpoint"]["externalId"].as_str().unwrap(),
                s["fromTeam"].as_str().unwrap(),
                s["toTeam"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        switches,
        [
            "d2 SALES>MARKETING",
            "d4 MARKETING>SALES",
            "d5 SALES>MARKETING"
        ]
    );
    assert_eq!(delta["switches"][0]["at"], "2026-03-02T10:00:00+00:00");
    // Exactly three: at least three counts it, at least four does not.
    for (min, stays) in [(3, 1), (4, 0)] {
        let mut vars = day.clone();
        vars["min"] = json!(min);
        let data = app.ok(&reader, BOUNCING_AT_LEAST, vars).await;
        assert_eq!(
            data["bouncingAccounts"]["totalCount"], stays,
            "at least {min}"
        );
    }

    // Stage insights of purchase decision, the stays begun on the day:
    // moved on, Acme [09:00, 10:00) (the meeting, the call: WANT, 0.8), Beta
    // [09:30, 11:00) (the meeting), Cora [09:00, 12:00) (the meeting): three
    // stays, four touchpoints. Dropped off, Delta from 09:00: seven
    // touchpoints, three emails (FEAR -0.5, PAIN -0.7, none), two calls, the
    // meeting, the visit.
    let data = app.ok(&reader, INSIGHTS, day.clone()).await;
    let stages = data["stageInsights"].as_array().unwrap();
    assert_eq!(stages.len(), 5);
    let purchase = &stages[2];
    assert_eq!(purchase["stage"]["key"], "purchase_decision");
    let moved_on = &purchase["movedOn"];
    assert_eq!(
        (&moved_on["stays"], &moved_on["touchpoints"]),
        (&json!(3), &json!(4))
    );
    assert!(close(&moved_on["meanSentiment"], 0.8));
    assert!(close(&moved_on["touchpointsPerStay"], 4.0 / 3.0));
    let emotions = |group: &Value| -> Vec<(String, i64)> {
        group["emotions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["emotion"].as_str().unwrap().to_owned(),
                    e["count"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    let six = |counts: [i64; 6]| -> Vec<(String, i64)> {
        ["PAIN", "PROBLEM", "FEAR", "WANT", "NEED", "DESIRE"]
            .iter()
            .zip(counts)
            .map(|(e, n)| ((*e).to_owned(), n))
            .collect()
    };
    assert_eq!(emotions(moved_on), six([0, 0, 0, 1, 0, 0]));
    let dropped = &purchase["droppedOff"];
    assert_eq!(
        (&dropped["stays"], &dropped["touchpoints"]),
        (&json!(1), &json!(7))
    );
    assert!(close(&dropped["meanSentiment"], -0.6));
    assert_eq!(emotions(dropped), six([1, 0, 1, 0, 0, 0]));
    assert_eq!(
        dropped["byChannel"],
        json!([
            { "channel": "EMAIL", "count": 3 },
            { "channel": "PHONE", "count": 2 },
            { "channel": "MEETING", "count": 1 },
            { "channel": "WEB", "count": 1 },
        ])
    );
    // All: four stays, eleven touchpoints; mean (0.8 - 0.5 - 0.7) / 3.
    let all = &purchase["all"];
    assert_eq!(
        (&all["stays"], &all["touchpoints"]),
        (&json!(4), &json!(11))
    );
    assert!(close(&all["meanSentiment"], -0.4 / 3.0));
    assert_eq!(
        all["byKind"][0],
        json!({ "kind": "meeting.held", "count": 4 })
    );
    // Consideration: nobody began a stay there.
    assert_eq!(stages[1]["all"]["stays"], 0);
    assert!(stages[1]["all"]["meanSentiment"].is_null());
    assert!(stages[1]["all"]["touchpointsPerStay"].is_null());
}

#[tokio::test]
async fn the_new_fields_are_confined_to_readers_of_the_workspace_and_check_their_input() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    app.workspace("globex").await;
    let acme = app.admin("acme");
    fixture(&app, &acme).await;
    let acme_model = default_model(&app, &acme).await;
    let globex = app.admin("globex");
    let globex_model = default_model(&app, &globex).await;
    let day = |model: &Value| json!({ "m": model, "from": FROM, "to": TO });

    for query in [HANDOFFS, BOUNCING, INSIGHTS] {
        // No READ scope: refused.
        let writer = app.token("acme", &[Scope::Write]);
        assert_code(
            &app.gql(&writer, query, day(&acme_model)).await,
            "FORBIDDEN",
        );
        // Another workspace's model: not found, nothing of it shown.
        assert_code(
            &app.gql(&acme, query, day(&globex_model)).await,
            "NOT_FOUND",
        );
        // An empty window.
        let empty = json!({ "m": acme_model, "from": TO, "to": TO });
        assert_code(&app.gql(&acme, query, empty).await, "BAD_USER_INPUT");
    }
    // Globex's own model: boundaries listed, nobody crossed; acme's accounts
    // are not globex's.
    let data = app.ok(&globex, HANDOFFS, day(&globex_model)).await;
    let crossed: Vec<&Value> = data["handoffs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| &b["crossed"])
        .collect();
    assert_eq!(crossed, [&json!(0), &json!(0), &json!(0)]);
    let data = app.ok(&globex, BOUNCING, day(&globex_model)).await;
    assert_eq!(data["bouncingAccounts"]["totalCount"], 0);
    let data = app.ok(&globex, INSIGHTS, day(&globex_model)).await;
    assert!(
        data["stageInsights"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["all"]["stays"] == 0)
    );

    for min in [0, 101] {
        let mut vars = day(&acme_model);
        vars["min"] = json!(min);
        let body = app.gql(&acme, BOUNCING_AT_LEAST, vars).await;
        assert_code(&body, "BAD_USER_INPUT");
        assert_eq!(
            body["errors"][0]["extensions"]["field"], "minSwitches",
            "{body}"
        );
    }
}
