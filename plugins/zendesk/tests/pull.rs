//! Pulling tickets and satisfaction ratings page by page, as the runtime does.

mod common;

use chrono::{Duration, SecondsFormat, Utc};
use journeys_plugin_sdk::{AccountHint, Channel, Connector, PersonHint, PullError, Touchpoint};
use journeys_plugin_zendesk::{Config, Cursor, EventsCursor, Mark, Phase, RatingsCursor, Zendesk};
use serde_json::{Map, Value, json};
use wiremock::MockServer;

use common::*;

fn props(value: Value) -> Map<String, Value> {
    value.as_object().expect("an object").clone()
}

fn pair(name: &str, value: &str) -> (String, String) {
    (name.to_owned(), value.to_owned())
}

/// Three export pages (the last empty, ending the stream) and two ratings pages.
async fn mount_account(server: &MockServer) {
    mount_export(
        server,
        None,
        export_page(
            vec![
                ticket(101, "open", 501, Some(9001), 2),
                // No organisation on the ticket: the requester's is used.
                ticket(102, "solved", 502, None, 3),
            ],
            vec![
                user(501, "Ana Souza", "ana@acme.example", Some(9001)),
                user(502, "Ben Ode", "ben@globex.example", Some(9002)),
            ],
            vec![organization(9001, "Acme"), organization(9002, "Globex")],
            Some("c1"),
            false,
        ),
    )
    .await;
    mount_export(
        server,
        Some("c1"),
        export_page(
            vec![
                // The requester is not sideloaded: known by id only.
                ticket(103, "closed", 503, None, 4),
                ticket(104, "deleted", 501, Some(9001), 4),
            ],
            vec![],
            vec![],
            Some("c2"),
            false,
        ),
    )
    .await;
    mount_export(
        server,
        Some("c2"),
        export_page(vec![], vec![], vec![], Some("c2"), true),
    )
    .await;
    no_ticket_events(server).await;
    mount_ratings(
        server,
        None,
        ratings_page(
            vec![
                rating(7001, "good", 102, 502, "2026-03-05T10:00:00Z"),
                rating(7002, "offered", 103, 503, "2026-03-05T11:00:00Z"),
            ],
            Some("r1"),
        ),
    )
    .await;
    mount_ratings(
        server,
        Some("r1"),
        ratings_page(
            vec![rating(7003, "bad", 101, 501, "2026-03-06T08:00:00Z")],
            None,
        ),
    )
    .await;
}

fn ticket_properties(id: u64, status: &str) -> Map<String, Value> {
    props(json!({
        "ticket_id": id,
        "status": status,
        "priority": "high",
        "type": "incident",
        "via_channel": "web",
        "tags": ["enterprise", "other_tag"],
    }))
}

#[tokio::test]
async fn a_sync_reads_every_export_page_then_the_ratings() {
    let server = MockServer::start().await;
    mount_account(&server).await;
    let mut zendesk = connector(&server);
    let run = sync(&mut zendesk, Cursor::default()).await.unwrap();

    assert_eq!(
        external_ids(&run.touchpoints),
        [
            "ticket:101:opened",
            "ticket:102:opened",
            "ticket:102:solved",
            "ticket:103:opened",
            "ticket:103:solved",
            "satisfaction:7001",
            "satisfaction:7003",
        ]
    );
    assert_eq!(
        run.batches, 6,
        "three export pages, one ticket events page, two ratings pages"
    );

    let base = server.uri();
    let ana = PersonHint {
        email: Some("ana@acme.example".into()),
        zendesk_user_id: Some("501".into()),
        name: Some("Ana Souza".into()),
        ..PersonHint::default()
    };
    let opened_101 = Touchpoint {
        external_id: "ticket:101:opened".into(),
        kind: "ticket.opened".into(),
        channel: Channel::Support,
        occurred_at: at("2026-03-02T09:00:00Z"),
        title: Some("Subject 101".into()),
        body: Some("Description of 101".into()),
        url: Some(format!("{base}/agent/tickets/101")),
        score: None,
        properties: ticket_properties(101, "open"),
        person: ana,
        account: Some(AccountHint {
            external_id: Some("9001".into()),
            name: Some("Acme".into()),
        }),
        owner_team: None,
        actor: None,
    };
    assert_eq!(run.touchpoints[0], opened_101);

    let ben = PersonHint {
        email: Some("ben@globex.example".into()),
        zendesk_user_id: Some("502".into()),
        name: Some("Ben Ode".into()),
        ..PersonHint::default()
    };
    let globex = Some(AccountHint {
        external_id: Some("9002".into()),
        name: Some("Globex".into()),
    });
    let opened_102 = Touchpoint {
        external_id: "ticket:102:opened".into(),
        kind: "ticket.opened".into(),
        channel: Channel::Support,
        occurred_at: at("2026-03-03T09:00:00Z"),
        title: Some("Subject 102".into()),
        body: Some("Description of 102".into()),
        url: Some(format!("{base}/agent/tickets/102")),
        score: None,
        properties: ticket_properties(102, "solved"),
        person: ben.clone(),
        account: globex.clone(),
        owner_team: None,
        actor: None,
    };
    assert_eq!(run.touchpoints[1], opened_102);
    assert_eq!(
        run.touchpoints[2],
        Touchpoint {
            external_id: "ticket:102:solved".into(),
            kind: "ticket.solved".into(),
            occurred_at: at("2026-03-04T12:30:00Z"),
            ..opened_102.clone()
        }
    );

    let unknown_requester = PersonHint {
        zendesk_user_id: Some("503".into()),
        ..PersonHint::default()
    };
    assert_eq!(run.touchpoints[3].person, unknown_requester);
    assert_eq!(run.touchpoints[3].account, None);
    assert_eq!(run.touchpoints[4].kind, "ticket.solved");
    assert_eq!(run.touchpoints[4].occurred_at, at("2026-03-05T12:30:00Z"));
    assert_eq!(run.touchpoints[4].properties["status"], "closed");

    assert_eq!(
        run.touchpoints[5],
        Touchpoint {
            external_id: "satisfaction:7001".into(),
            kind: "satisfaction.rated".into(),
            channel: Channel::Support,
            occurred_at: at("2026-03-05T10:00:00Z"),
            title: Some("Rated good".into()),
            body: Some("Awesome support!".into()),
            url: None,
            score: Some(1),
            properties: props(json!({
                "rating": "good", "comment": "Awesome support!", "ticket_id": 102
            })),
            person: PersonHint {
                zendesk_user_id: Some("502".into()),
                ..PersonHint::default()
            },
            account: None,
            owner_team: None,
            actor: None,
        }
    );
    assert_eq!(run.touchpoints[6].title.as_deref(), Some("Rated bad"));
    assert_eq!(run.touchpoints[6].score, Some(0), "bad is 0, good is 1");
    assert_eq!(run.touchpoints[6].body, None, "an empty comment is no body");
    assert_eq!(
        run.touchpoints[6].properties,
        props(json!({"rating": "bad", "comment": "", "ticket_id": 101}))
    );

    // The next poll continues the export and asks for ratings since the newest.
    assert_eq!(
        run.cursor,
        Cursor {
            phase: Phase::Tickets,
            export_after: Some("c2".into()),
            tickets_caught_up: true,
            ticket_events: EventsCursor {
                start_time: Some(0),
                ids_at_start: vec![],
            },
            ratings: RatingsCursor {
                since: Some(at("2026-03-06T08:00:00Z").timestamp()),
                seen: Some(Mark {
                    time: at("2026-03-06T08:00:00Z").timestamp(),
                    id: 7003,
                }),
                ..RatingsCursor::default()
            },
        }
    );

    let include = pair("include", "users,organizations");
    assert_eq!(
        queries(&server, EXPORT).await,
        [
            vec![pair("start_time", "0"), include.clone()],
            vec![pair("cursor", "c1"), include.clone()],
            vec![pair("cursor", "c2"), include],
        ]
    );
    assert_eq!(
        queries(&server, RATINGS).await,
        [
            vec![pair("page[size]", "100")],
            vec![pair("page[size]", "100"), pair("page[after]", "r1")],
        ]
    );
    for request in server.received_requests().await.unwrap() {
        assert_eq!(
            request.headers.get("authorization").unwrap(),
            AUTHORIZATION,
            "{}",
            request.url
        );
    }
}

#[tokio::test]
async fn an_empty_export_and_no_ratings_make_no_touchpoints() {
    let server = MockServer::start().await;
    mount_export(
        &server,
        None,
        export_page(vec![], vec![], vec![], Some("e1"), true),
    )
    .await;
    no_ratings(&server).await;
    no_ticket_events(&server).await;
    let run = sync(&mut connector(&server), Cursor::default())
        .await
        .unwrap();
    assert!(run.touchpoints.is_empty());
    assert_eq!(run.batches, 3);
    assert_eq!(
        run.cursor,
        Cursor {
            phase: Phase::Tickets,
            export_after: Some("e1".into()),
            tickets_caught_up: true,
            ticket_events: EventsCursor {
                start_time: Some(0),
                ids_at_start: vec![],
            },
            ratings: RatingsCursor::default(),
        }
    );
}

#[tokio::test]
async fn an_item_on_two_pages_keeps_one_external_id() {
    let server = MockServer::start().await;
    let ana = user(501, "Ana Souza", "ana@acme.example", Some(9001));
    mount_export(
        &server,
        None,
        export_page(
            vec![ticket(201, "open", 501, Some(9001), 2)],
            vec![ana.clone()],
            vec![organization(9001, "Acme")],
            Some("c1"),
            false,
        ),
    )
    .await;
    // The ticket changed again while the export was read: it comes twice.
    mount_export(
        &server,
        Some("c1"),
        export_page(
            vec![
                ticket(201, "open", 501, Some(9001), 2),
                ticket(202, "new", 501, Some(9001), 3),
            ],
            vec![ana],
            vec![organization(9001, "Acme")],
            Some("c2"),
            true,
        ),
    )
    .await;
    no_ticket_events(&server).await;
    let repeated = rating(7101, "good", 201, 501, "2026-03-05T10:00:00Z");
    mount_ratings(
        &server,
        None,
        ratings_page(vec![repeated.clone()], Some("r1")),
    )
    .await;
    mount_ratings(&server, Some("r1"), ratings_page(vec![repeated], None)).await;

    let run = sync(&mut connector(&server), Cursor::default())
        .await
        .unwrap();
    assert_eq!(
        external_ids(&run.touchpoints),
        [
            "ticket:201:opened",
            "ticket:201:opened",
            "ticket:202:opened",
            "satisfaction:7101",
            "satisfaction:7101",
        ]
    );
    // Identical, so the runtime's upsert on (kind, external id) keeps one.
    assert_eq!(run.touchpoints[0], run.touchpoints[1]);
    assert_eq!(run.touchpoints[3], run.touchpoints[4]);
}

/// Four export pages of one ticket each, two ticket events pages (the second
/// repeating the first's last event, as `start_time` is inclusive), then two
/// ratings pages.
async fn mount_four_pages(server: &MockServer) {
    let first_end = at("2026-03-10T11:00:00Z").timestamp();
    mount_ticket_events(
        server,
        Some(0),
        events_page(
            vec![
                ticket_event(
                    8101,
                    301,
                    501,
                    "2026-03-10T10:00:00Z",
                    vec![comment_event(
                        9101,
                        501,
                        true,
                        "Thanks!",
                        "2026-03-10T10:00:00Z",
                    )],
                ),
                ticket_event(
                    8102,
                    302,
                    601,
                    "2026-03-10T11:00:00Z",
                    vec![status_change(9102, "open", "pending")],
                ),
            ],
            Some(first_end),
            false,
        ),
    )
    .await;
    mount_ticket_events(
        server,
        Some(first_end),
        events_page(
            vec![
                ticket_event(
                    8102,
                    302,
                    601,
                    "2026-03-10T11:00:00Z",
                    vec![status_change(9102, "open", "pending")],
                ),
                ticket_event(
                    8103,
                    303,
                    601,
                    "2026-03-10T12:00:00Z",
                    vec![comment_event(
                        9103,
                        601,
                        false,
                        "Escalating",
                        "2026-03-10T12:00:00Z",
                    )],
                ),
                ticket_event(
                    8104,
                    304,
                    601,
                    "2026-03-10T12:00:00Z",
                    vec![status_change(9104, "open", "solved")],
                ),
            ],
            Some(at("2026-03-10T12:00:00Z").timestamp()),
            true,
        ),
    )
    .await;
    let ana = user(501, "Ana Souza", "ana@acme.example", Some(9001));
    let cursors = [None, Some("c1"), Some("c2"), Some("c3")];
    for (n, cursor) in (1u64..).zip(cursors) {
        let after = format!("c{n}");
        mount_export(
            server,
            cursor,
            export_page(
                vec![ticket(300 + n, "solved", 501, Some(9001), n as u32)],
                vec![ana.clone()],
                vec![organization(9001, "Acme")],
                Some(&after),
                n == 4,
            ),
        )
        .await;
    }
    // A run resumed in the ticket events phase fetches the tickets it has
    // not exported.
    let tickets = (1u64..=4)
        .map(|n| ticket(300 + n, "solved", 501, Some(9001), n as u32))
        .collect();
    mount_show_many(
        server,
        tickets,
        vec![user(501, "Ana Souza", "ana@acme.example", Some(9001))],
        vec![organization(9001, "Acme")],
    )
    .await;
    mount_ratings(
        server,
        None,
        ratings_page(
            vec![rating(7201, "good", 301, 501, "2026-03-05T10:00:00Z")],
            Some("r1"),
        ),
    )
    .await;
    mount_ratings(
        server,
        Some("r1"),
        ratings_page(
            vec![rating(7202, "bad", 302, 501, "2026-03-06T10:00:00Z")],
            None,
        ),
    )
    .await;
}

/// The touchpoints with their urls relative to the server they came from.
fn without_base(touchpoints: &[Touchpoint], base: &str) -> Vec<Touchpoint> {
    touchpoints
        .iter()
        .map(|t| Touchpoint {
            url: t.url.as_ref().map(|u| u.replacen(base, "", 1)),
            ..t.clone()
        })
        .collect()
}

#[tokio::test]
async fn a_killed_sync_resumes_from_its_saved_cursor_with_nothing_lost_or_doubled() {
    let whole_server = MockServer::start().await;
    mount_four_pages(&whole_server).await;
    let whole = sync(&mut connector(&whole_server), Cursor::default())
        .await
        .unwrap();
    assert_eq!(whole.batches, 8);
    let whole_ids = external_ids(&whole.touchpoints);
    let pending_at = at("2026-03-10T11:00:00Z").timestamp();
    assert_eq!(
        whole_ids,
        [
            "ticket:301:opened",
            "ticket:301:solved",
            "ticket:302:opened",
            "ticket:302:solved",
            "ticket:303:opened",
            "ticket:303:solved",
            "ticket:304:opened",
            "ticket:304:solved",
            "ticket:301:comment:9101",
            &format!("ticket:302:status:pending:{pending_at}"),
            "ticket:303:comment:9103",
            "ticket:304:solved",
            "satisfaction:7201",
            "satisfaction:7202",
        ]
    );

    // Killed after each batch in turn (in the export, the ticket events and
    // the ratings pass).
    for killed_after in 1..whole.batches {
        let server = MockServer::start().await;
        mount_four_pages(&server).await;
        let mut first = connector(&server);
        let before = sync_at_most(&mut first, Cursor::default(), killed_after)
            .await
            .unwrap();
        assert_eq!(before.batches, killed_after);
        drop(first);
        let saved = before.cursor.clone();

        let mut second = connector(&server);
        let after = sync(&mut second, saved).await.unwrap();
        assert_eq!(before.batches + after.batches, whole.batches);
        let mut union = before.touchpoints.clone();
        union.extend(after.touchpoints.clone());
        assert_eq!(
            external_ids(&union),
            whole_ids,
            "killed after batch {killed_after}"
        );
        // The same facts too: a run resumed in the ticket events phase
        // fetches the tickets it has not exported.
        assert_eq!(
            without_base(&union, &server.uri()),
            without_base(&whole.touchpoints, &whole_server.uri()),
            "killed after batch {killed_after}"
        );
        assert_eq!(
            after.cursor, whole.cursor,
            "killed after batch {killed_after}"
        );

        // No page was asked for twice.
        let mut asked: Vec<_> = queries(&server, EXPORT).await;
        asked.extend(queries(&server, TICKET_EVENTS).await);
        asked.extend(queries(&server, RATINGS).await);
        let total = asked.len();
        asked.sort();
        asked.dedup();
        assert_eq!(asked.len(), total, "killed after batch {killed_after}");
        assert_eq!(total, whole.batches);
    }
}

#[tokio::test]
async fn a_later_poll_fetches_only_what_changed() {
    let server = MockServer::start().await;
    let ana = user(501, "Ana Souza", "ana@acme.example", Some(9001));
    mount_export(
        &server,
        None,
        export_page(
            vec![ticket(401, "open", 501, Some(9001), 2)],
            vec![ana.clone()],
            vec![organization(9001, "Acme")],
            Some("c1"),
            true,
        ),
    )
    .await;
    let replied = ticket_event(
        8401,
        401,
        501,
        "2026-03-09T10:00:00Z",
        vec![comment_event(
            9401,
            501,
            true,
            "Any news?",
            "2026-03-09T10:00:00Z",
        )],
    );
    let replied_at = at("2026-03-09T10:00:00Z").timestamp();
    mount_ticket_events(
        &server,
        Some(0),
        events_page(vec![replied.clone()], Some(replied_at), true),
    )
    .await;
    mount_ratings(
        &server,
        None,
        ratings_page(
            vec![rating(8001, "good", 400, 501, "2026-03-10T10:00:00Z")],
            None,
        ),
    )
    .await;
    let mut zendesk = connector(&server);
    let first = sync(&mut zendesk, Cursor::default()).await.unwrap();
    assert_eq!(
        external_ids(&first.touchpoints),
        [
            "ticket:401:opened",
            "ticket:401:comment:9401",
            "satisfaction:8001"
        ]
    );
    let watermark = at("2026-03-10T10:00:00Z").timestamp();
    assert_eq!(first.cursor.export_after.as_deref(), Some("c1"));
    assert_eq!(first.cursor.ratings.since, Some(watermark));

    // Later: ticket 401 was solved, 402 opened, one more rating given. Only
    // requests continuing from the saved cursors are answered.
    server.reset().await;
    mount_export(
        &server,
        Some("c1"),
        export_page(
            vec![
                ticket(401, "solved", 501, Some(9001), 2),
                ticket(402, "new", 501, Some(9001), 5),
            ],
            vec![ana],
            vec![organization(9001, "Acme")],
            Some("c2"),
            true,
        ),
    )
    .await;
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path(RATINGS))
        .and(wiremock::matchers::query_param(
            "start_time",
            watermark.to_string(),
        ))
        .respond_with(
            wiremock::ResponseTemplate::new(200).set_body_json(ratings_page(
                vec![
                    // `start_time` is inclusive: the newest rating comes again.
                    rating(8001, "good", 400, 501, "2026-03-10T10:00:00Z"),
                    rating(8002, "bad", 401, 501, "2026-03-11T10:00:00Z"),
                ],
                None,
            )),
        )
        .mount(&server)
        .await;
    let solved_at = at("2026-03-11T09:00:00Z");
    mount_ticket_events(
        &server,
        Some(replied_at),
        events_page(
            vec![
                // `start_time` is inclusive: the last event comes again.
                replied,
                ticket_event(
                    8402,
                    401,
                    601,
                    "2026-03-11T09:00:00Z",
                    vec![status_change(9402, "open", "solved")],
                ),
            ],
            Some(solved_at.timestamp()),
            true,
        ),
    )
    .await;
    let second = sync(&mut zendesk, first.cursor).await.unwrap();
    assert_eq!(
        external_ids(&second.touchpoints),
        [
            "ticket:401:opened",
            "ticket:402:opened",
            "ticket:401:solved",
            "satisfaction:8002",
        ],
        "once caught up, only the ticket events date a solve; seen rows are dropped"
    );
    assert_eq!(second.touchpoints[2].occurred_at, solved_at);
    assert_eq!(second.touchpoints[2].title.as_deref(), Some("Subject 401"));
    assert_eq!(
        second.cursor.ticket_events,
        EventsCursor {
            start_time: Some(solved_at.timestamp()),
            ids_at_start: vec![8402],
        }
    );
    assert_eq!(
        queries(&server, EXPORT).await,
        [vec![
            pair("cursor", "c1"),
            pair("include", "users,organizations")
        ]]
    );
    assert_eq!(
        second.cursor.ratings.since,
        Some(at("2026-03-11T10:00:00Z").timestamp())
    );
    assert_eq!(second.cursor.export_after.as_deref(), Some("c2"));
}

#[tokio::test]
async fn a_survey_awaiting_its_answer_is_read_again_until_answered() {
    let server = MockServer::start().await;
    mount_export(
        &server,
        None,
        export_page(vec![], vec![], vec![], Some("c1"), true),
    )
    .await;
    let secs = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    let offered_at = Utc::now() - Duration::days(1);
    let rated_at = Utc::now() - Duration::hours(2);
    mount_ratings(
        &server,
        None,
        ratings_page(
            vec![
                rating(9001, "offered", 500, 501, &secs(offered_at)),
                rating(9002, "good", 501, 502, &secs(rated_at)),
            ],
            None,
        ),
    )
    .await;
    no_ticket_events(&server).await;
    let mut zendesk = connector(&server);
    let first = sync(&mut zendesk, Cursor::default()).await.unwrap();
    assert_eq!(external_ids(&first.touchpoints), ["satisfaction:9002"]);
    assert_eq!(
        first.cursor.ratings.since,
        Some(offered_at.timestamp()),
        "the unanswered survey holds the watermark back"
    );

    // The customer answers: the same record, scored, updated now.
    server.reset().await;
    mount_export(
        &server,
        Some("c1"),
        export_page(vec![], vec![], vec![], Some("c1"), true),
    )
    .await;
    let mut answered = rating(9001, "bad", 500, 501, &secs(offered_at));
    let answered_at = Utc::now() - Duration::minutes(5);
    answered["updated_at"] = json!(secs(answered_at));
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path(RATINGS))
        .and(wiremock::matchers::query_param(
            "start_time",
            offered_at.timestamp().to_string(),
        ))
        .respond_with(
            wiremock::ResponseTemplate::new(200).set_body_json(ratings_page(
                vec![answered, rating(9002, "good", 501, 502, &secs(rated_at))],
                None,
            )),
        )
        .mount(&server)
        .await;
    no_ticket_events(&server).await;
    let second = sync(&mut zendesk, first.cursor).await.unwrap();
    assert_eq!(
        external_ids(&second.touchpoints),
        ["satisfaction:9001"],
        "9002 is unchanged since the last pass"
    );
    assert_eq!(
        second.touchpoints[0].occurred_at.timestamp(),
        answered_at.timestamp(),
        "a rating counts from when it was given"
    );
    assert_eq!(
        second.touchpoints[0].score,
        Some(0),
        "the answered survey is scored as it was rated"
    );
    assert_eq!(second.cursor.ratings.since, Some(rated_at.timestamp()));
}

#[tokio::test]
async fn the_first_export_starts_at_the_configured_time_but_never_in_the_last_minute() {
    let server = MockServer::start().await;
    mount_export(
        &server,
        None,
        export_page(vec![], vec![], vec![], Some("c1"), true),
    )
    .await;
    no_ratings(&server).await;
    no_ticket_events(&server).await;
    let settings = Config {
        start_time: Some(1_700_000_000),
        ..config(&server)
    };
    let mut zendesk = Zendesk::new(settings, secrets(), quick_http()).unwrap();
    sync(&mut zendesk, Cursor::default()).await.unwrap();
    assert_eq!(
        queries(&server, EXPORT).await[0][0],
        pair("start_time", "1700000000")
    );
    assert_eq!(
        queries(&server, TICKET_EVENTS).await[0],
        [
            pair("start_time", "1700000000"),
            pair("include", "comment_events")
        ]
    );
    assert_eq!(
        queries(&server, RATINGS).await[0],
        [pair("page[size]", "100"), pair("start_time", "1700000000")]
    );

    server.reset().await;
    mount_export(
        &server,
        None,
        export_page(vec![], vec![], vec![], Some("c1"), true),
    )
    .await;
    no_ratings(&server).await;
    no_ticket_events(&server).await;
    let future = Utc::now().timestamp() + 3600;
    let settings = Config {
        start_time: Some(future),
        ..config(&server)
    };
    let mut zendesk = Zendesk::new(settings, secrets(), quick_http()).unwrap();
    sync(&mut zendesk, Cursor::default()).await.unwrap();
    let (name, sent) = &queries(&server, EXPORT).await[0][0];
    assert_eq!(name, "start_time");
    let sent: i64 = sent.parse().unwrap();
    assert!(sent <= Utc::now().timestamp() - 60, "{sent}");
    assert!(sent >= Utc::now().timestamp() - 70, "{sent}");
    let (name, events_sent) = &queries(&server, TICKET_EVENTS).await[0][0];
    assert_eq!(name, "start_time");
    let events_sent: i64 = events_sent.parse().unwrap();
    assert!(events_sent <= Utc::now().timestamp() - 60, "{events_sent}");
}

#[tokio::test]
async fn an_export_page_without_a_way_forward_is_malformed() {
    let server = MockServer::start().await;
    mount_export(
        &server,
        None,
        export_page(
            vec![ticket(1, "open", 501, None, 2)],
            vec![],
            vec![],
            None,
            false,
        ),
    )
    .await;
    let err = connector(&server)
        .pull(Cursor::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PullError::Malformed { endpoint, .. } if endpoint == EXPORT),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_unchanged_resync_records_no_rating_again() {
    let server = MockServer::start().await;
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
    no_ticket_events(&server).await;
    let newest = "2026-03-12T10:00:00Z";
    let watermark = at(newest).timestamp();
    let all = vec![
        rating(8101, "good", 1, 501, "2026-03-10T10:00:00Z"),
        rating(8102, "bad", 2, 502, "2026-03-11T10:00:00Z"),
        // Two given in the same second: both are at the watermark.
        rating(8103, "good", 3, 503, newest),
        rating(8104, "good", 4, 504, newest),
    ];
    mount_ratings(&server, None, ratings_page(all.clone(), None)).await;
    let mut zendesk = connector(&server);
    let first = sync(&mut zendesk, Cursor::default()).await.unwrap();
    assert_eq!(
        external_ids(&first.touchpoints),
        [
            "satisfaction:8101",
            "satisfaction:8102",
            "satisfaction:8103",
            "satisfaction:8104"
        ]
    );
    assert_eq!(
        first.cursor.ratings.seen,
        Some(Mark {
            time: watermark,
            id: 8104
        })
    );

    // Nothing new: `start_time` is inclusive, so the rows at the watermark
    // (and, from a Zendesk that ignores it, all of them) come again.
    server.reset().await;
    mount_export(
        &server,
        Some("c1"),
        export_page(vec![], vec![], vec![], Some("c1"), true),
    )
    .await;
    no_ticket_events(&server).await;
    mount_ratings(&server, None, ratings_page(all, None)).await;
    let second = sync(&mut zendesk, first.cursor.clone()).await.unwrap();
    assert!(
        second.touchpoints.is_empty(),
        "{:?}",
        external_ids(&second.touchpoints)
    );
    assert_eq!(
        queries(&server, RATINGS).await,
        [vec![
            pair("page[size]", "100"),
            pair("start_time", &watermark.to_string())
        ]],
        "one ratings page, from the watermark"
    );
    assert_eq!(second.cursor.ratings, first.cursor.ratings);
}
