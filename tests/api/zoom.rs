//! The Zoom webinars connector against a local server speaking Zoom's REST
//! API v2 (Server-to-Server OAuth, `next_page_token` pages, registrants by
//! `status`, past webinar participants, absentees, Q&A and polls) and its
//! signed webhooks.

use hmac::{KeyInit, Mac};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, path_regex, query_param, query_param_is_missing};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

use crate::connectors::{counts, create, external_ids, sync};
use crate::helpers::{TestApp, create_account, spawn_app, sync_runs};

const ACCOUNT_ID: &str = "lAAAAAAAAAAAAA";
const WEBHOOK_SECRET: &str = "zoom-webhook-s3cret";
/// Ended long ago.
const LAUNCH: i64 = 81234567890;
/// Far in the future.
const ROADMAP: i64 = 89876543210;
/// The launch's poll.
const POLL: &str = "q8XQb2lNRp2nvtYQcvxyaA";

/// A request for one page of a list under `/v2`, with the renewed token.
fn page_request(endpoint: String, token: Option<&str>) -> MockBuilder {
    let builder = Mock::given(method("GET"))
        .and(path(format!("/v2{endpoint}")))
        .and(query_param("page_size", "300"))
        .and(header("authorization", "Bearer tok-2"));
    match token {
        Some(token) => builder.and(query_param("next_page_token", token)),
        None => builder.and(query_param_is_missing("next_page_token")),
    }
}

fn page(endpoint: String, token: Option<&str>, body: Value) -> Mock {
    page_request(endpoint, token).respond_with(ResponseTemplate::new(200).set_body_json(body))
}

/// A registrants list request for `status`: Zoom lists the approved ones
/// when `status` is absent (the connector sends none for them) or
/// `approved`, and the others only with `status=pending` or `status=denied`.
fn with_status(status: &'static str) -> impl Fn(&wiremock::Request) -> bool + Send + Sync {
    move |request: &wiremock::Request| {
        query_value(request, "status")
            .as_deref()
            .unwrap_or("approved")
            == status
    }
}

/// One page of `webinar`'s registrants with `status`.
fn registrants_page(webinar: i64, status: &'static str, token: Option<&str>, body: Value) -> Mock {
    page_request(format!("/webinars/{webinar}/registrants"), token)
        .and(with_status(status))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
}

/// Nobody pending and nobody denied: the two lists, empty.
async fn mount_no_pending_or_denied(server: &MockServer, webinar: i64) {
    for status in ["pending", "denied"] {
        registrants_page(webinar, status, None, list("registrants", "", vec![]))
            .mount(server)
            .await;
    }
}

/// The launch's Q&A (`list` = `qa`) or poll answers (`polls`), unpaged as
/// Zoom documents them.
fn launch_answers(list: &str, questions: Vec<Value>) -> Mock {
    Mock::given(method("GET"))
        .and(path(format!("/v2/past_webinars/{LAUNCH}/{list}")))
        .and(header("authorization", "Bearer tok-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": LAUNCH, "uuid": format!("{LAUNCH}uuid=="),
            "start_time": "2024-02-01T12:00:00Z", "questions": questions
        })))
}

fn webinar(id: i64, topic: &str, start_time: &str) -> Value {
    json!({
        "uuid": format!("{id}uuid=="), "id": id, "host_id": "x1yCzABCDEfg23HiJKl4mN",
        "topic": topic, "type": 5, "start_time": start_time, "duration": 60,
        "timezone": "UTC", "created_at": "2024-01-10T08:00:00Z",
        "join_url": format!("https://example.zoom.us/j/{id}")
    })
}

fn registrant(id: &str, first: &str, email: &str, org: &str, job_title: &str) -> Value {
    json!({
        "id": id, "first_name": first, "last_name": "Tester", "email": email,
        "address": "", "city": "", "country": "US", "zip": "", "state": "", "phone": "",
        "industry": "Food", "org": org, "job_title": job_title,
        "purchasing_time_frame": "1-3 months", "role_in_purchase_process": "Influencer",
        "no_of_employees": "1-20", "comments": "", "custom_questions": [],
        "status": "approved", "create_time": "2024-01-20T09:15:00Z",
        "join_url": format!("https://example.zoom.us/w/{id}")
    })
}

fn jill() -> Value {
    registrant(
        "jill-r",
        "Jill",
        "jill@cooking.example",
        "Cooking Org",
        "Head Chef",
    )
}
fn bob() -> Value {
    registrant("bob-r", "Bob", "bob@builders.example", "", "")
}
/// Awaiting the host's approval.
fn dana() -> Value {
    let mut dana = registrant(
        "dana-r",
        "Dana",
        "dana@cooking.example",
        "Cooking Org",
        "Sous Chef",
    );
    dana["status"] = json!("pending");
    dana["create_time"] = json!("2024-01-25T16:40:00Z");
    dana
}

fn list(key: &str, next: &str, items: Vec<Value>) -> Value {
    json!({ "page_size": 300, "total_records": items.len(), "next_page_token": next, key: items })
}

fn stay(registrant_id: &str, email: &str, join: &str, leave: &str, seconds: u64) -> Value {
    json!({
        "id": "30R7kT7bTIKSNUFEuH_Qlg", "name": email, "user_id": "27423744",
        "registrant_id": registrant_id, "user_email": email, "join_time": join,
        "leave_time": leave, "duration": seconds, "status": "in_meeting", "internal_user": false
    })
}

/// The documented Server-to-Server OAuth token request, from this app.
fn token_request() -> MockBuilder {
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(query_param("grant_type", "account_credentials"))
        .and(query_param("account_id", ACCOUNT_ID))
        // base64("zoom-client:zoom-s3cret"), worked out by hand.
        .and(header(
            "authorization",
            "Basic em9vbS1jbGllbnQ6em9vbS1zM2NyZXQ=",
        ))
}

fn grant(token: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "access_token": token, "token_type": "bearer", "expires_in": 3600,
        "scope": "webinar:read:admin report:read:admin"
    }))
}

/// Zoom as the first sync sees it, but for the participants' second page:
/// the launch (ended) with approved registrants on two pages, Dana pending,
/// nobody denied, its participants, absentees, one answered question (and an
/// anonymous one) and one poll answer; the roadmap (upcoming) with Erin. The
/// first access token is revoked: every call with it is a 401, so the
/// connector must fetch a new one.
async fn mount_zoom(server: &MockServer) {
    token_request()
        .respond_with(grant("tok-1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server)
        .await;
    token_request()
        .respond_with(grant("tok-2"))
        .with_priority(2)
        .mount(server)
        .await;
    Mock::given(path_regex("^/v2/"))
        .and(header("authorization", "Bearer tok-1"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"code": 124, "message": "Invalid access token."})),
        )
        .with_priority(1)
        .mount(server)
        .await;

    let webinars = vec![
        webinar(LAUNCH, "Launch", "2024-02-01T12:00:00Z"),
        webinar(ROADMAP, "Roadmap", "2099-03-01T17:00:00Z"),
    ];
    page(
        "/users/me/webinars".into(),
        None,
        list("webinars", "", webinars),
    )
    .mount(server)
    .await;
    // Bob is on both pages: Zoom's pages shift as people register.
    registrants_page(
        LAUNCH,
        "approved",
        None,
        list("registrants", "ra-2", vec![jill(), bob()]),
    )
    .mount(server)
    .await;
    let carol = registrant("carol-r", "Carol", "carol@cooking.example", "", "");
    registrants_page(
        LAUNCH,
        "approved",
        Some("ra-2"),
        list("registrants", "", vec![bob(), carol]),
    )
    .mount(server)
    .await;
    registrants_page(
        LAUNCH,
        "pending",
        None,
        list("registrants", "", vec![dana()]),
    )
    .mount(server)
    .await;
    registrants_page(LAUNCH, "denied", None, list("registrants", "", vec![]))
        .mount(server)
        .await;
    // Jill left and rejoined; her stays are on both pages.
    page(
        format!("/past_webinars/{LAUNCH}/participants"),
        None,
        list(
            "participants",
            "pa-2",
            vec![stay(
                "jill-r",
                "jill@cooking.example",
                "2024-02-01T12:01:00Z",
                "2024-02-01T12:21:00Z",
                1200,
            )],
        ),
    )
    .mount(server)
    .await;
    page(
        format!("/past_webinars/{LAUNCH}/absentees"),
        None,
        list("registrants", "", vec![bob()]),
    )
    .mount(server)
    .await;
    // Zoom gives no time for questions; an anonymous asker has no email.
    launch_answers(
        "qa",
        vec![
            json!({"name": "Jill Tester", "email": "jill@cooking.example", "question_details": [
                {"question": "Does it ship with recipes?", "answer": "Yes, fifty of them."}
            ]}),
            json!({"name": "Anonymous Attendee", "email": "", "question_details": [
                {"question": "Is there a discount?", "answer": ""}
            ]}),
        ],
    )
    .mount(server)
    .await;
    // Two choices of a multiple-choice question, in one string.
    launch_answers(
        "polls",
        vec![
            json!({"name": "Carol Tester", "email": "carol@cooking.example", "question_details": [
                {"question": "Which cuisines do you cook?", "answer": "Italian;Thai",
                 "date_time": "2024-02-01 12:30:05", "polling_id": POLL}
            ]}),
        ],
    )
    .mount(server)
    .await;
    let erin = registrant("erin-r", "Erin", "erin@early.example", "", "");
    registrants_page(
        ROADMAP,
        "approved",
        None,
        list("registrants", "", vec![erin]),
    )
    .mount(server)
    .await;
    mount_no_pending_or_denied(server, ROADMAP).await;
}

/// The participants' second page: Jill's second stay and Carol.
fn second_participants_page() -> Mock {
    page(
        format!("/past_webinars/{LAUNCH}/participants"),
        Some("pa-2"),
        list(
            "participants",
            "",
            vec![
                stay(
                    "jill-r",
                    "jill@cooking.example",
                    "2024-02-01T12:40:00Z",
                    "2024-02-01T12:55:10Z",
                    910,
                ),
                stay(
                    "carol-r",
                    "carol@cooking.example",
                    "2024-02-01T12:05:00Z",
                    "2024-02-01T12:06:00Z",
                    60,
                ),
            ],
        ),
    )
}

fn zoom_input(server: &MockServer) -> Value {
    json!({
        "kind": "zoom", "name": "Webinars",
        "config": {
            "base_url": format!("{}/v2", server.uri()),
            "oauth_url": format!("{}/oauth/token", server.uri()),
            "account_id": ACCOUNT_ID, "user_id": "me"
        },
        "secrets": {
            "client_id": "zoom-client", "client_secret": "zoom-s3cret",
            "webhook_secret_token": WEBHOOK_SECRET
        }
    })
}

/// Requests for `endpoint` (under `/v2`) that Zoom answered: those with
/// the renewed token (the revoked one only ever gets a 401).
async fn requests_to(server: &MockServer, endpoint: &str) -> usize {
    let full = format!("/v2{endpoint}");
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| {
            r.url.path() == full
                && r.headers
                    .get("authorization")
                    .is_some_and(|v| v == "Bearer tok-2")
        })
        .count()
}

/// The one id of `ids` starting with `prefix`, checked to end in the 16 hex
/// digits that stand in for a question's id.
fn digested(ids: &[String], prefix: &str) -> String {
    let found: Vec<&String> = ids.iter().filter(|id| id.starts_with(prefix)).collect();
    assert_eq!(found.len(), 1, "{prefix}: {ids:?}");
    let digest = &found[0][prefix.len()..];
    assert!(
        digest.len() == 16 && digest.chars().all(|c| c.is_ascii_hexdigit()),
        "{}",
        found[0]
    );
    found[0].clone()
}

/// Zoom's webhook signature, computed here with the `hmac` crate:
/// `v0=` + hex(HMAC-SHA256(secret token, "v0:{timestamp}:{body}")).
fn zoom_signature(timestamp: i64, body: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(WEBHOOK_SECRET.as_bytes()).unwrap();
    mac.update(format!("v0:{timestamp}:{body}").as_bytes());
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

#[tokio::test]
async fn webinars_sync_into_stakeholders_and_accounts_and_webhooks_match_the_pull() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let cooking = create_account(&app, &token, "Cooking Org", &[]).await;
    let server = MockServer::start().await;
    mount_zoom(&server).await;
    second_participants_page().mount(&server).await;
    let connector = create(&app, &token, zoom_input(&server)).await;
    let id = connector["id"].as_str().unwrap();

    let run = sync(&app, &token, id).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    // Batches: the webinar list; for the launch, two approved pages (Jill,
    // Bob | Bob, Carol), the pending list (Dana), the denied list (empty),
    // the participants folded (Jill, Carol), the absentees (Bob), the Q&A
    // (Jill's question; the anonymous one is left out) and the polls
    // (Carol's answer); for the roadmap, its approved (Erin), pending and
    // denied lists (empty). 1 + 8 + 3 = 12 batches and 2 + 2 + 1 + 2 + 1 +
    // 1 + 1 + 1 = 11 touchpoints; Bob's second registration is unchanged.
    assert_eq!(counts(&run), [11, 10, 0, 1, 0, 12]);
    let ids = external_ids(&app, &token, "zoom").await;
    // Zoom gives questions no id: 16 hex digits of a digest stand in.
    let poll_answered = digested(
        &ids,
        &format!("poll_answered:{LAUNCH}:{POLL}:carol@cooking.example:"),
    );
    let question_asked = digested(
        &ids,
        &format!("question_asked:{LAUNCH}:jill@cooking.example:"),
    );
    assert_eq!(
        ids,
        [
            format!("attended:{LAUNCH}:registrant:carol-r"),
            format!("attended:{LAUNCH}:registrant:jill-r"),
            format!("missed:{LAUNCH}:bob-r"),
            poll_answered.clone(),
            question_asked.clone(),
            format!("registered:{LAUNCH}:bob-r"),
            format!("registered:{LAUNCH}:carol-r"),
            format!("registered:{LAUNCH}:jill-r"),
            format!("registered:{ROADMAP}:erin-r"),
            format!("registration_pending:{LAUNCH}:dana-r"),
        ]
    );

    // Jill is enriched from her registration and lands in the account of her
    // organisation; her two stays are one attendance of 20 + 15 min 10 s.
    let data = app
        .ok(
            &token,
            r#"{ touchpoints(filter: {source: "zoom"}, first: 50) { nodes {
                externalId kind channel occurredAt properties
                stakeholder { name email title } account { id name } } } }"#,
            json!({}),
        )
        .await;
    let nodes = data["touchpoints"]["nodes"].as_array().unwrap();
    let find = |external_id: String| {
        nodes
            .iter()
            .find(|t| t["externalId"] == external_id.as_str())
            .unwrap()
            .clone()
    };
    assert!(nodes.iter().all(|t| t["channel"] == "WEBINAR"));
    let attended = find(format!("attended:{LAUNCH}:registrant:jill-r"));
    assert_eq!(attended["kind"], "webinar.attended");
    assert_eq!(attended["occurredAt"], "2024-02-01T12:01:00+00:00");
    assert_eq!(attended["properties"]["minutes_attended"], 35);
    assert_eq!(attended["properties"]["stays"], 2);
    assert_eq!(
        attended["stakeholder"],
        json!({"name": "Jill Tester", "email": "jill@cooking.example", "title": "Head Chef"})
    );
    assert_eq!(attended["account"]["id"], cooking.as_str());
    let missed = find(format!("missed:{LAUNCH}:bob-r"));
    assert_eq!(missed["kind"], "webinar.missed");
    assert_eq!(missed["occurredAt"], "2024-02-01T12:00:00+00:00");
    assert_eq!(missed["stakeholder"]["email"], "bob@builders.example");
    let registered = find(format!("registered:{LAUNCH}:jill-r"));
    assert_eq!(
        registered["properties"]["purchasing_time_frame"],
        "1-3 months"
    );
    // Dana awaits approval: her registration is its own kind, at its time,
    // and she too lands in her organisation's account.
    let pending = find(format!("registration_pending:{LAUNCH}:dana-r"));
    assert_eq!(pending["kind"], "webinar.registration_pending");
    assert_eq!(pending["occurredAt"], "2024-01-25T16:40:00+00:00");
    assert_eq!(
        pending["stakeholder"],
        json!({"name": "Dana Tester", "email": "dana@cooking.example", "title": "Sous Chef"})
    );
    assert_eq!(pending["account"]["id"], cooking.as_str());
    // Jill's question, at the webinar's start, with the host's answer.
    let question = find(question_asked);
    assert_eq!(question["kind"], "webinar.question_asked");
    assert_eq!(question["occurredAt"], "2024-02-01T12:00:00+00:00");
    assert_eq!(
        question["properties"]["question"],
        "Does it ship with recipes?"
    );
    assert_eq!(question["properties"]["answer"], "Yes, fifty of them.");
    assert_eq!(question["stakeholder"]["email"], "jill@cooking.example");
    // Carol's poll answer, at the time she answered.
    let poll = find(poll_answered);
    assert_eq!(poll["kind"], "webinar.poll_answered");
    assert_eq!(poll["occurredAt"], "2024-02-01T12:30:05+00:00");
    assert_eq!(poll["properties"]["poll_id"], POLL);
    assert_eq!(
        poll["properties"]["question"],
        "Which cuisines do you cook?"
    );
    assert_eq!(poll["properties"]["answer"], "Italian;Thai");
    assert_eq!(poll["stakeholder"]["email"], "carol@cooking.example");
    let data = app
        .ok(
            &token,
            "{ accounts(first: 10) { nodes { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["accounts"]["nodes"].as_array().unwrap().len(),
        1,
        "Jill's organisation matched the existing account: {data}"
    );

    // The next run skips the finished webinar: its participants, Q&A and
    // polls are never fetched again; the upcoming one's three registrant
    // lists are read again (Erin unchanged): the list and 3 batches.
    let again = sync(&app, &token, id).await;
    assert_eq!(again["status"], "SUCCEEDED", "{again}");
    assert_eq!(counts(&again), [1, 0, 0, 1, 0, 4]);
    let participant_calls = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == format!("/v2/past_webinars/{LAUNCH}/participants"))
        .count();
    assert_eq!(
        participant_calls, 2,
        "one call per page, in the first run only"
    );
    for list in ["qa", "polls"] {
        assert_eq!(
            requests_to(&server, &format!("/past_webinars/{LAUNCH}/{list}")).await,
            1,
            "{list}: one call, in the first run only"
        );
    }

    let webhook = app.url(connector["webhookPath"].as_str().unwrap());
    let post = |body: String, timestamp: i64, signature: String| {
        app.client
            .post(&webhook)
            .header("content-type", "application/json")
            .header("x-zm-request-timestamp", timestamp.to_string())
            .header("x-zm-signature", signature)
            .body(body)
            .send()
    };
    let now = chrono::Utc::now().timestamp();

    // URL validation: the plain token, and its HMAC under the secret token.
    let body = json!({
        "event": "endpoint.url_validation", "event_ts": now * 1000,
        "payload": { "plainToken": "qgg8vlvZRS6UYooatFL8Aw" }
    })
    .to_string();
    let res = post(body.clone(), now, zoom_signature(now, &body))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let answer: Value = res.json().await.unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(WEBHOOK_SECRET.as_bytes()).unwrap();
    mac.update(b"qgg8vlvZRS6UYooatFL8Aw");
    assert_eq!(
        answer,
        json!({
            "plainToken": "qgg8vlvZRS6UYooatFL8Aw",
            "encryptedToken": hex::encode(mac.finalize().into_bytes())
        })
    );

    // A registration already pulled adds nothing; a new one is recorded
    // under the pull's external id.
    let registration = |registrant: Value| {
        json!({
            "event": "webinar.registration_created", "event_ts": now * 1000,
            "payload": { "account_id": ACCOUNT_ID, "object": {
                "uuid": "roadmapuuid==", "id": ROADMAP.to_string(), "host_id": "x1yCzABCDEfg23HiJKl4mN",
                "topic": "Roadmap", "type": 5, "start_time": "2099-03-01T17:00:00Z", "duration": 60,
                "timezone": "UTC", "registrant": registrant
            } }
        })
        .to_string()
    };
    for registrant in [
        registrant("erin-r", "Erin", "erin@early.example", "", ""),
        registrant("finn-r", "Finn", "finn@cooking.example", "", ""),
    ] {
        let body = registration(registrant);
        let res = post(body.clone(), now, zoom_signature(now, &body))
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    // Tampered, and stale (signed correctly, ten minutes ago): refused.
    let body = registration(registrant("gus-r", "Gus", "gus@x.example", "", ""));
    let res = post(body.clone(), now, zoom_signature(now, "{}"))
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let res = post(body.clone(), now - 600, zoom_signature(now - 600, &body))
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    // A late join delivery knows no minutes: it keeps the pull's.
    let body = json!({
        "event": "webinar.participant_joined", "event_ts": now * 1000,
        "payload": { "account_id": ACCOUNT_ID, "object": {
            "uuid": "launchuuid==", "id": LAUNCH.to_string(), "host_id": "x1yCzABCDEfg23HiJKl4mN",
            "topic": "Launch", "type": 5, "start_time": "2024-02-01T12:00:00Z", "duration": 60,
            "timezone": "UTC", "participant": {
                "user_id": "16778240", "user_name": "Jill Tester", "id": "iFxeBPYun6SAiWUzBcEkX",
                "join_time": "2024-02-01T12:01:00Z", "email": "jill@cooking.example",
                "registrant_id": "jill-r", "participant_user_id": "rstuvwxyza789-cde"
            }
        } }
    })
    .to_string();
    let res = post(body.clone(), now, zoom_signature(now, &body))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // Jill's first departure is a touchpoint of its own, at the leave time
    // (2024-02-01T12:21:00Z is 1706790060, worked out by hand); Zoom's
    // redelivery of it adds nothing, and it leaves the pull's attendance be.
    let body = json!({
        "event": "webinar.participant_left", "event_ts": now * 1000,
        "payload": { "account_id": ACCOUNT_ID, "object": {
            "uuid": "launchuuid==", "id": LAUNCH.to_string(), "host_id": "x1yCzABCDEfg23HiJKl4mN",
            "topic": "Launch", "type": 5, "start_time": "2024-02-01T12:00:00Z", "duration": 60,
            "timezone": "UTC", "participant": {
                "user_id": "16778240", "user_name": "Jill Tester", "id": "iFxeBPYun6SAiWUzBcEkX",
                "leave_time": "2024-02-01T12:21:00Z", "leave_reason": "Jill Tester left the webinar.",
                "email": "jill@cooking.example", "registrant_id": "jill-r",
                "participant_user_id": "rstuvwxyza789-cde"
            }
        } }
    })
    .to_string();
    for _delivery in 0..2 {
        let res = post(body.clone(), now, zoom_signature(now, &body))
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    let data = app
        .ok(
            &token,
            r#"{ touchpoints(filter: {source: "zoom"}, first: 50) { nodes {
                externalId kind occurredAt properties stakeholder { email } } } }"#,
            json!({}),
        )
        .await;
    let nodes = data["touchpoints"]["nodes"].as_array().unwrap();
    let find = |external_id: String| {
        nodes
            .iter()
            .find(|t| t["externalId"] == external_id.as_str())
            .unwrap()
            .clone()
    };
    let attended = find(format!("attended:{LAUNCH}:registrant:jill-r"));
    assert_eq!(attended["properties"]["minutes_attended"], 35, "{attended}");
    assert_eq!(attended["properties"]["stays"], 2, "{attended}");
    assert_eq!(attended["occurredAt"], "2024-02-01T12:01:00+00:00");
    let left = find(format!("left:{LAUNCH}:registrant:jill-r:1706790060"));
    assert_eq!(left["kind"], "webinar.left");
    assert_eq!(left["occurredAt"], "2024-02-01T12:21:00+00:00");
    assert_eq!(left["stakeholder"]["email"], "jill@cooking.example");

    // The pull's 10, Finn's registration and Jill's departure.
    let ids = external_ids(&app, &token, "zoom").await;
    assert_eq!(ids.len(), 12, "{ids:?}");
    assert!(ids.contains(&format!("registered:{ROADMAP}:finn-r")));
    assert!(!ids.iter().any(|id| id.contains("gus-r")));
}

#[tokio::test]
async fn a_sync_killed_mid_webinar_resumes_with_nothing_lost_or_doubled() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let server = MockServer::start().await;
    mount_zoom(&server).await;
    // The participants' second page dies mid-body, for now.
    let broken = page_request(
        format!("/past_webinars/{LAUNCH}/participants"),
        Some("pa-2"),
    )
    .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"participants":[{"id":"#))
    .mount_as_scoped(&server)
    .await;
    let id = create(&app, &token, zoom_input(&server)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let failed = sync(&app, &token, &id).await;
    assert_eq!(failed["status"], "FAILED", "{failed}");
    assert_eq!(failed["errorCode"], "CONNECTOR_MALFORMED");
    // Saved: the webinar list, both approved pages (Bob twice), the pending
    // list (Dana) and the denied one (empty).
    assert_eq!(counts(&failed), [5, 4, 0, 1, 0, 5], "{failed}");

    drop(broken);
    second_participants_page().mount(&server).await;
    let resumed = sync(&app, &token, &id).await;
    assert_eq!(resumed["status"], "SUCCEEDED", "{resumed}");
    // The attendances (Jill, Carol), the absentee, Jill's question, Carol's
    // poll answer, then the roadmap's three lists (Erin, nobody, nobody).
    assert_eq!(counts(&resumed), [6, 6, 0, 0, 0, 7], "{resumed}");
    assert_eq!(external_ids(&app, &token, "zoom").await.len(), 10);
    // The resumed run picked up at the participants: neither the webinar
    // list nor the launch's registrants (two approved pages, the pending and
    // the denied list, all in the first run) were read again.
    assert_eq!(requests_to(&server, "/users/me/webinars").await, 1);
    assert_eq!(
        requests_to(&server, &format!("/webinars/{LAUNCH}/registrants")).await,
        4
    );
}

const CLIENT_SECRET: &str = "zoom-s3cret";
const REGISTRANTS_PAGE_2: &str = "ra-2";

/// The upcoming webinar's approved registrants: Jill and Bob, then Bob again
/// and Carol.
fn roadmap_registrants() -> [Mock; 2] {
    let carol = registrant("carol-r", "Carol", "carol@cooking.example", "", "");
    [
        registrants_page(
            ROADMAP,
            "approved",
            None,
            list("registrants", REGISTRANTS_PAGE_2, vec![jill(), bob()]),
        ),
        registrants_page(
            ROADMAP,
            "approved",
            Some(REGISTRANTS_PAGE_2),
            list("registrants", "", vec![bob(), carol]),
        ),
    ]
}

/// Zoom with one upcoming webinar, its two approved registrant pages and
/// empty pending and denied lists, and a token endpoint that grants `tok-2`
/// every time.
async fn mount_roadmap(server: &MockServer) {
    token_request()
        .respond_with(grant("tok-2"))
        .mount(server)
        .await;
    page(
        "/users/me/webinars".into(),
        None,
        list(
            "webinars",
            "",
            vec![webinar(ROADMAP, "Roadmap", "2099-03-01T17:00:00Z")],
        ),
    )
    .mount(server)
    .await;
    for mock in roadmap_registrants() {
        mock.mount(server).await;
    }
    mount_no_pending_or_denied(server, ROADMAP).await;
}

/// Any request for the approved registrants' second page, whatever its
/// token.
fn second_registrants_page() -> MockBuilder {
    Mock::given(method("GET"))
        .and(path(format!("/v2/webinars/{ROADMAP}/registrants")))
        .and(with_status("approved"))
        .and(query_param("next_page_token", REGISTRANTS_PAGE_2))
}

/// The value of the query parameter `key` of a request, if it has one.
fn query_value(request: &wiremock::Request, key: &str) -> Option<String> {
    request
        .url
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// Requests to `full_path` with `status` equal to `status` (or without one:
/// the approved registrants) and `next_page_token` equal to `page` (or
/// without one), whatever their token.
async fn requests_for(
    server: &MockServer,
    full_path: &str,
    status: Option<&str>,
    page: Option<&str>,
) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| {
            r.url.path() == full_path
                && query_value(r, "status").as_deref() == status
                && query_value(r, "next_page_token").as_deref() == page
        })
        .count()
}

async fn token_requests(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/oauth/token")
        .count()
}

/// Zoom's 429: per-second limits name their category, daily limits say
/// when to come back in `Retry-After`, an ISO-8601 date-time.
fn too_many_requests(retry_after: Option<&str>) -> ResponseTemplate {
    let response = ResponseTemplate::new(429).set_body_json(json!({
        "code": 429,
        "message": "You have exceeded the daily rate limit (6000) of Get Webinar Registrants API requests permitted for this particular user. You may resume these requests at GMT 00:00:00."
    }));
    match retry_after {
        Some(at) => response
            .insert_header("x-ratelimit-type", "Daily-limit")
            .insert_header("x-ratelimit-limit", "6000")
            .insert_header("x-ratelimit-remaining", "0")
            .insert_header("retry-after", at),
        None => response
            .insert_header("x-ratelimit-category", "Medium")
            .insert_header("x-ratelimit-type", "QPS"),
    }
}

/// Whole seconds, as Zoom writes it.
fn zoom_time(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

async fn create_zoom(app: &TestApp, token: &str, server: &MockServer) -> String {
    create(app, token, zoom_input(server)).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn registered(ids: &[&str]) -> Vec<String> {
    ids.iter()
        .map(|id| format!("registered:{ROADMAP}:{id}-r"))
        .collect()
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_waited_out() {
    let app = spawn_app().await;
    let registrants = format!("/v2/webinars/{ROADMAP}/registrants");
    enum Fault {
        RetryAfterDateTime,
        RateLimitWithoutRetryAfter,
        ServerError,
    }
    let cases = [
        (
            "a 429 until a Retry-After date-time",
            Fault::RetryAfterDateTime,
        ),
        (
            "a 429 without Retry-After",
            Fault::RateLimitWithoutRetryAfter,
        ),
        ("a 503", Fault::ServerError),
    ];
    for (n, (what, fault)) in cases.into_iter().enumerate() {
        let slug = format!("case{n}");
        app.workspace(&slug).await;
        let token = app.admin(&slug);
        let server = MockServer::start().await;
        mount_roadmap(&server).await;
        let id = create_zoom(&app, &token, &server).await;
        // Zoom says to come back in 1–2 s; the run cannot end before then.
        let started = std::time::Instant::now();
        let retry_at = zoom_time(chrono::Utc::now() + chrono::Duration::seconds(2));
        let dated = matches!(fault, Fault::RetryAfterDateTime);
        let answer = match fault {
            Fault::RetryAfterDateTime => too_many_requests(Some(&retry_at)),
            Fault::RateLimitWithoutRetryAfter => too_many_requests(None),
            Fault::ServerError => ResponseTemplate::new(503).set_body_string("Service Unavailable"),
        };
        second_registrants_page()
            .respond_with(answer)
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;

        let run = sync(&app, &token, &id).await;
        let waited = started.elapsed();
        assert_eq!(run["status"], "SUCCEEDED", "{what}: {run}");
        // The list; Jill and Bob; Bob again (unchanged) and Carol; nobody
        // pending; nobody denied.
        assert_eq!(counts(&run), [4, 3, 0, 1, 0, 5], "{what}: {run}");
        if dated {
            assert!(
                waited >= std::time::Duration::from_secs(1),
                "{what}: waited only {waited:?}"
            );
        }
        assert_eq!(
            requests_for(&server, &registrants, None, Some(REGISTRANTS_PAGE_2)).await,
            2,
            "{what}: the fault, then the page"
        );
        for status in [None, Some("pending"), Some("denied")] {
            assert_eq!(
                requests_for(&server, &registrants, status, None).await,
                1,
                "{what}: {status:?}"
            );
        }
        assert_eq!(
            token_requests(&server).await,
            1,
            "{what}: the token was kept"
        );
        assert_eq!(
            external_ids(&app, &token, "zoom").await,
            registered(&["bob", "carol", "jill"]),
            "{what}"
        );
        assert_eq!(
            sync_runs(&app, &token, &id).await,
            json!([["SUCCEEDED", null, [4, 3, 0, 1, 0, 5]]]),
            "{what}"
        );
    }
}

#[tokio::test]
async fn a_token_endpoint_error_is_waited_out() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let server = MockServer::start().await;
    token_request()
        .respond_with(ResponseTemplate::new(500).set_body_string("Internal Server Error"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount_roadmap(&server).await;
    let id = create_zoom(&app, &token, &server).await;
    let run = sync(&app, &token, &id).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    // The list; Jill and Bob; Bob again (unchanged) and Carol; nobody
    // pending; nobody denied.
    assert_eq!(counts(&run), [4, 3, 0, 1, 0, 5], "{run}");
    assert_eq!(token_requests(&server).await, 2, "the 500, then the grant");
    assert_eq!(
        sync_runs(&app, &token, &id).await,
        json!([["SUCCEEDED", null, [4, 3, 0, 1, 0, 5]]])
    );
}

#[tokio::test]
async fn a_refused_credential_or_a_bad_page_fails_the_run_keeping_the_pages_before_it() {
    let app = spawn_app().await;
    let registrants = format!("/v2/webinars/{ROADMAP}/registrants");
    // Where it parses, the page would hold Carol.
    let whole = list(
        "registrants",
        "",
        vec![registrant(
            "carol-r",
            "Carol",
            "carol@cooking.example",
            "",
            "",
        )],
    )
    .to_string();
    let cut = whole[..whole.find("carol@").unwrap()].to_owned();
    let raw = |body: String| ResponseTemplate::new(200).set_body_raw(body, "application/json");
    let revoked = || {
        ResponseTemplate::new(401)
            .set_body_json(json!({"code": 124, "message": "Invalid access token."}))
    };
    let an_hour = zoom_time(chrono::Utc::now() + chrono::Duration::hours(1));
    struct Case {
        what: &'static str,
        answer: ResponseTemplate,
        /// The token endpoint refuses the app once its first token is spent.
        secret_rotated: bool,
        code: &'static str,
        credential: Option<&'static str>,
        page_requests: usize,
        token_requests: usize,
    }
    let case = |what, answer, code| Case {
        what,
        answer,
        secret_rotated: false,
        code,
        credential: None,
        page_requests: 1,
        token_requests: 1,
    };
    let cases = [
        Case {
            credential: Some("`client_id/client_secret`"),
            page_requests: 2,
            token_requests: 2,
            ..case(
                "a 401 even with a fresh token",
                revoked(),
                "CONNECTOR_UNAUTHORIZED",
            )
        },
        Case {
            secret_rotated: true,
            credential: Some("`client_secret`"),
            token_requests: 2,
            ..case(
                "a 401, and the token endpoint refuses the secret",
                revoked(),
                "CONNECTOR_UNAUTHORIZED",
            )
        },
        case(
            "not JSON",
            raw("<html><body>Bad Gateway</body></html>".into()),
            "CONNECTOR_MALFORMED",
        ),
        case("truncated JSON", raw(cut), "CONNECTOR_MALFORMED"),
        case(
            "a Retry-After beyond the allowed wait",
            too_many_requests(Some(&an_hour)),
            "CONNECTOR_RATE_LIMITED",
        ),
        Case {
            page_requests: 3,
            ..case(
                "503 every time",
                ResponseTemplate::new(503),
                "CONNECTOR_UNAVAILABLE",
            )
        },
    ];
    for (n, case) in cases.into_iter().enumerate() {
        let what = case.what;
        let slug = format!("case{n}");
        app.workspace(&slug).await;
        let token = app.admin(&slug);
        let server = MockServer::start().await;
        second_registrants_page()
            .respond_with(case.answer)
            .with_priority(1)
            .mount(&server)
            .await;
        if case.secret_rotated {
            token_request()
                .respond_with(grant("tok-2"))
                .up_to_n_times(1)
                .with_priority(1)
                .mount(&server)
                .await;
            token_request()
                .respond_with(ResponseTemplate::new(401).set_body_json(
                    json!({"reason": "Invalid client_id or client_secret", "error": "invalid_client"}),
                ))
                .with_priority(2)
                .mount(&server)
                .await;
        }
        mount_roadmap(&server).await;
        let id = create_zoom(&app, &token, &server).await;

        let run = sync(&app, &token, &id).await;
        assert_eq!(
            [&run["status"], &run["errorCode"]],
            [&json!("FAILED"), &json!(case.code)],
            "{what}: {run}"
        );
        assert_eq!(
            counts(&run),
            [2, 2, 0, 0, 0, 2],
            "{what}: the list and the first page only"
        );
        assert_eq!(
            external_ids(&app, &token, "zoom").await,
            registered(&["bob", "jill"]),
            "{what}"
        );
        let error = run["error"].as_str().unwrap();
        assert!(
            !error.contains(CLIENT_SECRET) && !error.contains("tok-2"),
            "{what}: {error}"
        );
        if let Some(credential) = case.credential {
            assert!(error.contains(credential), "{what}: {error}");
        }
        assert_eq!(
            requests_for(&server, &registrants, None, Some(REGISTRANTS_PAGE_2)).await,
            case.page_requests,
            "{what}"
        );
        assert_eq!(token_requests(&server).await, case.token_requests, "{what}");
        assert_eq!(
            sync_runs(&app, &token, &id).await,
            json!([["FAILED", case.code, [2, 2, 0, 0, 0, 2]]]),
            "{what}"
        );
    }
}

#[tokio::test]
async fn an_empty_webinar_list_is_a_run_with_nothing_to_record() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let server = MockServer::start().await;
    token_request()
        .respond_with(grant("tok-2"))
        .mount(&server)
        .await;
    let nothing = page(
        "/users/me/webinars".into(),
        None,
        list("webinars", "", vec![]),
    )
    .mount_as_scoped(&server)
    .await;
    let id = create_zoom(&app, &token, &server).await;

    let run = sync(&app, &token, &id).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    assert_eq!(counts(&run), [0, 0, 0, 0, 0, 1], "{run}");
    assert!(external_ids(&app, &token, "zoom").await.is_empty());
    let v2_calls: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path().starts_with("/v2/"))
        .map(|r| r.url.path().to_owned())
        .collect();
    assert_eq!(v2_calls, ["/v2/users/me/webinars"]);

    // Then a webinar is scheduled, nobody has registered yet: its approved,
    // pending and denied lists are empty, a batch each after the list.
    drop(nothing);
    page(
        "/users/me/webinars".into(),
        None,
        list(
            "webinars",
            "",
            vec![webinar(ROADMAP, "Roadmap", "2099-03-01T17:00:00Z")],
        ),
    )
    .mount(&server)
    .await;
    registrants_page(ROADMAP, "approved", None, list("registrants", "", vec![]))
        .mount(&server)
        .await;
    mount_no_pending_or_denied(&server, ROADMAP).await;
    let next = sync(&app, &token, &id).await;
    assert_eq!(next["status"], "SUCCEEDED", "{next}");
    assert_eq!(counts(&next), [0, 0, 0, 0, 0, 4], "{next}");
    assert!(external_ids(&app, &token, "zoom").await.is_empty());
    assert_eq!(
        sync_runs(&app, &token, &id).await,
        json!([
            ["SUCCEEDED", null, [0, 0, 0, 0, 0, 4]],
            ["SUCCEEDED", null, [0, 0, 0, 0, 0, 1]]
        ])
    );
}
