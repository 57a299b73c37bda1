//! The Journeys engine: the domain and its storage, with its own types in and
//! out and its own error. It knows no GraphQL and no HTTP; `journeys-api` is
//! the only crate that speaks the protocol.

pub mod analytics;
pub mod batch;
pub mod connectors;
pub mod db;
pub mod error;
pub mod events;
pub mod guidance;
pub mod ingestion;
pub mod journeys;
pub mod lifecycle;
pub mod live;
pub mod merges;
pub mod outbound;
pub mod page;
pub mod patch;
pub mod people;
pub mod privacy;
pub mod retention;
pub mod revocations;
pub mod scoring;
#[cfg(feature = "testing")]
pub mod testing;
pub mod time;
pub mod touchpoints;
pub mod vocab;
pub mod workspaces;

pub use error::{CoreError, CoreResult};
