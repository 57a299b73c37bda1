//! Partial updates from GraphQL: an input field left out leaves its column
//! alone, `null` clears it, and a value sets it.

use async_graphql::MaybeUndefined;
use journeys_core::patch::Patch;

/// The core patch a `MaybeUndefined` input asks for.
pub fn to_patch<T>(input: MaybeUndefined<T>) -> Patch<T> {
    match input {
        MaybeUndefined::Value(value) => Patch::Set(value),
        MaybeUndefined::Null => Patch::Clear,
        MaybeUndefined::Undefined => Patch::Keep,
    }
}
