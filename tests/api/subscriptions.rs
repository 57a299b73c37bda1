//! Subscriptions over a real WebSocket at `/graphql`: both protocols, the
//! token in `connection_init`, replay from a cursor then live, workspaces
//! apart, scopes and limits as over HTTP, and events written through one
//! instance reaching a subscriber on another.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use journeys_api::auth::{Scope, mint_hs256};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use entity::vocab::EventType;
use journeys::ws::SubscriptionSettings;
use journeys_core::events::{self, NewEvent};

use crate::helpers::{
    SECRET, ServerSettings, TestApp, create_account, record, spawn_app, spawn_app_with_settings,
    spawn_pair,
};

pub struct Socket(WebSocketStream<MaybeTlsStream<TcpStream>>);

impl Socket {
    async fn open(app: &TestApp, protocol: &str) -> Self {
        Self::open_at(&app.addr.to_string(), protocol).await
    }

    /// A socket to the server at `addr` (`host:port`).
    pub async fn open_at(addr: &str, protocol: &str) -> Self {
        let stream = TcpStream::connect(addr).await.unwrap();
        Self::open_on(stream, addr, protocol).await
    }

    async fn open_on(stream: TcpStream, addr: &str, protocol: &str) -> Self {
        let url = format!("ws://{addr}/graphql");
        let mut request = url.into_client_request().unwrap();
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", protocol.parse().unwrap());
        let (socket, response) =
            tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream))
                .await
                .expect("WebSocket handshake");
        assert_eq!(
            response.headers()["sec-websocket-protocol"],
            protocol,
            "the server speaks the offered protocol"
        );
        Self(socket)
    }

    /// Opens a `graphql-transport-ws` socket and has `token` accepted.
    async fn accepted(app: &TestApp, token: &str) -> Self {
        Self::accepted_at(&app.addr.to_string(), token).await
    }

    pub async fn accepted_at(addr: &str, token: &str) -> Self {
        let mut socket = Self::open_at(addr, "graphql-transport-ws").await;
        socket.init(token).await;
        assert_eq!(socket.next().await["type"], "connection_ack");
        socket
    }

    async fn send(&mut self, message: Value) {
        self.0
            .send(Message::text(message.to_string()))
            .await
            .expect("send");
    }

    async fn init(&mut self, token: &str) {
        let payload = json!({ "authorization": format!("Bearer {token}") });
        self.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
    }

    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        let payload = json!({ "query": query, "variables": variables });
        self.send(json!({ "id": id, "type": "subscribe", "payload": payload }))
            .await;
    }

    /// The next message other than a keep-alive, within five seconds.
    async fn next(&mut self) -> Value {
        self.next_within(Duration::from_secs(5))
            .await
            .expect("a message within the time")
    }

    pub async fn next_within(&mut self, limit: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let message = tokio::time::timeout_at(deadline, self.0.next())
                .await
                .ok()?;
            match message.expect("the socket is open").expect("a frame") {
                Message::Text(text) => {
                    let value: Value = serde_json::from_str(&text).unwrap();
                    if matches!(value["type"].as_str(), Some("ping" | "ka")) {
                        continue;
                    }
                    return Some(value);
                }
                Message::Close(frame) => panic!("closed: {frame:?}"),
                _ => {}
            }
        }
    }

    /// The next `next` message's data for subscription `id`.
    async fn data(&mut self, id: &str) -> Value {
        let message = self.next().await;
        assert_eq!(message["type"], "next", "{message}");
        assert_eq!(message["id"], id, "{message}");
        assert!(message["payload"].get("errors").is_none(), "{message}");
        message["payload"]["data"].clone()
    }

    /// How the server closed the socket, within five seconds.
    async fn closed(&mut self) -> (CloseCode, String) {
        let wait = tokio::time::timeout(Duration::from_secs(5), async {
            while let Some(message) = self.0.next().await {
                if let Ok(Message::Close(Some(frame))) = message {
                    return Some((frame.code, frame.reason.to_string()));
                }
            }
            None
        });
        wait.await
            .expect("closed within the time")
            .expect("a close frame")
    }
}

pub fn visit(id: &str, email: &str, at: &str) -> Value {
    json!({ "externalId": id, "channel": "WEB", "kind": "page.visited",
            "occurredAt": at, "person": { "email": email } })
}

pub const TOUCHPOINTS: &str = r#"subscription($filter: TouchpointRecordedFilter) {
  touchpointRecorded(filter: $filter) { externalId kind channel account { name } }
}"#;

const EVENTS: &str = r#"subscription($after: String, $types: [EventType!]) {
  events(after: $after, types: $types) { sequence type cursor touchpointId }
}"#;

#[tokio::test]
async fn a_touchpoint_recorded_over_http_arrives_on_the_socket() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    create_account(&app, &token, "Initech", &["initech.com"]).await;
    let mut socket = Socket::accepted(&app, &token).await;
    let filter = json!({ "filter": { "channels": ["WEB"], "kinds": ["page.visited"] } });
    socket.subscribe("1", TOUCHPOINTS, filter).await;
    // Subscribing happens in the background: give it a moment to start.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let email = json!({ "externalId": "e1", "channel": "EMAIL", "kind": "email.opened",
                        "occurredAt": "2026-03-01T09:00:00Z", "person": { "email": "ada@initech.com" } });
    let batch = json!([
        email,
        visit("v1", "ada@initech.com", "2026-03-01T10:00:00Z")
    ]);
    record(&app, &token, batch).await;
    let data = socket.data("1").await;
    let touchpoint = &data["touchpointRecorded"];
    assert_eq!(
        touchpoint["externalId"], "v1",
        "the email is filtered out: {data}"
    );
    assert_eq!(touchpoint["account"]["name"], "Initech");
}

#[tokio::test]
async fn events_replay_from_a_cursor_then_go_live_each_once() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    create_account(&app, &token, "Initech", &["initech.com"]).await;
    record(
        &app,
        &token,
        json!([visit("v1", "ada@initech.com", "2026-03-01T10:00:00Z")]),
    )
    .await;
    let logged = app
        .ok(
            &token,
            "{ events(first: 100) { nodes { sequence cursor } } }",
            json!({}),
        )
        .await;
    let logged = logged["events"]["nodes"].as_array().unwrap().clone();
    assert!(logged.len() >= 2, "{logged:?}");
    let mut socket = Socket::accepted(&app, &token).await;
    socket
        .subscribe("e", EVENTS, json!({ "after": logged[0]["cursor"] }))
        .await;
    let mut seen = vec![];
    for _ in 1..logged.len() {
        seen.push(
            socket.data("e").await["events"]["sequence"]
                .as_i64()
                .unwrap(),
        );
    }
    record(
        &app,
        &token,
        json!([visit("v2", "ada@initech.com", "2026-03-02T10:00:00Z")]),
    )
    .await;
    let live = socket.data("e").await;
    seen.push(live["events"]["sequence"].as_i64().unwrap());
    assert_eq!(live["events"]["type"], "TOUCHPOINT_RECORDED", "{live}");
    let expected: Vec<i64> = (2..=seen.len() as i64 + 1).collect();
    assert_eq!(
        seen, expected,
        "the replay, then live: nothing missed, nothing twice"
    );
    assert!(
        socket
            .next_within(Duration::from_millis(500))
            .await
            .is_none(),
        "nothing more"
    );
}

#[tokio::test]
async fn a_socket_without_a_valid_token_is_closed_4401_or_4403() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let mut socket = Socket::open(&app, "graphql-transport-ws").await;
    socket
        .send(json!({ "type": "connection_init", "payload": {} }))
        .await;
    assert_eq!(socket.closed().await.0, CloseCode::from(4401));

    let mut socket = Socket::open(&app, "graphql-transport-ws").await;
    socket.init("not-a-token").await;
    assert_eq!(socket.closed().await.0, CloseCode::from(4403));

    let other_secret = "another-secret-0123456789abcdef0123456789";
    let forged = mint_hs256(
        other_secret,
        "x",
        "acme",
        &Scope::ALL,
        chrono::Duration::hours(1),
    )
    .unwrap();
    let mut socket = Socket::open(&app, "graphql-transport-ws").await;
    socket.init(&forged).await;
    assert_eq!(socket.closed().await.0, CloseCode::from(4403));

    let mut socket = Socket::open(&app, "graphql-transport-ws").await;
    socket.subscribe("1", EVENTS, json!({})).await;
    assert_eq!(
        socket.closed().await.0,
        CloseCode::from(4401),
        "an operation before connection_init"
    );
}

#[tokio::test]
async fn an_expired_token_ends_the_connection() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = mint_hs256(
        SECRET,
        "tester",
        "acme",
        &Scope::ALL,
        chrono::Duration::seconds(2),
    )
    .unwrap();
    let mut socket = Socket::accepted(&app, &token).await;
    socket.subscribe("e", EVENTS, json!({})).await;
    let (code, reason) = socket.closed().await;
    assert_eq!(code, CloseCode::from(4403));
    assert!(reason.contains("expired"), "{reason}");
}

#[tokio::test]
async fn the_legacy_graphql_ws_protocol_is_spoken_too() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let mut socket = Socket::open(&app, "graphql-ws").await;
    socket.init(&token).await;
    assert_eq!(socket.next().await["type"], "connection_ack");
    let payload = json!({ "query": EVENTS, "variables": {} });
    socket
        .send(json!({ "id": "1", "type": "start", "payload": payload }))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    create_account(&app, &token, "Initech", &["initech.com"]).await;
    record(
        &app,
        &token,
        json!([visit("v1", "ada@initech.com", "2026-03-01T10:00:00Z")]),
    )
    .await;
    let message = socket.next().await;
    assert_eq!(message["type"], "data", "{message}");
    assert_eq!(message["id"], "1");
    assert!(
        message["payload"]["data"]["events"]["sequence"].is_i64(),
        "{message}"
    );
}

#[tokio::test]
async fn events_never_cross_workspaces() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    app.workspace("globex").await;
    let (acme, globex) = (app.admin("acme"), app.admin("globex"));
    let mut socket = Socket::accepted(&app, &acme).await;
    socket.subscribe("t", TOUCHPOINTS, json!({})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    record(
        &app,
        &globex,
        json!([visit("g1", "hank@globex.com", "2026-03-01T10:00:00Z")]),
    )
    .await;
    record(
        &app,
        &acme,
        json!([visit("a1", "ada@initech.com", "2026-03-01T10:00:00Z")]),
    )
    .await;
    let data = socket.data("t").await;
    assert_eq!(
        data["touchpointRecorded"]["externalId"], "a1",
        "Globex's touchpoint never reaches Acme: {data}"
    );
}

#[tokio::test]
async fn scopes_and_limits_apply_as_over_http() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.token("acme", &[Scope::ConnectorsManage]);
    let mut socket = Socket::accepted(&app, &token).await;
    socket.subscribe("e", EVENTS, json!({})).await;
    let refused = socket.next().await;
    assert_eq!(refused["type"], "next", "{refused}");
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );
    assert_eq!(socket.next().await["type"], "complete");

    let aliases: String = (0..10_000)
        .map(|i| format!("a{i}: events {{ sequence }} "))
        .collect();
    let admin = app.admin("acme");
    let mut socket = Socket::accepted(&app, &admin).await;
    socket
        .subscribe("big", &format!("subscription {{ {aliases} }}"), json!({}))
        .await;
    let refused = socket.next().await;
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX",
        "{refused}"
    );

    let mut socket = Socket::accepted(&app, &admin).await;
    socket
        .subscribe("bad", EVENTS, json!({ "after": "not-a-cursor" }))
        .await;
    let refused = socket.next().await;
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{refused}"
    );
}

#[tokio::test]
async fn an_event_written_through_one_instance_reaches_a_subscriber_on_another() {
    let (first, second) = spawn_pair().await;
    first.workspace("acme").await;
    let token = first.admin("acme");
    create_account(&first, &token, "Initech", &["initech.com"]).await;
    let mut socket = Socket::accepted(&second, &token).await;
    socket.subscribe("t", TOUCHPOINTS, json!({})).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    for (n, id) in ["v1", "v2", "v3"].iter().enumerate() {
        let at = format!("2026-03-0{}T10:00:00Z", n + 1);
        record(&first, &token, json!([visit(id, "ada@initech.com", &at)])).await;
        let message = socket
            .next_within(Duration::from_secs(1))
            .await
            .expect("within a second of its commit");
        assert_eq!(
            message["payload"]["data"]["touchpointRecorded"]["externalId"], *id,
            "{message}"
        );
    }
}

#[tokio::test]
async fn stage_and_lifecycle_changes_arrive_as_they_commit() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    create_account(&app, &token, "Initech", &["initech.com"]).await;
    let mut socket = Socket::accepted(&app, &token).await;
    let stages = "subscription { journeyStageChanged { account { name } stage { name } fromStage { name } model { name } } }";
    socket.subscribe("s", stages, json!({})).await;
    let lifecycle = "subscription { lifecycleChanged { from to cause } }";
    socket.subscribe("l", lifecycle, json!({})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    record(
        &app,
        &token,
        json!([visit("v1", "ada@initech.com", "2026-03-01T10:00:00Z")]),
    )
    .await;
    let (mut stage, mut lead) = (None, None);
    while stage.is_none() || lead.is_none() {
        let message = socket.next().await;
        let data = &message["payload"]["data"];
        match message["id"].as_str() {
            Some("s") => stage = Some(data["journeyStageChanged"].clone()),
            Some("l") if data["lifecycleChanged"]["to"] == "LEAD" => {
                lead = Some(data["lifecycleChanged"].clone());
            }
            _ => {}
        }
    }
    let stage = stage.unwrap();
    assert_eq!(stage["account"]["name"], "Initech", "{stage}");
    assert!(stage["stage"]["name"].is_string(), "{stage}");
    assert!(stage["fromStage"].is_null(), "the first stage: {stage}");
    assert!(lead.unwrap()["cause"].is_string());
}

#[tokio::test]
async fn a_sync_runs_changes_arrive_for_its_connector() {
    use crate::connectors::{EXPORT, create, export_page, no_events_or_ratings, zendesk_input};
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(export_page(vec![], vec![], "c1", true))
                .set_delay(Duration::from_millis(700)),
        )
        .mount(&server)
        .await;
    no_events_or_ratings(&server).await;
    let connector = create(&app, &token, zendesk_input(&server)).await;
    let id = connector["id"].as_str().unwrap().to_owned();
    let mut socket = Socket::accepted(&app, &token).await;
    let runs = "subscription($id: ID!) { syncRunUpdated(connectorId: $id) { status trigger } }";
    socket.subscribe("r", runs, json!({ "id": id })).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let trigger = "mutation($id: ID!) { triggerSync(input: { connectorId: $id }) { queued } }";
    app.ok(&token, trigger, json!({ "id": id })).await;
    let mut statuses = vec![];
    while statuses.last().map(String::as_str) != Some("SUCCEEDED") {
        let data = socket.data("r").await;
        statuses.push(
            data["syncRunUpdated"]["status"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    // Each message shows the run as it is when sent: the export's delay
    // lets the running run be seen before it finishes.
    assert!(statuses.len() >= 2, "{statuses:?}");
    assert!(
        statuses[..statuses.len() - 1]
            .iter()
            .all(|s| s == "QUEUED" || s == "RUNNING"),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn an_idle_connection_is_pinged() {
    let app = spawn_app_with_settings(ServerSettings {
        subscriptions: SubscriptionSettings {
            keepalive: Duration::from_millis(200),
            ..SubscriptionSettings::default()
        },
        ..ServerSettings::default()
    })
    .await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let mut socket = Socket::accepted(&app, &token).await;
    let frame = tokio::time::timeout(Duration::from_secs(2), socket.0.next())
        .await
        .expect("a ping within the time")
        .unwrap()
        .unwrap();
    let message: Value = serde_json::from_str(frame.to_text().unwrap()).unwrap();
    assert_eq!(message["type"], "ping");
}

/// A subscriber that stops reading is let go once its socket stops taking
/// messages, and never holds back another.
#[tokio::test]
async fn a_subscriber_that_falls_behind_is_dropped_and_stalls_no_one() {
    let app = spawn_app_with_settings(ServerSettings {
        subscriptions: SubscriptionSettings {
            send_timeout: Duration::from_millis(500),
            ..SubscriptionSettings::default()
        },
        ..ServerSettings::default()
    })
    .await;
    let ws = app.workspace("acme").await;
    let token = app.admin("acme");
    create_account(&app, &token, "Initech", &["initech.com"]).await;
    // Far more than a socket's buffers hold: 20,000 messages of about 4 kB.
    const BACKLOG: usize = 20_000;
    let backlog = (0..BACKLOG)
        .map(|_| NewEvent::connector(EventType::ConnectorUpdated, uuid::Uuid::now_v7()))
        .collect();
    events::append(&app.db, ws, backlog).await.unwrap();
    let first = app
        .ok(
            &token,
            "{ events(first: 1) { nodes { cursor } } }",
            json!({}),
        )
        .await;
    // A client with a small receive buffer, as a phone on a slow network:
    // the kernel does not grow it while nobody reads.
    let tcp = tokio::net::TcpSocket::new_v4().unwrap();
    tcp.set_recv_buffer_size(4096).unwrap();
    let stream = tcp.connect(app.addr).await.unwrap();
    let mut slow = Socket::open_on(stream, &app.addr.to_string(), "graphql-transport-ws").await;
    slow.init(&token).await;
    assert_eq!(slow.next().await["type"], "connection_ack");
    let wide: String = (0..40).map(|i| format!("c{i}: cursor ")).collect();
    let wide = format!("subscription($after: String) {{ events(after: $after) {{ {wide} }} }}");
    slow.subscribe(
        "e",
        &wide,
        json!({ "after": first["events"]["nodes"][0]["cursor"] }),
    )
    .await;
    let mut fast = Socket::accepted(&app, &token).await;
    fast.subscribe("t", TOUCHPOINTS, json!({})).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    record(
        &app,
        &token,
        json!([visit("v1", "ada@initech.com", "2026-03-01T10:00:00Z")]),
    )
    .await;
    let data = fast.data("t").await;
    assert_eq!(data["touchpointRecorded"]["externalId"], "v1");
    // The slow one now reads what reached it, and then the end.
    let mut received = 0;
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(Ok(frame)) = slow.0.next().await {
            match frame {
                Message::Text(_) => received += 1,
                Message::Close(_) => break,
                _ => {}
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the server let the connection go");
    assert!(
        received < BACKLOG,
        "{received} messages: the server stopped sending to a reader that took none"
    );
}

#[tokio::test]
async fn a_stopping_server_closes_its_sockets_at_once() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let mut socket = Socket::accepted(&app, &token).await;
    socket.subscribe("e", EVENTS, json!({})).await;
    let started = tokio::time::Instant::now();
    let ((code, reason), ()) = tokio::join!(socket.closed(), app.stop_gracefully());
    assert_eq!(code, CloseCode::Away, "{reason}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the graceful stop did not wait out its 30 s for the socket"
    );
}
