//! Following the event log as it grows. [`EventFeed`] tells an instance's
//! followers when a workspace's log has new events; [`follow`] turns that
//! into a stream that first replays what a follower missed, then goes live.
//!
//! Numbers commit in order (see [`crate::events`]), so a follower that has
//! read up to `n` and learns that the log reached `m` finds exactly the
//! events in `(n, m]`, each once: a reconnecting dashboard that resumes
//! from its last cursor misses nothing and sees nothing twice.
//!
//! On PostgreSQL every append notifies [`events::NOTIFY_CHANNEL`] with the workspace and
//! its new latest number, in the appending transaction (so at its commit,
//! to every instance listening). A poll of the followed workspaces' latest
//! numbers catches what a dropped listener connection missed; on SQLite,
//! one machine's database, the poll is the whole mechanism. Nothing is
//! polled while nobody follows.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use entity::event;
use futures_util::Stream;
use sea_orm::{DatabaseConnection, DbBackend};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::events::{self, EventFilter};
use crate::{CoreError, CoreResult};

/// Events a follower reads per statement.
const READ_CHUNK: u64 = 200;

/// How an instance learns of new events.
#[derive(Debug, Clone, Copy)]
pub struct FeedSettings {
    /// How often the followed workspaces' latest numbers are read: the
    /// whole mechanism on SQLite, a safety net beside `LISTEN` on
    /// PostgreSQL.
    pub poll: Duration,
}

impl FeedSettings {
    /// A tenth of a second on SQLite, where the poll is all there is; five
    /// seconds on PostgreSQL, where notifications arrive at once.
    pub fn for_backend(backend: DbBackend) -> Self {
        let poll = match backend {
            DbBackend::Postgres => Duration::from_secs(5),
            _ => Duration::from_millis(100),
        };
        Self { poll }
    }
}

/// One instance's view of how far each followed workspace's log reached.
pub struct EventFeed {
    db: DatabaseConnection,
    latest: Mutex<HashMap<Uuid, watch::Sender<i64>>>,
    stop: CancellationToken,
}

impl EventFeed {
    /// Starts listening (PostgreSQL) and polling in the background, until
    /// the feed is dropped.
    pub fn start(db: DatabaseConnection, settings: FeedSettings) -> Arc<Self> {
        let feed = Arc::new(Self {
            db: db.clone(),
            latest: Mutex::new(HashMap::new()),
            stop: CancellationToken::new(),
        });
        tokio::spawn(poll(
            Arc::downgrade(&feed),
            settings.poll,
            feed.stop.clone(),
        ));
        if db.get_database_backend() == DbBackend::Postgres {
            tokio::spawn(listen(Arc::downgrade(&feed), db, feed.stop.clone()));
        }
        feed
    }

    /// The latest number of `ws`'s log as this instance knows it, seeded
    /// with `known` and raised as events arrive.
    fn watch(&self, ws: Uuid, known: i64) -> watch::Receiver<i64> {
        let mut latest = self.latest.lock().expect("feed lock");
        let sender = latest.entry(ws).or_insert_with(|| watch::channel(known).0);
        raise(sender, known);
        sender.subscribe()
    }

    /// Records that `ws`'s log reached `sequence`, waking its followers.
    fn reached(&self, ws: Uuid, sequence: i64) {
        if let Some(sender) = self.latest.lock().expect("feed lock").get(&ws) {
            raise(sender, sequence);
        }
    }

    /// The workspaces someone follows, forgetting those nobody does.
    fn followed(&self) -> Vec<Uuid> {
        let mut latest = self.latest.lock().expect("feed lock");
        latest.retain(|_, sender| sender.receiver_count() > 0);
        latest.keys().copied().collect()
    }
}

impl Drop for EventFeed {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn raise(sender: &watch::Sender<i64>, sequence: i64) {
    sender.send_if_modified(|latest| {
        let newer = sequence > *latest;
        if newer {
            *latest = sequence;
        }
        newer
    });
}

async fn poll(feed: Weak<EventFeed>, every: Duration, stop: CancellationToken) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        let Some(feed) = feed.upgrade() else { return };
        let followed = feed.followed();
        if followed.is_empty() {
            continue;
        }
        match events::latest_of(&feed.db, &followed).await {
            Ok(latest) => {
                for (ws, sequence) in latest {
                    feed.reached(ws, sequence);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e.with_causes(), "reading the event log's latest numbers")
            }
        }
    }
}

/// Listens on [`events::NOTIFY_CHANNEL`], reconnecting after a lost connection (the poll
/// covers the gap).
async fn listen(feed: Weak<EventFeed>, db: DatabaseConnection, stop: CancellationToken) {
    use sea_orm::sqlx::postgres::PgListener;
    let pool = db.get_postgres_connection_pool().clone();
    drop(db);
    loop {
        let connected = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(events::NOTIFY_CHANNEL).await?;
            Ok::<_, sea_orm::sqlx::Error>(listener)
        };
        let mut listener = tokio::select! {
            () = stop.cancelled() => return,
            connected = connected => match connected {
                Ok(listener) => listener,
                Err(e) => {
                    tracing::warn!(error = %e, "listening for events; retrying in a second");
                    tokio::select! {
                        () = stop.cancelled() => return,
                        () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    }
                }
            },
        };
        loop {
            let received = tokio::select! {
                () = stop.cancelled() => return,
                received = listener.try_recv() => received,
            };
            let Some(feed) = feed.upgrade() else { return };
            match received {
                Ok(Some(notification)) => {
                    if let Some((ws, sequence)) = parse(notification.payload()) {
                        feed.reached(ws, sequence);
                    }
                }
                // The connection dropped: `try_recv` reconnects on the next call.
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "receiving events; reconnecting");
                    break;
                }
            }
        }
    }
}

/// `<workspace>:<latest>`, as [`crate::events::append`] notifies.
fn parse(payload: &str) -> Option<(Uuid, i64)> {
    let (ws, sequence) = payload.split_once(':')?;
    Some((ws.parse().ok()?, sequence.parse().ok()?))
}

/// Where a follower starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// With the next event recorded.
    Now,
    /// With the first event after this number: a replay of what was missed,
    /// then live.
    After(i64),
}

/// The workspace's events that pass `filter`, from `start` on, as they
/// commit: pages of at most [`READ_CHUNK`], never an empty one. Refuses a
/// start whose next events retention has pruned (`InvalidInput` on
/// `after`), since the replay would miss them. The stream ends after its
/// first error.
pub async fn follow(
    db: DatabaseConnection,
    feed: Arc<EventFeed>,
    ws: Uuid,
    start: Start,
    filter: EventFilter,
) -> CoreResult<impl Stream<Item = CoreResult<Vec<event::Model>>> + Send + 'static> {
    let (oldest, latest) = events::bounds(&db, ws).await?;
    let cursor = match start {
        Start::Now => latest,
        Start::After(after) if after + 1 < oldest => {
            return Err(CoreError::invalid_field(
                "after",
                format!(
                    "events after {after} were pruned (the log starts at {oldest}): read `events` from the start instead"
                ),
            ));
        }
        Start::After(after) => after,
    };
    let follower = Follower {
        seen: feed.watch(ws, latest),
        db,
        ws,
        filter,
        cursor,
        failed: false,
        _feed: feed,
    };
    Ok(futures_util::stream::unfold(
        follower,
        |mut follower| async move {
            if follower.failed {
                return None;
            }
            let next = follower.next_page().await;
            follower.failed = next.is_err();
            Some((next, follower))
        },
    ))
}

struct Follower {
    db: DatabaseConnection,
    ws: Uuid,
    filter: EventFilter,
    /// Every event up to this number has been read.
    cursor: i64,
    seen: watch::Receiver<i64>,
    failed: bool,
    /// Keeps the feed (and its listener) alive while someone follows.
    _feed: Arc<EventFeed>,
}

impl Follower {
    async fn next_page(&mut self) -> CoreResult<Vec<event::Model>> {
        loop {
            let latest = *self.seen.borrow_and_update();
            if latest > self.cursor {
                let page = events::between(
                    &self.db,
                    self.ws,
                    self.cursor,
                    latest,
                    &self.filter,
                    READ_CHUNK,
                )
                .await?;
                // A short page read every match up to `latest`.
                self.cursor = match page.last() {
                    Some(last) if page.len() as u64 == READ_CHUNK => last.sequence,
                    _ => latest,
                };
                if !page.is_empty() {
                    return Ok(page);
                }
                continue;
            }
            if self.seen.changed().await.is_err() {
                return Err(CoreError::Internal("the event feed stopped".into()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_name_a_workspace_and_a_number() {
        let ws = Uuid::nil();
        assert_eq!(parse(&format!("{ws}:42")), Some((ws, 42)));
        assert_eq!(parse("nonsense"), None);
        assert_eq!(parse(&format!("{ws}:x")), None);
    }

    #[tokio::test]
    async fn a_watch_only_rises() {
        let (sender, receiver) = watch::channel(5);
        raise(&sender, 3);
        assert_eq!(*receiver.borrow(), 5);
        raise(&sender, 9);
        assert_eq!(*receiver.borrow(), 9);
    }
}
