//! Following the log live: a replay of what a follower missed, then each new
//! event once, on this instance and on another one on the same database.

use std::time::Duration;

use entity::event;
use entity::vocab::EventType;
use futures_util::{Stream, StreamExt};
use journeys_core::events::{self, EventFilter, NewEvent};
use journeys_core::live::{self, EventFeed, FeedSettings, Start};
use journeys_core::{CoreError, db};
use sea_orm::DbBackend;
use uuid::Uuid;

use crate::Engine;

async fn connector_events(e: &Engine, n: usize) {
    let logged = (0..n)
        .map(|_| NewEvent::connector(EventType::ConnectorUpdated, Uuid::now_v7()))
        .collect();
    events::append(e.db(), e.ws, logged).await.unwrap();
}

/// The next page, failing the test after a second.
async fn next_page<S>(stream: &mut S) -> Vec<event::Model>
where
    S: Stream<Item = Result<Vec<event::Model>, CoreError>> + Unpin,
{
    tokio::time::timeout(Duration::from_secs(1), stream.next())
        .await
        .expect("an event within a second")
        .expect("the stream goes on")
        .expect("no error")
}

fn sequences(page: &[event::Model]) -> Vec<i64> {
    page.iter().map(|e| e.sequence).collect()
}

fn feed(e: &Engine) -> std::sync::Arc<EventFeed> {
    EventFeed::start(
        e.db().clone(),
        FeedSettings::for_backend(e.db().get_database_backend()),
    )
}

#[tokio::test]
async fn a_follower_replays_what_it_missed_then_each_new_event_once() {
    let e = Engine::new().await;
    connector_events(&e, 3).await;
    let follow = live::follow(
        e.db().clone(),
        feed(&e),
        e.ws,
        Start::After(1),
        EventFilter::default(),
    );
    let mut stream = Box::pin(follow.await.unwrap());
    assert_eq!(sequences(&next_page(&mut stream).await), [2, 3]);
    connector_events(&e, 2).await;
    assert_eq!(sequences(&next_page(&mut stream).await), [4, 5]);
    connector_events(&e, 1).await;
    assert_eq!(sequences(&next_page(&mut stream).await), [6]);
}

#[tokio::test]
async fn a_follower_from_now_sees_only_what_comes_after() {
    let e = Engine::new().await;
    connector_events(&e, 4).await;
    let follow = live::follow(
        e.db().clone(),
        feed(&e),
        e.ws,
        Start::Now,
        EventFilter::default(),
    );
    let mut stream = Box::pin(follow.await.unwrap());
    connector_events(&e, 1).await;
    assert_eq!(sequences(&next_page(&mut stream).await), [5]);
}

#[tokio::test]
async fn a_filter_keeps_one_accounts_stage_changes() {
    let e = Engine::new().await;
    let (initech, globex) = (Uuid::now_v7(), Uuid::now_v7());
    let (model, stage) = (Uuid::now_v7(), Uuid::now_v7());
    let filter = EventFilter {
        types: vec![EventType::StageChanged],
        account: Some(initech),
        ..EventFilter::default()
    };
    let follow = live::follow(e.db().clone(), feed(&e), e.ws, Start::Now, filter);
    let mut stream = Box::pin(follow.await.unwrap());
    let logged = vec![
        NewEvent::stage(model, globex, None, stage),
        NewEvent::connector(EventType::ConnectorCreated, Uuid::now_v7()),
        NewEvent::stage(model, initech, None, stage),
    ];
    events::append(e.db(), e.ws, logged).await.unwrap();
    let page = next_page(&mut stream).await;
    assert_eq!(sequences(&page), [3]);
    assert_eq!(page[0].account_id, Some(initech));
}

#[tokio::test]
async fn a_start_before_what_retention_kept_is_refused() {
    let e = Engine::new().await;
    connector_events(&e, 3).await;
    let future = chrono::Utc::now() + chrono::Duration::days(1);
    events::prune(e.db(), future).await.unwrap();
    let refused = live::follow(
        e.db().clone(),
        feed(&e),
        e.ws,
        Start::After(0),
        EventFilter::default(),
    )
    .await
    .err()
    .expect("events 1 and 2 are gone");
    assert!(
        matches!(
            refused,
            CoreError::InvalidInput {
                field: Some("after"),
                ..
            }
        ),
        "{refused:?}"
    );
    // From the one kept on, nothing is missing.
    let kept = live::follow(
        e.db().clone(),
        feed(&e),
        e.ws,
        Start::After(2),
        EventFilter::default(),
    );
    let mut stream = Box::pin(kept.await.unwrap());
    assert_eq!(sequences(&next_page(&mut stream).await), [3]);
}

/// Two instances on one database: events written through one reach a
/// follower on the other within a second. On PostgreSQL by notification
/// alone: the other instance's poll is set far beyond the test.
#[tokio::test]
async fn another_instance_hears_of_new_events_within_a_second() {
    let e = Engine::new().await;
    let other = db::connect(&e.test.url, &Default::default()).await.unwrap();
    let poll = match other.get_database_backend() {
        DbBackend::Postgres => Duration::from_secs(600),
        _ => FeedSettings::for_backend(DbBackend::Sqlite).poll,
    };
    let feed = EventFeed::start(other.clone(), FeedSettings { poll });
    let follow = live::follow(other, feed, e.ws, Start::Now, EventFilter::default());
    let mut stream = Box::pin(follow.await.unwrap());
    // The listener connects in the background; give it a moment first.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for expected in 1..=3 {
        connector_events(&e, 1).await;
        assert_eq!(sequences(&next_page(&mut stream).await), [expected]);
    }
}
