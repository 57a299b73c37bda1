//! Touchpoint kinds with a meaning of their own. The closed vocabularies
//! (lifecycle, channel, owner team, …) are `entity::vocab`'s: stored as short
//! strings, and the one enum of each that the engine uses.

/// The kind of touchpoint that carries an NPS answer (a whole number 0-10 in
/// `score`); ingestion checks it and the NPS report counts it.
pub const NPS_KIND: &str = "nps.responded";
