//! `nunchi serve`: open the store, create the first admin if there is none, optionally load
//! the demo brand, and serve until stopped.

use anyhow::Context;
use nunchi_store::Store;

use super::{demo, init_logging, open};
use crate::config::{Config, Secret};

/// Creates the first admin when the database has no users. Returns the password when it
/// was generated here, so it can be shown once.
pub async fn ensure_admin(store: &dyn Store, config: &Config) -> anyhow::Result<Option<String>> {
    if store.count_users().await? > 0 {
        return Ok(None);
    }
    let (password, generated) = match &config.admin_password {
        Some(Secret(p)) => (p.clone(), false),
        None => (nunchi_app::secret::random_token()[..20].to_string(), true),
    };
    let hash = nunchi_app::password::hash(&password)
        .map_err(|e| anyhow::anyhow!("admin password: {e}"))?;
    store
        .create_user(&config.admin_email, "Admin", &hash, "admin", "ko")
        .await
        .context("failed to create the first admin")?;
    if generated {
        let path = config.data_dir.join("initial-admin-password");
        std::fs::write(&path, format!("{password}\n"))
            .with_context(|| format!("failed to write {}", path.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        }
        return Ok(Some(password));
    }
    Ok(None)
}

pub async fn serve(config: &Config, demo_customers: Option<u64>) -> anyhow::Result<()> {
    init_logging(config, "info");
    let store = open(config).await?;
    let generated = ensure_admin(store.as_ref(), config).await?;
    if let Some(n) = demo_customers
        && store.stats().await?.customers == 0
    {
        println!(
            "loading the demo brand ({} / {}) with {n} customers…",
            nunchi_demo::BRAND_KO,
            nunchi_demo::BRAND_EN
        );
        demo::load(&store, n, nunchi_demo::DEFAULT_SEED).await?;
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("failed to listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    println!();
    println!(
        "  nunchi is running at http://{addr}/   ({} database)",
        store.backend()
    );
    println!("  sign in as {}", config.admin_email);
    match generated {
        Some(p) => println!(
            "  password: {p}   (shown once; also in {})",
            config.data_dir.join("initial-admin-password").display()
        ),
        None if config.admin_password.is_some() => {
            println!("  password: the one in NUNCHI_ADMIN_PASSWORD / --admin-password")
        }
        None => {
            let file = config.data_dir.join("initial-admin-password");
            if file.exists() {
                println!("  password: see {}", file.display());
            }
        }
    }
    println!("  API docs: http://{addr}/api/openapi.json   Stop with Ctrl-C.");
    println!();
    let state = nunchi_server::AppState::new(store, config.settings());
    nunchi_server::serve(state, listener).await
}
