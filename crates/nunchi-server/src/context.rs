//! Per-request context (request id and language) held in a task-local, so that an error
//! turned into a response anywhere in a handler carries the id the logs use.

use axum::{extract::Request, http::HeaderValue, middleware::Next, response::Response};
use rand::Rng;

use crate::i18n::Lang;

#[derive(Debug, Clone)]
pub struct RequestCtx {
    pub id: String,
    pub lang: Lang,
}

tokio::task_local! {
    static CTX: RequestCtx;
}

/// The current request's id and language; outside a request, a placeholder.
pub fn current() -> RequestCtx {
    CTX.try_with(Clone::clone).unwrap_or(RequestCtx {
        id: "-".into(),
        lang: Lang::En,
    })
}

/// Gives every request an id (or keeps a sane `x-request-id` from a proxy) and a language
/// from `Accept-Language`, logs the request and echoes the id in the response.
pub async fn middleware(req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=64).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        .map(str::to_string)
        .unwrap_or_else(|| format!("{:016x}", rand::thread_rng().r#gen::<u64>()));
    let lang = Lang::from_accept_language(
        req.headers()
            .get("accept-language")
            .and_then(|v| v.to_str().ok()),
    );
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let started = std::time::Instant::now();
    let ctx = RequestCtx {
        id: id.clone(),
        lang,
    };
    let mut response = CTX.scope(ctx, next.run(req)).await;
    let status = response.status().as_u16();
    tracing::info!(request_id = %id, %method, %path, status, elapsed_ms = started.elapsed().as_secs_f64() * 1e3, "request");
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", v);
    }
    response
}
