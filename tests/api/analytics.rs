//! Funnel, stalled accounts, hand-off gap, NPS and attribution on a fixture
//! whose figures are worked out by hand below.

use serde_json::{Value, json};

use entity::vocab::{Channel, OwnerTeam};
use journeys_core::testing::Touch;

use crate::helpers::{TestApp, create_account, input, record, spawn_app};

const DAY: f64 = 86_400.0;

/// Noon on a day of 2026, given as `MM-DD`.
fn noon(date: &str) -> String {
    format!("2026-{date}T12:00:00Z")
}

/// A: awareness 01-01, consideration 01-11, purchase decision 02-10 (a sales
/// meeting), retention 03-12. B: awareness 01-05, consideration 01-25.
/// C: awareness 02-01. A webinar registration is worth 60 points, so A and B
/// become MQLs when they register (the default threshold is 50).
async fn fixture(app: &TestApp, token: &str) -> [String; 3] {
    app.ok(
        token,
        "mutation { upsertScoringRule(input: { name: \"webinar\", kind: \"webinar.registered\", points: 60 }) { scoringRule { id } } }",
        json!({}),
    )
    .await;
    let a = create_account(app, token, "Acme", &["a.com"]).await;
    let b = create_account(app, token, "Beta", &["b.com"]).await;
    let c = create_account(app, token, "Cora", &["c.com"]).await;
    app.ok(
        token,
        "mutation($id: ID!) { updateAccount(input: { id: $id, industry: \"Retail\" }) { account { id } } }",
        json!({ "id": a }),
    )
    .await;
    let meeting = Touch::new("a3", "meeting.held", Channel::Meeting, &noon("02-10"))
        .email("ann@a.com")
        .owner_team(OwnerTeam::Sales);
    // One batch per touchpoint, in time order, so each lifecycle change
    // carries the touchpoint that caused it.
    for item in [
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
        meeting,
        Touch::new("a4", "ticket.opened", Channel::Support, &noon("03-12"))
            .source("zendesk")
            .email("ann@a.com"),
    ] {
        record(app, token, json!([input(item)])).await;
    }
    [a, b, c]
}

fn close(v: &Value, expected: f64) -> bool {
    v.as_f64().is_some_and(|x| (x - expected).abs() < 1e-6)
}

#[tokio::test]
async fn the_funnel_counts_entries_moves_and_times_per_stage() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    fixture(&app, &token).await;
    let model =
        app.ok(&token, "{ journeyModels { id } }", json!({})).await["journeyModels"][0]["id"]
            .clone();
    let q = r#"query($m: ID!, $f: SegmentFilter) { funnel(modelId: $m, from: "2026-01-01T00:00:00Z", to: "2026-07-01T00:00:00Z", filter: $f) {
        stages { stage { key } entered movedOn conversion dropOff medianSeconds p90Seconds } } }"#;
    let data = app.ok(&token, q, json!({ "m": model })).await;
    let stages = data["funnel"]["stages"].as_array().unwrap();
    let row = |i: usize| &stages[i];
    // Awareness: A, B, C entered; A (10 days) and B (20 days) moved on.
    assert_eq!(
        (row(0)["entered"].as_i64(), row(0)["movedOn"].as_i64()),
        (Some(3), Some(2))
    );
    assert!(close(&row(0)["conversion"], 2.0 / 3.0) && close(&row(0)["dropOff"], 1.0 / 3.0));
    assert!(
        close(&row(0)["medianSeconds"], 10.0 * DAY) && close(&row(0)["p90Seconds"], 20.0 * DAY)
    );
    // Consideration: A and B entered; A moved on after 30 days.
    assert_eq!(
        (row(1)["entered"].as_i64(), row(1)["movedOn"].as_i64()),
        (Some(2), Some(1))
    );
    assert!(close(&row(1)["conversion"], 0.5) && close(&row(1)["medianSeconds"], 30.0 * DAY));
    // Purchase decision: A, 30 days. Retention: A, still there. Loyalty: nobody.
    assert!(close(&row(2)["conversion"], 1.0) && close(&row(2)["p90Seconds"], 30.0 * DAY));
    assert_eq!(
        (row(3)["entered"].as_i64(), row(3)["movedOn"].as_i64()),
        (Some(1), Some(0))
    );
    assert!(close(&row(3)["dropOff"], 1.0) && row(3)["medianSeconds"].is_null());
    assert_eq!(
        (row(4)["entered"].as_i64(), row(4)["conversion"].clone()),
        (Some(0), Value::Null)
    );

    // A narrower window: only entries from February on.
    let q2 = q.replace("2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z");
    let data = app.ok(&token, &q2, json!({ "m": model })).await;
    assert_eq!(
        data["funnel"]["stages"][0]["entered"], 1,
        "only C entered awareness in February"
    );
    // A segment: retail accounts only (A).
    let data = app
        .ok(
            &token,
            q,
            json!({ "m": model, "f": { "industry": "Retail" } }),
        )
        .await;
    assert_eq!(data["funnel"]["stages"][0]["entered"], 1);
    assert_eq!(data["funnel"]["stages"][3]["entered"], 1);
}

#[tokio::test]
async fn stalled_accounts_are_past_their_stage_target() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    fixture(&app, &token).await;
    let model =
        app.ok(&token, "{ journeyModels { id } }", json!({})).await["journeyModels"][0]["id"]
            .clone();
    let q = r#"query($m: ID!) { stalledAccounts(modelId: $m) { totalCount
        nodes { account { name } stage { key } enteredAt overdueSeconds lastTouchpoint { externalId } } } }"#;
    let data = app.ok(&token, q, json!({ "m": model })).await;
    assert_eq!(data["stalledAccounts"]["totalCount"], 2);
    let data = json!({ "stalledAccounts": data["stalledAccounts"]["nodes"] });
    // B has been in consideration (target 45 days) since 01-25, C in awareness
    // (target 30 days) since 02-01; A is in retention (target 365 days) since 03-12.
    let stalled = data["stalledAccounts"].as_array().unwrap();
    let names: Vec<&str> = stalled
        .iter()
        .map(|s| s["account"]["name"].as_str().unwrap())
        .collect();
    // Longest overdue first: C is further past its 30 days than B past its 45.
    assert_eq!(names, ["Cora", "Beta"]);
    assert_eq!(stalled[1]["stage"]["key"], "consideration");
    assert_eq!(stalled[1]["lastTouchpoint"]["externalId"], "b2");
    let entered =
        chrono::DateTime::parse_from_rfc3339(stalled[0]["enteredAt"].as_str().unwrap()).unwrap();
    let expected = (chrono::Utc::now() - entered.to_utc()).num_seconds() as f64 - 30.0 * DAY;
    assert!((stalled[0]["overdueSeconds"].as_f64().unwrap() - expected).abs() < 60.0);
    let overdue = |i: usize| stalled[i]["overdueSeconds"].as_f64().unwrap();
    assert!(overdue(0) > overdue(1));
    // Paged one at a time, backwards too.
    let paged = r#"query($m: ID!, $a: String) { stalledAccounts(modelId: $m, first: 1, after: $a) {
        edges { cursor node { account { name } } } pageInfo { hasNextPage endCursor } } }"#;
    let first = app.ok(&token, paged, json!({ "m": model })).await["stalledAccounts"].clone();
    assert_eq!(first["edges"][0]["node"]["account"]["name"], "Cora");
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    let second = app
        .ok(
            &token,
            paged,
            json!({ "m": model, "a": first["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(
        second["stalledAccounts"]["edges"][0]["node"]["account"]["name"],
        "Beta"
    );
    assert_eq!(second["stalledAccounts"]["pageInfo"]["hasNextPage"], false);
    // A target that changes moves the account in the order at once: with 10
    // days, B (66 days in) is 56 days over, ahead of C's 29.
    let consideration = crate::helpers::stage_id(&app, &token, "consideration").await;
    app.ok(
        &token,
        r#"mutation($s: ID!) { updateStage(input: { id: $s, targetDurationSeconds: 864000 }) { stage { id } } }"#,
        json!({ "s": consideration }),
    )
    .await;
    let data = app.ok(&token, q, json!({ "m": model })).await;
    let names: Vec<&str> = data["stalledAccounts"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["account"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Beta", "Cora"]);
}

#[tokio::test]
async fn the_handoff_gap_runs_from_mql_to_sales_first_touch() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    fixture(&app, &token).await;
    let q = r#"{ handoffGap(from: "2026-01-01T00:00:00Z", to: "2026-07-01T00:00:00Z") {
        handedOff waiting left medianSeconds p90Seconds
        accounts { totalCount nodes { account { id name } mqlAt gapSeconds firstSalesTouchpoint { externalId } touchpointsBetween { nodes { externalId } } } } } }"#;
    let gap = app.ok(&token, q, json!({})).await["handoffGap"].clone();
    // A: MQL at its webinar on 01-11, sales met it on 02-10: 30 days. B waits.
    assert_eq!(
        (
            gap["handedOff"].as_i64(),
            gap["waiting"].as_i64(),
            gap["left"].as_i64()
        ),
        (Some(1), Some(1), Some(0))
    );
    assert!(close(&gap["medianSeconds"], 30.0 * DAY) && close(&gap["p90Seconds"], 30.0 * DAY));
    assert_eq!(gap["accounts"]["totalCount"], 2);
    let a = &gap["accounts"]["nodes"][0];
    assert_eq!(a["account"]["name"], "Acme");
    assert_eq!(a["mqlAt"], "2026-01-11T12:00:00+00:00");
    assert_eq!(a["firstSalesTouchpoint"]["externalId"], "a3");
    assert_eq!(
        a["touchpointsBetween"]["nodes"],
        json!([{ "externalId": "a2" }])
    );
    let b = &gap["accounts"]["nodes"][1];
    assert_eq!(
        (b["account"]["name"].as_str(), b["gapSeconds"].clone()),
        (Some("Beta"), Value::Null)
    );
    // The accounts page like any connection, forward and back.
    let paged = r#"query($a: String, $b: String, $f: Int, $l: Int) {
        handoffGap(from: "2026-01-01T00:00:00Z", to: "2026-07-01T00:00:00Z") {
          accounts(first: $f, after: $a, last: $l, before: $b) {
            nodes { account { name } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }"#;
    let (app, token) = (&app, &token);
    let page =
        |v: Value| async move { app.ok(token, paged, v).await["handoffGap"]["accounts"].clone() };
    let first = page(json!({ "f": 1 })).await;
    assert_eq!(first["nodes"], json!([{ "account": { "name": "Acme" } }]));
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    let second = page(json!({ "f": 1, "a": first["pageInfo"]["endCursor"] })).await;
    assert_eq!(second["nodes"], json!([{ "account": { "name": "Beta" } }]));
    assert_eq!(second["pageInfo"]["hasNextPage"], false);
    let back = page(json!({ "l": 1, "b": second["pageInfo"]["startCursor"] })).await;
    assert_eq!(back["nodes"], first["nodes"]);
    assert_eq!(back["pageInfo"]["hasPreviousPage"], false);
    let last = page(json!({ "l": 1 })).await;
    assert_eq!(last["nodes"], second["nodes"]);

    // Beta is disqualified before sales got to it: nobody waits for it now.
    let beta = b["account"]["id"].clone();
    let update = r#"mutation($input: UpdateAccountInput!) { updateAccount(input: $input) { account { lifecycle } } }"#;
    app.ok(
        token,
        update,
        json!({ "input": { "id": beta, "lifecycle": "DISQUALIFIED" } }),
    )
    .await;
    let gap = app.ok(token, q, json!({})).await["handoffGap"].clone();
    assert_eq!(
        (
            gap["handedOff"].as_i64(),
            gap["waiting"].as_i64(),
            gap["left"].as_i64()
        ),
        (Some(1), Some(0), Some(1))
    );
}

#[tokio::test]
async fn nps_counts_promoters_passives_and_detractors() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let answers: Vec<Value> = [10.0, 9.0, 8.0, 6.0, 3.0, 10.0]
        .iter()
        .enumerate()
        .map(|(i, score)| {
            json!({ "source": "survey", "externalId": format!("n{i}"), "kind": "nps.responded", "channel": "EMAIL",
                    "occurredAt": format!("2026-04-{:02}T12:00:00Z", i + 1), "score": score,
                    "person": { "email": format!("p{i}@x.com") } })
        })
        .collect();
    record(&app, &token, json!(answers)).await;
    // An answer outside the window does not count.
    record(&app, &token, json!([{ "source": "survey", "externalId": "old", "kind": "nps.responded", "channel": "EMAIL",
                                 "occurredAt": "2025-12-01T00:00:00Z", "score": 0 }])).await;
    // Answers off the 0–10 scale are refused, one by one.
    let off_scale: Vec<Value> = [11.0, -1.0, 7.5]
        .iter()
        .enumerate()
        .map(|(i, score)| {
            json!({ "source": "survey", "externalId": format!("bad{i}"), "kind": "nps.responded", "channel": "EMAIL",
                    "occurredAt": "2026-04-10T12:00:00Z", "score": score })
        })
        .collect();
    let refused = record(&app, &token, json!(off_scale)).await;
    assert_eq!(refused["failed"], 3);
    for result in refused["results"].as_array().unwrap() {
        assert_eq!(result["error"]["code"], "BAD_USER_INPUT", "{result}");
    }
    let q = r#"{ nps(from: "2026-01-01T00:00:00Z", to: "2026-07-01T00:00:00Z") { score responses promoters passives detractors }
                npsDetractors(from: "2026-01-01T00:00:00Z", to: "2026-07-01T00:00:00Z") { totalCount nodes { externalId score } } }"#;
    let data = app.ok(&token, q, json!({})).await;
    // 3 promoters (10, 9, 10), 1 passive (8), 2 detractors (6, 3): (3 - 2) / 6 = 16.7.
    let nps = &data["nps"];
    assert_eq!(
        (
            nps["responses"].as_i64(),
            nps["promoters"].as_i64(),
            nps["passives"].as_i64(),
            nps["detractors"].as_i64()
        ),
        (Some(6), Some(3), Some(1), Some(2))
    );
    assert!(close(&nps["score"], 100.0 / 6.0));
    assert_eq!(
        data["npsDetractors"]["nodes"],
        json!([{ "externalId": "n4", "score": 3.0 }, { "externalId": "n3", "score": 6.0 }])
    );
    let empty = app.ok(&token, r#"{ nps(from: "2020-01-01T00:00:00Z", to: "2020-02-01T00:00:00Z") { score responses } }"#, json!({})).await;
    assert_eq!(empty["nps"], json!({ "score": null, "responses": 0 }));
    let bad = app
        .gql(
            &token,
            r#"{ nps(from: "2026-02-01T00:00:00Z", to: "2026-01-01T00:00:00Z") { score } }"#,
            json!({}),
        )
        .await;
    crate::helpers::assert_code(&bad, "BAD_USER_INPUT");
}

#[tokio::test]
async fn attribution_names_first_and_last_touch_of_new_customers() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let [a, _, _] = fixture(&app, &token).await;
    app.ok(
        &token,
        "mutation($id: ID!) { updateAccount(input: { id: $id, lifecycle: CUSTOMER }) { account { id } } }",
        json!({ "id": a }),
    )
    .await;
    // A customer whose only touchpoint came after its purchase: nothing led
    // it there, so it names no first or last touch.
    let late = crate::helpers::create_account(&app, &token, "Latecomer", &["latecomer.com"]).await;
    app.ok(
        &token,
        "mutation($id: ID!) { updateAccount(input: { id: $id, lifecycle: CUSTOMER }) { account { id } } }",
        json!({ "id": late }),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    crate::helpers::record(
        &app,
        &token,
        json!([{ "externalId": "after", "kind": "ticket.opened", "channel": "SUPPORT",
                 "occurredAt": chrono::Utc::now().to_rfc3339(), "person": { "email": "x@latecomer.com" } }]),
    )
    .await;
    let q = r#"{ attribution(from: "2026-01-01T00:00:00Z", to: "2030-01-01T00:00:00Z") {
        customers { nodes { account { name } firstTouch { externalId } lastTouch { externalId } } }
        firstTouch { source channel accounts } lastTouch { source channel accounts } } }"#;
    let data = app.ok(&token, q, json!({})).await["attribution"].clone();
    assert_eq!(
        data["customers"]["nodes"],
        json!([{ "account": { "name": "Acme" }, "firstTouch": { "externalId": "a1" }, "lastTouch": { "externalId": "a4" } },
               { "account": { "name": "Latecomer" }, "firstTouch": null, "lastTouch": null }])
    );
    assert_eq!(
        data["firstTouch"],
        json!([{ "source": "twitter", "channel": "SOCIAL", "accounts": 1 }])
    );
    assert_eq!(
        data["lastTouch"],
        json!([{ "source": "zendesk", "channel": "SUPPORT", "accounts": 1 }])
    );
}
