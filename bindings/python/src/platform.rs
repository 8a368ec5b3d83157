//! The whole platform from Python: `plan`, `backup` and `restore`, re-exported by
//! `continuum_backup` itself (`continuum-orchestrator`'s `BackupPlan`, `backup_platform` and
//! `plan_platform_restore`), with the options of the command line, a progress callback, and
//! reports as objects.
//!
//! # The progress callback
//! The library calls it from its worker threads, one call at a time. Each call attaches to
//! the interpreter for the call alone; the GIL is released for the whole operation, which
//! runs on a thread of its own while the calling thread only watches for signals.
//!
//! An exception raised by the callback stops the operation: it is recorded (the first one
//! only), the callback is not called again, and every read from or write to the store from
//! then on fails, so the operation unwinds through its own error handling (a backup removes
//! what it wrote and commits nothing: the manifest is never written; a restore stops before
//! its next item: a file is written whole or not at all, a database it was creating is
//! dropped). The exception is then raised as it was.
//! Ctrl-C works the same way: the calling thread checks for signals every
//! [`SIGNAL_POLL`] and a `KeyboardInterrupt` stops the operation like an exception of the
//! callback.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use continuum_core::{
    DynStore, Identities, ObjectKey, ObjectMeta, PutOptions, PutResult, Reason, Recipients, Store,
    StoreOptions,
};
use continuum_orchestrator::{
    ArtifactSource, BackedUpArtifact, BackupPlan, ClusterConf, PlanOptions, PlannedArtifact,
    PlannedComponent, PlatformBackupOptions, PlatformBackupReport, PlatformRestoreItem,
    PlatformRestoreOptions, PlatformRestorePlan, PlatformRestoreReport, PlatformSource, Progress,
    ProgressFn, RestoreDestination, RestoreKind, RestoredItem, backup_platform,
    plan_platform_restore, render_graph,
};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PySequence, PyString};
use serde::Serialize;

use crate::cntmp::py_bool;
use crate::db::target;
use crate::orchestrator::{PyMachineGroup, PyPlacement, detached, orchestrator_err};
use crate::{INVALID_INPUT_ERROR, PyStore, S3Args, py_repr, to_py_err};

/// How often the calling thread checks for signals (Ctrl-C) while an operation runs.
const SIGNAL_POLL: Duration = Duration::from_millis(100);

/// What a store says once an operation was stopped (never shown: the exception that stopped
/// it is raised instead).
const STOPPED: &str = "stopped: the progress callback raised an exception, or the caller was \
                       interrupted";

/// The name of a value as serde writes it (`backed_up`, `installation_files` …).
fn serde_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

fn optional_repr(py: Python<'_>, text: Option<&str>) -> PyResult<String> {
    text.map_or_else(|| Ok("None".to_string()), |t| py_repr(py, t))
}

// ---------------------------------------------------------------------------------------
// Stopping an operation from Python.

/// Why an operation is to stop: the first exception of the progress callback, or a signal
/// the calling thread saw.
struct Interrupt {
    stopped: AtomicBool,
    error: Mutex<Option<PyErr>>,
}

impl fmt::Debug for Interrupt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interrupt")
            .field("stopped", &self.stopped())
            .finish_non_exhaustive()
    }
}

impl Interrupt {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            stopped: AtomicBool::new(false),
            error: Mutex::new(None),
        })
    }

    /// Stops the operation; the first error is the one raised.
    fn stop(&self, err: PyErr) {
        let mut slot = self.error.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some(err);
        }
        self.stopped.store(true, Ordering::SeqCst);
    }

    fn stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    fn take(&self) -> Option<PyErr> {
        self.error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

/// A store that refuses every read and write once the operation is stopped (deletes go
/// through, so that a stopped backup can remove what it wrote).
#[derive(Debug)]
struct StoppableStore {
    inner: DynStore,
    interrupt: Arc<Interrupt>,
}

impl StoppableStore {
    fn check(&self) -> continuum_core::Result<()> {
        if self.interrupt.stopped() {
            return Err(continuum_core::Error::Store {
                store: self.inner.url(),
                message: STOPPED.to_string(),
            });
        }
        Ok(())
    }
}

impl Store for StoppableStore {
    fn url(&self) -> String {
        self.inner.url()
    }

    fn put(
        &self,
        key: &ObjectKey,
        data: &mut dyn Read,
        options: &PutOptions,
    ) -> continuum_core::Result<PutResult> {
        self.check()?;
        let mut data = Stoppable {
            inner: data,
            interrupt: self.interrupt.clone(),
        };
        self.inner.put(key, &mut data, options)
    }

    fn get(&self, key: &ObjectKey) -> continuum_core::Result<Box<dyn Read + Send>> {
        self.check()?;
        let inner = self.inner.get(key)?;
        Ok(Box::new(Stoppable {
            inner,
            interrupt: self.interrupt.clone(),
        }))
    }

    fn head(&self, key: &ObjectKey) -> continuum_core::Result<Option<ObjectMeta>> {
        self.inner.head(key)
    }

    fn list(&self, prefix: &str) -> continuum_core::Result<Vec<ObjectMeta>> {
        self.inner.list(prefix)
    }

    fn delete(&self, key: &ObjectKey) -> continuum_core::Result<()> {
        self.inner.delete(key)
    }
}

/// A reader that fails once the operation is stopped.
struct Stoppable<R> {
    inner: R,
    interrupt: Arc<Interrupt>,
}

impl<R: Read> Read for Stoppable<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.interrupt.stopped() {
            // Not `Interrupted`: readers retry that kind.
            return Err(io::Error::other(STOPPED));
        }
        self.inner.read(buf)
    }
}

/// The progress callback the library calls: each call attaches to the interpreter; the
/// first exception stops the operation and no call follows it.
fn progress_callback<'a>(
    callable: &'a Py<PyAny>,
    interrupt: &'a Interrupt,
) -> impl Fn(&Progress) + Send + Sync + 'a {
    move |p: &Progress| {
        if interrupt.stopped() {
            return;
        }
        Python::attach(|py| {
            if let Err(e) = callable.call1(py, (PyProgress(p.clone()),)) {
                interrupt.stop(e);
            }
        });
    }
}

/// Runs `operation` on a thread of its own with the GIL released, while the calling thread
/// checks for signals every [`SIGNAL_POLL`]: a `KeyboardInterrupt` stops the operation.
/// Once it has ended, the exception that stopped it is raised, whatever its outcome.
fn run_stoppable<T: Send>(
    py: Python<'_>,
    interrupt: &Interrupt,
    operation: impl FnOnce() -> continuum_orchestrator::Result<T> + Send,
) -> PyResult<T> {
    let result = py.detach(|| {
        std::thread::scope(|scope| {
            let (done, finished) = mpsc::channel::<()>();
            let worker = std::thread::Builder::new()
                .name("continuum-backup".to_string())
                .spawn_scoped(scope, move || {
                    let result = operation();
                    // The receiver waits for this (or for the sender to go, on a panic).
                    let _ = done.send(());
                    result
                })
                .map_err(|source| continuum_orchestrator::Error::Spawn {
                    program: "a worker thread".to_string(),
                    source,
                })?;
            while let Err(RecvTimeoutError::Timeout) = finished.recv_timeout(SIGNAL_POLL) {
                Python::attach(|py| {
                    if let Err(e) = py.check_signals() {
                        interrupt.stop(e);
                    }
                });
            }
            match worker.join() {
                Ok(result) => result,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    });
    if let Some(err) = interrupt.take() {
        return Err(err);
    }
    result.map_err(|e| orchestrator_err(py, e))
}

fn check_callable(progress: Option<&Py<PyAny>>, py: Python<'_>) -> PyResult<()> {
    match progress {
        Some(p) if !p.bind(py).is_callable() => Err(PyTypeError::new_err(
            "progress must be a callable taking a Progress, or None",
        )),
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------
// Arguments.

/// A store given as a URL (opened with the S3 options) or as an open `Store`.
enum StoreArg {
    Url(String, StoreOptions),
    Open(DynStore),
}

impl StoreArg {
    fn new(py: Python<'_>, value: &Bound<'_, PyAny>, s3: S3Args) -> PyResult<Self> {
        if let Ok(store) = value.cast::<PyStore>() {
            if s3.is_given() {
                return Err(INVALID_INPUT_ERROR.err(
                    py,
                    "the S3 options go with a store URL; this Store is open already".to_string(),
                ));
            }
            return Ok(Self::Open(store.get().0.clone()));
        }
        match value.extract::<String>() {
            Ok(url) => Ok(Self::Url(url, s3.store_options())),
            Err(_) => Err(PyTypeError::new_err(
                "store must be a store URL (str) or a Store",
            )),
        }
    }

    fn open(self) -> continuum_core::Result<DynStore> {
        match self {
            Self::Url(url, options) => continuum_core::open_store(&url, &options),
            Self::Open(store) => Ok(store),
        }
    }
}

/// `encrypt_to`: recipients (`age1…`) as a list or in one string (separated by commas or
/// white space), or the path of a recipients file.
fn recipients(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Recipients> {
    let parsed = if let Ok(text) = value.cast::<PyString>() {
        let text = text.to_cow()?;
        let text = text.as_ref();
        let trimmed = text.trim_start();
        let is_key = trimmed.starts_with("age1")
            || trimmed
                .get(..15)
                .is_some_and(|p| p.eq_ignore_ascii_case("AGE-SECRET-KEY-"));
        if is_key {
            // A secret key given by mistake is refused without being repeated.
            text.parse::<Recipients>()
        } else {
            Recipients::from_file(text)
        }
    } else if let Ok(seq) = value.cast::<PySequence>() {
        let keys: Vec<String> = seq.extract()?;
        Recipients::parse(&keys)
    } else if let Ok(path) = value.extract::<PathBuf>() {
        Recipients::from_file(path)
    } else {
        return Err(PyTypeError::new_err(
            "encrypt_to must be a list of age recipients (`age1…`) or the path of a recipients file",
        ));
    };
    parsed.map_err(|e| to_py_err(py, e))
}

/// `only`: the kinds to restore, as `RestoreKind` reads them (`installation_files` is taken
/// for `installation-files`).
fn restore_kinds(py: Python<'_>, only: Option<Vec<String>>) -> PyResult<Vec<RestoreKind>> {
    let mut kinds = Vec::new();
    for name in only.unwrap_or_default() {
        let kind = name
            .replace('_', "-")
            .parse::<RestoreKind>()
            .map_err(|e| orchestrator_err(py, e))?;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    Ok(kinds)
}

// ---------------------------------------------------------------------------------------
// The plan.

/// The backup plan of a cluster.
#[pyclass(name = "BackupPlan", module = "continuum_backup", frozen)]
struct PyBackupPlan(BackupPlan);

#[pymethods]
impl PyBackupPlan {
    #[getter]
    fn cluster_name(&self) -> Option<&str> {
        self.0.cluster_name.as_deref()
    }

    #[getter]
    fn components(&self) -> Vec<PyPlannedComponent> {
        self.0
            .components
            .iter()
            .cloned()
            .map(PyPlannedComponent)
            .collect()
    }

    #[getter]
    fn placements(&self) -> Vec<PyPlacement> {
        self.0.placements.iter().cloned().map(PyPlacement).collect()
    }

    #[getter]
    fn machine_groups(&self) -> Vec<PyMachineGroup> {
        self.0
            .machine_groups
            .iter()
            .cloned()
            .map(PyMachineGroup)
            .collect()
    }

    #[getter]
    fn encrypted(&self) -> bool {
        self.0.encrypted
    }

    #[getter]
    fn secrets(&self) -> &str {
        &self.0.secrets
    }

    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.0.warnings.clone()
    }

    /// The component named so, or `None`.
    fn component(&self, name: &str) -> Option<PyPlannedComponent> {
        self.0
            .components
            .iter()
            .find(|c| c.component == name)
            .cloned()
            .map(PyPlannedComponent)
    }

    fn to_table(&self) -> String {
        self.0.to_table()
    }

    fn to_dot(&self) -> String {
        self.0.to_dot()
    }

    #[pyo3(signature = (path, force = false))]
    fn write_graph(&self, py: Python<'_>, path: PathBuf, force: bool) -> PyResult<()> {
        let dot = self.0.to_dot();
        detached(py, || render_graph(&dot, &path, force))
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let components = PyList::empty(py);
        for c in self.components() {
            components.append(c.to_dict(py)?)?;
        }
        let placements = PyList::empty(py);
        for p in self.placements() {
            placements.append(p.to_dict(py)?)?;
        }
        let groups = PyList::empty(py);
        for g in self.machine_groups() {
            groups.append(g.to_dict(py)?)?;
        }
        let d = PyDict::new(py);
        d.set_item("cluster_name", self.cluster_name())?;
        d.set_item("components", components)?;
        d.set_item("placements", placements)?;
        d.set_item("machine_groups", groups)?;
        d.set_item("encrypted", self.encrypted())?;
        d.set_item("secrets", self.secrets())?;
        d.set_item("warnings", self.warnings())?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "BackupPlan(cluster_name={}, components={}, encrypted={})",
            optional_repr(py, self.0.cluster_name.as_deref())?,
            self.0.components.len(),
            py_bool(self.0.encrypted)
        ))
    }
}

/// One component of the cluster and what the plan does with its data.
#[pyclass(name = "PlannedComponent", module = "continuum_backup", frozen)]
struct PyPlannedComponent(PlannedComponent);

#[pymethods]
impl PyPlannedComponent {
    #[getter]
    fn component(&self) -> &str {
        &self.0.component
    }

    #[getter]
    fn kind(&self) -> &'static str {
        self.0.kind.as_str()
    }

    #[getter]
    fn coverage(&self) -> String {
        serde_name(&self.0.coverage)
    }

    #[getter]
    fn reason(&self) -> &str {
        &self.0.reason
    }

    #[getter]
    fn hosts(&self) -> Vec<String> {
        self.0.hosts.clone()
    }

    #[getter]
    fn destinations(&self) -> Vec<String> {
        self.0.destinations.clone()
    }

    #[getter]
    fn artifacts(&self) -> Vec<PyPlannedArtifact> {
        self.0
            .artifacts
            .iter()
            .cloned()
            .map(PyPlannedArtifact)
            .collect()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let artifacts = PyList::empty(py);
        for a in self.artifacts() {
            artifacts.append(a.to_dict(py)?)?;
        }
        let d = PyDict::new(py);
        d.set_item("component", self.component())?;
        d.set_item("kind", self.kind())?;
        d.set_item("coverage", self.coverage())?;
        d.set_item("reason", self.reason())?;
        d.set_item("hosts", self.hosts())?;
        d.set_item("destinations", self.destinations())?;
        d.set_item("artifacts", artifacts)?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "PlannedComponent(component={}, coverage={})",
            py_repr(py, &self.0.component)?,
            py_repr(py, &self.coverage())?
        ))
    }
}

/// One thing the backup set will hold for a component.
#[pyclass(name = "PlannedArtifact", module = "continuum_backup", frozen)]
struct PyPlannedArtifact(PlannedArtifact);

#[pymethods]
impl PyPlannedArtifact {
    #[getter]
    fn source(&self) -> String {
        serde_json::to_value(&self.0.source)
            .ok()
            .and_then(|v| v.get("type")?.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    #[getter]
    fn database(&self) -> Option<&str> {
        match &self.0.source {
            ArtifactSource::Database { database } => Some(database),
            _ => None,
        }
    }

    #[getter]
    fn description(&self) -> &str {
        &self.0.description
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("source", self.source())?;
        d.set_item("database", self.database())?;
        d.set_item("description", self.description())?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "PlannedArtifact(source={}, database={})",
            py_repr(py, &self.source())?,
            optional_repr(py, self.database())?
        ))
    }
}

/// `plan(config, *, host=None, …)`: the backup plan of the cluster `config` describes.
#[pyfunction]
#[pyo3(signature = (
    config,
    *,
    host = None,
    with_job_data = false,
    encrypted = false,
    databases = None,
))]
fn platform_plan(
    py: Python<'_>,
    config: PathBuf,
    host: Option<String>,
    with_job_data: bool,
    encrypted: bool,
    databases: Option<BTreeMap<String, String>>,
) -> PyResult<PyBackupPlan> {
    let mut options = PlanOptions::default();
    options.host = host;
    options.with_job_data = with_job_data;
    options.encrypted = encrypted;
    options.databases = databases.unwrap_or_default();
    detached(py, || {
        BackupPlan::new(&ClusterConf::load(&config)?, &options)
    })
    .map(PyBackupPlan)
}

// ---------------------------------------------------------------------------------------
// Progress.

/// Where a backup or a restore stands, as the progress callback receives it.
#[pyclass(name = "Progress", module = "continuum_backup", frozen)]
struct PyProgress(Progress);

#[pymethods]
impl PyProgress {
    #[getter]
    fn operation(&self) -> &'static str {
        self.0.operation
    }

    #[getter]
    fn artifacts_done(&self) -> usize {
        self.0.artifacts_done
    }

    #[getter]
    fn artifacts_total(&self) -> usize {
        self.0.artifacts_total
    }

    #[getter]
    fn bytes_done(&self) -> u64 {
        self.0.bytes_done
    }

    #[getter]
    fn bytes_total(&self) -> u64 {
        self.0.bytes_total
    }

    #[getter]
    fn elapsed(&self) -> f64 {
        self.0.elapsed.as_secs_f64()
    }

    #[getter]
    fn bytes_per_second(&self) -> f64 {
        self.0.bytes_per_second
    }

    #[getter]
    fn eta(&self) -> Option<f64> {
        self.0.eta.map(|d| d.as_secs_f64())
    }

    #[getter]
    fn current(&self) -> Vec<String> {
        self.0.current.clone()
    }

    #[getter]
    fn finished(&self) -> bool {
        self.0.finished
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("operation", self.operation())?;
        d.set_item("artifacts_done", self.artifacts_done())?;
        d.set_item("artifacts_total", self.artifacts_total())?;
        d.set_item("bytes_done", self.bytes_done())?;
        d.set_item("bytes_total", self.bytes_total())?;
        d.set_item("elapsed", self.elapsed())?;
        d.set_item("bytes_per_second", self.bytes_per_second())?;
        d.set_item("eta", self.eta())?;
        d.set_item("current", self.current())?;
        d.set_item("finished", self.finished())?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "Progress(operation='{}', artifacts={}/{}, bytes={}/{}, finished={})",
            self.0.operation,
            self.0.artifacts_done,
            self.0.artifacts_total,
            self.0.bytes_done,
            self.0.bytes_total,
            py_bool(self.0.finished)
        )
    }
}

// ---------------------------------------------------------------------------------------
// Backup.

/// What `backup` did.
#[pyclass(name = "BackupReport", module = "continuum_backup", frozen)]
struct PyBackupReport(PlatformBackupReport);

#[pymethods]
impl PyBackupReport {
    #[getter]
    fn set_id(&self) -> &str {
        &self.0.set_id
    }

    #[getter]
    fn store(&self) -> &str {
        &self.0.store
    }

    #[getter]
    fn plan(&self) -> PyBackupPlan {
        PyBackupPlan(self.0.plan.clone())
    }

    #[getter]
    fn artifacts(&self) -> Vec<PyBackedUpArtifact> {
        self.0
            .artifacts
            .iter()
            .cloned()
            .map(PyBackedUpArtifact)
            .collect()
    }

    #[getter]
    fn bytes_stored(&self) -> u64 {
        self.0.bytes_stored
    }

    #[getter]
    fn bytes_read(&self) -> u64 {
        self.0.bytes_read
    }

    #[getter]
    fn parallel(&self) -> usize {
        self.0.parallel
    }

    #[getter]
    fn duration(&self) -> f64 {
        self.0.duration.as_secs_f64()
    }

    #[getter]
    fn redacted_secrets(&self) -> Vec<String> {
        self.0.redacted_secrets.clone()
    }

    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.0.warnings.clone()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let artifacts = PyList::empty(py);
        for a in self.artifacts() {
            artifacts.append(a.to_dict(py)?)?;
        }
        let d = PyDict::new(py);
        d.set_item("set_id", self.set_id())?;
        d.set_item("store", self.store())?;
        d.set_item("plan", self.plan().to_dict(py)?)?;
        d.set_item("artifacts", artifacts)?;
        d.set_item("bytes_stored", self.bytes_stored())?;
        d.set_item("bytes_read", self.bytes_read())?;
        d.set_item("parallel", self.parallel())?;
        d.set_item("duration", self.duration())?;
        d.set_item("redacted_secrets", self.redacted_secrets())?;
        d.set_item("warnings", self.warnings())?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "BackupReport(set_id={}, artifacts={}, bytes_stored={})",
            py_repr(py, &self.0.set_id)?,
            self.0.artifacts.len(),
            self.0.bytes_stored
        ))
    }
}

/// One artifact a backup wrote.
#[pyclass(name = "BackedUpArtifact", module = "continuum_backup", frozen)]
struct PyBackedUpArtifact(BackedUpArtifact);

#[pymethods]
impl PyBackedUpArtifact {
    #[getter]
    fn name(&self) -> &str {
        &self.0.name
    }

    #[getter]
    fn component(&self) -> &str {
        &self.0.component
    }

    #[getter]
    fn kind(&self) -> &'static str {
        self.0.kind.as_str()
    }

    #[getter]
    fn size(&self) -> u64 {
        self.0.size
    }

    #[getter]
    fn source_bytes(&self) -> u64 {
        self.0.source_bytes
    }

    #[getter]
    fn duration(&self) -> f64 {
        self.0.duration.as_secs_f64()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("name", self.name())?;
        d.set_item("component", self.component())?;
        d.set_item("kind", self.kind())?;
        d.set_item("size", self.size())?;
        d.set_item("source_bytes", self.source_bytes())?;
        d.set_item("duration", self.duration())?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "BackedUpArtifact(name={}, size={})",
            py_repr(py, &self.0.name)?,
            self.0.size
        ))
    }
}

impl S3Args {
    /// Whether any S3 option was given.
    fn is_given(&self) -> bool {
        self.endpoint.is_some()
            || self.region.is_some()
            || self.path_style.is_some()
            || self.access_key_id.is_some()
            || self.secret_access_key.is_some()
            || self.session_token.is_some()
    }
}

/// `backup(config, cluster, store, *, …)`: the whole platform into one new set.
#[pyfunction]
#[pyo3(signature = (
    config,
    cluster,
    store,
    *,
    dsn = None,
    reason = "manual",
    with_job_data = false,
    databases = None,
    with_globals = true,
    parallel = 4,
    encrypt_to = None,
    progress = None,
    endpoint = None,
    region = None,
    path_style = None,
    access_key_id = None,
    secret_access_key = None,
    session_token = None,
))]
#[expect(
    clippy::too_many_arguments,
    reason = "mirrors the Python keyword arguments one to one"
)]
fn platform_backup(
    py: Python<'_>,
    config: PathBuf,
    cluster: PathBuf,
    store: &Bound<'_, PyAny>,
    dsn: Option<String>,
    reason: &str,
    with_job_data: bool,
    databases: Option<BTreeMap<String, String>>,
    with_globals: bool,
    parallel: usize,
    encrypt_to: Option<&Bound<'_, PyAny>>,
    progress: Option<Py<PyAny>>,
    endpoint: Option<String>,
    region: Option<String>,
    path_style: Option<bool>,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    session_token: Option<String>,
) -> PyResult<PyBackupReport> {
    let reason = reason.parse::<Reason>().map_err(|e| to_py_err(py, e))?;
    if parallel == 0 {
        return Err(INVALID_INPUT_ERROR.err(
            py,
            "invalid parallel `0`: at least one artifact is produced at a time".to_string(),
        ));
    }
    check_callable(progress.as_ref(), py)?;
    let store = StoreArg::new(
        py,
        store,
        S3Args {
            endpoint,
            region,
            path_style,
            access_key_id,
            secret_access_key,
            session_token,
        },
    )?;
    let mut options = PlatformBackupOptions::default();
    options.reason = reason;
    options.with_job_data = with_job_data;
    options.databases = databases.unwrap_or_default();
    options.with_globals = with_globals;
    options.parallel = parallel;
    options.encrypt_to = encrypt_to.map(|r| recipients(py, r)).transpose()?;

    let interrupt = Interrupt::new();
    let callback = progress.as_ref().map(|c| progress_callback(c, &interrupt));
    let report = run_stoppable(py, &interrupt, || {
        let store: DynStore = Arc::new(StoppableStore {
            inner: store.open()?,
            interrupt: interrupt.clone(),
        });
        let source = PlatformSource::new(&config, &cluster, target(dsn.as_deref())?);
        backup_platform(
            store,
            &source,
            &options,
            callback.as_ref().map(|c| c as &ProgressFn<'_>),
        )
    })?;
    Ok(PyBackupReport(report))
}

// ---------------------------------------------------------------------------------------
// Restore.

/// A platform restore worked out, with nothing changed: what `restore(…, dry_run=True)`
/// returns.
#[pyclass(name = "RestorePlan", module = "continuum_backup", frozen)]
struct PyRestorePlan(PlatformRestorePlan);

#[pymethods]
impl PyRestorePlan {
    #[getter]
    fn set_id(&self) -> &str {
        &self.0.set_id
    }

    #[getter]
    fn cluster_name(&self) -> Option<&str> {
        self.0.cluster_name.as_deref()
    }

    #[getter]
    fn items(&self) -> Vec<PyRestoreItem> {
        self.0.items.iter().cloned().map(PyRestoreItem).collect()
    }

    #[getter]
    fn conflicts(&self) -> Vec<PyRestoreItem> {
        self.0.conflicts().cloned().map(PyRestoreItem).collect()
    }

    #[getter]
    fn notes(&self) -> Vec<String> {
        self.0.notes.clone()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let items = PyList::empty(py);
        for i in self.items() {
            items.append(i.to_dict(py)?)?;
        }
        let d = PyDict::new(py);
        d.set_item("set_id", self.set_id())?;
        d.set_item("cluster_name", self.cluster_name())?;
        d.set_item("items", items)?;
        d.set_item("notes", self.notes())?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "RestorePlan(set_id={}, items={}, conflicts={})",
            py_repr(py, &self.0.set_id)?,
            self.0.items.len(),
            self.0.conflicts().count()
        ))
    }
}

/// One artifact of a restore plan and what would happen to it.
#[pyclass(name = "RestoreItem", module = "continuum_backup", frozen)]
struct PyRestoreItem(PlatformRestoreItem);

#[pymethods]
impl PyRestoreItem {
    #[getter]
    fn kind(&self) -> &'static str {
        self.0.kind.as_str()
    }

    #[getter]
    fn artifact(&self) -> &str {
        &self.0.artifact
    }

    #[getter]
    fn destination(&self) -> &str {
        &self.0.destination
    }

    #[getter]
    fn action(&self) -> &'static str {
        self.0.action.as_str()
    }

    #[getter]
    fn size(&self) -> u64 {
        self.0.size
    }

    #[getter]
    fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("kind", self.kind())?;
        d.set_item("artifact", self.artifact())?;
        d.set_item("destination", self.destination())?;
        d.set_item("action", self.action())?;
        d.set_item("size", self.size())?;
        d.set_item("note", self.note())?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "RestoreItem(artifact={}, action={})",
            py_repr(py, &self.0.artifact)?,
            py_repr(py, self.action())?
        ))
    }
}

/// What `restore` did and found.
#[pyclass(name = "RestoreReport", module = "continuum_backup", frozen)]
struct PyRestoreReport(PlatformRestoreReport);

#[pymethods]
impl PyRestoreReport {
    #[getter]
    fn set_id(&self) -> &str {
        &self.0.set_id
    }

    #[getter]
    fn items(&self) -> Vec<PyRestoredItem> {
        self.0.items.iter().cloned().map(PyRestoredItem).collect()
    }

    #[getter]
    fn bytes_read(&self) -> u64 {
        self.0.bytes_read
    }

    #[getter]
    fn duration(&self) -> f64 {
        self.0.duration.as_secs_f64()
    }

    #[getter]
    fn notes(&self) -> Vec<String> {
        self.0.notes.clone()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let items = PyList::empty(py);
        for i in self.items() {
            items.append(i.to_dict(py)?)?;
        }
        let d = PyDict::new(py);
        d.set_item("set_id", self.set_id())?;
        d.set_item("items", items)?;
        d.set_item("bytes_read", self.bytes_read())?;
        d.set_item("duration", self.duration())?;
        d.set_item("notes", self.notes())?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "RestoreReport(set_id={}, items={})",
            py_repr(py, &self.0.set_id)?,
            self.0.items.len()
        ))
    }
}

/// What one restored artifact came to.
#[pyclass(name = "RestoredItem", module = "continuum_backup", frozen)]
struct PyRestoredItem(RestoredItem);

#[pymethods]
impl PyRestoredItem {
    #[getter]
    fn kind(&self) -> &'static str {
        self.0.kind.as_str()
    }

    #[getter]
    fn artifact(&self) -> &str {
        &self.0.artifact
    }

    #[getter]
    fn destination(&self) -> &str {
        &self.0.destination
    }

    #[getter]
    fn action(&self) -> &'static str {
        self.0.action.as_str()
    }

    #[getter]
    fn verified(&self) -> &str {
        &self.0.verified
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("kind", self.kind())?;
        d.set_item("artifact", self.artifact())?;
        d.set_item("destination", self.destination())?;
        d.set_item("action", self.action())?;
        d.set_item("verified", self.verified())?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "RestoredItem(artifact={}, action={})",
            py_repr(py, &self.0.artifact)?,
            py_repr(py, self.action())?
        ))
    }
}

/// What `restore` gives back: the plan of a dry run, or the report of a restore.
enum Restored {
    Plan(Box<PlatformRestorePlan>),
    Report(PlatformRestoreReport),
}

/// `restore(store, set_id, cluster, *, …)`: a platform set, planned, applied and verified;
/// with `dry_run`, only planned.
#[pyfunction]
#[pyo3(signature = (
    store,
    set_id,
    cluster,
    *,
    dsn = None,
    only = None,
    databases = None,
    force = false,
    with_globals = false,
    identity = None,
    dry_run = false,
    progress = None,
    endpoint = None,
    region = None,
    path_style = None,
    access_key_id = None,
    secret_access_key = None,
    session_token = None,
))]
#[expect(
    clippy::too_many_arguments,
    reason = "mirrors the Python keyword arguments one to one"
)]
fn platform_restore(
    py: Python<'_>,
    store: &Bound<'_, PyAny>,
    set_id: String,
    cluster: PathBuf,
    dsn: Option<String>,
    only: Option<Vec<String>>,
    databases: Option<BTreeMap<String, String>>,
    force: bool,
    with_globals: bool,
    identity: Option<PathBuf>,
    dry_run: bool,
    progress: Option<Py<PyAny>>,
    endpoint: Option<String>,
    region: Option<String>,
    path_style: Option<bool>,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    session_token: Option<String>,
) -> PyResult<Py<PyAny>> {
    check_callable(progress.as_ref(), py)?;
    let store = StoreArg::new(
        py,
        store,
        S3Args {
            endpoint,
            region,
            path_style,
            access_key_id,
            secret_access_key,
            session_token,
        },
    )?;
    let mut options = PlatformRestoreOptions::default();
    options.only = restore_kinds(py, only)?;
    options.databases = databases.unwrap_or_default();
    options.force = force;
    options.with_globals = with_globals;
    options.identities = match identity {
        Some(path) => Some(
            py.detach(|| Identities::from_file(&path))
                .map_err(|e| to_py_err(py, e))?,
        ),
        None => None,
    };
    // As the command line: a server is needed only when databases are restored.
    let needs_db = options.only.is_empty() || options.only.contains(&RestoreKind::Databases);
    let destination = move || -> continuum_orchestrator::Result<RestoreDestination> {
        let target = if needs_db {
            Some(target(dsn.as_deref())?)
        } else {
            None
        };
        Ok(RestoreDestination::new(&cluster, target))
    };

    let restored = if dry_run {
        detached(py, || {
            let store = store.open()?;
            let plan = plan_platform_restore(store.as_ref(), &set_id, &destination()?, &options)?;
            Ok(Restored::Plan(Box::new(plan)))
        })?
    } else {
        let interrupt = Interrupt::new();
        let callback = progress.as_ref().map(|c| progress_callback(c, &interrupt));
        run_stoppable(py, &interrupt, || {
            let store = StoppableStore {
                inner: store.open()?,
                interrupt: interrupt.clone(),
            };
            let plan = plan_platform_restore(&store, &set_id, &destination()?, &options)?;
            plan.apply(&store, callback.as_ref().map(|c| c as &ProgressFn<'_>))
                .map(Restored::Report)
        })?
    };
    Ok(match restored {
        Restored::Plan(plan) => Py::new(py, PyRestorePlan(*plan))?.into_any(),
        Restored::Report(report) => Py::new(py, PyRestoreReport(report))?.into_any(),
    })
}

/// `generate_identity()`: a new age key pair `(secret key, public key)`.
#[pyfunction]
fn generate_identity() -> (String, String) {
    continuum_core::generate_identity()
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyBackupPlan>()?;
    m.add_class::<PyPlannedComponent>()?;
    m.add_class::<PyPlannedArtifact>()?;
    m.add_class::<PyProgress>()?;
    m.add_class::<PyBackupReport>()?;
    m.add_class::<PyBackedUpArtifact>()?;
    m.add_class::<PyRestorePlan>()?;
    m.add_class::<PyRestoreItem>()?;
    m.add_class::<PyRestoreReport>()?;
    m.add_class::<PyRestoredItem>()?;
    m.add_function(wrap_pyfunction!(platform_plan, m)?)?;
    m.add_function(wrap_pyfunction!(platform_backup, m)?)?;
    m.add_function(wrap_pyfunction!(platform_restore, m)?)?;
    m.add_function(wrap_pyfunction!(generate_identity, m)?)?;
    Ok(())
}
