//! The Journeys engine: the domain and its storage, with its own types in and
//! out and its own error. It knows no GraphQL and no HTTP; `journeys-api` is
//! the only crate that speaks the protocol.

pub mod analytics;
pub mod db;
pub mod error;
pub mod journeys;
pub mod page;
pub mod time;

pub use error::{CoreError, CoreResult};
