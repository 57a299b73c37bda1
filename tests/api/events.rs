//! The event log over HTTP: `events` replays a workspace's changes in order,
//! pages by cursor, filters by type, and shows no other workspace's.

use serde_json::{Value, json};

use crate::helpers::{TestApp, create_account, record, spawn_app};

const EVENTS: &str = r#"query($first: Int, $after: String, $types: [EventType!]) {
  events(first: $first, after: $after, types: $types) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      sequence type recordedAt accountId stakeholderId touchpointId
      touchpoint { externalId } account { name } stage { name } fromStage { name }
    } }
  }
}"#;

async fn events(app: &TestApp, token: &str, vars: Value) -> Value {
    app.ok(token, EVENTS, vars).await["events"].clone()
}

fn nodes(page: &Value) -> Vec<Value> {
    page["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

/// Two visits by Ada at Initech.
async fn two_visits(app: &TestApp, token: &str) {
    create_account(app, token, "Initech", &["initech.com"]).await;
    record(
        app,
        token,
        json!([
            { "externalId": "v1", "channel": "WEB", "kind": "page.visited",
              "occurredAt": "2026-03-01T10:00:00Z", "person": { "email": "ada@initech.com" } },
            { "externalId": "v2", "channel": "WEB", "kind": "page.visited",
              "occurredAt": "2026-03-02T10:00:00Z", "person": { "email": "ada@initech.com" } },
        ]),
    )
    .await;
}

#[tokio::test]
async fn the_log_replays_a_workspaces_changes_in_order() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    two_visits(&app, &token).await;
    let all = events(&app, &token, json!({})).await;
    let log = nodes(&all);
    assert_eq!(all["totalCount"], log.len(), "{all}");
    let sequences: Vec<i64> = log
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(sequences, (1..=log.len() as i64).collect::<Vec<_>>());
    let recorded: Vec<&Value> = log
        .iter()
        .filter(|e| e["type"] == "TOUCHPOINT_RECORDED")
        .collect();
    assert_eq!(recorded.len(), 2, "{all}");
    assert_eq!(recorded[0]["touchpoint"]["externalId"], "v1");
    assert_eq!(recorded[1]["touchpoint"]["externalId"], "v2");
    assert_eq!(recorded[0]["account"]["name"], "Initech");
    assert!(recorded[0]["stakeholderId"].is_string());
    let entered: Vec<&Value> = log
        .iter()
        .filter(|e| e["type"] == "STAGE_CHANGED")
        .collect();
    assert_eq!(entered.len(), 1, "{all}");
    assert_eq!(entered[0]["stage"]["name"], "Awareness");
    assert_eq!(entered[0]["fromStage"], Value::Null);

    // Paging with `after` picks up exactly where the last page ended.
    let first = events(&app, &token, json!({ "first": 2 })).await;
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    let rest = events(
        &app,
        &token,
        json!({ "after": first["pageInfo"]["endCursor"] }),
    )
    .await;
    let mut paged = nodes(&first);
    paged.extend(nodes(&rest));
    assert_eq!(paged, log);

    // A type filter keeps its order and its numbers.
    let only = events(&app, &token, json!({ "types": ["TOUCHPOINT_RECORDED"] })).await;
    assert_eq!(only["totalCount"], 2);
    assert_eq!(
        nodes(&only),
        recorded.into_iter().cloned().collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_workspace_sees_only_its_own_log() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    app.workspace("globex").await;
    let acme = app.admin("acme");
    let globex = app.admin("globex");
    two_visits(&app, &acme).await;
    let theirs = events(&app, &globex, json!({})).await;
    assert_eq!(theirs["totalCount"], 0, "{theirs}");
    assert_eq!(nodes(&theirs), Vec::<Value>::new());
}

#[tokio::test]
async fn a_cursor_from_another_list_is_refused() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    two_visits(&app, &token).await;
    let accounts = app
        .ok(
            &token,
            "{ accounts(first: 1) { pageInfo { endCursor } } }",
            json!({}),
        )
        .await;
    let body = app
        .gql(
            &token,
            EVENTS,
            json!({ "after": accounts["accounts"]["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{body}"
    );
}
