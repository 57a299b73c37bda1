//! `spawn_app()` and friends.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use journeys::rate_limit::RateLimit;
use journeys::server::{self, ServerConfig};
use journeys::ws::SubscriptionSettings;
use journeys_api::auth::{KeySources, Scope, Verifier, mint_hs256};
use journeys_api::graphql::ids::{self, NodeType};
use journeys_api::graphql::limits::QueryLimits;
use journeys_core::connectors::secrets::SecretBox;
use journeys_core::connectors::sync::{SyncRuntime, SyncSettings};
use journeys_core::db::StatementCounter;
use journeys_core::ingestion::RawTouchpoint;
use journeys_core::outbound::WebhookSettings;
use journeys_core::testing::{Scratch, Touch, fresh_database_url};
use journeys_plugin_sdk::RetryPolicy;
use sea_orm::{ActiveEnum, DatabaseConnection};
use serde_json::{Value, json};

pub const SECRET: &str = "test-secret-0123456789abcdef0123456789";

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
    pub statements: StatementCounter,
    handle: actix_web::dev::ServerHandle,
    pub sync: Arc<SyncRuntime>,
    pub database_url: String,
    _scratch: Option<Scratch>,
    closing: tokio_util::sync::CancellationToken,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // The stop command is sent at once; nobody needs to wait for it.
        drop(self.handle.stop(false));
    }
}

/// The key that seals connector secrets in tests (32 bytes of base64).
pub const SECRET_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// Sync settings that keep fault tests fast: millisecond backoffs and a short
/// lease. The scheduler looks only hourly, so that it adds no statements to
/// tests that count them; `spawn_app_with_sync` sets a shorter tick.
pub fn quick_sync() -> SyncSettings {
    SyncSettings {
        retry: RetryPolicy {
            max_attempts: 3,
            min_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
            max_rate_limit_wait: Duration::from_secs(5),
            default_rate_limit_wait: Duration::from_millis(50),
            timeout: Duration::from_secs(5),
        },
        lease: Duration::from_secs(30),
        tick: Duration::from_secs(3600),
    }
}

/// Webhook settings for tests: private targets allowed (the test receivers
/// are on loopback), a short lease, millisecond backoffs. The worker looks
/// only hourly, so that it adds no statements to tests that count them;
/// `quick_webhooks` looks every 100 ms.
pub fn test_webhooks() -> WebhookSettings {
    WebhookSettings {
        tick: Duration::from_secs(3600),
        lease: Duration::from_secs(5),
        allow_private: true,
        timeout: Duration::from_secs(2),
        max_retry_age: chrono::Duration::hours(24),
        base_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(200),
        batch: 50,
    }
}

/// [`test_webhooks`] with a worker that looks every 100 ms.
pub fn quick_webhooks() -> WebhookSettings {
    WebhookSettings {
        tick: Duration::from_millis(100),
        ..test_webhooks()
    }
}

/// A server delivering webhooks with these settings.
pub async fn spawn_app_with_webhooks(webhooks: WebhookSettings) -> TestApp {
    let keys = KeySources {
        hs256_secret: Some(SECRET.into()),
        ..Default::default()
    };
    let (database_url, scratch) = fresh_database_url().await;
    let settings = ServerSettings {
        webhooks,
        ..ServerSettings::default()
    };
    spawn_on(keys, quick_sync(), settings, database_url, Some(scratch)).await
}

/// Two instances on one database, both delivering webhooks with these
/// settings.
pub async fn spawn_pair_with_webhooks(webhooks: WebhookSettings) -> (TestApp, TestApp) {
    let keys = || KeySources {
        hs256_secret: Some(SECRET.into()),
        ..Default::default()
    };
    let settings = ServerSettings {
        webhooks,
        ..ServerSettings::default()
    };
    let (database_url, scratch) = fresh_database_url().await;
    let first = spawn_on(
        keys(),
        quick_sync(),
        settings.clone(),
        database_url.clone(),
        Some(scratch),
    )
    .await;
    let second = spawn_on(keys(), quick_sync(), settings, database_url, None).await;
    (first, second)
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(KeySources {
        hs256_secret: Some(SECRET.into()),
        ..Default::default()
    })
    .await
}

pub async fn spawn_app_with(keys: KeySources) -> TestApp {
    spawn(keys, quick_sync()).await
}

pub async fn spawn_app_with_sync(sync: SyncSettings) -> TestApp {
    let keys = KeySources {
        hs256_secret: Some(SECRET.into()),
        ..Default::default()
    };
    spawn(keys, sync).await
}

/// What a test server runs under: query and rate limits, WebSocket and
/// webhook settings. The rate limit is off unless a test sets one, so that
/// no other test meets it.
#[derive(Clone)]
pub struct ServerSettings {
    pub query: QueryLimits,
    pub rate: RateLimit,
    /// Keep-alive and slow-subscriber settings of WebSocket connections.
    pub subscriptions: SubscriptionSettings,
    /// How webhooks are delivered, and where they may go.
    pub webhooks: WebhookSettings,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            query: QueryLimits::default(),
            rate: RateLimit::OFF,
            subscriptions: SubscriptionSettings::default(),
            webhooks: test_webhooks(),
        }
    }
}

/// A server under these settings.
pub async fn spawn_app_with_settings(settings: ServerSettings) -> TestApp {
    let keys = KeySources {
        hs256_secret: Some(SECRET.into()),
        ..Default::default()
    };
    let (database_url, scratch) = fresh_database_url().await;
    spawn_on(keys, quick_sync(), settings, database_url, Some(scratch)).await
}

async fn spawn(keys: KeySources, sync: SyncSettings) -> TestApp {
    let (database_url, scratch) = fresh_database_url().await;
    spawn_on(
        keys,
        sync,
        ServerSettings::default(),
        database_url,
        Some(scratch),
    )
    .await
}

/// Two server instances sharing one fresh database, as several instances
/// share one PostgreSQL in production.
pub async fn spawn_pair() -> (TestApp, TestApp) {
    spawn_pair_with(quick_sync()).await
}

/// [`spawn_pair`] with these sync settings on both instances.
pub async fn spawn_pair_with(sync: SyncSettings) -> (TestApp, TestApp) {
    let keys = || KeySources {
        hs256_secret: Some(SECRET.into()),
        ..Default::default()
    };
    let (database_url, scratch) = fresh_database_url().await;
    let first = spawn_on(
        keys(),
        sync.clone(),
        ServerSettings::default(),
        database_url.clone(),
        Some(scratch),
    )
    .await;
    let second = spawn_on(keys(), sync, ServerSettings::default(), database_url, None).await;
    (first, second)
}

async fn spawn_on(
    keys: KeySources,
    sync: SyncSettings,
    settings: ServerSettings,
    database_url: String,
    scratch: Option<Scratch>,
) -> TestApp {
    // `JOURNEYS_TEST_LOG=journeys=debug` shows the server's logs in a failing test.
    let filter = tracing_subscriber::EnvFilter::try_from_env("JOURNEYS_TEST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
    let verifier = Verifier::from_sources(&keys).expect("keys");
    let running = server::start(ServerConfig {
        database_url: database_url.clone(),
        bind: "127.0.0.1:0".into(),
        verifier,
        workers: Some(2),
        cors_origins: vec!["https://dashboard.example".into()],
        secret_box: Some(SecretBox::from_base64(SECRET_KEY).expect("key")),
        sync,
        backfill_chunk: 200,
        score_refresh: Duration::from_secs(3600),
        limits: settings.query,
        rate_limit: settings.rate,
        // Short, so that tests of revocation across instances stay quick.
        token_cache: Duration::from_secs(1),
        event_retention: chrono::Duration::days(30),
        subscriptions: settings.subscriptions,
        webhooks: settings.webhooks,
    })
    .await
    .expect("server starts");
    TestApp {
        addr: running.addr,
        client: reqwest::Client::new(),
        db: running.db,
        statements: running.statements,
        handle: running.handle,
        sync: running.sync,
        closing: running.closing,
        database_url,
        _scratch: scratch,
    }
}

impl TestApp {
    /// Stops the server as `journeys serve` does on SIGTERM: sockets are told
    /// at once, in-flight requests finish.
    pub async fn stop_gracefully(&self) {
        self.closing.cancel();
        self.handle.stop(true).await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Creates a workspace (with its default journey model).
    pub async fn workspace(&self, slug: &str) -> uuid::Uuid {
        journeys_core::workspaces::create(&self.db, slug, &format!("{slug} Inc"))
            .await
            .expect("workspace")
            .id
    }

    /// An HS256 token for `slug` with `scopes`, valid for an hour.
    pub fn token(&self, slug: &str, scopes: &[Scope]) -> String {
        mint_hs256(SECRET, "tester", slug, scopes, chrono::Duration::hours(1)).unwrap()
    }

    /// A token with every scope.
    pub fn admin(&self, slug: &str) -> String {
        self.token(slug, &Scope::ALL)
    }

    /// Waits until the server's start-up work (the scheduler's first look,
    /// the first decay refresh) has run its statements, so that a test can
    /// count a request's own.
    pub async fn quiet(&self) {
        loop {
            let before = self.statements.get();
            tokio::time::sleep(Duration::from_millis(200)).await;
            if self.statements.get() == before {
                return;
            }
        }
    }

    /// POSTs a GraphQL request as `application/json` and returns the body.
    pub async fn gql(&self, token: &str, query: &str, variables: Value) -> Value {
        let res = self
            .client
            .post(self.url("/graphql"))
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 200, "unexpected status");
        res.json().await.expect("JSON body")
    }

    /// Like `gql`, and asserts the response has no errors.
    pub async fn ok(&self, token: &str, query: &str, variables: Value) -> Value {
        let body = self.gql(token, query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }
}

/// The `extensions.code` of each error in a response.
pub fn codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    e["extensions"]["code"]
                        .as_str()
                        .unwrap_or("<none>")
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts that a response failed with exactly `code`, and no SQL leaked.
pub fn assert_code(body: &Value, code: &str) {
    let shown: String = body.to_string().chars().take(2_000).collect();
    assert_eq!(codes(body), vec![code.to_owned()], "body: {shown}");
    let text = body.to_string().to_lowercase();
    for leak in [
        "select ", "insert ", "sqlx", "sqlite", "postgres", "panicked",
    ] {
        assert!(
            !text.contains(leak),
            "internal detail `{leak}` leaked: {body}"
        );
    }
}

pub const CREATE_ACCOUNT: &str = r#"mutation($input: CreateAccountInput!) {
  createAccount(input: $input) { account { id name domains lifecycle } }
}"#;

/// Creates an account through the API and returns its id.
pub async fn create_account(app: &TestApp, token: &str, name: &str, domains: &[&str]) -> String {
    let data = app
        .ok(
            token,
            CREATE_ACCOUNT,
            json!({ "input": { "name": name, "domains": domains } }),
        )
        .await;
    data["createAccount"]["account"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub const CREATE_STAKEHOLDER: &str = r#"mutation($input: CreateStakeholderInput!) {
  createStakeholder(input: $input) { stakeholder { id name email lifecycle } }
}"#;

pub async fn create_stakeholder(app: &TestApp, token: &str, input: Value) -> String {
    let data = app
        .ok(token, CREATE_STAKEHOLDER, json!({ "input": input }))
        .await;
    data["createStakeholder"]["stakeholder"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub const RECORD: &str = r#"mutation($input: RecordTouchpointsInput!) {
  recordTouchpoints(input: $input) {
    created updated unchanged failed
    results { index status error { code message } touchpoint { id kind account { id name } stakeholder { id email } } }
  }
}"#;

/// The id of the first journey model's stage with this key (the default
/// model's, in a new workspace).
pub async fn stage_id(app: &TestApp, token: &str, key: &str) -> Value {
    let models = app
        .ok(token, "{ journeyModels { stages { id key } } }", json!({}))
        .await;
    models["journeyModels"][0]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == key)
        .unwrap_or_else(|| panic!("no stage `{key}` in {models}"))["id"]
        .clone()
}

/// Records touchpoints and returns the payload.
pub async fn record(app: &TestApp, token: &str, touchpoints: Value) -> Value {
    let data = app
        .ok(
            token,
            RECORD,
            json!({ "input": { "touchpoints": touchpoints } }),
        )
        .await;
    data["recordTouchpoints"].clone()
}

/// A connector's runs as `syncRuns` lists them, newest first: each as
/// `[status, errorCode, [fetched, created, updated, unchanged, failed,
/// batches]]`. Also checks what every listing must hold: `totalCount` counts
/// them all, the connector's `lastRun` is the newest, and a finished run has
/// its finish time.
pub async fn sync_runs(app: &TestApp, token: &str, connector: &str) -> Value {
    let data = app
        .ok(
            token,
            "query($id: ID!) {
              syncRuns(connectorId: $id, first: 50) {
                totalCount
                nodes { id status errorCode fetched created updated unchanged failed batches finishedAt }
              }
              connector(id: $id) { lastRun { id } }
            }",
            json!({ "id": connector }),
        )
        .await;
    let nodes = data["syncRuns"]["nodes"].as_array().unwrap();
    assert_eq!(data["syncRuns"]["totalCount"], nodes.len(), "{data}");
    assert_eq!(
        data["connector"]["lastRun"]["id"],
        nodes.first().map_or(Value::Null, |run| run["id"].clone()),
        "{data}"
    );
    nodes
        .iter()
        .map(|run| {
            if !matches!(run["status"].as_str(), Some("QUEUED" | "RUNNING")) {
                assert!(run["finishedAt"].is_string(), "{run}");
            }
            let counts = [
                "fetched",
                "created",
                "updated",
                "unchanged",
                "failed",
                "batches",
            ]
            .map(|k| run[k].clone());
            json!([run["status"], run["errorCode"], counts])
        })
        .collect()
}

/// A fixture touchpoint as `recordTouchpoints` takes it: the one conversion
/// from the engine's `Touch` to the GraphQL input, so HTTP tests and core
/// tests describe touchpoints alike.
pub fn input(touch: Touch) -> Value {
    let raw = RawTouchpoint::from(touch);
    let mut out = json!({
        "source": raw.source,
        "externalId": raw.external_id,
        "channel": raw.channel.to_value(),
        "kind": raw.kind,
        "occurredAt": raw.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
    });
    let optional = [
        ("title", raw.title.map(Value::from)),
        ("body", raw.body.map(Value::from)),
        ("url", raw.url.map(Value::from)),
        ("ownerTeam", raw.owner_team.map(|t| t.to_value().into())),
        ("actor", raw.actor.map(Value::from)),
        ("emotion", raw.emotion.map(|e| e.to_value().into())),
        ("sentiment", raw.sentiment.map(Value::from)),
        ("score", raw.score.map(Value::from)),
        ("properties", raw.properties),
        (
            "asset",
            raw.asset
                .map(|a| json!({ "key": a.key, "title": a.title, "url": a.url })),
        ),
        (
            "accountId",
            raw.account
                .map(|id| ids::encode(NodeType::Account, id).0.into()),
        ),
        (
            "stakeholderId",
            raw.stakeholder
                .map(|id| ids::encode(NodeType::Stakeholder, id).0.into()),
        ),
        (
            "person",
            raw.person.map(|p| {
                let fields = [
                    ("email", p.email),
                    ("twitterUserId", p.twitter_user_id),
                    ("twitterHandle", p.twitter_handle),
                    ("zoomRegistrantId", p.zoom_registrant_id),
                    ("zendeskUserId", p.zendesk_user_id),
                    ("vendorUserId", p.vendor_user_id),
                    ("phone", p.phone),
                    ("anonymousId", p.anonymous_id),
                    ("name", p.name),
                    ("title", p.title),
                ];
                fields
                    .into_iter()
                    .filter_map(|(k, v)| Some((k.to_owned(), Value::from(v?))))
                    .collect::<serde_json::Map<_, _>>()
                    .into()
            }),
        ),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            out[key] = value;
        }
    }
    out
}

/// The sync lease a [`ServeProcess`] runs with: short, so takeover tests are too.
pub const SERVE_LEASE_SECS: u64 = 3;

/// A real `journeys serve` process on a loopback port, killed when dropped.
pub struct ServeProcess {
    child: Child,
    pub addr: String,
}

impl ServeProcess {
    pub async fn start(database_url: &str) -> ServeProcess {
        Self::start_with(database_url, &[]).await
    }

    /// Starts with these environment variables besides the usual ones.
    pub async fn start_with(database_url: &str, env: &[(&str, &str)]) -> ServeProcess {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = format!("127.0.0.1:{port}");
        let child = Command::new(env!("CARGO_BIN_EXE_journeys"))
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("JOURNEYS_BIND", &addr)
            .env("JOURNEYS_JWT_SECRET", SECRET)
            .env("JOURNEYS_SECRET_KEY", SECRET_KEY)
            .env("JOURNEYS_SYNC_LEASE_SECS", SERVE_LEASE_SECS.to_string())
            .env("JOURNEYS_SYNC_TICK_SECS", "1")
            .env("JOURNEYS_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start journeys serve");
        let process = ServeProcess { child, addr };
        for _ in 0..300 {
            if process.healthy().await {
                return process;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("journeys serve did not become ready on {}", process.addr);
    }

    pub async fn healthy(&self) -> bool {
        reqwest::get(format!("http://{}/readyz", self.addr))
            .await
            .is_ok_and(|r| r.status().is_success())
    }

    /// SIGKILL: no shutdown, no last write.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }

    /// The process's peak resident memory (`VmHWM`), in bytes.
    pub fn peak_rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/<pid>/status");
        kb * 1024
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
