//! Authentication and authorisation: who is calling (a browser session or an API token)
//! and whether their grant allows the permission a route names.

pub use nunchi_app::{password, secret};

use axum::{
    extract::FromRequestParts,
    http::{Method, request::Parts},
};
use nunchi_core::access::{Grant, Permission, Scope};
use nunchi_store::model::User;

use crate::{AppState, error::AppError};

pub const SESSION_COOKIE: &str = "nunchi_session";
pub const PRE_SESSION_COOKIE: &str = "nunchi_presession";
pub const SESSION_TTL_MS: i64 = 12 * 3600 * 1000;

/// How the caller proved who they are.
#[derive(Debug, Clone)]
pub enum Via {
    Session { token_hash: String, csrf: String },
    Token { id: i64 },
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Auth {
    pub user: User,
    pub grant: Grant,
    pub via: Via,
}

impl Auth {
    pub fn require(&self, p: Permission) -> Result<(), AppError> {
        if self.grant.allows(p) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    pub fn can(&self, p: Permission) -> bool {
        self.grant.allows(p)
    }

    pub fn csrf(&self) -> &str {
        match &self.via {
            Via::Session { csrf, .. } => csrf,
            Via::Token { .. } => "",
        }
    }

    /// Label for the audit log and timelines.
    pub fn actor(&self) -> String {
        match &self.via {
            Via::Session { .. } => self.user.email.clone(),
            Via::Token { id } => format!("{} (token {id})", self.user.email),
        }
    }

    /// The caller as operations see them.
    pub fn as_actor(&self) -> nunchi_app::Actor {
        nunchi_app::Actor {
            user_id: self.user.id,
            name: self.user.name.clone(),
            label: self.actor(),
            grant: self.grant.clone(),
        }
    }
}

pub fn cookie_value<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == name).then_some(v)
        })
}

/// Resolves the caller from `Authorization: Bearer …` or the session cookie. Cookie-borne
/// requests that change state must also carry the session's CSRF token in `x-csrf-token`
/// (forms check theirs in the handler).
pub async fn authenticate(parts: &Parts, state: &AppState) -> Result<Option<Auth>, AppError> {
    // Credentials that do not check out count against the address's public limit, so
    // guessing tokens or replaying stale cookies is as limited as any anonymous request.
    let charge = || {
        let ip = crate::ratelimit::client_ip(
            &parts.extensions,
            &parts.headers,
            state.limits.settings.trust_forwarded_for,
        );
        state.limits.public(ip)
    };
    if let Some(header) = parts.headers.get("authorization") {
        let Some(token) = header.to_str().ok().and_then(|h| h.strip_prefix("Bearer ")) else {
            charge()?;
            return Err(AppError::Unauthorized);
        };
        let Some((t, user)) = state.store.api_token(&secret::hash(token.trim())).await? else {
            charge()?;
            return Err(AppError::Unauthorized);
        };
        let scopes = Scope::parse_list(&t.scopes)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("token {}: {e}", t.id)))?;
        let grant = Grant {
            role: user.role,
            scopes: Some(scopes),
        };
        return Ok(Some(Auth {
            user,
            grant,
            via: Via::Token { id: t.id },
        }));
    }
    let Some(raw) = cookie_value(&parts.headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let hash = secret::hash(raw);
    let Some((session, user)) = state.store.session(&hash, state.now()).await? else {
        charge()?;
        return Ok(None);
    };
    let grant = Grant {
        role: user.role,
        scopes: None,
    };
    Ok(Some(Auth {
        user,
        grant,
        via: Via::Session {
            token_hash: hash,
            csrf: session.csrf_token,
        },
    }))
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // The API's permission layer has already authenticated the caller.
        if let Some(auth) = parts.extensions.get::<Auth>() {
            return Ok(auth.clone());
        }
        let auth = authenticate(parts, state)
            .await?
            .ok_or(AppError::Unauthorized)?;
        if let Via::Session { csrf, .. } = &auth.via {
            let is_api = parts.uri.path().starts_with("/api/");
            let sent = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok());
            if is_api
                && is_unsafe(&parts.method)
                && !sent.is_some_and(|s| secret::constant_time_eq(s, csrf))
            {
                return Err(AppError::Forbidden);
            }
        }
        Ok(auth)
    }
}

/// Whether a submitted form's CSRF token matches the session's.
pub fn check_form_csrf(auth: &Auth, submitted: &str) -> Result<(), AppError> {
    if secret::constant_time_eq(submitted, auth.csrf()) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// A permission as a type, so a handler states what it needs in its signature and the
/// check runs before its body is read: `Need<perm::CustomersWrite>`.
pub trait Requirement: Send + Sync + 'static {
    const PERMISSION: Permission;
}

pub mod perm {
    use nunchi_core::access::Permission;

    macro_rules! requirements {
        ($($name:ident),*) => {$(
            #[derive(Debug)]
            pub struct $name;
            impl super::Requirement for $name {
                const PERMISSION: Permission = Permission::$name;
            }
        )*};
    }
    requirements!(
        CustomersRead,
        CustomersWrite,
        CustomersMerge,
        CustomersErase,
        DataImport,
        DataExport,
        TeamsRead,
        UsersManage,
        AuditRead,
        JourneysEdit,
        LoopsManage,
        SurveysManage,
        InboxRead,
        InboxWrite,
        InboxManage,
        PointsWrite,
        LoyaltyManage,
        SegmentsManage,
        CampaignsManage
    );
}

/// An authenticated caller whose grant includes `R`'s permission.
#[derive(Debug)]
pub struct Need<R>(pub Auth, std::marker::PhantomData<R>);

impl<R> std::ops::Deref for Need<R> {
    type Target = Auth;
    fn deref(&self) -> &Auth {
        &self.0
    }
}

impl<R: Requirement> FromRequestParts<AppState> for Need<R> {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let auth = Auth::from_request_parts(parts, state).await?;
        auth.require(R::PERMISSION)?;
        Ok(Self(auth, std::marker::PhantomData))
    }
}
