//! `nunchi user`, `nunchi token`, `nunchi backup` and `nunchi restore`.

use std::path::Path;

use anyhow::{Context, bail};
use nunchi_app::{
    Actor, App,
    users::{
        NewToken, NewUser, UserPatch, create_token_checked, create_user_checked,
        update_user_checked,
    },
};

use crate::config::Config;

#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Create a user.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, manager, agent or viewer
        #[arg(long)]
        role: String,
        /// At least 10 characters; read from NUNCHI_USER_PASSWORD when not given.
        #[arg(long, env = "NUNCHI_USER_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// List users.
    List,
    /// Set a user's password (ends their sessions).
    SetPassword {
        #[arg(long)]
        email: String,
        #[arg(long, env = "NUNCHI_USER_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Change a user's role.
    SetRole {
        #[arg(long)]
        email: String,
        #[arg(long)]
        role: String,
    },
}

async fn find(app: &App, email: &str) -> anyhow::Result<nunchi_store::model::User> {
    app.store
        .user_by_email(&email.trim().to_lowercase())
        .await?
        .with_context(|| format!("no user {email}"))
}

/// The operation's error, as the CLI prints it.
fn plain(e: nunchi_app::Error) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// The user commands call the same operations as the admin page and the API, as the
/// server's operator.
pub async fn user(app: &App, cmd: UserCommand) -> anyhow::Result<()> {
    let operator = Actor::operator();
    match cmd {
        UserCommand::Create {
            email,
            name,
            role,
            password,
        } => {
            let u = create_user_checked(
                app,
                &operator,
                &NewUser {
                    email,
                    name,
                    password,
                    role,
                    locale: None,
                },
            )
            .await
            .map_err(plain)?;
            println!("created user {} ({}) with id {}", u.email, u.role, u.id);
        }
        UserCommand::List => {
            for u in app.store.users().await? {
                println!(
                    "{:>5}  {:<32} {:<8} {}{}",
                    u.id,
                    u.email,
                    u.role,
                    u.name,
                    if u.disabled { "  (disabled)" } else { "" }
                );
            }
        }
        UserCommand::SetPassword { email, password } => {
            let u = find(app, &email).await?;
            let patch = UserPatch {
                password: Some(password),
                ..UserPatch::default()
            };
            update_user_checked(app, &operator, u.id, &patch)
                .await
                .map_err(plain)?;
            println!("password of {} changed; their sessions have ended", u.email);
        }
        UserCommand::SetRole { email, role } => {
            let u = find(app, &email).await?;
            let patch = UserPatch {
                role: Some(role),
                ..UserPatch::default()
            };
            let changed = update_user_checked(app, &operator, u.id, &patch)
                .await
                .map_err(plain)?;
            println!("{} is now {}", changed.email, changed.role);
        }
    }
    Ok(())
}

/// Creates an API token for a user (as the token page does for its signed-in user) and
/// prints the secret, which is shown only this once.
pub async fn token(app: &App, email: &str, name: &str, scopes: &str) -> anyhow::Result<()> {
    let u = find(app, email).await?;
    let actor = Actor::cli_for(&u).map_err(plain)?;
    let created = create_token_checked(
        app,
        &actor,
        &NewToken {
            name: name.into(),
            scopes: vec![scopes.to_string()],
        },
    )
    .await
    .map_err(plain)?;
    println!("{}", created.token);
    Ok(())
}

fn sqlite_path(config: &Config) -> anyhow::Result<std::path::PathBuf> {
    let url = &config.database_url.0;
    let Some(rest) = url.strip_prefix("sqlite:") else {
        bail!("backup and restore are for the SQLite store; back PostgreSQL up with pg_dump")
    };
    Ok(std::path::PathBuf::from(
        rest.trim_start_matches("//")
            .split('?')
            .next()
            .unwrap_or(rest),
    ))
}

pub async fn backup(config: &Config, file: &Path) -> anyhow::Result<()> {
    sqlite_path(config)?;
    if file.exists() {
        bail!("{} already exists; choose a new file", file.display());
    }
    let store = super::open(config).await?;
    store.backup_to(file).await?;
    println!(
        "backed up to {} ({} bytes)",
        file.display(),
        std::fs::metadata(file)?.len()
    );
    Ok(())
}

pub async fn restore(config: &Config, file: &Path) -> anyhow::Result<()> {
    let target = sqlite_path(config)?;
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir)?;
    }
    nunchi_store::sqlite::restore(file, &target).await?;
    println!("restored {} from {}", target.display(), file.display());
    Ok(())
}
