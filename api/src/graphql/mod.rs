//! The GraphQL schema: domain modules contribute query and mutation roots, and
//! this module assembles them with the limits every request runs under.

pub mod connection;
pub mod context;
pub mod error;
pub mod ids;
pub mod loaders;
pub mod node;
pub mod pagination;
pub mod patch;
pub mod root_nulls;

use async_graphql::{EmptySubscription, MergedObject, Schema};

use crate::accounts::{AccountMutation, AccountQuery};
use crate::analytics::AnalyticsQuery;
use crate::connectors::{ConnectorMutation, ConnectorQuery};
use crate::journeys::editing::StageEditingMutation;
use crate::journeys::{JourneyMutation, JourneyQuery};
use crate::lifecycle::{LifecycleMutation, LifecycleQuery};
use crate::memberships::MembershipMutation;
use crate::merges::MergeMutation;
use crate::privacy::PrivacyMutation;
use crate::progression::{ProgressionMutation, ProgressionQuery};
use crate::scoring::{ScoringMutation, ScoringQuery};
use crate::stakeholders::{StakeholderMutation, StakeholderQuery};
use crate::touchpoints::{TouchpointMutation, TouchpointQuery};
use crate::workspaces::ViewerQuery;
use node::NodeQuery;

/// Deepest selection a query may nest; introspection for GraphiQL needs 14.
pub const MAX_DEPTH: usize = 16;
/// Most fields a query may select, each counted once per row its page may return.
pub const MAX_COMPLEXITY: usize = 50_000;

/// Reads. Every query needs a bearer token with the `journeys:read` scope
/// (`viewer` takes any valid token) and sees only the token's workspace.
#[derive(MergedObject, Default)]
pub struct Query(
    ViewerQuery,
    NodeQuery,
    AccountQuery,
    StakeholderQuery,
    TouchpointQuery,
    JourneyQuery,
    ProgressionQuery,
    ScoringQuery,
    LifecycleQuery,
    AnalyticsQuery,
    ConnectorQuery,
);

/// Writes, confined to the token's workspace. Expected failures are errors
/// with a stable `extensions.code` (BAD_USER_INPUT, NOT_FOUND, CONFLICT…), and
/// a mutation that fails writes nothing. Each needs the `journeys:write`
/// scope, except those whose description says they need `admin`, and the
/// connector mutations, which need `connectors:manage`.
#[derive(MergedObject, Default)]
pub struct Mutation(
    AccountMutation,
    StakeholderMutation,
    MembershipMutation,
    TouchpointMutation,
    JourneyMutation,
    StageEditingMutation,
    ProgressionMutation,
    ScoringMutation,
    LifecycleMutation,
    MergeMutation,
    PrivacyMutation,
    ConnectorMutation,
);

pub type JourneysSchema = Schema<Query, Mutation, EmptySubscription>;

pub fn schema() -> JourneysSchema {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .limit_recursive_depth(64)
        .finish()
}

/// The SDL that `schema.graphql` must equal.
pub fn sdl() -> String {
    schema().sdl()
}
