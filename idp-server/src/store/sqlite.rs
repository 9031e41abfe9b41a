//! The SQLite store: one file, the embedded default.

use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{Row, SqlitePool};

use super::{Client, CodeGrant, Person, Represented, StoreError, StoredKey};

/// A store over one SQLite database.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` (`sqlite://FILE` or
    /// `sqlite::memory:`) and applies the migrations.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let memory = url.contains(":memory:");
        let options = SqliteConnectOptions::from_str(url)
            .map_err(StoreError::new("reading the database URL"))?
            .create_if_missing(true)
            .journal_mode(if memory {
                SqliteJournalMode::Memory
            } else {
                SqliteJournalMode::Wal
            })
            .foreign_keys(true);
        // An in-memory database lives in its one connection.
        let pool = SqlitePoolOptions::new()
            .max_connections(if memory { 1 } else { 8 })
            .connect_with(options)
            .await
            .map_err(StoreError::new("opening the database"))?;
        sqlx::migrate!("migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|e| {
                StoreError::new("migrating the database")(sqlx::Error::Migrate(Box::new(e)))
            })?;
        Ok(Self { pool })
    }

    /// Registers (or replaces) a client.
    pub async fn put_client(&self, client: &Client, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO clients (id, name, secret_hash, redirect_uris, sector, scopes, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, secret_hash = excluded.secret_hash,
               redirect_uris = excluded.redirect_uris, sector = excluded.sector, scopes = excluded.scopes",
        )
        .bind(&client.id)
        .bind(&client.name)
        .bind(&client.secret_hash)
        .bind(serde_json::to_string(&client.redirect_uris).unwrap_or_default())
        .bind(&client.sector)
        .bind(client.scopes.join(" "))
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(StoreError::new("saving a client"))?;
        Ok(())
    }

    /// The client with this id.
    pub async fn client(&self, id: &str) -> Result<Option<Client>, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, secret_hash, redirect_uris, sector, scopes FROM clients WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::new("reading a client"))?;
        Ok(row.map(|r| Client {
            id: r.get("id"),
            name: r.get("name"),
            secret_hash: r.get("secret_hash"),
            redirect_uris: serde_json::from_str(r.get::<&str, _>("redirect_uris"))
                .unwrap_or_default(),
            sector: r.get("sector"),
            scopes: r
                .get::<&str, _>("scopes")
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
        }))
    }

    /// Adds a signing key.
    pub async fn add_signing_key(&self, key: &StoredKey) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO signing_keys (kid, alg, pkcs8_encrypted, created_at) VALUES (?, ?, ?, ?)",
        )
        .bind(&key.kid)
        .bind(&key.alg)
        .bind(&key.pkcs8_encrypted)
        .bind(key.created_at)
        .execute(&self.pool)
        .await
        .map_err(StoreError::new("saving a signing key"))?;
        Ok(())
    }

    /// Keys not retired, newest first.
    pub async fn signing_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        let rows = sqlx::query(
            "SELECT kid, alg, pkcs8_encrypted, created_at FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::new("reading signing keys"))?;
        Ok(rows
            .into_iter()
            .map(|r| StoredKey {
                kid: r.get("kid"),
                alg: r.get("alg"),
                pkcs8_encrypted: r.get("pkcs8_encrypted"),
                created_at: r.get("created_at"),
            })
            .collect())
    }

    /// Adds or replaces a resident.
    pub async fn put_person(&self, person: &Person) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO people (personal_number, full_name, birth_date, assurance) VALUES (?, ?, ?, ?)
             ON CONFLICT (personal_number) DO UPDATE SET full_name = excluded.full_name,
               birth_date = excluded.birth_date, assurance = excluded.assurance",
        )
        .bind(&person.personal_number)
        .bind(&person.full_name)
        .bind(&person.birth_date)
        .bind(&person.assurance)
        .execute(&self.pool)
        .await
        .map_err(StoreError::new("saving a resident"))?;
        Ok(())
    }

    /// The resident with this number.
    pub async fn person(&self, personal_number: &str) -> Result<Option<Person>, StoreError> {
        let row = sqlx::query("SELECT personal_number, full_name, birth_date, assurance FROM people WHERE personal_number = ?")
            .bind(personal_number)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::new("reading a resident"))?;
        Ok(row.map(|r| Person {
            personal_number: r.get("personal_number"),
            full_name: r.get("full_name"),
            birth_date: r.get("birth_date"),
            assurance: r.get("assurance"),
        }))
    }

    /// Up to `limit` residents, by number.
    pub async fn people(&self, limit: i64) -> Result<Vec<Person>, StoreError> {
        let rows = sqlx::query(
            "SELECT personal_number, full_name, birth_date, assurance FROM people ORDER BY personal_number LIMIT ?",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::new("listing residents"))?;
        Ok(rows
            .into_iter()
            .map(|r| Person {
                personal_number: r.get("personal_number"),
                full_name: r.get("full_name"),
                birth_date: r.get("birth_date"),
                assurance: r.get("assurance"),
            })
            .collect())
    }

    /// Adds a business and its legal representatives, in one transaction.
    pub async fn put_business(
        &self,
        code: &str,
        name: &str,
        representatives: &[String],
    ) -> Result<(), StoreError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(StoreError::new("saving a business"))?;
        sqlx::query(
            "INSERT INTO businesses (enterprise_code, registered_name) VALUES (?, ?)
             ON CONFLICT (enterprise_code) DO UPDATE SET registered_name = excluded.registered_name",
        )
        .bind(code)
        .bind(name)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::new("saving a business"))?;
        sqlx::query("DELETE FROM representatives WHERE enterprise_code = ?")
            .bind(code)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::new("saving a business"))?;
        for person in representatives {
            sqlx::query(
                "INSERT INTO representatives (enterprise_code, personal_number) VALUES (?, ?)",
            )
            .bind(code)
            .bind(person)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::new("saving a business's representatives"))?;
        }
        tx.commit()
            .await
            .map_err(StoreError::new("saving a business"))?;
        Ok(())
    }

    /// The businesses a person represents.
    pub async fn represented_by(
        &self,
        personal_number: &str,
    ) -> Result<Vec<Represented>, StoreError> {
        let rows = sqlx::query(
            "SELECT b.enterprise_code, b.registered_name FROM businesses b
             JOIN representatives r ON r.enterprise_code = b.enterprise_code
             WHERE r.personal_number = ? ORDER BY b.enterprise_code",
        )
        .bind(personal_number)
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::new("reading represented businesses"))?;
        Ok(rows
            .into_iter()
            .map(|r| Represented {
                enterprise_code: r.get("enterprise_code"),
                registered_name: r.get("registered_name"),
            })
            .collect())
    }

    /// Stores an authorization code's grant under the code's hash.
    pub async fn put_code(&self, code_hash: &[u8], grant: &CodeGrant) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO authorization_codes (code_hash, client_id, redirect_uri, personal_number, scope, nonce,
               code_challenge, acr, auth_time, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(code_hash)
        .bind(&grant.client_id)
        .bind(&grant.redirect_uri)
        .bind(&grant.personal_number)
        .bind(&grant.scope)
        .bind(&grant.nonce)
        .bind(&grant.code_challenge)
        .bind(&grant.acr)
        .bind(grant.auth_time)
        .bind(grant.expires_at)
        .execute(&self.pool)
        .await
        .map_err(StoreError::new("saving an authorization code"))?;
        Ok(())
    }

    /// Takes a code: marks it used and returns its grant, in one statement, so that
    /// two concurrent redemptions cannot both succeed. `Err(Used)` for a code seen
    /// before (the caller revokes what it issued), `None` for an unknown one.
    pub async fn take_code(&self, code_hash: &[u8], now: i64) -> Result<CodeTaken, StoreError> {
        let row = sqlx::query(
            "UPDATE authorization_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL
             RETURNING client_id, redirect_uri, personal_number, scope, nonce, code_challenge, acr, auth_time, expires_at",
        )
        .bind(now)
        .bind(code_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::new("redeeming an authorization code"))?;
        if let Some(r) = row {
            return Ok(CodeTaken::Fresh(CodeGrant {
                client_id: r.get("client_id"),
                redirect_uri: r.get("redirect_uri"),
                personal_number: r.get("personal_number"),
                scope: r.get("scope"),
                nonce: r.get("nonce"),
                code_challenge: r.get("code_challenge"),
                acr: r.get("acr"),
                auth_time: r.get("auth_time"),
                expires_at: r.get("expires_at"),
            }));
        }
        let seen = sqlx::query("SELECT 1 FROM authorization_codes WHERE code_hash = ?")
            .bind(code_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::new("redeeming an authorization code"))?;
        Ok(if seen.is_some() {
            CodeTaken::Replayed
        } else {
            CodeTaken::Unknown
        })
    }

    /// Deletes codes that expired before `before`, in one batch.
    pub async fn purge_codes(&self, before: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM authorization_codes WHERE expires_at < ?")
            .bind(before)
            .execute(&self.pool)
            .await
            .map_err(StoreError::new("purging expired codes"))?;
        Ok(done.rows_affected())
    }
}

/// What redeeming a code found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeTaken {
    /// The code, now used.
    Fresh(CodeGrant),
    /// The code was used before: a replay.
    Replayed,
    /// No such code.
    Unknown,
}
