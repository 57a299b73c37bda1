//! Command-line and environment configuration. Flags win over environment.
//!
//! Nothing here derives `Debug`: the arguments hold the JWT secret and the key
//! that seals connector secrets, which must never reach a log.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use journeys_api::auth::KeySources;

use crate::rate_limit::RateLimit;

#[derive(Parser)]
#[command(
    name = "journeys",
    version,
    about = "Headless GraphQL API for unified customer journeys"
)]
pub struct Cli {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Clone)]
pub struct DatabaseArgs {
    /// `postgres://…` or `sqlite://path?mode=rwc`; the embedded `./journeys.db` by default.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,
}

impl DatabaseArgs {
    pub fn url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| journeys_core::db::DEFAULT_SQLITE_URL.to_owned())
    }
}

/// Where JWT verification keys come from.
#[derive(Args, Clone, Default)]
pub struct JwtArgs {
    /// HS256 shared secret, at least 32 bytes.
    #[arg(long, env = "JOURNEYS_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// PEM public key (RSA, P-256 or Ed25519) for RS256, ES256 or EdDSA tokens.
    #[arg(long, env = "JOURNEYS_JWT_PUBLIC_KEY_FILE")]
    pub jwt_public_key_file: Option<PathBuf>,
    /// JWKS document of public keys, chosen by `kid`.
    #[arg(long, env = "JOURNEYS_JWKS_FILE")]
    pub jwks_file: Option<PathBuf>,
    /// Required `iss` claim.
    #[arg(long, env = "JOURNEYS_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// Required `aud` claim.
    #[arg(long, env = "JOURNEYS_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
}

impl JwtArgs {
    pub fn key_sources(&self) -> KeySources {
        KeySources {
            hs256_secret: self.jwt_secret.clone(),
            public_key_pem_file: self.jwt_public_key_file.clone(),
            jwks_file: self.jwks_file.clone(),
            issuer: self.jwt_issuer.clone(),
            audience: self.jwt_audience.clone(),
        }
    }
}

#[derive(Subcommand)]
pub enum Command {
    /// Serve the GraphQL API.
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Mint an HS256 token for scripts (prints only the token), or revoke one.
    Token(TokenCommand),
    /// Manage workspaces.
    #[command(subcommand)]
    Workspace(WorkspaceCommand),
    /// Run one sync of a connector in the foreground, with progress and a summary.
    Sync(SyncArgs),
    /// Fill a new workspace with synthetic data at benchmark scale, recorded
    /// through ingestion: accounts of skewed sizes, people with DMU roles,
    /// touchpoints from every source over two years.
    Seed(SeedArgs),
}

#[derive(Args)]
pub struct SeedArgs {
    /// The new workspace's slug.
    #[arg(long)]
    pub workspace: String,
    #[arg(long, default_value_t = 1_000)]
    pub accounts: usize,
    /// At most this many people per account (those never in a touchpoint
    /// are not made).
    #[arg(long, default_value_t = 20)]
    pub people_per_account: usize,
    #[arg(long, default_value_t = 1_000_000)]
    pub touchpoints: usize,
    /// The generator's seed: the same arguments make the same data.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// The key that seals connector secrets at rest.
#[derive(Args, Clone, Default)]
pub struct SecretKeyArgs {
    /// 32 random bytes, base64 (`openssl rand -base64 32`). Needed to create
    /// connectors and to run them.
    #[arg(long, env = "JOURNEYS_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
}

impl SecretKeyArgs {
    pub fn secret_box(
        &self,
    ) -> anyhow::Result<Option<journeys_core::connectors::secrets::SecretBox>> {
        self.secret_key
            .as_deref()
            .map(journeys_core::connectors::secrets::SecretBox::from_base64)
            .transpose()
            .map_err(anyhow::Error::from)
    }
}

#[derive(Args)]
pub struct SyncArgs {
    /// The connector's id, as the API shows it.
    pub connector_id: String,
    #[command(flatten)]
    pub secret_key: SecretKeyArgs,
}

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "JOURNEYS_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Load the demo workspace and print a ready admin token. Without a JWT key
    /// configured, a random one is made for this run.
    #[arg(long)]
    pub demo: bool,
    /// Comma-separated origins that browsers may call from, or `*`.
    #[arg(long, env = "JOURNEYS_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    #[command(flatten)]
    pub jwt: JwtArgs,
    #[command(flatten)]
    pub secret_key: SecretKeyArgs,
    #[command(flatten)]
    pub sync: SyncTimingArgs,
    /// Accounts whose journeys are rebuilt per transaction when a model is
    /// added or its entry rules change: smaller holds locks for less time.
    #[arg(long, env = "JOURNEYS_BACKFILL_CHUNK", default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub backfill_chunk: u64,
    #[command(flatten)]
    pub rate_limit: RateLimitArgs,
    /// Seconds this instance keeps a token's workspace (and whether its `jti`
    /// is revoked) before looking again: a revocation made on another
    /// instance, or by `journeys token revoke`, holds here within this time.
    /// 0 looks on every request.
    #[arg(long, env = "JOURNEYS_TOKEN_CACHE_SECS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(0..=300))]
    pub token_cache_secs: u64,
    /// How long the event log keeps an event, such as 12h, 30d or 90d.
    #[arg(long, env = "JOURNEYS_EVENT_RETENTION", default_value = "30d", value_parser = journeys_api::auth::parse_ttl)]
    pub event_retention: chrono::Duration,
    /// Let webhook endpoints target loopback, private and link-local
    /// addresses (for development; off, they are refused).
    #[arg(long, env = "JOURNEYS_WEBHOOK_ALLOW_PRIVATE")]
    pub webhook_allow_private: bool,
    /// Seconds an instance may go without renewing its hold on an endpoint's
    /// deliveries before another instance takes them over; more than the 10
    /// seconds one delivery may take, so that a live sender keeps it.
    #[arg(long, env = "JOURNEYS_WEBHOOK_LEASE_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(15..=3600))]
    pub webhook_lease_secs: u64,
}

/// The per-token rate limit.
#[derive(Args, Clone)]
pub struct RateLimitArgs {
    /// Requests a minute per token (its subject and workspace), or per client
    /// address without a valid token; a batch counts its items. 0 turns the
    /// limit off. Each instance counts on its own.
    #[arg(long, env = "JOURNEYS_RATE_LIMIT", default_value_t = RateLimit::default().per_minute)]
    pub rate_limit: u32,
    /// Requests a caller may send at once, on a full allowance.
    #[arg(long, env = "JOURNEYS_RATE_LIMIT_BURST", default_value_t = RateLimit::default().burst, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit_burst: u32,
}

impl RateLimitArgs {
    pub fn limit(&self) -> RateLimit {
        RateLimit {
            per_minute: self.rate_limit,
            burst: self.rate_limit_burst,
        }
    }
}

/// How quickly a stopped instance's sync runs are taken over.
#[derive(Args, Clone)]
pub struct SyncTimingArgs {
    /// Seconds a sync run may go without renewing its lease before any
    /// instance takes it over (it renews every third of this while alive).
    #[arg(long, env = "JOURNEYS_SYNC_LEASE_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(3..=3600))]
    pub sync_lease_secs: u64,
    /// Seconds between looks for due schedules and abandoned runs.
    #[arg(long, env = "JOURNEYS_SYNC_TICK_SECS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub sync_tick_secs: u64,
}

impl SyncTimingArgs {
    pub fn settings(&self) -> journeys_core::connectors::sync::SyncSettings {
        journeys_core::connectors::sync::SyncSettings {
            lease: std::time::Duration::from_secs(self.sync_lease_secs),
            tick: std::time::Duration::from_secs(self.sync_tick_secs),
            ..Default::default()
        }
    }
}

/// `journeys token`: mints with the flags below, or runs `revoke`.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct TokenCommand {
    #[command(subcommand)]
    pub action: Option<TokenAction>,
    #[command(flatten)]
    pub mint: TokenArgs,
}

#[derive(Subcommand)]
pub enum TokenAction {
    /// Revoke tokens by their `jti` claim: every instance refuses them from
    /// the next request on.
    Revoke {
        /// The `jti` of the tokens to refuse.
        #[arg(long)]
        jti: String,
        /// Only in this workspace (slug); in every workspace without it.
        #[arg(long)]
        workspace: Option<String>,
    },
}

#[derive(Args)]
pub struct TokenArgs {
    /// The workspace slug the token may touch.
    #[arg(long, required = true)]
    pub workspace: Option<String>,
    /// Space-separated scopes: journeys:read journeys:write connectors:manage admin.
    #[arg(long, default_value = "journeys:read")]
    pub scope: String,
    /// Lifetime, such as 15m, 1h or 7d.
    #[arg(long, default_value = "1h", value_parser = journeys_api::auth::parse_ttl)]
    pub ttl: chrono::Duration,
    /// The token's subject.
    #[arg(long, default_value = "cli")]
    pub subject: String,
    /// HS256 secret to sign with.
    #[arg(long, env = "JOURNEYS_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
}

#[derive(Subcommand)]
pub enum WorkspaceCommand {
    /// Create a workspace with the default FIVE_STAGE journey model.
    Create {
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
    },
}
