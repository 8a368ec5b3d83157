//! The Python face of `continuum-orchestrator`'s PostgreSQL backups, re-exported by
//! `continuum_backup.db`.
//!
//! `backup` streams `pg_dump` through zstd into a new backup set (the `Manifest` of the core
//! binding comes back); `restore` plans a restore and, unless it is a dry run, applies it and
//! checks every table's row count; `list_databases` is what `psql -l` shows. The server is
//! named by a `postgresql://` URL (`dsn`) or, without one, by the standard environment
//! (`DATABASE_URL`, `PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`). A password is
//! never shown: not in a `repr`, not in an error.
//!
//! The classes are registered in `_native` under `Db`-prefixed names and the functions as
//! `db_<name>`; `continuum_backup.db` gives them their own names.

use std::collections::BTreeMap;

use continuum_core::Reason;
use continuum_orchestrator::{
    DatabaseInfo, DbBackupOptions, DbRestoreOptions, DbRestorePlan, PgTarget, RestoreAction,
    RestoreReport, TableCheck,
};
use pyo3::PyTypeInfo;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyType};

use crate::cntmp::py_bool;
use crate::orchestrator::detached;
use crate::{PyManifest, S3Args, py_repr, to_py_err};

/// The server `dsn` names, or the one the environment describes.
pub(crate) fn target(dsn: Option<&str>) -> continuum_orchestrator::Result<PgTarget> {
    match dsn {
        Some(url) => PgTarget::parse(url),
        None => PgTarget::from_env(),
    }
}

fn action_name(action: RestoreAction) -> &'static str {
    match action {
        RestoreAction::Create => "create",
        RestoreAction::Fill => "fill",
        RestoreAction::Replace => "replace",
        _ => "unknown",
    }
}

/// A restore worked out and checked, with nothing changed yet: what `restore(…, dry_run=True)`
/// returns.
#[pyclass(name = "RestorePlan", module = "continuum_backup.db", frozen)]
struct PyRestorePlan(DbRestorePlan);

#[pymethods]
impl PyRestorePlan {
    #[getter]
    fn set_id(&self) -> &str {
        &self.0.set_id
    }

    #[getter]
    fn database(&self) -> &str {
        &self.0.database
    }

    #[getter]
    fn target_database(&self) -> &str {
        &self.0.target_database
    }

    #[getter]
    fn action(&self) -> &'static str {
        action_name(self.0.action)
    }

    #[getter]
    fn artifact(&self) -> &str {
        &self.0.artifact
    }

    #[getter]
    fn artifact_size(&self) -> u64 {
        self.0.artifact_size
    }

    #[getter]
    fn server_version(&self) -> &str {
        &self.0.server_version
    }

    #[getter]
    fn globals(&self) -> bool {
        self.0.globals
    }

    #[getter]
    fn expected_rows(&self) -> BTreeMap<String, u64> {
        self.0.expected_rows.clone()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("set_id", self.set_id())?;
        d.set_item("database", self.database())?;
        d.set_item("target_database", self.target_database())?;
        d.set_item("action", self.action())?;
        d.set_item("artifact", self.artifact())?;
        d.set_item("artifact_size", self.artifact_size())?;
        d.set_item("server_version", self.server_version())?;
        d.set_item("globals", self.globals())?;
        d.set_item("expected_rows", self.expected_rows())?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "RestorePlan(database={}, target_database={}, action={})",
            py_repr(py, &self.0.database)?,
            py_repr(py, &self.0.target_database)?,
            py_repr(py, self.action())?
        ))
    }
}

/// What a restore did and found: every table's row count agreed with the one recorded at
/// backup time.
#[pyclass(name = "RestoreReport", module = "continuum_backup.db", frozen)]
struct PyRestoreReport(RestoreReport);

fn table_tuple(t: &TableCheck) -> (String, Option<u64>, Option<u64>) {
    (t.table.clone(), t.expected, t.actual)
}

#[pymethods]
impl PyRestoreReport {
    #[getter]
    fn set_id(&self) -> &str {
        &self.0.set_id
    }

    #[getter]
    fn database(&self) -> &str {
        &self.0.database
    }

    #[getter]
    fn target_database(&self) -> &str {
        &self.0.target_database
    }

    #[getter]
    fn action(&self) -> &'static str {
        action_name(self.0.action)
    }

    #[getter]
    fn globals_restored(&self) -> bool {
        self.0.globals_restored
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
        d.set_item("set_id", self.set_id())?;
        d.set_item("database", self.database())?;
        d.set_item("target_database", self.target_database())?;
        d.set_item("action", self.action())?;
        d.set_item("globals_restored", self.globals_restored())?;
        d.set_item("tables", tables)?;
        d.set_item("total_rows", self.total_rows())?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "RestoreReport(target_database={}, action={}, tables={}, total_rows={})",
            py_repr(py, &self.0.target_database)?,
            py_repr(py, self.action())?,
            self.0.tables.len(),
            self.0.total_rows
        ))
    }
}

/// A database of the server, as `psql -l` shows it.
#[pyclass(name = "DatabaseInfo", module = "continuum_backup.db", frozen)]
struct PyDatabaseInfo(DatabaseInfo);

#[pymethods]
impl PyDatabaseInfo {
    #[getter]
    fn name(&self) -> &str {
        &self.0.name
    }

    #[getter]
    fn owner(&self) -> &str {
        &self.0.owner
    }

    #[getter]
    fn encoding(&self) -> &str {
        &self.0.encoding
    }

    #[getter]
    fn size(&self) -> Option<u64> {
        self.0.size
    }

    #[getter]
    fn is_template(&self) -> bool {
        self.0.is_template
    }

    #[getter]
    fn allows_connections(&self) -> bool {
        self.0.allows_connections
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("name", self.name())?;
        d.set_item("owner", self.owner())?;
        d.set_item("encoding", self.encoding())?;
        d.set_item("size", self.size())?;
        d.set_item("is_template", self.is_template())?;
        d.set_item("allows_connections", self.allows_connections())?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "DatabaseInfo(name={}, owner={}, is_template={})",
            py_repr(py, &self.0.name)?,
            py_repr(py, &self.0.owner)?,
            py_bool(self.0.is_template)
        ))
    }
}

/// `backup(databases, to, *, dsn=None, …)`: the databases, into one new backup set.
#[pyfunction]
#[pyo3(signature = (
    databases,
    to,
    *,
    dsn = None,
    reason = "manual",
    with_globals = true,
    cluster_name = None,
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
fn db_backup(
    py: Python<'_>,
    databases: Vec<String>,
    to: String,
    dsn: Option<String>,
    reason: &str,
    with_globals: bool,
    cluster_name: Option<String>,
    endpoint: Option<String>,
    region: Option<String>,
    path_style: Option<bool>,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    session_token: Option<String>,
) -> PyResult<PyManifest> {
    let mut options = DbBackupOptions::new(reason.parse::<Reason>().map_err(|e| to_py_err(py, e))?);
    options.with_globals = with_globals;
    options.cluster_name = cluster_name;
    let store_options = S3Args {
        endpoint,
        region,
        path_style,
        access_key_id,
        secret_access_key,
        session_token,
    }
    .store_options();
    detached(py, || {
        let target = target(dsn.as_deref())?;
        let store = continuum_core::open_store(&to, &store_options)?;
        continuum_orchestrator::backup_databases(store, &target, &databases, &options)
    })
    .map(PyManifest)
}

/// What `restore` gives back: the plan of a dry run, or the report of a restore.
enum Restored {
    Plan(Box<DbRestorePlan>),
    Report(RestoreReport),
}

/// `restore(store_url, set_id, database, *, …)`: one database of a set, planned, applied
/// and verified; with `dry_run`, only planned.
#[pyfunction]
#[pyo3(signature = (
    store_url,
    set_id,
    database,
    *,
    dsn = None,
    as_name = None,
    force = false,
    with_globals = false,
    dry_run = false,
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
fn db_restore(
    py: Python<'_>,
    store_url: String,
    set_id: String,
    database: String,
    dsn: Option<String>,
    as_name: Option<String>,
    force: bool,
    with_globals: bool,
    dry_run: bool,
    endpoint: Option<String>,
    region: Option<String>,
    path_style: Option<bool>,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    session_token: Option<String>,
) -> PyResult<Py<PyAny>> {
    let mut options = DbRestoreOptions::default();
    options.as_name = as_name;
    options.force = force;
    options.with_globals = with_globals;
    let store_options = S3Args {
        endpoint,
        region,
        path_style,
        access_key_id,
        secret_access_key,
        session_token,
    }
    .store_options();
    let restored = detached(py, || {
        let target = target(dsn.as_deref())?;
        let store = continuum_core::open_store(&store_url, &store_options)?;
        let plan = continuum_orchestrator::plan_database_restore(
            store.as_ref(),
            &set_id,
            &database,
            &target,
            &options,
        )?;
        if dry_run {
            Ok(Restored::Plan(Box::new(plan)))
        } else {
            plan.apply(store.as_ref()).map(Restored::Report)
        }
    })?;
    Ok(match restored {
        Restored::Plan(plan) => Py::new(py, PyRestorePlan(*plan))?.into_any(),
        Restored::Report(report) => Py::new(py, PyRestoreReport(report))?.into_any(),
    })
}

/// `list_databases(dsn=None)`: every database of the server.
#[pyfunction]
#[pyo3(signature = (dsn = None))]
fn db_list_databases(py: Python<'_>, dsn: Option<String>) -> PyResult<Vec<PyDatabaseInfo>> {
    let databases = detached(py, || {
        continuum_orchestrator::list_databases(&target(dsn.as_deref())?)
    })?;
    Ok(databases.into_iter().map(PyDatabaseInfo).collect())
}

/// Adds a class under `Db<its name>`.
fn add_prefixed<T: PyTypeInfo>(m: &Bound<'_, PyModule>, name: &str) -> PyResult<()> {
    let class: Bound<'_, PyType> = m.py().get_type::<T>();
    m.add(name, class)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    add_prefixed::<PyRestorePlan>(m, "DbRestorePlan")?;
    add_prefixed::<PyRestoreReport>(m, "DbRestoreReport")?;
    add_prefixed::<PyDatabaseInfo>(m, "DbDatabaseInfo")?;
    m.add_function(wrap_pyfunction!(db_backup, m)?)?;
    m.add_function(wrap_pyfunction!(db_restore, m)?)?;
    m.add_function(wrap_pyfunction!(db_list_databases, m)?)?;
    Ok(())
}
