//! Lifecycle history over HTTP: a ledger that adds up to the current value,
//! whatever order touchpoints and hands changed it in.

use serde_json::{Value, json};

use crate::helpers::{TestApp, create_account, record, spawn_app};

const HISTORY: &str = r#"query($id: ID!) { node(id: $id) {
  ... on Account { lifecycle lifecycleChanges { from to cause actor touchpoint { externalId } } }
  ... on Stakeholder { lifecycle lifecycleChanges { from to cause actor touchpoint { externalId } } }
} }"#;

/// A subject's lifecycle and its changes as `[from, to, cause, touchpoint]`,
/// after checking that they add up: each `from` is the `to` before it, none
/// stays put, and the last `to` is the current lifecycle.
async fn ledger(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    let data = app.ok(token, HISTORY, json!({ "id": id })).await;
    let node = &data["node"];
    let changes = node["lifecycleChanges"].as_array().unwrap().clone();
    assert_eq!(changes[0]["from"], Value::Null, "{node}");
    for pair in changes.windows(2) {
        assert_eq!(pair[1]["from"], pair[0]["to"], "{node}");
    }
    assert!(changes.iter().all(|c| c["from"] != c["to"]), "{node}");
    assert_eq!(changes.last().unwrap()["to"], node["lifecycle"], "{node}");
    changes
        .iter()
        .map(|c| {
            json!([
                c["from"],
                c["to"],
                c["cause"],
                c["touchpoint"]["externalId"]
            ])
        })
        .collect()
}

#[tokio::test]
async fn a_qualification_after_a_hand_set_value_is_recorded_after_it() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    app.ok(
        &token,
        r#"mutation { upsertScoringRule(input: { name: "meetings", kind: "meeting.held", points: 20 }) { scoringRule { id } } }"#,
        json!({}),
    )
    .await;
    let initech = create_account(&app, &token, "Initech", &["initech.com"]).await;
    let touch = |id: &str, kind: &str, channel: &str, at: &str| {
        json!({ "source": "crm", "externalId": id, "channel": channel, "kind": kind,
                "occurredAt": at, "person": { "email": "ada@initech.com" } })
    };
    for (i, id) in ["m1", "m2", "m3"].iter().enumerate() {
        let at = format!("2026-11-0{}T10:00:00Z", i + 1);
        record(
            &app,
            &token,
            json!([touch(id, "meeting.held", "MEETING", &at)]),
        )
        .await;
    }
    let data = app
        .ok(
            &token,
            r#"mutation($id: ID!) { updateAccount(input: { id: $id, lifecycle: VISITOR }) { account { lifecycle } } }"#,
            json!({ "id": initech }),
        )
        .await;
    assert_eq!(data["updateAccount"]["account"]["lifecycle"], "VISITOR");
    let visit = record(
        &app,
        &token,
        json!([touch("p1", "page.visited", "WEB", "2026-11-10T10:00:00Z")]),
    )
    .await;
    assert_eq!(visit["created"], 1);

    let cause = "score 60.0 reached the MQL threshold 50";
    assert_eq!(
        ledger(&app, &token, &initech).await,
        [
            json!([null, "VISITOR", "created", null]),
            json!(["VISITOR", "MQL", cause, "m3"]),
            json!(["MQL", "VISITOR", "set by hand", null]),
            json!(["VISITOR", "MQL", cause, "p1"]),
        ]
    );
    let ada = visit["results"][0]["touchpoint"]["stakeholder"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        ledger(&app, &token, &ada).await,
        [
            json!([null, "LEAD", "left their details", null]),
            json!(["LEAD", "MQL", cause, "m3"]),
        ]
    );
}
