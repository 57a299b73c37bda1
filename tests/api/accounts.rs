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

#[tokio::test]
async fn account_scores_filters_and_qualification_follow_memberships_at_once() {
    use chrono::Utc;
    use entity::vocab::Channel;
    use journeys_core::testing::Touch;

    use crate::helpers::{input, record};

    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let initech = create_account(&app, &token, "Initech", &["initech.com"]).await;
    app.ok(
        &token,
        r#"mutation { upsertScoringRule(input: { name: "webinar", kind: "webinar.attended", points: 10 }) { scoringRule { id } } }"#,
        json!({}),
    )
    .await;
    let webinar = |id: &str, email: &str, on_initech: bool| {
        let at = Utc::now() - chrono::Duration::days(1);
        let mut item = input(Touch::at(id, "webinar.attended", Channel::Webinar, at).email(email));
        if on_initech {
            item["accountId"] = json!(initech);
        }
        item
    };
    // Bob, at Initech by his email, 10; Ada, from elsewhere, attends three
    // webinars with Initech and so joins it: 40.
    record(
        &app,
        &token,
        json!([webinar("b1", "bob@initech.com", false)]),
    )
    .await;
    let items: Vec<_> = (1..=3)
        .map(|i| webinar(&format!("a{i}"), "ada@example.org", true))
        .collect();
    let recorded = record(&app, &token, json!(items)).await;
    let ada = recorded["results"][0]["touchpoint"]["stakeholder"]["id"].clone();
    assert!(ada.is_string(), "{recorded}");

    let account = r#"query($id: ID!) { account(id: $id) { score lifecycle lifecycleChanges { to cause touchpoint { id } } } }"#;
    let between = r#"query($min: Float!, $max: Float!) { accounts(filter: { minScore: $min, maxScore: $max }) { totalCount nodes { name } } }"#;
    let count_between = |min: f64, max: f64| {
        let app = &app;
        let token = &token;
        async move {
            app.ok(token, between, json!({ "min": min, "max": max }))
                .await["accounts"]["totalCount"]
                .clone()
        }
    };
    assert_eq!(count_between(35.0, 45.0).await, 1);

    // Ada leaves: the score, the filters and the payload agree at once.
    let left = app
        .ok(
            &token,
            "mutation($a: ID!, $s: ID!) { removeStakeholderFromAccount(input: { accountId: $a, stakeholderId: $s }) { removed account { score } } }",
            json!({ "a": initech, "s": ada }),
        )
        .await;
    assert_eq!(
        left["removeStakeholderFromAccount"]["account"]["score"],
        10.0
    );
    let data = app.ok(&token, account, json!({ "id": initech })).await;
    assert_eq!(data["account"]["score"], 10.0);
    assert_eq!(count_between(35.0, 45.0).await, 0);
    assert_eq!(count_between(5.0, 15.0).await, 1);

    // Bob attends another; Ada rejoins: 50 reaches the threshold at once, with
    // no touchpoint to credit, and the payload shows it.
    record(
        &app,
        &token,
        json!([webinar("b2", "bob@initech.com", false)]),
    )
    .await;
    let joined = app
        .ok(
            &token,
            "mutation($a: ID!, $s: ID!) { addStakeholderToAccount(input: { accountId: $a, stakeholderId: $s }) { account { score lifecycle } } }",
            json!({ "a": initech, "s": ada }),
        )
        .await;
    assert_eq!(
        joined["addStakeholderToAccount"]["account"],
        json!({ "score": 50.0, "lifecycle": "MQL" })
    );
    let data = app.ok(&token, account, json!({ "id": initech })).await;
    let changes = data["account"]["lifecycleChanges"].as_array().unwrap();
    assert_eq!(
        changes.last().unwrap(),
        &json!({
            "to": "MQL",
            "cause": "score 50.0 reached the MQL threshold 50 (a membership changed)",
            "touchpoint": null
        })
    );
    assert_eq!(count_between(45.0, 55.0).await, 1);
    assert_eq!(count_between(5.0, 45.0).await, 0);
}
