//! Zendesk's JSON as the OpenAPI description and its examples have it, only
//! the fields the connector reads. Ids in the REST API are numbers; ids inside
//! event-subscription (webhook) payloads are strings.

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// `CursorBasedExportIncrementalTicketsResponse`, with the `users` and
/// `organizations` sideloads.
#[derive(Debug, Deserialize)]
pub struct ExportPage {
    pub tickets: Vec<Ticket>,
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub organizations: Vec<Organization>,
    /// Where the next request starts; given at the end of the stream too.
    pub after_cursor: Option<String>,
    pub end_of_stream: bool,
}

/// `TicketObject`.
#[derive(Debug, Deserialize)]
pub struct Ticket {
    pub id: u64,
    pub subject: Option<String>,
    pub description: Option<String>,
    /// new, open, pending, hold, solved or closed (and `deleted` in exports).
    pub status: String,
    pub priority: Option<String>,
    #[serde(rename = "type")]
    pub ticket_type: Option<String>,
    pub requester_id: Option<u64>,
    pub organization_id: Option<u64>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub via: Option<Via>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
pub struct Via {
    pub channel: Option<String>,
}

/// `UserObject`, as sideloaded.
#[derive(Debug, Deserialize)]
pub struct User {
    pub id: u64,
    pub name: Option<String>,
    pub email: Option<String>,
    pub organization_id: Option<u64>,
    /// end-user, agent or admin.
    pub role: Option<String>,
}

/// `OrganizationObject`, as sideloaded.
#[derive(Debug, Deserialize)]
pub struct Organization {
    pub id: u64,
    pub name: Option<String>,
}

/// `ExportIncrementalTicketEventsResponse`, a time-based export: the next
/// page starts at `end_time`, until `end_of_stream`.
#[derive(Debug, Deserialize)]
pub struct TicketEventsPage {
    pub ticket_events: Vec<TicketEvent>,
    /// The newest event's time on this page (Unix seconds): the next page's
    /// `start_time`.
    pub end_time: Option<i64>,
    #[serde(default)]
    pub end_of_stream: bool,
}

/// `TicketsResponse` of `show_many`, with the `users` and `organizations`
/// sideloads.
#[derive(Debug, Deserialize)]
pub struct TicketsPage {
    pub tickets: Vec<Ticket>,
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub organizations: Vec<Organization>,
}

/// One ticket update (an audit) of the ticket events export.
#[derive(Debug, Deserialize)]
pub struct TicketEvent {
    /// The audit's id.
    pub id: u64,
    pub ticket_id: u64,
    /// Unix seconds.
    pub timestamp: Option<i64>,
    pub created_at: Option<DateTime<Utc>>,
    /// Who made the update; -1 for Zendesk itself.
    pub updater_id: Option<i64>,
    #[serde(default)]
    pub child_events: Vec<ChildEvent>,
}

/// One change of an update. A field change names the field as its key
/// (`"status": "solved"`, with `previous_value`), or, as audits spell it, as
/// `field_name` and `value`. With the `comment_events` sideload a comment is a
/// child event of `event_type` `Comment` whose `id` is the comment's id.
#[derive(Debug, Deserialize)]
pub struct ChildEvent {
    pub id: Option<u64>,
    pub event_type: Option<String>,
    #[serde(rename = "type")]
    pub child_type: Option<String>,
    pub status: Option<String>,
    pub requester_id: Option<serde_json::Value>,
    pub field_name: Option<String>,
    pub value: Option<serde_json::Value>,
    pub previous_value: Option<serde_json::Value>,
    pub author_id: Option<i64>,
    pub body: Option<String>,
    pub public: Option<bool>,
    pub created_at: Option<DateTime<Utc>>,
}

/// `SatisfactionRatingsResponse`, cursor-paginated (`page[size]` given).
#[derive(Debug, Deserialize)]
pub struct RatingsPage {
    pub satisfaction_ratings: Vec<Rating>,
    pub meta: PageMeta,
}

/// The `meta` of a cursor-paginated list.
#[derive(Debug, Deserialize)]
pub struct PageMeta {
    pub has_more: bool,
    pub after_cursor: Option<String>,
}

/// `SatisfactionRatingObject`.
#[derive(Debug, Deserialize)]
pub struct Rating {
    pub id: u64,
    pub ticket_id: Option<u64>,
    pub requester_id: Option<u64>,
    /// good, bad, offered or unoffered.
    pub score: String,
    pub comment: Option<String>,
    /// When the survey was offered (the rating's record was made).
    pub created_at: DateTime<Utc>,
    /// When the rating last changed: when the score was given, for a rated one.
    pub updated_at: Option<DateTime<Utc>>,
}

/// An event-subscription webhook payload:
/// `{"type":"zen:event-type:ticket.created","id":"…","time":"…","detail":{…},"event":{…}}`.
#[derive(Debug, Deserialize)]
pub struct Event {
    #[serde(rename = "type")]
    pub event_type: String,
    pub time: Option<DateTime<Utc>>,
    /// The ticket, for ticket events; read only once the type is known.
    #[serde(default)]
    pub detail: serde_json::Value,
    /// What changed, e.g. `{"current":"SOLVED","previous":"OPEN"}`.
    #[serde(default)]
    pub event: serde_json::Value,
}

/// A ticket event's `detail`: ids are strings, enumerations upper case.
#[derive(Debug, Deserialize)]
pub struct EventTicket {
    pub id: String,
    pub requester_id: Option<String>,
    pub organization_id: Option<String>,
    pub status: Option<String>,
    pub priority: Option<String>,
    #[serde(rename = "type")]
    pub ticket_type: Option<String>,
    pub subject: Option<String>,
    pub description: Option<String>,
    pub tags: Option<Vec<String>>,
    pub via: Option<Via>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// `event` of `zen:event-type:ticket.status_changed`.
#[derive(Debug, Deserialize)]
pub struct StatusChange {
    pub current: Option<String>,
    pub previous: Option<String>,
}

/// `event` of `zen:event-type:ticket.comment_added`.
#[derive(Debug, Deserialize)]
pub struct CommentAdded {
    pub comment: EventComment,
}

/// The comment of a `ticket.comment_added` event: the same comment id as the
/// export's comment child event.
#[derive(Debug, Deserialize)]
pub struct EventComment {
    pub id: String,
    pub body: Option<String>,
    pub is_public: Option<bool>,
    pub author: EventAuthor,
}

#[derive(Debug, Deserialize)]
pub struct EventAuthor {
    pub id: String,
    /// An agent or admin, as opposed to an end user.
    #[serde(default)]
    pub is_staff: bool,
    pub name: Option<String>,
}
