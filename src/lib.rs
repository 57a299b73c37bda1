//! Journeys: a headless GraphQL API for unified customer journeys.
//!
//! See ARCHITECTURE.md for the map. In short: `server` and `http` speak HTTP,
//! `graphql` assembles the schema and its shared machinery, and the domain
//! modules (`accounts`, `stakeholders`, `memberships`, `identities`,
//! `touchpoints`, `journeys`, `workspaces`, `connectors`, …) each own their
//! types, resolvers and store functions.

pub mod accounts;
pub mod analytics;
pub mod auth;
pub mod config;
pub mod connectors;
pub mod db;
pub mod demo;
pub mod graphql;
pub mod http;
pub mod identities;
pub mod journeys;
pub mod lifecycle;
pub mod memberships;
pub mod merges;
pub mod privacy;
pub mod progression;
pub mod scoring;
pub mod server;
pub mod stakeholders;
pub mod time;
pub mod touchpoints;
pub mod vocab;
pub mod workspaces;
