//! GraphQL over WebSocket at `/graphql`: the `graphql-transport-ws`
//! protocol, and the legacy `graphql-ws` (subscriptions-transport-ws).
//!
//! The token arrives in `connection_init` (`payload.authorization`, as
//! `Bearer <token>` or bare), or in the upgrade request's `Authorization`.
//! Until a valid one is accepted nothing runs: no token closes the socket
//! with 4401, a bad, expired or revoked one with 4403, no `connection_init`
//! within [`INIT_TIMEOUT`] with 4408. The token's expiry ends the
//! connection (4403). Every operation passes the same limits as over HTTP
//! and draws on the caller's rate limit.
//!
//! Memory per connection is bounded: messages from the client wait in a
//! queue of [`INBOX`] (a client that floods it is closed with 4429), and
//! each subscription reads the log a page at a time, only as fast as the
//! socket takes its messages. A client that takes none for
//! `send_timeout` has fallen behind: it is told (1013, "try again later")
//! if its socket still takes a close frame, and dropped; it can resume
//! from its last event's cursor.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::{CloseCode, CloseReason, Session};
use async_graphql::http::{WebSocket, WebSocketProtocols as Protocols, WsMessage};
use async_graphql::{Data, Response, ServerError};
use futures_util::stream::{self, BoxStream, StreamExt};
use journeys_api::auth::Principal;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use crate::http::{self, GraphqlParams, Refusal};
use crate::rate_limit::Caller;
use crate::state::AppState;

/// How long a client may take to send `connection_init`.
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// Client messages waiting for the GraphQL protocol to read them.
const INBOX: usize = 64;

/// The largest message a client may send, as over HTTP.
const MAX_MESSAGE_BYTES: usize = 2 * 1024 * 1024;

/// How subscriptions keep their sockets alive and let go of slow ones.
#[derive(Debug, Clone, Copy)]
pub struct SubscriptionSettings {
    /// How often the server pings an idle connection (protocol `ping`, or
    /// `ka` for the legacy protocol), within any load balancer's idle
    /// timeout.
    pub keepalive: Duration,
    /// How long a message may wait for the client's socket to take it
    /// before the client counts as fallen behind.
    pub send_timeout: Duration,
}

impl Default for SubscriptionSettings {
    fn default() -> Self {
        Self {
            keepalive: Duration::from_secs(15),
            send_timeout: Duration::from_secs(10),
        }
    }
}

/// `GET /graphql` with `Upgrade: websocket`.
pub async fn graphql_ws(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> actix_web::Result<HttpResponse> {
    let Some(protocol) = offered_protocol(&req) else {
        return Ok(HttpResponse::BadRequest().json(json!({
            "errors": [{
                "message": "offer the `graphql-transport-ws` (or legacy `graphql-ws`) subprotocol",
                "extensions": { "code": "BAD_USER_INPUT" },
            }]
        })));
    };
    let header_token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (mut response, session, messages) = actix_ws::handle(&req, body)?;
    response.headers_mut().insert(
        header::SEC_WEBSOCKET_PROTOCOL,
        header::HeaderValue::from_static(protocol.sec_websocket_protocol()),
    );
    let messages = messages
        .max_frame_size(MAX_MESSAGE_BYTES)
        .aggregate_continuations()
        .max_continuation_size(MAX_MESSAGE_BYTES);
    let connection = Connection {
        state: state.into_inner(),
        session,
        protocol,
    };
    actix_web::rt::spawn(connection.serve(messages, header_token));
    Ok(response)
}

/// The first protocol the client offers that we speak.
fn offered_protocol(req: &HttpRequest) -> Option<Protocols> {
    req.headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|p| p.trim().parse().ok())
}

struct Connection {
    state: Arc<AppState>,
    session: Session,
    protocol: Protocols,
}

/// What the client's first message was.
enum Opening {
    Init(Map<String, Value>),
    /// An operation before `connection_init`.
    Operation,
    Other,
}

impl Connection {
    async fn serve(
        mut self,
        mut messages: actix_ws::AggregatedMessageStream,
        header_token: Option<String>,
    ) {
        let first = tokio::time::timeout(INIT_TIMEOUT, self.next_text(&mut messages)).await;
        let text = match first {
            Err(_) => return self.close(4408, "connection initialisation timeout").await,
            Ok(None) => return,
            Ok(Some(text)) => text,
        };
        let payload = match opening(&text) {
            Opening::Init(payload) => payload,
            Opening::Operation => return self.close(4401, "Unauthorized").await,
            Opening::Other => {
                return self
                    .close(4400, "the first message must be connection_init")
                    .await;
            }
        };
        let Some(token) = token_in(&payload).or(header_token.as_deref().map(bearer)) else {
            return self
                .close(
                    4401,
                    "Unauthorized: send `authorization: Bearer <token>` in connection_init's payload",
                )
                .await;
        };
        let claims = match self.state.verifier.verify(token) {
            Ok(claims) => claims,
            Err(e) => return self.close(4403, &format!("Forbidden: {e}")).await,
        };
        let caller = Caller::Token {
            workspace: claims.ws.clone(),
            subject: claims.sub.clone(),
        };
        let expires_in = u64::try_from(claims.exp - chrono::Utc::now().timestamp()).unwrap_or(0);
        let principal = match http::principal(&self.state, claims).await {
            Ok(principal) => principal,
            Err(refusal) => return self.close(4403, &forbidden(refusal)).await,
        };
        self.run(
            messages,
            text,
            principal,
            caller,
            Duration::from_secs(expires_in),
        )
        .await;
    }

    /// Hands the accepted connection to the GraphQL protocol and moves
    /// messages both ways until one side ends it.
    async fn run(
        mut self,
        mut messages: actix_ws::AggregatedMessageStream,
        init: String,
        principal: Principal,
        caller: Caller,
        expires_in: Duration,
    ) {
        let (inbox, received) = mpsc::channel::<String>(INBOX);
        let _ = inbox.try_send(init);
        let received = stream::unfold(
            received,
            |mut r| async move { r.recv().await.map(|m| (m, r)) },
        )
        .boxed();
        let executor = Executor {
            state: Arc::clone(&self.state),
            principal,
            caller,
        };
        let mut graphql = WebSocket::new(executor, received, self.protocol)
            .on_connection_init(|_| async { Ok(Data::default()) });
        let settings = self.state.subscriptions;
        let mut keepalive = tokio::time::interval(settings.keepalive);
        keepalive.reset();
        let expiry = tokio::time::sleep(expires_in);
        tokio::pin!(expiry);
        loop {
            tokio::select! {
                message = messages.next() => match message {
                    Some(Ok(actix_ws::AggregatedMessage::Text(text))) => {
                        if inbox.try_send(text.to_string()).is_err() {
                            return self.close(4429, "too many messages at once").await;
                        }
                    }
                    Some(Ok(actix_ws::AggregatedMessage::Binary(bytes))) => {
                        let text = String::from_utf8_lossy(&bytes).into_owned();
                        if inbox.try_send(text).is_err() {
                            return self.close(4429, "too many messages at once").await;
                        }
                    }
                    Some(Ok(actix_ws::AggregatedMessage::Ping(bytes))) => {
                        if self.session.pong(&bytes).await.is_err() {
                            return;
                        }
                    }
                    Some(Ok(actix_ws::AggregatedMessage::Pong(_))) => {}
                    Some(Ok(actix_ws::AggregatedMessage::Close(_))) | None => {
                        return self.close(1000, "").await;
                    }
                    Some(Err(e)) => {
                        return self.close(1002, &format!("protocol error: {e}")).await;
                    }
                },
                out = graphql.next() => match out {
                    Some(WsMessage::Text(text)) => {
                        if !self.send(text, settings.send_timeout).await {
                            return;
                        }
                    }
                    Some(WsMessage::Close(code, reason)) => return self.close(code, &reason).await,
                    None => return self.close(1000, "").await,
                },
                _ = keepalive.tick() => {
                    let ping = match self.protocol {
                        Protocols::GraphQLWS => r#"{"type":"ping"}"#,
                        Protocols::SubscriptionsTransportWS => r#"{"type":"ka"}"#,
                    };
                    if !self.send(ping.to_owned(), settings.send_timeout).await {
                        return;
                    }
                }
                () = &mut expiry => return self.close(4403, "Forbidden: the token expired").await,
                () = self.state.closing.cancelled() => {
                    return self
                        .close(1001, "the server is stopping: reconnect and resume from your last cursor")
                        .await;
                }
            }
        }
    }

    /// Sends a message; false when the connection is over (closed, or
    /// fallen behind and let go).
    async fn send(&mut self, text: String, timeout: Duration) -> bool {
        match tokio::time::timeout(timeout, self.session.text(text)).await {
            Ok(sent) => sent.is_ok(),
            Err(_) => {
                tracing::info!("a subscriber fell behind; closing its connection");
                let reason = CloseReason {
                    code: CloseCode::Again,
                    description: Some(
                        "fell behind: reconnect and resume from your last event's cursor".into(),
                    ),
                };
                let close = self.session.clone().close(Some(reason));
                let _ = tokio::time::timeout(Duration::from_secs(1), close).await;
                false
            }
        }
    }

    /// The next text message, answering pings meanwhile; `None` when the
    /// client went away.
    async fn next_text(
        &mut self,
        messages: &mut actix_ws::AggregatedMessageStream,
    ) -> Option<String> {
        while let Some(message) = messages.next().await {
            match message.ok()? {
                actix_ws::AggregatedMessage::Text(text) => return Some(text.to_string()),
                actix_ws::AggregatedMessage::Binary(bytes) => {
                    return Some(String::from_utf8_lossy(&bytes).into_owned());
                }
                actix_ws::AggregatedMessage::Ping(bytes) => {
                    self.session.pong(&bytes).await.ok()?;
                }
                actix_ws::AggregatedMessage::Pong(_) => {}
                actix_ws::AggregatedMessage::Close(_) => return None,
            }
        }
        None
    }

    async fn close(self, code: u16, reason: &str) {
        let reason = CloseReason {
            code: CloseCode::from(code),
            description: (!reason.is_empty()).then(|| reason.to_owned()),
        };
        let _ =
            tokio::time::timeout(Duration::from_secs(1), self.session.close(Some(reason))).await;
    }
}

fn opening(text: &str) -> Opening {
    let Ok(Value::Object(mut message)) = serde_json::from_str::<Value>(text) else {
        return Opening::Other;
    };
    match message.get("type").and_then(Value::as_str) {
        Some("connection_init") => match message.remove("payload") {
            Some(Value::Object(payload)) => Opening::Init(payload),
            _ => Opening::Init(Map::new()),
        },
        Some("subscribe" | "start") => Opening::Operation,
        _ => Opening::Other,
    }
}

/// The token in a `connection_init` payload: `authorization` (any case)
/// as `Bearer <token>` or bare, or `token`.
fn token_in(payload: &Map<String, Value>) -> Option<&str> {
    payload
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization") || k.as_str() == "token")
        .and_then(|(_, v)| v.as_str())
        .map(bearer)
        .filter(|t| !t.is_empty())
}

fn bearer(value: &str) -> &str {
    let value = value.trim();
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => value,
    }
}

fn forbidden(refusal: Refusal) -> String {
    match refusal {
        Refusal::Unauthenticated(message) => format!("Forbidden: {message}"),
        _ => "Forbidden".to_owned(),
    }
}

/// Runs each operation of an accepted connection for its caller, through
/// the same limits as HTTP.
#[derive(Clone)]
struct Executor {
    state: Arc<AppState>,
    principal: Principal,
    caller: Caller,
}

impl async_graphql::Executor for Executor {
    async fn execute(&self, request: async_graphql::Request) -> Response {
        let mut responses = self.execute_stream(request, None);
        responses.next().await.unwrap_or_default()
    }

    fn execute_stream(
        &self,
        request: async_graphql::Request,
        _session: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        match self.prepare(request) {
            Ok(request) => self
                .state
                .schema
                .execute_stream(request)
                .map(with_codes)
                .boxed(),
            Err(error) => stream::once(async move { Response::from_errors(vec![error]) }).boxed(),
        }
    }
}

impl Executor {
    fn prepare(
        &self,
        request: async_graphql::Request,
    ) -> Result<async_graphql::Request, ServerError> {
        if let Some(limiter) = self.state.rate_limiter.as_deref()
            && let Err(wait) = limiter.check(&self.caller, 1)
        {
            let seconds = wait.as_secs().max(1);
            return Err(coded(
                &format!("too many requests: retry in {seconds} s"),
                "RATE_LIMITED",
            ));
        }
        let variables = match serde_json::to_value(&request.variables) {
            Ok(Value::Object(variables)) => variables,
            _ => Map::new(),
        };
        let params = GraphqlParams {
            query: request.query,
            operation_name: request.operation_name,
            variables,
        };
        let prepared = http::prepare(&self.state, params, false).map_err(refused)?;
        Ok(http::graphql_request(
            &self.state,
            prepared,
            Some(self.principal.clone()),
        ))
    }
}

fn coded(message: &str, code: &str) -> ServerError {
    let mut error = ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
    error
}

/// A refused document's error, as HTTP would have sent it.
fn refused(refusal: Refusal) -> ServerError {
    match refusal {
        Refusal::Document(mut error) => {
            http::add_code(&mut error, true);
            serde_json::from_value(error)
                .unwrap_or_else(|_| coded("the query was refused", "BAD_USER_INPUT"))
        }
        Refusal::BadRequest(message) => coded(&message, "BAD_USER_INPUT"),
        _ => coded("the query was refused", "BAD_USER_INPUT"),
    }
}

/// Gives errors async-graphql raised itself (validation, say) their code.
fn with_codes(mut response: Response) -> Response {
    let request_error = response.data == async_graphql::Value::Null
        && response.errors.iter().all(|e| e.path.is_empty());
    for error in &mut response.errors {
        let has_code = error
            .extensions
            .as_ref()
            .is_some_and(|e| e.get("code").is_some());
        if !has_code {
            let code = if request_error || !error.message.is_empty() {
                "BAD_USER_INPUT"
            } else {
                "INTERNAL"
            };
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", code);
        }
    }
    response
}
