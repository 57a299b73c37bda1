//! Partial updates from GraphQL: an input field left out leaves its column
//! alone, `null` clears it, and a value sets it.

use async_graphql::MaybeUndefined;
use journeys_core::patch::Patch;
use sea_orm::ActiveValue;

use super::error::ApiResult;

/// The core patch a `MaybeUndefined` input asks for.
pub fn to_patch<T>(input: MaybeUndefined<T>) -> Patch<T> {
    match input {
        MaybeUndefined::Value(value) => Patch::Set(value),
        MaybeUndefined::Null => Patch::Clear,
        MaybeUndefined::Undefined => Patch::Keep,
    }
}

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
