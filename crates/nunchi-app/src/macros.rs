//! Canned replies: managers keep them by short code in Korean and English; an agent
//! inserts one into a reply, filled for the conversation's customer (their name, e-mail,
//! last order) in the customer's language, falling back to the other when it is empty.

use nunchi_core::identity::IdentityKind;
use nunchi_core::{access::Permission, canned};
use nunchi_store::model::Macro;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{App, Error, Result, actor::Actor};

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct MacroInput {
    /// Letters, digits, `-` and `_`, 1–30 characters (typed as `/shortcut`).
    pub shortcut: String,
    pub name: String,
    #[serde(default)]
    pub body_ko: String,
    #[serde(default)]
    pub body_en: String,
}

pub async fn create(app: &App, actor: &Actor, input: &MacroInput) -> Result<Macro> {
    if !actor.can(Permission::InboxManage) {
        return Err(Error::Forbidden);
    }
    let shortcut = input.shortcut.trim().trim_start_matches('/');
    if shortcut.is_empty()
        || shortcut.chars().count() > 30
        || !shortcut
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_'))
    {
        return Err(Error::invalid(
            "invalid_shortcut",
            "a shortcut is 1–30 letters, digits, - or _",
        ));
    }
    let name = crate::error::required_text(
        &input.name,
        100,
        "invalid_name",
        "name it in 1–100 characters",
    )?;
    let (ko, en) = (input.body_ko.trim(), input.body_en.trim());
    if ko.is_empty() && en.is_empty() {
        return Err(Error::invalid(
            "invalid_body",
            "write the reply in Korean, English or both",
        ));
    }
    if ko.chars().count() > 10_000 || en.chars().count() > 10_000 {
        return Err(Error::invalid(
            "invalid_body",
            "a reply is at most 10,000 characters",
        ));
    }
    canned::check(ko)?;
    canned::check(en)?;
    let created = app
        .store
        .create_macro(shortcut, name, ko, en)
        .await
        .map_err(|e| match e {
            nunchi_store::StoreError::Conflict(_) => {
                Error::invalid("invalid_shortcut", format!("/{shortcut} is taken"))
            }
            other => other.into(),
        })?;
    app.audit_by(
        actor,
        "macro.create",
        &format!("macro:{}", created.id),
        shortcut,
    )
    .await;
    Ok(created)
}

pub async fn delete(app: &App, actor: &Actor, id: i64) -> Result<()> {
    if !actor.can(Permission::InboxManage) {
        return Err(Error::Forbidden);
    }
    app.store.delete_macro(id).await?;
    app.audit_by(actor, "macro.delete", &format!("macro:{id}"), "")
        .await;
    Ok(())
}

/// A macro filled for a conversation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Filled {
    pub macro_id: i64,
    /// ko or en: the customer's language when the macro has it.
    pub lang: String,
    pub text: String,
}

pub async fn fill(app: &App, actor: &Actor, macro_id: i64, conversation_id: i64) -> Result<Filled> {
    if !actor.can(Permission::InboxWrite) {
        return Err(Error::Forbidden);
    }
    let m = app
        .store
        .macros()
        .await?
        .into_iter()
        .find(|m| m.id == macro_id)
        .ok_or_else(|| Error::NotFound(format!("macro {macro_id}")))?;
    let c = app.store.conversation(conversation_id).await?;
    let customer = app.store.customer(c.customer_id).await?;
    let wants_ko = customer.row.language.as_deref().is_none_or(|l| l == "ko");
    let (lang, body) = match (wants_ko, m.body_ko.is_empty(), m.body_en.is_empty()) {
        (true, false, _) | (false, false, true) => ("ko", &m.body_ko),
        _ => ("en", &m.body_en),
    };
    let mut orders = app.store.orders_of(c.customer_id).await?;
    orders.sort_by_key(|o| o.row.placed_at);
    let last = orders.last();
    let text = canned::fill(body, |name| match name {
        "customer_name" => customer.row.name.clone(),
        "customer_email" => customer.identity(IdentityKind::Email).map(str::to_string),
        "last_order" => last.map(|o| o.row.external_id.clone()),
        "last_order_status" => last.map(|o| o.row.status.to_string()),
        "agent_name" => Some(actor.name.clone()),
        _ => None,
    });
    Ok(Filled {
        macro_id,
        lang: lang.into(),
        text,
    })
}
