//! Partial updates: a field left out leaves its column alone, a clear empties
//! it, and a value sets it once checked.

use sea_orm::ActiveValue;

use crate::CoreResult;

/// What to do with one nullable field of an update.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Patch<T> {
    /// Leave the field as it is.
    #[default]
    Keep,
    /// Empty the field.
    Clear,
    /// Set the field, once checked.
    Set(T),
}

impl<T> Patch<T> {
    /// Sets, clears or leaves `column`; `check` turns a given value into the
    /// column's, or refuses it.
    pub fn apply<V>(
        self,
        column: &mut ActiveValue<Option<V>>,
        check: impl FnOnce(T) -> CoreResult<Option<V>>,
    ) -> CoreResult<()>
    where
        Option<V>: Into<sea_orm::Value>,
    {
        match self {
            Self::Set(value) => *column = ActiveValue::Set(check(value)?),
            Self::Clear => *column = ActiveValue::Set(None),
            Self::Keep => {}
        }
        Ok(())
    }
}
