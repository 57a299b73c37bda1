//! Erasure stays erased: through an unmerge, in the digests that replace
//! external ids, and when an erased touchpoint is delivered again.

use entity::vocab::{Channel, IdentityKind};
use entity::workspace::{self, ErasureKey};
use entity::{identity, stakeholder, touchpoint};
use hmac::{KeyInit, Mac};
use journeys_core::db;
use journeys_core::ingestion::RecordOutcome;
use journeys_core::people::stakeholders::{self, StakeholderDetails};
use journeys_core::testing::Touch;
use journeys_core::{merges, privacy, workspaces};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::Engine;

/// The digest erasure used to write: a bare SHA-256 of the workspace,
/// source and external id, which anyone can recompute from a guess.
fn bare_digest(ws: Uuid, source: &str, external_id: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(ws.as_bytes())
        .chain_update(source.as_bytes())
        .chain_update([0])
        .chain_update(external_id.as_bytes())
        .finalize();
    format!("erased:{}", hex::encode(digest))
}

async fn erase(e: &Engine, person: Uuid) {
    let txn = db::begin_write(e.db()).await.unwrap();
    privacy::erase(&txn, e.ws, person).await.unwrap();
    db::commit(txn).await.unwrap();
}

async fn person(e: &Engine, id: Uuid) -> stakeholder::Model {
    stakeholders::find(e.db(), e.ws, id).await.unwrap()
}

#[tokio::test]
async fn unmerging_into_an_erased_survivor_brings_back_only_erased_people() {
    let e = Engine::new().await;
    let txn = db::begin_write(e.db()).await.unwrap();
    let ada = stakeholders::create(
        &txn,
        e.ws,
        StakeholderDetails {
            name: Some("Ada Lovelace".into()),
            email: Some("ada@initech.com".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let twin = stakeholders::create(
        &txn,
        e.ws,
        StakeholderDetails {
            name: Some("Ada L.".into()),
            title: Some("CTO".into()),
            identities: vec![(IdentityKind::TwitterHandle, "ada_l".into())],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    db::commit(txn).await.unwrap();
    e.record_ok([Touch::new(
        "t1",
        "tweet.mention",
        Channel::Social,
        "2026-04-01T00:00:00Z",
    )
    .source("twitter")
    .person(|p| p.twitter_handle = Some("ada_l".into()))])
        .await;
    let txn = db::begin_write(e.db()).await.unwrap();
    let merged = merges::merge(&txn, e.ws, ada.id, vec![twin.id], "sam")
        .await
        .unwrap();
    db::commit(txn).await.unwrap();
    erase(&e, ada.id).await;

    let txn = db::begin_write(e.db()).await.unwrap();
    let unmerged = merges::unmerge(&txn, e.ws, merged.id).await.unwrap();
    db::commit(txn).await.unwrap();
    assert_eq!(unmerged.people.len(), 2);
    for id in [ada.id, twin.id] {
        let back = person(&e, id).await;
        assert!(back.erased_at.is_some(), "{back:?} is erased");
        assert_eq!((back.name, back.email, back.title), (None, None, None));
        let identities = identity::Entity::find()
            .filter(identity::Column::StakeholderId.eq(id))
            .all(e.db())
            .await
            .unwrap();
        assert_eq!(identities, []);
    }
    // The erased tweet went back to the record it was first with, anonymous.
    let tweets = touchpoint::Entity::find()
        .filter(touchpoint::Column::StakeholderId.eq(twin.id))
        .all(e.db())
        .await
        .unwrap();
    assert_eq!(tweets.len(), 1);
    assert!(tweets[0].external_id.starts_with("erased:"));
}

#[tokio::test]
async fn an_erased_external_id_is_no_digest_a_guess_can_recompute() {
    let e = Engine::new().await;
    let id = "attended:81:email:ada@initech.com";
    let tp = e
        .record_ok([Touch::new(
            id,
            "webinar.attended",
            Channel::Webinar,
            "2026-04-04T00:00:00Z",
        )
        .source("zoom")
        .email("ada@initech.com")])
        .await
        .remove(0);
    erase(&e, tp.stakeholder_id.unwrap()).await;
    let stored = stored_id(&e, tp.id).await;
    assert!(stored.starts_with("erased:"), "{stored}");
    assert_ne!(
        stored,
        bare_digest(e.ws, "zoom", id),
        "a bare hash of a guess"
    );
}

#[tokio::test]
async fn an_erased_touchpoint_delivered_again_is_unchanged_naming_no_one() {
    let e = Engine::new().await;
    let item = || {
        Touch::new(
            "z1",
            "ticket.opened",
            Channel::Support,
            "2026-04-01T00:00:00Z",
        )
        .source("zendesk")
        .title("Ada cannot log in")
        .email("ada@initech.com")
    };
    let tp = e.record_ok([item()]).await.remove(0);
    erase(&e, tp.stakeholder_id.unwrap()).await;
    // Erasing them again leaves their digests as they were.
    erase(&e, tp.stakeholder_id.unwrap()).await;
    let again = e.record([item()]).await.remove(0);
    assert_eq!(again.outcome, RecordOutcome::Unchanged);
    assert!(matches!(again.result, Ok(None)), "{again:?}");
}

/// The workspace's key, read as a dump's reader could (they still cannot
/// recompute digests without it).
async fn key_of(e: &Engine) -> Option<ErasureKey> {
    workspace::Entity::find_by_id(e.ws)
        .one(e.db())
        .await
        .unwrap()
        .unwrap()
        .erasure_key
}

#[tokio::test]
async fn each_workspace_digests_under_its_own_random_key() {
    let e = Engine::new().await;
    let other = workspaces::create(e.db(), "globex", "Globex")
        .await
        .unwrap();
    let key = key_of(&e).await.expect("a new workspace has a key");
    assert_eq!(key.0.len(), 32);
    assert_ne!(
        Some(key.clone()),
        other.erasure_key,
        "keys are per workspace"
    );
    assert_eq!(format!("{key:?}"), "ErasureKey(..)", "Debug shows no byte");
    let id = "attended:81:email:ada@initech.com";
    let tp = e
        .record_ok([Touch::new(
            id,
            "webinar.attended",
            Channel::Webinar,
            "2026-04-04T00:00:00Z",
        )
        .source("zoom")
        .email("ada@initech.com")])
        .await
        .remove(0);
    erase(&e, tp.stakeholder_id.unwrap()).await;
    let stored = stored_id(&e, tp.id).await;
    // HMAC-SHA256 under the key, of the bare digest.
    let bare = bare_digest(e.ws, "zoom", id);
    let hex_bare = bare.strip_prefix("erased:").unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key.0).unwrap();
    mac.update(&hex::decode(hex_bare).unwrap());
    let expected = format!("erased:{}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(stored, expected);
    assert_eq!(stored, privacy::erased_external_id(&key, e.ws, "zoom", id));
}

async fn stored_id(e: &Engine, touchpoint: Uuid) -> String {
    touchpoint::Entity::find_by_id(touchpoint)
        .one(e.db())
        .await
        .unwrap()
        .unwrap()
        .external_id
}

#[tokio::test]
async fn a_workspace_older_than_keys_gets_one_and_keys_its_bare_digests() {
    let e = Engine::new().await;
    let item = || {
        Touch::new(
            "z1",
            "ticket.opened",
            Channel::Support,
            "2026-04-01T00:00:00Z",
        )
        .source("zendesk")
        .email("ada@initech.com")
    };
    let tp = e.record_ok([item()]).await.remove(0);
    erase(&e, tp.stakeholder_id.unwrap()).await;
    // As erasure left it before workspaces had keys: a bare digest, no key.
    let bare = bare_digest(e.ws, "zendesk", "z1");
    touchpoint::Entity::update_many()
        .col_expr(touchpoint::Column::ExternalId, Expr::value(bare.clone()))
        .filter(touchpoint::Column::Id.eq(tp.id))
        .exec(e.db())
        .await
        .unwrap();
    workspace::Entity::update_many()
        .col_expr(
            workspace::Column::ErasureKey,
            Expr::value(Option::<ErasureKey>::None),
        )
        .filter(workspace::Column::Id.eq(e.ws))
        .exec(e.db())
        .await
        .unwrap();

    // The next delivery still finds it (and stays erased), and the workspace
    // has a key from then on, under which the bare digest was keyed.
    let again = e.record([item()]).await.remove(0);
    assert_eq!(again.outcome, RecordOutcome::Unchanged);
    assert!(matches!(again.result, Ok(None)), "{again:?}");
    let key = key_of(&e).await.expect("keyed on first use");
    let stored = stored_id(&e, tp.id).await;
    assert_ne!(stored, bare);
    assert_eq!(
        stored,
        privacy::erased_external_id(&key, e.ws, "zendesk", "z1")
    );
    assert_eq!(again_count(&e).await, 1, "no second touchpoint");
}

async fn again_count(e: &Engine) -> usize {
    touchpoint::Entity::find()
        .filter(touchpoint::Column::WorkspaceId.eq(e.ws))
        .all(e.db())
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn an_erased_person_is_merged_into_no_one_and_takes_in_no_one() {
    let e = Engine::new().await;
    let txn = db::begin_write(e.db()).await.unwrap();
    let mut people = Vec::new();
    for name in ["Ada", "Grace", "Edsger"] {
        let details = StakeholderDetails {
            name: Some(name.into()),
            email: Some(format!("{}@initech.com", name.to_lowercase())),
            ..Default::default()
        };
        people.push(stakeholders::create(&txn, e.ws, details).await.unwrap().id);
    }
    db::commit(txn).await.unwrap();
    let [ada, grace, edsger] = [people[0], people[1], people[2]];
    erase(&e, ada).await;
    for (survivor, others) in [(ada, vec![grace]), (edsger, vec![grace, ada])] {
        let txn = db::begin_write(e.db()).await.unwrap();
        let refused = merges::merge(&txn, e.ws, survivor, others, "sam")
            .await
            .unwrap_err();
        assert!(
            matches!(refused, journeys_core::CoreError::Conflict(_)),
            "{refused:?}"
        );
        assert!(refused.to_string().contains("erased"), "{refused}");
    }
    // Nothing moved: Grace is still her own record, with her email.
    assert_eq!(
        person(&e, grace).await.email.as_deref(),
        Some("grace@initech.com")
    );
}

async fn listed(e: &Engine, filter: stakeholders::StakeholderFilter) -> Vec<Uuid> {
    let page = journeys_core::page::Page::first(10);
    let found = stakeholders::list(e.db(), e.ws, &filter, Default::default(), &page)
        .await
        .unwrap();
    found.into_iter().map(|s| s.id).collect()
}

async fn consent(e: &Engine, person: Uuid, channel: Channel, granted: bool) {
    let txn = db::begin_write(e.db()).await.unwrap();
    privacy::set_consent(&txn, e.ws, person, channel, granted, "form")
        .await
        .unwrap();
    db::commit(txn).await.unwrap();
}

#[tokio::test]
async fn only_people_whose_newest_consent_on_a_channel_is_given_are_contactable_on_it() {
    let e = Engine::new().await;
    let tps = e
        .record_ok(["ada", "bob", "cy", "dee", "eve"].map(|n| {
            Touch::new(n, "page.viewed", Channel::Web, "2026-03-01T10:00:00Z")
                .email(&format!("{n}@acme.example"))
        }))
        .await;
    let [ada, bob, cy, dee, eve] = [0, 1, 2, 3, 4].map(|i| tps[i].stakeholder_id.unwrap());
    consent(&e, ada, Channel::Email, true).await;
    // Bob gave it, then took it back; Cy took it back, then gave it again.
    consent(&e, bob, Channel::Email, true).await;
    consent(&e, bob, Channel::Email, false).await;
    consent(&e, cy, Channel::Email, false).await;
    consent(&e, cy, Channel::Email, true).await;
    // Dee gave it on the phone only; Eve gave it and was erased.
    consent(&e, dee, Channel::Phone, true).await;
    consent(&e, eve, Channel::Email, true).await;
    erase(&e, eve).await;

    let on = |channel| stakeholders::StakeholderFilter {
        contactable_on: Some(channel),
        ..Default::default()
    };
    assert_eq!(listed(&e, on(Channel::Email)).await, [ada, cy]);
    assert_eq!(listed(&e, on(Channel::Phone)).await, [dee]);
    assert_eq!(
        stakeholders::count(e.db(), e.ws, &on(Channel::Email))
            .await
            .unwrap(),
        2
    );

    let consents = journeys_core::batch::consents_of(e.db(), e.ws, &[ada, bob, cy, dee, eve])
        .await
        .unwrap();
    for (id, expected) in [
        (ada, true),
        (bob, false),
        (cy, true),
        (dee, false),
        (eve, false),
    ] {
        let rows = consents.get(&id).map(Vec::as_slice).unwrap_or_default();
        assert_eq!(
            privacy::can_contact(&person(&e, id).await, rows, Channel::Email),
            expected
        );
    }
}
