//! SeaORM entities of the Journeys data model.
//!
//! This crate is pure data: tables, columns and the closed vocabularies stored in
//! them. It knows nothing of GraphQL, HTTP or authentication. Every row carries its
//! `workspace_id`, and every key is a time-ordered UUID (v7), so ordering by `id`
//! is ordering by creation.

pub mod account;
pub mod account_domain;
pub mod account_ref;
pub mod connector;
pub mod consent;
pub mod event;
pub mod identity;
pub mod journey_model;
pub mod lifecycle_change;
pub mod lifecycle_rule;
pub mod membership;
pub mod merge;
pub mod needed_dmu_role;
pub mod revoked_token;
pub mod score_contribution;
pub mod scoring_rule;
pub mod stage;
pub mod stage_position;
pub mod stage_transition;
pub mod stakeholder;
pub mod sync_run;
pub mod touchpoint;
pub mod vocab;
pub mod webhook_delivery;
pub mod webhook_endpoint;
pub mod workspace;

/// A fresh time-ordered primary key.
pub fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}
