//! Relay's `Node` interface and the `node`/`nodes` lookups.

use async_graphql::{Context, ID, Interface, Object};
use journeys_core::batch;

use super::context::request;
use super::error::{ApiError, ApiResult};
use super::ids::{self, NodeType};
use crate::accounts::Account;
use crate::auth::Scope;
use crate::connectors::{Connector, SyncRun};
use crate::identities::Identity;
use crate::journeys::{JourneyModel, Stage};
use crate::lifecycle_rules::LifecycleRule;
use crate::merges::Merge;
use crate::scoring::ScoringRule;
use crate::stakeholders::Stakeholder;
use crate::touchpoints::Touchpoint;
use crate::webhook_endpoints::{WebhookDelivery, WebhookEndpoint};

/// An object with a global id.
#[derive(Interface)]
#[graphql(field(
    name = "id",
    ty = "ID",
    desc = "Opaque global id: pass it to `node` or `nodes`, or to any argument that takes this type's id."
))]
pub enum Node {
    Account(Account),
    Stakeholder(Stakeholder),
    Touchpoint(Touchpoint),
    Identity(Identity),
    JourneyModel(JourneyModel),
    Stage(Stage),
    ScoringRule(ScoringRule),
    LifecycleRule(LifecycleRule),
    Merge(Merge),
    Connector(Connector),
    SyncRun(SyncRun),
    WebhookEndpoint(WebhookEndpoint),
    WebhookDelivery(WebhookDelivery),
}

/// The one row a by-id read found, if any.
fn one<T>(rows: Vec<T>) -> Option<T> {
    rows.into_iter().next()
}

async fn resolve(ctx: &Context<'_>, id: &ID) -> ApiResult<Option<Node>> {
    use super::connection::load_error;
    use super::loaders::{AccountById, StakeholderById, TouchpointById};
    let rc = request(ctx);
    let ws = rc.require(Scope::Read)?.workspace_id;
    let (ty, key) = ids::decode_any(id)?;
    let node =
        match ty {
            NodeType::Account => rc
                .loader
                .load_one(AccountById(key))
                .await
                .map_err(load_error)?
                .map(|m| Node::Account(Account(m))),
            NodeType::Stakeholder => rc
                .loader
                .load_one(StakeholderById(key))
                .await
                .map_err(load_error)?
                .map(|m| Node::Stakeholder(Stakeholder(m))),
            NodeType::Touchpoint => rc
                .loader
                .load_one(TouchpointById(key))
                .await
                .map_err(load_error)?
                .map(|m| Node::Touchpoint(Touchpoint(m))),
            NodeType::Identity => one(batch::identities(&rc.db, ws, &[key]).await?)
                .map(|m| Node::Identity(Identity(m))),
            NodeType::JourneyModel => one(batch::journey_models(&rc.db, ws, &[key]).await?)
                .map(|m| Node::JourneyModel(JourneyModel(m))),
            NodeType::Stage => {
                one(batch::stages(&rc.db, ws, &[key]).await?).map(|m| Node::Stage(Stage(m)))
            }
            NodeType::ScoringRule => one(batch::scoring_rules(&rc.db, ws, &[key]).await?)
                .map(|m| Node::ScoringRule(ScoringRule(m))),
            NodeType::LifecycleRule => one(batch::lifecycle_rules(&rc.db, ws, &[key]).await?)
                .map(|m| Node::LifecycleRule(LifecycleRule(m))),
            NodeType::Merge => {
                one(batch::merges(&rc.db, ws, &[key]).await?).map(|m| Node::Merge(Merge(m)))
            }
            NodeType::Connector => one(batch::connectors(&rc.db, ws, &[key]).await?)
                .map(|m| Node::Connector(Connector(m))),
            NodeType::SyncRun => {
                one(batch::sync_runs(&rc.db, ws, &[key]).await?).map(|m| Node::SyncRun(SyncRun(m)))
            }
            // Partner configuration: read with the scope that manages it.
            NodeType::WebhookEndpoint => {
                rc.require(Scope::ConnectorsManage)?;
                one(batch::webhook_endpoints(&rc.db, ws, &[key]).await?)
                    .map(|m| Node::WebhookEndpoint(WebhookEndpoint(m)))
            }
            NodeType::WebhookDelivery => {
                rc.require(Scope::ConnectorsManage)?;
                one(batch::webhook_deliveries(&rc.db, ws, &[key]).await?)
                    .map(|m| Node::WebhookDelivery(WebhookDelivery(m)))
            }
        };
    Ok(node)
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by its global id; NOT_FOUND when it is not in the token's workspace.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global id of any type.")] id: ID,
    ) -> ApiResult<Option<Node>> {
        match resolve(ctx, &id).await? {
            Some(node) => Ok(Some(node)),
            None => Err(ApiError::not_found("node")),
        }
    }

    /// Objects by global id, in order; `null` for each one not found. At most 500.
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Up to 500 global ids, of any types.")] ids: Vec<ID>,
    ) -> ApiResult<Vec<Option<Node>>> {
        if ids.len() > 500 {
            return Err(ApiError::bad_input("at most 500 ids"));
        }
        let lookups = ids.iter().map(|id| resolve(ctx, id));
        futures_util::future::try_join_all(lookups).await
    }
}
