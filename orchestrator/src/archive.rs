//! The orchestrator archive: one gzip tar (`orchestrator_backup_<YYYYMMDDTHHMMSSZ>.tgz`) that
//! holds what it takes to bring the orchestrator back on a new host, and its restore.
//!
//! # Layout
//! ```text
//! metadata.json            always first: versions, host, addresses, every member's size and SHA-256
//! release/version          the platform release, as text
//! release/<bundle>         the release bundle, when given
//! db/<database>.sql        `pg_dump -Fp` of `orchestrator` (and `orchestrator_archive`)
//! db/roles.sql             `pg_dumpall --globals-only`
//! config/cluster.conf      and the Terraform files (`*.tf`, `*.tfvars`), by their relative names
//! ```
//! The databases are plain SQL, so a person can still load them with `psql -f` if this
//! library is gone. GNU tar reads the archive (`tar xzf`); members carry mode 0600, uid and
//! gid 0 and the archive's creation time, so two archives of the same data differ only in
//! their timestamps.
//!
//! # Writing
//! Every member is spooled first into a private temporary folder next to the archive
//! (`pg_dump` streamed, hashed on the way), so that `metadata.json`, which lists every
//! member's size and SHA-256, can come first. The archive is written under a temporary name
//! and linked into place: an existing archive is never replaced, a failed one never appears.
//!
//! # Reading
//! The reader streams the archive once and trusts nothing: `metadata.json` must come first
//! and have a known format version; every member path must be safe ([`MemberPath`]); links,
//! devices and other special entries are refused, as is any member the metadata does not
//! list or any listed member that is missing; each member's size and SHA-256 are checked as
//! it streams by; [`Limits`] stop size and count bombs.
//!
//! # Restore: plan → apply → verify
//! [`plan_orchestrator_restore`] checks the release gate as soon as it has read the
//! metadata (an archive from before platform release 2.4.0 is refused with the manual path),
//! then unpacks every member into a private staging folder with all the checks above, and
//! decides per item (roles, each database, each file) what will happen; nothing is changed.
//! [`OrchestratorRestorePlan::apply`] refuses any conflict (a database holding data, a file
//! that exists and differs) unless forced, restores, and verifies: the databases' tables hold
//! the rows recorded at backup time, the files have their recorded digests. Each database is
//! loaded and checked under a staging name and only then renamed into place (replacing an
//! existing one in the same transaction), so a failure never leaves a database half-loaded
//! or a replaced one lost.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::net::IpAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use continuum_core::{
    Digest, HashingReader, HashingWriter, LimitedReader, Limits, MemberPath, WriteOptions,
    digest_reader, write_atomic,
};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::conf::ClusterConf;
use crate::db::{RestoreAction, TableCheck, check_row_counts};
use crate::error::{Error, Result};
use crate::install::{CLUSTER_CONF, collect_installation_files};
use crate::pg::{ChildReader, PgTarget, StagingDatabase, error_from_io, quote_ident};

/// The version of `metadata.json` this build writes and reads.
pub const ARCHIVE_FORMAT_VERSION: u64 = 1;

/// The first member of every orchestrator archive.
pub const ARCHIVE_METADATA: &str = "metadata.json";

/// The orchestrator's database.
pub const ORCHESTRATOR_DATABASE: &str = "orchestrator";

/// The orchestrator's archive database, backed up when it exists.
pub const ORCHESTRATOR_ARCHIVE_DATABASE: &str = "orchestrator_archive";

/// The oldest platform release whose orchestrator archive can be restored.
pub const MIN_RESTORE_RELEASE: ReleaseVersion = ReleaseVersion {
    major: 2,
    minor: 4,
    patch: 0,
};

/// The largest `metadata.json` read.
pub const MAX_METADATA_SIZE: u64 = 16 << 20;

const VERSION_MEMBER: &str = "release/version";
const ROLES_MEMBER: &str = "db/roles.sql";
const MEMBER_MODE: u32 = 0o600;
const CHUNK: usize = 1 << 20;
/// The most of a program's stderr an error carries: the end is where the reason is.
const STDERR_TAIL: usize = 64 << 10;

/// The archive's file name for a creation time: `orchestrator_backup_<YYYYMMDDTHHMMSSZ>.tgz`.
pub fn archive_file_name(created_at: Timestamp) -> String {
    format!(
        "orchestrator_backup_{}.tgz",
        created_at.strftime("%Y%m%dT%H%M%SZ")
    )
}

// ---------------------------------------------------------------------------------------------
// Release versions

/// A platform release as `major.minor.patch`, compared numerically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[non_exhaustive]
pub struct ReleaseVersion {
    /// The major version.
    pub major: u64,
    /// The minor version.
    pub minor: u64,
    /// The patch level.
    pub patch: u64,
}

impl ReleaseVersion {
    /// A version from its parts.
    pub const fn new(major: u64, minor: u64, patch: u64) -> Self {
        Self {
            major,
            minor,
            patch,
        }
    }

    /// Reads `2.4.0`, `2.4`, `v2.6.1`, `2.4.0-rc1` or `2.4.0+build`: a leading `v` and
    /// anything from the first `-` or `+` on are ignored, missing parts are 0. `None` for
    /// anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let text = text
            .strip_prefix('v')
            .or_else(|| text.strip_prefix('V'))
            .unwrap_or(text);
        let core = text.split(['-', '+']).next().unwrap_or_default();
        let mut parts = core.split('.');
        let mut next = |required: bool| -> Option<u64> {
            match parts.next() {
                Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p.parse().ok(),
                None if !required => Some(0),
                _ => None,
            }
        };
        let version = Self::new(next(true)?, next(false)?, next(false)?);
        parts.next().is_none().then_some(version)
    }
}

impl fmt::Display for ReleaseVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// True when an archive made by `release` can be restored (2.4.0 or later).
pub fn meets_release_gate(release: &str) -> bool {
    ReleaseVersion::parse(release).is_some_and(|v| v >= MIN_RESTORE_RELEASE)
}

// ---------------------------------------------------------------------------------------------
// Metadata

/// `metadata.json`: what the archive holds and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(expecting = "an object of the orchestrator archive's metadata")]
#[non_exhaustive]
pub struct ArchiveMetadata {
    /// [`ARCHIVE_FORMAT_VERSION`].
    pub format_version: u64,
    /// When the archive was made (UTC, whole seconds).
    #[schemars(with = "String")]
    pub created_at: Timestamp,
    /// The program that made it (`continuum-backup 0.1.0`).
    pub producer: String,
    /// The host it was made on.
    pub host: String,
    /// That host's non-loopback addresses: the cluster expects the orchestrator there.
    #[serde(default)]
    pub host_addresses: Vec<String>,
    /// `chef.continuum.cluster_name` of `cluster.conf`.
    #[serde(default)]
    pub cluster_name: Option<String>,
    /// The orchestrator's version.
    pub orchestrator_version: String,
    /// The platform release running when the archive was made.
    pub platform_release: String,
    /// The PostgreSQL server's version (`SHOW server_version`).
    pub postgresql_version: String,
    /// The release members.
    pub release: ArchivedRelease,
    /// The databases, in restore order.
    pub databases: Vec<ArchivedDatabase>,
    /// The roles and tablespaces (`pg_dumpall --globals-only`), when saved.
    #[serde(default)]
    pub roles: Option<MemberPath>,
    /// The configuration files, below `config/`.
    pub config: Vec<MemberPath>,
    /// Every member but `metadata.json`, in archive order.
    pub members: Vec<ArchiveMember>,
}

/// The release an archive was made with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(expecting = "an object with the release's `version` and `version_file`")]
#[non_exhaustive]
pub struct ArchivedRelease {
    /// The version, as given.
    pub version: String,
    /// The member holding the version as text.
    pub version_file: MemberPath,
    /// The member holding the release bundle, when one was given.
    #[serde(default)]
    pub bundle: Option<MemberPath>,
}

/// One database in an archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(expecting = "an object with a database's `name`, `file` and `row_counts`")]
#[non_exhaustive]
pub struct ArchivedDatabase {
    /// Its name.
    pub name: String,
    /// Its owner, when known.
    #[serde(default)]
    pub owner: Option<String>,
    /// The member holding its plain SQL dump.
    pub file: MemberPath,
    /// Exact rows per table (`schema.table`), from the snapshot the dump was made from.
    pub row_counts: BTreeMap<String, u64>,
}

/// One member of an archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(expecting = "an object with a member's `path`, `size` and `sha256`")]
#[non_exhaustive]
pub struct ArchiveMember {
    /// Its path in the archive.
    pub path: MemberPath,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256.
    pub sha256: Digest,
}

impl ArchiveMetadata {
    /// The JSON Schema of `metadata.json`, as committed in
    /// `docs/schemas/orchestrator-metadata.schema.json`.
    pub fn json_schema() -> String {
        let schema = schemars::schema_for!(ArchiveMetadata);
        let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
        text.push('\n');
        text
    }

    /// The member at `path`.
    pub fn member(&self, path: &str) -> Option<&ArchiveMember> {
        self.members.iter().find(|m| m.path.as_str() == path)
    }

    /// True when this archive's release can be restored (2.4.0 or later).
    pub fn meets_release_gate(&self) -> bool {
        meets_release_gate(&self.platform_release)
    }

    /// Checks that the metadata is consistent: member paths unique and in their folders,
    /// every reference listed, every member referenced.
    fn validate(&self, archive: &str) -> Result<()> {
        let bad = |message: String| Error::Archive {
            archive: archive.to_string(),
            message,
        };
        let mut listed = BTreeSet::new();
        for m in &self.members {
            if m.path.as_str() == ARCHIVE_METADATA {
                return Err(bad(format!(
                    "`{ARCHIVE_METADATA}` lists itself as a member"
                )));
            }
            if !listed.insert(m.path.as_str()) {
                return Err(bad(format!("`{}` is listed twice", m.path)));
            }
        }
        let mut referenced = BTreeSet::new();
        let mut reference = |path: &MemberPath, folder: &str, what: &str| -> Result<()> {
            if !path
                .as_str()
                .strip_prefix(folder)
                .is_some_and(|rest| rest.starts_with('/'))
            {
                return Err(bad(format!("{what} `{path}` is not below `{folder}/`")));
            }
            if !listed.contains(path.as_str()) {
                return Err(bad(format!("{what} `{path}` is not among the members")));
            }
            if !referenced.insert(path.as_str().to_string()) {
                return Err(bad(format!("`{path}` is named twice")));
            }
            Ok(())
        };
        reference(&self.release.version_file, "release", "the version file")?;
        if let Some(bundle) = &self.release.bundle {
            reference(bundle, "release", "the release bundle")?;
        }
        let mut names = BTreeSet::new();
        for db in &self.databases {
            if db.name.is_empty() || db.name.contains('\0') || !names.insert(db.name.as_str()) {
                return Err(bad(format!(
                    "the database name `{}` is empty, invalid or named twice",
                    db.name.escape_default()
                )));
            }
            reference(&db.file, "db", "the dump")?;
        }
        if let Some(roles) = &self.roles {
            reference(roles, "db", "the roles")?;
        }
        for c in &self.config {
            reference(c, "config", "the configuration file")?;
        }
        if let Some(m) = self
            .members
            .iter()
            .find(|m| !referenced.contains(m.path.as_str()))
        {
            return Err(bad(format!(
                "the member `{}` is listed but not said to be anything",
                m.path
            )));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Backup

/// What goes into an orchestrator archive besides `cluster.conf` and the databases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct OrchestratorBackupOptions {
    /// The current platform release (`2.6.1`); required.
    pub release_version: String,
    /// The current release's bundle file, when there is one.
    pub release_bundle: Option<PathBuf>,
    /// More configuration: files (taken whatever their name) and folders (searched for
    /// `*.tf`, `*.tfvars` and `cluster.conf`), as [`collect_installation_files`] does.
    pub config_files: Vec<PathBuf>,
    /// The orchestrator's version; the release version when not given.
    pub orchestrator_version: Option<String>,
    /// The host name recorded; this host's when not given.
    pub host: Option<String>,
    /// The addresses recorded; this host's non-loopback addresses when not given.
    pub host_addresses: Option<Vec<String>>,
    /// The orchestrator database (must exist).
    pub database: String,
    /// The archive database, backed up when it exists.
    pub archive_database: String,
    /// Save roles and tablespaces (`pg_dumpall --globals-only`, which needs a superuser).
    pub with_roles: bool,
}

impl Default for OrchestratorBackupOptions {
    fn default() -> Self {
        Self {
            release_version: String::new(),
            release_bundle: None,
            config_files: Vec::new(),
            orchestrator_version: None,
            host: None,
            host_addresses: None,
            database: ORCHESTRATOR_DATABASE.to_string(),
            archive_database: ORCHESTRATOR_ARCHIVE_DATABASE.to_string(),
            with_roles: true,
        }
    }
}

impl OrchestratorBackupOptions {
    /// Default options for a release.
    pub fn new(release_version: impl Into<String>) -> Self {
        Self {
            release_version: release_version.into(),
            ..Self::default()
        }
    }
}

/// An archive written by [`backup_orchestrator`].
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct OrchestratorArchive {
    /// Where it is.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256 (of the `.tgz` file).
    pub sha256: Digest,
    /// What it holds.
    pub metadata: ArchiveMetadata,
}

/// A member spooled to a temporary file, waiting to go into the archive.
struct Spooled {
    path: MemberPath,
    file: PathBuf,
    size: u64,
    sha256: Digest,
}

/// Writes an orchestrator archive into `out_dir` (created when missing) and returns it.
///
/// `cluster_conf` is parsed (for the cluster's name) and saved as `config/cluster.conf`;
/// `target` is the PostgreSQL server holding the orchestrator databases. Each database is
/// dumped (`pg_dump -Fp`) from one snapshot, whose exact row counts go into the metadata. Any failure (a database missing,
/// `pg_dump` failing, a file unreadable) leaves no archive and no temporary file behind; an
/// archive of the same name that exists already is never replaced.
pub fn backup_orchestrator(
    cluster_conf: &Path,
    target: &PgTarget,
    out_dir: &Path,
    options: &OrchestratorBackupOptions,
) -> Result<OrchestratorArchive> {
    let release = options.release_version.trim();
    if release.is_empty() {
        return Err(invalid_input(
            "release version",
            "",
            "give the current platform release (such as 2.6.1)",
        ));
    }
    let conf = ClusterConf::load(cluster_conf)?;
    let config = config_sources(cluster_conf, &options.config_files)?;
    let bundle = match &options.release_bundle {
        Some(path) => {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .ok_or_else(|| {
                    invalid_input(
                        "release bundle",
                        &path.display().to_string(),
                        "names no file",
                    )
                })?;
            let member = MemberPath::parse(&format!("release/{name}"))?;
            if member.as_str() == VERSION_MEMBER {
                return Err(invalid_input(
                    "release bundle",
                    &path.display().to_string(),
                    "may not be named `version`",
                ));
            }
            Some((member, path.clone()))
        }
        None => None,
    };
    let mut databases = vec![options.database.clone()];
    if !target.database_exists(&options.database)? {
        return Err(invalid_input(
            "database",
            &options.database,
            &format!("the server `{}` has no such database", target.label()),
        ));
    }
    if options.archive_database != options.database
        && target.database_exists(&options.archive_database)?
    {
        databases.push(options.archive_database.clone());
    }
    let owners: BTreeMap<String, String> = target
        .list_databases()?
        .into_iter()
        .map(|d| (d.name, d.owner))
        .collect();
    let postgresql_version = target.server_version()?;

    fs::create_dir_all(out_dir).map_err(|e| continuum_core::Error::io("create", out_dir, e))?;
    let created_at =
        Timestamp::from_second(Timestamp::now().as_second()).unwrap_or_else(|_| Timestamp::now());
    let final_path = out_dir.join(archive_file_name(created_at));
    if fs::symlink_metadata(&final_path).is_ok() {
        return Err(continuum_core::Error::FileExists { path: final_path }.into());
    }
    let spool = tempfile::Builder::new()
        .prefix(".continuum-spool-")
        .tempdir_in(out_dir)
        .map_err(|e| continuum_core::Error::io("create a temporary folder in", out_dir, e))?;
    let mut spooled: Vec<Spooled> = Vec::new();
    let spool_path = |n: usize| spool.path().join(format!("{n:04}"));

    // release/
    let file = spool_path(spooled.len());
    let (size, sha256) = spool_stream(
        &mut format!("{release}\n").as_bytes(),
        &file,
        "write the release version",
    )?;
    spooled.push(Spooled {
        path: MemberPath::parse(VERSION_MEMBER)?,
        file,
        size,
        sha256,
    });
    if let Some((member, source)) = &bundle {
        let file = spool_path(spooled.len());
        let (size, sha256) = spool_file(source, &file)?;
        spooled.push(Spooled {
            path: member.clone(),
            file,
            size,
            sha256,
        });
    }

    // db/
    let mut archived_dbs = Vec::new();
    for db in &databases {
        let member = database_member(db)?;
        let file = spool_path(spooled.len());
        let (size, sha256, row_counts) =
            spool_dump(target, db, &file).map_err(|e| Error::Database {
                database: db.clone(),
                source: Box::new(e),
            })?;
        spooled.push(Spooled {
            path: member.clone(),
            file,
            size,
            sha256,
        });
        archived_dbs.push(ArchivedDatabase {
            name: db.clone(),
            owner: owners.get(db).cloned(),
            file: member,
            row_counts,
        });
    }
    let roles = if options.with_roles {
        let member = MemberPath::parse(ROLES_MEMBER)?;
        if spooled.iter().any(|s| s.path == member) {
            return Err(invalid_input(
                "database",
                "roles",
                "its dump would take the name of the roles file `db/roles.sql`",
            ));
        }
        let file = spool_path(spooled.len());
        let mut cmd = target.command("pg_dumpall");
        cmd.arg("--globals-only").arg("-l").arg(target.dbname_arg());
        let mut dump = ChildReader::spawn(cmd)?.redacting(target.secrets());
        let (size, sha256) = spool_stream(&mut dump, &file, "dump the roles")?;
        spooled.push(Spooled {
            path: member.clone(),
            file,
            size,
            sha256,
        });
        Some(member)
    } else {
        None
    };

    // config/
    let mut config_members = Vec::new();
    for (member, source) in &config {
        let file = spool_path(spooled.len());
        let (size, sha256) = spool_file(source, &file)?;
        spooled.push(Spooled {
            path: member.clone(),
            file,
            size,
            sha256,
        });
        config_members.push(member.clone());
    }

    let metadata = ArchiveMetadata {
        format_version: ARCHIVE_FORMAT_VERSION,
        created_at,
        producer: continuum_core::producer(),
        host: options.host.clone().unwrap_or_else(local_host_name),
        host_addresses: options
            .host_addresses
            .clone()
            .unwrap_or_else(local_host_addresses),
        cluster_name: conf.cluster_name,
        orchestrator_version: options
            .orchestrator_version
            .clone()
            .unwrap_or_else(|| release.to_string()),
        platform_release: release.to_string(),
        postgresql_version,
        release: ArchivedRelease {
            version: release.to_string(),
            version_file: MemberPath::parse(VERSION_MEMBER)?,
            bundle: bundle.map(|(m, _)| m),
        },
        databases: archived_dbs,
        roles,
        config: config_members,
        members: spooled
            .iter()
            .map(|s| ArchiveMember {
                path: s.path.clone(),
                size: s.size,
                sha256: s.sha256,
            })
            .collect(),
    };
    metadata.validate(&final_path.display().to_string())?;
    let (size, sha256) = write_tgz(&metadata, &spooled, out_dir, &final_path)?;
    Ok(OrchestratorArchive {
        path: final_path,
        size,
        sha256,
        metadata,
    })
}

fn invalid_input(what: &'static str, value: &str, reason: &str) -> Error {
    continuum_core::Error::InvalidInput {
        what,
        value: value.to_string(),
        reason: reason.to_string(),
    }
    .into()
}

/// `db/<database>.sql`, refusing a name that would not make one plain file name.
fn database_member(database: &str) -> Result<MemberPath> {
    let member = MemberPath::parse(&format!("db/{database}.sql"))?;
    if database.contains('/') || member.as_str() != format!("db/{database}.sql") {
        return Err(invalid_input(
            "database",
            database,
            "its name does not make a file name",
        ));
    }
    Ok(member)
}

/// `cluster.conf` and the other configuration files, with their member paths.
fn config_sources(cluster_conf: &Path, more: &[PathBuf]) -> Result<Vec<(MemberPath, PathBuf)>> {
    let mut out = vec![(
        MemberPath::parse(&format!("config/{CLUSTER_CONF}"))?,
        cluster_conf.to_path_buf(),
    )];
    let conf_real = fs::canonicalize(cluster_conf).ok();
    for file in collect_installation_files(more)? {
        if file.name == CLUSTER_CONF
            && conf_real.is_some()
            && fs::canonicalize(&file.path).ok() == conf_real
        {
            continue;
        }
        let member = MemberPath::parse(&format!("config/{}", file.name))?;
        if let Some((_, earlier)) = out.iter().find(|(m, _)| m == &member) {
            return Err(invalid_input(
                "configuration file",
                &file.path.display().to_string(),
                &format!(
                    "it would be saved as `{member}`, like `{}`",
                    earlier.display()
                ),
            ));
        }
        out.push((member, file.path));
    }
    Ok(out)
}

/// Creates a new file only its owner can read.
fn create_private(path: &Path) -> Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| continuum_core::Error::io("create", path, e).into())
}

/// Streams `source` into a new file, hashing on the way.
fn spool_stream(source: &mut dyn Read, dest: &Path, action: &str) -> Result<(u64, Digest)> {
    let file = create_private(dest)?;
    let mut out = HashingWriter::new(BufWriter::with_capacity(CHUNK, file));
    io::copy(source, &mut out).map_err(|e| error_from_io(e, action))?;
    let (buffered, sha256, size) = out.finish();
    buffered.into_inner().map_err(|e| Error::Stream {
        action: action.to_string(),
        source: e.into_error(),
    })?;
    Ok((size, sha256))
}

fn spool_file(source: &Path, dest: &Path) -> Result<(u64, Digest)> {
    let mut input = File::open(source).map_err(|e| continuum_core::Error::io("open", source, e))?;
    spool_stream(
        &mut input,
        dest,
        &format!("copy `{}` into the archive", source.display()),
    )
}

/// `pg_dump -Fp` of one database, with the exact row counts of the same snapshot.
fn spool_dump(
    target: &PgTarget,
    database: &str,
    dest: &Path,
) -> Result<(u64, Digest, BTreeMap<String, u64>)> {
    let db_target = target.with_database(database);
    let mut session = db_target.connect()?;
    let mut snapshot = session.export_snapshot()?;
    let row_counts = snapshot.count_rows()?;
    let mut cmd = db_target.command("pg_dump");
    cmd.arg("-Fp")
        .arg(format!("--snapshot={}", snapshot.id()))
        .arg("-d")
        .arg(db_target.dbname_arg());
    let mut dump = ChildReader::spawn(cmd)?.redacting(target.secrets());
    let (size, sha256) = spool_stream(&mut dump, dest, &format!("dump `{database}`"))?;
    // Only now may the snapshot go: pg_dump has finished with it.
    snapshot.finish()?;
    Ok((size, sha256, row_counts))
}

fn tar_header(size: u64, mtime: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(size);
    h.set_mode(MEMBER_MODE);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(mtime);
    h
}

/// Writes the archive under a temporary name in `out_dir`, then links it into place.
fn write_tgz(
    metadata: &ArchiveMetadata,
    members: &[Spooled],
    out_dir: &Path,
    final_path: &Path,
) -> Result<(u64, Digest)> {
    let mut json = serde_json::to_vec_pretty(metadata).map_err(|e| Error::Stream {
        action: format!("write `{ARCHIVE_METADATA}`"),
        source: io::Error::other(e),
    })?;
    json.push(b'\n');
    let mtime = u64::try_from(metadata.created_at.as_second()).unwrap_or_default();
    let temp = tempfile::Builder::new()
        .prefix(".continuum-tmp-")
        .suffix(".tgz")
        .tempfile_in(out_dir)
        .map_err(|e| continuum_core::Error::io("create a temporary file in", out_dir, e))?;
    let write_error = |e: io::Error| Error::Stream {
        action: format!("write `{}`", temp.path().display()),
        source: e,
    };
    let out = HashingWriter::new(BufWriter::with_capacity(CHUNK, temp.as_file()));
    let gz = flate2::GzBuilder::new().write(out, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    let mut header = tar_header(json.len() as u64, mtime);
    tar.append_data(&mut header, ARCHIVE_METADATA, json.as_slice())
        .map_err(write_error)?;
    for m in members {
        let file =
            File::open(&m.file).map_err(|e| continuum_core::Error::io("open", &m.file, e))?;
        let mut header = tar_header(m.size, mtime);
        tar.append_data(&mut header, m.path.as_str(), file.take(m.size))
            .map_err(write_error)?;
    }
    let gz = tar.into_inner().map_err(write_error)?;
    let out = gz.finish().map_err(write_error)?;
    let (buffered, sha256, size) = out.finish();
    buffered
        .into_inner()
        .map_err(|e| write_error(e.into_error()))?;
    temp.as_file().sync_all().map_err(write_error)?;
    temp.persist_noclobber(final_path).map_err(|e| {
        if e.error.kind() == io::ErrorKind::AlreadyExists {
            Error::from(continuum_core::Error::FileExists {
                path: final_path.to_path_buf(),
            })
        } else {
            continuum_core::Error::io("move into place", final_path, e.error).into()
        }
    })?;
    File::open(out_dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| continuum_core::Error::io("sync", out_dir, e))?;
    Ok((size, sha256))
}

// ---------------------------------------------------------------------------------------------
// The host

/// This host's name (`/proc/sys/kernel/hostname`, else `hostname`), `localhost` when
/// neither tells.
pub fn local_host_name() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| {
            Command::new("hostname")
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .output()
                .ok()
                .filter(|o| o.status.success())
                .and_then(|o| String::from_utf8(o.stdout).ok())
        })
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

/// This host's addresses, IPv4 and IPv6, loopback and link-local ones left out, sorted: from
/// `hostname -I`, else from `/proc/net/fib_trie` and `/proc/net/if_inet6`.
pub fn local_host_addresses() -> Vec<String> {
    let from_hostname = Command::new("hostname")
        .arg("-I")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| parse_addresses(&String::from_utf8_lossy(&o.stdout)));
    if let Some(found) = from_hostname.filter(|a| !a.is_empty()) {
        return found;
    }
    let mut text = String::new();
    if let Ok(trie) = fs::read_to_string("/proc/net/fib_trie") {
        text.push_str(&parse_fib_trie(&trie).join(" "));
        text.push(' ');
    }
    if let Ok(inet6) = fs::read_to_string("/proc/net/if_inet6") {
        text.push_str(&parse_if_inet6(&inet6).join(" "));
    }
    parse_addresses(&text)
}

/// The addresses of a whitespace-separated list worth recording, sorted and unique.
fn parse_addresses(text: &str) -> Vec<String> {
    let mut found: Vec<IpAddr> = text
        .split_whitespace()
        .filter_map(|t| t.parse::<IpAddr>().ok())
        .filter(|ip| match ip {
            IpAddr::V4(v4) => !(v4.is_loopback() || v4.is_unspecified() || v4.is_link_local()),
            IpAddr::V6(v6) => {
                !(v6.is_loopback()
                    || v6.is_unspecified()
                    || (v6.segments().first().copied().unwrap_or_default() & 0xffc0) == 0xfe80)
            }
        })
        .collect();
    found.sort();
    found.dedup();
    found.into_iter().map(|ip| ip.to_string()).collect()
}

/// The local (`/32 host LOCAL`) IPv4 addresses of `/proc/net/fib_trie`.
fn parse_fib_trie(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut last = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some(addr) = line.strip_prefix("|-- ") {
            last = Some(addr.trim().to_string());
        } else if line.contains("/32 host LOCAL")
            && let Some(addr) = last.take()
        {
            out.push(addr);
        }
    }
    out
}

/// The addresses of `/proc/net/if_inet6` (32 hex digits first on each line).
fn parse_if_inet6(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|hex| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .filter_map(|hex| {
            let groups: Vec<&str> = (0..8).filter_map(|i| hex.get(i * 4..i * 4 + 4)).collect();
            groups
                .join(":")
                .parse::<std::net::Ipv6Addr>()
                .ok()
                .map(|ip| ip.to_string())
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Reading

/// What [`verify_archive`] found: the archive is sound when it returns one.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ArchiveReport {
    /// The archive.
    pub archive: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// Its `metadata.json`.
    pub metadata: ArchiveMetadata,
    /// Members checked (size and SHA-256), `metadata.json` aside.
    pub members: u64,
    /// Their bytes, uncompressed.
    pub bytes: u64,
    /// Its release can be restored (2.4.0 or later); an older archive is sound but must be
    /// restored by hand.
    pub restorable: bool,
}

/// Checks an archive without restoring anything: every member's presence, path, type, size
/// and SHA-256 against `metadata.json`, with the default [`Limits`].
pub fn verify_archive(path: &Path) -> Result<ArchiveReport> {
    verify_archive_with(path, Limits::default())
}

/// [`verify_archive`] with explicit limits.
pub fn verify_archive_with(path: &Path, limits: Limits) -> Result<ArchiveReport> {
    let scanned = scan_archive(path, limits, &mut |_| Ok(None))?;
    let size = fs::metadata(path)
        .map_err(|e| continuum_core::Error::io("read", path, e))?
        .len();
    Ok(ArchiveReport {
        archive: path.to_path_buf(),
        size,
        restorable: scanned.metadata.meets_release_gate(),
        members: scanned.metadata.members.len() as u64,
        bytes: scanned.bytes,
        metadata: scanned.metadata,
    })
}

struct Scanned {
    metadata: ArchiveMetadata,
    bytes: u64,
}

fn archive_error(archive: &Path, message: impl Into<String>) -> Error {
    Error::Archive {
        archive: archive.display().to_string(),
        message: message.into(),
    }
}

/// An I/O error met while reading the archive: ours when it carries one (a limit), else
/// described with the archive's name.
fn read_error(archive: &Path, e: io::Error) -> Error {
    match continuum_core::from_io(e) {
        Ok(core) => core.into(),
        Err(e) => {
            // The tar library quotes header fields and names as it found them (line breaks,
            // escape sequences and all): the message is shown escaped and cut.
            let text: String = e
                .to_string()
                .chars()
                .take(300)
                .flat_map(|c| {
                    let shown: Vec<char> = if c.is_control() {
                        c.escape_default().collect()
                    } else {
                        vec![c]
                    };
                    shown
                })
                .collect();
            continuum_core::Error::io("read", archive, io::Error::new(e.kind(), text)).into()
        }
    }
}

/// Streams the archive once with every check; after reading the metadata, `after_metadata`
/// may stop (an error) or name a folder to unpack the members into.
fn scan_archive(
    archive: &Path,
    limits: Limits,
    after_metadata: &mut dyn FnMut(&ArchiveMetadata) -> Result<Option<PathBuf>>,
) -> Result<Scanned> {
    let file = File::open(archive).map_err(|e| continuum_core::Error::io("open", archive, e))?;
    let plain = flate2::bufread::MultiGzDecoder::new(BufReader::with_capacity(256 << 10, file));
    let limited = LimitedReader::new(plain, limits.max_total_size, archive.display().to_string());
    let (guarded, budget) =
        continuum_core::guard_tar_headers(limited, archive.display().to_string());
    let mut tar = tar::Archive::new(guarded);
    let mut entries = tar.entries().map_err(|e| read_error(archive, e))?;

    let mut first = budget
        .next_entry(|| entries.next())
        .ok_or_else(|| archive_error(archive, "the archive is empty"))?
        .map_err(|e| read_error(archive, e))?;
    let first_name = String::from_utf8_lossy(&first.path_bytes()).into_owned();
    if first_name.trim_start_matches("./") != ARCHIVE_METADATA {
        return Err(archive_error(
            archive,
            format!(
                "its first member is `{}`, not `{ARCHIVE_METADATA}`: this is no orchestrator archive \
                 of continuum-backup, or one made before platform release {MIN_RESTORE_RELEASE}, whose \
                 orchestrator backups lack the metadata the restore needs. {}",
                first_name.escape_default(),
                crate::error::MANUAL_RESTORE
            ),
        ));
    }
    if !first.header().entry_type().is_file() {
        return Err(archive_error(
            archive,
            format!("`{ARCHIVE_METADATA}` is not a regular file"),
        ));
    }
    if first.size() > MAX_METADATA_SIZE {
        return Err(continuum_core::Error::LimitExceeded {
            entry: ARCHIVE_METADATA.to_string(),
            limit: MAX_METADATA_SIZE,
            unit: "bytes",
        }
        .into());
    }
    let mut json = Vec::new();
    LimitedReader::new(&mut first, MAX_METADATA_SIZE, ARCHIVE_METADATA)
        .read_to_end(&mut json)
        .map_err(|e| read_error(archive, e))?;
    drop(first);
    let metadata = parse_metadata(archive, &json)?;
    let root = after_metadata(&metadata)?;

    let listed: BTreeMap<&str, &ArchiveMember> = metadata
        .members
        .iter()
        .map(|m| (m.path.as_str(), m))
        .collect();
    let folders: BTreeSet<&str> = metadata
        .members
        .iter()
        .flat_map(|m| {
            let p = m.path.as_str();
            p.match_indices('/').filter_map(move |(i, _)| p.get(..i))
        })
        .collect();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut count = 1u64;
    let mut bytes = 0u64;
    while let Some(entry) = budget.next_entry(|| entries.next()) {
        let mut entry = entry.map_err(|e| read_error(archive, e))?;
        count += 1;
        if count > limits.max_entries {
            return Err(continuum_core::Error::LimitExceeded {
                entry: archive.display().to_string(),
                limit: limits.max_entries,
                unit: "entries",
            }
            .into());
        }
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let member = MemberPath::parse(&raw)?;
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            if folders.contains(member.as_str()) {
                continue;
            }
            return Err(archive_error(
                archive,
                format!("the folder `{member}` holds no listed member"),
            ));
        }
        if !kind.is_file() {
            let what = if kind.is_symlink() || kind.is_hard_link() {
                "a link"
            } else {
                "a special file"
            };
            return Err(archive_error(
                archive,
                format!("`{member}` is {what}; an orchestrator archive holds only regular files"),
            ));
        }
        let Some(expected) = listed.get(member.as_str()) else {
            return Err(archive_error(
                archive,
                format!("`{member}` is not listed in `{ARCHIVE_METADATA}`"),
            ));
        };
        if !seen.insert(member.as_str().to_string()) {
            return Err(archive_error(archive, format!("`{member}` appears twice")));
        }
        if expected.size > limits.max_entry_size {
            return Err(continuum_core::Error::LimitExceeded {
                entry: member.to_string(),
                limit: limits.max_entry_size,
                unit: "bytes",
            }
            .into());
        }
        if entry.size() != expected.size {
            return Err(continuum_core::Error::Corrupt {
                entry: member.to_string(),
                expected: format!("{} bytes", expected.size),
                actual: format!("{} bytes", entry.size()),
            }
            .into());
        }
        let mut reader = HashingReader::new(LimitedReader::new(
            &mut entry,
            expected.size,
            member.as_str(),
        ));
        match &root {
            Some(root) => {
                let dest = member.to_path(root);
                if let Some(parent) = dest.parent() {
                    fs::create_dir_all(parent)
                        .map_err(|e| continuum_core::Error::io("create", parent, e))?;
                }
                let mut out = BufWriter::with_capacity(CHUNK, create_private(&dest)?);
                io::copy(&mut reader, &mut out).map_err(|e| read_error(archive, e))?;
                out.flush()
                    .map_err(|e| continuum_core::Error::io("write", &dest, e))?;
            }
            None => {
                io::copy(&mut reader, &mut io::sink()).map_err(|e| read_error(archive, e))?;
            }
        }
        let (_, sha256, size) = reader.finish();
        if size != expected.size {
            // The archive ends inside the member.
            return Err(continuum_core::Error::Corrupt {
                entry: member.to_string(),
                expected: format!("{} bytes", expected.size),
                actual: format!("{size} bytes (the archive is cut short)"),
            }
            .into());
        }
        if sha256 != expected.sha256 {
            return Err(continuum_core::Error::Corrupt {
                entry: member.to_string(),
                expected: expected.sha256.to_string(),
                actual: sha256.to_string(),
            }
            .into());
        }
        bytes += size;
    }
    // Read to the end: the gzip trailer (CRC-32 and length of the whole) is checked there,
    // so a cut or damaged trailer, or anything appended, is not taken for a sound archive.
    io::copy(&mut tar.into_inner(), &mut io::sink()).map_err(|e| read_error(archive, e))?;
    if let Some(missing) = metadata
        .members
        .iter()
        .find(|m| !seen.contains(m.path.as_str()))
    {
        return Err(archive_error(
            archive,
            format!(
                "`{}` is listed in `{ARCHIVE_METADATA}` but missing from the archive",
                missing.path
            ),
        ));
    }
    Ok(Scanned { metadata, bytes })
}

fn parse_metadata(archive: &Path, json: &[u8]) -> Result<ArchiveMetadata> {
    let name = format!("{}:{ARCHIVE_METADATA}", archive.display());
    // The version alone first, without building a tree of the whole document: a generic JSON
    // tree takes some 16 times the text (32 bytes per `0,`).
    #[derive(Deserialize)]
    #[serde(expecting = "a JSON object")]
    struct VersionOnly {
        format_version: Option<serde_json::Number>,
    }
    let probe: VersionOnly =
        serde_json::from_slice(json).map_err(|e| continuum_core::Error::json(&name, &e))?;
    let version = probe
        .format_version
        .as_ref()
        .and_then(serde_json::Number::as_u64);
    match version {
        Some(ARCHIVE_FORMAT_VERSION) => {}
        Some(found) => {
            return Err(continuum_core::Error::UnsupportedVersion {
                path: name,
                found,
                supported: ARCHIVE_FORMAT_VERSION,
            }
            .into());
        }
        None => {
            return Err(archive_error(
                archive,
                format!("`{ARCHIVE_METADATA}` has no format_version"),
            ));
        }
    }
    let metadata: ArchiveMetadata =
        serde_json::from_slice(json).map_err(|e| continuum_core::Error::json(&name, &e))?;
    metadata.validate(&archive.display().to_string())?;
    Ok(metadata)
}

// ---------------------------------------------------------------------------------------------
// Restore

/// Options of [`plan_orchestrator_restore`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct OrchestratorRestoreOptions {
    /// Replace databases that hold data and files that exist and differ.
    pub force: bool,
    /// Only show the plan: [`OrchestratorRestorePlan::apply`] changes nothing.
    pub dry_run: bool,
    /// This host's addresses, to compare with the archived ones; found out when not given.
    pub host_addresses: Option<Vec<String>>,
    /// Where the release files go; when not given they stay in the archive.
    pub release_dir: Option<PathBuf>,
    /// Where the members are unpacked to be checked before anything is restored; by default a
    /// private temporary folder next to the configuration folder.
    pub staging_dir: Option<PathBuf>,
    /// Restore the roles (errors for roles that exist already are expected and tolerated).
    pub with_roles: bool,
    /// Limits against size and count bombs.
    pub limits: Limits,
}

impl Default for OrchestratorRestoreOptions {
    fn default() -> Self {
        Self {
            force: false,
            dry_run: false,
            host_addresses: None,
            release_dir: None,
            staging_dir: None,
            with_roles: true,
            limits: Limits::default(),
        }
    }
}

/// What a restore item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ItemKind {
    /// The roles and tablespaces.
    Roles,
    /// A database.
    Database,
    /// A configuration file.
    ConfigFile,
    /// A release file.
    ReleaseFile,
}

impl ItemKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Roles => "roles",
            Self::Database => "database",
            Self::ConfigFile => "config",
            Self::ReleaseFile => "release",
        }
    }
}

/// What happens to a restore item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ItemAction {
    /// It does not exist: create it.
    Create,
    /// The database exists and is empty: restore into it.
    Fill,
    /// It exists (a database holding data, a file that differs) and force was given: replace it.
    Replace,
    /// Run it (the roles script).
    Apply,
    /// Nothing to do (the file is identical, or not asked for).
    Skip,
    /// It exists and force was not given: the restore is refused.
    Conflict,
}

impl ItemAction {
    fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Fill => "fill",
            Self::Replace => "replace",
            Self::Apply => "apply",
            Self::Skip => "skip",
            Self::Conflict => "conflict",
        }
    }
}

/// One item of a restore plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PlanItem {
    /// What it is.
    pub kind: ItemKind,
    /// Its member in the archive.
    pub member: String,
    /// Where it goes: a database name or a file path.
    pub target: String,
    /// What happens to it.
    pub action: ItemAction,
    /// Its size in the archive.
    pub size: u64,
    /// Why, when it is not obvious.
    pub note: String,
}

/// An orchestrator restore worked out and checked, with nothing changed yet; the archive is
/// unpacked (and every digest verified) in a private staging folder that goes with the plan.
/// [`OrchestratorRestorePlan::apply`] carries it out. Serializes for `--dry-run`; `Display`
/// shows it as a table.
#[derive(Debug, Serialize)]
#[non_exhaustive]
pub struct OrchestratorRestorePlan {
    /// The archive.
    pub archive: PathBuf,
    /// Its metadata.
    pub metadata: ArchiveMetadata,
    /// The configuration folder restored into.
    pub config_dir: PathBuf,
    /// Only show: apply changes nothing.
    pub dry_run: bool,
    /// The items, in the order they are restored.
    pub items: Vec<PlanItem>,
    /// What deserves attention (this host's addresses differ from the archived ones …).
    pub warnings: Vec<String>,
    #[serde(skip)]
    target: PgTarget,
    #[serde(skip)]
    admin: PgTarget,
    #[serde(skip)]
    force: bool,
    #[serde(skip)]
    staging: tempfile::TempDir,
}

/// One database after the restore.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct DatabaseCheck {
    /// Its name.
    pub name: String,
    /// What was done to it.
    pub action: ItemAction,
    /// Every table's count, in name order; all agree when the restore returned.
    pub tables: Vec<TableCheck>,
    /// Rows in all tables.
    pub total_rows: u64,
}

/// One file written by the restore, as read back.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct RestoredFile {
    /// Where it is.
    pub path: PathBuf,
    /// What was done to it.
    pub action: ItemAction,
    /// Its size.
    pub size: u64,
    /// Its SHA-256, equal to the archived one.
    pub sha256: Digest,
}

/// What an orchestrator restore did and found.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct OrchestratorRestoreReport {
    /// The archive.
    pub archive: PathBuf,
    /// Nothing was done: the plan was only shown.
    pub dry_run: bool,
    /// The plan carried out (or shown).
    pub items: Vec<PlanItem>,
    /// The restored databases, verified.
    pub databases: Vec<DatabaseCheck>,
    /// The files written or found identical, verified.
    pub files: Vec<RestoredFile>,
    /// What deserves attention.
    pub warnings: Vec<String>,
}

/// Plans the restore of an orchestrator archive and changes nothing.
///
/// The release gate is checked as soon as `metadata.json` is read: an archive made before
/// platform release 2.4.0 is refused with an explanation of the manual path. Every member is
/// then unpacked into a private staging folder (next to `config_dir`, or
/// `options.staging_dir`) with every check of [`verify_archive`]. Each database is planned
/// as create (missing), fill (empty), replace (holds data, with force) or conflict; each
/// file as create, skip (identical), replace (differs, with force) or conflict. This host's
/// addresses are compared with the archived ones: the cluster expects the orchestrator at the
/// same address, so a difference is a warning.
pub fn plan_orchestrator_restore(
    archive: &Path,
    target: &PgTarget,
    config_dir: &Path,
    options: &OrchestratorRestoreOptions,
) -> Result<OrchestratorRestorePlan> {
    let staging_parent = match &options.staging_dir {
        Some(dir) => dir.clone(),
        None => nearest_existing_parent(config_dir),
    };
    let mut staging: Option<tempfile::TempDir> = None;
    let scanned = scan_archive(archive, options.limits, &mut |metadata| {
        if !metadata.meets_release_gate() {
            return Err(Error::ReleaseGate {
                archive: archive.display().to_string(),
                release: metadata.platform_release.clone(),
            });
        }
        let dir = tempfile::Builder::new()
            .prefix(".continuum-restore-")
            .tempdir_in(&staging_parent)
            .map_err(|e| {
                continuum_core::Error::io("create a staging folder in", &staging_parent, e)
            })?;
        let root = dir.path().to_path_buf();
        staging = Some(dir);
        Ok(Some(root))
    })?;
    let staging = staging.ok_or_else(|| archive_error(archive, "nothing was unpacked"))?;
    let metadata = scanned.metadata;
    let names: Vec<&str> = metadata.databases.iter().map(|d| d.name.as_str()).collect();
    // Questions about the databases go to a database the restore will not drop or create.
    let admin = if names.contains(&target.database.as_str()) {
        target.with_database("postgres")
    } else {
        target.clone()
    };
    let size_of = |member: &MemberPath| metadata.member(member.as_str()).map_or(0, |m| m.size);

    let mut items = Vec::new();
    if let Some(roles) = &metadata.roles {
        let (action, note) = if options.with_roles {
            (
                ItemAction::Apply,
                "missing roles are created; every archived role gets its archived attributes"
                    .to_string(),
            )
        } else {
            (ItemAction::Skip, "roles not asked for".to_string())
        };
        items.push(PlanItem {
            kind: ItemKind::Roles,
            member: roles.to_string(),
            target: admin.label(),
            action,
            size: size_of(roles),
            note,
        });
    }
    for db in &metadata.databases {
        let (action, note) = database_action(&admin, &db.name, options.force)?;
        items.push(PlanItem {
            kind: ItemKind::Database,
            member: db.file.to_string(),
            target: db.name.clone(),
            action,
            size: size_of(&db.file),
            note,
        });
    }
    for member in &metadata.config {
        let dest = below(member, "config", config_dir)?;
        let expected = metadata.member(member.as_str());
        let (action, note) = file_action(&dest, expected, options.force);
        items.push(PlanItem {
            kind: ItemKind::ConfigFile,
            member: member.to_string(),
            target: dest.display().to_string(),
            action,
            size: size_of(member),
            note,
        });
    }
    let release_members =
        std::iter::once(&metadata.release.version_file).chain(metadata.release.bundle.as_ref());
    for member in release_members {
        let (target_path, action, note) = match &options.release_dir {
            Some(dir) => {
                let dest = below(member, "release", dir)?;
                let (action, note) =
                    file_action(&dest, metadata.member(member.as_str()), options.force);
                (dest.display().to_string(), action, note)
            }
            None => (
                String::new(),
                ItemAction::Skip,
                "no release folder given: it stays in the archive".to_string(),
            ),
        };
        items.push(PlanItem {
            kind: ItemKind::ReleaseFile,
            member: member.to_string(),
            target: target_path,
            action,
            size: size_of(member),
            note,
        });
    }

    let mut warnings = Vec::new();
    let here = match &options.host_addresses {
        Some(given) => parse_addresses(&given.join(" ")),
        None => local_host_addresses(),
    };
    let archived = parse_addresses(&metadata.host_addresses.join(" "));
    if archived != here && !archived.is_empty() {
        warnings.push(format!(
            "this host's addresses ({}) differ from those of `{}`, where the archive was made ({}): \
             the cluster expects the orchestrator at the same IP address; give this host {} or \
             update cluster.conf and the Terraform files",
            list_or_none(&here),
            metadata.host,
            list_or_none(&archived),
            list_or_none(&archived),
        ));
    }
    if metadata.roles.is_none() {
        warnings.push(
            "the archive holds no roles: the roles owning the databases' objects must exist already"
                .to_string(),
        );
    }
    Ok(OrchestratorRestorePlan {
        archive: archive.to_path_buf(),
        metadata,
        config_dir: config_dir.to_path_buf(),
        dry_run: options.dry_run,
        items,
        warnings,
        target: target.clone(),
        admin,
        force: options.force,
        staging,
    })
}

/// Plans and applies: [`plan_orchestrator_restore`] then [`OrchestratorRestorePlan::apply`]
/// (which verifies, and does nothing with `dry_run`).
pub fn restore_orchestrator(
    archive: &Path,
    target: &PgTarget,
    config_dir: &Path,
    options: &OrchestratorRestoreOptions,
) -> Result<OrchestratorRestoreReport> {
    plan_orchestrator_restore(archive, target, config_dir, options)?.apply()
}

fn list_or_none(addresses: &[String]) -> String {
    if addresses.is_empty() {
        "none".to_string()
    } else {
        addresses.join(", ")
    }
}

/// The first folder that exists among `path`'s ancestors (`.` for a relative path).
fn nearest_existing_parent(path: &Path) -> PathBuf {
    let mut current = path.parent();
    while let Some(dir) = current {
        if dir.as_os_str().is_empty() {
            break;
        }
        if dir.is_dir() {
            return dir.to_path_buf();
        }
        current = dir.parent();
    }
    PathBuf::from(".")
}

/// Where a member below `folder/` goes below `dest`.
fn below(member: &MemberPath, folder: &str, dest: &Path) -> Result<PathBuf> {
    let rest = member
        .as_str()
        .strip_prefix(folder)
        .and_then(|r| r.strip_prefix('/'))
        .unwrap_or_default();
    Ok(MemberPath::parse(rest)?.to_path(dest))
}

fn database_action(admin: &PgTarget, name: &str, force: bool) -> Result<(ItemAction, String)> {
    Ok(if !admin.database_exists(name)? {
        (ItemAction::Create, String::new())
    } else if admin.is_empty(name)? {
        (ItemAction::Fill, "exists and is empty".to_string())
    } else if force {
        (
            ItemAction::Replace,
            "holds data: replaced once the archived copy is loaded and verified beside it"
                .to_string(),
        )
    } else {
        (
            ItemAction::Conflict,
            "exists and is not empty (use force to replace it)".to_string(),
        )
    })
}

fn file_action(dest: &Path, expected: Option<&ArchiveMember>, force: bool) -> (ItemAction, String) {
    match fs::symlink_metadata(dest) {
        Err(_) => (ItemAction::Create, String::new()),
        Ok(meta) if !meta.is_file() => (
            ItemAction::Conflict,
            "exists and is not a regular file".to_string(),
        ),
        Ok(_) => {
            let same = expected.is_some_and(|m| {
                File::open(dest)
                    .ok()
                    .and_then(|f| digest_reader(f).ok())
                    .is_some_and(|(sha, size)| sha == m.sha256 && size == m.size)
            });
            if same {
                (ItemAction::Skip, "exists and is identical".to_string())
            } else if force {
                (ItemAction::Replace, "exists and differs".to_string())
            } else {
                (
                    ItemAction::Conflict,
                    "exists and differs (use force to replace it)".to_string(),
                )
            }
        }
    }
}

impl OrchestratorRestorePlan {
    /// The items that stop the restore.
    pub fn conflicts(&self) -> impl Iterator<Item = &PlanItem> {
        self.items
            .iter()
            .filter(|i| i.action == ItemAction::Conflict)
    }

    /// The staged member (already verified).
    fn staged(&self, member: &str) -> Result<PathBuf> {
        Ok(MemberPath::parse(member)?.to_path(self.staging.path()))
    }

    /// Carries the plan out and verifies it; with `dry_run`, returns the plan as a report and
    /// changes nothing.
    ///
    /// Refuses, changing nothing, when an item is a conflict, or when a database or a file
    /// changed since the plan so that it would now be replaced without force. Then: the
    /// roles (`psql`, errors for existing roles tolerated); each database, loaded with
    /// `psql -X -v ON_ERROR_STOP=1 -f <dump>` into a staging database
    /// (`<name>__restore_<hex>`), its tables counted against the archive, given its archived
    /// owner, and only then renamed into place (an existing database, empty or replaced, is
    /// renamed away in the same transaction, its sessions ended, and dropped; see
    /// [`crate::RestoreAction`]); the files (atomically, replacing only as planned), each read
    /// back. A failure before a database's swap drops its staging database and leaves the
    /// database as it was; the databases swapped in before it stay restored.
    pub fn apply(self) -> Result<OrchestratorRestoreReport> {
        if self.dry_run {
            return Ok(OrchestratorRestoreReport {
                archive: self.archive,
                dry_run: true,
                items: self.items,
                databases: Vec::new(),
                files: Vec::new(),
                warnings: self.warnings,
            });
        }
        self.recheck()?;
        let mut warnings = self.warnings.clone();
        for item in &self.items {
            if item.kind == ItemKind::Roles && item.action == ItemAction::Apply {
                self.restore_roles(item)?;
            }
        }
        let mut databases = Vec::new();
        for item in self.items.iter().filter(|i| i.kind == ItemKind::Database) {
            let check =
                self.restore_database(item, &mut warnings)
                    .map_err(|e| Error::Database {
                        database: item.target.clone(),
                        source: Box::new(e),
                    })?;
            databases.extend(check);
        }
        let mut files = Vec::new();
        for item in &self.items {
            if !matches!(item.kind, ItemKind::ConfigFile | ItemKind::ReleaseFile)
                || item.target.is_empty()
            {
                continue;
            }
            let expected = self.metadata.member(&item.member).ok_or_else(|| {
                archive_error(&self.archive, format!("`{}` is not listed", item.member))
            })?;
            let dest = PathBuf::from(&item.target);
            // A file that has become identical since the plan needs no writing.
            let now = file_action(&dest, Some(expected), self.force).0;
            match item.action {
                ItemAction::Create | ItemAction::Replace if now != ItemAction::Skip => {
                    let staged = self.staged(&item.member)?;
                    let mut input = File::open(&staged)
                        .map_err(|e| continuum_core::Error::io("open", &staged, e))?;
                    let mut options = WriteOptions::replacing(item.action == ItemAction::Replace);
                    options.expected_sha256 = Some(expected.sha256);
                    write_atomic(&dest, &mut input, options)?;
                }
                _ => {}
            }
            let (sha256, size) = File::open(&dest)
                .and_then(digest_reader)
                .map_err(|e| continuum_core::Error::io("read back", &dest, e))?;
            if sha256 != expected.sha256 || size != expected.size {
                return Err(continuum_core::Error::Corrupt {
                    entry: dest.display().to_string(),
                    expected: expected.sha256.to_string(),
                    actual: sha256.to_string(),
                }
                .into());
            }
            files.push(RestoredFile {
                path: dest,
                action: item.action,
                size,
                sha256,
            });
        }
        Ok(OrchestratorRestoreReport {
            archive: self.archive,
            dry_run: false,
            items: self.items,
            databases,
            files,
            warnings,
        })
    }

    /// Refuses conflicts, and changes since the plan that would now replace something
    /// without force.
    fn recheck(&self) -> Result<()> {
        let mut conflicts: Vec<String> = Vec::new();
        for item in &self.items {
            let now = match item.kind {
                ItemKind::Database => database_action(&self.admin, &item.target, self.force)?.0,
                ItemKind::ConfigFile | ItemKind::ReleaseFile if !item.target.is_empty() => {
                    file_action(
                        Path::new(&item.target),
                        self.metadata.member(&item.member),
                        self.force,
                    )
                    .0
                }
                _ => item.action,
            };
            let refused = item.action == ItemAction::Conflict
                || now == ItemAction::Conflict
                || (now == ItemAction::Replace && item.action != ItemAction::Replace);
            if refused {
                let what = match item.kind {
                    ItemKind::Database => format!("database `{}` is not empty", item.target),
                    _ => format!("`{}` exists and differs", item.target),
                };
                conflicts.push(what);
            }
        }
        if conflicts.is_empty() {
            Ok(())
        } else {
            Err(Error::RestoreConflicts { conflicts })
        }
    }

    fn restore_roles(&self, item: &PlanItem) -> Result<()> {
        let staged = self.staged(&item.member)?;
        let stderr = run_psql(&self.admin, &staged, false)?;
        // psql goes on after a failed statement; only a role or tablespace that exists
        // already (this server's own `postgres`, at least) is expected to fail.
        let fatal: Vec<&str> = stderr
            .lines()
            .filter(|l| l.contains("ERROR:") && !l.contains("already exists"))
            .collect();
        if fatal.is_empty() {
            Ok(())
        } else {
            Err(Error::ChildFailed {
                program: "psql".to_string(),
                status: format!("{} statements of `{}` failed", fatal.len(), item.member),
                stderr: fatal.join("\n"),
            })
        }
    }

    /// Loads a database into a staging database, checks its row counts there, gives it its
    /// archived owner, and swaps it into place; returns its check.
    fn restore_database(
        &self,
        item: &PlanItem,
        warnings: &mut Vec<String>,
    ) -> Result<Option<DatabaseCheck>> {
        let name = item.target.as_str();
        if !matches!(
            item.action,
            ItemAction::Create | ItemAction::Fill | ItemAction::Replace
        ) {
            return Ok(None);
        }
        let db = self
            .metadata
            .databases
            .iter()
            .find(|d| d.name == name)
            .ok_or_else(|| {
                archive_error(&self.archive, format!("database `{name}` is not listed"))
            })?;
        // The database may have changed since the plan (and the databases before it took
        // their time): never replace data that was not planned to be.
        let now = match database_action(&self.admin, name, true)?.0 {
            ItemAction::Create => RestoreAction::Create,
            ItemAction::Fill => RestoreAction::Fill,
            _ if item.action == ItemAction::Replace => RestoreAction::Replace,
            _ => {
                return Err(Error::DatabaseNotEmpty {
                    database: name.to_string(),
                });
            }
        };
        // Dropped on any failure before the swap, the staging database takes the partial load
        // with it.
        let staging = StagingDatabase::create(&self.target, name, now)?;
        let staged = self.staged(&item.member)?;
        run_psql(&self.target.with_database(staging.name()), &staged, true)?;
        let (tables, found) = check_row_counts(&self.target, &staging, &db.row_counts)?;
        // The archived owner when there is one (the database is ours as created); otherwise,
        // or when it cannot be given, a database replaced keeps its owner.
        let mut owner_set = false;
        if let Some(owner) = db.owner.as_deref() {
            if owner == self.target.user {
                owner_set = true;
            } else {
                let sql = format!(
                    "ALTER DATABASE {} OWNER TO {}",
                    quote_ident(staging.name()),
                    quote_ident(owner)
                );
                match run_psql_command(&self.admin, &sql) {
                    Ok(_) => owner_set = true,
                    Err(e) => warnings.push(format!(
                        "database `{name}` could not be given to `{owner}`, its owner before: {e}"
                    )),
                }
            }
        }
        warnings.extend(staging.swap_into(now, !owner_set)?);
        Ok(Some(DatabaseCheck {
            name: name.to_string(),
            action: item.action,
            total_rows: found.values().sum(),
            tables,
        }))
    }
}

impl fmt::Display for OrchestratorRestorePlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = &self.metadata;
        writeln!(
            f,
            "orchestrator archive {} (release {}, cluster {}, made {} on {})",
            self.archive.display(),
            m.platform_release,
            m.cluster_name.as_deref().unwrap_or("unnamed"),
            m.created_at,
            m.host
        )?;
        let width = self
            .items
            .iter()
            .map(|i| i.member.len())
            .max()
            .unwrap_or(0)
            .max(6);
        writeln!(
            f,
            "{:<9} {:<9} {:<width$} TARGET",
            "ACTION", "KIND", "MEMBER"
        )?;
        for i in &self.items {
            write!(
                f,
                "{:<9} {:<9} {:<width$} {}",
                i.action.as_str(),
                i.kind.as_str(),
                i.member,
                i.target
            )?;
            if i.note.is_empty() {
                writeln!(f)?;
            } else {
                writeln!(f, " ({})", i.note)?;
            }
        }
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        Ok(())
    }
}

/// `psql -X -q -f <file>` against the target's database, with or without `ON_ERROR_STOP`;
/// its stderr (last 64 KiB, the password hidden) when it succeeds.
fn run_psql(target: &PgTarget, file: &Path, stop_on_error: bool) -> Result<String> {
    let mut cmd = target.command("psql");
    cmd.args(["-X", "-q", "-v"])
        .arg(if stop_on_error {
            "ON_ERROR_STOP=1"
        } else {
            "ON_ERROR_STOP=0"
        })
        .arg("-f")
        .arg(file)
        .arg("-d")
        .arg(target.dbname_arg());
    run_quiet(cmd, target)
}

fn run_psql_command(target: &PgTarget, sql: &str) -> Result<String> {
    let mut cmd = target.command("psql");
    cmd.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql, "-d"])
        .arg(target.dbname_arg());
    run_quiet(cmd, target)
}

/// Runs a program with its output discarded; its stderr when it succeeds.
fn run_quiet(mut cmd: Command, target: &PgTarget) -> Result<String> {
    let program = Path::new(cmd.get_program())
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let out = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|source| Error::Spawn {
            program: program.clone(),
            source,
        })?;
    let tail = out
        .stderr
        .get(out.stderr.len().saturating_sub(STDERR_TAIL)..)
        .unwrap_or_default();
    let mut stderr = String::from_utf8_lossy(tail).into_owned();
    for secret in target.secrets() {
        if !secret.expose().is_empty() {
            stderr = stderr.replace(secret.expose(), "***");
        }
    }
    if out.status.success() {
        Ok(stderr)
    } else {
        Err(Error::ChildFailed {
            program,
            status: out.status.to_string(),
            stderr,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_versions_compare_numerically() {
        let v = |t: &str| ReleaseVersion::parse(t);
        assert_eq!(v("2.4.0"), Some(ReleaseVersion::new(2, 4, 0)));
        assert_eq!(v("2.4"), Some(ReleaseVersion::new(2, 4, 0)));
        assert_eq!(v("v2.6.1"), Some(ReleaseVersion::new(2, 6, 1)));
        assert_eq!(v("2.4.0-rc1"), Some(ReleaseVersion::new(2, 4, 0)));
        assert_eq!(v(" 3 "), Some(ReleaseVersion::new(3, 0, 0)));
        for bad in ["", "x", "2.x", "2..4", "2.4.0.1", "-1", "v"] {
            assert_eq!(v(bad), None, "{bad}");
        }
        assert!(v("2.10.0") > v("2.9.9"));
        assert!(meets_release_gate("2.4.0"));
        assert!(meets_release_gate("2.4.0-rc1"));
        assert!(meets_release_gate("v2.10"));
        assert!(!meets_release_gate("2.3.9"));
        assert!(!meets_release_gate("1.99.99"));
        assert!(!meets_release_gate("unknown"));
    }

    #[test]
    fn host_addresses_are_parsed() {
        assert_eq!(
            parse_addresses("192.0.2.2 fd00::2 127.0.0.1 ::1 fe80::1 10.0.0.1 192.0.2.2 junk"),
            ["10.0.0.1", "192.0.2.2", "fd00::2"]
        );
        let trie = "Main:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 0.0.0.0\n        /0 universe UNICAST\n     \
                    +-- 127.0.0.0/8 2 0 2\n        |-- 127.0.0.1\n           /32 host LOCAL\n     \
                    |-- 10.1.2.3\n        /32 host LOCAL\n     |-- 10.1.2.255\n        /32 link BROADCAST\n";
        assert_eq!(parse_fib_trie(trie), ["127.0.0.1", "10.1.2.3"]);
        let inet6 = "fd000000000000000000000000000002 02 40 00 80     eth0\n\
                     00000000000000000000000000000001 01 80 10 80       lo\n";
        assert_eq!(parse_if_inet6(inet6), ["fd00::2", "::1"]);
        assert_eq!(
            archive_file_name("2026-03-04T05:06:07Z".parse().unwrap()),
            "orchestrator_backup_20260304T050607Z.tgz"
        );
    }

    /// A member written into a hand-made archive.
    enum Raw<'a> {
        File(&'a str, &'a [u8]),
        Link(&'a str, &'a str),
        Fifo(&'a str),
        Dir(&'a str),
    }

    fn metadata_for(files: &[(&str, &[u8])]) -> ArchiveMetadata {
        let members: Vec<ArchiveMember> = files
            .iter()
            .map(|(p, d)| ArchiveMember {
                path: MemberPath::parse(p).unwrap(),
                size: d.len() as u64,
                sha256: Digest::of(d),
            })
            .collect();
        ArchiveMetadata {
            format_version: ARCHIVE_FORMAT_VERSION,
            created_at: "2026-01-02T03:04:05Z".parse().unwrap(),
            producer: "test".into(),
            host: "h".into(),
            host_addresses: vec!["192.0.2.1".into()],
            cluster_name: Some("c".into()),
            orchestrator_version: "2.6.1".into(),
            platform_release: "2.6.1".into(),
            postgresql_version: "15".into(),
            release: ArchivedRelease {
                version: "2.6.1".into(),
                version_file: MemberPath::parse(VERSION_MEMBER).unwrap(),
                bundle: None,
            },
            databases: vec![ArchivedDatabase {
                name: "orchestrator".into(),
                owner: None,
                file: MemberPath::parse("db/orchestrator.sql").unwrap(),
                row_counts: BTreeMap::new(),
            }],
            roles: None,
            config: vec![MemberPath::parse("config/cluster.conf").unwrap()],
            members,
        }
    }

    const GOOD: [(&str, &[u8]); 3] = [
        ("release/version", b"2.6.1\n"),
        ("db/orchestrator.sql", b"CREATE TABLE t ();\n"),
        ("config/cluster.conf", b"chef: {}\n"),
    ];

    fn tgz(dir: &Path, name: &str, meta: Option<&ArchiveMetadata>, raws: &[Raw<'_>]) -> PathBuf {
        let mut b = tar::Builder::new(Vec::new());
        if let Some(meta) = meta {
            let json = serde_json::to_vec(meta).unwrap();
            let mut h = tar_header(json.len() as u64, 0);
            b.append_data(&mut h, ARCHIVE_METADATA, json.as_slice())
                .unwrap();
        }
        for raw in raws {
            match raw {
                Raw::File(p, d) => {
                    let mut h = tar_header(d.len() as u64, 0);
                    b.append_data(&mut h, p, *d).unwrap();
                }
                Raw::Link(p, t) => {
                    let mut h = tar_header(0, 0);
                    h.set_entry_type(tar::EntryType::Symlink);
                    b.append_link(&mut h, p, t).unwrap();
                }
                Raw::Fifo(p) => {
                    let mut h = tar_header(0, 0);
                    h.set_entry_type(tar::EntryType::Fifo);
                    b.append_data(&mut h, p, io::empty()).unwrap();
                }
                Raw::Dir(p) => {
                    let mut h = tar_header(0, 0);
                    h.set_entry_type(tar::EntryType::Directory);
                    h.set_mode(0o755);
                    b.append_data(&mut h, p, io::empty()).unwrap();
                }
            }
        }
        let tar = b.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&tar).unwrap();
        let path = dir.join(name);
        fs::write(&path, gz.finish().unwrap()).unwrap();
        path
    }

    fn good_raws() -> Vec<Raw<'static>> {
        GOOD.iter().map(|(p, d)| Raw::File(p, d)).collect()
    }

    #[test]
    fn the_reader_accepts_a_sound_archive_and_refuses_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let meta = metadata_for(&GOOD);
        let mut raws = vec![Raw::Dir("config/")];
        raws.extend(good_raws());
        let ok = tgz(dir.path(), "ok.tgz", Some(&meta), &raws);
        let report = verify_archive(&ok).unwrap();
        assert_eq!((report.members, report.restorable), (3, true));

        let err = |name: &str, meta: Option<&ArchiveMetadata>, raws: &[Raw<'_>]| {
            let p = tgz(dir.path(), name, meta, raws);
            verify_archive(&p).unwrap_err().to_string()
        };
        // metadata.json not first
        let mut raws = good_raws();
        raws.insert(0, Raw::File("other.txt", b"x"));
        let e = err("first.tgz", None, &raws);
        assert!(e.contains("first member is `other.txt`"), "{e}");
        assert!(e.contains("2.4.0") && e.contains("psql"), "{e}");
        // a link, a FIFO, an unlisted member, a folder holding nothing listed
        let mut raws = good_raws();
        raws.push(Raw::Link("config/evil", "../../etc/passwd"));
        let e = err("link.tgz", Some(&meta), &raws);
        assert!(e.contains("`config/evil` is a link"), "{e}");
        let mut raws = good_raws();
        raws.push(Raw::Fifo("config/fifo"));
        let e = err("fifo.tgz", Some(&meta), &raws);
        assert!(e.contains("`config/fifo` is a special file"), "{e}");
        let mut raws = good_raws();
        raws.push(Raw::File("config/extra.tf", b"x"));
        let e = err("extra.tgz", Some(&meta), &raws);
        assert!(e.contains("`config/extra.tf` is not listed"), "{e}");
        let mut raws = good_raws();
        raws.push(Raw::Dir("elsewhere/"));
        let e = err("dir.tgz", Some(&meta), &raws);
        assert!(e.contains("`elsewhere` holds no listed member"), "{e}");
        // a listed member missing, one appearing twice
        let raws = good_raws().into_iter().take(2).collect::<Vec<_>>();
        let e = err("missing.tgz", Some(&meta), &raws);
        assert!(e.contains("`config/cluster.conf` is listed"), "{e}");
        let mut raws = good_raws();
        raws.push(Raw::File("config/cluster.conf", b"chef: {}\n"));
        let e = err("twice.tgz", Some(&meta), &raws);
        assert!(e.contains("appears twice"), "{e}");
        // content that is not what the metadata says, with the same or another size
        let raws = vec![
            Raw::File("release/version", b"2.6.1\n"),
            Raw::File("db/orchestrator.sql", b"CREATE TABLE u ();\n"),
            Raw::File("config/cluster.conf", b"chef: {}\n"),
        ];
        let e = err("flipped.tgz", Some(&meta), &raws);
        assert!(e.contains("`db/orchestrator.sql` is corrupt"), "{e}");
        let raws = vec![
            Raw::File("release/version", b"2.6.10\n"),
            Raw::File("db/orchestrator.sql", b"CREATE TABLE t ();\n"),
            Raw::File("config/cluster.conf", b"chef: {}\n"),
        ];
        let e = err("size.tgz", Some(&meta), &raws);
        assert!(
            e.contains("`release/version` is corrupt: expected 6 bytes"),
            "{e}"
        );
        // a format version from the future, inconsistent metadata
        let mut future = meta.clone();
        future.format_version = 9;
        let e = err("future.tgz", Some(&future), &good_raws());
        assert!(e.contains("format version 9"), "{e}");
        let mut unreferenced = metadata_for(&GOOD);
        unreferenced.config.clear();
        let e = err("unref.tgz", Some(&unreferenced), &good_raws());
        assert!(e.contains("not said to be anything"), "{e}");
        // limits
        let p = tgz(dir.path(), "limits.tgz", Some(&meta), &good_raws());
        let e = verify_archive_with(&p, Limits::new(10, 1 << 20, 100))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`db/orchestrator.sql` exceeds the limit of 10 bytes"),
            "{e}"
        );
        let e = verify_archive_with(&p, Limits::new(1 << 20, 1 << 20, 2))
            .unwrap_err()
            .to_string();
        assert!(e.contains("2 entries"), "{e}");
        // not gzip at all
        let p = dir.path().join("plain.tgz");
        fs::write(&p, b"hello").unwrap();
        assert!(verify_archive(&p).is_err());
    }

    #[test]
    fn old_releases_are_refused_before_anything_is_unpacked() {
        let dir = tempfile::tempdir().unwrap();
        let mut meta = metadata_for(&GOOD);
        meta.platform_release = "2.3.9".into();
        let p = tgz(dir.path(), "old.tgz", Some(&meta), &good_raws());
        assert!(!verify_archive(&p).unwrap().restorable);
        // the gate is checked before the server is asked anything: an unreachable target
        let target = PgTarget::parse("postgresql://nobody@127.0.0.1:1/none").unwrap();
        let config = dir.path().join("config");
        let e =
            plan_orchestrator_restore(&p, &target, &config, &OrchestratorRestoreOptions::default())
                .unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, Error::ReleaseGate { .. }), "{text}");
        assert!(text.contains("2.3.9") && text.contains("2.4.0"), "{text}");
        assert!(text.contains("psql") && text.contains("config/"), "{text}");
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "only the archive: {left:?}");
    }
}

#[cfg(test)]
mod schema_tests {
    #[test]
    fn committed_schema_is_current() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../docs/schemas/orchestrator-metadata.schema.json"
        );
        let generated = super::ArchiveMetadata::json_schema();
        if std::env::var_os("UPDATE_SCHEMAS").is_some() {
            std::fs::write(path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert_eq!(
            committed, generated,
            "run with UPDATE_SCHEMAS=1 to refresh docs/schemas"
        );
    }
}
