//! Stores and backup sets (`continuum-core`).

use std::ffi::c_char;
use std::path::PathBuf;
use std::time::Duration;

use continuum_core::{
    DataKind, DynStore, PruneOptions, Reason, Recipients, RetentionPolicy, S3Options, Secret,
    SetOptions, StoreOptions,
};
use serde::Deserialize;

use crate::edge::{self, Out};
use crate::status::{ContinuumStatus, Failure};

/// An open backup store: a folder or an S3 bucket. Opaque.
///
/// Made by `continuum_store_open`, freed by `continuum_store_free` exactly once. A store may
/// be used by several threads at once; free it only after every call using it has returned.
#[derive(Debug)]
pub struct ContinuumStore {
    pub(crate) store: DynStore,
}

// The header promises that a handle may be used from several threads at once.
const _: () = {
    const fn shared_between_threads<T: Send + Sync>() {}
    shared_between_threads::<ContinuumStore>();
};

/// The handle argument of a call.
///
/// # Safety
/// `store` is `NULL` or a handle from `continuum_store_open` that is not freed yet.
pub(crate) unsafe fn store_arg<'a>(
    store: *const ContinuumStore,
    name: &str,
) -> Result<&'a ContinuumStore, Failure> {
    // SAFETY: the caller guarantees a live handle when `store` is not NULL; a handle is a
    // `Box<ContinuumStore>` made by `continuum_store_open`, never mutated through `*const`.
    unsafe { store.as_ref() }.ok_or_else(|| Failure::argument(format!("`{name}` is NULL")))
}

/// The S3 settings of `continuum_store_open`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct StoreOptionsJson {
    endpoint: Option<String>,
    region: Option<String>,
    path_style: Option<bool>,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    session_token: Option<String>,
}

impl StoreOptionsJson {
    fn into_options(self) -> StoreOptions {
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

/// Opens the store a URL names: a folder path, `file:///…`, or `s3://bucket/prefix`.
///
/// - `url`: the store URL (never with credentials in it).
/// - `options_json`: `NULL`, or S3 settings: `{"endpoint": "http://127.0.0.1:9000",
///   "region": "us-east-1", "path_style": true, "access_key_id": "…",
///   "secret_access_key": "…", "session_token": "…"}`, every key optional; what is left out
///   comes from the `AWS_*` environment variables. Unknown keys are refused.
/// - `out_store`: on success, the new handle, owned by the caller, who frees it with
///   `continuum_store_free`; `NULL` on failure.
///
/// # Safety
/// The pointer rules at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn continuum_store_open(
    url: *const c_char,
    options_json: *const c_char,
    out_store: *mut *mut ContinuumStore,
) -> ContinuumStatus {
    // SAFETY: `out_store` follows the header's pointer rules.
    let out = unsafe { Out::new(out_store, "out_store") };
    edge::run_out(out, || {
        // SAFETY: `url` follows the header's pointer rules.
        let url = unsafe { edge::text(url, "url") }?;
        // SAFETY: `options_json` follows the header's pointer rules.
        let options: StoreOptionsJson =
            unsafe { edge::json_or_default(options_json, "options_json") }?;
        let store = continuum_core::open_store(url, &options.into_options())?;
        Ok(Box::into_raw(Box::new(ContinuumStore { store })))
    })
}

/// Frees a store handle. `NULL` is accepted and does nothing.
///
/// # Safety
/// `store` is `NULL` or a handle from `continuum_store_open`, not freed yet and not in use
/// by another thread; it must not be used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn continuum_store_free(store: *mut ContinuumStore) {
    if store.is_null() {
        return;
    }
    // SAFETY: the caller guarantees a handle made by `Box::into_raw` in
    // `continuum_store_open`, freed once.
    let handle = unsafe { Box::from_raw(store) };
    // Dropping a store runs no code of the caller's; a panic there must still not unwind
    // into C.
    let _ = edge::guarded(|| {
        drop(handle);
        Ok(())
    });
}

/// The URL of a store, as the library writes it in reports.
///
/// - `out_url`: on success, the URL, owned by the caller (`continuum_string_free`).
///
/// # Safety
/// The pointer rules at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn continuum_store_url(
    store: *const ContinuumStore,
    out_url: *mut *mut c_char,
) -> ContinuumStatus {
    // SAFETY: `out_url` follows the header's pointer rules.
    let out = unsafe { Out::new(out_url, "out_url") };
    edge::run_text(out, || {
        // SAFETY: `store` follows the header's pointer rules.
        let store = unsafe { store_arg(store, "store") }?;
        Ok(store.store.url())
    })
}

/// Every committed backup set of a store, newest first.
///
/// - `out_json`: on success, a JSON array of set manifests (`docs/schemas/manifest.schema.json`:
///   `set_id`, `created_at`, `producer`, `cluster_name`, `reason`, `artifacts` …), owned by
///   the caller (`continuum_string_free`).
///
/// # Safety
/// The pointer rules at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn continuum_store_list_sets(
    store: *const ContinuumStore,
    out_json: *mut *mut c_char,
) -> ContinuumStatus {
    // SAFETY: `out_json` follows the header's pointer rules.
    let out = unsafe { Out::new(out_json, "out_json") };
    edge::run_json(out, || {
        // SAFETY: `store` follows the header's pointer rules.
        let store = unsafe { store_arg(store, "store") }?;
        Ok(continuum_core::list_sets(&*store.store)?)
    })
}

/// Verifies a backup set: reads every artifact and checks its size and SHA-256.
///
/// - `set_id`: the set.
/// - `out_json`: on success, the report: `{"set_id", "ok": true | false, "bytes_checked",
///   "artifacts": [{"name", "path", "status"}], "unexpected_objects": [...]}`, owned by the
///   caller. Damage found is a report with `"ok": false` and status
///   `CONTINUUM_STATUS_OK`; a set that does not exist is `CONTINUUM_STATUS_NOT_FOUND`.
///
/// # Safety
/// The pointer rules at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn continuum_store_verify_set(
    store: *const ContinuumStore,
    set_id: *const c_char,
    out_json: *mut *mut c_char,
) -> ContinuumStatus {
    // SAFETY: `out_json` follows the header's pointer rules.
    let out = unsafe { Out::new(out_json, "out_json") };
    edge::run_json(out, || {
        // SAFETY: `store` follows the header's pointer rules.
        let store = unsafe { store_arg(store, "store") }?;
        // SAFETY: `set_id` follows the header's pointer rules.
        let set_id = unsafe { edge::text(set_id, "set_id") }?;
        Ok(continuum_core::verify_set(&*store.store, set_id)?)
    })
}

/// The options of `continuum_store_prune`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct PruneOptionsJson {
    keep_last: u32,
    keep_daily: u32,
    keep_weekly: u32,
    keep_monthly: u32,
    min_keep: u32,
    dry_run: bool,
    incomplete_grace_seconds: Option<u64>,
    reason: Option<String>,
}

impl PruneOptionsJson {
    fn into_options(self) -> Result<PruneOptions, Failure> {
        let mut policy = RetentionPolicy::default();
        policy.keep_last = self.keep_last;
        policy.keep_daily = self.keep_daily;
        policy.keep_weekly = self.keep_weekly;
        policy.keep_monthly = self.keep_monthly;
        policy.min_keep = self.min_keep;
        let mut options = PruneOptions::new(policy);
        options.dry_run = self.dry_run;
        if let Some(seconds) = self.incomplete_grace_seconds {
            options.incomplete_grace = Duration::from_secs(seconds);
        }
        options.reason = self.reason.map(|r| r.parse::<Reason>()).transpose()?;
        Ok(options)
    }
}

/// Removes the sets a retention policy does not keep, and incomplete sets older than a
/// grace period.
///
/// - `options_json`: `{"keep_last": 7, "keep_daily": 14, "keep_weekly": 8, "keep_monthly": 0,
///   "min_keep": 0, "dry_run": false, "incomplete_grace_seconds": 3600, "reason": "daily"}`,
///   every key optional, but at least one rule must keep something (an empty policy is
///   `CONTINUUM_STATUS_INVALID_INPUT`). `reason` limits the policy to the sets of that reason.
/// - `out_json`: on success, the report: `{"dry_run", "decisions": [{"set_id", "created_at",
///   "keep", "reasons"}], "leftovers": [...], "removed_objects", "removed_bytes", …}`, owned
///   by the caller.
///
/// # Safety
/// The pointer rules at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn continuum_store_prune(
    store: *const ContinuumStore,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> ContinuumStatus {
    // SAFETY: `out_json` follows the header's pointer rules.
    let out = unsafe { Out::new(out_json, "out_json") };
    edge::run_json(out, || {
        // SAFETY: `store` follows the header's pointer rules.
        let store = unsafe { store_arg(store, "store") }?;
        // SAFETY: `options_json` follows the header's pointer rules.
        let options: PruneOptionsJson =
            unsafe { edge::json_or_default(options_json, "options_json") }?;
        Ok(continuum_core::prune(
            &*store.store,
            &options.into_options()?,
        )?)
    })
}

/// The options of `continuum_sets_create_from_files`.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct SetOptionsJson {
    kind: String,
    component: String,
    reason: String,
    cluster_name: Option<String>,
    encrypt_to: Option<Vec<String>>,
}

impl Default for SetOptionsJson {
    fn default() -> Self {
        Self {
            kind: "cluster".to_string(),
            component: "files".to_string(),
            reason: "manual".to_string(),
            cluster_name: None,
            encrypt_to: None,
        }
    }
}

/// Makes a new backup set of files, one artifact each, and commits it (manifest last).
///
/// - `paths_json`: a JSON array of file paths, at least one: `["cluster.conf", "main.tf"]`.
/// - `options_json`: `NULL`, or `{"kind": "cluster", "component": "files", "reason":
///   "manual", "cluster_name": "prod", "encrypt_to": ["age1…"]}`, every key optional (those
///   are the defaults; `kind` is cluster, policy, job or log; `reason` daily, deploy, manual
///   or migration; `encrypt_to` encrypts the set to age recipients).
/// - `out_json`: on success, the set's manifest, owned by the caller.
///
/// # Safety
/// The pointer rules at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn continuum_sets_create_from_files(
    store: *const ContinuumStore,
    paths_json: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> ContinuumStatus {
    // SAFETY: `out_json` follows the header's pointer rules.
    let out = unsafe { Out::new(out_json, "out_json") };
    edge::run_json(out, || {
        // SAFETY: `store` follows the header's pointer rules.
        let store = unsafe { store_arg(store, "store") }?;
        // SAFETY: `paths_json` follows the header's pointer rules.
        let paths = unsafe { edge::text(paths_json, "paths_json") }?;
        let paths: Vec<PathBuf> = edge::parse_json(paths, "paths_json")?;
        // SAFETY: `options_json` follows the header's pointer rules.
        let options: SetOptionsJson =
            unsafe { edge::json_or_default(options_json, "options_json") }?;
        let kind: DataKind = options.kind.parse()?;
        let mut set_options = SetOptions::new(options.reason.parse::<Reason>()?);
        set_options.cluster_name = options.cluster_name;
        if let Some(keys) = options.encrypt_to {
            set_options = set_options.encrypt_to(Recipients::parse(&keys)?);
        }
        Ok(continuum_core::create_set_from_files(
            store.store.clone(),
            &paths,
            kind,
            &options.component,
            set_options,
        )?)
    })
}
