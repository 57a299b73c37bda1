//! The GraphQL face of identities; normalisation and storage are
//! `journeys_core::people::identities`.

use async_graphql::{Context, ID, Object};
use entity::identity;

use crate::graphql::error::ApiResult;
use crate::graphql::ids::{self, NodeType};

/// One of a stakeholder's identities.
pub struct Identity(pub identity::Model);

/// One identifier of a stakeholder in some system (an email, a Twitter user
/// id, a Zendesk user id…). A `(kind, value)` pair points to one stakeholder
/// in the workspace.
#[Object]
impl Identity {
    /// Opaque global id; resolves with `node`.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Identity, self.0.id)
    }
    /// What kind of identifier `value` is.
    async fn kind(&self) -> crate::vocab::IdentityKind {
        self.0.kind.into()
    }
    /// The normalised value.
    async fn value(&self) -> &str {
        &self.0.value
    }
    /// When the identity was recorded (UTC).
    async fn created_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.created_at
    }
    /// The person it identifies.
    async fn stakeholder(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Option<crate::stakeholders::Stakeholder>> {
        crate::stakeholders::load(ctx, self.0.stakeholder_id).await
    }
}
