//! Secrets never leak. Every command of `continuum-backup` (found from `--help`, so a new
//! command is noticed) runs in success and failure paths, with `--json` and without, given
//! distinctive S3 keys (`AWS_*` variables, cluster.conf's `database_backups` and
//! `package_manager` keys, keys embedded in store URLs) and database passwords (in DSNs, in
//! `PGPASSWORD`, in `DATABASE_URL`, malformed and wrong ones), against the live PostgreSQL
//! server and the live S3 server. Then every output channel is searched for them: stdout and
//! stderr (with `RUST_LOG=trace`), every file written into stores and output folders
//! (compressed files decompressed, tar members read one by one), every object of the S3
//! buckets, the manifests, the `--help` texts, and the `Debug` (and JSON) renderings of the
//! library types that hold secrets. A secret counts as found in plain text, percent-encoded,
//! base64-encoded at any alignment, hex-encoded, or as any 10 of its consecutive characters.
#![cfg(test)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::io::{Cursor, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Instant;

use continuum_core::{
    Identities, Reason, S3Options, S3Store, Secret, Store, StoreOptions, decompress,
    generate_identity, is_tar, open_store,
};
use continuum_orchestrator::{
    ClusterConf, ComponentBackupOptions, DbRestoreOptions, OrchestratorRestoreOptions, PgTarget,
    PlatformBackupOptions, PlatformRestoreOptions, PlatformSource, RestoreDestination,
    list_databases, parse_dconf, plan_database_restore, plan_orchestrator_restore,
    plan_platform_restore, redact_secrets,
};
use continuum_testkit::{
    create_bucket, pg_execute, pg_url, read_all, s3_endpoint, s3_options, unique,
};
use serde_json::Value;

// ---------------------------------------------------------------------------------------
// The secrets, and the forms they are looked for in.

/// The secrets of the run: what each is, and its value. No 10 consecutive characters of one
/// appear anywhere else in what the test gives the commands.
struct Secrets {
    list: Vec<(&'static str, String)>,
    /// `(secret index, form, needle)`.
    needles: Vec<(usize, String, String)>,
}

const ENV_ACCESS_KEY: &str = "AKIAENVQ7XLEAK93ZB2W";
const ENV_SECRET_KEY: &str = "Zq8/envLEAK+w4Tr9/pXs2Kd0Vb7Yc1Nm6Hj3Gf5";
const ENV_SESSION_TOKEN: &str = "FwoGZXIvYXdzLEAKtokenQ9x8R7w6Uv4Ts";
const CONF_DB_ACCESS_KEY: &str = "AKIACONFDB7QLEAK0K2M";
const CONF_DB_SECRET_KEY: &str = "conf/DB+LEAK/9xQ2w8ZrT4yUv6Ni1Mo3Pk7Jl";
const CONF_PKG_ACCESS_KEY: &str = "AKIACONFPKG4LEAK8J1N";
const CONF_PKG_SECRET_KEY: &str = "conf-PKG-LEAK-5tR8yW2qZ6xC9vB3nM";
const CONF_ADMIN_PASSWORD: &str = "mon-LEAK-Pa55-7Hq2Wz";
const CONF_CLIENT_SECRET: &str = "gcs-LEAK-8Kp3Rt6Yv";
const CONF_PRIVATE_KEY: &str = "MHcLEAKPRIVATEKEY4Qz9Wx2Rt";
const DSN_PASSWORD: &str = "pg-Pa55-w0rd-XYZ";
const ENV_PG_PASSWORD: &str = "pgenv-LEAK-Q7w3Rz9";
const DATABASE_URL_PASSWORD: &str = "dburl-LEAK-K4p8Mx2";
/// A password with a malformed `%` escape: refused while parsing.
const MALFORMED_PASSWORD: &str = "bad-LEAK-Pw%zz-9Tq";
/// A wrong password (the test server trusts every local connection, so it still logs in).
const WRONG_PASSWORD: &str = "wrong-LEAK-Pw-3Hn8";
const URL_ACCESS_KEY: &str = "AKIAURL5LEAK7KEY2Q9W";
const URL_SECRET_KEY: &str = "url/LEAK+secret/8Tz3Qw";

impl Secrets {
    fn new(age_secret: &str) -> Self {
        let list: Vec<(&'static str, String)> = [
            ("AWS_ACCESS_KEY_ID", ENV_ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", ENV_SECRET_KEY),
            ("AWS_SESSION_TOKEN", ENV_SESSION_TOKEN),
            (
                "cluster.conf database_backups.access_key",
                CONF_DB_ACCESS_KEY,
            ),
            (
                "cluster.conf database_backups.secret_key",
                CONF_DB_SECRET_KEY,
            ),
            (
                "cluster.conf package_manager access_key",
                CONF_PKG_ACCESS_KEY,
            ),
            (
                "cluster.conf package_manager secret_key",
                CONF_PKG_SECRET_KEY,
            ),
            (
                "cluster.conf monitoring.admin_password",
                CONF_ADMIN_PASSWORD,
            ),
            ("cluster.conf google client_secret", CONF_CLIENT_SECRET),
            ("cluster.conf ssl private_key", CONF_PRIVATE_KEY),
            ("DSN password", DSN_PASSWORD),
            ("PGPASSWORD", ENV_PG_PASSWORD),
            ("DATABASE_URL password", DATABASE_URL_PASSWORD),
            ("malformed DSN password", MALFORMED_PASSWORD),
            ("wrong DSN password", WRONG_PASSWORD),
            ("store URL access key", URL_ACCESS_KEY),
            ("store URL secret key", URL_SECRET_KEY),
        ]
        .into_iter()
        .map(|(what, value)| (what, value.to_string()))
        .chain([("age identity (AGE-SECRET-KEY-1…)", age_secret.to_string())])
        .collect();
        let mut needles = Vec::new();
        for (i, (_, value)) in list.iter().enumerate() {
            // An age key's `AGE-SECRET-KEY-1` prefix is the format's, not the secret.
            let public = if value.starts_with(AGE_PREFIX) {
                AGE_PREFIX.len()
            } else {
                0
            };
            for (form, needle) in forms(value, public) {
                needles.push((i, form, needle));
            }
        }
        Self { list, needles }
    }

    /// One more secret.
    fn add(&mut self, what: &'static str, value: &str) {
        let i = self.list.len();
        self.list.push((what, value.to_string()));
        for (form, needle) in forms(value, 0) {
            self.needles.push((i, form, needle));
        }
    }

    /// Every way `text` holds a secret, as `what (form): …context…`.
    fn find(&self, text: &str) -> Vec<String> {
        let mut found = Vec::new();
        let mut seen = BTreeSet::new();
        for (i, form, needle) in &self.needles {
            if seen.contains(i) {
                continue;
            }
            if let Some(at) = text.find(needle.as_str()) {
                seen.insert(*i);
                let start = floor_char(text, at.saturating_sub(60));
                let end = floor_char(text, (at + needle.len() + 60).min(text.len()));
                found.push(format!(
                    "{} ({form}): …{}…",
                    self.list[*i].0,
                    text[start..end].escape_debug()
                ));
            }
        }
        found
    }
}

fn floor_char(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

const AGE_PREFIX: &str = "AGE-SECRET-KEY-1";

/// The forms a secret is looked for in; the first `public` bytes are left out of the
/// 10-character pieces.
fn forms(secret: &str, public: usize) -> Vec<(String, String)> {
    let mut out = vec![("plain".to_string(), secret.to_string())];
    let chars: Vec<char> = secret[public..].chars().collect();
    if chars.len() > 10 {
        for w in chars.windows(10) {
            out.push(("10 characters of it".to_string(), w.iter().collect()));
        }
    }
    for upper in [true, false] {
        let encoded = percent_encode(secret, upper);
        if encoded != secret {
            out.push(("percent-encoded".to_string(), encoded));
        }
    }
    for url_safe in [false, true] {
        for core in base64_cores(secret.as_bytes(), url_safe) {
            out.push(("base64".to_string(), core));
        }
    }
    out.push(("hex".to_string(), hex(secret.as_bytes())));
    out
}

fn percent_encode(text: &str, upper: bool) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else if upper {
            let _ = write!(out, "%{b:02X}");
        } else {
            let _ = write!(out, "%{b:02x}");
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn base64(bytes: &[u8], url_safe: bool) -> String {
    let table: &[u8; 64] = if url_safe {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    } else {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    };
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(table[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// The part of the base64 encoding of `secret` that does not depend on its neighbours, for
/// each of the three alignments it can have inside a longer encoded text.
fn base64_cores(secret: &[u8], url_safe: bool) -> Vec<String> {
    let mut out = Vec::new();
    for k in 0..3 {
        let mut data = vec![0u8; k];
        data.extend_from_slice(secret);
        let encoded = base64(&data, url_safe);
        let start = if k == 0 { 0 } else { 4 };
        let end = data.len() / 3 * 4;
        if end >= start + 8 {
            out.push(encoded[start..end].to_string());
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// The findings.

/// What was searched, and what was found.
struct Report<'a> {
    secrets: &'a Secrets,
    channels: Mutex<BTreeMap<&'static str, usize>>,
    leaks: Mutex<Vec<String>>,
    /// Files holding the user's own cluster.conf by design (`conf snapshot` commits it,
    /// the orchestrator archive keeps it, its restore puts it back): each must be a verbatim
    /// copy of the input, and is not searched.
    payload: Vec<(String, Vec<u8>)>,
    payload_seen: Mutex<BTreeSet<String>>,
}

impl Report<'_> {
    fn check(&self, kind: &'static str, channel: &str, bytes: &[u8]) {
        *self.channels.lock().unwrap().entry(kind).or_default() += 1;
        let text = String::from_utf8_lossy(bytes);
        for leak in self.secrets.find(&text) {
            self.leaks
                .lock()
                .unwrap()
                .push(format!("[{kind}] {channel}: {leak}"));
        }
    }

    /// Whether `name` is a known copy of the user's cluster.conf (checked verbatim).
    fn is_payload(&self, name: &str, bytes: &[u8]) -> bool {
        for (suffix, content) in &self.payload {
            if name.ends_with(suffix.as_str()) {
                assert_eq!(
                    bytes,
                    content.as_slice(),
                    "{name} is not a verbatim copy of the input"
                );
                self.payload_seen.lock().unwrap().insert(suffix.clone());
                return true;
            }
        }
        false
    }

    /// A file's bytes; decompressed, and member by member when it is a tar.
    fn check_file(&self, kind: &'static str, name: &str, bytes: &[u8]) {
        if self.is_payload(name, bytes) {
            return;
        }
        self.check(kind, name, bytes);
        let Ok((compression, mut reader)) = decompress(Cursor::new(bytes.to_vec())) else {
            return;
        };
        let plain = if compression == continuum_core::Compression::None {
            bytes.to_vec()
        } else {
            let mut plain = Vec::new();
            if reader.read_to_end(&mut plain).is_err() {
                return;
            }
            plain
        };
        if plain.len() >= 512 && is_tar(&plain) {
            for (member, content) in tar_members(&plain) {
                self.check_file(kind, &format!("{name}!{member}"), &content);
            }
        } else if compression != continuum_core::Compression::None {
            self.check(kind, &format!("{name} (decompressed)"), &plain);
        }
    }

    /// Every file under `root`.
    fn check_tree(&self, kind: &'static str, root: &Path) {
        for path in walk(root) {
            let bytes = fs::read(&path).unwrap();
            self.check_file(kind, &path.display().to_string(), &bytes);
        }
    }

    /// Every object of a bucket, read through the S3 API.
    fn check_bucket(&self, endpoint: &str, bucket: &str) -> usize {
        let store = S3Store::open(bucket, "", &s3_options(endpoint)).unwrap();
        let objects = store.list("").unwrap();
        for meta in &objects {
            let bytes = read_all(&store, &meta.key);
            self.check_file("S3 objects", &format!("s3://{bucket}/{}", meta.key), &bytes);
        }
        objects.len()
    }
}

/// The members of an uncompressed tar (regular files only).
fn tar_members(tar: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 512 <= tar.len() {
        let header = &tar[at..at + 512];
        if header.iter().all(|&b| b == 0) {
            break;
        }
        let field = |r: std::ops::Range<usize>| {
            let raw = &header[r];
            let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
            String::from_utf8_lossy(&raw[..end]).trim().to_string()
        };
        let prefix = field(345..500);
        let name = field(0..100);
        let name = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let size = usize::from_str_radix(&field(124..136), 8).unwrap_or(0);
        let start = at + 512;
        let end = (start + size).min(tar.len());
        if matches!(header[156], b'0' | 0) {
            out.push((name, tar[start..end].to_vec()));
        }
        at = start + size.div_ceil(512) * 512;
    }
    out
}

/// Every regular file under `root`.
fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let entry = entry.unwrap();
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    out
}

// ---------------------------------------------------------------------------------------
// Running the commands.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Success,
    Failure,
    /// Either (a wrong password is accepted by a server that trusts local connections).
    Any,
}

#[derive(Debug, Clone)]
struct Spec {
    args: Vec<String>,
    env: Vec<(String, String)>,
    expect: Expect,
}

fn spec(expect: Expect, args: &[&str]) -> Spec {
    Spec {
        args: args.iter().map(ToString::to_string).collect(),
        env: Vec::new(),
        expect,
    }
}

fn ok(args: &[&str]) -> Spec {
    spec(Expect::Success, args)
}

fn fail(args: &[&str]) -> Spec {
    spec(Expect::Failure, args)
}

impl Spec {
    fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }
}

struct Ran {
    spec: Spec,
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl Ran {
    fn succeeded(&self) -> bool {
        self.code == Some(0)
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "{:?}: stdout is not JSON ({e}): {}",
                self.spec.args,
                String::from_utf8_lossy(&self.stdout)
            )
        })
    }
}

/// The environment every command runs in: the secrets where the tools look for them.
struct Runner {
    cwd: PathBuf,
    pg_host: String,
    pg_port: String,
}

impl Runner {
    fn run_one(&self, spec: &Spec) -> Ran {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_continuum-backup"));
        cmd.args(&spec.args)
            .current_dir(&self.cwd)
            .env("AWS_ACCESS_KEY_ID", ENV_ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", ENV_SECRET_KEY)
            .env("AWS_SESSION_TOKEN", ENV_SESSION_TOKEN)
            .env("PGPASSWORD", ENV_PG_PASSWORD)
            .env("PGHOST", &self.pg_host)
            .env("PGPORT", &self.pg_port)
            .env("PGDATABASE", "postgres")
            .env("RUST_LOG", "trace")
            .env("RUST_BACKTRACE", "1");
        for var in [
            "CONTINUUM_S3_ENDPOINT",
            "DATABASE_URL",
            "PGUSER",
            "AWS_PROFILE",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "AWS_ENDPOINT",
        ] {
            cmd.env_remove(var);
        }
        for (k, v) in &spec.env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        Ran {
            spec: spec.clone(),
            code: out.status.code(),
            stdout: out.stdout,
            stderr: out.stderr,
        }
    }

    /// Runs the commands, eight at a time, and returns their results in order.
    fn run(&self, specs: Vec<Spec>) -> Vec<Ran> {
        let queue = Mutex::new(specs.into_iter().enumerate().collect::<Vec<_>>());
        let done = Mutex::new(Vec::new());
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    loop {
                        let next = queue.lock().unwrap().pop();
                        let Some((i, spec)) = next else { break };
                        let ran = self.run_one(&spec);
                        done.lock().unwrap().push((i, ran));
                    }
                });
            }
        });
        let mut done = done.into_inner().unwrap();
        done.sort_by_key(|(i, _)| *i);
        done.into_iter().map(|(_, r)| r).collect()
    }
}

/// The names of the subcommands a `--help` text lists.
fn subcommands(help: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in help.lines() {
        if line.trim_end() == "Commands:" {
            inside = true;
        } else if inside {
            let Some(rest) = line.strip_prefix("  ") else {
                break;
            };
            if rest.starts_with(' ') {
                continue;
            }
            match rest.split_whitespace().next() {
                Some("help") | None => {}
                Some(name) => out.push(name.to_string()),
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// The platform under test.

const POLICY: &str = "on job::/sandbox {\n    { permit read }\n}\n";

fn cluster_conf(db_bucket: &str) -> String {
    format!(
        r#"# A cluster.conf whose every secret is distinctive.
provisioner {{ type: generic }}
machines: {{
  central: {{ hosts: ["10.0.0.11", "10.0.0.12"], suitable_tags: ["component-database", "redis-server"] }}
  orchestrator: {{ hosts: ["10.0.0.5"], suitable_tags: ["orchestrator"] }}
}}
components: {{ component-database: 2, redis-server: 1 }}
chef: {{
  "continuum": {{
    "cluster_name": "leak-test",
    "base_domain": "leak.example",
    "database_backups": {{
      "access_key": "{CONF_DB_ACCESS_KEY}",
      "secret_key": "{CONF_DB_SECRET_KEY}",
      "endpoint": "us-east-1",
      "bucket": "{db_bucket}"
    }},
    "package_manager": {{
      "package_store_type": "s3",
      "s3_store": {{
        "access_key": "{CONF_PKG_ACCESS_KEY}",
        "secret_key": '{CONF_PKG_SECRET_KEY}',
        "endpoint": "s3-us-east-1.amazonaws.com",
        "bucket": "leak-packages"
      }}
    }},
    "auth_server": {{
      "google": {{ "client_id": "0000-leak.apps.example", "client_secret": {CONF_CLIENT_SECRET} }}
    }}
    "ssl": {{
      "tlshosts": {{
        "*.leak.example": {{
          "private_key": (
-----BEGIN EC PRIVATE KEY-----
{CONF_PRIVATE_KEY}
-----END EC PRIVATE KEY-----
)
        }}
      }}
    }}
    "monitoring": {{ "admin_password": "{CONF_ADMIN_PASSWORD}" }}
  }}
}}
"#
    )
}

/// Drops what the test made on the shared server, also when it fails.
struct PgCleanup {
    url: String,
    databases: Vec<String>,
    role: String,
}

impl Drop for PgCleanup {
    fn drop(&mut self) {
        // psql, not the driver: a panic here, while a failed test unwinds, would abort.
        let mut statements: Vec<String> = self
            .databases
            .iter()
            .map(|db| format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"))
            .collect();
        statements.push(format!("DROP OWNED BY \"{}\"", self.role));
        statements.push(format!("DROP ROLE IF EXISTS \"{}\"", self.role));
        for sql in statements {
            let _ = Command::new(continuum_orchestrator::pg_program("psql"))
                .arg(&self.url)
                .args(["-q", "-c", &sql])
                .output();
        }
    }
}

/// A local port nothing listens on.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn with<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<&'a str> {
    [a, b].concat()
}

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

#[test]
fn no_command_leaks_a_secret_on_any_channel() {
    let started = Instant::now();
    let (age_secret, age_public) = generate_identity();
    let secrets = Secrets::new(&age_secret);

    // --- the services
    let url = pg_url();
    let base = PgTarget::parse(&url).unwrap();
    let endpoint = s3_endpoint();
    let env_bucket = unique("leak-env");
    let conf_bucket = unique("leak-conf");
    create_bucket(&endpoint, &env_bucket);
    create_bucket(&endpoint, &conf_bucket);
    let dead = format!("http://127.0.0.1:{}", closed_port());
    let dead_pg = closed_port();

    let role = unique("leak_role").replace('-', "_");
    let cdb = unique("leak_cdb").replace('-', "_");
    let cleanup = PgCleanup {
        url: url.clone(),
        databases: vec![
            cdb.clone(),
            format!("{cdb}_r"),
            format!("{cdb}_as"),
            "orchestrator_leak_r".to_string(),
            "orchestrator".to_string(),
        ],
        role: role.clone(),
    };
    for sql in [
        format!("CREATE ROLE \"{role}\" LOGIN SUPERUSER PASSWORD '{DSN_PASSWORD}'"),
        "DROP DATABASE IF EXISTS orchestrator WITH (FORCE)".to_string(),
        "CREATE DATABASE orchestrator".to_string(),
        format!("CREATE DATABASE \"{cdb}\""),
    ] {
        pg_execute(&url, "postgres", &sql);
    }
    for db in [cdb.as_str(), "orchestrator"] {
        pg_execute(
            &url,
            db,
            "CREATE TABLE t (id int PRIMARY KEY, v text); \
             INSERT INTO t SELECT i, md5(i::text) FROM generate_series(1, 50) i;",
        );
    }
    let (host, port) = (base.host.clone(), base.port);
    let dsn = format!("postgresql://{role}:{DSN_PASSWORD}@{host}:{port}/postgres");
    let dsn_dead = format!("postgresql://{role}:{DSN_PASSWORD}@127.0.0.1:{dead_pg}/postgres");
    let dsn_malformed = format!("postgresql://{role}:{MALFORMED_PASSWORD}@{host}:{port}/postgres");
    let dsn_wrong = format!("postgresql://{role}:{WRONG_PASSWORD}@{host}:{port}/postgres");
    let dsn_param =
        format!("postgresql://{host}:{port}/postgres?user={role}&password={DSN_PASSWORD}");
    let dsn_unsupported = format!("{dsn}?colour=red");
    let database_url =
        format!("postgresql://{role}:{DATABASE_URL_PASSWORD}@{host}:{port}/postgres");
    let database_url_dead =
        format!("postgresql://{role}:{DATABASE_URL_PASSWORD}@127.0.0.1:{dead_pg}/postgres");

    // --- the cluster
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let src = t.join("cluster");
    fs::create_dir_all(src.join("policy")).unwrap();
    let conf_text = cluster_conf(&conf_bucket);
    let conf = src.join("cluster.conf");
    fs::write(&conf, &conf_text).unwrap();
    fs::write(src.join("main.tf"), "variable \"region\" {}\n").unwrap();
    fs::write(src.join("policy/root.pol"), POLICY).unwrap();
    // The inputs of the failure paths.
    let inputs = t.join("inputs");
    fs::create_dir_all(&inputs).unwrap();
    let broken = |name: &str, body: String| {
        let path = inputs.join(name);
        fs::write(&path, body).unwrap();
        s(&path)
    };
    let conf_unterminated = broken(
        "unterminated.conf",
        format!(
            "chef: {{ continuum: {{ database_backups: {{ access_key: {CONF_DB_ACCESS_KEY}, secret_key: \"{CONF_DB_SECRET_KEY}\n bucket: b }} }} }}\n"
        ),
    );
    let conf_stray = broken(
        "stray.conf",
        format!(
            "chef: {{ continuum: {{ database_backups: {{ access_key: \"{CONF_DB_ACCESS_KEY}\", secret_key: \"{CONF_DB_SECRET_KEY}\" ] }} }}\n"
        ),
    );
    let conf_escape = broken(
        "escape.conf",
        format!(
            "chef: {{ continuum: {{ database_backups: {{ access_key: \"{CONF_DB_ACCESS_KEY}\", secret_key: \"{CONF_DB_SECRET_KEY}\\q\" }} }} }}\n"
        ),
    );
    let conf_shape = broken(
        "shape.conf",
        format!(
            "chef: {{ continuum: {{ database_backups: {{ access_key: [\"{CONF_DB_ACCESS_KEY}\"], secret_key: {{ x: \"{CONF_DB_SECRET_KEY}\" }}, endpoint: r, bucket: b }} }} }}\n"
        ),
    );
    let bad_policy = broken("bad.pol", "on job::/sandbox { { permit read \n".to_string());
    let not_json = broken("job.json", "{ not json".to_string());
    let not_zip = broken("not.cntmp", "not a zip file".to_string());
    let a_file = broken("a-file", "x".to_string());
    let identity = broken("identity.txt", format!("{age_secret}\n"));
    let layer = t.join("inputs/layer.tar.gz");
    let layer_src = t.join("inputs/layer-src");
    fs::create_dir_all(&layer_src).unwrap();
    fs::write(layer_src.join("file.txt"), "hello\n").unwrap();
    assert!(
        Command::new("tar")
            .arg("czf")
            .arg(&layer)
            .arg("-C")
            .arg(&layer_src)
            .arg(".")
            .status()
            .unwrap()
            .success()
    );

    // --- the outputs
    let out = t.join("out");
    let cwd = out.join("cwd");
    fs::create_dir_all(&cwd).unwrap();
    let exists = out.join("exists.cntmp");
    fs::write(&exists, "taken").unwrap();
    let o = |name: &str| s(&out.join(name));
    let (folder, folder_db, folder_enc) = (o("store"), o("store-db"), o("store-enc"));
    let s3_platform = format!("s3://{env_bucket}/platform");
    let s3_db = format!("s3://{env_bucket}/db?endpoint={endpoint}&path_style=true");
    let s3_files = format!("s3://{env_bucket}/files");
    let s3_dead = format!("s3://{env_bucket}/dead");
    let s3_embedded = format!("s3://{URL_ACCESS_KEY}:{URL_SECRET_KEY}@{env_bucket}/p");
    let s3_embedded_key = format!("s3://{URL_ACCESS_KEY}@{env_bucket}/p");
    let conf_s = s(&conf);
    let src_s = s(&src);
    let s3e = ["--s3-endpoint", endpoint.as_str(), "--s3-path-style"];
    // Nothing answers there: no retry (each would wait 0.5 s to 8 s).
    let s3d = [
        "--s3-endpoint",
        dead.as_str(),
        "--s3-path-style",
        "--s3-retries",
        "0",
    ];
    let no_such_set = "20200101T000000Z-0badc0de";
    let cdb_arg = format!("component-database={cdb}");
    let orch_arg = "orchestrator=orchestrator";
    let runner = Runner {
        cwd: cwd.clone(),
        pg_host: host.clone(),
        pg_port: port.to_string(),
    };
    let mut all: Vec<Ran> = Vec::new();

    // --- the help texts, and from them every command
    // clap shows an option's environment value in the help: an endpoint URL holding
    // credentials must not be shown.
    let endpoint_env = format!("http://{URL_ACCESS_KEY}:{URL_SECRET_KEY}@127.0.0.1:1");
    let help = |args: &[&str]| ok(args).env("CONTINUUM_S3_ENDPOINT", &endpoint_env);
    let top = runner.run_one(&help(&["--help"]));
    let mut leaves: BTreeMap<String, bool> = BTreeMap::new();
    let mut help_specs = Vec::new();
    for command in subcommands(&String::from_utf8_lossy(&top.stdout)) {
        let text = runner.run_one(&help(&[&command, "--help"]));
        let children = subcommands(&String::from_utf8_lossy(&text.stdout));
        if children.is_empty() {
            let json = String::from_utf8_lossy(&text.stdout).contains("--json");
            leaves.insert(command.clone(), json);
        }
        for child in children {
            help_specs.push(help(&[&command, &child, "--help"]));
        }
        all.push(text);
    }
    all.push(top);
    for ran in runner.run(help_specs) {
        let json = String::from_utf8_lossy(&ran.stdout).contains("--json");
        leaves.insert(ran.spec.args[..2].join(" "), json);
        all.push(ran);
    }
    let groups: BTreeSet<String> = leaves
        .keys()
        .filter_map(|k| k.split_once(' ').map(|(g, _)| g.to_string()))
        .collect();
    assert!(leaves.len() >= 30, "{leaves:?}");

    // --- job data first: the rest exports and backs it up
    let first = runner.run(vec![ok(&[
        "package",
        "from-file",
        &s(&layer),
        "--name",
        "leak-pkg",
        "--cluster",
        &src_s,
    ])]);
    let listed = runner.run(vec![ok(&[
        "package",
        "list",
        "--cluster",
        &src_s,
        "--json",
    ])]);
    let uuid = listed[0].json()[0]["uuid"].as_str().unwrap().to_string();
    let job = serde_json::json!({
        "fqn": "job::/sandbox/leak::web",
        "name": "web",
        "packages": [{"uuid": uuid}],
        "processes": {"app": {"start_command": "./run"}},
    });
    let job_json = inputs.join("web.json");
    fs::write(&job_json, serde_json::to_vec(&job).unwrap()).unwrap();
    let created = runner.run(vec![ok(&[
        "job",
        "create",
        "--from-json",
        &s(&job_json),
        "--cluster",
        &src_s,
    ])]);
    all.extend(first.into_iter().chain(listed).chain(created));

    // --- phase 1: everything that needs nothing from another run
    let cntmp_all = o("all.cntmp");
    let pkg_cntmp = o("pkg.cntmp");
    let orch_out = o("orchestrator-archives");
    let snapshot_repo = o("snapshot-git");
    let snapshot_repo_json = o("snapshot-git-json");
    let local_dir = o("component-local");
    let phase1 = vec![
        // conf
        ok(&["conf", "show", &conf_s]),
        ok(&["conf", "show", &conf_s, "--json"]),
        fail(&["conf", "show", &conf_unterminated]),
        fail(&["conf", "show", &conf_shape, "--json"]),
        ok(&["conf", "check", &conf_s]),
        fail(&["conf", "check", &conf_stray]),
        fail(&["conf", "check", &conf_escape]),
        fail(&["conf", "check", &conf_shape]),
        ok(&["conf", "placement", &conf_s, "--host", "10.0.0.11"]),
        ok(&[
            "conf",
            "placement",
            &conf_s,
            "--host",
            "10.0.0.12",
            "--json",
        ]),
        fail(&[
            "conf",
            "placement",
            &conf_unterminated,
            "--host",
            "10.0.0.11",
        ]),
        fail(&["conf", "placement", &conf_stray, "--host", "x", "--json"]),
        ok(&["conf", "snapshot", &src_s, "--repo", &snapshot_repo]),
        ok(&[
            "conf",
            "snapshot",
            &src_s,
            "--repo",
            &snapshot_repo_json,
            "--json",
        ]),
        fail(&["conf", "snapshot", &o("missing"), "--repo", &o("snap-x")]),
        fail(&[
            "conf",
            "snapshot",
            &o("missing"),
            "--repo",
            &o("snap-y"),
            "--json",
        ]),
        // plan
        ok(&["plan", "--config", &conf_s]),
        ok(&["plan", "--config", &conf_s, "--json", "--with-job-data"]),
        ok(&["plan", "--config", &conf_s, "--encrypt", "--json"]),
        ok(&[
            "plan",
            "--config",
            &conf_s,
            "--encrypt",
            "--graph",
            &o("plan.dot"),
        ]),
        ok(&["plan", "--config", &conf_s, "--host", "10.0.0.11", "--json"]),
        fail(&["plan", "--config", &conf_unterminated]),
        fail(&["plan", "--config", &conf_stray, "--json"]),
        // policy
        ok(&["policy", "check", &s(&src.join("policy/root.pol"))]),
        fail(&["policy", "check", &bad_policy]),
        ok(&["policy", "fmt", "--check", &s(&src.join("policy/root.pol"))]),
        fail(&["policy", "fmt", &bad_policy]),
        ok(&[
            "policy",
            "export",
            "--cluster",
            &src_s,
            "--dir",
            &o("policy-out"),
        ]),
        fail(&[
            "policy",
            "export",
            "nope",
            "--cluster",
            &src_s,
            "--dir",
            &o("p2"),
        ]),
        ok(&[
            "policy",
            "import",
            &s(&src.join("policy/*.pol")),
            "--cluster",
            &o("policy-import"),
            "--json",
        ]),
        ok(&[
            "policy",
            "import",
            &s(&src.join("policy/root.pol")),
            "--cluster",
            &o("policy-import-2"),
        ]),
        fail(&[
            "policy",
            "import",
            &bad_policy,
            "--cluster",
            &o("p3"),
            "--json",
        ]),
        fail(&["policy", "import", &bad_policy, "--cluster", &o("p4")]),
        // job data
        ok(&["package", "list", "--cluster", &src_s]),
        fail(&["package", "list", "--cluster", &a_file]),
        fail(&["package", "list", "--cluster", &a_file, "--json"]),
        ok(&[
            "package",
            "export",
            "leak-pkg",
            "--cluster",
            &src_s,
            "-o",
            &pkg_cntmp,
        ]),
        ok(&["package", "export", "*", "--cluster", &src_s]),
        fail(&["package", "export", "nope", "--cluster", &src_s]),
        fail(&[
            "package",
            "from-file",
            &o("missing.tar.gz"),
            "--name",
            "x",
            "--cluster",
            &src_s,
        ]),
        ok(&["job", "list", "--cluster", &src_s]),
        ok(&["job", "list", "--cluster", &src_s, "--json"]),
        fail(&["job", "list", "--cluster", &a_file]),
        fail(&["job", "list", "--cluster", &a_file, "--json"]),
        fail(&[
            "job",
            "create",
            "--from-json",
            &not_json,
            "--cluster",
            &src_s,
        ]),
        ok(&[
            "job",
            "export",
            "web",
            "--cluster",
            &src_s,
            "-o",
            &o("job.cntmp"),
        ]),
        fail(&[
            "job",
            "export",
            "nope",
            "--cluster",
            &src_s,
            "-o",
            &o("j2.cntmp"),
        ]),
        ok(&["export", "all", "--cluster", &src_s, "-o", &cntmp_all]),
        fail(&["export", "all", "--cluster", &src_s, "-o", &s(&exists)]),
        fail(&["cntmp", "inspect", &not_zip]),
        fail(&["cntmp", "inspect", &not_zip, "--json"]),
        fail(&["cntmp", "verify", &not_zip]),
        fail(&["import", &not_zip, "--cluster", &o("imp-x")]),
        fail(&["import", &not_zip, "--cluster", &o("imp-y"), "--json"]),
        fail(&["package", "import", &not_zip, "--cluster", &o("imp-z")]),
        fail(&[
            "package",
            "import",
            &not_zip,
            "--cluster",
            &o("imp-w"),
            "--json",
        ]),
        // db list: the password in the DSN, in a parameter, in PGPASSWORD, in DATABASE_URL
        ok(&["db", "list", "--dsn", &dsn]),
        ok(&["db", "list", "--dsn", &dsn_param, "--json"]),
        ok(&["db", "list", "--json"]).env("PGUSER", &role),
        ok(&["db", "list"]).env("DATABASE_URL", &database_url),
        spec(Expect::Any, &["db", "list", "--dsn", &dsn_wrong, "--json"]),
        fail(&["db", "list", "--dsn", &dsn_dead]),
        fail(&["db", "list", "--dsn", &dsn_dead, "--json"]),
        fail(&["db", "list", "--dsn", &dsn_malformed]),
        fail(&["db", "list", "--dsn", &dsn_unsupported, "--json"]),
        fail(&["db", "list"]).env("DATABASE_URL", &database_url_dead),
        fail(&["db", "list", "--json"])
            .env("PGUSER", &role)
            .env("PGPORT", &dead_pg.to_string()),
        // sets: folder and S3 stores, the S3 server unreachable, keys in the URL
        ok(&[
            "sets",
            "create",
            &folder,
            &s(&src.join("main.tf")),
            "--json",
        ]),
        ok(&with(
            &["sets", "create", &s3_files, &s(&src.join("main.tf"))],
            &s3e,
        )),
        ok(&[
            "sets",
            "create",
            &format!("file://{}", o("store-files")),
            &s(&src.join("main.tf")),
        ]),
        fail(&with(
            &[
                "sets",
                "create",
                &s3_dead,
                &s(&src.join("main.tf")),
                "--json",
            ],
            &s3d,
        )),
        fail(&["sets", "create", &s3_embedded, &s(&src.join("main.tf"))]),
        fail(&[
            "sets",
            "create",
            &s3_embedded_key,
            &s(&src.join("main.tf")),
            "--json",
        ]),
        fail(&with(&["sets", "list", &s3_dead], &s3d)),
        fail(&with(&["sets", "list", &s3_dead, "--json"], &s3d)),
        fail(&["sets", "list", &s3_embedded, "--json"]),
        fail(&with(&["sets", "verify", &s3_dead], &s3d)),
        fail(&["sets", "verify", &s3_embedded, "--json"]),
        fail(&with(
            &["sets", "prune", &s3_dead, "--keep-last", "1"],
            &s3d,
        )),
        fail(&["sets", "prune", &s3_embedded, "--keep-last", "1", "--json"]),
        // db backup and component-backup
        ok(&[
            "db",
            "backup",
            "--dsn",
            &dsn,
            "--database",
            &cdb,
            "--to",
            &folder_db,
            "--json",
        ]),
        ok(&with(
            &[
                "db",
                "backup",
                "--dsn",
                &dsn,
                "--database",
                &cdb,
                "--to",
                &s3_db,
            ],
            &[],
        )),
        spec(
            Expect::Any,
            &[
                "db",
                "backup",
                "--dsn",
                &dsn_wrong,
                "--database",
                &cdb,
                "--to",
                &o("store-db-wrong"),
                "--no-globals",
            ],
        ),
        fail(&[
            "db",
            "backup",
            "--dsn",
            &dsn_dead,
            "--database",
            &cdb,
            "--to",
            &o("store-db-dead"),
        ]),
        fail(&[
            "db",
            "backup",
            "--dsn",
            &dsn,
            "--database",
            "no_such_database_leak",
            "--to",
            &o("store-db-none"),
            "--json",
        ]),
        fail(&[
            "db",
            "backup",
            "--dsn",
            &dsn_malformed,
            "--database",
            &cdb,
            "--to",
            &o("store-db-x"),
        ]),
        fail(&with(
            &[
                "db",
                "backup",
                "--dsn",
                &dsn,
                "--database",
                &cdb,
                "--to",
                &s3_dead,
                "--json",
            ],
            &s3d,
        )),
        fail(&[
            "db",
            "backup",
            "--dsn",
            &dsn,
            "--database",
            &cdb,
            "--to",
            &s3_embedded,
        ]),
        ok(&with(
            &[
                "db",
                "component-backup",
                "--config",
                &conf_s,
                "--host",
                "10.0.0.11",
                "--dsn",
                &dsn,
                "--databases",
                &cdb_arg,
                "--local-dir",
                &local_dir,
                "--json",
            ],
            &s3e,
        )),
        ok(&with(
            &[
                "db",
                "component-backup",
                "--config",
                &conf_s,
                "--host",
                "10.0.0.12",
                "--databases",
                &cdb_arg,
                "--local-dir",
                &o("component-local-2"),
                "--reason",
                "manual",
            ],
            &s3e,
        ))
        .env("PGUSER", &role)
        .env("PGPASSWORD", DSN_PASSWORD),
        fail(&with(
            &[
                "db",
                "component-backup",
                "--config",
                &conf_s,
                "--host",
                "10.0.0.11",
                "--dsn",
                &dsn,
                "--databases",
                &cdb_arg,
                "--local-dir",
                &o("component-local-dead"),
            ],
            &s3d,
        )),
        fail(&with(
            &[
                "db",
                "component-backup",
                "--config",
                &conf_s,
                "--host",
                "10.0.0.11",
                "--dsn",
                &dsn_dead,
                "--databases",
                &cdb_arg,
                "--local-dir",
                &o("component-local-dead-2"),
                "--json",
            ],
            &s3e,
        )),
        // orchestrator
        ok(&[
            "orchestrator",
            "backup",
            "--config",
            &conf_s,
            "--dsn",
            &dsn,
            "--release",
            "2.6.1",
            "--config-file",
            &s(&src.join("main.tf")),
            "--out",
            &orch_out,
            "--json",
        ]),
        fail(&[
            "orchestrator",
            "backup",
            "--config",
            &conf_s,
            "--dsn",
            &dsn_dead,
            "--release",
            "2.6.1",
            "--out",
            &o("orch-dead"),
        ]),
        fail(&[
            "orchestrator",
            "backup",
            "--config",
            &conf_unterminated,
            "--dsn",
            &dsn_malformed,
            "--release",
            "2.6.1",
            "--out",
            &o("orch-bad"),
            "--json",
        ]),
        fail(&["orchestrator", "verify", "--file", &not_zip]),
        fail(&["orchestrator", "verify", "--file", &not_zip, "--json"]),
        // backup: clear to a folder and to S3, encrypted, and failing
        ok(&[
            "backup",
            "--config",
            &conf_s,
            "--cluster",
            &src_s,
            "--dsn",
            &dsn,
            "--to",
            &folder,
            "--database",
            &cdb_arg,
            "--database",
            orch_arg,
            "--with-job-data",
            "--reason",
            "daily",
            "--json",
        ]),
        ok(&with(
            &[
                "backup",
                "--config",
                &conf_s,
                "--cluster",
                &src_s,
                "--dsn",
                &dsn_param,
                "--to",
                &s3_platform,
                "--database",
                &cdb_arg,
                "--database",
                orch_arg,
            ],
            &s3e,
        )),
        ok(&[
            "backup",
            "--config",
            &conf_s,
            "--cluster",
            &src_s,
            "--to",
            &folder_enc,
            "--database",
            &cdb_arg,
            "--database",
            orch_arg,
            "--with-job-data",
            "--encrypt-to",
            &age_public,
            "--json",
        ])
        .env("PGUSER", &role)
        .env("PGPASSWORD", DSN_PASSWORD),
        fail(&[
            "backup",
            "--config",
            &conf_s,
            "--cluster",
            &src_s,
            "--dsn",
            &dsn_dead,
            "--to",
            &o("store-dead"),
            "--database",
            &cdb_arg,
            "--database",
            orch_arg,
        ]),
        fail(&[
            "backup",
            "--config",
            &conf_s,
            "--cluster",
            &src_s,
            "--dsn",
            &dsn_dead,
            "--to",
            &o("store-dead-2"),
            "--json",
        ]),
        fail(&with(
            &[
                "backup",
                "--config",
                &conf_s,
                "--cluster",
                &src_s,
                "--dsn",
                &dsn,
                "--to",
                &s3_dead,
                "--database",
                &cdb_arg,
                "--database",
                orch_arg,
                "--json",
            ],
            &s3d,
        )),
        fail(&[
            "backup",
            "--config",
            &conf_s,
            "--cluster",
            &src_s,
            "--dsn",
            &dsn,
            "--to",
            &s3_embedded,
        ]),
        fail(&[
            "backup",
            "--config",
            &conf_s,
            "--cluster",
            &src_s,
            "--dsn",
            &dsn_malformed,
            "--to",
            &o("store-bad"),
            "--json",
        ]),
        fail(&[
            "backup",
            "--config",
            &conf_s,
            "--cluster",
            &src_s,
            "--to",
            &o("store-bad-2"),
        ])
        .env("DATABASE_URL", &database_url_dead),
        // restore failures that need no set
        fail(&[
            "restore",
            "--from",
            &s3_embedded,
            "--set",
            no_such_set,
            "--cluster",
            &o("restore-x"),
            "--dsn",
            &dsn,
        ]),
        fail(&with(
            &[
                "restore",
                "--from",
                &s3_dead,
                "--set",
                no_such_set,
                "--cluster",
                &o("restore-y"),
                "--dsn",
                &dsn,
                "--json",
            ],
            &s3d,
        )),
        fail(&[
            "db",
            "restore",
            "--from",
            &s3_embedded,
            "--set",
            no_such_set,
            "--database",
            &cdb,
            "--dsn",
            &dsn,
            "--json",
        ]),
        fail(&with(
            &[
                "db",
                "restore",
                "--from",
                &s3_dead,
                "--set",
                no_such_set,
                "--database",
                &cdb,
                "--dsn",
                &dsn,
            ],
            &s3d,
        )),
    ];
    let ran1 = runner.run(phase1);
    let set_of = |ran: &[Ran], prefix: &[&str], to: &str| -> String {
        let r = ran
            .iter()
            .find(|r| {
                r.succeeded()
                    && r.spec
                        .args
                        .starts_with(&prefix.iter().map(ToString::to_string).collect::<Vec<_>>())
                    && r.spec.args.iter().any(|a| a == to)
            })
            .unwrap_or_else(|| panic!("no successful {prefix:?} to {to}"));
        let text = String::from_utf8_lossy(&r.stdout).into_owned();
        match serde_json::from_str::<Value>(&text) {
            Ok(v) => v["set_id"].as_str().unwrap().to_string(),
            Err(_) => text
                .split_whitespace()
                .find(|w| w.len() > 20 && w.contains('Z') && w.contains('-'))
                .unwrap()
                .to_string(),
        }
    };
    // Check expectations now: the later phases need the sets.
    check_expectations(&ran1);
    let platform_set = set_of(&ran1, &["backup"], &folder);
    let platform_s3_set = set_of(&ran1, &["backup"], &s3_platform);
    let enc_set = set_of(&ran1, &["backup"], &folder_enc);
    let db_set = set_of(&ran1, &["db", "backup"], &folder_db);
    let db_s3_set = set_of(&ran1, &["db", "backup"], &s3_db);
    let archive = walk(Path::new(&orch_out))
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "tgz"))
        .unwrap();
    let archive_s = s(&archive);
    all.extend(ran1);

    // --- phase 2: what reads what phase 1 wrote
    let dest = o("restored");
    let dest_enc = o("restored-enc");
    let ren_cdb = format!("{cdb}={cdb}_r");
    let ren_orch = "orchestrator=orchestrator_leak_r";
    let orch_config = o("orchestrator-config");
    let phase2 = vec![
        ok(&["import", &cntmp_all, "--cluster", &o("imported"), "--json"]),
        ok(&[
            "import",
            &cntmp_all,
            "--cluster",
            &o("imported-2"),
            "--dry-run",
        ]),
        ok(&[
            "package",
            "import",
            &pkg_cntmp,
            "--cluster",
            &o("imported-3"),
        ]),
        ok(&[
            "package",
            "import",
            &pkg_cntmp,
            "--cluster",
            &o("imported-4"),
            "--json",
        ]),
        ok(&["cntmp", "inspect", &cntmp_all]),
        ok(&["cntmp", "inspect", &cntmp_all, "--json"]),
        ok(&["cntmp", "verify", &cntmp_all]),
        ok(&["sets", "list", &folder]),
        ok(&["sets", "list", &folder, "--json"]),
        ok(&with(&["sets", "list", &s3_platform], &s3e)),
        ok(&with(&["sets", "list", &s3_platform, "--json"], &s3e)),
        ok(&["sets", "list", &s3_db, "--json"]),
        ok(&["sets", "verify", &folder]),
        ok(&["sets", "verify", &folder_enc, "--json"]),
        ok(&with(&["sets", "verify", &s3_platform, "--json"], &s3e)),
        ok(&["sets", "verify", &s3_db, &db_s3_set]),
        fail(&["sets", "verify", &folder, no_such_set]),
        fail(&with(
            &["sets", "verify", &s3_platform, no_such_set, "--json"],
            &s3e,
        )),
        ok(&["sets", "prune", &folder_db, "--keep-last", "1", "--dry-run"]),
        ok(&with(
            &[
                "sets",
                "prune",
                &s3_platform,
                "--keep-last",
                "5",
                "--dry-run",
                "--json",
            ],
            &s3e,
        )),
        fail(&["sets", "prune", &folder, "--reason", "sometimes"]),
        // db restore
        ok(&[
            "db",
            "restore",
            "--from",
            &folder_db,
            "--set",
            &db_set,
            "--database",
            &cdb,
            "--as",
            &format!("{cdb}_as"),
            "--dsn",
            &dsn,
            "--dry-run",
            "--json",
        ]),
        ok(&[
            "db",
            "restore",
            "--from",
            &folder_db,
            "--set",
            &db_set,
            "--database",
            &cdb,
            "--as",
            &format!("{cdb}_as"),
            "--dsn",
            &dsn,
        ]),
        ok(&[
            "db",
            "restore",
            "--from",
            &s3_db,
            "--set",
            &db_s3_set,
            "--database",
            &cdb,
            "--as",
            &format!("{cdb}_as_s3"),
            "--dry-run",
        ])
        .env("PGUSER", &role),
        fail(&[
            "db",
            "restore",
            "--from",
            &folder_db,
            "--set",
            no_such_set,
            "--database",
            &cdb,
            "--dsn",
            &dsn,
        ]),
        fail(&[
            "db",
            "restore",
            "--from",
            &folder_db,
            "--set",
            &db_set,
            "--database",
            &cdb,
            "--dsn",
            &dsn_dead,
            "--json",
        ]),
        fail(&[
            "db",
            "restore",
            "--from",
            &folder_db,
            "--set",
            &db_set,
            "--database",
            &cdb,
            "--dsn",
            &dsn_malformed,
            "--dry-run",
        ]),
        // restore
        ok(&[
            "restore",
            "--from",
            &folder,
            "--set",
            &platform_set,
            "--cluster",
            &dest,
            "--dsn",
            &dsn,
            "--database",
            &ren_cdb,
            "--database",
            ren_orch,
            "--dry-run",
            "--json",
        ]),
        ok(&[
            "restore",
            "--from",
            &folder,
            "--set",
            &platform_set,
            "--cluster",
            &dest,
            "--dsn",
            &dsn,
            "--database",
            &ren_cdb,
            "--database",
            ren_orch,
        ]),
        ok(&with(
            &[
                "restore",
                "--from",
                &s3_platform,
                "--set",
                &platform_s3_set,
                "--cluster",
                &o("restored-s3"),
                "--dsn",
                &dsn,
                "--database",
                &ren_cdb,
                "--database",
                ren_orch,
                "--dry-run",
            ],
            &s3e,
        )),
        ok(&[
            "restore",
            "--from",
            &folder_enc,
            "--set",
            &enc_set,
            "--cluster",
            &dest_enc,
            "--identity",
            &identity,
            "--dsn",
            &dsn,
            "--database",
            &ren_cdb,
            "--database",
            ren_orch,
            "--dry-run",
            "--json",
        ]),
        ok(&[
            "restore",
            "--from",
            &folder_enc,
            "--set",
            &enc_set,
            "--cluster",
            &dest_enc,
            "--identity",
            &identity,
            "--only",
            "policy,job-data",
            "--json",
        ]),
        fail(&[
            "restore",
            "--from",
            &folder_enc,
            "--set",
            &enc_set,
            "--cluster",
            &o("restored-enc-no-key"),
            "--only",
            "policy",
        ]),
        fail(&[
            "restore",
            "--from",
            &folder,
            "--set",
            no_such_set,
            "--cluster",
            &o("restored-none"),
            "--dsn",
            &dsn,
            "--json",
        ]),
        fail(&[
            "restore",
            "--from",
            &folder,
            "--set",
            &platform_set,
            "--cluster",
            &o("restored-dead"),
            "--dsn",
            &dsn_dead,
        ]),
        fail(&[
            "restore",
            "--from",
            &folder,
            "--set",
            &platform_set,
            "--cluster",
            &o("restored-dead-2"),
            "--json",
        ])
        .env("DATABASE_URL", &database_url_dead),
        // orchestrator
        ok(&["orchestrator", "verify", "--file", &archive_s]),
        ok(&["orchestrator", "verify", "--file", &archive_s, "--json"]),
        ok(&[
            "orchestrator",
            "restore",
            "--file",
            &archive_s,
            "--dsn",
            &dsn,
            "--config-dir",
            &o("orchestrator-config-dry"),
            "--dry-run",
        ]),
        ok(&[
            "orchestrator",
            "restore",
            "--file",
            &archive_s,
            "--dsn",
            &dsn,
            "--config-dir",
            &o("orchestrator-config-dry-2"),
            "--dry-run",
            "--json",
        ]),
        fail(&[
            "orchestrator",
            "restore",
            "--file",
            &archive_s,
            "--dsn",
            &dsn_dead,
            "--config-dir",
            &o("orchestrator-config-dead"),
            "--json",
        ]),
        fail(&[
            "orchestrator",
            "restore",
            "--file",
            &archive_s,
            "--dsn",
            &dsn_malformed,
            "--config-dir",
            &o("orchestrator-config-bad"),
        ]),
    ];
    let ran2 = runner.run(phase2);
    check_expectations(&ran2);
    all.extend(ran2);

    // --- phase 3: what changes what phase 2 read
    let phase3 = vec![
        ok(&[
            "orchestrator",
            "restore",
            "--file",
            &archive_s,
            "--dsn",
            &dsn,
            "--config-dir",
            &orch_config,
            "--force",
        ]),
        ok(&["sets", "prune", &folder_db, "--keep-last", "1", "--json"]),
        ok(&["sets", "prune", &folder, "--keep-last", "5"]),
    ];
    let ran3 = runner.run(phase3);
    check_expectations(&ran3);
    all.extend(ran3);

    // --- every command, in success and failure, with --json and without
    let leaf_of = |args: &[String]| -> Option<String> {
        let first = args.first()?;
        if groups.contains(first) {
            Some(format!("{first} {}", args.get(1)?))
        } else {
            Some(first.clone())
        }
    };
    let mut coverage: BTreeMap<String, [bool; 4]> = BTreeMap::new();
    for ran in &all {
        if ran.spec.args.iter().any(|a| a == "--help") {
            continue;
        }
        let Some(leaf) = leaf_of(&ran.spec.args) else {
            continue;
        };
        let c = coverage.entry(leaf).or_default();
        let json = ran.spec.args.iter().any(|a| a == "--json");
        c[usize::from(ran.succeeded())] = true;
        c[2 + usize::from(json)] = true;
    }
    let mut gaps = Vec::new();
    for (leaf, has_json) in &leaves {
        let c = coverage.get(leaf).copied().unwrap_or_default();
        if !c[0] || !c[1] || !c[2] || (*has_json && !c[3]) {
            gaps.push(format!(
                "{leaf}: failure {} success {} plain {} json {}",
                c[0], c[1], c[2], c[3]
            ));
        }
    }
    assert!(
        gaps.is_empty(),
        "commands not covered:\n{}",
        gaps.join("\n")
    );

    // --- search every channel
    let report = Report {
        secrets: &secrets,
        channels: Mutex::new(BTreeMap::new()),
        leaks: Mutex::new(Vec::new()),
        payload: vec![
            (
                "!config/cluster.conf".to_string(),
                conf_text.clone().into_bytes(),
            ),
            (
                format!("{orch_config}/cluster.conf"),
                conf_text.clone().into_bytes(),
            ),
            (
                format!("{snapshot_repo}/cluster.conf"),
                conf_text.clone().into_bytes(),
            ),
            (
                format!("{snapshot_repo_json}/cluster.conf"),
                conf_text.clone().into_bytes(),
            ),
        ],
        payload_seen: Mutex::new(BTreeSet::new()),
    };
    for ran in &all {
        let label = ran.spec.args.join(" ");
        report.check("stdout", &label, &ran.stdout);
        report.check("stderr", &label, &ran.stderr);
    }
    let mut manifests = 0;
    for path in walk(&out) {
        if path.file_name().is_some_and(|n| n == "manifest.json") {
            manifests += 1;
            report.check("manifests", &s(&path), &fs::read(&path).unwrap());
        }
    }
    report.check_tree("files written", &out);
    let objects =
        report.check_bucket(&endpoint, &env_bucket) + report.check_bucket(&endpoint, &conf_bucket);
    assert!(manifests >= 8, "{manifests} manifests");
    assert!(objects >= 10, "{objects} S3 objects");
    // The component backup uploaded with cluster.conf's keys.
    let conf_objects = S3Store::open(&conf_bucket, "", &s3_options(&endpoint))
        .unwrap()
        .list("")
        .unwrap();
    assert!(
        conf_objects
            .iter()
            .any(|m| m.key.ends_with("manifest.json")),
        "{conf_objects:?}"
    );
    // The restore of the clear set wrote the redacted cluster.conf, the other one the real.
    let restored_conf = fs::read_to_string(Path::new(&dest).join("cluster.conf")).unwrap();
    assert!(restored_conf.contains("leak-test"), "{restored_conf}");

    for (what, text) in debug_renderings(DebugInputs {
        conf: &conf,
        dsn: &dsn,
        endpoint: &endpoint,
        dead: &dead,
        identity: Path::new(&identity),
        age_public: &age_public,
        folder_db: &folder_db,
        db_set: &db_set,
        cdb: &cdb,
        folder: &folder,
        platform_set: &platform_set,
        archive: &archive,
        scratch: &out.join("debug-scratch"),
    }) {
        report.check("Debug and JSON of library types", &what, text.as_bytes());
    }
    let payload_seen = report.payload_seen.lock().unwrap().clone();
    assert_eq!(payload_seen.len(), report.payload.len(), "{payload_seen:?}");

    let channels = report.channels.lock().unwrap().clone();
    let leaks = report.leaks.lock().unwrap().clone();
    eprintln!(
        "{} runs of {} commands in {:.1} s; searched {channels:?}",
        all.len(),
        leaves.len(),
        started.elapsed().as_secs_f64()
    );
    drop(cleanup);
    assert!(
        leaks.is_empty(),
        "{} secret(s) leaked:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
}

/// Panics with the command's output when it did not end as expected.
fn check_expectations(ran: &[Ran]) {
    let wrong = unexpected(ran);
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

/// The commands that did not end as expected, with their output.
fn unexpected(ran: &[Ran]) -> Vec<String> {
    let mut wrong = Vec::new();
    for r in ran {
        let good = match r.spec.expect {
            Expect::Success => r.code == Some(0),
            Expect::Failure => matches!(r.code, Some(c) if c != 0),
            Expect::Any => r.code.is_some(),
        };
        // A crash is never expected: it prints a panic, not an error.
        let panicked = String::from_utf8_lossy(&r.stderr).contains("panicked");
        if !good || panicked {
            wrong.push(format!(
                "{:?} expected {:?}, got {:?}\nstdout: {}\nstderr: {}",
                r.spec.args,
                r.spec.expect,
                r.code,
                String::from_utf8_lossy(&r.stdout),
                String::from_utf8_lossy(&r.stderr)
            ));
        }
    }
    wrong
}

struct DebugInputs<'a> {
    conf: &'a Path,
    dsn: &'a str,
    endpoint: &'a str,
    dead: &'a str,
    identity: &'a Path,
    age_public: &'a str,
    folder_db: &'a str,
    db_set: &'a str,
    cdb: &'a str,
    folder: &'a str,
    platform_set: &'a str,
    archive: &'a Path,
    scratch: &'a Path,
}

/// `Debug` (and, where the type serializes, JSON) of every library value that holds one of
/// the secrets, and of the errors made from them.
fn debug_renderings(i: DebugInputs<'_>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut add = |what: &str, text: String| out.push((what.to_string(), text));

    // PgTarget, from a URL and from the environment's variables
    let target = PgTarget::parse(i.dsn).unwrap();
    assert_eq!(
        target.password.as_ref().map(Secret::expose),
        Some(DSN_PASSWORD)
    );
    add("PgTarget {:?}", format!("{target:?}"));
    add("PgTarget {:#?}", format!("{target:#?}"));
    add("PgTarget Display", target.to_string());
    add("PgTarget label", target.label());
    let from_env = PgTarget::from_lookup(|name| match name {
        "PGPASSWORD" => Some(ENV_PG_PASSWORD.to_string()),
        "DATABASE_URL" => Some(format!(
            "postgresql://u:{DATABASE_URL_PASSWORD}@127.0.0.1:1/db"
        )),
        _ => None,
    })
    .unwrap();
    add("PgTarget from the environment", format!("{from_env:?}"));
    let with_env_pw =
        PgTarget::from_lookup(|name| (name == "PGPASSWORD").then(|| ENV_PG_PASSWORD.to_string()))
            .unwrap();
    assert_eq!(
        with_env_pw.password.as_ref().map(Secret::expose),
        Some(ENV_PG_PASSWORD)
    );
    add("PgTarget from PGPASSWORD", format!("{with_env_pw:#?}"));
    for bad in [
        format!("postgresql://u:{MALFORMED_PASSWORD}@h/db"),
        format!("postgresql://u:{DSN_PASSWORD}@h/db?colour=red"),
        format!("postgresql://u:{DSN_PASSWORD}@h:99999/db"),
        format!("postgres ql://u:{DSN_PASSWORD}@h/db"),
    ] {
        let e = PgTarget::parse(&bad).unwrap_err();
        add("PgTarget::parse error", format!("{e} / {e:?}"));
    }
    let mut dead_target = target.with_database("postgres");
    dead_target.port = closed_port();
    let e = list_databases(&dead_target).unwrap_err();
    add("unreachable PostgreSQL error", format!("{e} / {e:?}"));
    let wrong = target.with_password(Secret::new(WRONG_PASSWORD));
    add("PgTarget with_password", format!("{wrong:?}"));

    // S3Options, StoreOptions, the store
    let mut s3 = S3Options::default();
    s3.endpoint = Some(i.endpoint.to_string());
    s3.path_style = true;
    s3.access_key_id = Some(Secret::new(ENV_ACCESS_KEY));
    s3.secret_access_key = Some(Secret::new(ENV_SECRET_KEY));
    s3.session_token = Some(Secret::new(ENV_SESSION_TOKEN));
    add("S3Options", format!("{s3:?} {s3:#?}"));
    let options = StoreOptions::with_s3(s3.clone());
    add("StoreOptions", format!("{options:?}"));
    let store = open_store("s3://leak-debug/prefix", &options).unwrap();
    add("open_store S3 store", format!("{store:?}"));
    let direct = S3Store::open("leak-debug", "p", &s3).unwrap();
    add("S3Store", format!("{direct:?}"));
    let mut dead = s3.clone();
    dead.endpoint = Some(i.dead.to_string());
    dead.max_retries = 0;
    let dead_store = S3Store::open("leak-debug", "p", &dead).unwrap();
    let e = dead_store.list("").unwrap_err();
    add("unreachable S3 error", format!("{e} / {e:?}"));
    for url in [
        format!("s3://{URL_ACCESS_KEY}:{URL_SECRET_KEY}@bucket/p"),
        format!("s3://{URL_ACCESS_KEY}@bucket/p"),
        format!("s3://{URL_ACCESS_KEY}:{URL_SECRET_KEY}@bucket/p?colour=red"),
        format!("gs://{URL_ACCESS_KEY}:{URL_SECRET_KEY}@bucket/p"),
    ] {
        let e = open_store(&url, &StoreOptions::default()).unwrap_err();
        add("open_store error", format!("{e} / {e:?}"));
    }

    // ClusterConf and its parts, the Dconf tree, redaction
    let conf = ClusterConf::load(i.conf).unwrap();
    let db = conf.database_backups.clone().unwrap();
    assert_eq!(db.secret_key.expose(), CONF_DB_SECRET_KEY);
    add("ClusterConf", format!("{conf:?}"));
    add("ClusterConf {:#?}", format!("{conf:#?}"));
    add("ClusterConf JSON", serde_json::to_string(&conf).unwrap());
    add("DatabaseBackups", format!("{db:?} {db:#?}"));
    add("DatabaseBackups JSON", serde_json::to_string(&db).unwrap());
    add(
        "DatabaseBackups store options",
        format!("{:?}", db.store_options()),
    );
    let package_store = conf.package_store.clone().unwrap();
    assert_eq!(
        package_store.secret_key.as_ref().map(Secret::expose),
        Some(CONF_PKG_SECRET_KEY)
    );
    add("PackageStore", format!("{package_store:?}"));
    add(
        "PackageStore JSON",
        serde_json::to_string(&package_store).unwrap(),
    );
    let text = fs::read_to_string(i.conf).unwrap();
    let tree = parse_dconf(&text, "cluster.conf").unwrap();
    add("Dconf tree", format!("{tree:?} {tree:#?}"));
    add("Dconf tree JSON", serde_json::to_string(&tree).unwrap());
    let redacted = redact_secrets(&text, "cluster.conf").unwrap();
    add("redact_secrets", format!("{redacted:?}"));
    let e = ClusterConf::parse(
        &format!("chef: {{ continuum: {{ database_backups: {{ secret_key: \"{CONF_DB_SECRET_KEY}\n }} }} }}"),
        "c",
    )
    .unwrap_err();
    add("ClusterConf parse error", format!("{e} / {e:?}"));

    // Recipients, Identities
    let identities = Identities::from_file(i.identity).unwrap();
    add("Identities", format!("{identities:?} {identities:#?}"));
    let recipients = identities.recipients();
    assert_eq!(recipients.to_strings(), [i.age_public.to_string()]);
    add("Recipients", format!("{recipients:?}"));
    let e = Identities::parse(&format!(
        "{}x",
        fs::read_to_string(i.identity).unwrap().trim()
    ))
    .unwrap_err();
    add("Identities parse error", format!("{e} / {e:?}"));

    // The options and plans that carry them
    let source = PlatformSource::new(i.conf, i.conf.parent().unwrap(), target.clone());
    add("PlatformSource", format!("{source:?}"));
    let destination = RestoreDestination::new(i.scratch.join("dest"), Some(target.clone()));
    add("RestoreDestination", format!("{destination:?}"));
    let mut backup_options = PlatformBackupOptions::default();
    backup_options.encrypt_to = Some(recipients);
    add("PlatformBackupOptions", format!("{backup_options:?}"));
    add(
        "PlatformBackupOptions JSON",
        serde_json::to_string(&backup_options).unwrap(),
    );
    let mut restore_options = PlatformRestoreOptions::default();
    restore_options.identities = Some(identities);
    add("PlatformRestoreOptions", format!("{restore_options:?}"));
    add(
        "PlatformRestoreOptions JSON",
        serde_json::to_string(&restore_options).unwrap(),
    );
    let mut component = ComponentBackupOptions::new(Reason::Daily);
    component.s3_endpoint = Some(i.endpoint.to_string());
    add("ComponentBackupOptions", format!("{component:?}"));

    let folder_db = open_store(i.folder_db, &StoreOptions::default()).unwrap();
    let mut db_options = DbRestoreOptions::default();
    db_options.as_name = Some(format!("{}_never_made", i.cdb));
    let plan =
        plan_database_restore(folder_db.as_ref(), i.db_set, i.cdb, &target, &db_options).unwrap();
    add("DbRestorePlan", format!("{plan:?}"));
    add("DbRestorePlan JSON", serde_json::to_string(&plan).unwrap());
    let folder = open_store(i.folder, &StoreOptions::default()).unwrap();
    let mut platform_options = PlatformRestoreOptions::default();
    platform_options.databases = BTreeMap::from([
        (i.cdb.to_string(), format!("{}_never_made", i.cdb)),
        (
            "orchestrator".to_string(),
            "orchestrator_never_made".to_string(),
        ),
    ]);
    let plan = plan_platform_restore(
        folder.as_ref(),
        i.platform_set,
        &destination,
        &platform_options,
    )
    .unwrap();
    add("PlatformRestorePlan", format!("{plan:?}"));
    add(
        "PlatformRestorePlan JSON",
        serde_json::to_string(&plan).unwrap(),
    );
    let mut orch_options = OrchestratorRestoreOptions::default();
    orch_options.dry_run = true;
    let plan = plan_orchestrator_restore(
        i.archive,
        &target,
        &i.scratch.join("orchestrator-config"),
        &orch_options,
    )
    .unwrap();
    add("OrchestratorRestorePlan", format!("{plan:?}"));
    add("OrchestratorRestorePlan Display", plan.to_string());
    out
}

/// Credentials put into a store URL other than as `s3://KEY:SECRET@bucket` (which the main
/// test covers): an access key whose secret holds `@`, a secret passed as a query option,
/// and an endpoint URL holding `KEY:SECRET@` (given as `--s3-endpoint`, as
/// `CONTINUUM_S3_ENDPOINT` or as `?endpoint=`). Each must be refused without being shown.
#[test]
fn store_urls_holding_credentials_are_refused_without_echoing() {
    let mut secrets = Secrets::new("AGE-SECRET-KEY-1NOTUSEDHERE");
    let at_secret = "url@LEAK+secret+4Rw7Qz";
    secrets.add("store URL secret key holding `@`", at_secret);
    let tmp = tempfile::tempdir().unwrap();
    let runner = Runner {
        cwd: tmp.path().to_path_buf(),
        pg_host: "127.0.0.1".to_string(),
        pg_port: "1".to_string(),
    };
    let port = closed_port();
    // A secret holding `/` (as AWS secret keys do) and one without.
    let endpoint = format!("http://{URL_ACCESS_KEY}:{URL_SECRET_KEY}@127.0.0.1:{port}");
    let plain_secret = "url-LEAK-secret-7Kx2Wq";
    secrets.add("endpoint secret key", plain_secret);
    let plain_endpoint = format!("http://{URL_ACCESS_KEY}:{plain_secret}@127.0.0.1:{port}");
    let ran = runner.run(vec![
        fail(&[
            "sets",
            "list",
            "s3://bucket/p",
            "--s3-endpoint",
            &plain_endpoint,
            "--s3-path-style",
        ]),
        fail(&["sets", "list", "s3://bucket/p", "--s3-path-style"])
            .env("CONTINUUM_S3_ENDPOINT", &plain_endpoint),
        fail(&[
            "sets",
            "list",
            &format!("s3://bucket/p?endpoint={plain_endpoint}&path_style=true"),
        ]),
        fail(&[
            "sets",
            "list",
            &format!("s3://{URL_ACCESS_KEY}:{at_secret}@bucket/p"),
        ]),
        fail(&[
            "sets",
            "list",
            &format!("s3://bucket/p?secret_access_key={URL_SECRET_KEY}"),
        ]),
        fail(&[
            "sets",
            "list",
            &format!(
                "s3://bucket/p?aws_access_key_id={URL_ACCESS_KEY}&endpoint=http://127.0.0.1:{port}"
            ),
        ]),
        fail(&[
            "sets",
            "list",
            "s3://bucket/p",
            "--s3-endpoint",
            &endpoint,
            "--s3-path-style",
        ]),
        fail(&["sets", "list", "s3://bucket/p", "--s3-path-style"])
            .env("CONTINUUM_S3_ENDPOINT", &endpoint),
        fail(&[
            "sets",
            "list",
            &format!("s3://bucket/p?endpoint={endpoint}&path_style=true"),
        ]),
    ]);
    // A crash (the S3 client panics on an endpoint whose user info holds `/`) counts too.
    let mut leaks = unexpected(&ran);
    for r in &ran {
        for stream in [&r.stdout, &r.stderr] {
            for leak in secrets.find(&String::from_utf8_lossy(stream)) {
                leaks.push(format!("{}: {leak}", r.spec.args.join(" ")));
            }
        }
    }
    for endpoint in [&endpoint, &plain_endpoint] {
        let mut options = S3Options::default();
        options.endpoint = Some(endpoint.clone());
        match S3Store::open("bucket", "p", &options) {
            Ok(store) => leaks.extend(secrets.find(&format!("S3Store {store:?}"))),
            Err(e) => leaks.extend(secrets.find(&format!("{e} {e:?}"))),
        }
    }
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));
}

/// The search itself: a secret is found base64-encoded at every alignment (as coreutils'
/// `base64` writes it), percent-encoded, in part, and inside a gzip tar member.
#[test]
fn the_search_finds_secrets_in_every_form() {
    let secrets = Secrets::new("AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ");
    for prefix in ["", "a", "ab", "abc"] {
        let out = Command::new("base64")
            .arg("-w0")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write as _;
                let mut stdin = child.stdin.take().unwrap();
                stdin.write_all(format!("{prefix}{ENV_SECRET_KEY}!").as_bytes())?;
                drop(stdin);
                child.wait_with_output()
            })
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(!secrets.find(&text).is_empty(), "{prefix:?}: {text}");
    }
    assert!(
        !secrets
            .find(&percent_encode(DSN_PASSWORD, false))
            .is_empty()
    );
    assert!(!secrets.find("…LEAK/9xQ2w8Zr…").is_empty());
    assert!(
        secrets
            .find("expected an age secret key `AGE-SECRET-KEY-1…`")
            .is_empty()
    );
    assert!(!secrets.find("AGE-SECRET-KEY-1QQQQQQQQQQQ").is_empty());

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("inner.txt"), format!("x{CONF_ADMIN_PASSWORD}x")).unwrap();
    let tgz = tmp.path().join("a.tgz");
    assert!(
        Command::new("tar")
            .arg("czf")
            .arg(&tgz)
            .arg("-C")
            .arg(&dir)
            .arg(".")
            .status()
            .unwrap()
            .success()
    );
    let report = Report {
        secrets: &secrets,
        channels: Mutex::new(BTreeMap::new()),
        leaks: Mutex::new(Vec::new()),
        payload: Vec::new(),
        payload_seen: Mutex::new(BTreeSet::new()),
    };
    report.check_file("files written", "a.tgz", &fs::read(&tgz).unwrap());
    let leaks = report.leaks.into_inner().unwrap();
    assert!(
        leaks.len() == 1 && leaks[0].contains("a.tgz!./inner.txt"),
        "{leaks:?}"
    );
}
