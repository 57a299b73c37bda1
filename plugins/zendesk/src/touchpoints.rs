//! Tickets, their replies and status changes, and satisfaction ratings as
//! touchpoints. The exports and the webhooks both describe a ticket as
//! [`TicketFacts`] and go through [`opened`], [`solved`], [`status_changed`]
//! and [`replied`], so the same interaction always gets the same external id,
//! kind, url and properties, whichever way it arrived.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use journeys_plugin_sdk::{AccountHint, Channel, PersonHint, Team, Touchpoint};
use serde_json::{Map, Value, json};

use crate::wire;

/// A ticket as both sources can describe it. Enumerations are lower case.
#[derive(Debug, Clone)]
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

/// Whether a status change from `previous` to `current` is the moment the
/// ticket became solved: closing a solved ticket is not.
pub fn becomes_solved(previous: Option<&str>, current: &str) -> bool {
    is_solved(current) && !previous.is_some_and(is_solved)
}

/// The status changes, other than solving, that are touchpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusEvent {
    /// A solved ticket opened again.
    Reopened,
    /// Waiting on the requester.
    Pending,
    /// Waiting on a third party.
    OnHold,
}

impl StatusEvent {
    /// What a change from `previous` to `current` is, if one of these.
    /// Either spelling of a status (the webhooks' upper case) is understood.
    pub fn of(previous: Option<&str>, current: &str) -> Option<StatusEvent> {
        let current = current.to_ascii_lowercase();
        let was_solved = previous.is_some_and(|p| p.eq_ignore_ascii_case("solved"));
        match current.as_str() {
            "open" if was_solved => Some(StatusEvent::Reopened),
            "pending" => Some(StatusEvent::Pending),
            "hold" => Some(StatusEvent::OnHold),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            StatusEvent::Reopened => "reopened",
            StatusEvent::Pending => "pending",
            StatusEvent::OnHold => "on_hold",
        }
    }
}

/// Who wrote a comment, as far as the source can tell.
#[derive(Debug, Clone, PartialEq)]
pub enum Author {
    /// An agent or admin: the reply is the SERVICE team's, by them.
    Agent { name: Option<String> },
    /// The requester or another end user: the touchpoint is theirs.
    Customer(PersonHint),
    /// Not known to be either: the requester's, with no team or actor.
    Unknown,
}

/// A public reply or internal note on a ticket.
#[derive(Debug)]
pub struct Comment {
    /// The comment's id: the export's comment child event id and the
    /// webhook's `event.comment.id`.
    pub id: u64,
    pub author_id: i64,
    pub body: Option<String>,
    pub public: bool,
    pub created_at: DateTime<Utc>,
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

/// `ticket.solved`, external id `ticket:{id}:solved`, at the moment it
/// became solved (see [`from_export`] for the export's fallback).
pub fn solved(ticket: &TicketFacts, updated_at: DateTime<Utc>) -> Touchpoint {
    touchpoint(ticket, "solved", updated_at)
}

/// `ticket.reopened`, `ticket.pending` or `ticket.on_hold`, external id
/// `ticket:{id}:status:{status}:{unix seconds}` (status as the export spells
/// it), at the update that made the change. Neither the export nor the
/// webhook has an id for the change that the other knows, but both know the
/// ticket, the new status and the second of the update (the export's audit
/// `created_at`, the webhook's `detail.updated_at`). `ticket.status` is the
/// new status.
pub fn status_changed(
    ticket: &TicketFacts,
    event: StatusEvent,
    previous: Option<&str>,
    at: DateTime<Utc>,
) -> Touchpoint {
    let mut properties = Map::new();
    properties.insert("ticket_id".into(), json!(ticket.id));
    properties.insert("status".into(), json!(ticket.status));
    if let Some(previous) = previous {
        properties.insert(
            "previous_status".into(),
            json!(previous.to_ascii_lowercase()),
        );
    }
    Touchpoint {
        external_id: format!(
            "ticket:{}:status:{}:{}",
            ticket.id,
            ticket.status,
            at.timestamp()
        ),
        kind: format!("ticket.{}", event.name()),
        channel: Channel::Support,
        occurred_at: at,
        title: None,
        body: None,
        url: Some(ticket.url.clone()),
        score: None,
        properties,
        person: ticket.requester.clone(),
        account: ticket.account.clone(),
        owner_team: None,
        actor: None,
    }
}

/// `ticket.replied`, external id `ticket:{ticket id}:comment:{comment id}`, at
/// the comment's time. An agent's comment is the SERVICE team's with the agent
/// as actor (by name, else `zendesk user {id}`) and the requester as person;
/// a customer's has the customer as person.
pub fn replied(ticket: &TicketFacts, comment: &Comment, author: Author) -> Touchpoint {
    let mut properties = Map::new();
    properties.insert("ticket_id".into(), json!(ticket.id));
    properties.insert("public".into(), json!(comment.public));
    properties.insert("author_id".into(), json!(comment.author_id));
    let (person, owner_team, actor) = match author {
        Author::Agent { name } => (
            ticket.requester.clone(),
            Some(Team::Service),
            Some(name.unwrap_or_else(|| format!("zendesk user {}", comment.author_id))),
        ),
        Author::Customer(person) => (person, None, None),
        Author::Unknown => (ticket.requester.clone(), None, None),
    };
    Touchpoint {
        external_id: format!("ticket:{}:comment:{}", ticket.id, comment.id),
        kind: "ticket.replied".into(),
        channel: Channel::Support,
        occurred_at: comment.created_at,
        title: Some(
            if comment.public {
                "Public reply"
            } else {
                "Internal note"
            }
            .into(),
        ),
        body: comment.body.clone().filter(|b| !b.is_empty()),
        url: Some(ticket.url.clone()),
        score: None,
        properties,
        person,
        account: ticket.account.clone(),
        owner_team,
        actor,
    }
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

/// The users and organisations a page of tickets sideloads, by id.
pub struct Sideloads<'a> {
    users: HashMap<u64, &'a wire::User>,
    organizations: HashMap<u64, &'a wire::Organization>,
}

impl<'a> Sideloads<'a> {
    pub fn new(users: &'a [wire::User], organizations: &'a [wire::Organization]) -> Self {
        Sideloads {
            users: users.iter().map(|u| (u.id, u)).collect(),
            organizations: organizations.iter().map(|o| (o.id, o)).collect(),
        }
    }
}

/// An exported ticket's touchpoints: `ticket.opened`, and, while the export
/// is still catching up (`solved_fallback`), `ticket.solved` at its
/// `updated_at` when it is solved or closed: a ticket solved before the
/// ticket events export starts has no solve event. The events dated after
/// the start re-date it under the same external id; once caught up, only the
/// events date a solve, so a later update (e.g. closing) no longer moves it.
pub fn from_export(
    ticket: &wire::Ticket,
    facts: &TicketFacts,
    solved_fallback: bool,
) -> Vec<Touchpoint> {
    let mut touchpoints = vec![opened(facts, ticket.created_at)];
    if solved_fallback && is_solved(&facts.status) {
        touchpoints.push(solved(facts, ticket.updated_at));
    }
    touchpoints
}

/// What an exported ticket says of itself; `None` for a deleted ticket,
/// which makes no touchpoints.
pub fn facts_of(
    ticket: &wire::Ticket,
    sideloads: &Sideloads<'_>,
    base_url: &reqwest::Url,
) -> Option<TicketFacts> {
    let status = ticket.status.to_ascii_lowercase();
    if status == "deleted" {
        return None;
    }
    let requester = ticket
        .requester_id
        .and_then(|id| sideloads.users.get(&id).copied());
    let organization_id = ticket
        .organization_id
        .or(requester.and_then(|u| u.organization_id));
    Some(TicketFacts {
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
    })
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
