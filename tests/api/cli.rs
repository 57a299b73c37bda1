//! The `journeys` command as a script would use it.

use std::process::Command;

use journeys_api::auth::{KeySources, Verifier};

fn journeys(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_journeys"));
    cmd.current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("JOURNEYS_JWT_SECRET")
        .env_remove("JOURNEYS_JWT_PUBLIC_KEY_FILE")
        .env_remove("JOURNEYS_JWKS_FILE")
        .env("JOURNEYS_LOG", "warn");
    cmd
}

#[test]
fn schema_graphql_matches_the_code() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    assert!(
        committed == journeys_api::graphql::sdl(),
        "schema.graphql is stale: run `cargo run -- schema > schema.graphql`"
    );
    let dir = tempfile::tempdir().unwrap();
    let out = journeys(dir.path()).arg("schema").output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), committed);
    assert!(!committed.contains(": Int64") && committed.contains("id: ID!"));
}

#[test]
fn workspace_create_then_token_prints_only_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "cli-secret-0123456789abcdef0123456789";
    let out = journeys(dir.path())
        .args(["workspace", "create", "--slug", "acme", "--name", "Acme"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        dir.path().join("journeys.db").exists(),
        "the embedded database is ./journeys.db"
    );
    let again = journeys(dir.path())
        .args(["workspace", "create", "--slug", "acme", "--name", "Acme"])
        .output()
        .unwrap();
    assert!(!again.status.success());

    let out = journeys(dir.path())
        .args([
            "token",
            "--workspace",
            "acme",
            "--scope",
            "journeys:read journeys:write",
            "--ttl",
            "1h",
        ])
        .env("JOURNEYS_JWT_SECRET", secret)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1);
    let verifier = Verifier::from_sources(&KeySources {
        hs256_secret: Some(secret.into()),
        ..Default::default()
    })
    .unwrap();
    let claims = verifier.verify(stdout.trim()).unwrap();
    assert_eq!(
        (claims.ws.as_str(), claims.scope.as_str()),
        ("acme", "journeys:read journeys:write")
    );
    assert!(claims.exp - chrono::Utc::now().timestamp() <= 3600);

    for bad in [
        ["--workspace", "nowhere", "--scope", "journeys:read"],
        ["--workspace", "acme", "--scope", "root"],
    ] {
        let out = journeys(dir.path())
            .arg("token")
            .args(bad)
            .env("JOURNEYS_JWT_SECRET", secret)
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn serve_refuses_to_start_without_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = journeys(dir.path())
        .args(["serve", "--bind", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no JWT key configured"));
}

#[test]
fn an_unreachable_database_fails_the_start_at_once_naming_its_address_and_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    // A loopback port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://journeys:s3cret-pass@127.0.0.1:{port}/journeys");
    let started = std::time::Instant::now();
    let out = journeys(dir.path())
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("DATABASE_URL", &url)
        .env(
            "JOURNEYS_JWT_SECRET",
            "cli-secret-0123456789abcdef0123456789",
        )
        .env("JOURNEYS_LOG", "info")
        .output()
        .unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "cannot connect to the database at 127.0.0.1:{port}"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("Connection refused"), "{stderr}");
    assert!(!stderr.contains("s3cret-pass"), "{stderr}");
    // Logs into a pipe carry no colour codes.
    assert!(
        stderr.contains("WARN") && !stderr.contains('\u{1b}'),
        "{stderr}"
    );
}
