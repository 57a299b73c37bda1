//! The GraphQL schema: domain modules contribute query and mutation roots, and
//! this module assembles them. The limits every request runs under are
//! checked before execution, in `limits`; the response's size while it runs,
//! in `budget`.

pub mod budget;
pub mod connection;
pub mod context;
pub mod error;
pub mod ids;
pub mod limits;
pub mod loaders;
pub mod node;
pub mod pagination;
pub mod patch;
pub mod root_nulls;

use async_graphql::{MergedObject, MergedSubscription, Schema};

use crate::accounts::{AccountMutation, AccountQuery};
use crate::analytics::AnalyticsQuery;
use crate::connectors::{ConnectorMutation, ConnectorQuery};
use crate::dmu::{DmuMutation, DmuQuery};
use crate::engagement::EngagementQuery;
use crate::events::EventQuery;
use crate::journeys::editing::StageEditingMutation;
use crate::journeys::{JourneyMutation, JourneyQuery};
use crate::lifecycle::{LifecycleMutation, LifecycleQuery};
use crate::lifecycle_rules::{LifecycleRuleMutation, LifecycleRuleQuery};
use crate::live::EventSubscription;
use crate::memberships::MembershipMutation;
use crate::merges::MergeMutation;
use crate::privacy::PrivacyMutation;
use crate::progression::{ProgressionMutation, ProgressionQuery};
use crate::scoring::{ScoringMutation, ScoringQuery};
use crate::stakeholders::{StakeholderMutation, StakeholderQuery};
use crate::tokens::TokenMutation;
use crate::touchpoints::{TouchpointMutation, TouchpointQuery};
use crate::webhook_endpoints::{WebhookEndpointMutation, WebhookEndpointQuery};
use crate::workspaces::ViewerQuery;
use node::NodeQuery;

/// Reads. Every query needs a bearer token with the `journeys:read` scope
/// (`viewer` takes any valid token) and sees only the token's workspace.
#[derive(MergedObject, Default)]
pub struct Query(
    ViewerQuery,
    NodeQuery,
    AccountQuery,
    DmuQuery,
    StakeholderQuery,
    TouchpointQuery,
    JourneyQuery,
    ProgressionQuery,
    ScoringQuery,
    LifecycleQuery,
    LifecycleRuleQuery,
    AnalyticsQuery,
    EngagementQuery,
    ConnectorQuery,
    EventQuery,
    WebhookEndpointQuery,
);

/// Writes, confined to the token's workspace. Expected failures are errors
/// with a stable `extensions.code` (BAD_USER_INPUT, NOT_FOUND, CONFLICT…), and
/// a mutation that fails writes nothing. Each needs the `journeys:write`
/// scope, except those whose description says they need `admin`, and the
/// connector and webhook endpoint mutations, which need `connectors:manage`.
#[derive(MergedObject, Default)]
pub struct Mutation(
    AccountMutation,
    DmuMutation,
    StakeholderMutation,
    MembershipMutation,
    TouchpointMutation,
    JourneyMutation,
    StageEditingMutation,
    ProgressionMutation,
    ScoringMutation,
    LifecycleMutation,
    LifecycleRuleMutation,
    MergeMutation,
    PrivacyMutation,
    ConnectorMutation,
    WebhookEndpointMutation,
    TokenMutation,
);

/// Subscriptions, over the WebSocket at `/graphql`.
#[derive(MergedSubscription, Default)]
pub struct Subscription(EventSubscription);

pub type JourneysSchema = Schema<Query, Mutation, Subscription>;

pub fn schema() -> JourneysSchema {
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .limit_recursive_depth(limits::MAX_NESTING)
    .extension(budget::ResponseBudgets)
    .finish()
}

/// The SDL that `schema.graphql` must equal.
pub fn sdl() -> String {
    schema().sdl()
}
