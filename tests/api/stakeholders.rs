//! Stakeholders, their identities, and memberships with DMU roles.

use serde_json::json;

use crate::helpers::{assert_code, create_account, create_stakeholder, spawn_app};

#[tokio::test]
async fn stakeholders_join_accounts_with_roles() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let account = create_account(&app, &token, "Initech", &["initech.com"]).await;
    let other = create_account(&app, &token, "Umbrella", &[]).await;
    let ada = create_stakeholder(
        &app,
        &token,
        json!({ "name": "Ada Lovelace", "email": " Ada@Initech.COM ", "title": "CTO",
                "identities": [{ "kind": "TWITTER_HANDLE", "value": "@Ada_L" }],
                "accountId": account, "role": "DECISION_MAKER" }),
    )
    .await;
    let add = r#"mutation($input: AddStakeholderToAccountInput!) {
      addStakeholderToAccount(input: $input) { role primary account { name } stakeholder { name } }
    }"#;
    let data = app
        .ok(
            &token,
            add,
            json!({ "input": { "accountId": other, "stakeholderId": ada, "role": "INFLUENCER" } }),
        )
        .await;
    assert_eq!(
        data["addStakeholderToAccount"],
        json!({ "role": "INFLUENCER", "primary": false, "account": { "name": "Umbrella" }, "stakeholder": { "name": "Ada Lovelace" } })
    );
    let q = r#"query($id: ID!) { stakeholder(id: $id) {
        email lifecycle anonymous
        identities { kind value }
        accounts { totalCount edges { role primary node { name } } }
    } }"#;
    let data = app.ok(&token, q, json!({ "id": ada })).await;
    assert_eq!(
        data["stakeholder"],
        json!({
            "email": "ada@initech.com",
            "lifecycle": "LEAD",
            "anonymous": false,
            "identities": [{ "kind": "EMAIL", "value": "ada@initech.com" }, { "kind": "TWITTER_HANDLE", "value": "ada_l" }],
            "accounts": { "totalCount": 2, "edges": [
                { "role": "DECISION_MAKER", "primary": true, "node": { "name": "Initech" } },
                { "role": "INFLUENCER", "primary": false, "node": { "name": "Umbrella" } }
            ] }
        })
    );
    let data = app
        .ok(&token, "query($id: ID!) { account(id: $id) { stakeholders { edges { role node { name } } } } }", json!({ "id": account }))
        .await;
    assert_eq!(
        data["account"]["stakeholders"]["edges"],
        json!([{ "role": "DECISION_MAKER", "node": { "name": "Ada Lovelace" } }])
    );

    let remove = r#"mutation($input: RemoveStakeholderFromAccountInput!) { removeStakeholderFromAccount(input: $input) { removed } }"#;
    let data = app
        .ok(
            &token,
            remove,
            json!({ "input": { "accountId": other, "stakeholderId": ada } }),
        )
        .await;
    assert_eq!(data["removeStakeholderFromAccount"]["removed"], true);
    let data = app
        .ok(
            &token,
            remove,
            json!({ "input": { "accountId": other, "stakeholderId": ada } }),
        )
        .await;
    assert_eq!(data["removeStakeholderFromAccount"]["removed"], false);
}

#[tokio::test]
async fn identities_are_unique_in_a_workspace() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    app.workspace("globex").await;
    let token = app.admin("acme");
    create_stakeholder(&app, &token, json!({ "email": "ada@initech.com" })).await;
    let dup = app
        .gql(
            &token,
            crate::helpers::CREATE_STAKEHOLDER,
            json!({ "input": { "email": "ADA@initech.com" } }),
        )
        .await;
    assert_code(&dup, "CONFLICT");
    // Another workspace may hold the same identity.
    create_stakeholder(
        &app,
        &app.admin("globex"),
        json!({ "email": "ada@initech.com" }),
    )
    .await;
    let data = app
        .ok(&token, "{ stakeholders { totalCount } }", json!({}))
        .await;
    assert_eq!(data["stakeholders"]["totalCount"], 1);
}

#[tokio::test]
async fn stakeholders_update_and_delete() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let id = create_stakeholder(&app, &token, json!({ "name": "Bob" })).await;
    let update = r#"mutation($input: UpdateStakeholderInput!) {
      updateStakeholder(input: $input) { stakeholder { name email title lifecycle identities { kind value } } }
    }"#;
    let data = app
        .ok(&token, update, json!({ "input": { "id": id, "email": "bob@x.io", "title": "CFO", "lifecycle": "MQL",
                                                 "addIdentities": [{ "kind": "PHONE", "value": "+1 (555) 010-9999" }] } }))
        .await;
    assert_eq!(
        data["updateStakeholder"]["stakeholder"],
        json!({ "name": "Bob", "email": "bob@x.io", "title": "CFO", "lifecycle": "MQL",
                "identities": [{ "kind": "EMAIL", "value": "bob@x.io" }, { "kind": "PHONE", "value": "+15550109999" }] })
    );
    let bad = app
        .gql(
            &token,
            update,
            json!({ "input": { "id": id, "email": "bob at x" } }),
        )
        .await;
    assert_code(&bad, "BAD_USER_INPUT");
    app.ok(
        &token,
        "mutation($id: ID!) { deleteStakeholder(input: { id: $id }) { deletedId } }",
        json!({ "id": id }),
    )
    .await;
    let data = app
        .ok(&token, "{ stakeholders { totalCount } }", json!({}))
        .await;
    assert_eq!(data["stakeholders"]["totalCount"], 0);
}

#[tokio::test]
async fn a_visitor_given_an_email_becomes_a_lead() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let visitor = create_stakeholder(&app, &token, json!({ "name": "Anon" })).await;
    let update = r#"mutation($input: UpdateStakeholderInput!) {
      updateStakeholder(input: $input) { stakeholder { lifecycle lifecycleChanges { from to cause actor } } }
    }"#;
    let data = app
        .ok(
            &token,
            update,
            json!({ "input": { "id": visitor, "email": "anon@initech.com" } }),
        )
        .await;
    let person = &data["updateStakeholder"]["stakeholder"];
    assert_eq!(person["lifecycle"], "LEAD");
    let changes = person["lifecycleChanges"].as_array().unwrap();
    assert_eq!(
        changes.last().unwrap(),
        &json!({ "from": "VISITOR", "to": "LEAD", "cause": "left their details", "actor": null })
    );
    // A lifecycle set in the same update wins; a new email alone changes nothing more.
    let other = create_stakeholder(&app, &token, json!({ "name": "Bo" })).await;
    let data = app
        .ok(
            &token,
            update,
            json!({ "input": { "id": other, "email": "bo@initech.com", "lifecycle": "MQL" } }),
        )
        .await;
    assert_eq!(data["updateStakeholder"]["stakeholder"]["lifecycle"], "MQL");
    let data = app
        .ok(
            &token,
            update,
            json!({ "input": { "id": visitor, "email": "anon@umbrella.com" } }),
        )
        .await;
    let person = &data["updateStakeholder"]["stakeholder"];
    assert_eq!(person["lifecycle"], "LEAD");
    assert_eq!(
        person["lifecycleChanges"].as_array().unwrap().len(),
        changes.len()
    );
}
