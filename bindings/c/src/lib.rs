#![doc = include_str!("../README.md")]

use std::ffi::{CStr, CString, c_char};

use continuum_core::{Fqn, ResourceType};
use serde::Serialize;

use crate::edge::Out;

mod cntmp;
mod edge;
mod platform;
mod policy;
mod status;
mod store;

pub use crate::cntmp::{
    continuum_cntmp_export, continuum_cntmp_import, continuum_cntmp_inspect,
    continuum_cntmp_list_objects, continuum_cntmp_package_from_files, continuum_cntmp_verify,
};
pub use crate::platform::{
    continuum_conf_load, continuum_db_backup, continuum_db_list_databases, continuum_db_restore,
    continuum_platform_backup, continuum_platform_plan, continuum_platform_restore,
};
pub use crate::policy::{
    continuum_policy_check, continuum_policy_export, continuum_policy_format,
    continuum_policy_import, continuum_policy_parse,
};
pub use crate::status::ContinuumStatus;
pub use crate::store::{
    ContinuumStore, continuum_sets_create_from_files, continuum_store_free,
    continuum_store_list_sets, continuum_store_open, continuum_store_prune, continuum_store_url,
    continuum_store_verify_set,
};

/// The version, NUL-terminated, for `continuum_version`.
const VERSION: &CStr =
    match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(version) => version,
        Err(_) => c"unknown",
    };

/// The version of the library (`"0.1.0"`).
///
/// The string is static: never free it. Never fails; leaves the last error alone.
#[unsafe(no_mangle)]
pub extern "C" fn continuum_version() -> *const c_char {
    VERSION.as_ptr()
}

/// The message of the last call on this thread that failed, or `NULL` when the last call
/// succeeded (or none was made yet). UTF-8, one line (a policy error adds its diagnostics on the lines after), never holding a password or a key.
///
/// The string belongs to the library: do not free it. It stays valid until the next call of
/// a function of this header that returns a status, on the same thread. (In Go, lock the
/// goroutine to its thread around the call and this read: `runtime.LockOSThread`.)
#[unsafe(no_mangle)]
pub extern "C" fn continuum_last_error_message() -> *const c_char {
    edge::last_error_message()
}

/// The last error of this thread as a JSON object, or `NULL` when the last call succeeded:
/// `{"status": -8, "kind": "policy", "message": "…", "diagnostics": [...]}`. `kind` names the
/// status (`invalid_argument`, `invalid_input`, `not_found`, `conflict`, `corrupt`, `io`,
/// `database`, `policy`, `decrypt`, `panic`, `other`); `diagnostics` lists, for a policy
/// document with errors, each `{severity, message, file, line, column, source_line, width,
/// help}`, and is empty otherwise.
///
/// Owned by the library and valid as `continuum_last_error_message`'s string is.
#[unsafe(no_mangle)]
pub extern "C" fn continuum_last_error_json() -> *const c_char {
    edge::last_error_json()
}

/// Frees a string this library returned through a `char **out_…` parameter. `NULL` is
/// accepted and does nothing. Never pass any other pointer (not one from `malloc`, not the
/// strings of `continuum_version` or `continuum_last_error_*`), nor the same one twice.
///
/// # Safety
/// `text` is `NULL` or a string returned by this library and not freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn continuum_string_free(text: *mut c_char) {
    if text.is_null() {
        return;
    }
    // SAFETY: the caller guarantees `text` came from `CString::into_raw` in this library
    // (every `out_…` string does, through `edge::into_c_string`) and is freed only once.
    drop(unsafe { CString::from_raw(text) });
}

/// The parts of a parsed FQN.
#[derive(Debug, Serialize)]
struct FqnParts {
    fqn: String,
    resource_type: Option<&'static str>,
    namespace: String,
    local_name: Option<String>,
    is_realm: bool,
}

/// Parses a fully qualified name (`package::/apcera/pkg/runtimes::go-1.5.1`).
///
/// - `text`: the FQN.
/// - `default_type`: the resource type of a name written without one (`job`, `package` …),
///   or `NULL` to take the name as written.
/// - `out_json`: on success, `{"fqn": "<normalized>", "resource_type": "package" | null,
///   "namespace": "/apcera/pkg/runtimes", "local_name": "go-1.5.1" | null, "is_realm": false}`.
///
/// A malformed FQN is `CONTINUUM_STATUS_INVALID_INPUT`, with the column in the message.
///
/// # Safety
/// The pointer rules at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn continuum_fqn_parse(
    text: *const c_char,
    default_type: *const c_char,
    out_json: *mut *mut c_char,
) -> ContinuumStatus {
    // SAFETY: `out_json` follows the header's pointer rules.
    let out = unsafe { Out::new(out_json, "out_json") };
    edge::run_json(out, || {
        // SAFETY: `text` follows the header's pointer rules.
        let text = unsafe { edge::text(text, "text") }?;
        // SAFETY: `default_type` follows the header's pointer rules.
        let default_type = unsafe { edge::optional_text(default_type, "default_type") }?;
        let fqn = match default_type {
            None => Fqn::parse(text)?,
            Some(t) => Fqn::parse_as(text, t.parse::<ResourceType>()?)?,
        };
        Ok(FqnParts {
            fqn: fqn.to_string(),
            resource_type: fqn.resource_type().map(ResourceType::as_str),
            namespace: fqn.namespace().as_str().to_string(),
            local_name: fqn.local_name().map(str::to_string),
            is_realm: fqn.is_realm(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_is_the_workspace_version() {
        // SAFETY: the version is a static C string.
        let version = unsafe { CStr::from_ptr(continuum_version()) };
        assert_eq!(
            version.to_str().unwrap(),
            continuum_core::producer().trim_start_matches("continuum-backup ")
        );
    }
}
