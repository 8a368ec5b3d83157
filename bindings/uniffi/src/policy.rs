//! Policy documents (`continuum-policy`): parse, check, format, export and import.

use continuum_policy::{FolderPolicyStore, ImportOptions, Severity};

use crate::{Result, count, json, path_text, serde_name};

/// The name diagnostics give a text that has no file.
const DEFAULT_NAME: &str = "<text>";

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DiagnosticSeverity {
    Error,
    Warning,
}

/// One finding about a document, at `file:line:column`; `rendered` is the text the command
/// line prints (the position, the message, the source line and a caret).
#[derive(Debug, Clone, uniffi::Record)]
pub struct Diagnostic {
    pub severity: DiagnosticSeverity,
    pub message: String,
    pub file: String,
    pub line: u64,
    pub column: u64,
    pub source_line: String,
    pub width: u64,
    pub help: Option<String>,
    pub rendered: String,
}

impl From<continuum_policy::Diagnostic> for Diagnostic {
    fn from(d: continuum_policy::Diagnostic) -> Self {
        Self {
            rendered: d.to_string(),
            severity: match d.severity {
                Severity::Error => DiagnosticSeverity::Error,
                Severity::Warning => DiagnosticSeverity::Warning,
            },
            message: d.message,
            file: d.file,
            line: count(d.line),
            column: count(d.column),
            source_line: d.source_line,
            width: count(d.width),
            help: d.help,
        }
    }
}

fn diagnostics(list: Vec<continuum_policy::Diagnostic>) -> Vec<Diagnostic> {
    list.into_iter().map(Diagnostic::from).collect()
}

/// A parsed document: its name and description, the realms of its policies, and the whole
/// model (policies, rules, conditions, consequents) as the policy API's JSON.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PolicyDocument {
    pub name: Option<String>,
    pub description: Option<String>,
    pub realms: Vec<String>,
    pub warnings: Vec<Diagnostic>,
    pub json: String,
}

/// What `policy_check` found: `ok` when no diagnostic is an error.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PolicyCheck {
    pub ok: bool,
    /// Every diagnostic, errors and warnings, by position.
    pub diagnostics: Vec<Diagnostic>,
}

/// One document of a policy import.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ImportedPolicyDocument {
    pub name: String,
    pub file: String,
    /// `created`, `updated` or `unchanged`.
    pub outcome: String,
    pub warnings: Vec<Diagnostic>,
}

/// What `policy_import` did (or, in a dry run, would do).
#[derive(Debug, Clone, uniffi::Record)]
pub struct PolicyImportReport {
    pub dry_run: bool,
    pub documents: Vec<ImportedPolicyDocument>,
}

/// Parses a document; `ContinuumError.Policy` lists its errors. `name` names it in
/// diagnostics and in the model.
#[uniffi::export(default(name = None))]
pub fn policy_parse(text: String, name: Option<String>) -> Result<PolicyDocument> {
    let parsed = continuum_policy::parse(&text, name.as_deref().unwrap_or(DEFAULT_NAME))?;
    let mut model = parsed.document.to_model();
    if name.is_some() {
        model.name = name;
    }
    Ok(PolicyDocument {
        json: json(&model),
        realms: model.policies.iter().map(|p| p.realm.clone()).collect(),
        name: model.name,
        description: model.description,
        warnings: diagnostics(parsed.warnings),
    })
}

/// Parses and validates a document. Errors in the document come back as diagnostics (with
/// `ok` false), not as an exception; a document too large or not text raises.
#[uniffi::export(default(name = None))]
pub fn policy_check(text: String, name: Option<String>) -> Result<PolicyCheck> {
    match continuum_policy::check(&text, name.as_deref().unwrap_or(DEFAULT_NAME)) {
        Ok(warnings) => Ok(PolicyCheck {
            ok: true,
            diagnostics: diagnostics(warnings),
        }),
        Err(continuum_policy::Error::Invalid { diagnostics: d, .. }) => Ok(PolicyCheck {
            ok: false,
            diagnostics: diagnostics(d),
        }),
        Err(other) => Err(other.into()),
    }
}

/// The document in the canonical layout (comments kept, meaning checked unchanged).
#[uniffi::export(default(name = None))]
pub fn policy_format(text: String, name: Option<String>) -> Result<String> {
    Ok(continuum_policy::format(
        &text,
        name.as_deref().unwrap_or(DEFAULT_NAME),
    )?)
}

/// Writes the documents of a cluster folder (`<cluster>/policy/`), or only the one `name`
/// names, as `<name>.pol` files into `out_dir`; never overwrites without `force`. The files
/// written.
#[uniffi::export(default(name = None, force = false))]
pub fn policy_export(
    cluster_dir: String,
    out_dir: String,
    name: Option<String>,
    force: bool,
) -> Result<Vec<String>> {
    let store = FolderPolicyStore::for_cluster(std::path::Path::new(&cluster_dir));
    let report = continuum_policy::export(
        &store,
        name.as_deref(),
        std::path::Path::new(&out_dir),
        force,
    )?;
    Ok(report.files.iter().map(|p| path_text(p)).collect())
}

/// Imports the `.pol` files the patterns (paths or wildcards) name into a cluster folder:
/// all or nothing.
#[uniffi::export(default(dry_run = false))]
pub fn policy_import(
    cluster_dir: String,
    patterns: Vec<String>,
    dry_run: bool,
) -> Result<PolicyImportReport> {
    let store = FolderPolicyStore::for_cluster(std::path::Path::new(&cluster_dir));
    let mut options = ImportOptions::default();
    options.dry_run = dry_run;
    let report = continuum_policy::import(&store, &patterns, options)?;
    Ok(PolicyImportReport {
        dry_run: report.dry_run,
        documents: report
            .documents
            .into_iter()
            .map(|d| ImportedPolicyDocument {
                outcome: serde_name(&d.outcome),
                name: d.name,
                file: path_text(&d.file),
                warnings: diagnostics(d.warnings),
            })
            .collect(),
    })
}
