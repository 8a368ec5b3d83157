//! `continuum_backup._native`: the Python face of `continuum-core`.
//!
//! The policy functions and classes (`continuum-policy`) are in `src/policy.rs`, the job data
//! ones (`continuum-cntmp`) in `src/cntmp.rs`; the Python modules `continuum_backup.policy` and
//! `continuum_backup.cntmp` re-export them under their short names. `cluster.conf`
//! (`continuum-orchestrator`) is in `src/orchestrator.rs` and the PostgreSQL backups in
//! `src/db.rs`, re-exported by `continuum_backup.orchestrator` and `continuum_backup.db`; the orchestrator archive and the
//! installation files are in `src/archive.rs`, re-exported by `continuum_backup.orchestrator`;
//! the whole platform (`plan`, `backup`, `restore`) is in `src/platform.rs`, re-exported by
//! `continuum_backup` itself.
//!
//! Every function here converts its arguments, calls the library with the GIL released
//! when it touches a store or a file, and converts the result or the error. Behaviour lives
//! in `continuum-core`; the Python package `continuum_backup` re-exports these classes next
//! to its exception hierarchy (`continuum_backup/_errors.py`).

use std::path::PathBuf;
use std::time::Duration;

use continuum_core::{
    ArtifactCheck, CheckStatus, DataKind, Decision, DynStore, Fqn, LeftoverDecision, Manifest,
    Namespace, PruneOptions, PruneReport, Reason, ResourceType, RetentionPolicy, S3Options, Secret,
    SetOptions, StoreOptions, VerifyReport,
};
use jiff::Timestamp;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyString, PyType};

mod archive;
mod cntmp;
mod db;
mod orchestrator;
mod platform;
mod policy;

/// The Python module holding the exception classes.
const ERRORS_MODULE: &str = "continuum_backup._errors";

/// An exception class of `continuum_backup._errors`, imported once.
pub(crate) struct ErrorClass {
    name: &'static str,
    class: PyOnceLock<Py<PyType>>,
}

impl ErrorClass {
    const fn new(name: &'static str) -> Self {
        Self {
            name,
            class: PyOnceLock::new(),
        }
    }

    /// The class itself.
    pub(crate) fn get<'py>(&'static self, py: Python<'py>) -> PyResult<&'py Bound<'py, PyType>> {
        self.class.import(py, ERRORS_MODULE, self.name)
    }

    /// An exception of this class with `message`.
    pub(crate) fn err(&'static self, py: Python<'_>, message: String) -> PyErr {
        match self.get(py) {
            Ok(class) => PyErr::from_type(class.clone(), message),
            // Only when the package is broken; the import error says why.
            Err(import_error) => import_error,
        }
    }
}

pub(crate) static BASE_ERROR: ErrorClass = ErrorClass::new("Error");
pub(crate) static INVALID_INPUT_ERROR: ErrorClass = ErrorClass::new("InvalidInputError");
pub(crate) static NOT_FOUND_ERROR: ErrorClass = ErrorClass::new("NotFoundError");
pub(crate) static ALREADY_EXISTS_ERROR: ErrorClass = ErrorClass::new("AlreadyExistsError");
pub(crate) static CORRUPT_ERROR: ErrorClass = ErrorClass::new("CorruptError");
pub(crate) static STORE_ERROR: ErrorClass = ErrorClass::new("StoreError");
pub(crate) static POLICY_ERROR: ErrorClass = ErrorClass::new("PolicyError");
pub(crate) static RELEASE_GATE_ERROR: ErrorClass = ErrorClass::new("ReleaseGateError");
pub(crate) static BEHIND_UPSTREAM_ERROR: ErrorClass = ErrorClass::new("BehindUpstreamError");
pub(crate) static DECRYPT_ERROR: ErrorClass = ErrorClass::new("DecryptError");
pub(crate) static IDENTITY_REQUIRED_ERROR: ErrorClass = ErrorClass::new("IdentityRequiredError");

/// Converts a library error into the matching `continuum_backup` exception; the message is
/// the library's own text (which never holds a secret).
pub(crate) fn to_py_err(py: Python<'_>, err: continuum_core::Error) -> PyErr {
    core_error_class(&err).err(py, err.to_string())
}

/// The exception class of a library error.
pub(crate) fn core_error_class(err: &continuum_core::Error) -> &'static ErrorClass {
    use continuum_core::Error as E;
    match err {
        E::InvalidFqn { .. }
        | E::InvalidDigest { .. }
        | E::UnsafePath { .. }
        | E::LimitExceeded { .. }
        | E::UnsupportedVersion { .. }
        | E::InvalidDocument { .. }
        | E::InvalidStoreUrl { .. }
        | E::InvalidInput { .. } => &INVALID_INPUT_ERROR,
        E::NotFound { .. } | E::SetNotFound { .. } => &NOT_FOUND_ERROR,
        E::AlreadyExists { .. } | E::FileExists { .. } => &ALREADY_EXISTS_ERROR,
        E::Corrupt { .. } => &CORRUPT_ERROR,
        E::Store { .. } | E::Io { .. } => &STORE_ERROR,
        // A subclass of `DecryptError`: nothing could be tried without a key.
        E::IdentityRequired { .. } => &IDENTITY_REQUIRED_ERROR,
        E::Decrypt { .. } => &DECRYPT_ERROR,
        _ => &BASE_ERROR,
    }
}

/// Runs `f` without the GIL and converts its error.
fn detached<T, F>(py: Python<'_>, f: F) -> PyResult<T>
where
    F: Send + FnOnce() -> continuum_core::Result<T>,
    T: Send,
{
    py.detach(f).map_err(|e| to_py_err(py, e))
}

/// A timestamp as Python's `datetime.isoformat()` writes a UTC time, which
/// `datetime.fromisoformat` reads back on every supported Python.
fn iso(ts: Timestamp) -> String {
    jiff::fmt::strtime::format("%Y-%m-%dT%H:%M:%S%.6f+00:00", ts).unwrap_or_else(|_| ts.to_string())
}

pub(crate) fn py_repr(py: Python<'_>, text: &str) -> PyResult<String> {
    Ok(PyString::new(py, text).repr()?.to_string())
}

/// The keyword arguments of `Store.open` that reach an S3 store, shared by every function
/// that opens one (`db.backup`, `db.restore`).
pub(crate) struct S3Args {
    pub(crate) endpoint: Option<String>,
    pub(crate) region: Option<String>,
    pub(crate) path_style: Option<bool>,
    pub(crate) access_key_id: Option<String>,
    pub(crate) secret_access_key: Option<String>,
    pub(crate) session_token: Option<String>,
}

impl S3Args {
    /// Store options carrying them; what is left unset comes from the `AWS_*` variables.
    pub(crate) fn store_options(self) -> StoreOptions {
        let mut s3 = S3Options::default();
        s3.endpoint = self.endpoint;
        s3.region = self.region;
        if let Some(path_style) = self.path_style {
            s3.path_style = path_style;
        }
        s3.access_key_id = self.access_key_id.map(Secret::new);
        s3.secret_access_key = self.secret_access_key.map(Secret::new);
        s3.session_token = self.session_token.map(Secret::new);
        StoreOptions::with_s3(s3)
    }
}

/// A fully qualified name: `type::/namespace::local_name`.
#[pyclass(name = "Fqn", module = "continuum_backup", frozen, eq, hash)]
#[derive(PartialEq, Eq, Hash)]
struct PyFqn(Fqn);

#[pymethods]
impl PyFqn {
    #[staticmethod]
    #[pyo3(signature = (text, default_type = None))]
    fn parse(py: Python<'_>, text: &str, default_type: Option<&str>) -> PyResult<Self> {
        let parsed = match default_type {
            None => Fqn::parse(text),
            Some(t) => t
                .parse::<ResourceType>()
                .and_then(|t| Fqn::parse_as(text, t)),
        };
        parsed.map(Self).map_err(|e| to_py_err(py, e))
    }

    #[getter]
    fn resource_type(&self) -> Option<&'static str> {
        self.0.resource_type().map(ResourceType::as_str)
    }

    #[getter]
    fn namespace(&self) -> &str {
        self.0.namespace().as_str()
    }

    #[getter]
    fn local_name(&self) -> Option<&str> {
        self.0.local_name()
    }

    #[getter]
    fn is_realm(&self) -> bool {
        self.0.is_realm()
    }

    fn with_namespace(&self, py: Python<'_>, namespace: &str) -> PyResult<Self> {
        let namespace = Namespace::parse(namespace).map_err(|e| to_py_err(py, e))?;
        Ok(Self(self.0.with_namespace(namespace)))
    }

    fn __str__(&self) -> String {
        self.0.to_string()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("Fqn({})", py_repr(py, &self.0.to_string())?))
    }
}

/// A backup store: a folder or an S3 bucket.
#[pyclass(name = "Store", module = "continuum_backup", frozen)]
pub(crate) struct PyStore(pub(crate) DynStore);

#[pymethods]
impl PyStore {
    #[staticmethod]
    #[pyo3(signature = (
        url,
        *,
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
    fn open(
        py: Python<'_>,
        url: String,
        endpoint: Option<String>,
        region: Option<String>,
        path_style: Option<bool>,
        access_key_id: Option<String>,
        secret_access_key: Option<String>,
        session_token: Option<String>,
    ) -> PyResult<Self> {
        let options = S3Args {
            endpoint,
            region,
            path_style,
            access_key_id,
            secret_access_key,
            session_token,
        }
        .store_options();
        detached(py, || continuum_core::open_store(&url, &options)).map(Self)
    }

    #[getter]
    fn url(&self) -> String {
        self.0.url()
    }

    #[pyo3(signature = (
        files,
        *,
        kind = "cluster",
        component = "files",
        reason = "manual",
        cluster_name = None,
    ))]
    fn create_set(
        &self,
        py: Python<'_>,
        files: Vec<PathBuf>,
        kind: &str,
        component: &str,
        reason: &str,
        cluster_name: Option<String>,
    ) -> PyResult<PyManifest> {
        let kind: DataKind = kind.parse().map_err(|e| to_py_err(py, e))?;
        let mut options = SetOptions::new(reason.parse::<Reason>().map_err(|e| to_py_err(py, e))?);
        options.cluster_name = cluster_name;
        let store = self.0.clone();
        detached(py, || {
            continuum_core::create_set_from_files(store, &files, kind, component, options)
        })
        .map(PyManifest)
    }

    fn sets(&self, py: Python<'_>) -> PyResult<Vec<PyManifest>> {
        let sets = detached(py, || continuum_core::list_sets(&*self.0))?;
        Ok(sets.into_iter().map(PyManifest).collect())
    }

    fn verify(&self, py: Python<'_>, set_id: &str) -> PyResult<PyVerifyReport> {
        detached(py, || continuum_core::verify_set(&*self.0, set_id)).map(PyVerifyReport)
    }

    #[pyo3(signature = (
        *,
        keep_last = 0,
        keep_daily = 0,
        keep_weekly = 0,
        keep_monthly = 0,
        min_keep = 0,
        dry_run = false,
        incomplete_grace_seconds = 3600,
    ))]
    #[expect(
        clippy::too_many_arguments,
        reason = "mirrors the Python keyword arguments one to one"
    )]
    fn prune(
        &self,
        py: Python<'_>,
        keep_last: u32,
        keep_daily: u32,
        keep_weekly: u32,
        keep_monthly: u32,
        min_keep: u32,
        dry_run: bool,
        incomplete_grace_seconds: u64,
    ) -> PyResult<PyPruneReport> {
        let mut policy = RetentionPolicy::default();
        policy.keep_last = keep_last;
        policy.keep_daily = keep_daily;
        policy.keep_weekly = keep_weekly;
        policy.keep_monthly = keep_monthly;
        policy.min_keep = min_keep;
        let mut options = PruneOptions::new(policy);
        options.dry_run = dry_run;
        options.incomplete_grace = Duration::from_secs(incomplete_grace_seconds);
        detached(py, || continuum_core::prune(&*self.0, &options)).map(PyPruneReport)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("Store({})", py_repr(py, &self.0.url())?))
    }
}

/// The manifest of a committed backup set.
#[pyclass(name = "Manifest", module = "continuum_backup", frozen)]
pub(crate) struct PyManifest(pub(crate) Manifest);

#[pymethods]
impl PyManifest {
    #[getter]
    fn set_id(&self) -> &str {
        &self.0.set_id
    }

    #[getter]
    fn created_at(&self) -> String {
        iso(self.0.created_at)
    }

    #[getter]
    fn producer(&self) -> &str {
        &self.0.producer
    }

    #[getter]
    fn cluster_name(&self) -> Option<&str> {
        self.0.cluster_name.as_deref()
    }

    #[getter]
    fn reason(&self) -> &'static str {
        self.0.reason.as_str()
    }

    #[getter]
    fn artifacts(&self) -> Vec<PyArtifact> {
        self.0.artifacts.iter().cloned().map(PyArtifact).collect()
    }

    fn to_json(&self) -> String {
        String::from_utf8_lossy(&self.0.to_json()).into_owned()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let artifacts = PyList::empty(py);
        for artifact in self.artifacts() {
            artifacts.append(artifact.to_dict(py)?)?;
        }
        let d = PyDict::new(py);
        d.set_item("set_id", self.set_id())?;
        d.set_item("created_at", self.created_at())?;
        d.set_item("producer", self.producer())?;
        d.set_item("cluster_name", self.cluster_name())?;
        d.set_item("reason", self.reason())?;
        d.set_item("artifacts", artifacts)?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Manifest(set_id={}, artifacts={})",
            py_repr(py, &self.0.set_id)?,
            self.0.artifacts.len()
        ))
    }
}

/// One artifact of a backup set.
#[pyclass(name = "Artifact", module = "continuum_backup", frozen)]
struct PyArtifact(continuum_core::Artifact);

#[pymethods]
impl PyArtifact {
    #[getter]
    fn kind(&self) -> &'static str {
        self.0.kind.as_str()
    }

    #[getter]
    fn component(&self) -> &str {
        &self.0.component
    }

    #[getter]
    fn name(&self) -> &str {
        &self.0.name
    }

    #[getter]
    fn path(&self) -> &str {
        self.0.path.as_str()
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
    fn compression(&self) -> &'static str {
        self.0.compression.as_str()
    }

    #[getter]
    fn created_at(&self) -> String {
        iso(self.0.created_at)
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("kind", self.kind())?;
        d.set_item("component", self.component())?;
        d.set_item("name", self.name())?;
        d.set_item("path", self.path())?;
        d.set_item("size", self.size())?;
        d.set_item("sha256", self.sha256())?;
        d.set_item("compression", self.compression())?;
        d.set_item("created_at", self.created_at())?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Artifact(name={}, size={})",
            py_repr(py, &self.0.name)?,
            self.0.size
        ))
    }
}

/// The outcome of `Store.verify`.
#[pyclass(name = "VerifyReport", module = "continuum_backup", frozen)]
struct PyVerifyReport(VerifyReport);

#[pymethods]
impl PyVerifyReport {
    #[getter]
    fn set_id(&self) -> &str {
        &self.0.set_id
    }

    #[getter]
    fn ok(&self) -> bool {
        self.0.ok
    }

    #[getter]
    fn bytes_checked(&self) -> u64 {
        self.0.bytes_checked
    }

    #[getter]
    fn artifacts(&self) -> Vec<PyArtifactCheck> {
        self.0
            .artifacts
            .iter()
            .cloned()
            .map(PyArtifactCheck)
            .collect()
    }

    #[getter]
    fn unexpected_objects(&self) -> Vec<String> {
        self.0.unexpected_objects.clone()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let artifacts = PyList::empty(py);
        for check in self.artifacts() {
            artifacts.append(check.to_dict(py)?)?;
        }
        let d = PyDict::new(py);
        d.set_item("set_id", self.set_id())?;
        d.set_item("ok", self.ok())?;
        d.set_item("bytes_checked", self.bytes_checked())?;
        d.set_item("artifacts", artifacts)?;
        d.set_item("unexpected_objects", self.unexpected_objects())?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "VerifyReport(set_id={}, ok={})",
            py_repr(py, &self.0.set_id)?,
            if self.0.ok { "True" } else { "False" }
        ))
    }
}

/// The check of one artifact. `status` is `ok`, `missing`, `size_mismatch`,
/// `digest_mismatch` or `read_error`; the other fields carry that status's details.
#[pyclass(name = "ArtifactCheck", module = "continuum_backup", frozen)]
struct PyArtifactCheck(ArtifactCheck);

#[pymethods]
impl PyArtifactCheck {
    #[getter]
    fn name(&self) -> &str {
        &self.0.name
    }

    #[getter]
    fn path(&self) -> &str {
        &self.0.path
    }

    #[getter]
    fn status(&self) -> &'static str {
        match &self.0.status {
            CheckStatus::Ok => "ok",
            CheckStatus::Missing => "missing",
            CheckStatus::SizeMismatch { .. } => "size_mismatch",
            CheckStatus::DigestMismatch { .. } => "digest_mismatch",
            CheckStatus::ReadError { .. } => "read_error",
            _ => "unknown",
        }
    }

    #[getter]
    fn expected_size(&self) -> Option<u64> {
        match &self.0.status {
            CheckStatus::SizeMismatch { expected, .. } => Some(*expected),
            _ => None,
        }
    }

    #[getter]
    fn actual_size(&self) -> Option<u64> {
        match &self.0.status {
            CheckStatus::SizeMismatch { actual, .. } => Some(*actual),
            _ => None,
        }
    }

    #[getter]
    fn expected_sha256(&self) -> Option<String> {
        match &self.0.status {
            CheckStatus::DigestMismatch { expected, .. } => Some(expected.to_string()),
            _ => None,
        }
    }

    #[getter]
    fn actual_sha256(&self) -> Option<String> {
        match &self.0.status {
            CheckStatus::DigestMismatch { actual, .. } => Some(actual.to_string()),
            _ => None,
        }
    }

    #[getter]
    fn message(&self) -> Option<String> {
        match &self.0.status {
            CheckStatus::ReadError { message } => Some(message.clone()),
            CheckStatus::Ok
            | CheckStatus::Missing
            | CheckStatus::SizeMismatch { .. }
            | CheckStatus::DigestMismatch { .. } => None,
            // A status this build does not know by name still says what it is.
            other => Some(format!("{other:?}")),
        }
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("name", self.name())?;
        d.set_item("path", self.path())?;
        d.set_item("status", self.status())?;
        d.set_item("expected_size", self.expected_size())?;
        d.set_item("actual_size", self.actual_size())?;
        d.set_item("expected_sha256", self.expected_sha256())?;
        d.set_item("actual_sha256", self.actual_sha256())?;
        d.set_item("message", self.message())?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "ArtifactCheck(name={}, status={})",
            py_repr(py, &self.0.name)?,
            py_repr(py, self.status())?
        ))
    }
}

/// The outcome of `Store.prune`.
#[pyclass(name = "PruneReport", module = "continuum_backup", frozen)]
struct PyPruneReport(PruneReport);

#[pymethods]
impl PyPruneReport {
    #[getter]
    fn dry_run(&self) -> bool {
        self.0.dry_run
    }

    #[getter]
    fn decisions(&self) -> Vec<PyPruneDecision> {
        self.0
            .decisions
            .iter()
            .cloned()
            .map(PyPruneDecision)
            .collect()
    }

    #[getter]
    fn leftovers(&self) -> Vec<PyLeftoverDecision> {
        self.0
            .leftovers
            .iter()
            .cloned()
            .map(PyLeftoverDecision)
            .collect()
    }

    #[getter]
    fn removed_objects(&self) -> u64 {
        self.0.removed_objects
    }

    #[getter]
    fn removed_bytes(&self) -> u64 {
        self.0.removed_bytes
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let decisions = PyList::empty(py);
        for decision in self.decisions() {
            decisions.append(decision.to_dict(py)?)?;
        }
        let leftovers = PyList::empty(py);
        for leftover in self.leftovers() {
            leftovers.append(leftover.to_dict(py)?)?;
        }
        let d = PyDict::new(py);
        d.set_item("dry_run", self.dry_run())?;
        d.set_item("decisions", decisions)?;
        d.set_item("leftovers", leftovers)?;
        d.set_item("removed_objects", self.removed_objects())?;
        d.set_item("removed_bytes", self.removed_bytes())?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "PruneReport(dry_run={}, decisions={}, removed_objects={})",
            if self.0.dry_run { "True" } else { "False" },
            self.0.decisions.len(),
            self.0.removed_objects
        )
    }
}

/// What prune decided for one committed set, and why.
#[pyclass(name = "PruneDecision", module = "continuum_backup", frozen)]
struct PyPruneDecision(Decision);

#[pymethods]
impl PyPruneDecision {
    #[getter]
    fn set_id(&self) -> &str {
        &self.0.set_id
    }

    #[getter]
    fn created_at(&self) -> String {
        iso(self.0.created_at)
    }

    #[getter]
    fn keep(&self) -> bool {
        self.0.keep
    }

    #[getter]
    fn reasons(&self) -> Vec<String> {
        self.0.reasons.clone()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("set_id", self.set_id())?;
        d.set_item("created_at", self.created_at())?;
        d.set_item("keep", self.keep())?;
        d.set_item("reasons", self.reasons())?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "PruneDecision(set_id={}, keep={})",
            py_repr(py, &self.0.set_id)?,
            if self.0.keep { "True" } else { "False" }
        ))
    }
}

/// What prune decided for an incomplete or unreadable set, and why.
#[pyclass(name = "LeftoverDecision", module = "continuum_backup", frozen)]
struct PyLeftoverDecision(LeftoverDecision);

#[pymethods]
impl PyLeftoverDecision {
    #[getter]
    fn set_id(&self) -> &str {
        &self.0.set_id
    }

    #[getter]
    fn objects(&self) -> usize {
        self.0.objects
    }

    #[getter]
    fn remove(&self) -> bool {
        self.0.remove
    }

    #[getter]
    fn reason(&self) -> &str {
        &self.0.reason
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("set_id", self.set_id())?;
        d.set_item("objects", self.objects())?;
        d.set_item("remove", self.remove())?;
        d.set_item("reason", self.reason())?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "LeftoverDecision(set_id={}, remove={})",
            py_repr(py, &self.0.set_id)?,
            if self.0.remove { "True" } else { "False" }
        ))
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyFqn>()?;
    m.add_class::<PyStore>()?;
    m.add_class::<PyManifest>()?;
    m.add_class::<PyArtifact>()?;
    m.add_class::<PyVerifyReport>()?;
    m.add_class::<PyArtifactCheck>()?;
    m.add_class::<PyPruneReport>()?;
    m.add_class::<PyPruneDecision>()?;
    m.add_class::<PyLeftoverDecision>()?;
    policy::register(m)?;
    cntmp::register(m)?;
    orchestrator::register(m)?;
    archive::register(m)?;
    db::register(m)?;
    platform::register(m)?;
    Ok(())
}
