//! The Python face of `continuum-policy`, re-exported by `continuum_backup.policy`.
//!
//! The model classes wrap the library's serde model (`DocumentModel` and below); their
//! `to_dict()` is that model's JSON shape, so Python and the policy API see the same data.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

use continuum_policy::{
    ApiDoc, ApiDocs, ConditionModel, ConsequentModel, Diagnostic, DocumentModel, FolderPolicyStore,
    ImportOptions, ImportOutcome, ImportReport, ImportedDocument, PolicyModel, RuleModel, Severity,
    Value,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyList;
use serde::Serialize;

use crate::{
    BASE_ERROR, ErrorClass, INVALID_INPUT_ERROR, NOT_FOUND_ERROR, POLICY_ERROR, core_error_class,
    py_repr,
};

/// The name diagnostics give a text that has no file.
const DEFAULT_NAME: &str = "<text>";

/// Converts a policy error: `Invalid` becomes a `PolicyError` carrying its diagnostics, the
/// others the `continuum_backup` exception they correspond to.
fn policy_err(py: Python<'_>, err: continuum_policy::Error) -> PyErr {
    if matches!(err, continuum_policy::Error::Invalid { .. }) {
        return invalid_document(py, &err, err.to_string());
    }
    policy_error_class(&err).err(py, err.to_string())
}

/// The exception class of a policy error other than `Invalid` (which becomes a
/// `PolicyError` with its diagnostics: [`invalid_document`]).
pub(crate) fn policy_error_class(err: &continuum_policy::Error) -> &'static ErrorClass {
    use continuum_policy::Error as E;
    match err {
        E::Core(core) => core_error_class(core),
        E::Invalid { .. } => &POLICY_ERROR,
        E::TooLarge { .. }
        | E::NotText { .. }
        | E::InvalidName { .. }
        | E::NoMatch { .. }
        | E::BadPattern { .. }
        | E::DuplicateName { .. } => &INVALID_INPUT_ERROR,
        E::NotFound { .. } => &NOT_FOUND_ERROR,
        _ => &BASE_ERROR,
    }
}

/// A `PolicyError(message, diagnostics)` with the diagnostics of `err`.
pub(crate) fn invalid_document(
    py: Python<'_>,
    err: &continuum_policy::Error,
    message: String,
) -> PyErr {
    let diagnostics: Vec<PyDiagnostic> = err
        .diagnostics()
        .iter()
        .cloned()
        .map(PyDiagnostic)
        .collect();
    let raised = POLICY_ERROR
        .get(py)
        .and_then(|class| class.call1((message, diagnostics)));
    match raised {
        Ok(exception) => PyErr::from_value(exception),
        // Only when the package is broken; that error says why.
        Err(e) => e,
    }
}

/// Runs `f` without the GIL and converts its error.
fn detached<T, F>(py: Python<'_>, f: F) -> PyResult<T>
where
    F: Send + FnOnce() -> continuum_policy::Result<T>,
    T: Send,
{
    py.detach(f).map_err(|e| policy_err(py, e))
}

/// A value as Python data of its serde JSON shape.
fn to_python<'py, T: Serialize>(py: Python<'py>, value: &T) -> PyResult<Bound<'py, PyAny>> {
    let json = to_json(value)?;
    py.import("json")?.call_method1("loads", (json,))
}

fn to_json<T: Serialize>(value: &T) -> PyResult<String> {
    serde_json::to_string(value).map_err(|e| PyValueError::new_err(e.to_string()))
}

fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

fn py_opt(py: Python<'_>, text: Option<&str>) -> PyResult<String> {
    text.map_or_else(|| Ok("None".to_string()), |t| py_repr(py, t))
}

/// One finding about a document: `file:line:column`, the source line, the message.
#[pyclass(name = "Diagnostic", module = "continuum_backup.policy", frozen, eq)]
#[derive(PartialEq)]
struct PyDiagnostic(Diagnostic);

#[pymethods]
impl PyDiagnostic {
    #[getter]
    fn severity(&self) -> &'static str {
        match self.0.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }

    #[getter]
    fn message(&self) -> &str {
        &self.0.message
    }

    #[getter]
    fn file(&self) -> &str {
        &self.0.file
    }

    #[getter]
    fn line(&self) -> usize {
        self.0.line
    }

    #[getter]
    fn column(&self) -> usize {
        self.0.column
    }

    #[getter]
    fn source_line(&self) -> &str {
        &self.0.source_line
    }

    #[getter]
    fn width(&self) -> usize {
        self.0.width
    }

    #[getter]
    fn help(&self) -> Option<&str> {
        self.0.help.as_deref()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0)
    }

    fn __str__(&self) -> String {
        self.0.to_string()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Diagnostic(severity={}, file={}, line={}, column={}, message={})",
            py_repr(py, self.severity())?,
            py_repr(py, &self.0.file)?,
            self.0.line,
            self.0.column,
            py_repr(py, &self.0.message)?
        ))
    }
}

/// A policy document as data: its policies, rules, conditions and consequents.
#[pyclass(
    name = "Document",
    module = "continuum_backup.policy",
    frozen,
    eq,
    hash
)]
#[derive(PartialEq, Eq, Hash)]
struct PyDocument(DocumentModel);

#[pymethods]
impl PyDocument {
    #[getter]
    fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }

    #[getter]
    fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    #[getter]
    fn policies(&self) -> Vec<PyPolicy> {
        self.0.policies.iter().cloned().map(PyPolicy).collect()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0)
    }

    fn to_json(&self) -> PyResult<String> {
        to_json(&self.0)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Document(name={}, policies={})",
            py_opt(py, self.name())?,
            self.0.policies.len()
        ))
    }
}

/// `on realm { rules }`.
#[pyclass(name = "Policy", module = "continuum_backup.policy", frozen, eq, hash)]
#[derive(PartialEq, Eq, Hash)]
struct PyPolicy(PolicyModel);

#[pymethods]
impl PyPolicy {
    #[getter]
    fn realm(&self) -> &str {
        &self.0.realm
    }

    #[getter]
    fn rules(&self) -> Vec<PyRule> {
        self.0.rules.iter().cloned().map(PyRule).collect()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Policy(realm={}, rules={})",
            py_repr(py, &self.0.realm)?,
            self.0.rules.len()
        ))
    }
}

/// `if (condition) { consequents }`, or `{ consequents }` without a condition.
#[pyclass(name = "Rule", module = "continuum_backup.policy", frozen, eq, hash)]
#[derive(PartialEq, Eq, Hash)]
struct PyRule(RuleModel);

#[pymethods]
impl PyRule {
    #[getter]
    fn condition(&self) -> Option<PyCondition> {
        self.0.condition.clone().map(PyCondition)
    }

    #[getter]
    fn consequents(&self) -> Vec<PyConsequent> {
        self.0
            .consequents
            .iter()
            .cloned()
            .map(PyConsequent)
            .collect()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let condition = match self.condition() {
            Some(c) => c.__repr__(py)?,
            None => "None".to_string(),
        };
        Ok(format!(
            "Rule(condition={condition}, consequents={})",
            self.0.consequents.len()
        ))
    }
}

/// A condition: a clause, or `all` / `any` / `not` of conditions.
#[pyclass(
    name = "Condition",
    module = "continuum_backup.policy",
    frozen,
    eq,
    hash
)]
#[derive(PartialEq, Eq, Hash)]
struct PyCondition(ConditionModel);

#[pymethods]
impl PyCondition {
    #[getter]
    fn kind(&self) -> &'static str {
        match &self.0 {
            ConditionModel::Clause { .. } => "clause",
            ConditionModel::All { .. } => "all",
            ConditionModel::Any { .. } => "any",
            ConditionModel::Not { .. } => "not",
            _ => "unknown",
        }
    }

    #[getter]
    fn issuer(&self) -> Option<&str> {
        match &self.0 {
            ConditionModel::Clause { issuer, .. } => issuer.as_deref(),
            _ => None,
        }
    }

    #[getter]
    fn claim(&self) -> Option<&str> {
        match &self.0 {
            ConditionModel::Clause { claim, .. } => Some(claim),
            _ => None,
        }
    }

    #[getter]
    fn comparator(&self) -> Option<&str> {
        match &self.0 {
            ConditionModel::Clause { comparator, .. } => Some(comparator),
            _ => None,
        }
    }

    #[getter]
    fn value(&self) -> Option<PyValue> {
        match &self.0 {
            ConditionModel::Clause { value, .. } => Some(PyValue(value.clone())),
            _ => None,
        }
    }

    #[getter]
    fn of(&self) -> Vec<PyCondition> {
        match &self.0 {
            ConditionModel::All { of } | ConditionModel::Any { of } => {
                of.iter().cloned().map(PyCondition).collect()
            }
            ConditionModel::Not { of } => vec![PyCondition((**of).clone())],
            _ => Vec::new(),
        }
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        match &self.0 {
            ConditionModel::Clause {
                issuer,
                claim,
                comparator,
                value,
            } => Ok(format!(
                "Condition(kind='clause', issuer={}, claim={}, comparator={}, value={})",
                py_opt(py, issuer.as_deref())?,
                py_repr(py, claim)?,
                py_repr(py, comparator)?,
                PyValue(value.clone()).__repr__(py)?
            )),
            _ => Ok(format!(
                "Condition(kind={}, of={})",
                py_repr(py, self.kind())?,
                self.of().len()
            )),
        }
    }
}

/// A claim type and its values: `permit read, update`.
#[pyclass(
    name = "Consequent",
    module = "continuum_backup.policy",
    frozen,
    eq,
    hash
)]
#[derive(PartialEq, Eq, Hash)]
struct PyConsequent(ConsequentModel);

#[pymethods]
impl PyConsequent {
    #[getter]
    fn claim(&self) -> &str {
        &self.0.claim
    }

    #[getter]
    fn values(&self) -> Vec<PyValue> {
        self.0.values.iter().cloned().map(PyValue).collect()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let values: Vec<String> = self.0.values.iter().map(Value::to_source).collect();
        Ok(format!(
            "Consequent(claim={}, values={})",
            py_repr(py, &self.0.claim)?,
            PyList::new(py, values)?.repr()?
        ))
    }
}

/// A value: a string, a bare word, a number with an optional unit, or a template `[name]`.
#[pyclass(name = "Value", module = "continuum_backup.policy", frozen, eq, hash)]
#[derive(PartialEq, Eq, Hash)]
struct PyValue(Value);

#[pymethods]
impl PyValue {
    #[getter(r#type)]
    fn value_type(&self) -> &'static str {
        match &self.0 {
            Value::String(_) => "string",
            Value::Word(_) => "word",
            Value::Number { .. } => "number",
            Value::Template(_) => "template",
            _ => "unknown",
        }
    }

    #[getter]
    fn value(&self) -> String {
        match &self.0 {
            Value::String(s) | Value::Word(s) | Value::Template(s) => s.clone(),
            Value::Number { number, .. } => number.clone(),
            other => other.to_source(),
        }
    }

    #[getter]
    fn unit(&self) -> Option<&str> {
        match &self.0 {
            Value::Number { unit, .. } => unit.as_deref(),
            _ => None,
        }
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0)
    }

    /// The value as a document writes it.
    fn __str__(&self) -> String {
        self.0.to_source()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Value(type={}, value={}, unit={})",
            py_repr(py, self.value_type())?,
            py_repr(py, &self.value())?,
            py_opt(py, self.unit())?
        ))
    }
}

/// What `import_files` did (or would do, in a dry run).
#[pyclass(name = "ImportReport", module = "continuum_backup.policy", frozen)]
struct PyImportReport(ImportReport);

#[pymethods]
impl PyImportReport {
    #[getter]
    fn dry_run(&self) -> bool {
        self.0.dry_run
    }

    #[getter]
    fn documents(&self) -> Vec<PyImportedDocument> {
        self.0
            .documents
            .iter()
            .cloned()
            .map(PyImportedDocument)
            .collect()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0)
    }

    fn __repr__(&self) -> String {
        format!(
            "ImportReport(dry_run={}, documents={})",
            py_bool(self.0.dry_run),
            self.0.documents.len()
        )
    }
}

/// One document of an import.
#[pyclass(name = "ImportedDocument", module = "continuum_backup.policy", frozen)]
struct PyImportedDocument(ImportedDocument);

#[pymethods]
impl PyImportedDocument {
    #[getter]
    fn name(&self) -> &str {
        &self.0.name
    }

    #[getter]
    fn file(&self) -> &OsStr {
        self.0.file.as_os_str()
    }

    #[getter]
    fn outcome(&self) -> &'static str {
        match self.0.outcome {
            ImportOutcome::Created => "created",
            ImportOutcome::Updated => "updated",
            ImportOutcome::Unchanged => "unchanged",
            _ => "unknown",
        }
    }

    #[getter]
    fn warnings(&self) -> Vec<PyDiagnostic> {
        self.0.warnings.iter().cloned().map(PyDiagnostic).collect()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "ImportedDocument(name={}, outcome={})",
            py_repr(py, &self.0.name)?,
            py_repr(py, self.outcome())?
        ))
    }
}

/// `parse(text, name=None)`: the document's model; raises `PolicyError` on errors.
#[pyfunction]
#[pyo3(signature = (text, name = None))]
fn policy_parse(py: Python<'_>, text: &str, name: Option<&str>) -> PyResult<PyDocument> {
    let parsed = detached(py, || {
        continuum_policy::parse(text, name.unwrap_or(DEFAULT_NAME))
    })?;
    let mut model = parsed.document.to_model();
    if let Some(name) = name {
        model.name = Some(name.to_string());
    }
    Ok(PyDocument(model))
}

/// `check(text, name=None)`: the warnings; raises `PolicyError` on errors.
#[pyfunction]
#[pyo3(signature = (text, name = None))]
fn policy_check(py: Python<'_>, text: &str, name: Option<&str>) -> PyResult<Vec<PyDiagnostic>> {
    let warnings = detached(py, || {
        continuum_policy::check(text, name.unwrap_or(DEFAULT_NAME))
    })?;
    Ok(warnings.into_iter().map(PyDiagnostic).collect())
}

/// `format(text, name=None)`: the text in the canonical layout.
#[pyfunction]
#[pyo3(signature = (text, name = None))]
fn policy_format(py: Python<'_>, text: &str, name: Option<&str>) -> PyResult<String> {
    detached(py, || {
        continuum_policy::format(text, name.unwrap_or(DEFAULT_NAME))
    })
}

/// `export(cluster_dir, out_dir, *, name=None, force=False)`: the files written.
#[pyfunction]
#[pyo3(signature = (cluster_dir, out_dir, *, name = None, force = false))]
fn policy_export(
    py: Python<'_>,
    cluster_dir: PathBuf,
    out_dir: PathBuf,
    name: Option<&str>,
    force: bool,
) -> PyResult<Vec<OsString>> {
    let store = FolderPolicyStore::for_cluster(&cluster_dir);
    let report = detached(py, || {
        continuum_policy::export(&store, name, &out_dir, force)
    })?;
    Ok(report
        .files
        .into_iter()
        .map(PathBuf::into_os_string)
        .collect())
}

/// One pattern or several.
#[derive(FromPyObject)]
enum Patterns {
    // First: a `str` is a sequence too, of one-character strings.
    #[pyo3(transparent, annotation = "str")]
    One(String),
    #[pyo3(transparent, annotation = "Sequence[str]")]
    Many(Vec<String>),
}

/// `import_files(cluster_dir, patterns, *, dry_run=False)`: all or nothing.
#[pyfunction]
#[pyo3(signature = (cluster_dir, patterns, *, dry_run = false))]
fn policy_import_files(
    py: Python<'_>,
    cluster_dir: PathBuf,
    patterns: Patterns,
    dry_run: bool,
) -> PyResult<PyImportReport> {
    let patterns = match patterns {
        Patterns::One(p) => vec![p],
        Patterns::Many(ps) => ps,
    };
    let store = FolderPolicyStore::for_cluster(&cluster_dir);
    let mut options = ImportOptions::default();
    options.dry_run = dry_run;
    detached(py, || continuum_policy::import(&store, &patterns, options)).map(PyImportReport)
}

/// `api_docs_to_json(docs)`: the policy API's `{"docs": [...]}` form of `(name, text)` pairs.
#[pyfunction]
fn policy_api_docs_to_json(docs: Vec<(String, String)>) -> String {
    ApiDocs::new(
        docs.into_iter()
            .map(|(name, text)| ApiDoc::new(name, text))
            .collect(),
    )
    .to_json()
}

/// `api_docs_from_json(text)`: the `(name, text)` pairs of the policy API's JSON form.
#[pyfunction]
fn policy_api_docs_from_json(py: Python<'_>, text: &str) -> PyResult<Vec<(String, String)>> {
    let docs = ApiDocs::from_json(DEFAULT_NAME, text.as_bytes()).map_err(|e| policy_err(py, e))?;
    Ok(docs.docs.into_iter().map(|d| (d.name, d.text)).collect())
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyDiagnostic>()?;
    m.add_class::<PyDocument>()?;
    m.add_class::<PyPolicy>()?;
    m.add_class::<PyRule>()?;
    m.add_class::<PyCondition>()?;
    m.add_class::<PyConsequent>()?;
    m.add_class::<PyValue>()?;
    m.add_class::<PyImportReport>()?;
    m.add_class::<PyImportedDocument>()?;
    m.add_function(wrap_pyfunction!(policy_parse, m)?)?;
    m.add_function(wrap_pyfunction!(policy_check, m)?)?;
    m.add_function(wrap_pyfunction!(policy_format, m)?)?;
    m.add_function(wrap_pyfunction!(policy_export, m)?)?;
    m.add_function(wrap_pyfunction!(policy_import_files, m)?)?;
    m.add_function(wrap_pyfunction!(policy_api_docs_to_json, m)?)?;
    m.add_function(wrap_pyfunction!(policy_api_docs_from_json, m)?)?;
    Ok(())
}
