//! The `--demo` workspace shows every part of journey intelligence.

use serde_json::{Value, json};

use crate::helpers::spawn_app;

const DAY: f64 = 86_400.0;

#[tokio::test]
async fn the_demo_shows_models_scores_stalls_nps_and_a_slow_handoff() {
    let app = spawn_app().await;
    assert!(journeys::demo::load(&app.db).await.unwrap());
    assert!(!journeys::demo::load(&app.db).await.unwrap(), "loaded once");
    let token = app.admin(journeys::demo::DEMO_SLUG);
    let q = r#"{
      journeyModels { id }
      scoringRules { name }
      accounts(first: 100) { nodes { name journey { transitions { to { key } } } } }
      stakeholders(first: 100) { nodes { score scoreBreakdown { points } } }
      nps(from: "2000-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z") { responses promoters detractors }
      handoffGap(from: "2000-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z") { handedOff medianSeconds }
    }"#;
    let data = app.ok(&token, q, json!({})).await;
    let list = |v: &Value| v.as_array().unwrap().clone();
    assert_eq!(list(&data["journeyModels"]).len(), 3);
    assert!(list(&data["scoringRules"]).len() >= 5);
    for account in list(&data["accounts"]["nodes"]) {
        assert!(
            !list(&account["journey"]["transitions"]).is_empty(),
            "{account}"
        );
    }
    // Scores explain themselves: each is the sum of its breakdown.
    let scored: Vec<Value> = list(&data["stakeholders"]["nodes"])
        .into_iter()
        .filter(|s| s["score"].as_f64().unwrap() > 0.0)
        .collect();
    assert!(!scored.is_empty());
    for s in &scored {
        let sum: f64 = list(&s["scoreBreakdown"])
            .iter()
            .map(|c| c["points"].as_f64().unwrap())
            .sum();
        assert!((sum - s["score"].as_f64().unwrap()).abs() < 1e-6, "{s}");
    }
    let nps = &data["nps"];
    assert!(nps["responses"].as_i64().unwrap() >= 3);
    assert!(nps["promoters"].as_i64().unwrap() >= 1 && nps["detractors"].as_i64().unwrap() >= 1);
    let gap = &data["handoffGap"];
    assert!(gap["handedOff"].as_i64().unwrap() >= 1);
    assert!(
        gap["medianSeconds"].as_f64().unwrap() > 7.0 * DAY,
        "a slow hand-off: {gap}"
    );
    let stalled = app
        .ok(
            &token,
            "query($m: ID!) { stalledAccounts(modelId: $m) { totalCount } }",
            json!({ "m": data["journeyModels"][0]["id"] }),
        )
        .await;
    assert!(stalled["stalledAccounts"]["totalCount"].as_i64().unwrap() >= 1);

    // CSAT on the connector's scale: 1 for good, 0 for bad, its word kept.
    let ratings = app
        .ok(
            &token,
            r#"{ touchpoints(filter: {kinds: ["satisfaction.rated"]}, first: 500) { nodes { score title properties } } }"#,
            json!({}),
        )
        .await;
    let ratings = list(&ratings["touchpoints"]["nodes"]);
    assert!(!ratings.is_empty());
    for r in &ratings {
        let good = r["properties"]["rating"] == "good";
        assert_eq!(
            r["score"].as_f64(),
            Some(if good { 1.0 } else { 0.0 }),
            "{r}"
        );
        assert_eq!(
            r["title"],
            if good { "Rated good" } else { "Rated bad" },
            "{r}"
        );
    }
    // Visitors left no email: known by an anonymous id, with touchpoints on
    // their account all the same.
    let visitors = app
        .ok(
            &token,
            r#"{ stakeholders(filter: {lifecycle: VISITOR}, first: 50) { nodes {
                email identities { kind } touchpoints(first: 1) { totalCount } } } }"#,
            json!({}),
        )
        .await;
    let visitors = list(&visitors["stakeholders"]["nodes"]);
    assert!(!visitors.is_empty());
    for v in &visitors {
        assert_eq!(v["email"], Value::Null, "{v}");
        assert!(
            list(&v["identities"]).contains(&json!({ "kind": "ANONYMOUS_ID" })),
            "{v}"
        );
    }
    // Every account's lifecycle history spans the 90 days the touchpoints
    // cover, not the moment the demo was loaded, and adds up to where it is.
    let histories = app
        .ok(
            &token,
            "{ accounts(first: 100) { nodes { name lifecycle lifecycleChanges { from to occurredAt } } } }",
            json!({}),
        )
        .await;
    let now = chrono::Utc::now();
    let mut moved = 0;
    for account in list(&histories["accounts"]["nodes"]) {
        let changes = list(&account["lifecycleChanges"]);
        let at = |c: &Value| {
            chrono::DateTime::parse_from_rfc3339(c["occurredAt"].as_str().unwrap())
                .unwrap()
                .to_utc()
        };
        assert!(
            now - at(&changes[0]) > chrono::Duration::days(85),
            "{account}"
        );
        for pair in changes.windows(2) {
            assert_eq!(pair[1]["from"], pair[0]["to"], "{account}");
            assert!(at(&pair[1]) >= at(&pair[0]), "{account}");
        }
        assert_eq!(
            changes.last().unwrap()["to"],
            account["lifecycle"],
            "{account}"
        );
        moved += changes
            .iter()
            .filter(|c| now - at(c) > chrono::Duration::days(2))
            .count();
    }
    assert!(moved > 20, "{moved} changes before this week");
    let won = app
        .ok(
            &token,
            r#"{ attribution(from: "2000-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z") { customers(first: 50) { nodes { customerAt } } } }"#,
            json!({}),
        )
        .await;
    let won = list(&won["attribution"]["customers"]["nodes"]);
    // Three customers, a promoter and a churned account won weeks ago; one
    // more this week, by the lifecycle rules.
    assert_eq!(won.len(), 6, "{won:?}");
    let weeks_ago = won
        .iter()
        .filter(|w| {
            let at = chrono::DateTime::parse_from_rfc3339(w["customerAt"].as_str().unwrap());
            now - at.unwrap().to_utc() > chrono::Duration::days(7)
        })
        .count();
    assert_eq!(weeks_ago, 5, "{won:?}");
    let kestrel = app
        .ok(
            &token,
            r#"{ accounts(filter: { search: "Kestrel" }) { nodes { lifecycle lifecycleChanges { to cause } } } }"#,
            json!({}),
        )
        .await;
    let kestrel = &kestrel["accounts"]["nodes"][0];
    assert_eq!(kestrel["lifecycle"], "PROMOTER", "{kestrel}");
    let by_rule: Vec<Value> = list(&kestrel["lifecycleChanges"])
        .into_iter()
        .filter(|c| c["cause"].as_str().unwrap().starts_with("lifecycle rule"))
        .map(|c| c["to"].clone())
        .collect();
    assert_eq!(by_rule, [json!("CUSTOMER"), json!("PROMOTER")], "{kestrel}");

    // Briefs: every account's next steps have reasons; Acme Analytics has an
    // open ticket, Evergreen Retail a detractor to answer, accounts in a deal
    // miss roles, and the default model's playbooks guide them.
    let briefs = app
        .ok(
            &token,
            r#"{ accounts(first: 100) { nodes { name brief {
                 positions { stage { key playbook { text } } }
                 openTickets { ticketId subject }
                 nextSteps { kind reason }
               } } } }"#,
            json!({}),
        )
        .await;
    let briefs = list(&briefs["accounts"]["nodes"]);
    let steps_of = |name: &str| -> Vec<String> {
        let account = briefs.iter().find(|a| a["name"] == name).unwrap();
        list(&account["brief"]["nextSteps"])
            .iter()
            .map(|s| s["kind"].as_str().unwrap().to_owned())
            .collect()
    };
    let acme = briefs
        .iter()
        .find(|a| a["name"] == "Acme Analytics")
        .unwrap();
    assert_eq!(
        acme["brief"]["openTickets"],
        json!([{ "ticketId": "4711", "subject": "Dashboard export times out" }])
    );
    assert!(steps_of("Acme Analytics").contains(&"OPEN_TICKET".to_owned()));
    assert!(steps_of("Evergreen Retail").contains(&"DETRACTOR_FOLLOW_UP".to_owned()));
    let all: Vec<String> = briefs
        .iter()
        .flat_map(|a| steps_of(a["name"].as_str().unwrap()))
        .collect();
    for kind in ["MISSING_ROLE", "PLAYBOOK"] {
        assert!(all.contains(&kind.to_owned()), "{kind} in {all:?}");
    }
    for account in &briefs {
        for step in list(&account["brief"]["nextSteps"]) {
            assert!(!step["reason"].as_str().unwrap().is_empty(), "{account}");
        }
    }
    let with_playbook = briefs
        .iter()
        .flat_map(|a| list(&a["brief"]["positions"]))
        .filter(|p| !list(&p["stage"]["playbook"]).is_empty())
        .count();
    assert!(
        with_playbook >= 3,
        "{with_playbook} positions with a playbook"
    );
    let visited: i64 = visitors
        .iter()
        .map(|v| v["touchpoints"]["totalCount"].as_i64().unwrap())
        .sum();
    assert!(visited > 0);
}

/// Polls the model until its rebuild is done; returns its progress.
async fn rebuilt(app: &crate::helpers::TestApp, token: &str, model: &Value) -> Value {
    let q = "query($id: ID!) { node(id: $id) { ... on JourneyModel { backfill { state processedAccounts totalAccounts } } } }";
    for _ in 0..200 {
        let data = app.ok(token, q, json!({ "id": model })).await;
        let backfill = data["node"]["backfill"].clone();
        if backfill["state"] == "DONE" {
            return backfill;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the rebuild of {model} did not finish");
}

#[tokio::test]
async fn a_model_added_to_the_demo_gives_every_account_the_path_its_history_gives() {
    let app = spawn_app().await;
    journeys::demo::load(&app.db).await.unwrap();
    let token = app.admin(journeys::demo::DEMO_SLUG);
    let create = r#"mutation($t: JourneyTemplate!) { createJourneyModel(input: { template: $t }) {
        journeyModel { id backfill { state processedAccounts totalAccounts } } } }"#;
    let mut added = Vec::new();
    for template in ["KOPAN", "MCKINSEY"] {
        let data = app.ok(&token, create, json!({ "t": template })).await;
        let model = &data["createJourneyModel"]["journeyModel"];
        let total = model["backfill"]["totalAccounts"].as_i64().unwrap();
        assert!(total >= 5, "{model}");
        assert_ne!(model["backfill"]["state"], "DONE");
        let done = rebuilt(&app, &token, &model["id"]).await;
        assert_eq!(done["processedAccounts"], total);
        assert_eq!(done["totalAccounts"], total);
        added.push(model["id"].clone());
    }
    let models = app
        .ok(&token, "{ journeyModels { id template } }", json!({}))
        .await;
    let loaded_mckinsey = models["journeyModels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["template"] == "MCKINSEY" && m["id"] != added[1])
        .unwrap()["id"]
        .clone();
    let q = r#"query($k: ID!, $new: ID!, $old: ID!) { accounts(first: 100) { nodes { name
        kopan: journey(modelId: $k) { currentStage { key } transitions { to { key } } }
        added: journey(modelId: $new) { ...path }
        loaded: journey(modelId: $old) { ...path } } } }
      fragment path on Journey { currentStage { key } enteredAt
        transitions { from { key } to { key } occurredAt touchpoint { externalId } } }"#;
    let data = app
        .ok(
            &token,
            q,
            json!({ "k": added[0], "new": added[1], "old": loaded_mckinsey }),
        )
        .await;
    let accounts = data["accounts"]["nodes"].as_array().unwrap();
    let acme = accounts
        .iter()
        .find(|a| a["name"] == "Acme Analytics")
        .unwrap();
    assert!(!acme["kopan"]["currentStage"].is_null(), "{acme}");
    for account in accounts {
        // Built from the history at once, as the loaded model was built
        // touchpoint by touchpoint.
        assert_eq!(account["added"], account["loaded"], "{}", account["name"]);
        assert!(
            !account["kopan"]["transitions"]
                .as_array()
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn the_demo_shows_content_in_won_and_lost_deals_and_feelings_in_every_stage() {
    let app = spawn_app().await;
    journeys::demo::load(&app.db).await.unwrap();
    let token = app.admin(journeys::demo::DEMO_SLUG);
    let list = |v: &Value| v.as_array().unwrap().clone();
    let now = chrono::Utc::now();
    let window = json!({
        "from": (now - chrono::Duration::days(120)).to_rfc3339(),
        "to": (now + chrono::Duration::days(1)).to_rfc3339(),
    });
    let models = app
        .ok(
            &token,
            "{ journeyModels { id isDefault stages { id key } } }",
            json!({}),
        )
        .await;
    let default = list(&models["journeyModels"])
        .into_iter()
        .find(|m| m["isDefault"] == true)
        .unwrap();
    let q = r#"query($m: ID!, $from: DateTime!, $to: DateTime!) {
      salesEngagement(from: $from, to: $to) {
        actors { actor won lost assets { asset { key } touchpoints } }
        accounts(first: 100) { nodes { account { name } outcome assets { asset { key } } } }
      }
      handoffs(modelId: $m, from: $from, to: $to) {
        fromTeam toTeam crossed handedOff waiting medianSeconds p90Seconds
      }
      stageInsights(modelId: $m, from: $from, to: $to) {
        stage { key }
        movedOn { stays emotions { emotion count } meanSentiment }
        droppedOff { stays emotions { emotion count } meanSentiment }
      }
      contentEffectiveness(modelId: $m, from: $from, to: $to) {
        assets { nodes { asset { key title url } accountsReached
          overall { reached { stays won wonShare } notReached { stays won wonShare } } } }
      }
    }"#;
    let mut vars = window.clone();
    vars["m"] = default["id"].clone();
    let data = app.ok(&token, q, vars).await;

    // Sales: both lost deals got the pricing sheet, no lost deal the ROI
    // calculator; five won deals did.
    let engaged = list(&data["salesEngagement"]["accounts"]["nodes"]);
    let keys_of = |a: &Value| -> Vec<String> {
        list(&a["assets"])
            .iter()
            .map(|u| u["asset"]["key"].as_str().unwrap().to_owned())
            .collect()
    };
    let lost: Vec<&Value> = engaged.iter().filter(|a| a["outcome"] == "LOST").collect();
    assert_eq!(lost.len(), 2, "{engaged:?}");
    for deal in &lost {
        assert!(
            keys_of(deal).contains(&"pricing-sheet".to_owned()),
            "{deal}"
        );
        assert!(
            !keys_of(deal).contains(&"roi-calculator".to_owned()),
            "{deal}"
        );
    }
    let won_with_roi = engaged
        .iter()
        .filter(|a| a["outcome"] == "WON" && keys_of(a).contains(&"roi-calculator".to_owned()))
        .count();
    assert_eq!(won_with_roi, 5, "{engaged:?}");
    assert!(
        list(&data["salesEngagement"]["actors"])
            .iter()
            .any(|a| !list(&a["assets"]).is_empty()),
        "{data}"
    );

    // Content: every stay the calculator reached was won, more than the rest.
    let assets = list(&data["contentEffectiveness"]["assets"]["nodes"]);
    let roi = assets
        .iter()
        .find(|a| a["asset"]["key"] == "roi-calculator")
        .unwrap();
    assert_eq!(roi["accountsReached"], 5, "{roi}");
    assert_eq!(roi["overall"]["reached"]["wonShare"], 1.0, "{roi}");
    let rest = roi["overall"]["notReached"]["wonShare"].as_f64().unwrap();
    assert!(rest < 1.0, "{roi}");
    assert!(
        assets
            .iter()
            .any(|a| a["asset"]["key"] == "hand-off-gap-whitepaper")
    );

    // Hand-offs: every boundary of the default model is listed; marketing
    // to sales was crossed and sales took a while to answer.
    let handoffs = list(&data["handoffs"]);
    let teams: Vec<(&str, &str)> = handoffs
        .iter()
        .map(|h| {
            (
                h["fromTeam"].as_str().unwrap(),
                h["toTeam"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        teams,
        [
            ("MARKETING", "SALES"),
            ("SALES", "SERVICE"),
            ("SERVICE", "RELATIONSHIP")
        ],
        "{handoffs:?}"
    );
    for handoff in &handoffs {
        assert!(handoff["crossed"].as_i64().unwrap() >= 1, "{handoffs:?}");
        assert!(handoff["medianSeconds"].is_number(), "{handoffs:?}");
    }
    // A demo requested on the website waits for sales' answer.
    assert!(
        handoffs[0]["p90Seconds"].as_f64().unwrap() > 0.0,
        "{handoffs:?}"
    );

    // Stage insights: some stage was left by some accounts and not others,
    // and what those felt is counted on both sides.
    let insights = list(&data["stageInsights"]);
    let felt = |group: &Value| -> i64 {
        list(&group["emotions"])
            .iter()
            .map(|e| e["count"].as_i64().unwrap())
            .sum()
    };
    assert!(
        insights
            .iter()
            .any(|s| felt(&s["movedOn"]) > 0 && felt(&s["droppedOff"]) > 0),
        "{insights:?}"
    );

    // One account's brief answers the same for it: what sales did, with
    // which assets, and what it felt in each stage it went through.
    let brief = app
        .ok(
            &token,
            r#"{ accounts(filter: { search: "Acme Analytics" }) { nodes { brief {
                 salesEngagement { outcome actors assets { asset { key } } }
                 stages { stage { key } stays { stays emotions { emotion count } meanSentiment } }
                 scoreTrend { now then }
               } } } }"#,
            json!({}),
        )
        .await;
    let brief = &brief["accounts"]["nodes"][0]["brief"];
    let sales = &brief["salesEngagement"];
    assert_eq!(sales["outcome"], "WON", "{brief}");
    assert!(
        list(&sales["assets"])
            .iter()
            .any(|u| u["asset"]["key"] == "roi-calculator"),
        "{brief}"
    );
    let stages = list(&brief["stages"]);
    assert!(stages.len() >= 3, "{brief}");
    for stage in &stages {
        assert!(felt(&stage["stays"]) > 0, "{stage}");
    }
    assert!(brief["scoreTrend"]["then"].is_number(), "{brief}");

    // Feelings: touchpoints expressing an emotion, and with a sentiment, in
    // every stage of the default model.
    let felt = r#"query($s: ID!) { touchpoints(filter: { stageId: $s,
        emotions: [PAIN, PROBLEM, FEAR, WANT, NEED, DESIRE] }, first: 1) {
        totalCount nodes { emotion sentiment } } }"#;
    for stage in list(&default["stages"]) {
        let found = app.ok(&token, felt, json!({ "s": stage["id"] })).await;
        let found = &found["touchpoints"];
        assert!(
            found["totalCount"].as_i64().unwrap() > 0,
            "{stage}: {found}"
        );
        assert!(
            found["nodes"][0]["sentiment"].is_number(),
            "{stage}: {found}"
        );
    }
}
