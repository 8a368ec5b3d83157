//! The Python face of `continuum-orchestrator`'s orchestrator archive and installation files,
//! re-exported by `continuum_backup.orchestrator` next to the `cluster.conf` views.
//!
//! `backup` writes one orchestrator archive (`orchestrator_backup_<time>.tgz`: `metadata.json`
//! first, the databases as plain SQL, the roles, the release, the configuration files);
//! `verify` checks one without restoring anything; `restore` plans a restore and applies it
//! (with `dry_run` the plan is applied in dry-run mode, which changes nothing).
//! `collect_installation_files` and `snapshot_to_git` keep `cluster.conf` and the Terraform
//! files under version control. Every call runs with the GIL released; the metadata and the
//! restore items come to Python through their serde form, as the cntmp objects do.
//!
//! The classes are registered in `_native` under `Orchestrator`-prefixed names and the
//! functions as `orchestrator_<name>`; `continuum_backup.orchestrator` gives them their own
//! names. The error mapping is that of `src/orchestrator.rs`.

use std::path::{Path, PathBuf};

use continuum_orchestrator::{
    ArchiveMetadata, ArchiveReport, DatabaseCheck, GitSnapshot, InstallationFile,
    OrchestratorArchive, OrchestratorBackupOptions, OrchestratorRestoreOptions,
    OrchestratorRestoreReport, PlanItem, RestoredFile, TableCheck,
};
use pyo3::PyTypeInfo;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyType};
use serde::Serialize;

use crate::cntmp::{Paths, py_bool, to_python};
use crate::db::target;
use crate::orchestrator::detached;
use crate::{BASE_ERROR, py_repr};

/// The commit message `snapshot_to_git` uses when none is given.
const DEFAULT_SNAPSHOT_MESSAGE: &str = "continuum-backup: installation files";

fn path_text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// The serde name of a unit variant (`config_file`, `conflict` …): the names the library's
/// JSON uses, also for variants this build does not know by name.
fn serde_name<T: Serialize + std::fmt::Debug>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => format!("{value:?}").to_lowercase(),
    }
}

/// The metadata as a Python dict, through its JSON form.
fn metadata_dict<'py>(py: Python<'py>, metadata: &ArchiveMetadata) -> PyResult<Bound<'py, PyAny>> {
    let value = serde_json::to_value(metadata)
        .map_err(|e| BASE_ERROR.err(py, format!("cannot serialize the archive metadata: {e}")))?;
    to_python(py, &value)
}

/// An installation file as collected, or a path to collect.
#[derive(FromPyObject)]
enum FileOrPath<'py> {
    #[pyo3(transparent, annotation = "InstallationFile")]
    File(Bound<'py, PyInstallationFile>),
    #[pyo3(transparent, annotation = "str | os.PathLike[str]")]
    Path(PathBuf),
}

/// What `snapshot_to_git` takes: one file or path, or several.
#[derive(FromPyObject)]
enum FilesOrPaths<'py> {
    // First: a `str` is a sequence too.
    #[pyo3(transparent)]
    One(FileOrPath<'py>),
    #[pyo3(
        transparent,
        annotation = "Sequence[InstallationFile | str | os.PathLike[str]]"
    )]
    Many(Vec<FileOrPath<'py>>),
}

impl FilesOrPaths<'_> {
    /// The files given as collected, and the paths still to collect.
    fn split(self) -> (Vec<InstallationFile>, Vec<PathBuf>) {
        let items = match self {
            FilesOrPaths::One(item) => vec![item],
            FilesOrPaths::Many(items) => items,
        };
        let mut files = Vec::new();
        let mut paths = Vec::new();
        for item in items {
            match item {
                FileOrPath::File(f) => files.push(f.get().0.clone()),
                FileOrPath::Path(p) => paths.push(p),
            }
        }
        (files, paths)
    }
}

/// An orchestrator archive just written.
#[pyclass(name = "Archive", module = "continuum_backup.orchestrator", frozen)]
struct PyArchive(OrchestratorArchive);

#[pymethods]
impl PyArchive {
    #[getter]
    fn path(&self) -> String {
        path_text(&self.0.path)
    }

    #[getter]
    fn size(&self) -> u64 {
        self.0.size
    }

    #[getter]
    fn sha256(&self) -> String {
        self.0.sha256.to_string()
    }

    #[getter]
    fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        metadata_dict(py, &self.0.metadata)
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("path", self.path())?;
        d.set_item("size", self.size())?;
        d.set_item("sha256", self.sha256())?;
        d.set_item("metadata", self.metadata(py)?)?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Archive(path={}, size={}, release={})",
            py_repr(py, &self.path())?,
            self.0.size,
            py_repr(py, &self.0.metadata.platform_release)?
        ))
    }
}

/// What `verify` found: the archive is sound when it returns one.
#[pyclass(
    name = "ArchiveReport",
    module = "continuum_backup.orchestrator",
    frozen
)]
struct PyArchiveReport(ArchiveReport);

#[pymethods]
impl PyArchiveReport {
    #[getter]
    fn archive(&self) -> String {
        path_text(&self.0.archive)
    }

    #[getter]
    fn size(&self) -> u64 {
        self.0.size
    }

    #[getter]
    fn members(&self) -> u64 {
        self.0.members
    }

    #[getter]
    fn bytes(&self) -> u64 {
        self.0.bytes
    }

    #[getter]
    fn restorable(&self) -> bool {
        self.0.restorable
    }

    #[getter]
    fn release(&self) -> &str {
        &self.0.metadata.platform_release
    }

    #[getter]
    fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        metadata_dict(py, &self.0.metadata)
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("archive", self.archive())?;
        d.set_item("size", self.size())?;
        d.set_item("members", self.members())?;
        d.set_item("bytes", self.bytes())?;
        d.set_item("restorable", self.restorable())?;
        d.set_item("release", self.release())?;
        d.set_item("metadata", self.metadata(py)?)?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "ArchiveReport(archive={}, members={}, release={}, restorable={})",
            py_repr(py, &self.archive())?,
            self.0.members,
            py_repr(py, self.release())?,
            py_bool(self.0.restorable)
        ))
    }
}

/// One item of a restore plan: the roles, a database, a configuration or release file.
#[pyclass(name = "RestoreItem", module = "continuum_backup.orchestrator", frozen)]
struct PyRestoreItem(PlanItem);

#[pymethods]
impl PyRestoreItem {
    #[getter]
    fn kind(&self) -> String {
        serde_name(&self.0.kind)
    }

    #[getter]
    fn name(&self) -> &str {
        if self.0.target.is_empty() {
            &self.0.member
        } else {
            &self.0.target
        }
    }

    #[getter]
    fn member(&self) -> &str {
        &self.0.member
    }

    #[getter]
    fn action(&self) -> String {
        serde_name(&self.0.action)
    }

    #[getter]
    fn size(&self) -> u64 {
        self.0.size
    }

    #[getter]
    fn detail(&self) -> &str {
        &self.0.note
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("kind", self.kind())?;
        d.set_item("name", self.name())?;
        d.set_item("member", self.member())?;
        d.set_item("action", self.action())?;
        d.set_item("size", self.size())?;
        d.set_item("detail", self.detail())?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "RestoreItem(kind={}, name={}, action={})",
            py_repr(py, &self.kind())?,
            py_repr(py, self.name())?,
            py_repr(py, &self.action())?
        ))
    }
}

/// One database after the restore, its tables counted against the archive.
#[pyclass(
    name = "RestoredDatabase",
    module = "continuum_backup.orchestrator",
    frozen
)]
struct PyRestoredDatabase(DatabaseCheck);

fn table_tuple(t: &TableCheck) -> (String, Option<u64>, Option<u64>) {
    (t.table.clone(), t.expected, t.actual)
}

#[pymethods]
impl PyRestoredDatabase {
    #[getter]
    fn name(&self) -> &str {
        &self.0.name
    }

    #[getter]
    fn action(&self) -> String {
        serde_name(&self.0.action)
    }

    #[getter]
    fn ok(&self) -> bool {
        self.0.tables.iter().all(TableCheck::ok)
    }

    #[getter]
    fn tables(&self) -> Vec<(String, Option<u64>, Option<u64>)> {
        self.0.tables.iter().map(table_tuple).collect()
    }

    #[getter]
    fn total_rows(&self) -> u64 {
        self.0.total_rows
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let tables = PyList::empty(py);
        for t in &self.0.tables {
            let row = PyDict::new(py);
            row.set_item("table", &t.table)?;
            row.set_item("expected", t.expected)?;
            row.set_item("actual", t.actual)?;
            tables.append(row)?;
        }
        let d = PyDict::new(py);
        d.set_item("name", self.name())?;
        d.set_item("action", self.action())?;
        d.set_item("ok", self.ok())?;
        d.set_item("tables", tables)?;
        d.set_item("total_rows", self.total_rows())?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "RestoredDatabase(name={}, action={}, ok={}, total_rows={})",
            py_repr(py, &self.0.name)?,
            py_repr(py, &self.action())?,
            py_bool(self.ok()),
            self.0.total_rows
        ))
    }
}

/// One file written by the restore (or found identical), as read back.
#[pyclass(
    name = "RestoredFile",
    module = "continuum_backup.orchestrator",
    frozen
)]
struct PyRestoredFile(RestoredFile);

#[pymethods]
impl PyRestoredFile {
    #[getter]
    fn path(&self) -> String {
        path_text(&self.0.path)
    }

    #[getter]
    fn action(&self) -> String {
        serde_name(&self.0.action)
    }

    #[getter]
    fn size(&self) -> u64 {
        self.0.size
    }

    #[getter]
    fn sha256(&self) -> String {
        self.0.sha256.to_string()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("path", self.path())?;
        d.set_item("action", self.action())?;
        d.set_item("size", self.size())?;
        d.set_item("sha256", self.sha256())?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "RestoredFile(path={}, action={})",
            py_repr(py, &self.path())?,
            py_repr(py, &self.action())?
        ))
    }
}

/// What an orchestrator restore did and found (or, with `dry_run`, would do).
#[pyclass(
    name = "RestoreReport",
    module = "continuum_backup.orchestrator",
    frozen
)]
struct PyRestoreReport(OrchestratorRestoreReport);

#[pymethods]
impl PyRestoreReport {
    #[getter]
    fn archive(&self) -> String {
        path_text(&self.0.archive)
    }

    #[getter]
    fn dry_run(&self) -> bool {
        self.0.dry_run
    }

    #[getter]
    fn items(&self) -> Vec<PyRestoreItem> {
        self.0.items.iter().cloned().map(PyRestoreItem).collect()
    }

    #[getter]
    fn databases(&self) -> Vec<PyRestoredDatabase> {
        self.0
            .databases
            .iter()
            .cloned()
            .map(PyRestoredDatabase)
            .collect()
    }

    #[getter]
    fn files(&self) -> Vec<PyRestoredFile> {
        self.0.files.iter().cloned().map(PyRestoredFile).collect()
    }

    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.0.warnings.clone()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let items = PyList::empty(py);
        for item in self.items() {
            items.append(item.to_dict(py)?)?;
        }
        let databases = PyList::empty(py);
        for db in self.databases() {
            databases.append(db.to_dict(py)?)?;
        }
        let files = PyList::empty(py);
        for file in self.files() {
            files.append(file.to_dict(py)?)?;
        }
        let d = PyDict::new(py);
        d.set_item("archive", self.archive())?;
        d.set_item("dry_run", self.dry_run())?;
        d.set_item("items", items)?;
        d.set_item("databases", databases)?;
        d.set_item("files", files)?;
        d.set_item("warnings", self.warnings())?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "RestoreReport(archive={}, dry_run={}, items={}, warnings={})",
            py_repr(py, &self.archive())?,
            py_bool(self.0.dry_run),
            self.0.items.len(),
            self.0.warnings.len()
        ))
    }
}

/// An installation file (`cluster.conf`, a Terraform file) with what it held when collected.
#[pyclass(
    name = "InstallationFile",
    module = "continuum_backup.orchestrator",
    frozen
)]
struct PyInstallationFile(InstallationFile);

#[pymethods]
impl PyInstallationFile {
    #[getter]
    fn path(&self) -> String {
        path_text(&self.0.path)
    }

    #[getter]
    fn name(&self) -> &str {
        &self.0.name
    }

    #[getter]
    fn size(&self) -> u64 {
        self.0.size
    }

    #[getter]
    fn sha256(&self) -> String {
        self.0.sha256.to_string()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("path", self.path())?;
        d.set_item("name", self.name())?;
        d.set_item("size", self.size())?;
        d.set_item("sha256", self.sha256())?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "InstallationFile(name={}, size={})",
            py_repr(py, &self.0.name)?,
            self.0.size
        ))
    }
}

/// What `snapshot_to_git` did.
#[pyclass(name = "GitSnapshot", module = "continuum_backup.orchestrator", frozen)]
struct PyGitSnapshot(GitSnapshot);

#[pymethods]
impl PyGitSnapshot {
    #[getter]
    fn repo(&self) -> String {
        path_text(&self.0.repo)
    }

    #[getter]
    fn initialized(&self) -> bool {
        self.0.initialized
    }

    #[getter]
    fn changed(&self) -> Vec<String> {
        self.0.changed.clone()
    }

    #[getter]
    fn commit(&self) -> Option<&str> {
        self.0.commit.as_deref()
    }

    #[getter]
    fn head(&self) -> Option<&str> {
        self.0.head.as_deref()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("repo", self.repo())?;
        d.set_item("initialized", self.initialized())?;
        d.set_item("changed", self.changed())?;
        d.set_item("commit", self.commit())?;
        d.set_item("head", self.head())?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let commit = match &self.0.commit {
            Some(c) => py_repr(py, c)?,
            None => "None".to_string(),
        };
        Ok(format!(
            "GitSnapshot(repo={}, changed={}, commit={commit})",
            py_repr(py, &self.repo())?,
            self.0.changed.len()
        ))
    }
}

/// `backup(config, out_dir, *, release, …)`: one orchestrator archive, written into `out_dir`.
#[pyfunction]
#[pyo3(signature = (
    config,
    out_dir,
    *,
    release,
    dsn = None,
    release_bundle = None,
    config_files = Vec::new(),
    host_addresses = None,
))]
#[pyo3(
    text_signature = "(config, out_dir, *, release, dsn=None, release_bundle=None, config_files=(), host_addresses=None)"
)]
#[expect(
    clippy::too_many_arguments,
    reason = "mirrors the Python keyword arguments one to one"
)]
fn orchestrator_backup(
    py: Python<'_>,
    config: PathBuf,
    out_dir: PathBuf,
    release: String,
    dsn: Option<String>,
    release_bundle: Option<PathBuf>,
    config_files: Vec<PathBuf>,
    host_addresses: Option<Vec<String>>,
) -> PyResult<PyArchive> {
    let mut options = OrchestratorBackupOptions::new(release);
    options.release_bundle = release_bundle;
    options.config_files = config_files;
    options.host_addresses = host_addresses;
    detached(py, || {
        let target = target(dsn.as_deref())?;
        continuum_orchestrator::backup_orchestrator(&config, &target, &out_dir, &options)
    })
    .map(PyArchive)
}

/// `verify(file)`: every member checked against `metadata.json`; nothing restored.
#[pyfunction]
fn orchestrator_verify(py: Python<'_>, file: PathBuf) -> PyResult<PyArchiveReport> {
    detached(py, || continuum_orchestrator::verify_archive(&file)).map(PyArchiveReport)
}

/// `restore(file, config_dir, *, …)`: planned, then applied (in dry-run mode with `dry_run`).
#[pyfunction]
#[pyo3(signature = (
    file,
    config_dir,
    *,
    dsn = None,
    force = false,
    dry_run = false,
    host_addresses = None,
))]
fn orchestrator_restore(
    py: Python<'_>,
    file: PathBuf,
    config_dir: PathBuf,
    dsn: Option<String>,
    force: bool,
    dry_run: bool,
    host_addresses: Option<Vec<String>>,
) -> PyResult<PyRestoreReport> {
    let mut options = OrchestratorRestoreOptions::default();
    options.force = force;
    options.dry_run = dry_run;
    options.host_addresses = host_addresses;
    detached(py, || {
        let target = target(dsn.as_deref())?;
        continuum_orchestrator::plan_orchestrator_restore(&file, &target, &config_dir, &options)?
            .apply()
    })
    .map(PyRestoreReport)
}

/// `collect_installation_files(paths)`: the installation files of files and folders.
#[pyfunction]
fn orchestrator_collect_installation_files(
    py: Python<'_>,
    paths: Paths,
) -> PyResult<Vec<PyInstallationFile>> {
    let paths = paths.into_vec();
    let files = detached(py, || {
        continuum_orchestrator::collect_installation_files(&paths)
    })?;
    Ok(files.into_iter().map(PyInstallationFile).collect())
}

/// `snapshot_to_git(files_or_paths, repo, message=…)`: the files committed to a git repository.
#[pyfunction]
#[pyo3(signature = (files_or_paths, repo, message = DEFAULT_SNAPSHOT_MESSAGE))]
#[pyo3(text_signature = "(files_or_paths, repo, message='continuum-backup: installation files')")]
fn orchestrator_snapshot_to_git(
    py: Python<'_>,
    files_or_paths: FilesOrPaths<'_>,
    repo: PathBuf,
    message: &str,
) -> PyResult<PyGitSnapshot> {
    let (mut files, paths) = files_or_paths.split();
    detached(py, || {
        if !paths.is_empty() {
            files.extend(continuum_orchestrator::collect_installation_files(&paths)?);
        }
        continuum_orchestrator::snapshot_to_git(&files, &repo, message)
    })
    .map(PyGitSnapshot)
}

/// Adds a class under `Orchestrator<its name>`.
fn add_prefixed<T: PyTypeInfo>(m: &Bound<'_, PyModule>, name: &str) -> PyResult<()> {
    let class: Bound<'_, PyType> = m.py().get_type::<T>();
    m.add(name, class)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    add_prefixed::<PyArchive>(m, "OrchestratorArchive")?;
    add_prefixed::<PyArchiveReport>(m, "OrchestratorArchiveReport")?;
    add_prefixed::<PyRestoreItem>(m, "OrchestratorRestoreItem")?;
    add_prefixed::<PyRestoredDatabase>(m, "OrchestratorRestoredDatabase")?;
    add_prefixed::<PyRestoredFile>(m, "OrchestratorRestoredFile")?;
    add_prefixed::<PyRestoreReport>(m, "OrchestratorRestoreReport")?;
    add_prefixed::<PyInstallationFile>(m, "OrchestratorInstallationFile")?;
    add_prefixed::<PyGitSnapshot>(m, "OrchestratorGitSnapshot")?;
    m.add_function(wrap_pyfunction!(orchestrator_backup, m)?)?;
    m.add_function(wrap_pyfunction!(orchestrator_verify, m)?)?;
    m.add_function(wrap_pyfunction!(orchestrator_restore, m)?)?;
    m.add_function(wrap_pyfunction!(
        orchestrator_collect_installation_files,
        m
    )?)?;
    m.add_function(wrap_pyfunction!(orchestrator_snapshot_to_git, m)?)?;
    Ok(())
}
