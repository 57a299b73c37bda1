//! The API's error type and its stable `extensions.code` values.
//!
//! `ApiError` deliberately does not implement `Display`: async-graphql converts any
//! `Display` type into an error without extensions, and that blanket conversion
//! would silently drop the code. Our own `From` keeps the code on every error.

use async_graphql::ErrorExtensions;
use sea_orm::DbErr;

/// An expected failure, mapped to one stable code clients can branch on.
#[derive(Debug)]
pub enum ApiError {
    /// No token, or a token that does not verify.
    Unauthenticated(String),
    /// A valid token without the scope the operation needs.
    Forbidden {
        scope: &'static str,
    },
    /// The thing does not exist in the token's workspace.
    NotFound {
        what: &'static str,
    },
    BadUserInput(String),
    Conflict(String),
    QueryTooComplex(String),
    /// The server lacks a setting the operation needs (a key, say).
    NotConfigured(String),
    /// A concurrent transaction got in the way (it won a unique key first, or
    /// PostgreSQL aborted us to break a deadlock); retrying succeeds.
    Contended(String),
    /// A failure of ours; the detail is logged, never sent.
    Internal(String),
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden { .. } => "FORBIDDEN",
            Self::NotFound { .. } => "NOT_FOUND",
            Self::BadUserInput(_) => "BAD_USER_INPUT",
            Self::Conflict(_) => "CONFLICT",
            Self::QueryTooComplex(_) => "QUERY_TOO_COMPLEX",
            Self::NotConfigured(_) => "NOT_CONFIGURED",
            Self::Contended(_) => "CONFLICT",
            Self::Internal(_) => "INTERNAL",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Self::Unauthenticated(why) => why.clone(),
            Self::Forbidden { scope } => format!("this operation needs the `{scope}` scope"),
            Self::NotFound { what } => format!("{what} not found"),
            Self::BadUserInput(m)
            | Self::Conflict(m)
            | Self::QueryTooComplex(m)
            | Self::NotConfigured(m) => m.clone(),
            Self::Contended(_) => {
                "a concurrent request changed the same data first; retry".to_owned()
            }
            Self::Internal(_) => "internal error".to_owned(),
        }
    }

    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::BadUserInput(message.into())
    }

    pub fn not_found(what: &'static str) -> Self {
        Self::NotFound { what }
    }
}

/// Whether another transaction got in the way: it won a unique key, or
/// PostgreSQL broke a deadlock or a serialisation conflict by aborting us.
/// Running the same transaction again is the cure.
fn is_contention(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    if matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    ) {
        return true;
    }
    let (DbErr::Query(RuntimeErr::SqlxError(e)) | DbErr::Exec(RuntimeErr::SqlxError(e))) = err
    else {
        return false;
    };
    let code = e.as_database_error().and_then(|d| d.code());
    matches!(code.as_deref(), Some("40P01" | "40001"))
}

impl From<DbErr> for ApiError {
    fn from(err: DbErr) -> Self {
        if is_contention(&err) {
            Self::Contended(err.to_string())
        } else {
            Self::Internal(err.to_string())
        }
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        match &err {
            ApiError::Internal(detail) => tracing::error!(error = %detail, "internal error"),
            ApiError::Contended(detail) => tracing::warn!(error = %detail, "contended write"),
            _ => {}
        }
        let code = err.code();
        async_graphql::Error::new(err.message()).extend_with(|_, ext| ext.set("code", code))
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
