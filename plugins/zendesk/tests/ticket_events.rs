//! The ticket events export: solve times, replies and status changes.

mod common;

use journeys_plugin_sdk::{
    AccountHint, Channel, Connector, PersonHint, PullError, Team, Touchpoint,
};
use journeys_plugin_zendesk::{Cursor, EventsCursor, Phase, RatingsCursor};
use serde_json::{Map, Value, json};
use wiremock::MockServer;

use common::*;

fn props(value: Value) -> Map<String, Value> {
    value.as_object().expect("an object").clone()
}

fn ana() -> PersonHint {
    PersonHint {
        email: Some("ana@acme.example".into()),
        zendesk_user_id: Some("501".into()),
        name: Some("Ana Souza".into()),
        ..PersonHint::default()
    }
}

fn acme() -> Option<AccountHint> {
    Some(AccountHint {
        external_id: Some("9001".into()),
        name: Some("Acme".into()),
    })
}

#[tokio::test]
async fn a_solve_is_dated_by_its_status_event_and_closing_later_does_not_move_it() {
    let server = MockServer::start().await;
    // Solved on 3 March at 15:00, closed on 4 March at 12:30 (its updated_at).
    mount_export(
        &server,
        None,
        export_page(
            vec![ticket(102, "closed", 501, Some(9001), 3)],
            vec![user(501, "Ana Souza", "ana@acme.example", Some(9001))],
            vec![organization(9001, "Acme")],
            Some("c1"),
            true,
        ),
    )
    .await;
    let closed_at = at("2026-03-04T12:30:00Z").timestamp();
    let closed = ticket_event(
        8202,
        102,
        -1,
        "2026-03-04T12:30:00Z",
        vec![status_change(9202, "solved", "closed")],
    );
    mount_ticket_events(
        &server,
        Some(0),
        events_page(
            vec![
                ticket_event(
                    8201,
                    102,
                    701,
                    "2026-03-03T15:00:00Z",
                    vec![status_change(9201, "open", "solved")],
                ),
                closed.clone(),
            ],
            Some(closed_at),
            true,
        ),
    )
    .await;
    no_ratings(&server).await;
    let mut zendesk = connector(&server);
    let first = sync(&mut zendesk, Cursor::default()).await.unwrap();
    assert_eq!(
        external_ids(&first.touchpoints),
        [
            "ticket:102:opened",
            "ticket:102:solved",
            "ticket:102:solved"
        ]
    );
    // The export's fallback first, then the event's time under the same id:
    // the upsert keeps the last, the moment it was solved.
    let (fallback, solved) = (&first.touchpoints[1], &first.touchpoints[2]);
    assert_eq!(fallback.occurred_at, at("2026-03-04T12:30:00Z"));
    assert_eq!(solved.occurred_at, at("2026-03-03T15:00:00Z"));
    assert_eq!(
        solved,
        &Touchpoint {
            occurred_at: solved.occurred_at,
            ..fallback.clone()
        }
    );
    assert_eq!(solved.person, ana());
    assert!(first.cursor.tickets_caught_up);

    // Later the closed ticket is updated again (say, tagged): the export shows
    // it, but no solve is made from its new updated_at.
    server.reset().await;
    let mut tagged = ticket(102, "closed", 501, Some(9001), 3);
    tagged["updated_at"] = json!("2026-03-20T08:00:00Z");
    mount_export(
        &server,
        Some("c1"),
        export_page(vec![tagged], vec![], vec![], Some("c2"), true),
    )
    .await;
    mount_ticket_events(
        &server,
        Some(closed_at),
        events_page(vec![closed], Some(closed_at), true),
    )
    .await;
    no_ratings(&server).await;
    let second = sync(&mut zendesk, first.cursor).await.unwrap();
    assert_eq!(external_ids(&second.touchpoints), ["ticket:102:opened"]);
}

#[tokio::test]
async fn comments_are_replies_owned_by_service_when_an_agent_wrote_them() {
    let server = MockServer::start().await;
    mount_export(
        &server,
        None,
        export_page(
            vec![ticket(601, "pending", 501, Some(9001), 2)],
            vec![
                user(501, "Ana Souza", "ana@acme.example", Some(9001)),
                agent(701, "Sam Agent", "sam@acme.example"),
            ],
            vec![organization(9001, "Acme")],
            Some("c1"),
            true,
        ),
    )
    .await;
    let events = vec![
        ticket_event(
            8301,
            601,
            501,
            "2026-03-02T09:05:00Z",
            vec![comment_event(
                9301,
                501,
                true,
                "My printer is on fire",
                "2026-03-02T09:05:00Z",
            )],
        ),
        ticket_event(
            8302,
            601,
            701,
            "2026-03-02T10:00:00Z",
            vec![
                comment_event(
                    9302,
                    701,
                    true,
                    "Have you tried water?",
                    "2026-03-02T10:00:00Z",
                ),
                status_change(9312, "open", "pending"),
            ],
        ),
        // An agent the run has not seen: an internal note is always an agent's.
        ticket_event(
            8303,
            601,
            702,
            "2026-03-02T10:30:00Z",
            vec![comment_event(
                9303,
                702,
                false,
                "Escalating",
                "2026-03-02T10:30:00Z",
            )],
        ),
        // Someone unknown (a CC, say) replying in public.
        ticket_event(
            8304,
            601,
            703,
            "2026-03-02T11:00:00Z",
            vec![comment_event(
                9304,
                703,
                true,
                "Me too",
                "2026-03-02T11:00:00Z",
            )],
        ),
    ];
    mount_ticket_events(
        &server,
        Some(0),
        events_page(events, Some(at("2026-03-02T11:00:00Z").timestamp()), true),
    )
    .await;
    no_ratings(&server).await;
    let run = sync(&mut connector(&server), Cursor::default())
        .await
        .unwrap();
    let pending_at = at("2026-03-02T10:00:00Z");
    assert_eq!(
        external_ids(&run.touchpoints),
        [
            "ticket:601:opened",
            "ticket:601:comment:9301",
            "ticket:601:comment:9302",
            &format!("ticket:601:status:pending:{}", pending_at.timestamp()),
            "ticket:601:comment:9303",
            "ticket:601:comment:9304",
        ]
    );
    let base = server.uri();
    let url = Some(format!("{base}/agent/tickets/601"));
    let agent_reply = Touchpoint {
        external_id: "ticket:601:comment:9302".into(),
        kind: "ticket.replied".into(),
        channel: Channel::Support,
        occurred_at: pending_at,
        title: Some("Public reply".into()),
        body: Some("Have you tried water?".into()),
        url: url.clone(),
        score: None,
        properties: props(json!({"ticket_id": 601, "public": true, "author_id": 701})),
        person: ana(),
        account: acme(),
        owner_team: Some(Team::Service),
        actor: Some("Sam Agent".into()),
    };
    assert_eq!(run.touchpoints[2], agent_reply);
    assert_eq!(
        run.touchpoints[1],
        Touchpoint {
            external_id: "ticket:601:comment:9301".into(),
            occurred_at: at("2026-03-02T09:05:00Z"),
            body: Some("My printer is on fire".into()),
            properties: props(json!({"ticket_id": 601, "public": true, "author_id": 501})),
            owner_team: None,
            actor: None,
            ..agent_reply.clone()
        },
        "the requester's reply is theirs"
    );
    assert_eq!(
        run.touchpoints[3],
        Touchpoint {
            external_id: format!("ticket:601:status:pending:{}", pending_at.timestamp()),
            kind: "ticket.pending".into(),
            channel: Channel::Support,
            occurred_at: pending_at,
            title: None,
            body: None,
            url,
            score: None,
            properties: props(json!({
                "ticket_id": 601, "status": "pending", "previous_status": "open"
            })),
            person: ana(),
            account: acme(),
            owner_team: None,
            actor: None,
        }
    );
    let note = &run.touchpoints[4];
    assert_eq!(note.title.as_deref(), Some("Internal note"));
    assert_eq!(note.properties["public"], false);
    assert_eq!(note.owner_team, Some(Team::Service));
    assert_eq!(note.actor.as_deref(), Some("zendesk user 702"));
    assert_eq!(note.person, ana());
    let unknown = &run.touchpoints[5];
    assert_eq!(
        (&unknown.person, unknown.owner_team, &unknown.actor),
        (&ana(), None, &None),
        "an unknown author is neither the person nor an actor"
    );
}

#[tokio::test]
async fn status_changes_of_tickets_zendesk_no_longer_shows() {
    let server = MockServer::start().await;
    // Deleted since: `show_many` leaves them out.
    mount_show_many(&server, vec![], vec![], vec![]).await;
    let create = json!({
        "id": 9400, "via": "Web form", "via_reference_id": null,
        "requester_id": 555, "event_type": "Create"
    });
    mount_ticket_events(
        &server,
        Some(1_772_000_000),
        events_page(
            vec![
                ticket_event(
                    8400,
                    801,
                    555,
                    "2026-03-02T09:00:00Z",
                    vec![create, status_change_created(9401)],
                ),
                ticket_event(
                    8401,
                    801,
                    701,
                    "2026-03-05T09:00:00Z",
                    vec![status_change(9402, "solved", "open")],
                ),
                // As audits spell it: field_name and value.
                ticket_event(
                    8402,
                    802,
                    -1,
                    "2026-03-05T10:00:00Z",
                    vec![json!({
                        "id": 9403, "type": "Change", "event_type": "Change",
                        "field_name": "status", "value": "hold", "previous_value": "open"
                    })],
                ),
            ],
            Some(at("2026-03-05T10:00:00Z").timestamp()),
            true,
        ),
    )
    .await;
    // A run resumed in the ticket events phase knows no tickets: it asks for
    // them, and Zendesk has none of them.
    let cursor = Cursor {
        phase: Phase::TicketEvents,
        ticket_events: EventsCursor {
            start_time: Some(1_772_000_000),
            ids_at_start: vec![],
        },
        ..Cursor::default()
    };
    let batch = connector(&server).pull(cursor).await.unwrap();
    assert_eq!(
        queries(&server, SHOW_MANY).await,
        [vec![
            ("ids".to_owned(), "801,802".to_owned()),
            ("include".to_owned(), "users,organizations".to_owned())
        ]]
    );
    assert!(batch.more);
    assert_eq!(batch.cursor.phase, Phase::Ratings);
    let reopened_at = at("2026-03-05T09:00:00Z").timestamp();
    let held_at = at("2026-03-05T10:00:00Z").timestamp();
    assert_eq!(
        external_ids(&batch.touchpoints),
        [
            format!("ticket:801:status:open:{reopened_at}").as_str(),
            &format!("ticket:802:status:hold:{held_at}"),
        ]
    );
    let reopened = &batch.touchpoints[0];
    assert_eq!(reopened.kind, "ticket.reopened");
    assert_eq!(
        reopened.person,
        PersonHint {
            zendesk_user_id: Some("555".into()),
            ..PersonHint::default()
        },
        "the requester its creation named"
    );
    let held = &batch.touchpoints[1];
    assert_eq!(held.kind, "ticket.on_hold");
    assert_eq!(
        held.person,
        PersonHint::default(),
        "no requester known and Zendesk itself updated it: no person"
    );
    assert_eq!(
        held.properties,
        props(json!({"ticket_id": 802, "status": "hold", "previous_status": "open"}))
    );
}

/// The `status` child event of a ticket's creation.
fn status_change_created(id: u64) -> Value {
    json!({ "id": id, "via": "Web form", "via_reference_id": null, "status": "new", "event_type": "Create" })
}

#[tokio::test]
async fn an_unchanged_resync_reads_no_event_twice() {
    let server = MockServer::start().await;
    let second = at("2026-03-02T09:00:00Z").timestamp();
    let same_second = vec![
        ticket_event(
            8501,
            901,
            501,
            "2026-03-02T09:00:00Z",
            vec![comment_event(
                9501,
                501,
                true,
                "Hello",
                "2026-03-02T09:00:00Z",
            )],
        ),
        ticket_event(
            8502,
            902,
            501,
            "2026-03-02T09:00:00Z",
            vec![comment_event(
                9502,
                501,
                true,
                "Again",
                "2026-03-02T09:00:00Z",
            )],
        ),
    ];
    mount_export(
        &server,
        None,
        export_page(vec![], vec![], vec![], Some("c1"), true),
    )
    .await;
    mount_export(
        &server,
        Some("c1"),
        export_page(vec![], vec![], vec![], Some("c1"), true),
    )
    .await;
    mount_ticket_events(&server, None, events_page(same_second, Some(second), true)).await;
    mount_show_many(
        &server,
        vec![
            ticket(901, "open", 501, Some(9001), 1),
            ticket(902, "open", 501, Some(9001), 1),
        ],
        vec![user(501, "Ana Souza", "ana@acme.example", Some(9001))],
        vec![organization(9001, "Acme")],
    )
    .await;
    no_ratings(&server).await;
    let mut zendesk = connector(&server);
    let first = sync(&mut zendesk, Cursor::default()).await.unwrap();
    assert_eq!(
        external_ids(&first.touchpoints),
        ["ticket:901:comment:9501", "ticket:902:comment:9502"]
    );
    let watermark = EventsCursor {
        start_time: Some(second),
        ids_at_start: vec![8501, 8502],
    };
    assert_eq!(first.cursor.ticket_events, watermark);

    let again = sync(&mut zendesk, first.cursor).await.unwrap();
    assert!(again.touchpoints.is_empty(), "{:?}", again.touchpoints);
    assert_eq!(again.cursor.ticket_events, watermark);
    let asked = queries(&server, TICKET_EVENTS).await;
    assert_eq!(asked.len(), 2);
    assert_eq!(
        queries(&server, SHOW_MANY).await.len(),
        1,
        "only the first sync, which read the events, asked for their tickets"
    );
    assert_eq!(asked[1][0], ("start_time".to_owned(), second.to_string()));
}

#[tokio::test]
async fn a_page_that_does_not_move_forward_is_malformed() {
    let server = MockServer::start().await;
    mount_ticket_events(
        &server,
        Some(1_772_000_000),
        events_page(vec![], Some(1_772_000_000), false),
    )
    .await;
    let cursor = Cursor {
        phase: Phase::TicketEvents,
        ticket_events: EventsCursor {
            start_time: Some(1_772_000_000),
            ids_at_start: vec![],
        },
        ..Cursor::default()
    };
    let err = connector(&server).pull(cursor).await.unwrap_err();
    assert!(
        matches!(&err, PullError::Malformed { endpoint, .. } if endpoint == TICKET_EVENTS),
        "{err:?}"
    );
}

#[test]
fn a_cursor_saved_before_the_ticket_events_still_reads() {
    let saved = json!({
        "phase": "ratings",
        "export_after": "c2",
        "ratings": { "since": 1_700_000_000, "page_after": null, "newest": null, "oldest_unanswered": null }
    });
    let cursor: Cursor = serde_json::from_value(saved).unwrap();
    assert_eq!(
        cursor,
        Cursor {
            phase: Phase::Ratings,
            export_after: Some("c2".into()),
            tickets_caught_up: false,
            ticket_events: EventsCursor::default(),
            ratings: RatingsCursor {
                since: Some(1_700_000_000),
                ..RatingsCursor::default()
            },
        }
    );
}
