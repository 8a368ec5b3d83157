#![doc = include_str!("../README.md")]

mod archive;
mod crypt;
mod digest;
mod error;
mod fqn;
mod fsutil;
mod manifest;
mod retention;
mod sets;
mod store;

pub use crate::archive::{
    Compression, LimitedReader, Limits, MAX_PATH_LEN, MAX_TAR_HEADER_BYTES, MemberPath,
    TarHeaderBudget, TarHeaderGuard, UnpackReport, decompress, guard_tar_headers, is_tar,
    unpack_tar,
};
pub use crate::crypt::{
    DecryptingReader, EncryptingReader, Identities, Recipients, generate_identity,
};
pub use crate::digest::{
    Digest, Hasher, HashingReader, HashingWriter, ParallelHasher, copy_hashed, digest_reader,
    read_full,
};
pub use crate::error::{Error, Result, from_io};
pub use crate::fqn::{Fqn, Namespace, ResourceType};
pub use crate::fsutil::{PendingFile, WRITE_BEHIND_STEP, WriteBehind, WriteOptions, write_atomic};
pub use crate::manifest::{
    Artifact, ArtifactDetails, CatalogRef, DataKind, Encryption, MANIFEST_FORMAT_VERSION, Manifest,
    Plaintext, Reason, validate_set_id,
};
pub use crate::retention::{Decision, RetentionPolicy, decide};
pub use crate::sets::{
    ArtifactCheck, ArtifactSpec, CATALOG_NAME, CheckStatus, DEFAULT_PRUNE_LOCK_WAIT,
    LeftoverDecision, MANIFEST_NAME, MAX_MANIFEST_SIZE, PruneOptions, PruneReport, SETS_PREFIX,
    SetEntry, SetOptions, SetState, SetWriter, TemporaryDecision, VerifyReport, copy_set,
    create_set_from_files, list_sets, load_catalog, load_manifest, new_set_id, open_artifact,
    open_artifact_decrypted, producer, prune, scan_sets, verify_set,
};
pub use crate::store::{
    DEFAULT_LEASE_DURATION, DynStore, LEASE_FORMAT_VERSION, LeaseDocument, LeaseHolder,
    LeaseStatus, LocalStore, MAX_VOLATILE_SIZE, ObjectKey, ObjectMeta, PRUNE_LOCK_PREFIX,
    ProcessIdentity, PutOptions, PutResult, S3Options, S3Store, SHA256_METADATA, Secret, Store,
    StoreOptions, Temporary, TemporaryKind, get_bytes, open_store,
};
