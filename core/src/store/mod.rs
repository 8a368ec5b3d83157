//! Stores: flat namespaces of immutable objects where backups live.
//!
//! Two backends share one small blocking trait: [`LocalStore`] (a folder, the embedded
//! default) and [`S3Store`] (S3 and S3-compatible servers). A store never overwrites an
//! object: `put` to an existing key fails with [`Error::AlreadyExists`].

mod lease;
mod local;
mod s3;
mod url;

use std::fmt;
use std::io::Read;
use std::sync::Arc;

use jiff::Timestamp;
use serde::Serialize;

use crate::archive::MemberPath;
use crate::digest::Digest;
use crate::error::{Error, Result, printable};

pub use self::lease::{
    DEFAULT_LEASE_DURATION, LEASE_FORMAT_VERSION, LeaseDocument, LeaseHolder, LeaseStatus,
    PRUNE_LOCK_PREFIX, ProcessIdentity,
};
pub(crate) use self::lease::{
    HeldLease, LeaseState, lease_status, read_lease, take_exclusive, while_held,
};
pub use self::local::LocalStore;
pub use self::s3::{S3Options, S3Store, SHA256_METADATA, Secret};
pub use self::url::{StoreOptions, open_store};

use crate::fsutil::TEMP_MARKER;

/// The key of an object: a [`MemberPath`] whose segments never start with the temporary marker.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ObjectKey(MemberPath);

impl ObjectKey {
    /// Parses and checks a key.
    pub fn parse(text: &str) -> Result<Self> {
        let path = MemberPath::parse(text)?;
        if path.as_str().split('/').any(|s| s.starts_with(TEMP_MARKER)) {
            return Err(Error::UnsafePath {
                path: printable(text),
                reason: "names starting with `.continuum-tmp-` are reserved",
            });
        }
        Ok(Self(path))
    }

    /// The text form.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// As a member path.
    pub fn as_path(&self) -> &MemberPath {
        &self.0
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<MemberPath> for ObjectKey {
    fn from(p: MemberPath) -> Self {
        Self(p)
    }
}

/// What a store knows of an object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ObjectMeta {
    /// The key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// When it was written.
    pub last_modified: Timestamp,
    /// The SHA-256 recorded with the object, where the backend keeps one.
    pub sha256: Option<Digest>,
}

/// Options of one `put`.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct PutOptions {
    /// The SHA-256 the content must have. The store checks it while streaming and refuses
    /// to make the object visible when it differs. S3 keeps it as object metadata.
    pub expected_sha256: Option<Digest>,
    /// The object need not survive a power cut (a lease object: its writer would not
    /// either). A folder store then writes it whole without syncing, so that the put is
    /// quick and its temporary file is there for as short a time as can be. For small
    /// objects only: the content is read whole into memory (at most
    /// [`MAX_VOLATILE_SIZE`] bytes). Still atomic, and still never overwrites.
    pub volatile: bool,
}

/// The largest object put with [`PutOptions::volatile`].
pub const MAX_VOLATILE_SIZE: u64 = 1 << 20;

impl PutOptions {
    /// Options that expect the content to have `digest`.
    pub fn expecting(digest: Digest) -> Self {
        Self {
            expected_sha256: Some(digest),
            volatile: false,
        }
    }
}

/// What a `put` wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PutResult {
    /// Bytes written.
    pub size: u64,
    /// Their SHA-256, computed while streaming.
    pub sha256: Digest,
}

/// A flat namespace of immutable objects.
///
/// Every method blocks; streaming in both directions keeps memory bounded whatever the size
/// of an object.
pub trait Store: Send + Sync + fmt::Debug {
    /// The store's URL, without credentials.
    fn url(&self) -> String;

    /// Streams `data` into a new object at `key`. The object becomes visible only once
    /// complete; a failed or interrupted put leaves nothing visible. Refuses an existing key.
    fn put(&self, key: &ObjectKey, data: &mut dyn Read, options: &PutOptions) -> Result<PutResult>;

    /// Streams an object's content.
    fn get(&self, key: &ObjectKey) -> Result<Box<dyn Read + Send>>;

    /// An object's metadata, or `None` when it does not exist.
    fn head(&self, key: &ObjectKey) -> Result<Option<ObjectMeta>>;

    /// Every object whose key starts with `prefix` (a string prefix), sorted by key.
    fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>>;

    /// Deletes an object; deleting a missing object is not an error.
    fn delete(&self, key: &ObjectKey) -> Result<()>;

    /// What interrupted writes left in the store that is not an object: `list` never shows
    /// it, and nothing else removes it. A folder store's temporary files (a put killed
    /// before its link into place), staging folders, and the folders they left empty.
    /// [`prune`](crate::prune) removes those older than its grace period.
    ///
    /// The default, for backends whose writes leave nothing behind, is none. S3 keeps the
    /// parts of an interrupted multipart upload out of sight (and bills them); the S3 API
    /// `object_store` offers cannot list them, so they are left to the bucket's lifecycle
    /// rule `AbortIncompleteMultipartUpload` (a failed put, as opposed to a killed one,
    /// aborts its upload itself).
    fn temporaries(&self) -> Result<Vec<Temporary>> {
        Ok(Vec::new())
    }

    /// Removes one of [`Store::temporaries`]; one already gone is not an error. Refuses
    /// anything that is not a temporary of this store.
    fn remove_temporary(&self, temporary: &Temporary) -> Result<()> {
        Err(Error::InvalidInput {
            what: "temporary",
            value: temporary.path.clone(),
            reason: format!("the store {} keeps no temporaries", self.url()),
        })
    }
}

/// Something an interrupted write left in a store: never an object, invisible to
/// [`Store::list`]. See [`Store::temporaries`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Temporary {
    /// Where it is, relative to the store's root, `/`-separated.
    pub path: String,
    /// What it is.
    pub kind: TemporaryKind,
    /// Bytes it holds.
    pub size: u64,
    /// When it was last written (for a folder, the newest time in it).
    pub last_modified: Timestamp,
}

/// What kind of [`Temporary`] it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TemporaryKind {
    /// A file a put was writing before linking it into place (`.continuum-tmp-…`).
    File,
    /// A folder an unpack was filling before renaming it into place (`.continuum-unpack-…`).
    StagingFolder,
    /// A folder that holds no object and no temporary (only empty folders, if anything):
    /// made by a put killed before it wrote, or left by the removal of what it held.
    EmptyFolder,
}

impl fmt::Display for TemporaryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::File => "temporary file",
            Self::StagingFolder => "staging folder",
            Self::EmptyFolder => "empty folder",
        })
    }
}

/// A shared store handle.
pub type DynStore = Arc<dyn Store>;

/// Reads a whole (small) object, refusing one larger than `limit` bytes.
pub fn get_bytes(store: &dyn Store, key: &ObjectKey, limit: u64) -> Result<Vec<u8>> {
    let reader = store.get(key)?;
    let mut out = Vec::new();
    let mut limited = crate::archive::LimitedReader::new(reader, limit, key.as_str());
    limited
        .read_to_end(&mut out)
        .map_err(|e| crate::store::io_error(store, key, e))?;
    Ok(out)
}

/// Maps an I/O error met while streaming an object, keeping our own errors intact.
pub(crate) fn io_error(store: &dyn Store, key: &ObjectKey, e: std::io::Error) -> Error {
    crate::error::from_io(e).unwrap_or_else(|e| Error::Store {
        store: store.url(),
        message: format!("`{key}`: {e}"),
    })
}
