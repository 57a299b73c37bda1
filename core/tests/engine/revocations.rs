//! Revoked tokens: a `jti` revoked in a workspace, or in every workspace, is
//! seen revoked by the lookup the request path makes; nowhere else. The
//! per-process cache of that lookup answers without a statement while fresh.

use std::time::Duration;

use journeys_core::revocations::{self, TokenCache, TokenWorkspace};
use journeys_core::{CoreError, db, workspaces};
use uuid::Uuid;

use crate::{Engine, refused_field};

async fn revoke(
    engine: &Engine,
    workspace: Option<Uuid>,
    jti: &str,
) -> Result<entity::revoked_token::Model, CoreError> {
    let txn = db::begin_write(engine.db()).await.unwrap();
    let revoked = revocations::revoke(&txn, workspace, jti, "tester").await?;
    db::commit(txn).await.unwrap();
    Ok(revoked)
}

async fn revoked(engine: &Engine, slug: &str, jti: Option<&str>) -> bool {
    revocations::token_workspace(engine.db(), slug, jti)
        .await
        .unwrap()
        .expect("the workspace exists")
        .revoked
}

#[tokio::test]
async fn a_jti_is_revoked_in_its_workspace_only() {
    let engine = Engine::new().await;
    workspaces::create(engine.db(), "other", "Other")
        .await
        .unwrap();
    assert!(!revoked(&engine, "acme", Some("j1")).await);
    let first = revoke(&engine, Some(engine.ws), "j1").await.unwrap();
    assert!(revoked(&engine, "acme", Some("j1")).await);
    assert!(!revoked(&engine, "other", Some("j1")).await);
    assert!(!revoked(&engine, "acme", Some("j2")).await);
    // A token without a jti is never revoked.
    assert!(!revoked(&engine, "acme", None).await);
    // Revoking again returns the first revocation.
    let again = revoke(&engine, Some(engine.ws), "j1").await.unwrap();
    assert_eq!(again, first);
    // The lookup is the workspace's too.
    let found = revocations::token_workspace(engine.db(), "acme", None)
        .await
        .unwrap();
    assert_eq!(
        found,
        Some(TokenWorkspace {
            id: engine.ws,
            slug: "acme".into(),
            revoked: false
        })
    );
    assert_eq!(
        revocations::token_workspace(engine.db(), "nowhere", Some("j1"))
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn a_jti_revoked_everywhere_is_revoked_in_every_workspace() {
    let engine = Engine::new().await;
    workspaces::create(engine.db(), "other", "Other")
        .await
        .unwrap();
    let everywhere = revoke(&engine, None, "leaked").await.unwrap();
    assert_eq!(everywhere.workspace_id, None);
    assert!(revoked(&engine, "acme", Some("leaked")).await);
    assert!(revoked(&engine, "other", Some("leaked")).await);
    // Also revoked in one workspace: a row of its own, both hold.
    revoke(&engine, Some(engine.ws), "leaked").await.unwrap();
    assert_eq!(revoke(&engine, None, "leaked").await.unwrap(), everywhere);
}

#[tokio::test]
async fn a_jti_must_be_one_to_255_characters() {
    let engine = Engine::new().await;
    for bad in ["", "  ", &"j".repeat(256)] {
        let err = revoke(&engine, Some(engine.ws), bad).await.unwrap_err();
        assert_eq!(refused_field(&err), Some("jti"), "{bad:?}");
    }
    revoke(&engine, Some(engine.ws), &"j".repeat(255))
        .await
        .unwrap();
}

/// The statements `engine`'s database has run so far.
fn statements(engine: &Engine) -> u64 {
    engine.test.statements.get()
}

#[tokio::test]
async fn a_cached_token_costs_no_statement_until_its_answer_is_stale() {
    let engine = Engine::new().await;
    let cache = TokenCache::new(Duration::from_millis(300));
    let first = cache
        .token_workspace(engine.db(), "acme", Some("j1"))
        .await
        .unwrap();
    let before = statements(&engine);
    let again = cache
        .token_workspace(engine.db(), "acme", Some("j1"))
        .await
        .unwrap();
    assert_eq!(statements(&engine), before);
    assert_eq!(again, first);
    // Another jti of the same workspace is its own token.
    cache
        .token_workspace(engine.db(), "acme", Some("j2"))
        .await
        .unwrap();
    assert_eq!(statements(&engine), before + 1);
    // A revocation made elsewhere shows once the answer is stale.
    revoke(&engine, Some(engine.ws), "j1").await.unwrap();
    let cached = cache.token_workspace(engine.db(), "acme", Some("j1"));
    assert!(!cached.await.unwrap().unwrap().revoked);
    tokio::time::sleep(Duration::from_millis(350)).await;
    let fresh = cache.token_workspace(engine.db(), "acme", Some("j1"));
    assert!(fresh.await.unwrap().unwrap().revoked);
}

#[tokio::test]
async fn a_forgotten_jti_is_looked_up_again_and_a_missing_workspace_is_not_kept() {
    let engine = Engine::new().await;
    let cache = TokenCache::new(Duration::from_secs(3600));
    let lookup = |slug: &'static str, jti: &'static str| {
        let cache = &cache;
        let db = engine.db();
        async move { cache.token_workspace(db, slug, Some(jti)).await.unwrap() }
    };
    assert!(!lookup("acme", "j1").await.unwrap().revoked);
    revoke(&engine, Some(engine.ws), "j1").await.unwrap();
    cache.forget("j1");
    assert!(lookup("acme", "j1").await.unwrap().revoked);
    // A workspace created after a miss is found at once.
    assert_eq!(lookup("later", "j1").await, None);
    workspaces::create(engine.db(), "later", "Later")
        .await
        .unwrap();
    assert_eq!(lookup("later", "j1").await.unwrap().slug, "later");
}

#[tokio::test]
async fn a_cache_of_no_lifetime_keeps_nothing() {
    let engine = Engine::new().await;
    let cache = TokenCache::new(Duration::ZERO);
    cache
        .token_workspace(engine.db(), "acme", None)
        .await
        .unwrap();
    let before = statements(&engine);
    cache
        .token_workspace(engine.db(), "acme", None)
        .await
        .unwrap();
    assert_eq!(statements(&engine), before + 1);
}
