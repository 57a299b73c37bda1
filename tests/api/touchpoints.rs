//! Recording touchpoints: idempotency, identity resolution, per-item results.

use serde_json::{Value, json};

use entity::vocab::Channel;
use journeys_core::testing::Touch;

use crate::helpers::{assert_code, create_account, create_stakeholder, input, record, spawn_app};

fn zoom(external_id: &str, kind: &str, occurred_at: &str, email: &str) -> Touch {
    Touch::new(external_id, kind, Channel::Webinar, occurred_at)
        .source("zoom")
        .email(email)
}

#[tokio::test]
async fn recording_is_idempotent_on_source_and_external_id() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let batch = json!([
        input(
            zoom(
                "w1",
                "webinar.registered",
                "2026-03-01T10:00:00Z",
                "ada@initech.com"
            )
            .person(|p| p.name = Some("Ada".into()))
        ),
        input(zoom(
            "w2",
            "webinar.attended",
            "2026-03-08T10:00:00.123456Z",
            "ada@initech.com"
        )),
    ]);
    let first = record(&app, &token, batch.clone()).await;
    assert_eq!(
        (first["created"].as_i64(), first["unchanged"].as_i64()),
        (Some(2), Some(0))
    );
    let again = record(&app, &token, batch.clone()).await;
    assert_eq!(
        (again["created"].as_i64(), again["unchanged"].as_i64()),
        (Some(0), Some(2))
    );
    assert_eq!(
        first["results"][0]["touchpoint"]["id"],
        again["results"][0]["touchpoint"]["id"]
    );

    let mut changed = batch.clone();
    changed[1]["title"] = json!("Stayed 52 minutes");
    let third = record(&app, &token, changed).await;
    assert_eq!(third["results"][0]["status"], "UNCHANGED");
    assert_eq!(third["results"][1]["status"], "UPDATED");

    // The same external id from another source is another touchpoint.
    let mut other_source = batch[0].clone();
    other_source["source"] = json!("api");
    assert_eq!(
        record(&app, &token, json!([other_source])).await["created"],
        1
    );

    let data = app
        .ok(
            &token,
            "{ touchpoints { totalCount } stakeholders { totalCount nodes { name email } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["touchpoints"]["totalCount"], 3);
    assert_eq!(
        data["stakeholders"]["nodes"],
        json!([{ "name": "Ada", "email": "ada@initech.com" }])
    );
}

#[tokio::test]
async fn people_are_resolved_by_identity_and_accounts_by_email_domain() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let initech = create_account(&app, &token, "Initech", &["initech.com"]).await;
    let ada = create_stakeholder(
        &app,
        &token,
        json!({ "name": "Ada", "email": "ada@initech.com", "identities": [{ "kind": "TWITTER_HANDLE", "value": "ada_l" }] }),
    )
    .await;
    let payload = record(
        &app,
        &token,
        json!([
            // By handle, with an @ and capitals: Ada, and Initech through her email domain.
            { "source": "twitter", "externalId": "t1", "channel": "SOCIAL", "kind": "tweet.mention",
              "occurredAt": "2026-03-01T10:00:00Z", "person": { "twitterHandle": "@Ada_L", "twitterUserId": "42" } },
            // By the twitter user id the first item gave her.
            { "source": "twitter", "externalId": "t2", "channel": "SOCIAL", "kind": "tweet.mention",
              "occurredAt": "2026-03-02T10:00:00Z", "person": { "twitterUserId": "42" } },
            // A new colleague: created, and placed at Initech by domain.
            { "source": "zendesk", "externalId": "z1", "channel": "SUPPORT", "kind": "ticket.opened",
              "occurredAt": "2026-03-03T10:00:00Z", "person": { "email": "Bob@INITECH.com", "name": "Bob" } },
            // An anonymous visitor: a person with no account.
            { "source": "web", "externalId": "v1", "channel": "WEB", "kind": "page.visited",
              "occurredAt": "2026-03-04T10:00:00Z", "person": { "anonymousId": "cookie-123" } },
            // An explicit stakeholder id.
            { "externalId": "m1", "channel": "MEETING", "kind": "meeting.held", "ownerTeam": "SALES",
              "occurredAt": "2026-03-05T10:00:00Z", "stakeholderId": ada, "actor": "sam@us.example" }
        ]),
    )
    .await;
    assert_eq!(payload["created"], 5, "{payload}");
    let results = payload["results"].as_array().unwrap();
    for i in [0, 1, 4] {
        assert_eq!(
            results[i]["touchpoint"]["stakeholder"]["id"],
            ada.as_str(),
            "item {i}"
        );
        assert_eq!(
            results[i]["touchpoint"]["account"]["id"],
            initech.as_str(),
            "item {i}"
        );
    }
    assert_eq!(
        results[2]["touchpoint"]["stakeholder"]["email"],
        "bob@initech.com"
    );
    assert_eq!(results[2]["touchpoint"]["account"]["name"], "Initech");
    assert_eq!(results[3]["touchpoint"]["account"], Value::Null);
    assert_eq!(
        results[3]["touchpoint"]["stakeholder"]["email"],
        Value::Null
    );

    let q = r#"query($id: ID!) { account(id: $id) {
        stakeholders { totalCount }
        touchpoints(first: 2) { totalCount nodes { kind } pageInfo { hasNextPage } }
    } }"#;
    let data = app.ok(&token, q, json!({ "id": initech })).await;
    assert_eq!(data["account"]["stakeholders"]["totalCount"], 2);
    assert_eq!(data["account"]["touchpoints"]["totalCount"], 4);
    assert_eq!(
        data["account"]["touchpoints"]["nodes"],
        json!([{ "kind": "meeting.held" }, { "kind": "ticket.opened" }])
    );
    assert_eq!(
        data["account"]["touchpoints"]["pageInfo"]["hasNextPage"],
        true
    );
    let data = app
        .ok(&token, "query($id: ID!) { stakeholder(id: $id) { identities { kind value } touchpoints { totalCount } } }", json!({ "id": ada }))
        .await;
    assert_eq!(data["stakeholder"]["touchpoints"]["totalCount"], 3);
    assert_eq!(
        data["stakeholder"]["identities"],
        json!([{ "kind": "EMAIL", "value": "ada@initech.com" }, { "kind": "TWITTER_HANDLE", "value": "ada_l" },
               { "kind": "TWITTER_USER_ID", "value": "42" }])
    );
}

#[tokio::test]
async fn bad_items_fail_alone_and_write_nothing() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let payload = record(
        &app,
        &token,
        json!([
            input(zoom("ok", "webinar.registered", "2026-03-01T10:00:00Z", "ada@initech.com")),
            input(zoom("bad-email", "webinar.registered", "2026-03-01T10:00:00Z", "ada@@initech")),
            input(zoom("future", "webinar.registered", "2999-01-01T00:00:00Z", "bob@initech.com")),
            input(zoom("", "webinar.registered", "2026-03-01T10:00:00Z", "cy@initech.com")),
            { "externalId": "sentiment", "channel": "WEB", "kind": "x", "occurredAt": "2026-03-01T10:00:00Z", "sentiment": 3.0 },
            { "externalId": "props", "channel": "WEB", "kind": "x", "occurredAt": "2026-03-01T10:00:00Z", "properties": [1, 2] },
        ]),
    )
    .await;
    assert_eq!(
        (payload["created"].as_i64(), payload["failed"].as_i64()),
        (Some(1), Some(5))
    );
    for i in 1..6 {
        assert_eq!(payload["results"][i]["status"], "ERROR");
        assert_eq!(
            payload["results"][i]["error"]["code"], "BAD_USER_INPUT",
            "item {i}"
        );
    }
    let data = app
        .ok(
            &token,
            "{ touchpoints { totalCount } stakeholders { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data,
        json!({ "touchpoints": { "totalCount": 1 }, "stakeholders": { "totalCount": 1 } })
    );
}

#[tokio::test]
async fn batches_over_a_thousand_are_refused_whole() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let items: Vec<Value> = (0..1001)
        .map(|i| json!({ "externalId": format!("e{i}"), "channel": "WEB", "kind": "page.visited", "occurredAt": "2026-03-01T10:00:00Z" }))
        .collect();
    let body = app
        .gql(
            &token,
            crate::helpers::RECORD,
            json!({ "input": { "touchpoints": items } }),
        )
        .await;
    assert_code(&body, "BAD_USER_INPUT");
    let data = app
        .ok(&token, "{ touchpoints { totalCount } }", json!({}))
        .await;
    assert_eq!(data["touchpoints"]["totalCount"], 0);
    // A full batch of 1,000 goes through in one call.
    let payload = record(&app, &token, json!(items[..1000])).await;
    assert_eq!(payload["created"], 1000);
}

#[tokio::test]
async fn touchpoints_filter_and_order() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let initech = create_account(&app, &token, "Initech", &["initech.com"]).await;
    record(
        &app,
        &token,
        json!([
            { "source": "twitter", "externalId": "1", "channel": "SOCIAL", "kind": "tweet.mention", "occurredAt": "2026-01-01T00:00:00Z", "person": { "email": "a@initech.com" } },
            { "source": "zoom", "externalId": "2", "channel": "WEBINAR", "kind": "webinar.attended", "occurredAt": "2026-02-01T00:00:00Z", "person": { "email": "a@initech.com" } },
            { "source": "zendesk", "externalId": "3", "channel": "SUPPORT", "kind": "ticket.opened", "occurredAt": "2026-03-01T00:00:00Z", "person": { "email": "b@elsewhere.com" } },
            { "source": "zendesk", "externalId": "4", "channel": "SUPPORT", "kind": "ticket.solved", "occurredAt": "2026-04-01T00:00:00Z", "accountId": initech }
        ]),
    )
    .await;
    let q = "query($f: TouchpointFilter, $o: TouchpointOrder) { touchpoints(filter: $f, orderBy: $o) { totalCount nodes { externalId } } }";
    let ids = |data: &Value| -> Vec<String> {
        data["touchpoints"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["externalId"].as_str().unwrap().to_owned())
            .collect()
    };
    let cases = [
        (json!({}), Value::Null, vec!["4", "3", "2", "1"]),
        (json!({}), json!("OLDEST_FIRST"), vec!["1", "2", "3", "4"]),
        (
            json!({ "accountId": initech }),
            Value::Null,
            vec!["4", "2", "1"],
        ),
        (json!({ "source": "zendesk" }), Value::Null, vec!["4", "3"]),
        (
            json!({ "channels": ["SOCIAL", "WEBINAR"] }),
            Value::Null,
            vec!["2", "1"],
        ),
        (
            json!({ "kinds": ["ticket.opened", "tweet.mention"] }),
            Value::Null,
            vec!["3", "1"],
        ),
        (
            json!({ "occurredAfter": "2026-02-01T00:00:00Z", "occurredBefore": "2026-04-01T00:00:00Z" }),
            Value::Null,
            vec!["3", "2"],
        ),
    ];
    for (filter, order, expected) in cases {
        let data = app.ok(&token, q, json!({ "f": filter, "o": order })).await;
        assert_eq!(ids(&data), expected, "filter {filter}");
        assert_eq!(data["touchpoints"]["totalCount"], expected.len());
    }
    let stakeholder = app
        .ok(
            &token,
            "{ stakeholders(filter: { search: \"b@else\" }) { nodes { id } } }",
            json!({}),
        )
        .await;
    let sid = stakeholder["stakeholders"]["nodes"][0]["id"].clone();
    let data = app
        .ok(&token, q, json!({ "f": { "stakeholderId": sid } }))
        .await;
    assert_eq!(ids(&data), ["3"]);
}

#[tokio::test]
async fn concurrent_batches_naming_the_same_new_people_all_succeed() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let batch =
        |n: usize| {
            json!((0..20)
            .map(|p| json!({
                "externalId": format!("b{n}-p{p}"), "channel": "EMAIL", "kind": "email.opened",
                "occurredAt": "2026-02-01T10:00:00Z",
                "person": { "email": format!("person{p}@shared.example") }
            }))
            .collect::<Vec<_>>())
        };
    // On PostgreSQL the batches race for the same identities; each loser retries.
    let results = futures_util::future::join_all((0..6).map(|n| {
        let (app, token, touchpoints) = (&app, &token, batch(n));
        async move { crate::helpers::record(app, token, touchpoints).await }
    }))
    .await;
    for payload in results {
        assert_eq!(payload["created"], 20, "{payload}");
        assert_eq!(payload["failed"], 0, "{payload}");
    }
    let data = app
        .ok(
            &token,
            "{ stakeholders(first: 1) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(data["stakeholders"]["totalCount"], 20);
}

#[tokio::test]
async fn a_vendor_user_id_finds_its_person_again() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let tp = |id: &str, vendor_id: &str| {
        input(
            Touch::new(id, "email.opened", Channel::Email, "2026-03-01T10:00:00Z")
                .source("hubspot")
                .person(|p| p.vendor_user_id = Some(vendor_id.into())),
        )
    };
    let first = record(&app, &token, json!([tp("e1", " HubSpot:51 ")])).await;
    let second = record(
        &app,
        &token,
        json!([tp("e2", "hubspot:51"), tp("e3", "51")]),
    )
    .await;
    let person = |p: &Value, i: usize| p["results"][i]["touchpoint"]["stakeholder"]["id"].clone();
    assert_eq!(person(&first, 0), person(&second, 0));
    assert_eq!(second["results"][1]["error"]["code"], "BAD_USER_INPUT");
    let data = app
        .ok(
            &token,
            "query($id: ID!) { stakeholder(id: $id) { identities { kind value } } }",
            json!({ "id": person(&first, 0) }),
        )
        .await;
    assert_eq!(
        data["stakeholder"]["identities"],
        json!([{ "kind": "VENDOR_USER_ID", "value": "hubspot:51" }])
    );
}

#[tokio::test]
async fn touchpoints_are_filtered_by_emotion_owner_team_and_actor() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let tp = |id: &str, emotion: Value, team: &str, actor: Value| {
        json!({ "externalId": id, "channel": "EMAIL", "kind": "email.sent",
                "occurredAt": "2026-03-01T10:00:00Z", "emotion": emotion, "ownerTeam": team,
                "actor": actor, "person": { "email": "ada@initech.com" } })
    };
    record(
        &app,
        &token,
        json!([
            tp(
                "pain-sales",
                json!("PAIN"),
                "SALES",
                json!("sam@acme.example")
            ),
            tp("fear-marketing", json!("FEAR"), "MARKETING", Value::Null),
            tp(
                "none-sales",
                Value::Null,
                "SALES",
                json!("alex@acme.example")
            ),
        ]),
    )
    .await;
    let ids = |filter: Value| {
        let app = &app;
        let token = &token;
        async move {
            let data = app
                .ok(
                    token,
                    "query($f: TouchpointFilter) { touchpoints(filter: $f, orderBy: OLDEST_FIRST) { nodes { externalId } } }",
                    json!({ "f": filter }),
                )
                .await;
            let mut ids: Vec<String> = data["touchpoints"]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["externalId"].as_str().unwrap().to_owned())
                .collect();
            ids.sort();
            ids
        }
    };
    assert_eq!(
        ids(json!({ "emotions": ["PAIN", "FEAR"] })).await,
        ["fear-marketing", "pain-sales"]
    );
    assert_eq!(
        ids(json!({ "ownerTeams": ["SALES"] })).await,
        ["none-sales", "pain-sales"]
    );
    assert_eq!(
        ids(json!({ "actor": "sam@acme.example" })).await,
        ["pain-sales"]
    );
    assert_eq!(
        ids(json!({ "ownerTeams": ["SALES"], "emotions": ["FEAR"] })).await,
        Vec::<String>::new()
    );
}
