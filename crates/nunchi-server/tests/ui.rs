//! The web UI in-process: signing in (CSRF, lockout, rate limit), every page for every role,
//! CSRF on forms, masking for viewers, Korean and English.

mod support;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use nunchi_core::access::Role;
use nunchi_server::routes;
use serde_json::json;
use support::{PASSWORD, TestApp};

/// GETs the sign-in page and returns (pre-session cookie, csrf token from the form).
async fn sign_in_form(app: &TestApp) -> (String, String) {
    let r = app
        .send(
            Request::builder()
                .uri("/signin")
                .header(header::ACCEPT_LANGUAGE, "ko")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("로그인"), "Korean by Accept-Language");
    let cookie = r.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert!(
        r.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("HttpOnly")
    );
    let html = r.text();
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    (cookie, csrf)
}

async fn post_sign_in(
    app: &TestApp,
    cookie: &str,
    csrf: &str,
    email: &str,
    password: &str,
) -> support::Reply {
    let body = format!(
        "email={}&password={}&csrf={csrf}",
        email.replace('@', "%40"),
        password.replace(' ', "+")
    );
    app.send(
        Request::builder()
            .method("POST")
            .uri("/signin")
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_needs_the_forms_csrf_token_and_locks_after_five_failures() {
    let app = TestApp::new().await;
    let (cookie, csrf) = sign_in_form(&app).await;
    assert_eq!(
        post_sign_in(&app, &cookie, "forged", "agent@test.local", PASSWORD)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let ok = post_sign_in(&app, &cookie, &csrf, "agent@test.local", PASSWORD).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text());
    let session = ok
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with("nunchi_session="))
        .unwrap()
        .to_string();
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"));
    let session_cookie = session.split(';').next().unwrap().to_string();
    let home = app
        .send(
            Request::builder()
                .uri("/")
                .header(header::COOKIE, &session_cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.text().contains("Test agent"));

    // A cookie-borne API write needs the session's CSRF token in a header.
    let create = |csrf: Option<&str>| {
        let mut r = Request::builder()
            .method("POST")
            .uri("/api/v1/customers")
            .header(header::COOKIE, &session_cookie)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(c) = csrf {
            r = r.header("x-csrf-token", c);
        }
        r.body(Body::from(
            json!({"name": "쿠키 고객", "email": "cookie@example.com"}).to_string(),
        ))
        .unwrap()
    };
    assert_eq!(app.send(create(None)).await.status, StatusCode::FORBIDDEN);

    for _ in 0..5 {
        let r = post_sign_in(
            &app,
            &cookie,
            &csrf,
            "viewer@test.local",
            "wrong password!!",
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let locked = post_sign_in(&app, &cookie, &csrf, "viewer@test.local", PASSWORD).await;
    assert_eq!(
        locked.status,
        StatusCode::UNAUTHORIZED,
        "the right password does not open a locked account"
    );
    assert!(locked.text().contains("15"), "{}", locked.text());
    let unknown = post_sign_in(&app, &cookie, &csrf, "nobody@test.local", PASSWORD).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    let audit = app
        .api(Some(Role::Admin), "GET", "/api/v1/audit?limit=50", None)
        .await
        .json();
    let actions: Vec<String> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert!(
        actions.contains(&"sign_in".to_string())
            && actions.contains(&"sign_in.failed".to_string())
            && actions.contains(&"sign_in.locked".to_string()),
        "{actions:?}"
    );
    let anon = app
        .send(
            Request::builder()
                .uri("/customers")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        (
            anon.status,
            anon.headers[header::LOCATION].to_str().unwrap()
        ),
        (StatusCode::SEE_OTHER, "/signin")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_renders_for_roles_that_may_see_it() {
    let app = TestApp::new().await;
    let id = app.customer(json!({"name": "김하나", "email": "hana@example.com", "phone": "010-2222-3333", "external_id": "P-1", "tags": ["vip"]})).await;
    let survey = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/surveys",
            Some(json!({"name": "NPS", "questions": [{"id": "nps", "kind": "nps", "text": {"en": "Recommend us?"}}]})),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let segment = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/segments",
            Some(json!({"name": "VIP", "rule": {"type": "tag", "tag": "vip"}})),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let persona = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/personas",
            Some(json!({"name_ko": "지현", "segment_id": segment, "channels": ["app"]})),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let photo = app
        .send(
            Request::builder()
                .method("PUT")
                .uri(format!("/api/v1/personas/{persona}/photo"))
                .header(header::AUTHORIZATION, app.bearer(Role::Manager))
                .body(Body::from(&b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"[..]))
                .unwrap(),
        )
        .await;
    assert_eq!(photo.status, StatusCode::NO_CONTENT, "{}", photo.text());
    let mail = app
        .send(
            Request::builder()
                .method("POST")
                .uri("/api/v1/inbound/email")
                .header(header::AUTHORIZATION, app.bearer(Role::Agent))
                .header(header::CONTENT_TYPE, "message/rfc822")
                .body(Body::from(
                    "From: hana@example.com\r\nSubject: 배송\r\n\r\n언제 오나요?",
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(mail.status, StatusCode::OK, "{}", mail.text());
    let conversation = mail.json()["conversation_id"].as_i64().unwrap();
    let file = app
        .send(
            Request::builder()
                .method("POST")
                .uri(format!(
                    "/api/v1/conversations/{conversation}/attachments?filename=a.png"
                ))
                .header(header::AUTHORIZATION, app.bearer(Role::Agent))
                .body(Body::from(&b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"[..]))
                .unwrap(),
        )
        .await;
    assert_eq!(file.status, StatusCode::CREATED, "{}", file.text());
    let file = file.json()["id"].as_i64().unwrap();
    let campaign = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/campaigns",
            Some(json!({"name": "환영", "message_kind": "service", "trigger": {"type": "segment_entered"},
                        "segment_id": segment, "channels": "email",
                        "templates": {"ko": {"subject": "환영합니다", "body": "{{name}}님, 반가워요."}}})),
        )
        .await;
    assert_eq!(campaign.status, StatusCode::CREATED, "{}", campaign.text());
    let campaign = campaign.json()["id"].as_i64().unwrap();
    let mut failures = vec![];
    for role in Role::ALL {
        for spec in routes::UI.iter().filter(|s| s.method == "GET") {
            let target = if spec.path.starts_with("/surveys/") {
                survey
            } else if spec.path.starts_with("/inbox/") {
                conversation
            } else if spec.path.starts_with("/segments/") {
                segment
            } else if spec.path.starts_with("/personas/") {
                persona
            } else if spec.path.starts_with("/campaigns/") {
                campaign
            } else {
                id
            };
            let path = spec
                .path
                .replace("{id}", &target.to_string())
                .replace("{file}", "customers.csv")
                .replace("{attachment}", &file.to_string());
            let path = if path.starts_with("/import/jobs/") {
                "/import".to_string()
            } else {
                path
            };
            let status = if path == "/voc/stream" {
                // A stream never ends: check its status and first bytes only.
                app.stream(role, "/voc/stream?after=0", "").await.0
            } else {
                app.page(role, "GET", &path, None).await.status
            };
            let allowed = spec.permission.is_none_or(|p| role.has(p));
            let want = match (allowed, path.ends_with("/socket")) {
                // A live socket answers a plain GET (no WebSocket upgrade) with 400, after
                // the permission check.
                (true, true) => StatusCode::BAD_REQUEST,
                (true, false) => StatusCode::OK,
                (false, _) => StatusCode::FORBIDDEN,
            };
            if status != want {
                failures.push(format!(
                    "GET {path} as {}: {} (want {want})",
                    role.as_str(),
                    status
                ));
            }
        }
        for path in ["/insights"] {
            let r = app.page(role, "GET", path, None).await;
            if r.status != StatusCode::OK || !r.text().contains("not built yet") {
                failures.push(format!("GET {path} as {}: {}", role.as_str(), r.status));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let viewer = app
        .page(Role::Viewer, "GET", &format!("/customers/{id}"), None)
        .await
        .text();
    assert!(
        // The number's own digits, not a bare "010", which a random CSRF token can hold.
        viewer.contains("김*나")
            && !viewer.contains("hana@example.com")
            && !["010-2222", "2222-3333", "1022223333"]
                .iter()
                .any(|digits| viewer.contains(digits)),
        "viewers see masked data"
    );
    let agent = app
        .page(Role::Agent, "GET", &format!("/customers/{id}"), None)
        .await
        .text();
    assert!(agent.contains("김하나") && agent.contains("hana@example.com"));
    let list = app
        .page(Role::Agent, "GET", "/customers?q=%EA%B9%80%ED%95%98", None)
        .await
        .text();
    assert!(
        list.contains(&format!("/customers/{id}")),
        "search from the list page"
    );
    let empty = app
        .page(Role::Agent, "GET", "/customers?q=zzzz", None)
        .await
        .text();
    assert!(empty.contains("No customers match"), "useful empty state");
    let missing = app.page(Role::Agent, "GET", "/no-such-page", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(
        missing.text().contains("<html") && missing.text().contains("request id"),
        "pages get an HTML 404"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_form_enforces_its_permission_for_every_role() {
    let app = TestApp::new().await;
    let mut failures = vec![];
    for spec in routes::UI.iter().filter(|s| s.method == "POST") {
        for role in Role::ALL {
            let id = app.customer(json!({ "name": "양식", "external_id": format!("F-{}-{}", spec.path, role.as_str()) })).await;
            let path = spec
                .path
                .replace(
                    "/users/{id}",
                    &format!("/users/{}", app.user_ids[&Role::Viewer]),
                )
                .replace("{id}", &id.to_string());
            let form = format!(
                "csrf={}&body=hi&source_id=999999&name=team-{}&role=viewer&team_id=",
                app.csrf(role),
                role.as_str()
            );
            let status = app.page(role, "POST", &path, Some(&form)).await.status;
            let allowed = spec.permission.is_none_or(|p| role.has(p));
            let ok = if allowed {
                status != StatusCode::FORBIDDEN && status != StatusCode::METHOD_NOT_ALLOWED
            } else {
                status == StatusCode::FORBIDDEN
            };
            if !ok {
                failures.push(format!(
                    "POST {path} as {}: {status} (allowed: {allowed})",
                    role.as_str()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_need_the_csrf_token_and_notes_land_on_the_timeline() {
    let app = TestApp::new().await;
    let id = app
        .customer(json!({"name": "Grace Park", "email": "grace@example.com"}))
        .await;
    let forged = app
        .page(
            Role::Agent,
            "POST",
            &format!("/customers/{id}/notes"),
            Some("csrf=forged&body=hello"),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let form = format!("csrf={}&body=Called+about+her+order", app.csrf(Role::Agent));
    let posted = app
        .page(
            Role::Agent,
            "POST",
            &format!("/customers/{id}/notes"),
            Some(&form),
        )
        .await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER);
    let page = app
        .page(Role::Agent, "GET", &format!("/customers/{id}"), None)
        .await
        .text();
    assert!(page.contains("Called about her order"));
    let viewer_form = format!("csrf={}&body=x", app.csrf(Role::Viewer));
    assert_eq!(
        app.page(
            Role::Viewer,
            "POST",
            &format!("/customers/{id}/notes"),
            Some(&viewer_form)
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );

    // Switching language is stored per user.
    let switch = format!("csrf={}&lang=ko", app.csrf(Role::Agent));
    assert_eq!(
        app.page(Role::Agent, "POST", "/settings/language", Some(&switch))
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert!(
        app.page(Role::Agent, "GET", "/customers", None)
            .await
            .text()
            .contains("고객")
    );

    // Admins change roles from the users page; the change is audited.
    let viewer_id = app.user_ids[&Role::Viewer];
    let promote = format!("csrf={}&role=agent&team_id=", app.csrf(Role::Admin));
    assert_eq!(
        app.page(
            Role::Admin,
            "POST",
            &format!("/admin/users/{viewer_id}"),
            Some(&promote)
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.state.store.user(viewer_id).await.unwrap().role,
        Role::Agent
    );
    let audit = app
        .page(Role::Admin, "GET", "/admin/audit", None)
        .await
        .text();
    assert!(audit.contains("user.role") && audit.contains("viewer → agent"));

    let token_form = format!(
        "csrf={}&name=ci&scope=customers%3Aread",
        app.csrf(Role::Manager)
    );
    let created = app
        .page(Role::Manager, "POST", "/admin/tokens", Some(&token_form))
        .await
        .text();
    let token = created
        .split("id=\"new-token\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    assert!(token.starts_with("nch_"));
    let me = app
        .send(
            Request::builder()
                .uri("/api/v1/me")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .json();
    assert_eq!(me["user"]["role"], "manager");
    assert_eq!(
        me["permissions"],
        json!(["customers_read", "view_pii", "teams_read"])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn charts_have_visible_titles_and_the_journey_map_names_its_stages() {
    let app = TestApp::new().await;
    let stages = app
        .api(Some(Role::Admin), "GET", "/api/v1/stages", None)
        .await
        .json();
    let stages = stages.as_array().expect("the stages");
    assert!(
        !stages.is_empty(),
        "a new brand starts with a journey's stages"
    );
    let journey = app.page(Role::Admin, "GET", "/journeys", None).await.text();
    assert!(
        journey.contains(r#"<h2 class="chart-title">Conversion to the next stage"#),
        "{journey}"
    );
    for s in stages {
        let name = s["name_en"].as_str().unwrap().replace('&', "&amp;");
        assert!(
            journey.contains(&format!(">{name}</text>")),
            "stage {name} is named on the curve's x axis"
        );
    }
    let voc = app.page(Role::Admin, "GET", "/voc", None).await.text();
    for title in [
        "Weekly NPS with its 95% margin of error",
        "CSAT by journey stage",
    ] {
        assert!(
            voc.contains(&format!(r#"<h2 class="chart-title">{title}</h2>"#)),
            "{title} is shown above its chart"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_navigation_is_grouped_with_a_phone_menu_and_only_what_a_role_may_open() {
    let app = TestApp::new().await;
    let groups = |page: &str| -> Vec<String> {
        page.split("<summary>")
            .skip(1)
            .filter_map(|s| s.split("</summary>").next())
            .map(str::to_string)
            .collect()
    };
    let admin = app.page(Role::Admin, "GET", "/inbox", None).await.text();
    assert_eq!(
        groups(&admin),
        ["Listen", "Understand", "Act", "Measure", "Admin"],
        "{admin}"
    );
    assert!(
        admin.contains("class=\"menu-button\""),
        "a menu button for phones"
    );
    // The page's own group is marked.
    let listen = admin
        .split("<details class=\"group\"")
        .find(|g| g.contains("<summary>Listen</summary>"))
        .unwrap();
    assert!(listen.starts_with(" data-active"), "{listen}");
    assert!(listen.contains("href=\"/inbox\" aria-current=\"page\""));
    // A viewer reads customers and VoC but not the inbox, and administers nothing.
    let viewer = app.page(Role::Viewer, "GET", "/", None).await.text();
    assert!(!viewer.contains("href=\"/inbox\""));
    assert!(
        !viewer.contains("href=\"/admin/users\""),
        "only their own API tokens under Admin"
    );
    assert!(viewer.contains("href=\"/voc\""));
}
