//! Stage playbooks and next steps over HTTP: a playbook set on a stage (and
//! refused when malformed), and an account's next steps with their reasons,
//! the people and touchpoints they name, and only consented channels.

use chrono::{Duration, SecondsFormat, Utc};
use journeys_api::auth::Scope;
use serde_json::{Value, json};

use crate::helpers::{assert_code, create_account, record, spawn_app};

const UPDATE_STAGE: &str = r#"mutation($input: UpdateStageInput!) {
  updateStage(input: $input) { stage { key playbook { text ownerTeam doneWhen } } }
}"#;

const NEXT_STEPS: &str = r#"query($id: ID!) { account(id: $id) { nextSteps {
  kind priority text reason ownerTeam model { name } stage { key } role
  stakeholder { name } contactOn touchpoint { kind }
} } }"#;

fn days_ago(days: i64) -> String {
    (Utc::now() - Duration::days(days)).to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[tokio::test]
async fn an_account_gets_its_next_steps_with_reasons_and_consented_channels() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let acme = create_account(&app, &token, "Acme", &["acme.example"]).await;
    let retention = crate::helpers::stage_id(&app, &token, "retention").await;

    // A playbook, trimmed as saved; an empty step is refused.
    let playbook = json!([
        { "text": " Hold the onboarding call ", "ownerTeam": "SERVICE", "doneWhen": ["call.logged"] },
        { "text": "Share the admin guide", "ownerTeam": "SERVICE" },
    ]);
    let saved = app
        .ok(
            &token,
            UPDATE_STAGE,
            json!({ "input": { "id": retention, "playbook": playbook } }),
        )
        .await;
    assert_eq!(
        saved["updateStage"]["stage"]["playbook"],
        json!([
            { "text": "Hold the onboarding call", "ownerTeam": "SERVICE", "doneWhen": ["call.logged"] },
            { "text": "Share the admin guide", "ownerTeam": "SERVICE", "doneWhen": [] },
        ])
    );
    let refused = app
        .gql(
            &token,
            UPDATE_STAGE,
            json!({ "input": { "id": retention, "playbook": [{ "text": " ", "ownerTeam": "SALES" }] } }),
        )
        .await;
    assert_code(&refused, "BAD_USER_INPUT");

    app.ok(
        &token,
        "mutation { setNeededDmuRoles(input: { roles: [BUYER] }) { roles } }",
        json!({}),
    )
    .await;
    let person = json!({ "email": "ada@acme.example", "name": "Ada" });
    let recorded = record(
        &app,
        &token,
        json!([
            { "source": "zendesk", "externalId": "ticket:7:opened", "channel": "SUPPORT",
              "kind": "ticket.opened", "occurredAt": days_ago(3), "title": "Export fails",
              "properties": { "ticket_id": 7 }, "person": person },
            { "externalId": "nps-1", "channel": "EMAIL", "kind": "nps.responded",
              "occurredAt": days_ago(2), "score": 4, "person": person },
        ]),
    )
    .await;
    let ada = recorded["results"][0]["touchpoint"]["stakeholder"]["id"].clone();
    for (channel, granted) in [("EMAIL", true), ("PHONE", true), ("EMAIL", false)] {
        app.ok(
            &token,
            "mutation($input: SetConsentInput!) { setConsent(input: $input) { stakeholder { id } } }",
            json!({ "input": { "stakeholderId": ada, "channel": channel, "granted": granted,
                               "source": "preference centre" } }),
        )
        .await;
    }
    app.ok(
        &token,
        "mutation($id: ID!) { updateAccount(input: { id: $id, lifecycle: MQL }) { account { id } } }",
        json!({ "id": acme }),
    )
    .await;

    let reader = app.token("acme", &[Scope::Read]);
    let data = app.ok(&reader, NEXT_STEPS, json!({ "id": acme })).await;
    let steps = data["account"]["nextSteps"].as_array().unwrap();
    let what: Vec<Value> = steps
        .iter()
        .map(|s| json!([s["kind"], s["priority"], s["text"], s["ownerTeam"]]))
        .collect();
    assert_eq!(
        what,
        [
            json!([
                "AWAITING_SALES",
                "HIGH",
                "Make the first sales contact",
                "SALES"
            ]),
            json!([
                "DETRACTOR_FOLLOW_UP",
                "HIGH",
                "Follow up Ada's NPS answer of 4",
                "RELATIONSHIP"
            ]),
            json!([
                "OPEN_TICKET",
                "HIGH",
                "Resolve support ticket 7: Export fails",
                "SERVICE"
            ]),
            json!([
                "MISSING_ROLE",
                "MEDIUM",
                "Find the account's buyer",
                "SALES"
            ]),
            json!(["PLAYBOOK", "MEDIUM", "Hold the onboarding call", "SERVICE"]),
            json!(["PLAYBOOK", "LOW", "Share the admin guide", "SERVICE"]),
        ]
    );
    for step in steps {
        assert!(!step["reason"].as_str().unwrap().is_empty(), "{step}");
    }
    let (detractor, ticket) = (&steps[1], &steps[2]);
    for (step, kind) in [(detractor, "nps.responded"), (ticket, "ticket.opened")] {
        assert_eq!(step["stakeholder"]["name"], "Ada");
        assert_eq!(step["contactOn"], json!(["PHONE"]), "email was revoked");
        assert_eq!(step["touchpoint"]["kind"], kind);
    }
    assert_eq!(steps[3]["role"], "BUYER");
    assert_eq!(steps[4]["stage"]["key"], "retention");
    assert_eq!(steps[4]["model"]["name"], "Five-stage customer journey");
    assert_eq!(steps[0]["stakeholder"], Value::Null);
    assert_eq!(steps[0]["contactOn"], json!([]));

    // A token without `read` sees nothing; another workspace's finds no account.
    let writer = app.token("acme", &[Scope::Write]);
    assert_code(
        &app.gql(&writer, NEXT_STEPS, json!({ "id": acme })).await,
        "FORBIDDEN",
    );
    app.workspace("globex").await;
    let other = app
        .gql(&app.admin("globex"), NEXT_STEPS, json!({ "id": acme }))
        .await;
    assert_eq!(other["data"]["account"], Value::Null, "{other}");
}
