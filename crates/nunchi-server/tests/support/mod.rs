//! Shared set-up for the server's in-process tests: an app on a fresh store (the backend
//! `NUNCHI_TEST_BACKEND` names), users of every role with tokens and sessions, and a small
//! HTTP client over `tower::ServiceExt::oneshot`.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use base64::Engine;
use nunchi_core::access::Role;
use nunchi_server::{AppState, Settings, auth::secret};
use nunchi_store::{model::Session, testing};
use serde_json::{Value, json};
use tower::ServiceExt;

pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    /// Per role: an API token with every scope (so the role alone decides).
    pub tokens: HashMap<Role, String>,
    /// Per role: a session cookie value and its CSRF token.
    pub sessions: HashMap<Role, (String, String)>,
    pub user_ids: HashMap<Role, i64>,
    /// The store's database URL, for tests that look at the database itself.
    pub db_url: String,
    _dir: tempfile::TempDir,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub const PASSWORD: &str = "correct horse battery staple";

impl TestApp {
    pub async fn new() -> Self {
        Self::with_settings(|_| {}).await
    }

    /// An app whose settings `change` adjusts first (an SMTP server, a public URL).
    pub async fn with_settings(change: impl FnOnce(&mut Settings)) -> Self {
        Self::build(change, Arc::new(nunchi_app::SystemClock)).await
    }

    /// An app whose operations read the time from `clock`, which the test moves.
    pub async fn with_clock(clock: Arc<nunchi_app::TestClock>) -> Self {
        Self::build(|_| {}, clock).await
    }

    async fn build(change: impl FnOnce(&mut Settings), clock: Arc<dyn nunchi_app::Clock>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db_url = testing::fresh_url(testing::default_backend())
            .await
            .expect("create a test database");
        let store = nunchi_store::connect_with_clock(&db_url, clock)
            .await
            .expect("open the test database");
        let mut settings = Settings::for_tests(dir.path().to_path_buf());
        change(&mut settings);
        let state = AppState::new(store, settings);
        let router = nunchi_server::router(state.clone());
        let hash = nunchi_app::password::hash(PASSWORD).unwrap();
        let (mut tokens, mut sessions, mut user_ids) =
            (HashMap::new(), HashMap::new(), HashMap::new());
        for role in Role::ALL {
            let u = state
                .store
                .create_user(
                    &format!("{}@test.local", role.as_str()),
                    &format!("Test {}", role.as_str()),
                    &hash,
                    role.as_str(),
                    "en",
                )
                .await
                .unwrap();
            let token = secret::new_api_token();
            state
                .store
                .create_api_token(
                    u.id,
                    "test",
                    &secret::hash(&token),
                    &token[..10],
                    "customers:read customers:write data:import data:export admin",
                )
                .await
                .unwrap();
            let cookie = secret::random_token();
            let csrf = secret::random_token();
            state
                .store
                .create_session(&Session {
                    token_hash: secret::hash(&cookie),
                    user_id: u.id,
                    csrf_token: csrf.clone(),
                    created_at: 0,
                    expires_at: i64::MAX,
                })
                .await
                .unwrap();
            tokens.insert(role, token);
            sessions.insert(role, (cookie, csrf));
            user_ids.insert(role, u.id);
        }
        Self {
            state,
            router,
            tokens,
            sessions,
            user_ids,
            db_url,
            _dir: dir,
        }
    }

    pub async fn send(&self, req: Request<Body>) -> Reply {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let body = axum::body::to_bytes(res.into_body(), 64 << 20)
            .await
            .unwrap()
            .to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }

    /// The `Authorization` header value for `role`'s API token.
    #[allow(dead_code)] // Not every test binary sends raw requests.
    pub fn bearer(&self, role: Role) -> String {
        format!("Bearer {}", self.tokens[&role])
    }

    /// A JSON API call as `role` (through its token), or anonymous with `None`.
    pub async fn api(
        &self,
        role: Option<Role>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(role) = role {
            req = req.header(header::AUTHORIZATION, self.bearer(role));
        }
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_string()))
                .unwrap(),
            None => req.body(Body::empty()).unwrap(),
        };
        self.send(req).await
    }

    /// A browser request as `role` through its session cookie.
    pub async fn page(&self, role: Role, method: &str, path: &str, form: Option<&str>) -> Reply {
        let (cookie, _) = &self.sessions[&role];
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::COOKIE, format!("nunchi_session={cookie}"));
        let req = match form {
            Some(f) => req
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(f.to_string()))
                .unwrap(),
            None => req.body(Body::empty()).unwrap(),
        };
        self.send(req).await
    }

    /// Opens a streaming page (server-sent events) as `role` and reads it until its text
    /// holds `until` or two seconds pass; returns the status and what was read.
    #[allow(dead_code)] // Only some test binaries stream.
    pub async fn stream(&self, role: Role, path: &str, until: &str) -> (StatusCode, String) {
        use futures_util::StreamExt;
        let (cookie, _) = &self.sessions[&role];
        let req = Request::builder()
            .uri(path)
            .header(header::COOKIE, format!("nunchi_session={cookie}"))
            .body(Body::empty())
            .unwrap();
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let mut body = res.into_body().into_data_stream();
        let mut text = String::new();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(2);
        while !text.contains(until) {
            match tokio::time::timeout_at(deadline, body.next()).await {
                Ok(Some(Ok(chunk))) => text.push_str(&String::from_utf8_lossy(&chunk)),
                _ => break,
            }
        }
        (status, text)
    }

    /// Serves the app on a free loopback port (for clients that need a real socket, such
    /// as WebSockets) until the test ends; returns its address.
    #[allow(dead_code)] // Only the live-chat tests listen.
    pub async fn listen(&self) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = self
            .router
            .clone()
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    }

    pub fn csrf(&self, role: Role) -> &str {
        &self.sessions[&role].1
    }

    /// Creates a customer through the API as an admin and returns its id.
    pub async fn customer(&self, body: Value) -> i64 {
        let r = self
            .api(Some(Role::Admin), "POST", "/api/v1/customers", Some(body))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        r.json()["id"].as_i64().unwrap()
    }
}

/// Whether a Python module the real peers need is importable; when
/// `NUNCHI_TEST_REQUIRE_PYTHON_PEERS=1` (scripts/test.sh installs them) a missing one fails.
pub fn python_has(module: &str) -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok && std::env::var("NUNCHI_TEST_REQUIRE_PYTHON_PEERS").as_deref() == Ok("1") {
        panic!("python module {module} is missing and NUNCHI_TEST_REQUIRE_PYTHON_PEERS=1");
    }
    ok
}

/// A test peer from `tests/peers/` (a real SMTP server, a webhook receiver) running as its
/// own process on a loopback port it chose and printed; killed when dropped.
pub struct Peer {
    child: std::process::Child,
    pub port: u16,
}

impl Peer {
    pub fn start(script: &str, args: &[&str]) -> Peer {
        use std::io::BufRead;
        // The manifest dir at run time, so a shared target folder does not point elsewhere.
        let root = std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap())
            .join("../../tests/peers");
        let mut child = std::process::Command::new("python3")
            .arg(root.join(script))
            .args(args)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {script}: {e}"));
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{script} printed {line:?}, not a port"));
        Peer { child, port }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits (up to ~10 s) until `check` returns something.
pub async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..200 {
        if let Some(v) = check().await {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// A new event source's write key.
pub async fn write_key(app: &TestApp, channel: Option<&str>) -> String {
    let created = app
        .api(
            Some(Role::Admin),
            "POST",
            "/api/v1/sources",
            Some(json!({"name": "web shop", "channel": channel})),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text());
    let key = created.json()["write_key"].as_str().unwrap().to_string();
    assert!(key.starts_with("nk_"));
    key
}

/// Posts events through the API as a manager; they are stored when it answers.
pub async fn post_events(app: &TestApp, events: Vec<Value>) {
    let r = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/events",
            Some(serde_json::json!({ "events": events })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

/// Customers `{prefix}-0…{prefix}-{n-1}` created through the API, the first `tagged` of
/// them carrying `tag`; their ids in that order.
pub async fn tagged_customers(
    app: &TestApp,
    prefix: &str,
    n: usize,
    tagged: usize,
    tag: &str,
) -> Vec<i64> {
    let mut ids = Vec::new();
    for k in 0..n {
        let tags = if k < tagged { vec![tag] } else { vec![] };
        ids.push(
            app.customer(serde_json::json!({"external_id": format!("{prefix}-{k}"), "tags": tags}))
                .await,
        );
    }
    ids
}

/// Saves a live segment as a manager and returns its id.
pub async fn save_segment(app: &TestApp, name: &str, rule: Value) -> i64 {
    let r = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/segments",
            Some(serde_json::json!({"name": name, "rule": rule})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["id"].as_i64().unwrap()
}

/// A Segment tracking call (`/v1/{call}`) with the write key as Basic auth.
pub async fn segment(
    app: &TestApp,
    key: Option<&str>,
    call: &str,
    body: Vec<u8>,
    gzip: bool,
) -> Reply {
    let mut req = Request::builder()
        .method("POST")
        .uri(format!("/v1/{call}"))
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(k) = key {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{k}:"));
        req = req.header(header::AUTHORIZATION, format!("Basic {basic}"));
    }
    if gzip {
        req = req.header(header::CONTENT_ENCODING, "gzip");
    }
    app.send(req.body(Body::from(body)).unwrap()).await
}

/// One Segment `track` call with the write key.
pub async fn track(app: &TestApp, key: &str, body: Value) -> Reply {
    segment(
        app,
        Some(key),
        "track",
        body.to_string().into_bytes(),
        false,
    )
    .await
}

/// The JSON gzipped, as Segment's libraries may send it.
pub fn gz(v: &Value) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(v.to_string().as_bytes()).unwrap();
    e.finish().unwrap()
}

/// An NPS survey with a text and a multiple-choice follow-up; `extra` overrides fields.
pub fn nps_survey(extra: Value) -> Value {
    let mut s = json!({
        "name": "구매 후 NPS",
        "status": "active",
        "questions": [
            {"id": "nps", "kind": "nps", "required": true,
             "text": {"ko": "추천하시겠어요?", "en": "Would you recommend us?"},
             "logic": [{"when": {"op": "at_least", "value": 9}, "to": "liked"}]},
            {"id": "why", "kind": "text", "text": {"ko": "무엇이 아쉬웠나요?", "en": "What went wrong?"},
             "logic": [{"when": {"op": "answered"}, "to": "end"}]},
            {"id": "liked", "kind": "multi", "text": {"ko": "무엇이 좋았나요?", "en": "What did you like?"},
             "choices": [{"id": "fast", "ko": "빠른 배송", "en": "Fast delivery"}, {"id": "price", "ko": "가격", "en": "Price"}]}
        ]
    });
    for (k, v) in extra.as_object().unwrap() {
        s[k] = v.clone();
    }
    s
}

/// Creates a survey as a manager and returns it.
pub async fn create(app: &TestApp, body: Value) -> Value {
    let r = app
        .api(Some(Role::Manager), "POST", "/api/v1/surveys", Some(body))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()
}

/// A customer's browser: no session, a form post.
pub async fn form(app: &TestApp, path: &str, body: &str) -> Reply {
    app.send(
        Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

/// A GET with no session, as a customer's browser sends it.
pub async fn get(app: &TestApp, path: &str) -> Reply {
    app.send(Request::get(path).body(Body::empty()).unwrap())
        .await
}

/// A widget call: JSON sent as text/plain, no session.
pub async fn public(app: &TestApp, path: &str, body: Value) -> Reply {
    app.send(
        Request::post(path)
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

/// The response token in a survey link's redirect.
pub fn token_of(location: &str) -> String {
    location
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("t="))
        .unwrap()
        .to_string()
}

/// Stores feedback through the API (`{"feedback": items}`, as a manager) and returns the
/// report.
pub async fn add_feedback(app: &TestApp, items: Value) -> Value {
    let r = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/feedback",
            Some(json!({ "feedback": items })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

/// Waits until the background pass has opened at least `n` follow-ups, and returns them.
pub async fn follow_ups(app: &TestApp, n: usize) -> Vec<Value> {
    for _ in 0..100 {
        let list = app
            .api(Some(Role::Agent), "GET", "/api/v1/follow-ups", None)
            .await
            .json();
        let list = list.as_array().unwrap().clone();
        if list.len() >= n {
            return list;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("fewer than {n} follow-ups were opened");
}

/// Sends Segment `track`/`page`/… messages as one `/v1/batch` call and checks it is
/// acknowledged.
pub async fn send_batch(app: &TestApp, key: &str, batch: Vec<Value>) {
    let r = segment(
        app,
        Some(key),
        "batch",
        json!({ "batch": batch }).to_string().into_bytes(),
        false,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

/// Uploads a customer CSV through `POST /api/v1/imports/customers` (as a manager) and
/// returns the job's id; a job runner must be running for it to finish.
pub async fn start_customer_import(app: &TestApp, body: Vec<u8>, dry_run: bool) -> i64 {
    let uri = format!(
        "/api/v1/imports/customers{}",
        if dry_run { "?dry_run=true" } else { "" }
    );
    let r = app
        .send(
            Request::builder()
                .method("POST")
                .uri(uri)
                .header(
                    header::AUTHORIZATION,
                    format!("Bearer {}", app.tokens[&Role::Manager]),
                )
                .header(header::CONTENT_TYPE, "text/csv")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    r.json()["job_id"].as_i64().unwrap()
}

/// Waits until job `id` is done and returns its result as JSON; a failed job fails the test.
pub async fn job_result(app: &TestApp, id: i64) -> Value {
    for _ in 0..200 {
        let job = app
            .api(
                Some(Role::Manager),
                "GET",
                &format!("/api/v1/jobs/{id}"),
                None,
            )
            .await
            .json();
        if job["status"] == "done" {
            return serde_json::from_str(job["result"].as_str().unwrap()).unwrap();
        }
        assert_ne!(job["status"], "failed", "{job}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("job {id} did not finish");
}

/// Messages the SMTP sink stored, as text.
pub fn mailbox(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

/// A real SMTP server (aiosmtpd) storing into a folder, and an app that sends to it with
/// survey links on https://cx.example.com; `None` (the test skips) without aiosmtpd.
pub async fn with_smtp() -> Option<(tempfile::TempDir, Peer, TestApp)> {
    if !python_has("aiosmtpd") {
        eprintln!("aiosmtpd is not installed; skipping (scripts/test.sh installs it)");
        return None;
    }
    let mail_dir = tempfile::tempdir().unwrap();
    let smtp = Peer::start("smtp_sink.py", &[mail_dir.path().to_str().unwrap()]);
    let app = TestApp::with_settings(|s| {
        s.app.smtp_url = Some(format!("smtp://127.0.0.1:{}", smtp.port));
        s.app.public_url = "https://cx.example.com".into();
    })
    .await;
    Some((mail_dir, smtp, app))
}
