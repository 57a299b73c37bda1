//! Nested lists are batched: the statements a query costs do not grow with pages.

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

const QUERY: &str = r#"query($n: Int!) {
  accounts(first: $n) {
    edges { node {
      name
      stakeholders(first: 10) { edges { role node { name touchpoints(first: 10) { nodes { kind occurredAt } } } } }
      touchpoints(first: 10) { nodes { kind occurredAt stakeholder { name } } }
    } }
  }
}"#;

/// The statements one run of the query costs, best of three: a loader's batch
/// closes after a short window, so a busy machine can split one level's batch
/// in two; the structure being measured is the best case.
async fn statements_for(app: &TestApp, token: &str, n: usize) -> (u64, Value) {
    let mut best = u64::MAX;
    let mut data = Value::Null;
    for _ in 0..3 {
        let before = app.statements.get();
        data = app.ok(token, QUERY, json!({ "n": n })).await;
        best = best.min(app.statements.get() - before);
    }
    (best, data)
}

#[tokio::test]
async fn nested_lists_cost_a_fixed_number_of_statements() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let mut items = Vec::new();
    for a in 0..50 {
        let domain = format!("company{a:02}.com");
        crate::helpers::create_account(&app, &token, &format!("Company {a:02}"), &[&domain]).await;
        for t in 0..12 {
            items.push(json!({
                "externalId": format!("{a}-{t}"), "channel": "EMAIL", "kind": "email.opened",
                "occurredAt": format!("2026-02-{:02}T10:00:00Z", 1 + t),
                "person": { "email": format!("person{}@{domain}", t % 3), "name": format!("Person {t}") }
            }));
        }
    }
    for chunk in items.chunks(1000) {
        crate::helpers::record(&app, &token, json!(chunk)).await;
    }
    let (small, small_data) = statements_for(&app, &token, 5).await;
    let (large, data) = statements_for(&app, &token, 50).await;
    assert_eq!(small_data["accounts"]["edges"].as_array().unwrap().len(), 5);
    let edges = data["accounts"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 50);
    for edge in edges {
        let node = &edge["node"];
        assert_eq!(node["stakeholders"]["edges"].as_array().unwrap().len(), 3);
        assert_eq!(node["touchpoints"]["nodes"].as_array().unwrap().len(), 10);
        assert_eq!(
            node["stakeholders"]["edges"][0]["node"]["touchpoints"]["nodes"]
                .as_array()
                .unwrap()
                .len(),
            4
        );
    }
    // Workspace, accounts, memberships, stakeholders, two touchpoint windows,
    // and the touchpoints' stakeholders when they miss the first stakeholder
    // batch: seven at most, for 5 accounts as for 50.
    assert!(small <= 7, "{small} statements for 5 accounts");
    assert!(large <= 7, "{large} statements for 50 accounts");
}
