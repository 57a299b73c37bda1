//! Partial updates: an input field left out leaves its column alone, `null`
//! clears it, and a value sets it once checked.

use async_graphql::MaybeUndefined;
use sea_orm::ActiveValue;

use super::error::ApiResult;

/// Sets, clears or leaves a nullable column by a `MaybeUndefined` input;
/// `check` turns a given value into the column's, or refuses it.
pub fn patch<T, V>(
    column: &mut ActiveValue<Option<V>>,
    input: MaybeUndefined<T>,
    check: impl FnOnce(T) -> ApiResult<Option<V>>,
) -> ApiResult<()>
where
    Option<V>: Into<sea_orm::Value>,
{
    match input {
        MaybeUndefined::Value(value) => *column = ActiveValue::Set(check(value)?),
        MaybeUndefined::Null => *column = ActiveValue::Set(None),
        MaybeUndefined::Undefined => {}
    }
    Ok(())
}
