//! `journeys seed`: synthetic data recorded through ingestion, so every
//! derived table is what ingestion makes.

use std::collections::BTreeMap;

use entity::{membership, stage_position, touchpoint};
use journeys::seed::{SeedSpec, seed};
use journeys_core::testing::fresh_database;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

fn spec(workspace: &str) -> SeedSpec {
    SeedSpec {
        workspace: workspace.into(),
        accounts: 8,
        people_per_account: 4,
        touchpoints: 2_500,
        seed: 7,
    }
}

/// Touchpoints per (source, kind) in a workspace.
async fn mix(db: &sea_orm::DatabaseConnection, ws: uuid::Uuid) -> BTreeMap<(String, String), u32> {
    let mut out = BTreeMap::new();
    let all = touchpoint::Entity::find()
        .filter(touchpoint::Column::WorkspaceId.eq(ws))
        .all(db)
        .await
        .unwrap();
    for t in all {
        *out.entry((t.source, t.kind)).or_default() += 1;
    }
    out
}

#[tokio::test]
async fn seeds_a_workspace_through_ingestion_the_same_for_the_same_seed() {
    let test = fresh_database().await;
    let db = &test.db;
    let mut reported = 0;
    let seeded = seed(db, &spec("bench"), |n| reported += n).await.unwrap();
    assert_eq!(reported, 2_500);
    assert_eq!(seeded.touchpoints.created, 2_500);
    assert_eq!(seeded.accounts, 8);
    assert!(
        seeded.people > 8 && seeded.people <= 32,
        "{}",
        seeded.people
    );

    let sources = mix(db, seeded.workspace).await;
    for source in [
        "twitter", "zoom", "zendesk", "web", "email", "api", "survey",
    ] {
        assert!(
            sources.keys().any(|(s, _)| s == source),
            "no {source} touchpoints: {sources:?}"
        );
    }
    // Everyone belongs to their company's account, with a DMU role.
    let members = membership::Entity::find()
        .filter(membership::Column::WorkspaceId.eq(seeded.workspace))
        .all(db)
        .await
        .unwrap();
    assert_eq!(members.len(), seeded.people);
    assert!(members.iter().all(|m| m.role.is_some() && m.primary));
    // Every account stands somewhere in each of the three models.
    let positions = stage_position::Entity::find()
        .filter(stage_position::Column::WorkspaceId.eq(seeded.workspace))
        .filter(stage_position::Column::Phase.eq(false))
        .count(db)
        .await
        .unwrap();
    assert_eq!(positions, 3 * 8);

    let again = seed(db, &spec("bench"), |_| {}).await.unwrap_err();
    assert!(again.to_string().contains("exists"), "{again}");
    let twin = seed(db, &spec("twin"), |_| {}).await.unwrap();
    assert_eq!(
        mix(db, twin.workspace).await,
        sources,
        "same seed, same data"
    );
}
