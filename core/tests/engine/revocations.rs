//! Revoked tokens: a `jti` revoked in a workspace, or in every workspace, is
//! seen revoked by the lookup the request path makes; nowhere else.

use journeys_core::revocations::{self, TokenWorkspace};
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
