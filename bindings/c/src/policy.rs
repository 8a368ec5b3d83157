//! Policy documents (`continuum-policy`).

use std::ffi::c_char;

use continuum_policy::{FolderPolicyStore, ImportOptions};
use serde::Deserialize;

use crate::edge::{self, Out};
use crate::status::ContinuumStatus;

/// The name diagnostics give a text that has no file.
const DEFAULT_NAME: &str = "<text>";

/// Checks a policy document: parses and validates it.
///
/// - `text`: the document.
/// - `file_name`: the name diagnostics give it (`quotas.pol`), or `NULL` for `<text>`.
/// - `out_json`: on success, a JSON array of the warnings: `[{"severity": "warning",
///   "message", "file", "line", "column", "source_line", "caret", "width", "help"}]`, owned by the
///   caller.
///
/// A document with errors is `CONTINUUM_STATUS_POLICY`; the errors (and warnings) are the
/// `diagnostics` of `continuum_last_error_json`.
///
/// # Safety
/// The pointer rules at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn continuum_policy_check(
    text: *const c_char,
    file_name: *const c_char,
    out_json: *mut *mut c_char,
) -> ContinuumStatus {
    // SAFETY: `out_json` follows the header's pointer rules.
    let out = unsafe { Out::new(out_json, "out_json") };
    edge::run_json(out, || {
        // SAFETY: `text` follows the header's pointer rules.
        let text = unsafe { edge::text(text, "text") }?;
        // SAFETY: `file_name` follows the header's pointer rules.
        let name = unsafe { edge::optional_text(file_name, "file_name") }?;
        Ok(continuum_policy::check(text, name.unwrap_or(DEFAULT_NAME))?)
    })
}

/// Formats a policy document in the canonical layout (comments kept; the formatter checks
/// that the meaning did not change).
///
/// - `file_name`: as for `continuum_policy_check`.
/// - `out_text`: on success, the formatted document (text, not JSON), owned by the caller.
///
/// # Safety
/// The pointer rules at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn continuum_policy_format(
    text: *const c_char,
    file_name: *const c_char,
    out_text: *mut *mut c_char,
) -> ContinuumStatus {
    // SAFETY: `out_text` follows the header's pointer rules.
    let out = unsafe { Out::new(out_text, "out_text") };
    edge::run_text(out, || {
        // SAFETY: `text` follows the header's pointer rules.
        let text = unsafe { edge::text(text, "text") }?;
        // SAFETY: `file_name` follows the header's pointer rules.
        let name = unsafe { edge::optional_text(file_name, "file_name") }?;
        Ok(continuum_policy::format(
            text,
            name.unwrap_or(DEFAULT_NAME),
        )?)
    })
}

/// Parses a policy document into its model, the policy API's JSON shape.
///
/// - `file_name`: as for `continuum_policy_check`; when given, it is also the model's
///   `name`.
/// - `out_json`: on success, `{"name", "description", "policies": [{"realm", "rules":
///   [{"condition", "consequents"}]}]}`, owned by the caller.
///
/// # Safety
/// The pointer rules at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn continuum_policy_parse(
    text: *const c_char,
    file_name: *const c_char,
    out_json: *mut *mut c_char,
) -> ContinuumStatus {
    // SAFETY: `out_json` follows the header's pointer rules.
    let out = unsafe { Out::new(out_json, "out_json") };
    edge::run_json(out, || {
        // SAFETY: `text` follows the header's pointer rules.
        let text = unsafe { edge::text(text, "text") }?;
        // SAFETY: `file_name` follows the header's pointer rules.
        let name = unsafe { edge::optional_text(file_name, "file_name") }?;
        let parsed = continuum_policy::parse(text, name.unwrap_or(DEFAULT_NAME))?;
        let mut model = parsed.document.to_model();
        if let Some(name) = name {
            model.name = Some(name.to_string());
        }
        Ok(model)
    })
}

/// Exports the policy documents of a cluster folder (`<cluster_dir>/policy/`) as
/// `<name>.pol` files.
///
/// - `cluster_dir`: the cluster folder.
/// - `out_dir`: where the files go (created when missing).
/// - `name`: the one document to export, or `NULL` for all of them.
/// - `force`: replace existing files; without it nothing at all is written when any target
///   file exists (`CONTINUUM_STATUS_CONFLICT`).
/// - `out_json`: on success, `{"files": ["<out_dir>/quotas.pol", …]}`, owned by the caller.
///
/// # Safety
/// The pointer rules at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn continuum_policy_export(
    cluster_dir: *const c_char,
    out_dir: *const c_char,
    name: *const c_char,
    force: bool,
    out_json: *mut *mut c_char,
) -> ContinuumStatus {
    // SAFETY: `out_json` follows the header's pointer rules.
    let out = unsafe { Out::new(out_json, "out_json") };
    edge::run_json(out, || {
        // SAFETY: `cluster_dir` follows the header's pointer rules.
        let cluster_dir = unsafe { edge::path(cluster_dir, "cluster_dir") }?;
        // SAFETY: `out_dir` follows the header's pointer rules.
        let out_dir = unsafe { edge::path(out_dir, "out_dir") }?;
        // SAFETY: `name` follows the header's pointer rules.
        let name = unsafe { edge::optional_text(name, "name") }?;
        let store = FolderPolicyStore::for_cluster(&cluster_dir);
        Ok(continuum_policy::export(&store, name, &out_dir, force)?)
    })
}

/// The options of `continuum_policy_import`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ImportOptionsJson {
    dry_run: bool,
}

/// Imports policy documents from files into a cluster folder, all or nothing: every file is
/// read and checked before any document is stored.
///
/// - `patterns_json`: a JSON array of file paths or glob patterns
///   (`["extra/quotas.pol", "policy/team-*.pol"]`); a pattern that matches nothing is
///   `CONTINUUM_STATUS_INVALID_INPUT`.
/// - `options_json`: `NULL` or `{"dry_run": false}`.
/// - `out_json`: on success, `{"dry_run", "documents": [{"name", "file", "outcome":
///   "created" | "updated" | "unchanged", "warnings": [...]}]}`, owned by the caller.
///
/// A document with errors is `CONTINUUM_STATUS_POLICY` (see `continuum_policy_check`).
///
/// # Safety
/// The pointer rules at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn continuum_policy_import(
    cluster_dir: *const c_char,
    patterns_json: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> ContinuumStatus {
    // SAFETY: `out_json` follows the header's pointer rules.
    let out = unsafe { Out::new(out_json, "out_json") };
    edge::run_json(out, || {
        // SAFETY: `cluster_dir` follows the header's pointer rules.
        let cluster_dir = unsafe { edge::path(cluster_dir, "cluster_dir") }?;
        // SAFETY: `patterns_json` follows the header's pointer rules.
        let patterns = unsafe { edge::text(patterns_json, "patterns_json") }?;
        let patterns: Vec<String> = edge::parse_json(patterns, "patterns_json")?;
        // SAFETY: `options_json` follows the header's pointer rules.
        let json: ImportOptionsJson =
            unsafe { edge::json_or_default(options_json, "options_json") }?;
        let mut options = ImportOptions::default();
        options.dry_run = json.dry_run;
        let store = FolderPolicyStore::for_cluster(&cluster_dir);
        Ok(continuum_policy::import(&store, &patterns, options)?)
    })
}
