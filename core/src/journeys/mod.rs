//! Journey models and how accounts move through them.

pub mod progression;
