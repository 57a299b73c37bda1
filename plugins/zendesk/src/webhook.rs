//! Zendesk webhooks subscribed to ticket events.
//!
//! Each delivery carries `X-Zendesk-Webhook-Signature`, the base64
//! HMAC-SHA256 (keyed with the webhook's signing secret) of
//! `X-Zendesk-Webhook-Signature-Timestamp` (ISO 8601) followed directly by the
//! raw body. Zendesk has no endpoint challenge: every request is an event.
//!
//! `zen:event-type:ticket.created` makes `ticket.opened` (and `ticket.solved`
//! for a ticket created solved). `zen:event-type:ticket.status_changed` makes
//! `ticket.solved` when it solves the ticket (to solved, or to closed from an
//! unsolved status: closing a solved ticket does not move its solve time), and
//! `ticket.reopened` (solved to open), `ticket.pending` or `ticket.on_hold`,
//! external id `ticket:{id}:status:{status}:{unix seconds}` of
//! `detail.updated_at`, the second of the update the export's event has as
//! its `created_at`. `zen:event-type:ticket.comment_added` makes
//! `ticket.replied`, external id `ticket:{id}:comment:{event.comment.id}`:
//! the export's comment child event `id` is that same comment id. Its author
//! is an agent when `event.comment.author.is_staff` (the actor, by
//! `author.name`), else the person. Each carries the same external id as the
//! export's. The payload names the requester only by id. Other events are
//! accepted and make nothing.
//!
//! Satisfaction ratings never arrive here: no ticket event type is a rating
//! and a ticket event's `detail` carries no `satisfaction_rating`, so
//! `satisfaction.rated` (and its score) comes only from the ratings pull.

use base64::Engine;
use chrono::{DateTime, Utc};
use journeys_plugin_sdk::{
    AccountHint, PersonHint, Touchpoint, WebhookError, WebhookReply, WebhookRequest, check_fresh,
    verify_hmac_sha256,
};

use crate::touchpoints::{self, Author, Comment, StatusEvent, TicketFacts};
use crate::wire;

const TICKET_CREATED: &str = "zen:event-type:ticket.created";
const TICKET_STATUS_CHANGED: &str = "zen:event-type:ticket.status_changed";
const TICKET_COMMENT_ADDED: &str = "zen:event-type:ticket.comment_added";

/// Verifies one delivery and turns it into touchpoints.
pub fn receive(
    signing_secret: &str,
    base_url: &reqwest::Url,
    request: &WebhookRequest<'_>,
    now: DateTime<Utc>,
) -> Result<WebhookReply, WebhookError> {
    let signature = request
        .header("x-zendesk-webhook-signature")
        .and_then(|s| {
            base64::engine::general_purpose::STANDARD
                .decode(s.trim())
                .ok()
        })
        .ok_or(WebhookError::BadSignature)?;
    let timestamp = request
        .header("x-zendesk-webhook-signature-timestamp")
        .ok_or(WebhookError::Stale)?;
    if !verify_hmac_sha256(
        signing_secret.as_bytes(),
        &[timestamp.as_bytes(), request.body],
        &signature,
    ) {
        return Err(WebhookError::BadSignature);
    }
    let signed_at = DateTime::parse_from_rfc3339(timestamp)
        .map_err(|_| WebhookError::Stale)?
        .with_timezone(&Utc);
    check_fresh(signed_at, now)?;
    let event: wire::Event =
        serde_json::from_slice(request.body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    Ok(WebhookReply::Touchpoints(event_touchpoints(
        event, base_url,
    )?))
}

fn event_touchpoints(
    event: wire::Event,
    base_url: &reqwest::Url,
) -> Result<Vec<Touchpoint>, WebhookError> {
    let tracked = [TICKET_CREATED, TICKET_STATUS_CHANGED, TICKET_COMMENT_ADDED];
    if !tracked.contains(&event.event_type.as_str()) {
        return Ok(Vec::new());
    }
    let detail: wire::EventTicket = serde_json::from_value(event.detail)
        .map_err(|e| WebhookError::Malformed(format!("detail: {e}")))?;
    let created_at = detail.created_at.or(event.time);
    let updated_at = detail.updated_at.or(event.time);
    if event.event_type == TICKET_COMMENT_ADDED {
        let added: wire::CommentAdded = serde_json::from_value(event.event)
            .map_err(|e| WebhookError::Malformed(format!("event: {e}")))?;
        let status = detail
            .status
            .clone()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let facts = facts(detail, status, base_url)?;
        return Ok(vec![comment(&facts, added.comment, required(updated_at)?)?]);
    }
    let change = serde_json::from_value::<wire::StatusChange>(event.event).ok();
    let previous = change.as_ref().and_then(|c| c.previous.clone());
    let changed_to = change.and_then(|change| change.current);
    let is_change = changed_to.is_some();
    // The status the ticket has after this event.
    let status = changed_to
        .or(detail.status.clone())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let facts = facts(detail, status, base_url)?;
    let mut out = Vec::new();
    if event.event_type == TICKET_CREATED {
        out.push(touchpoints::opened(&facts, required(created_at)?));
        if touchpoints::is_solved(&facts.status) {
            out.push(touchpoints::solved(&facts, required(updated_at)?));
        }
        return Ok(out);
    }
    let previous = previous.filter(|_| is_change);
    if touchpoints::becomes_solved(previous.as_deref(), &facts.status) {
        out.push(touchpoints::solved(&facts, required(updated_at)?));
    } else if let Some(change) = StatusEvent::of(previous.as_deref(), &facts.status) {
        out.push(touchpoints::status_changed(
            &facts,
            change,
            previous.as_deref(),
            required(updated_at)?,
        ));
    }
    Ok(out)
}

/// A `ticket.comment_added`'s comment as the export's comment child event
/// would make it.
fn comment(
    ticket: &TicketFacts,
    comment: wire::EventComment,
    at: DateTime<Utc>,
) -> Result<Touchpoint, WebhookError> {
    let id = comment
        .id
        .trim()
        .parse()
        .map_err(|_| WebhookError::Malformed("event.comment.id is not a comment id".into()))?;
    let author_id: i64 =
        comment.author.id.trim().parse().map_err(|_| {
            WebhookError::Malformed("event.comment.author.id is not a user id".into())
        })?;
    let author = if comment.author.is_staff {
        Author::Agent {
            name: comment.author.name,
        }
    } else {
        Author::Customer(PersonHint {
            zendesk_user_id: Some(author_id.to_string()),
            name: comment.author.name,
            ..PersonHint::default()
        })
    };
    let comment = Comment {
        id,
        author_id,
        body: comment.body,
        public: comment.is_public.unwrap_or(true),
        created_at: at,
    };
    Ok(touchpoints::replied(ticket, &comment, author))
}

fn required(time: Option<DateTime<Utc>>) -> Result<DateTime<Utc>, WebhookError> {
    time.ok_or_else(|| WebhookError::Malformed("the event says nothing of when".into()))
}

fn facts(
    detail: wire::EventTicket,
    status: String,
    base_url: &reqwest::Url,
) -> Result<TicketFacts, WebhookError> {
    let id: u64 = detail
        .id
        .trim()
        .parse()
        .map_err(|_| WebhookError::Malformed("detail.id is not a ticket id".into()))?;
    let present = |id: Option<String>| id.filter(|id| !id.trim().is_empty());
    Ok(TicketFacts {
        id,
        status,
        priority: detail.priority.map(|p| p.to_ascii_lowercase()),
        ticket_type: detail.ticket_type.map(|t| t.to_ascii_lowercase()),
        subject: detail.subject,
        description: detail.description,
        tags: detail.tags.unwrap_or_default(),
        via_channel: detail.via.and_then(|v| v.channel),
        url: touchpoints::agent_url(base_url, id),
        requester: PersonHint {
            zendesk_user_id: present(detail.requester_id),
            ..PersonHint::default()
        },
        account: present(detail.organization_id).map(|id| AccountHint {
            external_id: Some(id),
            name: None,
        }),
    })
}
