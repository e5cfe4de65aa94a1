//! The real `nunchi` binary end to end: help, CSV import with bad rows, dry runs, export
//! round trips, users and tokens, backup and restore, and serving with a graceful stop.
//! Runs on the backend `NUNCHI_TEST_BACKEND` names.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Command, Output, Stdio},
};

struct Env {
    dir: tempfile::TempDir,
    url: String,
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let url = match nunchi_store::testing::default_backend() {
        "postgres" => nunchi_store::testing::fresh_url("postgres").await.unwrap(),
        _ => format!("sqlite:{}", dir.path().join("nunchi.db").display()),
    };
    Env { dir, url }
}

impl Env {
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_nunchi"))
            .args(args)
            .env("NUNCHI_DATA_DIR", self.dir.path())
            .env("NUNCHI_DATABASE_URL", &self.url)
            .env_remove("NUNCHI_CONFIG")
            .current_dir(self.dir.path())
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "nunchi {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn file(&self, name: &str, text: &str) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }
}

#[test]
fn help_lists_every_command() {
    let out = Command::new(env!("CARGO_BIN_EXE_nunchi"))
        .arg("--help")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in [
        "serve", "migrate", "demo", "import", "export", "backup", "restore", "user", "token",
        "config",
    ] {
        assert!(text.contains(cmd), "--help does not mention {cmd}:\n{text}");
    }
    let defaults = Command::new(env!("CARGO_BIN_EXE_nunchi"))
        .args(["config", "--print-default"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&defaults.stdout).contains("listen = \"127.0.0.1:8080\""));
    let bad = Command::new(env!("CARGO_BIN_EXE_nunchi"))
        .args(["--listen", "nowhere", "migrate"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--listen"));
}

#[tokio::test]
async fn importing_reports_every_bad_line_and_keeps_the_good_rows() {
    let e = env().await;
    let csv = e.file(
        "customers.csv",
        "external_id,name,email,phone,tags,marketing_consent,attr_skin_type\n\
         C-1,김민준,minjun@example.com,010-1234-5678,vip,sms;email,dry\n\
         C-2,이서연,seoyeon@@example.com,,,,\n\
         C-3,\"박, 지훈\",jihoon@example.com,010-2222-3333,,fax,\n\
         C-4,Grace Park,grace@example.com,,,,oily\n",
    );
    let dry = e.ok(&["import", "customers", &csv, "--dry-run"]);
    assert!(
        dry.contains("4 rows read")
            && dry.contains("imported 2")
            && dry.contains("rejected 2")
            && dry.contains("dry run"),
        "{dry}"
    );
    assert!(
        dry.contains("line 3: email") && dry.contains("line 4: channel"),
        "{dry}"
    );
    let errors = e.dir.path().join("errors.csv");
    let out = e.ok(&[
        "import",
        "customers",
        &csv,
        "--errors",
        errors.to_str().unwrap(),
    ]);
    assert!(out.contains("imported 2  (created 2, updated 0)"), "{out}");
    let report = std::fs::read_to_string(&errors).unwrap();
    assert_eq!(report.lines().count(), 3, "{report}");
    assert!(report.lines().nth(1).unwrap().starts_with("3,"));

    let exported = e.dir.path().join("export.csv");
    e.ok(&[
        "export",
        "customers",
        "--output",
        exported.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&exported).unwrap();
    assert!(
        text.contains("김민준")
            && text.contains("+821012345678")
            && text.contains("email;sms")
            && text.contains("attr_skin_type"),
        "{text}"
    );
    let again = e.ok(&["import", "customers", exported.to_str().unwrap()]);
    assert!(
        again.contains("imported 2  (created 0, updated 2)") && again.contains("rejected 0"),
        "{again}"
    );

    let orders = e.file("orders.csv", "order_id,customer_external_id,placed_at,status,currency,channel,product,category,unit_price,quantity\n\
        O-1,C-1,2026-05-01T10:00:00+09:00,paid,KRW,app,수분 크림,skincare,\"32,000\",2\n\
        O-1,C-1,2026-05-01T10:00:00+09:00,paid,KRW,app,토너,skincare,18000,1\n\
        O-2,C-9,2026-05-02T10:00:00+09:00,paid,KRW,web,토너,skincare,18000,1\n\
        O-3,C-4,2026-05-03,paid,USD,web,Sunscreen,suncare,19.999,1\n");
    let out = e.ok(&["import", "orders", &orders]);
    assert!(
        out.contains("imported 2")
            && out.contains("line 4: not found: no customer with external_id C-9")
            && out.contains("line 5: amount"),
        "{out}"
    );
    let exported = e.ok(&["export", "orders"]);
    assert!(
        exported.contains("O-1,C-1,2026-05-01T01:00:00Z,paid,KRW,app,수분 크림,skincare,32000,2"),
        "{exported}"
    );

    let missing = e.run(&["import", "customers", "/nonexistent.csv"]);
    assert!(
        !missing.status.success()
            && String::from_utf8_lossy(&missing.stderr).contains("failed to open")
    );
    let latin1 = e.dir.path().join("latin1.csv");
    std::fs::write(&latin1, b"external_id,name\nL-1,Jos\xe9\nL-2,Ok\n").unwrap();
    let out = e.ok(&["import", "customers", latin1.to_str().unwrap()]);
    assert!(
        out.contains("line 2: not valid UTF-8") && out.contains("imported 1"),
        "{out}"
    );
}

#[tokio::test]
async fn users_tokens_demo_and_search_bench() {
    let e = env().await;
    let out = e.ok(&[
        "user",
        "create",
        "--email",
        "Agent@Example.com",
        "--name",
        "상담원",
        "--role",
        "agent",
        "--password",
        "a long enough password",
    ]);
    assert!(
        out.contains("created user agent@example.com (agent)"),
        "{out}"
    );
    assert!(
        !e.run(&[
            "user",
            "create",
            "--email",
            "x@example.com",
            "--name",
            "x",
            "--role",
            "owner",
            "--password",
            "a long enough password"
        ])
        .status
        .success()
    );
    assert!(
        !e.run(&[
            "user",
            "create",
            "--email",
            "y@example.com",
            "--name",
            "y",
            "--role",
            "agent",
            "--password",
            "short"
        ])
        .status
        .success()
    );
    let token = e.ok(&[
        "token",
        "--email",
        "agent@example.com",
        "--name",
        "ci",
        "--scopes",
        "customers:read",
    ]);
    assert!(token.trim().starts_with("nch_"));
    e.ok(&[
        "user",
        "set-role",
        "--email",
        "agent@example.com",
        "--role",
        "manager",
    ]);
    assert!(e.ok(&["user", "list"]).contains("manager"));
    let demo = e.ok(&["demo", "--customers", "300"]);
    assert!(demo.contains("300 customers"), "{demo}");
    // A closed pipe ends the command quietly, as with other Unix tools: the export is far
    // larger than the pipe's buffer, so it is still writing when `head` goes away.
    let piped = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{} export orders | head -c 10",
            env!("CARGO_BIN_EXE_nunchi")
        ))
        .env("NUNCHI_DATA_DIR", e.dir.path())
        .env("NUNCHI_DATABASE_URL", &e.url)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&piped.stderr),
        "",
        "no error and no panic on a closed pipe"
    );
    assert_eq!(piped.stdout.len(), 10);
    let bench = e.ok(&["bench", "--queries", "50"]);
    assert!(
        bench.contains("p50") && bench.contains("queries with hits: 50"),
        "{bench}"
    );
}

#[tokio::test]
async fn a_generated_csv_with_bad_rows_imports_all_the_good_ones() {
    let e = env().await;
    let csv = e.dir.path().join("demo.csv");
    assert!(
        e.ok(&[
            "demo",
            "--customers",
            "500",
            "--csv",
            csv.to_str().unwrap(),
            "--bad-every",
            "50"
        ])
        .contains("wrote 500")
    );
    let out = e.ok(&["import", "customers", csv.to_str().unwrap()]);
    assert!(
        out.contains("500 rows read")
            && out.contains("imported 490  (created 490, updated 0)")
            && out.contains("rejected 10"),
        "{out}"
    );
    assert!(
        out.contains("line 51: email")
            && out.contains("line 101: phone")
            && out.contains("line 151: date"),
        "{out}"
    );
    assert!(out.contains("peak memory"), "{out}");
    let again = e.ok(&["import", "customers", csv.to_str().unwrap()]);
    assert!(
        again.contains("imported 490  (created 0, updated 490)"),
        "{again}"
    );
}

#[tokio::test]
async fn backup_and_restore_the_sqlite_store() {
    let e = env().await;
    if !e.url.starts_with("sqlite:") {
        let out = e.run(&["backup", "/tmp/never.db"]);
        assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));
        return;
    }
    e.ok(&["demo", "--customers", "50"]);
    let backup = e.dir.path().join("backup.db");
    assert!(
        e.ok(&["backup", backup.to_str().unwrap()])
            .contains("backed up")
    );
    assert!(
        !e.run(&["backup", backup.to_str().unwrap()])
            .status
            .success(),
        "never overwrites"
    );
    e.ok(&["demo", "--customers", "80"]);
    e.ok(&["restore", backup.to_str().unwrap()]);
    let bench = e.ok(&["bench", "--queries", "5"]);
    assert!(bench.contains("over 50 customers"), "{bench}");
    let junk = e.file("junk.db", "not a database");
    assert!(!e.run(&["restore", &junk]).status.success());
}

#[tokio::test]
async fn serve_prints_the_url_and_login_and_stops_gracefully() {
    let e = env().await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_nunchi"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--demo-if-empty",
            "--demo-customers",
            "20",
        ])
        .env("NUNCHI_DATA_DIR", e.dir.path())
        .env("NUNCHI_DATABASE_URL", &e.url)
        .env_remove("NUNCHI_ADMIN_PASSWORD")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut url, mut password) = (None, None);
    while let Some(Ok(line)) = lines.next() {
        if let Some(rest) = line.split("running at ").nth(1) {
            url = rest.split_whitespace().next().map(str::to_string);
        }
        if let Some(rest) = line.trim().strip_prefix("password: ") {
            password = rest.split_whitespace().next().map(str::to_string);
        }
        if line.contains("Stop with Ctrl-C") {
            break;
        }
    }
    let url = url.expect("the URL is printed");
    let password = password.expect("a generated password is printed once");
    assert_eq!(
        std::fs::read_to_string(e.dir.path().join("initial-admin-password"))
            .unwrap()
            .trim(),
        password
    );
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let health = http_get(addr, "/readyz");
    assert!(
        health.contains("200 OK") && health.contains("ready"),
        "{health}"
    );
    let signin = http_get(addr, "/signin");
    assert!(signin.contains("nunchi"), "{signin}");
    // SIGTERM: the server drains and exits cleanly.
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(Path::new(&e.dir.path().join("uploads")).is_dir());
}

fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[tokio::test]
async fn importing_feedback_reports_bad_lines_and_stores_each_review_once() {
    let e = env().await;
    let csv = e.file(
        "reviews.csv",
        "source,external_id,rating,text,created_at\n\
         review,R-1,5,정말 좋아요,2026-11-01\n\
         review,R-2,9,off the scale,2026-11-01\n\
         app_store,R-3,2,\"Slow delivery, sad\",2026-11-02\n\
         fax,R-4,3,unknown source,2026-11-02\n",
    );
    let checked = e.ok(&["import", "feedback", &csv, "--dry-run"]);
    assert!(
        checked.contains("dry run") && checked.contains("rejected 2"),
        "{checked}"
    );
    let errors = e.dir.path().join("rejected.csv");
    let first = e.ok(&[
        "import",
        "feedback",
        &csv,
        "--errors",
        errors.to_str().unwrap(),
    ]);
    assert!(first.contains("created 2, already there 0"), "{first}");
    assert!(
        first.contains("line 3: rating: 9 is off the 1–5 scale"),
        "{first}"
    );
    assert!(first.contains("line 5: source: unknown source"), "{first}");
    let written = std::fs::read_to_string(&errors).unwrap();
    assert_eq!(written.lines().count(), 3, "{written}");
    let again = e.ok(&["import", "feedback", &csv]);
    assert!(again.contains("created 0, already there 2"), "{again}");
    let latin1 = e.dir.path().join("latin1.csv");
    std::fs::write(&latin1, b"source,text\nreview,caf\xe9\n").unwrap();
    let out = e.run(&["import", "feedback", latin1.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("neither UTF-8 nor CP949"));
}
