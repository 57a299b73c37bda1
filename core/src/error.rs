//! The engine's one error type. Each variant is a kind of failure a caller can
//! act on; the API maps each to its stable `extensions.code`, the CLI prints it
//! with its cause.

use sea_orm::DbErr;

/// What went wrong in the engine.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The thing does not exist in the caller's workspace.
    #[error("{what} not found")]
    NotFound { what: &'static str },
    /// The input breaks a rule; `field` names the input field when one is to blame.
    #[error("{message}")]
    InvalidInput {
        field: Option<&'static str>,
        message: String,
    },
    /// The request is valid but the data's current state refuses it.
    #[error("{0}")]
    Conflict(String),
    /// The server lacks a setting the operation needs (a sealing key, say).
    #[error("{0}")]
    NotConfigured(String),
    /// A concurrent transaction got in the way (it won a unique key first, or
    /// PostgreSQL aborted us to break a deadlock); running again succeeds.
    #[error("a concurrent transaction changed the same data first")]
    Contended(#[source] DbErr),
    /// The database failed.
    #[error("database error")]
    Database(#[source] DbErr),
    /// A failure of ours outside the database (stored data that no longer
    /// decodes, a runtime that is not running).
    #[error("{0}")]
    Internal(String),
}

pub type CoreResult<T> = Result<T, CoreError>;

impl CoreError {
    pub fn not_found(what: &'static str) -> Self {
        Self::NotFound { what }
    }

    /// Input that breaks a rule not tied to one field.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidInput {
            field: None,
            message: message.into(),
        }
    }

    /// Input whose `field` breaks a rule.
    pub fn invalid_field(field: &'static str, message: impl Into<String>) -> Self {
        Self::InvalidInput {
            field: Some(field),
            message: message.into(),
        }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict(message.into())
    }

    /// The error and every cause behind it, for the log (never for clients:
    /// a database error's causes may name tables and values).
    pub fn with_causes(&self) -> String {
        let mut text = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(c) = cause {
            text.push_str(": ");
            text.push_str(&c.to_string());
            cause = c.source();
        }
        text
    }

    /// Whether running the same transaction again may succeed.
    pub fn is_contended(&self) -> bool {
        matches!(self, Self::Contended(_))
    }
}

/// Whether another transaction got in the way: it won a unique key, or
/// PostgreSQL broke a deadlock or a serialisation conflict by aborting us.
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

impl From<DbErr> for CoreError {
    fn from(err: DbErr) -> Self {
        if is_contention(&err) {
            Self::Contended(err)
        } else {
            Self::Database(err)
        }
    }
}

/// `value` trimmed, if it holds 1 to `max_chars` characters; else the input
/// error naming `field`.
pub(crate) fn required_text(
    field: &'static str,
    value: &str,
    max_chars: usize,
) -> CoreResult<String> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max_chars {
        return Err(CoreError::invalid_field(
            field,
            format!("`{field}` must be 1 to {max_chars} characters"),
        ));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_error_keeps_its_cause() {
        let err = CoreError::from(DbErr::Custom("disk full".into()));
        assert_eq!(err.to_string(), "database error");
        let source = std::error::Error::source(&err).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("Custom Error: disk full"));
        assert_eq!(err.with_causes(), "database error: Custom Error: disk full");
        assert!(!err.is_contended());
    }
}
