//! Tickets and satisfaction ratings as touchpoints. The export and the
//! webhooks both describe a ticket as [`TicketFacts`] and go through
//! [`opened`] and [`solved`], so the same interaction always gets the same
//! external id, kind, url and properties, whichever way it arrived.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use journeys_plugin_sdk::{AccountHint, Channel, PersonHint, Touchpoint};
use serde_json::{Map, Value, json};

use crate::wire;

/// A ticket as both sources can describe it. Enumerations are lower case.
#[derive(Debug)]
pub struct TicketFacts {
    pub id: u64,
    pub status: String,
    pub priority: Option<String>,
    pub ticket_type: Option<String>,
    pub subject: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub via_channel: Option<String>,
    /// The ticket in the agent interface (the export's `url` is the API's).
    pub url: String,
    pub requester: PersonHint,
    pub account: Option<AccountHint>,
}

/// Solved and closed tickets count as solved; the webhooks spell statuses in
/// upper case, the export in lower.
pub fn is_solved(status: &str) -> bool {
    status.eq_ignore_ascii_case("solved") || status.eq_ignore_ascii_case("closed")
}

/// The ticket's page for agents: `{base_url}/agent/tickets/{id}`.
pub fn agent_url(base_url: &reqwest::Url, ticket: u64) -> String {
    let mut url = base_url.clone();
    url.set_path(&format!("/agent/tickets/{ticket}"));
    url.set_query(None);
    url.to_string()
}

/// `ticket.opened`, external id `ticket:{id}:opened`, at the ticket's creation.
pub fn opened(ticket: &TicketFacts, created_at: DateTime<Utc>) -> Touchpoint {
    touchpoint(ticket, "opened", created_at)
}

/// `ticket.solved`, external id `ticket:{id}:solved`, at the update that
/// showed it solved.
pub fn solved(ticket: &TicketFacts, updated_at: DateTime<Utc>) -> Touchpoint {
    touchpoint(ticket, "solved", updated_at)
}

fn touchpoint(ticket: &TicketFacts, event: &str, occurred_at: DateTime<Utc>) -> Touchpoint {
    Touchpoint {
        external_id: format!("ticket:{}:{event}", ticket.id),
        kind: format!("ticket.{event}"),
        channel: Channel::Support,
        occurred_at,
        title: ticket.subject.clone(),
        body: ticket.description.clone(),
        url: Some(ticket.url.clone()),
        score: None,
        properties: ticket_properties(ticket),
        person: ticket.requester.clone(),
        account: ticket.account.clone(),
        owner_team: None,
        actor: None,
    }
}

fn ticket_properties(ticket: &TicketFacts) -> Map<String, Value> {
    let mut properties = Map::new();
    properties.insert("ticket_id".into(), json!(ticket.id));
    properties.insert("status".into(), json!(ticket.status));
    let optional = [
        ("priority", &ticket.priority),
        ("type", &ticket.ticket_type),
        ("via_channel", &ticket.via_channel),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            properties.insert(name.into(), json!(value));
        }
    }
    if !ticket.tags.is_empty() {
        properties.insert("tags".into(), json!(ticket.tags));
    }
    properties
}

/// The users and organisations an export page sideloads, by id.
pub struct Sideloads<'a> {
    users: HashMap<u64, &'a wire::User>,
    organizations: HashMap<u64, &'a wire::Organization>,
}

impl<'a> Sideloads<'a> {
    pub fn of(page: &'a wire::ExportPage) -> Self {
        Sideloads {
            users: page.users.iter().map(|u| (u.id, u)).collect(),
            organizations: page.organizations.iter().map(|o| (o.id, o)).collect(),
        }
    }
}

/// An exported ticket's touchpoints: `ticket.opened`, and `ticket.solved`
/// when it is solved or closed. Deleted tickets make none.
pub fn from_export(
    ticket: &wire::Ticket,
    sideloads: &Sideloads<'_>,
    base_url: &reqwest::Url,
) -> Vec<Touchpoint> {
    let status = ticket.status.to_ascii_lowercase();
    if status == "deleted" {
        return Vec::new();
    }
    let requester = ticket
        .requester_id
        .and_then(|id| sideloads.users.get(&id).copied());
    let organization_id = ticket
        .organization_id
        .or(requester.and_then(|u| u.organization_id));
    let facts = TicketFacts {
        id: ticket.id,
        priority: ticket.priority.as_deref().map(str::to_ascii_lowercase),
        ticket_type: ticket.ticket_type.as_deref().map(str::to_ascii_lowercase),
        subject: ticket.subject.clone(),
        description: ticket.description.clone(),
        tags: ticket.tags.clone(),
        via_channel: ticket.via.as_ref().and_then(|v| v.channel.clone()),
        url: agent_url(base_url, ticket.id),
        requester: PersonHint {
            zendesk_user_id: ticket.requester_id.map(|id| id.to_string()),
            email: requester.and_then(|u| u.email.clone()),
            name: requester.and_then(|u| u.name.clone()),
            ..PersonHint::default()
        },
        account: organization_id.map(|id| AccountHint {
            external_id: Some(id.to_string()),
            name: sideloads
                .organizations
                .get(&id)
                .and_then(|o| o.name.clone()),
        }),
        status,
    };
    let mut touchpoints = vec![opened(&facts, ticket.created_at)];
    if is_solved(&facts.status) {
        touchpoints.push(solved(&facts, ticket.updated_at));
    }
    touchpoints
}

/// `satisfaction.rated`, external id `satisfaction:{id}`, for a rating scored
/// good or bad (offered and unoffered surveys are not ratings yet), at the
/// time it was given. Its `score` is 1 for good and 0 for bad, so the mean
/// score of a set of ratings is their CSAT (the share rated good); the rating
/// itself stays in `properties.rating`. CSAT is not NPS: NPS analytics read
/// only `nps.responded` touchpoints.
pub fn from_rating(rating: &wire::Rating) -> Option<Touchpoint> {
    let given = rating.score.to_ascii_lowercase();
    let score = match given.as_str() {
        "good" => 1,
        "bad" => 0,
        _ => return None,
    };
    let mut properties = Map::new();
    properties.insert("rating".into(), json!(given));
    if let Some(comment) = &rating.comment {
        properties.insert("comment".into(), json!(comment));
    }
    if let Some(ticket) = rating.ticket_id {
        properties.insert("ticket_id".into(), json!(ticket));
    }
    Some(Touchpoint {
        external_id: format!("satisfaction:{}", rating.id),
        kind: "satisfaction.rated".into(),
        channel: Channel::Support,
        occurred_at: rating.updated_at.unwrap_or(rating.created_at),
        title: Some(format!("Rated {given}")),
        body: rating.comment.clone().filter(|c| !c.is_empty()),
        url: None,
        score: Some(score),
        properties,
        person: PersonHint {
            zendesk_user_id: rating.requester_id.map(|id| id.to_string()),
            ..PersonHint::default()
        },
        account: None,
        owner_team: None,
        actor: None,
    })
}
