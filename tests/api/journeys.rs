//! Journey models from templates and custom stages.

use serde_json::json;

use crate::helpers::{assert_code, spawn_app};

const CREATE: &str = r#"mutation($input: CreateJourneyModelInput!) {
  createJourneyModel(input: $input) { journeyModel { id name template circular loopToStageKey isDefault
    stages { key name position ownerTeam targetDurationSeconds continuous parentStageId entryKinds entryChannels } } }
}"#;

#[tokio::test]
async fn a_new_workspace_has_the_five_stage_model() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let data = app
        .ok(
            &token,
            "{ journeyModels { name template isDefault stages { key ownerTeam } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["journeyModels"].as_array().unwrap().len(), 1);
    let model = &data["journeyModels"][0];
    assert_eq!(
        (model["template"].as_str(), model["isDefault"].as_bool()),
        (Some("FIVE_STAGE"), Some(true))
    );
    let keys: Vec<&str> = model["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "awareness",
            "consideration",
            "purchase_decision",
            "retention",
            "loyalty_advocacy"
        ]
    );
}

#[tokio::test]
async fn every_template_can_be_created_beside_the_others() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    for (template, stages, circular) in [
        ("AIDA", 4, false),
        ("KOPAN", 5, false),
        ("MCKINSEY", 6, true),
        ("BABCOCK_JENKINS", 4, false),
    ] {
        let data = app
            .ok(&token, CREATE, json!({ "input": { "template": template } }))
            .await;
        let model = &data["createJourneyModel"]["journeyModel"];
        assert_eq!(
            model["stages"].as_array().unwrap().len(),
            stages,
            "{template}"
        );
        assert_eq!(model["circular"], circular);
        let id = model["id"].as_str().unwrap();
        let node = app
            .ok(
                &token,
                "query($id: ID!) { node(id: $id) { ... on JourneyModel { template } } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(node["node"]["template"], template);
    }
    let data = app
        .ok(&token, "{ journeyModels { template } }", json!({}))
        .await;
    assert_eq!(data["journeyModels"].as_array().unwrap().len(), 5);
    let data = app
        .ok(
            &token,
            CREATE,
            json!({ "input": { "template": "MCKINSEY" } }),
        )
        .await;
    assert_eq!(
        data["createJourneyModel"]["journeyModel"]["loopToStageKey"],
        "purchase"
    );
    let data = app
        .ok(
            &token,
            CREATE,
            json!({ "input": { "template": "BABCOCK_JENKINS" } }),
        )
        .await;
    let advocate = &data["createJourneyModel"]["journeyModel"]["stages"][3];
    assert_eq!(
        (advocate["key"].as_str(), advocate["continuous"].as_bool()),
        (Some("advocate"), Some(true))
    );
}

#[tokio::test]
async fn custom_models_hold_nested_stages_and_refuse_bad_ones() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let stages = json!([
        { "key": "evaluate", "name": "Evaluate", "ownerTeam": "SALES", "targetDurationSeconds": 86400,
          "entryKinds": ["demo.requested"], "entryChannels": ["MEETING"] },
        { "key": "security_review", "name": "Security review", "ownerTeam": "DELIVERY", "parentKey": "evaluate" },
        { "key": "onboard", "name": "Onboard", "ownerTeam": "SERVICE" }
    ]);
    let data = app
        .ok(
            &token,
            CREATE,
            json!({ "input": { "template": "CUSTOM", "name": "Enterprise", "stages": stages } }),
        )
        .await;
    let model = &data["createJourneyModel"]["journeyModel"];
    assert_eq!(model["name"], "Enterprise");
    assert_eq!(model["stages"][0]["entryChannels"], json!(["MEETING"]));
    assert_eq!(model["stages"][0]["targetDurationSeconds"], 86400);
    let parent = app
        .ok(
            &token,
            "query($id: ID!) { node(id: $id) { ... on Stage { key } } }",
            json!({ "id": model["stages"][1]["parentStageId"] }),
        )
        .await;
    assert_eq!(parent["node"]["key"], "evaluate");

    for bad in [
        json!({ "template": "CUSTOM" }),
        json!({ "template": "AIDA", "stages": stages }),
        json!({ "template": "CUSTOM", "stages": [{ "key": "a", "name": "A", "ownerTeam": "SALES" }, { "key": "a", "name": "B", "ownerTeam": "SALES" }] }),
        json!({ "template": "CUSTOM", "stages": [{ "key": "Bad Key", "name": "A", "ownerTeam": "SALES" }] }),
        json!({ "template": "CUSTOM", "stages": [{ "key": "a", "name": "A", "ownerTeam": "SALES", "parentKey": "zz" }] }),
        json!({ "template": "CUSTOM", "circular": true, "stages": [{ "key": "a", "name": "A", "ownerTeam": "SALES" }] }),
    ] {
        assert_code(
            &app.gql(&token, CREATE, json!({ "input": bad })).await,
            "BAD_USER_INPUT",
        );
    }
    let data = app.ok(&token, "{ journeyModels { id } }", json!({})).await;
    assert_eq!(
        data["journeyModels"].as_array().unwrap().len(),
        2,
        "refused models left nothing behind"
    );
}

#[tokio::test]
async fn stages_are_added_changed_reordered_and_removed_without_losing_history() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let model = app
        .ok(
            &token,
            "{ journeyModels { id stages { id key } } }",
            json!({}),
        )
        .await["journeyModels"][0]
        .clone();
    let model_id = model["id"].as_str().unwrap().to_owned();
    let stage_id = |key: &str| -> String {
        model["stages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["key"] == key)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let account = crate::helpers::create_account(&app, &token, "Initech", &["initech.com"]).await;
    crate::helpers::record(
        &app,
        &token,
        json!([{ "externalId": "c1", "kind": "webinar.registered", "channel": "WEBINAR",
                 "occurredAt": "2026-01-10T09:00:00Z", "person": { "email": "ada@initech.com" } }]),
    )
    .await;

    let add = r#"mutation($input: AddStageInput!) { addStage(input: $input) {
        stage { id key position } journeyModel { stages { key position } } } }"#;
    let data = app
        .ok(&token, add, json!({ "input": { "modelId": model_id, "position": 2,
            "stage": { "key": "trial", "name": "Trial", "ownerTeam": "SALES", "entryKinds": ["trial.started"] } } }))
        .await;
    let trial = data["addStage"]["stage"]["id"].as_str().unwrap().to_owned();
    let keys: Vec<&str> = data["addStage"]["journeyModel"]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "awareness",
            "consideration",
            "trial",
            "purchase_decision",
            "retention",
            "loyalty_advocacy"
        ]
    );
    let dup = app
        .gql(&token, add, json!({ "input": { "modelId": model_id, "stage": { "key": "trial", "name": "Again", "ownerTeam": "SALES" } } }))
        .await;
    assert_code(&dup, "CONFLICT");

    let update = r#"mutation($input: UpdateStageInput!) { updateStage(input: $input) {
        stage { name ownerTeam targetDurationSeconds entryKinds } } }"#;
    let data = app
        .ok(&token, update, json!({ "input": { "id": stage_id("awareness"), "name": "Aware", "ownerTeam": "SALES",
                                               "targetDurationSeconds": null, "entryKinds": ["ad.clicked"] } }))
        .await;
    assert_eq!(
        data["updateStage"]["stage"],
        json!({ "name": "Aware", "ownerTeam": "SALES", "targetDurationSeconds": null, "entryKinds": ["ad.clicked"] })
    );
    let bad = app
        .gql(
            &token,
            update,
            json!({ "input": { "id": stage_id("awareness"), "targetDurationSeconds": 0 } }),
        )
        .await;
    assert_code(&bad, "BAD_USER_INPUT");

    // Trial becomes a decision point under purchase decision, and back.
    let parent = r#"mutation($input: UpdateStageInput!) { updateStage(input: $input) { stage { parentStageId } } }"#;
    let data = app
        .ok(
            &token,
            parent,
            json!({ "input": { "id": trial, "parentStageId": stage_id("purchase_decision") } }),
        )
        .await;
    assert_eq!(
        data["updateStage"]["stage"]["parentStageId"],
        stage_id("purchase_decision")
    );
    // Not under itself, nor under its own sub-stage.
    for (stage, under) in [
        (trial.clone(), trial.clone()),
        (stage_id("purchase_decision"), trial.clone()),
    ] {
        let refused = app
            .gql(
                &token,
                parent,
                json!({ "input": { "id": stage, "parentStageId": under } }),
            )
            .await;
        assert_code(&refused, "BAD_USER_INPUT");
    }
    let data = app
        .ok(
            &token,
            parent,
            json!({ "input": { "id": trial, "parentStageId": null } }),
        )
        .await;
    assert_eq!(
        data["updateStage"]["stage"]["parentStageId"],
        serde_json::Value::Null
    );

    // The account went through consideration; removing it keeps that history.
    let remove = r#"mutation($id: ID!) { removeStage(input: { id: $id }) { stage { archivedAt } journeyModel { stages { key } } } }"#;
    let data = app
        .ok(&token, remove, json!({ "id": stage_id("consideration") }))
        .await;
    assert!(data["removeStage"]["stage"]["archivedAt"].is_string());
    assert_eq!(
        data["removeStage"]["journeyModel"]["stages"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    let journey = app
        .ok(&token, "query($id: ID!) { journey(accountId: $id) { currentStage { key } transitions { to { key archivedAt } } } }", json!({ "id": account }))
        .await;
    assert_eq!(journey["journey"]["currentStage"]["key"], "consideration");
    assert!(journey["journey"]["transitions"][0]["to"]["archivedAt"].is_string());
    let all = app
        .ok(
            &token,
            "{ journeyModels { stages(includeArchived: true) { key } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        all["journeyModels"][0]["stages"].as_array().unwrap().len(),
        6
    );

    let active = app
        .ok(&token, "{ journeyModels { stages { id key } } }", json!({}))
        .await;
    let mut ids: Vec<String> = active["journeyModels"][0]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    ids.reverse();
    let reorder = r#"mutation($input: ReorderStagesInput!) { reorderStages(input: $input) { journeyModel { stages { key position } } } }"#;
    let data = app
        .ok(
            &token,
            reorder,
            json!({ "input": { "modelId": model_id, "stageIds": ids } }),
        )
        .await;
    let stages = &data["reorderStages"]["journeyModel"]["stages"];
    assert_eq!(
        stages[0],
        json!({ "key": "loyalty_advocacy", "position": 0 })
    );
    assert_eq!(stages[4], json!({ "key": "awareness", "position": 4 }));
    let partial = app
        .gql(
            &token,
            reorder,
            json!({ "input": { "modelId": model_id, "stageIds": [ids[0]] } }),
        )
        .await;
    assert_code(&partial, "BAD_USER_INPUT");
}
