//! A root field that fails is present in `data` as `null` when it is
//! nullable, as the GraphQL specification asks: async-graphql leaves a field
//! that errored out of its object instead. Only the root is completed here,
//! where clients look first (`account(id:)`, `node(id:)`).

use std::collections::{HashMap, HashSet};

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{Name, PathSegment, Response, Value};

use super::JourneysSchema;

/// Which root fields of the schema may be null, by operation type.
#[derive(Debug, Default)]
pub struct RootFields {
    nullable: HashMap<(OperationKind, String), bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum OperationKind {
    Query,
    Mutation,
}

impl RootFields {
    /// Reads the roots' fields from the schema's SDL.
    pub fn of(schema: &JourneysSchema) -> Self {
        use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
        let mut nullable = HashMap::new();
        let Ok(document) = async_graphql::parser::parse_schema(schema.sdl()) else {
            return RootFields { nullable };
        };
        for definition in &document.definitions {
            let TypeSystemDefinition::Type(ty) = definition else {
                continue;
            };
            let kind = match ty.node.name.node.as_str() {
                "Query" => OperationKind::Query,
                "Mutation" => OperationKind::Mutation,
                _ => continue,
            };
            if let TypeKind::Object(object) = &ty.node.kind {
                for field in &object.fields {
                    let name = field.node.name.node.to_string();
                    nullable.insert((kind, name), field.node.ty.node.nullable);
                }
            }
        }
        RootFields { nullable }
    }

    /// Puts each nullable root field that errored back into `data` as `null`
    /// (in the order the operation selected them); a non-null one that
    /// errored makes `data` null. `selection` is the request's, from
    /// [`RootSelection::of`] before it ran.
    pub fn complete(&self, selection: &RootSelection, response: &mut Response) {
        let failed: HashSet<&str> = response
            .errors
            .iter()
            .filter_map(|e| match e.path.as_slice() {
                [PathSegment::Field(key)] => Some(key.as_str()),
                _ => None,
            })
            .collect();
        if failed.is_empty() {
            return;
        }
        let mut data = match std::mem::take(&mut response.data) {
            Value::Object(map) => map,
            // Every root field failed: nothing came back to complete.
            _ => Default::default(),
        };
        let mut completed = async_graphql::indexmap::IndexMap::new();
        for (key, name) in &selection.keys {
            if let Some(value) = data.shift_remove(key.as_str()) {
                completed.insert(key.clone(), value);
            } else if failed.contains(key.as_str()) {
                match self.nullable.get(&(selection.kind, name.to_string())) {
                    Some(true) => {
                        completed.insert(key.clone(), Value::Null);
                    }
                    // A non-null root field failed: the whole `data` is null.
                    _ => return,
                }
            }
        }
        completed.extend(data);
        response.data = Value::Object(completed);
    }
}

/// The root fields an operation selects: each one's response key and field
/// name, in selection order.
#[derive(Debug)]
pub struct RootSelection {
    kind: OperationKind,
    keys: Vec<(Name, Name)>,
}

impl RootSelection {
    /// The root selection of the operation a request runs, if the document
    /// names one. The document has passed `limits`, so its fragments do not
    /// spread themselves.
    pub fn of(document: &ExecutableDocument, operation_name: Option<&str>) -> Option<Self> {
        let (kind, selection) = operation(document, operation_name)?;
        let mut keys = Vec::new();
        root_keys(document, selection, &mut keys);
        Some(Self { kind, keys })
    }
}

/// The operation a request runs and its root selection.
fn operation<'a>(
    document: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<(OperationKind, &'a SelectionSet)> {
    let operation = match (&document.operations, name) {
        (DocumentOperations::Single(op), _) => op,
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name)?,
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next()?,
        _ => return None,
    };
    let kind = match operation.node.ty {
        OperationType::Query => OperationKind::Query,
        OperationType::Mutation => OperationKind::Mutation,
        OperationType::Subscription => return None,
    };
    Some((kind, &operation.node.selection_set.node))
}

/// Each root field's response key and field name, in selection order,
/// through fragments too; a key selected twice is listed once.
fn root_keys(document: &ExecutableDocument, set: &SelectionSet, out: &mut Vec<(Name, Name)>) {
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => {
                let name = field.node.name.node.clone();
                let key = field
                    .node
                    .alias
                    .as_ref()
                    .map_or_else(|| name.clone(), |a| a.node.clone());
                if !out.iter().any(|(k, _)| *k == key) {
                    out.push((key, name));
                }
            }
            Selection::InlineFragment(fragment) => {
                root_keys(document, &fragment.node.selection_set.node, out);
            }
            Selection::FragmentSpread(spread) => {
                if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node) {
                    root_keys(document, &fragment.node.selection_set.node, out);
                }
            }
        }
    }
}
