//! Who performs an operation: a signed-in user (through a browser session or an API
//! token) with what their role and token allow. Operations mask personal data by it, and
//! the audit log names it.

use nunchi_core::access::{Grant, Permission, Role};
use nunchi_store::model::{NewAuditEntry, User};

use crate::{App, Result};

/// The user id of `Actor::operator`, which no user row has.
const OPERATOR_ID: i64 = 0;

#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: i64,
    /// The person's display name, for notes they write.
    pub name: String,
    /// How the audit log names them: their e-mail, and the token when one was used.
    pub label: String,
    pub grant: Grant,
}

impl Actor {
    /// Whoever runs the CLI on the server: every right, and no user account (the audit
    /// log names them `cli`).
    pub fn operator() -> Actor {
        Actor {
            user_id: OPERATOR_ID,
            name: "cli".into(),
            label: "cli".into(),
            grant: Grant {
                role: Role::Admin,
                scopes: None,
            },
        }
    }

    /// `user` acting through the CLI, e.g. to be given an API token.
    pub fn cli_for(user: &User) -> Result<Actor> {
        Ok(Actor {
            user_id: user.id,
            name: user.name.clone(),
            label: format!("cli for {}", user.email),
            grant: Grant {
                role: user.role,
                scopes: None,
            },
        })
    }

    pub fn can(&self, p: Permission) -> bool {
        self.grant.allows(p)
    }

    /// Whether they may see names, e-mail addresses and phone numbers unmasked.
    pub fn sees_pii(&self) -> bool {
        self.can(Permission::ViewPii)
    }
}

impl App {
    /// Records in the audit log what `actor` did.
    pub async fn audit_by(&self, actor: &Actor, action: &str, target: &str, detail: &str) {
        self.audit(NewAuditEntry {
            at: self.now(),
            actor_user_id: (actor.user_id != OPERATOR_ID).then_some(actor.user_id),
            actor: actor.label.clone(),
            action: action.into(),
            target: target.into(),
            detail: detail.into(),
            ip: String::new(),
        })
        .await;
    }
}
