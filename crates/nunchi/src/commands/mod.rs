//! One module per group of commands, and what they share: opening the store, logging,
//! progress bars, and creating the first admin.

pub mod admin;
pub mod analyze;
pub mod assignment_bench;
pub mod calendar;
pub mod chat_bench;
pub mod clv;
pub mod contact_bench;
pub mod csv_input;
pub mod data;
pub mod demo;
pub mod inbox_bench;
pub mod loyalty_bench;
pub mod recommend;
pub mod serve;
pub mod text;

use std::sync::Arc;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use nunchi_store::Store;

use crate::{
    Command,
    config::{Config, LogFormat},
};

pub async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve {
            demo_if_empty,
            demo_customers,
        } => serve::serve(&config, demo_if_empty.then_some(demo_customers)).await,
        Command::Migrate => {
            init_logging(&config, "warn");
            let store = open(&config).await?;
            println!("database is up to date ({})", store.backend());
            Ok(())
        }
        Command::Demo {
            customers,
            seed,
            csv: Some(path),
            bad_every,
        } => demo::write_csv(&path, customers, seed, bad_every),
        Command::Demo {
            customers,
            seed,
            csv: None,
            ..
        } => {
            init_logging(&config, "warn");
            let store = open(&config).await?;
            demo::load(&store, customers, seed).await?;
            Ok(())
        }
        Command::Import {
            kind,
            file,
            dry_run,
            errors,
        } => {
            init_logging(&config, "warn");
            data::import(
                open(&config).await?,
                kind,
                &file,
                dry_run,
                errors.as_deref(),
            )
            .await
        }
        Command::Export { kind, output } => {
            init_logging(&config, "warn");
            data::export(open(&config).await?, kind, output.as_deref()).await
        }
        Command::Backup { file } => {
            init_logging(&config, "warn");
            admin::backup(&config, &file).await
        }
        Command::Restore { file } => admin::restore(&config, &file).await,
        Command::User(cmd) => {
            init_logging(&config, "warn");
            admin::user(&open_app(&config).await?, cmd).await
        }
        Command::Token {
            email,
            name,
            scopes,
        } => {
            init_logging(&config, "warn");
            admin::token(&open_app(&config).await?, &email, &name, &scopes).await
        }
        Command::Config { print_default } => {
            if print_default {
                print!("{}", crate::config::DEFAULT_TOML);
            } else {
                println!("{config:#?}");
            }
            Ok(())
        }
        Command::Text(command) => text::run(command),
        Command::Analyze(command) => analyze::run(command),
        Command::Clv(command) => clv::run(command),
        Command::Calendar(command) => calendar::run(command),
        Command::Recommend(args) => recommend::run(args),
        Command::Bench {
            queries,
            conversation_messages,
            inbound_mail,
            chat_sockets,
            chat_rate,
            chat_seconds,
            assignment_agents,
            assignment_open,
            loyalty_lines,
            loyalty_orders,
            loyalty_currency,
            loyalty_per_minor,
            contact_customers,
            contact_store,
        } => {
            init_logging(&config, "warn");
            if let Some(n) = conversation_messages {
                inbox_bench::run(&open(&config).await?, n, queries).await
            } else if let Some(n) = inbound_mail {
                inbox_bench::inbound_mail(&open_app(&config).await?, n).await
            } else if let Some(n) = chat_sockets {
                chat_bench::run(n, chat_rate, chat_seconds).await
            } else if let Some(n) = assignment_agents {
                assignment_bench::run(n, assignment_open).await
            } else if let Some(n) = contact_customers {
                contact_bench::run(n, contact_store).await
            } else if let Some(n) = loyalty_lines {
                loyalty_bench::run(n).await
            } else if let Some(file) = loyalty_orders {
                loyalty_bench::replay_file(&file, &loyalty_currency, loyalty_per_minor).await
            } else {
                demo::bench_search(&open(&config).await?, queries).await
            }
        }
    }
}

/// Opens the configured store, creating the data folder for SQLite, and migrates it.
pub async fn open(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("failed to create {}", config.data_dir.display()))?;
    nunchi_store::connect(&config.database_url.0)
        .await
        .context("failed to open the database")
}

/// The operations over the configured store, for a one-shot command (no event writer or
/// annotator running).
pub async fn open_app(config: &Config) -> anyhow::Result<nunchi_app::App> {
    Ok(nunchi_app::App::offline(
        open(config).await?,
        config.settings().app,
    ))
}

pub fn init_logging(config: &Config, default_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("NUNCHI_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!(
            "{default_level},sqlx={}",
            if default_level == "info" {
                "warn"
            } else {
                "error"
            }
        ))
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match config.log_format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// The process's peak resident memory in MiB, from Linux's /proc (None elsewhere).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

pub fn progress(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:40}] {percent:>3}% {human_pos}/{human_len} ({per_sec}, {eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}
