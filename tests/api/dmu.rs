//! Decision-making units over HTTP: the needed roles (admin to set), each
//! account's coverage of them, accounts missing a role, and who may be
//! contacted on a channel.

use chrono::{Duration, SecondsFormat, Utc};
use journeys_api::auth::Scope;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_code, create_account, record, spawn_app};

const ADD: &str = r#"mutation($input: AddStakeholderToAccountInput!) {
  addStakeholderToAccount(input: $input) { role }
}"#;

const DMU: &str = r#"query($id: ID!, $from: DateTime, $to: DateTime) { account(id: $id) {
  dmu(from: $from, to: $to) {
    roles { role needed engaged members { stakeholder { name } engaged lastTouchAt score } }
    missingRoles coldRoles
  }
} }"#;

fn days_ago(days: i64) -> String {
    (Utc::now() - Duration::days(days)).to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Records one email touchpoint with `name`@acme.example, `days` ago; returns
/// the person's id.
async fn touch(app: &TestApp, token: &str, name: &str, days: i64) -> String {
    let recorded = record(
        app,
        token,
        json!([{ "externalId": format!("{name}-{days}"), "channel": "EMAIL", "kind": "email.opened",
                 "occurredAt": days_ago(days),
                 "person": { "email": format!("{name}@acme.example"), "name": name } }]),
    )
    .await;
    recorded["results"][0]["touchpoint"]["stakeholder"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{recorded}"))
        .to_owned()
}

async fn give_role(app: &TestApp, token: &str, account: &str, person: &str, role: &str) {
    app.ok(
        token,
        ADD,
        json!({ "input": { "accountId": account, "stakeholderId": person, "role": role } }),
    )
    .await;
}

#[tokio::test]
async fn an_account_dmu_names_holders_and_the_needed_roles_missing_or_cold() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let acme = create_account(&app, &token, "Acme", &["acme.example"]).await;
    let ada = touch(&app, &token, "ada", 10).await;
    let bob = touch(&app, &token, "bob", 200).await;
    give_role(&app, &token, &acme, &ada, "DECISION_MAKER").await;
    give_role(&app, &token, &acme, &bob, "BUYER").await;

    let data = app.ok(&token, DMU, json!({ "id": acme })).await;
    let dmu = &data["account"]["dmu"];
    assert_eq!(
        dmu["missingRoles"],
        json!(["INFLUENCER", "USER", "CHAMPION"])
    );
    assert_eq!(dmu["coldRoles"], json!(["BUYER"]));
    let roles: Vec<Value> = dmu["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let names: Vec<&Value> = r["members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| &m["stakeholder"]["name"])
                .collect();
            json!([r["role"], r["needed"], r["engaged"], names])
        })
        .collect();
    assert_eq!(
        roles,
        [
            json!(["DECISION_MAKER", true, true, ["ada"]]),
            json!(["INFLUENCER", true, false, []]),
            json!(["BUYER", true, false, ["bob"]]),
            json!(["USER", true, false, []]),
            json!(["CHAMPION", true, false, []]),
        ]
    );
    let ada_member = &dmu["roles"][0]["members"][0];
    assert!(ada_member["lastTouchAt"].is_string(), "{ada_member}");
    assert!(ada_member["score"].is_number(), "{ada_member}");

    // A window 300 to 100 days back: Bob was in touch then, Ada was not.
    let data = app
        .ok(
            &token,
            DMU,
            json!({ "id": acme, "from": days_ago(300), "to": days_ago(100) }),
        )
        .await;
    assert_eq!(
        data["account"]["dmu"]["coldRoles"],
        json!(["DECISION_MAKER"])
    );
    assert_eq!(
        data["account"]["dmu"]["roles"][0]["members"][0]["lastTouchAt"],
        Value::Null
    );

    // An empty window is refused.
    let body = app
        .gql(
            &token,
            DMU,
            json!({ "id": acme, "from": days_ago(1), "to": days_ago(2) }),
        )
        .await;
    assert_code(&body, "BAD_USER_INPUT");
}

const SET_NEEDED: &str = r#"mutation($roles: [DmuRole!]!) {
  setNeededDmuRoles(input: { roles: $roles }) { roles }
}"#;

#[tokio::test]
async fn the_needed_roles_are_set_by_an_admin_for_their_workspace_only() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    app.workspace("globex").await;
    let admin = app.admin("acme");
    let writer = app.token("acme", &[Scope::Read, Scope::Write]);
    let body = app
        .gql(&writer, SET_NEEDED, json!({ "roles": ["BUYER"] }))
        .await;
    assert_code(&body, "FORBIDDEN");

    let data = app
        .ok(
            &admin,
            SET_NEEDED,
            json!({ "roles": ["CHAMPION", "BUYER", "CHAMPION"] }),
        )
        .await;
    assert_eq!(
        data["setNeededDmuRoles"]["roles"],
        json!(["BUYER", "CHAMPION"])
    );
    let needed = "{ neededDmuRoles }";
    assert_eq!(
        app.ok(&writer, needed, json!({})).await["neededDmuRoles"],
        json!(["BUYER", "CHAMPION"])
    );
    assert_eq!(
        app.ok(&app.admin("globex"), needed, json!({})).await["neededDmuRoles"],
        json!(["DECISION_MAKER", "INFLUENCER", "BUYER", "USER", "CHAMPION"])
    );

    // Accounts missing a role, with its count.
    let acme = create_account(&app, &admin, "Acme", &["acme.example"]).await;
    create_account(&app, &admin, "Initech", &[]).await;
    let ada = touch(&app, &admin, "ada", 1).await;
    give_role(&app, &admin, &acme, &ada, "BUYER").await;
    let missing = r#"query($role: DmuRole!) {
      accounts(filter: { missingRole: $role }) { totalCount nodes { name } }
    }"#;
    let names = |data: Value| data["accounts"].clone();
    assert_eq!(
        names(app.ok(&writer, missing, json!({ "role": "BUYER" })).await),
        json!({ "totalCount": 1, "nodes": [{ "name": "Initech" }] })
    );
    assert_eq!(
        names(
            app.ok(&writer, missing, json!({ "role": "CHAMPION" }))
                .await
        ),
        json!({ "totalCount": 2, "nodes": [{ "name": "Acme" }, { "name": "Initech" }] })
    );
    // Another workspace's token sees none of them.
    assert_eq!(
        names(
            app.ok(&app.admin("globex"), missing, json!({ "role": "CHAMPION" }))
                .await
        ),
        json!({ "totalCount": 0, "nodes": [] })
    );
}

#[tokio::test]
async fn people_are_contactable_on_a_channel_while_their_newest_consent_there_is_given() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let ada = touch(&app, &token, "ada", 1).await;
    let bob = touch(&app, &token, "bob", 1).await;
    let consent = r#"mutation($input: SetConsentInput!) { setConsent(input: $input) { consent { granted } } }"#;
    for (person, granted) in [(&ada, true), (&bob, true), (&bob, false)] {
        app.ok(
            &token,
            consent,
            json!({ "input": { "stakeholderId": person, "channel": "EMAIL", "granted": granted, "source": "form" } }),
        )
        .await;
    }
    let data = app
        .ok(
            &token,
            r#"{ stakeholders(filter: { contactableOn: EMAIL }) {
                   totalCount nodes { name canContact(channel: EMAIL) phone: canContact(channel: PHONE) }
                 }
                 all: stakeholders { nodes { name canContact(channel: EMAIL) } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        data["stakeholders"],
        json!({ "totalCount": 1, "nodes": [{ "name": "ada", "canContact": true, "phone": false }] })
    );
    assert_eq!(
        data["all"]["nodes"],
        json!([{ "name": "ada", "canContact": true }, { "name": "bob", "canContact": false }])
    );
    // Another workspace's token sees nobody.
    app.workspace("globex").await;
    let other = app
        .ok(
            &app.admin("globex"),
            "{ stakeholders(filter: { contactableOn: EMAIL }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(other["stakeholders"]["totalCount"], 0);
}
