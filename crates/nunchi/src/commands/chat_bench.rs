//! `nunchi bench --chat-sockets N`: starts this binary as a server on a free loopback port
//! over a fresh database, opens N visitor chat sockets (each visitor's first message opens
//! its conversation) and one agent thread socket per conversation for up to 200 of them,
//! then sends `--chat-rate` messages per second across the visitors for `--chat-seconds`
//! and prints the p50/p99 delivery time to the sender's socket and to the agent's, and the
//! server's resident memory per idle connection.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::Context;
use futures_util::{SinkExt, StreamExt, stream::SplitSink};
use indicatif::{ProgressBar, ProgressStyle};
use nunchi_store::model::Session;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

use super::demo::percentile;

type Sink = SplitSink<WebSocketStream<MaybeTlsStream<TcpStream>>, Message>;

/// When each message was sent, by client id; receivers record the delivery time.
#[derive(Default)]
struct Clock {
    sent: HashMap<String, Instant>,
    to_sender: Vec<f64>,
    to_agent: Vec<f64>,
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn wait_ready(addr: SocketAddr) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if let Ok(mut s) = TcpStream::connect(addr).await {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let _ = s
                .write_all(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .await;
            let mut buf = vec![0; 64];
            if let Ok(n) = s.read(&mut buf).await
                && String::from_utf8_lossy(&buf[..n]).contains(" 200 ")
            {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    anyhow::bail!("the server did not become ready")
}

fn spawn_reader(
    mut stream: futures_util::stream::SplitStream<WebSocketStream<MaybeTlsStream<TcpStream>>>,
    clock: Arc<Mutex<Clock>>,
    agent: bool,
    acks: Option<tokio::sync::mpsc::UnboundedSender<(String, i64)>>,
) {
    tokio::spawn(async move {
        while let Some(Ok(Message::Text(text))) = stream.next().await {
            let Ok(f) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            if f["type"] == "ack"
                && let (Some(tx), Some(c), Some(id)) =
                    (&acks, f["conversation"].as_i64(), f["client_id"].as_str())
            {
                let _ = tx.send((id.to_string(), c));
            }
            if f["type"] != "line" {
                continue;
            }
            let Some(id) = f["client_id"].as_str() else {
                continue;
            };
            let mut c = clock.lock().unwrap();
            if let Some(at) = c.sent.get(id).copied() {
                let ms = at.elapsed().as_secs_f64() * 1000.0;
                if agent {
                    c.to_agent.push(ms);
                } else {
                    c.to_sender.push(ms);
                }
            }
        }
    });
}

async fn say(sink: &mut Sink, clock: &Mutex<Clock>, id: String, text: &str) -> anyhow::Result<()> {
    clock
        .lock()
        .unwrap()
        .sent
        .insert(id.clone(), Instant::now());
    sink.send(Message::Text(
        json!({"type": "send", "client_id": id, "text": text})
            .to_string()
            .into(),
    ))
    .await?;
    Ok(())
}

pub async fn run(sockets: usize, rate: usize, seconds: u64) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("nunchi-chat-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let port = free_port()?;
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let db = format!("sqlite:{}", dir.join("nunchi.db").display());
    let mut server = tokio::process::Command::new(std::env::current_exe()?)
        .arg("serve")
        .env("NUNCHI_DATA_DIR", &dir)
        .env("NUNCHI_LISTEN", addr.to_string())
        .env("NUNCHI_DATABASE_URL", &db)
        .env("NUNCHI_ADMIN_PASSWORD", "chat-bench-password-1")
        .env("NUNCHI_LOG", "warn")
        // Every visitor here comes from one loopback address, unlike real traffic.
        .env("NUNCHI_RATE_LIMIT_PUBLIC", "0")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("failed to start the server")?;
    let pid = server.id().unwrap_or(0);
    let outcome = drive(addr, &db, pid, sockets, rate, seconds).await;
    let _ = server.kill().await;
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

async fn drive(
    addr: SocketAddr,
    db: &str,
    pid: u32,
    sockets: usize,
    rate: usize,
    seconds: u64,
) -> anyhow::Result<()> {
    wait_ready(addr).await?;
    // An agent's session, written into the server's database as a sign-in would.
    let store = nunchi_store::connect(db).await?;
    let agent = store
        .create_user(
            "bench-agent@nunchi.local",
            "Bench agent",
            &nunchi_app::password::hash("chat-bench-agent-1")?,
            "agent",
            "en",
        )
        .await?;
    let cookie = nunchi_app::secret::random_token();
    store
        .create_session(&Session {
            token_hash: nunchi_app::secret::hash(&cookie),
            user_id: agent.id,
            csrf_token: nunchi_app::secret::random_token(),
            created_at: 0,
            expires_at: i64::MAX,
        })
        .await?;
    let idle_before = rss_kib(pid);
    let clock = Arc::new(Mutex::new(Clock::default()));
    let (ack_tx, mut ack_rx) = tokio::sync::mpsc::unbounded_channel();
    let bar = ProgressBar::new(sockets as u64).with_style(ProgressStyle::with_template(
        "{msg} {bar:40} {pos}/{len} {per_sec}",
    )?);
    bar.set_message("visitor sockets");
    let mut sinks = Vec::with_capacity(sockets);
    for i in 0..sockets {
        let url = format!("ws://{addr}/chat/socket?visitor=v-chat-bench-{i:08}&lang=ko");
        let (ws, _) = connect_async(url.as_str()).await?;
        let (mut sink, stream) = ws.split();
        sink.send(Message::Text(
            json!({"type": "hello", "since": 0}).to_string().into(),
        ))
        .await?;
        spawn_reader(stream, clock.clone(), false, Some(ack_tx.clone()));
        sinks.push(sink);
        bar.inc(1);
    }
    bar.finish_and_clear();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_after = rss_kib(pid);
    let per_socket = (idle_after.saturating_sub(idle_before)) as f64 / sockets as f64;

    // Each visitor's first message opens its conversation; agents follow up to 200 of them.
    for (i, sink) in sinks.iter_mut().enumerate() {
        say(sink, &clock, format!("open-{i}"), "주문 확인 부탁드려요").await?;
    }
    // Visitor i's conversation, from the acknowledgement of its opening message.
    let mut conversations = vec![0i64; sockets];
    let mut opened = 0;
    while opened < sockets {
        match tokio::time::timeout(Duration::from_secs(60), ack_rx.recv()).await {
            Ok(Some((id, c))) => {
                if let Some(i) = id
                    .strip_prefix("open-")
                    .and_then(|i| i.parse::<usize>().ok())
                {
                    conversations[i] = c;
                    opened += 1;
                }
            }
            _ => anyhow::bail!("only {opened} of {sockets} chats opened"),
        }
    }
    // The opening lines reach the agents' sockets as history, not as deliveries.
    clock.lock().unwrap().sent.clear();
    let mut agent_sinks = Vec::new();
    for c in conversations.iter().take(200) {
        let mut req = format!("ws://{addr}/inbox/{c}/socket").into_client_request()?;
        req.headers_mut().insert(
            "cookie",
            HeaderValue::from_str(&format!("nunchi_session={cookie}"))?,
        );
        let (ws, _) = connect_async(req).await?;
        let (mut sink, stream) = ws.split();
        sink.send(Message::Text(
            json!({"type": "hello", "conversation": c, "since": 0})
                .to_string()
                .into(),
        ))
        .await?;
        spawn_reader(stream, clock.clone(), true, None);
        agent_sinks.push(sink);
    }
    {
        let mut c = clock.lock().unwrap();
        c.to_sender.clear();
        c.to_agent.clear();
    }

    let total = rate * seconds as usize;
    let bar = ProgressBar::new(total as u64).with_style(ProgressStyle::with_template(
        "{msg} {bar:40} {pos}/{len} {per_sec}",
    )?);
    bar.set_message("messages");
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let start = Instant::now();
    for n in 0..total {
        let due = start + Duration::from_secs_f64(n as f64 / rate as f64);
        tokio::time::sleep_until(due.into()).await;
        // Half the traffic goes to the conversations agents follow (visitors 0..200).
        let i = if rng.gen_bool(0.5) {
            rng.gen_range(0..agent_sinks.len().max(1))
        } else {
            rng.gen_range(0..sockets)
        };
        say(&mut sinks[i], &clock, format!("m-{n}"), "배송 언제 오나요?").await?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let c = clock.lock().unwrap();
    let (mut to_sender, mut to_agent) = (c.to_sender.clone(), c.to_agent.clone());
    to_sender.sort_by(f64::total_cmp);
    to_agent.sort_by(f64::total_cmp);
    println!(
        "{sockets} visitor sockets and {} agent sockets; {total} messages at {rate}/s over {seconds} s",
        agent_sinks.len()
    );
    let pct = |v: &[f64], p: f64| {
        if v.is_empty() {
            f64::NAN
        } else {
            percentile(v, p)
        }
    };
    println!(
        "to the sender's socket: {} delivered, p50 {:.1} ms, p99 {:.1} ms",
        to_sender.len(),
        pct(&to_sender, 0.50),
        pct(&to_sender, 0.99)
    );
    println!(
        "to the agent's socket:  {} delivered, p50 {:.1} ms, p99 {:.1} ms",
        to_agent.len(),
        pct(&to_agent, 0.50),
        pct(&to_agent, 0.99)
    );
    println!(
        "server memory: {idle_before} KiB before the sockets, {idle_after} KiB with {sockets} idle; {per_socket:.1} KiB per idle socket"
    );
    Ok(())
}
