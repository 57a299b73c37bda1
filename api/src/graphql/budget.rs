//! The response-size cap: a query whose results outgrow
//! [`QueryLimits::max_response_bytes`](super::limits::QueryLimits) is stopped
//! while it runs and answers one `QUERY_TOO_COMPLEX` error, instead of
//! building a response of any size in memory.
//!
//! The bytes are counted as fields resolve: each field its key, each leaf its
//! value as JSON would write it (an object's fields count themselves). The
//! count is close to the serialised size, which is all a cap needs.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextResolve, ResolveInfo,
};
use async_graphql::{ErrorExtensions, Response, ServerResult, Value};
use tokio::sync::Notify;

/// A query's allowance of response bytes; attach it to the request
/// (`Request::data`) to cap the request's response. Mutations go without
/// one: their writes are committed before their payload is built, and a
/// payload is bounded by the batch limits.
#[derive(Debug)]
pub struct ResponseBudget {
    limit: usize,
    used: AtomicUsize,
    exceeded: Notify,
}

impl ResponseBudget {
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            used: AtomicUsize::new(0),
            exceeded: Notify::new(),
        }
    }

    /// Counts `bytes` more; false once the budget is spent.
    fn spend(&self, bytes: usize) -> bool {
        let used = self
            .used
            .fetch_add(bytes, Ordering::Relaxed)
            .saturating_add(bytes);
        if used > self.limit {
            self.exceeded.notify_one();
            false
        } else {
            true
        }
    }

    fn spent(&self) -> bool {
        self.used.load(Ordering::Relaxed) > self.limit
    }

    fn error(&self) -> async_graphql::Error {
        async_graphql::Error::new(format!(
            "the response would be larger than {} bytes, the most a response may hold: ask for smaller pages or fewer fields",
            self.limit
        ))
        .extend_with(|_, ext| ext.set("code", "QUERY_TOO_COMPLEX"))
    }
}

/// Installs [`ResponseBudget`] checking on the schema.
pub struct ResponseBudgets;

impl ExtensionFactory for ResponseBudgets {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Counting)
    }
}

struct Counting;

#[async_trait::async_trait]
impl Extension for Counting {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let Some(budget) = ctx.data_opt::<ResponseBudget>() else {
            return next.run(ctx, operation_name).await;
        };
        // Whichever comes first: the whole response, or the budget spent (the
        // execution is then dropped, with every resolver it was running).
        let response = tokio::select! {
            biased;
            () = budget.exceeded.notified() => None,
            response = next.run(ctx, operation_name) => Some(response),
        };
        match response {
            Some(response) if !budget.spent() => response,
            // One error for the whole response, whatever the fields said.
            _ => Response::from_errors(vec![budget.error().into_server_error(Default::default())]),
        }
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let Some(budget) = ctx.data_opt::<ResponseBudget>() else {
            return next.run(ctx, info).await;
        };
        let key = info.alias.unwrap_or(info.name).len() + 4;
        let leaf = info.field.selection_set.node.items.is_empty();
        let pos = info.field.name.pos;
        let value = next.run(ctx, info).await?;
        let bytes = match (&value, leaf) {
            (Some(value), true) => json_len(value),
            // Objects' fields were counted as they resolved.
            _ => 0,
        };
        if budget.spend(key + bytes) {
            Ok(value)
        } else {
            Err(budget.error().into_server_error(pos))
        }
    }
}

/// About the length of `value` written as JSON.
fn json_len(value: &Value) -> usize {
    match value {
        Value::Null => 4,
        Value::Boolean(_) => 5,
        Value::Number(_) => 20,
        Value::String(s) => s.len() + 2,
        Value::Enum(name) => name.len() + 2,
        Value::Binary(bytes) => bytes.len() * 4 / 3 + 4,
        Value::List(items) => items.iter().map(|v| json_len(v) + 1).sum::<usize>() + 2,
        Value::Object(fields) => {
            fields
                .iter()
                .map(|(k, v)| k.len() + 4 + json_len(v))
                .sum::<usize>()
                + 2
        }
    }
}
