//! Sales engagement and content effectiveness over HTTP, on two deals: Acme
//! won after Sam shared the ROI guide, Beta lost without it.

use serde_json::json;

use entity::vocab::{Channel, OwnerTeam};
use journeys_api::auth::Scope;
use journeys_core::testing::Touch;

use crate::helpers::{TestApp, assert_code, create_account, input, record, spawn_app};

const ENGAGEMENT: &str = r#"query($after: String) {
  salesEngagement(from: "2026-03-01T00:00:00Z", to: "2026-04-01T00:00:00Z") {
    actors {
      actor touchpoints won lost open
      assets { asset { key title } touchpoints }
      accounts { totalCount nodes { account { name } touchpoints outcome } }
    }
    accounts(first: 1, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { account { name } handedOffAt outcome outcomeAt touchpoints firstTouchAt lastTouchAt actors assets { asset { key } touchpoints } }
    }
  }
}"#;

const CONTENT: &str = r#"query($m: ID!, $from: DateTime! = "2026-03-01T00:00:00Z") {
  contentEffectiveness(modelId: $m, from: $from, to: "2026-04-01T00:00:00Z") {
    model { id }
    assets {
      totalCount
      nodes {
        asset { key title url }
        touchpoints accountsReached
        overall { reached { stays won } notReached { stays won } }
        stages { stage { key } reached { stays movedOn won wonShare } notReached { stays movedOn won wonShare } }
      }
    }
  }
}"#;

fn day(d: u32) -> String {
    format!("2026-03-{d:02}T12:00:00Z")
}

/// The same noon as the API prints it.
fn printed(d: u32) -> String {
    format!("2026-03-{d:02}T12:00:00+00:00")
}

fn sales(id: &str, kind: &str, d: u32, domain: &str) -> Touch {
    Touch::new(id, kind, Channel::Email, &day(d))
        .email(&format!("buyer@{domain}"))
        .owner_team(OwnerTeam::Sales)
        .actor("sam")
}

/// Both register for a webinar (60 points: MQL; consideration), Acme on the
/// 1st and Beta on the 2nd, and meet Sam on the 5th (purchase decision). Sam
/// shares the ROI guide with Acme on the 8th; on the 20th Acme is won and
/// Beta lost.
async fn deals(app: &TestApp, token: &str) {
    app.ok(
        token,
        "mutation { upsertScoringRule(input: { name: \"webinar\", kind: \"webinar.registered\", points: 60 }) { scoringRule { id } } }",
        json!({}),
    )
    .await;
    app.ok(
        token,
        "mutation { installLifecycleRules(template: STANDARD) { lifecycleRules { id } } }",
        json!({}),
    )
    .await;
    create_account(app, token, "Acme", &["acme.com"]).await;
    create_account(app, token, "Beta", &["beta.com"]).await;
    let mut touches = Vec::new();
    for (i, domain) in ["acme.com", "beta.com"].into_iter().enumerate() {
        touches.push(
            Touch::new(
                &format!("{domain}-webinar"),
                "webinar.registered",
                Channel::Webinar,
                &day(i as u32 + 1),
            )
            .email(&format!("buyer@{domain}")),
        );
        touches.push(sales(
            &format!("{domain}-meeting"),
            "meeting.held",
            5,
            domain,
        ));
    }
    touches
        .push(sales("acme-roi", "asset.shared", 8, "acme.com").asset("roi-guide", "The ROI guide"));
    touches.push(sales("acme-won", "deal.won", 20, "acme.com"));
    touches.push(sales("beta-lost", "deal.lost", 20, "beta.com"));
    touches.sort_by_key(|t| t.raw().occurred_at);
    for touch in touches {
        record(app, token, json!([input(touch)])).await;
    }
}

#[tokio::test]
async fn sales_engagement_pages_accounts_with_their_outcome_and_assets() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    deals(&app, &token).await;

    let first = app.ok(&token, ENGAGEMENT, json!({})).await;
    let report = &first["salesEngagement"];
    // Sam: a meeting and the outcome each, and the guide for Acme: 5.
    let sam = &report["actors"][0];
    assert_eq!(report["actors"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(
        (
            &sam["actor"],
            &sam["touchpoints"],
            &sam["won"],
            &sam["lost"],
            &sam["open"]
        ),
        (&json!("sam"), &json!(5), &json!(1), &json!(1), &json!(0))
    );
    assert_eq!(
        sam["assets"],
        json!([{ "asset": { "key": "roi-guide", "title": "The ROI guide" }, "touchpoints": 1 }])
    );
    assert_eq!(sam["accounts"]["totalCount"], 2);
    let page = &report["accounts"];
    assert_eq!(page["totalCount"], 2);
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    assert_eq!(
        page["nodes"][0],
        json!({
            "account": { "name": "Acme" },
            "handedOffAt": printed(1),
            "outcome": "WON",
            "outcomeAt": printed(20),
            "touchpoints": 3,
            "firstTouchAt": printed(5),
            "lastTouchAt": printed(20),
            "actors": ["sam"],
            "assets": [{ "asset": { "key": "roi-guide" }, "touchpoints": 1 }],
        })
    );
    let cursor = page["pageInfo"]["endCursor"].clone();
    let second = app.ok(&token, ENGAGEMENT, json!({ "after": cursor })).await;
    let page = &second["salesEngagement"]["accounts"];
    assert_eq!(page["nodes"][0]["account"]["name"], "Beta");
    assert_eq!(page["nodes"][0]["outcome"], "LOST");
    assert_eq!(page["nodes"][0]["assets"], json!([]));
    assert_eq!(page["pageInfo"]["hasNextPage"], false);

    // The touchpoint keeps its asset, and the asset filter finds it.
    let shared = app
        .ok(
            &token,
            r#"{ touchpoints(filter: { assetKey: "roi-guide" }) { nodes { externalId asset { key title url } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        shared["touchpoints"]["nodes"],
        json!([{ "externalId": "acme-roi", "asset": { "key": "roi-guide", "title": "The ROI guide", "url": null } }])
    );

    // A window ending before it starts, and a token without `read`.
    let bad = app
        .gql(
            &token,
            r#"{ salesEngagement(from: "2026-04-01T00:00:00Z", to: "2026-03-01T00:00:00Z") { actors { actor } } }"#,
            json!({}),
        )
        .await;
    assert_code(&bad, "BAD_USER_INPUT");
    let writer = app.token("acme", &[Scope::Write]);
    assert_code(&app.gql(&writer, ENGAGEMENT, json!({})).await, "FORBIDDEN");
    // Another workspace sees none of it.
    app.workspace("globex").await;
    let other = app.ok(&app.admin("globex"), ENGAGEMENT, json!({})).await;
    assert_eq!(other["salesEngagement"]["actors"], json!([]));
    assert_eq!(other["salesEngagement"]["accounts"]["totalCount"], 0);
}

#[tokio::test]
async fn content_effectiveness_compares_the_stays_an_asset_reached() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    deals(&app, &token).await;
    let model =
        app.ok(&token, "{ journeyModels { id } }", json!({})).await["journeyModels"][0]["id"]
            .clone();

    let data = app.ok(&token, CONTENT, json!({ "m": model })).await;
    let assets = &data["contentEffectiveness"]["assets"];
    assert_eq!(assets["totalCount"], 1);
    let roi = &assets["nodes"][0];
    assert_eq!(
        roi["asset"],
        json!({ "key": "roi-guide", "title": "The ROI guide", "url": null })
    );
    assert_eq!(
        (&roi["touchpoints"], &roi["accountsReached"]),
        (&json!(1), &json!(1))
    );
    // In the purchase decision it reached Acme (won) and missed Beta (lost);
    // neither moved on to another stage.
    assert_eq!(
        roi["stages"],
        json!([{
            "stage": { "key": "purchase_decision" },
            "reached": { "stays": 1, "movedOn": 0, "won": 1, "wonShare": 1.0 },
            "notReached": { "stays": 1, "movedOn": 0, "won": 0, "wonShare": 0.0 },
        }])
    );
    // Overall the stays it missed add both consideration stays, Acme's won.
    assert_eq!(
        roi["overall"],
        json!({ "reached": { "stays": 1, "won": 1 }, "notReached": { "stays": 3, "won": 1 } })
    );

    // Before anything happened: no asset.
    let before = app
        .ok(
            &token,
            CONTENT,
            json!({ "m": model, "from": "2026-03-25T00:00:00Z" }),
        )
        .await;
    assert_eq!(before["contentEffectiveness"]["assets"]["totalCount"], 0);

    // Another workspace's model is not found; a token without `read` is refused.
    app.workspace("globex").await;
    let other = app
        .gql(&app.admin("globex"), CONTENT, json!({ "m": model }))
        .await;
    assert_code(&other, "NOT_FOUND");
    let writer = app.token("acme", &[Scope::Write]);
    assert_code(
        &app.gql(&writer, CONTENT, json!({ "m": model })).await,
        "FORBIDDEN",
    );
}

#[tokio::test]
async fn a_bad_asset_fails_its_item_naming_the_field() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let touch = Touch::new("t-1", "asset.shared", Channel::Email, &day(1))
        .email("buyer@acme.com")
        .asset(" ", "Untitled");
    let result = record(&app, &token, json!([input(touch)])).await;
    assert_eq!(result["failed"], 1, "{result}");
    let error = &result["results"][0]["error"];
    assert_eq!(error["code"], "BAD_USER_INPUT", "{result}");
    assert!(
        error["message"].as_str().unwrap().contains("asset.key"),
        "{result}"
    );
}
