//! `nunchi user`, `nunchi token`, `nunchi backup` and `nunchi restore`.

use std::path::Path;

use anyhow::{Context, bail};
use nunchi_core::access::{Role, Scope};
use nunchi_store::Store;

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

async fn find(store: &dyn Store, email: &str) -> anyhow::Result<nunchi_store::model::User> {
    store
        .user_by_email(&email.trim().to_lowercase())
        .await?
        .with_context(|| format!("no user {email}"))
}

fn hash(password: &str) -> anyhow::Result<String> {
    nunchi_app::password::hash(password).map_err(|e| anyhow::anyhow!("{e}"))
}

async fn audit(store: &dyn Store, action: &str, target: &str, detail: &str) {
    let entry = nunchi_store::model::NewAuditEntry {
        at: nunchi_app::clock::system_now_ms(),
        actor: "cli".into(),
        action: action.into(),
        target: target.into(),
        detail: detail.into(),
        ..Default::default()
    };
    if let Err(e) = store.audit(&entry).await {
        eprintln!("warning: could not write the audit log: {e}");
    }
}

pub async fn user(store: &std::sync::Arc<dyn Store>, cmd: UserCommand) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Create {
            email,
            name,
            role,
            password,
        } => {
            let email =
                nunchi_core::email::Email::parse(&email).map_err(|e| anyhow::anyhow!("{e}"))?;
            let role = Role::parse(&role).map_err(|e| anyhow::anyhow!("{e}"))?;
            let u = store
                .create_user(
                    email.as_str(),
                    name.trim(),
                    &hash(&password)?,
                    role.as_str(),
                    "ko",
                )
                .await?;
            audit(
                store.as_ref(),
                "user.create",
                &format!("user {}", u.id),
                &format!("{} as {}", u.email, u.role),
            )
            .await;
            println!("created user {} ({}) with id {}", u.email, u.role, u.id);
        }
        UserCommand::List => {
            for u in store.users().await? {
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
            let u = find(store.as_ref(), &email).await?;
            store.set_password(u.id, &hash(&password)?).await?;
            store.record_login_success(u.id).await?;
            audit(
                store.as_ref(),
                "user.password",
                &format!("user {}", u.id),
                "password reset from the CLI",
            )
            .await;
            println!("password of {} changed; their sessions have ended", u.email);
        }
        UserCommand::SetRole { email, role } => {
            let u = find(store.as_ref(), &email).await?;
            let role = Role::parse(&role).map_err(|e| anyhow::anyhow!("{e}"))?;
            store.set_role(u.id, role.as_str()).await?;
            audit(
                store.as_ref(),
                "user.role",
                &format!("user {}", u.id),
                &format!("{} → {}", u.role, role.as_str()),
            )
            .await;
            println!("{} is now {}", u.email, role.as_str());
        }
    }
    Ok(())
}

pub async fn token(
    store: &std::sync::Arc<dyn Store>,
    email: &str,
    name: &str,
    scopes: &str,
) -> anyhow::Result<()> {
    let u = find(store.as_ref(), email).await?;
    let scopes = Scope::parse_list(scopes).map_err(|e| anyhow::anyhow!("{e}"))?;
    if scopes.is_empty() {
        bail!("give at least one scope");
    }
    let token = nunchi_app::secret::new_api_token();
    let t = store
        .create_api_token(
            u.id,
            name,
            &nunchi_app::secret::hash(&token),
            &token[..10],
            &Scope::join(&scopes),
        )
        .await?;
    audit(
        store.as_ref(),
        "token.create",
        &format!("token {}", t.id),
        &Scope::join(&scopes),
    )
    .await;
    println!("{token}");
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
