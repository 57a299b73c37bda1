//! Revoked tokens, by `jti`. A revocation holds in one workspace or in every
//! workspace; the request path learns whether a token is revoked in the same
//! statement that finds its workspace, and [`TokenCache`] keeps that answer
//! for a few seconds per process, so a request usually costs no statement for
//! its token and a revocation holds on every instance within the cache's
//! lifetime (at once on the instance that revoked).

use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use entity::{revoked_token, workspace};
use lru::LruCache;
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

/// The answers of [`token_workspace`], kept per process for `lifetime`.
///
/// A workspace's id never changes for its slug, so the only thing a cached
/// answer can miss is a revocation made since: the lifetime bounds that. A
/// workspace that does not exist is not kept, so one created a moment later
/// is found. At most [`TokenCache::CAPACITY`] tokens are kept, the least
/// recently used making way.
pub struct TokenCache {
    lifetime: Duration,
    entries: Option<Mutex<LruCache<TokenKey, (Instant, TokenWorkspace)>>>,
}

/// A token as the cache knows it: its workspace slug and its `jti`.
type TokenKey = (String, Option<String>);

impl TokenCache {
    /// How many tokens one process keeps.
    pub const CAPACITY: usize = 10_000;

    /// A cache keeping each answer for `lifetime`; zero keeps none.
    pub fn new(lifetime: Duration) -> Self {
        let entries = (!lifetime.is_zero()).then(|| {
            let capacity = NonZeroUsize::new(Self::CAPACITY).unwrap_or(NonZeroUsize::MIN);
            Mutex::new(LruCache::new(capacity))
        });
        Self { lifetime, entries }
    }

    /// [`token_workspace`], from the cache while its answer is fresh.
    pub async fn token_workspace(
        &self,
        db: &impl ConnectionTrait,
        slug: &str,
        jti: Option<&str>,
    ) -> CoreResult<Option<TokenWorkspace>> {
        let Some(entries) = &self.entries else {
            return token_workspace(db, slug, jti).await;
        };
        let key = (slug.to_owned(), jti.map(str::to_owned));
        if let Some((at, found)) = lock(entries).get(&key)
            && at.elapsed() < self.lifetime
        {
            return Ok(Some(found.clone()));
        }
        let found = token_workspace(db, slug, jti).await?;
        if let Some(found) = &found {
            lock(entries).put(key, (Instant::now(), found.clone()));
        }
        Ok(found)
    }

    /// Forgets every token with `jti`, in any workspace: called after this
    /// process revokes it, so its own next request is refused at once.
    pub fn forget(&self, jti: &str) {
        let Some(entries) = &self.entries else {
            return;
        };
        let mut entries = lock(entries);
        let stale: Vec<TokenKey> = entries
            .iter()
            .filter(|((_, cached), _)| cached.as_deref() == Some(jti))
            .map(|(key, _)| key.clone())
            .collect();
        for key in stale {
            entries.pop(&key);
        }
    }
}

/// The cache's map; a panic while it was held leaves nothing half-done in
/// it, so a poisoned lock is taken as it is.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
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
