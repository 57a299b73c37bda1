//! Accounts: create, read, update, delete, filter and order.

use serde_json::json;

use crate::helpers::{assert_code, create_account, spawn_app};

#[tokio::test]
async fn accounts_round_trip_through_create_update_and_delete() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let data = app
        .ok(
            &token,
            crate::helpers::CREATE_ACCOUNT,
            json!({ "input": { "name": "  Initech ", "domains": ["https://www.Initech.com/about", "initech.io"], "lifecycle": "LEAD" } }),
        )
        .await;
    let account = &data["createAccount"]["account"];
    assert_eq!(account["name"], "Initech");
    assert_eq!(account["domains"], json!(["initech.com", "initech.io"]));
    assert_eq!(account["lifecycle"], "LEAD");
    let id = account["id"].as_str().unwrap();

    let update = r#"mutation($input: UpdateAccountInput!) {
      updateAccount(input: $input) { account { name industry employees owner domains lifecycle } }
    }"#;
    let data = app
        .ok(&token, update, json!({ "input": { "id": id, "industry": "Software", "employees": 120, "owner": "sam@us.example", "domains": ["initech.com"] } }))
        .await;
    assert_eq!(
        data["updateAccount"]["account"],
        json!({ "name": "Initech", "industry": "Software", "employees": 120, "owner": "sam@us.example", "domains": ["initech.com"], "lifecycle": "LEAD" })
    );
    // `null` clears, absent leaves alone.
    let data = app
        .ok(
            &token,
            update,
            json!({ "input": { "id": id, "industry": null, "lifecycle": "MQL" } }),
        )
        .await;
    assert_eq!(data["updateAccount"]["account"]["industry"], json!(null));
    assert_eq!(data["updateAccount"]["account"]["employees"], 120);
    assert_eq!(data["updateAccount"]["account"]["lifecycle"], "MQL");

    let bad = app
        .gql(
            &token,
            update,
            json!({ "input": { "id": id, "employees": -5 } }),
        )
        .await;
    assert_code(&bad, "BAD_USER_INPUT");

    let data = app
        .ok(
            &token,
            "mutation($id: ID!) { deleteAccount(input: { id: $id }) { deletedId } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(data["deleteAccount"]["deletedId"], id);
    let gone = app
        .gql(
            &token,
            "query($id: ID!) { account(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_code(&gone, "NOT_FOUND");
}

#[tokio::test]
async fn accounts_filter_by_lifecycle_owner_text_and_score() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    for (name, domain, lifecycle, owner) in [
        ("Alpha Health", "alpha.health", "LEAD", "sam"),
        ("Beta Retail", "betashop.com", "CUSTOMER", "alex"),
        ("Gamma Health", "gamma.io", "CUSTOMER", "sam"),
    ] {
        app.ok(
            &token,
            crate::helpers::CREATE_ACCOUNT,
            json!({ "input": { "name": name, "domains": [domain], "lifecycle": lifecycle, "owner": owner } }),
        )
        .await;
    }
    let names = |data: &serde_json::Value| -> Vec<String> {
        data["accounts"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let q = "query($f: AccountFilter) { accounts(filter: $f) { totalCount nodes { name } } }";
    let data = app
        .ok(&token, q, json!({ "f": { "lifecycle": ["CUSTOMER"] } }))
        .await;
    assert_eq!(names(&data), ["Beta Retail", "Gamma Health"]);
    assert_eq!(data["accounts"]["totalCount"], 2);
    let data = app
        .ok(&token, q, json!({ "f": { "search": "HEALTH" } }))
        .await;
    assert_eq!(names(&data), ["Alpha Health", "Gamma Health"]);
    let data = app
        .ok(&token, q, json!({ "f": { "search": "betashop" } }))
        .await;
    assert_eq!(names(&data), ["Beta Retail"]);
    let data = app
        .ok(
            &token,
            q,
            json!({ "f": { "owner": "sam", "lifecycle": ["CUSTOMER"] } }),
        )
        .await;
    assert_eq!(names(&data), ["Gamma Health"]);
    let data = app.ok(&token, q, json!({ "f": { "minScore": 1.0 } })).await;
    assert_eq!(data["accounts"]["totalCount"], 0);
    let data = app
        .ok(&token, q, json!({ "f": { "search": "100%_" } }))
        .await;
    assert_eq!(
        data["accounts"]["totalCount"], 0,
        "LIKE wildcards are escaped"
    );
    let data = app
        .ok(
            &token,
            q,
            json!({ "f": { "updatedSince": "2000-01-01T00:00:00Z" } }),
        )
        .await;
    assert_eq!(data["accounts"]["totalCount"], 3);
    let data = app
        .ok(
            &token,
            "{ accounts(orderBy: { field: NAME, direction: DESC }) { nodes { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        names(&data),
        ["Gamma Health", "Beta Retail", "Alpha Health"]
    );
    let _ = create_account;
}
