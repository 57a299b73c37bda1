//! Open support tickets, from each ticket's status touchpoints: a ticket is
//! open while its newest status change is not a solve. Tickets are told
//! apart by the recording source and `properties.ticket_id` (else the id in
//! an external id `ticket:{id}:…`), so two help desks' ticket 7 stay two.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use entity::touchpoint;
use uuid::Uuid;

use crate::vocab::{TICKET_OPENED, TICKET_SOLVED};

/// A ticket opened and not solved since.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenTicket {
    /// The help desk's ticket id.
    pub ticket_id: String,
    /// The touchpoint that opened it (its first status touchpoint when the
    /// opening was never recorded): subject, requester and link.
    pub opened: touchpoint::Model,
    /// When it was last reopened after a solve; `None` when never solved.
    pub reopened_at: Option<DateTime<Utc>>,
}

/// The ticket a status touchpoint belongs to.
fn ticket_id(tp: &touchpoint::Model) -> Option<String> {
    let from_properties = tp
        .properties
        .as_ref()
        .and_then(|p| p.get("ticket_id"))
        .and_then(|id| match id {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
    from_properties.or_else(|| {
        let mut parts = tp.external_id.split(':');
        (parts.next() == Some("ticket"))
            .then(|| parts.next().map(str::to_owned))
            .flatten()
    })
}

/// The tickets still open among status touchpoints (of any accounts), by
/// opening time. Changes at the same instant count a solve last.
pub fn open_tickets(status_touchpoints: &[touchpoint::Model]) -> Vec<OpenTicket> {
    type Key = (Option<Uuid>, String, String);
    let mut tickets: BTreeMap<Key, Vec<&touchpoint::Model>> = BTreeMap::new();
    for tp in status_touchpoints {
        if let Some(id) = ticket_id(tp) {
            let key = (tp.connector_id, tp.source.clone(), id);
            tickets.entry(key).or_default().push(tp);
        }
    }
    let mut open: Vec<OpenTicket> = tickets
        .into_iter()
        .filter_map(|((_, _, ticket_id), mut changes)| {
            changes.sort_by_key(|t| (t.occurred_at, t.kind == TICKET_SOLVED, t.id));
            let newest = changes.last()?;
            if newest.kind == TICKET_SOLVED {
                return None;
            }
            let opened = changes
                .iter()
                .find(|t| t.kind == TICKET_OPENED)
                .unwrap_or(&changes[0]);
            let solved_at = changes
                .iter()
                .filter(|t| t.kind == TICKET_SOLVED)
                .map(|t| t.occurred_at)
                .max();
            let reopened_at = solved_at.and_then(|solved| {
                changes
                    .iter()
                    .find(|t| t.occurred_at >= solved && t.kind != TICKET_SOLVED)
                    .map(|t| t.occurred_at)
            });
            Some(OpenTicket {
                ticket_id,
                opened: (*opened).clone(),
                reopened_at,
            })
        })
        .collect();
    open.sort_by_key(|t| (t.opened.occurred_at, t.opened.id));
    open
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guidance::tests::touchpoint_row;

    fn at(day: u32) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("2026-03-{day:02}T10:00:00Z"))
            .unwrap()
            .to_utc()
    }

    fn status(ticket: u64, kind: &str, day: u32) -> touchpoint::Model {
        let mut tp = touchpoint_row(kind, at(day));
        tp.source = "zendesk".into();
        tp.external_id = format!("{kind}:{ticket}:{day}");
        tp.properties = Some(serde_json::json!({ "ticket_id": ticket }));
        tp
    }

    #[test]
    fn a_ticket_is_open_until_its_newest_change_is_a_solve() {
        let rows = [
            status(1, "ticket.opened", 1),
            status(1, "ticket.solved", 2),
            status(2, "ticket.opened", 3),
            status(2, "ticket.pending", 4),
            status(3, "ticket.opened", 1),
            status(3, "ticket.solved", 2),
            status(3, "ticket.reopened", 5),
        ];
        let open = open_tickets(&rows);
        let ids: Vec<&str> = open.iter().map(|t| t.ticket_id.as_str()).collect();
        assert_eq!(ids, ["3", "2"]);
        assert_eq!(open[0].reopened_at, Some(at(5)));
        assert_eq!(open[0].opened.kind, "ticket.opened");
        assert_eq!(open[1].reopened_at, None);
    }

    #[test]
    fn a_solve_at_the_same_instant_closes_the_ticket() {
        let rows = [status(1, "ticket.solved", 1), status(1, "ticket.opened", 1)];
        assert!(open_tickets(&rows).is_empty());
    }

    #[test]
    fn without_a_property_the_external_id_names_the_ticket() {
        let mut opened = touchpoint_row("ticket.opened", at(1));
        opened.external_id = "ticket:42:opened".into();
        let mut solved = touchpoint_row("ticket.solved", at(2));
        solved.external_id = "ticket:42:solved".into();
        assert!(open_tickets(&[opened.clone(), solved]).is_empty());
        assert_eq!(open_tickets(&[opened])[0].ticket_id, "42");
    }

    #[test]
    fn the_same_id_from_two_sources_is_two_tickets() {
        let mut other = status(1, "ticket.opened", 1);
        other.source = "freshdesk".into();
        let rows = [
            status(1, "ticket.opened", 1),
            status(1, "ticket.solved", 2),
            other,
        ];
        let open = open_tickets(&rows);
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].opened.source, "freshdesk");
    }
}
