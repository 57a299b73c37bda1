//! Keyset pagination both ways, with rows arriving between pages.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::helpers::{TestApp, create_account, spawn_app};

const FORWARD: &str = r#"query($after: String) {
  accounts(first: 7, after: $after) { edges { cursor node { id name } } pageInfo { hasNextPage hasPreviousPage endCursor } }
}"#;
const BACKWARD: &str = r#"query($before: String) {
  accounts(last: 7, before: $before) { edges { cursor node { id name } } pageInfo { hasNextPage hasPreviousPage startCursor } }
}"#;

fn names(page: &Value) -> Vec<String> {
    page["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn seed(app: &TestApp, token: &str) -> Vec<String> {
    let mut all = Vec::new();
    for i in 0..20 {
        let name = format!("m-{i:02}");
        create_account(app, token, &name, &[]).await;
        all.push(name);
    }
    all
}

#[tokio::test]
async fn forward_pages_see_every_row_once_while_rows_arrive() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let mut expected = seed(&app, &token).await;
    let mut seen = Vec::new();
    let mut after = Value::Null;
    for round in 0.. {
        let data = app.ok(&token, FORWARD, json!({ "after": after })).await;
        let page = &data["accounts"];
        seen.extend(names(page));
        assert_eq!(page["pageInfo"]["hasPreviousPage"], round > 0);
        // One row sorts before the cursor (never shown), one after (shown later).
        create_account(&app, &token, &format!("a-{round:02}"), &[]).await;
        let late = format!("z-{round:02}");
        create_account(&app, &token, &late, &[]).await;
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        expected.push(late);
        after = page["pageInfo"]["endCursor"].clone();
        assert!(round < 20, "pagination does not end");
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "duplicates in {seen:?}");
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "out of order");
    expected.sort();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn backward_pages_mirror_forward_pages() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let mut expected = seed(&app, &token).await;
    let mut seen: Vec<String> = Vec::new();
    let mut before = Value::Null;
    for round in 0_u8.. {
        let data = app.ok(&token, BACKWARD, json!({ "before": before })).await;
        let page = &data["accounts"];
        let mut batch = names(page);
        assert!(
            batch.windows(2).all(|w| w[0] < w[1]),
            "a backward page is in forward order: {batch:?}"
        );
        batch.extend(seen);
        seen = batch;
        assert_eq!(page["pageInfo"]["hasNextPage"], round > 0);
        create_account(&app, &token, &format!("z-{round:02}"), &[]).await;
        // Each early row sorts before every row so far, so before the cursor.
        let early = format!("{}-early", char::from(b'l' - round));
        create_account(&app, &token, &early, &[]).await;
        if page["pageInfo"]["hasPreviousPage"] == false {
            break;
        }
        expected.push(early);
        before = page["pageInfo"]["startCursor"].clone();
        assert!(round < 20, "pagination does not end");
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "duplicates in {seen:?}");
    expected.sort();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn touchpoints_page_newest_first_across_equal_times() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    // Ties on occurredAt are broken by id, so no row is lost between pages.
    let items: Vec<Value> = (0..30)
        .map(|i| {
            json!({ "externalId": format!("e{i:02}"), "channel": "WEB", "kind": "page.visited",
                         "occurredAt": format!("2026-01-{:02}T00:00:00Z", 1 + i / 3) })
        })
        .collect();
    crate::helpers::record(&app, &token, json!(items)).await;
    let q = r#"query($after: String, $before: String, $first: Int, $last: Int) {
      touchpoints(first: $first, after: $after, last: $last, before: $before) {
        edges { cursor node { externalId occurredAt } } pageInfo { hasNextPage hasPreviousPage endCursor startCursor } }
    }"#;
    let mut forward = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = app
            .ok(&token, q, json!({ "first": 4, "after": after }))
            .await;
        let page = &data["touchpoints"];
        forward.extend(
            page["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"]["externalId"].as_str().unwrap().to_owned()),
        );
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(forward.len(), 30);
    assert_eq!(forward.iter().collect::<HashSet<_>>().len(), 30);
    let mut backward = Vec::new();
    let mut before = Value::Null;
    loop {
        let data = app
            .ok(&token, q, json!({ "last": 4, "before": before }))
            .await;
        let page = &data["touchpoints"];
        let mut batch: Vec<String> = page["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["externalId"].as_str().unwrap().to_owned())
            .collect();
        batch.extend(backward);
        backward = batch;
        if page["pageInfo"]["hasPreviousPage"] == false {
            break;
        }
        before = page["pageInfo"]["startCursor"].clone();
    }
    assert_eq!(forward, backward);
    let _ = create_account;
}
