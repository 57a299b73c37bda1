//! Consent with history, and erasure that leaves no personal data anywhere.

use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use serde_json::json;

use crate::helpers::{TestApp, assert_code, create_account, create_stakeholder, record, spawn_app};

/// Every (table, column) holding text, read from the database's own catalogue.
async fn text_columns(app: &TestApp) -> Vec<(String, String)> {
    let backend = app.db.get_database_backend();
    let mut out = Vec::new();
    match backend {
        DatabaseBackend::Sqlite => {
            let tables = app
                .db
                .query_all_raw(Statement::from_string(
                    backend,
                    "SELECT name FROM sqlite_master WHERE type = 'table'",
                ))
                .await
                .unwrap();
            for t in tables {
                let table: String = t.try_get("", "name").unwrap();
                let cols = app
                    .db
                    .query_all_raw(Statement::from_string(
                        backend,
                        format!("PRAGMA table_info(\"{table}\")"),
                    ))
                    .await
                    .unwrap();
                for c in cols {
                    let ty: String = c.try_get("", "type").unwrap();
                    let ty = ty.to_lowercase();
                    if ty.contains("char")
                        || ty.contains("text")
                        || ty.contains("json")
                        || ty.contains("clob")
                    {
                        out.push((table.clone(), c.try_get("", "name").unwrap()));
                    }
                }
            }
        }
        _ => {
            let cols = app
                .db
                .query_all_raw(Statement::from_string(
                    backend,
                    "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns
                     WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'json', 'jsonb')",
                ))
                .await
                .unwrap();
            for c in cols {
                out.push((c.try_get("", "t").unwrap(), c.try_get("", "c").unwrap()));
            }
        }
    }
    assert!(out.len() > 20, "the catalogue lists text columns: {out:?}");
    out
}

/// Every place a text column holds `needle`, case-insensitively.
async fn find_everywhere(app: &TestApp, needle: &str) -> Vec<String> {
    let backend = app.db.get_database_backend();
    let mut hits = Vec::new();
    for (table, column) in text_columns(app).await {
        let sql = format!(
            "SELECT COUNT(*) AS n FROM \"{table}\" WHERE LOWER(CAST(\"{column}\" AS TEXT)) LIKE '%{}%'",
            needle.to_lowercase()
        );
        let row = app
            .db
            .query_one_raw(Statement::from_string(backend, sql))
            .await
            .unwrap()
            .unwrap();
        let n: i64 = row.try_get("", "n").unwrap();
        if n > 0 {
            hits.push(format!("{table}.{column}"));
        }
    }
    hits
}

#[tokio::test]
async fn consent_keeps_its_history() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let ada = create_stakeholder(
        &app,
        &token,
        json!({ "name": "Ada", "email": "ada@initech.com" }),
    )
    .await;
    let set = r#"mutation($id: ID!, $g: Boolean!, $c: Channel!) { setConsent(input: { stakeholderId: $id, channel: $c, granted: $g, source: "preference centre" }) { consent { channel granted } } }"#;
    app.ok(&token, set, json!({ "id": ada, "g": true, "c": "EMAIL" }))
        .await;
    app.ok(&token, set, json!({ "id": ada, "g": true, "c": "PHONE" }))
        .await;
    app.ok(&token, set, json!({ "id": ada, "g": false, "c": "EMAIL" }))
        .await;
    let q = r#"query($id: ID!) { stakeholder(id: $id) { current: consents { channel granted source } history: consents(history: true) { channel granted } } }"#;
    let data = app.ok(&token, q, json!({ "id": ada })).await;
    assert_eq!(
        data["stakeholder"]["current"],
        json!([{ "channel": "EMAIL", "granted": false, "source": "preference centre" }, { "channel": "PHONE", "granted": true, "source": "preference centre" }])
    );
    assert_eq!(data["stakeholder"]["history"].as_array().unwrap().len(), 3);
    let bad = app
        .gql(&token, r#"mutation($id: ID!) { setConsent(input: { stakeholderId: $id, channel: EMAIL, granted: true, source: " " }) { consent { granted } } }"#, json!({ "id": ada }))
        .await;
    assert_code(&bad, "BAD_USER_INPUT");
}

#[tokio::test]
async fn erasure_leaves_no_personal_data_and_keeps_the_counts() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    create_account(&app, &token, "Initech", &["initech.com"]).await;
    let email = "ada.lovelace@initech.com";
    let ada = create_stakeholder(
        &app,
        &token,
        json!({ "name": "Ada Lovelace", "email": email, "title": "CTO",
                "identities": [{ "kind": "TWITTER_HANDLE", "value": "ada_lovelace" }] }),
    )
    .await;
    let duplicate = create_stakeholder(&app, &token, json!({ "name": "Ada Lovelace (twitter)", "identities": [{ "kind": "PHONE", "value": "+44 20 7946 0000" }] })).await;
    // The duplicate's own history, which the merge keeps aside, names her too.
    app.ok(
        &token,
        r#"mutation($id: ID!) { disqualifyLead(input: { id: $id, reason: "Ada Lovelace twice" }) { stakeholder { lifecycle } } }"#,
        json!({ "id": duplicate }),
    )
    .await;
    app.ok(
        &token,
        "mutation($s: ID!, $o: [ID!]!) { mergeStakeholders(input: { survivorId: $s, stakeholderIds: $o }) { merge { id } } }",
        json!({ "s": ada, "o": [duplicate] }),
    )
    .await;
    app.ok(
        &token,
        r#"mutation($id: ID!) { setConsent(input: { stakeholderId: $id, channel: EMAIL, granted: true, source: "signup form" }) { consent { granted } } }"#,
        json!({ "id": ada }),
    )
    .await;
    // Sales' reason names her.
    app.ok(
        &token,
        r#"mutation($id: ID!) { disqualifyLead(input: { id: $id, reason: "Ada Lovelace has no budget" }) { stakeholder { lifecycle } } }"#,
        json!({ "id": ada }),
    )
    .await;
    record(
        &app,
        &token,
        json!([
            { "source": "zendesk", "externalId": "z1", "channel": "SUPPORT", "kind": "ticket.opened", "occurredAt": "2026-04-01T00:00:00Z",
              "title": "Ada Lovelace cannot log in", "body": format!("Reply to {email}"), "url": "https://help.example/ada.lovelace",
              "properties": { "requester": email }, "person": { "email": email } },
            { "source": "survey", "externalId": "n1", "channel": "EMAIL", "kind": "nps.responded", "occurredAt": "2026-04-02T00:00:00Z",
              "score": 3, "body": "Ada Lovelace says: too slow", "person": { "email": email } },
            { "source": "twitter", "externalId": "t1", "channel": "SOCIAL", "kind": "tweet.mention", "occurredAt": "2026-04-03T00:00:00Z",
              "person": { "twitterHandle": "ada_lovelace" } },
            // As Zoom's connector keys a guest's attendance.
            { "source": "zoom", "externalId": format!("attended:81:email:{email}"), "channel": "WEBINAR", "kind": "webinar.attended",
              "occurredAt": "2026-04-04T00:00:00Z", "person": { "email": email } }
        ]),
    )
    .await;
    let counts = r#"{ touchpoints { totalCount } stakeholders { totalCount }
        nps(from: "2026-01-01T00:00:00Z", to: "2026-12-01T00:00:00Z") { responses detractors score } }"#;
    let before = app.ok(&token, counts, json!({})).await;
    let funnel_q = r#"query($m: ID!) { funnel(modelId: $m, from: "2026-01-01T00:00:00Z", to: "2026-12-01T00:00:00Z") { stages { entered movedOn } } }"#;
    let model =
        app.ok(&token, "{ journeyModels { id } }", json!({})).await["journeyModels"][0]["id"]
            .clone();
    let funnel_before = app.ok(&token, funnel_q, json!({ "m": model })).await;
    for needle in [email, "Ada Lovelace", "ada_lovelace", "+442079460000"] {
        assert!(
            !find_everywhere(&app, needle).await.is_empty(),
            "{needle} is stored before erasure"
        );
    }

    let erase = r#"mutation($id: ID!) { eraseStakeholder(input: { stakeholderId: $id }) { stakeholder { name email erasedAt identities { value } } } }"#;
    let data = app.ok(&token, erase, json!({ "id": ada })).await;
    let erased = &data["eraseStakeholder"]["stakeholder"];
    assert_eq!(
        (erased["name"].clone(), erased["email"].clone()),
        (json!(null), json!(null))
    );
    assert!(erased["erasedAt"].is_string());
    assert_eq!(erased["identities"], json!([]));

    for needle in [
        email,
        "Ada Lovelace",
        "ada_lovelace",
        "+442079460000",
        "ada.lovelace",
    ] {
        assert_eq!(
            find_everywhere(&app, needle).await,
            Vec::<String>::new(),
            "{needle} survived erasure"
        );
    }
    assert_eq!(
        app.ok(&token, counts, json!({})).await,
        before,
        "counts and NPS totals are unchanged"
    );
    assert_eq!(
        app.ok(&token, funnel_q, json!({ "m": model })).await,
        funnel_before
    );
    // The same touchpoints delivered again (a connector's next pull, a
    // retry) neither refill them nor bring Ada back by her email.
    let again = record(
        &app,
        &token,
        json!([
            { "source": "zendesk", "externalId": "z1", "channel": "SUPPORT", "kind": "ticket.opened", "occurredAt": "2026-04-01T00:00:00Z",
              "title": "Ada Lovelace cannot log in", "properties": { "requester": email }, "person": { "email": email } },
            { "source": "zoom", "externalId": format!("attended:81:email:{email}"), "channel": "WEBINAR", "kind": "webinar.attended",
              "occurredAt": "2026-04-04T00:00:00Z", "properties": { "minutes_attended": 40 }, "person": { "email": email } }
        ]),
    )
    .await;
    assert_eq!(
        [&again["created"], &again["updated"], &again["unchanged"]],
        [0, 0, 2]
    );
    // Nor tell the caller whose they were: no touchpoint, no person id.
    for result in again["results"].as_array().unwrap() {
        assert_eq!(
            (&result["status"], &result["touchpoint"]),
            (&json!("UNCHANGED"), &json!(null)),
            "{result}"
        );
    }
    assert_eq!(find_everywhere(&app, email).await, Vec::<String>::new());
    assert_eq!(app.ok(&token, counts, json!({})).await, before);
    let writer = app.token(
        "acme",
        &[
            journeys_api::auth::Scope::Read,
            journeys_api::auth::Scope::Write,
        ],
    );
    assert_code(
        &app.gql(&writer, erase, json!({ "id": ada })).await,
        "FORBIDDEN",
    );
}

/// The digest erasure once stored: a bare SHA-256 of workspace, source and
/// external id, which anyone holding a dump can test guesses against.
fn bare_digest(ws: uuid::Uuid, source: &str, external_id: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(ws.as_bytes())
        .chain_update(source.as_bytes())
        .chain_update([0])
        .chain_update(external_id.as_bytes())
        .finalize();
    hex::encode(digest)
}

#[tokio::test]
async fn an_erased_external_id_cannot_be_found_by_hashing_a_guess() {
    let app = spawn_app().await;
    let ws = app.workspace("acme").await;
    let token = app.admin("acme");
    let email = "ada@initech.com";
    let id = format!("attended:81:email:{email}");
    let zoom = json!([{ "source": "zoom", "externalId": id, "channel": "WEBINAR", "kind": "webinar.attended",
        "occurredAt": "2026-04-04T00:00:00Z", "person": { "email": email } }]);
    let first = record(&app, &token, zoom.clone()).await;
    let ada = first["results"][0]["touchpoint"]["stakeholder"]["id"].clone();
    app.ok(
        &token,
        "mutation($id: ID!) { eraseStakeholder(input: { stakeholderId: $id }) { stakeholder { erasedAt } } }",
        json!({ "id": ada }),
    )
    .await;
    let listed = app
        .ok(
            &token,
            "{ touchpoints { nodes { externalId } } }",
            json!({}),
        )
        .await;
    let stored = listed["touchpoints"]["nodes"][0]["externalId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(stored.starts_with("erased:"), "{stored}");
    let guess = bare_digest(ws, "zoom", &id);
    assert_ne!(stored, format!("erased:{guess}"));
    assert_eq!(find_everywhere(&app, &guess).await, Vec::<String>::new());
    // The keyed digest still finds the next delivery.
    let again = record(&app, &token, zoom).await;
    assert_eq!(
        (&again["unchanged"], &again["results"][0]["touchpoint"]),
        (&json!(1), &json!(null))
    );
    let count = app
        .ok(&token, "{ touchpoints { totalCount } }", json!({}))
        .await;
    assert_eq!(count["touchpoints"]["totalCount"], 1);
}

#[tokio::test]
async fn merging_with_an_erased_person_is_a_conflict() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let ada = create_stakeholder(
        &app,
        &token,
        json!({ "name": "Ada", "email": "ada@initech.com" }),
    )
    .await;
    let grace = create_stakeholder(
        &app,
        &token,
        json!({ "name": "Grace", "email": "grace@initech.com" }),
    )
    .await;
    app.ok(
        &token,
        "mutation($id: ID!) { eraseStakeholder(input: { stakeholderId: $id }) { stakeholder { erasedAt } } }",
        json!({ "id": ada }),
    )
    .await;
    let merge = "mutation($s: ID!, $o: [ID!]!) { mergeStakeholders(input: { survivorId: $s, stakeholderIds: $o }) { merge { id } } }";
    for (survivor, other) in [(&ada, &grace), (&grace, &ada)] {
        let body = app
            .gql(&token, merge, json!({ "s": survivor, "o": [other] }))
            .await;
        assert_code(&body, "CONFLICT");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("erased"),
            "{body}"
        );
    }
    let grace_now = app
        .ok(
            &token,
            "query($id: ID!) { stakeholder(id: $id) { email } }",
            json!({ "id": grace }),
        )
        .await;
    assert_eq!(grace_now["stakeholder"]["email"], "grace@initech.com");
}
