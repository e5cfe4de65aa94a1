//! The `nunchi` command: one binary that serves the API and UI, loads the demo brand,
//! imports and exports CSV, migrates, backs up and restores, and manages users. Commands
//! parse their arguments and call the library crates; business rules live there.

mod commands;
mod config;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "nunchi",
    version,
    about = "nunchi (눈치): open-source customer experience management in one binary",
    propagate_version = true
)]
struct Cli {
    /// A nunchi.toml to read settings from (./nunchi.toml is read when present).
    #[arg(long, env = "NUNCHI_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(flatten)]
    raw: config::RawConfig,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the server: API, web UI and background jobs.
    Serve {
        /// Load the demo brand first if the database has no customers.
        #[arg(long)]
        demo_if_empty: bool,
        /// How many demo customers to load with --demo-if-empty.
        #[arg(long, default_value_t = 10_000)]
        demo_customers: u64,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load the demo brand (하늘결, a Korean D2C skincare brand) into the database.
    Demo {
        /// Number of customers (up to 1,000,000).
        #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        customers: u64,
        #[arg(long, default_value_t = nunchi_demo::DEFAULT_SEED)]
        seed: u64,
        /// Write the customers to this CSV file (the import format) instead of the database.
        #[arg(long)]
        csv: Option<PathBuf>,
        /// With --csv: make every Nth row invalid, to exercise import error reports.
        #[arg(long, requires = "csv")]
        bad_every: Option<u64>,
    },
    /// Import customers, orders or feedback from a UTF-8 CSV file.
    Import {
        #[arg(value_enum)]
        kind: commands::data::ImportKind,
        file: PathBuf,
        /// Check every row and report, without saving anything.
        #[arg(long)]
        dry_run: bool,
        /// Write every rejected row (line, reason) to this CSV file.
        #[arg(long)]
        errors: Option<PathBuf>,
    },
    /// Export customers or orders as CSV (the import format).
    Export {
        #[arg(value_enum)]
        kind: commands::data::Kind,
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Copy the live SQLite database to FILE (online; the server may keep running).
    Backup { file: PathBuf },
    /// Replace the SQLite database with a backup. Stop the server first.
    Restore { file: PathBuf },
    /// Manage staff users.
    #[command(subcommand)]
    User(commands::admin::UserCommand),
    /// Create an API token for a user and print it once.
    Token {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Space- or comma-separated: customers:read customers:write data:import data:export admin
        #[arg(long)]
        scopes: String,
    },
    /// Print a commented nunchi.toml with every setting and its default.
    Config {
        #[arg(long)]
        print_default: bool,
    },
    /// Text analytics: sentiment and topics for lines on stdin; train and evaluate models.
    #[command(subcommand)]
    Text(commands::text::TextCommand),
    /// The analytics engine on an events CSV: funnels, paths, retention; the benchmark
    /// generator and timings.
    #[command(subcommand)]
    Analyze(commands::analyze::AnalyzeCommand),
    /// Customer lifetime value on a transactions CSV: BG/NBD and Gamma-Gamma fits, RFM
    /// scores and each customer's expected purchases and value.
    #[command(subcommand)]
    Clv(commands::clv::ClvCommand),
    /// Korea's public holidays and lunar ↔ solar dates, from the calendar campaigns use.
    #[command(subcommand)]
    Calendar(commands::calendar::CalendarCommand),
    /// Recommendations from an interactions CSV: each customer's top items (item-to-item
    /// neighbours of what they have, then the most popular), or each item's most similar.
    Recommend(commands::recommend::RecommendArgs),
    /// Measure customer search latency on the current database (load a demo first), or
    /// with --conversation-messages N, fill the inbox with N messages and time its search,
    /// or with --inbound-mail N, take in N e-mails and time it, or with --chat-sockets N,
    /// time live chat delivery over N WebSockets to a server this starts, or with
    /// --assignment-agents N, time the desk's assignment among N agents, or with
    /// --loyalty-lines N, time importing N order lines with and without earning points
    /// and recomputing the ledger, or with --contact-customers N, time the contact
    /// budget's eligibility for a campaign.
    Bench {
        #[arg(long, default_value_t = 2000)]
        queries: usize,
        #[arg(long)]
        conversation_messages: Option<usize>,
        #[arg(long)]
        inbound_mail: Option<usize>,
        #[arg(long)]
        chat_sockets: Option<usize>,
        /// Chat messages per second across the sockets.
        #[arg(long, default_value_t = 200)]
        chat_rate: usize,
        #[arg(long, default_value_t = 20)]
        chat_seconds: u64,
        /// Time the desk's assignment with this many agents (and --assignment-open).
        #[arg(long)]
        assignment_agents: Option<usize>,
        #[arg(long, default_value_t = 10_000)]
        assignment_open: usize,
        #[arg(long)]
        loyalty_lines: Option<usize>,
        /// Replay this order CSV through a one-rate loyalty program and print its totals.
        #[arg(long)]
        loyalty_orders: Option<PathBuf>,
        #[arg(long, default_value = "KRW")]
        loyalty_currency: String,
        /// With --loyalty-orders: one point per this many minor units.
        #[arg(long, default_value_t = 100)]
        loyalty_per_minor: i64,
        /// Time the contact budget's eligibility for one campaign over this many
        /// synthetic customers (and, with --contact-store, a whole launch on SQLite).
        #[arg(long)]
        contact_customers: Option<usize>,
        #[arg(long)]
        contact_store: Option<usize>,
    },
}

/// Lets the default SIGPIPE action end the process, as other Unix tools do, so that
/// `nunchi export customers | head` stops quietly instead of panicking on a closed pipe.
#[cfg(unix)]
#[allow(unsafe_code)]
fn default_sigpipe() {
    // SAFETY: called first thing in main, before any other thread exists; restoring a
    // signal's default disposition has no other effect on this process.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> std::process::ExitCode {
    #[cfg(unix)]
    default_sigpipe();
    let cli = Cli::parse();
    let file = cli
        .config
        .clone()
        .or_else(|| Some(PathBuf::from("nunchi.toml")).filter(|p| p.exists()));
    let config = match config::Config::resolve(cli.raw, file.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e:#}");
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: failed to start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli.command, config)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
