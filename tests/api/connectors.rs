//! The connector API and the sync runtime, driven through GraphQL against a
//! local server that speaks Zendesk's incremental export (the runtime is the
//! same for every kind; each kind's own wire format has its own module).

use std::time::Duration;

use journeys_api::auth::Scope;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use entity::sync_run;
use entity::vocab::{SyncStatus, SyncTrigger};
use journeys_api::graphql::ids::NodeType;
use sea_orm::{ActiveModelTrait, Set};

use crate::helpers::{
    TestApp, assert_code, create_account, quick_sync, spawn_app, spawn_app_with_sync, spawn_pair,
    spawn_pair_with,
};
use journeys_core::connectors::sync::SyncSettings;

const CREATE: &str = "mutation($input: CreateConnectorInput!) {
  createConnector(input: $input) {
    connector { id kind name config secretNames scheduleSeconds enabled webhookPath lastRun { id } }
  }
}";

const TRIGGER: &str = "mutation($id: ID!) { triggerSync(input: { connectorId: $id }) { queued run { id status trigger } } }";

const RUNS: &str = "query($id: ID!) {
  syncRuns(connectorId: $id, first: 10) {
    totalCount
    nodes { id status trigger fetched created updated unchanged failed batches errorCode error startedAt finishedAt durationMs }
  }
  connector(id: $id) { lastRun { id status } }
}";

pub const API_TOKEN: &str = "zd-api-t0ken-never-shown";

/// One ticket as the incremental export documents it.
pub fn ticket(id: u64, status: &str, requester: u64, day: u32) -> Value {
    json!({
        "id": id,
        "url": format!("https://acme.zendesk.com/api/v2/tickets/{id}.json"),
        "external_id": null,
        "type": "question",
        "subject": format!("Ticket {id}"),
        "description": format!("Help with {id}"),
        "priority": "normal",
        "status": status,
        "requester_id": requester,
        "submitter_id": requester,
        "assignee_id": null,
        "organization_id": 9001,
        "group_id": null,
        "tags": ["api"],
        "via": { "channel": "web" },
        "satisfaction_rating": null,
        "created_at": format!("2026-03-{day:02}T09:00:00Z"),
        "updated_at": format!("2026-03-{:02}T12:00:00Z", day + 1),
        "generated_timestamp": 1_772_000_000 + u64::from(day),
    })
}

pub fn user(id: u64, name: &str, email: &str) -> Value {
    json!({
        "id": id, "name": name, "email": email, "organization_id": 9001,
        "role": "end-user", "updated_at": "2026-03-01T00:00:00Z"
    })
}

/// An export page: its tickets, the users they mention, and the cursor after it.
pub fn export_page(tickets: Vec<Value>, users: Vec<Value>, after: &str, end: bool) -> Value {
    json!({
        "tickets": tickets,
        "users": users,
        "after_cursor": after,
        "after_url": format!("https://acme.zendesk.com/api/v2/incremental/tickets/cursor.json?cursor={after}"),
        "before_cursor": null,
        "before_url": null,
        "end_of_stream": end,
    })
}

pub const EXPORT: &str = "/api/v2/incremental/tickets/cursor";
const RATINGS: &str = "/api/v2/satisfaction_ratings";
pub const TICKET_EVENTS: &str = "/api/v2/incremental/ticket_events";

/// Three export pages: two tickets; a repeat of the second and a solved
/// third; then an empty end of stream. No satisfaction ratings.
async fn zendesk(server: &MockServer) {
    let ana = user(501, "Ana Souza", "ana@acme.example");
    let ben = user(502, "Ben Ode", "ben@acme.example");
    let pages = [
        (
            None,
            export_page(
                vec![ticket(1, "open", 501, 2), ticket(2, "new", 502, 3)],
                vec![ana.clone(), ben.clone()],
                "c1",
                false,
            ),
        ),
        (
            Some("c1"),
            export_page(
                vec![ticket(2, "new", 502, 3), ticket(3, "solved", 501, 4)],
                vec![ana, ben],
                "c2",
                false,
            ),
        ),
        (Some("c2"), export_page(vec![], vec![], "c2", true)),
    ];
    for (cursor, body) in pages {
        let mock = Mock::given(method("GET")).and(path(EXPORT));
        let mock = match cursor {
            None => mock.and(query_param_is_missing("cursor")),
            Some(c) => mock.and(query_param("cursor", c)),
        };
        mock.respond_with(ResponseTemplate::new(200).set_body_json(body))
            .mount(server)
            .await;
    }
    no_events_or_ratings(server).await;
}

/// An empty incremental ticket events export.
pub async fn no_ticket_events(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path(TICKET_EVENTS))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ticket_events": [], "end_time": null, "end_of_stream": true
        })))
        .mount(server)
        .await;
}

/// No ticket events and no satisfaction ratings: the two streams a run reads
/// after the ticket export.
pub async fn no_events_or_ratings(server: &MockServer) {
    no_ticket_events(server).await;
    no_ratings(server).await;
}

/// An empty satisfaction ratings list.
pub async fn no_ratings(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path(RATINGS))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "satisfaction_ratings": [],
            "meta": { "has_more": false, "after_cursor": null, "before_cursor": null },
            "links": { "next": null, "prev": null }
        })))
        .mount(server)
        .await;
}

pub fn zendesk_input(server: &MockServer) -> Value {
    json!({
        "kind": "zendesk",
        "name": "Support",
        "config": { "base_url": server.uri(), "email": "ops@acme.example", "export_requests_per_minute": 6000 },
        "secrets": { "api_token": API_TOKEN, "webhook_signing_secret": "zd-signing-secret" }
    })
}

pub async fn create(app: &TestApp, token: &str, input: Value) -> Value {
    app.ok(token, CREATE, json!({ "input": input })).await["createConnector"]["connector"].clone()
}

/// Triggers a sync and waits for the run to finish.
pub async fn sync(app: &TestApp, token: &str, connector: &str) -> Value {
    let run =
        app.ok(token, TRIGGER, json!({ "id": connector })).await["triggerSync"]["run"].clone();
    wait_for(app, token, connector, run["id"].as_str().unwrap()).await
}

/// Waits for a run to finish; up to two minutes, for runs that wait out a
/// vendor's per-minute allowance.
pub async fn wait_for(app: &TestApp, token: &str, connector: &str, run: &str) -> Value {
    for _ in 0..2400 {
        let data = app.ok(token, RUNS, json!({ "id": connector })).await;
        let found = data["syncRuns"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == run)
            .cloned()
            .expect("the run is listed");
        if !matches!(found["status"].as_str(), Some("QUEUED" | "RUNNING")) {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("run {run} did not finish");
}

pub async fn external_ids(app: &TestApp, token: &str, source: &str) -> Vec<String> {
    let data = app
        .ok(
            token,
            "query($s: String!) { touchpoints(filter: {source: $s}, first: 500) { nodes { externalId } } }",
            json!({ "s": source }),
        )
        .await;
    let mut ids: Vec<String> = data["touchpoints"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["externalId"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

/// A run's fetched, created, updated, unchanged, failed and batches.
pub fn counts(run: &Value) -> [i64; 6] {
    [
        "fetched",
        "created",
        "updated",
        "unchanged",
        "failed",
        "batches",
    ]
    .map(|k| run[k].as_i64().unwrap())
}

#[tokio::test]
async fn plugins_list_their_kinds_with_their_schemas() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let data = app
        .ok(
            &app.admin("acme"),
            "{ plugins { kind description configSchema secretsSchema } }",
            json!({}),
        )
        .await;
    let plugins = data["plugins"].as_array().unwrap();
    let kinds: Vec<&str> = plugins
        .iter()
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["twitter", "zoom", "zendesk"]);
    let zendesk = &plugins[2];
    assert!(zendesk["configSchema"]["properties"]["base_url"].is_object());
    assert_eq!(zendesk["configSchema"]["additionalProperties"], false);
    assert!(zendesk["secretsSchema"]["properties"]["api_token"].is_object());
}

#[tokio::test]
async fn a_sync_records_every_page_with_exact_counts() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let server = MockServer::start().await;
    zendesk(&server).await;
    create_account(&app, &token, "Acme", &["acme.example"]).await;
    let connector = create(&app, &token, zendesk_input(&server)).await;
    assert_eq!(
        connector["secretNames"],
        json!(["api_token", "webhook_signing_secret"])
    );
    assert_eq!(connector["lastRun"], Value::Null);
    let id = connector["id"].as_str().unwrap();

    let run = sync(&app, &token, id).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    assert_eq!(run["trigger"], "API");
    // Page 1: opened 1, opened 2; page 2: opened 2 again, opened 3, solved 3;
    // page 3: nothing; then the empty ticket events and ratings lists.
    assert_eq!(counts(&run), [5, 4, 0, 1, 0, 5], "{run}");
    assert_eq!(
        external_ids(&app, &token, "zendesk").await,
        [
            "ticket:1:opened",
            "ticket:2:opened",
            "ticket:3:opened",
            "ticket:3:solved"
        ]
    );
    // The requesters are people with their Zendesk ids, in the organisation's account.
    let data = app
        .ok(
            &token,
            r#"{ stakeholders(first: 10) {
                nodes { name email identities { kind value } touchpoints(first: 10) { totalCount }
                        accounts(first: 5) { nodes { name } } } } }"#,
            json!({}),
        )
        .await;
    let mut people = data["stakeholders"]["nodes"].as_array().unwrap().clone();
    people.sort_by_key(|p| p["name"].as_str().unwrap().to_owned());
    assert_eq!(people.len(), 2, "{data}");
    assert_eq!(people[0]["name"], "Ana Souza");
    assert_eq!(people[0]["email"], "ana@acme.example");
    assert_eq!(people[0]["touchpoints"]["totalCount"], 3);
    assert_eq!(people[0]["accounts"]["nodes"], json!([{ "name": "Acme" }]));
    assert_eq!(people[1]["accounts"]["nodes"], json!([{ "name": "Acme" }]));
    assert!(
        people[0]["identities"]
            .as_array()
            .unwrap()
            .contains(&json!({"kind": "ZENDESK_USER_ID", "value": "501"})),
        "{data}"
    );

    // The next poll starts from the saved cursor: the vendor has nothing new.
    let again = sync(&app, &token, id).await;
    assert_eq!(again["status"], "SUCCEEDED");
    assert_eq!(counts(&again)[1], 0, "nothing is created twice: {again}");
    let data = app.ok(&token, RUNS, json!({ "id": id })).await;
    assert_eq!(data["syncRuns"]["totalCount"], 2);
    assert_eq!(data["connector"]["lastRun"]["id"], again["id"]);
}

#[tokio::test]
async fn a_sync_killed_after_its_second_page_resumes_with_nothing_lost_or_doubled() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let server = MockServer::start().await;
    let ana = user(501, "Ana Souza", "ana@acme.example");
    let page = |n: u64| {
        export_page(
            vec![ticket(n, "open", 501, n as u32)],
            vec![ana.clone()],
            &format!("c{n}"),
            n == 4,
        )
    };
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .and(query_param_is_missing("cursor"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(1)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .and(query_param("cursor", "c1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(2)))
        .mount(&server)
        .await;
    // The third page dies mid-body, every time, for now.
    let broken = Mock::given(method("GET"))
        .and(path(EXPORT))
        .and(query_param("cursor", "c2"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"tickets\":[{\"id\":3,"))
        .mount_as_scoped(&server)
        .await;
    no_events_or_ratings(&server).await;
    let id = create(&app, &token, zendesk_input(&server)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let failed = sync(&app, &token, &id).await;
    assert_eq!(failed["status"], "FAILED");
    assert_eq!(failed["errorCode"], "CONNECTOR_MALFORMED");
    assert_eq!(
        counts(&failed),
        [2, 2, 0, 0, 0, 2],
        "two pages saved: {failed}"
    );
    assert_eq!(
        external_ids(&app, &token, "zendesk").await,
        ["ticket:1:opened", "ticket:2:opened"]
    );

    drop(broken);
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .and(query_param("cursor", "c2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(3)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .and(query_param("cursor", "c3"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(4)))
        .mount(&server)
        .await;
    let resumed = sync(&app, &token, &id).await;
    assert_eq!(resumed["status"], "SUCCEEDED", "{resumed}");
    // Only pages 3 and 4 (and the empty events and ratings): pages 1 and 2 are
    // not fetched again.
    assert_eq!(counts(&resumed), [2, 2, 0, 0, 0, 4], "{resumed}");
    assert_eq!(
        external_ids(&app, &token, "zendesk").await,
        [
            "ticket:1:opened",
            "ticket:2:opened",
            "ticket:3:opened",
            "ticket:4:opened"
        ]
    );
    let first_page_requests = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == EXPORT && !r.url.query().unwrap_or("").contains("cursor="))
        .count();
    assert_eq!(first_page_requests, 1);
}

#[tokio::test]
async fn a_refused_credential_fails_the_run_naming_it() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"error": "Couldn't authenticate you"})),
        )
        .mount(&server)
        .await;
    let id = create(&app, &token, zendesk_input(&server)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let run = sync(&app, &token, &id).await;
    assert_eq!(run["status"], "FAILED");
    assert_eq!(run["errorCode"], "CONNECTOR_UNAUTHORIZED");
    let error = run["error"].as_str().unwrap();
    assert!(error.contains("`api_token`"), "{error}");
    assert!(!error.contains(API_TOKEN), "{error}");
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "a 401 is not retried"
    );
}

#[tokio::test]
async fn two_concurrent_triggers_make_one_run() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let server = MockServer::start().await;
    // A slow vendor keeps the first run going while the second trigger lands.
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(export_page(vec![], vec![], "c1", true))
                .set_delay(Duration::from_millis(300)),
        )
        .mount(&server)
        .await;
    no_events_or_ratings(&server).await;
    let id = create(&app, &token, zendesk_input(&server)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let vars = json!({ "id": id });
    let (a, b) = tokio::join!(
        app.ok(&token, TRIGGER, vars.clone()),
        app.ok(&token, TRIGGER, vars.clone())
    );
    assert_eq!(a["triggerSync"]["run"]["id"], b["triggerSync"]["run"]["id"]);
    assert_ne!(
        a["triggerSync"]["queued"], b["triggerSync"]["queued"],
        "one call queued the run, the other got it back: {a} {b}"
    );
    let run = wait_for(
        &app,
        &token,
        &id,
        a["triggerSync"]["run"]["id"].as_str().unwrap(),
    )
    .await;
    assert_eq!(run["status"], "SUCCEEDED");
    let data = app.ok(&token, RUNS, vars).await;
    assert_eq!(data["syncRuns"]["totalCount"], 1);
}

#[tokio::test]
async fn secrets_are_write_only_and_sealed_at_rest() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let server = MockServer::start().await;
    let connector = create(&app, &token, zendesk_input(&server)).await;
    let id = connector["id"].as_str().unwrap();
    let body = app
        .gql(
            &token,
            "query($id: ID!) { connector(id: $id) { config secretNames } }",
            json!({ "id": id }),
        )
        .await;
    assert!(!body.to_string().contains(API_TOKEN));
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT secrets FROM connectors",
        ))
        .await
        .unwrap()
        .unwrap();
    let sealed: String = row.try_get("", "secrets").unwrap();
    assert!(!sealed.contains(API_TOKEN) && !sealed.contains("zd-signing-secret"));

    // Updating one secret keeps the other; null removes one.
    let update = "mutation($input: UpdateConnectorInput!) { updateConnector(input: $input) { connector { secretNames name } } }";
    let data = app
        .ok(&token, update, json!({ "input": { "id": id, "secrets": { "webhook_signing_secret": null }, "name": "Help desk" } }))
        .await;
    assert_eq!(
        data["updateConnector"]["connector"]["secretNames"],
        json!(["api_token"])
    );
    assert_eq!(data["updateConnector"]["connector"]["name"], "Help desk");
    let body = app
        .gql(
            &token,
            update,
            json!({ "input": { "id": id, "secrets": { "api_token": null } } }),
        )
        .await;
    assert_code(&body, "BAD_USER_INPUT");
}

#[tokio::test]
async fn bad_connector_input_names_the_problem() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let server = MockServer::start().await;
    let mut input = zendesk_input(&server);
    input["kind"] = json!("myspace");
    let body = app.gql(&token, CREATE, json!({ "input": input })).await;
    assert_code(&body, "BAD_USER_INPUT");

    let mut input = zendesk_input(&server);
    input["config"]["base_ulr"] = json!("http://127.0.0.1:1");
    let body = app.gql(&token, CREATE, json!({ "input": input })).await;
    assert_code(&body, "BAD_USER_INPUT");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("base_ulr"),
        "{body}"
    );

    let mut input = zendesk_input(&server);
    input["secrets"] = json!({ "api_token": 12345 });
    let body = app.gql(&token, CREATE, json!({ "input": input })).await;
    assert_code(&body, "BAD_USER_INPUT");
    assert!(!body.to_string().contains("12345"), "{body}");

    let mut input = zendesk_input(&server);
    input["scheduleSeconds"] = json!(5);
    assert_code(
        &app.gql(&token, CREATE, json!({ "input": input })).await,
        "BAD_USER_INPUT",
    );

    // Managing connectors needs its own scope.
    let writer = app.token("acme", &[Scope::Read, Scope::Write]);
    let body = app
        .gql(&writer, CREATE, json!({ "input": zendesk_input(&server) }))
        .await;
    assert_code(&body, "FORBIDDEN");
}

#[tokio::test]
async fn connectors_stay_in_their_workspace() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    app.workspace("rival").await;
    let server = MockServer::start().await;
    let id = create(&app, &app.admin("acme"), zendesk_input(&server)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rival = app.admin("rival");
    for query in [
        "query($id: ID!) { connector(id: $id) { id } }",
        "mutation($id: ID!) { triggerSync(input: { connectorId: $id }) { run { id } } }",
        "mutation($id: ID!) { deleteConnector(input: { id: $id }) { deletedId } }",
    ] {
        assert_code(
            &app.gql(&rival, query, json!({ "id": id })).await,
            "NOT_FOUND",
        );
    }
    let data = app
        .ok(
            &rival,
            "{ connectors(first: 10) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(data["connectors"]["totalCount"], 0);
    let data = app
        .ok(
            &app.admin("acme"),
            "mutation($id: ID!) { deleteConnector(input: { id: $id }) { deletedId } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(data["deleteConnector"]["deletedId"], id);
}

#[tokio::test]
async fn a_schedule_queues_runs_by_itself() {
    let mut settings = quick_sync();
    settings.tick = Duration::from_millis(100);
    let app = spawn_app_with_sync(settings).await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let server = MockServer::start().await;
    zendesk(&server).await;
    let mut input = zendesk_input(&server);
    input["scheduleSeconds"] = json!(3600);
    let id = create(&app, &token, input).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut finished = None;
    for _ in 0..100 {
        let data = app.ok(&token, RUNS, json!({ "id": id })).await;
        if let Some(run) = data["syncRuns"]["nodes"].as_array().unwrap().first()
            && run["status"] == "SUCCEEDED"
        {
            finished = Some(data);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let data = finished.expect("a scheduled run finished");
    // One run: the next is an hour away.
    assert_eq!(data["syncRuns"]["totalCount"], 1);
    assert_eq!(data["syncRuns"]["nodes"][0]["trigger"], "SCHEDULE");
}

/// A Zendesk export whose first page (one ticket) comes at once and whose
/// second takes a minute: a run stopped meanwhile has saved exactly one batch.
async fn one_page_then_a_slow_one() -> MockServer {
    let server = MockServer::start().await;
    let ana = user(501, "Ana Souza", "ana@acme.example");
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .and(query_param_is_missing("cursor"))
        .respond_with(ResponseTemplate::new(200).set_body_json(export_page(
            vec![ticket(1, "open", 501, 1)],
            vec![ana],
            "c1",
            false,
        )))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .and(query_param("cursor", "c1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(export_page(vec![], vec![], "c1", true))
                .set_delay(Duration::from_secs(60)),
        )
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_shutdown_stops_runs_at_a_batch_boundary() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    // The second page takes long enough for the shutdown to arrive first.
    let server = one_page_then_a_slow_one().await;
    let id = create(&app, &token, zendesk_input(&server)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let run = app.ok(&token, TRIGGER, json!({ "id": id })).await["triggerSync"]["run"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Wait for the first batch to be saved, then stop.
    for _ in 0..100 {
        if external_ids(&app, &token, "zendesk").await.len() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::timeout(Duration::from_secs(5), app.sync.shutdown())
        .await
        .expect("the shutdown does not wait for the slow page");
    let run = wait_for(&app, &token, &id, &run).await;
    assert_eq!(run["status"], "CANCELLED");
    assert_eq!(counts(&run), [1, 1, 0, 0, 0, 1]);
}

#[tokio::test]
async fn server_errors_and_rate_limits_are_waited_out() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_json(json!({
                    "error": "APIRateLimitExceeded",
                    "description": "Number of allowed incremental export API requests per minute exceeded"
                })),
        )
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&server)
        .await;
    let ana = user(501, "Ana Souza", "ana@acme.example");
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .respond_with(ResponseTemplate::new(200).set_body_json(export_page(
            vec![ticket(1, "open", 501, 2)],
            vec![ana],
            "c1",
            true,
        )))
        .with_priority(3)
        .mount(&server)
        .await;
    no_events_or_ratings(&server).await;
    let id = create(&app, &token, zendesk_input(&server)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let started = std::time::Instant::now();
    let run = sync(&app, &token, &id).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    assert_eq!(counts(&run), [1, 1, 0, 0, 0, 3]);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was obeyed"
    );
    let exports = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == EXPORT)
        .count();
    assert_eq!(exports, 3, "503, then 429, then the page");
}

#[tokio::test]
async fn two_instances_on_one_database_make_one_run() {
    let (first, second) = spawn_pair().await;
    first.workspace("acme").await;
    let token = first.admin("acme");
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(export_page(vec![], vec![], "c1", true))
                .set_delay(Duration::from_millis(300)),
        )
        .mount(&server)
        .await;
    no_events_or_ratings(&server).await;
    let id = create(&first, &token, zendesk_input(&server)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let vars = json!({ "id": id });
    let (a, b) = tokio::join!(
        first.ok(&token, TRIGGER, vars.clone()),
        second.ok(&token, TRIGGER, vars.clone())
    );
    assert_eq!(a["triggerSync"]["run"]["id"], b["triggerSync"]["run"]["id"]);
    assert_ne!(a["triggerSync"]["queued"], b["triggerSync"]["queued"]);
    let run = wait_for(
        &second,
        &token,
        &id,
        a["triggerSync"]["run"]["id"].as_str().unwrap(),
    )
    .await;
    assert_eq!(run["status"], "SUCCEEDED");
    let exports = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == EXPORT)
        .count();
    assert_eq!(exports, 1, "one instance ran it");
}

#[tokio::test]
async fn a_long_pull_keeps_its_lease() {
    // A lease of 1 s and a page that takes 3 s: without renewals while it
    // pulls, the second instance would take the run for abandoned.
    let settings = SyncSettings {
        lease: Duration::from_secs(1),
        ..quick_sync()
    };
    let (first, second) = spawn_pair_with(settings).await;
    first.workspace("acme").await;
    let token = first.admin("acme");
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(export_page(vec![], vec![], "c1", true))
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&server)
        .await;
    no_events_or_ratings(&server).await;
    let id = create(&first, &token, zendesk_input(&server)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let vars = json!({ "id": id });
    let queued = first.ok(&token, TRIGGER, vars.clone()).await["triggerSync"].clone();
    assert_eq!(queued["queued"], true, "{queued}");
    let run = queued["run"]["id"].clone();
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    let again = second.ok(&token, TRIGGER, vars).await["triggerSync"].clone();
    assert_eq!(again["queued"], false, "{again}");
    assert_eq!(
        again["run"]["id"], run,
        "the running run is still the connector's run"
    );
    let done = wait_for(&second, &token, &id, run.as_str().unwrap()).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let runs = second.ok(&token, RUNS, json!({ "id": id })).await;
    assert_eq!(runs["syncRuns"]["nodes"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_run_abandoned_by_a_stopped_instance_is_closed_and_replaced() {
    // An instance died mid-run: its run is RUNNING with a lapsed lease.
    abandoned_run_is_closed_and_replaced(SyncStatus::Running).await;
}

#[tokio::test]
async fn a_run_queued_by_a_stopped_instance_is_closed_and_replaced() {
    // An instance died between queueing a run and starting it: the run would
    // otherwise block its connector for good.
    abandoned_run_is_closed_and_replaced(SyncStatus::Queued).await;
}

/// A run left `status` a minute ago (twice the tests' 30-second lease) by an
/// instance that stopped is closed as ABANDONED, and the next trigger runs.
async fn abandoned_run_is_closed_and_replaced(status: SyncStatus) {
    let app = spawn_app().await;
    let ws = app.workspace("acme").await;
    let token = app.admin("acme");
    let server = MockServer::start().await;
    zendesk(&server).await;
    let id = create(&app, &token, zendesk_input(&server)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let connector =
        journeys_api::graphql::ids::decode(&async_graphql::ID(id.clone()), NodeType::Connector)
            .unwrap();
    let stale = chrono::Utc::now() - chrono::Duration::minutes(1);
    let dead = sync_run::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        workspace_id: Set(ws),
        connector_id: Set(connector),
        status: Set(status),
        trigger: Set(SyncTrigger::Schedule),
        fetched: Set(0),
        created: Set(0),
        updated: Set(0),
        unchanged: Set(0),
        failed: Set(0),
        batches: Set(0),
        error_code: Set(None),
        error: Set(None),
        queued_at: Set(stale),
        started_at: Set((status == SyncStatus::Running).then_some(stale)),
        finished_at: Set(None),
        lease_expires_at: Set((status == SyncStatus::Running).then_some(stale)),
    }
    .insert(&app.db)
    .await
    .unwrap();
    let run = sync(&app, &token, &id).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    let data = app.ok(&token, RUNS, json!({ "id": id })).await;
    let runs = data["syncRuns"]["nodes"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(
        runs[1]["id"],
        journeys_api::graphql::ids::encode(NodeType::SyncRun, dead.id).0
    );
    assert_eq!(runs[1]["status"], "FAILED");
    assert_eq!(runs[1]["errorCode"], "ABANDONED");
}

#[tokio::test]
async fn journeys_sync_runs_one_sync_in_the_foreground() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let server = MockServer::start().await;
    zendesk(&server).await;
    let id = create(&app, &token, zendesk_input(&server)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (url, connector) = (app.database_url.clone(), id.clone());
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_journeys"))
            .args(["sync", &connector])
            .env("DATABASE_URL", url)
            .env("JOURNEYS_SECRET_KEY", crate::helpers::SECRET_KEY)
            .env("JOURNEYS_LOG", "warn")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with(
            "Succeeded: fetched 5, created 4, updated 0, unchanged 1, failed 0 in 5 batches"
        ),
        "{stdout}"
    );
    let data = app.ok(&token, RUNS, json!({ "id": id })).await;
    assert_eq!(data["syncRuns"]["nodes"][0]["trigger"], "CLI");
    assert_eq!(external_ids(&app, &token, "zendesk").await.len(), 4);
}

#[tokio::test]
async fn an_interrupted_journeys_sync_ends_its_run_cancelled_at_a_batch_boundary() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    // The second page is slow enough for Ctrl-C to arrive while it loads.
    let server = one_page_then_a_slow_one().await;
    let id = create(&app, &token, zendesk_input(&server)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_journeys"))
        .args(["sync", &id])
        .env("DATABASE_URL", &app.database_url)
        .env("JOURNEYS_SECRET_KEY", crate::helpers::SECRET_KEY)
        .env("JOURNEYS_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..250 {
        if external_ids(&app, &token, "zendesk").await.len() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let out = tokio::time::timeout(
        Duration::from_secs(20),
        tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()),
    )
    .await
    .expect("the sync stops without waiting for the slow page")
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with(
            "Cancelled: fetched 1, created 1, updated 0, unchanged 0, failed 0 in 1 batches"
        ),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let data = app.ok(&token, RUNS, json!({ "id": id })).await;
    let run = &data["syncRuns"]["nodes"][0];
    assert_eq!(
        (&run["status"], &run["trigger"]),
        (&json!("CANCELLED"), &json!("CLI"))
    );
    assert_eq!(counts(run), [1, 1, 0, 0, 0, 1]);
}

/// An organisation as the export sideloads it (`include=organizations`), the
/// documented `OrganizationObject`.
fn organization(id: u64, name: &str, domains: &[&str]) -> Value {
    json!({
        "id": id,
        "url": format!("https://acme.zendesk.com/api/v2/organizations/{id}.json"),
        "name": name,
        "domain_names": domains,
        "details": "",
        "notes": "",
        "external_id": null,
        "group_id": null,
        "shared_tickets": false,
        "shared_comments": false,
        "tags": [],
        "organization_fields": {},
        "created_at": "2026-01-10T08:00:00Z",
        "updated_at": "2026-01-10T08:00:00Z",
    })
}

/// A ticket or user of `ticket`/`user`, moved to organisation `org`.
fn in_org(mut value: Value, org: u64) -> Value {
    value["organization_id"] = json!(org);
    value
}

/// Answers the export request made with `cursor` (the first, when `None`).
async fn mount_export(server: &MockServer, cursor: Option<&str>, body: Value) {
    let mock = Mock::given(method("GET")).and(path(EXPORT));
    let mock = match cursor {
        None => mock.and(query_param_is_missing("cursor")),
        Some(c) => mock.and(query_param("cursor", c)),
    };
    mock.respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

/// Every touchpoint of `source`, in `externalId` order.
async fn touchpoints_by_id(app: &TestApp, token: &str, source: &str) -> Vec<Value> {
    let data = app
        .ok(
            token,
            r#"query($s: String!) { touchpoints(filter: {source: $s}, first: 100) { nodes {
                externalId kind score properties updatedAt
                stakeholder { id name } account { id name } } } }"#,
            json!({ "s": source }),
        )
        .await;
    let mut nodes = data["touchpoints"]["nodes"].as_array().unwrap().clone();
    nodes.sort_by_key(|t| t["externalId"].as_str().unwrap().to_owned());
    nodes
}

#[tokio::test]
async fn tickets_land_in_their_organisations_account_when_no_email_domain_matches() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let server = MockServer::start().await;
    create_account(&app, &token, "Acme", &["acme.example"]).await;
    // An account named like one organisation (in another case), with no domains.
    let initech = create_account(&app, &token, "INITECH", &[]).await;
    // No requester's email domain belongs to any account.
    let carol = in_org(user(601, "Carol Reyes", "carol@mail.example"), 7001);
    let dan = in_org(user(602, "Dan Oyelaran", "dan@initech-corp.example"), 7002);
    let mut first = export_page(
        vec![
            in_org(ticket(11, "open", 601, 2), 7001),
            in_org(ticket(12, "open", 602, 3), 7002),
        ],
        vec![carol, dan],
        "c1",
        false,
    );
    first["organizations"] = json!([
        organization(7001, "Globex Corporation", &["globex.example"]),
        organization(7002, "Initech", &["initech.example"]),
    ]);
    mount_export(&server, None, first).await;
    // The next page names organisation 7001 by id alone: no sideload, and a
    // requester at yet another domain.
    let eve = in_org(user(603, "Eve Ito", "eve@elsewhere.example"), 7001);
    let second = export_page(
        vec![in_org(ticket(13, "new", 603, 4), 7001)],
        vec![eve],
        "c2",
        true,
    );
    mount_export(&server, Some("c1"), second).await;
    no_events_or_ratings(&server).await;
    let id = create(&app, &token, zendesk_input(&server)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let run = sync(&app, &token, &id).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    // Two export pages and the empty ratings list.
    assert_eq!(counts(&run), [3, 3, 0, 0, 0, 4], "{run}");

    // An organisation with no account of its name makes one, named as Zendesk
    // has it; one whose name an account has (in any case) lands there.
    let data = app
        .ok(
            &token,
            "{ accounts(first: 10) { totalCount nodes { id name } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["accounts"]["totalCount"], 3, "{data}");
    let mut names: Vec<&str> = data["accounts"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["Acme", "Globex Corporation", "INITECH"]);

    let tickets = touchpoints_by_id(&app, &token, "zendesk").await;
    let placed: Vec<(&str, &str, &str)> = tickets
        .iter()
        .map(|t| {
            (
                t["externalId"].as_str().unwrap(),
                t["stakeholder"]["name"].as_str().unwrap(),
                t["account"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        placed,
        [
            ("ticket:11:opened", "Carol Reyes", "Globex Corporation"),
            ("ticket:12:opened", "Dan Oyelaran", "INITECH"),
            // Organisation 7001 is now mapped: its id alone finds the account.
            ("ticket:13:opened", "Eve Ito", "Globex Corporation"),
        ]
    );
    assert_eq!(tickets[1]["account"]["id"], initech.as_str());
    assert_eq!(tickets[0]["account"]["id"], tickets[2]["account"]["id"]);

    // The requesters joined those accounts, and nobody joined Acme.
    let data = app
        .ok(
            &token,
            "{ stakeholders(first: 10) { nodes { name accounts(first: 5) { nodes { name } } } } }",
            json!({}),
        )
        .await;
    let mut people: Vec<(String, Value)> = data["stakeholders"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["accounts"]["nodes"].clone(),
            )
        })
        .collect();
    people.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        people,
        [
            (
                "Carol Reyes".to_owned(),
                json!([{ "name": "Globex Corporation" }])
            ),
            ("Dan Oyelaran".to_owned(), json!([{ "name": "INITECH" }])),
            (
                "Eve Ito".to_owned(),
                json!([{ "name": "Globex Corporation" }])
            ),
        ]
    );
}

/// A satisfaction rating, as the documented `SatisfactionRatingObject` has one.
fn rating(id: u64, score: &str, ticket: u64, requester: u64, at: &str) -> Value {
    json!({
        "id": id,
        "url": format!("https://acme.zendesk.com/api/v2/satisfaction_ratings/{id}.json"),
        "assignee_id": 135,
        "group_id": 44,
        "requester_id": requester,
        "ticket_id": ticket,
        "score": score,
        "comment": if score == "good" { "Quick and kind" } else { "" },
        "reason": null,
        "created_at": at,
        "updated_at": at,
    })
}

/// A cursor-paginated page of ratings; `after` when there are more.
fn ratings_page(ratings: Vec<Value>, after: Option<&str>) -> Value {
    json!({
        "satisfaction_ratings": ratings,
        "meta": { "has_more": after.is_some(), "after_cursor": after, "before_cursor": null },
        "links": {
            "prev": null,
            "next": after.map(|a| format!("https://acme.zendesk.com/api/v2/satisfaction_ratings.json?page%5Bafter%5D={a}&page%5Bsize%5D=100")),
        },
    })
}

#[tokio::test]
async fn satisfaction_ratings_are_recorded_scored_one_for_good_and_zero_for_bad() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let server = MockServer::start().await;
    create_account(&app, &token, "Acme", &["acme.example"]).await;
    no_ticket_events(&server).await;
    let ana = user(501, "Ana Souza", "ana@acme.example");
    let ben = user(502, "Ben Ode", "ben@acme.example");
    mount_export(
        &server,
        None,
        export_page(
            vec![ticket(1, "solved", 501, 2), ticket(2, "closed", 502, 3)],
            vec![ana, ben],
            "c1",
            true,
        ),
    )
    .await;
    mount_export(&server, Some("c1"), export_page(vec![], vec![], "c1", true)).await;
    // Two pages of ratings: Ana's good one and a survey still unanswered, then
    // Ben's bad one.
    Mock::given(method("GET"))
        .and(path(RATINGS))
        .and(query_param_is_missing("page[after]"))
        .respond_with(ResponseTemplate::new(200).set_body_json(ratings_page(
            vec![
                rating(7001, "good", 1, 501, "2026-03-05T10:00:00Z"),
                rating(7003, "offered", 2, 502, "2026-03-05T11:00:00Z"),
            ],
            Some("r1"),
        )))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(RATINGS))
        .and(query_param("page[after]", "r1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(ratings_page(
            vec![rating(7002, "bad", 2, 502, "2026-03-06T10:00:00Z")],
            None,
        )))
        .mount(&server)
        .await;
    let id = create(&app, &token, zendesk_input(&server)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let run = sync(&app, &token, &id).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    // The export page (two tickets opened and solved), then one rating per
    // ratings page: the offered survey is no rating yet.
    assert_eq!(counts(&run), [6, 6, 0, 0, 0, 4], "{run}");

    let data = app
        .ok(
            &token,
            r#"{ touchpoints(filter: {source: "zendesk", kinds: ["satisfaction.rated"]}, first: 10) {
                totalCount nodes { externalId channel score title properties occurredAt
                                   stakeholder { name email } account { name } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(data["touchpoints"]["totalCount"], 2, "{data}");
    let mut ratings = data["touchpoints"]["nodes"].as_array().unwrap().clone();
    ratings.sort_by_key(|t| t["externalId"].as_str().unwrap().to_owned());
    let seen: Vec<(&str, Option<f64>, &str, &str)> = ratings
        .iter()
        .map(|t| {
            (
                t["externalId"].as_str().unwrap(),
                t["score"].as_f64(),
                t["properties"]["rating"].as_str().unwrap(),
                t["stakeholder"]["email"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("satisfaction:7001", Some(1.0), "good", "ana@acme.example"),
            ("satisfaction:7002", Some(0.0), "bad", "ben@acme.example"),
        ]
    );
    assert_eq!(ratings[0]["channel"], "SUPPORT");
    assert_eq!(ratings[0]["title"], "Rated good");
    assert_eq!(ratings[0]["properties"]["ticket_id"], 1);
    assert_eq!(ratings[1]["occurredAt"], "2026-03-06T10:00:00+00:00");
    assert_eq!(ratings[1]["account"]["name"], "Acme");
    // The tickets themselves carry no score.
    let tickets = touchpoints_by_id(&app, &token, "zendesk").await;
    let unscored = tickets
        .iter()
        .filter(|t| t["kind"] != "satisfaction.rated")
        .all(|t| t["score"].is_null());
    assert!(unscored, "{tickets:?}");

    // CSAT scores are not NPS answers.
    let nps = app
        .ok(
            &token,
            r#"{ nps(from: "2026-01-01T00:00:00Z", to: "2027-01-01T00:00:00Z") { score responses detractors } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        nps["nps"],
        json!({ "score": null, "responses": 0, "detractors": 0 })
    );

    // The next poll is answered the same ratings again, and passes over
    // those at or before the last one recorded (by time, then id): nothing
    // is re-read.
    let again = sync(&app, &token, &id).await;
    assert_eq!(again["status"], "SUCCEEDED", "{again}");
    assert_eq!(counts(&again), [0, 0, 0, 0, 0, 4], "{again}");
}

/// Every connector row, in any workspace.
async fn connector_rows(app: &TestApp) -> i64 {
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM connectors",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "n").unwrap()
}

#[tokio::test]
async fn a_refused_connector_input_writes_no_row() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let server = MockServer::start().await;

    // A config value of the wrong type. (That the message names the field is
    // `a_config_value_of_the_wrong_type_is_refused_naming_it`.)
    let mut input = zendesk_input(&server);
    input["config"]["export_requests_per_minute"] = json!("ten");
    let body = app.gql(&token, CREATE, json!({ "input": input })).await;
    assert_code(&body, "BAD_USER_INPUT");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("config.export_requests_per_minute: "),
        "{body}"
    );

    // A required secret left out.
    let mut input = zendesk_input(&server);
    input["secrets"]
        .as_object_mut()
        .unwrap()
        .remove("api_token");
    let body = app.gql(&token, CREATE, json!({ "input": input })).await;
    assert_code(&body, "BAD_USER_INPUT");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("secrets: ") && message.contains("`api_token`"),
        "{body}"
    );

    let data = app
        .ok(
            &token,
            "{ connectors(first: 10) { totalCount nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["connectors"],
        json!({ "totalCount": 0, "nodes": [] }),
        "{data}"
    );
    assert_eq!(connector_rows(&app).await, 0);
    // The same input, put right, is accepted: the refusals were about the field.
    create(&app, &token, zendesk_input(&server)).await;
    let data = app
        .ok(
            &token,
            "{ connectors(first: 10) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(data["connectors"]["totalCount"], 1);
    assert_eq!(connector_rows(&app).await, 1);
}

#[tokio::test]
async fn a_config_value_of_the_wrong_type_is_refused_naming_it() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let server = MockServer::start().await;
    for (field, wrong) in [
        ("export_requests_per_minute", json!("ten")),
        ("base_url", json!(42)),
        ("start_time", json!("yesterday")),
    ] {
        let mut input = zendesk_input(&server);
        input["config"][field] = wrong;
        let body = app.gql(&token, CREATE, json!({ "input": input })).await;
        assert_code(&body, "BAD_USER_INPUT");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(field), "{field}: {body}");
    }
    assert_eq!(connector_rows(&app).await, 0);
}
