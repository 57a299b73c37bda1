//! Zendesk as the OpenAPI examples show it, on a local wiremock server, and a
//! sync loop that drives the connector the way the server's runtime does.
#![allow(dead_code)] // each test binary uses its own share of the fixtures

use std::time::Duration;

use journeys_plugin_sdk::{Connector, HttpClient, PullError, RetryPolicy, Touchpoint};
use journeys_plugin_zendesk::{Config, Cursor, Secrets, Zendesk};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const EXPORT: &str = "/api/v2/incremental/tickets/cursor";
pub const RATINGS: &str = "/api/v2/satisfaction_ratings";
pub const TICKET_EVENTS: &str = "/api/v2/incremental/ticket_events";
pub const SHOW_MANY: &str = "/api/v2/tickets/show_many";
pub const EMAIL: &str = "ops@acme.example";
pub const API_TOKEN: &str = "zd-api-t0ken";
pub const SIGNING_SECRET: &str = "zd-signing-secret";
/// `Basic base64("ops@acme.example/token:zd-api-t0ken")`, computed with
/// `python3 -c 'import base64; print(base64.b64encode(b"ops@acme.example/token:zd-api-t0ken"))'`.
pub const AUTHORIZATION: &str = "Basic b3BzQGFjbWUuZXhhbXBsZS90b2tlbjp6ZC1hcGktdDBrZW4=";

pub fn quick_http() -> HttpClient {
    HttpClient::new(RetryPolicy {
        max_attempts: 3,
        min_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        max_rate_limit_wait: Duration::from_secs(5),
        default_rate_limit_wait: Duration::from_millis(100),
        timeout: Duration::from_secs(5),
    })
}

pub fn config(server: &MockServer) -> Config {
    Config {
        base_url: server.uri(),
        email: EMAIL.into(),
        start_time: None,
        export_requests_per_minute: Some(6000),
    }
}

pub fn secrets() -> Secrets {
    Secrets {
        api_token: API_TOKEN.into(),
        webhook_signing_secret: Some(SIGNING_SECRET.into()),
    }
}

pub fn connector(server: &MockServer) -> Zendesk {
    Zendesk::new(config(server), secrets(), quick_http()).expect("a valid config")
}

/// One ticket in the shape of the export's documented example.
pub fn ticket(id: u64, status: &str, requester: u64, org: Option<u64>, day: u32) -> Value {
    json!({
        "assignee_id": 235323,
        "collaborator_ids": [],
        "created_at": format!("2026-03-{day:02}T09:00:00Z"),
        "custom_fields": [{ "id": 27642, "value": "745" }],
        "description": format!("Description of {id}"),
        "due_at": null,
        "external_id": null,
        "follower_ids": [],
        "generated_timestamp": 1_772_000_000 + u64::from(day),
        "group_id": 98738,
        "has_incidents": false,
        "id": id,
        "organization_id": org,
        "priority": "high",
        "problem_id": null,
        "raw_subject": format!("Subject {id}"),
        "recipient": "support@acme.example",
        "requester_id": requester,
        "satisfaction_rating": null,
        "sharing_agreement_ids": [],
        "status": status,
        "subject": format!("Subject {id}"),
        "submitter_id": requester,
        "tags": ["enterprise", "other_tag"],
        "type": "incident",
        "updated_at": format!("2026-03-{:02}T12:30:00Z", day + 1),
        "url": format!("https://acme.zendesk.com/api/v2/tickets/{id}.json"),
        "via": { "channel": "web" }
    })
}

/// A sideloaded user, as `UserObject` documents it.
pub fn user(id: u64, name: &str, email: &str, org: Option<u64>) -> Value {
    json!({
        "active": true,
        "created_at": "2025-07-20T22:55:29Z",
        "email": email,
        "external_id": null,
        "id": id,
        "locale": "en-US",
        "name": name,
        "organization_id": org,
        "role": "end-user",
        "suspended": false,
        "tags": [],
        "time_zone": "Copenhagen",
        "updated_at": "2026-03-01T00:00:00Z",
        "url": format!("https://acme.zendesk.com/api/v2/users/{id}.json"),
        "verified": true
    })
}

/// A sideloaded agent, as `UserObject` documents one.
pub fn agent(id: u64, name: &str, email: &str) -> Value {
    let mut agent = user(id, name, email, None);
    agent["role"] = json!("agent");
    agent
}

/// One ticket update of the ticket events export, as Zendesk's "Exporting
/// ticket events" describes it (`via` a string, `system` the client).
pub fn ticket_event(id: u64, ticket: u64, updater: i64, when: &str, children: Vec<Value>) -> Value {
    json!({
        "id": id,
        "ticket_id": ticket,
        "timestamp": at(when).timestamp(),
        "created_at": when,
        "updater_id": updater,
        "via": "Web form",
        "system": { "client": "Mozilla/5.0", "ip_address": "127.0.0.1", "location": "", "latitude": 0, "longitude": 0 },
        "event_type": "Audit",
        "merged_ticket_ids": [],
        "child_events": children
    })
}

/// A status change child event: the field as key, with `previous_value`.
pub fn status_change(id: u64, from: &str, to: &str) -> Value {
    json!({
        "id": id,
        "via": "Web form",
        "via_reference_id": null,
        "comment_present": false,
        "comment_public": false,
        "status": to,
        "previous_value": from,
        "event_type": "Change"
    })
}

/// A comment child event, as the `comment_events` sideload documents it.
pub fn comment_event(id: u64, author: i64, public: bool, body: &str, when: &str) -> Value {
    json!({
        "id": id,
        "via": { "channel": "web", "source": { "from": {}, "to": {}, "rel": null } },
        "via_reference_id": null,
        "type": "Comment",
        "author_id": author,
        "body": body,
        "html_body": format!("<div class=\"zd-comment\"><p dir=\"auto\">{body}</p></div>"),
        "public": public,
        "attachments": [],
        "audit_id": id - 20,
        "created_at": when,
        "event_type": "Comment"
    })
}

/// An `ExportIncrementalTicketEventsResponse`.
pub fn events_page(events: Vec<Value>, end_time: Option<i64>, end: bool) -> Value {
    json!({
        "count": events.len(),
        "end_of_stream": end,
        "end_time": end_time,
        "next_page": end_time.map(|t| format!("https://acme.zendesk.com/api/v2/incremental/ticket_events.json?start_time={t}")),
        "ticket_events": events
    })
}

/// Answers the ticket events request made with `start_time` (any, when `None`).
pub async fn mount_ticket_events(server: &MockServer, start_time: Option<i64>, body: Value) {
    let mock = Mock::given(method("GET")).and(path(TICKET_EVENTS));
    let mock = match start_time {
        Some(t) => mock.and(query_param("start_time", t.to_string())),
        None => mock,
    };
    mock.respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

/// Answers `show_many` (any ids) with these tickets and sideloads, as
/// `TicketsResponse` documents it.
pub async fn mount_show_many(
    server: &MockServer,
    tickets: Vec<Value>,
    users: Vec<Value>,
    organizations: Vec<Value>,
) {
    let body = json!({
        "count": tickets.len(),
        "next_page": null,
        "previous_page": null,
        "tickets": tickets,
        "users": users,
        "organizations": organizations
    });
    Mock::given(method("GET"))
        .and(path(SHOW_MANY))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

pub async fn no_ticket_events(server: &MockServer) {
    mount_ticket_events(server, None, events_page(vec![], None, true)).await;
}

/// A sideloaded organisation, as `OrganizationObject` documents it.
pub fn organization(id: u64, name: &str) -> Value {
    json!({
        "created_at": "2018-11-14T00:14:52Z",
        "details": "",
        "domain_names": ["acme.example"],
        "external_id": null,
        "group_id": null,
        "id": id,
        "name": name,
        "notes": "",
        "organization_fields": {},
        "shared_comments": false,
        "shared_tickets": false,
        "tags": [],
        "updated_at": "2018-11-14T00:54:22Z",
        "url": format!("https://acme.zendesk.com/api/v2/organizations/{id}.json")
    })
}

/// A `CursorBasedExportIncrementalTicketsResponse` with its sideloads.
pub fn export_page(
    tickets: Vec<Value>,
    users: Vec<Value>,
    organizations: Vec<Value>,
    after: Option<&str>,
    end: bool,
) -> Value {
    json!({
        "after_cursor": after,
        "after_url": after.map(|a| format!("https://acme.zendesk.com/api/v2/incremental/tickets/cursor.json?cursor={a}")),
        "before_cursor": null,
        "before_url": null,
        "end_of_stream": end,
        "tickets": tickets,
        "users": users,
        "organizations": organizations
    })
}

/// A satisfaction rating, as the documented example shows one.
pub fn rating(id: u64, score: &str, ticket: u64, requester: u64, created: &str) -> Value {
    json!({
        "assignee_id": 135,
        "comment": if score == "good" { "Awesome support!" } else { "" },
        "created_at": created,
        "group_id": 44,
        "id": id,
        "reason": null,
        "requester_id": requester,
        "score": score,
        "ticket_id": ticket,
        "updated_at": created,
        "url": format!("https://acme.zendesk.com/api/v2/satisfaction_ratings/{id}.json")
    })
}

/// A cursor-paginated page of ratings: `meta` and `links` as documented.
pub fn ratings_page(ratings: Vec<Value>, after: Option<&str>) -> Value {
    json!({
        "satisfaction_ratings": ratings,
        "meta": { "has_more": after.is_some(), "after_cursor": after, "before_cursor": null },
        "links": {
            "prev": null,
            "next": after.map(|a| format!("https://acme.zendesk.com/api/v2/satisfaction_ratings.json?page%5Bafter%5D={a}&page%5Bsize%5D=100"))
        }
    })
}

/// Answers the export request made with `cursor` (or the first one, by
/// `start_time`, when `None`).
pub async fn mount_export(server: &MockServer, cursor: Option<&str>, body: Value) {
    let mock = Mock::given(method("GET")).and(path(EXPORT));
    let mock = match cursor {
        Some(c) => mock.and(query_param("cursor", c)),
        None => mock.and(query_param_is_missing("cursor")),
    };
    mock.respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

/// Answers the ratings request made with `page[after]` (or the first page).
pub async fn mount_ratings(server: &MockServer, after: Option<&str>, body: Value) {
    let mock = Mock::given(method("GET")).and(path(RATINGS));
    let mock = match after {
        Some(a) => mock.and(query_param("page[after]", a)),
        None => mock.and(query_param_is_missing("page[after]")),
    };
    mock.respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

pub async fn no_ratings(server: &MockServer) {
    mount_ratings(server, None, ratings_page(vec![], None)).await;
}

/// What a sync run produced.
#[derive(Debug)]
pub struct Run {
    pub touchpoints: Vec<Touchpoint>,
    pub cursor: Cursor,
    pub batches: usize,
}

/// Pulls like the runtime: each batch's cursor is saved (as JSON) and passed
/// to the next pull while `more`.
pub async fn sync(connector: &mut Zendesk, cursor: Cursor) -> Result<Run, PullError> {
    sync_at_most(connector, cursor, usize::MAX).await
}

/// [`sync`], stopping after `limit` batches as if the process were killed.
pub async fn sync_at_most(
    connector: &mut Zendesk,
    mut cursor: Cursor,
    limit: usize,
) -> Result<Run, PullError> {
    let mut run = Run {
        touchpoints: Vec::new(),
        cursor: Cursor::default(),
        batches: 0,
    };
    loop {
        let batch = connector.pull(cursor).await?;
        run.batches += 1;
        run.touchpoints.extend(batch.touchpoints);
        let saved = serde_json::to_value(&batch.cursor).expect("a cursor is JSON");
        cursor = serde_json::from_value(saved).expect("a saved cursor reads back");
        if !batch.more || run.batches == limit {
            run.cursor = cursor;
            return Ok(run);
        }
        assert!(run.batches < 100, "the sync does not end");
    }
}

pub fn external_ids(touchpoints: &[Touchpoint]) -> Vec<&str> {
    touchpoints.iter().map(|t| t.external_id.as_str()).collect()
}

/// The query parameters of the requests made to `endpoint`, in order.
pub async fn queries(server: &MockServer, endpoint: &str) -> Vec<Vec<(String, String)>> {
    server
        .received_requests()
        .await
        .expect("requests are recorded")
        .iter()
        .filter(|r| r.url.path() == endpoint)
        .map(|r| r.url.query_pairs().into_owned().collect())
        .collect()
}

pub fn at(rfc3339: &str) -> chrono::DateTime<chrono::Utc> {
    rfc3339.parse().expect("a test timestamp")
}
