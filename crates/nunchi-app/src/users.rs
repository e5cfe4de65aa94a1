//! People and access, for the API, the admin pages and the CLI alike: users with their
//! roles, teams and passwords, and API tokens (shown once, stored hashed); every change
//! to who may do what goes to the audit log.

use nunchi_core::{
    access::{Role, Scope},
    email::Email,
};
use nunchi_store::model::{ApiToken, Team, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{Actor, App, Error, Result, password, secret};

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    /// At least 10 characters.
    pub password: String,
    /// `admin`, `manager`, `agent` or `viewer`.
    pub role: String,
    /// `ko` or `en`; Korean when left out.
    pub locale: Option<String>,
}

/// Creates a user; shared by the API, the admin page and the CLI.
pub async fn create_user_checked(state: &App, actor: &Actor, u: &NewUser) -> Result<User> {
    let email = Email::parse(&u.email)?;
    let role = Role::parse(&u.role)?;
    let name =
        crate::error::required_text(&u.name, 100, "invalid_name", "a name has 1–100 characters")?;
    let locale = match u.locale.as_deref().map(str::trim) {
        None | Some("") => "ko",
        Some(l @ ("ko" | "en")) => l,
        Some(_) => return Err(Error::invalid("invalid_locale", "use ko or en")),
    };
    let hash = password::hash(&u.password)?;
    let user = state
        .store
        .create_user(email.as_str(), name, &hash, role.as_str(), locale)
        .await?;
    state
        .audit_by(
            actor,
            "user.create",
            &format!("user {}", user.id),
            &format!("{} as {}", user.email, user.role),
        )
        .await;
    Ok(user)
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub role: Option<String>,
    /// A team id, or null to leave every team.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub team_id: Option<Option<i64>>,
    pub disabled: Option<bool>,
    pub password: Option<String>,
}

/// Applies a change to a user and records every permission change in the audit log.
pub async fn update_user_checked(
    state: &App,
    actor: &Actor,
    id: i64,
    p: &UserPatch,
) -> Result<User> {
    let before = state.store.user(id).await?;
    if let Some(role) = &p.role {
        let role = Role::parse(role)?;
        if id == actor.user_id && role != Role::Admin {
            return Err(Error::Conflict(
                "you cannot take away your own admin role".into(),
            ));
        }
        state.store.set_role(id, role.as_str()).await?;
        state
            .audit_by(
                actor,
                "user.role",
                &format!("user {id}"),
                &format!("{} → {}", before.role, role.as_str()),
            )
            .await;
    }
    if let Some(team) = p.team_id {
        state.store.set_team(id, team).await?;
        state
            .audit_by(
                actor,
                "user.team",
                &format!("user {id}"),
                &format!("{:?} → {team:?}", before.team_id),
            )
            .await;
    }
    if let Some(disabled) = p.disabled {
        if id == actor.user_id && disabled {
            return Err(Error::Conflict("you cannot disable yourself".into()));
        }
        state.store.set_disabled(id, disabled).await?;
        state
            .audit_by(
                actor,
                if disabled {
                    "user.disable"
                } else {
                    "user.enable"
                },
                &format!("user {id}"),
                "",
            )
            .await;
    }
    if let Some(pw) = &p.password {
        state.store.set_password(id, &password::hash(pw)?).await?;
        // A new password also lifts a lockout from failed sign-ins.
        state.store.record_login_success(id).await?;
        state
            .audit_by(
                actor,
                "user.password",
                &format!("user {id}"),
                "password reset",
            )
            .await;
    }
    Ok(state.store.user(id).await?)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewTeam {
    pub name: String,
}

/// Creates a team; shared by the API and the users page.
pub async fn create_team_checked(state: &App, actor: &Actor, name: &str) -> Result<Team> {
    let name = crate::error::required_text(
        name,
        100,
        "invalid_name",
        "a team name has 1–100 characters",
    )?;
    let team = state.store.create_team(name).await?;
    state
        .audit_by(actor, "team.create", &format!("team {}", team.id), name)
        .await;
    Ok(team)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewToken {
    pub name: String,
    /// Any of `customers:read`, `customers:write`, `data:import`, `data:export`,
    /// `inbox:read`, `inbox:write`, `points:write`, `admin`.
    /// A token never does more than its owner's role allows.
    pub scopes: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    /// The secret, shown only in this response; only its hash is stored.
    pub token: String,
    pub details: ApiToken,
}

/// Creates a token for the caller; shared by the API and the tokens page.
pub async fn create_token_checked(
    state: &App,
    actor: &Actor,
    t: &NewToken,
) -> Result<CreatedToken> {
    let name = crate::error::required_text(
        &t.name,
        100,
        "invalid_name",
        "a token name has 1–100 characters",
    )?;
    let scopes: Vec<Scope> = Scope::parse_list(&t.scopes.join(" "))?;
    if scopes.is_empty() {
        return Err(Error::invalid(
            "invalid_scopes",
            "give the token at least one scope",
        ));
    }
    let token = secret::new_api_token();
    let details = state
        .store
        .create_api_token(
            actor.user_id,
            name,
            &secret::hash(&token),
            &token[..10],
            &Scope::join(&scopes),
        )
        .await?;
    state
        .audit_by(
            actor,
            "token.create",
            &format!("token {}", details.id),
            &Scope::join(&scopes),
        )
        .await;
    Ok(CreatedToken { token, details })
}

mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
        Option::<i64>::deserialize(d).map(Some)
    }
}
