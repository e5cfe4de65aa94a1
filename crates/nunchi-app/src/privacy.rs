//! Personal data shown only to those who may see it: names, e-mail addresses and phone
//! numbers are masked for roles without the `view_pii` permission.

use nunchi_core::mask;
use nunchi_store::model::{Customer, CustomerSummary, Feedback};

use crate::Actor;

/// Hides names, e-mail addresses and phone numbers from roles that may not see them.
pub fn mask_customer(c: &mut Customer) {
    c.row.name = c.row.name.as_deref().map(mask::mask_name);
    for i in &mut c.identities {
        i.value = match i.kind.as_str() {
            "email" => mask::mask_email(&i.value),
            "phone" => mask::mask_phone(&i.value),
            _ => continue,
        };
    }
}

pub fn mask_summary(c: &mut CustomerSummary) {
    c.name = c.name.as_deref().map(mask::mask_name);
    c.email = c.email.as_deref().map(mask::mask_email);
    c.phone = c.phone.as_deref().map(mask::mask_phone);
}

/// Hides the author's name from roles that may not see personal data.
pub fn masked_feedback(mut f: Feedback, actor: &Actor) -> Feedback {
    if !actor.sees_pii() {
        f.author = f.author.as_deref().map(mask::mask_name);
    }
    f
}
