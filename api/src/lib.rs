//! The Journeys GraphQL API: the only crate that knows GraphQL.
//!
//! `graphql` assembles the schema and its shared machinery (ids, cursors,
//! connections, loaders, limits, errors); the domain modules hold the object
//! types and the query and mutation roots over `journeys-core`.

pub mod accounts;
pub mod analytics;
pub mod auth;
pub mod connectors;
pub mod dmu;
pub mod engagement;
pub mod events;
pub mod graphql;
pub mod guidance;
pub mod identities;
pub mod journeys;
pub mod lifecycle;
pub mod lifecycle_rules;
pub mod live;
pub mod memberships;
pub mod merges;
pub mod privacy;
pub mod progression;
pub mod scoring;
pub mod stakeholders;
pub mod tokens;
pub mod touchpoints;
pub mod vocab;
pub mod webhook_endpoints;
pub mod workspaces;
