//! Zendesk's JSON, as the OpenAPI description has it (only the fields used).

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// `CursorBasedExportIncrementalTicketsResponse`, with `include=users`.
#[derive(Debug, Deserialize)]
pub struct ExportPage {
    pub tickets: Vec<Ticket>,
    #[serde(default)]
    pub users: Vec<User>,
    pub after_cursor: Option<String>,
    pub end_of_stream: bool,
}

/// `TicketObject`.
#[derive(Debug, Deserialize)]
pub struct Ticket {
    pub id: u64,
    pub url: Option<String>,
    pub subject: Option<String>,
    pub description: Option<String>,
    pub status: String,
    pub priority: Option<String>,
    pub r#type: Option<String>,
    pub requester_id: u64,
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

/// `UserObject`.
#[derive(Debug, Deserialize)]
pub struct User {
    pub id: u64,
    pub name: Option<String>,
    pub email: Option<String>,
}

/// `SatisfactionRatingsResponse` with cursor pagination.
#[derive(Debug, Deserialize)]
pub struct RatingsPage {
    pub satisfaction_ratings: Vec<Rating>,
    pub meta: Option<PageMeta>,
}

#[derive(Debug, Deserialize)]
pub struct PageMeta {
    #[serde(default)]
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
    pub created_at: DateTime<Utc>,
}
