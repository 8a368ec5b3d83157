//! Cluster data (`continuum-orchestrator`): `cluster.conf`, the PostgreSQL component
//! database backups, and the orchestrator archive.
//!
//! A PostgreSQL server is named by a `postgresql://` URL (`dsn`) or, without one, by the
//! standard environment (`DATABASE_URL`, `PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`,
//! `PGDATABASE`). A password is never shown: not in a report, not in an error.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use continuum_core::Reason;
use continuum_orchestrator::{
    ClusterConf, DbBackupOptions, DbRestoreOptions, OrchestratorBackupOptions,
    OrchestratorRestoreOptions, PgTarget, TableCheck,
};

use crate::{Manifest, Result, Store, json, path_text, serde_name};

/// The server `dsn` names, or the one the environment describes.
pub(crate) fn target(dsn: Option<&str>) -> continuum_orchestrator::Result<PgTarget> {
    match dsn {
        Some(url) => PgTarget::parse(url),
        None => PgTarget::from_env(),
    }
}

// ---------------------------------------------------------------------------------------
// cluster.conf

/// A group of machines and the component tags they take.
#[derive(Debug, Clone, uniffi::Record)]
pub struct MachineGroup {
    pub name: String,
    /// In order; the first is the group's master.
    pub hosts: Vec<String>,
    pub suitable_tags: Vec<String>,
}

impl From<continuum_orchestrator::MachineGroup> for MachineGroup {
    fn from(g: continuum_orchestrator::MachineGroup) -> Self {
        Self {
            name: g.name,
            hosts: g.hosts,
            suitable_tags: g.suitable_tags,
        }
    }
}

/// `chef.continuum.database_backups`: the S3 bucket of the database backups. Its keys stay
/// in Rust: only whether they are set comes out.
#[derive(Debug, Clone, uniffi::Record)]
pub struct DatabaseBackups {
    pub bucket: String,
    pub region: String,
    pub store_url: String,
    pub has_credentials: bool,
}

/// What one database host keeps of the database backups.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Placement {
    pub host: String,
    pub databases: Vec<String>,
    pub keep_local: bool,
    pub upload_s3: bool,
    pub local_dir: String,
    pub reason: String,
}

impl From<continuum_orchestrator::Placement> for Placement {
    fn from(p: continuum_orchestrator::Placement) -> Self {
        Self {
            host: p.host,
            databases: p.databases,
            keep_local: p.keep_local,
            upload_s3: p.upload_s3,
            local_dir: p.local_dir,
            reason: p.reason,
        }
    }
}

/// A parsed `cluster.conf`; `json` is every typed view and the whole tree, with every
/// secret (keys, passwords, private keys) replaced by a placeholder.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ClusterConfInfo {
    pub file: String,
    pub cluster_name: Option<String>,
    pub base_domain: Option<String>,
    pub provisioner: Option<String>,
    pub machine_groups: Vec<MachineGroup>,
    /// How many of each component.
    pub components: HashMap<String, u64>,
    pub database_backups: Option<DatabaseBackups>,
    pub json: String,
}

/// Reads and parses a `cluster.conf`.
#[uniffi::export]
pub fn cluster_conf_load(path: String) -> Result<ClusterConfInfo> {
    let conf = ClusterConf::load(Path::new(&path))?;
    Ok(ClusterConfInfo {
        json: json(&conf),
        database_backups: conf.database_backups.as_ref().map(|b| DatabaseBackups {
            bucket: b.bucket.clone(),
            region: b.region.clone(),
            store_url: b.store_url(),
            has_credentials: !b.access_key.expose().is_empty() && !b.secret_key.expose().is_empty(),
        }),
        file: conf.file,
        cluster_name: conf.cluster_name,
        base_domain: conf.base_domain,
        provisioner: conf.provisioner,
        machine_groups: conf
            .machine_groups
            .into_iter()
            .map(MachineGroup::from)
            .collect(),
        components: conf.components.into_iter().collect(),
    })
}

/// What `host` keeps of the database backups, as the `cluster.conf` at `path` places them.
#[uniffi::export]
pub fn cluster_conf_placement(path: String, host: String) -> Result<Placement> {
    let conf = ClusterConf::load(Path::new(&path))?;
    Ok(conf.placement(&host).into())
}

// ---------------------------------------------------------------------------------------
// Database backups

/// How `database_backup` dumps.
#[derive(Debug, Clone, uniffi::Record)]
pub struct DatabaseBackupSettings {
    #[uniffi(default = None)]
    pub dsn: Option<String>,
    /// `daily`, `deploy`, `manual` or `migration`.
    #[uniffi(default = "manual")]
    pub reason: String,
    /// Also save roles and tablespaces (`pg_dumpall --globals-only`, a superuser's right).
    #[uniffi(default = true)]
    pub with_globals: bool,
    #[uniffi(default = None)]
    pub cluster_name: Option<String>,
}

/// How `database_restore` restores.
#[derive(Debug, Clone, uniffi::Record)]
pub struct DatabaseRestoreSettings {
    #[uniffi(default = None)]
    pub dsn: Option<String>,
    /// Restore under this name instead of the original one.
    #[uniffi(default = None)]
    pub as_name: Option<String>,
    /// Replace a target database that holds data.
    #[uniffi(default = false)]
    pub force: bool,
    /// Also restore the set's roles and tablespaces first.
    #[uniffi(default = false)]
    pub with_globals: bool,
}

impl DatabaseRestoreSettings {
    fn options(&self) -> DbRestoreOptions {
        let mut options = DbRestoreOptions::default();
        options.as_name = self.as_name.clone();
        options.force = self.force;
        options.with_globals = self.with_globals;
        options
    }
}

/// A table's row count: recorded at backup time, and found after the restore.
#[derive(Debug, Clone, uniffi::Record)]
pub struct TableRows {
    /// `schema.table`.
    pub table: String,
    pub expected: Option<u64>,
    pub actual: Option<u64>,
}

pub(crate) fn table_rows(tables: Vec<TableCheck>) -> Vec<TableRows> {
    tables
        .into_iter()
        .map(|t| TableRows {
            table: t.table,
            expected: t.expected,
            actual: t.actual,
        })
        .collect()
}

/// A database restore worked out, with nothing changed.
#[derive(Debug, Clone, uniffi::Record)]
pub struct DatabaseRestorePlan {
    pub set_id: String,
    pub database: String,
    pub target_database: String,
    /// `create`, `fill` or `replace`.
    pub action: String,
    pub artifact: String,
    pub artifact_size: u64,
    pub server_version: String,
    pub globals: bool,
    pub expected_rows: HashMap<String, u64>,
}

/// What a database restore did: every table's row count agreed with the recorded one.
#[derive(Debug, Clone, uniffi::Record)]
pub struct DatabaseRestoreReport {
    pub set_id: String,
    pub database: String,
    pub target_database: String,
    /// `create`, `fill` or `replace`.
    pub action: String,
    pub globals_restored: bool,
    pub tables: Vec<TableRows>,
    pub total_rows: u64,
}

/// Dumps `databases` (`pg_dump`, streamed through zstd, row counts recorded) into one new
/// backup set of `store`.
#[uniffi::export]
pub fn database_backup(
    store: Arc<Store>,
    databases: Vec<String>,
    settings: DatabaseBackupSettings,
) -> Result<Manifest> {
    let mut options = DbBackupOptions::new(settings.reason.parse::<Reason>()?);
    options.with_globals = settings.with_globals;
    options.cluster_name = settings.cluster_name;
    let target = target(settings.dsn.as_deref())?;
    let manifest =
        continuum_orchestrator::backup_databases(store.0.clone(), &target, &databases, &options)?;
    Ok(manifest.into())
}

/// Plans the restore of one database of a set and changes nothing (a dry run).
#[uniffi::export]
pub fn database_plan_restore(
    store: Arc<Store>,
    set_id: String,
    database: String,
    settings: DatabaseRestoreSettings,
) -> Result<DatabaseRestorePlan> {
    let target = target(settings.dsn.as_deref())?;
    let plan = continuum_orchestrator::plan_database_restore(
        store.0.as_ref(),
        &set_id,
        &database,
        &target,
        &settings.options(),
    )?;
    Ok(DatabaseRestorePlan {
        action: serde_name(&plan.action),
        set_id: plan.set_id,
        database: plan.database,
        target_database: plan.target_database,
        artifact: plan.artifact,
        artifact_size: plan.artifact_size,
        server_version: plan.server_version,
        globals: plan.globals,
        expected_rows: plan.expected_rows.into_iter().collect(),
    })
}

/// Restores one database of a set (`pg_restore`), then checks every table's row count
/// against the one recorded at backup time.
#[uniffi::export]
pub fn database_restore(
    store: Arc<Store>,
    set_id: String,
    database: String,
    settings: DatabaseRestoreSettings,
) -> Result<DatabaseRestoreReport> {
    let target = target(settings.dsn.as_deref())?;
    let report = continuum_orchestrator::restore_database(
        store.0.as_ref(),
        &set_id,
        &database,
        &target,
        &settings.options(),
    )?;
    Ok(DatabaseRestoreReport {
        action: serde_name(&report.action),
        set_id: report.set_id,
        database: report.database,
        target_database: report.target_database,
        globals_restored: report.globals_restored,
        tables: table_rows(report.tables),
        total_rows: report.total_rows,
    })
}

// ---------------------------------------------------------------------------------------
// The orchestrator archive

/// What `orchestrator_backup` puts in the archive.
#[derive(Debug, Clone, uniffi::Record)]
pub struct OrchestratorBackupSettings {
    /// The platform release the orchestrator runs (`2.4.0`).
    pub release: String,
    #[uniffi(default = None)]
    pub dsn: Option<String>,
    /// The release bundle file, when kept.
    #[uniffi(default = None)]
    pub release_bundle: Option<String>,
    /// More configuration files, next to `cluster.conf`.
    #[uniffi(default = [])]
    pub config_files: Vec<String>,
    /// The host's addresses (found on the host when not given).
    #[uniffi(default = None)]
    pub host_addresses: Option<Vec<String>>,
    /// The orchestrator database, when not `orchestrator` (it must exist).
    #[uniffi(default = None)]
    pub database: Option<String>,
    /// The archive database, when not `orchestrator_archive` (backed up when it exists).
    #[uniffi(default = None)]
    pub archive_database: Option<String>,
}

/// How `orchestrator_restore` restores.
#[derive(Debug, Clone, uniffi::Record)]
pub struct OrchestratorRestoreSettings {
    #[uniffi(default = None)]
    pub dsn: Option<String>,
    /// Replace databases that hold data and files that differ.
    #[uniffi(default = false)]
    pub force: bool,
    /// Plan and report, change nothing.
    #[uniffi(default = false)]
    pub dry_run: bool,
    #[uniffi(default = None)]
    pub host_addresses: Option<Vec<String>>,
}

/// An orchestrator archive; `metadata_json` is its `metadata.json`.
#[derive(Debug, Clone, uniffi::Record)]
pub struct OrchestratorArchiveInfo {
    pub path: String,
    pub size: u64,
    pub sha256: String,
    pub release: String,
    pub metadata_json: String,
}

/// What `orchestrator_verify` found: every member matched `metadata.json`. `restorable`
/// when the release passes the 2.4.0 gate.
#[derive(Debug, Clone, uniffi::Record)]
pub struct OrchestratorVerifyReport {
    pub archive: String,
    pub size: u64,
    pub members: u64,
    pub bytes: u64,
    pub restorable: bool,
    pub release: String,
    pub metadata_json: String,
}

/// One item of an orchestrator restore: the roles, a database, a configuration or release
/// file.
#[derive(Debug, Clone, uniffi::Record)]
pub struct OrchestratorRestoreItem {
    /// `roles`, `database`, `config_file` or `release_file`.
    pub kind: String,
    pub member: String,
    pub target: String,
    /// `create`, `fill`, `replace`, `apply`, `skip` or `conflict`.
    pub action: String,
    pub size: u64,
    pub note: String,
}

/// A database after an orchestrator restore, its tables counted against the archive.
#[derive(Debug, Clone, uniffi::Record)]
pub struct OrchestratorRestoredDatabase {
    pub name: String,
    pub action: String,
    pub tables: Vec<TableRows>,
    pub total_rows: u64,
}

/// A file an orchestrator restore wrote (or found identical), as read back.
#[derive(Debug, Clone, uniffi::Record)]
pub struct OrchestratorRestoredFile {
    pub path: String,
    pub action: String,
    pub size: u64,
    pub sha256: String,
}

/// What an orchestrator restore did (or, in a dry run, would do).
#[derive(Debug, Clone, uniffi::Record)]
pub struct OrchestratorRestoreReport {
    pub archive: String,
    pub dry_run: bool,
    pub items: Vec<OrchestratorRestoreItem>,
    pub databases: Vec<OrchestratorRestoredDatabase>,
    pub files: Vec<OrchestratorRestoredFile>,
    pub warnings: Vec<String>,
    pub json: String,
}

/// Writes one orchestrator archive (`orchestrator_backup_<time>.tgz`) into `out_dir`: the
/// orchestrator databases as plain SQL, the roles, the release, `config` and the other
/// configuration files.
#[uniffi::export]
pub fn orchestrator_backup(
    config: String,
    out_dir: String,
    settings: OrchestratorBackupSettings,
) -> Result<OrchestratorArchiveInfo> {
    let mut options = OrchestratorBackupOptions::new(settings.release);
    options.release_bundle = settings.release_bundle.map(PathBuf::from);
    options.config_files = settings
        .config_files
        .into_iter()
        .map(PathBuf::from)
        .collect();
    options.host_addresses = settings.host_addresses;
    if let Some(database) = settings.database {
        options.database = database;
    }
    if let Some(database) = settings.archive_database {
        options.archive_database = database;
    }
    let target = target(settings.dsn.as_deref())?;
    let archive = continuum_orchestrator::backup_orchestrator(
        Path::new(&config),
        &target,
        Path::new(&out_dir),
        &options,
    )?;
    Ok(OrchestratorArchiveInfo {
        path: path_text(&archive.path),
        size: archive.size,
        sha256: archive.sha256.to_string(),
        release: archive.metadata.platform_release.clone(),
        metadata_json: json(&archive.metadata),
    })
}

/// Checks every member of an orchestrator archive against its `metadata.json`; restores
/// nothing.
#[uniffi::export]
pub fn orchestrator_verify(file: String) -> Result<OrchestratorVerifyReport> {
    let report = continuum_orchestrator::verify_archive(Path::new(&file))?;
    Ok(OrchestratorVerifyReport {
        archive: path_text(&report.archive),
        size: report.size,
        members: report.members,
        bytes: report.bytes,
        restorable: report.restorable,
        release: report.metadata.platform_release.clone(),
        metadata_json: json(&report.metadata),
    })
}

/// Restores an orchestrator archive onto this host: the files into `config_dir`, the
/// databases into the server; planned and checked first (digests, the release gate,
/// conflicts), verified afterwards.
#[uniffi::export]
pub fn orchestrator_restore(
    file: String,
    config_dir: String,
    settings: OrchestratorRestoreSettings,
) -> Result<OrchestratorRestoreReport> {
    let mut options = OrchestratorRestoreOptions::default();
    options.force = settings.force;
    options.dry_run = settings.dry_run;
    options.host_addresses = settings.host_addresses;
    let target = target(settings.dsn.as_deref())?;
    let report = continuum_orchestrator::restore_orchestrator(
        Path::new(&file),
        &target,
        Path::new(&config_dir),
        &options,
    )?;
    Ok(OrchestratorRestoreReport {
        json: json(&report),
        archive: path_text(&report.archive),
        dry_run: report.dry_run,
        items: report
            .items
            .into_iter()
            .map(|i| OrchestratorRestoreItem {
                kind: serde_name(&i.kind),
                action: serde_name(&i.action),
                member: i.member,
                target: i.target,
                size: i.size,
                note: i.note,
            })
            .collect(),
        databases: report
            .databases
            .into_iter()
            .map(|d| OrchestratorRestoredDatabase {
                action: serde_name(&d.action),
                name: d.name,
                tables: table_rows(d.tables),
                total_rows: d.total_rows,
            })
            .collect(),
        files: report
            .files
            .into_iter()
            .map(|f| OrchestratorRestoredFile {
                path: path_text(&f.path),
                action: serde_name(&f.action),
                size: f.size,
                sha256: f.sha256.to_string(),
            })
            .collect(),
        warnings: report.warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_cluster_conf_loads_with_its_secrets_redacted() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/demo-cluster/cluster.conf"
        );
        let conf = cluster_conf_load(path.to_string()).unwrap();
        assert!(conf.database_backups.unwrap().has_credentials);
        assert!(
            !conf.json.contains("FAKE"),
            "a secret leaked: {}",
            conf.json
        );
    }
}
