//! Lifecycle rules over HTTP: installed and edited by an admin, applied to
//! touchpoints as they are recorded, each change caused by its touchpoint.

use journeys_api::auth::Scope;
use serde_json::{Value, json};

use crate::helpers::{assert_code, create_account, record, spawn_app};

const INSTALL: &str = "mutation { installLifecycleRules(template: STANDARD) {
  lifecycleRules { id name kind minScore maxScore from to }
} }";

const UPSERT: &str = r#"mutation($input: UpsertLifecycleRuleInput!) {
  upsertLifecycleRule(input: $input) { lifecycleRule { id name from to } }
}"#;

const DELETE: &str =
    r#"mutation($id: ID!) { deleteLifecycleRule(input: { id: $id }) { deletedId } }"#;

#[tokio::test]
async fn installed_rules_make_a_customer_and_a_promoter_from_recorded_touchpoints() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let admin = app.admin("acme");
    let writer = app.token("acme", &[Scope::Read, Scope::Write]);
    assert_code(&app.gql(&writer, INSTALL, json!({})).await, "FORBIDDEN");

    let installed = app.ok(&admin, INSTALL, json!({})).await;
    let rules = installed["installLifecycleRules"]["lifecycleRules"]
        .as_array()
        .unwrap();
    let promoter = rules.iter().find(|r| r["name"] == "Promoter").unwrap();
    assert_eq!(
        (
            &promoter["kind"],
            &promoter["minScore"],
            &promoter["from"],
            &promoter["to"]
        ),
        (
            &json!("nps.responded"),
            &json!(9.0),
            &json!(["CUSTOMER"]),
            &json!("PROMOTER")
        )
    );
    let listed = app
        .ok(&writer, "{ lifecycleRules { name } }", json!({}))
        .await;
    assert_eq!(
        listed["lifecycleRules"],
        json!([{ "name": "Deal lost" }, { "name": "Deal won" }, { "name": "Promoter" }, { "name": "Subscription cancelled" }])
    );

    let account = create_account(&app, &writer, "Initech", &["initech.com"]).await;
    let person = json!({ "email": "ada@initech.com" });
    record(
        &app,
        &writer,
        json!([
            { "externalId": "nps-1", "channel": "EMAIL", "kind": "nps.responded", "score": 10,
              "occurredAt": "2026-05-01T10:00:00Z", "person": person },
            { "externalId": "deal-1", "channel": "MEETING", "kind": "deal.won",
              "occurredAt": "2026-03-01T10:00:00Z", "person": person },
        ]),
    )
    .await;
    let data = app
        .ok(
            &writer,
            r#"query($id: ID!) { account(id: $id) {
                 lifecycle lifecycleChanges { from to cause touchpoint { externalId } }
               } }"#,
            json!({ "id": account }),
        )
        .await;
    assert_eq!(data["account"]["lifecycle"], "PROMOTER");
    let changes: Vec<Value> = data["account"]["lifecycleChanges"]
        .as_array()
        .unwrap()
        .iter()
        .skip(1)
        .map(|c| {
            json!([
                c["from"],
                c["to"],
                c["cause"],
                c["touchpoint"]["externalId"]
            ])
        })
        .collect();
    assert_eq!(
        changes,
        [
            json!([
                "VISITOR",
                "CUSTOMER",
                "lifecycle rule `Deal won`: deal.won",
                "deal-1"
            ]),
            json!([
                "CUSTOMER",
                "PROMOTER",
                "lifecycle rule `Promoter`: nps.responded",
                "nps-1"
            ]),
        ]
    );
}

#[tokio::test]
async fn a_rule_is_checked_edited_and_deleted_in_its_own_workspace_only() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    app.workspace("globex").await;
    let admin = app.admin("acme");
    for (input, field) in [
        (
            json!({ "name": "back", "kind": "deal.won", "from": ["PROMOTER"], "to": "CUSTOMER" }),
            "from",
        ),
        (
            json!({ "name": "", "kind": "deal.won", "to": "CUSTOMER" }),
            "name",
        ),
        (
            json!({ "name": "x", "kind": "demo.held", "minScore": 5, "maxScore": 1, "to": "SQL" }),
            "maxScore",
        ),
        (
            json!({ "name": "x", "kind": "page.viewed", "to": "VISITOR" }),
            "to",
        ),
    ] {
        let body = app.gql(&admin, UPSERT, json!({ "input": input })).await;
        assert_code(&body, "BAD_USER_INPUT");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    let saved = app
        .ok(
            &admin,
            UPSERT,
            json!({ "input": { "name": "Demo", "kind": "demo.held", "from": ["SQL", "SQL"], "to": "OPPORTUNITY" } }),
        )
        .await;
    let rule = &saved["upsertLifecycleRule"]["lifecycleRule"];
    assert_eq!(
        (&rule["from"], &rule["to"]),
        (&json!(["SQL"]), &json!("OPPORTUNITY"))
    );
    let id = rule["id"].clone();
    let node = app
        .ok(
            &admin,
            "query($id: ID!) { node(id: $id) { ... on LifecycleRule { name } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(node["node"]["name"], "Demo");

    let other = app.admin("globex");
    assert_code(
        &app.gql(&other, DELETE, json!({ "id": id })).await,
        "NOT_FOUND",
    );
    let unseen = app
        .gql(
            &other,
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_code(&unseen, "NOT_FOUND");
    assert_eq!(unseen["data"]["node"], Value::Null);
    app.ok(&admin, DELETE, json!({ "id": id })).await;
    assert_code(
        &app.gql(&admin, DELETE, json!({ "id": id })).await,
        "NOT_FOUND",
    );
}
