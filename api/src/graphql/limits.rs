//! What a query may cost, checked before it runs: once on the query's text,
//! before it is parsed (parsing costs memory per token), and once on the
//! parsed document, fragments expanded, before it is validated or executed.
//! A refusal is `QUERY_TOO_COMPLEX` naming the limit, and no database
//! statement has run.
//!
//! A query's cost counts what reaches the database: a field costs 1, a root
//! field [`ROOT_FIELD_COST`] (each is a lookup of its own), a `totalCount`
//! [`COUNT_COST`] (a count statement), and a connection's rows multiply the
//! selection of its `edges` and `nodes` by its page size (`first` or `last`,
//! 50 by default, at most 500).

use std::collections::HashMap;

use async_graphql::parser::types::{
    BaseType, DocumentOperations, ExecutableDocument, Field, OperationType, Selection,
    SelectionSet, Type, TypeKind, TypeSystemDefinition,
};
use async_graphql::{Name, Value, Variables};

use super::JourneysSchema;
use super::error::ApiError;
use super::pagination::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

/// The cost of a root field: each one is a database lookup of its own, where
/// nested fields are batched by the request's loaders.
pub const ROOT_FIELD_COST: u64 = 10;
/// The cost of a `totalCount`: a count statement.
pub const COUNT_COST: u64 = 10;

/// Deepest nesting of selection sets, fragment spreads counted: the parser's
/// own bound for one definition, so a chain of fragments cannot outrun it.
pub const MAX_NESTING: usize = 64;

/// The limits every request is held to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryLimits {
    /// Most lexical tokens (names, values, punctuation) a query's text may
    /// hold; checked before parsing. Long values belong in variables.
    pub max_tokens: usize,
    /// Most root fields an operation may select, fragments expanded.
    pub max_root_fields: usize,
    /// Most aliased fields an operation may hold, fragments expanded.
    pub max_aliases: usize,
    /// Most selections (fields, fragment spreads, inline fragments) an
    /// operation may hold, fragments expanded.
    pub max_selections: usize,
    /// Deepest nesting of fields; GraphiQL's introspection query needs 14.
    pub max_depth: usize,
    /// Highest cost an operation may have (see the module's documentation).
    pub max_cost: u64,
    /// Largest response a query may produce, in bytes of JSON (about): a
    /// query whose results outgrow it is stopped and answers an error.
    pub max_response_bytes: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        Self {
            max_tokens: 50_000,
            max_root_fields: 50,
            max_aliases: 100,
            max_selections: 5_000,
            max_depth: 16,
            max_cost: 50_000,
            max_response_bytes: 16 * 1024 * 1024,
        }
    }
}

fn too_complex(message: String) -> ApiError {
    ApiError::QueryTooComplex(message)
}

/// Where a lexical token stands.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Bracket {
    /// `{` of a selection set.
    Selection,
    /// `{` of an object value, `(` or `[`.
    Value,
}

/// What the previous token was, as far as telling fields apart needs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Previous {
    Spread,
    SpreadOn,
    At,
    Colon,
    Other,
}

/// Checks the query's text against the token, alias and selection limits,
/// and its brackets against twice [`MAX_NESTING`] (selection sets and the
/// values in their arguments), without parsing it: one pass over its bytes
/// that keeps only the stack of open brackets. Fields and aliases are those
/// written in the text; [`Shapes::check`] counts them again with fragments
/// expanded.
pub fn scan(query: &str, limits: &QueryLimits) -> Result<(), ApiError> {
    let bytes = query.as_bytes();
    let mut stack: Vec<Bracket> = Vec::new();
    // Open value brackets: none means the innermost `{` is a selection set.
    let mut values = 0usize;
    let (mut tokens, mut aliases, mut fields) = (0usize, 0usize, 0usize);
    let mut previous = Previous::Other;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let in_selection = !stack.is_empty() && values == 0;
        match b {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 3;
                previous = Previous::Other;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                previous = Previous::Other;
            }
            b'.' if bytes[i..].starts_with(b"...") => {
                i += 3;
                previous = Previous::Spread;
            }
            b'{' | b'(' | b'[' => {
                let bracket = if b == b'{' && values == 0 {
                    Bracket::Selection
                } else {
                    values += 1;
                    Bracket::Value
                };
                stack.push(bracket);
                if stack.len() > 2 * MAX_NESTING {
                    return Err(nesting_refused());
                }
                i += 1;
                previous = Previous::Other;
            }
            b'}' | b')' | b']' => {
                if stack.pop() == Some(Bracket::Value) {
                    values -= 1;
                }
                i += 1;
                previous = Previous::Other;
            }
            b':' => {
                if in_selection {
                    aliases += 1;
                    if aliases > limits.max_aliases {
                        return Err(too_complex(format!(
                            "the query uses more than {} aliases, the most an operation may use",
                            limits.max_aliases
                        )));
                    }
                }
                i += 1;
                previous = Previous::Colon;
            }
            b'@' => {
                i += 1;
                previous = Previous::At;
            }
            b'_' | b'a'..=b'z' | b'A'..=b'Z' => {
                let start = i;
                while i < bytes.len() && (bytes[i] == b'_' || bytes[i].is_ascii_alphanumeric()) {
                    i += 1;
                }
                let name = &bytes[start..i];
                previous = match previous {
                    Previous::Spread if name == b"on" => Previous::SpreadOn,
                    Previous::Spread | Previous::SpreadOn | Previous::At | Previous::Colon => {
                        Previous::Other
                    }
                    Previous::Other => {
                        if in_selection {
                            fields += 1;
                            if fields > limits.max_selections {
                                return Err(selections_refused(limits));
                            }
                        }
                        Previous::Other
                    }
                };
            }
            b'-' | b'0'..=b'9' => {
                i += 1;
                while i < bytes.len()
                    && matches!(bytes[i], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
                {
                    i += 1;
                }
                previous = Previous::Other;
            }
            _ => {
                i += 1;
                previous = Previous::Other;
            }
        }
        tokens += 1;
        if tokens > limits.max_tokens {
            return Err(too_complex(format!(
                "the query is longer than {} tokens, the most a query may hold: pass values as variables",
                limits.max_tokens
            )));
        }
    }
    Ok(())
}

fn selections_refused(limits: &QueryLimits) -> ApiError {
    too_complex(format!(
        "the query makes more than {} selections (fields and fragments, fragments expanded), the most an operation may make",
        limits.max_selections
    ))
}

/// The refusal for a query nested deeper than [`MAX_NESTING`], which the
/// parser refuses too.
pub fn nesting_refused() -> ApiError {
    too_complex(format!(
        "the query nests selection sets more than {MAX_NESTING} deep (fragment spreads included), the deepest a query may nest"
    ))
}

/// A named type and whether a list of it is meant.
#[derive(Debug, Clone)]
struct TypeShape {
    name: String,
    list: bool,
}

impl TypeShape {
    fn of(ty: &Type) -> Self {
        let mut base = &ty.base;
        let mut list = false;
        loop {
            match base {
                BaseType::Named(name) => {
                    return Self {
                        name: name.to_string(),
                        list,
                    };
                }
                BaseType::List(inner) => {
                    list = true;
                    base = &inner.base;
                }
            }
        }
    }
}

#[derive(Debug)]
struct FieldShape {
    ty: TypeShape,
    args: HashMap<String, TypeShape>,
    /// A Relay connection, paged by `first` or `last`.
    connection: bool,
}

/// What the checks need to know of the schema, read from its SDL: each
/// output type's fields and each input type's fields.
#[derive(Debug, Default)]
pub struct Shapes {
    outputs: HashMap<String, HashMap<String, FieldShape>>,
    inputs: HashMap<String, HashMap<String, TypeShape>>,
}

/// What a query that passed the checks will cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    /// The operation's cost.
    pub cost: u64,
    /// How many requests the operation counts as against a rate limit: 1,
    /// or for a mutation, each root field's items (the input objects in its
    /// arguments' lists, such as a batch's touchpoints), at least 1 each.
    pub weight: u64,
}

impl Shapes {
    pub fn of(schema: &JourneysSchema) -> Self {
        let mut shapes = Self::default();
        let Ok(document) = async_graphql::parser::parse_schema(schema.sdl()) else {
            return shapes;
        };
        for definition in &document.definitions {
            let TypeSystemDefinition::Type(ty) = definition else {
                continue;
            };
            let name = ty.node.name.node.to_string();
            let fields = match &ty.node.kind {
                TypeKind::Object(object) => &object.fields,
                TypeKind::Interface(interface) => &interface.fields,
                TypeKind::InputObject(input) => {
                    let fields = input
                        .fields
                        .iter()
                        .map(|f| (f.node.name.node.to_string(), TypeShape::of(&f.node.ty.node)))
                        .collect();
                    shapes.inputs.insert(name, fields);
                    continue;
                }
                _ => continue,
            };
            let fields = fields
                .iter()
                .map(|f| {
                    let ty = TypeShape::of(&f.node.ty.node);
                    let args: HashMap<String, TypeShape> = f
                        .node
                        .arguments
                        .iter()
                        .map(|a| (a.node.name.node.to_string(), TypeShape::of(&a.node.ty.node)))
                        .collect();
                    let connection = ty.name.ends_with("Connection") && args.contains_key("first");
                    let shape = FieldShape {
                        ty,
                        args,
                        connection,
                    };
                    (f.node.name.node.to_string(), shape)
                })
                .collect();
            shapes.outputs.insert(name, fields);
        }
        shapes
    }

    /// Checks every operation of `document` against `limits`.
    pub fn check(
        &self,
        document: &ExecutableDocument,
        variables: &Variables,
        limits: &QueryLimits,
    ) -> Result<Checked, ApiError> {
        let mut checked = Checked { cost: 0, weight: 1 };
        for (_, operation) in document.operations.iter() {
            let root = match operation.node.ty {
                OperationType::Query => "Query",
                OperationType::Mutation => "Mutation",
                OperationType::Subscription => "Subscription",
            };
            let mut walk = Walk {
                shapes: self,
                document,
                variables,
                limits,
                selections: 0,
                aliases: 0,
                root_fields: 0,
                weight: 0,
                mutation: operation.node.ty == OperationType::Mutation,
                spreading: Vec::new(),
            };
            let cost = walk.set(&operation.node.selection_set.node, Some(root), 0, 0, None)?;
            if cost > limits.max_cost {
                return Err(too_complex(format!(
                    "the query costs {cost}, more than {}, the most an operation may cost: \
                     a field costs 1, a root field {ROOT_FIELD_COST}, a totalCount {COUNT_COST}, \
                     and a connection's edges and nodes count once per row of its page; \
                     ask for smaller pages or fewer fields",
                    limits.max_cost
                )));
            }
            checked.cost = checked.cost.max(cost);
            checked.weight = checked.weight.max(walk.weight.max(1));
        }
        Ok(checked)
    }

    fn field(&self, ty: Option<&str>, name: &str) -> Option<&FieldShape> {
        self.outputs.get(ty?)?.get(name)
    }

    /// The input objects in `value`'s lists, `value` being of type `ty`.
    fn items(&self, value: &Value, ty: &str) -> u64 {
        let input = self.inputs.get(ty);
        match value {
            Value::List(values) => values
                .iter()
                .map(|v| {
                    let one = u64::from(input.is_some() && matches!(v, Value::Object(_)));
                    one.saturating_add(self.items(v, ty))
                })
                .fold(0, u64::saturating_add),
            Value::Object(fields) => match input {
                Some(shape) => fields
                    .iter()
                    .filter_map(|(name, v)| Some(self.items(v, &shape.get(name.as_str())?.name)))
                    .fold(0, u64::saturating_add),
                None => 0,
            },
            _ => 0,
        }
    }
}

struct Walk<'a> {
    shapes: &'a Shapes,
    document: &'a ExecutableDocument,
    variables: &'a Variables,
    limits: &'a QueryLimits,
    selections: usize,
    aliases: usize,
    root_fields: usize,
    weight: u64,
    mutation: bool,
    /// The fragments being expanded, outermost first.
    spreading: Vec<&'a Name>,
}

impl<'a> Walk<'a> {
    /// The cost of `set`, selected on `ty` (`None` where the schema's SDL
    /// does not say, as in introspection) at field depth `depth` and
    /// selection-set nesting `nesting`. `rows` is the page size when `set` is
    /// a connection's selection.
    fn set(
        &mut self,
        set: &'a SelectionSet,
        ty: Option<&'a str>,
        depth: usize,
        nesting: usize,
        rows: Option<u64>,
    ) -> Result<u64, ApiError> {
        if nesting > MAX_NESTING {
            return Err(nesting_refused());
        }
        let mut cost = 0u64;
        for item in &set.items {
            self.selections += 1;
            if self.selections > self.limits.max_selections {
                return Err(selections_refused(self.limits));
            }
            let item_cost = match &item.node {
                Selection::Field(field) => self.field(&field.node, ty, depth, nesting, rows)?,
                Selection::InlineFragment(fragment) => {
                    let fragment = &fragment.node;
                    let on = fragment
                        .type_condition
                        .as_ref()
                        .map(|c| c.node.on.node.as_str())
                        .or(ty);
                    self.set(&fragment.selection_set.node, on, depth, nesting + 1, rows)?
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    // An unknown fragment is validation's to report.
                    let Some(fragment) = self.document.fragments.get(name) else {
                        continue;
                    };
                    if self.spreading.contains(&name) {
                        return Err(ApiError::bad_input(format!(
                            "fragment `{name}` spreads itself"
                        )));
                    }
                    self.spreading.push(name);
                    let on = fragment.node.type_condition.node.on.node.as_str();
                    let cost = self.set(
                        &fragment.node.selection_set.node,
                        Some(on),
                        depth,
                        nesting + 1,
                        rows,
                    )?;
                    self.spreading.pop();
                    cost
                }
            };
            cost = cost.saturating_add(item_cost);
        }
        Ok(cost)
    }

    fn field(
        &mut self,
        field: &'a Field,
        ty: Option<&'a str>,
        depth: usize,
        nesting: usize,
        rows: Option<u64>,
    ) -> Result<u64, ApiError> {
        let limits = self.limits;
        if field.alias.is_some() {
            self.aliases += 1;
            if self.aliases > limits.max_aliases {
                return Err(too_complex(format!(
                    "the query uses more than {} aliases (fragments expanded), the most an operation may use",
                    limits.max_aliases
                )));
            }
        }
        if depth + 1 > limits.max_depth {
            return Err(too_complex(format!(
                "the query is nested too deep: fields may nest at most {} deep",
                limits.max_depth
            )));
        }
        let name = field.name.node.as_str();
        let shape = self.shapes.field(ty, name);
        let base = if depth == 0 {
            self.root_fields += 1;
            if self.root_fields > limits.max_root_fields {
                return Err(too_complex(format!(
                    "the operation selects more than {} root fields (fragments expanded), the most an operation may select",
                    limits.max_root_fields
                )));
            }
            if self.mutation {
                let items = shape.map_or(0, |shape| self.batch_items(field, shape));
                self.weight = self.weight.saturating_add(items.max(1));
            }
            ROOT_FIELD_COST
        } else if name == "totalCount" {
            COUNT_COST
        } else {
            1
        };
        let children = if field.selection_set.node.items.is_empty() {
            0
        } else {
            let page = shape
                .filter(|s| s.connection)
                .map(|_| self.page_rows(field));
            let child_ty = shape.map(|s| s.ty.name.as_str());
            self.set(
                &field.selection_set.node,
                child_ty,
                depth + 1,
                nesting + 1,
                page,
            )?
        };
        let cost = base.saturating_add(children);
        // In a connection, the lists (`edges`, `nodes`) hold a row each.
        Ok(match (rows, shape) {
            (Some(rows), Some(shape)) if shape.ty.list => cost.saturating_mul(rows),
            _ => cost,
        })
    }

    /// The rows a connection's page may hold: `first` or `last`, from the
    /// query or its variables, 50 when neither is given, at most 500.
    fn page_rows(&self, field: &Field) -> u64 {
        let size = ["first", "last"].iter().find_map(|arg| {
            let value = field
                .get_argument(arg)?
                .node
                .clone()
                .into_const_with(|var| self.variables.get(&var).cloned().ok_or(()))
                .ok()?;
            match value {
                Value::Number(n) => Some(n.as_u64().unwrap_or(if n.as_i64().is_some() {
                    0
                } else {
                    MAX_PAGE_SIZE
                })),
                _ => None,
            }
        });
        size.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE)
    }

    /// The input objects in the lists of a mutation's arguments.
    fn batch_items(&self, field: &Field, shape: &FieldShape) -> u64 {
        field
            .arguments
            .iter()
            .filter_map(|(name, value)| {
                let ty = shape.args.get(name.node.as_str())?;
                let value = value
                    .node
                    .clone()
                    .into_const_with(|var| self.variables.get(&var).cloned().ok_or(()))
                    .ok()?;
                Some(self.shapes.items(&value, &ty.name))
            })
            .fold(0, u64::saturating_add)
    }
}

/// The operation a request runs: the one named, or the only one.
pub fn operation_type(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<OperationType> {
    match (&document.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| op.node.ty)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> QueryLimits {
        QueryLimits::default()
    }

    fn shapes() -> Shapes {
        Shapes::of(&super::super::schema())
    }

    fn check(query: &str, variables: serde_json::Value) -> Result<Checked, ApiError> {
        scan(query, &limits())?;
        let document = async_graphql::parser::parse_query(query).expect("parses");
        shapes().check(&document, &Variables::from_json(variables), &limits())
    }

    fn refusal(query: &str) -> String {
        match check(query, serde_json::json!({})) {
            Err(ApiError::QueryTooComplex(message)) => message,
            other => panic!("expected QUERY_TOO_COMPLEX for {query:.80}, got {other:?}"),
        }
    }

    #[test]
    fn many_aliases_are_refused_before_parsing() {
        let aliases: String = (0..10_000)
            .map(|i| format!("a{i}: viewer {{ workspace }} "))
            .collect();
        let query = format!("{{ {aliases} }}");
        match scan(&query, &limits()) {
            Err(ApiError::QueryTooComplex(message)) => {
                assert!(message.contains("more than 100 aliases"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn many_fields_are_refused_before_parsing() {
        let fields = "workspace ".repeat(25_000);
        let query = format!("{{ viewer {{ {fields} }} }}");
        match scan(&query, &limits()) {
            Err(ApiError::QueryTooComplex(message)) => {
                assert!(message.contains("more than 5000 selections"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn values_and_arguments_are_not_fields_or_aliases() {
        // Colons of arguments, variables and object values are no aliases;
        // names in strings, comments and directives are no fields.
        let query = r#"query Q($first: Int = 3, $f: TouchpointFilter = {kinds: ["a:b"]}) {
            # a comment: with colons
            t: touchpoints(first: $first, filter: $f) @include(if: true) {
                nodes { kind ... on Touchpoint { id } ...F }
            }
        }
        fragment F on Touchpoint { title: kind }
        "#;
        let mut tight = limits();
        tight.max_aliases = 2;
        tight.max_selections = 5;
        assert!(scan(query, &tight).is_ok());
        tight.max_aliases = 1;
        assert!(scan(query, &tight).is_err());
        tight.max_aliases = 2;
        tight.max_selections = 4;
        assert!(scan(query, &tight).is_err());
    }

    #[test]
    fn brackets_nested_past_any_use_are_refused_before_parsing() {
        let query = format!("{}{}", "{ a ".repeat(200), "}".repeat(200));
        assert!(matches!(
            scan(&query, &limits()),
            Err(ApiError::QueryTooComplex(_))
        ));
        let query = format!("{{ a(x: {}1{}) }}", "[".repeat(200), "]".repeat(200));
        assert!(matches!(
            scan(&query, &limits()),
            Err(ApiError::QueryTooComplex(_))
        ));
    }

    #[test]
    fn root_fields_are_counted_through_fragments() {
        let spreads: String = (0..60).map(|_| "...V ").collect();
        let query = format!("{{ {spreads} }} fragment V on Query {{ viewer {{ workspace }} }}");
        let message = refusal(&query);
        assert!(message.contains("more than 50 root fields"), "{message}");
    }

    #[test]
    fn a_connection_costs_its_page_times_its_selection() {
        let cost = |q: &str| check(q, serde_json::json!({ "n": 500 })).unwrap().cost;
        let one = cost("{ accounts(first: 1) { nodes { name } } }");
        let many = cost("{ accounts(first: 100) { nodes { name } } }");
        assert_eq!(one, ROOT_FIELD_COST + 2);
        assert_eq!(many, ROOT_FIELD_COST + 100 * 2);
        // The count is one statement, not one per row.
        assert_eq!(
            cost("{ accounts(first: 500) { totalCount } }"),
            ROOT_FIELD_COST + COUNT_COST
        );
        // Variables page too; nested pages multiply.
        let nested = cost(
            "query($n: Int) { accounts(first: $n) { nodes { touchpoints(first: 10) { nodes { kind } } } } }",
        );
        assert_eq!(nested, ROOT_FIELD_COST + 500 * (2 + 10 * 2));
        // The README's example.
        assert_eq!(
            cost(
                "{ accounts(first: 20) { nodes { name touchpoints(first: 10) { nodes { kind } } } } }"
            ),
            470
        );
        let message = refusal(
            "{ accounts(first: 500) { nodes { touchpoints(first: 500) { nodes { kind } } } } }",
        );
        assert!(message.contains("more than 50000"), "{message}");
    }

    #[test]
    fn deep_nesting_is_refused_with_its_limit() {
        let mut fragments = String::new();
        for i in 0..70 {
            fragments.push_str(&format!("fragment F{i} on Query {{ ...F{} }} ", i + 1));
        }
        fragments.push_str("fragment F70 on Query { viewer { workspace } }");
        let message = refusal(&format!("{{ ...F0 }} {fragments}"));
        assert!(message.contains("more than 64 deep"), "{message}");
        let mut deep = String::from("name");
        for _ in 0..9 {
            deep = format!("accounts {{ nodes {{ {deep} }} }}");
        }
        let message = refusal(&format!("{{ stakeholders {{ nodes {{ {deep} }} }} }}"));
        assert!(message.contains("nested too deep"), "{message}");
    }

    #[test]
    fn a_fragment_spreading_itself_is_bad_input() {
        let result = check(
            "{ ...A } fragment A on Query { viewer { workspace } ...B } fragment B on Query { ...A }",
            serde_json::json!({}),
        );
        assert!(
            matches!(result, Err(ApiError::BadUserInput { .. })),
            "{result:?}"
        );
    }

    #[test]
    fn a_batch_weighs_its_items() {
        let items: Vec<serde_json::Value> = (0..7)
            .map(|i| serde_json::json!({ "externalId": i.to_string() }))
            .collect();
        let checked = check(
            "mutation($input: RecordTouchpointsInput!) { recordTouchpoints(input: $input) { created } }",
            serde_json::json!({ "input": { "touchpoints": items } }),
        )
        .unwrap();
        assert_eq!(checked.weight, 7);
        let literal = check(
            r#"mutation { a: recordTouchpoints(input: {touchpoints: [{externalId: "1"}, {externalId: "2"}]}) { created }
                          b: createAccount(input: {name: "A", domains: ["a.com", "b.com"]}) { account { id } } }"#,
            serde_json::json!({}),
        )
        .unwrap();
        assert_eq!(literal.weight, 3);
        assert_eq!(
            check("{ viewer { workspace } }", serde_json::json!({}))
                .unwrap()
                .weight,
            1
        );
    }

    #[test]
    fn the_playgrounds_introspection_passes() {
        let query = r#"query IntrospectionQuery {
          __schema { queryType { name } mutationType { name } subscriptionType { name }
            types { ...FullType } directives { name description locations args { ...InputValue } } } }
        fragment FullType on __Type { kind name description
          fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
          inputFields { ...InputValue } interfaces { ...TypeRef }
          enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason } possibleTypes { ...TypeRef } }
        fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
        fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
          ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } } }"#;
        assert!(check(query, serde_json::json!({})).is_ok());
    }
}
