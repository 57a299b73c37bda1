//! What a run has learned from the ticket export's pages, for the ticket
//! events read after them: an event names its ticket and the comment's
//! author only by id, and the events export sideloads no users. A ticket with
//! new events was updated, so its run's ticket export has usually just shown
//! it (with its requester and the users it sideloads). It lives in the
//! connector, so it lasts one run: the tickets a run resumed in the events
//! phase (or a long backfill, past [`MOST_REMEMBERED`]) does not know are
//! fetched with `show_many` before their events are read (see
//! [`Known::missing`]); only a ticket Zendesk no longer shows is described by
//! its id alone.

use std::collections::HashMap;

use journeys_plugin_sdk::PersonHint;

use crate::touchpoints::{self, Author, TicketFacts};
use crate::wire;

/// The most tickets (and users) remembered; past it the memory starts again,
/// so a long backfill stays bounded and only costs later events their facts.
const MOST_REMEMBERED: usize = 50_000;

#[derive(Debug, Default)]
pub struct Known {
    tickets: HashMap<u64, TicketFacts>,
    /// Requesters named by creation events, of tickets not otherwise known.
    requesters: HashMap<u64, u64>,
    users: HashMap<u64, KnownUser>,
}

#[derive(Debug)]
struct KnownUser {
    name: Option<String>,
    email: Option<String>,
    /// `Some(true)` for an agent or admin, `Some(false)` for an end user.
    staff: Option<bool>,
}

impl Known {
    /// Remembers a page's sideloaded users.
    pub fn learn_users(&mut self, users: &[wire::User]) {
        if self.users.len() + users.len() > MOST_REMEMBERED {
            self.users.clear();
        }
        for user in users {
            let staff = user.role.as_deref().map(|role| {
                role.eq_ignore_ascii_case("agent") || role.eq_ignore_ascii_case("admin")
            });
            self.users.insert(
                user.id,
                KnownUser {
                    name: user.name.clone(),
                    email: user.email.clone(),
                    staff,
                },
            );
        }
    }

    /// Remembers an exported ticket.
    pub fn learn_ticket(&mut self, facts: &TicketFacts) {
        if self.tickets.len() >= MOST_REMEMBERED {
            self.tickets.clear();
        }
        self.tickets.insert(facts.id, facts.clone());
    }

    /// Remembers a ticket's requester from its creation event.
    pub fn learn_requester(&mut self, ticket: u64, requester: u64) {
        if self.requesters.len() >= MOST_REMEMBERED {
            self.requesters.clear();
        }
        self.requesters.insert(ticket, requester);
    }

    /// Of `tickets` (one events page's), those to fetch: the ones not known,
    /// each once, in order. When they would not fit, the memory starts again
    /// first, so it never forgets part of a page while the page is read: then
    /// all of them are to fetch.
    pub fn missing(&mut self, tickets: &[u64]) -> Vec<u64> {
        let unknown = |known: &Known| {
            let mut missing: Vec<u64> = Vec::new();
            for &ticket in tickets {
                if !known.tickets.contains_key(&ticket) && !missing.contains(&ticket) {
                    missing.push(ticket);
                }
            }
            missing
        };
        let missing = unknown(self);
        if self.tickets.len() + missing.len() <= MOST_REMEMBERED {
            return missing;
        }
        self.tickets.clear();
        unknown(self)
    }

    /// The ticket as last exported or fetched, else only its id, url and (if
    /// an event said) its requester. Its status is Zendesk's latest, not the
    /// event's.
    pub fn ticket(&self, ticket: u64, base_url: &reqwest::Url) -> TicketFacts {
        self.tickets.get(&ticket).cloned().unwrap_or_else(|| {
            let mut facts = Self::bare(ticket, base_url);
            if let Some(&requester) = self.requesters.get(&ticket) {
                facts.requester = self.person(requester);
            }
            facts
        })
    }

    /// Who wrote a comment: known agents, Zendesk itself (a negative id) and
    /// any internal note's author (end users cannot write one) are agents;
    /// the requester and other known end users are customers; anyone else is
    /// unknown.
    pub fn author(&self, ticket: &TicketFacts, author_id: i64, public: bool) -> Author {
        let Ok(id) = u64::try_from(author_id) else {
            return Author::Agent { name: None };
        };
        let user = self.users.get(&id);
        let staff = user.and_then(|u| u.staff);
        let is_requester =
            ticket.requester.zendesk_user_id.as_deref() == Some(id.to_string().as_str());
        if staff == Some(true) || !public {
            Author::Agent {
                name: user.and_then(|u| u.name.clone()),
            }
        } else if is_requester || staff == Some(false) {
            Author::Customer(self.person(id))
        } else {
            Author::Unknown
        }
    }

    /// A known end user as a person: who updates a ticket whose requester is
    /// not known and is an end user is, as near as the run can tell, its
    /// requester (agents and Zendesk itself are never the person).
    pub fn end_user(&self, id: Option<i64>) -> Option<PersonHint> {
        let id = u64::try_from(id?).ok()?;
        (self.users.get(&id)?.staff == Some(false)).then(|| self.person(id))
    }

    /// A user as a person: by Zendesk user id, with email and name if known.
    fn person(&self, id: u64) -> PersonHint {
        let user = self.users.get(&id);
        PersonHint {
            zendesk_user_id: Some(id.to_string()),
            email: user.and_then(|u| u.email.clone()),
            name: user.and_then(|u| u.name.clone()),
            ..PersonHint::default()
        }
    }

    fn bare(ticket: u64, base_url: &reqwest::Url) -> TicketFacts {
        TicketFacts {
            id: ticket,
            status: String::new(),
            priority: None,
            ticket_type: None,
            subject: None,
            description: None,
            tags: Vec::new(),
            via_channel: None,
            url: touchpoints::agent_url(base_url, ticket),
            requester: PersonHint::default(),
            account: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> reqwest::Url {
        "https://acme.zendesk.com".parse().unwrap()
    }

    fn user(id: u64, name: &str, role: Option<&str>) -> wire::User {
        wire::User {
            id,
            name: Some(name.into()),
            email: None,
            organization_id: None,
            role: role.map(str::to_owned),
        }
    }

    #[test]
    fn authors_are_agents_customers_or_unknown() {
        let mut known = Known::default();
        known.learn_users(&[
            user(1, "Jo", Some("end-user")),
            user(2, "Sam", Some("admin")),
            user(3, "Cy", Some("end-user")),
            user(4, "Noa", None),
        ]);
        known.learn_requester(10, 1);
        let ticket = known.ticket(10, &base());
        assert_eq!(ticket.requester.zendesk_user_id.as_deref(), Some("1"));
        let customer = |id: &str, name: &str| {
            Author::Customer(PersonHint {
                zendesk_user_id: Some(id.into()),
                name: Some(name.into()),
                ..PersonHint::default()
            })
        };
        assert_eq!(known.author(&ticket, 1, true), customer("1", "Jo"));
        assert_eq!(known.author(&ticket, 3, true), customer("3", "Cy"));
        let sam = Author::Agent {
            name: Some("Sam".into()),
        };
        assert_eq!(known.author(&ticket, 2, true), sam);
        assert_eq!(known.author(&ticket, 2, false), sam);
        assert_eq!(known.author(&ticket, 4, true), Author::Unknown);
        assert_eq!(
            known.author(&ticket, 4, false),
            Author::Agent {
                name: Some("Noa".into())
            },
            "only agents write internal notes"
        );
        assert_eq!(
            known.author(&ticket, -1, true),
            Author::Agent { name: None }
        );
        assert_eq!(known.end_user(Some(3)).unwrap().name.as_deref(), Some("Cy"));
        assert_eq!(known.end_user(Some(2)), None);
        assert_eq!(known.end_user(Some(-1)), None);
    }

    #[test]
    fn missing_tickets_are_listed_once_each() {
        let mut known = Known::default();
        known.learn_ticket(&Known::bare(7, &base()));
        assert_eq!(known.missing(&[5, 7, 6, 5]), [5, 6]);
    }
}
