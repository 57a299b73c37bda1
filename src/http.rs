//! `/graphql` over HTTP, as the GraphQL-over-HTTP specification asks:
//! Accept negotiation between `application/graphql-response+json` and
//! `application/json`, its status codes, GET for queries only, and a 2 MiB body.
//!
//! async-graphql-actix-web always answers 200 in one media type, so this module
//! parses and answers requests itself and hands only execution to the schema.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use async_graphql::parser::types::{DocumentOperations, OperationType};
use futures_util::StreamExt;
use serde_json::{Map, Value, json};

use crate::state::AppState;
use journeys_api::auth::Principal;
use journeys_api::graphql::context::RequestContext;

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
struct GraphqlParams {
    query: String,
    operation_name: Option<String>,
    variables: Map<String, Value>,
}

/// Why a request never reached execution.
#[derive(Debug)]
enum Refusal {
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

/// The operation a GET would run is a mutation.
fn is_mutation(params: &GraphqlParams) -> bool {
    let Ok(doc) = async_graphql::parser::parse_query(&params.query) else {
        return false;
    };
    let ty = match (&doc.operations, &params.operation_name) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops
            .iter()
            .find(|(n, _)| n.as_str() == name)
            .map(|(_, op)| op.node.ty),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| op.node.ty)
        }
        _ => None,
    };
    ty == Some(OperationType::Mutation)
}

/// The caller from `Authorization`, `None` without the header.
async fn authenticate(req: &HttpRequest, state: &AppState) -> Result<Option<Principal>, Refusal> {
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
    let claims = state
        .verifier
        .verify(token)
        .map_err(|e| Refusal::Unauthenticated(e.to_string()))?;
    let workspace = journeys_core::workspaces::find_by_slug(&state.db, &claims.ws)
        .await
        .map_err(|_| Refusal::Unauthenticated("the token's workspace could not be checked".into()))?
        .ok_or_else(|| Refusal::Unauthenticated("the token's workspace does not exist".into()))?;
    Ok(Some(Principal {
        subject: claims.sub.clone(),
        workspace_id: workspace.id,
        workspace_slug: workspace.slug,
        scopes: claims.scopes(),
    }))
}

/// Runs a well-formed request and writes the response.
async fn execute(
    state: &AppState,
    params: GraphqlParams,
    principal: Option<Principal>,
    media: MediaType,
) -> HttpResponse {
    let query = params.query.clone();
    let operation_name = params.operation_name.clone();
    let request = async_graphql::Request::new(params.query)
        .variables(async_graphql::Variables::from_json(Value::Object(
            params.variables,
        )))
        .data(RequestContext::new(state.db.clone(), principal))
        .data(Arc::clone(&state.sync))
        .data(Arc::clone(&state.backfills));
    let request = match params.operation_name {
        Some(name) => request.operation_name(name),
        None => request,
    };
    let mut response = state.schema.execute(request).await;
    state
        .root_fields
        .complete(&query, operation_name.as_deref(), &mut response);
    // Errors before execution (parse, validation, limits, variables) carry no
    // path and leave no data.
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
fn add_code(error: &mut Value, request_error: bool) {
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
    let code = if message.contains("nested too deep") || message.contains("too complex") {
        "QUERY_TOO_COMPLEX"
    } else if request_error || !message.is_empty() {
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
    let params = match params_from_json(&body) {
        Ok(params) => params,
        Err(refusal) => return refuse(refusal, media),
    };
    match authenticate(&req, &state).await {
        Ok(principal) => execute(&state, params, principal, media).await,
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
    let params = match params_from_query_string(req.query_string()) {
        Ok(params) => params,
        Err(refusal) => return refuse(refusal, media),
    };
    if is_mutation(&params) {
        return refuse(Refusal::MethodNotAllowed, media);
    }
    match authenticate(&req, &state).await {
        Ok(principal) => execute(&state, params, principal, media).await,
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

    #[test]
    fn get_mutations_are_detected() {
        let params = params_from_query_string("query=mutation%20%7B%20__typename%20%7D").unwrap();
        assert!(is_mutation(&params));
        let params = params_from_query_string("query=%7B%20__typename%20%7D").unwrap();
        assert!(!is_mutation(&params));
    }
}
