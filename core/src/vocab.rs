//! Touchpoint kinds with a meaning of their own. The closed vocabularies
//! (lifecycle, channel, owner team, …) are `entity::vocab`'s: stored as short
//! strings, and the one enum of each that the engine uses.

/// The kind of touchpoint that carries an NPS answer (a whole number 0-10 in
/// `score`); ingestion checks it and the NPS report counts it.
pub const NPS_KIND: &str = "nps.responded";

/// A support ticket was opened: the first of its status touchpoints, paired
/// with the rest by `properties.ticket_id` (as the Zendesk connector records
/// them; any source may use the same kinds).
pub const TICKET_OPENED: &str = "ticket.opened";
/// A support ticket was solved (or closed before it was solved).
pub const TICKET_SOLVED: &str = "ticket.solved";
/// Status changes that leave a ticket unsolved: back to open, pending or on
/// hold.
pub const TICKET_UNSOLVED: [&str; 3] = ["ticket.reopened", "ticket.pending", "ticket.on_hold"];
/// Every status touchpoint of a ticket.
pub const TICKET_STATUS_KINDS: [&str; 5] = [
    TICKET_OPENED,
    TICKET_SOLVED,
    TICKET_UNSOLVED[0],
    TICKET_UNSOLVED[1],
    TICKET_UNSOLVED[2],
];
