//! The sales brief over HTTP: one selection answers where an account is, how
//! warm it is and why, its buying group, its latest touches, its open
//! tickets, its newest NPS answer and its next steps.

use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::helpers::{create_account, record, spawn_app};

const BRIEF: &str = r#"query($id: ID!) { account(id: $id) { brief {
  positions { model { name } stage { key } phase enteredAt secondsInStage pastTarget }
  score topScoreContributions(first: 1) { rule { name } points }
  scoreTrend { days now then change } weekBefore: scoreTrend(days: 18) { then }
  dmu { missingRoles }
  lastTouchAt lastTouches(first: 2) { nodes { kind } }
  openTickets { ticketId subject openedAt reopenedAt touchpoint { source } }
  latestNps { score } latestNpsFollowedUp
  nextSteps { kind }
  salesEngagement { touchpoints outcome }
  stages { stage { key } stays { stays touchpoints byKind { kind count } } }
} } }"#;

fn days_ago(days: i64) -> String {
    (Utc::now() - Duration::days(days)).to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[tokio::test]
async fn a_brief_answers_the_sales_questions_in_one_selection() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let acme = create_account(&app, &token, "Acme", &["acme.example"]).await;
    for (name, kind, points) in [
        ("Meetings", "meeting.held", 30),
        ("Opens", "email.opened", 5),
    ] {
        app.ok(
            &token,
            "mutation($input: UpsertScoringRuleInput!) { upsertScoringRule(input: $input) { scoringRule { id } } }",
            json!({ "input": { "name": name, "kind": kind, "points": points } }),
        )
        .await;
    }
    let person = json!({ "email": "ada@acme.example", "name": "Ada" });
    let ticket = |n: u32, event: &str, days: i64| {
        json!({ "source": "zendesk", "externalId": format!("ticket:{n}:{event}"), "channel": "SUPPORT",
                "kind": format!("ticket.{event}"), "occurredAt": days_ago(days),
                "title": format!("Ticket {n}"), "properties": { "ticket_id": n }, "person": person })
    };
    record(
        &app,
        &token,
        json!([
            { "externalId": "m1", "channel": "MEETING", "kind": "meeting.held",
              "occurredAt": days_ago(20), "person": person },
            { "externalId": "o1", "channel": "EMAIL", "kind": "email.opened",
              "occurredAt": days_ago(15), "person": person },
            ticket(1, "opened", 10),
            ticket(1, "solved", 9),
            ticket(1, "reopened", 4),
            ticket(2, "opened", 6),
            ticket(2, "solved", 5),
            { "externalId": "n1", "channel": "EMAIL", "kind": "nps.responded",
              "occurredAt": days_ago(1), "score": 9, "person": person },
        ]),
    )
    .await;

    let data = app.ok(&token, BRIEF, json!({ "id": acme })).await;
    let brief = &data["account"]["brief"];
    // The meeting moved it into Purchase Decision, the first ticket into
    // Retention ten days ago.
    let positions = brief["positions"].as_array().unwrap();
    assert_eq!(positions.len(), 1, "{brief}");
    assert_eq!(positions[0]["stage"]["key"], "retention");
    assert_eq!(positions[0]["phase"], false);
    assert_eq!(positions[0]["pastTarget"], false);
    let in_stage = positions[0]["secondsInStage"].as_f64().unwrap();
    assert!((in_stage - 10.0 * 86_400.0).abs() < 600.0, "{in_stage}");
    assert!(brief["score"].as_f64().unwrap() > 30.0, "{brief}");
    // 30 days ago nothing had happened; 18 days ago the meeting had (30).
    let trend = &brief["scoreTrend"];
    assert_eq!(trend["days"], 30);
    assert_eq!(trend["then"], 0.0);
    assert_eq!(trend["now"], brief["score"]);
    assert_eq!(trend["change"], brief["score"]);
    assert_eq!(brief["weekBefore"]["then"], 30.0);
    assert_eq!(
        brief["topScoreContributions"],
        json!([{ "rule": { "name": "Meetings" }, "points": brief["topScoreContributions"][0]["points"] }])
    );
    assert!(
        brief["topScoreContributions"][0]["points"]
            .as_f64()
            .unwrap()
            > 29.0
    );
    assert_eq!(
        brief["dmu"]["missingRoles"],
        json!(["DECISION_MAKER", "INFLUENCER", "BUYER", "USER", "CHAMPION"])
    );
    assert!(brief["lastTouchAt"].is_string());
    assert_eq!(
        brief["lastTouches"]["nodes"],
        json!([{ "kind": "nps.responded" }, { "kind": "ticket.reopened" }])
    );
    // Ticket 1 was reopened after its solve; ticket 2 stays solved.
    let open = brief["openTickets"].as_array().unwrap();
    assert_eq!(open.len(), 1, "{brief}");
    assert_eq!(open[0]["ticketId"], "1");
    assert_eq!(open[0]["subject"], "Ticket 1");
    assert!(open[0]["reopenedAt"].is_string());
    assert_eq!(open[0]["touchpoint"]["source"], "zendesk");
    assert_eq!(brief["latestNps"]["score"], 9.0);
    assert_eq!(brief["latestNpsFollowedUp"], false);
    let kinds: Vec<&Value> = brief["nextSteps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["kind"])
        .collect();
    assert_eq!(kinds, [&json!("OPEN_TICKET")], "{brief}");

    // Never qualified: no sales engagement. Its stages, with what happened
    // in each: the meeting in the purchase decision; the open, the tickets
    // and the answer since in retention.
    assert_eq!(brief["salesEngagement"], Value::Null, "{brief}");
    let stages = brief["stages"].as_array().unwrap();
    let keys: Vec<&Value> = stages.iter().map(|s| &s["stage"]["key"]).collect();
    assert_eq!(
        keys,
        [&json!("purchase_decision"), &json!("retention")],
        "{brief}"
    );
    assert_eq!(stages[0]["stays"]["stays"], 1);
    assert_eq!(stages[0]["stays"]["touchpoints"], 2, "{brief}");
    assert_eq!(stages[1]["stays"]["touchpoints"], 6, "{brief}");

    // A trend over no days, or over more than a year, is refused.
    for days in [0, 366] {
        let bad = app
            .gql(
                &token,
                "query($id: ID!, $d: Int!) { account(id: $id) { brief { scoreTrend(days: $d) { then } } } }",
                json!({ "id": acme, "d": days }),
            )
            .await;
        crate::helpers::assert_code(&bad, "BAD_USER_INPUT");
    }
}
