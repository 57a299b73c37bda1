//! Scoring and qualification, against figures worked out by hand.

use serde_json::{Value, json};

use chrono::{DateTime, Utc};
use entity::vocab::Channel;
use journeys_core::testing::Touch;

use crate::helpers::{TestApp, assert_code, create_account, input, record, spawn_app};

const UPSERT: &str = r#"mutation($input: UpsertScoringRuleInput!) { upsertScoringRule(input: $input) { scoringRule { id name } } }"#;

async fn rule(app: &TestApp, token: &str, input: Value) -> String {
    let data = app.ok(token, UPSERT, json!({ "input": input })).await;
    data["upsertScoringRule"]["scoringRule"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn days_ago(days: i64) -> DateTime<Utc> {
    Utc::now() - chrono::Duration::days(days)
}

async fn person(app: &TestApp, token: &str, email: &str) -> Value {
    let q = r#"query($s: String) { stakeholders(filter: { search: $s }) { nodes {
        id lifecycle score scoreBreakdown { rule { name } count points }
        lifecycleChanges { from to cause touchpoint { externalId } }
    } } }"#;
    app.ok(token, q, json!({ "s": email })).await["stakeholders"]["nodes"][0].clone()
}

#[tokio::test]
async fn a_score_without_contributions_is_zero_not_negative_zero() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let account = create_account(&app, &token, "Initech", &["initech.com"]).await;
    record(
        &app,
        &token,
        json!([input(
            Touch::new("t1", "page.visited", Channel::Web, "2026-03-01T10:00:00Z")
                .email("ada@initech.com")
        )]),
    )
    .await;
    // The raw text, since JSON numbers compare -0 equal to 0.
    let res = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&token)
        .json(&json!({
            "query": "query($id: ID!) { account(id: $id) { score stakeholders(first: 1) { nodes { score } } } }",
            "variables": { "id": account },
        }))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(res.contains(r#""score":0.0"#), "{res}");
    assert!(!res.contains("-0"), "{res}");
}

fn close(a: &Value, b: f64) -> bool {
    (a.as_f64().unwrap() - b).abs() < 0.01
}

#[tokio::test]
async fn scores_sum_capped_and_decayed_contributions_and_qualify_leads() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let account = create_account(&app, &token, "Initech", &["initech.com"]).await;
    rule(
        &app,
        &token,
        json!({ "name": "webinar", "kind": "webinar.attended", "points": 10 }),
    )
    .await;
    rule(
        &app,
        &token,
        json!({ "name": "emails", "channel": "EMAIL", "points": 2, "maxCount": 3 }),
    )
    .await;
    let tweets = rule(
        &app,
        &token,
        json!({ "name": "tweets", "kind": "tweet.mention", "points": 8, "halfLifeDays": 7 }),
    )
    .await;

    let ada = "ada@initech.com";
    let mut items = vec![
        input(Touch::at("w1", "webinar.attended", Channel::Webinar, days_ago(30)).email(ada)),
        input(Touch::at("w2", "webinar.attended", Channel::Webinar, days_ago(20)).email(ada)),
        input(Touch::at("t1", "tweet.mention", Channel::Social, days_ago(7)).email(ada)),
        input(
            Touch::at("b1", "webinar.attended", Channel::Webinar, days_ago(3))
                .email("bob@initech.com"),
        ),
    ];
    for i in 0..5 {
        items.push(input(
            Touch::at(
                &format!("e{i}"),
                "email.opened",
                Channel::Email,
                days_ago(10 + i),
            )
            .email(ada),
        ));
    }
    record(&app, &token, json!(items)).await;

    // webinar 2 x 10 = 20; emails capped at 3 x 2 = 6; one tweet a half-life old: 8 / 2 = 4.
    let p = person(&app, &token, ada).await;
    assert!(close(&p["score"], 30.0), "{p}");
    let parts = p["scoreBreakdown"].as_array().unwrap();
    let summary: Vec<(String, i64, bool)> = parts
        .iter()
        .map(|c| {
            (
                c["rule"]["name"].as_str().unwrap().to_owned(),
                c["count"].as_i64().unwrap(),
                true,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("emails".into(), 3, true),
            ("tweets".into(), 1, true),
            ("webinar".into(), 2, true)
        ]
    );
    assert!(
        close(&parts[0]["points"], 6.0)
            && close(&parts[1]["points"], 4.0)
            && close(&parts[2]["points"], 20.0)
    );
    // Below the default threshold of 50: still a lead.
    assert_eq!(p["lifecycle"], "LEAD");
    let data = app
        .ok(
            &token,
            "query($id: ID!) { account(id: $id) { score lifecycle } }",
            json!({ "id": account }),
        )
        .await;
    assert!(
        close(&data["account"]["score"], 40.0),
        "Ada 30 + Bob 10: {data}"
    );

    // Lowered under the account's 40 but over Ada's 30: the account
    // qualifies now, for the threshold change; Ada when a touchpoint takes her
    // there, credited to it.
    app.ok(
        &token,
        "mutation { setQualificationThresholds(input: { mql: 35 }) { mql } }",
        json!({}),
    )
    .await;
    let data = app
        .ok(
            &token,
            "query($id: ID!) { account(id: $id) { lifecycle lifecycleChanges { to cause touchpoint { id } } } }",
            json!({ "id": account }),
        )
        .await;
    assert_eq!(data["account"]["lifecycle"], "MQL");
    assert_eq!(
        data["account"]["lifecycleChanges"][1],
        json!({ "to": "MQL", "cause": "score 40.0 reached the MQL threshold 35 (the MQL threshold changed)", "touchpoint": null })
    );
    assert_eq!(person(&app, &token, ada).await["lifecycle"], "LEAD");
    record(
        &app,
        &token,
        json!([input(
            Touch::at("t2", "tweet.mention", Channel::Social, days_ago(0)).email(ada)
        )]),
    )
    .await;
    let p = person(&app, &token, ada).await;
    assert_eq!(p["lifecycle"], "MQL");
    let changes = p["lifecycleChanges"].as_array().unwrap();
    assert_eq!(
        changes[0],
        json!({ "from": null, "to": "LEAD", "cause": "left their details", "touchpoint": null })
    );
    assert_eq!(changes[1]["to"], "MQL");
    // 30 + a fresh tweet's 8.
    assert_eq!(
        changes[1]["cause"],
        "score 38.0 reached the MQL threshold 35"
    );
    assert_eq!(changes[1]["touchpoint"]["externalId"], "t2");

    // Sales decides.
    let accept = r#"mutation($id: ID!) { acceptLead(input: { id: $id, reason: "Budget confirmed" }) { stakeholder { lifecycle } } }"#;
    let data = app.ok(&token, accept, json!({ "id": p["id"] })).await;
    assert_eq!(data["acceptLead"]["stakeholder"]["lifecycle"], "SQL");
    let bob = person(&app, &token, "bob@initech.com").await;
    let disqualify = r#"mutation($id: ID!, $r: String!) { disqualifyLead(input: { id: $id, reason: $r }) { stakeholder { lifecycle lifecycleChanges { to cause actor } } } }"#;
    let data = app
        .ok(
            &token,
            disqualify,
            json!({ "id": bob["id"], "r": "No budget this year" }),
        )
        .await;
    let bob = &data["disqualifyLead"]["stakeholder"];
    assert_eq!(bob["lifecycle"], "DISQUALIFIED");
    assert_eq!(
        bob["lifecycleChanges"][1],
        json!({ "to": "DISQUALIFIED", "cause": "disqualified by sales: No budget this year", "actor": "tester" })
    );
    assert_code(
        &app.gql(
            &token,
            disqualify,
            json!({ "id": bob["id"].clone(), "r": " " }),
        )
        .await,
        "BAD_USER_INPUT",
    );
    // A customer is past lead qualification: accepting them again would take
    // them back to SQL, so it is refused and nothing changes.
    app.ok(
        &token,
        "mutation($id: ID!) { updateStakeholder(input: { id: $id, lifecycle: CUSTOMER }) { stakeholder { lifecycle } } }",
        json!({ "id": p["id"] }),
    )
    .await;
    assert_code(
        &app.gql(&token, accept, json!({ "id": p["id"] })).await,
        "CONFLICT",
    );
    assert_eq!(person(&app, &token, ada).await["lifecycle"], "CUSTOMER");

    // Changing the rules rescores everyone.
    rule(
        &app,
        &token,
        json!({ "name": "webinar", "kind": "webinar.attended", "points": 5 }),
    )
    .await;
    // Webinars 2 x 5, emails 6, the old tweet 4, the new one 8.
    assert!(close(&person(&app, &token, ada).await["score"], 28.0));
    app.ok(
        &token,
        "mutation($id: ID!) { deleteScoringRule(input: { id: $id }) { deletedId } }",
        json!({ "id": tweets }),
    )
    .await;
    assert!(close(&person(&app, &token, ada).await["score"], 16.0));
    let data = app.ok(&token, "{ scoringRules { name } }", json!({})).await;
    assert_eq!(
        data["scoringRules"],
        json!([{ "name": "emails" }, { "name": "webinar" }])
    );
}

#[tokio::test]
async fn bad_rules_are_refused() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    for bad in [
        json!({ "name": "nothing", "points": 1 }),
        json!({ "name": "", "kind": "x", "points": 1 }),
        json!({ "name": "cap", "kind": "x", "points": 1, "maxCount": 0 }),
        json!({ "name": "decay", "kind": "x", "points": 1, "halfLifeDays": -1 }),
    ] {
        assert_code(
            &app.gql(&token, UPSERT, json!({ "input": bad })).await,
            "BAD_USER_INPUT",
        );
    }
    let reader = app.token(
        "acme",
        &[
            journeys_api::auth::Scope::Read,
            journeys_api::auth::Scope::Write,
        ],
    );
    let body = app
        .gql(
            &reader,
            UPSERT,
            json!({ "input": { "name": "x", "kind": "x", "points": 1 } }),
        )
        .await;
    assert_code(&body, "FORBIDDEN");
    assert_code(
        &app.gql(
            &token,
            "mutation { setQualificationThresholds(input: { mql: -1 }) { mql } }",
            json!({}),
        )
        .await,
        "BAD_USER_INPUT",
    );
}

#[tokio::test]
async fn the_touchpoint_that_crossed_the_threshold_is_credited_whatever_the_batch_order() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    rule(
        &app,
        &token,
        json!({ "name": "webinar", "kind": "webinar.attended", "points": 20 }),
    )
    .await;
    let ada = "ada@initech.com";
    // 20, 40, 60 points on days -3, -2, -1: the third crosses 50. The batch
    // lists it first and the second last.
    record(
        &app,
        &token,
        json!([
            input(Touch::at("w3", "webinar.attended", Channel::Webinar, days_ago(1)).email(ada)),
            input(Touch::at("w1", "webinar.attended", Channel::Webinar, days_ago(3)).email(ada)),
            input(Touch::at("w2", "webinar.attended", Channel::Webinar, days_ago(2)).email(ada)),
        ]),
    )
    .await;
    let p = person(&app, &token, ada).await;
    assert_eq!(p["lifecycle"], "MQL");
    let mql = &p["lifecycleChanges"][1];
    assert_eq!(mql["to"], "MQL");
    assert_eq!(mql["touchpoint"]["externalId"], "w3", "{p}");
}

#[tokio::test]
async fn stored_scores_behind_the_filters_catch_up_with_decay() {
    use entity::{score_contribution, stakeholder};
    use sea_orm::EntityTrait;
    use sea_orm::sea_query::Expr;

    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    rule(
        &app,
        &token,
        json!({ "name": "tweets", "kind": "tweet.mention", "points": 8, "halfLifeDays": 7 }),
    )
    .await;
    let ada = "ada@initech.com";
    record(
        &app,
        &token,
        json!([input(
            Touch::at("t1", "tweet.mention", Channel::Social, days_ago(14)).email(ada)
        )]),
    )
    .await;
    // As if the score had been stored two weeks ago, when the tweet was new:
    // 8 then, 8 × ½ × ½ = 2 now.
    let then = chrono::Utc::now() - chrono::Duration::days(14);
    score_contribution::Entity::update_many()
        .col_expr(score_contribution::Column::Points, Expr::value(8.0))
        .col_expr(score_contribution::Column::ReferenceAt, Expr::value(then))
        .exec(&app.db)
        .await
        .unwrap();
    stakeholder::Entity::update_many()
        .col_expr(stakeholder::Column::Score, Expr::value(8.0))
        .exec(&app.db)
        .await
        .unwrap();
    let above = "{ stakeholders(filter: { minScore: 5 }) { totalCount nodes { score } } }";
    let stale = app.ok(&token, above, json!({})).await["stakeholders"].clone();
    assert_eq!(stale["totalCount"], 1, "the stored score is two weeks old");
    assert!(
        close(&stale["nodes"][0]["score"], 2.0),
        "the field is exact: {stale}"
    );

    let rescored = journeys_core::scoring::refresh_decayed(&app.db, 500)
        .await
        .map_err(|e| e.to_string())
        .unwrap();
    assert_eq!(rescored, 1);
    assert_eq!(
        app.ok(&token, above, json!({})).await["stakeholders"]["totalCount"],
        0
    );
    let p = person(&app, &token, ada).await;
    assert!(close(&p["score"], 2.0), "{p}");
    // Fresh scores are left alone.
    assert_eq!(
        journeys_core::scoring::refresh_decayed(&app.db, 500)
            .await
            .map_err(|e| e.to_string())
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn a_rule_change_rescores_everyone_and_qualifies_who_now_reaches_the_threshold() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let initech = create_account(&app, &token, "Initech", &["initech.com"]).await;
    let globex = create_account(&app, &token, "Globex", &["globex.com"]).await;
    rule(
        &app,
        &token,
        json!({ "name": "webinar", "kind": "webinar.attended", "points": 1 }),
    )
    .await;
    // Cara twice; 519 more Globex people once each: more than one rescoring
    // round of 500.
    let mut items = vec![
        input(
            Touch::at("c1", "webinar.attended", Channel::Webinar, days_ago(3))
                .email("cara@initech.com"),
        ),
        input(
            Touch::at("c2", "webinar.attended", Channel::Webinar, days_ago(2))
                .email("cara@initech.com"),
        ),
    ];
    for i in 0..519 {
        items.push(input(
            Touch::at(
                &format!("g{i}"),
                "webinar.attended",
                Channel::Webinar,
                days_ago(1),
            )
            .email(&format!("p{i}@globex.com")),
        ));
    }
    record(&app, &token, json!(items)).await;
    let scores = r#"query($i: ID!, $g: ID!) {
        initech: account(id: $i) { score lifecycle }
        globex: account(id: $g) { score lifecycle } }"#;
    let ids = json!({ "i": initech, "g": globex });
    let data = app.ok(&token, scores, ids.clone()).await;
    assert!(close(&data["initech"]["score"], 2.0) && close(&data["globex"]["score"], 519.0));

    // 30 a webinar: Cara 60, over the default threshold of 50; each Globex
    // person 30, under it; Initech 60 and Globex 15,570, over it.
    rule(
        &app,
        &token,
        json!({ "name": "webinar", "kind": "webinar.attended", "points": 30 }),
    )
    .await;
    let cara = person(&app, &token, "cara@initech.com").await;
    assert!(close(&cara["score"], 60.0), "{cara}");
    assert_eq!(cara["lifecycle"], "MQL");
    assert_eq!(
        cara["lifecycleChanges"][1],
        json!({ "from": "LEAD", "to": "MQL", "cause": "score 60.0 reached the MQL threshold 50 (a scoring rule changed)", "touchpoint": null })
    );
    let last = person(&app, &token, "p518@globex.com").await;
    assert!(close(&last["score"], 30.0), "{last}");
    assert_eq!(last["lifecycle"], "LEAD");
    let data = app.ok(&token, scores, ids.clone()).await;
    assert!(close(&data["initech"]["score"], 60.0), "{data}");
    assert!(close(&data["globex"]["score"], 15_570.0), "{data}");
    assert_eq!(data["initech"]["lifecycle"], "MQL");
    assert_eq!(data["globex"]["lifecycle"], "MQL");

    // Without rules every score is 0, and no one is taken back from MQL.
    let id =
        app.ok(&token, "{ scoringRules { id } }", json!({})).await["scoringRules"][0]["id"].clone();
    app.ok(
        &token,
        "mutation($id: ID!) { deleteScoringRule(input: { id: $id }) { deletedId } }",
        json!({ "id": id }),
    )
    .await;
    let cara = person(&app, &token, "cara@initech.com").await;
    assert!(
        close(&cara["score"], 0.0) && cara["scoreBreakdown"] == json!([]),
        "{cara}"
    );
    assert_eq!(cara["lifecycle"], "MQL");
    let data = app.ok(&token, scores, ids).await;
    assert!(close(&data["globex"]["score"], 0.0), "{data}");
}

const ACCOUNT_SCORES: &str = r#"query($filter: AccountFilter) { accounts(filter: $filter) { nodes {
    name score lifecycle
    scoreBreakdown { stakeholder { email } rule { name } count points }
} } }"#;

/// `n` webinars for `email` a day apart from 2 days ago, on the account
/// with global id `account` when given.
fn webinars(prefix: &str, n: usize, email: &str, account: Option<&str>) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let at = days_ago(2 + i as i64);
            let touch = Touch::at(
                &format!("{prefix}{i}"),
                "webinar.attended",
                Channel::Webinar,
                at,
            );
            let mut item = input(touch.email(email));
            if let Some(account) = account {
                item["accountId"] = json!(account);
            }
            item
        })
        .collect()
}

#[tokio::test]
async fn an_accounts_score_and_its_breakdown_count_only_what_happened_with_it() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    create_account(&app, &token, "Initech", &["initech.com"]).await;
    let globex = create_account(&app, &token, "Globex", &["globex.com"]).await;
    rule(
        &app,
        &token,
        json!({ "name": "webinar", "kind": "webinar.attended", "points": 10 }),
    )
    .await;
    let ada = "ada@initech.com";
    record(&app, &token, json!(webinars("i", 3, ada, None))).await;
    let ada_id = person(&app, &token, ada).await["id"].clone();
    app.ok(
        &token,
        "mutation($a: ID!, $s: ID!) { addStakeholderToAccount(input: { accountId: $a, stakeholderId: $s }) { primary } }",
        json!({ "a": globex, "s": ada_id }),
    )
    .await;
    record(&app, &token, json!(webinars("g", 2, ada, Some(&globex)))).await;

    // Ada has 50, the default MQL threshold; each of her accounts counts what
    // happened with it, and neither qualified on her other account's
    // activity.
    let p = person(&app, &token, ada).await;
    assert_eq!(
        (p["score"].clone(), p["lifecycle"].clone()),
        (json!(50.0), json!("MQL"))
    );
    let data = app.ok(&token, ACCOUNT_SCORES, json!({})).await;
    let breakdown = |count: i32, points: f64| json!([{ "stakeholder": { "email": ada }, "rule": { "name": "webinar" }, "count": count, "points": points }]);
    assert_eq!(
        data["accounts"]["nodes"],
        json!([
            { "name": "Globex", "score": 20.0, "lifecycle": "VISITOR", "scoreBreakdown": breakdown(2, 20.0) },
            { "name": "Initech", "score": 30.0, "lifecycle": "VISITOR", "scoreBreakdown": breakdown(3, 30.0) },
        ])
    );
    let filter = json!({ "filter": { "minScore": 45 } });
    let data = app.ok(&token, ACCOUNT_SCORES, filter).await;
    assert_eq!(data["accounts"]["nodes"], json!([]));
}
