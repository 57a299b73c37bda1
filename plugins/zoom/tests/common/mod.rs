//! A Zoom look-alike on wiremock, speaking the documented wire format, and
//! a runtime-like loop around `pull`.
// Each test binary uses a part of this module.
#![allow(dead_code)]

use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use journeys_plugin_sdk::{Connector, HttpClient, RetryPolicy, Touchpoint};
use journeys_plugin_zoom::{Config, Cursor, Secrets, Zoom};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, path_regex, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const ACCOUNT_ID: &str = "lAAAAAAAAAAAAA";
pub const CLIENT_ID: &str = "zoom-client-id";
pub const CLIENT_SECRET: &str = "zoom-client-s3cret";
pub const WEBHOOK_SECRET: &str = "zoom-webhook-s3cret";

/// A webinar that ended long ago.
pub const LAUNCH: i64 = 81234567890;
/// A webinar far in the future.
pub const ROADMAP: i64 = 89876543210;

pub const JILL: &str = "_f08HhPJS82MIVLuuFaJPg";
pub const BOB: &str = "9tboDiHUQAeOnbmudzWa5g";
pub const CAROL: &str = "Kr3Gq0GrQ2m5z9bIh7wVdA";
pub const ERIN: &str = "Xq2mT0bWQAu1LkO3nPz8cQ";
pub const PAT: &str = "Pp7aT1cWQBv2MkP4oQa9dR";
pub const QUINN: &str = "Qq8bU2dXRCw3NlQ5pRb0eS";
pub const DORA: &str = "Dd9cV3eYSDx4OmR6qSc1fT";

pub fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&Utc)
}

/// Short retries, so failures are quick; rate limits may wait a few seconds.
pub fn http() -> HttpClient {
    HttpClient::new(RetryPolicy {
        max_attempts: 3,
        min_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        max_rate_limit_wait: Duration::from_secs(5),
        default_rate_limit_wait: Duration::from_millis(300),
        timeout: Duration::from_secs(2),
    })
}

pub fn zoom(server: &MockServer) -> Zoom {
    zoom_with_webhook_secret(server, Some(WEBHOOK_SECRET))
}

pub fn config(server: &MockServer) -> Config {
    Config {
        base_url: format!("{}/v2", server.uri()),
        oauth_url: format!("{}/oauth/token", server.uri()),
        account_id: ACCOUNT_ID.into(),
        user_id: "me".into(),
    }
}

pub fn secrets(webhook_secret: Option<&str>) -> Secrets {
    Secrets {
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        webhook_secret_token: webhook_secret.map(str::to_owned),
    }
}

pub fn zoom_with_webhook_secret(server: &MockServer, webhook_secret: Option<&str>) -> Zoom {
    Zoom::new(config(server), secrets(webhook_secret), http()).unwrap()
}

/// The token endpoint, answering only the documented request.
pub fn token_endpoint(access_token: &str, expires_in: u64) -> Mock {
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(query_param("grant_type", "account_credentials"))
        .and(query_param("account_id", ACCOUNT_ID))
        .and(header("authorization", format!("Basic {basic}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": access_token,
            "token_type": "bearer",
            "expires_in": expires_in,
            "scope": "webinar:read:admin report:read:admin"
        })))
}

/// A 200 as Zoom sends it.
pub fn zoom_ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("x-ratelimit-category", "Medium")
        .set_body_json(body)
}

/// One page of a list endpoint under `/v2`: the first (no token) or the one
/// after `page_token`, asked for with the bearer token `tok-1` (and no
/// `status`: for registrants, the approved ones).
pub fn page(endpoint: &str, page_token: Option<&str>) -> wiremock::MockBuilder {
    paged(
        Mock::given(method("GET"))
            .and(path(format!("/v2{endpoint}")))
            .and(query_param_is_missing("status")),
        page_token,
    )
}

/// One page of a webinar's registrants with `status` (`pending`, `denied`).
pub fn registrants_with(
    webinar: i64,
    status: &str,
    page_token: Option<&str>,
) -> wiremock::MockBuilder {
    paged(
        Mock::given(method("GET"))
            .and(path(format!("/v2/webinars/{webinar}/registrants")))
            .and(query_param("status", status)),
        page_token,
    )
}

/// Every webinar has no pending or denied registrants, unless a test says
/// otherwise.
pub async fn mount_no_other_registrants(server: &MockServer) {
    for status in ["pending", "denied"] {
        Mock::given(method("GET"))
            .and(path_regex(r"^/v2/webinars/[0-9]+/registrants$"))
            .and(query_param("status", status))
            .respond_with(zoom_ok(registrant_page("", vec![])))
            .with_priority(10)
            .mount(server)
            .await;
    }
}

fn paged(builder: wiremock::MockBuilder, page_token: Option<&str>) -> wiremock::MockBuilder {
    let builder = builder
        .and(query_param("page_size", "300"))
        .and(header("authorization", "Bearer tok-1"));
    match page_token {
        Some(token) => builder.and(query_param("next_page_token", token)),
        None => builder.and(query_param_is_missing("next_page_token")),
    }
}

pub fn webinar(id: i64, topic: &str, start_time: &str, duration: u32) -> Value {
    json!({
        "uuid": format!("{id}uuid=="),
        "id": id,
        "host_id": "x1yCzABCDEfg23HiJKl4mN",
        "topic": topic,
        "type": 5,
        "start_time": start_time,
        "duration": duration,
        "timezone": "America/Los_Angeles",
        "created_at": "2024-01-10T08:00:00Z",
        "join_url": format!("https://example.zoom.us/j/{id}")
    })
}

pub fn webinar_page(next_page_token: &str, webinars: Vec<Value>) -> Value {
    json!({
        "page_count": 1,
        "page_number": 1,
        "page_size": 300,
        "total_records": webinars.len(),
        "next_page_token": next_page_token,
        "webinars": webinars
    })
}

pub fn registrant(id: &str, first: &str, last: &str, email: &str, created: &str) -> Value {
    json!({
        "id": id,
        "first_name": first,
        "last_name": last,
        "email": email,
        "address": "",
        "city": "",
        "country": "US",
        "zip": "",
        "state": "",
        "phone": "",
        "industry": "",
        "org": "",
        "job_title": "",
        "purchasing_time_frame": "",
        "role_in_purchase_process": "",
        "no_of_employees": "",
        "comments": "",
        "custom_questions": [],
        "status": "approved",
        "create_time": created,
        "join_url": format!("https://example.zoom.us/w/{id}")
    })
}

/// Jill, who answered every qualification question.
pub fn jill() -> Value {
    let mut jill = registrant(
        JILL,
        "Jill",
        "Chill",
        "jchill@example.com",
        "2024-01-20T09:15:00Z",
    );
    let answers = json!({
        "org": "Cooking Org",
        "job_title": "Head Chef",
        "industry": "Food",
        "purchasing_time_frame": "1-3 months",
        "role_in_purchase_process": "Influencer",
        "no_of_employees": "1-20",
        "custom_questions": [{"title": "What do you hope to learn?", "value": "New recipes"}]
    });
    for (field, value) in answers.as_object().unwrap() {
        jill[field] = value.clone();
    }
    jill
}

pub fn bob() -> Value {
    registrant(
        BOB,
        "Bob",
        "Builder",
        "bob@example.com",
        "2024-01-21T10:00:00Z",
    )
}

pub fn registrant_page(next_page_token: &str, registrants: Vec<Value>) -> Value {
    json!({
        "page_count": 2,
        "page_number": 1,
        "page_size": 300,
        "total_records": registrants.len(),
        "next_page_token": next_page_token,
        "registrants": registrants
    })
}

pub fn participant(
    registrant_id: &str,
    name: &str,
    email: &str,
    join: &str,
    leave: &str,
    seconds: u64,
) -> Value {
    json!({
        "id": "30R7kT7bTIKSNUFEuH_Qlg",
        "name": name,
        "user_id": "27423744",
        "registrant_id": registrant_id,
        "user_email": email,
        "join_time": join,
        "leave_time": leave,
        "duration": seconds,
        "status": "in_meeting",
        "internal_user": false
    })
}

pub fn participant_page(next_page_token: &str, participants: Vec<Value>) -> Value {
    json!({
        "page_count": 2,
        "page_size": 300,
        "total_records": participants.len(),
        "next_page_token": next_page_token,
        "participants": participants
    })
}

/// A Q&A or polls page: one entry per asker, with their questions.
pub fn questions_page(next_page_token: &str, questions: Vec<Value>) -> Value {
    json!({
        "id": LAUNCH,
        "uuid": format!("{LAUNCH}uuid=="),
        "start_time": "2024-02-01T12:00:00Z",
        "next_page_token": next_page_token,
        "questions": questions
    })
}

pub fn asker(name: &str, email: &str, details: Vec<Value>) -> Value {
    json!({"name": name, "email": email, "question_details": details})
}

/// The webinar list as the first run sees it: the ended launch on page 1,
/// the upcoming roadmap on page 2.
pub async fn mount_webinar_list(server: &MockServer) {
    page("/users/me/webinars", None)
        .respond_with(zoom_ok(webinar_page(
            "wl-2",
            vec![webinar(LAUNCH, "Launch", "2024-02-01T12:00:00Z", 60)],
        )))
        .mount(server)
        .await;
    page("/users/me/webinars", Some("wl-2"))
        .respond_with(zoom_ok(webinar_page(
            "",
            vec![webinar(ROADMAP, "Roadmap", "2099-03-01T17:00:00Z", 45)],
        )))
        .mount(server)
        .await;
}

/// Everything about the launch and the roadmap, except the webinar list:
/// - launch registrants on two pages, Bob on both (Zoom's pages shift as
///   people register);
/// - launch participants on two pages: Jill twice (she rejoined, across the
///   pages), a guest known by email only, a phone user known by name only;
/// - launch pending registrants on two pages, Pat on both, then Quinn;
/// - launch denied registrants: Dora;
/// - launch absentees: Bob;
/// - launch Q&A on two pages: Jill's two questions (one answered) and an
///   anonymous one, then Jill's first again and Bob's;
/// - launch poll answers: Jill's two (one with a time, one with Zoom's
///   space-separated time) and Bob's (without a time);
/// - roadmap registrants: Erin (none pending or denied).
pub async fn mount_webinar_data(server: &MockServer) {
    mount_no_other_registrants(server).await;
    let pat = || {
        let mut pat = registrant(
            PAT,
            "Pat",
            "Pending",
            "pat@example.com",
            "2024-01-25T14:00:00Z",
        );
        pat["status"] = json!("pending");
        pat["org"] = json!("Pat Co");
        pat
    };
    let mut quinn = registrant(
        QUINN,
        "Quinn",
        "Queue",
        "quinn@example.com",
        "2024-01-26T15:00:00Z",
    );
    quinn["status"] = json!("pending");
    registrants_with(LAUNCH, "pending", None)
        .respond_with(zoom_ok(registrant_page("rp-2", vec![pat()])))
        .mount(server)
        .await;
    registrants_with(LAUNCH, "pending", Some("rp-2"))
        .respond_with(zoom_ok(registrant_page("", vec![pat(), quinn])))
        .mount(server)
        .await;
    let mut dora = registrant(
        DORA,
        "Dora",
        "Denied",
        "dora@example.com",
        "2024-01-27T16:00:00Z",
    );
    dora["status"] = json!("denied");
    registrants_with(LAUNCH, "denied", None)
        .respond_with(zoom_ok(registrant_page("", vec![dora])))
        .mount(server)
        .await;
    let launch = format!("/webinars/{LAUNCH}/registrants");
    page(&launch, None)
        .respond_with(zoom_ok(registrant_page("ra-2", vec![jill(), bob()])))
        .mount(server)
        .await;
    let carol = registrant(
        CAROL,
        "Carol",
        "Danvers",
        "carol@example.com",
        "2024-01-22T11:00:00Z",
    );
    page(&launch, Some("ra-2"))
        .respond_with(zoom_ok(registrant_page("", vec![bob(), carol])))
        .mount(server)
        .await;
    let participants = format!("/past_webinars/{LAUNCH}/participants");
    page(&participants, None)
        .respond_with(zoom_ok(participant_page(
            "pa-2",
            vec![
                participant(
                    JILL,
                    "Jill Chill",
                    "jchill@example.com",
                    "2024-02-01T12:01:00Z",
                    "2024-02-01T12:21:00Z",
                    1200,
                ),
                participant(
                    "",
                    "Dan Guest",
                    "Dan@Guest.example",
                    "2024-02-01T12:05:00Z",
                    "2024-02-01T12:15:00Z",
                    600,
                ),
            ],
        )))
        .mount(server)
        .await;
    page(&participants, Some("pa-2"))
        .respond_with(zoom_ok(participant_page(
            "",
            vec![
                participant(
                    JILL,
                    "Jill Chill",
                    "jchill@example.com",
                    "2024-02-01T12:40:00Z",
                    "2024-02-01T12:55:10Z",
                    910,
                ),
                participant(
                    "",
                    "Phone User",
                    "",
                    "2024-02-01T12:10:00Z",
                    "2024-02-01T12:11:00Z",
                    50,
                ),
            ],
        )))
        .mount(server)
        .await;
    page(&format!("/past_webinars/{LAUNCH}/absentees"), None)
        .respond_with(zoom_ok(registrant_page("", vec![bob()])))
        .mount(server)
        .await;
    // Zoom documents the Q&A unpaged; here it pages, as a token would be
    // followed.
    let qa = format!("/past_webinars/{LAUNCH}/qa");
    let jills_first = json!({"question": "Will there be a recording?", "answer": "Yes, tomorrow."});
    page(&qa, None)
        .respond_with(zoom_ok(questions_page(
            "qa-2",
            vec![
                asker(
                    "Jill Chill",
                    "JChill@example.com",
                    vec![
                        jills_first.clone(),
                        json!({"question": "Is there a free tier?", "answer": ""}),
                    ],
                ),
                asker(
                    "Anonymous Attendee",
                    "",
                    vec![json!({"question": "Who else is here?", "answer": ""})],
                ),
            ],
        )))
        .mount(server)
        .await;
    page(&qa, Some("qa-2"))
        .respond_with(zoom_ok(questions_page(
            "",
            vec![
                asker("Jill Chill", "JChill@example.com", vec![jills_first]),
                asker(
                    "Bob Builder",
                    "bob@example.com",
                    vec![json!({"question": "Does it run on-premises?"})],
                ),
            ],
        )))
        .mount(server)
        .await;
    page(&format!("/past_webinars/{LAUNCH}/polls"), None)
        .respond_with(zoom_ok(questions_page(
            "",
            vec![
                asker(
                    "Jill Chill",
                    "jchill@example.com",
                    vec![
                        json!({"question": "How did you hear of us?", "answer": "Twitter;A friend",
                               "date_time": "2024-02-01T12:30:05Z", "polling_id": "pl-1"}),
                        json!({"question": "Rate the demo", "answer": "5",
                               "date_time": "2024-02-01 12:45:00", "polling_id": "pl-2"}),
                    ],
                ),
                asker(
                    "Bob Builder",
                    "bob@example.com",
                    vec![json!({"question": "How did you hear of us?", "answer": "Search", "polling_id": "pl-1"})],
                ),
            ],
        )))
        .mount(server)
        .await;
    let erin = registrant(
        ERIN,
        "Erin",
        "Early",
        "erin@example.com",
        "2024-03-01T08:00:00Z",
    );
    page(&format!("/webinars/{ROADMAP}/registrants"), None)
        .respond_with(zoom_ok(registrant_page("", vec![erin])))
        .mount(server)
        .await;
}

/// The whole first-run scenario, with a token valid for an hour.
pub async fn mount_scenario(server: &MockServer) {
    token_endpoint("tok-1", 3600).mount(server).await;
    mount_webinar_list(server).await;
    mount_webinar_data(server).await;
}

/// The digests of the questions in external ids: the first 8 bytes of
/// HMAC-SHA256(key "journeys-zoom-question", the question), in hex.
pub const RECORDING: &str = "7dc6190f34c61f77";
pub const FREE_TIER: &str = "0c72ad86b7c6a539";
pub const ON_PREMISES: &str = "96de4f2264fc6ba2";
pub const HEARD_OF_US: &str = "11ca50ab50f05e81";
pub const RATE_THE_DEMO: &str = "0c43851ff489f159";

/// Where the roadmap's batches start in [`scenario_batches`].
pub const ROADMAP_BATCHES: usize = 11;

/// What the uninterrupted first run yields, batch by batch.
pub fn scenario_batches() -> Vec<Vec<String>> {
    vec![
        vec![],
        vec![
            format!("registered:{LAUNCH}:{JILL}"),
            format!("registered:{LAUNCH}:{BOB}"),
        ],
        vec![
            format!("registered:{LAUNCH}:{BOB}"),
            format!("registered:{LAUNCH}:{CAROL}"),
        ],
        vec![format!("registration_pending:{LAUNCH}:{PAT}")],
        vec![
            format!("registration_pending:{LAUNCH}:{PAT}"),
            format!("registration_pending:{LAUNCH}:{QUINN}"),
        ],
        vec![format!("registration_denied:{LAUNCH}:{DORA}")],
        vec![
            format!("attended:{LAUNCH}:registrant:{JILL}"),
            format!("attended:{LAUNCH}:email:dan@guest.example"),
            format!("attended:{LAUNCH}:name:Phone User"),
        ],
        vec![format!("missed:{LAUNCH}:{BOB}")],
        vec![
            format!("question_asked:{LAUNCH}:jchill@example.com:{RECORDING}"),
            format!("question_asked:{LAUNCH}:jchill@example.com:{FREE_TIER}"),
        ],
        vec![
            format!("question_asked:{LAUNCH}:jchill@example.com:{RECORDING}"),
            format!("question_asked:{LAUNCH}:bob@example.com:{ON_PREMISES}"),
        ],
        vec![
            format!("poll_answered:{LAUNCH}:pl-1:jchill@example.com:{HEARD_OF_US}"),
            format!("poll_answered:{LAUNCH}:pl-2:jchill@example.com:{RATE_THE_DEMO}"),
            format!("poll_answered:{LAUNCH}:pl-1:bob@example.com:{HEARD_OF_US}"),
        ],
        vec![format!("registered:{ROADMAP}:{ERIN}")],
        // The roadmap has no pending or denied registrants.
        vec![],
        vec![],
    ]
}

/// Saves the cursor the way the server does: as JSON.
pub fn saved(cursor: &Cursor) -> Cursor {
    serde_json::from_value(serde_json::to_value(cursor).unwrap()).unwrap()
}

/// Pulls like the runtime: from `cursor`, saving each batch's cursor, while
/// `more`. Returns every batch's touchpoints and the last cursor.
pub async fn drain(zoom: &mut Zoom, mut cursor: Cursor) -> (Vec<Vec<Touchpoint>>, Cursor) {
    let mut batches = Vec::new();
    loop {
        let batch = zoom.pull(cursor).await.unwrap();
        batches.push(batch.touchpoints);
        cursor = saved(&batch.cursor);
        if !batch.more {
            return (batches, cursor);
        }
        assert!(batches.len() < 50, "the run does not end");
    }
}

pub fn ids(batches: &[Vec<Touchpoint>]) -> Vec<Vec<String>> {
    batches
        .iter()
        .map(|batch| batch.iter().map(|t| t.external_id.clone()).collect())
        .collect()
}

/// The API requests the server received (the token endpoint's left out), as
/// path and query.
pub async fn api_requests(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() != "/oauth/token")
        .map(|r| format!("{}?{}", r.url.path(), r.url.query().unwrap_or("")))
        .collect()
}

/// Requests the server received whose path is `path` (under `/v2`).
pub async fn requests_to(server: &MockServer, endpoint: &str) -> Vec<wiremock::Request> {
    let full = format!("/v2{endpoint}");
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == full)
        .collect()
}
