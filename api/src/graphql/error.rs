//! The API's error type and its stable `extensions.code` values: the one
//! place where an engine error (`CoreError`) becomes a GraphQL error.
//!
//! `ApiError` deliberately does not implement `Display`: async-graphql converts any
//! `Display` type into an error without extensions, and that blanket conversion
//! would silently drop the code. Resolvers return `ApiResult`, so `?` on a core
//! call goes through `From<CoreError>` and keeps the code.

use async_graphql::ErrorExtensions;
use journeys_core::CoreError;

/// An expected failure, mapped to one stable code clients can branch on.
#[derive(Debug, Clone)]
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
    BadUserInput {
        field: Option<&'static str>,
        message: String,
    },
    Conflict(String),
    QueryTooComplex(String),
    /// The server lacks a setting the operation needs (a key, say).
    NotConfigured(String),
    /// A concurrent transaction got in the way (it won a unique key first, or
    /// PostgreSQL aborted us to break a deadlock); retrying succeeds.
    Contended(String),
    /// A failure of ours; the detail is logged, never sent.
    Internal(String),
    /// An error async-graphql made itself (a failed load, say), passed on as it is.
    Graphql(async_graphql::Error),
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden { .. } => "FORBIDDEN",
            Self::NotFound { .. } => "NOT_FOUND",
            Self::BadUserInput { .. } => "BAD_USER_INPUT",
            Self::Conflict(_) => "CONFLICT",
            Self::QueryTooComplex(_) => "QUERY_TOO_COMPLEX",
            Self::NotConfigured(_) => "NOT_CONFIGURED",
            Self::Contended(_) => "CONFLICT",
            Self::Internal(_) | Self::Graphql(_) => "INTERNAL",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Self::Unauthenticated(why) => why.clone(),
            Self::Forbidden { scope } => format!("this operation needs the `{scope}` scope"),
            Self::NotFound { what } => format!("{what} not found"),
            Self::BadUserInput { message, .. }
            | Self::Conflict(message)
            | Self::QueryTooComplex(message)
            | Self::NotConfigured(message) => message.clone(),
            Self::Contended(_) => {
                "a concurrent request changed the same data first; retry".to_owned()
            }
            Self::Internal(_) => "internal error".to_owned(),
            Self::Graphql(err) => err.message.clone(),
        }
    }

    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::BadUserInput {
            field: None,
            message: message.into(),
        }
    }

    pub fn not_found(what: &'static str) -> Self {
        Self::NotFound { what }
    }
}

impl From<&CoreError> for ApiError {
    fn from(err: &CoreError) -> Self {
        match err {
            CoreError::NotFound { what } => Self::NotFound { what },
            CoreError::InvalidInput { field, message } => Self::BadUserInput {
                field: *field,
                message: message.clone(),
            },
            CoreError::Conflict(message) => Self::Conflict(message.clone()),
            CoreError::NotConfigured(message) => Self::NotConfigured(message.clone()),
            CoreError::Contended(_) => Self::Contended(err.with_causes()),
            CoreError::Database(_) | CoreError::Internal(_) => Self::Internal(err.with_causes()),
        }
    }
}

impl From<CoreError> for ApiError {
    fn from(err: CoreError) -> Self {
        Self::from(&err)
    }
}

impl From<async_graphql::Error> for ApiError {
    fn from(err: async_graphql::Error) -> Self {
        Self::Graphql(err)
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        let err = match err {
            ApiError::Graphql(err) => return err,
            err => err,
        };
        match &err {
            ApiError::Internal(detail) => tracing::error!(error = %detail, "internal error"),
            ApiError::Contended(detail) => tracing::warn!(error = %detail, "contended write"),
            _ => {}
        }
        let code = err.code();
        let field = match &err {
            ApiError::BadUserInput { field, .. } => *field,
            _ => None,
        };
        async_graphql::Error::new(err.message()).extend_with(|_, ext| {
            ext.set("code", code);
            if let Some(field) = field {
                ext.set("field", field);
            }
        })
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
