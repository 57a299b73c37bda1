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

impl From<DbErr> for ApiError {
    fn from(err: DbErr) -> Self {
        Self::Internal(err.to_string())
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        if let ApiError::Internal(detail) = &err {
            tracing::error!(error = %detail, "internal error");
        }
        let code = err.code();
        async_graphql::Error::new(err.message()).extend_with(|_, ext| ext.set("code", code))
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
