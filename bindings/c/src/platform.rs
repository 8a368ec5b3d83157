//! Cluster data and the whole platform (`continuum-orchestrator`): `cluster.conf`, the
//! PostgreSQL backups, and the platform plan, backup and restore.
//!
//! A PostgreSQL server is named by a `postgresql://user:password@host:port/database` URL
//! (`dsn`) or, when `dsn` is `NULL`, by the environment as `psql` reads it (`DATABASE_URL`,
//! `PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`). A password never appears in a
//! result or an error message.

use std::ffi::c_char;
use std::path::PathBuf;

use continuum_core::{Identities, Recipients};
use continuum_orchestrator::{
    BackupPlan, ClusterConf, DbBackupOptions, DbRestoreOptions, DbRestorePlan, PgTarget,
    PlanOptions, PlatformBackupOptions, PlatformRestoreOptions, PlatformRestorePlan,
    PlatformRestoreReport, PlatformSource, RestoreDestination, RestoreKind, RestoreReport,
};
use serde::Serialize;

use crate::edge::{self, Out};
use crate::status::{ContinuumStatus, Failure};
use crate::store::{ContinuumStore, store_arg};

/// The server `dsn` names, or the one the environment describes.
fn target(dsn: Option<&str>) -> Result<PgTarget, Failure> {
    Ok(match dsn {
        Some(url) => PgTarget::parse(url)?,
        None => PgTarget::from_env()?,
    })
}

/// Reads and parses a `cluster.conf`.
///
/// - `path`: the file.
/// - `out_json`: on success, `{"file", "cluster_name", "base_domain", "provisioner",
///   "machine_groups": [{"name", "hosts", "suitable_tags"}], "components": {"tag": count},
///   "database_backups", "package_store", "tree"}` with every secret (keys, passwords)
///   replaced by a placeholder, owned by the caller.
///
/// A missing file is `CONTINUUM_STATUS_NOT_FOUND`; a malformed one
/// `CONTINUUM_STATUS_INVALID_INPUT` with the line and column in the message.
///
/// # Safety
/// The pointer rules at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn continuum_conf_load(
    path: *const c_char,
    out_json: *mut *mut c_char,
) -> ContinuumStatus {
    // SAFETY: `out_json` follows the header's pointer rules.
    let out = unsafe { Out::new(out_json, "out_json") };
    edge::run_json(out, || {
        // SAFETY: `path` follows the header's pointer rules.
        let path = unsafe { edge::path(path, "path") }?;
        Ok(ClusterConf::load(&path)?)
    })
}

/// Every database of a PostgreSQL server, as `psql -l` lists them.
///
/// - `dsn`: the server, or `NULL` for the environment's.
/// - `out_json`: on success, `[{"name", "owner", "encoding", "size", "is_template",
///   "allows_connections"}]`, owned by the caller.
///
/// # Safety
/// The pointer rules at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn continuum_db_list_databases(
    dsn: *const c_char,
    out_json: *mut *mut c_char,
) -> ContinuumStatus {
    // SAFETY: `out_json` follows the header's pointer rules.
    let out = unsafe { Out::new(out_json, "out_json") };
    edge::run_json(out, || {
        // SAFETY: `dsn` follows the header's pointer rules.
        let dsn = unsafe { edge::optional_text(dsn, "dsn") }?;
        Ok(continuum_orchestrator::list_databases(&target(dsn)?)?)
    })
}

/// Backs up databases into one new backup set of a store: per database, `pg_dump` streamed
/// through zstd into `<db>.dump.zst`, with the row count of every table; with
/// `with_globals`, the roles and tablespaces in `globals.sql.zst`. Any failure leaves no set.
///
/// - `dsn`: the server, or `NULL` for the environment's.
/// - `databases_json`: a JSON array of database names, at least one.
/// - `options_json`: `NULL` or `{"reason": "manual", "cluster_name": null, "component":
///   "postgresql", "with_globals": true, "zstd_level": 3, "threads": 0, "parallel": 4}`
///   (the defaults); unknown keys are refused. `with_globals` needs a superuser.
/// - `out_json`: on success, the set's manifest, owned by the caller.
///
/// # Safety
/// The pointer rules at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn continuum_db_backup(
    store: *const ContinuumStore,
    dsn: *const c_char,
    databases_json: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> ContinuumStatus {
    // SAFETY: `out_json` follows the header's pointer rules.
    let out = unsafe { Out::new(out_json, "out_json") };
    edge::run_json(out, || {
        // SAFETY: `store` follows the header's pointer rules.
        let store = unsafe { store_arg(store, "store") }?;
        // SAFETY: `dsn` follows the header's pointer rules.
        let dsn = unsafe { edge::optional_text(dsn, "dsn") }?;
        // SAFETY: `databases_json` follows the header's pointer rules.
        let databases = unsafe { edge::text(databases_json, "databases_json") }?;
        let databases: Vec<String> = edge::parse_json(databases, "databases_json")?;
        // SAFETY: `options_json` follows the header's pointer rules.
        let options = unsafe { edge::options_object(options_json, "options_json") }?;
        let options: DbBackupOptions = edge::library_options(options, "options_json")?;
        Ok(continuum_orchestrator::backup_databases(
            store.store.clone(),
            &target(dsn)?,
            &databases,
            &options,
        )?)
    })
}

/// What a restore gives back: the plan of a dry run, or the report of a restore.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum DbRestored {
    Plan(Box<DbRestorePlan>),
    Report(RestoreReport),
}

/// Restores one database of a backup set: planned (refusing a target database that holds
/// data unless `force`), applied with `pg_restore`, then verified by the row count of every
/// table.
///
/// - `set_id`: the set; `database`: the database as backed up.
/// - `dsn`: the server restored into, or `NULL` for the environment's.
/// - `options_json`: `NULL` or `{"as_name": "cdb_copy", "force": false, "with_globals":
///   false, "dry_run": false}`; unknown keys are refused.
/// - `out_json`: on success, the report `{"set_id", "database", "target_database", "action":
///   "create" | "fill" | "replace", "globals_restored", "tables": [{"table", "expected",
///   "actual"}], "total_rows"}`; with `dry_run`, the plan instead (`{"set_id", "database",
///   "artifact", "artifact_size", "server_version", "target_database", "action", "globals",
///   "expected_rows"}`) and nothing is changed. Owned by the caller.
///
/// A target holding data is `CONTINUUM_STATUS_CONFLICT`; a row count that differs
/// afterwards `CONTINUUM_STATUS_CORRUPT`.
///
/// # Safety
/// The pointer rules at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn continuum_db_restore(
    store: *const ContinuumStore,
    set_id: *const c_char,
    database: *const c_char,
    dsn: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> ContinuumStatus {
    // SAFETY: `out_json` follows the header's pointer rules.
    let out = unsafe { Out::new(out_json, "out_json") };
    edge::run_json(out, || {
        // SAFETY: `store` follows the header's pointer rules.
        let store = unsafe { store_arg(store, "store") }?;
        // SAFETY: `set_id` follows the header's pointer rules.
        let set_id = unsafe { edge::text(set_id, "set_id") }?;
        // SAFETY: `database` follows the header's pointer rules.
        let database = unsafe { edge::text(database, "database") }?;
        // SAFETY: `dsn` follows the header's pointer rules.
        let dsn = unsafe { edge::optional_text(dsn, "dsn") }?;
        // SAFETY: `options_json` follows the header's pointer rules.
        let mut options = unsafe { edge::options_object(options_json, "options_json") }?;
        let dry_run: bool =
            edge::take_option(&mut options, "dry_run", "options_json")?.unwrap_or(false);
        let options: DbRestoreOptions = edge::library_options(options, "options_json")?;
        let store = store.store.as_ref();
        let plan = continuum_orchestrator::plan_database_restore(
            store,
            set_id,
            database,
            &target(dsn)?,
            &options,
        )?;
        if dry_run {
            return Ok(DbRestored::Plan(Box::new(plan)));
        }
        Ok(DbRestored::Report(plan.apply(store)?))
    })
}

/// The backup plan of a cluster: every component, what is backed up, what not and why.
///
/// - `config`: the cluster's `cluster.conf`.
/// - `options_json`: `NULL` or `{"with_job_data": false, "host": null, "databases":
///   {"component-database": "cdb"}, "encrypted": false}`; unknown keys are refused.
/// - `out_json`: on success, `{"cluster_name", "components": [{"component", "kind",
///   "coverage", "reason", "hosts", "destinations", "artifacts"}], "placements",
///   "machine_groups", "encrypted", "secrets", "warnings"}`, owned by the caller.
///
/// # Safety
/// The pointer rules at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn continuum_platform_plan(
    config: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> ContinuumStatus {
    // SAFETY: `out_json` follows the header's pointer rules.
    let out = unsafe { Out::new(out_json, "out_json") };
    edge::run_json(out, || {
        // SAFETY: `config` follows the header's pointer rules.
        let config = unsafe { edge::path(config, "config") }?;
        // SAFETY: `options_json` follows the header's pointer rules.
        let options = unsafe { edge::options_object(options_json, "options_json") }?;
        let options: PlanOptions = edge::library_options(options, "options_json")?;
        Ok(BackupPlan::new(&ClusterConf::load(&config)?, &options)?)
    })
}

/// Backs up the whole platform into one new set of a store, as the plan made from
/// `cluster.conf` says: the component databases, the roles, the installation files
/// (`cluster.conf` with its secrets replaced by a placeholder unless the set is encrypted,
/// Terraform files), every policy document, and with `with_job_data` all job data. Any
/// failure fails the whole backup and leaves no set.
///
/// - `config`: `cluster.conf`; `cluster_dir`: the cluster folder (Terraform files,
///   `policy/`, `jobdata/`).
/// - `dsn`: the server of the component databases, or `NULL` for the environment's.
/// - `options_json`: `NULL` or `{"reason": "manual", "with_job_data": false, "databases":
///   {"component-database": "cdb"}, "with_globals": true, "parallel": 4, "zstd_level": 3,
///   "encrypt_to": ["age1…"]}`; unknown keys are refused.
/// - `out_json`: on success, `{"set_id", "store", "plan", "artifacts": [{"name",
///   "component", "kind", "size", "source_bytes", "duration"}], "bytes_stored",
///   "bytes_read", "parallel", "duration", "redacted_secrets", "warnings"}` (durations in
///   seconds), owned by the caller.
///
/// # Safety
/// The pointer rules at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn continuum_platform_backup(
    store: *const ContinuumStore,
    config: *const c_char,
    cluster_dir: *const c_char,
    dsn: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> ContinuumStatus {
    // SAFETY: `out_json` follows the header's pointer rules.
    let out = unsafe { Out::new(out_json, "out_json") };
    edge::run_json(out, || {
        // SAFETY: `store` follows the header's pointer rules.
        let store = unsafe { store_arg(store, "store") }?;
        // SAFETY: `config` follows the header's pointer rules.
        let config = unsafe { edge::path(config, "config") }?;
        // SAFETY: `cluster_dir` follows the header's pointer rules.
        let cluster_dir = unsafe { edge::path(cluster_dir, "cluster_dir") }?;
        // SAFETY: `dsn` follows the header's pointer rules.
        let dsn = unsafe { edge::optional_text(dsn, "dsn") }?;
        // SAFETY: `options_json` follows the header's pointer rules.
        let mut options = unsafe { edge::options_object(options_json, "options_json") }?;
        let encrypt_to: Option<Vec<String>> =
            edge::take_option(&mut options, "encrypt_to", "options_json")?;
        let mut options: PlatformBackupOptions = edge::library_options(options, "options_json")?;
        options.encrypt_to = encrypt_to.map(Recipients::parse).transpose()?;
        let source = PlatformSource::new(config, cluster_dir, target(dsn)?);
        Ok(continuum_orchestrator::backup_platform(
            store.store.clone(),
            &source,
            &options,
            None,
        )?)
    })
}

/// What a platform restore gives back: the plan of a dry run, or the report.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum PlatformRestored {
    Plan(Box<PlatformRestorePlan>),
    Report(PlatformRestoreReport),
}

/// Restores a platform set into a cluster folder and a PostgreSQL server: planned (files
/// that differ and databases that hold data are conflicts unless `force`), applied, then
/// verified (files against their SHA-256, databases by their row counts, job data object by
/// object).
///
/// - `set_id`: the set; `cluster_dir`: where installation files, `policy/` and `jobdata/`
///   go.
/// - `dsn`: the server the databases go to, or `NULL` for the environment's (only read when
///   databases are restored).
/// - `options_json`: `NULL` or `{"only": ["databases", "installation_files", "policy",
///   "job_data"], "databases": {"cdb": "cdb_copy"}, "force": false, "with_globals": true,
///   "parallel": 4, "identity": "/path/to/age-identity.txt", "dry_run": false}`; `only`
///   empty restores everything; `identity` opens an encrypted set; unknown keys are refused.
/// - `out_json`: on success, `{"set_id", "items": [{"kind", "artifact", "destination",
///   "action", "verified"}], "bytes_read", "duration", "notes"}`; with `dry_run`, the plan
///   (`{"set_id", "cluster_name", "items": [{"kind", "artifact", "destination", "action",
///   "size", "note"}], "notes"}`) and nothing is changed. Owned by the caller.
///
/// A plan with conflicts changes nothing and is `CONTINUUM_STATUS_CONFLICT`.
///
/// # Safety
/// The pointer rules at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn continuum_platform_restore(
    store: *const ContinuumStore,
    set_id: *const c_char,
    cluster_dir: *const c_char,
    dsn: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> ContinuumStatus {
    // SAFETY: `out_json` follows the header's pointer rules.
    let out = unsafe { Out::new(out_json, "out_json") };
    edge::run_json(out, || {
        // SAFETY: `store` follows the header's pointer rules.
        let store = unsafe { store_arg(store, "store") }?;
        // SAFETY: `set_id` follows the header's pointer rules.
        let set_id = unsafe { edge::text(set_id, "set_id") }?;
        // SAFETY: `cluster_dir` follows the header's pointer rules.
        let cluster_dir = unsafe { edge::path(cluster_dir, "cluster_dir") }?;
        // SAFETY: `dsn` follows the header's pointer rules.
        let dsn = unsafe { edge::optional_text(dsn, "dsn") }?;
        // SAFETY: `options_json` follows the header's pointer rules.
        let mut options = unsafe { edge::options_object(options_json, "options_json") }?;
        let dry_run: bool =
            edge::take_option(&mut options, "dry_run", "options_json")?.unwrap_or(false);
        let identity: Option<PathBuf> =
            edge::take_option(&mut options, "identity", "options_json")?;
        let mut options: PlatformRestoreOptions = edge::library_options(options, "options_json")?;
        options.identities = identity.map(Identities::from_file).transpose()?;
        // As the command line: a server is needed only when databases are restored.
        let needs_db = options.only.is_empty() || options.only.contains(&RestoreKind::Databases);
        let server = if needs_db { Some(target(dsn)?) } else { None };
        let destination = RestoreDestination::new(cluster_dir, server);
        let store = store.store.as_ref();
        let plan =
            continuum_orchestrator::plan_platform_restore(store, set_id, &destination, &options)?;
        if dry_run {
            return Ok(PlatformRestored::Plan(Box::new(plan)));
        }
        Ok(PlatformRestored::Report(plan.apply(store, None)?))
    })
}
