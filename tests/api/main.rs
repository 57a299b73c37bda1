//! HTTP-level tests against a real server on a loopback port: one module per
//! feature, a fresh database per test (SQLite, or PostgreSQL when
//! `TEST_DATABASE_URL` is set).

mod accounts;
mod analytics;
mod auth;
mod backfill;
mod batching;
mod brief;
mod cli;
mod connector_sources;
mod connectors;
mod demo;
mod dmu;
mod engagement;
mod errors;
mod events;
mod helpers;
mod http_spec;
mod instances;
mod journeys;
mod lifecycle;
mod lifecycle_rules;
mod limits;
mod merges;
mod next_steps;
mod pacing;
mod pagination;
mod privacy;
mod progression;
mod rate_limit;
mod revocation;
mod scoring;
mod seed;
mod stakeholders;
mod subscriptions;
mod takeover;
mod team_handoffs;
mod touchpoints;
mod twitter;
mod webhooks;
mod webhooks_out;
mod zoom;
