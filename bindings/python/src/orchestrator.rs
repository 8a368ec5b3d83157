//! The Python face of `continuum-orchestrator`'s `cluster.conf` views, re-exported by
//! `continuum_backup.orchestrator`.
//!
//! A parsed `cluster.conf` (`ClusterConf`) with its machine groups, component counts, the S3
//! bucket of the database backups, and the placement rule (what a host keeps of them). The
//! bucket's keys never reach Python: `DatabaseBackups` says only whether they are set, and
//! every `repr` and `to_dict()` leaves them out (the tree is serialized with its secrets
//! redacted).
//!
//! The classes are registered in `_native` under `Orchestrator`-prefixed names, as the
//! `cntmp` ones are; `continuum_backup.orchestrator` gives them their own names. The error
//! mapping of `continuum_orchestrator::Error` lives here and serves `src/db.rs` and
//! `src/archive.rs` too.

use std::collections::BTreeMap;
use std::path::PathBuf;

use continuum_orchestrator::{ClusterConf, DatabaseBackups, MachineGroup, Placement};
use pyo3::PyTypeInfo;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyType};

use crate::cntmp::{cntmp_error_class, py_bool, to_python};
use crate::policy::{invalid_document, policy_error_class};
use crate::{
    ALREADY_EXISTS_ERROR, BASE_ERROR, BEHIND_UPSTREAM_ERROR, CORRUPT_ERROR, ErrorClass,
    INVALID_INPUT_ERROR, RELEASE_GATE_ERROR, STORE_ERROR, core_error_class, py_repr,
};

/// The exception class of an orchestrator error. A `Database` or `Artifact` error (the
/// database or the artifact of a platform set a failure concerns, wrapped around its cause)
/// takes the class of its cause; its message names both. Job-data and policy errors take
/// the classes their own modules give them.
fn error_class(err: &continuum_orchestrator::Error) -> &'static ErrorClass {
    use continuum_orchestrator::Error as E;
    match err {
        E::Core(core) => core_error_class(core),
        E::JobData(e) => cntmp_error_class(e),
        E::Policy(e) => policy_error_class(e),
        E::Database { source, .. } | E::Artifact { source, .. } => error_class(source),
        E::Parse(_) | E::Conf { .. } | E::InvalidTarget { .. } | E::ArtifactMissing { .. } => {
            &INVALID_INPUT_ERROR
        }
        // A subclass of `InvalidInputError`: the archive is sound but too old to restore.
        E::ReleaseGate { .. } => &RELEASE_GATE_ERROR,
        E::DatabaseNotEmpty { .. } | E::RestoreConflicts { .. } => &ALREADY_EXISTS_ERROR,
        E::RowCountMismatch { .. } | E::Archive { .. } => &CORRUPT_ERROR,
        E::BehindUpstream { .. } => &BEHIND_UPSTREAM_ERROR,
        E::ChildFailed { .. } | E::Postgres { .. } | E::Spawn { .. } | E::Stream { .. } => {
            &STORE_ERROR
        }
        _ => &BASE_ERROR,
    }
}

/// Converts an orchestrator error into the matching `continuum_backup` exception; the
/// message is the library's own text (which never holds a password or a key).
pub(crate) fn orchestrator_err(py: Python<'_>, err: continuum_orchestrator::Error) -> PyErr {
    // A policy document with errors, however wrapped: a `PolicyError` with its diagnostics,
    // under the whole message (which names the artifact or the database).
    if let continuum_orchestrator::Error::Policy(policy @ continuum_policy::Error::Invalid { .. }) =
        innermost(&err)
    {
        return invalid_document(py, policy, err.to_string());
    }
    error_class(&err).err(py, err.to_string())
}

/// The cause inside `Database` and `Artifact` wrappers.
fn innermost(err: &continuum_orchestrator::Error) -> &continuum_orchestrator::Error {
    use continuum_orchestrator::Error as E;
    match err {
        E::Database { source, .. } | E::Artifact { source, .. } => innermost(source),
        other => other,
    }
}

/// Runs `f` without the GIL and converts its error.
pub(crate) fn detached<T, F>(py: Python<'_>, f: F) -> PyResult<T>
where
    F: Send + FnOnce() -> continuum_orchestrator::Result<T>,
    T: Send,
{
    py.detach(f).map_err(|e| orchestrator_err(py, e))
}

/// A parsed `cluster.conf`.
#[pyclass(name = "ClusterConf", module = "continuum_backup.orchestrator", frozen)]
struct PyClusterConf(ClusterConf);

#[pymethods]
impl PyClusterConf {
    /// Reads and parses a file.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        detached(py, || ClusterConf::load(&path)).map(Self)
    }

    /// Parses text; `file` names it in errors.
    #[staticmethod]
    #[pyo3(signature = (text, file = "cluster.conf"))]
    fn parse(py: Python<'_>, text: &str, file: &str) -> PyResult<Self> {
        detached(py, || ClusterConf::parse(text, file)).map(Self)
    }

    #[getter]
    fn file(&self) -> &str {
        &self.0.file
    }

    #[getter]
    fn cluster_name(&self) -> Option<&str> {
        self.0.cluster_name.as_deref()
    }

    #[getter]
    fn base_domain(&self) -> Option<&str> {
        self.0.base_domain.as_deref()
    }

    #[getter]
    fn provisioner(&self) -> Option<&str> {
        self.0.provisioner.as_deref()
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
    fn components(&self) -> BTreeMap<String, u64> {
        self.0.components.clone()
    }

    #[getter]
    fn database_backups(&self) -> Option<PyDatabaseBackups> {
        self.0.database_backups.clone().map(PyDatabaseBackups)
    }

    /// What `host` keeps of the database backups.
    fn placement(&self, py: Python<'_>, host: &str) -> PyPlacement {
        PyPlacement(py.detach(|| self.0.placement(host)))
    }

    /// The serialized form: every typed view and the whole tree, secrets redacted.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let value = serde_json::to_value(&self.0)
            .map_err(|e| BASE_ERROR.err(py, format!("cannot serialize {}: {e}", self.0.file)))?;
        to_python(py, &value)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let backups = match &self.0.database_backups {
            Some(db) => py_repr(py, &db.store_url())?,
            None => "None".to_string(),
        };
        Ok(format!(
            "ClusterConf(file={}, cluster_name={}, machine_groups={}, database_backups={backups})",
            py_repr(py, &self.0.file)?,
            optional_repr(py, self.0.cluster_name.as_deref())?,
            self.0.machine_groups.len()
        ))
    }
}

fn optional_repr(py: Python<'_>, text: Option<&str>) -> PyResult<String> {
    text.map_or_else(|| Ok("None".to_string()), |t| py_repr(py, t))
}

/// A group of machines and the components they may run.
#[pyclass(
    name = "MachineGroup",
    module = "continuum_backup.orchestrator",
    frozen
)]
pub(crate) struct PyMachineGroup(pub(crate) MachineGroup);

#[pymethods]
impl PyMachineGroup {
    #[getter]
    fn name(&self) -> &str {
        &self.0.name
    }

    #[getter]
    fn hosts(&self) -> Vec<String> {
        self.0.hosts.clone()
    }

    #[getter]
    fn suitable_tags(&self) -> Vec<String> {
        self.0.suitable_tags.clone()
    }

    pub(crate) fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("name", self.name())?;
        d.set_item("hosts", self.hosts())?;
        d.set_item("suitable_tags", self.suitable_tags())?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let hosts = PyList::new(py, &self.0.hosts)?.repr()?.to_string();
        Ok(format!(
            "MachineGroup(name={}, hosts={hosts})",
            py_repr(py, &self.0.name)?
        ))
    }
}

/// The S3 bucket of the database backups. Its keys stay in Rust.
#[pyclass(
    name = "DatabaseBackups",
    module = "continuum_backup.orchestrator",
    frozen
)]
struct PyDatabaseBackups(DatabaseBackups);

#[pymethods]
impl PyDatabaseBackups {
    #[getter]
    fn bucket(&self) -> &str {
        &self.0.bucket
    }

    #[getter]
    fn region(&self) -> &str {
        &self.0.region
    }

    #[getter]
    fn store_url(&self) -> String {
        self.0.store_url()
    }

    #[getter]
    fn has_credentials(&self) -> bool {
        !self.0.access_key.expose().is_empty() && !self.0.secret_key.expose().is_empty()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("bucket", self.bucket())?;
        d.set_item("region", self.region())?;
        d.set_item("store_url", self.store_url())?;
        d.set_item("has_credentials", self.has_credentials())?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "DatabaseBackups(bucket={}, region={}, has_credentials={})",
            py_repr(py, &self.0.bucket)?,
            py_repr(py, &self.0.region)?,
            py_bool(self.has_credentials())
        ))
    }
}

/// What one host keeps of the database backups.
#[pyclass(name = "Placement", module = "continuum_backup.orchestrator", frozen)]
pub(crate) struct PyPlacement(pub(crate) Placement);

#[pymethods]
impl PyPlacement {
    #[getter]
    fn host(&self) -> &str {
        &self.0.host
    }

    #[getter]
    fn databases(&self) -> Vec<String> {
        self.0.databases.clone()
    }

    #[getter]
    fn keep_local(&self) -> bool {
        self.0.keep_local
    }

    #[getter]
    fn upload_s3(&self) -> bool {
        self.0.upload_s3
    }

    #[getter]
    fn local_dir(&self) -> &str {
        &self.0.local_dir
    }

    #[getter]
    fn reason(&self) -> &str {
        &self.0.reason
    }

    pub(crate) fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("host", self.host())?;
        d.set_item("databases", self.databases())?;
        d.set_item("keep_local", self.keep_local())?;
        d.set_item("upload_s3", self.upload_s3())?;
        d.set_item("local_dir", self.local_dir())?;
        d.set_item("reason", self.reason())?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Placement(host={}, keep_local={}, upload_s3={})",
            py_repr(py, &self.0.host)?,
            py_bool(self.0.keep_local),
            py_bool(self.0.upload_s3)
        ))
    }
}

/// Adds a class under `Orchestrator<its name>`.
fn add_prefixed<T: PyTypeInfo>(m: &Bound<'_, PyModule>, name: &str) -> PyResult<()> {
    let class: Bound<'_, PyType> = m.py().get_type::<T>();
    m.add(name, class)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    add_prefixed::<PyClusterConf>(m, "OrchestratorClusterConf")?;
    add_prefixed::<PyMachineGroup>(m, "OrchestratorMachineGroup")?;
    add_prefixed::<PyDatabaseBackups>(m, "OrchestratorDatabaseBackups")?;
    add_prefixed::<PyPlacement>(m, "OrchestratorPlacement")?;
    Ok(())
}
