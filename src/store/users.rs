//! Console users and their sessions (tower-sessions' records, written through the writer).

use super::audit::{self, Actor, Entry};
use super::backend::{on, read, DbRow, Ts};
use super::writer::{Tx, Unit};
use super::{format_time, Reader, Result, StoreError};
use crate::domain::auth::Role;
use futures_util::future::BoxFuture;

/// A console user as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub role: Role,
    /// The argon2id PHC string; `None` until the user sets a password (an invitation).
    pub password_hash: Option<String>,
    pub disabled: bool,
    /// Sessions begun before this moment (Unix microseconds) are over.
    pub sessions_after: i64,
    /// Who invited them (`None`: created with a password, by the setup step or the CLI).
    pub invited_by: Option<String>,
}

impl User {
    /// Invited, and the invitation not accepted yet.
    pub fn invited(&self) -> bool {
        self.password_hash.is_none()
    }
}

const SELECT_USER: &str =
    "SELECT id, email, role, password_hash, disabled_at, sessions_after, invited_by FROM users";

fn user(r: &impl DbRow) -> Result<User> {
    let role: String = r.col("role")?;
    let after: Ts = r.col("sessions_after")?;
    Ok(User {
        id: r.col("id")?,
        email: r.col("email")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role:?}")))?,
        password_hash: r.col("password_hash")?,
        disabled: r.col::<Option<Ts>>("disabled_at")?.is_some(),
        sessions_after: crate::domain::auth::micros(super::parse_time(&after.0)?),
        invited_by: r.col("invited_by")?,
    })
}

/// The user with this address (compared in lower case).
pub async fn by_email(read: &Reader, email: &str) -> Result<Option<User>> {
    let sql = format!("{SELECT_USER} WHERE email = $1");
    read!(read, c => sqlx::query(&sql)
        .bind(email.to_lowercase())
        .fetch_optional(&mut *c)
        .await?
        .as_ref()
        .map(user)
        .transpose())
}

pub async fn by_id(read: &Reader, id: i64) -> Result<Option<User>> {
    let sql = format!("{SELECT_USER} WHERE id = $1");
    read!(read, c => sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await?
        .as_ref()
        .map(user)
        .transpose())
}

/// Every user, by address.
pub async fn all(read: &Reader) -> Result<Vec<User>> {
    let sql = format!("{SELECT_USER} ORDER BY email");
    read!(read, c => sqlx::query(&sql)
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(user)
        .collect())
}

/// How many users exist (none: the setup step has not run).
pub async fn count(read: &Reader) -> Result<i64> {
    read!(read, c => Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&mut *c)
        .await?))
}

/// Adds a user; `None` when the address has one already.
pub struct CreateUser {
    pub email: String,
    pub role: Role,
    pub password_hash: Option<String>,
    pub actor: Actor,
}

impl Unit for CreateUser {
    type Output = Option<i64>;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<Option<i64>>> {
        Box::pin(async move {
            let now = tx.now_str();
            let email = self.email.to_lowercase();
            let id: Option<i64> = on!(tx.conn(), c => sqlx::query_scalar(
                "INSERT INTO users (email, role, password_hash, created_at, sessions_after)
                 VALUES ($1, $2, $3, $4, $4)
                 ON CONFLICT (email) DO NOTHING RETURNING id",
            )
            .bind(&email)
            .bind(self.role.as_str())
            .bind(&self.password_hash)
            .bind(Ts::new(now))
            .fetch_optional(&mut *c)
            .await?);
            if let Some(id) = id {
                let entry = Entry {
                    kind: "user.create",
                    subject: format!("user {id} {email}"),
                    before: None,
                    after: Some(serde_json::json!({ "email": email, "role": self.role.as_str() })),
                };
                audit::record(tx, &self.actor, entry).await?;
            }
            Ok(id)
        })
    }
}

/// Puts a new setup code (its keyed hash) in place of any earlier one, while no user exists;
/// `false` when a user exists (no code is needed, none is kept).
pub struct NewSetupCode {
    pub code_hash: Vec<u8>,
}

impl Unit for NewSetupCode {
    type Output = bool;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let now = tx.now_str();
            on!(tx.conn(), c => {
                let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
                    .fetch_one(&mut *c)
                    .await?;
                if users > 0 {
                    sqlx::query("DELETE FROM console_setup").execute(&mut *c).await?;
                    return Ok(false);
                }
                sqlx::query(
                    "INSERT INTO console_setup (id, code_hash, created_at) VALUES (1, $1, $2)
                     ON CONFLICT (id) DO UPDATE SET code_hash = excluded.code_hash,
                         created_at = excluded.created_at",
                )
                .bind(&self.code_hash)
                .bind(Ts::new(now))
                .execute(&mut *c)
                .await?;
                Ok(true)
            })
        })
    }
}

/// What the setup step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setup {
    Created(i64),
    /// A user exists already: the setup step is over.
    Closed,
    /// The code is not the one the server printed.
    WrongCode,
}

/// Creates the first admin, if the code matches and still no user exists; the code goes.
pub struct CreateFirstAdmin {
    pub code_hash: Vec<u8>,
    pub user: CreateUser,
}

impl Unit for CreateFirstAdmin {
    type Output = Setup;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<Setup>> {
        Box::pin(async move {
            let (users, stored): (i64, Option<Vec<u8>>) = on!(tx.conn(), c => {
                let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
                    .fetch_one(&mut *c)
                    .await?;
                let stored: Option<Vec<u8>> =
                    sqlx::query_scalar("SELECT code_hash FROM console_setup WHERE id = 1")
                        .fetch_optional(&mut *c)
                        .await?;
                (users, stored)
            });
            if users > 0 {
                return Ok(Setup::Closed);
            }
            let matches = stored.is_some_and(|s| {
                use subtle::ConstantTimeEq as _;
                bool::from(s.ct_eq(&self.code_hash))
            });
            if !matches {
                return Ok(Setup::WrongCode);
            }
            let Some(id) = self.user.apply(tx).await? else {
                return Ok(Setup::Closed);
            };
            on!(tx.conn(), c => {
                sqlx::query("DELETE FROM console_setup").execute(&mut *c).await?;
            });
            Ok(Setup::Created(id))
        })
    }
}

/// Why a change to a user is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserChange {
    Done,
    NotFound,
    /// It would leave no active admin.
    LastAdmin,
}

/// Gives a user another role (takes effect at their next request: the role is read every
/// time), unless that leaves no active admin.
pub struct SetRole {
    pub user_id: i64,
    pub role: Role,
    pub actor: Actor,
}

/// Deletes a user (their sessions then name nobody), unless that leaves no active admin.
pub struct DeleteUser {
    pub user_id: i64,
    pub actor: Actor,
}

/// A user as the audit log names them, with what it records of them.
struct About {
    id: i64,
    email: String,
    role: String,
    disabled: bool,
}

impl About {
    fn subject(&self) -> String {
        format!("user {} {}", self.id, self.email)
    }
}

async fn about(tx: &mut Tx, user_id: i64) -> Result<Option<About>> {
    let row: Option<(String, String, Option<Ts>)> = on!(tx.conn(), c => sqlx::query_as(
        "SELECT email, role, disabled_at FROM users WHERE id = $1",
    )
    .bind(user_id)
    .fetch_optional(&mut *c)
    .await?);
    Ok(row.map(|(email, role, disabled)| About {
        id: user_id,
        email,
        role,
        disabled: disabled.is_some(),
    }))
}

/// Whether taking `user_id` out of the active admins leaves none.
async fn last_admin(tx: &mut Tx, user_id: i64) -> Result<Option<bool>> {
    on!(tx.conn(), c => {
        let role: Option<(String, Option<Ts>)> =
            sqlx::query_as("SELECT role, disabled_at FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(&mut *c)
                .await?;
        let Some((role, disabled)) = role else {
            return Ok(None);
        };
        if role != "admin" || disabled.is_some() {
            return Ok(Some(false));
        }
        let others: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL AND id <> $1",
        )
        .bind(user_id)
        .fetch_one(&mut *c)
        .await?;
        Ok(Some(others == 0))
    })
}

impl Unit for SetRole {
    type Output = UserChange;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<UserChange>> {
        Box::pin(async move {
            match last_admin(tx, self.user_id).await? {
                None => return Ok(UserChange::NotFound),
                Some(true) if self.role != Role::Admin => return Ok(UserChange::LastAdmin),
                Some(_) => {}
            }
            let Some(before) = about(tx, self.user_id).await? else {
                return Ok(UserChange::NotFound);
            };
            if before.role == self.role.as_str() {
                return Ok(UserChange::Done);
            }
            on!(tx.conn(), c => {
                sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
                    .bind(self.role.as_str())
                    .bind(self.user_id)
                    .execute(&mut *c)
                    .await?;
            });
            let entry = Entry {
                kind: "user.role",
                subject: before.subject(),
                before: Some(serde_json::json!({ "role": before.role })),
                after: Some(serde_json::json!({ "role": self.role.as_str() })),
            };
            audit::record(tx, &self.actor, entry).await?;
            Ok(UserChange::Done)
        })
    }
}

impl Unit for DeleteUser {
    type Output = UserChange;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<UserChange>> {
        Box::pin(async move {
            match last_admin(tx, self.user_id).await? {
                None => return Ok(UserChange::NotFound),
                Some(true) => return Ok(UserChange::LastAdmin),
                Some(false) => {}
            }
            let Some(before) = about(tx, self.user_id).await? else {
                return Ok(UserChange::NotFound);
            };
            on!(tx.conn(), c => {
                sqlx::query("DELETE FROM users WHERE id = $1")
                    .bind(self.user_id)
                    .execute(&mut *c)
                    .await?;
                sqlx::query("DELETE FROM invite_tokens WHERE user_id = $1")
                    .bind(self.user_id)
                    .execute(&mut *c)
                    .await?;
            });
            super::outbox::cancel_invites(tx, self.user_id, "user deleted").await?;
            let entry = Entry {
                kind: "user.delete",
                subject: before.subject(),
                before: Some(serde_json::json!({
                    "email": before.email,
                    "role": before.role,
                    "state": if before.disabled { "disabled" } else { "active" },
                })),
                after: None,
            };
            audit::record(tx, &self.actor, entry).await?;
            Ok(UserChange::Done)
        })
    }
}

/// Invites a user: the user is created without a password (they cannot sign in until they
/// accept) and an invitation email is queued in the same transaction. `None` when the address
/// has a user already.
pub struct Invite {
    pub email: String,
    pub role: Role,
    pub message_id: String,
    pub actor: Actor,
}

impl Unit for Invite {
    type Output = Option<i64>;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<Option<i64>>> {
        Box::pin(async move {
            let now = tx.now_str();
            let email = self.email.to_lowercase();
            let id: Option<i64> = on!(tx.conn(), c => sqlx::query_scalar(
                "INSERT INTO users (email, role, created_at, sessions_after, invited_by)
                 VALUES ($1, $2, $3, $3, $4)
                 ON CONFLICT (email) DO NOTHING RETURNING id",
            )
            .bind(&email)
            .bind(self.role.as_str())
            .bind(Ts::new(now))
            .bind(&self.actor.name)
            .fetch_optional(&mut *c)
            .await?);
            let Some(id) = id else {
                return Ok(None);
            };
            super::outbox::enqueue_invite(tx, id, &self.message_id).await?;
            let entry = Entry {
                kind: "user.invite",
                subject: format!("user {id} {email}"),
                before: None,
                after: Some(serde_json::json!({ "email": email, "role": self.role.as_str() })),
            };
            audit::record(tx, &self.actor, entry).await?;
            Ok(Some(id))
        })
    }
}

/// Sends an invitation again (a fresh link; what was still queued is cancelled). Only for a
/// user who has not accepted and is not disabled.
pub struct ResendInvite {
    pub user_id: i64,
    pub message_id: String,
    pub actor: Actor,
}

impl Unit for ResendInvite {
    type Output = bool;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let pending: Option<String> = on!(tx.conn(), c => sqlx::query_scalar(
                "SELECT email FROM users
                 WHERE id = $1 AND password_hash IS NULL AND disabled_at IS NULL",
            )
            .bind(self.user_id)
            .fetch_optional(&mut *c)
            .await?);
            let Some(email) = pending else {
                return Ok(false);
            };
            super::outbox::cancel_invites(tx, self.user_id, "sent again").await?;
            super::outbox::enqueue_invite(tx, self.user_id, &self.message_id).await?;
            let entry = Entry {
                kind: "user.invite_again",
                subject: format!("user {} {email}", self.user_id),
                before: None,
                after: None,
            };
            audit::record(tx, &self.actor, entry).await?;
            Ok(true)
        })
    }
}

/// The invited user an outbox row is for, while the invitation still stands (the user exists,
/// has not accepted, is not disabled): their address and role.
pub async fn pending_invitee(tx: &mut Tx, user_id: i64) -> Result<Option<(String, Role)>> {
    let row: Option<(String, String)> = on!(tx.conn(), c => sqlx::query_as(
        "SELECT email, role FROM users
         WHERE id = $1 AND password_hash IS NULL AND disabled_at IS NULL",
    )
    .bind(user_id)
    .fetch_optional(&mut *c)
    .await?);
    row.map(|(email, role)| {
        Role::parse(&role)
            .map(|r| (email, r))
            .ok_or_else(|| StoreError::Corrupt(format!("role {role:?}")))
    })
    .transpose()
}

/// Keeps the hash of an invitation link minted for the email `message_id`.
pub async fn insert_invite_token(
    tx: &mut Tx,
    user_id: i64,
    hash: &crate::domain::token::TokenHash,
    message_id: &str,
    expires_at: &str,
) -> Result<()> {
    let now = tx.now_str();
    on!(tx.conn(), c => {
        sqlx::query(
            "INSERT INTO invite_tokens (token_hash, user_id, message_id, issued_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&hash.0[..])
        .bind(user_id)
        .bind(message_id)
        .bind(Ts(now))
        .bind(Ts::new(expires_at))
        .execute(c)
        .await?;
    });
    Ok(())
}

/// The user an invitation link is for, while it stands: not expired at `now`, the user still
/// invited (no password yet) and not disabled.
pub async fn by_invite_token(
    read: &Reader,
    hash: &crate::domain::token::TokenHash,
    now: &str,
) -> Result<Option<User>> {
    let sql = format!(
        "{SELECT_USER} WHERE id = (SELECT user_id FROM invite_tokens
                                   WHERE token_hash = $1 AND expires_at > $2)
             AND password_hash IS NULL AND disabled_at IS NULL"
    );
    read!(read, c => sqlx::query(&sql)
        .bind(&hash.0[..])
        .bind(Ts::new(now))
        .fetch_optional(&mut *c)
        .await?
        .as_ref()
        .map(user)
        .transpose())
}

/// Accepts an invitation: the user's first password, if the link still stands (checked again
/// inside the transaction); every invitation link of theirs goes. Returns the user's id and
/// the moment (Unix microseconds) their first session may start from.
pub struct AcceptInvite {
    pub token_hash: crate::domain::token::TokenHash,
    pub password_hash: String,
}

impl Unit for AcceptInvite {
    type Output = Option<(i64, i64)>;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<Option<(i64, i64)>>> {
        Box::pin(async move {
            let now = tx.now();
            let at = format_time(now);
            let found: Option<(i64, String)> = on!(tx.conn(), c => sqlx::query_as(
                "SELECT u.id, u.email FROM invite_tokens t JOIN users u ON u.id = t.user_id
                 WHERE t.token_hash = $1 AND t.expires_at > $2
                   AND u.password_hash IS NULL AND u.disabled_at IS NULL",
            )
            .bind(&self.token_hash.0[..])
            .bind(Ts::new(&*at))
            .fetch_optional(&mut *c)
            .await?);
            let Some((id, email)) = found else {
                return Ok(None);
            };
            on!(tx.conn(), c => {
                sqlx::query("UPDATE users SET password_hash = $1, sessions_after = $2 WHERE id = $3")
                    .bind(&self.password_hash)
                    .bind(Ts::new(&*at))
                    .bind(id)
                    .execute(&mut *c)
                    .await?;
                sqlx::query("DELETE FROM invite_tokens WHERE user_id = $1")
                    .bind(id)
                    .execute(&mut *c)
                    .await?;
            });
            super::outbox::cancel_invites(tx, id, "accepted").await?;
            let actor = Actor {
                user_id: Some(id),
                name: email.clone(),
            };
            let entry = Entry {
                kind: "user.accept_invite",
                subject: format!("user {id} {email}"),
                before: None,
                after: None,
            };
            audit::record(tx, &actor, entry).await?;
            Ok(Some((id, crate::domain::auth::micros(now))))
        })
    }
}

/// A successful sign-in: its time, and the password rehashed when the parameters changed.
pub struct SignedIn {
    pub user_id: i64,
    pub rehashed: Option<String>,
}

impl Unit for SignedIn {
    type Output = ();
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let now = tx.now_str();
            on!(tx.conn(), c => {
                sqlx::query(
                    "UPDATE users SET last_sign_in_at = $1,
                         password_hash = COALESCE($2, password_hash) WHERE id = $3",
                )
                .bind(Ts::new(now))
                .bind(&self.rehashed)
                .bind(self.user_id)
                .execute(&mut *c)
                .await?;
            });
            Ok(())
        })
    }
}

/// A user's new password: every session of theirs begun before now ends; returns the moment
/// (Unix seconds) the caller's own session starts again from.
pub struct SetPassword {
    pub user_id: i64,
    pub password_hash: String,
    pub actor: Actor,
}

impl Unit for SetPassword {
    type Output = Option<i64>;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<Option<i64>>> {
        Box::pin(async move {
            let now = tx.now();
            let Some(who) = about(tx, self.user_id).await? else {
                return Ok(None);
            };
            on!(tx.conn(), c => {
                sqlx::query("UPDATE users SET password_hash = $1, sessions_after = $2 WHERE id = $3")
                    .bind(&self.password_hash)
                    .bind(Ts::new(format_time(now)))
                    .bind(self.user_id)
                    .execute(&mut *c)
                    .await?;
            });
            // The log says that it changed, never what it is.
            let entry = Entry {
                kind: "user.password",
                subject: who.subject(),
                before: None,
                after: None,
            };
            audit::record(tx, &self.actor, entry).await?;
            Ok(Some(crate::domain::auth::micros(now)))
        })
    }
}

/// Disables (or enables again) a user; either way every session of theirs ends now.
pub struct SetDisabled {
    pub user_id: i64,
    pub disabled: bool,
    pub actor: Actor,
}

impl Unit for SetDisabled {
    type Output = bool;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let now = tx.now_str();
            let Some(before) = about(tx, self.user_id).await? else {
                return Ok(false);
            };
            let disabled_at = self.disabled.then(|| Ts::new(now.clone()));
            on!(tx.conn(), c => {
                sqlx::query("UPDATE users SET disabled_at = $1, sessions_after = $2 WHERE id = $3")
                    .bind(disabled_at)
                    .bind(Ts::new(now))
                    .bind(self.user_id)
                    .execute(&mut *c)
                    .await?;
            });
            let state =
                |d: bool| serde_json::json!({ "state": if d { "disabled" } else { "active" } });
            let entry = Entry {
                kind: if self.disabled {
                    "user.disable"
                } else {
                    "user.enable"
                },
                subject: before.subject(),
                before: Some(state(before.disabled)),
                after: Some(state(self.disabled)),
            };
            audit::record(tx, &self.actor, entry).await?;
            Ok(true)
        })
    }
}

/// One failed sign-in, counted for the account and for the client's address.
pub struct SignInFailed {
    pub window: time::OffsetDateTime,
    /// Keyed hashes: the account's (absent when the browser carried its device cookie) and
    /// the client address's.
    pub keys: Vec<Vec<u8>>,
}

impl Unit for SignInFailed {
    type Output = ();
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            for k in &self.keys {
                super::rate::hit(tx, self.window, k).await?;
            }
            Ok(())
        })
    }
}

/// A stored session: its encoded record, while it has not expired at `now`.
pub async fn load_session(read: &Reader, id: &str, now: &str) -> Result<Option<Vec<u8>>> {
    read!(read, c => Ok(sqlx::query_scalar(
        "SELECT data FROM console_sessions WHERE id = $1 AND expires_at > $2",
    )
    .bind(id)
    .bind(Ts::new(now))
    .fetch_optional(&mut *c)
    .await?))
}

/// Writes a session record (`create`: only if the id is new; answers whether it was written),
/// and deletes the ones expired by `now`. (Session expiry is tower-sessions' and runs on the
/// system's time, so `now` is that too, not the writer's clock.)
pub struct SaveSession {
    pub id: String,
    pub data: Vec<u8>,
    pub expires_at: time::OffsetDateTime,
    pub create: bool,
    pub now: time::OffsetDateTime,
}

impl Unit for SaveSession {
    type Output = bool;
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let now = format_time(self.now);
            let sql = if self.create {
                "INSERT INTO console_sessions (id, data, expires_at) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO NOTHING"
            } else {
                "INSERT INTO console_sessions (id, data, expires_at) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at"
            };
            on!(tx.conn(), c => {
                sqlx::query("DELETE FROM console_sessions WHERE expires_at <= $1")
                    .bind(Ts::new(now))
                    .execute(&mut *c)
                    .await?;
                Ok(sqlx::query(sql)
                    .bind(&self.id)
                    .bind(&self.data)
                    .bind(Ts::new(format_time(self.expires_at)))
                    .execute(&mut *c)
                    .await?
                    .rows_affected()
                    == 1)
            })
        })
    }
}

pub struct DeleteSession {
    pub id: String,
}

impl Unit for DeleteSession {
    type Output = ();
    fn apply<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            on!(tx.conn(), c => {
                sqlx::query("DELETE FROM console_sessions WHERE id = $1")
                    .bind(&self.id)
                    .execute(&mut *c)
                    .await?;
            });
            Ok(())
        })
    }
}
