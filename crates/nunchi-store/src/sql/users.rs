//! `UserStore` and `AuditStore` in SQL shared by both backends: staff accounts, teams,
//! browser sessions, API tokens and the audit log.

pub(crate) const CREATE_USER: &str = "
    INSERT INTO users (email, name, password_hash, role, locale, created_at)
    VALUES ($1, $2, $3, $4, $5, $6) RETURNING *";

pub(crate) const USER: &str = "SELECT * FROM users WHERE id = $1";

pub(crate) const USER_BY_EMAIL: &str = "SELECT * FROM users WHERE email = $1";

pub(crate) const USERS: &str = "SELECT * FROM users ORDER BY id";

pub(crate) const COUNT_USERS: &str = "SELECT COUNT(*) FROM users";

pub(crate) const SET_ROLE_UPDATE_USERS: &str = "UPDATE users SET role = $2 WHERE id = $1";

pub(crate) const SET_PASSWORD_UPDATE_USERS: &str =
    "UPDATE users SET password_hash = $2 WHERE id = $1";

pub(crate) const SET_PASSWORD_DELETE_SESSIONS: &str = "DELETE FROM sessions WHERE user_id = $1";

pub(crate) const SET_LOCALE_UPDATE_USERS: &str = "UPDATE users SET locale = $2 WHERE id = $1";

pub(crate) const SET_TEAM_UPDATE_USERS: &str = "UPDATE users SET team_id = $2 WHERE id = $1";

pub(crate) const SET_DISABLED_UPDATE_USERS: &str = "UPDATE users SET disabled = $2 WHERE id = $1";

pub(crate) const SET_DISABLED_DELETE_SESSIONS: &str = "DELETE FROM sessions WHERE user_id = $1";

pub(crate) const RECORD_LOGIN_FAILURE_UPDATE_USERS: &str = "
    UPDATE users SET failed_logins = failed_logins + 1, locked_until = CASE
    WHEN failed_logins + 1 >= $2 THEN $3 ELSE locked_until END WHERE id = $1";

pub(crate) const RECORD_LOGIN_SUCCESS_UPDATE_USERS: &str = "
    UPDATE users SET failed_logins = 0, locked_until = 0 WHERE id = $1";

pub(crate) const CREATE_TEAM: &str = "
    INSERT INTO teams (name, created_at) VALUES ($1, $2) RETURNING *";

pub(crate) const TEAMS: &str = "SELECT * FROM teams ORDER BY name";

pub(crate) const CREATE_SESSION_DELETE_SESSIONS: &str =
    "DELETE FROM sessions WHERE expires_at < $1";

pub(crate) const CREATE_SESSION_INSERT_SESSIONS: &str = "
    INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at)
    VALUES ($1, $2, $3, $4, $5)";

pub(crate) const SESSION: &str = "SELECT * FROM sessions WHERE token_hash = $1 AND expires_at > $2";

pub(crate) const DELETE_SESSION: &str = "DELETE FROM sessions WHERE token_hash = $1";

pub(crate) const CREATE_API_TOKEN: &str = "
    INSERT INTO api_tokens (user_id, name, token_hash, prefix, scopes, created_at)
    VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, user_id, name, prefix, scopes, created_at,
    last_used_at, revoked_at";

pub(crate) const API_TOKEN_SELECT_API_TOKENS: &str = "
    SELECT id, user_id, name, prefix, scopes, created_at, last_used_at, revoked_at FROM api_tokens
    WHERE token_hash = $1 AND revoked_at IS NULL";

pub(crate) const API_TOKEN_UPDATE_API_TOKENS: &str = "
    UPDATE api_tokens SET last_used_at = $2 WHERE id = $1";

pub(crate) const API_TOKENS: &str = "
    SELECT id, user_id, name, prefix, scopes, created_at, last_used_at, revoked_at FROM api_tokens
    WHERE user_id = $1 ORDER BY id DESC";

pub(crate) const REVOKE_API_TOKEN: &str = "
    UPDATE api_tokens SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL";

pub(crate) const AUDIT_INSERT_AUDIT_LOG: &str = "
    INSERT INTO audit_log (at, actor_user_id, actor, action, target, detail, ip)
    VALUES ($1, $2, $3, $4, $5, $6, $7)";

pub(crate) const AUDIT_LOG: &str = "
    SELECT * FROM audit_log WHERE id < $1 ORDER BY id DESC LIMIT $2";

macro_rules! impl_user_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::traits::UserStore for $store {
            async fn create_user(
                &self,
                email: &str,
                name: &str,
                password_hash: &str,
                role: &str,
                locale: &str,
            ) -> $crate::StoreResult<$crate::model::User> {
                Ok(sqlx::query_as($crate::sql::users::CREATE_USER)
                    .bind(email)
                    .bind(name)
                    .bind(password_hash)
                    .bind(role)
                    .bind(locale)
                    .bind(self.clock.now_ms())
                    .fetch_one(&self.write)
                    .await?)
            }
            async fn user(&self, id: i64) -> $crate::StoreResult<$crate::model::User> {
                let u: Option<$crate::model::User> = sqlx::query_as($crate::sql::users::USER)
                    .bind(id)
                    .fetch_optional(&self.read)
                    .await?;
                u.ok_or_else(|| $crate::StoreError::NotFound(format!("user {id}")))
            }
            async fn user_by_email(
                &self,
                email: &str,
            ) -> $crate::StoreResult<Option<$crate::model::User>> {
                Ok(sqlx::query_as($crate::sql::users::USER_BY_EMAIL)
                    .bind(email)
                    .fetch_optional(&self.read)
                    .await?)
            }
            async fn users(&self) -> $crate::StoreResult<Vec<$crate::model::User>> {
                Ok(sqlx::query_as($crate::sql::users::USERS)
                    .fetch_all(&self.read)
                    .await?)
            }
            async fn count_users(&self) -> $crate::StoreResult<i64> {
                Ok(sqlx::query_scalar($crate::sql::users::COUNT_USERS)
                    .fetch_one(&self.read)
                    .await?)
            }
            async fn set_role(&self, id: i64, role: &str) -> $crate::StoreResult<()> {
                self.update_user(id, $crate::sql::users::SET_ROLE_UPDATE_USERS, role)
                    .await
            }
            async fn set_password(&self, id: i64, password_hash: &str) -> $crate::StoreResult<()> {
                self.update_user(
                    id,
                    $crate::sql::users::SET_PASSWORD_UPDATE_USERS,
                    password_hash,
                )
                .await?;
                // A new password ends every session of the old one.
                sqlx::query($crate::sql::users::SET_PASSWORD_DELETE_SESSIONS)
                    .bind(id)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }
            async fn set_locale(&self, id: i64, locale: &str) -> $crate::StoreResult<()> {
                self.update_user(id, $crate::sql::users::SET_LOCALE_UPDATE_USERS, locale)
                    .await
            }
            async fn set_team(&self, id: i64, team_id: Option<i64>) -> $crate::StoreResult<()> {
                let done = sqlx::query($crate::sql::users::SET_TEAM_UPDATE_USERS)
                    .bind(id)
                    .bind(team_id)
                    .execute(&self.write)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound(format!("user {id}")));
                }
                Ok(())
            }
            async fn set_disabled(&self, id: i64, disabled: bool) -> $crate::StoreResult<()> {
                let done = sqlx::query($crate::sql::users::SET_DISABLED_UPDATE_USERS)
                    .bind(id)
                    .bind(disabled)
                    .execute(&self.write)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound(format!("user {id}")));
                }
                sqlx::query($crate::sql::users::SET_DISABLED_DELETE_SESSIONS)
                    .bind(id)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }
            async fn record_login_failure(
                &self,
                id: i64,
                max: i64,
                lock_until: i64,
            ) -> $crate::StoreResult<()> {
                sqlx::query($crate::sql::users::RECORD_LOGIN_FAILURE_UPDATE_USERS)
                    .bind(id)
                    .bind(max)
                    .bind(lock_until)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }
            async fn record_login_success(&self, id: i64) -> $crate::StoreResult<()> {
                sqlx::query($crate::sql::users::RECORD_LOGIN_SUCCESS_UPDATE_USERS)
                    .bind(id)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }
            async fn create_team(&self, name: &str) -> $crate::StoreResult<$crate::model::Team> {
                Ok(sqlx::query_as($crate::sql::users::CREATE_TEAM)
                    .bind(name)
                    .bind(self.clock.now_ms())
                    .fetch_one(&self.write)
                    .await?)
            }
            async fn teams(&self) -> $crate::StoreResult<Vec<$crate::model::Team>> {
                Ok(sqlx::query_as($crate::sql::users::TEAMS)
                    .fetch_all(&self.read)
                    .await?)
            }
            async fn create_session(&self, s: &$crate::model::Session) -> $crate::StoreResult<()> {
                // Expired sessions are swept here, where sessions are made, rather than by a timer.
                sqlx::query($crate::sql::users::CREATE_SESSION_DELETE_SESSIONS)
                    .bind(s.created_at)
                    .execute(&self.write)
                    .await?;
                sqlx::query($crate::sql::users::CREATE_SESSION_INSERT_SESSIONS)
                    .bind(&s.token_hash)
                    .bind(s.user_id)
                    .bind(&s.csrf_token)
                    .bind(s.created_at)
                    .bind(s.expires_at)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }
            async fn session(
                &self,
                token_hash: &str,
                now: i64,
            ) -> $crate::StoreResult<Option<($crate::model::Session, $crate::model::User)>> {
                let s: Option<$crate::model::Session> = sqlx::query_as($crate::sql::users::SESSION)
                    .bind(token_hash)
                    .bind(now)
                    .fetch_optional(&self.read)
                    .await?;
                let Some(s) = s else { return Ok(None) };
                let u = <Self as $crate::traits::UserStore>::user(self, s.user_id).await?;
                Ok(if u.disabled { None } else { Some((s, u)) })
            }
            async fn delete_session(&self, token_hash: &str) -> $crate::StoreResult<()> {
                sqlx::query($crate::sql::users::DELETE_SESSION)
                    .bind(token_hash)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }
            async fn create_api_token(
                &self,
                user_id: i64,
                name: &str,
                token_hash: &str,
                prefix: &str,
                scopes: &str,
            ) -> $crate::StoreResult<$crate::model::ApiToken> {
                Ok(sqlx::query_as($crate::sql::users::CREATE_API_TOKEN)
                    .bind(user_id)
                    .bind(name)
                    .bind(token_hash)
                    .bind(prefix)
                    .bind(scopes)
                    .bind(self.clock.now_ms())
                    .fetch_one(&self.write)
                    .await?)
            }
            async fn api_token(
                &self,
                token_hash: &str,
            ) -> $crate::StoreResult<Option<($crate::model::ApiToken, $crate::model::User)>> {
                let t: Option<$crate::model::ApiToken> =
                    sqlx::query_as($crate::sql::users::API_TOKEN_SELECT_API_TOKENS)
                        .bind(token_hash)
                        .fetch_optional(&self.read)
                        .await?;
                let Some(t) = t else { return Ok(None) };
                let u = <Self as $crate::traits::UserStore>::user(self, t.user_id).await?;
                // Recording use is best effort: a busy writer must not fail the request.
                let _ = sqlx::query($crate::sql::users::API_TOKEN_UPDATE_API_TOKENS)
                    .bind(t.id)
                    .bind(self.clock.now_ms())
                    .execute(&self.write)
                    .await;
                Ok(if u.disabled { None } else { Some((t, u)) })
            }
            async fn api_tokens(
                &self,
                user_id: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::ApiToken>> {
                Ok(sqlx::query_as($crate::sql::users::API_TOKENS)
                    .bind(user_id)
                    .fetch_all(&self.read)
                    .await?)
            }
            async fn revoke_api_token(
                &self,
                user_id: i64,
                token_id: i64,
            ) -> $crate::StoreResult<()> {
                let done = sqlx::query($crate::sql::users::REVOKE_API_TOKEN)
                    .bind(token_id)
                    .bind(user_id)
                    .bind(self.clock.now_ms())
                    .execute(&self.write)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound(format!("token {token_id}")));
                }
                Ok(())
            }
        }

        impl $store {
            async fn update_user(
                &self,
                id: i64,
                sql: &str,
                value: &str,
            ) -> $crate::StoreResult<()> {
                let done = sqlx::query(sql)
                    .bind(id)
                    .bind(value)
                    .execute(&self.write)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound(format!("user {id}")));
                }
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl $crate::traits::AuditStore for $store {
            async fn audit(&self, e: &$crate::model::NewAuditEntry) -> $crate::StoreResult<()> {
                sqlx::query($crate::sql::users::AUDIT_INSERT_AUDIT_LOG)
                    .bind(e.at)
                    .bind(e.actor_user_id)
                    .bind(&e.actor)
                    .bind(&e.action)
                    .bind(&e.target)
                    .bind(&e.detail)
                    .bind(&e.ip)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }
            async fn audit_log(
                &self,
                before: Option<i64>,
                limit: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::AuditEntry>> {
                Ok(sqlx::query_as($crate::sql::users::AUDIT_LOG)
                    .bind(before.unwrap_or(i64::MAX))
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?)
            }
        }
    };
}
pub(crate) use impl_user_store;
