//! The migration lock on PostgreSQL: a session advisory lock with golang-migrate's key, so a
//! Go replica and a Rust replica starting on one database wait for each other.
//!
//! golang-migrate's postgres driver takes `pg_advisory_lock(id)` with
//! `id = crc32(schema + "\x00" + table + "\x00" + database) * 1486364155` (IEEE CRC-32,
//! multiplied as a `uint32`, so it wraps), where `database` is what the driver was configured
//! with: the URL's path (`/shop`, with its slash) when it was opened from a URL (its CLI,
//! `migrate.New`), `current_database()` (`shop`) when a service handed it a connection
//! (`postgres.WithInstance`). The run takes both keys, in a fixed order, so it excludes either
//! kind of Go starter, and other runs of this tool never deadlock on them.

use std::time::{Duration, Instant};

use tokio_postgres::error::SqlState;

use crate::error::Error;
use crate::postgres::client::Client;
use crate::postgres::tables::Tables;

/// golang-migrate's salt (`advisoryLockIDSalt`).
const SALT: u32 = 1_486_364_155;

/// IEEE CRC-32 (the polynomial of Go's `crc32.ChecksumIEEE` and zlib's `crc32`).
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// golang-migrate's advisory-lock key for a database, schema and version table, as
/// `pg_advisory_lock` receives it (a `bigint` between 0 and 2³²−1).
pub fn golang_migrate_key(database: &str, schema: &str, table: &str) -> i64 {
    let joined = format!("{schema}\0{table}\0{database}");
    i64::from(crc32(joined.as_bytes()).wrapping_mul(SALT))
}

/// The keys a run takes, in the order it takes them: golang-migrate's for the database name as
/// a Go service's connection reports it, and as a database URL's path gives it.
pub(crate) fn keys(tables: &Tables) -> Vec<i64> {
    let mut keys = vec![
        golang_migrate_key(&tables.database, &tables.schema, &tables.name),
        golang_migrate_key(
            &format!("/{}", tables.database),
            &tables.schema,
            &tables.name,
        ),
    ];
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Takes every key, waiting at most `timeout` in all; on failure releases what it took.
pub(crate) async fn acquire<C: Client>(
    client: &mut C,
    keys: &[i64],
    timeout: Duration,
) -> Result<(), Error> {
    // One deadline for all the keys: the run waits at most `timeout` in all.
    let deadline = Instant::now() + timeout;
    for (taken, key) in keys.iter().enumerate() {
        // `lock_timeout` is in milliseconds; 0 would mean "wait forever".
        let left = deadline.saturating_duration_since(Instant::now());
        let millis = left.as_millis().clamp(1, i32::MAX as u128);
        let locked = lock_one(client, *key, millis).await;
        if let Err(error) = locked {
            // What was taken before is given back; the error says why the run stops.
            let _ = release(client, &keys[..taken]).await;
            return Err(match error {
                LockFailure::Timeout => Error::LockTimeout {
                    waited: timeout,
                    key: *key,
                    holders: holders(client, *key).await.unwrap_or_default(),
                },
                LockFailure::Client(error) => error,
            });
        }
    }
    Ok(())
}

enum LockFailure {
    Timeout,
    Client(Error),
}

/// `pg_advisory_lock(key)` with `lock_timeout` set for this call only (`SET LOCAL` in a
/// transaction of its own: a session lock outlives the transaction it was taken in).
async fn lock_one<C: Client>(client: &mut C, key: i64, millis: u128) -> Result<(), LockFailure> {
    let doing = "taking the migration lock";
    client
        .batch(&format!("BEGIN; SET LOCAL lock_timeout = {millis}"))
        .await
        .map_err(|e| LockFailure::Client(Error::postgres(doing)(e)))?;
    match client.query("SELECT pg_advisory_lock($1)", &[&key]).await {
        Ok(_) => client
            .batch("COMMIT")
            .await
            .map_err(|e| LockFailure::Client(Error::postgres(doing)(e))),
        Err(error) => {
            let _ = client.batch("ROLLBACK").await;
            if error.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) {
                Err(LockFailure::Timeout)
            } else {
                Err(LockFailure::Client(Error::postgres(doing)(error)))
            }
        }
    }
}

/// Releases every key (once each: a session lock taken twice is held until released twice).
pub(crate) async fn release<C: Client>(client: &mut C, keys: &[i64]) -> Result<(), Error> {
    for key in keys {
        client
            .query("SELECT pg_advisory_unlock($1)", &[key])
            .await
            .map_err(Error::postgres("releasing the migration lock"))?;
    }
    Ok(())
}

/// The sessions holding advisory lock `key` in this database, described for a person.
async fn holders<C: Client>(client: &mut C, key: i64) -> Result<Vec<String>, Error> {
    let rows = client
        .query(
            "SELECT a.pid, coalesce(a.application_name, ''), \
             coalesce(host(a.client_addr), 'a local socket'), \
             to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), \
             coalesce(a.state, ''), \
             coalesce(to_char(a.state_change AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), ''), \
             coalesce(a.query, '') \
             FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
             AND l.classid::bigint = $1 AND l.objid::bigint = $2 \
             AND l.database = (SELECT oid FROM pg_catalog.pg_database \
             WHERE datname = current_database()) \
             AND l.pid <> pg_backend_pid() ORDER BY a.pid",
            &[&(key >> 32), &(key & 0xFFFF_FFFF)],
        )
        .await
        .map_err(Error::postgres("reading who holds the migration lock"))?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            let pid: i32 = row.try_get(0).ok()?;
            let application: String = row.try_get(1).ok()?;
            let client: String = row.try_get(2).ok()?;
            let connected: String = row.try_get(3).ok()?;
            let state: String = row.try_get(4).ok()?;
            let state_since: String = row.try_get(5).ok()?;
            let query: String = row.try_get(6).ok()?;
            let mut text = format!("pid {pid}");
            if !application.is_empty() {
                text.push_str(&format!(" (application `{application}`)"));
            }
            text.push_str(&format!(" from {client}, connected since {connected} UTC"));
            if !state.is_empty() {
                text.push_str(&format!(", {state} since {state_since} UTC"));
            }
            let query = migrate_core::sql::excerpt(&query, 60);
            if !query.is_empty() {
                text.push_str(&format!(", last statement `{query}`"));
            }
            Some(text)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_is_the_ieee_checksum() {
        // python3 -c 'import zlib; print(zlib.crc32(b"123456789"))'
        assert_eq!(crc32(b"123456789"), 3_421_780_262);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn the_key_is_golang_migrates() {
        // Computed independently of this code:
        // python3 -c 'import zlib; print((zlib.crc32(b"public\x00schema_migrations\x00shop") * 1486364155) % 2**32)'
        assert_eq!(
            golang_migrate_key("shop", "public", "schema_migrations"),
            KEY_SHOP
        );
        // The same for the database name as golang-migrate's URL path gives it (`/shop`).
        assert_eq!(
            golang_migrate_key("/shop", "public", "schema_migrations"),
            KEY_SLASH_SHOP
        );
    }

    const KEY_SHOP: i64 = 3_689_236_698;
    const KEY_SLASH_SHOP: i64 = 2_101_699_660;
}
