//! Zendesk webhooks: event-subscription payloads signed with the webhook's
//! signing secret.

use base64::Engine;
use chrono::{DateTime, Utc};
use journeys_plugin_sdk::{
    AccountHint, Channel, PersonHint, Touchpoint, WebhookError, WebhookReply, WebhookRequest,
    check_fresh, verify_hmac_sha256,
};
use serde::Deserialize;

/// An event-subscription payload; ids inside `detail` are strings.
#[derive(Deserialize)]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    time: Option<DateTime<Utc>>,
    detail: Detail,
}

#[derive(Deserialize)]
struct Detail {
    id: String,
    requester_id: Option<String>,
    organization_id: Option<String>,
    status: Option<String>,
    subject: Option<String>,
    description: Option<String>,
    created_at: Option<DateTime<Utc>>,
    updated_at: Option<DateTime<Utc>>,
}

pub fn receive(
    secret: &str,
    request: &WebhookRequest<'_>,
    now: DateTime<Utc>,
) -> Result<WebhookReply, WebhookError> {
    let signature = request
        .header("x-zendesk-webhook-signature")
        .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
        .ok_or(WebhookError::BadSignature)?;
    let timestamp = request
        .header("x-zendesk-webhook-signature-timestamp")
        .ok_or(WebhookError::Stale)?;
    if !verify_hmac_sha256(
        secret.as_bytes(),
        &[timestamp.as_bytes(), request.body],
        &signature,
    ) {
        return Err(WebhookError::BadSignature);
    }
    let signed_at = DateTime::parse_from_rfc3339(timestamp)
        .map_err(|_| WebhookError::Stale)?
        .with_timezone(&Utc);
    check_fresh(signed_at, now)?;
    let event: Event =
        serde_json::from_slice(request.body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    Ok(WebhookReply::Touchpoints(touchpoints(event)?))
}

fn touchpoints(event: Event) -> Result<Vec<Touchpoint>, WebhookError> {
    let detail = event.detail;
    let ticket: u64 = detail
        .id
        .parse()
        .map_err(|_| WebhookError::Malformed("detail.id is not a ticket id".into()))?;
    let status = detail.status.clone().unwrap_or_default();
    let (kind, occurred_at) = match event.kind.as_str() {
        "zen:event-type:ticket.created" => ("opened", detail.created_at.or(event.time)),
        "zen:event-type:ticket.status_changed" if crate::is_solved(&status) => {
            ("solved", detail.updated_at.or(event.time))
        }
        _ => return Ok(Vec::new()),
    };
    let occurred_at =
        occurred_at.ok_or_else(|| WebhookError::Malformed("the event has no time".into()))?;
    let mut properties = serde_json::Map::new();
    properties.insert("ticket_id".into(), ticket.into());
    properties.insert("status".into(), status.to_ascii_lowercase().into());
    Ok(vec![Touchpoint {
        external_id: format!("ticket:{ticket}:{kind}"),
        kind: format!("ticket.{kind}"),
        channel: Channel::Support,
        occurred_at,
        title: detail.subject,
        body: detail.description,
        url: None,
        score: None,
        properties,
        person: PersonHint {
            zendesk_user_id: detail.requester_id,
            ..PersonHint::default()
        },
        account: detail.organization_id.map(|id| AccountHint {
            external_id: Some(id),
            name: None,
        }),
    }])
}
