//! The JSON API in-process: role × route matrix, OpenAPI coverage, the Customer 360 story,
//! error shapes, CSV import through a job, paging.

mod support;

use std::collections::BTreeSet;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use nunchi_core::access::{Permission, Role};
use serde_json::json;
use support::{TestApp, job_result, start_customer_import};

/// A documented operation: method, path, and the permission its bearer scope declares.
struct Operation {
    method: &'static str,
    path: &'static str,
    permission: Option<Permission>,
}

/// Every operation of the served OpenAPI document, the one declaration the router and the
/// permission layer are built from.
async fn documented(app: &TestApp) -> Vec<Operation> {
    let doc = app.api(None, "GET", "/api/openapi.json", None).await.json();
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let scopes = op["security"][0]["bearer"]
                .as_array()
                .unwrap_or_else(|| panic!("{method} {path} declares no bearer security"));
            assert!(scopes.len() <= 1, "{method} {path}: {scopes:?}");
            ops.push(Operation {
                method: method.to_uppercase().leak(),
                path: path.clone().leak(),
                permission: scopes
                    .first()
                    .map(|s| Permission::parse(s.as_str().unwrap()).unwrap()),
            });
        }
    }
    ops
}

fn concrete(path: &str, customer: i64, user: i64) -> String {
    path.replace("/users/{id}", &format!("/users/{user}"))
        .replace("{id}", &customer.to_string())
        .replace("{kind}/{value}", "email/nobody@example.com")
        .replace("imports/{kind}", "imports/customers")
        .replace("{file}", "customers.csv")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_enforces_its_permission_for_every_role() {
    let app = TestApp::new().await;
    let mut failures = vec![];
    let operations = documented(&app).await;
    assert!(operations.len() > 50, "{} operations", operations.len());
    for spec in &operations {
        // A fresh customer per route, so that erasing or merging one does not change the next.
        let customer = app.customer(json!({ "name": "매트릭스", "external_id": format!("M-{}", spec.path.len() * 100 + spec.method.len()) + spec.method + spec.path })).await;
        let anonymous = app
            .api(
                None,
                spec.method,
                &concrete(spec.path, customer, 0),
                Some(json!({})),
            )
            .await;
        if anonymous.status != StatusCode::UNAUTHORIZED {
            failures.push(format!(
                "{} {} without a token gave {}",
                spec.method, spec.path, anonymous.status
            ));
        }
        for role in [Role::Viewer, Role::Agent, Role::Manager, Role::Admin] {
            let path = concrete(spec.path, customer, app.user_ids[&Role::Viewer]);
            let req = Request::builder().method(spec.method).uri(&path).header(
                header::AUTHORIZATION,
                format!("Bearer {}", app.tokens[&role]),
            );
            let req = if path.contains("/imports/") {
                req.header(header::CONTENT_TYPE, "text/csv")
                    .body(Body::from("external_id,name\nX-1,x\n"))
                    .unwrap()
            } else {
                req.header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from("{}"))
                    .unwrap()
            };
            let status = app.send(req).await.status;
            let allowed = spec.permission.is_none_or(|p| role.has(p));
            let ok = if allowed {
                status != StatusCode::FORBIDDEN
                    && status != StatusCode::UNAUTHORIZED
                    && status != StatusCode::METHOD_NOT_ALLOWED
            } else {
                status == StatusCode::FORBIDDEN
            };
            if !ok {
                failures.push(format!(
                    "{} {} as {}: {status} (allowed: {allowed})",
                    spec.method,
                    spec.path,
                    role.as_str()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_is_3_1_and_declares_each_operations_permission() {
    let app = TestApp::new().await;
    let doc = app.api(None, "GET", "/api/openapi.json", None).await.json();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let mut operations = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            operations.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    // The rights that guard personal data are pinned here, apart from their declaration,
    // so loosening one is a visible change to this test.
    let needs: std::collections::BTreeMap<String, Option<Permission>> = documented(&app)
        .await
        .into_iter()
        .map(|o| (format!("{} {}", o.method, o.path), o.permission))
        .collect();
    assert_eq!(needs.len(), operations.len());
    for (op, permission) in [
        ("DELETE /api/v1/customers/{id}", Permission::CustomersErase),
        (
            "POST /api/v1/customers/{id}/merge",
            Permission::CustomersMerge,
        ),
        ("GET /api/v1/customers/{id}/export", Permission::DataExport),
        ("GET /api/v1/exports/{file}", Permission::DataExport),
        ("POST /api/v1/users", Permission::UsersManage),
        ("PATCH /api/v1/users/{id}", Permission::UsersManage),
        ("GET /api/v1/audit", Permission::AuditRead),
        ("POST /api/v1/webhooks", Permission::UsersManage),
        ("POST /api/v1/sources", Permission::UsersManage),
        ("GET /api/v1/customers", Permission::CustomersRead),
    ] {
        assert_eq!(needs.get(op), Some(&Some(permission)), "{op}");
    }
    let open: Vec<&String> = needs
        .iter()
        .filter(|(_, p)| p.is_none())
        .map(|(o, _)| o)
        .collect();
    assert_eq!(
        open,
        [
            "DELETE /api/v1/tokens/{id}",
            "GET /api/v1/me",
            "GET /api/v1/tokens",
            "POST /api/v1/tokens"
        ],
        "only a caller's own account and tokens need no permission"
    );
    // Every schema a document refers to is defined in it.
    let text = doc.to_string();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for part in text.split("\"#/components/schemas/").skip(1) {
        let name = part.split('"').next().unwrap();
        assert!(schemas.contains_key(name), "dangling $ref to {name}");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    // Every path parameter appears in its path, and query structs are documented as queries.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap();
                if p["in"] == "path" {
                    assert!(
                        path.contains(&format!("{{{name}}}")),
                        "{method} {path}: path parameter {name} is not in the path"
                    );
                }
            }
        }
    }
    let mut ids: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|i| i.as_object().unwrap().values())
        .map(|op| op["operationId"].as_str().unwrap())
        .collect();
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n, "operation ids are unique");
    let list_params = doc["paths"]["/api/v1/customers"]["get"]["parameters"].to_string();
    assert!(
        list_params.contains(r#""in":"query""#) && list_params.contains(r#""name":"cursor""#),
        "{list_params}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_360_through_the_api() {
    let app = TestApp::new().await;
    let created = app
        .api(Some(Role::Agent), "POST", "/api/v1/customers", Some(json!({
            "name": "김민준", "email": "Minjun.Kim@Example.com", "phone": "010-1234-5678", "external_id": "C-100",
            "language": "ko", "time_zone": "Asia/Seoul", "preferred_channel": "kakao", "tags": ["vip"],
            "identities": [{"kind": "kakao", "value": "kakao-777"}],
            "attributes": {"skin_type": "dry", "visits": 3},
            "consents": [{"channel": "sms", "purpose": "marketing", "granted": true, "source": "signup_form"}],
            "life_events": [{"kind": "birthday", "date": "1990-05-08"}]
        })))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let c = created.json();
    let id = c["id"].as_i64().unwrap();
    assert_eq!(c["identities"].as_array().unwrap().len(), 4);
    assert_eq!(c["consents"][0]["source"], "signup_form");

    for (kind, value) in [
        ("email", "minjun.kim@example.com"),
        ("phone", "+82 10 1234 5678"),
        ("external_id", "C-100"),
        ("kakao", "kakao-777"),
    ] {
        let r = app
            .api(
                Some(Role::Viewer),
                "GET",
                &format!(
                    "/api/v1/customers/lookup?kind={kind}&value={}",
                    urlencode(value)
                ),
                None,
            )
            .await;
        assert_eq!(
            (r.status, r.json()["id"].as_i64()),
            (StatusCode::OK, Some(id)),
            "lookup by {kind}"
        );
    }
    let hits = app
        .api(
            Some(Role::Agent),
            "GET",
            &format!("/api/v1/search?q={}", urlencode("김민")),
            None,
        )
        .await
        .json();
    assert_eq!(hits[0]["id"].as_i64(), Some(id));
    assert_eq!(hits[0]["name"], "김민준");

    // Viewers see masked personal data and cannot write.
    let masked = app
        .api(
            Some(Role::Viewer),
            "GET",
            &format!("/api/v1/customers/{id}"),
            None,
        )
        .await
        .json();
    assert_eq!(masked["name"], "김*준");
    let email = masked["identities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "email")
        .unwrap()["value"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        email.contains('*') && !email.contains("minjun.kim"),
        "{email}"
    );
    let masked_hits = app
        .api(
            Some(Role::Viewer),
            "GET",
            &format!("/api/v1/search?q={}", urlencode("김민")),
            None,
        )
        .await
        .json();
    assert_eq!(masked_hits[0]["phone"], "+82******5678");
    let denied = app
        .api(
            Some(Role::Viewer),
            "POST",
            &format!("/api/v1/customers/{id}/notes"),
            Some(json!({"body": "x"})),
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.api(None, "GET", &format!("/api/v1/customers/{id}"), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    let note = app
        .api(
            Some(Role::Agent),
            "POST",
            &format!("/api/v1/customers/{id}/notes"),
            Some(json!({"body": "배송 문의, 내일 도착 안내"})),
        )
        .await;
    assert_eq!(note.status, StatusCode::CREATED);
    let dup = app
        .customer(
            json!({"name": "Minjun K.", "email": "mj.work@example.com", "external_id": "C-101"}),
        )
        .await;
    app.api(Some(Role::Agent), "POST", "/api/v1/orders", Some(json!({"lines": [
        {"order_id": "O-1", "customer_external_id": "C-101", "placed_at": "2026-05-01T10:00:00+09:00", "product": "수분 크림", "unit_price": "32000", "quantity": 2},
        {"order_id": "O-2", "customer_external_id": "NOBODY", "placed_at": "2026-05-01T10:00:00+09:00", "product": "x", "unit_price": "1", "quantity": 1},
        {"order_id": "O-3", "customer_external_id": "C-101", "placed_at": "yesterday", "product": "x", "unit_price": "1", "quantity": 1}
    ]}))).await;
    let agent_merge = app
        .api(
            Some(Role::Agent),
            "POST",
            &format!("/api/v1/customers/{id}/merge"),
            Some(json!({"source_id": dup})),
        )
        .await;
    assert_eq!(
        agent_merge.status,
        StatusCode::FORBIDDEN,
        "agents cannot merge"
    );
    let merged = app
        .api(
            Some(Role::Manager),
            "POST",
            &format!("/api/v1/customers/{id}/merge"),
            Some(json!({"source_id": dup})),
        )
        .await;
    assert_eq!(merged.status, StatusCode::OK, "{}", merged.text());
    let orders = app
        .api(
            Some(Role::Agent),
            "GET",
            &format!("/api/v1/customers/{id}/orders"),
            None,
        )
        .await
        .json();
    assert_eq!(
        orders[0]["total_minor"], 64000,
        "the duplicate's order moved with the merge"
    );
    let tomb = app
        .api(
            Some(Role::Agent),
            "GET",
            &format!("/api/v1/customers/{dup}"),
            None,
        )
        .await
        .json();
    assert_eq!(tomb["merged_into"].as_i64(), Some(id));

    let timeline = app
        .api(
            Some(Role::Agent),
            "GET",
            &format!("/api/v1/customers/{id}/timeline?limit=3"),
            None,
        )
        .await
        .json();
    assert_eq!(timeline["items"].as_array().unwrap().len(), 3);
    let cursor = timeline["next_cursor"].as_str().unwrap();
    let next = app
        .api(
            Some(Role::Agent),
            "GET",
            &format!("/api/v1/customers/{id}/timeline?limit=3&cursor={cursor}"),
            None,
        )
        .await
        .json();
    assert_ne!(next["items"][0], timeline["items"][0]);

    let export = app
        .api(
            Some(Role::Manager),
            "GET",
            &format!("/api/v1/customers/{id}/export"),
            None,
        )
        .await;
    assert_eq!(export.status, StatusCode::OK);
    let e = export.json();
    assert_eq!(e["customer"]["name"], "김민준");
    assert_eq!(e["notes"][0]["body"], "배송 문의, 내일 도착 안내");
    assert_eq!(e["orders"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.api(
            Some(Role::Agent),
            "GET",
            &format!("/api/v1/customers/{id}/export"),
            None
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );

    assert_eq!(
        app.api(
            Some(Role::Manager),
            "DELETE",
            &format!("/api/v1/customers/{id}"),
            None
        )
        .await
        .status,
        StatusCode::FORBIDDEN,
        "only admins erase"
    );
    assert_eq!(
        app.api(
            Some(Role::Admin),
            "DELETE",
            &format!("/api/v1/customers/{id}"),
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    let gone = app
        .api(
            Some(Role::Admin),
            "GET",
            "/api/v1/customers/lookup?kind=email&value=minjun.kim%40example.com",
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let erased = app
        .api(
            Some(Role::Admin),
            "GET",
            &format!("/api/v1/customers/{id}"),
            None,
        )
        .await
        .json();
    assert!(erased["name"].is_null() && erased["identities"].as_array().unwrap().is_empty());
    assert!(
        app.api(
            Some(Role::Admin),
            "GET",
            &format!("/api/v1/search?q={}", urlencode("김민")),
            None
        )
        .await
        .json()
        .as_array()
        .unwrap()
        .is_empty()
    );

    let audit = app
        .api(Some(Role::Admin), "GET", "/api/v1/audit", None)
        .await
        .json();
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in ["customer.merge", "customer.export", "customer.erase"] {
        assert!(
            actions.contains(&a),
            "{a} missing from the audit log: {actions:?}"
        );
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_have_one_shape_and_speak_the_callers_language() {
    let app = TestApp::new().await;
    let check = |r: &support::Reply, status: StatusCode, code: &str| {
        assert_eq!(r.status, status, "{}", r.text());
        let e = r.json();
        assert_eq!(e["error"]["code"], code, "{e}");
        assert!(!e["error"]["message"].as_str().unwrap().is_empty());
        assert_eq!(
            e["error"]["request_id"].as_str().unwrap(),
            r.headers["x-request-id"].to_str().unwrap()
        );
    };
    let token = format!("Bearer {}", app.tokens[&Role::Admin]);
    let send = |ct: &'static str, body: &'static str, lang: &'static str| {
        Request::builder()
            .method("POST")
            .uri("/api/v1/customers")
            .header(header::AUTHORIZATION, token.clone())
            .header(header::CONTENT_TYPE, ct)
            .header(header::ACCEPT_LANGUAGE, lang)
            .body(Body::from(body))
            .unwrap()
    };
    check(
        &app.send(send("application/json", "{not json", "en")).await,
        StatusCode::BAD_REQUEST,
        "invalid_json",
    );
    check(
        &app.send(send("text/plain", "{}", "en")).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    check(
        &app.send(send("application/json", r#"{"email": "no-at-sign"}"#, "en"))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_email",
    );
    check(
        &app.send(send("application/json", r#"{"favourite": 1}"#, "en"))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_json",
    );
    let korean = app
        .send(send(
            "application/json",
            r#"{"phone": "12"}"#,
            "ko-KR,ko;q=0.9",
        ))
        .await;
    check(&korean, StatusCode::BAD_REQUEST, "invalid_phone");
    assert!(
        korean.json()["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("요청이 올바르지 않습니다")
    );
    let big = "x".repeat(2 << 20);
    let too_big = Request::builder()
        .method("POST")
        .uri("/api/v1/customers")
        .header(header::AUTHORIZATION, token.clone())
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(format!("{{\"name\": \"{big}\"}}")))
        .unwrap();
    check(
        &app.send(too_big).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    );
    check(
        &app.api(Some(Role::Admin), "GET", "/api/v1/nothing-here", None)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    check(
        &app.api(Some(Role::Admin), "GET", "/api/v1/customers/987654", None)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    check(
        &app.api(Some(Role::Admin), "GET", "/api/v1/customers/abc", None)
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_path",
    );
    check(
        &app.api(
            Some(Role::Admin),
            "GET",
            "/api/v1/customers?limit=100000",
            None,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_limit",
    );
    check(
        &app.api(
            Some(Role::Admin),
            "GET",
            "/api/v1/customers?cursor=%%%",
            None,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_cursor",
    );
    check(
        &app.api(
            Some(Role::Admin),
            "GET",
            "/api/v1/customers?limit=ten",
            None,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    );
    let bad_token = Request::builder()
        .uri("/api/v1/me")
        .header(header::AUTHORIZATION, "Bearer nch_forged")
        .body(Body::empty())
        .unwrap();
    check(
        &app.send(bad_token).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    let dup = app
        .api(
            Some(Role::Admin),
            "POST",
            "/api/v1/customers",
            Some(json!({"email": "same@example.com"})),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CREATED);
    check(
        &app.api(
            Some(Role::Admin),
            "POST",
            "/api/v1/customers",
            Some(json!({"email": "same@example.com"})),
        )
        .await,
        StatusCode::CONFLICT,
        "conflict",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scoped_tokens_do_less_than_their_role() {
    let app = TestApp::new().await;
    let created = app
        .api(
            Some(Role::Admin),
            "POST",
            "/api/v1/tokens",
            Some(json!({"name": "read only", "scopes": ["customers:read"]})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let token = created.json()["token"].as_str().unwrap().to_string();
    let with = |method: &str, path: &str, body: &str| {
        Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    assert_eq!(
        app.send(with("GET", "/api/v1/customers", "")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.send(with(
            "POST",
            "/api/v1/customers",
            r#"{"name": "x", "email": "x@example.com"}"#
        ))
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.send(with("GET", "/api/v1/audit", "")).await.status,
        StatusCode::FORBIDDEN
    );
    let listed = app
        .api(Some(Role::Admin), "GET", "/api/v1/tokens", None)
        .await
        .json();
    assert!(
        listed.to_string().contains("read only") && !listed.to_string().contains(&token),
        "tokens are never shown again"
    );
    let id = created.json()["details"]["id"].as_i64().unwrap();
    assert_eq!(
        app.api(
            Some(Role::Admin),
            "DELETE",
            &format!("/api/v1/tokens/{id}"),
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.send(with("GET", "/api/v1/customers", "")).await.status,
        StatusCode::UNAUTHORIZED,
        "revoked"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_import_runs_as_a_job_and_reports_bad_lines() {
    let app = TestApp::new().await;
    let (_stop, stop_rx) = tokio::sync::watch::channel(false);
    let runner = nunchi_app::jobs::spawn_runner(
        app.state.app.clone(),
        "test-worker".into(),
        stop_rx,
        |_, _| {},
    );
    let csv = "external_id,name,email,phone,tags,birthday\n\
        K-1,김서연,seoyeon@example.com,010-1111-2222,vip,1992-03-04\n\
        K-2,이도윤,not-an-email,010-3333-4444,,\n\
        K-3,박지우,jiwoo@example.com,12,,\n\
        K-4,Grace Park,grace@example.com,+1 415 555 0100,,1990-02-30\n\
        K-5,최하은,haeun@example.com,010-5555-6666,,\n";
    let dry = start_customer_import(&app, csv.into(), true).await;
    let report = job_result(&app, dry).await;
    assert_eq!(
        (
            report["rows"].as_i64(),
            report["imported"].as_i64(),
            report["rejected"].as_i64()
        ),
        (Some(5), Some(2), Some(3)),
        "{report}"
    );
    assert_eq!(
        app.api(Some(Role::Manager), "GET", "/api/v1/stats", None)
            .await
            .json()["customers"],
        0,
        "a dry run saves nothing"
    );

    let real = start_customer_import(&app, csv.into(), false).await;
    let report = job_result(&app, real).await;
    let lines: Vec<i64> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_i64().unwrap())
        .collect();
    assert_eq!(lines, vec![3, 4, 5], "{report}");
    assert!(
        report["errors"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("email")
    );
    assert!(
        report["errors"][1]["reason"]
            .as_str()
            .unwrap()
            .contains("phone")
    );
    assert!(
        report["errors"][2]["reason"]
            .as_str()
            .unwrap()
            .contains("birthday")
    );
    assert_eq!(report["created"], 2);

    // Export, then import the export again: everything is an update, nothing is created.
    let exported = app
        .api(
            Some(Role::Manager),
            "GET",
            "/api/v1/exports/customers.csv",
            None,
        )
        .await;
    assert_eq!(exported.status, StatusCode::OK);
    let text = exported.text();
    assert!(
        text.starts_with("\u{feff}external_id,name,email")
            && text.contains("김서연")
            && text.contains("+821011112222"),
        "{text}"
    );
    let again = start_customer_import(&app, text.into_bytes(), false).await;
    let report = job_result(&app, again).await;
    assert_eq!(
        (
            report["updated"].as_i64(),
            report["created"].as_i64(),
            report["rejected"].as_i64()
        ),
        (Some(2), Some(0), Some(0)),
        "{report}"
    );

    let not_csv = Request::builder()
        .method("POST")
        .uri("/api/v1/imports/customers")
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", app.tokens[&Role::Manager]),
        )
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(
        app.send(not_csv).await.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let bad_header = start_customer_import(&app, "id,colour\n1,blue\n".into(), false).await;
    let report = job_result(&app, bad_header).await;
    assert!(
        report["file_error"]
            .as_str()
            .unwrap()
            .contains("unknown column"),
        "{report}"
    );
    runner.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_metrics() {
    let app = TestApp::new().await;
    assert_eq!(
        app.api(None, "GET", "/healthz", None).await.status,
        StatusCode::OK
    );
    let ready = app.api(None, "GET", "/readyz", None).await.json();
    assert_eq!(ready["status"], "ready");
    app.api(Some(Role::Admin), "GET", "/api/v1/customers", None)
        .await;
    let metrics = app.api(None, "GET", "/metrics", None).await.text();
    assert!(
        metrics.contains(
            "nunchi_http_requests_total{method=\"GET\",route=\"/api/v1/customers\",status=\"200\"}"
        ),
        "{metrics}"
    );
    assert!(metrics.contains("nunchi_up 1"));
}
