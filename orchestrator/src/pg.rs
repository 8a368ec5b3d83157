//! PostgreSQL: where a server is ([`PgTarget`]), what the `postgres` crate asks it (version,
//! databases, emptiness, exact row counts), and the PostgreSQL programs run as streamed child
//! processes ([`ChildReader`] for their output, a feeder for their input).
//!
//! The password never leaves a [`Secret`] except twice: into the driver's connection settings
//! and into a child's `PGPASSWORD` environment variable. It is never on a command line (where
//! `ps` would show it), in a `Display` or `Debug`, or in an error.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fmt;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::thread::JoinHandle;
use std::time::Duration;

use continuum_core::Secret;
use postgres::error::SqlState;
use postgres::{Client, GenericClient, IsolationLevel, NoTls, Transaction};
use serde::Serialize;

use crate::db::RestoreAction;
use crate::error::{Error, Result};

/// The port PostgreSQL listens on unless told otherwise.
pub const DEFAULT_PG_PORT: u16 = 5432;

/// The most of a child's stderr kept for its error message: the end is where the reason is.
const STDERR_TAIL: usize = 64 << 10;

/// Bytes moved per read or write when streaming to or from a program.
const PIPE_CHUNK: usize = 1 << 20;

/// The longest database name PostgreSQL keeps (`NAMEDATALEN - 1` bytes; it cuts longer ones).
const MAX_NAME_BYTES: usize = 63;

/// How often a swap is tried while sessions keep connecting to the databases it renames.
const SWAP_ATTEMPTS: u32 = 3;

/// A PostgreSQL server and database to connect to, as a user.
///
/// Built from a URL (`postgresql://user:pass@host:port/db`) with [`PgTarget::parse`] or from
/// the standard environment (`DATABASE_URL`, `PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`,
/// `PGDATABASE`) with [`PgTarget::from_env`]. The password is a [`Secret`]: `Debug` shows
/// `***`, `Display` leaves it out.
///
/// Connections are made without TLS; a URL asking for `sslmode=require` (or stricter) is refused
/// rather than quietly downgraded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PgTarget {
    /// A host name, an IP address, or a folder holding the server's Unix socket (`/run/postgresql`).
    pub host: String,
    /// The port.
    pub port: u16,
    /// The user (role) to connect as.
    pub user: String,
    /// The password, when the server asks for one.
    pub password: Option<Secret>,
    /// The database.
    pub database: String,
    /// How long to wait for a connection.
    pub connect_timeout: Option<Duration>,
}

/// Connection settings gathered from one source, before the gaps are filled from the next.
#[derive(Default)]
struct Partial {
    host: Option<String>,
    port: Option<u16>,
    user: Option<String>,
    password: Option<Secret>,
    database: Option<String>,
    connect_timeout: Option<Duration>,
}

impl Partial {
    fn or(self, other: Partial) -> Partial {
        Partial {
            host: self.host.or(other.host),
            port: self.port.or(other.port),
            user: self.user.or(other.user),
            password: self.password.or(other.password),
            database: self.database.or(other.database),
            connect_timeout: self.connect_timeout.or(other.connect_timeout),
        }
    }

    /// Fills what is still missing with libpq's defaults (the OS user stands in for a missing
    /// user name, as with `psql`).
    fn complete(self, os_user: Option<String>) -> PgTarget {
        let user = self
            .user
            .or(os_user)
            .unwrap_or_else(|| "postgres".to_string());
        PgTarget {
            host: self.host.unwrap_or_else(|| "localhost".to_string()),
            port: self.port.unwrap_or(DEFAULT_PG_PORT),
            database: self.database.unwrap_or_else(|| user.clone()),
            user,
            password: self.password,
            connect_timeout: self.connect_timeout,
        }
    }
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidTarget {
        reason: reason.into(),
    }
}

/// Decodes `%XX` escapes. The text may be a password, so an error never repeats it.
fn percent_decode(text: &str, what: &str) -> Result<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| invalid(format!("the {what} holds a malformed `%` escape")))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| invalid(format!("the {what} is not valid UTF-8")))
}

fn parse_port(text: &str, what: &str) -> Result<u16> {
    match text.parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(invalid(format!("{what} `{text}` is not a port number"))),
    }
}

fn parse_timeout(text: &str, what: &str) -> Result<Duration> {
    text.parse::<u64>()
        .map(Duration::from_secs)
        .map_err(|_| invalid(format!("{what} `{text}` is not a number of seconds")))
}

/// Reads a `postgresql://` URL into the settings it gives.
fn parse_url(text: &str) -> Result<Partial> {
    let text = text.trim();
    if !(text.starts_with("postgresql://") || text.starts_with("postgres://")) {
        return Err(invalid(
            "expected a URL starting with `postgresql://` (such as `postgresql://user:password@host:5432/database`)",
        ));
    }
    // libpq takes a URL without a host (`postgresql://user@/db?host=/run/postgresql`); the
    // URL parser does not, so a placeholder stands in for the missing host while parsing.
    let (text, no_host) = with_placeholder_host(text);
    // The parser's messages name what is wrong without quoting the input, so they are safe
    // to show even though the input holds a password.
    let url = url::Url::parse(&text).map_err(|e| invalid(format!("not a valid URL: {e}")))?;
    let mut p = Partial::default();
    if let Some(host) = url.host_str().filter(|h| !h.is_empty() && !no_host) {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        p.host = Some(percent_decode(host, "host")?);
    }
    p.port = url.port();
    if !url.username().is_empty() {
        p.user = Some(percent_decode(url.username(), "user name")?);
    }
    if let Some(pw) = url.password() {
        p.password = Some(Secret::new(percent_decode(pw, "password")?));
    }
    let path = url.path().trim_start_matches('/');
    if !path.is_empty() {
        p.database = Some(percent_decode(path, "database name")?);
    }
    for (key, value) in url.query_pairs() {
        match key.as_ref() {
            "host" => p.host = Some(value.into_owned()),
            "port" => p.port = Some(parse_port(&value, "port")?),
            "user" => p.user = Some(value.into_owned()),
            "password" => p.password = Some(Secret::new(value.into_owned())),
            "dbname" => p.database = Some(value.into_owned()),
            "connect_timeout" => {
                p.connect_timeout = Some(parse_timeout(&value, "connect_timeout")?);
            }
            "application_name" => {}
            "sslmode" => match value.as_ref() {
                "disable" | "allow" | "prefer" => {}
                other => {
                    return Err(invalid(format!(
                        "`sslmode={other}` asks for TLS, and connections are made without it; use `sslmode=disable` or `prefer`"
                    )));
                }
            },
            other => {
                return Err(invalid(format!(
                    "the URL parameter `{other}` is not supported (supported: host, port, user, password, dbname, sslmode, connect_timeout, application_name)"
                )));
            }
        }
    }
    if p.host.as_deref().is_some_and(|h| h.contains(',')) {
        return Err(invalid("several hosts are not supported; give one"));
    }
    Ok(p)
}

const NO_HOST: &str = "no-host.invalid";

/// The URL with [`NO_HOST`] where its authority has no host, and whether it was put there.
fn with_placeholder_host(text: &str) -> (String, bool) {
    let Some(start) = text.find("://").map(|i| i + 3) else {
        return (text.to_string(), false);
    };
    let rest = text.get(start..).unwrap_or_default();
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = rest.get(..end).unwrap_or_default();
    let host_at = authority.rfind('@').map_or(0, |i| i + 1);
    let host = authority.get(host_at..).unwrap_or_default();
    if !host.is_empty() && !host.starts_with(':') {
        return (text.to_string(), false);
    }
    let split = start + host_at;
    let (head, tail) = (
        text.get(..split).unwrap_or_default(),
        text.get(split..).unwrap_or_default(),
    );
    (format!("{head}{NO_HOST}{tail}"), true)
}

impl PgTarget {
    /// Parses a `postgresql://user:password@host:port/database` URL (also `postgres://`;
    /// `%XX` escapes in every part; query parameters `host`, `port`, `user`, `password`,
    /// `dbname`, `sslmode`, `connect_timeout`). What the URL leaves out takes libpq's
    /// defaults: host `localhost`, port 5432, user `postgres`, database the user's name.
    pub fn parse(url: &str) -> Result<Self> {
        Ok(parse_url(url)?.complete(None))
    }

    /// The target the environment describes, as `psql` would see it: `DATABASE_URL` when
    /// set, with the parts it leaves out taken from `PGHOST`, `PGPORT`, `PGUSER`,
    /// `PGPASSWORD`, `PGDATABASE` and `PGCONNECT_TIMEOUT`, then libpq's defaults.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`PgTarget::from_env`], with the variables read through `lookup` (so a caller can
    /// supply them from a file, and tests need not change the process environment).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let get = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let from_url = match get("DATABASE_URL") {
            Some(url) => parse_url(&url).map_err(|e| match e {
                Error::InvalidTarget { reason } => invalid(format!("DATABASE_URL: {reason}")),
                other => other,
            })?,
            None => Partial::default(),
        };
        let from_vars = Partial {
            host: get("PGHOST"),
            port: get("PGPORT")
                .map(|p| parse_port(&p, "PGPORT"))
                .transpose()?,
            user: get("PGUSER"),
            password: get("PGPASSWORD").map(Secret::new),
            database: get("PGDATABASE"),
            connect_timeout: get("PGCONNECT_TIMEOUT")
                .map(|t| parse_timeout(&t, "PGCONNECT_TIMEOUT"))
                .transpose()?,
        };
        Ok(from_url.or(from_vars).complete(get("USER")))
    }

    /// The same server, user and password, another database.
    pub fn with_database(&self, database: impl Into<String>) -> Self {
        Self {
            database: database.into(),
            ..self.clone()
        }
    }

    /// The same target with a password.
    pub fn with_password(&self, password: Secret) -> Self {
        Self {
            password: Some(password),
            ..self.clone()
        }
    }

    /// `user@host:port/database`: what errors call the target (never the password).
    pub fn label(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!("{}@{host}:{}/{}", self.user, self.port, self.database)
    }

    /// A target for work on `database` from the outside (create, drop): this target unless
    /// its database is that very one, which cannot be dropped while connected to it.
    fn admin_for(&self, database: &str) -> Self {
        if self.database != database {
            self.clone()
        } else if database != "postgres" {
            self.with_database("postgres")
        } else {
            self.with_database("template1")
        }
    }

    /// Connects with the `postgres` crate.
    pub(crate) fn connect(&self) -> Result<Session> {
        let mut config = postgres::Config::new();
        config
            .host(&self.host)
            .port(self.port)
            .user(&self.user)
            .dbname(&self.database)
            .application_name("continuum-backup")
            .connect_timeout(self.connect_timeout.unwrap_or(Duration::from_secs(30)));
        if let Some(pw) = &self.password {
            config.password(pw.expose());
        }
        let label = self.label();
        let client = config
            .connect(NoTls)
            .map_err(|e| pg_error(&label, "connect", &e))?;
        Ok(Session { client, label })
    }

    /// `SHOW server_version`.
    pub fn server_version(&self) -> Result<String> {
        self.connect()?.server_version()
    }

    /// Every database of the server, as `psql -l` lists them, by name.
    pub fn list_databases(&self) -> Result<Vec<DatabaseInfo>> {
        self.connect()?.list_databases()
    }

    /// True when the server has a database of this name.
    pub fn database_exists(&self, name: &str) -> Result<bool> {
        self.connect()?.database_exists(name)
    }

    /// Creates an empty database (from `template0`, so nothing local to `template1` gets in
    /// the way of a restore).
    pub fn create_database(&self, name: &str) -> Result<()> {
        self.admin_for(name).connect()?.create_database(name)
    }

    /// Drops a database if it exists, ending the sessions connected to it
    /// (`DROP DATABASE … WITH (FORCE)`).
    pub fn drop_database(&self, name: &str) -> Result<()> {
        self.admin_for(name).connect()?.drop_database(name)
    }

    /// True when `database` holds no user table, view, materialized view, sequence, foreign
    /// table or function outside the system schemas.
    pub fn is_empty(&self, database: &str) -> Result<bool> {
        self.with_database(database).connect()?.is_empty()
    }

    /// Exact rows per user table of `database` (`schema.table` → rows).
    pub fn row_counts(&self, database: &str) -> Result<BTreeMap<String, u64>> {
        let mut session = self.with_database(database).connect()?;
        let label = session.label.clone();
        count_rows(&mut session.client, &label)
    }

    /// A command running a PostgreSQL program (found with [`pg_program`]) against this
    /// server: `-h`, `-p` and `-U` given, the password (if any) only in `PGPASSWORD`. The
    /// database is for the caller to add, with [`PgTarget::dbname_arg`], since the programs
    /// take it differently (`-d`, `-l`, or last).
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(pg_program(program));
        cmd.arg("-h")
            .arg(&self.host)
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-U")
            .arg(&self.user);
        match &self.password {
            Some(pw) => cmd.env("PGPASSWORD", pw.expose()),
            // Without a password of ours, one inherited from our environment would log the
            // program in where the driver could not: both should see the same server.
            None => cmd.env_remove("PGPASSWORD"),
        };
        if let Some(t) = self.connect_timeout {
            cmd.env("PGCONNECT_TIMEOUT", t.as_secs().max(1).to_string());
        }
        cmd
    }

    /// The database as the programs' database argument: a quoted `dbname='…'` connection
    /// string, because the programs read a name holding `=` or starting `postgresql://` as a
    /// connection string of its own, which a hostile name could use to redirect them.
    pub fn dbname_arg(&self) -> String {
        conninfo_dbname(&self.database)
    }

    /// The secrets an error text must not show.
    pub(crate) fn secrets(&self) -> Vec<Secret> {
        self.password.iter().cloned().collect()
    }
}

impl fmt::Display for PgTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "postgresql://{}", self.label())
    }
}

/// `dbname='…'` with `\` and `'` escaped as libpq wants.
fn conninfo_dbname(name: &str) -> String {
    let escaped = name.replace('\\', "\\\\").replace('\'', "\\'");
    format!("dbname='{escaped}'")
}

/// An SQL identifier, double-quoted.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// An SQL string literal, as `E'…'`, which reads the same whatever
/// `standard_conforming_strings` says.
fn quote_literal(text: &str) -> String {
    format!("E'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
}

/// `<database>__<tag>_<8 random hex digits>`: a name beside `database`'s, the database's part
/// shortened (at a character boundary) so that the whole stays within the 63 bytes
/// PostgreSQL keeps of a name.
fn side_name(database: &str, tag: &str) -> String {
    let suffix = format!("__{tag}_{:08x}", rand::random::<u32>());
    let mut end = database
        .len()
        .min(MAX_NAME_BYTES.saturating_sub(suffix.len()));
    while !database.is_char_boundary(end) {
        end = end.saturating_sub(1);
    }
    format!("{}{suffix}", database.get(..end).unwrap_or_default())
}

/// A database a restore writes into under a name of its own (`<target>__restore_<hex>`),
/// which takes the target's place only through [`StagingDatabase::swap_into`], once the
/// restore is complete and verified. Until then the target is not touched.
///
/// Dropped without a swap (the restore or its check failed), it drops its database again,
/// best effort. A process killed outright leaves it behind, under its own name, never under
/// the target's; such a leftover holds nothing but a partial copy and may be dropped.
#[derive(Debug)]
pub(crate) struct StagingDatabase {
    /// Where the databases are created, renamed and dropped from: not the target.
    admin: PgTarget,
    /// The database the restore is for.
    target: String,
    /// The staging database.
    name: String,
    /// The staging database still exists under its own name, and is ours to drop.
    live: bool,
}

impl StagingDatabase {
    /// Creates the staging database for a restore into `target`, empty, from `template0`. For
    /// [`RestoreAction::Fill`] it takes the encoding and locale of the existing (empty) target,
    /// which a restore into that database used to keep.
    pub(crate) fn create(server: &PgTarget, target: &str, action: RestoreAction) -> Result<Self> {
        let admin = server.admin_for(target);
        let name = side_name(target, "restore");
        check_name(&name)?;
        let like = (action == RestoreAction::Fill).then_some(target);
        admin.connect()?.create_database_like(&name, like)?;
        Ok(Self {
            admin,
            target: target.to_string(),
            name,
            live: true,
        })
    }

    /// The staging database's name, to restore into and verify.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The database the restore is for.
    pub(crate) fn target(&self) -> &str {
        &self.target
    }

    /// Puts the restored database in the target's place, as `action` (decided for the target
    /// when the restore began) says:
    ///
    /// - [`RestoreAction::Create`]: renamed to the target's name; should a database of that
    ///   name have appeared meanwhile, the rename fails and the staging database is dropped.
    /// - [`RestoreAction::Fill`] and [`RestoreAction::Replace`]: in one transaction, the
    ///   target is renamed to `<target>__old_<hex>` and the staging database to the target's
    ///   name, then the old database is dropped. The target's other sessions are ended (as
    ///   `DROP DATABASE … WITH (FORCE)` did for a replace; for a fill the database was empty,
    ///   but its sessions end too). With `keep_owner`, the new database gets the old one's
    ///   owner in the same transaction. A fill is refused when the target has taken data
    ///   since, and either when a replication slot is bound to the target (it could not be
    ///   dropped).
    ///
    /// Any failure leaves the target as it was and drops the staging database. Returns a
    /// warning when everything is in place but the old database could not be dropped (it is
    /// kept, named in the warning).
    pub(crate) fn swap_into(
        mut self,
        action: RestoreAction,
        keep_owner: bool,
    ) -> Result<Option<String>> {
        let outcome = match action {
            RestoreAction::Create => self
                .admin
                .connect()?
                .rename_into_place(&self.name, &self.target, None, None)
                .map(|()| None),
            RestoreAction::Fill | RestoreAction::Replace => self.replace(action, keep_owner),
        };
        if outcome.is_ok() {
            self.live = false;
        }
        outcome
    }

    fn replace(&self, action: RestoreAction, keep_owner: bool) -> Result<Option<String>> {
        let target = self.target.as_str();
        let old = side_name(target, "old");
        check_name(&old)?;
        let mut session = self.admin.connect()?;
        let slots = session.replication_slots(target)?;
        if slots > 0 {
            return Err(Error::Postgres {
                target: session.label.clone(),
                action: format!("replace database `{target}`"),
                message: format!(
                    "{slots} replication slot(s) use it, so it cannot be dropped; drop them first"
                ),
            });
        }
        if action == RestoreAction::Fill && !self.admin.is_empty(target)? {
            return Err(Error::DatabaseNotEmpty {
                database: target.to_string(),
            });
        }
        let owner = if keep_owner {
            let theirs = session.database_owner(target)?;
            let ours = session.database_owner(&self.name)?;
            theirs.filter(|o| Some(o) != ours.as_ref())
        } else {
            None
        };
        session.rename_into_place(&self.name, target, Some(&old), owner.as_deref())?;
        // The restored database is in place: the old one can go.
        Ok(session.drop_database(&old).err().map(|e| {
            format!(
                "the database `{target}` replaced was kept as `{old}`, which could not be \
                 dropped (drop it once it is no longer needed): {e}"
            )
        }))
    }
}

impl Drop for StagingDatabase {
    fn drop(&mut self) {
        if self.live {
            // Best effort: the error to report is the one that stopped the restore.
            let _ = self.admin.drop_database(&self.name);
        }
    }
}

/// Where a PostgreSQL program is: `CONTINUUM_PG_BINDIR` when set, else the folder
/// `pg_config --bindir` names, else the newest `/usr/lib/postgresql/<version>/bin`, else the
/// bare name (found on `PATH`). The folder is looked for once per process.
pub fn pg_program(name: &str) -> PathBuf {
    static BINDIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    let bindir = BINDIR.get_or_init(find_bindir);
    match bindir {
        Some(dir) if dir.join(name).is_file() => dir.join(name),
        _ => PathBuf::from(name),
    }
}

fn find_bindir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CONTINUUM_PG_BINDIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| PathBuf::from(s.trim()))
        .filter(|d| d.join("pg_dump").is_file());
    if from_pg_config.is_some() {
        return from_pg_config;
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("pg_dump").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// A database as `psql -l` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DatabaseInfo {
    /// Its name.
    pub name: String,
    /// Its owner.
    pub owner: String,
    /// Its character encoding (`UTF8` …).
    pub encoding: String,
    /// Its size on disk in bytes; `None` when the user may not connect to it.
    pub size: Option<u64>,
    /// A template (`template0`, `template1` …).
    pub is_template: bool,
    /// Connections are allowed (false for `template0`).
    pub allows_connections: bool,
}

/// One connection, with the label its errors carry.
pub(crate) struct Session {
    client: Client,
    label: String,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("target", &self.label)
            .finish_non_exhaustive()
    }
}

/// The driver's message with its causes, which carry the server's own words
/// (`FATAL: database "x" does not exist`).
fn pg_error(label: &str, action: impl Into<String>, e: &postgres::Error) -> Error {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    Error::Postgres {
        target: label.to_string(),
        action: action.into(),
        message,
    }
}

fn column<'a, T: postgres::types::FromSql<'a>>(
    row: &'a postgres::Row,
    idx: usize,
    label: &str,
    action: &str,
) -> Result<T> {
    row.try_get(idx).map_err(|e| pg_error(label, action, &e))
}

impl Session {
    fn server_version(&mut self) -> Result<String> {
        let action = "read the server version";
        let row = self
            .client
            .query_one("SHOW server_version", &[])
            .map_err(|e| pg_error(&self.label, action, &e))?;
        column(&row, 0, &self.label, action)
    }

    fn server_version_num(&mut self) -> Result<u32> {
        let action = "read the server version";
        let row = self
            .client
            .query_one("SHOW server_version_num", &[])
            .map_err(|e| pg_error(&self.label, action, &e))?;
        let text: String = column(&row, 0, &self.label, action)?;
        Ok(text.trim().parse().unwrap_or(0))
    }

    fn list_databases(&mut self) -> Result<Vec<DatabaseInfo>> {
        let action = "list the databases";
        let rows = self
            .client
            .query(
                "SELECT d.datname::text, pg_catalog.pg_get_userbyid(d.datdba)::text, \
                        pg_catalog.pg_encoding_to_char(d.encoding)::text, \
                        CASE WHEN pg_catalog.has_database_privilege(d.oid, 'CONNECT') \
                             THEN pg_catalog.pg_database_size(d.oid) END, \
                        d.datistemplate, d.datallowconn \
                 FROM pg_catalog.pg_database d ORDER BY 1",
                &[],
            )
            .map_err(|e| pg_error(&self.label, action, &e))?;
        rows.iter()
            .map(|row| {
                let size: Option<i64> = column(row, 3, &self.label, action)?;
                Ok(DatabaseInfo {
                    name: column(row, 0, &self.label, action)?,
                    owner: column(row, 1, &self.label, action)?,
                    encoding: column(row, 2, &self.label, action)?,
                    size: size.and_then(|s| u64::try_from(s).ok()),
                    is_template: column(row, 4, &self.label, action)?,
                    allows_connections: column(row, 5, &self.label, action)?,
                })
            })
            .collect()
    }

    pub(crate) fn database_exists(&mut self, name: &str) -> Result<bool> {
        let action = "look for a database";
        let row = self
            .client
            .query_opt(
                "SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1",
                &[&name],
            )
            .map_err(|e| pg_error(&self.label, action, &e))?;
        Ok(row.is_some())
    }

    fn create_database(&mut self, name: &str) -> Result<()> {
        self.create_database_like(name, None)
    }

    /// Creates an empty database from `template0`; with `like`, in the encoding and locale
    /// (`LC_COLLATE`, `LC_CTYPE`) of that existing database where they differ from
    /// `template0`'s.
    fn create_database_like(&mut self, name: &str, like: Option<&str>) -> Result<()> {
        check_name(name)?;
        let mut sql = format!("CREATE DATABASE {} TEMPLATE template0", quote_ident(name));
        if let Some(like) = like {
            let action = format!("read the encoding and locale of database `{like}`");
            let row = self
                .client
                .query_opt(
                    "SELECT pg_catalog.pg_encoding_to_char(d.encoding)::text, \
                            d.datcollate::text, d.datctype::text \
                     FROM pg_catalog.pg_database d, pg_catalog.pg_database t \
                     WHERE d.datname = $1 AND t.datname = 'template0' \
                       AND (d.encoding, d.datcollate::text, d.datctype::text) \
                           IS DISTINCT FROM (t.encoding, t.datcollate::text, t.datctype::text)",
                    &[&like],
                )
                .map_err(|e| pg_error(&self.label, action.clone(), &e))?;
            if let Some(row) = row {
                let encoding: String = column(&row, 0, &self.label, &action)?;
                let collate: String = column(&row, 1, &self.label, &action)?;
                let ctype: String = column(&row, 2, &self.label, &action)?;
                sql.push_str(&format!(
                    " ENCODING {} LC_COLLATE {} LC_CTYPE {}",
                    quote_literal(&encoding),
                    quote_literal(&collate),
                    quote_literal(&ctype)
                ));
            }
        }
        // CREATE DATABASE cannot run in a transaction block: the simple protocol, one statement.
        self.client
            .batch_execute(&sql)
            .map_err(|e| pg_error(&self.label, format!("create database `{name}`"), &e))
    }

    /// The owner of a database, `None` when there is no such database.
    fn database_owner(&mut self, name: &str) -> Result<Option<String>> {
        let action = format!("read the owner of database `{name}`");
        let row = self
            .client
            .query_opt(
                "SELECT pg_catalog.pg_get_userbyid(datdba)::text FROM pg_catalog.pg_database \
                 WHERE datname = $1",
                &[&name],
            )
            .map_err(|e| pg_error(&self.label, action.clone(), &e))?;
        row.map(|r| column(&r, 0, &self.label, &action)).transpose()
    }

    /// The replication slots bound to a database: while one is, the database cannot be
    /// dropped.
    fn replication_slots(&mut self, name: &str) -> Result<i64> {
        let action = format!("look for replication slots of database `{name}`");
        let row = self
            .client
            .query_one(
                "SELECT count(*) FROM pg_catalog.pg_replication_slots WHERE database = $1",
                &[&name],
            )
            .map_err(|e| pg_error(&self.label, action.clone(), &e))?;
        column(&row, 0, &self.label, &action)
    }

    /// Ends every other session connected to one of these databases.
    fn terminate_sessions(&mut self, names: &[&str]) -> Result<()> {
        let names: Vec<String> = names.iter().map(|n| (*n).to_string()).collect();
        self.client
            .query(
                "SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity \
                 WHERE datname::text = ANY($1) AND pid <> pg_catalog.pg_backend_pid()",
                &[&names],
            )
            .map_err(|e| {
                pg_error(
                    &self.label,
                    format!("end the sessions of `{}`", names.join("`, `")),
                    &e,
                )
            })?;
        Ok(())
    }

    /// Renames `staging` to `target`; with `old`, renames `target` to `old` first; with
    /// `owner`, gives `staging` to that role first. The other sessions of the databases
    /// renamed are ended (a rename needs its database to itself), and the attempt is repeated
    /// while new ones get in the way.
    fn rename_into_place(
        &mut self,
        staging: &str,
        target: &str,
        old: Option<&str>,
        owner: Option<&str>,
    ) -> Result<()> {
        let action = format!("move the restored database `{staging}` into place as `{target}`");
        let mut busy: Vec<&str> = vec![staging];
        if old.is_some() {
            busy.push(target);
        }
        let mut attempt = 1;
        loop {
            self.terminate_sessions(&busy)?;
            match self.swap_names(staging, target, old, owner) {
                Ok(()) => return Ok(()),
                // `55006`: a session (or a prepared transaction) still uses a database.
                Err(e) if attempt < SWAP_ATTEMPTS && e.code() == Some(&SqlState::OBJECT_IN_USE) => {
                    attempt += 1;
                }
                Err(e) => return Err(pg_error(&self.label, action, &e)),
            }
        }
    }

    /// One transaction: PostgreSQL renames databases transactionally, so the owner and both
    /// renames take effect together or not at all. Should the second rename fail, the first is
    /// rolled back with it (the old database gets its name back), and a process killed
    /// half-way leaves nothing changed; the target's name is never missing in between.
    fn swap_names(
        &mut self,
        staging: &str,
        target: &str,
        old: Option<&str>,
        owner: Option<&str>,
    ) -> std::result::Result<(), postgres::Error> {
        let mut tx = self.client.transaction()?;
        if let Some(owner) = owner {
            tx.batch_execute(&format!(
                "ALTER DATABASE {} OWNER TO {}",
                quote_ident(staging),
                quote_ident(owner)
            ))?;
        }
        if let Some(old) = old {
            tx.batch_execute(&format!(
                "ALTER DATABASE {} RENAME TO {}",
                quote_ident(target),
                quote_ident(old)
            ))?;
        }
        tx.batch_execute(&format!(
            "ALTER DATABASE {} RENAME TO {}",
            quote_ident(staging),
            quote_ident(target)
        ))?;
        tx.commit()
    }

    fn drop_database(&mut self, name: &str) -> Result<()> {
        check_name(name)?;
        let action = format!("drop database `{name}`");
        let sql = if self.server_version_num()? >= 130_000 {
            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(name))
        } else {
            // Before 13 there is no FORCE: end the other sessions first.
            self.client
                .execute(
                    "SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity \
                     WHERE datname = $1 AND pid <> pg_catalog.pg_backend_pid()",
                    &[&name],
                )
                .map_err(|e| pg_error(&self.label, action.clone(), &e))?;
            format!("DROP DATABASE IF EXISTS {}", quote_ident(name))
        };
        self.client
            .batch_execute(&sql)
            .map_err(|e| pg_error(&self.label, action, &e))
    }

    fn is_empty(&mut self) -> Result<bool> {
        let action = "look for user objects";
        // Schemas named `pg_…` are the system's (users cannot create them).
        let row = self
            .client
            .query_one(
                "SELECT NOT EXISTS ( \
                   SELECT 1 FROM pg_catalog.pg_class c \
                   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') \
                     AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_' \
                 ) AND NOT EXISTS ( \
                   SELECT 1 FROM pg_catalog.pg_proc p \
                   JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace \
                   WHERE n.nspname <> 'information_schema' AND n.nspname !~ '^pg_' \
                 )",
                &[],
            )
            .map_err(|e| pg_error(&self.label, action, &e))?;
        column(&row, 0, &self.label, action)
    }

    /// Opens a read-only REPEATABLE READ transaction and exports its snapshot, so that
    /// `pg_dump --snapshot` sees exactly what this transaction sees while it stays open.
    /// Exact rows per user table as of an exported snapshot, counted in this session (so
    /// that counting runs beside `pg_dump`, which reads the same snapshot).
    pub(crate) fn count_rows_in(&mut self, snapshot_id: &str) -> Result<BTreeMap<String, u64>> {
        let label = self.label.clone();
        let action = "import the snapshot";
        // An exported snapshot id is hex digits and dashes; anything else is refused before
        // it reaches SQL.
        if snapshot_id.is_empty()
            || !snapshot_id
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == '-')
        {
            return Err(Error::Postgres {
                target: label,
                action: action.to_string(),
                message: format!("unexpected snapshot id `{snapshot_id}`"),
            });
        }
        let mut tx = self
            .client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(|e| pg_error(&label, action, &e))?;
        tx.batch_execute(&format!("SET TRANSACTION SNAPSHOT '{snapshot_id}'"))
            .map_err(|e| pg_error(&label, action, &e))?;
        let counts = count_rows(&mut tx, &label)?;
        tx.rollback()
            .map_err(|e| pg_error(&label, "end the counting transaction", &e))?;
        Ok(counts)
    }

    pub(crate) fn export_snapshot(&mut self) -> Result<Snapshot<'_>> {
        let label = self.label.clone();
        let action = "export a snapshot";
        let mut tx = self
            .client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(|e| pg_error(&label, action, &e))?;
        let row = tx
            .query_one("SELECT pg_catalog.pg_export_snapshot()", &[])
            .map_err(|e| pg_error(&label, action, &e))?;
        let id: String = column(&row, 0, &label, action)?;
        Ok(Snapshot { tx, id, label })
    }
}

/// An open transaction whose snapshot other sessions may import; it lives until
/// [`Snapshot::finish`] or drop.
pub(crate) struct Snapshot<'a> {
    tx: Transaction<'a>,
    id: String,
    label: String,
}

impl fmt::Debug for Snapshot<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("id", &self.id)
            .field("target", &self.label)
            .finish_non_exhaustive()
    }
}

impl Snapshot<'_> {
    /// The id to give `pg_dump --snapshot`.
    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    /// Exact rows per user table, as of the snapshot.
    pub(crate) fn count_rows(&mut self) -> Result<BTreeMap<String, u64>> {
        count_rows(&mut self.tx, &self.label)
    }

    /// Ends the transaction (it only read, so it is rolled back).
    pub(crate) fn finish(self) -> Result<()> {
        let label = self.label;
        self.tx
            .rollback()
            .map_err(|e| pg_error(&label, "end the snapshot transaction", &e))
    }
}

/// Exact rows of every ordinary table outside the system schemas, temporary tables and
/// extension members aside (an extension recreates its own tables), by `schema.table`.
fn count_rows<C: GenericClient>(client: &mut C, label: &str) -> Result<BTreeMap<String, u64>> {
    let action = "list the tables";
    let tables = client
        .query(
            "SELECT n.nspname::text, c.relname::text FROM pg_catalog.pg_class c \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind = 'r' AND c.relpersistence <> 't' \
               AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_' \
               AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d \
                               WHERE d.classid = 'pg_catalog.pg_class'::regclass \
                                 AND d.objid = c.oid AND d.deptype = 'e') \
             ORDER BY 1, 2",
            &[],
        )
        .map_err(|e| pg_error(label, action, &e))?;
    let mut counts = BTreeMap::new();
    for row in &tables {
        let schema: String = column(row, 0, label, action)?;
        let table: String = column(row, 1, label, action)?;
        let name = format!("{schema}.{table}");
        let action = format!("count the rows of `{name}`");
        let row = client
            .query_one(
                &format!(
                    "SELECT count(*) FROM {}.{}",
                    quote_ident(&schema),
                    quote_ident(&table)
                ),
                &[],
            )
            .map_err(|e| pg_error(label, action.clone(), &e))?;
        let rows: i64 = column(&row, 0, label, &action)?;
        counts.insert(name, u64::try_from(rows).unwrap_or_default());
    }
    Ok(counts)
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.contains('\0') {
        return Err(invalid("a database name must be non-empty and hold no NUL"));
    }
    Ok(())
}

/// The program's file name, for messages.
fn program_name(program: &OsStr) -> String {
    Path::new(program)
        .file_name()
        .unwrap_or(program)
        .to_string_lossy()
        .into_owned()
}

/// Reads a stream to its end keeping only its last [`STDERR_TAIL`] bytes.
fn spawn_tail(
    program: &str,
    mut stream: impl Read + Send + 'static,
) -> Result<JoinHandle<Vec<u8>>> {
    std::thread::Builder::new()
        .name(format!("{program} stderr"))
        .spawn(move || {
            let mut tail = Vec::new();
            let mut buf = [0u8; 8192];
            loop {
                match stream.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        tail.extend_from_slice(buf.get(..n).unwrap_or_default());
                        if tail.len() > STDERR_TAIL {
                            let excess = tail.len() - STDERR_TAIL;
                            tail.drain(..excess);
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            tail
        })
        .map_err(|source| Error::Spawn {
            program: format!("{program} (a thread to read its stderr)"),
            source,
        })
}

/// Collects a stderr thread's text, secrets replaced by `***`.
fn join_tail(handle: Option<JoinHandle<Vec<u8>>>, secrets: &[Secret]) -> String {
    // A thread that panicked took the text with it; the exit status still tells the story.
    let bytes = handle.and_then(|h| h.join().ok()).unwrap_or_default();
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    for s in secrets {
        if !s.expose().is_empty() {
            text = text.replace(s.expose(), "***");
        }
    }
    text
}

fn child_failed(program: &str, status: ExitStatus, stderr: String) -> Error {
    Error::ChildFailed {
        program: program.to_string(),
        status: status.to_string(),
        stderr,
    }
}

/// A program's standard output as a [`Read`], whose end counts only if the program succeeded.
///
/// Its stderr is read by a thread that keeps the last 64 KiB. When stdout ends, the reader
/// waits for the program; if its exit status is not success, the final `read` fails with an
/// [`io::Error`] wrapping [`Error::ChildFailed`] (program, status, stderr tail), so that a
/// consumer (a store's `put`) fails instead of keeping a truncated stream. Dropped before the
/// end, the reader kills the program.
#[derive(Debug)]
pub struct ChildReader {
    program: String,
    child: Child,
    stdout: Option<ChildStdout>,
    stderr: Option<JoinHandle<Vec<u8>>>,
    secrets: Vec<Secret>,
    finished: bool,
}

impl ChildReader {
    /// Starts `command` with stdin closed, stdout piped to this reader and stderr captured.
    pub fn spawn(mut command: Command) -> Result<Self> {
        let program = program_name(command.get_program());
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| Error::Spawn {
                program: program.clone(),
                source,
            })?;
        let stdout = child.stdout.take();
        let stderr = match child.stderr.take().map(|s| spawn_tail(&program, s)) {
            Some(Ok(handle)) => Some(handle),
            Some(Err(e)) => {
                // Best effort: the program must not outlive a reader that could not start.
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
            None => None,
        };
        Ok(Self {
            program,
            child,
            stdout,
            stderr,
            secrets: Vec::new(),
            finished: false,
        })
    }

    /// Replaces these secrets by `***` in the stderr an error carries.
    pub fn redacting(mut self, secrets: Vec<Secret>) -> Self {
        self.secrets = secrets;
        self
    }

    /// The program's name.
    pub fn program(&self) -> &str {
        &self.program
    }

    fn finish(&mut self) -> Result<()> {
        self.finished = true;
        self.stdout = None;
        let status = self.child.wait().map_err(|source| Error::Stream {
            action: format!("wait for `{}`", self.program),
            source,
        })?;
        let stderr = join_tail(self.stderr.take(), &self.secrets);
        if status.success() {
            Ok(())
        } else {
            Err(child_failed(&self.program, status, stderr))
        }
    }
}

impl Read for ChildReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(stdout) = self.stdout.as_mut() else {
            return Ok(0);
        };
        let n = stdout.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.finish().map_err(io::Error::other)?;
        }
        Ok(n)
    }
}

impl Drop for ChildReader {
    fn drop(&mut self) {
        if !self.finished {
            // Killing an already-ended program fails harmlessly; waiting reaps it.
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Recovers our error from an `io::Error` that carries one (through a reader chain), or
/// describes the I/O error with what was being done.
pub(crate) fn error_from_io(e: io::Error, action: &str) -> Error {
    if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
        let kind = e.kind();
        return match e.into_inner().map(|inner| inner.downcast::<Error>()) {
            Some(Ok(ours)) => *ours,
            _ => Error::Stream {
                action: action.to_string(),
                source: io::Error::from(kind),
            },
        };
    }
    match continuum_core::from_io(e) {
        Ok(core) => Error::Core(core),
        Err(e) => Error::Stream {
            action: action.to_string(),
            source: e,
        },
    }
}

/// Streams `source` into a program's stdin and waits for it; returns its stderr (secrets
/// redacted) when it succeeds.
///
/// The last chunk read is held back until the next read returns: a source that fails at its
/// end (a size or SHA-256 check) is noticed before the program has seen the whole input, and
/// the program is killed rather than allowed to finish on bad data.
pub(crate) fn feed_child(
    mut command: Command,
    source: &mut dyn Read,
    input: &str,
    secrets: &[Secret],
) -> Result<String> {
    let program = program_name(command.get_program());
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| Error::Spawn {
            program: program.clone(),
            source,
        })?;
    let stderr = match child.stderr.take().map(|s| spawn_tail(&program, s)) {
        Some(Ok(handle)) => Some(handle),
        Some(Err(e)) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(e);
        }
        None => None,
    };
    let mut stdin = child.stdin.take();
    let mut held = vec![0u8; PIPE_CHUNK];
    let mut held_len = 0;
    let mut next = vec![0u8; PIPE_CHUNK];
    let mut write_error = None;
    loop {
        let n = match source.read(&mut next) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                // The input is bad: the program must not complete on it.
                let _ = child.kill();
                let _ = child.wait();
                return Err(error_from_io(e, &format!("read `{input}` for `{program}`")));
            }
        };
        if held_len > 0
            && let Some(pipe) = stdin.as_mut()
            && let Err(e) = pipe.write_all(held.get(..held_len).unwrap_or_default())
        {
            write_error = Some(e);
            break;
        }
        if n == 0 {
            break;
        }
        std::mem::swap(&mut held, &mut next);
        held_len = n;
    }
    // Closing stdin tells the program its input is complete.
    drop(stdin);
    let status = child.wait().map_err(|source| Error::Stream {
        action: format!("wait for `{program}`"),
        source,
    })?;
    let stderr = join_tail(stderr, secrets);
    if !status.success() {
        return Err(child_failed(&program, status, stderr));
    }
    if let Some(source) = write_error {
        return Err(Error::Stream {
            action: format!("write to `{program}`"),
            source,
        });
    }
    Ok(stderr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn parses_a_full_url() {
        let t = PgTarget::parse("postgresql://bob:p%40ss%3Aw0rd@db.example:6543/my%20db").unwrap();
        assert_eq!(t.host, "db.example");
        assert_eq!(t.port, 6543);
        assert_eq!(t.user, "bob");
        assert_eq!(t.password.as_ref().unwrap().expose(), "p@ss:w0rd");
        assert_eq!(t.database, "my db");
        assert_eq!(t.to_string(), "postgresql://bob@db.example:6543/my db");
        assert!(!format!("{t:?}").contains("p@ss"));
    }

    #[test]
    fn fills_gaps_with_defaults_and_query_parameters() {
        let t = PgTarget::parse("postgres://alice@/?host=/run/postgresql&sslmode=disable").unwrap();
        assert_eq!(t.host, "/run/postgresql");
        assert_eq!(t.port, 5432);
        assert_eq!(t.database, "alice");
        assert!(t.password.is_none());
        let t = PgTarget::parse("postgresql:///x").unwrap();
        assert_eq!(t.label(), "postgres@localhost:5432/x");
        let t = PgTarget::parse("postgresql://u:pw@:6000").unwrap();
        assert_eq!(t.label(), "u@localhost:6000/u");
        let t = PgTarget::parse("postgresql://[::1]:5433/x").unwrap();
        assert_eq!(t.host, "::1");
        assert_eq!(t.label(), "postgres@[::1]:5433/x");
    }

    #[test]
    fn refuses_what_it_cannot_honour_without_echoing_the_password() {
        for (url, expected) in [
            ("mysql://u:pw-secret@h/db", "postgresql://"),
            ("postgresql://u:pw-secret@h:99999/db", "not a valid URL"),
            (
                "postgresql://u:pw-secret@h/db?sslmode=require",
                "sslmode=require",
            ),
            (
                "postgresql://u:pw-secret@h/db?target_session_attrs=any",
                "target_session_attrs",
            ),
            ("postgresql://u:pw-secret%zz@h/db", "malformed `%` escape"),
        ] {
            let e = PgTarget::parse(url).unwrap_err().to_string();
            assert!(e.contains(expected), "{url}: {e}");
            assert!(!e.contains("pw-secret"), "{url}: {e}");
        }
    }

    #[test]
    fn reads_the_environment_like_libpq() {
        let t = PgTarget::from_lookup(env(&[
            ("PGHOST", "127.0.0.1"),
            ("PGPORT", "5499"),
            ("PGUSER", "carol"),
            ("PGPASSWORD", "from-env"),
            ("PGDATABASE", "app"),
        ]))
        .unwrap();
        assert_eq!(t.label(), "carol@127.0.0.1:5499/app");
        assert_eq!(t.password.as_ref().unwrap().expose(), "from-env");
        // DATABASE_URL wins where it speaks; the variables fill the rest.
        let t = PgTarget::from_lookup(env(&[
            ("DATABASE_URL", "postgresql://dave@dbhost/"),
            ("PGPORT", "5499"),
            ("PGUSER", "carol"),
            ("PGPASSWORD", "from-env"),
        ]))
        .unwrap();
        assert_eq!(t.label(), "dave@dbhost:5499/dave");
        assert_eq!(t.password.as_ref().unwrap().expose(), "from-env");
        let e = PgTarget::from_lookup(env(&[("PGPORT", "x")])).unwrap_err();
        assert!(e.to_string().contains("PGPORT `x`"), "{e}");
        let t = PgTarget::from_lookup(env(&[("USER", "erin")])).unwrap();
        assert_eq!(t.label(), "erin@localhost:5432/erin");
    }

    #[test]
    fn quotes_names_for_sql_and_for_programs() {
        assert_eq!(quote_ident(r#"we"ird"#), r#""we""ird""#);
        assert_eq!(conninfo_dbname(r"a'b\c"), r"dbname='a\'b\\c'");
        let t = PgTarget::parse("postgresql://u:pw@h/x=y host=evil").unwrap();
        assert_eq!(t.dbname_arg(), "dbname='x=y host=evil'");
    }

    #[test]
    fn side_names_fit_in_63_bytes_and_never_repeat() {
        let name = side_name("orders", "restore");
        let (head, hex) = name.split_once("__restore_").unwrap();
        assert_eq!(head, "orders");
        assert_eq!(hex.len(), 8);
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()), "{name}");
        assert_ne!(side_name("orders", "restore"), name);
        // A long name is cut, at a character boundary, to leave room for the suffix.
        let long = format!("{}é{}", "a".repeat(44), "b".repeat(40));
        let name = side_name(&long, "restore");
        assert_eq!(name.len(), 44 + "__restore_".len() + 8, "{name}");
        assert!(
            name.starts_with(&"a".repeat(44)) && !name.contains('é'),
            "{name}"
        );
        let name = side_name(&long, "old");
        assert_eq!(name.len(), MAX_NAME_BYTES, "{name}");
        assert!(name.starts_with(&format!("{}é", "a".repeat(44))), "{name}");
        assert!(check_name(&name).is_ok());
        let names: std::collections::BTreeSet<String> =
            (0..100).map(|_| side_name("x", "old")).collect();
        assert_eq!(names.len(), 100);
    }

    #[test]
    fn quotes_literals_whatever_the_server_does_with_backslashes() {
        assert_eq!(quote_literal("en_US.UTF-8"), "E'en_US.UTF-8'");
        assert_eq!(quote_literal(r"a'b\c"), r"E'a''b\\c'");
    }

    #[test]
    fn commands_carry_the_password_only_in_the_environment() {
        let t = PgTarget::parse("postgresql://u:pw-secret@h:5000/db").unwrap();
        let cmd = t.command("pg_dump");
        let args: Vec<String> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(args, ["-h", "h", "-p", "5000", "-U", "u"]);
        let envs: Vec<_> = cmd.get_envs().collect();
        assert!(envs.contains(&(OsStr::new("PGPASSWORD"), Some(OsStr::new("pw-secret")))));
        let no_pw = PgTarget::parse("postgresql://u@h/db")
            .unwrap()
            .command("psql");
        assert!(
            no_pw
                .get_envs()
                .any(|(k, v)| k == OsStr::new("PGPASSWORD") && v.is_none())
        );
    }

    #[test]
    fn stderr_tail_keeps_the_end_and_hides_secrets() {
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(
            "head -c 200000 /dev/zero | tr '\\0' x >&2; echo ' the pw-secret end' >&2; exit 3",
        );
        let mut r = ChildReader::spawn(cmd)
            .unwrap()
            .redacting(vec![Secret::new("pw-secret")]);
        let e = std::io::copy(&mut r, &mut std::io::sink()).unwrap_err();
        let e = error_from_io(e, "read");
        let Error::ChildFailed {
            program,
            status,
            stderr,
        } = &e
        else {
            panic!("{e}")
        };
        assert_eq!(program, "sh");
        assert!(status.contains('3'), "{status}");
        // The last 64 KiB, less the six bytes the redaction saved.
        assert_eq!(stderr.len(), STDERR_TAIL - "pw-secret".len() + "***".len());
        assert!(stderr.ends_with("the *** end\n"), "{stderr:?}");
    }

    #[test]
    fn feeding_stops_the_program_when_the_input_fails() {
        struct FailAtEnd(usize);
        impl Read for FailAtEnd {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::other("checksum mismatch"));
                }
                let n = buf.len().min(self.0);
                self.0 -= n;
                Ok(n)
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let mut cmd = Command::new("sh");
        // The program would only write its marker after reading its whole input.
        cmd.arg("-c")
            .arg(format!("cat >/dev/null && touch {}", out.display()));
        let e = feed_child(cmd, &mut FailAtEnd(3 << 20), "input", &[]).unwrap_err();
        assert!(e.to_string().contains("checksum mismatch"), "{e}");
        assert!(!out.exists());
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg("echo oops >&2; exit 4");
        let e = feed_child(cmd, &mut io::repeat(b'x').take(8 << 20), "input", &[]).unwrap_err();
        assert!(e.to_string().contains("oops"), "{e}");
    }
}
