//! `idp-server`: arguments, configuration, logging, serve, clean shutdown.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use identity_core::x509::format_rfc3339;
use idp_server::clock::Clock;
use idp_server::config::Config;
use idp_server::oidc::ServerSecret;
use idp_server::{AppState, demo};

/// The OpenID Connect provider of the national identity infrastructure.
#[derive(Debug, Parser)]
#[command(name = "idp-server", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve with a configuration file (and IDP_* environment overrides). The server
    /// secret comes from IDP_SECRET_KEY (at least 32 bytes, base64).
    Serve {
        /// The TOML configuration file.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// A complete local demo: a data directory with a SQLite database, signing keys,
    /// fictional residents and a demo portal, served on 127.0.0.1.
    Demo {
        /// Where to listen.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// The data directory (made if missing).
        #[arg(long, default_value = "idp-demo")]
        data: PathBuf,
        /// The database (default: SQLite in the data directory), e.g. postgres://…
        #[arg(long)]
        database: Option<String>,
    },
    /// Apply the database migrations and exit.
    Migrate {
        /// The TOML configuration file.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Register, list and remove relying parties.
    Client {
        #[command(subcommand)]
        command: ClientCommand,
    },
    /// Rotate and list the token signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Import and look up residents and businesses.
    Registry {
        #[command(subcommand)]
        command: RegistryCommand,
    },
    /// The officials' signing certificates this server's CA issued: list,
    /// show, revoke (OCSP and the CRL say so at once).
    Cert {
        #[command(subcommand)]
        command: CertCommand,
    },
}

#[derive(Debug, Subcommand)]
enum CertCommand {
    /// List certificates, newest first.
    List {
        #[command(flatten)]
        target: Target,
        /// Only this person's (a 12-digit personal number).
        #[arg(long)]
        person: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Show one certificate: its record, and the certificate itself (PEM).
    Show {
        #[command(flatten)]
        target: Target,
        /// The serial number in hexadecimal (colons, case and leading zeros ignored).
        serial: String,
    },
    /// Revoke a certificate.
    Revoke {
        #[command(flatten)]
        target: Target,
        /// The serial number in hexadecimal.
        serial: String,
        /// The RFC 5280 reason: unspecified, keyCompromise, affiliationChanged,
        /// superseded, cessationOfOperation, certificateHold, privilegeWithdrawn.
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
enum RegistryCommand {
    /// Import a register's export (CSV or JSON Lines; the layout is in the README):
    /// every row is checked, bad rows are listed with their line and skipped, the
    /// good ones go in one transaction. Importing the same file again is safe.
    Import {
        #[command(flatten)]
        target: Target,
        /// The export.
        file: PathBuf,
        /// csv or jsonl (default: from the file's extension).
        #[arg(long, value_parser = ["csv", "jsonl"])]
        format: Option<String>,
        /// Check and report, change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Issue a one-time activation code for a resident whose identity was proofed
    /// in person: they enter it at /activate to register a passkey. It lives 72
    /// hours; five wrong entries lock it. Issuing again replaces the earlier code.
    Activate {
        #[command(flatten)]
        target: Target,
        /// The resident's personal number.
        personal_number: String,
    },
    /// Show a resident (by personal number) or a business (by enterprise code).
    Show {
        #[command(flatten)]
        target: Target,
        /// A 12-digit personal number or an enterprise code.
        id: String,
    },
}

/// Which server an administration command works on: a configuration file (the
/// secret from IDP_SECRET_KEY), a demo data directory, or IDP_* variables alone.
#[derive(Debug, clap::Args)]
#[group(multiple = false)]
struct Target {
    /// The server's TOML configuration file.
    #[arg(long)]
    config: Option<PathBuf>,
    /// A data directory made by `idp-server demo`.
    #[arg(long)]
    data: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum ClientCommand {
    /// Register a client and print its secret (shown once; the server keeps only
    /// a keyed hash of it).
    Add(Box<AddClient>),
    /// List the clients (never their secrets).
    List {
        #[command(flatten)]
        target: Target,
    },
    /// Remove a client: its tokens stop being refreshed.
    Remove {
        #[command(flatten)]
        target: Target,
        /// The client_id.
        id: String,
    },
}

/// `client add`'s arguments.
#[derive(Debug, clap::Args)]
struct AddClient {
    #[command(flatten)]
    target: Target,
    /// The client_id.
    #[arg(long)]
    id: String,
    /// The name people see on the login page.
    #[arg(long)]
    name: String,
    /// A redirect URI, matched exactly (repeat for several).
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// The pairwise subject sector (default: the redirect URIs' host).
    #[arg(long)]
    sector: Option<String>,
    /// A scope it may ask for (repeat for several).
    #[arg(long = "scope", default_values = ["openid", "profile"])]
    scopes: Vec<String>,
    /// A grant it may use: authorization_code, refresh_token, client_credentials,
    /// device_code (RFC 8628, for devices such as the signer CLI).
    #[arg(long = "grant", default_values = ["authorization_code", "refresh_token"])]
    grants: Vec<String>,
    /// Authenticate it by private_key_jwt with the public keys in this JWK Set
    /// file, instead of a secret.
    #[arg(long)]
    jwks_file: Option<PathBuf>,
    /// Where it may send people after logout, matched exactly (repeat for several).
    #[arg(long = "post-logout-redirect-uri")]
    post_logout_redirect_uris: Vec<String>,
    /// How its ID tokens are signed: ES256, or RS256 for a portal whose OpenID
    /// Connect library checks nothing else.
    #[arg(long, default_value = "ES256", value_parser = ["ES256", "RS256"])]
    id_token_alg: String,
    /// A resource server it may ask client_credentials tokens for (RFC 8707
    /// `resource`, matched exactly; repeat for several).
    #[arg(long = "resource")]
    resources: Vec<String>,
    /// A public client: a native application such as the signer CLI, with no
    /// secret (the device grant, or the code flow with PKCE).
    #[arg(long)]
    public: bool,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Make a new signing key: published now, signing after --activate-in seconds;
    /// the old keys stay published until the tokens they signed have expired.
    /// Running servers pick it up within a minute.
    Rotate {
        #[command(flatten)]
        target: Target,
        /// Seconds between publishing the key and signing with it (at least the
        /// JWKS cache age, 300).
        #[arg(long, default_value_t = 600)]
        activate_in: i64,
        /// Only this key: ES256 (access tokens and most ID tokens) or RS256 (ID
        /// tokens of RS256 clients). Both by default.
        #[arg(long, value_parser = ["ES256", "RS256"])]
        alg: Option<String>,
    },
    /// List the published keys.
    List {
        #[command(flatten)]
        target: Target,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("IDP_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        // Logs to stderr: stdout is for what a command prints (a new client's secret).
        .with_writer(std::io::stderr)
        // Colour for a person at a terminal, plain text for log files and collectors.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match Cli::parse().command {
        Command::Serve { config } => {
            let config = Config::load(config.as_deref(), std::env::vars())?;
            if config.demo {
                bail!("the demo authenticator cannot be enabled under `serve`");
            }
            let secret = secret_from_env()?;
            let ca = online_ca(&config)?;
            let state = AppState::new(config, secret, Clock::System, None, ca).await?;
            let registered = idp_server::admin::apply_config_clients(
                &state.store,
                &state.secret,
                &state.config.clients,
                |name| std::env::var(name).ok(),
                Clock::System.now(),
            )
            .await?;
            if registered > 0 {
                tracing::info!(
                    clients = registered,
                    "clients of the configuration file registered"
                );
            }
            serve(state).await
        }
        Command::Demo {
            listen,
            data,
            database,
        } => demo_command(listen, &data, database).await,
        Command::Migrate { config } => {
            let config = Config::load(config.as_deref(), std::env::vars())?;
            idp_server::store::Store::open(&config.database_url).await?;
            println!("migrated {}", config.database_url);
            Ok(())
        }
        Command::Client { command } => client_command(command).await,
        Command::Keys { command } => keys_command(command).await,
        Command::Registry { command } => registry_command(command).await,
        Command::Cert { command } => cert_command(command).await,
    }
}

fn serial_of(text: &str) -> Result<String> {
    pki::normalize_serial(text).with_context(|| {
        format!("{text:?} is not a serial number: give it in hexadecimal, as `cert list` shows it")
    })
}

fn reason_name(code: u8) -> String {
    pki::Reason::from_code(code).map_or_else(|| format!("reason {code}"), |r| r.name().to_owned())
}

async fn cert_command(command: CertCommand) -> Result<()> {
    match command {
        CertCommand::List {
            target,
            person,
            limit,
        } => {
            let (_, store, _) = open_target(&target).await?;
            let certificates = store.certificates(person.as_deref(), limit).await?;
            if certificates.is_empty() {
                println!("no certificates");
            }
            for c in certificates {
                let state = match (c.revoked_at, c.reason) {
                    (Some(at), reason) => {
                        format!(
                            "revoked {} ({})",
                            format_rfc3339(at),
                            reason_name(reason.unwrap_or(0))
                        )
                    }
                    (None, _) => format!("valid until {}", format_rfc3339(c.not_after)),
                };
                println!(
                    "{}\t{}\t{}\tissued {}\t{state}",
                    c.serial,
                    c.personal_number.as_deref().unwrap_or("-"),
                    c.subject,
                    format_rfc3339(c.issued_at)
                );
            }
            Ok(())
        }
        CertCommand::Show { target, serial } => {
            let serial = serial_of(&serial)?;
            let (_, store, _) = open_target(&target).await?;
            let c = store.certificate(&serial).await?.with_context(|| {
                format!("no certificate {serial}: `idp-server cert list` shows them")
            })?;
            println!("serial: {}", c.serial);
            println!("subject: {}", c.subject);
            println!("person: {}", c.personal_number.as_deref().unwrap_or("-"));
            println!("profile: {} (CA {})", c.profile, c.ca);
            println!("issued: {}", format_rfc3339(c.issued_at));
            println!("valid until: {}", format_rfc3339(c.not_after));
            match c.revoked_at {
                Some(at) => println!(
                    "revoked: {} ({})",
                    format_rfc3339(at),
                    reason_name(c.reason.unwrap_or(0))
                ),
                None => println!("revoked: no"),
            }
            print!(
                "{}",
                der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, &c.der)
                    .map_err(|e| anyhow::anyhow!("encoding the certificate: {e}"))?
            );
            Ok(())
        }
        CertCommand::Revoke {
            target,
            serial,
            reason,
        } => {
            let serial = serial_of(&serial)?;
            let reason: pki::Reason = reason.parse()?;
            let (_, store, _) = open_target(&target).await?;
            let now = Clock::System.now();
            let detail = format!("{} (by `idp-server cert revoke`)", reason.name());
            match store
                .revoke_certificate(&serial, now, reason.code(), &detail)
                .await?
            {
                idp_server::store::Revocation::Revoked => {
                    println!(
                        "revoked {serial} at {} ({}): OCSP answers revoked now, the next CRL lists it",
                        format_rfc3339(now),
                        reason.name()
                    );
                    Ok(())
                }
                idp_server::store::Revocation::Already { at, reason } => bail!(
                    "{serial} was already revoked at {} ({}): nothing changed",
                    format_rfc3339(at),
                    reason_name(reason)
                ),
                idp_server::store::Revocation::Unknown => bail!(
                    "no certificate {serial} was issued here: `idp-server cert list` shows them"
                ),
            }
        }
    }
}

/// The configuration, store and secret of a command's target.
async fn registry_command(command: RegistryCommand) -> Result<()> {
    use idp_server::registry::{self, Format};
    match command {
        RegistryCommand::Import {
            target,
            file,
            format,
            dry_run,
        } => {
            let format = match format.as_deref() {
                Some("csv") => Format::Csv,
                Some(_) => Format::JsonLines,
                None => Format::from_path(&file).with_context(|| {
                    format!(
                        "{}: name the format with --format csv or --format jsonl",
                        file.display()
                    )
                })?,
            };
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let parsed = registry::parse(&bytes, format)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let (_, store, _) = open_target(&target).await?;
            let mut report = store.import_registry(&parsed.records, dry_run).await?;
            report.rejected.extend(parsed.rejected);
            report.rejected.sort_by_key(|r| r.line);
            let verb = if dry_run { "would import" } else { "imported" };
            println!(
                "{verb} {}: residents {}; businesses {}; officials {}",
                file.display(),
                report.residents,
                report.businesses,
                report.officials
            );
            if report.rejected.is_empty() {
                return Ok(());
            }
            for rejected in &report.rejected {
                println!("{}:{}: {}", file.display(), rejected.line, rejected.reason);
            }
            bail!(
                "{} row(s) rejected and not imported: correct them and import the file again \
                 (rows already imported are left as they are)",
                report.rejected.len()
            )
        }
        RegistryCommand::Activate {
            target,
            personal_number,
        } => {
            use idp_server::enrol;
            let (_, store, secret) = open_target(&target).await?;
            let code = enrol::new_code().map_err(anyhow::Error::msg)?;
            let hash = enrol::hash_code(&secret, &code).context("a fresh code reads back")?;
            let now = Clock::System.now();
            let expires_at = now + enrol::ACTIVATION_LIFETIME;
            if !store
                .put_activation(&personal_number, &hash, now, expires_at)
                .await?
            {
                bail!(
                    "no resident {personal_number} in the registry: import them first \
                     (`idp-server registry import`)"
                );
            }
            store
                .audit(
                    now,
                    "activation_code_issued",
                    Some(&personal_number),
                    "by an operator",
                )
                .await?;
            println!("activation code for {personal_number}: {code}");
            println!(
                "valid until {} (72 hours), once; five wrong entries lock it. Hand it to the \
                 resident in person: they enter it at /activate with their number.",
                format_rfc3339(expires_at)
            );
            Ok(())
        }
        RegistryCommand::Show { target, id } => {
            let (_, store, _) = open_target(&target).await?;
            if let Some(person) = store.person(&id).await? {
                println!("resident {}", person.personal_number);
                println!("  name: {}", person.full_name);
                println!(
                    "  birth date: {}",
                    person.birth_date.as_deref().unwrap_or("unknown")
                );
                if let Some((agency, position)) = store.official(&id).await? {
                    println!("  official: {position}, {agency}");
                }
                for b in store.represented_by(&id).await? {
                    println!(
                        "  legal representative of {} {}",
                        b.enterprise_code, b.registered_name
                    );
                }
                return Ok(());
            }
            if let Some((name, representatives)) = store.business(&id).await? {
                println!("business {id}");
                println!("  name: {name}");
                for number in representatives {
                    println!("  legal representative: {number}");
                }
                return Ok(());
            }
            bail!("no resident or business {id} in the registry")
        }
    }
}

async fn open_target(target: &Target) -> Result<(Config, idp_server::store::Store, ServerSecret)> {
    let (config, secret) = match &target.data {
        Some(dir) => {
            let secret_path = dir.join("secret.key");
            let database = dir.join("idp.sqlite3");
            if !secret_path.exists() || !database.exists() {
                bail!(
                    "{} holds no demo data: run `idp-server demo --data {}` first",
                    dir.display(),
                    dir.display()
                );
            }
            let bytes = zeroize::Zeroizing::new(
                std::fs::read(&secret_path)
                    .with_context(|| format!("reading {}", secret_path.display()))?,
            );
            let config = Config {
                database_url: format!("sqlite://{}", database.display()),
                ..Config::default()
            };
            (
                config,
                ServerSecret::new(&bytes).map_err(anyhow::Error::msg)?,
            )
        }
        None => (
            Config::load(target.config.as_deref(), std::env::vars())?,
            secret_from_env()?,
        ),
    };
    let store = idp_server::store::Store::open(&config.database_url).await?;
    Ok((config, store, secret))
}

async fn client_command(command: ClientCommand) -> Result<()> {
    match command {
        ClientCommand::Add(add) => {
            let AddClient {
                target,
                id,
                name,
                redirect_uris,
                sector,
                scopes,
                grants,
                jwks_file,
                post_logout_redirect_uris,
                id_token_alg,
                resources,
                public,
            } = *add;
            let jwks = jwks_file
                .map(|path| {
                    std::fs::read_to_string(&path)
                        .with_context(|| format!("reading {}", path.display()))
                })
                .transpose()?;
            let (_, store, secret) = open_target(&target).await?;
            if store.client(&id).await?.is_some() {
                bail!(
                    "client {id} is already registered: `idp-server client remove {id}` first to replace it"
                );
            }
            let client_secret = zeroize::Zeroizing::new(
                idp_server::oidc::random_token().map_err(|e| anyhow::anyhow!(e.description))?,
            );
            let request = idp_server::admin::ClientRequest {
                id,
                name,
                redirect_uris,
                sector,
                scopes,
                grant_types: grants,
                jwks,
                post_logout_redirect_uris,
                id_token_signed_response_alg: Some(id_token_alg),
                resources,
                public,
            };
            let client =
                idp_server::admin::new_client(request, secret.hash_client_secret(&client_secret))
                    .map_err(anyhow::Error::msg)?;
            store.put_client(&client, Clock::System.now()).await?;
            println!(
                "registered client {} (sector {}, ID tokens {})",
                client.id, client.sector, client.id_token_signed_response_alg
            );
            if client.secret_hash.is_some() {
                println!("client_secret: {}", client_secret.as_str());
                println!(
                    "(shown once: keep it in the portal's secret store; the server keeps only a keyed hash)"
                );
            } else if client.jwks.is_some() {
                println!("it authenticates by private_key_jwt with the keys of its JWK Set");
            } else {
                println!("a public client: it names itself by its client_id, with no secret");
            }
            Ok(())
        }
        ClientCommand::List { target } => {
            let (_, store, _) = open_target(&target).await?;
            for c in store.clients().await? {
                println!(
                    "{}	{}	grants: {}	scopes: {}	sector: {}	ID tokens: {}	redirect URIs: {}	resources: {}",
                    c.id,
                    c.name,
                    c.grant_types.join(" "),
                    c.scopes.join(" "),
                    c.sector,
                    c.id_token_signed_response_alg,
                    c.redirect_uris.join(" "),
                    c.resources.join(" ")
                );
            }
            Ok(())
        }
        ClientCommand::Remove { target, id } => {
            let (_, store, _) = open_target(&target).await?;
            if !store.remove_client(&id).await? {
                bail!("no client {id}: `idp-server client list` shows the registered ones");
            }
            println!("removed client {id}");
            Ok(())
        }
    }
}

async fn keys_command(command: KeysCommand) -> Result<()> {
    let now = Clock::System.now();
    match command {
        KeysCommand::Rotate {
            target,
            activate_in,
            alg,
        } => {
            let (config, store, secret) = open_target(&target).await?;
            let algs = match alg {
                Some(alg) => vec![alg.parse().map_err(|e| anyhow::anyhow!("--alg: {e}"))?],
                None => idp_server::oidc::ID_TOKEN_ALGS.to_vec(),
            };
            for alg in algs {
                let rotation =
                    idp_server::oidc::rotate_keys(&store, &secret, &config, alg, now, activate_in)
                        .await
                        .map_err(anyhow::Error::msg)?;
                println!(
                    "new {} signing key {}: published now, signs from {} (in {activate_in} s); \
                 the old {} keys are published until {}",
                    rotation.alg,
                    rotation.kid,
                    format_rfc3339(rotation.signs_from),
                    rotation.alg,
                    format_rfc3339(rotation.old_retire_at)
                );
            }
            Ok(())
        }
        KeysCommand::List { target } => {
            let (_, store, _) = open_target(&target).await?;
            for key in store.signing_keys(now).await? {
                println!(
                    "{}	{}	signs from {}	{}",
                    key.kid,
                    key.alg,
                    format_rfc3339(key.not_before),
                    key.retired_at.map_or_else(
                        || "published".to_owned(),
                        |t| format!("published until {}", format_rfc3339(t))
                    )
                );
            }
            Ok(())
        }
    }
}

fn secret_from_env() -> Result<ServerSecret> {
    use base64ct::Encoding as _;
    let text = zeroize::Zeroizing::new(
        std::env::var("IDP_SECRET_KEY")
            .context("IDP_SECRET_KEY is not set: give 32 random bytes, base64")?,
    );
    let bytes = zeroize::Zeroizing::new(
        base64ct::Base64::decode_vec(text.trim()).context("IDP_SECRET_KEY is not base64")?,
    );
    ServerSecret::new(&bytes).map_err(anyhow::Error::msg)
}

async fn demo_command(
    listen: std::net::SocketAddr,
    data: &std::path::Path,
    database: Option<String>,
) -> Result<()> {
    std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
    let secret_path = data.join("secret.key");
    let secret = if secret_path.exists() {
        zeroize::Zeroizing::new(
            std::fs::read(&secret_path)
                .with_context(|| format!("reading {}", secret_path.display()))?,
        )
    } else {
        let mut bytes = zeroize::Zeroizing::new(vec![0u8; 32]);
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
            .map_err(|_| anyhow::anyhow!("no randomness"))?;
        write_private(&secret_path, &bytes)?;
        bytes
    };
    let secret = ServerSecret::new(&secret).map_err(anyhow::Error::msg)?;
    // On a loopback address the issuer is http://localhost:PORT: WebAuthn
    // (passkeys) needs a domain name, and browsers treat localhost as secure.
    let issuer = if listen.ip().is_loopback() {
        format!("http://localhost:{}", listen.port())
    } else {
        format!("http://{listen}")
    };
    // IDP_* settings apply (lifetimes, rate limits); where it listens, its
    // issuer and its database are the demo's own.
    let pki = idp_server::ca::development(&data.join("ca"), &issuer, Clock::System.now())?;
    let config = Config {
        listen,
        issuer,
        database_url: database
            .unwrap_or_else(|| format!("sqlite://{}", data.join("idp.sqlite3").display())),
        demo: true,
        // A development CA, made at the first start: officials enrol for
        // signing certificates at /pki/enroll.
        pki: Some(pki),
        ..Config::load(None, std::env::vars())?
    };
    let ca = online_ca(&config)?;
    let store = idp_server::store::Store::open(&config.database_url).await?;
    let client_secret = demo::seed(&store, &secret, &config.issuer, Clock::System.now()).await?;
    let service_secret = demo::seed_service(&store, &secret, Clock::System.now()).await?;
    demo::seed_signer(&store, Clock::System.now()).await?;
    drop(store);
    // The demo clients' secrets are new each start; they are written (0600) for
    // tools such as the load generator, never printed or logged.
    write_private(&data.join("demo-portal.secret"), client_secret.as_bytes())?;
    write_private(&data.join("demo-service.secret"), service_secret.as_bytes())?;
    let issuer = config.issuer.clone();
    let state = AppState::new(
        config,
        secret,
        Clock::System,
        Some(demo::Portal::new(client_secret)),
        ca,
    )
    .await?;
    println!("idp-server demo: data in {}", data.display());
    println!(
        "  open {issuer}/demo/portal to log in as a portal's user would (with a passkey, or by \
         picking a fictional resident); residents get a passkey at {issuer}/activate with a code \
         from `idp-server registry activate NUMBER --data {}`",
        data.display()
    );
    println!("  discovery: {issuer}/.well-known/openid-configuration");
    println!(
        "  clients: {} (code flow) and {} (client_credentials); their secrets are in {}",
        demo::CLIENT_ID,
        demo::SERVICE_ID,
        data.join("demo-*.secret").display()
    );
    println!(
        "  officials sign: `signer login --issuer {issuer}`, then `signer enroll` (079185004321, \
         Trần Thị Bình, is an official); the development CA is in {} (its root: \
         {issuer}/pki/ca/root.crt)",
        data.join("ca").display()
    );
    println!(
        "  time-stamps (RFC 3161): {issuer}/pki/tsa, e.g. `signer sign --tsa {issuer}/pki/tsa …`"
    );
    println!("  stop with Ctrl-C");
    serve(state).await
}

/// The online CA `config` names, its keys opened with `IDP_PKI_PASSPHRASE`.
fn online_ca(config: &Config) -> Result<Option<idp_server::ca::OnlineCa>> {
    let Some(pki) = &config.pki else {
        return Ok(None);
    };
    let passphrase = std::env::var("IDP_PKI_PASSPHRASE")
        .ok()
        .map(identity_core::keys::Passphrase::new);
    idp_server::ca::OnlineCa::load(
        pki,
        &config.issuer,
        passphrase.as_ref(),
        Clock::System.now(),
    )
    .map(Some)
}

/// Writes a secret file readable by its owner only, replacing any old one whole:
/// written beside it, then renamed over it.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    idp_server::files::write_atomic(path, bytes, 0o600)
}

async fn serve(state: AppState) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(state.config.listen)
        .await
        .with_context(|| format!("listening on {}", state.config.listen))?;
    tracing::info!(issuer = %state.config.issuer, "serving");
    // Expired codes and tokens go in batches, never per request.
    let janitor = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            if let Err(e) = janitor.store.purge_expired(janitor.clock.now()).await {
                tracing::warn!(error = %e, "purging expired entries failed");
            }
            if let Err(e) = janitor.reload_keys().await {
                tracing::warn!(error = %e, "reloading the signing keys failed");
            }
            janitor.throttle.forget_idle();
        }
    });
    idp_server::server::serve(
        listener,
        state,
        idp_server::server::Limits::default(),
        stop_signal(),
    )
    .await
    .context("serving")
}

/// Ctrl-C, or SIGTERM (what service managers send).
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("stopping: finishing the requests under way");
}
