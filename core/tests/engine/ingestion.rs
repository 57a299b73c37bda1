//! Ingestion: idempotency on `(source, externalId)`, identity resolution,
//! items that fail alone, and the batch limit.

use entity::identity;
use entity::vocab::{Channel, IdentityKind, JourneyTemplate, Lifecycle, OwnerTeam};
use journeys_core::ingestion::{MAX_BATCH, PropertiesUpdate, RawTouchpoint, RecordOutcome, Tally};
use journeys_core::people::stakeholders::{self, StakeholderDetails, StakeholderFilter};
use journeys_core::testing::Touch;
use journeys_core::touchpoints::{self, TouchpointFilter};
use journeys_core::{CoreError, db};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

use crate::{Engine, refused_field};

fn zoom(external_id: &str, kind: &str, at: &str, email: &str) -> Touch {
    Touch::new(external_id, kind, Channel::Webinar, at)
        .source("zoom")
        .email(email)
}

async fn counts(e: &Engine) -> (u64, u64) {
    let touchpoints = touchpoints::count(e.db(), e.ws, &TouchpointFilter::default())
        .await
        .unwrap();
    let people = stakeholders::count(e.db(), e.ws, &StakeholderFilter::default())
        .await
        .unwrap();
    (touchpoints, people)
}

fn outcomes(recorded: &[journeys_core::ingestion::Recorded]) -> Vec<RecordOutcome> {
    recorded.iter().map(|r| r.outcome).collect()
}

#[tokio::test]
async fn recording_again_is_unchanged_and_a_changed_item_is_updated() {
    use RecordOutcome::{Created, Unchanged, Updated};
    let e = Engine::new().await;
    let batch = || {
        vec![
            zoom(
                "w1",
                "webinar.registered",
                "2026-03-01T10:00:00Z",
                "ada@initech.com",
            )
            .person(|p| p.name = Some("Ada".into())),
            // Microseconds survive the round trip, so a re-delivery compares equal.
            zoom(
                "w2",
                "webinar.attended",
                "2026-03-08T10:00:00.123456Z",
                "ada@initech.com",
            ),
        ]
    };
    let first = e.record(batch()).await;
    assert_eq!(outcomes(&first), [Created, Created]);
    let again = e.record(batch()).await;
    assert_eq!(outcomes(&again), [Unchanged, Unchanged]);
    let id =
        |r: &journeys_core::ingestion::Recorded| r.result.as_ref().unwrap().as_ref().unwrap().id;
    assert_eq!(id(&first[0]), id(&again[0]));
    assert_eq!(id(&first[1]), id(&again[1]));

    let mut changed = batch();
    changed[1] = changed[1].clone().title("Stayed 52 minutes");
    let third = e.record(changed).await;
    assert_eq!(outcomes(&third), [Unchanged, Updated]);
    let updated = third[1].result.as_ref().unwrap().as_ref().unwrap();
    assert_eq!(updated.id, id(&first[1]), "updated in place");
    assert_eq!(updated.title.as_deref(), Some("Stayed 52 minutes"));
    assert_eq!(
        Tally::of(&third),
        Tally {
            created: 0,
            updated: 1,
            unchanged: 1,
            failed: 0
        }
    );

    // The same external id from another source is another touchpoint.
    let other_source = batch()[0].clone().source("api");
    assert_eq!(outcomes(&e.record([other_source]).await), [Created]);

    assert_eq!(counts(&e).await, (3, 1));
    let people = stakeholders::list(
        e.db(),
        e.ws,
        &StakeholderFilter::default(),
        Default::default(),
        &journeys_core::page::Page::first(10),
    )
    .await
    .unwrap();
    let ada: Vec<_> = people
        .iter()
        .map(|p| (p.name.as_deref(), p.email.as_deref(), p.lifecycle))
        .collect();
    assert_eq!(
        ada,
        [(Some("Ada"), Some("ada@initech.com"), Lifecycle::Lead)]
    );
}

#[tokio::test]
async fn people_are_found_by_identity_and_accounts_by_email_domain() {
    let e = Engine::new().await;
    let initech = e.account("Initech", &["initech.com"]).await;
    let txn = db::begin_write(e.db()).await.unwrap();
    let ada = stakeholders::create(
        &txn,
        e.ws,
        StakeholderDetails {
            name: Some("Ada".into()),
            email: Some("ada@initech.com".into()),
            identities: vec![(IdentityKind::TwitterHandle, "ada_l".into())],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    db::commit(txn).await.unwrap();

    let tweet =
        |id: &str, at: &str| Touch::new(id, "tweet.mention", Channel::Social, at).source("twitter");
    let written = e
        .record_ok([
            // By handle, with an @ and capitals: Ada, at Initech by her email's domain.
            tweet("t1", "2026-03-01T10:00:00Z").person(|p| {
                p.twitter_handle = Some("@Ada_L".into());
                p.twitter_user_id = Some("42".into());
            }),
            // By the twitter user id the first item gave her.
            tweet("t2", "2026-03-02T10:00:00Z").person(|p| p.twitter_user_id = Some("42".into())),
            // A new colleague: created, and placed at Initech by domain.
            Touch::new(
                "z1",
                "ticket.opened",
                Channel::Support,
                "2026-03-03T10:00:00Z",
            )
            .source("zendesk")
            .email("Bob@INITECH.com")
            .person(|p| p.name = Some("Bob".into())),
            // An anonymous visitor: a person with no account.
            Touch::new("v1", "page.visited", Channel::Web, "2026-03-04T10:00:00Z")
                .source("web")
                .person(|p| p.anonymous_id = Some("cookie-123".into())),
            // An explicit stakeholder.
            Touch::new(
                "m1",
                "meeting.held",
                Channel::Meeting,
                "2026-03-05T10:00:00Z",
            )
            .stakeholder(ada.id)
            .owner_team(OwnerTeam::Sales)
            .actor("sam@us.example"),
        ])
        .await;
    for i in [0, 1, 4] {
        assert_eq!(written[i].stakeholder_id, Some(ada.id), "item {i}");
        assert_eq!(written[i].account_id, Some(initech.id), "item {i}");
    }
    let bob = stakeholders::find(e.db(), e.ws, written[2].stakeholder_id.unwrap())
        .await
        .unwrap();
    assert_ne!(bob.id, ada.id);
    assert_eq!(
        (bob.email.as_deref(), bob.name.as_deref(), bob.lifecycle),
        (Some("bob@initech.com"), Some("Bob"), Lifecycle::Lead)
    );
    assert_eq!(written[2].account_id, Some(initech.id));
    let visitor = stakeholders::find(e.db(), e.ws, written[3].stakeholder_id.unwrap())
        .await
        .unwrap();
    assert_eq!(
        (visitor.email, visitor.lifecycle, written[3].account_id),
        (None, Lifecycle::Visitor, None)
    );

    // Ada gained the user id the first tweet carried; nobody else did.
    let mut identities: Vec<(IdentityKind, String)> = identity::Entity::find()
        .filter(identity::Column::StakeholderId.eq(ada.id))
        .all(e.db())
        .await
        .unwrap()
        .into_iter()
        .map(|i| (i.kind, i.value))
        .collect();
    identities.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(
        identities,
        [
            (IdentityKind::TwitterUserId, "42".to_owned()),
            (IdentityKind::Email, "ada@initech.com".to_owned()),
            (IdentityKind::TwitterHandle, "ada_l".to_owned()),
        ]
    );
    // Three people in all: Ada, Bob and the visitor.
    assert_eq!(counts(&e).await, (5, 3));
    let at_initech = TouchpointFilter {
        account: Some(initech.id),
        ..Default::default()
    };
    assert_eq!(
        touchpoints::count(e.db(), e.ws, &at_initech).await.unwrap(),
        4
    );
}

#[tokio::test]
async fn bad_items_fail_alone_naming_their_field_and_write_nothing() {
    let e = Engine::new().await;
    let web = |id: &str| Touch::new(id, "page.visited", Channel::Web, "2026-03-01T10:00:00Z");
    let recorded = e
        .record([
            zoom(
                "ok",
                "webinar.registered",
                "2026-03-01T10:00:00Z",
                "ada@initech.com",
            ),
            zoom(
                "bad-email",
                "webinar.registered",
                "2026-03-01T10:00:00Z",
                "ada@@initech",
            ),
            zoom(
                "future",
                "webinar.registered",
                "2999-01-01T00:00:00Z",
                "bob@initech.com",
            ),
            zoom(
                "",
                "webinar.registered",
                "2026-03-01T10:00:00Z",
                "cy@initech.com",
            ),
            web("sentiment").sentiment(3.0),
            web("props").properties(json!([1, 2])),
            web("handle").person(|p| p.twitter_handle = Some("not a handle".into())),
            // Passes its checks, then names an account that does not exist:
            // the person it had already created is undone with it.
            web("nowhere")
                .email("dan@initech.com")
                .account(Uuid::now_v7()),
        ])
        .await;
    assert_eq!(
        Tally::of(&recorded),
        Tally {
            created: 1,
            updated: 0,
            unchanged: 0,
            failed: 7
        }
    );
    assert_eq!(recorded[0].outcome, RecordOutcome::Created);
    let fields: Vec<Option<&str>> = recorded[1..7]
        .iter()
        .map(|r| {
            assert_eq!(r.outcome, RecordOutcome::Failed);
            refused_field(r.result.as_ref().unwrap_err())
        })
        .collect();
    assert_eq!(
        fields,
        [
            Some("person.email"),
            Some("occurredAt"),
            Some("externalId"),
            Some("sentiment"),
            Some("properties"),
            Some("person.twitterHandle"),
        ]
    );
    assert_eq!(
        recorded[1].result.as_ref().unwrap_err().to_string(),
        "`ada@@initech` is not a valid email address"
    );
    assert!(
        matches!(
            recorded[7].result,
            Err(CoreError::NotFound { what: "account" })
        ),
        "{:?}",
        recorded[7].result
    );
    // Only the good item and its person (no Dan, no Bob, no Cy, no handle).
    assert_eq!(counts(&e).await, (1, 1));
}

#[tokio::test]
async fn a_batch_over_the_limit_is_refused_whole() {
    let e = Engine::new().await;
    let items = |n: usize| {
        (0..n).map(|i| {
            Touch::new(
                &format!("e{i}"),
                "page.visited",
                Channel::Web,
                "2026-03-01T10:00:00Z",
            )
        })
    };
    let err = e.try_record(items(MAX_BATCH + 1)).await.unwrap_err();
    assert_eq!(refused_field(&err), Some("touchpoints"));
    assert_eq!(
        err.to_string(),
        "a batch holds at most 1000 touchpoints, got 1001"
    );
    assert_eq!(counts(&e).await, (0, 0));
    // A full batch goes through in one call.
    let full = e.record(items(MAX_BATCH)).await;
    assert_eq!(Tally::of(&full).created, 1000);
    assert_eq!(counts(&e).await, (1000, 0));
}

#[tokio::test]
async fn a_webhook_merges_properties_where_the_api_replaces_them() {
    use RecordOutcome::{Created, Unchanged, Updated};
    let e = Engine::new().await;
    let joined = || {
        zoom(
            "j1",
            "webinar.attended",
            "2026-03-01T10:00:00Z",
            "ada@initech.com",
        )
    };
    let delivery = |properties, update| RawTouchpoint {
        properties_update: update,
        ..RawTouchpoint::from(joined().properties(properties))
    };
    let pulled = e
        .record([delivery(
            json!({ "minutes": 42, "role": "attendee" }),
            PropertiesUpdate::Replace,
        )])
        .await;
    assert_eq!(outcomes(&pulled), [Created]);
    // A webhook knows only the role: the minutes the pull found are kept.
    let hook = || delivery(json!({ "role": "panelist" }), PropertiesUpdate::Merge);
    let merged = e.record([hook()]).await;
    assert_eq!(outcomes(&merged), [Updated]);
    assert_eq!(
        merged[0]
            .result
            .as_ref()
            .unwrap()
            .as_ref()
            .unwrap()
            .properties,
        Some(json!({ "minutes": 42, "role": "panelist" }))
    );
    assert_eq!(outcomes(&e.record([hook()]).await), [Unchanged]);
    // The API states the whole touchpoint: its properties replace the old.
    let replaced = e
        .record([delivery(
            json!({ "role": "panelist" }),
            PropertiesUpdate::Replace,
        )])
        .await;
    assert_eq!(outcomes(&replaced), [Updated]);
    assert_eq!(
        replaced[0]
            .result
            .as_ref()
            .unwrap()
            .as_ref()
            .unwrap()
            .properties,
        Some(json!({ "role": "panelist" }))
    );
}

/// A batch like a connector's: people known and new at accounts found by
/// email domain, a scored kind and an unscored one, some items re-delivered
/// unchanged, some arriving late (older than where their account stands).
fn mixed_batch(round: usize, len: usize) -> Vec<Touch> {
    (0..len)
        .map(|i| {
            let (kind, channel) = if i % 2 == 0 {
                ("email.opened", Channel::Email)
            } else {
                ("meeting.held", Channel::Meeting)
            };
            // Every third item repeats the warm-up's; the others are new.
            let id = if i % 3 == 0 {
                format!("warm-{i}")
            } else {
                format!("r{round}-{i}")
            };
            let day = if i % 3 == 0 {
                1
            } else {
                2 + (i * 7 + round) % 27
            };
            let at = format!("2026-03-{day:02}T10:00:00Z");
            // A re-delivery is the same person's; a quarter are known people.
            let person = if i % 3 == 0 || i % 4 == 0 {
                i
            } else {
                10_000 * round + i
            };
            Touch::new(&id, kind, channel, &at).email(&format!("p{person}@company{}.com", i % 20))
        })
        .collect()
}

/// Per kind of row one statement: the reads of what the batch names, the
/// writes of what it makes, the replay of the paths in every model and the
/// rescore.
#[tokio::test]
async fn a_batch_costs_a_fixed_number_of_statements_whatever_its_size() {
    let e = Engine::new().await;
    e.upsert_rule(crate::rule("opens", Some("email.opened"), None, 1.0))
        .await;
    // Models beside the default one cost no more statements.
    let txn = db::begin_write(e.db()).await.unwrap();
    for template in [JourneyTemplate::Kopan, JourneyTemplate::BabcockJenkins] {
        journeys_core::journeys::models::create_from_template(&txn, e.ws, template, false)
            .await
            .unwrap();
    }
    db::commit(txn).await.unwrap();
    for a in 0..20 {
        let domain = format!("company{a}.com");
        e.account(&format!("Company {a}"), &[&domain]).await;
    }
    e.record_ok(mixed_batch(0, MAX_BATCH)).await;
    let mut costs = Vec::new();
    for (round, len) in [(1, 12), (2, MAX_BATCH)] {
        let before = e.test.statements.get();
        let recorded = e.record(mixed_batch(round, len)).await;
        costs.push(e.test.statements.get() - before);
        let tally = Tally::of(&recorded);
        assert_eq!(tally.failed, 0, "{recorded:?}");
        assert_eq!(tally.unchanged as usize, len.div_ceil(3), "re-deliveries");
        assert_eq!(tally.created as usize, len - len.div_ceil(3));
    }
    assert_eq!(
        costs[0], costs[1],
        "12 items cost {}, 1,000 cost {}",
        costs[0], costs[1]
    );
    assert!(
        costs[1] <= 30,
        "{} statements for a batch of 1,000",
        costs[1]
    );
}

/// The plan for a batch's first statement: each external id is found
/// through the unique `(workspace, source, external_id)` index with all three
/// columns in its condition, for a source the statistics know and one they
/// have never seen, on both backends.
#[tokio::test]
async fn the_recorded_touchpoint_lookup_uses_its_unique_index() {
    use sea_orm::ConnectionTrait;
    let e = Engine::new().await;
    let backend = e.db().get_database_backend();
    for batch in 0..4 {
        e.record_ok((0..MAX_BATCH).map(|i| {
            let at = format!("2026-03-{:02}T10:00:00Z", 1 + i % 28);
            Touch::new(&format!("{batch}-{i}"), "page.visited", Channel::Web, &at)
        }))
        .await;
    }
    e.db().execute_unprepared("ANALYZE").await.unwrap();
    for source in ["api", "a-source-never-seen"] {
        let lookup = journeys_core::ingestion::lookup_statement(
            backend,
            e.ws,
            source,
            &["1-17", "2-400", "erased:0123"],
        );
        let plan = e.plan(lookup, false).await;
        assert!(
            plan.contains("ux_touchpoints_ws_source_external"),
            "{source}:\n{plan}"
        );
        let condition = plan
            .lines()
            .find(|l| l.contains("Index Cond") || l.contains("USING INDEX"))
            .unwrap_or_default();
        for column in ["workspace_id", "source", "external_id"] {
            assert!(condition.contains(column), "{source}: {column} in\n{plan}");
        }
        assert!(
            !plan.contains("Seq Scan") && !plan.contains("SCAN touchpoints"),
            "{source}:\n{plan}"
        );
    }
}

#[tokio::test]
async fn an_asset_is_kept_on_its_touchpoint_and_a_new_title_updates_it() {
    let e = Engine::new().await;
    let shared = |title: &str| {
        Touch::new(
            "share-1",
            "asset.shared",
            Channel::Email,
            "2026-03-01T10:00:00Z",
        )
        .email("ada@initech.com")
        .asset("roi-guide", title)
    };
    assert_eq!(
        outcomes(&e.record([shared("ROI guide")]).await),
        [RecordOutcome::Created]
    );
    assert_eq!(
        outcomes(&e.record([shared("ROI guide")]).await),
        [RecordOutcome::Unchanged]
    );
    assert_eq!(
        outcomes(&e.record([shared("The ROI guide, 2nd edition")]).await),
        [RecordOutcome::Updated]
    );
    let filter = TouchpointFilter {
        asset_key: Some("roi-guide".into()),
        ..Default::default()
    };
    let page = journeys_core::page::Page::first(10);
    let found = touchpoints::list(e.db(), e.ws, &filter, touchpoints::NEWEST_FIRST, &page)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].asset_title.as_deref(),
        Some("The ROI guide, 2nd edition")
    );
    let other = TouchpointFilter {
        asset_key: Some("pricing-deck".into()),
        ..Default::default()
    };
    let none = touchpoints::list(e.db(), e.ws, &other, touchpoints::NEWEST_FIRST, &page)
        .await
        .unwrap();
    assert!(none.is_empty());
}
