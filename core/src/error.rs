//! The one error type of `continuum-core`.

use std::path::PathBuf;

/// The result of every fallible operation in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the shared core.
///
/// Messages are lowercase, name the file, object or entry concerned, and never carry a
/// secret: store errors are rendered from the backend's message, which holds no credentials.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A fully qualified name could not be parsed.
    #[error("invalid FQN `{input}` at column {column}: {reason}")]
    InvalidFqn {
        /// The text as given.
        input: String,
        /// 1-based character column of the problem.
        column: usize,
        /// What was expected.
        reason: String,
    },
    /// A digest could not be parsed.
    #[error("invalid digest `{input}`: {reason}")]
    InvalidDigest {
        /// The text as given.
        input: String,
        /// What was expected.
        reason: &'static str,
    },
    /// An archive member path or object key is unsafe or malformed.
    #[error("unsafe path `{path}`: {reason}")]
    UnsafePath {
        /// The path as found (control characters escaped).
        path: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// An entry or an archive exceeds a configured limit.
    #[error("`{entry}` exceeds the limit of {limit} {unit}")]
    LimitExceeded {
        /// The entry or archive concerned.
        entry: String,
        /// The limit that was exceeded.
        limit: u64,
        /// What the limit counts (`bytes`, `entries`).
        unit: &'static str,
    },
    /// Data does not match what was recorded for it.
    #[error("`{entry}` is corrupt: expected {expected}, found {actual}")]
    Corrupt {
        /// The entry, artifact or object concerned.
        entry: String,
        /// What was recorded.
        expected: String,
        /// What was found.
        actual: String,
    },
    /// A document declares a format version this build does not read.
    #[error("`{path}` has format version {found}, this build reads version {supported}")]
    UnsupportedVersion {
        /// The file or object concerned.
        path: String,
        /// The version found.
        found: u64,
        /// The version this build reads.
        supported: u64,
    },
    /// A JSON document is malformed or does not have the expected shape.
    #[error("`{path}` line {line} column {column}: {message}")]
    InvalidDocument {
        /// The file or object concerned.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser expected.
        message: String,
    },
    /// An object does not exist in a store.
    #[error("`{key}` not found in store `{store}`")]
    NotFound {
        /// The object key.
        key: String,
        /// The store, as its URL.
        store: String,
    },
    /// An object exists already and stores never overwrite.
    #[error("`{key}` already exists in store `{store}`; objects are never overwritten")]
    AlreadyExists {
        /// The object key.
        key: String,
        /// The store, as its URL.
        store: String,
    },
    /// A file exists already and was not to be replaced.
    #[error("`{}` already exists; nothing was overwritten (use force to replace it)", path.display())]
    FileExists {
        /// The file.
        path: PathBuf,
    },
    /// A backup set does not exist (or has no manifest, so was never committed).
    #[error("backup set `{set_id}` not found in store `{store}`")]
    SetNotFound {
        /// The set id asked for.
        set_id: String,
        /// The store, as its URL.
        store: String,
    },
    /// A store URL or its options are invalid.
    #[error("invalid store `{url}`: {reason}")]
    InvalidStoreUrl {
        /// The URL, without credentials.
        url: String,
        /// What was expected.
        reason: String,
    },
    /// A value supplied by the caller is invalid.
    #[error("invalid {what} `{value}`: {reason}")]
    InvalidInput {
        /// What the value is (`artifact name`, `set id` …).
        what: &'static str,
        /// The value.
        value: String,
        /// What was expected.
        reason: String,
    },
    /// Encrypted data is to be read and no identity was given.
    #[error("`{entry}` is encrypted: give an identity file (`AGE-SECRET-KEY-1…`) to read it")]
    IdentityRequired {
        /// The artifact or object concerned.
        entry: String,
    },
    /// Encrypted data cannot be decrypted: no identity given matches, or the data is damaged.
    #[error("cannot decrypt `{entry}`: {reason}")]
    Decrypt {
        /// The artifact or object concerned.
        entry: String,
        /// Why (never a key).
        reason: String,
    },
    /// A lease in a store stands in the way: another process holds the one this operation
    /// needs (a prune while another runs), or this process could not renew its own in time.
    #[error("store `{store}`: {message}")]
    Lease {
        /// The store, as its URL.
        store: String,
        /// What stands in the way, and who holds it.
        message: String,
    },
    /// The store backend failed.
    #[error("store `{store}`: {message}")]
    Store {
        /// The store, as its URL.
        store: String,
        /// The backend's message.
        message: String,
    },
    /// A file-system or stream operation failed.
    #[error("{action} `{}`: {source}", path.display())]
    Io {
        /// What was being done (`read`, `create`, `rename` …).
        action: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// Wraps an I/O error with the action and the path it concerned.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// Builds an [`Error::InvalidDocument`] from a serde_json error.
    pub fn json(path: impl Into<String>, err: &serde_json::Error) -> Self {
        let full = err.to_string();
        // serde_json appends " at line L column C"; we carry those as fields instead.
        let message = match full.rfind(" at line ") {
            Some(idx) => full.get(..idx).unwrap_or(&full),
            None => &full,
        };
        // serde_json repeats unknown field names and variants as written: a hostile document
        // could put an escape sequence or megabytes there.
        let mut message = printable(message);
        if let Some((cut, _)) = message.char_indices().nth(MAX_JSON_MESSAGE) {
            message.truncate(cut);
            message.push('…');
        }
        Self::InvalidDocument {
            path: path.into(),
            line: err.line(),
            column: err.column(),
            message,
        }
    }
}

/// The longest message [`Error::json`] keeps, in characters.
const MAX_JSON_MESSAGE: usize = 400;

/// Escapes control characters so a hostile name cannot rewrite a terminal line.
pub(crate) fn printable(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// Recovers one of our errors that travelled inside an `io::Error` (a reader in a chain
/// can only fail with `io::Error`); any other error is given back unchanged.
pub fn from_io(e: std::io::Error) -> std::result::Result<Error, std::io::Error> {
    if !e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
        return Err(e);
    }
    let kind = e.kind();
    match e.into_inner().map(|inner| inner.downcast::<Error>()) {
        Some(Ok(ours)) => Ok(*ours),
        _ => Err(std::io::Error::from(kind)),
    }
}
