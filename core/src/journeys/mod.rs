//! Journey models and how accounts move through them.

pub mod backfill;
pub mod editing;
pub mod models;
pub mod playbooks;
pub mod progression;
pub mod templates;
