//! The edge between C and Rust: arguments read from raw pointers, results handed out as
//! owned C strings, failures and panics turned into a status and the thread's last error.
//!
//! The conversions of the caller's pointers are here (the store handle's is in `store.rs`,
//! the two free functions' next to them): one unsafe operation per block, each relying on
//! the contract the header states for the argument.

use std::any::Any;
use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::ptr;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::status::{ContinuumStatus, Failure};

/// The last failure of a call on this thread, kept as the C strings handed out for it.
struct LastError {
    message: CString,
    json: CString,
}

thread_local! {
    static LAST_ERROR: RefCell<Option<LastError>> = const { RefCell::new(None) };
}

/// A C string of `text`; a NUL inside (which C cannot hold) is written `\0`.
fn c_string_lossy(text: &str) -> CString {
    CString::new(text.replace('\0', "\\0")).unwrap_or_default()
}

fn set_last_error(failure: &Failure) {
    let json = serde_json::json!({
        "status": failure.status as i32,
        "kind": failure.status.name(),
        "message": failure.message,
        "diagnostics": failure.diagnostics,
    });
    let last = LastError {
        message: c_string_lossy(&failure.message),
        json: c_string_lossy(&json.to_string()),
    };
    LAST_ERROR.with_borrow_mut(|slot| *slot = Some(last));
}

fn clear_last_error() {
    LAST_ERROR.with_borrow_mut(|slot| *slot = None);
}

/// The thread's last error message, or `NULL`.
pub(crate) fn last_error_message() -> *const c_char {
    LAST_ERROR.with_borrow(|slot| slot.as_ref().map_or(ptr::null(), |e| e.message.as_ptr()))
}

/// The thread's last error as JSON, or `NULL`.
pub(crate) fn last_error_json() -> *const c_char {
    LAST_ERROR.with_borrow(|slot| slot.as_ref().map_or(ptr::null(), |e| e.json.as_ptr()))
}

/// What a panic said, for the message of the `Panic` status.
fn panic_message(payload: &(dyn Any + Send)) -> String {
    let said = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_string());
    format!("internal error (a bug, please report it): {said}")
}

/// Runs `f`, turning a panic into a `Panic` failure: nothing unwinds into C.
pub(crate) fn guarded<T>(f: impl FnOnce() -> Result<T, Failure>) -> Result<T, Failure> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => Err(Failure::new(
            ContinuumStatus::Panic,
            panic_message(payload.as_ref()),
        )),
    }
}

/// Runs one call of the ABI: clears the thread's last error, runs `body` without letting a
/// panic escape, and turns its failure into a status and the thread's last error.
pub(crate) fn run(body: impl FnOnce() -> Result<(), Failure>) -> ContinuumStatus {
    clear_last_error();
    match guarded(body) {
        Ok(()) => ContinuumStatus::Ok,
        Err(failure) => {
            set_last_error(&failure);
            failure.status
        }
    }
}

/// An out-parameter of the ABI: where a result (`char *`, a handle) is written.
#[derive(Debug)]
pub(crate) struct Out<T> {
    ptr: *mut *mut T,
    name: &'static str,
}

impl<T> Out<T> {
    /// # Safety
    /// `ptr` is `NULL` or valid for writing a `*mut T` until the call returns.
    pub(crate) unsafe fn new(ptr: *mut *mut T, name: &'static str) -> Self {
        Self { ptr, name }
    }

    /// The slot, set to `NULL` so that it holds `NULL` whenever the call fails.
    fn slot(&mut self) -> Result<&mut *mut T, Failure> {
        // SAFETY: `Out::new`'s contract: NULL or valid for writes during the call.
        let slot = unsafe { self.ptr.as_mut() }
            .ok_or_else(|| Failure::argument(format!("`{}` is NULL", self.name)))?;
        *slot = ptr::null_mut();
        Ok(slot)
    }
}

/// Text handed to C: owned by the caller, freed with `continuum_string_free`.
pub(crate) fn into_c_string(text: String) -> Result<*mut c_char, Failure> {
    CString::new(text)
        .map(CString::into_raw)
        .map_err(|_| Failure::input("the result holds a NUL byte, which a C string cannot"))
}

/// Runs a call whose result is a value handed over as a raw pointer (a handle), written to
/// the out-parameter only once everything succeeded.
pub(crate) fn run_out<T>(
    mut out: Out<T>,
    body: impl FnOnce() -> Result<*mut T, Failure>,
) -> ContinuumStatus {
    run(|| {
        // The slot first: a call whose result cannot be handed back does nothing.
        let slot = out.slot()?;
        *slot = body()?;
        Ok(())
    })
}

/// Runs a call whose result is text.
pub(crate) fn run_text(
    out: Out<c_char>,
    body: impl FnOnce() -> Result<String, Failure>,
) -> ContinuumStatus {
    run_out(out, || into_c_string(body()?))
}

/// Runs a call whose result is written as JSON.
pub(crate) fn run_json<T: Serialize>(
    out: Out<c_char>,
    body: impl FnOnce() -> Result<T, Failure>,
) -> ContinuumStatus {
    run_text(out, || {
        let value = body()?;
        serde_json::to_string(&value)
            .map_err(|e| Failure::new(ContinuumStatus::Other, format!("cannot write JSON: {e}")))
    })
}

/// A required text argument.
///
/// # Safety
/// `ptr` is `NULL` or a NUL-terminated string that stays valid and unchanged during the call.
pub(crate) unsafe fn text<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, Failure> {
    // SAFETY: forwarded from this function's contract.
    unsafe { optional_text(ptr, name) }?
        .ok_or_else(|| Failure::argument(format!("`{name}` is NULL")))
}

/// An optional text argument: `NULL` is `None`.
///
/// # Safety
/// `ptr` is `NULL` or a NUL-terminated string that stays valid and unchanged during the call.
pub(crate) unsafe fn optional_text<'a>(
    ptr: *const c_char,
    name: &str,
) -> Result<Option<&'a str>, Failure> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: `ptr` is not NULL, and the caller guarantees a NUL-terminated string that
    // outlives the call.
    let c = unsafe { CStr::from_ptr(ptr) };
    c.to_str()
        .map(Some)
        .map_err(|e| Failure::argument(format!("`{name}` is not valid UTF-8: {e}")))
}

/// A required path argument (UTF-8 text, as every string of the ABI).
///
/// # Safety
/// As [`text`].
pub(crate) unsafe fn path(ptr: *const c_char, name: &str) -> Result<PathBuf, Failure> {
    // SAFETY: forwarded from this function's contract.
    unsafe { text(ptr, name) }.map(PathBuf::from)
}

/// A JSON argument parsed into `T`; malformed JSON or the wrong shape is an invalid argument.
pub(crate) fn parse_json<T: DeserializeOwned>(json: &str, name: &str) -> Result<T, Failure> {
    serde_json::from_str(json).map_err(|e| Failure::argument(format!("`{name}`: {e}")))
}

/// An optional JSON argument: `NULL` gives `T::default()`.
///
/// # Safety
/// As [`text`].
pub(crate) unsafe fn json_or_default<T: DeserializeOwned + Default>(
    ptr: *const c_char,
    name: &str,
) -> Result<T, Failure> {
    // SAFETY: forwarded from this function's contract.
    match unsafe { optional_text(ptr, name) }? {
        Some(json) => parse_json(json, name),
        None => Ok(T::default()),
    }
}

/// The options object of a call: `NULL` is `{}`; anything but an object is refused.
///
/// # Safety
/// As [`text`].
pub(crate) unsafe fn options_object(
    ptr: *const c_char,
    name: &str,
) -> Result<Map<String, Value>, Failure> {
    // SAFETY: forwarded from this function's contract.
    match unsafe { optional_text(ptr, name) }? {
        None => Ok(Map::new()),
        Some(json) => match parse_json::<Value>(json, name)? {
            Value::Object(map) => Ok(map),
            other => Err(Failure::argument(format!(
                "`{name}` must be a JSON object, not {}",
                json_type(&other)
            ))),
        },
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Takes `key` out of an options object, parsed; absent or `null` is `None`.
pub(crate) fn take_option<T: DeserializeOwned>(
    options: &mut Map<String, Value>,
    key: &str,
    name: &str,
) -> Result<Option<T>, Failure> {
    match options.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => serde_json::from_value(value)
            .map(Some)
            .map_err(|e| Failure::argument(format!("`{name}`: option `{key}`: {e}"))),
    }
}

/// A library options struct from what is left of an options object. The library structs
/// take defaults for what is missing and ignore what they do not know; a C caller's typo
/// must not pass silently, so every key given has to come back when the struct is written
/// out again.
pub(crate) fn library_options<T: DeserializeOwned + Serialize>(
    options: Map<String, Value>,
    name: &str,
) -> Result<T, Failure> {
    let given: Vec<String> = options.keys().cloned().collect();
    let parsed: T = serde_json::from_value(Value::Object(options))
        .map_err(|e| Failure::argument(format!("`{name}`: {e}")))?;
    let known = match serde_json::to_value(&parsed) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    let unknown: Vec<String> = given
        .into_iter()
        .filter(|k| !known.contains_key(k))
        .map(|k| format!("`{k}`"))
        .collect();
    if !unknown.is_empty() {
        let mut expected: Vec<&str> = known.keys().map(String::as_str).collect();
        expected.sort_unstable();
        return Err(Failure::argument(format!(
            "`{name}`: unknown option {}; expected some of {}",
            unknown.join(", "),
            expected.join(", ")
        )));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, serde::Deserialize, Serialize, PartialEq)]
    #[serde(default)]
    struct Opts {
        force: bool,
        name: Option<String>,
    }

    fn object(json: &str) -> Map<String, Value> {
        match serde_json::from_str(json).unwrap() {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    #[test]
    fn library_options_refuse_unknown_keys() {
        let ok: Opts = library_options(object(r#"{"force": true}"#), "options_json").unwrap();
        assert!(ok.force);
        let err =
            library_options::<Opts>(object(r#"{"forse": true}"#), "options_json").unwrap_err();
        assert_eq!(err.status, ContinuumStatus::InvalidArgument);
        assert!(err.message.contains("`forse`"), "{}", err.message);
        assert!(err.message.contains("force, name"), "{}", err.message);
        let err =
            library_options::<Opts>(object(r#"{"force": "yes"}"#), "options_json").unwrap_err();
        assert_eq!(err.status, ContinuumStatus::InvalidArgument);
    }

    #[test]
    fn a_panic_becomes_a_status_and_a_message() {
        let status = run(|| -> Result<(), Failure> { std::panic::panic_any("boom") });
        assert_eq!(status, ContinuumStatus::Panic);
        // SAFETY: the pointer is the thread's last error, alive until the next call.
        let message = unsafe { CStr::from_ptr(last_error_message()) };
        assert!(message.to_str().unwrap().contains("boom"));
        assert_eq!(run(|| Ok(())), ContinuumStatus::Ok);
        assert!(last_error_message().is_null());
        assert!(last_error_json().is_null());
    }

    #[test]
    fn nul_bytes_in_messages_are_escaped() {
        assert_eq!(c_string_lossy("a\0b").to_str().unwrap(), "a\\0b");
    }
}
