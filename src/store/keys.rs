//! The fingerprints of the secrets a database was written with.

use super::backend::{on, Conn, Ts};
use super::Result;

/// Records `fingerprint` as the one of secret `name` unless one is recorded already; returns
/// the recorded one (equal to `fingerprint` on the first start).
pub async fn recorded_fingerprint(
    conn: &mut Conn,
    name: &str,
    fingerprint: &str,
) -> Result<String> {
    on!(conn.as_mut(), c => {
        sqlx::query(
            "INSERT INTO key_fingerprints (name, fingerprint, recorded_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(fingerprint)
        .bind(Ts(super::now()))
        .execute(&mut *c)
        .await?;
        Ok(sqlx::query_scalar("SELECT fingerprint FROM key_fingerprints WHERE name = $1")
            .bind(name)
            .fetch_one(&mut *c)
            .await?)
    })
}

/// The recorded fingerprint of secret `name`, if any.
pub async fn fingerprint(conn: &mut Conn, name: &str) -> Result<Option<String>> {
    on!(conn.as_mut(), c => Ok(
        sqlx::query_scalar("SELECT fingerprint FROM key_fingerprints WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *c)
            .await?
    ))
}
