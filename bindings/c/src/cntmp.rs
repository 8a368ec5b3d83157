//! Job data and cntmp files (`continuum-cntmp`). A cluster folder keeps its job data in
//! `<cluster_dir>/jobdata/` (a folder registry).

use std::collections::BTreeMap;
use std::ffi::c_char;
use std::path::{Path, PathBuf};

use continuum_cntmp::{
    CntmpReader, DEFAULT_PACKAGE_NAMESPACE, Dependency, FolderRegistry, ImportOptions, Object,
    ObjectKind, PackageSpec, Registry, Selection,
};
use continuum_core::{Limits, Namespace};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::edge::{self, Out};
use crate::status::{ContinuumStatus, Failure};

/// The registry of a cluster folder (opening it finishes a batch a crash interrupted).
fn registry(cluster_dir: &Path) -> Result<FolderRegistry, Failure> {
    Ok(FolderRegistry::for_cluster(cluster_dir)?)
}

fn dependencies(texts: &[String]) -> Result<Vec<Dependency>, Failure> {
    texts
        .iter()
        .map(|text| {
            Dependency::parse(text).ok_or_else(|| {
                Failure::input(format!(
                    "`{text}` is not TYPE.NAME with TYPE one of os, package, file, runtime"
                ))
            })
        })
        .collect()
}

/// The options of `continuum_cntmp_package_from_files`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PackageOptionsJson {
    name: String,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    provides: Vec<String>,
    #[serde(default)]
    depends: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
}

/// Stores a package whose layers (resources) are the files, in order, in the job data of a
/// cluster folder. A package that exists is `CONTINUUM_STATUS_CONFLICT`.
///
/// - `files_json`: a JSON array of file paths (the layers, usually `.tar.gz`).
/// - `options_json`: `{"name": "tool", "namespace": "/apcera/pkg/packages", "provides":
///   ["runtime.go"], "depends": ["os.linux"], "env": {"KEY": "value"}}`; `name` is required.
/// - `out_json`: on success, the package in the platform API's shape (`fqn`, `uuid`,
///   `name`, `resources`, `dependencies`, `provides`, `environment` …), owned by the caller.
///
/// # Safety
/// The pointer rules at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn continuum_cntmp_package_from_files(
    cluster_dir: *const c_char,
    files_json: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> ContinuumStatus {
    // SAFETY: `out_json` follows the header's pointer rules.
    let out = unsafe { Out::new(out_json, "out_json") };
    edge::run_json(out, || {
        // SAFETY: `cluster_dir` follows the header's pointer rules.
        let cluster_dir = unsafe { edge::path(cluster_dir, "cluster_dir") }?;
        // SAFETY: `files_json` follows the header's pointer rules.
        let files = unsafe { edge::text(files_json, "files_json") }?;
        let files: Vec<PathBuf> = edge::parse_json(files, "files_json")?;
        // SAFETY: `options_json` follows the header's pointer rules.
        let options = unsafe { edge::text(options_json, "options_json") }?;
        let options: PackageOptionsJson = edge::parse_json(options, "options_json")?;
        let mut spec = PackageSpec::new(options.name, files)?;
        spec.namespace = Namespace::parse(
            options
                .namespace
                .as_deref()
                .unwrap_or(DEFAULT_PACKAGE_NAMESPACE),
        )?;
        spec.provides = dependencies(&options.provides)?;
        spec.depends = dependencies(&options.depends)?;
        spec.environment = options.env;
        let package = continuum_cntmp::package_from_files(&registry(&cluster_dir)?, &spec)?;
        Ok(Object::Package(package).to_api_json())
    })
}

/// The FQNs of the job-data objects of a cluster folder, sorted.
///
/// - `kind`: `package`, `job`, `stagpipe`, `service`, `provider` or `binding`, or `NULL`
///   for every kind.
/// - `out_json`: on success, a JSON array of FQN strings, owned by the caller.
///
/// # Safety
/// The pointer rules at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn continuum_cntmp_list_objects(
    cluster_dir: *const c_char,
    kind: *const c_char,
    out_json: *mut *mut c_char,
) -> ContinuumStatus {
    // SAFETY: `out_json` follows the header's pointer rules.
    let out = unsafe { Out::new(out_json, "out_json") };
    edge::run_json(out, || {
        // SAFETY: `cluster_dir` follows the header's pointer rules.
        let cluster_dir = unsafe { edge::path(cluster_dir, "cluster_dir") }?;
        // SAFETY: `kind` follows the header's pointer rules.
        let kind = unsafe { edge::optional_text(kind, "kind") }?;
        let kind = kind
            .map(|text| {
                ObjectKind::ALL
                    .into_iter()
                    .find(|k| k.as_str() == text)
                    .ok_or_else(|| {
                        Failure::input(format!(
                            "unknown kind `{text}`: expected package, job, stagpipe, service, provider or binding"
                        ))
                    })
            })
            .transpose()?;
        let fqns = registry(&cluster_dir)?.list(kind)?;
        Ok(fqns.iter().map(ToString::to_string).collect::<Vec<_>>())
    })
}

/// The selection of `continuum_cntmp_export`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct SelectionJson {
    packages: Vec<String>,
    jobs: Vec<String>,
    pipelines: Vec<String>,
    all: bool,
    with_dependencies: bool,
}

/// Exports job data of a cluster folder into one cntmp file.
///
/// - `selection_json`: `{"packages": ["/apcera/pkg/runtimes::go-*", "tool"], "jobs": [...],
///   "pipelines": [...], "all": false, "with_dependencies": false}`: packages by FQN or name
///   (`*` matches any text), jobs and staging pipelines by FQN or name, or `all`; selecting
///   nothing is `CONTINUUM_STATUS_INVALID_INPUT`.
/// - `out_file`: the cntmp file to write.
/// - `force`: replace `out_file` when it exists (otherwise `CONTINUUM_STATUS_CONFLICT`).
/// - `out_json`: on success, `{"file", "objects": [FQN, …], "resources", "resource_bytes",
///   "notes"}`, owned by the caller.
///
/// # Safety
/// The pointer rules at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn continuum_cntmp_export(
    cluster_dir: *const c_char,
    selection_json: *const c_char,
    out_file: *const c_char,
    force: bool,
    out_json: *mut *mut c_char,
) -> ContinuumStatus {
    // SAFETY: `out_json` follows the header's pointer rules.
    let out = unsafe { Out::new(out_json, "out_json") };
    edge::run_json(out, || {
        // SAFETY: `cluster_dir` follows the header's pointer rules.
        let cluster_dir = unsafe { edge::path(cluster_dir, "cluster_dir") }?;
        // SAFETY: `selection_json` follows the header's pointer rules.
        let json = unsafe { edge::text(selection_json, "selection_json") }?;
        let json: SelectionJson = edge::parse_json(json, "selection_json")?;
        // SAFETY: `out_file` follows the header's pointer rules.
        let out_file = unsafe { edge::path(out_file, "out_file") }?;
        if !json.all
            && json.packages.is_empty()
            && json.jobs.is_empty()
            && json.pipelines.is_empty()
        {
            return Err(Failure::input(
                "nothing to export: give packages, jobs or pipelines, or all",
            ));
        }
        let mut selection = Selection::default();
        selection.packages = json.packages;
        selection.jobs = json.jobs;
        selection.pipelines = json.pipelines;
        selection.all = json.all;
        selection.with_dependencies = json.with_dependencies;
        Ok(continuum_cntmp::export_to_file(
            &registry(&cluster_dir)?,
            &selection,
            &out_file,
            force,
        )?)
    })
}

/// The options of `continuum_cntmp_import`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ImportOptionsJson {
    skip_existing: bool,
    override_namespace: Option<String>,
    dry_run: bool,
}

/// Imports cntmp files into the job data of a cluster folder, all or nothing: every file is
/// opened, planned and every resource read and checked before anything is stored.
///
/// - `files_json`: a JSON array of cntmp file paths.
/// - `options_json`: `NULL` or `{"skip_existing": false, "override_namespace": "/acme",
///   "dry_run": false}`. An object that exists is `CONTINUUM_STATUS_CONFLICT` unless
///   `skip_existing`.
/// - `out_json`: on success, `{"dry_run", "objects": [{"kind", "fqn", "source_fqn", "file",
///   "action"}], "resources_stored", "bytes_checked", "notes"}`, owned by the caller.
///
/// # Safety
/// The pointer rules at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn continuum_cntmp_import(
    cluster_dir: *const c_char,
    files_json: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> ContinuumStatus {
    // SAFETY: `out_json` follows the header's pointer rules.
    let out = unsafe { Out::new(out_json, "out_json") };
    edge::run_json(out, || {
        // SAFETY: `cluster_dir` follows the header's pointer rules.
        let cluster_dir = unsafe { edge::path(cluster_dir, "cluster_dir") }?;
        // SAFETY: `files_json` follows the header's pointer rules.
        let files = unsafe { edge::text(files_json, "files_json") }?;
        let files: Vec<PathBuf> = edge::parse_json(files, "files_json")?;
        // SAFETY: `options_json` follows the header's pointer rules.
        let json: ImportOptionsJson =
            unsafe { edge::json_or_default(options_json, "options_json") }?;
        let mut options = ImportOptions::default();
        options.skip_existing = json.skip_existing;
        options.override_namespace = json
            .override_namespace
            .as_deref()
            .map(Namespace::parse)
            .transpose()?;
        options.dry_run = json.dry_run;
        Ok(continuum_cntmp::import_files(
            &registry(&cluster_dir)?,
            &files,
            &options,
        )?)
    })
}

/// What a cntmp file holds, without importing it.
///
/// - `file`: the cntmp file.
/// - `out_json`: on success, `{"file", "legacy": false, "format_version": 1, "producer",
///   "objects": [{"kind", "fqn", "resources": [{"entry", "sha256", "length",
///   "compression"}]}], "entries": [{"name", "size", "method", …}], "notes": [...]}`, owned
///   by the caller. A file made by the platform's own tool (no manifest) is `legacy`, with
///   `format_version` and `producer` null.
///
/// # Safety
/// The pointer rules at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn continuum_cntmp_inspect(
    file: *const c_char,
    out_json: *mut *mut c_char,
) -> ContinuumStatus {
    // SAFETY: `out_json` follows the header's pointer rules.
    let out = unsafe { Out::new(out_json, "out_json") };
    edge::run_json(out, || {
        // SAFETY: `file` follows the header's pointer rules.
        let file = unsafe { edge::path(file, "file") }?;
        let reader = CntmpReader::open(&file, Limits::default())?;
        let objects: Vec<Value> = reader
            .objects()
            .iter()
            .map(|o| {
                json!({
                    "kind": o.object.kind().as_str(),
                    "fqn": o.object.fqn().to_string(),
                    "resources": o.resources,
                })
            })
            .collect();
        Ok(json!({
            "file": reader.name(),
            "legacy": reader.manifest().is_none(),
            "format_version": reader.manifest().map(|m| m.format_version),
            "producer": reader.manifest().map(|m| m.producer.clone()),
            "objects": objects,
            "entries": reader.entries(),
            "notes": reader.notes(),
        }))
    })
}

/// Reads every resource of a cntmp file and checks it against its recorded SHA-256 and
/// length. Damage is `CONTINUUM_STATUS_CORRUPT`.
///
/// - `out_json`: on success, `{"file", "bytes_checked"}`, owned by the caller.
///
/// # Safety
/// The pointer rules at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn continuum_cntmp_verify(
    file: *const c_char,
    out_json: *mut *mut c_char,
) -> ContinuumStatus {
    // SAFETY: `out_json` follows the header's pointer rules.
    let out = unsafe { Out::new(out_json, "out_json") };
    edge::run_json(out, || {
        // SAFETY: `file` follows the header's pointer rules.
        let file = unsafe { edge::path(file, "file") }?;
        let mut reader = CntmpReader::open(&file, Limits::default())?;
        let bytes_checked = reader.verify()?;
        Ok(json!({
            "file": reader.name(),
            "bytes_checked": bytes_checked,
        }))
    })
}
