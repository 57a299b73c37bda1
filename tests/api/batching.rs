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

/// The statements one run of the query costs, the best of up to ten spaced
/// tries (three at least, fewer than ten once one costs at most `enough`): a
/// loader's batch closes after a short window, so a machine busy with other
/// tests can split one level's batch in two; the structure being measured is
/// the best case.
async fn statements_for(
    app: &TestApp,
    token: &str,
    query: &str,
    n: usize,
    enough: u64,
) -> (u64, Value) {
    let mut best = u64::MAX;
    let mut data = Value::Null;
    for attempt in 0..10 {
        if attempt > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(50 * attempt)).await;
        }
        let before = app.statements.get();
        data = app.ok(token, query, json!({ "n": n })).await;
        best = best.min(app.statements.get() - before);
        if attempt >= 2 && best <= enough {
            break;
        }
    }
    (best, data)
}

/// 50 accounts of three people with twelve touchpoints each.
async fn fifty_accounts(app: &TestApp, token: &str) {
    let mut items = Vec::new();
    for a in 0..50 {
        let domain = format!("company{a:02}.com");
        crate::helpers::create_account(app, token, &format!("Company {a:02}"), &[&domain]).await;
        for t in 0..12 {
            items.push(json!({
                "externalId": format!("{a}-{t}"), "channel": "EMAIL", "kind": "email.opened",
                "occurredAt": format!("2026-02-{:02}T10:00:00Z", 1 + t),
                "person": { "email": format!("person{}@{domain}", t % 3), "name": format!("Person {t}") }
            }));
        }
    }
    for chunk in items.chunks(1000) {
        crate::helpers::record(app, token, json!(chunk)).await;
    }
}

#[tokio::test]
async fn nested_lists_cost_a_fixed_number_of_statements() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    fifty_accounts(&app, &token).await;
    let (small, small_data) = statements_for(&app, &token, QUERY, 5, 7).await;
    let (large, data) = statements_for(&app, &token, QUERY, 50, 7).await;
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

#[tokio::test]
async fn account_scores_and_their_breakdowns_cost_a_fixed_number_of_statements() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    app.ok(
        &token,
        r#"mutation { upsertScoringRule(input: { name: "opens", kind: "email.opened", points: 1 }) { scoringRule { id } } }"#,
        json!({}),
    )
    .await;
    fifty_accounts(&app, &token).await;
    let query = r#"query($n: Int!) { accounts(first: $n) { nodes {
      score scoreBreakdown { stakeholder { name } rule { name } count points }
    } } }"#;
    let (small, _) = statements_for(&app, &token, query, 5, 6).await;
    let (large, data) = statements_for(&app, &token, query, 50, 6).await;
    let nodes = data["accounts"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 50);
    for node in nodes {
        // Twelve opens a company, by three people: 4 + 4 + 4.
        assert_eq!(node["score"], 12.0, "{node}");
        let parts = node["scoreBreakdown"].as_array().unwrap();
        assert_eq!(parts.len(), 3, "{node}");
        assert!(
            parts.iter().all(|p| p["count"] == 4 && p["points"] == 4.0),
            "{node}"
        );
        assert!(
            parts.iter().all(|p| p["stakeholder"]["name"].is_string()),
            "{node}"
        );
    }
    // Workspace, accounts, memberships, contributions, rules and the people:
    // six at most, for 5 accounts as for 50.
    assert!(small <= 6, "{small} statements for 5 accounts");
    assert!(large <= 6, "{large} statements for 50 accounts");
}
