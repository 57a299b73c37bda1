//! `POST /webhooks/{connectorId}` (and `GET`, for Twitter's CRC check).
//!
//! No token: the vendor's signature over the raw body authenticates the
//! delivery; `journeys_core::connectors::webhooks` verifies and records it.
//! This module only speaks HTTP: each outcome becomes a status and a code.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use journeys_api::graphql::ids::{self, NodeType};
use journeys_core::CoreError;
use journeys_core::connectors::webhooks::{self, Delivery, WebhookFailure};
use journeys_plugin_sdk::{WebhookError, WebhookRequest};
use serde_json::json;

use crate::state::AppState;

fn refusal(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "error": { "code": code, "message": message } }))
}

pub async fn receive(
    req: HttpRequest,
    connector_id: web::Path<String>,
    query: web::Query<Vec<(String, String)>>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    let Ok(id) = ids::decode(
        &async_graphql::ID(connector_id.into_inner()),
        NodeType::Connector,
    ) else {
        return answer(Err(WebhookFailure::NoConnector));
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
    let outcome = webhooks::receive(&state.sync, id, &request).await;
    match &outcome {
        Ok(Delivery::Recorded { received, failed }) => {
            tracing::info!(connector = %id, received, failed, "webhook recorded");
        }
        Ok(Delivery::Challenge(_)) => {}
        Err(WebhookFailure::Refused(e)) => {
            tracing::warn!(connector = %id, error = %e, "webhook refused")
        }
        Err(e @ (WebhookFailure::Secrets(_) | WebhookFailure::Record(_))) => {
            tracing::error!(connector = %id, error = %with_causes(e), "webhook not recorded");
        }
        Err(e) => tracing::warn!(connector = %id, error = %e, "webhook refused"),
    }
    answer(outcome)
}

fn answer(outcome: Result<Delivery, WebhookFailure>) -> HttpResponse {
    match outcome {
        Ok(Delivery::Challenge(answer)) => HttpResponse::Ok().json(answer),
        Ok(Delivery::Recorded { received, failed }) => {
            HttpResponse::Ok().json(json!({ "received": received, "failed": failed }))
        }
        Err(WebhookFailure::NoConnector) => {
            refusal(StatusCode::NOT_FOUND, "NOT_FOUND", "no such connector")
        }
        Err(WebhookFailure::Refused(e)) => {
            let (status, code) = match e {
                WebhookError::Unsupported => (StatusCode::NOT_FOUND, "WEBHOOK_UNSUPPORTED"),
                WebhookError::BadSignature => (StatusCode::UNAUTHORIZED, "WEBHOOK_BAD_SIGNATURE"),
                WebhookError::Stale => (StatusCode::UNAUTHORIZED, "WEBHOOK_STALE"),
                WebhookError::Malformed(_) => (StatusCode::BAD_REQUEST, "WEBHOOK_MALFORMED"),
            };
            refusal(status, code, &e.to_string())
        }
        Err(WebhookFailure::Secrets(e)) => refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            unavailable_code(&e),
            "the connector cannot verify webhooks now",
        ),
        Err(WebhookFailure::Misconfigured(_)) => refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            "CONNECTOR_CONFIG",
            "the connector is misconfigured",
        ),
        Err(WebhookFailure::Record(e)) => refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            unavailable_code(&e),
            "the webhook could not be recorded; retry later",
        ),
    }
}

/// The code of a failure the vendor's retry may get past; no detail of ours.
fn unavailable_code(e: &CoreError) -> &'static str {
    match e {
        CoreError::NotConfigured(_) => "NOT_CONFIGURED",
        CoreError::Contended(_) => "CONFLICT",
        _ => "INTERNAL",
    }
}

fn with_causes(e: &WebhookFailure) -> String {
    match e {
        WebhookFailure::Secrets(c) | WebhookFailure::Record(c) => {
            format!("{e}: {}", c.with_causes())
        }
        other => other.to_string(),
    }
}
