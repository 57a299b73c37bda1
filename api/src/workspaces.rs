//! The caller's view of their workspace.

use async_graphql::{Context, Object, SimpleObject};
use journeys_core::workspaces;

use crate::graphql::context::request;
use crate::graphql::error::{ApiError, ApiResult};

/// Who is calling, and what they may do.
#[derive(SimpleObject)]
pub struct Viewer {
    /// The token's subject.
    pub subject: String,
    /// The slug of the token's workspace.
    pub workspace: String,
    /// The display name of the token's workspace.
    pub workspace_name: String,
    /// The token's recognised scopes.
    pub scopes: Vec<String>,
}

#[derive(Default)]
pub struct ViewerQuery;

#[Object]
impl ViewerQuery {
    /// The caller: subject, workspace and scopes. Any valid token may ask.
    async fn viewer(&self, ctx: &Context<'_>) -> ApiResult<Viewer> {
        let rc = request(ctx);
        let principal = rc.principal.as_ref().ok_or_else(|| {
            ApiError::Unauthenticated(
                "authentication required: send `Authorization: Bearer <token>`".into(),
            )
        })?;
        let ws = workspaces::find(&rc.db, principal.workspace_id).await?;
        let mut scopes: Vec<String> = crate::auth::Scope::ALL
            .into_iter()
            .filter(|s| principal.scopes.contains(s))
            .map(|s| s.as_str().to_owned())
            .collect();
        scopes.sort();
        Ok(Viewer {
            subject: principal.subject.clone(),
            workspace: ws.slug,
            workspace_name: ws.name,
            scopes,
        })
    }
}
