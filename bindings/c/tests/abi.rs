//! The C ABI called as C calls it: raw pointers, out-parameters, statuses and the thread's
//! last error. Every exported function is called with `NULL` for each pointer, with text
//! that is not UTF-8 for each string, and with bad input; none may crash, and each must
//! say what was wrong. The database tests need `CONTINUUM_TEST_PG_URL` (set by
//! `scripts/test.sh`); without it they fail.
#![cfg(test)]
#![expect(
    unsafe_code,
    clippy::undocumented_unsafe_blocks,
    reason = "a test of a C ABI calls it as C does; every pointer passed is made right here"
)]

use std::ffi::{CStr, CString, c_char};
use std::fs;
use std::path::Path;
use std::ptr;

use continuum_c::*;
use continuum_testkit::{pg_execute, pg_url, unique};
use serde_json::Value;

// ---------------------------------------------------------------------------------------
// Helpers.

/// Text that is not UTF-8.
const NOT_UTF8: &[u8] = b"caf\xe9\0";

fn not_utf8() -> *const c_char {
    NOT_UTF8.as_ptr().cast()
}

fn c(text: &str) -> CString {
    CString::new(text).unwrap()
}

/// The thread's last error: its message and JSON, or `None` after a success.
fn last_error() -> Option<(String, Value)> {
    let message = continuum_last_error_message();
    let json = continuum_last_error_json();
    if message.is_null() {
        assert!(json.is_null());
        return None;
    }
    let message = unsafe { CStr::from_ptr(message) }
        .to_str()
        .unwrap()
        .to_string();
    let json = unsafe { CStr::from_ptr(json) }.to_str().unwrap();
    Some((message, serde_json::from_str(json).unwrap()))
}

/// Takes ownership of a string the library handed out.
fn take(text: *mut c_char) -> String {
    assert!(!text.is_null());
    let owned = unsafe { CStr::from_ptr(text) }
        .to_str()
        .unwrap()
        .to_string();
    unsafe { continuum_string_free(text) };
    owned
}

/// A failed call: its status, message and error JSON.
#[derive(Debug)]
struct Failed {
    status: ContinuumStatus,
    message: String,
    json: Value,
}

/// Calls a function with a `char **` out-parameter; on failure checks that the out-parameter
/// was set to `NULL` and that the last error is there.
fn call(f: impl FnOnce(*mut *mut c_char) -> ContinuumStatus) -> Result<String, Failed> {
    // Not NULL: the library must overwrite it with NULL on failure.
    let mut out: *mut c_char = ptr::dangling_mut();
    let status = f(&mut out);
    if status == ContinuumStatus::Ok {
        assert!(last_error().is_none(), "a success leaves no last error");
        return Ok(take(out));
    }
    assert!(out.is_null(), "the out-parameter is NULL after a failure");
    let (message, json) = last_error().expect("a failure sets the last error");
    assert_eq!(json["status"], status as i32);
    assert_eq!(json["message"], message.as_str());
    Err(Failed {
        status,
        message,
        json,
    })
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[track_caller]
fn expect_failure(result: Result<String, Failed>, status: ContinuumStatus, needle: &str) -> Failed {
    let failed = match result {
        Ok(out) => panic!("expected {status:?}, got success: {out}"),
        Err(f) => f,
    };
    assert_eq!(failed.status, status, "{}", failed.message);
    assert!(
        failed.message.contains(needle),
        "`{}` does not mention `{needle}`",
        failed.message
    );
    failed
}

/// A call of an exported function: its string arguments and its out-parameter.
type CaseCall = Box<dyn Fn(&[*const c_char], *mut *mut c_char) -> ContinuumStatus>;
/// A call of an exported function with its arguments bound: its out-parameter.
type BoundCall<'a> = Box<dyn Fn(*mut *mut c_char) -> ContinuumStatus + 'a>;

/// One exported function with a `char **` result: its string arguments by name (with a
/// value that is well-formed for the call; `required` when `NULL` is refused), and how to
/// call it.
struct Case {
    function: &'static str,
    args: Vec<Arg>,
    call: CaseCall,
}

struct Arg {
    name: &'static str,
    value: &'static str,
    required: bool,
}

fn req(name: &'static str, value: &'static str) -> Arg {
    Arg {
        name,
        value,
        required: true,
    }
}

fn opt(name: &'static str, value: &'static str) -> Arg {
    Arg {
        name,
        value,
        required: false,
    }
}

impl Case {
    fn new(
        function: &'static str,
        args: Vec<Arg>,
        call: impl Fn(&[*const c_char], *mut *mut c_char) -> ContinuumStatus + 'static,
    ) -> Self {
        Self {
            function,
            args,
            call: Box::new(call),
        }
    }

    /// `NULL` for each required argument and for the out-parameter, text that is not UTF-8
    /// for each argument: refused with `InvalidArgument`, naming the argument; never a crash.
    fn check_arguments(&self) {
        let values: Vec<CString> = self.args.iter().map(|a| c(a.value)).collect();
        for (i, arg) in self.args.iter().enumerate() {
            for (bad, why) in [(ptr::null(), "is NULL"), (not_utf8(), "not valid UTF-8")] {
                if bad.is_null() && !arg.required {
                    continue;
                }
                let mut ptrs: Vec<*const c_char> = values.iter().map(|v| v.as_ptr()).collect();
                ptrs[i] = bad;
                let failed = expect_failure(
                    call(|out| (self.call)(&ptrs, out)),
                    ContinuumStatus::InvalidArgument,
                    why,
                );
                assert!(
                    failed.message.contains(&format!("`{}`", arg.name)),
                    "{}: `{}` does not name `{}`",
                    self.function,
                    failed.message,
                    arg.name
                );
                assert_eq!(failed.json["kind"], "invalid_argument");
            }
        }
        let ptrs: Vec<*const c_char> = values.iter().map(|v| v.as_ptr()).collect();
        let status = (self.call)(&ptrs, ptr::null_mut());
        assert_eq!(
            status,
            ContinuumStatus::InvalidArgument,
            "{}: a NULL out-parameter",
            self.function
        );
        let (message, _) = last_error().unwrap();
        assert!(message.contains("is NULL"), "{}: {message}", self.function);
    }
}

/// A folder store in a temporary folder.
struct TempStore {
    _dir: tempfile::TempDir,
    handle: *mut ContinuumStore,
}

impl TempStore {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("store")).unwrap();
        let url = c(dir.path().join("store").to_str().unwrap());
        let mut handle = ptr::null_mut();
        let status = unsafe { continuum_store_open(url.as_ptr(), ptr::null(), &mut handle) };
        assert_eq!(status, ContinuumStatus::Ok);
        assert!(!handle.is_null());
        Self { _dir: dir, handle }
    }

    fn ptr(&self) -> *const ContinuumStore {
        self.handle
    }
}

impl Drop for TempStore {
    fn drop(&mut self) {
        unsafe { continuum_store_free(self.handle) };
    }
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn cpath(path: &Path) -> CString {
    c(path.to_str().unwrap())
}

const QUOTAS: &str = "// quotas\non quota::/sandbox {\n    {\n        total.memory 2GB\n        max.instances 10\n    }\n}\n";

// ---------------------------------------------------------------------------------------
// Every function, bad arguments.

/// Every exported function with a string result, with arguments that are well-formed.
fn cases(store: *const ContinuumStore) -> Vec<Case> {
    vec![
        Case::new(
            "fqn_parse",
            vec![req("text", "job::/a::b"), opt("default_type", "job")],
            |a, out| unsafe { continuum_fqn_parse(a[0], a[1], out) },
        ),
        Case::new("store_url", vec![], move |_, out| unsafe {
            continuum_store_url(store, out)
        }),
        Case::new("store_list_sets", vec![], move |_, out| unsafe {
            continuum_store_list_sets(store, out)
        }),
        Case::new(
            "store_verify_set",
            vec![req("set_id", "20260101T000000Z-abcd")],
            move |a, out| unsafe { continuum_store_verify_set(store, a[0], out) },
        ),
        Case::new(
            "store_prune",
            vec![opt("options_json", r#"{"keep_last": 1}"#)],
            move |a, out| unsafe { continuum_store_prune(store, a[0], out) },
        ),
        Case::new(
            "sets_create_from_files",
            vec![
                req("paths_json", r#"["/nonexistent"]"#),
                opt("options_json", "{}"),
            ],
            move |a, out| unsafe { continuum_sets_create_from_files(store, a[0], a[1], out) },
        ),
        Case::new(
            "policy_check",
            vec![req("text", QUOTAS), opt("file_name", "q.pol")],
            |a, out| unsafe { continuum_policy_check(a[0], a[1], out) },
        ),
        Case::new(
            "policy_format",
            vec![req("text", QUOTAS), opt("file_name", "q.pol")],
            |a, out| unsafe { continuum_policy_format(a[0], a[1], out) },
        ),
        Case::new(
            "policy_parse",
            vec![req("text", QUOTAS), opt("file_name", "q.pol")],
            |a, out| unsafe { continuum_policy_parse(a[0], a[1], out) },
        ),
        Case::new(
            "policy_export",
            vec![
                req("cluster_dir", "/nonexistent/cluster"),
                req("out_dir", "/nonexistent/out"),
                opt("name", "quotas"),
            ],
            |a, out| unsafe { continuum_policy_export(a[0], a[1], a[2], false, out) },
        ),
        Case::new(
            "policy_import",
            vec![
                req("cluster_dir", "/nonexistent/cluster"),
                req("patterns_json", r#"["/nonexistent/*.pol"]"#),
                opt("options_json", "{}"),
            ],
            |a, out| unsafe { continuum_policy_import(a[0], a[1], a[2], out) },
        ),
        Case::new(
            "cntmp_package_from_files",
            vec![
                req("cluster_dir", "/nonexistent/cluster"),
                req("files_json", r#"["/nonexistent/layer.tar.gz"]"#),
                req("options_json", r#"{"name": "tool"}"#),
            ],
            |a, out| unsafe { continuum_cntmp_package_from_files(a[0], a[1], a[2], out) },
        ),
        Case::new(
            "cntmp_list_objects",
            vec![
                req("cluster_dir", "/nonexistent/cluster"),
                opt("kind", "package"),
            ],
            |a, out| unsafe { continuum_cntmp_list_objects(a[0], a[1], out) },
        ),
        Case::new(
            "cntmp_export",
            vec![
                req("cluster_dir", "/nonexistent/cluster"),
                req("selection_json", r#"{"all": true}"#),
                req("out_file", "/nonexistent/out.cntmp"),
            ],
            |a, out| unsafe { continuum_cntmp_export(a[0], a[1], a[2], false, out) },
        ),
        Case::new(
            "cntmp_import",
            vec![
                req("cluster_dir", "/nonexistent/cluster"),
                req("files_json", r#"["/nonexistent/in.cntmp"]"#),
                opt("options_json", "{}"),
            ],
            |a, out| unsafe { continuum_cntmp_import(a[0], a[1], a[2], out) },
        ),
        Case::new(
            "cntmp_inspect",
            vec![req("file", "/nonexistent/in.cntmp")],
            |a, out| unsafe { continuum_cntmp_inspect(a[0], out) },
        ),
        Case::new(
            "cntmp_verify",
            vec![req("file", "/nonexistent/in.cntmp")],
            |a, out| unsafe { continuum_cntmp_verify(a[0], out) },
        ),
        Case::new(
            "conf_load",
            vec![req("path", "/nonexistent/cluster.conf")],
            |a, out| unsafe { continuum_conf_load(a[0], out) },
        ),
        Case::new(
            "db_list_databases",
            vec![opt("dsn", "postgresql://nobody@127.0.0.1:1/x")],
            |a, out| unsafe { continuum_db_list_databases(a[0], out) },
        ),
        Case::new(
            "db_backup",
            vec![
                opt("dsn", "postgresql://nobody@127.0.0.1:1/x"),
                req("databases_json", r#"["x"]"#),
                opt("options_json", "{}"),
            ],
            move |a, out| unsafe { continuum_db_backup(store, a[0], a[1], a[2], out) },
        ),
        Case::new(
            "db_restore",
            vec![
                req("set_id", "20260101T000000Z-abcd"),
                req("database", "x"),
                opt("dsn", "postgresql://nobody@127.0.0.1:1/x"),
                opt("options_json", "{}"),
            ],
            move |a, out| unsafe { continuum_db_restore(store, a[0], a[1], a[2], a[3], out) },
        ),
        Case::new(
            "platform_plan",
            vec![
                req("config", "/nonexistent/cluster.conf"),
                opt("options_json", "{}"),
            ],
            |a, out| unsafe { continuum_platform_plan(a[0], a[1], out) },
        ),
        Case::new(
            "platform_backup",
            vec![
                req("config", "/nonexistent/cluster.conf"),
                req("cluster_dir", "/nonexistent/cluster"),
                opt("dsn", "postgresql://nobody@127.0.0.1:1/x"),
                opt("options_json", "{}"),
            ],
            move |a, out| unsafe { continuum_platform_backup(store, a[0], a[1], a[2], a[3], out) },
        ),
        Case::new(
            "platform_restore",
            vec![
                req("set_id", "20260101T000000Z-abcd"),
                req("cluster_dir", "/nonexistent/cluster"),
                opt("dsn", "postgresql://nobody@127.0.0.1:1/x"),
                opt("options_json", "{}"),
            ],
            move |a, out| unsafe { continuum_platform_restore(store, a[0], a[1], a[2], a[3], out) },
        ),
    ]
}

#[test]
fn every_function_refuses_null_and_non_utf8_arguments() {
    let store = TempStore::new();
    let cases = cases(store.ptr());
    assert_eq!(cases.len(), 24);
    for case in &cases {
        case.check_arguments();
    }
}

/// Every function taking a store refuses a `NULL` one.
#[test]
fn every_store_function_refuses_a_null_store() {
    let set = c("20260101T000000Z-abcd");
    let db = c("x");
    let list = c(r#"["x"]"#);
    let path = c("/nonexistent");
    let null = ptr::null::<ContinuumStore>();
    let calls: Vec<(&str, BoundCall<'_>)> = vec![
        (
            "store_url",
            Box::new(|o| unsafe { continuum_store_url(null, o) }),
        ),
        (
            "store_list_sets",
            Box::new(|o| unsafe { continuum_store_list_sets(null, o) }),
        ),
        (
            "store_verify_set",
            Box::new(|o| unsafe { continuum_store_verify_set(null, set.as_ptr(), o) }),
        ),
        (
            "store_prune",
            Box::new(|o| unsafe { continuum_store_prune(null, ptr::null(), o) }),
        ),
        (
            "sets_create_from_files",
            Box::new(|o| unsafe {
                continuum_sets_create_from_files(null, list.as_ptr(), ptr::null(), o)
            }),
        ),
        (
            "db_backup",
            Box::new(|o| unsafe {
                continuum_db_backup(null, ptr::null(), list.as_ptr(), ptr::null(), o)
            }),
        ),
        (
            "db_restore",
            Box::new(|o| unsafe {
                continuum_db_restore(null, set.as_ptr(), db.as_ptr(), ptr::null(), ptr::null(), o)
            }),
        ),
        (
            "platform_backup",
            Box::new(|o| unsafe {
                continuum_platform_backup(
                    null,
                    path.as_ptr(),
                    path.as_ptr(),
                    ptr::null(),
                    ptr::null(),
                    o,
                )
            }),
        ),
        (
            "platform_restore",
            Box::new(|o| unsafe {
                continuum_platform_restore(
                    null,
                    set.as_ptr(),
                    path.as_ptr(),
                    ptr::null(),
                    ptr::null(),
                    o,
                )
            }),
        ),
    ];
    for (name, f) in calls {
        let failed = expect_failure(call(f), ContinuumStatus::InvalidArgument, "`store` is NULL");
        assert_eq!(failed.json["kind"], "invalid_argument", "{name}");
    }
}

#[test]
fn store_open_refuses_bad_arguments() {
    let mut handle: *mut ContinuumStore = ptr::dangling_mut();
    let url = c("/tmp/x");
    // NULL url, non-UTF-8 url, NULL out.
    assert_eq!(
        unsafe { continuum_store_open(ptr::null(), ptr::null(), &mut handle) },
        ContinuumStatus::InvalidArgument
    );
    assert!(handle.is_null());
    assert!(last_error().unwrap().0.contains("`url` is NULL"));
    assert_eq!(
        unsafe { continuum_store_open(not_utf8(), ptr::null(), &mut handle) },
        ContinuumStatus::InvalidArgument
    );
    assert_eq!(
        unsafe { continuum_store_open(url.as_ptr(), not_utf8(), &mut handle) },
        ContinuumStatus::InvalidArgument
    );
    assert_eq!(
        unsafe { continuum_store_open(url.as_ptr(), ptr::null(), ptr::null_mut()) },
        ContinuumStatus::InvalidArgument
    );
    assert!(last_error().unwrap().0.contains("`out_store` is NULL"));
    // An unknown option, JSON that is not JSON, a bad URL, credentials in the URL.
    let typo = c(r#"{"endpont": "http://127.0.0.1:1"}"#);
    assert_eq!(
        unsafe { continuum_store_open(url.as_ptr(), typo.as_ptr(), &mut handle) },
        ContinuumStatus::InvalidArgument
    );
    assert!(last_error().unwrap().0.contains("endpont"));
    let broken = c("{");
    assert_eq!(
        unsafe { continuum_store_open(url.as_ptr(), broken.as_ptr(), &mut handle) },
        ContinuumStatus::InvalidArgument
    );
    for bad in ["", "file://relative", "s3://user:secret@bucket/x"] {
        let bad = c(bad);
        assert_eq!(
            unsafe { continuum_store_open(bad.as_ptr(), ptr::null(), &mut handle) },
            ContinuumStatus::InvalidInput
        );
        assert!(handle.is_null());
        assert!(!last_error().unwrap().0.contains("secret"));
    }
    // Freeing NULL does nothing.
    unsafe { continuum_store_free(ptr::null_mut()) };
    unsafe { continuum_string_free(ptr::null_mut()) };
}

// ---------------------------------------------------------------------------------------
// The small functions.

#[test]
fn version_and_last_error_need_no_call() {
    let version = unsafe { CStr::from_ptr(continuum_version()) };
    assert_eq!(version.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}

#[test]
fn fqn_parse_gives_the_parts_or_the_column() {
    let text = c("package::/apcera/pkg/runtimes::go-1.5.1");
    let parts =
        json(&call(|o| unsafe { continuum_fqn_parse(text.as_ptr(), ptr::null(), o) }).unwrap());
    assert_eq!(parts["fqn"], "package::/apcera/pkg/runtimes::go-1.5.1");
    assert_eq!(parts["resource_type"], "package");
    assert_eq!(parts["namespace"], "/apcera/pkg/runtimes");
    assert_eq!(parts["local_name"], "go-1.5.1");
    assert_eq!(parts["is_realm"], false);

    let untyped = c("/sandbox/tom");
    let job = c("job");
    let parts =
        json(&call(|o| unsafe { continuum_fqn_parse(untyped.as_ptr(), job.as_ptr(), o) }).unwrap());
    assert_eq!(parts["fqn"], "job::/sandbox/tom");
    assert_eq!(parts["is_realm"], true);
    assert_eq!(parts["local_name"], Value::Null);

    let bad = c("package::no-slash::x");
    let failed = expect_failure(
        call(|o| unsafe { continuum_fqn_parse(bad.as_ptr(), ptr::null(), o) }),
        ContinuumStatus::InvalidInput,
        "invalid FQN",
    );
    assert_eq!(failed.json["kind"], "invalid_input");
    let unknown_type = c("gizmo");
    expect_failure(
        call(|o| unsafe { continuum_fqn_parse(untyped.as_ptr(), unknown_type.as_ptr(), o) }),
        ContinuumStatus::InvalidInput,
        "unknown resource type",
    );
}

#[test]
fn the_last_error_is_per_thread_and_cleared_by_the_next_call() {
    let bad = c("::");
    assert!(call(|o| unsafe { continuum_fqn_parse(bad.as_ptr(), ptr::null(), o) }).is_err());
    let here = last_error().unwrap().0;
    std::thread::spawn(|| assert!(last_error().is_none()))
        .join()
        .unwrap();
    assert_eq!(last_error().unwrap().0, here);
    // Freeing a string does not clear it; the next call with a status does.
    unsafe { continuum_string_free(ptr::null_mut()) };
    assert!(last_error().is_some());
    let good = c("job::/a::b");
    call(|o| unsafe { continuum_fqn_parse(good.as_ptr(), ptr::null(), o) }).unwrap();
    assert!(last_error().is_none());
}

// ---------------------------------------------------------------------------------------
// Stores and sets.

#[test]
fn a_set_is_created_listed_verified_and_pruned() {
    let store = TempStore::new();
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("cluster.conf");
    let b = dir.path().join("main.tf");
    write(&a, "chef: { continuum: { cluster_name: abi } }\n");
    write(&b, "resource \"x\" \"y\" {}\n");
    let paths = c(&serde_json::to_string(&[&a, &b]).unwrap());
    let options = c(r#"{"reason": "daily", "cluster_name": "abi"}"#);
    let manifest = json(
        &call(|o| unsafe {
            continuum_sets_create_from_files(store.ptr(), paths.as_ptr(), options.as_ptr(), o)
        })
        .unwrap(),
    );
    let set_id = manifest["set_id"].as_str().unwrap().to_string();
    assert_eq!(manifest["reason"], "daily");
    assert_eq!(manifest["cluster_name"], "abi");
    assert_eq!(manifest["artifacts"].as_array().unwrap().len(), 2);

    let url = call(|o| unsafe { continuum_store_url(store.ptr(), o) }).unwrap();
    assert!(url.ends_with("store"), "{url}");

    let sets = json(&call(|o| unsafe { continuum_store_list_sets(store.ptr(), o) }).unwrap());
    assert_eq!(sets[0]["set_id"], set_id.as_str());

    let id = c(&set_id);
    let report = json(
        &call(|o| unsafe { continuum_store_verify_set(store.ptr(), id.as_ptr(), o) }).unwrap(),
    );
    assert_eq!(report["ok"], true);
    assert_eq!(report["set_id"], set_id.as_str());

    let missing = c("20200101T000000Z-0000");
    expect_failure(
        call(|o| unsafe { continuum_store_verify_set(store.ptr(), missing.as_ptr(), o) }),
        ContinuumStatus::NotFound,
        "not found",
    );
    let hostile = c("../../etc");
    assert!(
        call(|o| unsafe { continuum_store_verify_set(store.ptr(), hostile.as_ptr(), o) }).is_err()
    );

    let keep = c(r#"{"keep_last": 1, "dry_run": true}"#);
    let pruned =
        json(&call(|o| unsafe { continuum_store_prune(store.ptr(), keep.as_ptr(), o) }).unwrap());
    assert_eq!(pruned["dry_run"], true);
    assert_eq!(pruned["decisions"][0]["keep"], true);

    // An empty policy, a typo, a bad reason.
    expect_failure(
        call(|o| unsafe { continuum_store_prune(store.ptr(), ptr::null(), o) }),
        ContinuumStatus::InvalidInput,
        "retention policy",
    );
    let typo = c(r#"{"keep_lats": 1}"#);
    expect_failure(
        call(|o| unsafe { continuum_store_prune(store.ptr(), typo.as_ptr(), o) }),
        ContinuumStatus::InvalidArgument,
        "keep_lats",
    );
    let reason = c(r#"{"keep_last": 1, "reason": "weekly"}"#);
    expect_failure(
        call(|o| unsafe { continuum_store_prune(store.ptr(), reason.as_ptr(), o) }),
        ContinuumStatus::InvalidInput,
        "reason",
    );
}

#[test]
fn set_creation_refuses_bad_input() {
    let store = TempStore::new();
    let missing = c(r#"["/nonexistent/file"]"#);
    expect_failure(
        call(|o| unsafe {
            continuum_sets_create_from_files(store.ptr(), missing.as_ptr(), ptr::null(), o)
        }),
        ContinuumStatus::NotFound,
        "/nonexistent/file",
    );
    let empty = c("[]");
    expect_failure(
        call(|o| unsafe {
            continuum_sets_create_from_files(store.ptr(), empty.as_ptr(), ptr::null(), o)
        }),
        ContinuumStatus::InvalidInput,
        "",
    );
    let not_a_list = c(r#"{"a": 1}"#);
    expect_failure(
        call(|o| unsafe {
            continuum_sets_create_from_files(store.ptr(), not_a_list.as_ptr(), ptr::null(), o)
        }),
        ContinuumStatus::InvalidArgument,
        "`paths_json`",
    );
    let bad_kind = c(r#"{"kind": "gizmo"}"#);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    write(&file, "x");
    let paths = c(&serde_json::to_string(&[&file]).unwrap());
    expect_failure(
        call(|o| unsafe {
            continuum_sets_create_from_files(store.ptr(), paths.as_ptr(), bad_kind.as_ptr(), o)
        }),
        ContinuumStatus::InvalidInput,
        "gizmo",
    );
    let bad_recipient = c(r#"{"encrypt_to": ["AGE-SECRET-KEY-1QQQQ"]}"#);
    let failed = expect_failure(
        call(|o| unsafe {
            continuum_sets_create_from_files(store.ptr(), paths.as_ptr(), bad_recipient.as_ptr(), o)
        }),
        ContinuumStatus::InvalidInput,
        "recipient",
    );
    assert!(
        !failed.message.contains("QQQQ"),
        "a secret key is never repeated"
    );
}

// ---------------------------------------------------------------------------------------
// Policy.

#[test]
fn policy_check_format_and_parse() {
    let text = c(QUOTAS);
    let name = c("quotas.pol");
    let warnings = json(
        &call(|o| unsafe { continuum_policy_check(text.as_ptr(), name.as_ptr(), o) }).unwrap(),
    );
    assert_eq!(warnings, Value::Array(vec![]));
    let formatted =
        call(|o| unsafe { continuum_policy_format(text.as_ptr(), ptr::null(), o) }).unwrap();
    assert!(formatted.contains("total.memory 2GB"));
    let model = json(
        &call(|o| unsafe { continuum_policy_parse(text.as_ptr(), name.as_ptr(), o) }).unwrap(),
    );
    assert_eq!(model["name"], "quotas.pol");
    assert_eq!(model["policies"][0]["realm"], "quota::/sandbox");

    let broken = c("on quota::/x {\n  { total.memory 2GB\n");
    for f in [
        continuum_policy_check,
        continuum_policy_format,
        continuum_policy_parse,
    ] {
        let failed = expect_failure(
            call(|o| unsafe { f(broken.as_ptr(), name.as_ptr(), o) }),
            ContinuumStatus::Policy,
            "quotas.pol",
        );
        let diagnostics = failed.json["diagnostics"].as_array().unwrap();
        assert!(!diagnostics.is_empty());
        assert_eq!(diagnostics[0]["file"], "quotas.pol");
        assert!(diagnostics[0]["line"].as_u64().unwrap() >= 1);
        assert_eq!(failed.json["kind"], "policy");
    }
}

#[test]
fn policy_export_and_import_round_trip() {
    let root = tempfile::tempdir().unwrap();
    let from = root.path().join("from");
    let to = root.path().join("to");
    let out = root.path().join("out");
    write(&from.join("policy/quotas.pol"), QUOTAS);
    write(
        &from.join("policy/root.pol"),
        "on job::/sandbox/tom { { permit read } }\n",
    );
    let (from_c, to_c, out_c) = (cpath(&from), cpath(&to), cpath(&out));

    let report = json(
        &call(|o| unsafe {
            continuum_policy_export(from_c.as_ptr(), out_c.as_ptr(), ptr::null(), false, o)
        })
        .unwrap(),
    );
    assert_eq!(report["files"].as_array().unwrap().len(), 2);
    // Again without force: nothing is overwritten.
    expect_failure(
        call(|o| unsafe {
            continuum_policy_export(from_c.as_ptr(), out_c.as_ptr(), ptr::null(), false, o)
        }),
        ContinuumStatus::Conflict,
        "already exists",
    );
    let one = c("quotas");
    call(|o| unsafe {
        continuum_policy_export(from_c.as_ptr(), out_c.as_ptr(), one.as_ptr(), true, o)
    })
    .unwrap();
    let unknown = c("nosuch");
    expect_failure(
        call(|o| unsafe {
            continuum_policy_export(from_c.as_ptr(), out_c.as_ptr(), unknown.as_ptr(), true, o)
        }),
        ContinuumStatus::NotFound,
        "nosuch",
    );

    let patterns = c(&serde_json::to_string(&[out.join("*.pol")]).unwrap());
    let dry = c(r#"{"dry_run": true}"#);
    let planned = json(
        &call(|o| unsafe {
            continuum_policy_import(to_c.as_ptr(), patterns.as_ptr(), dry.as_ptr(), o)
        })
        .unwrap(),
    );
    assert_eq!(planned["dry_run"], true);
    assert!(!to.join("policy/quotas.pol").exists());
    let imported = json(
        &call(|o| unsafe {
            continuum_policy_import(to_c.as_ptr(), patterns.as_ptr(), ptr::null(), o)
        })
        .unwrap(),
    );
    let outcomes: Vec<&str> = imported["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["created", "created"]);
    assert_eq!(
        fs::read_to_string(to.join("policy/quotas.pol")).unwrap(),
        fs::read_to_string(from.join("policy/quotas.pol")).unwrap()
    );

    // A pattern matching nothing, an option that does not exist, a broken document.
    let nothing = c(r#"["/nonexistent/*.pol"]"#);
    expect_failure(
        call(|o| unsafe {
            continuum_policy_import(to_c.as_ptr(), nothing.as_ptr(), ptr::null(), o)
        }),
        ContinuumStatus::InvalidInput,
        "/nonexistent",
    );
    let typo = c(r#"{"dryrun": true}"#);
    expect_failure(
        call(|o| unsafe {
            continuum_policy_import(to_c.as_ptr(), patterns.as_ptr(), typo.as_ptr(), o)
        }),
        ContinuumStatus::InvalidArgument,
        "dryrun",
    );
    let bad = root.path().join("bad/bad.pol");
    write(&bad, "on quota::/x { { total.memory\n");
    let bad_pattern = c(&serde_json::to_string(&[&bad]).unwrap());
    expect_failure(
        call(|o| unsafe {
            continuum_policy_import(to_c.as_ptr(), bad_pattern.as_ptr(), ptr::null(), o)
        }),
        ContinuumStatus::Policy,
        "bad",
    );
}

// ---------------------------------------------------------------------------------------
// Job data.

#[test]
fn cntmp_export_inspect_verify_and_import_round_trip() {
    let root = tempfile::tempdir().unwrap();
    let from = root.path().join("from");
    let to = root.path().join("to");
    let layer = root.path().join("layer.tar.gz");
    fs::write(&layer, b"not really a tarball, but bytes all the same").unwrap();
    let (from_c, to_c) = (cpath(&from), cpath(&to));
    let files = c(&serde_json::to_string(&[&layer]).unwrap());
    let options = c(r#"{"name": "tool", "provides": ["runtime.go"], "env": {"A": "1"}}"#);
    let package = json(
        &call(|o| unsafe {
            continuum_cntmp_package_from_files(from_c.as_ptr(), files.as_ptr(), options.as_ptr(), o)
        })
        .unwrap(),
    );
    assert_eq!(package["fqn"], "package::/apcera/pkg/packages::tool");
    expect_failure(
        call(|o| unsafe {
            continuum_cntmp_package_from_files(from_c.as_ptr(), files.as_ptr(), options.as_ptr(), o)
        }),
        ContinuumStatus::Conflict,
        "tool",
    );
    let listed = json(
        &call(|o| unsafe { continuum_cntmp_list_objects(from_c.as_ptr(), ptr::null(), o) })
            .unwrap(),
    );
    assert_eq!(
        listed,
        serde_json::json!(["package::/apcera/pkg/packages::tool"])
    );

    let file = root.path().join("all.cntmp");
    let file_c = cpath(&file);
    let all = c(r#"{"all": true}"#);
    let exported = json(
        &call(|o| unsafe {
            continuum_cntmp_export(from_c.as_ptr(), all.as_ptr(), file_c.as_ptr(), false, o)
        })
        .unwrap(),
    );
    assert_eq!(exported["resources"], 1);
    expect_failure(
        call(|o| unsafe {
            continuum_cntmp_export(from_c.as_ptr(), all.as_ptr(), file_c.as_ptr(), false, o)
        }),
        ContinuumStatus::Conflict,
        "already exists",
    );

    let inspection =
        json(&call(|o| unsafe { continuum_cntmp_inspect(file_c.as_ptr(), o) }).unwrap());
    assert_eq!(inspection["legacy"], false);
    assert_eq!(inspection["objects"][0]["kind"], "package");
    assert_eq!(
        inspection["objects"][0]["fqn"],
        "package::/apcera/pkg/packages::tool"
    );
    let verified = json(&call(|o| unsafe { continuum_cntmp_verify(file_c.as_ptr(), o) }).unwrap());
    assert!(verified["bytes_checked"].as_u64().unwrap() > 0);

    let cntmp_files = c(&serde_json::to_string(&[&file]).unwrap());
    let moved = c(r#"{"override_namespace": "/acme"}"#);
    let imported = json(
        &call(|o| unsafe {
            continuum_cntmp_import(to_c.as_ptr(), cntmp_files.as_ptr(), moved.as_ptr(), o)
        })
        .unwrap(),
    );
    assert_eq!(imported["objects"][0]["fqn"], "package::/acme::tool");
    assert_eq!(imported["objects"][0]["action"], "create");
    let kind = c("package");
    let listed = json(
        &call(|o| unsafe { continuum_cntmp_list_objects(to_c.as_ptr(), kind.as_ptr(), o) })
            .unwrap(),
    );
    assert_eq!(listed, serde_json::json!(["package::/acme::tool"]));
    // Again: a conflict, unless skipped.
    expect_failure(
        call(|o| unsafe {
            continuum_cntmp_import(to_c.as_ptr(), cntmp_files.as_ptr(), moved.as_ptr(), o)
        }),
        ContinuumStatus::Conflict,
        "tool",
    );
    let skip = c(r#"{"override_namespace": "/acme", "skip_existing": true}"#);
    call(|o| unsafe {
        continuum_cntmp_import(to_c.as_ptr(), cntmp_files.as_ptr(), skip.as_ptr(), o)
    })
    .unwrap();
}

#[test]
fn cntmp_functions_refuse_bad_input() {
    let root = tempfile::tempdir().unwrap();
    let cluster = cpath(&root.path().join("cluster"));
    let junk = root.path().join("junk.cntmp");
    fs::write(&junk, b"this is not a zip file at all").unwrap();
    let junk_c = cpath(&junk);
    let missing = c("/nonexistent/in.cntmp");
    expect_failure(
        call(|o| unsafe { continuum_cntmp_inspect(missing.as_ptr(), o) }),
        ContinuumStatus::NotFound,
        "/nonexistent/in.cntmp",
    );
    expect_failure(
        call(|o| unsafe { continuum_cntmp_inspect(junk_c.as_ptr(), o) }),
        ContinuumStatus::InvalidInput,
        "junk.cntmp",
    );
    expect_failure(
        call(|o| unsafe { continuum_cntmp_verify(junk_c.as_ptr(), o) }),
        ContinuumStatus::InvalidInput,
        "junk.cntmp",
    );
    let junk_list = c(&serde_json::to_string(&[&junk]).unwrap());
    expect_failure(
        call(|o| unsafe {
            continuum_cntmp_import(cluster.as_ptr(), junk_list.as_ptr(), ptr::null(), o)
        }),
        ContinuumStatus::InvalidInput,
        "junk.cntmp",
    );
    let bad_ns = c(r#"{"override_namespace": "no-slash"}"#);
    expect_failure(
        call(|o| unsafe {
            continuum_cntmp_import(cluster.as_ptr(), junk_list.as_ptr(), bad_ns.as_ptr(), o)
        }),
        ContinuumStatus::InvalidInput,
        "no-slash",
    );
    let out = cpath(&root.path().join("out.cntmp"));
    let nothing = c("{}");
    expect_failure(
        call(|o| unsafe {
            continuum_cntmp_export(cluster.as_ptr(), nothing.as_ptr(), out.as_ptr(), false, o)
        }),
        ContinuumStatus::InvalidInput,
        "nothing to export",
    );
    let unknown = c(r#"{"packages": ["nosuch"]}"#);
    expect_failure(
        call(|o| unsafe {
            continuum_cntmp_export(cluster.as_ptr(), unknown.as_ptr(), out.as_ptr(), false, o)
        }),
        ContinuumStatus::NotFound,
        "nosuch",
    );
    let gizmo = c("gizmo");
    expect_failure(
        call(|o| unsafe { continuum_cntmp_list_objects(cluster.as_ptr(), gizmo.as_ptr(), o) }),
        ContinuumStatus::InvalidInput,
        "gizmo",
    );
    let files = c(r#"["/nonexistent/layer"]"#);
    let no_name = c(r#"{"namespace": "/x"}"#);
    expect_failure(
        call(|o| unsafe {
            continuum_cntmp_package_from_files(
                cluster.as_ptr(),
                files.as_ptr(),
                no_name.as_ptr(),
                o,
            )
        }),
        ContinuumStatus::InvalidArgument,
        "name",
    );
    let named = c(r#"{"name": "tool"}"#);
    expect_failure(
        call(|o| unsafe {
            continuum_cntmp_package_from_files(cluster.as_ptr(), files.as_ptr(), named.as_ptr(), o)
        }),
        ContinuumStatus::NotFound,
        "/nonexistent/layer",
    );
    let bad_dep = c(r#"{"name": "tool", "provides": ["nodot"]}"#);
    expect_failure(
        call(|o| unsafe {
            continuum_cntmp_package_from_files(
                cluster.as_ptr(),
                files.as_ptr(),
                bad_dep.as_ptr(),
                o,
            )
        }),
        ContinuumStatus::InvalidInput,
        "nodot",
    );
}

// ---------------------------------------------------------------------------------------
// cluster.conf and the plan.

const CONF: &str = r#"
machines: {
  central: { hosts: ["10.0.0.11"], suitable_tags: ["component-database", "redis-server"] }
}
components: { component-database: 1, redis-server: 1 }
chef: { continuum: { cluster_name: abi-test,
  database_backups: { access_key: AKIAABITEST, secret_key: "abi/secret/key", endpoint: eu-west-1, bucket: backups }
} }
"#;

#[test]
fn conf_load_redacts_and_plan_explains() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("cluster.conf");
    write(&conf, CONF);
    let conf_c = cpath(&conf);
    let loaded = call(|o| unsafe { continuum_conf_load(conf_c.as_ptr(), o) }).unwrap();
    assert!(!loaded.contains("abi/secret/key"), "{loaded}");
    assert!(!loaded.contains("AKIAABITEST"), "{loaded}");
    assert_eq!(json(&loaded)["cluster_name"], "abi-test");

    let plan = json(
        &call(|o| unsafe { continuum_platform_plan(conf_c.as_ptr(), ptr::null(), o) }).unwrap(),
    );
    assert_eq!(plan["cluster_name"], "abi-test");
    let components: Vec<&str> = plan["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["component"].as_str().unwrap())
        .collect();
    assert!(components.contains(&"redis-server"), "{components:?}");
    let options = c(r#"{"with_job_data": true, "encrypted": true}"#);
    let plan = json(
        &call(|o| unsafe { continuum_platform_plan(conf_c.as_ptr(), options.as_ptr(), o) })
            .unwrap(),
    );
    assert_eq!(plan["encrypted"], true);

    let missing = c("/nonexistent/cluster.conf");
    expect_failure(
        call(|o| unsafe { continuum_conf_load(missing.as_ptr(), o) }),
        ContinuumStatus::NotFound,
        "/nonexistent/cluster.conf",
    );
    expect_failure(
        call(|o| unsafe { continuum_platform_plan(missing.as_ptr(), ptr::null(), o) }),
        ContinuumStatus::NotFound,
        "/nonexistent/cluster.conf",
    );
    let broken = dir.path().join("broken.conf");
    write(&broken, "machines: { central: { hosts: [\"a\" \n");
    let broken_c = cpath(&broken);
    expect_failure(
        call(|o| unsafe { continuum_conf_load(broken_c.as_ptr(), o) }),
        ContinuumStatus::InvalidInput,
        "broken.conf",
    );
    let typo = c(r#"{"with_jobdata": true}"#);
    expect_failure(
        call(|o| unsafe { continuum_platform_plan(conf_c.as_ptr(), typo.as_ptr(), o) }),
        ContinuumStatus::InvalidArgument,
        "with_jobdata",
    );
    let not_object = c("[1]");
    expect_failure(
        call(|o| unsafe { continuum_platform_plan(conf_c.as_ptr(), not_object.as_ptr(), o) }),
        ContinuumStatus::InvalidArgument,
        "must be a JSON object",
    );
}

// ---------------------------------------------------------------------------------------
// PostgreSQL.

/// A database with a few rows, dropped at the end with the copies a test restored.
struct Database {
    url: String,
    name: String,
    extra: Vec<String>,
}

impl Database {
    fn create(tag: &str) -> Self {
        let url = pg_url();
        let name = unique(&format!("cabi_{tag}")).replace('-', "_");
        pg_execute(&url, "postgres", &format!("CREATE DATABASE \"{name}\""));
        pg_execute(
            &url,
            &name,
            "CREATE TABLE items (id serial PRIMARY KEY, label text NOT NULL);
             INSERT INTO items (label) SELECT 'item-' || i FROM generate_series(1, 42) i;",
        );
        Self {
            url,
            name,
            extra: Vec::new(),
        }
    }

    fn copy_name(&mut self, suffix: &str) -> String {
        let name = format!("{}_{suffix}", self.name);
        self.extra.push(name.clone());
        name
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let Ok(target) = continuum_orchestrator::PgTarget::parse(&self.url) else {
            return;
        };
        for name in self.extra.iter().chain([&self.name]) {
            let _ = target.drop_database(name);
        }
    }
}

#[test]
fn database_backup_and_restore() {
    let mut db = Database::create("db");
    let store = TempStore::new();
    let dsn = c(&db.url);
    let databases = c(&serde_json::to_string(&[&db.name]).unwrap());
    let options = c(r#"{"with_globals": false, "reason": "deploy"}"#);
    let manifest = json(
        &call(|o| unsafe {
            continuum_db_backup(
                store.ptr(),
                dsn.as_ptr(),
                databases.as_ptr(),
                options.as_ptr(),
                o,
            )
        })
        .unwrap(),
    );
    assert_eq!(manifest["reason"], "deploy");
    let set_id = c(manifest["set_id"].as_str().unwrap());
    let name = c(&db.name);

    let copy = db.copy_name("copy");
    let dry = c(&format!(r#"{{"as_name": "{copy}", "dry_run": true}}"#));
    let plan = json(
        &call(|o| unsafe {
            continuum_db_restore(
                store.ptr(),
                set_id.as_ptr(),
                name.as_ptr(),
                dsn.as_ptr(),
                dry.as_ptr(),
                o,
            )
        })
        .unwrap(),
    );
    assert_eq!(plan["action"], "create");
    assert_eq!(plan["expected_rows"]["public.items"], 42);

    let real = c(&format!(r#"{{"as_name": "{copy}"}}"#));
    let report = json(
        &call(|o| unsafe {
            continuum_db_restore(
                store.ptr(),
                set_id.as_ptr(),
                name.as_ptr(),
                dsn.as_ptr(),
                real.as_ptr(),
                o,
            )
        })
        .unwrap(),
    );
    assert_eq!(report["target_database"], copy.as_str());
    assert_eq!(report["total_rows"], 42);

    // Into the same copy again: it holds data.
    expect_failure(
        call(|o| unsafe {
            continuum_db_restore(
                store.ptr(),
                set_id.as_ptr(),
                name.as_ptr(),
                dsn.as_ptr(),
                real.as_ptr(),
                o,
            )
        }),
        ContinuumStatus::Conflict,
        &copy,
    );
    // A database the set does not hold; a set that does not exist.
    let other = c("nosuchdb");
    expect_failure(
        call(|o| unsafe {
            continuum_db_restore(
                store.ptr(),
                set_id.as_ptr(),
                other.as_ptr(),
                dsn.as_ptr(),
                real.as_ptr(),
                o,
            )
        }),
        ContinuumStatus::NotFound,
        "nosuchdb",
    );
    let no_set = c("20200101T000000Z-0000");
    expect_failure(
        call(|o| unsafe {
            continuum_db_restore(
                store.ptr(),
                no_set.as_ptr(),
                name.as_ptr(),
                dsn.as_ptr(),
                real.as_ptr(),
                o,
            )
        }),
        ContinuumStatus::NotFound,
        "20200101T000000Z-0000",
    );
    let typo = c(r#"{"asname": "x"}"#);
    expect_failure(
        call(|o| unsafe {
            continuum_db_restore(
                store.ptr(),
                set_id.as_ptr(),
                name.as_ptr(),
                dsn.as_ptr(),
                typo.as_ptr(),
                o,
            )
        }),
        ContinuumStatus::InvalidArgument,
        "asname",
    );

    let listed = json(&call(|o| unsafe { continuum_db_list_databases(dsn.as_ptr(), o) }).unwrap());
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["name"] == db.name.as_str())
    );
}

#[test]
fn database_functions_refuse_bad_input() {
    let store = TempStore::new();
    let url = pg_url();
    let dsn = c(&url);
    let missing_db = c(r#"["cabi_no_such_database"]"#);
    let no_globals = c(r#"{"with_globals": false}"#);
    expect_failure(
        call(|o| unsafe {
            continuum_db_backup(
                store.ptr(),
                dsn.as_ptr(),
                missing_db.as_ptr(),
                no_globals.as_ptr(),
                o,
            )
        }),
        ContinuumStatus::Database,
        "cabi_no_such_database",
    );
    let sets = json(&call(|o| unsafe { continuum_store_list_sets(store.ptr(), o) }).unwrap());
    assert_eq!(sets, serde_json::json!([]), "a failed backup leaves no set");
    let none = c("[]");
    expect_failure(
        call(|o| unsafe {
            continuum_db_backup(store.ptr(), dsn.as_ptr(), none.as_ptr(), ptr::null(), o)
        }),
        ContinuumStatus::InvalidInput,
        "",
    );
    let typo = c(r#"{"with_global": false}"#);
    expect_failure(
        call(|o| unsafe {
            continuum_db_backup(
                store.ptr(),
                dsn.as_ptr(),
                missing_db.as_ptr(),
                typo.as_ptr(),
                o,
            )
        }),
        ContinuumStatus::InvalidArgument,
        "with_global",
    );
    let wrong_type = c(r#"{"parallel": "four"}"#);
    expect_failure(
        call(|o| unsafe {
            continuum_db_backup(
                store.ptr(),
                dsn.as_ptr(),
                missing_db.as_ptr(),
                wrong_type.as_ptr(),
                o,
            )
        }),
        ContinuumStatus::InvalidArgument,
        "options_json",
    );
    let bad_dsn = c("mysql://root@localhost/x");
    expect_failure(
        call(|o| unsafe { continuum_db_list_databases(bad_dsn.as_ptr(), o) }),
        ContinuumStatus::InvalidInput,
        "",
    );
    let with_password = c("postgresql://postgres:hunter2@127.0.0.1:1/postgres?connect_timeout=2");
    let failed = expect_failure(
        call(|o| unsafe { continuum_db_list_databases(with_password.as_ptr(), o) }),
        ContinuumStatus::Database,
        "",
    );
    assert!(!failed.message.contains("hunter2"), "{}", failed.message);
}

#[test]
fn platform_backup_and_restore_through_the_abi() {
    let mut db = Database::create("platform");
    let orchestrator = Database::create("orch");
    let store = TempStore::new();
    let root = tempfile::tempdir().unwrap();
    let cluster = root.path().join("cluster");
    write(&cluster.join("cluster.conf"), CONF);
    write(&cluster.join("policy/quotas.pol"), QUOTAS);
    write(
        &cluster.join("terraform/main.tf"),
        "resource \"x\" \"y\" {}\n",
    );
    let (conf_c, cluster_c, dsn) = (
        cpath(&cluster.join("cluster.conf")),
        cpath(&cluster),
        c(&db.url),
    );
    let options = c(&format!(
        r#"{{"databases": {{"component-database": "{}", "orchestrator": "{}"}}, "with_globals": false, "parallel": 2}}"#,
        db.name, orchestrator.name
    ));
    let report = json(
        &call(|o| unsafe {
            continuum_platform_backup(
                store.ptr(),
                conf_c.as_ptr(),
                cluster_c.as_ptr(),
                dsn.as_ptr(),
                options.as_ptr(),
                o,
            )
        })
        .unwrap(),
    );
    let set_id = c(report["set_id"].as_str().unwrap());
    assert!(report["redacted_secrets"].as_array().unwrap().len() >= 2);

    let copy = db.copy_name("restored");
    let orchestrator_copy = db.copy_name("orch_restored");
    let target = root.path().join("restored");
    let target_c = cpath(&target);
    let databases = format!(
        r#"{{"{}": "{copy}", "{}": "{orchestrator_copy}"}}"#,
        db.name, orchestrator.name
    );
    let restore_options = c(&format!(r#"{{"databases": {databases}, "dry_run": true}}"#));
    let plan = json(
        &call(|o| unsafe {
            continuum_platform_restore(
                store.ptr(),
                set_id.as_ptr(),
                target_c.as_ptr(),
                dsn.as_ptr(),
                restore_options.as_ptr(),
                o,
            )
        })
        .unwrap(),
    );
    assert!(
        plan["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["action"] == "create"),
        "{plan}"
    );
    assert!(!target.exists() || fs::read_dir(&target).unwrap().next().is_none());

    let restore_options = c(&format!(r#"{{"databases": {databases}}}"#));
    let restored = json(
        &call(|o| unsafe {
            continuum_platform_restore(
                store.ptr(),
                set_id.as_ptr(),
                target_c.as_ptr(),
                dsn.as_ptr(),
                restore_options.as_ptr(),
                o,
            )
        })
        .unwrap(),
    );
    assert!(!restored["items"].as_array().unwrap().is_empty());
    assert_eq!(
        fs::read_to_string(target.join("policy/quotas.pol")).unwrap(),
        QUOTAS
    );

    // Files only, with no server: `dsn` NULL is fine when no database is restored.
    let elsewhere = cpath(&root.path().join("files-only"));
    let files_only = c(r#"{"only": ["installation_files", "policy"]}"#);
    call(|o| unsafe {
        continuum_platform_restore(
            store.ptr(),
            set_id.as_ptr(),
            elsewhere.as_ptr(),
            ptr::null(),
            files_only.as_ptr(),
            o,
        )
    })
    .unwrap();
    // The same again into the restored folder with other content: conflicts.
    write(
        &target.join("policy/quotas.pol"),
        "on quota::/x { { max.instances 1 } }\n",
    );
    let policy_only = c(r#"{"only": ["policy"]}"#);
    expect_failure(
        call(|o| unsafe {
            continuum_platform_restore(
                store.ptr(),
                set_id.as_ptr(),
                target_c.as_ptr(),
                ptr::null(),
                policy_only.as_ptr(),
                o,
            )
        }),
        ContinuumStatus::Conflict,
        "quotas.pol",
    );
    let bad_kind = c(r#"{"only": ["everything"]}"#);
    expect_failure(
        call(|o| unsafe {
            continuum_platform_restore(
                store.ptr(),
                set_id.as_ptr(),
                target_c.as_ptr(),
                ptr::null(),
                bad_kind.as_ptr(),
                o,
            )
        }),
        ContinuumStatus::InvalidArgument,
        "everything",
    );
    let no_identity = c(r#"{"only": ["policy"], "identity": "/nonexistent/key.txt"}"#);
    expect_failure(
        call(|o| unsafe {
            continuum_platform_restore(
                store.ptr(),
                set_id.as_ptr(),
                target_c.as_ptr(),
                ptr::null(),
                no_identity.as_ptr(),
                o,
            )
        }),
        ContinuumStatus::NotFound,
        "/nonexistent/key.txt",
    );
    let bad_recipient = c(r#"{"encrypt_to": ["age1notakey"]}"#);
    expect_failure(
        call(|o| unsafe {
            continuum_platform_backup(
                store.ptr(),
                conf_c.as_ptr(),
                cluster_c.as_ptr(),
                dsn.as_ptr(),
                bad_recipient.as_ptr(),
                o,
            )
        }),
        ContinuumStatus::InvalidInput,
        "recipient",
    );
    let missing_conf = c("/nonexistent/cluster.conf");
    expect_failure(
        call(|o| unsafe {
            continuum_platform_backup(
                store.ptr(),
                missing_conf.as_ptr(),
                cluster_c.as_ptr(),
                dsn.as_ptr(),
                ptr::null(),
                o,
            )
        }),
        ContinuumStatus::NotFound,
        "/nonexistent/cluster.conf",
    );
}
