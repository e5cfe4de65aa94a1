//! `UserStore` and `AuditStore` in SQL shared by both backends: staff accounts, teams,
//! browser sessions, API tokens and the audit log.

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
                Ok(sqlx::query_as(
                    "INSERT INTO users (email, name, password_hash, role, locale, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
                )
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
                let u: Option<$crate::model::User> =
                    sqlx::query_as("SELECT * FROM users WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&self.read)
                        .await?;
                u.ok_or_else(|| $crate::StoreError::NotFound(format!("user {id}")))
            }
            async fn user_by_email(
                &self,
                email: &str,
            ) -> $crate::StoreResult<Option<$crate::model::User>> {
                Ok(sqlx::query_as("SELECT * FROM users WHERE email = $1")
                    .bind(email)
                    .fetch_optional(&self.read)
                    .await?)
            }
            async fn users(&self) -> $crate::StoreResult<Vec<$crate::model::User>> {
                Ok(sqlx::query_as("SELECT * FROM users ORDER BY id")
                    .fetch_all(&self.read)
                    .await?)
            }
            async fn count_users(&self) -> $crate::StoreResult<i64> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
                    .fetch_one(&self.read)
                    .await?)
            }
            async fn set_role(&self, id: i64, role: &str) -> $crate::StoreResult<()> {
                self.update_user(id, "UPDATE users SET role = $2 WHERE id = $1", role)
                    .await
            }
            async fn set_password(
                &self,
                id: i64,
                password_hash: &str,
            ) -> $crate::StoreResult<()> {
                self.update_user(
                    id,
                    "UPDATE users SET password_hash = $2 WHERE id = $1",
                    password_hash,
                )
                .await?;
                // A new password ends every session of the old one.
                sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(id)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }
            async fn set_locale(&self, id: i64, locale: &str) -> $crate::StoreResult<()> {
                self.update_user(id, "UPDATE users SET locale = $2 WHERE id = $1", locale)
                    .await
            }
            async fn set_team(&self, id: i64, team_id: Option<i64>) -> $crate::StoreResult<()> {
                let done = sqlx::query("UPDATE users SET team_id = $2 WHERE id = $1")
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
                let done = sqlx::query("UPDATE users SET disabled = $2 WHERE id = $1")
                    .bind(id)
                    .bind(disabled)
                    .execute(&self.write)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound(format!("user {id}")));
                }
                sqlx::query("DELETE FROM sessions WHERE user_id = $1")
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
                sqlx::query(
                    "UPDATE users SET failed_logins = failed_logins + 1, locked_until = CASE
                     WHEN failed_logins + 1 >= $2 THEN $3 ELSE locked_until END WHERE id = $1",
                )
                .bind(id)
                .bind(max)
                .bind(lock_until)
                .execute(&self.write)
                .await?;
                Ok(())
            }
            async fn record_login_success(&self, id: i64) -> $crate::StoreResult<()> {
                sqlx::query(
                    "UPDATE users SET failed_logins = 0, locked_until = 0 WHERE id = $1",
                )
                .bind(id)
                .execute(&self.write)
                .await?;
                Ok(())
            }
            async fn create_team(
                &self,
                name: &str,
            ) -> $crate::StoreResult<$crate::model::Team> {
                Ok(sqlx::query_as(
                    "INSERT INTO teams (name, created_at) VALUES ($1, $2) RETURNING *",
                )
                .bind(name)
                .bind(self.clock.now_ms())
                .fetch_one(&self.write)
                .await?)
            }
            async fn teams(&self) -> $crate::StoreResult<Vec<$crate::model::Team>> {
                Ok(sqlx::query_as("SELECT * FROM teams ORDER BY name")
                    .fetch_all(&self.read)
                    .await?)
            }
            async fn create_session(
                &self,
                s: &$crate::model::Session,
            ) -> $crate::StoreResult<()> {
                // Expired sessions are swept here, where sessions are made, rather than by a timer.
                sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
                    .bind(s.created_at)
                    .execute(&self.write)
                    .await?;
                sqlx::query(
                    "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at,
                     expires_at) VALUES ($1, $2, $3, $4, $5)",
                )
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
            ) -> $crate::StoreResult<
                Option<($crate::model::Session, $crate::model::User)>,
            > {
                let s: Option<$crate::model::Session> = sqlx::query_as(
                    "SELECT * FROM sessions WHERE token_hash = $1 AND expires_at > $2",
                )
                .bind(token_hash)
                .bind(now)
                .fetch_optional(&self.read)
                .await?;
                let Some(s) = s else { return Ok(None) };
                let u = <Self as $crate::traits::UserStore>::user(self, s.user_id).await?;
                Ok(if u.disabled { None } else { Some((s, u)) })
            }
            async fn delete_session(&self, token_hash: &str) -> $crate::StoreResult<()> {
                sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
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
                Ok(sqlx::query_as(
                    "INSERT INTO api_tokens (user_id, name, token_hash, prefix, scopes,
                     created_at) VALUES ($1, $2, $3, $4, $5, $6)
                     RETURNING id, user_id, name, prefix, scopes, created_at, last_used_at,
                     revoked_at",
                )
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
            ) -> $crate::StoreResult<
                Option<($crate::model::ApiToken, $crate::model::User)>,
            > {
                let t: Option<$crate::model::ApiToken> = sqlx::query_as(
                    "SELECT id, user_id, name, prefix, scopes, created_at, last_used_at,
                     revoked_at FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
                )
                .bind(token_hash)
                .fetch_optional(&self.read)
                .await?;
                let Some(t) = t else { return Ok(None) };
                let u = <Self as $crate::traits::UserStore>::user(self, t.user_id).await?;
                // Recording use is best effort: a busy writer must not fail the request.
                let _ = sqlx::query(
                    "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1",
                )
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
                Ok(sqlx::query_as(
                    "SELECT id, user_id, name, prefix, scopes, created_at, last_used_at,
                     revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY id DESC",
                )
                .bind(user_id)
                .fetch_all(&self.read)
                .await?)
            }
            async fn revoke_api_token(
                &self,
                user_id: i64,
                token_id: i64,
            ) -> $crate::StoreResult<()> {
                let done = sqlx::query(
                    "UPDATE api_tokens SET revoked_at = $3 WHERE id = $1 AND user_id = $2
                     AND revoked_at IS NULL",
                )
                .bind(token_id)
                .bind(user_id)
                .bind(self.clock.now_ms())
                .execute(&self.write)
                .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound(format!(
                        "token {token_id}"
                    )));
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
            async fn audit(
                &self,
                e: &$crate::model::NewAuditEntry,
            ) -> $crate::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO audit_log (at, actor_user_id, actor, action, target, detail, ip)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
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
                Ok(sqlx::query_as(
                    "SELECT * FROM audit_log WHERE id < $1 ORDER BY id DESC LIMIT $2",
                )
                .bind(before.unwrap_or(i64::MAX))
                .bind(limit)
                .fetch_all(&self.read)
                .await?)
            }
        }
    };
}
pub(crate) use impl_user_store;
