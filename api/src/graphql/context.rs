//! Per-request state: the database, the caller, and the batching loaders.

use async_graphql::Context;
use async_graphql::dataloader::DataLoader;
use sea_orm::DatabaseConnection;

use super::error::{ApiError, ApiResult};
use super::loaders::Batch;
use crate::auth::{Principal, Scope};

pub struct RequestContext {
    pub db: DatabaseConnection,
    /// `None` for a request without a token: it may only introspect.
    pub principal: Option<Principal>,
    pub loader: DataLoader<Batch>,
}

impl RequestContext {
    pub fn new(db: DatabaseConnection, principal: Option<Principal>) -> Self {
        let workspace = principal
            .as_ref()
            .map(|p| p.workspace_id)
            .unwrap_or_default();
        let loader = DataLoader::new(
            Batch {
                db: db.clone(),
                workspace,
            },
            tokio::spawn,
        );
        Self {
            db,
            principal,
            loader,
        }
    }

    /// The caller, who must hold `scope`.
    pub fn require(&self, scope: Scope) -> ApiResult<&Principal> {
        let principal = self.principal.as_ref().ok_or_else(|| {
            ApiError::Unauthenticated(
                "authentication required: send `Authorization: Bearer <token>`".into(),
            )
        })?;
        if principal.has(scope) {
            Ok(principal)
        } else {
            Err(ApiError::Forbidden {
                scope: scope.as_str(),
            })
        }
    }
}

/// The request's state, from a resolver's context.
pub fn request<'a>(ctx: &Context<'a>) -> &'a RequestContext {
    ctx.data_unchecked::<RequestContext>()
}
