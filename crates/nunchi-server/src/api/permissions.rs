//! The permission each `/api/v1` operation needs, read from the OpenAPI document (the
//! bearer scope its `#[utoipa::path]` declares), and the layer that checks it before the
//! handler runs. The route, its documentation and its permission are one declaration.

use std::{collections::HashMap, sync::Arc};

use axum::{
    extract::{FromRequestParts, MatchedPath, Request, State},
    http::Method,
    middleware::Next,
    response::{IntoResponse, Response},
};
use nunchi_core::access::Permission;
use utoipa::openapi::{OpenApi, path::HttpMethod};

use crate::{AppState, auth::Auth};

/// (method, path in axum's `{param}` syntax) → the permission needed; `None`: any
/// signed-in caller.
#[derive(Debug, Default)]
pub struct Table(HashMap<(Method, String), Option<Permission>>);

const SCHEME: &str = "bearer";

impl Table {
    /// Reads every operation's bearer scope. An operation that declares no security, or
    /// names an unknown permission, is an error: the server refuses to start rather than
    /// serve a route whose rights nobody stated.
    pub fn from_document(doc: &OpenApi) -> Result<Self, String> {
        let mut table = HashMap::new();
        for (path, item) in &doc.paths.paths {
            let operations = [
                (HttpMethod::Get, &item.get),
                (HttpMethod::Post, &item.post),
                (HttpMethod::Put, &item.put),
                (HttpMethod::Patch, &item.patch),
                (HttpMethod::Delete, &item.delete),
            ];
            for (method, op) in operations {
                let Some(op) = op else { continue };
                let method = axum_method(method);
                let what = format!("{method} {path}");
                let requirement = op
                    .security
                    .as_ref()
                    .and_then(|s| s.first())
                    .ok_or_else(|| format!("{what} declares no security"))?;
                let requirement = serde_json::to_value(requirement).map_err(|e| e.to_string())?;
                let scopes = requirement
                    .get(SCHEME)
                    .and_then(|v| v.as_array())
                    .ok_or_else(|| format!("{what} declares no {SCHEME} requirement"))?;
                let permission = match scopes.as_slice() {
                    [] => None,
                    [one] => Some(
                        Permission::parse(one.as_str().unwrap_or_default())
                            .map_err(|e| format!("{what}: {e}"))?,
                    ),
                    _ => return Err(format!("{what} needs exactly one permission")),
                };
                table.insert((method, path.clone()), permission);
            }
        }
        Ok(Table(table))
    }

    /// `Some(need)` for a documented route; `None` for a method the route does not serve.
    fn need(&self, method: &Method, path: &str) -> Option<Option<Permission>> {
        let method = if method == Method::HEAD {
            Method::GET
        } else {
            method.clone()
        };
        self.0.get(&(method, path.to_string())).copied()
    }
}

fn axum_method(m: HttpMethod) -> Method {
    match m {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Options => Method::OPTIONS,
        HttpMethod::Trace => Method::TRACE,
    }
}

#[derive(Clone)]
pub struct Guard {
    pub state: AppState,
    pub table: Arc<Table>,
}

/// Authenticates the caller and checks the route's declared permission (401, 403) before
/// the handler reads the request; the handler's `Auth` extractor reuses the result.
pub async fn enforce(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let need = parts
        .extensions
        .get::<MatchedPath>()
        .and_then(|m| guard.table.need(&parts.method, m.as_str()));
    // A method the route does not serve: the router answers 405.
    let Some(need) = need else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    let auth = match Auth::from_request_parts(&mut parts, &guard.state).await {
        Ok(auth) => auth,
        Err(e) => return e.into_response(),
    };
    if let Some(p) = need
        && let Err(e) = auth.require(p)
    {
        return e.into_response();
    }
    parts.extensions.insert(auth);
    next.run(Request::from_parts(parts, body)).await
}
