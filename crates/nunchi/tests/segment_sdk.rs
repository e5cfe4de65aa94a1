//! A real Segment client against a real server: `nunchi serve` on loopback, a source and
//! its write key, and Segment's own Python SDK (segment-analytics-python from PyPI, which
//! scripts/test.sh installs) sending identify, track and page. The events must arrive,
//! belong to the right customer, and the anonymous page view must be stitched to them.

mod support;

use std::{
    io::{BufRead, BufReader, Read, Write},
    process::{Command, Stdio},
};

fn python_has(module: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok && std::env::var("NUNCHI_TEST_REQUIRE_PYTHON_PEERS").as_deref() == Ok("1") {
        panic!("python module {module} is missing and NUNCHI_TEST_REQUIRE_PYTHON_PEERS=1");
    }
    ok
}

fn http(addr: &str, method: &str, path: &str, token: &str, body: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or(out)
}

#[tokio::test]
async fn segment_python_sdk_events_arrive_with_the_right_customer() {
    if !python_has("segment.analytics") {
        eprintln!("segment-analytics-python is not installed: SDK test not run");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = match nunchi_store::testing::default_backend() {
        "postgres" => nunchi_store::testing::fresh_url("postgres").await.unwrap(),
        _ => format!("sqlite:{}", dir.path().join("nunchi.db").display()),
    };
    let nunchi = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_nunchi"))
            .args(args)
            .env("NUNCHI_DATA_DIR", dir.path())
            .env("NUNCHI_DATABASE_URL", &url)
            .env_remove("NUNCHI_CONFIG")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    nunchi(&[
        "user",
        "create",
        "--email",
        "ops@example.com",
        "--name",
        "Ops",
        "--role",
        "admin",
        "--password",
        "correct horse battery staple",
    ]);
    let token = nunchi(&[
        "token",
        "--email",
        "ops@example.com",
        "--name",
        "sdk-test",
        "--scopes",
        "admin",
    ]);
    let token = token.lines().last().unwrap().to_string();
    let mut server = Command::new(env!("CARGO_BIN_EXE_nunchi"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("NUNCHI_DATA_DIR", dir.path())
        .env("NUNCHI_DATABASE_URL", &url)
        .env_remove("NUNCHI_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let mut base = None;
    while let Some(Ok(line)) = lines.next() {
        if let Some(rest) = line.split("running at ").nth(1) {
            base = rest.split_whitespace().next().map(str::to_string);
        }
        if line.contains("Stop with Ctrl-C") {
            break;
        }
    }
    let base = base.expect("the URL is printed");
    let addr = base
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let created: serde_json::Value = serde_json::from_str(&http(
        &addr,
        "POST",
        "/api/v1/sources",
        &token,
        r#"{"name": "python backend"}"#,
    ))
    .unwrap();
    let write_key = created["write_key"]
        .as_str()
        .expect("a write key")
        .to_string();

    let out = Command::new("python3")
        .args([
            &support::script("segment_sdk_check.py"),
            &base,
            &write_key,
            &token,
        ])
        .output()
        .unwrap();
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["failures"], serde_json::json!([]), "{report}");
    let events = report["events"].as_array().unwrap();
    let names: Vec<&str> = events.iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 4, "{report}");
    for want in ["page_view", "view_product", "identify", "purchase"] {
        assert!(names.contains(&want), "{want} missing: {report}");
    }
    let page = events.iter().find(|e| e["name"] == "page_view").unwrap();
    assert_eq!(
        (
            page["anonymous_id"].as_str(),
            page["user_id"].as_str(),
            page["channel"].as_str()
        ),
        (Some("sdk-anon-1"), None, Some("web"))
    );
    assert!(
        events.iter().all(|e| e["library"] == "analytics-python"),
        "{report}"
    );
    assert_eq!(
        report["funnel"],
        serde_json::json!([1, 1, 1]),
        "the stitched journey converts: {report}"
    );
}
