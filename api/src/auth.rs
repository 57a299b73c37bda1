//! Bearer-token authentication: JWT verification, scopes, and minting for scripts.
//!
//! This module knows nothing of the database: it turns a token into `Claims`.
//! The HTTP layer then resolves the claimed workspace into a `Principal`.

use std::collections::HashSet;
use std::path::Path;

use chrono::{Duration, Utc};
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a token may do. `admin` implies every other scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Read,
    Write,
    ConnectorsManage,
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 4] = [Self::Read, Self::Write, Self::ConnectorsManage, Self::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "journeys:read",
            Self::Write => "journeys:write",
            Self::ConnectorsManage => "connectors:manage",
            Self::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Scope> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// The claims Journeys reads from a token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    /// The slug of the workspace the token may touch.
    pub ws: String,
    /// Space-separated scopes.
    pub scope: String,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

impl Claims {
    /// The recognised scopes; unknown ones are ignored, so tokens minted for a
    /// newer server still work here.
    pub fn scopes(&self) -> HashSet<Scope> {
        self.scope
            .split_whitespace()
            .filter_map(Scope::parse)
            .collect()
    }
}

/// An authenticated caller, confined to one workspace.
#[derive(Debug, Clone)]
pub struct Principal {
    pub subject: String,
    pub workspace_id: Uuid,
    pub workspace_slug: String,
    pub scopes: HashSet<Scope>,
}

impl Principal {
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope) || self.scopes.contains(&Scope::Admin)
    }
}

/// Why a token was refused. The text is safe to show the caller.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed")]
    Malformed,
    #[error("the token's algorithm `{0}` is not accepted by this server")]
    Algorithm(String),
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    Immature,
    #[error("the token's signature does not verify")]
    Signature,
    #[error("the token's issuer is not accepted")]
    Issuer,
    #[error("the token's audience is not accepted")]
    Audience,
    #[error("the token lacks a required claim: {0}")]
    MissingClaim(String),
    #[error("the token was issued in the future (`iat`)")]
    IssuedInFuture,
    #[error("the token names critical extensions this server does not understand: {0}")]
    CriticalExtensions(String),
}

/// Where verification keys come from; several may be configured at once.
#[derive(Debug, Clone, Default)]
pub struct KeySources {
    pub hs256_secret: Option<String>,
    pub public_key_pem_file: Option<std::path::PathBuf>,
    pub jwks_file: Option<std::path::PathBuf>,
    pub issuer: Option<String>,
    pub audience: Option<String>,
}

struct VerifyingKey {
    algorithm: Algorithm,
    kid: Option<String>,
    key: DecodingKey,
}

/// How far the clocks of token issuers and this server may disagree.
const LEEWAY_SECS: u64 = 30;

/// Verifies tokens against the configured keys.
pub struct Verifier {
    keys: Vec<VerifyingKey>,
    issuer: Option<String>,
    audience: Option<String>,
}

impl Verifier {
    pub fn from_sources(sources: &KeySources) -> anyhow::Result<Self> {
        let mut keys = Vec::new();
        if let Some(secret) = &sources.hs256_secret {
            anyhow::ensure!(
                secret.len() >= 32,
                "JOURNEYS_JWT_SECRET must be at least 32 bytes"
            );
            keys.push(VerifyingKey {
                algorithm: Algorithm::HS256,
                kid: None,
                key: DecodingKey::from_secret(secret.as_bytes()),
            });
        }
        if let Some(path) = &sources.public_key_pem_file {
            keys.push(pem_key(path)?);
        }
        if let Some(path) = &sources.jwks_file {
            keys.extend(jwks_keys(path)?);
        }
        Ok(Self {
            keys,
            issuer: sources.issuer.clone(),
            audience: sources.audience.clone(),
        })
    }

    pub fn has_keys(&self) -> bool {
        !self.keys.is_empty()
    }

    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        use jsonwebtoken::errors::ErrorKind;
        // `alg: none` and unknown algorithms fail here, before any key is chosen.
        let header = jsonwebtoken::decode_header(token).map_err(|_| match header_alg(token) {
            Some(alg) => TokenError::Algorithm(alg),
            None => TokenError::Malformed,
        })?;
        // RFC 7515 §4.1.11: a `crit` extension the server does not
        // understand (it understands none) must make the token invalid.
        if let Some(crit) = &header.crit {
            let named: String = crit.join(", ").chars().take(64).collect();
            return Err(TokenError::CriticalExtensions(named));
        }
        let key = self
            .keys
            .iter()
            .filter(|k| k.algorithm == header.alg)
            .find(|k| k.kid.is_none() || header.kid.is_none() || k.kid == header.kid)
            .ok_or_else(|| TokenError::Algorithm(format!("{:?}", header.alg)))?;
        let mut validation = Validation::new(key.algorithm);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        let mut required = vec!["exp"];
        if let Some(iss) = &self.issuer {
            validation.set_issuer(&[iss]);
            required.push("iss");
        }
        match &self.audience {
            Some(aud) => {
                validation.set_audience(&[aud]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
        let claims = jsonwebtoken::decode::<Claims>(token, &key.key, &validation)
            .map(|data| data.claims)
            .map_err(|e| match e.into_kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                ErrorKind::ImmatureSignature => TokenError::Immature,
                ErrorKind::InvalidSignature => TokenError::Signature,
                ErrorKind::InvalidIssuer => TokenError::Issuer,
                ErrorKind::InvalidAudience => TokenError::Audience,
                ErrorKind::MissingRequiredClaim(c) => TokenError::MissingClaim(c),
                ErrorKind::InvalidAlgorithm => TokenError::Algorithm(format!("{:?}", header.alg)),
                _ => TokenError::Malformed,
            })?;
        // A token from the future was minted by a clock (or a forger) we
        // should not trust; the library checks `nbf` only.
        if claims
            .iat
            .is_some_and(|iat| iat > Utc::now().timestamp() + LEEWAY_SECS as i64)
        {
            return Err(TokenError::IssuedInFuture);
        }
        Ok(claims)
    }
}

/// The `alg` a token's header names, read without trusting anything else in it.
fn header_alg(token: &str) -> Option<String> {
    use base64::Engine;
    let header = token.split('.').next()?;
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header.trim_end_matches('='))
        .ok()?;
    let value: serde_json::Value = serde_json::from_slice(&json).ok()?;
    value
        .get("alg")?
        .as_str()
        .map(|alg| alg.chars().take(16).collect())
}

fn pem_key(path: &Path) -> anyhow::Result<VerifyingKey> {
    let pem = std::fs::read(path)
        .map_err(|e| anyhow::anyhow!("cannot read public key {}: {e}", path.display()))?;
    type Parse = fn(&[u8]) -> jsonwebtoken::errors::Result<DecodingKey>;
    let candidates: [(Algorithm, Parse); 3] = [
        (Algorithm::RS256, DecodingKey::from_rsa_pem),
        (Algorithm::ES256, DecodingKey::from_ec_pem),
        (Algorithm::EdDSA, DecodingKey::from_ed_pem),
    ];
    candidates
        .into_iter()
        .find_map(|(algorithm, parse)| {
            parse(&pem).ok().map(|key| VerifyingKey {
                algorithm,
                kid: None,
                key,
            })
        })
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{} is not an RSA, P-256 or Ed25519 public key in PEM",
                path.display()
            )
        })
}

fn jwks_keys(path: &Path) -> anyhow::Result<Vec<VerifyingKey>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read JWKS {}: {e}", path.display()))?;
    let set: JwkSet = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{} is not a JWKS document: {e}", path.display()))?;
    let mut keys = Vec::new();
    for jwk in &set.keys {
        let algorithm = match (&jwk.common.key_algorithm, &jwk.algorithm) {
            (Some(KeyAlgorithm::RS256), _) => Algorithm::RS256,
            (Some(KeyAlgorithm::ES256), _) => Algorithm::ES256,
            (Some(KeyAlgorithm::EdDSA), _) => Algorithm::EdDSA,
            (Some(other), _) => anyhow::bail!("JWKS key algorithm {other:?} is not accepted"),
            (None, AlgorithmParameters::RSA(_)) => Algorithm::RS256,
            (None, AlgorithmParameters::EllipticCurve(_)) => Algorithm::ES256,
            (None, AlgorithmParameters::OctetKeyPair(_)) => Algorithm::EdDSA,
            (None, _) => anyhow::bail!("JWK without `alg` of an unsupported key type"),
        };
        let key = DecodingKey::from_jwk(jwk).map_err(|e| anyhow::anyhow!("bad JWK: {e}"))?;
        keys.push(VerifyingKey {
            algorithm,
            kid: jwk.common.key_id.clone(),
            key,
        });
    }
    anyhow::ensure!(!keys.is_empty(), "{} holds no keys", path.display());
    Ok(keys)
}

/// Mints an HS256 token; `journeys token` and `--demo` use it.
pub fn mint_hs256(
    secret: &str,
    subject: &str,
    workspace_slug: &str,
    scopes: &[Scope],
    ttl: Duration,
) -> anyhow::Result<String> {
    let now = Utc::now();
    let claims = Claims {
        sub: subject.to_owned(),
        ws: workspace_slug.to_owned(),
        scope: scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        exp: (now + ttl).timestamp(),
        iat: Some(now.timestamp()),
        jti: Some(Uuid::now_v7().to_string()),
    };
    Ok(jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )?)
}

/// Parses a `--ttl` such as `90s`, `15m`, `1h`, `7d`.
pub fn parse_ttl(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: i64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a duration like 1h"))?;
    let d = match unit {
        "s" => Duration::seconds(n),
        "m" => Duration::minutes(n),
        "h" | "" => Duration::hours(n),
        "d" => Duration::days(n),
        _ => {
            return Err(format!(
                "unknown unit `{unit}` in `{text}`: use s, m, h or d"
            ));
        }
    };
    if n <= 0 {
        return Err("the ttl must be positive".into());
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn verifier() -> Verifier {
        Verifier::from_sources(&KeySources {
            hs256_secret: Some(SECRET.into()),
            ..Default::default()
        })
        .unwrap()
    }

    #[test]
    fn minted_tokens_verify_with_their_scopes() {
        let token = mint_hs256(SECRET, "me", "acme", &[Scope::Read], Duration::hours(1)).unwrap();
        let claims = verifier().verify(&token).unwrap();
        assert_eq!(claims.ws, "acme");
        assert_eq!(claims.scopes(), HashSet::from([Scope::Read]));
    }

    #[test]
    fn expired_and_foreign_tokens_are_refused() {
        let old = mint_hs256(SECRET, "me", "acme", &[], Duration::seconds(-600)).unwrap();
        assert!(matches!(verifier().verify(&old), Err(TokenError::Expired)));
        let other = mint_hs256(&"x".repeat(32), "me", "acme", &[], Duration::hours(1)).unwrap();
        assert!(matches!(
            verifier().verify(&other),
            Err(TokenError::Signature)
        ));
    }

    #[test]
    fn unsigned_tokens_are_refused() {
        // {"alg":"none","typ":"JWT"} . {"sub":"me","ws":"acme","scope":"admin","exp":9999999999} .
        let none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJtZSIsIndzIjoiYWNtZSIsInNjb3BlIjoiYWRtaW4iLCJleHAiOjk5OTk5OTk5OTl9.";
        assert!(matches!(
            verifier().verify(none),
            Err(TokenError::Algorithm(_))
        ));
    }

    fn hs256(header: Header, claims: serde_json::Value) -> String {
        jsonwebtoken::encode(
            &header,
            &claims,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap()
    }

    fn claims_at(iat: i64) -> serde_json::Value {
        serde_json::json!({
            "sub": "me", "ws": "acme", "scope": "admin",
            "exp": Utc::now().timestamp() + 3600, "iat": iat
        })
    }

    #[test]
    fn a_token_issued_beyond_the_leeway_in_the_future_is_refused() {
        let now = Utc::now().timestamp();
        let header = || Header::new(Algorithm::HS256);
        let ahead = hs256(header(), claims_at(now + 600));
        assert!(matches!(
            verifier().verify(&ahead),
            Err(TokenError::IssuedInFuture)
        ));
        // A few seconds of clock skew pass.
        assert!(
            verifier()
                .verify(&hs256(header(), claims_at(now + 10)))
                .is_ok()
        );
    }

    #[test]
    fn a_critical_extension_is_refused() {
        let mut header = Header::new(Algorithm::HS256);
        header.crit = Some(vec!["exp-at-midnight".into()]);
        let token = hs256(header, claims_at(Utc::now().timestamp()));
        match verifier().verify(&token) {
            Err(TokenError::CriticalExtensions(named)) => assert_eq!(named, "exp-at-midnight"),
            other => panic!("expected a critical-extension refusal, got {other:?}"),
        }
    }

    #[test]
    fn ttls_parse() {
        assert_eq!(parse_ttl("1h").unwrap(), Duration::hours(1));
        assert_eq!(parse_ttl("15m").unwrap(), Duration::minutes(15));
        assert!(parse_ttl("0h").is_err());
        assert!(parse_ttl("3y").is_err());
    }
}
