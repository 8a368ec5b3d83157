//! The Python face of `continuum-cntmp`, re-exported by `continuum_backup.cntmp`.
//!
//! Job data of a cluster folder (`<cluster>/jobdata/`, a `FolderRegistry`): packages made
//! from files, objects in the platform API's shape (dicts on the Python side), and the cntmp
//! files that move them between clusters. Reports are small frozen classes with a
//! `to_dict()` that mirrors their properties.
//!
//! The classes are registered in `_native` under `Cntmp`-prefixed names (`ImportReport`
//! would clash with the policy one); `continuum_backup.cntmp` gives them their own names.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;

use continuum_cntmp::{
    CntmpReader, DEFAULT_PACKAGE_NAMESPACE, Dependency, EntryInfo, ExportReport, FolderRegistry,
    ImportOptions, ImportReport, ImportedObject, Object, ObjectKind, Package, PackageSpec,
    Registry, ResourceRef, Selection,
};
use continuum_core::{Fqn, Limits, Namespace};
use pyo3::PyTypeInfo;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyType};
use serde_json::Value;

use crate::{
    ALREADY_EXISTS_ERROR, BASE_ERROR, CORRUPT_ERROR, ErrorClass, INVALID_INPUT_ERROR,
    NOT_FOUND_ERROR, core_error_class, py_repr, to_py_err,
};

/// The name JSON errors give an object passed as text or a dict.
const OBJECT_NAME: &str = "<object>";

/// Converts a job-data error into the matching `continuum_backup` exception.
fn cntmp_err(py: Python<'_>, err: continuum_cntmp::Error) -> PyErr {
    cntmp_error_class(&err).err(py, err.to_string())
}

/// The exception class of a job-data error (also wrapped in an orchestrator error).
pub(crate) fn cntmp_error_class(err: &continuum_cntmp::Error) -> &'static ErrorClass {
    use continuum_cntmp::Error as E;
    match err {
        E::Core(core) => core_error_class(core),
        E::Conflict { .. } => &ALREADY_EXISTS_ERROR,
        E::NothingMatches { .. } => &NOT_FOUND_ERROR,
        E::Ambiguous { .. }
        | E::InvalidObject { .. }
        | E::BadManifest { .. }
        | E::NotAZip { .. }
        | E::MissingResource { .. } => &INVALID_INPUT_ERROR,
        E::BadEntry { .. } => &CORRUPT_ERROR,
        _ => &BASE_ERROR,
    }
}

/// Runs `f` without the GIL and converts its error.
fn detached<T, F>(py: Python<'_>, f: F) -> PyResult<T>
where
    F: Send + FnOnce() -> continuum_cntmp::Result<T>,
    T: Send,
{
    py.detach(f).map_err(|e| cntmp_err(py, e))
}

/// The registry of a cluster folder (opening it finishes a batch a crash interrupted).
fn registry(cluster_dir: &std::path::Path) -> continuum_cntmp::Result<FolderRegistry> {
    FolderRegistry::for_cluster(cluster_dir)
}

/// JSON data as the Python data `json.loads` makes of it.
pub(crate) fn to_python<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?
        .call_method1("loads", (value.to_string(),))
}

pub(crate) fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

fn parse_kind(py: Python<'_>, text: &str) -> PyResult<ObjectKind> {
    ObjectKind::ALL
        .into_iter()
        .find(|k| k.as_str() == text)
        .ok_or_else(|| {
            INVALID_INPUT_ERROR.err(
                py,
                format!(
                    "unknown kind `{text}`: expected package, job, stagpipe, service, provider or binding"
                ),
            )
        })
}

fn parse_dependencies(py: Python<'_>, texts: &[String]) -> PyResult<Vec<Dependency>> {
    texts
        .iter()
        .map(|text| {
            Dependency::parse(text).ok_or_else(|| {
                INVALID_INPUT_ERROR.err(
                    py,
                    format!(
                        "`{text}` is not TYPE.NAME with TYPE one of os, package, file, runtime"
                    ),
                )
            })
        })
        .collect()
}

/// One path or several (shared by every binding that takes files).
#[derive(FromPyObject)]
pub(crate) enum Paths {
    // First: a `str` is a sequence too.
    #[pyo3(transparent, annotation = "str | os.PathLike[str]")]
    One(PathBuf),
    #[pyo3(transparent, annotation = "Sequence[str | os.PathLike[str]]")]
    Many(Vec<PathBuf>),
}

impl Paths {
    pub(crate) fn into_vec(self) -> Vec<PathBuf> {
        match self {
            Paths::One(p) => vec![p],
            Paths::Many(ps) => ps,
        }
    }
}

/// An object in the API's shape: a dict or its JSON text.
#[derive(FromPyObject)]
enum ObjectArg<'py> {
    #[pyo3(transparent, annotation = "dict[str, Any]")]
    Dict(Bound<'py, PyDict>),
    #[pyo3(transparent, annotation = "str")]
    Text(String),
}

/// A package: its layers are resources, content-addressed by SHA-256.
#[pyclass(name = "Package", module = "continuum_backup.cntmp", frozen)]
struct PyPackage(Package);

#[pymethods]
impl PyPackage {
    #[getter]
    fn fqn(&self) -> String {
        self.0.fqn.to_string()
    }

    #[getter]
    fn name(&self) -> &str {
        &self.0.name
    }

    #[getter]
    fn uuid(&self) -> Option<&str> {
        self.0.uuid.as_deref()
    }

    #[getter]
    fn layers(&self) -> usize {
        self.0.resources.len()
    }

    #[getter]
    fn digests(&self) -> Vec<String> {
        self.0
            .resources
            .iter()
            .map(|r| r.digest.to_string())
            .collect()
    }

    #[getter]
    fn size(&self) -> u64 {
        self.0.resources.iter().map(|r| r.length).sum()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &Object::Package(self.0.clone()).to_api_json())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Package(fqn={}, layers={})",
            py_repr(py, &self.0.fqn.to_string())?,
            self.0.resources.len()
        ))
    }
}

/// An object of job data: a package, job, staging pipeline, service, provider or binding.
#[pyclass(name = "Object", module = "continuum_backup.cntmp", frozen)]
struct PyJobObject(Object);

#[pymethods]
impl PyJobObject {
    #[getter]
    fn kind(&self) -> &'static str {
        self.0.kind().as_str()
    }

    #[getter]
    fn fqn(&self) -> String {
        self.0.fqn().to_string()
    }

    #[getter]
    fn uuid(&self) -> Option<&str> {
        self.0.uuid()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0.to_api_json())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Object(kind={}, fqn={})",
            py_repr(py, self.kind())?,
            py_repr(py, &self.0.fqn().to_string())?
        ))
    }
}

/// What `export` wrote.
#[pyclass(name = "ExportReport", module = "continuum_backup.cntmp", frozen)]
struct PyExportReport(ExportReport);

#[pymethods]
impl PyExportReport {
    #[getter]
    fn file(&self) -> OsString {
        self.0.file.clone().into_os_string()
    }

    #[getter]
    fn objects(&self) -> Vec<String> {
        self.0.objects.iter().map(ToString::to_string).collect()
    }

    #[getter]
    fn resources(&self) -> usize {
        self.0.resources
    }

    #[getter]
    fn resource_bytes(&self) -> u64 {
        self.0.resource_bytes
    }

    #[getter]
    fn notes(&self) -> Vec<String> {
        self.0.notes.clone()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("file", self.file())?;
        d.set_item("objects", self.objects())?;
        d.set_item("resources", self.resources())?;
        d.set_item("resource_bytes", self.resource_bytes())?;
        d.set_item("notes", self.notes())?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "ExportReport(file={}, objects={}, resources={})",
            py_repr(py, &self.0.file.display().to_string())?,
            self.0.objects.len(),
            self.0.resources
        ))
    }
}

/// What `import_files` did, or would do in a dry run.
#[pyclass(name = "ImportReport", module = "continuum_backup.cntmp", frozen)]
struct PyImportReport(ImportReport);

#[pymethods]
impl PyImportReport {
    #[getter]
    fn dry_run(&self) -> bool {
        self.0.dry_run
    }

    #[getter]
    fn objects(&self) -> Vec<PyImportedObject> {
        self.0
            .objects
            .iter()
            .cloned()
            .map(PyImportedObject)
            .collect()
    }

    #[getter]
    fn resources_stored(&self) -> usize {
        self.0.resources_stored
    }

    #[getter]
    fn bytes_checked(&self) -> u64 {
        self.0.bytes_checked
    }

    #[getter]
    fn notes(&self) -> Vec<String> {
        self.0.notes.clone()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let objects = PyList::empty(py);
        for object in self.objects() {
            objects.append(object.to_dict(py)?)?;
        }
        let d = PyDict::new(py);
        d.set_item("dry_run", self.dry_run())?;
        d.set_item("objects", objects)?;
        d.set_item("resources_stored", self.resources_stored())?;
        d.set_item("bytes_checked", self.bytes_checked())?;
        d.set_item("notes", self.notes())?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "ImportReport(dry_run={}, objects={}, resources_stored={})",
            py_bool(self.0.dry_run),
            self.0.objects.len(),
            self.0.resources_stored
        )
    }
}

/// One object of an import.
#[pyclass(name = "ImportedObject", module = "continuum_backup.cntmp", frozen)]
struct PyImportedObject(ImportedObject);

#[pymethods]
impl PyImportedObject {
    #[getter]
    fn kind(&self) -> &'static str {
        self.0.kind.as_str()
    }

    #[getter]
    fn fqn(&self) -> String {
        self.0.fqn.to_string()
    }

    #[getter]
    fn source_fqn(&self) -> String {
        self.0.source_fqn.to_string()
    }

    #[getter]
    fn file(&self) -> &str {
        &self.0.file
    }

    #[getter]
    fn action(&self) -> &'static str {
        self.0.action.as_str()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("kind", self.kind())?;
        d.set_item("fqn", self.fqn())?;
        d.set_item("source_fqn", self.source_fqn())?;
        d.set_item("file", self.file())?;
        d.set_item("action", self.action())?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "ImportedObject(fqn={}, action={})",
            py_repr(py, &self.0.fqn.to_string())?,
            py_repr(py, self.action())?
        ))
    }
}

/// A resource as a cntmp file lists it.
#[pyclass(name = "ResourceRef", module = "continuum_backup.cntmp", frozen)]
struct PyResourceRef(ResourceRef);

#[pymethods]
impl PyResourceRef {
    #[getter]
    fn entry(&self) -> &str {
        &self.0.entry
    }

    #[getter]
    fn sha256(&self) -> String {
        self.0.sha256.to_string()
    }

    #[getter]
    fn length(&self) -> u64 {
        self.0.length
    }

    #[getter]
    fn compression(&self) -> &'static str {
        self.0.compression.as_str()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("entry", self.entry())?;
        d.set_item("sha256", self.sha256())?;
        d.set_item("length", self.length())?;
        d.set_item("compression", self.compression())?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "ResourceRef(entry={}, length={})",
            py_repr(py, &self.0.entry)?,
            self.0.length
        ))
    }
}

/// What a reader found in a file, copied out of the reader.
struct InspectionData {
    file: String,
    format_version: Option<u64>,
    producer: Option<String>,
    objects: Vec<(ObjectKind, Fqn, Vec<ResourceRef>)>,
    entries: Vec<EntryInfo>,
    notes: Vec<String>,
}

/// What `inspect` found in a cntmp file.
#[pyclass(name = "Inspection", module = "continuum_backup.cntmp", frozen)]
struct PyInspection(InspectionData);

#[pymethods]
impl PyInspection {
    #[getter]
    fn file(&self) -> &str {
        &self.0.file
    }

    #[getter]
    fn legacy(&self) -> bool {
        self.0.format_version.is_none()
    }

    #[getter]
    fn format_version(&self) -> Option<u64> {
        self.0.format_version
    }

    #[getter]
    fn producer(&self) -> Option<&str> {
        self.0.producer.as_deref()
    }

    #[getter]
    fn objects(&self) -> Vec<(&'static str, String, Vec<PyResourceRef>)> {
        self.0
            .objects
            .iter()
            .map(|(kind, fqn, resources)| {
                (
                    kind.as_str(),
                    fqn.to_string(),
                    resources.iter().cloned().map(PyResourceRef).collect(),
                )
            })
            .collect()
    }

    #[getter]
    fn entries(&self) -> Vec<(String, u64, String)> {
        self.0
            .entries
            .iter()
            .map(|e| (e.name.clone(), e.size, e.method.clone()))
            .collect()
    }

    #[getter]
    fn notes(&self) -> Vec<String> {
        self.0.notes.clone()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let objects = PyList::empty(py);
        for (kind, fqn, resources) in self.objects() {
            let refs = PyList::empty(py);
            for r in resources {
                refs.append(r.to_dict(py)?)?;
            }
            let o = PyDict::new(py);
            o.set_item("kind", kind)?;
            o.set_item("fqn", fqn)?;
            o.set_item("resources", refs)?;
            objects.append(o)?;
        }
        let entries = PyList::empty(py);
        for (name, size, method) in self.entries() {
            let e = PyDict::new(py);
            e.set_item("name", name)?;
            e.set_item("size", size)?;
            e.set_item("method", method)?;
            entries.append(e)?;
        }
        let d = PyDict::new(py);
        d.set_item("file", self.file())?;
        d.set_item("legacy", self.legacy())?;
        d.set_item("format_version", self.format_version())?;
        d.set_item("producer", self.producer())?;
        d.set_item("objects", objects)?;
        d.set_item("entries", entries)?;
        d.set_item("notes", self.notes())?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Inspection(file={}, objects={}, legacy={})",
            py_repr(py, &self.0.file)?,
            self.0.objects.len(),
            py_bool(self.legacy())
        ))
    }
}

/// `package_from_files(cluster_dir, files, *, name, …)`: stores a package whose layers are
/// the files, in order.
#[pyfunction]
#[pyo3(signature = (
    cluster_dir,
    files,
    *,
    name,
    namespace = DEFAULT_PACKAGE_NAMESPACE,
    provides = Vec::new(),
    depends = Vec::new(),
    env = None,
))]
#[pyo3(
    text_signature = "(cluster_dir, files, *, name, namespace='/apcera/pkg/packages', provides=(), depends=(), env=None)"
)]
#[expect(
    clippy::too_many_arguments,
    reason = "mirrors the Python keyword arguments one to one"
)]
fn cntmp_package_from_files(
    py: Python<'_>,
    cluster_dir: PathBuf,
    files: Paths,
    name: String,
    namespace: &str,
    provides: Vec<String>,
    depends: Vec<String>,
    env: Option<BTreeMap<String, String>>,
) -> PyResult<PyPackage> {
    let mut spec = PackageSpec::new(name, files.into_vec()).map_err(|e| cntmp_err(py, e))?;
    spec.namespace = Namespace::parse(namespace).map_err(|e| to_py_err(py, e))?;
    spec.provides = parse_dependencies(py, &provides)?;
    spec.depends = parse_dependencies(py, &depends)?;
    spec.environment = env.unwrap_or_default();
    detached(py, || {
        continuum_cntmp::package_from_files(&registry(&cluster_dir)?, &spec)
    })
    .map(PyPackage)
}

/// `create_object(cluster_dir, obj)`: stores a new object given in the API's shape.
#[pyfunction]
#[pyo3(signature = (cluster_dir, obj))]
fn cntmp_create_object(
    py: Python<'_>,
    cluster_dir: PathBuf,
    obj: ObjectArg<'_>,
) -> PyResult<PyJobObject> {
    let text = match obj {
        ObjectArg::Text(text) => text,
        ObjectArg::Dict(dict) => py
            .import("json")?
            .call_method1("dumps", (dict,))?
            .extract::<String>()?,
    };
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| to_py_err(py, continuum_core::Error::json(OBJECT_NAME, &e)))?;
    detached(py, || {
        continuum_cntmp::create_object(&registry(&cluster_dir)?, &value)
    })
    .map(PyJobObject)
}

/// `list_objects(cluster_dir, kind=None)`: the FQNs of the objects (of a kind), sorted.
#[pyfunction]
#[pyo3(signature = (cluster_dir, kind = None))]
fn cntmp_list_objects(
    py: Python<'_>,
    cluster_dir: PathBuf,
    kind: Option<&str>,
) -> PyResult<Vec<String>> {
    let kind = kind.map(|k| parse_kind(py, k)).transpose()?;
    let fqns = detached(py, || registry(&cluster_dir)?.list(kind))?;
    Ok(fqns.iter().map(ToString::to_string).collect())
}

/// `get_object(cluster_dir, fqn)`: the object in the API's shape, or `None`.
#[pyfunction]
fn cntmp_get_object<'py>(
    py: Python<'py>,
    cluster_dir: PathBuf,
    fqn: &str,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let fqn = Fqn::parse(fqn).map_err(|e| to_py_err(py, e))?;
    let object = detached(py, || registry(&cluster_dir)?.get(&fqn))?;
    object.map(|o| to_python(py, &o.to_api_json())).transpose()
}

/// `export(cluster_dir, out_file, *, …)`: the selection, into one cntmp file.
#[pyfunction]
#[pyo3(signature = (
    cluster_dir,
    out_file,
    *,
    packages = Vec::new(),
    jobs = Vec::new(),
    pipelines = Vec::new(),
    all = false,
    with_dependencies = false,
    force = false,
))]
#[pyo3(
    text_signature = "(cluster_dir, out_file, *, packages=(), jobs=(), pipelines=(), all=False, with_dependencies=False, force=False)"
)]
#[expect(
    clippy::too_many_arguments,
    reason = "mirrors the Python keyword arguments one to one"
)]
fn cntmp_export(
    py: Python<'_>,
    cluster_dir: PathBuf,
    out_file: PathBuf,
    packages: Vec<String>,
    jobs: Vec<String>,
    pipelines: Vec<String>,
    all: bool,
    with_dependencies: bool,
    force: bool,
) -> PyResult<PyExportReport> {
    if !all && packages.is_empty() && jobs.is_empty() && pipelines.is_empty() {
        return Err(INVALID_INPUT_ERROR.err(
            py,
            "nothing to export: give packages, jobs or pipelines, or all=True".to_string(),
        ));
    }
    let mut selection = Selection::default();
    selection.packages = packages;
    selection.jobs = jobs;
    selection.pipelines = pipelines;
    selection.all = all;
    selection.with_dependencies = with_dependencies;
    detached(py, || {
        continuum_cntmp::export_to_file(&registry(&cluster_dir)?, &selection, &out_file, force)
    })
    .map(PyExportReport)
}

/// `import_files(cluster_dir, files, *, …)`: all or nothing.
#[pyfunction]
#[pyo3(signature = (
    cluster_dir,
    files,
    *,
    skip_existing = false,
    override_namespace = None,
    dry_run = false,
))]
fn cntmp_import_files(
    py: Python<'_>,
    cluster_dir: PathBuf,
    files: Paths,
    skip_existing: bool,
    override_namespace: Option<&str>,
    dry_run: bool,
) -> PyResult<PyImportReport> {
    let files = files.into_vec();
    let mut options = ImportOptions::default();
    options.skip_existing = skip_existing;
    options.override_namespace = override_namespace
        .map(Namespace::parse)
        .transpose()
        .map_err(|e| to_py_err(py, e))?;
    options.dry_run = dry_run;
    detached(py, || {
        continuum_cntmp::import_files(&registry(&cluster_dir)?, &files, &options)
    })
    .map(PyImportReport)
}

/// `inspect(file)`: the objects, entries and notes of a cntmp file.
#[pyfunction]
fn cntmp_inspect(py: Python<'_>, file: PathBuf) -> PyResult<PyInspection> {
    detached(py, || {
        let reader = CntmpReader::open(&file, Limits::default())?;
        Ok(InspectionData {
            file: reader.name().to_string(),
            format_version: reader.manifest().map(|m| m.format_version),
            producer: reader.manifest().map(|m| m.producer.clone()),
            objects: reader
                .objects()
                .iter()
                .map(|ro| {
                    (
                        ro.object.kind(),
                        ro.object.fqn().clone(),
                        ro.resources.clone(),
                    )
                })
                .collect(),
            entries: reader.entries().to_vec(),
            notes: reader.notes().to_vec(),
        })
    })
    .map(PyInspection)
}

/// `verify(file)`: reads every resource and checks it; the bytes checked.
#[pyfunction]
fn cntmp_verify(py: Python<'_>, file: PathBuf) -> PyResult<u64> {
    detached(py, || CntmpReader::open(&file, Limits::default())?.verify())
}

/// Adds a class under `Cntmp<its name>`.
fn add_prefixed<T: PyTypeInfo>(m: &Bound<'_, PyModule>, name: &str) -> PyResult<()> {
    let class: Bound<'_, PyType> = m.py().get_type::<T>();
    m.add(name, class)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    add_prefixed::<PyPackage>(m, "CntmpPackage")?;
    add_prefixed::<PyJobObject>(m, "CntmpObject")?;
    add_prefixed::<PyExportReport>(m, "CntmpExportReport")?;
    add_prefixed::<PyImportReport>(m, "CntmpImportReport")?;
    add_prefixed::<PyImportedObject>(m, "CntmpImportedObject")?;
    add_prefixed::<PyResourceRef>(m, "CntmpResourceRef")?;
    add_prefixed::<PyInspection>(m, "CntmpInspection")?;
    m.add_function(wrap_pyfunction!(cntmp_package_from_files, m)?)?;
    m.add_function(wrap_pyfunction!(cntmp_create_object, m)?)?;
    m.add_function(wrap_pyfunction!(cntmp_list_objects, m)?)?;
    m.add_function(wrap_pyfunction!(cntmp_get_object, m)?)?;
    m.add_function(wrap_pyfunction!(cntmp_export, m)?)?;
    m.add_function(wrap_pyfunction!(cntmp_import_files, m)?)?;
    m.add_function(wrap_pyfunction!(cntmp_inspect, m)?)?;
    m.add_function(wrap_pyfunction!(cntmp_verify, m)?)?;
    Ok(())
}
