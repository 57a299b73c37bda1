//! The incremental ticket events export read as touchpoints: each event is
//! one ticket update (an audit), its `child_events` the changes it made and,
//! with the `comment_events` sideload, the comment it added.
//!
//! - A status change that solves the ticket (to solved, or to closed from an
//!   unsolved status) dates `ticket.solved` by the update: the solve moment.
//! - Solved to open is `ticket.reopened`; to pending `ticket.pending`; to hold
//!   `ticket.on_hold`.
//! - A comment is `ticket.replied`.
//!
//! The ticket's other facts come from what the run [`Known`]s. A status
//! change's person is the ticket's requester; when the run does not know it,
//! the updater if they are a known end user; else none (the touchpoint is
//! recorded without a person).

use chrono::{DateTime, Utc};
use journeys_plugin_sdk::{PersonHint, Touchpoint};
use serde_json::Value;

use crate::known::Known;
use crate::touchpoints::{self, Comment, StatusEvent};
use crate::wire;

/// One event's touchpoints, in the order of its changes, at `at` (its
/// [`time_of`]). A comment without its id or author is an error naming the
/// event.
pub fn touchpoints(
    event: &wire::TicketEvent,
    at: DateTime<Utc>,
    known: &mut Known,
    base_url: &reqwest::Url,
) -> Result<Vec<Touchpoint>, String> {
    for child in &event.child_events {
        if let Some(requester) = requester_of(child) {
            known.learn_requester(event.ticket_id, requester);
        }
    }
    let mut out = Vec::new();
    for child in &event.child_events {
        if is_comment(child) {
            out.push(comment(event, child, at, known, base_url)?);
            continue;
        }
        let Some(status) = status_of(child) else {
            continue;
        };
        let previous = child.previous_value.as_ref().and_then(Value::as_str);
        let mut ticket = known.ticket(event.ticket_id, base_url);
        if touchpoints::becomes_solved(previous, status) {
            if ticket.status.is_empty() {
                ticket.status = status.to_ascii_lowercase();
            }
            out.push(touchpoints::solved(&ticket, at));
        } else if let Some(change) = StatusEvent::of(previous, status) {
            ticket.status = status.to_ascii_lowercase();
            if ticket.requester == PersonHint::default()
                && let Some(updater) = known.end_user(event.updater_id)
            {
                ticket.requester = updater;
            }
            out.push(touchpoints::status_changed(&ticket, change, previous, at));
        }
    }
    Ok(out)
}

/// Whether the event has a change that may make a touchpoint (a comment or
/// a status change): only those need their ticket's facts.
pub fn may_make_touchpoints(event: &wire::TicketEvent) -> bool {
    event
        .child_events
        .iter()
        .any(|child| is_comment(child) || status_of(child).is_some())
}

/// The update's time: `created_at`, else the Unix `timestamp`.
pub fn time_of(event: &wire::TicketEvent) -> Option<DateTime<Utc>> {
    event
        .created_at
        .or_else(|| DateTime::from_timestamp(event.timestamp?, 0))
}

fn is_comment(child: &wire::ChildEvent) -> bool {
    [&child.event_type, &child.child_type]
        .into_iter()
        .flatten()
        .any(|t| t.eq_ignore_ascii_case("comment"))
}

/// The field a child event set, keyed by its name (`"status": "solved"`) or
/// as `field_name` and `value`.
fn set_field<'a>(
    child: &'a wire::ChildEvent,
    name: &str,
    keyed: Option<&'a Value>,
) -> Option<&'a Value> {
    keyed.or_else(|| {
        (child.field_name.as_deref() == Some(name))
            .then_some(child.value.as_ref())
            .flatten()
    })
}

fn status_of(child: &wire::ChildEvent) -> Option<&str> {
    child
        .status
        .as_deref()
        .or_else(|| set_field(child, "status", None).and_then(Value::as_str))
}

/// A user id, which the export gives as a number or a string.
fn requester_of(child: &wire::ChildEvent) -> Option<u64> {
    let value = set_field(child, "requester_id", child.requester_id.as_ref())?;
    value
        .as_u64()
        .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
}

fn comment(
    event: &wire::TicketEvent,
    child: &wire::ChildEvent,
    at: DateTime<Utc>,
    known: &Known,
    base_url: &reqwest::Url,
) -> Result<Touchpoint, String> {
    let (Some(id), Some(author_id)) = (child.id, child.author_id) else {
        return Err(format!(
            "a comment of ticket event {} has no id or author_id",
            event.id
        ));
    };
    let comment = Comment {
        id,
        author_id,
        body: child.body.clone(),
        // A comment is public unless it says otherwise, as in the API.
        public: child.public.unwrap_or(true),
        created_at: child.created_at.unwrap_or(at),
    };
    let ticket = known.ticket(event.ticket_id, base_url);
    let author = known.author(&ticket, author_id, comment.public);
    Ok(touchpoints::replied(&ticket, &comment, author))
}
