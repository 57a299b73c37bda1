//! Workspaces (tenants) and the caller's view of theirs.

use async_graphql::{Context, Object, SimpleObject};
use entity::vocab::JourneyTemplate;
use entity::workspace;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set,
};

use crate::graphql::context::request;
use crate::graphql::error::{ApiError, ApiResult};
use crate::journeys;
use journeys_core::{db, time};

/// Checks a workspace slug: 1 to 64 of a-z, 0-9 and `-`, not at either end.
pub fn check_slug(slug: &str) -> ApiResult<()> {
    let ok = !slug.is_empty()
        && slug.len() <= 64
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_input(format!(
            "`{slug}` is not a slug: use 1 to 64 of a-z, 0-9 and -"
        )))
    }
}

pub async fn find_by_slug(
    db: &impl ConnectionTrait,
    slug: &str,
) -> ApiResult<Option<workspace::Model>> {
    Ok(workspace::Entity::find()
        .filter(workspace::Column::Slug.eq(slug))
        .one(db)
        .await?)
}

/// Creates a workspace with the default FIVE_STAGE journey model.
pub async fn create(
    db: &DatabaseConnection,
    slug: &str,
    name: &str,
) -> ApiResult<workspace::Model> {
    check_slug(slug)?;
    let name = name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(ApiError::bad_input(
            "the workspace name must be 1 to 200 characters",
        ));
    }
    let txn = db::begin_write(db).await?;
    if find_by_slug(&txn, slug).await?.is_some() {
        return Err(ApiError::Conflict(format!(
            "a workspace `{slug}` already exists"
        )));
    }
    let ws = workspace::ActiveModel {
        id: Set(entity::new_id()),
        slug: Set(slug.to_owned()),
        name: Set(name.to_owned()),
        created_at: Set(time::now()),
        mql_threshold: Set(journeys_core::scoring::DEFAULT_MQL_THRESHOLD),
    }
    .insert(&txn)
    .await?;
    journeys::create_from_template(&txn, ws.id, JourneyTemplate::FiveStage, None, true).await?;
    txn.commit().await?;
    Ok(ws)
}

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
        let ws = workspace::Entity::find_by_id(principal.workspace_id)
            .one(&rc.db)
            .await
            .map_err(ApiError::from)?
            .ok_or(ApiError::not_found("workspace"))?;
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
