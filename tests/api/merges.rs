//! Merging stakeholders and undoing it to the identical state.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_code, create_account, create_stakeholder, record, spawn_app};

const STATE: &str = r#"{
  stakeholders(orderBy: { field: CREATED_AT }) { nodes {
    id name email title lifecycle score updatedAt
    identities { id kind value }
    accounts { edges { role primary node { id } } }
    touchpoints { nodes { id externalId } }
    lifecycleChanges { from to cause }
  } }
  accounts { nodes { id score lifecycle lifecycleChanges { from to cause } stakeholders { edges { role primary node { id } } }
    touchpoints { totalCount } journey { currentStage { key } transitions { to { key } occurredAt } } } }
}"#;

async fn state(app: &TestApp, token: &str) -> Value {
    app.ok(token, STATE, json!({})).await
}

#[tokio::test]
async fn merge_then_unmerge_returns_to_the_identical_state() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    app.ok(&token, "mutation { upsertScoringRule(input: { name: \"all\", channel: SOCIAL, points: 5 }) { scoringRule { id } } }", json!({}))
        .await;
    let initech = create_account(&app, &token, "Initech", &["initech.com"]).await;
    let umbrella = create_account(&app, &token, "Umbrella", &[]).await;
    // One person, known twice: by email at Initech, and by a twitter handle at
    // Initech (as a champion) and Umbrella.
    let ada = create_stakeholder(&app, &token, json!({ "name": "Ada", "email": "ada@initech.com", "accountId": initech, "role": "DECISION_MAKER" })).await;
    let handle = create_stakeholder(
        &app,
        &token,
        json!({ "name": "@ada_l", "identities": [{ "kind": "TWITTER_HANDLE", "value": "ada_l" }], "accountId": initech, "role": "CHAMPION" }),
    )
    .await;
    app.ok(
        &token,
        "mutation($a: ID!, $s: ID!) { addStakeholderToAccount(input: { accountId: $a, stakeholderId: $s, role: USER }) { primary } }",
        json!({ "a": umbrella, "s": handle }),
    )
    .await;
    record(
        &app,
        &token,
        json!([
            { "source": "twitter", "externalId": "t1", "channel": "SOCIAL", "kind": "tweet.mention", "occurredAt": "2026-03-01T00:00:00Z", "stakeholderId": handle },
            { "source": "twitter", "externalId": "t2", "channel": "SOCIAL", "kind": "tweet.mention", "occurredAt": "2026-03-02T00:00:00Z", "stakeholderId": ada }
        ]),
    )
    .await;
    // And once more as an anonymous web visitor, before anyone knew who it was.
    let visit = record(
        &app,
        &token,
        json!([{ "source": "web", "externalId": "v1", "channel": "WEB", "kind": "page.visited",
                 "occurredAt": "2026-02-01T00:00:00Z", "person": { "anonymousId": "cookie-7" } }]),
    )
    .await;
    let visitor = visit["results"][0]["touchpoint"]["stakeholder"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Each record alone scores 5; one person's 10 reaches the threshold.
    app.ok(
        &token,
        "mutation { setQualificationThresholds(input: { mql: 8 }) { mql } }",
        json!({}),
    )
    .await;
    let before = state(&app, &token).await;

    let merge = r#"mutation($s: ID!, $o: [ID!]!) { mergeStakeholders(input: { survivorId: $s, stakeholderIds: $o }) {
        merge { id mergedStakeholderIds } survivor { id score lifecycle lifecycleChanges { to cause } identities { kind value } accounts { edges { role primary node { id } } } touchpoints { totalCount } } } }"#;
    let data = app
        .ok(&token, merge, json!({ "s": ada, "o": [handle, visitor] }))
        .await;
    let survivor = &data["mergeStakeholders"]["survivor"];
    let mut merged: Vec<String> =
        serde_json::from_value(data["mergeStakeholders"]["merge"]["mergedStakeholderIds"].clone())
            .unwrap();
    merged.sort();
    let mut expected = vec![handle.clone(), visitor.clone()];
    expected.sort();
    assert_eq!(merged, expected);
    assert_eq!(survivor["touchpoints"]["totalCount"], 3);
    // The visit now counts in Initech's journey, as if it had always been Ada's.
    let j = app
        .ok(
            &token,
            "query($id: ID!) { account(id: $id) { touchpoints { totalCount } journey { transitions { to { key } occurredAt } } } }",
            json!({ "id": initech }),
        )
        .await;
    assert_eq!(j["account"]["touchpoints"]["totalCount"], 3);
    assert_eq!(
        j["account"]["journey"]["transitions"][0],
        json!({ "to": { "key": "awareness" }, "occurredAt": "2026-02-01T00:00:00+00:00" })
    );
    assert_eq!(
        survivor["score"], 10.0,
        "both tweets count for one person now"
    );
    assert_eq!(survivor["lifecycle"], "MQL");
    assert_eq!(
        survivor["lifecycleChanges"]
            .as_array()
            .unwrap()
            .last()
            .unwrap(),
        &json!({ "to": "MQL", "cause": "score 10.0 reached the MQL threshold 8 (a merge joined their records)" })
    );
    // Both tweets were recorded on Initech, the handle's primary account:
    // Umbrella, where nothing happened, stays at 0 with Ada's 10 points.
    let umbrella_now = app
        .ok(
            &token,
            "query($id: ID!) { account(id: $id) { score lifecycle scoreBreakdown { points } } }",
            json!({ "id": umbrella }),
        )
        .await;
    assert_eq!(
        umbrella_now["account"],
        json!({ "score": 0.0, "lifecycle": "VISITOR", "scoreBreakdown": [] })
    );
    assert_eq!(
        survivor["identities"].as_array().unwrap().len(),
        3,
        "email, handle and the visitor's cookie"
    );
    assert_eq!(
        survivor["accounts"]["edges"],
        json!([{ "role": "DECISION_MAKER", "primary": true, "node": { "id": initech } },
               { "role": "USER", "primary": false, "node": { "id": umbrella } }])
    );
    let gone = app
        .gql(
            &token,
            "query($id: ID!) { stakeholder(id: $id) { id } }",
            json!({ "id": handle }),
        )
        .await;
    assert_code(&gone, "NOT_FOUND");

    let unmerge = r#"mutation($m: ID!) { unmergeStakeholders(input: { mergeId: $m }) { merge { undoneAt } stakeholders { id } } }"#;
    let merge_id = data["mergeStakeholders"]["merge"]["id"].clone();
    let data = app.ok(&token, unmerge, json!({ "m": merge_id })).await;
    assert!(data["unmergeStakeholders"]["merge"]["undoneAt"].is_string());
    assert_eq!(state(&app, &token).await, before);
    assert_code(
        &app.gql(&token, unmerge, json!({ "m": merge_id })).await,
        "CONFLICT",
    );

    let bad = app
        .gql(&token, merge, json!({ "s": ada, "o": [ada] }))
        .await;
    assert_code(&bad, "BAD_USER_INPUT");
    let writer = app.token(
        "acme",
        &[
            journeys_api::auth::Scope::Read,
            journeys_api::auth::Scope::Write,
        ],
    );
    assert_code(
        &app.gql(&writer, merge, json!({ "s": ada, "o": [handle] }))
            .await,
        "FORBIDDEN",
    );
}

#[tokio::test]
async fn unmerging_into_an_erased_survivor_brings_everyone_back_erased() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let ada = create_stakeholder(
        &app,
        &token,
        json!({ "name": "Ada Lovelace", "email": "ada@initech.com" }),
    )
    .await;
    let twin = create_stakeholder(
        &app,
        &token,
        json!({ "name": "Ada L.", "title": "CTO", "email": "ada.l@initech.com",
                "identities": [{ "kind": "TWITTER_HANDLE", "value": "ada_l" }] }),
    )
    .await;
    app.ok(
        &token,
        r#"mutation($id: ID!) { setConsent(input: { stakeholderId: $id, channel: EMAIL, granted: true, source: "form" }) { consent { granted } } }"#,
        json!({ "id": twin }),
    )
    .await;
    let merged = app
        .ok(
            &token,
            "mutation($s: ID!, $o: [ID!]!) { mergeStakeholders(input: { survivorId: $s, stakeholderIds: $o }) { merge { id } } }",
            json!({ "s": ada, "o": [twin] }),
        )
        .await["mergeStakeholders"]["merge"]["id"]
        .clone();
    app.ok(
        &token,
        "mutation($id: ID!) { eraseStakeholder(input: { stakeholderId: $id }) { stakeholder { erasedAt } } }",
        json!({ "id": ada }),
    )
    .await;
    let data = app
        .ok(
            &token,
            r#"mutation($m: ID!) { unmergeStakeholders(input: { mergeId: $m }) {
                stakeholders { id name email title erasedAt identities { value } consents(history: true) { channel } } } }"#,
            json!({ "m": merged }),
        )
        .await;
    let people = data["unmergeStakeholders"]["stakeholders"]
        .as_array()
        .unwrap();
    assert_eq!(people.len(), 2);
    for person in people {
        assert!(person["erasedAt"].is_string(), "{person}");
        assert_eq!(
            [&person["name"], &person["email"], &person["title"]],
            [&Value::Null, &Value::Null, &Value::Null],
            "{person}"
        );
        assert_eq!(person["identities"], json!([]), "{person}");
        assert_eq!(person["consents"], json!([]), "{person}");
    }
    // The twin's email finds no one: a new record of it is a new person.
    let found = app
        .ok(
            &token,
            r#"{ stakeholders(filter: { search: "ada" }) { totalCount } }"#,
            json!({}),
        )
        .await;
    assert_eq!(found["stakeholders"]["totalCount"], 0);
}

#[tokio::test]
async fn a_survivors_lifecycle_history_stays_one_chain_through_a_merge() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let ada = create_stakeholder(
        &app,
        &token,
        json!({ "name": "Ada", "email": "ada@initech.com" }),
    )
    .await;
    let twin = create_stakeholder(
        &app,
        &token,
        json!({ "name": "Ada L.", "email": "ada.l@initech.com" }),
    )
    .await;
    app.ok(
        &token,
        r#"mutation($id: ID!) { disqualifyLead(input: { id: $id, reason: "a duplicate" }) { stakeholder { lifecycle } } }"#,
        json!({ "id": twin }),
    )
    .await;
    let history =
        r#"query($id: ID!) { stakeholder(id: $id) { lifecycle lifecycleChanges { from to } } }"#;
    let twin_before = app.ok(&token, history, json!({ "id": twin })).await;
    let merge = r#"mutation($s: ID!, $o: [ID!]!) { mergeStakeholders(input: { survivorId: $s, stakeholderIds: $o }) { merge { id } } }"#;
    let merged = app
        .ok(&token, merge, json!({ "s": ada, "o": [twin] }))
        .await;
    // Each change's `from` is the previous one's `to`, ending at the
    // survivor's lifecycle: the twin's history is not woven into it.
    let survivor = app.ok(&token, history, json!({ "id": ada })).await["stakeholder"].clone();
    let changes = survivor["lifecycleChanges"].as_array().unwrap();
    assert_eq!(changes[0]["from"], Value::Null, "{survivor}");
    for pair in changes.windows(2) {
        assert_eq!(pair[1]["from"], pair[0]["to"], "{survivor}");
    }
    assert_eq!(
        changes.last().unwrap()["to"],
        survivor["lifecycle"],
        "{survivor}"
    );
    app.ok(
        &token,
        "mutation($m: ID!) { unmergeStakeholders(input: { mergeId: $m }) { merge { undoneAt } } }",
        json!({ "m": merged["mergeStakeholders"]["merge"]["id"] }),
    )
    .await;
    assert_eq!(
        app.ok(&token, history, json!({ "id": twin })).await,
        twin_before
    );
}
