//! Who performs an operation: a signed-in user (through a browser session or an API
//! token) with what their role and token allow. Operations mask personal data by it, and
//! the audit log names it.

use nunchi_core::access::{Grant, Permission};
use nunchi_store::model::NewAuditEntry;

use crate::App;

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
            actor_user_id: Some(actor.user_id),
            actor: actor.label.clone(),
            action: action.into(),
            target: target.into(),
            detail: detail.into(),
            ip: String::new(),
        })
        .await;
    }
}
