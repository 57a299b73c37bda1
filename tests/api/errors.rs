//! Limits and bad input: clear codes, never a 500, never a half-written change.

use serde_json::json;

use crate::helpers::{assert_code, create_account, spawn_app};

#[tokio::test]
async fn malformed_ids_and_cursors_are_bad_input() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    for id in ["nope", "", "QWNjb3VudDpub3QtYS11dWlk"] {
        let body = app
            .gql(
                &token,
                "query($id: ID!) { account(id: $id) { id } }",
                json!({ "id": id }),
            )
            .await;
        assert_code(&body, "BAD_USER_INPUT");
    }
    let stakeholder =
        crate::helpers::create_stakeholder(&app, &token, json!({ "name": "Ada" })).await;
    let body = app
        .gql(
            &token,
            "query($id: ID!) { account(id: $id) { id } }",
            json!({ "id": stakeholder }),
        )
        .await;
    assert_code(&body, "BAD_USER_INPUT");
    let body = app
        .gql(
            &token,
            "{ accounts(after: \"garbage\") { totalCount } }",
            json!({}),
        )
        .await;
    assert_code(&body, "BAD_USER_INPUT");
    // A cursor of one ordering is refused by another.
    create_account(&app, &token, "Acme", &[]).await;
    let data = app
        .ok(
            &token,
            "{ accounts(first: 1) { edges { cursor } } }",
            json!({}),
        )
        .await;
    let cursor = data["accounts"]["edges"][0]["cursor"].as_str().unwrap();
    let body = app
        .gql(
            &token,
            "query($c: String!) { accounts(after: $c, orderBy: { field: CREATED_AT }) { totalCount } }",
            json!({ "c": cursor }),
        )
        .await;
    assert_code(&body, "BAD_USER_INPUT");
}

#[tokio::test]
async fn pages_are_bounded() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    for query in [
        "{ accounts(first: 501) { totalCount } }",
        "{ accounts(last: 1000) { totalCount } }",
        "{ accounts(first: -1) { totalCount } }",
        "{ accounts(first: 1, last: 1) { totalCount } }",
        "{ touchpoints(first: 501) { totalCount } }",
        "{ accounts { nodes { touchpoints(first: 501) { totalCount } } } }",
    ] {
        let body = app.gql(&token, query, json!({})).await;
        if query.contains("nodes {") {
            // No accounts yet, so the nested argument is never checked.
            assert!(body.get("errors").is_none());
        } else {
            assert_code(&body, "BAD_USER_INPUT");
        }
    }
    app.ok(&token, "{ accounts(first: 500) { totalCount } }", json!({}))
        .await;
}

#[tokio::test]
async fn deep_and_complex_queries_are_refused() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let mut deep = String::from("name");
    for _ in 0..5 {
        deep = format!("stakeholders {{ nodes {{ accounts {{ nodes {{ {deep} }} }} }} }}");
    }
    let deep = format!("{{ accounts {{ nodes {{ {deep} }} }} }}");
    assert_code(
        &app.gql(&token, &deep, json!({})).await,
        "QUERY_TOO_COMPLEX",
    );
    let wide: String = (0..30_000)
        .map(|i| format!("a{i}: viewer {{ subject }} "))
        .collect();
    assert_code(
        &app.gql(&token, &format!("{{ {wide} }}"), json!({})).await,
        "QUERY_TOO_COMPLEX",
    );
}

#[tokio::test]
async fn invalid_input_writes_nothing() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let bad_email = app
        .gql(
            &token,
            crate::helpers::CREATE_STAKEHOLDER,
            json!({ "input": { "name": "Ada", "email": "not-an-email" } }),
        )
        .await;
    assert_code(&bad_email, "BAD_USER_INPUT");
    let bad_domain = app
        .gql(
            &token,
            crate::helpers::CREATE_ACCOUNT,
            json!({ "input": { "name": "Acme", "domains": ["acme.com", "nope"] } }),
        )
        .await;
    assert_code(&bad_domain, "BAD_USER_INPUT");
    create_account(&app, &token, "Acme", &["acme.com"]).await;
    // The second account's domain clashes: CONFLICT, and no second account.
    let clash = app
        .gql(
            &token,
            crate::helpers::CREATE_ACCOUNT,
            json!({ "input": { "name": "Copy", "domains": ["ACME.com"] } }),
        )
        .await;
    assert_code(&clash, "CONFLICT");
    let data = app
        .ok(
            &token,
            "{ accounts { totalCount } stakeholders { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data,
        json!({ "accounts": { "totalCount": 1 }, "stakeholders": { "totalCount": 0 } })
    );
    let unparseable = app
        .gql(
            &token,
            crate::helpers::RECORD,
            json!({ "input": { "touchpoints": [{ "externalId": "x", "channel": "WEB", "kind": "page.visited", "occurredAt": "yesterday" }] } }),
        )
        .await;
    assert_code(&unparseable, "BAD_USER_INPUT");
}
