//! `/graphql` over HTTP, as the GraphQL-over-HTTP specification asks:
//! Accept negotiation between `application/graphql-response+json` and
//! `application/json`, its status codes, GET for queries only, and a 2 MiB body.
//!
//! async-graphql-actix-web always answers 200 in one media type, so this module
//! parses and answers requests itself and hands only execution to the schema.
//! Before any database work it also holds each request to its caller's rate
//! limit (429, `Retry-After`, RATE_LIMITED) and its query to the query limits
//! (QUERY_TOO_COMPLEX).

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use futures_util::StreamExt;
use serde_json::{Map, Value, json};

use crate::rate_limit::Caller;
use crate::state::AppState;
use journeys_api::auth::{Claims, Principal};
use journeys_api::graphql::budget::ResponseBudget;
use journeys_api::graphql::context::RequestContext;
use journeys_api::graphql::error::ApiError;
use journeys_api::graphql::limits::{self, Checked};
use journeys_api::graphql::root_nulls::RootSelection;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// The media type a response is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    GraphqlResponseJson,
    Json,
}

impl MediaType {
    fn content_type(self) -> &'static str {
        match self {
            Self::GraphqlResponseJson => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        }
    }
}

/// Picks the response media type from `Accept`: the acceptable type with the
/// highest q, the earliest on a tie; `application/json` when there is no header.
pub fn negotiate(accept: Option<&str>) -> Option<MediaType> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Some(MediaType::Json);
    };
    let mut best: Option<(f32, MediaType)> = None;
    for entry in accept.split(',') {
        let mut parts = entry.split(';');
        let range = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let mut q = 1.0_f32;
        for param in parts {
            if let Some((name, value)) = param.split_once('=')
                && name.trim().eq_ignore_ascii_case("q")
            {
                q = value.trim().parse().unwrap_or(0.0);
            }
        }
        let media = match range.as_str() {
            GRAPHQL_RESPONSE_JSON => MediaType::GraphqlResponseJson,
            JSON | "application/*" | "*/*" => MediaType::Json,
            _ => continue,
        };
        if q > 0.0 && best.is_none_or(|(best_q, _)| q > best_q) {
            best = Some((q, media));
        }
    }
    best.map(|(_, media)| media)
}

/// A GraphQL request as the specification defines its parameters.
#[derive(Debug)]
pub(crate) struct GraphqlParams {
    pub query: String,
    pub operation_name: Option<String>,
    pub variables: Map<String, Value>,
}

/// Why a request never reached execution.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// Not a well-formed GraphQL-over-HTTP request (bad parameters).
    BadRequest(String),
    /// A body that is not JSON at all: 400 whatever the media type, as the
    /// specification recommends.
    NotJson,
    /// The body is larger than `MAX_BODY_BYTES`.
    TooLarge,
    UnsupportedMediaType(String),
    NotAcceptable,
    /// A mutation sent with GET.
    MethodNotAllowed,
    Unauthenticated(String),
    /// A document that cannot run: a syntax error, or over a limit. The
    /// value is the one error, as GraphQL writes errors.
    Document(Value),
    /// Over the rate limit: try again after this long.
    RateLimited(Duration),
}

impl From<ApiError> for Refusal {
    fn from(err: ApiError) -> Self {
        Refusal::Document(json!({ "message": err.message(), "extensions": { "code": err.code() } }))
    }
}

fn error_body(message: &str, code: &str) -> Value {
    json!({ "errors": [{ "message": message, "extensions": { "code": code } }] })
}

fn respond(status: StatusCode, media: MediaType, body: &Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, media.content_type()))
        .body(body.to_string())
}

fn refuse(refusal: Refusal, media: MediaType) -> HttpResponse {
    match refusal {
        Refusal::BadRequest(message) => {
            // Legacy `application/json` clients get 200 with errors, as the
            // specification asks; the new media type gets a 400.
            let status = match media {
                MediaType::Json => StatusCode::OK,
                MediaType::GraphqlResponseJson => StatusCode::BAD_REQUEST,
            };
            respond(status, media, &error_body(&message, "BAD_USER_INPUT"))
        }
        Refusal::NotJson => respond(
            StatusCode::BAD_REQUEST,
            media,
            &error_body("the request body is not valid JSON", "BAD_USER_INPUT"),
        ),
        Refusal::TooLarge => respond(
            StatusCode::PAYLOAD_TOO_LARGE,
            media,
            &error_body("the request body is larger than 2 MiB", "BAD_USER_INPUT"),
        ),
        Refusal::UnsupportedMediaType(message) => respond(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            media,
            &error_body(&message, "BAD_USER_INPUT"),
        ),
        Refusal::NotAcceptable => respond(
            StatusCode::NOT_ACCEPTABLE,
            MediaType::Json,
            &error_body(
                "acceptable media types are application/graphql-response+json and application/json",
                "BAD_USER_INPUT",
            ),
        ),
        Refusal::MethodNotAllowed => {
            let mut res = respond(
                StatusCode::METHOD_NOT_ALLOWED,
                media,
                &error_body("mutations must be sent with POST", "BAD_USER_INPUT"),
            );
            res.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            res
        }
        Refusal::Document(error) => {
            // A request error, like a validation failure: 200 for legacy
            // `application/json` clients, 400 for the new media type.
            let status = match media {
                MediaType::Json => StatusCode::OK,
                MediaType::GraphqlResponseJson => StatusCode::BAD_REQUEST,
            };
            respond(status, media, &json!({ "errors": [error] }))
        }
        Refusal::RateLimited(wait) => {
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let mut res = respond(
                StatusCode::TOO_MANY_REQUESTS,
                media,
                &error_body(
                    &format!("too many requests: retry in {} s", seconds.max(1)),
                    "RATE_LIMITED",
                ),
            );
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
            res
        }
        Refusal::Unauthenticated(message) => {
            let mut res = respond(
                StatusCode::UNAUTHORIZED,
                media,
                &error_body(&message, "UNAUTHENTICATED"),
            );
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
            res
        }
    }
}

/// Reads the body, refusing it as soon as it passes the limit.
async fn read_body(mut payload: web::Payload) -> Result<Vec<u8>, Refusal> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|_| Refusal::BadRequest("the request body could not be read".into()))?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(Refusal::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Checks the parameter types the specification fixes.
fn params_from_map(map: Map<String, Value>) -> Result<GraphqlParams, Refusal> {
    let query = match map.get("query") {
        Some(Value::String(q)) => q.clone(),
        Some(_) => return Err(Refusal::BadRequest("`query` must be a string".into())),
        None => return Err(Refusal::BadRequest("the request has no `query`".into())),
    };
    let operation_name = match map.get("operationName") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => Some(name.clone()),
        Some(_) => {
            return Err(Refusal::BadRequest(
                "`operationName` must be a string".into(),
            ));
        }
    };
    let variables = match map.get("variables") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(vars)) => vars.clone(),
        Some(_) => return Err(Refusal::BadRequest("`variables` must be an object".into())),
    };
    match map.get("extensions") {
        None | Some(Value::Null) | Some(Value::Object(_)) => {}
        Some(_) => return Err(Refusal::BadRequest("`extensions` must be an object".into())),
    }
    Ok(GraphqlParams {
        query,
        operation_name,
        variables,
    })
}

fn params_from_json(body: &[u8]) -> Result<GraphqlParams, Refusal> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => params_from_map(map),
        Ok(_) => Err(Refusal::BadRequest(
            "the request body must be a JSON object".into(),
        )),
        Err(_) => Err(Refusal::NotJson),
    }
}

fn params_from_query_string(query_string: &str) -> Result<GraphqlParams, Refusal> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(query_string)
        .map_err(|_| Refusal::BadRequest("the query string is malformed".into()))?
        .into_inner();
    let mut map = Map::new();
    for (name, value) in pairs {
        let value = match name.as_str() {
            // These two are JSON-encoded in a GET's query string.
            "variables" | "extensions" => serde_json::from_str(&value)
                .map_err(|_| Refusal::BadRequest(format!("`{name}` is not valid JSON")))?,
            _ => Value::String(value),
        };
        map.insert(name, value);
    }
    params_from_map(map)
}

fn check_content_type(req: &HttpRequest) -> Result<(), Refusal> {
    let Some(value) = req.headers().get(header::CONTENT_TYPE) else {
        return Err(Refusal::UnsupportedMediaType(
            "send the body as application/json".into(),
        ));
    };
    let value = value.to_str().unwrap_or_default().to_ascii_lowercase();
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or_default().trim();
    if essence != JSON {
        return Err(Refusal::UnsupportedMediaType(
            "send the body as application/json".into(),
        ));
    }
    for param in parts {
        if let Some((name, charset)) = param.split_once('=') {
            let charset = charset.trim().trim_matches('"');
            if name.trim() == "charset" && charset != "utf-8" && charset != "utf8" {
                return Err(Refusal::UnsupportedMediaType(
                    "only utf-8 bodies are accepted".into(),
                ));
            }
        }
    }
    Ok(())
}

/// A document that passed the limits, ready to run.
pub(crate) struct Prepared {
    query: String,
    operation_name: Option<String>,
    document: ExecutableDocument,
    variables: async_graphql::Variables,
    checked: Checked,
    /// The operation's root fields, to complete failed ones with.
    roots: Option<RootSelection>,
    operation: Option<OperationType>,
}

/// Checks the query against the limits, on its text and then parsed, and
/// refuses a mutation sent with GET: all before any database work.
pub(crate) fn prepare(
    state: &AppState,
    params: GraphqlParams,
    get: bool,
) -> Result<Prepared, Refusal> {
    limits::scan(&params.query, &state.limits)?;
    let document = match async_graphql::parser::parse_query(&params.query) {
        Ok(document) => document,
        Err(async_graphql::parser::Error::RecursionLimitExceeded) => {
            return Err(limits::nesting_refused().into());
        }
        Err(err) => {
            let mut error = serde_json::to_value(async_graphql::ServerError::from(err))
                .unwrap_or_else(|_| json!({ "message": "the query is not valid GraphQL" }));
            add_code(&mut error, true);
            return Err(Refusal::Document(error));
        }
    };
    let operation = limits::operation_type(&document, params.operation_name.as_deref());
    if get && operation == Some(OperationType::Mutation) {
        return Err(Refusal::MethodNotAllowed);
    }
    let variables = async_graphql::Variables::from_json(Value::Object(params.variables));
    let checked = state.shapes.check(&document, &variables, &state.limits)?;
    let roots = RootSelection::of(&document, params.operation_name.as_deref());
    Ok(Prepared {
        query: params.query,
        operation_name: params.operation_name,
        document,
        variables,
        checked,
        roots,
        operation,
    })
}

/// The token's claims from `Authorization`, `None` without the header. Only
/// the signature and claims are checked here: no database.
fn credentials(req: &HttpRequest, state: &AppState) -> Result<Option<Claims>, Refusal> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().unwrap_or_default().trim();
    let token = match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => {
            return Err(Refusal::Unauthenticated(
                "use `Authorization: Bearer <token>`".into(),
            ));
        }
    };
    state
        .verifier
        .verify(token)
        .map(Some)
        .map_err(|e| Refusal::Unauthenticated(e.to_string()))
}

/// The caller of verified claims: their workspace, which must exist and not
/// have revoked the token's `jti`; one statement, or none while the answer is
/// cached.
pub(crate) async fn principal(state: &AppState, claims: Claims) -> Result<Principal, Refusal> {
    let workspace = state
        .tokens
        .token_workspace(&state.db, &claims.ws, claims.jti.as_deref())
        .await
        .map_err(|_| Refusal::Unauthenticated("the token's workspace could not be checked".into()))?
        .ok_or_else(|| Refusal::Unauthenticated("the token's workspace does not exist".into()))?;
    if workspace.revoked {
        return Err(Refusal::Unauthenticated(
            "the token has been revoked".into(),
        ));
    }
    Ok(Principal {
        scopes: claims.scopes(),
        subject: claims.sub,
        workspace_id: workspace.id,
        workspace_slug: workspace.slug,
    })
}

/// Whose rate limit a request draws on: a verified token's, else the
/// client address's.
fn caller(req: &HttpRequest, claims: &Result<Option<Claims>, Refusal>) -> Caller {
    match claims {
        Ok(Some(claims)) => Caller::Token {
            workspace: claims.ws.clone(),
            subject: claims.sub.clone(),
        },
        _ => Caller::Address(
            req.peer_addr()
                .map_or(std::net::Ipv4Addr::UNSPECIFIED.into(), |a| a.ip()),
        ),
    }
}

/// A well-formed request, from its token to its response: credentials, the
/// rate limit, the query's limits, then the workspace and execution.
async fn handle(
    req: &HttpRequest,
    state: &AppState,
    params: GraphqlParams,
    media: MediaType,
    get: bool,
) -> HttpResponse {
    let claims = credentials(req, state);
    let caller = caller(req, &claims);
    let limiter = state.rate_limiter.as_deref();
    if let Some(Err(wait)) = limiter.map(|l| l.check(&caller, 1)) {
        return refuse(Refusal::RateLimited(wait), media);
    }
    let claims = match claims {
        Ok(claims) => claims,
        Err(refusal) => return refuse(refusal, media),
    };
    let prepared = match prepare(state, params, get) {
        Ok(prepared) => prepared,
        Err(refusal) => return refuse(refusal, media),
    };
    // A batch counts its items; the one request is counted already.
    if prepared.checked.weight > 1
        && let Some(Err(wait)) = limiter.map(|l| l.check(&caller, prepared.checked.weight - 1))
    {
        return refuse(Refusal::RateLimited(wait), media);
    }
    let principal = match claims {
        Some(claims) => match principal(state, claims).await {
            Ok(principal) => Some(principal),
            Err(refusal) => return refuse(refusal, media),
        },
        None => None,
    };
    execute(state, prepared, principal, media).await
}

/// The request to execute: the checked document and what resolvers need.
pub(crate) fn graphql_request(
    state: &AppState,
    prepared: Prepared,
    principal: Option<Principal>,
) -> async_graphql::Request {
    let Prepared {
        query,
        operation_name,
        document,
        variables,
        operation,
        ..
    } = prepared;
    let mut request = async_graphql::Request::new(query)
        .variables(variables)
        .data(RequestContext::new(state.db.clone(), principal))
        .data(Arc::clone(&state.sync))
        .data(Arc::clone(&state.outbound))
        .data(Arc::clone(&state.backfills))
        .data(Arc::clone(&state.tokens))
        .data(Arc::clone(&state.feed));
    if let Some(name) = operation_name {
        request = request.operation_name(name);
    }
    if operation == Some(OperationType::Query) {
        request = request.data(ResponseBudget::new(state.limits.max_response_bytes));
    }
    request.set_parsed_query(document);
    request
}

/// Runs a prepared request and writes the response.
async fn execute(
    state: &AppState,
    prepared: Prepared,
    principal: Option<Principal>,
    media: MediaType,
) -> HttpResponse {
    let mut prepared = prepared;
    let roots = prepared.roots.take();
    let request = graphql_request(state, prepared, principal);
    let mut response = state.schema.execute(request).await;
    if let Some(roots) = &roots {
        state.root_fields.complete(roots, &mut response);
    }
    // Errors before execution (validation, variables) carry no path and
    // leave no data.
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    let mut body = serde_json::to_value(&response)
        .unwrap_or_else(|_| error_body("internal error", "INTERNAL"));
    if let Some(errors) = body.get_mut("errors").and_then(Value::as_array_mut) {
        for error in errors {
            add_code(error, request_error);
        }
    }
    let status = if request_error {
        if let Some(obj) = body.as_object_mut() {
            obj.remove("data");
        }
        match media {
            MediaType::Json => StatusCode::OK,
            MediaType::GraphqlResponseJson => StatusCode::BAD_REQUEST,
        }
    } else {
        StatusCode::OK
    };
    respond(status, media, &body)
}

/// Gives an error the stable code it lacks: async-graphql's own errors (syntax,
/// validation, limits) come without one.
pub(crate) fn add_code(error: &mut Value, request_error: bool) {
    let Some(obj) = error.as_object_mut() else {
        return;
    };
    let has_code = obj.get("extensions").and_then(|e| e.get("code")).is_some();
    if has_code {
        return;
    }
    let message = obj
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let code = if request_error || !message.is_empty() {
        "BAD_USER_INPUT"
    } else {
        "INTERNAL"
    };
    let extensions = obj.entry("extensions").or_insert_with(|| json!({}));
    if let Some(ext) = extensions.as_object_mut() {
        ext.insert("code".into(), json!(code));
    }
}

/// `POST /graphql`.
pub async fn graphql_post(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    let Some(media) = negotiate(accept) else {
        return refuse(Refusal::NotAcceptable, MediaType::Json);
    };
    if let Err(refusal) = check_content_type(&req) {
        return refuse(refusal, media);
    }
    let body = match read_body(payload).await {
        Ok(body) => body,
        Err(refusal) => return refuse(refusal, media),
    };
    match params_from_json(&body) {
        Ok(params) => handle(&req, &state, params, media, false).await,
        Err(refusal) => refuse(refusal, media),
    }
}

/// `GET /graphql`: queries only, parameters in the query string.
pub async fn graphql_get(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    let Some(media) = negotiate(accept) else {
        return refuse(Refusal::NotAcceptable, MediaType::Json);
    };
    match params_from_query_string(req.query_string()) {
        Ok(params) => handle(&req, &state, params, media, true).await,
        Err(refusal) => refuse(refusal, media),
    }
}

/// Any other method on `/graphql`.
pub async fn graphql_other() -> HttpResponse {
    let mut res = respond(
        StatusCode::METHOD_NOT_ALLOWED,
        MediaType::Json,
        &error_body("use GET or POST", "BAD_USER_INPUT"),
    );
    res.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_follows_accept() {
        assert_eq!(negotiate(None), Some(MediaType::Json));
        assert_eq!(negotiate(Some("*/*")), Some(MediaType::Json));
        assert_eq!(
            negotiate(Some(GRAPHQL_RESPONSE_JSON)),
            Some(MediaType::GraphqlResponseJson)
        );
        assert_eq!(
            negotiate(Some(
                "application/json;q=0.9, application/graphql-response+json"
            )),
            Some(MediaType::GraphqlResponseJson)
        );
        assert_eq!(
            negotiate(Some("application/json, application/graphql-response+json")),
            Some(MediaType::Json)
        );
        assert_eq!(negotiate(Some("text/html")), None);
        assert_eq!(negotiate(Some("application/json;q=0")), None);
    }

    #[test]
    fn parameters_must_have_the_specified_types() {
        assert!(params_from_json(br#"{"query":"{ a }","variables":null,"extensions":{}}"#).is_ok());
        for bad in [
            &br#"{"query":1}"#[..],
            br#"{"notquery":"{ a }"}"#,
            br#"{"query":"{ a }","operationName":false}"#,
            br#"{"query":"{ a }","variables":"x"}"#,
            br#"{"query":"{ a }","extensions":[1]}"#,
            br#"[1]"#,
            br#"{ "not a JSON"#,
        ] {
            assert!(params_from_json(bad).is_err());
        }
    }
}
