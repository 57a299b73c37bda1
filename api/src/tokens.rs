//! Revoking tokens: `revokeToken`. The revocation list and its check are
//! `journeys_core::revocations`; the HTTP layer refuses a revoked token.

use std::sync::Arc;

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use journeys_core::{db, revocations};

use crate::auth::Scope;
use crate::graphql::context::request;
use crate::graphql::error::ApiResult;

/// The token to revoke.
#[derive(InputObject)]
pub struct RevokeTokenInput {
    /// The token's `jti` claim (1 to 255 characters), as `journeys token`
    /// puts in every token it mints.
    pub jti: String,
}

/// The result of `revokeToken`.
#[derive(SimpleObject)]
pub struct RevokeTokenPayload {
    /// The revoked `jti`.
    pub jti: String,
    /// When it was first revoked (UTC); revoking again keeps this time.
    pub revoked_at: DateTime<Utc>,
}

#[derive(Default)]
pub struct TokenMutation;

#[Object]
impl TokenMutation {
    /// Revokes the workspace's tokens with this `jti`: this server refuses them
    /// with UNAUTHENTICATED from the next request on, every other instance
    /// within its token cache's lifetime (`JOURNEYS_TOKEN_CACHE_SECS`, 5 s by
    /// default). Tokens without a `jti` cannot be revoked; let them expire.
    /// Needs `admin`.
    async fn revoke_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The `jti` of the tokens to refuse.")] input: RevokeTokenInput,
    ) -> ApiResult<RevokeTokenPayload> {
        let rc = request(ctx);
        let principal = rc.require(Scope::Admin)?;
        let txn = db::begin_write(&rc.db).await?;
        let revoked = revocations::revoke(
            &txn,
            Some(principal.workspace_id),
            &input.jti,
            &principal.subject,
        )
        .await?;
        db::commit(txn).await?;
        // This instance refuses the token at once; others within their cache's lifetime.
        if let Some(tokens) = ctx.data_opt::<Arc<revocations::TokenCache>>() {
            tokens.forget(&revoked.jti);
        }
        Ok(RevokeTokenPayload {
            jti: revoked.jti,
            revoked_at: revoked.revoked_at,
        })
    }
}
