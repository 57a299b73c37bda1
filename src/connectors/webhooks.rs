//! `POST /webhooks/{connectorId}` (and `GET`, for Twitter's CRC check).
//!
//! No token: the vendor's signature over the raw body authenticates the
//! delivery, checked by the connector's plugin with the connector's secret.
//! A refused delivery stores nothing; an accepted one is recorded like a
//! pulled batch, with the same external ids, so the two never duplicate.

use actix_web::{HttpRequest, HttpResponse, web};
use journeys_plugin_sdk::{HttpClient, RetryPolicy, WebhookError, WebhookReply, WebhookRequest};
use serde_json::json;

use crate::state::AppState;
use journeys_api::connectors::{find_any, ingest, open_secrets};
use journeys_api::graphql::error::ApiError;
use journeys_api::graphql::ids::{self, NodeType};
use journeys_core::ingestion::{self, Tally};
use journeys_core::time;

fn refusal(status: actix_web::http::StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "error": { "code": code, "message": message } }))
}

pub async fn receive(
    req: HttpRequest,
    connector_id: web::Path<String>,
    query: web::Query<Vec<(String, String)>>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    use actix_web::http::StatusCode;
    let not_found = || refusal(StatusCode::NOT_FOUND, "NOT_FOUND", "no such connector");
    let Ok(id) = ids::decode(
        &async_graphql::ID(connector_id.into_inner()),
        NodeType::Connector,
    ) else {
        return not_found();
    };
    let runtime = &state.sync;
    let connector = match find_any(runtime.db(), id).await {
        Ok(Some(c)) if c.enabled => c,
        Ok(_) => return not_found(),
        Err(e) => return internal(e),
    };
    let Some(plugin) = runtime.registry().get(&connector.kind) else {
        return not_found();
    };
    let secrets = match open_secrets(runtime.secret_box(), &connector) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(connector = %connector.id, error = %e.message(), "webhook secrets");
            return refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                e.code(),
                "the connector cannot verify webhooks now",
            );
        }
    };
    let instance = match plugin.build(
        &connector.config,
        &secrets,
        HttpClient::new(RetryPolicy::default()),
    ) {
        Ok(i) => i,
        Err(_) => {
            return refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                "CONNECTOR_CONFIG",
                "the connector is misconfigured",
            );
        }
    };
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .filter_map(|(n, v)| Some((n.as_str().to_ascii_lowercase(), v.to_str().ok()?.to_owned())))
        .collect();
    let request = WebhookRequest {
        method: req.method().as_str(),
        query: &query,
        headers: &headers,
        body: &body,
    };
    let reply = match instance.webhook(&request, time::now()) {
        Ok(reply) => reply,
        Err(e) => {
            let (status, code) = match e {
                WebhookError::Unsupported => (StatusCode::NOT_FOUND, "WEBHOOK_UNSUPPORTED"),
                WebhookError::BadSignature => (StatusCode::UNAUTHORIZED, "WEBHOOK_BAD_SIGNATURE"),
                WebhookError::Stale => (StatusCode::UNAUTHORIZED, "WEBHOOK_STALE"),
                WebhookError::Malformed(_) => (StatusCode::BAD_REQUEST, "WEBHOOK_MALFORMED"),
            };
            tracing::warn!(connector = %connector.id, code, "webhook refused");
            return refusal(status, code, &e.to_string());
        }
    };
    let delivered = match reply {
        WebhookReply::Challenge(answer) => return HttpResponse::Ok().json(answer),
        WebhookReply::Touchpoints(t) => t,
    };
    let received = delivered.len();
    let kind = connector.kind.as_str();
    let ws = connector.workspace_id;
    let recorded = ingestion::record(runtime.db(), ws, delivered.len(), |now| {
        delivered
            .iter()
            .map(|t| ingest::check(kind, t.clone(), now))
            .collect()
    });
    match recorded.await {
        Ok(out) => {
            let failed = Tally::of(&out).failed;
            tracing::info!(connector = %connector.id, received, failed, "webhook recorded");
            HttpResponse::Ok().json(json!({ "received": received, "failed": failed }))
        }
        Err(e) => internal(e.into()),
    }
}

fn internal(e: ApiError) -> HttpResponse {
    if let ApiError::Internal(detail) = &e {
        tracing::error!(error = %detail, "webhook failed");
    }
    refusal(
        actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
        e.code(),
        "the webhook could not be recorded; retry later",
    )
}
