//! The `journeys` server and command line: configuration, actix-web wiring,
//! GraphQL over HTTP (`http`), vendor webhooks, the CLI and the demo.
//!
//! The engine is `journeys-core`; the GraphQL API is `journeys-api`. This crate
//! only carries requests to them and their answers back.

// The merged query root's resolver futures nest deeper than the default limit.
#![recursion_limit = "256"]

pub mod config;
pub mod connectors;
pub mod demo;
pub mod http;
pub mod rate_limit;
pub mod seed;
pub mod server;
pub mod state;
pub mod ws;
