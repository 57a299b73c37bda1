//! Revoked tokens, by `jti`. A revocation holds in one workspace or in every
//! workspace; the request path learns whether a token is revoked in the same
//! statement that finds its workspace, so revoking costs requests nothing
//! and holds on every instance from the moment it is committed.

use entity::{revoked_token, workspace};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

use crate::{CoreError, CoreResult, time};

/// The longest `jti` that can be revoked.
pub const MAX_JTI_CHARS: usize = 255;

/// The workspace a token names, and whether the token is revoked there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenWorkspace {
    pub id: Uuid,
    pub slug: String,
    pub revoked: bool,
}

/// The workspace `slug`, and whether a token with `jti` is revoked in it, in
/// one statement. A token without a `jti` cannot be revoked.
pub async fn token_workspace(
    db: &impl ConnectionTrait,
    slug: &str,
    jti: Option<&str>,
) -> CoreResult<Option<TokenWorkspace>> {
    use revoked_token::Column as R;
    let revoked = match jti {
        Some(jti) => Expr::exists(
            Query::select()
                .expr(Expr::val(1))
                .from(revoked_token::Entity)
                .and_where(Expr::col((revoked_token::Entity, R::Jti)).eq(jti))
                .and_where(
                    Expr::col((revoked_token::Entity, R::WorkspaceId))
                        .equals((workspace::Entity, workspace::Column::Id))
                        .or(Expr::col((revoked_token::Entity, R::WorkspaceId)).is_null()),
                )
                .to_owned(),
        ),
        None => Expr::val(false),
    };
    let row: Option<(Uuid, String, bool)> = workspace::Entity::find()
        .select_only()
        .column(workspace::Column::Id)
        .column(workspace::Column::Slug)
        .expr_as(revoked, "revoked")
        .filter(workspace::Column::Slug.eq(slug))
        .into_tuple()
        .one(db)
        .await?;
    Ok(row.map(|(id, slug, revoked)| TokenWorkspace { id, slug, revoked }))
}

/// Revokes the tokens with `jti` in `workspace`, or in every workspace when
/// it is `None`; `by` says who did. Revoking again changes nothing and
/// returns the first revocation. Runs inside the caller's transaction.
pub async fn revoke(
    db: &impl ConnectionTrait,
    workspace: Option<Uuid>,
    jti: &str,
    by: &str,
) -> CoreResult<revoked_token::Model> {
    if jti.trim().is_empty() || jti.chars().count() > MAX_JTI_CHARS {
        return Err(CoreError::invalid_field(
            "jti",
            format!("`jti` must be 1 to {MAX_JTI_CHARS} characters, not all spaces"),
        ));
    }
    let same_scope = match workspace {
        Some(ws) => revoked_token::Column::WorkspaceId.eq(ws),
        None => revoked_token::Column::WorkspaceId.is_null(),
    };
    let existing = revoked_token::Entity::find()
        .filter(revoked_token::Column::Jti.eq(jti))
        .filter(same_scope)
        .one(db)
        .await?;
    if let Some(existing) = existing {
        return Ok(existing);
    }
    let by: String = by.chars().take(255).collect();
    Ok(revoked_token::ActiveModel {
        id: Set(entity::new_id()),
        workspace_id: Set(workspace),
        jti: Set(jti.to_owned()),
        revoked_at: Set(time::now()),
        revoked_by: Set(by),
    }
    .insert(db)
    .await?)
}
