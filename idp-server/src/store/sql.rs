//! The store over SQL: one implementation for SQLite (the embedded default) and
//! PostgreSQL (several replicas on one database), through sqlx's `Any` driver.
//! The SQL is written once, in the dialect both share (`$n` parameters,
//! `ON CONFLICT`, `RETURNING`); only the migrations differ by backend.

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor as _, Row};

use super::{
    Client, CodeGrant, DeviceApproval, DeviceRequest, Person, RefreshGrant, Represented,
    Revocation, StoreError, StoredCertificate, StoredKey,
};

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite: one file (or memory).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// Seconds a used authorization code is kept after its use (a day), to recognise
/// a late replay.
pub const USED_CODE_RETENTION: i64 = 86_400;

/// A store over one SQLite or PostgreSQL database.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
}

impl SqlStore {
    /// Opens the database at `url` and applies the migrations: `sqlite://FILE`
    /// (made if missing), `sqlite::memory:`, or `postgres://…`.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::new("reading the database URL")(
                sqlx::Error::Configuration(
                    format!("{url:?} is neither sqlite://FILE, sqlite::memory: nor postgres://…")
                        .into(),
                ),
            ));
        };
        let memory = url.contains(":memory:");
        let url = if backend == Backend::Sqlite && !memory && !url.contains('?') {
            format!("{url}?mode=rwc")
        } else {
            url.to_owned()
        };
        let pool = AnyPoolOptions::new()
            // An in-memory SQLite database lives in its one connection.
            .max_connections(match (backend, memory) {
                (Backend::Sqlite, true) => 1,
                (Backend::Sqlite, false) => 8,
                (Backend::Postgres, _) => 16,
            })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL with NORMAL: durable at every checkpoint and never
                        // corrupt; a power cut may lose the last instants' codes and
                        // tokens (people log in again).
                        conn.execute(if memory {
                            "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;"
                        } else {
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;"
                        })
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(StoreError::new("opening the database"))?;
        let migrated = match backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite").run(&pool).await,
            Backend::Postgres => sqlx::migrate!("migrations/postgres").run(&pool).await,
        };
        migrated.map_err(|e| {
            StoreError::new("migrating the database")(sqlx::Error::Migrate(Box::new(e)))
        })?;
        Ok(Self { pool, backend })
    }

    /// The database it runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Registers (or replaces) a client.
    pub async fn put_client(&self, client: &Client, now: i64) -> Result<(), StoreError> {
        sqlx::query(
                                    "INSERT INTO clients (id, name, secret_hash, redirect_uris, sector, scopes, created_at, grant_types, jwks,
                              post_logout_redirect_uris, id_token_signed_response_alg, resources)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, secret_hash = excluded.secret_hash,
               redirect_uris = excluded.redirect_uris, sector = excluded.sector, scopes = excluded.scopes,
                              grant_types = excluded.grant_types, jwks = excluded.jwks,
                              post_logout_redirect_uris = excluded.post_logout_redirect_uris,
                              id_token_signed_response_alg = excluded.id_token_signed_response_alg,
               resources = excluded.resources",
        )
        .bind(&client.id)
        .bind(&client.name)
        .bind(&client.secret_hash)
        .bind(serde_json::to_string(&client.redirect_uris).unwrap_or_default())
        .bind(&client.sector)
        .bind(client.scopes.join(" "))
        .bind(now)
                .bind(client.grant_types.join(" "))
                .bind(&client.jwks)
                .bind(serde_json::to_string(&client.post_logout_redirect_uris).unwrap_or_default())
                .bind(&client.id_token_signed_response_alg)
        .bind(serde_json::to_string(&client.resources).unwrap_or_default())
        .execute(&self.pool)
        .await
        .map_err(StoreError::new("saving a client"))?;
        Ok(())
    }

    /// The client with this id.
    pub async fn client(&self, id: &str) -> Result<Option<Client>, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, secret_hash, redirect_uris, sector, scopes, grant_types, jwks, post_logout_redirect_uris,
                              id_token_signed_response_alg, resources
             FROM clients WHERE id = $1",
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
            grant_types: r
                .get::<&str, _>("grant_types")
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            jwks: r.get("jwks"),
            post_logout_redirect_uris: serde_json::from_str(
                r.get::<&str, _>("post_logout_redirect_uris"),
            )
            .unwrap_or_default(),
            id_token_signed_response_alg: r.get("id_token_signed_response_alg"),
            resources: serde_json::from_str(r.get::<&str, _>("resources")).unwrap_or_default(),
        }))
    }

    /// Every registered client, by id.
    pub async fn clients(&self) -> Result<Vec<Client>, StoreError> {
        let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM clients ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::new("listing clients"))?;
        let mut clients = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(client) = self.client(&id).await? {
                clients.push(client);
            }
        }
        Ok(clients)
    }

    /// Removes a client; `false` when there was none.
    pub async fn remove_client(&self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM clients WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(StoreError::new("removing a client"))?;
        Ok(done.rows_affected() > 0)
    }

    /// Adds a signing key and, in the same transaction, sets every other key of its
    /// algorithm still published to retire at `retire_others_at` (unless it retires
    /// sooner).
    pub async fn add_signing_key(
        &self,
        key: &StoredKey,
        retire_others_at: Option<i64>,
    ) -> Result<(), StoreError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(StoreError::new("saving a signing key"))?;
        if let Some(at) = retire_others_at {
            sqlx::query(
                "UPDATE signing_keys SET retired_at = $1
                 WHERE alg = $2 AND (retired_at IS NULL OR retired_at > $3)",
            )
            .bind(at)
            .bind(&key.alg)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::new("retiring the old signing keys"))?;
        }
        sqlx::query(
            "INSERT INTO signing_keys (kid, alg, pkcs8_encrypted, created_at, not_before, retired_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&key.kid)
        .bind(&key.alg)
        .bind(&key.pkcs8_encrypted)
        .bind(key.created_at)
        .bind(key.not_before)
        .bind(key.retired_at)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::new("saving a signing key"))?;
        tx.commit()
            .await
            .map_err(StoreError::new("saving a signing key"))?;
        Ok(())
    }

    /// Keys published at `now`, the one signing last longest first: by `not_before`,
    /// newest first.
    pub async fn signing_keys(&self, now: i64) -> Result<Vec<StoredKey>, StoreError> {
        let rows = sqlx::query(
            "SELECT kid, alg, pkcs8_encrypted, created_at, not_before, retired_at FROM signing_keys
             WHERE retired_at IS NULL OR retired_at > $1 ORDER BY not_before DESC, created_at DESC",
        )
        .bind(now)
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
                not_before: r.get("not_before"),
                retired_at: r.get("retired_at"),
            })
            .collect())
    }

    /// Adds or replaces a resident.
    pub async fn put_person(&self, person: &Person) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO people (personal_number, full_name, birth_date, assurance) VALUES ($1, $2, $3, $4)
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
        let row = sqlx::query("SELECT personal_number, full_name, birth_date, assurance FROM people WHERE personal_number = $1")
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
            "SELECT personal_number, full_name, birth_date, assurance FROM people ORDER BY personal_number LIMIT $1",
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

    /// Imports validated registry rows in one transaction (or checks them and
    /// rolls back, for a dry run): residents first (added with assurance `low`;
    /// an existing resident keeps theirs), then businesses, whose legal
    /// representatives must be residents by then, else the row is rejected.
    /// Importing the same rows again changes nothing.
    pub async fn import_registry(
        &self,
        records: &[(u64, crate::registry::Record)],
        dry_run: bool,
    ) -> Result<crate::registry::Report, StoreError> {
        use crate::registry::{Record, Rejected, Report};
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(StoreError::new("importing the registry"))?;
        let mut report = Report::default();
        for (_, record) in records {
            let Record::Resident(citizen) = record else {
                continue;
            };
            let number = citizen.personal_number().to_string();
            let birth = citizen.birth_date().map(|d| d.to_string());
            let existing: Option<(String, Option<String>)> = sqlx::query_as(
                "SELECT full_name, birth_date FROM people WHERE personal_number = $1",
            )
            .bind(&number)
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::new("importing the registry"))?;
            let sql = match existing {
                None => {
                    report.residents.added += 1;
                    "INSERT INTO people (personal_number, full_name, birth_date, assurance)
                     VALUES ($1, $2, $3, 'low')"
                }
                Some((name, b)) if name == citizen.full_name() && b == birth => {
                    report.residents.unchanged += 1;
                    continue;
                }
                Some(_) => {
                    report.residents.updated += 1;
                    "UPDATE people SET full_name = $2, birth_date = $3 WHERE personal_number = $1"
                }
            };
            sqlx::query(sql)
                .bind(&number)
                .bind(citizen.full_name())
                .bind(&birth)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::new("importing the registry"))?;
        }
        for (line, record) in records {
            let Record::Business(business) = record else {
                continue;
            };
            let code = business.enterprise_code().to_string();
            let wanted: Vec<String> = business
                .legal_representatives()
                .iter()
                .map(ToString::to_string)
                .collect();
            let mut missing = Vec::new();
            for number in &wanted {
                let known: Option<i32> =
                    sqlx::query_scalar("SELECT 1 FROM people WHERE personal_number = $1")
                        .bind(number)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(StoreError::new("importing the registry"))?;
                if known.is_none() {
                    missing.push(number.as_str());
                }
            }
            if !missing.is_empty() {
                report.rejected.push(Rejected {
                    line: *line,
                    reason: format!(
                        "business {code}: legal representative {} is not a resident of the \
                         registry: import the residents first (or in the same file)",
                        missing.join(", ")
                    ),
                });
                continue;
            }
            let name: Option<String> = sqlx::query_scalar(
                "SELECT registered_name FROM businesses WHERE enterprise_code = $1",
            )
            .bind(&code)
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::new("importing the registry"))?;
            let current: Vec<String> = sqlx::query_scalar(
                "SELECT personal_number FROM representatives WHERE enterprise_code = $1
                 ORDER BY personal_number",
            )
            .bind(&code)
            .fetch_all(&mut *tx)
            .await
            .map_err(StoreError::new("importing the registry"))?;
            match &name {
                None => report.businesses.added += 1,
                Some(n) if n == business.registered_name() && current == wanted => {
                    report.businesses.unchanged += 1;
                    continue;
                }
                Some(_) => report.businesses.updated += 1,
            }
            sqlx::query(
                "INSERT INTO businesses (enterprise_code, registered_name) VALUES ($1, $2)
                 ON CONFLICT (enterprise_code) DO UPDATE SET registered_name = excluded.registered_name",
            )
            .bind(&code)
            .bind(business.registered_name())
            .execute(&mut *tx)
            .await
            .map_err(StoreError::new("importing the registry"))?;
            sqlx::query("DELETE FROM representatives WHERE enterprise_code = $1")
                .bind(&code)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::new("importing the registry"))?;
            for number in &wanted {
                sqlx::query(
                    "INSERT INTO representatives (enterprise_code, personal_number) VALUES ($1, $2)",
                )
                .bind(&code)
                .bind(number)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::new("importing the registry"))?;
            }
        }
        for (line, record) in records {
            let Record::Official {
                personal_number,
                agency,
                position,
            } = record
            else {
                continue;
            };
            let number = personal_number.to_string();
            let resident: Option<i32> =
                sqlx::query_scalar("SELECT 1 FROM people WHERE personal_number = $1")
                    .bind(&number)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(StoreError::new("importing the registry"))?;
            if resident.is_none() {
                report.rejected.push(Rejected {
                    line: *line,
                    reason: format!(
                        "official {number} is not a resident of the registry: import the \
                         residents first (or in the same file)"
                    ),
                });
                continue;
            }
            let existing: Option<(String, String)> =
                sqlx::query_as("SELECT agency, position FROM officials WHERE personal_number = $1")
                    .bind(&number)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(StoreError::new("importing the registry"))?;
            match &existing {
                None => report.officials.added += 1,
                Some((a, p)) if a == agency && p == position => {
                    report.officials.unchanged += 1;
                    continue;
                }
                Some(_) => report.officials.updated += 1,
            }
            sqlx::query(
                "INSERT INTO officials (personal_number, agency, position) VALUES ($1, $2, $3)
                 ON CONFLICT (personal_number) DO UPDATE SET agency = excluded.agency,
                   position = excluded.position",
            )
            .bind(&number)
            .bind(agency)
            .bind(position)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::new("importing the registry"))?;
        }
        if dry_run {
            tx.rollback()
                .await
                .map_err(StoreError::new("importing the registry"))?;
        } else {
            tx.commit()
                .await
                .map_err(StoreError::new("importing the registry"))?;
        }
        Ok(report)
    }

    /// Records a resident as an official of `agency` (the demo's seed; the
    /// registry import does the same for whole files).
    pub async fn put_official(
        &self,
        personal_number: &str,
        agency: &str,
        position: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO officials (personal_number, agency, position) VALUES ($1, $2, $3)
             ON CONFLICT (personal_number) DO UPDATE SET agency = excluded.agency,
               position = excluded.position",
        )
        .bind(personal_number)
        .bind(agency)
        .bind(position)
        .execute(&self.pool)
        .await
        .map_err(StoreError::new("saving an official"))?;
        Ok(())
    }

    /// The agency and position of an official, if the resident is one.
    pub async fn official(
        &self,
        personal_number: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        sqlx::query_as("SELECT agency, position FROM officials WHERE personal_number = $1")
            .bind(personal_number)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::new("reading an official"))
    }

    /// Issues an activation code for a resident (replacing any earlier one, and
    /// its count of wrong attempts). `false` if the registry has no such resident.
    pub async fn put_activation(
        &self,
        personal_number: &str,
        code_hash: &[u8],
        issued_at: i64,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO activation_codes (personal_number, code_hash, issued_at, expires_at, failed_attempts)
             SELECT personal_number, $2, $3, $4, 0 FROM people WHERE personal_number = $1
             ON CONFLICT (personal_number) DO UPDATE SET code_hash = excluded.code_hash,
               issued_at = excluded.issued_at, expires_at = excluded.expires_at, failed_attempts = 0",
        )
        .bind(personal_number)
        .bind(code_hash)
        .bind(issued_at)
        .bind(expires_at)
        .execute(&self.pool)
        .await
        .map_err(StoreError::new("issuing an activation code"))?;
        Ok(done.rows_affected() == 1)
    }

    /// Checks an activation code: a wrong one counts an attempt (atomically, so
    /// that parallel guesses cannot pass the limit); a right one is left for
    /// [`SqlStore::register_passkey`] once the passkey is made.
    pub async fn check_activation(
        &self,
        personal_number: &str,
        code_hash: &[u8],
        now: i64,
    ) -> Result<crate::enrol::Activation, StoreError> {
        use crate::enrol::{Activation, MAX_ATTEMPTS};
        let counted: Option<i64> = sqlx::query_scalar(
            "UPDATE activation_codes SET failed_attempts = failed_attempts + 1
             WHERE personal_number = $1 AND code_hash <> $2 AND failed_attempts < $3 AND expires_at > $4
             RETURNING failed_attempts",
        )
        .bind(personal_number)
        .bind(code_hash)
        .bind(MAX_ATTEMPTS)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::new("checking an activation code"))?;
        if let Some(failed) = counted {
            return Ok(if failed >= MAX_ATTEMPTS {
                Activation::Locked
            } else {
                Activation::Wrong {
                    attempts_left: MAX_ATTEMPTS - failed,
                }
            });
        }
        let row: Option<(Vec<u8>, i64, i64)> = sqlx::query_as(
            "SELECT code_hash, expires_at, failed_attempts FROM activation_codes WHERE personal_number = $1",
        )
        .bind(personal_number)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::new("checking an activation code"))?;
        Ok(match row {
            None => Activation::None,
            Some((_, _, failed)) if failed >= MAX_ATTEMPTS => Activation::Locked,
            Some((_, expires_at, _)) if expires_at <= now => Activation::Expired,
            Some((hash, _, _)) if hash == code_hash => Activation::Valid,
            // Changed between the two statements (a new code was issued): wrong.
            Some((_, _, failed)) => Activation::Wrong {
                attempts_left: MAX_ATTEMPTS - failed,
            },
        })
    }

    /// The scopes a person agreed to release to a client, if any.
    pub async fn consent(
        &self,
        personal_number: &str,
        client_id: &str,
    ) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar(
            "SELECT scope FROM consents WHERE personal_number = $1 AND client_id = $2",
        )
        .bind(personal_number)
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::new("reading a consent"))
    }

    /// Records that a person agreed to release `scope` to a client (replacing
    /// what they agreed to before: the caller passes the union).
    pub async fn put_consent(
        &self,
        personal_number: &str,
        client_id: &str,
        scope: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO consents (personal_number, client_id, scope, granted_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (personal_number, client_id) DO UPDATE SET scope = excluded.scope,
               granted_at = excluded.granted_at",
        )
        .bind(personal_number)
        .bind(client_id)
        .bind(scope)
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(StoreError::new("saving a consent"))?;
        Ok(())
    }

    /// A person's consents: (client id, scope, when), by client.
    pub async fn consents_of(
        &self,
        personal_number: &str,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        sqlx::query_as(
            "SELECT client_id, scope, granted_at FROM consents WHERE personal_number = $1 ORDER BY client_id",
        )
        .bind(personal_number)
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::new("reading consents"))
    }

    /// Withdraws a person's consent for a client and, in the same transaction,
    /// revokes every token family their logins at that client started (until
    /// `revoked_until`): what the portal holds stops working with the consent.
    /// `false`, and nothing changed, if there was no consent.
    pub async fn withdraw_consent(
        &self,
        personal_number: &str,
        client_id: &str,
        now: i64,
        revoked_until: i64,
    ) -> Result<bool, StoreError> {
        let failed = "withdrawing a consent";
        let mut tx = self.pool.begin().await.map_err(StoreError::new(failed))?;
        let done =
            sqlx::query("DELETE FROM consents WHERE personal_number = $1 AND client_id = $2")
                .bind(personal_number)
                .bind(client_id)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::new(failed))?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO revoked_families (family_id, revoked_at, expires_at)
             SELECT DISTINCT family_id, $3, $4 FROM refresh_tokens
             WHERE personal_number = $1 AND client_id = $2
             ON CONFLICT (family_id) DO UPDATE SET expires_at = CASE
               WHEN excluded.expires_at > revoked_families.expires_at THEN excluded.expires_at
               ELSE revoked_families.expires_at END",
        )
        .bind(personal_number)
        .bind(client_id)
        .bind(now)
        .bind(revoked_until)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::new(failed))?;
        tx.commit().await.map_err(StoreError::new(failed))?;
        Ok(true)
    }

    /// Writes an audit event.
    pub async fn audit(
        &self,
        at: i64,
        kind: &str,
        personal_number: Option<&str>,
        detail: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_events (at, kind, personal_number, detail) VALUES ($1, $2, $3, $4)",
        )
        .bind(at)
        .bind(kind)
        .bind(personal_number)
        .bind(detail)
        .execute(&self.pool)
        .await
        .map_err(StoreError::new("writing an audit event"))?;
        Ok(())
    }

    /// A resident's audit events, oldest first: (time, kind, detail).
    pub async fn audit_events(
        &self,
        personal_number: &str,
    ) -> Result<Vec<(i64, String, String)>, StoreError> {
        sqlx::query_as(
            "SELECT at, kind, detail FROM audit_events WHERE personal_number = $1 ORDER BY at, id",
        )
        .bind(personal_number)
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::new("reading audit events"))
    }

    /// A business's registered name and its legal representatives (sorted).
    pub async fn business(&self, code: &str) -> Result<Option<(String, Vec<String>)>, StoreError> {
        let name: Option<String> =
            sqlx::query_scalar("SELECT registered_name FROM businesses WHERE enterprise_code = $1")
                .bind(code)
                .fetch_optional(&self.pool)
                .await
                .map_err(StoreError::new("reading a business"))?;
        let Some(name) = name else {
            return Ok(None);
        };
        let representatives: Vec<String> = sqlx::query_scalar(
            "SELECT personal_number FROM representatives WHERE enterprise_code = $1
             ORDER BY personal_number",
        )
        .bind(code)
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::new("reading a business"))?;
        Ok(Some((name, representatives)))
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
            "INSERT INTO businesses (enterprise_code, registered_name) VALUES ($1, $2)
             ON CONFLICT (enterprise_code) DO UPDATE SET registered_name = excluded.registered_name",
        )
        .bind(code)
        .bind(name)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::new("saving a business"))?;
        sqlx::query("DELETE FROM representatives WHERE enterprise_code = $1")
            .bind(code)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::new("saving a business"))?;
        for person in representatives {
            sqlx::query(
                "INSERT INTO representatives (enterprise_code, personal_number) VALUES ($1, $2)",
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
             WHERE r.personal_number = $1 ORDER BY b.enterprise_code",
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
               code_challenge, acr, auth_time, expires_at, business) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
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
        .bind(&grant.business)
        .execute(&self.pool)
        .await
        .map_err(StoreError::new("saving an authorization code"))?;
        Ok(())
    }

    /// A code's grant and whether it was used, without changing anything.
    pub async fn code_status(
        &self,
        code_hash: &[u8],
    ) -> Result<Option<(CodeGrant, bool)>, StoreError> {
        let row = sqlx::query(
            "SELECT client_id, redirect_uri, personal_number, scope, nonce, code_challenge, acr, auth_time,
               expires_at, business, used_at FROM authorization_codes WHERE code_hash = $1",
        )
        .bind(code_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::new("reading an authorization code"))?;
        Ok(row.map(|r| {
            let used = r.get::<Option<i64>, _>("used_at").is_some();
            (code_grant(&r), used)
        }))
    }

    /// Takes a code: marks it used, records the token family its exchange starts,
    /// and returns its grant, in one statement, so that two concurrent redemptions
    /// cannot both succeed. `Err(Used)` for a code seen
    /// before (the caller revokes what it issued), `None` for an unknown one.
    pub async fn take_code(
        &self,
        code_hash: &[u8],
        family_id: &str,
        now: i64,
    ) -> Result<CodeTaken, StoreError> {
        let row = sqlx::query(
            "UPDATE authorization_codes SET used_at = $1, family_id = $2 WHERE code_hash = $3 AND used_at IS NULL
             RETURNING client_id, redirect_uri, personal_number, scope, nonce, code_challenge, acr, auth_time, expires_at, business",
        )
                .bind(now)
        .bind(family_id)
        .bind(code_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::new("redeeming an authorization code"))?;
        if let Some(r) = row {
            return Ok(CodeTaken::Fresh(Box::new(code_grant(&r))));
        }
        let seen = sqlx::query("SELECT 1 FROM authorization_codes WHERE code_hash = $1")
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

    /// The token family a code's exchange started, if it got that far.
    pub async fn code_family(&self, code_hash: &[u8]) -> Result<Option<String>, StoreError> {
        let family: Option<Option<String>> =
            sqlx::query_scalar("SELECT family_id FROM authorization_codes WHERE code_hash = $1")
                .bind(code_hash)
                .fetch_optional(&self.pool)
                .await
                .map_err(StoreError::new("reading a code's token family"))?;
        Ok(family.flatten())
    }

    /// Stores a refresh token's grant under the token's hash.
    pub async fn put_refresh(
        &self,
        token_hash: &[u8],
        grant: &RefreshGrant,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, family_id, client_id, personal_number, scope, acr, auth_time, expires_at, business)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(token_hash)
        .bind(&grant.family_id)
        .bind(&grant.client_id)
        .bind(&grant.personal_number)
        .bind(&grant.scope)
        .bind(&grant.acr)
        .bind(grant.auth_time)
        .bind(grant.expires_at)
        .bind(&grant.business)
        .execute(&self.pool)
        .await
        .map_err(StoreError::new("saving a refresh token"))?;
        Ok(())
    }

    /// Takes a refresh token for rotation: marks it used and returns its grant in
    /// one statement. A token used before revokes its whole family (RFC 9700 §4.14.2:
    /// either the client or a thief holds a copy, and the server cannot tell which)
    /// until `revoke_until`, which must outlast every token of the family (the
    /// caller gives now + the refresh token lifetime).
    pub async fn take_refresh(
        &self,
        token_hash: &[u8],
        now: i64,
        revoke_until: i64,
    ) -> Result<RefreshTaken, StoreError> {
        let row = sqlx::query(
            "UPDATE refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL
               AND family_id NOT IN (SELECT family_id FROM revoked_families)
             RETURNING family_id, client_id, personal_number, scope, acr, auth_time, expires_at, business",
        )
        .bind(now)
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::new("redeeming a refresh token"))?;
        if let Some(r) = row {
            return Ok(RefreshTaken::Fresh(refresh_grant(&r)));
        }
        let used = sqlx::query(
            "SELECT family_id FROM refresh_tokens WHERE token_hash = $1 AND used_at IS NOT NULL",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::new("redeeming a refresh token"))?;
        match used {
            Some(r) => {
                let family_id: String = r.get("family_id");
                self.revoke_family(&family_id, now, revoke_until).await?;
                Ok(RefreshTaken::Reused { family_id })
            }
            None => Ok(RefreshTaken::Unknown),
        }
    }

    /// A refresh token's grant and whether it can still be used (not used, family
    /// not revoked), without changing anything: for introspection and revocation.
    pub async fn refresh_status(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<(RefreshGrant, bool)>, StoreError> {
        let row = sqlx::query(
            "SELECT family_id, client_id, personal_number, scope, acr, auth_time, expires_at, business,
               used_at, (SELECT COUNT(*) FROM revoked_families f WHERE f.family_id = refresh_tokens.family_id) AS revoked
             FROM refresh_tokens WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::new("reading a refresh token"))?;
        Ok(row.map(|r| {
            let usable =
                r.get::<Option<i64>, _>("used_at").is_none() && r.get::<i64, _>("revoked") == 0;
            (refresh_grant(&r), usable)
        }))
    }

    /// Revokes a token family: its refresh tokens stop working and access tokens
    /// carrying it are refused. Kept until `expires_at`, when they would have expired.
    pub async fn revoke_family(
        &self,
        family_id: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO revoked_families (family_id, revoked_at, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (family_id) DO UPDATE SET expires_at = CASE
               WHEN excluded.expires_at > revoked_families.expires_at THEN excluded.expires_at
               ELSE revoked_families.expires_at END",
        )
        .bind(family_id)
        .bind(now)
        .bind(expires_at)
        .execute(&self.pool)
        .await
        .map_err(StoreError::new("revoking a token family"))?;
        Ok(())
    }

    /// Removes one of a person's passkeys unless it is the last one they can log
    /// in with: serialised per person (a row lock on PostgreSQL, the write lock on
    /// SQLite), so two removals at once cannot leave none.
    pub async fn remove_passkey_keeping_one(
        &self,
        personal_number: &str,
        credential_id: &[u8],
    ) -> Result<Removal, StoreError> {
        let failed = "removing a passkey";
        let mut tx = self.pool.begin().await.map_err(StoreError::new(failed))?;
        sqlx::query("UPDATE people SET assurance = assurance WHERE personal_number = $1")
            .bind(personal_number)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::new(failed))?;
        let left: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM passkeys WHERE personal_number = $1 AND disabled_at IS NULL",
        )
        .bind(personal_number)
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::new(failed))?;
        let theirs: Option<Option<i64>> = sqlx::query_scalar(
            "SELECT disabled_at FROM passkeys WHERE personal_number = $1 AND credential_id = $2",
        )
        .bind(personal_number)
        .bind(credential_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::new(failed))?;
        let outcome = match theirs {
            None => Removal::NotFound,
            Some(None) if left <= 1 => Removal::Last,
            Some(_) => {
                sqlx::query(
                    "DELETE FROM passkeys WHERE personal_number = $1 AND credential_id = $2",
                )
                .bind(personal_number)
                .bind(credential_id)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::new(failed))?;
                Removal::Removed
            }
        };
        tx.commit().await.map_err(StoreError::new(failed))?;
        Ok(outcome)
    }

    /// Whether a token family was revoked.
    pub async fn family_revoked(&self, family_id: &str) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT 1 FROM revoked_families WHERE family_id = $1")
            .bind(family_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::new("checking a token family"))?;
        Ok(row.is_some())
    }

    /// Revokes one access token, by `jti`, until it would have expired anyway.
    pub async fn revoke_token(&self, jti: &str, expires_at: i64) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING")
            .bind(jti)
            .bind(expires_at)
            .execute(&self.pool)
            .await
            .map_err(StoreError::new("revoking an access token"))?;
        Ok(())
    }

    /// Whether an access token was revoked.
    pub async fn token_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT 1 FROM revoked_tokens WHERE jti = $1")
            .bind(jti)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::new("checking an access token"))?;
        Ok(row.is_some())
    }

    /// Records a client assertion's `jti` until `expires_at`; `false` when it was
    /// seen before (a replay).
    pub async fn record_assertion(
        &self,
        client_id: &str,
        jti: &str,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO client_assertions (client_id, jti, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (client_id, jti) DO NOTHING",
        )
        .bind(client_id)
        .bind(jti)
        .bind(expires_at)
        .execute(&self.pool)
        .await
        .map_err(StoreError::new("recording a client assertion"))?;
        Ok(done.rows_affected() == 1)
    }

    /// Registers a passkey, in one transaction with the activation code that
    /// allowed it (if any: a person logged in may add one without): the code is
    /// used up, the passkey saved, and the resident's assurance raised to
    /// `substantial` (identity proofed in person). `false`, and nothing changed,
    /// if the code was no longer valid.
    pub async fn register_passkey(
        &self,
        passkey: &super::StoredPasskey,
        code_hash: Option<&[u8]>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let failed = "registering a passkey";
        let mut tx = self.pool.begin().await.map_err(StoreError::new(failed))?;
        if let Some(code_hash) = code_hash {
            let used = sqlx::query(
                "DELETE FROM activation_codes WHERE personal_number = $1 AND code_hash = $2
               AND failed_attempts < $3 AND expires_at > $4",
            )
            .bind(&passkey.personal_number)
            .bind(code_hash)
            .bind(crate::enrol::MAX_ATTEMPTS)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::new(failed))?;
            if used.rows_affected() != 1 {
                tx.rollback().await.map_err(StoreError::new(failed))?;
                return Ok(false);
            }
            sqlx::query(
            "UPDATE people SET assurance = 'substantial' WHERE personal_number = $1 AND assurance = 'low'",
        )
        .bind(&passkey.personal_number)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::new(failed))?;
        }
        sqlx::query(
            "INSERT INTO passkeys (credential_id, personal_number, user_handle, passkey, name, created_at, last_used_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&passkey.credential_id)
        .bind(&passkey.personal_number)
        .bind(&passkey.user_handle)
        .bind(&passkey.passkey)
        .bind(&passkey.name)
        .bind(passkey.created_at)
        .bind(passkey.last_used_at)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::new(failed))?;
        tx.commit().await.map_err(StoreError::new(failed))?;
        Ok(true)
    }

    /// A resident's passkeys, oldest first.
    pub async fn passkeys_of(
        &self,
        personal_number: &str,
    ) -> Result<Vec<super::StoredPasskey>, StoreError> {
        let rows = sqlx::query(
            "SELECT credential_id, personal_number, user_handle, passkey, name, created_at, last_used_at, disabled_at
             FROM passkeys WHERE personal_number = $1 AND disabled_at IS NULL ORDER BY created_at, credential_id",
        )
        .bind(personal_number)
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::new("reading passkeys"))?;
        Ok(rows.iter().map(stored_passkey).collect())
    }

    /// The passkey with this credential id.
    pub async fn passkey(
        &self,
        credential_id: &[u8],
    ) -> Result<Option<super::StoredPasskey>, StoreError> {
        let row = sqlx::query(
            "SELECT credential_id, personal_number, user_handle, passkey, name, created_at, last_used_at, disabled_at
             FROM passkeys WHERE credential_id = $1",
        )
        .bind(credential_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::new("reading a passkey"))?;
        Ok(row.as_ref().map(stored_passkey))
    }

    /// Records a login with a passkey: its new record (counter) and the time,
    /// only if the record is still `before` (compare and swap: two logins racing
    /// on two replicas cannot both move the counter). `false` if it changed.
    pub async fn passkey_used(
        &self,
        credential_id: &[u8],
        before: &str,
        after: &str,
        at: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE passkeys SET passkey = $3, last_used_at = $4
             WHERE credential_id = $1 AND passkey = $2 AND disabled_at IS NULL",
        )
        .bind(credential_id)
        .bind(before)
        .bind(after)
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(StoreError::new("updating a passkey"))?;
        Ok(done.rows_affected() == 1)
    }

    /// Disables a passkey (a suspected clone).
    pub async fn disable_passkey(&self, credential_id: &[u8], at: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE passkeys SET disabled_at = $2 WHERE credential_id = $1 AND disabled_at IS NULL",
        )
        .bind(credential_id)
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(StoreError::new("disabling a passkey"))?;
        Ok(())
    }

    /// Keeps an authorization request while its person authenticates.
    pub async fn put_pending_login(
        &self,
        id_hash: &[u8],
        params: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.hold(Held::Login, id_hash, params, expires_at).await
    }

    /// The request of a login under way, left in place (a login of several steps
    /// reads it at each). `None` if unknown, taken already or expired at `now`.
    pub async fn pending_login(
        &self,
        id_hash: &[u8],
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        self.held(Held::Login, id_hash, now).await
    }

    /// The request of a login under way, once: taking it removes it. `None` if
    /// unknown, taken already or expired at `now`.
    pub async fn take_pending_login(
        &self,
        id_hash: &[u8],
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        self.take_held(Held::Login, id_hash, now).await
    }

    /// Keeps a WebAuthn ceremony's state until `expires_at` (replacing an
    /// earlier one under the same handle).
    pub async fn put_ceremony(
        &self,
        id_hash: &[u8],
        state: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.hold(Held::Ceremony, id_hash, state, expires_at).await
    }

    /// A WebAuthn ceremony's state, left in place (to check who may finish it
    /// before it is taken).
    pub async fn ceremony(&self, id_hash: &[u8], now: i64) -> Result<Option<String>, StoreError> {
        self.held(Held::Ceremony, id_hash, now).await
    }

    /// A WebAuthn ceremony's state, once: its challenge cannot be answered twice.
    pub async fn take_ceremony(
        &self,
        id_hash: &[u8],
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        self.take_held(Held::Ceremony, id_hash, now).await
    }

    async fn hold(
        &self,
        held: Held,
        id_hash: &[u8],
        value: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(held.sql().insert)
            .bind(id_hash)
            .bind(value)
            .bind(expires_at)
            .execute(&self.pool)
            .await
            .map_err(StoreError::new(held.sql().saving))?;
        Ok(())
    }

    async fn held(
        &self,
        held: Held,
        id_hash: &[u8],
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar(held.sql().read)
            .bind(id_hash)
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::new(held.sql().reading))
    }

    /// Deletes and returns in one statement, so two takers cannot both have it.
    async fn take_held(
        &self,
        held: Held,
        id_hash: &[u8],
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        let row: Option<(String, i64)> = sqlx::query_as(held.sql().take)
            .bind(id_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::new(held.sql().reading))?;
        Ok(row
            .filter(|(_, expires_at)| *expires_at > now)
            .map(|(v, _)| v))
    }

    /// Records an issued certificate and its audit event (`certificate_issued`),
    /// in one transaction. With `limit` (since, most), the owner's certificates
    /// issued since then are counted first, under a lock on the owner's
    /// registry row (so parallel enrolments are counted one after the other):
    /// at the limit nothing is recorded and the answer is `false`. An error (a
    /// serial used before) leaves nothing recorded. Either way the certificate
    /// must then not be handed out.
    pub async fn put_certificate(
        &self,
        c: &StoredCertificate,
        limit: Option<(i64, i64)>,
    ) -> Result<bool, StoreError> {
        let failed = "recording a certificate";
        let mut tx = self.pool.begin().await.map_err(StoreError::new(failed))?;
        if let (Some((since, most)), Some(owner)) = (limit, &c.personal_number) {
            // A write that changes nothing: PostgreSQL locks the row until the
            // end of the transaction, SQLite takes its write lock.
            sqlx::query(
                "UPDATE people SET personal_number = personal_number WHERE personal_number = $1",
            )
            .bind(owner)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::new(failed))?;
            let issued: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM certificates WHERE personal_number = $1 AND issued_at >= $2",
            )
            .bind(owner)
            .bind(since)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::new(failed))?;
            if issued >= most {
                return Ok(false);
            }
        }
        sqlx::query(
            "INSERT INTO certificates (serial, ca, profile, subject, personal_number, issued_at,
               not_after, der) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&c.serial)
        .bind(&c.ca)
        .bind(&c.profile)
        .bind(&c.subject)
        .bind(&c.personal_number)
        .bind(c.issued_at)
        .bind(c.not_after)
        .bind(&c.der)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::new(failed))?;
        sqlx::query(
            "INSERT INTO audit_events (at, kind, personal_number, detail)
             VALUES ($1, 'certificate_issued', $2, $3)",
        )
        .bind(c.issued_at)
        .bind(&c.personal_number)
        .bind(format!("{} ({})", c.serial, c.profile))
        .execute(&mut *tx)
        .await
        .map_err(StoreError::new(failed))?;
        tx.commit().await.map_err(StoreError::new(failed))?;
        Ok(true)
    }

    /// The certificate with this serial.
    pub async fn certificate(&self, serial: &str) -> Result<Option<StoredCertificate>, StoreError> {
        let row = sqlx::query(
            "SELECT serial, ca, profile, subject, personal_number, issued_at, not_after, der,
               revoked_at, reason FROM certificates WHERE serial = $1",
        )
        .bind(serial)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::new("reading a certificate"))?;
        Ok(row.as_ref().map(stored_certificate))
    }

    /// Certificates, newest first (a person's, when `personal_number` is given).
    pub async fn certificates(
        &self,
        personal_number: Option<&str>,
        limit: i64,
    ) -> Result<Vec<StoredCertificate>, StoreError> {
        let rows = match personal_number {
            Some(n) => sqlx::query(
                "SELECT serial, ca, profile, subject, personal_number, issued_at, not_after, der,
                   revoked_at, reason FROM certificates
                 WHERE personal_number = $1 ORDER BY issued_at DESC, serial LIMIT $2",
            )
            .bind(n)
            .bind(limit)
            .fetch_all(&self.pool)
            .await,
            None => sqlx::query(
                "SELECT serial, ca, profile, subject, personal_number, issued_at, not_after, der,
                   revoked_at, reason FROM certificates ORDER BY issued_at DESC, serial LIMIT $1",
            )
            .bind(limit)
            .fetch_all(&self.pool)
            .await,
        }
        .map_err(StoreError::new("listing certificates"))?;
        Ok(rows.iter().map(stored_certificate).collect())
    }

    /// How many certificates a person was issued since `since`.
    pub async fn certificates_issued_since(
        &self,
        personal_number: &str,
        since: i64,
    ) -> Result<i64, StoreError> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM certificates WHERE personal_number = $1 AND issued_at >= $2",
        )
        .bind(personal_number)
        .bind(since)
        .fetch_one(&self.pool)
        .await
        .map_err(StoreError::new("counting certificates"))
    }

    /// Revokes a certificate, once, with its audit event (`certificate_revoked`,
    /// `detail` saying why) in the same transaction: a second revocation
    /// changes nothing and says when and why the first was.
    pub async fn revoke_certificate(
        &self,
        serial: &str,
        at: i64,
        reason: u8,
        detail: &str,
    ) -> Result<Revocation, StoreError> {
        let failed = "revoking a certificate";
        let mut tx = self.pool.begin().await.map_err(StoreError::new(failed))?;
        let owner: Option<(Option<String>,)> = sqlx::query_as(
            "UPDATE certificates SET revoked_at = $1, reason = $2 WHERE serial = $3 AND revoked_at IS NULL
             RETURNING personal_number",
        )
        .bind(at)
        .bind(i64::from(reason))
        .bind(serial)
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::new(failed))?;
        if let Some((owner,)) = owner {
            sqlx::query(
                "INSERT INTO audit_events (at, kind, personal_number, detail)
                 VALUES ($1, 'certificate_revoked', $2, $3)",
            )
            .bind(at)
            .bind(owner)
            .bind(format!("{serial}: {detail}"))
            .execute(&mut *tx)
            .await
            .map_err(StoreError::new(failed))?;
            tx.commit().await.map_err(StoreError::new(failed))?;
            return Ok(Revocation::Revoked);
        }
        drop(tx);
        let row: Option<(Option<i64>, Option<i64>)> =
            sqlx::query_as("SELECT revoked_at, reason FROM certificates WHERE serial = $1")
                .bind(serial)
                .fetch_optional(&self.pool)
                .await
                .map_err(StoreError::new(failed))?;
        Ok(match row {
            Some((Some(at), reason)) => Revocation::Already {
                at,
                reason: reason.and_then(|r| u8::try_from(r).ok()).unwrap_or(0),
            },
            // Not revoked, yet the update found nothing: it went between the two.
            Some((None, _)) => {
                return Err(StoreError::new(failed)(sqlx::Error::Protocol(
                    "the certificate changed meanwhile: try again".into(),
                )));
            }
            None => Revocation::Unknown,
        })
    }

    /// What OCSP needs of a serial: its CA, and its revocation (time, reason).
    pub async fn certificate_status(
        &self,
        serial: &str,
    ) -> Result<Option<(String, Option<(i64, u8)>)>, StoreError> {
        let row: Option<(String, Option<i64>, Option<i64>)> =
            sqlx::query_as("SELECT ca, revoked_at, reason FROM certificates WHERE serial = $1")
                .bind(serial)
                .fetch_optional(&self.pool)
                .await
                .map_err(StoreError::new("reading a certificate's status"))?;
        Ok(row.map(|(ca, at, reason)| {
            (
                ca,
                at.map(|at| (at, reason.and_then(|r| u8::try_from(r).ok()).unwrap_or(0))),
            )
        }))
    }

    /// A CA's revocations (serial, time, reason), in serial order.
    pub async fn revocations(&self, ca: &str) -> Result<Vec<(String, i64, u8)>, StoreError> {
        let rows: Vec<(String, i64, Option<i64>)> = sqlx::query_as(REVOCATIONS)
            .bind(ca)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::new("reading revocations"))?;
        Ok(revocation_rows(rows))
    }

    /// Takes a CA's next CRL number (1, 2, …), never the same twice, and its
    /// revocations as they are then, in one transaction that holds the
    /// number's row: a CRL with a higher number never lists less.
    pub async fn next_crl(&self, ca: &str) -> Result<(i64, Vec<(String, i64, u8)>), StoreError> {
        let failed = "numbering a CRL";
        let mut tx = self.pool.begin().await.map_err(StoreError::new(failed))?;
        let number: i64 = sqlx::query_scalar(
            "INSERT INTO crl_numbers (ca, last) VALUES ($1, 1)
             ON CONFLICT (ca) DO UPDATE SET last = crl_numbers.last + 1 RETURNING last",
        )
        .bind(ca)
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::new(failed))?;
        let rows: Vec<(String, i64, Option<i64>)> = sqlx::query_as(REVOCATIONS)
            .bind(ca)
            .fetch_all(&mut *tx)
            .await
            .map_err(StoreError::new(failed))?;
        tx.commit().await.map_err(StoreError::new(failed))?;
        Ok((number, revocation_rows(rows)))
    }

    /// Saves a device authorization request (RFC 8628) under the keyed hashes
    /// of its device code and user code, pending until a person decides.
    pub async fn put_device_grant(
        &self,
        device_code_hash: &[u8],
        user_code_hash: &[u8],
        client_id: &str,
        scope: &str,
        expires_at: i64,
        poll_interval: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO device_grants (device_code_hash, user_code_hash, client_id, scope,
               expires_at, poll_interval, status) VALUES ($1, $2, $3, $4, $5, $6, 'pending')",
        )
        .bind(device_code_hash)
        .bind(user_code_hash)
        .bind(client_id)
        .bind(scope)
        .bind(expires_at)
        .bind(poll_interval)
        .execute(&self.pool)
        .await
        .map_err(StoreError::new("saving a device authorization request"))?;
        Ok(())
    }

    /// The pending, unexpired request a user code names, if any.
    pub async fn device_request(
        &self,
        user_code_hash: &[u8],
        now: i64,
    ) -> Result<Option<DeviceRequest>, StoreError> {
        let row: Option<(String, String, i64)> = sqlx::query_as(
            "SELECT client_id, scope, expires_at FROM device_grants
             WHERE user_code_hash = $1 AND status = 'pending' AND expires_at > $2",
        )
        .bind(user_code_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::new("reading a device authorization request"))?;
        Ok(row.map(|(client_id, scope, expires_at)| DeviceRequest {
            client_id,
            scope,
            expires_at,
        }))
    }

    /// A person's decision on the pending request a user code names: approved
    /// (`Some`) or denied (`None`), in one transaction with its audit event
    /// (`device_approved`, `device_refused`) and, approved, the consent it
    /// amounts to (the request's scopes but openid, added to any the person
    /// gave `client_id` before; withdrawing it at /account ends the device's
    /// tokens). `false`, and nothing changed, if the request is no longer
    /// pending (decided already, or expired).
    pub async fn decide_device_grant(
        &self,
        user_code_hash: &[u8],
        personal_number: &str,
        approval: Option<&DeviceApproval>,
        request: &DeviceRequest,
        now: i64,
    ) -> Result<bool, StoreError> {
        let failed = "deciding a device authorization request";
        let mut tx = self.pool.begin().await.map_err(StoreError::new(failed))?;
        let done = sqlx::query(
            "UPDATE device_grants SET status = $1, personal_number = $2, acr = $3, auth_time = $4
             WHERE user_code_hash = $5 AND status = 'pending' AND expires_at > $6",
        )
        .bind(if approval.is_some() {
            "approved"
        } else {
            "denied"
        })
        .bind(approval.map(|a| a.personal_number.clone()))
        .bind(approval.map(|a| a.acr.clone()))
        .bind(approval.map(|a| a.auth_time))
        .bind(user_code_hash)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::new(failed))?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        if approval.is_some() {
            let before: Option<String> = sqlx::query_scalar(
                "SELECT scope FROM consents WHERE personal_number = $1 AND client_id = $2",
            )
            .bind(personal_number)
            .bind(&request.client_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::new(failed))?;
            let mut scopes: Vec<&str> = before.as_deref().unwrap_or_default().split(' ').collect();
            scopes.extend(request.scope.split(' ').filter(|s| *s != "openid"));
            scopes.retain(|s| !s.is_empty());
            scopes.sort_unstable();
            scopes.dedup();
            sqlx::query(
                "INSERT INTO consents (personal_number, client_id, scope, granted_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (personal_number, client_id) DO UPDATE SET scope = excluded.scope,
                   granted_at = excluded.granted_at",
            )
            .bind(personal_number)
            .bind(&request.client_id)
            .bind(scopes.join(" "))
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::new(failed))?;
        }
        sqlx::query(
            "INSERT INTO audit_events (at, kind, personal_number, detail) VALUES ($1, $2, $3, $4)",
        )
        .bind(now)
        .bind(if approval.is_some() {
            "device_approved"
        } else {
            "device_refused"
        })
        .bind(personal_number)
        .bind(format!("{} ({})", request.client_id, request.scope))
        .execute(&mut *tx)
        .await
        .map_err(StoreError::new(failed))?;
        tx.commit().await.map_err(StoreError::new(failed))?;
        Ok(true)
    }

    /// A device's poll with its device code. An approved grant is deleted as
    /// it is returned (one statement: two polls cannot both have it); a
    /// pending one records the poll, and lengthens the interval of a device
    /// that polls too fast.
    pub async fn poll_device_grant(
        &self,
        device_code_hash: &[u8],
        client_id: &str,
        now: i64,
    ) -> Result<DevicePoll, StoreError> {
        let failed = "polling a device authorization";
        let approved: Option<(String, String, String, i64)> = sqlx::query_as(
            "DELETE FROM device_grants WHERE device_code_hash = $1 AND client_id = $2
               AND status = 'approved' AND expires_at > $3
             RETURNING scope, personal_number, acr, auth_time",
        )
        .bind(device_code_hash)
        .bind(client_id)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::new(failed))?;
        if let Some((scope, personal_number, acr, auth_time)) = approved {
            return Ok(DevicePoll::Approved {
                scope,
                approval: DeviceApproval {
                    personal_number,
                    acr,
                    auth_time,
                },
            });
        }
        let row: Option<(String, i64, i64, Option<i64>)> = sqlx::query_as(
            "SELECT status, expires_at, poll_interval, polled_at FROM device_grants
             WHERE device_code_hash = $1 AND client_id = $2",
        )
        .bind(device_code_hash)
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::new(failed))?;
        let Some((status, expires_at, interval, polled_at)) = row else {
            return Ok(DevicePoll::Unknown);
        };
        if expires_at <= now {
            return Ok(DevicePoll::Expired);
        }
        match status.as_str() {
            "denied" => return Ok(DevicePoll::Denied),
            "pending" => {}
            // Approved but taken by a poll racing this one.
            _ => return Ok(DevicePoll::Unknown),
        }
        let slow_down = polled_at.is_some_and(|at| now - at < interval);
        sqlx::query(
            "UPDATE device_grants SET polled_at = $1, poll_interval = $2 WHERE device_code_hash = $3",
        )
        .bind(now)
        .bind(if slow_down { interval + 5 } else { interval })
        .bind(device_code_hash)
        .execute(&self.pool)
        .await
        .map_err(StoreError::new(failed))?;
        Ok(DevicePoll::Pending { slow_down })
    }

    /// Starts a single sign-on session.
    pub async fn put_session(
        &self,
        id_hash: &[u8],
        session: &super::LoginSession,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO login_sessions (id_hash, personal_number, acr, amr, auth_time, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id_hash)
        .bind(&session.personal_number)
        .bind(&session.acr)
        .bind(&session.amr)
        .bind(session.auth_time)
        .bind(session.expires_at)
        .execute(&self.pool)
        .await
        .map_err(StoreError::new("saving a login session"))?;
        Ok(())
    }

    /// The session under this hash, if it has not ended by `now`.
    pub async fn session(
        &self,
        id_hash: &[u8],
        now: i64,
    ) -> Result<Option<super::LoginSession>, StoreError> {
        let row = sqlx::query(
            "SELECT personal_number, acr, amr, auth_time, expires_at FROM login_sessions
             WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(id_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::new("reading a login session"))?;
        Ok(row.map(|r| super::LoginSession {
            personal_number: r.get("personal_number"),
            acr: r.get("acr"),
            amr: r.get("amr"),
            auth_time: r.get("auth_time"),
            expires_at: r.get("expires_at"),
        }))
    }

    /// Ends a session; `false` if there was none.
    pub async fn end_session(&self, id_hash: &[u8]) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM login_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await
            .map_err(StoreError::new("ending a login session"))?;
        Ok(done.rows_affected() > 0)
    }

    /// Deletes codes, refresh tokens, revocations, logins under way and sessions that expired before `before`,
    /// in batches (never per request). A used code is kept [`USED_CODE_RETENTION`]
    /// seconds after its use, so that a late replay is still recognised and still
    /// revokes what the code's exchange issued.
    pub async fn purge_expired(&self, before: i64) -> Result<u64, StoreError> {
        let mut removed = 0;
        let used = sqlx::query(
            "DELETE FROM authorization_codes WHERE expires_at < $1 AND used_at IS NOT NULL AND used_at < $2",
        )
        .bind(before)
        .bind(before.saturating_sub(USED_CODE_RETENTION))
        .execute(&self.pool)
        .await
        .map_err(StoreError::new("purging expired entries"))?;
        removed += used.rows_affected();
        for sql in [
            "DELETE FROM authorization_codes WHERE expires_at < $1 AND used_at IS NULL",
            "DELETE FROM refresh_tokens WHERE expires_at < $1",
            "DELETE FROM revoked_tokens WHERE expires_at < $1",
            "DELETE FROM revoked_families WHERE expires_at < $1",
            "DELETE FROM client_assertions WHERE expires_at < $1",
            "DELETE FROM pending_logins WHERE expires_at < $1",
            "DELETE FROM login_sessions WHERE expires_at < $1",
            "DELETE FROM webauthn_ceremonies WHERE expires_at < $1",
            "DELETE FROM device_grants WHERE expires_at < $1",
        ] {
            let done = sqlx::query(sql)
                .bind(before)
                .execute(&self.pool)
                .await
                .map_err(StoreError::new("purging expired entries"))?;
            removed += done.rows_affected();
        }
        Ok(removed)
    }
}

/// A CA's revocations, in serial order.
const REVOCATIONS: &str = "SELECT serial, revoked_at, reason FROM certificates
     WHERE ca = $1 AND revoked_at IS NOT NULL ORDER BY serial";

fn revocation_rows(rows: Vec<(String, i64, Option<i64>)>) -> Vec<(String, i64, u8)> {
    rows.into_iter()
        .map(|(s, at, r)| (s, at, r.and_then(|r| u8::try_from(r).ok()).unwrap_or(0)))
        .collect()
}

fn stored_certificate(r: &AnyRow) -> StoredCertificate {
    StoredCertificate {
        serial: r.get("serial"),
        ca: r.get("ca"),
        profile: r.get("profile"),
        subject: r.get("subject"),
        personal_number: r.get("personal_number"),
        issued_at: r.get("issued_at"),
        not_after: r.get("not_after"),
        der: r.get("der"),
        revoked_at: r.get("revoked_at"),
        reason: r
            .get::<Option<i64>, _>("reason")
            .and_then(|r| u8::try_from(r).ok()),
    }
}

fn stored_passkey(r: &AnyRow) -> super::StoredPasskey {
    super::StoredPasskey {
        credential_id: r.get("credential_id"),
        personal_number: r.get("personal_number"),
        user_handle: r.get("user_handle"),
        passkey: r.get("passkey"),
        name: r.get("name"),
        created_at: r.get("created_at"),
        last_used_at: r.get("last_used_at"),
        disabled_at: r.get("disabled_at"),
    }
}

fn code_grant(r: &AnyRow) -> CodeGrant {
    CodeGrant {
        client_id: r.get("client_id"),
        redirect_uri: r.get("redirect_uri"),
        personal_number: r.get("personal_number"),
        scope: r.get("scope"),
        nonce: r.get("nonce"),
        code_challenge: r.get("code_challenge"),
        acr: r.get("acr"),
        auth_time: r.get("auth_time"),
        expires_at: r.get("expires_at"),
        business: r.get("business"),
    }
}

fn refresh_grant(r: &AnyRow) -> RefreshGrant {
    RefreshGrant {
        family_id: r.get("family_id"),
        client_id: r.get("client_id"),
        personal_number: r.get("personal_number"),
        scope: r.get("scope"),
        acr: r.get("acr"),
        auth_time: r.get("auth_time"),
        expires_at: r.get("expires_at"),
        business: r.get("business"),
    }
}

/// What the store holds briefly under a keyed hash of a handle: a login under
/// way, or a WebAuthn ceremony. The same three statements serve both.
#[derive(Debug, Clone, Copy)]
enum Held {
    Login,
    Ceremony,
}

struct HeldSql {
    insert: &'static str,
    read: &'static str,
    take: &'static str,
    saving: &'static str,
    reading: &'static str,
}

impl Held {
    fn sql(self) -> &'static HeldSql {
        match self {
            Self::Login => &HeldSql {
                insert: "INSERT INTO pending_logins (id_hash, params, expires_at) VALUES ($1, $2, $3)
                         ON CONFLICT (id_hash) DO UPDATE SET params = excluded.params, expires_at = excluded.expires_at",
                read: "SELECT params FROM pending_logins WHERE id_hash = $1 AND expires_at > $2",
                take: "DELETE FROM pending_logins WHERE id_hash = $1 RETURNING params, expires_at",
                saving: "saving a login under way",
                reading: "reading a login under way",
            },
            Self::Ceremony => &HeldSql {
                insert: "INSERT INTO webauthn_ceremonies (id_hash, state, expires_at) VALUES ($1, $2, $3)
                         ON CONFLICT (id_hash) DO UPDATE SET state = excluded.state, expires_at = excluded.expires_at",
                read: "SELECT state FROM webauthn_ceremonies WHERE id_hash = $1 AND expires_at > $2",
                take: "DELETE FROM webauthn_ceremonies WHERE id_hash = $1 RETURNING state, expires_at",
                saving: "saving a WebAuthn ceremony",
                reading: "reading a WebAuthn ceremony",
            },
        }
    }
}

/// What a device's poll for its token found (RFC 8628 §3.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DevicePoll {
    /// Approved: the grant is used up by this poll, and the device gets tokens.
    Approved {
        /// The scopes approved.
        scope: String,
        /// Who approved.
        approval: DeviceApproval,
    },
    /// Still waiting for the person; `slow_down` when the device polled
    /// sooner than its interval (which is now five seconds longer).
    Pending {
        /// Whether to answer slow_down rather than authorization_pending.
        slow_down: bool,
    },
    /// The person refused.
    Denied,
    /// The device code expired.
    Expired,
    /// No such device code for this client (or it was used).
    Unknown,
}

/// What removing a passkey did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// Removed.
    Removed,
    /// Refused: it is the person's last passkey.
    Last,
    /// The person has no such passkey.
    NotFound,
}

/// What redeeming a refresh token found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshTaken {
    /// The token, now used.
    Fresh(super::RefreshGrant),
    /// The token was used before: its family is now revoked.
    Reused {
        /// The revoked family.
        family_id: String,
    },
    /// No such token (or its family was revoked).
    Unknown,
}

/// What redeeming a code found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeTaken {
    /// The code, now used.
    Fresh(Box<CodeGrant>),
    /// The code was used before: a replay.
    Replayed,
    /// No such code.
    Unknown,
}
