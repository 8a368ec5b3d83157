//! Backup sets: write-once groups of artifacts committed by a manifest written last.
//!
//! Layout in a store: `sets/<set-id>/artifacts/<name>` for each artifact, then
//! `sets/<set-id>/manifest.json`. A set without a manifest is incomplete: it is never listed
//! as a backup and `prune` removes it once it is older than a grace period.
//!
//! A writer holds a lease on its set while it lives: `sets/<set-id>/lease/<holder>-<n>.json`
//! (see [`LeaseDocument`](crate::LeaseDocument)), taken before anything else is written,
//! renewed by a heartbeat thread every third of its duration (five minutes by default,
//! [`SetOptions::lease_duration`]), removed once the manifest is written or the set aborted.
//! `prune` never removes an incomplete set whose lease is live, nor the temporaries in it,
//! whatever its grace period: two backups into one store and a prune during a backup are
//! safe. A writer that was killed leaves its lease, which expires after its duration (at
//! once when the writer ran on the prune's host and its process is gone); then the grace
//! period counts. Lease objects are not artifacts: they never make a set listed, and
//! [`verify_set`] does not report them. A prune itself holds a lease in `locks/prune/`, so
//! that two prunes of a store do not run at once.
//!
//! An encrypted set ([`SetOptions::encrypt_to`]) has its artifacts encrypted with age before
//! they reach the store, and one more object written before the manifest:
//! `sets/<set-id>/catalog.json.age`, the full manifest (artifact details, plaintext sizes
//! and digests) encrypted to the same recipients. Its `manifest.json` stays in clear but
//! tells nothing of the content: names, stored sizes and digests, no details. Sizes and
//! digests there are those of the stored (encrypted) bytes, so listing, verifying, copying
//! and pruning work without any secret key; reading needs an identity
//! ([`open_artifact_decrypted`], [`load_catalog`]).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::sync::Mutex;
use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;

use crate::archive::{Compression, LimitedReader, MemberPath};
use crate::crypt::{Identities, Recipients};
use crate::digest::{Digest, HashingReader};
use crate::error::{Error, Result};
use crate::manifest::{
    Artifact, ArtifactDetails, CatalogRef, DataKind, Encryption, Manifest, Plaintext, Reason,
    validate_set_id,
};
use crate::retention::{Decision, RetentionPolicy, decide};
use crate::store::{
    DEFAULT_LEASE_DURATION, DynStore, HeldLease, LeaseState, LeaseStatus, ObjectKey, ObjectMeta,
    PRUNE_LOCK_PREFIX, PutOptions, Store, Temporary, TemporaryKind, get_bytes, lease_status,
    read_lease, take_exclusive, while_held,
};

/// Where sets live in a store.
pub const SETS_PREFIX: &str = "sets/";
/// The name of a set's manifest.
pub const MANIFEST_NAME: &str = "manifest.json";
/// The largest manifest read (a bound against hostile stores); the catalog of an encrypted
/// set is held to the same bound.
pub const MAX_MANIFEST_SIZE: u64 = 64 << 20;
/// The name of an encrypted set's catalog.
pub const CATALOG_NAME: &str = "catalog.json.age";
/// What age adds to the catalog at most: its header, and 16 bytes per 64 KiB chunk.
const CATALOG_OVERHEAD: u64 = (1 << 20) + (MAX_MANIFEST_SIZE >> 16) * 16 + 16;

/// The producer string written into manifests.
pub fn producer() -> String {
    format!("continuum-backup {}", env!("CARGO_PKG_VERSION"))
}

/// The folder of a set's lease objects, inside the set.
const LEASE_DIR: &str = "lease/";
/// Ids drawn before [`SetWriter::begin`] gives up finding one no other writer uses.
const ID_ATTEMPTS: u32 = 4;

/// A new set id: the UTC time as `YYYYMMDDTHHMMSSZ` and 16 random hex digits (64 bits), so
/// ids sort by time and two writers do not collide (and should two draw the same id, the
/// second one's [`SetWriter::begin`] sees the first one's lease and draws again).
pub fn new_set_id(now: Timestamp) -> String {
    format!(
        "{}-{:016x}",
        now.strftime("%Y%m%dT%H%M%SZ"),
        rand::random::<u64>()
    )
}

fn key(set_id: &str, rest: &str) -> Result<ObjectKey> {
    ObjectKey::parse(&format!("{SETS_PREFIX}{set_id}/{rest}"))
}

/// Where a set's lease objects are.
fn lease_prefix(set_id: &str) -> String {
    format!("{SETS_PREFIX}{set_id}/{LEASE_DIR}")
}

/// True when `key` is one of a set's lease objects (`sets/<id>/lease/…`).
fn is_lease_key(key: &str) -> bool {
    key.strip_prefix(SETS_PREFIX)
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(_, inner)| inner.starts_with(LEASE_DIR))
}

/// Options of a new set.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SetOptions {
    /// Why the set is made.
    pub reason: Reason,
    /// The cluster, when known.
    pub cluster_name: Option<String>,
    /// Encrypt the set at rest to these age recipients; `None` stores it in clear.
    pub encryption: Option<Recipients>,
    /// How long the writer's lease on its set lasts unless renewed
    /// ([`DEFAULT_LEASE_DURATION`] when unset); its heartbeat renews it every third of that.
    pub lease_duration: Option<Duration>,
}

impl SetOptions {
    /// Options with a reason.
    pub fn new(reason: Reason) -> Self {
        Self {
            reason,
            cluster_name: None,
            encryption: None,
            lease_duration: None,
        }
    }

    /// Sets how long the writer's lease lasts unless renewed (five minutes by default): a
    /// killed writer's set is protected from `prune` that long after its last renewal (on
    /// another host than the prune's; on the same one, only while its process lives). At
    /// least 30 ms, at most a day.
    pub fn lease_duration(mut self, duration: Duration) -> Self {
        self.lease_duration = Some(duration);
        self
    }

    /// Encrypts the set at rest to `recipients`: every artifact, and the set's catalog.
    /// Whoever holds only the store (and the backup host itself) cannot read it.
    pub fn encrypt_to(mut self, recipients: Recipients) -> Self {
        self.encryption = Some(recipients);
        self
    }

    /// Sets the cluster name.
    pub fn cluster_name(mut self, name: impl Into<String>) -> Self {
        self.cluster_name = Some(name.into());
        self
    }
}

/// What an artifact is, before its bytes are written.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ArtifactSpec {
    /// Its kind of data.
    pub kind: DataKind,
    /// Its component.
    pub component: String,
    /// Its name, unique in the set; a relative path (`terraform/main.tf` is fine).
    pub name: String,
    /// How the bytes given are compressed.
    pub compression: Compression,
    /// How the bytes given are encrypted already (by the caller). In an encrypted set,
    /// leave it [`Encryption::None`]: the set encrypts.
    pub encryption: Encryption,
    /// Kind-specific details.
    pub details: ArtifactDetails,
}

impl ArtifactSpec {
    /// An uncompressed, unencrypted artifact with no details.
    pub fn new(kind: DataKind, component: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            kind,
            component: component.into(),
            name: name.into(),
            compression: Compression::None,
            encryption: Encryption::None,
            details: ArtifactDetails::None,
        }
    }

    /// Sets the compression.
    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// Sets the details.
    pub fn details(mut self, details: ArtifactDetails) -> Self {
        self.details = details;
        self
    }
}

/// Writes one backup set. Artifacts may be added from several threads at once (`&self`);
/// [`SetWriter::commit`] writes the manifest. Dropped without a commit, the writer removes
/// what it wrote (best effort; `prune` removes anything left by a crash).
///
/// While it lives, the writer holds a lease on its set, renewed by a thread of its own, so
/// that no `prune` removes the set it is writing (see [`prune`]).
#[derive(Debug)]
pub struct SetWriter {
    store: DynStore,
    set_id: String,
    created_at: Timestamp,
    options: SetOptions,
    artifacts: Mutex<Vec<Artifact>>,
    written: Mutex<Vec<ObjectKey>>,
    lease: Option<HeldLease>,
    done: bool,
}

impl SetWriter {
    /// Starts a set with a fresh id: takes the set's lease (its first object), and checks
    /// that no other writer uses the id.
    pub fn begin(store: DynStore, options: SetOptions) -> Result<Self> {
        Self::begin_with_ids(store, options, new_set_id)
    }

    fn begin_with_ids(
        store: DynStore,
        options: SetOptions,
        mut draw: impl FnMut(Timestamp) -> String,
    ) -> Result<Self> {
        let duration = options.lease_duration.unwrap_or(DEFAULT_LEASE_DURATION);
        for _ in 0..ID_ATTEMPTS {
            let created_at = Timestamp::now();
            let set_id = draw(created_at);
            validate_set_id(&set_id)?;
            let lease = HeldLease::take(
                store.clone(),
                &lease_prefix(&set_id),
                &format!("backup set {set_id}"),
                duration,
            )?;
            // Anything else under the id is another writer's (its lease, or a set from
            // before leases): draw again. Of two writers that drew the same id at once,
            // the one that lists second sees the other's lease.
            let taken = store
                .list(&format!("{SETS_PREFIX}{set_id}/"))?
                .iter()
                .any(|m| !lease.state().owns(&m.key));
            if taken {
                tracing::warn!(%set_id, "another writer uses this set id; drawing another");
                lease.release()?;
                continue;
            }
            return Ok(Self {
                store,
                set_id,
                created_at,
                options,
                artifacts: Mutex::new(Vec::new()),
                written: Mutex::new(Vec::new()),
                lease: Some(lease),
                done: false,
            });
        }
        Err(Error::Store {
            store: store.url(),
            message: format!("{ID_ATTEMPTS} set ids drawn were all in use by other writers"),
        })
    }

    /// Fails when the set's lease lapsed (its heartbeat could not renew it in time).
    fn check_lease(&self) -> Result<()> {
        match &self.lease {
            Some(lease) => lease.state().check(self.store.as_ref()),
            None => Ok(()),
        }
    }

    /// Stops as a process killed here would: the lease's heartbeat stops and nothing is
    /// removed. The lease expires after its duration, and `prune` then removes the set.
    /// For tests of what a crash leaves.
    #[doc(hidden)]
    pub fn simulate_crash(mut self) {
        self.done = true;
        if let Some(lease) = self.lease.take() {
            lease.abandon();
        }
    }

    /// The set's id.
    pub fn set_id(&self) -> &str {
        &self.set_id
    }

    /// Streams one artifact into the set.
    pub fn add(&self, spec: ArtifactSpec, data: &mut dyn Read) -> Result<Artifact> {
        let name = MemberPath::parse(&spec.name).map_err(|e| Error::InvalidInput {
            what: "artifact name",
            value: spec.name.clone(),
            reason: e.to_string(),
        })?;
        let path = MemberPath::parse("artifacts")?.join(name.as_str())?;
        self.check_lease()?;
        {
            let artifacts = lock(&self.artifacts);
            if artifacts.iter().any(|a| a.name == name.as_str()) {
                return Err(Error::InvalidInput {
                    what: "artifact name",
                    value: spec.name,
                    reason: "another artifact of the set has this name".to_string(),
                });
            }
        }
        if self.options.encryption.is_some() && spec.encryption != Encryption::None {
            return Err(Error::InvalidInput {
                what: "artifact",
                value: spec.name,
                reason: "its bytes are encrypted already, and the set encrypts what it is given"
                    .to_string(),
            });
        }
        let object = key(&self.set_id, path.as_str())?;
        lock(&self.written).push(object.clone());
        let (written, encryption, plaintext) = match &self.options.encryption {
            None => (self.put(&object, data)?, spec.encryption, None),
            Some(recipients) => {
                let mut hashing = HashingReader::new(data);
                let written = {
                    let mut encrypted = recipients.encrypt(&mut hashing)?;
                    self.put(&object, &mut encrypted)?
                };
                let (_, sha256, size) = hashing.finish();
                (
                    written,
                    Encryption::Age {
                        recipients: recipients.to_strings(),
                    },
                    Some(Plaintext::new(size, sha256)),
                )
            }
        };
        let artifact = Artifact {
            kind: spec.kind,
            component: spec.component,
            name: name.as_str().to_string(),
            path,
            size: written.size,
            sha256: written.sha256,
            compression: spec.compression,
            encryption,
            created_at: Timestamp::now(),
            details: spec.details,
            plaintext,
        };
        let mut artifacts = lock(&self.artifacts);
        if artifacts.iter().any(|a| a.name == artifact.name) {
            return Err(Error::InvalidInput {
                what: "artifact name",
                value: artifact.name,
                reason: "another artifact of the set has this name".to_string(),
            });
        }
        artifacts.push(artifact.clone());
        Ok(artifact)
    }

    /// Puts one of the set's objects; one that exists already is not this writer's, and is
    /// not removed with what it wrote.
    fn put(&self, object: &ObjectKey, data: &mut dyn Read) -> Result<crate::store::PutResult> {
        let result = self.store.put(object, data, &PutOptions::default());
        if let Err(Error::AlreadyExists { .. }) = result {
            lock(&self.written).retain(|k| k != object);
        }
        result
    }

    /// Replaces an added artifact's details (facts known only once its bytes are written,
    /// such as row counts taken beside a dump).
    pub fn set_details(&self, name: &str, details: ArtifactDetails) -> Result<()> {
        let mut artifacts = lock(&self.artifacts);
        let artifact = artifacts
            .iter_mut()
            .find(|a| a.name == name)
            .ok_or_else(|| Error::InvalidInput {
                what: "artifact name",
                value: name.to_string(),
                reason: "no artifact of the set has this name".to_string(),
            })?;
        artifact.details = details;
        Ok(())
    }

    /// Checks every artifact is in the store with its size, then writes the manifest (an
    /// encrypted set writes its encrypted catalog first). Returns the manifest as written:
    /// for an encrypted set, the one in clear, without details ([`load_catalog`] reads them).
    pub fn commit(mut self) -> Result<Manifest> {
        self.check_lease()?;
        let mut artifacts = std::mem::take(&mut *lock(&self.artifacts));
        artifacts.sort_by(|a, b| a.name.cmp(&b.name));
        for a in &artifacts {
            let object = key(&self.set_id, a.path.as_str())?;
            match self.store.head(&object)? {
                Some(meta) if meta.size == a.size => {}
                Some(meta) => {
                    return Err(Error::Corrupt {
                        entry: a.name.clone(),
                        expected: format!("{} bytes", a.size),
                        actual: format!("{} bytes", meta.size),
                    });
                }
                None => {
                    return Err(Error::NotFound {
                        key: object.to_string(),
                        store: self.store.url(),
                    });
                }
            }
        }
        let mut manifest = Manifest {
            format_version: 1,
            set_id: self.set_id.clone(),
            created_at: self.created_at,
            producer: producer(),
            cluster_name: self.options.cluster_name.clone(),
            reason: self.options.reason,
            artifacts,
            catalog: None,
        };
        if let Some(recipients) = &self.options.encryption {
            manifest.format_version = manifest.required_version();
            let catalog = self.write_catalog(recipients, &manifest)?;
            for a in &mut manifest.artifacts {
                a.details = ArtifactDetails::None;
                a.plaintext = None;
            }
            manifest.catalog = Some(catalog);
        }
        manifest.format_version = manifest.required_version();
        let json = manifest.to_json();
        // Still leased, so no prune removed anything meanwhile (and none will before the
        // manifest is in place: the lease is released after it).
        self.check_lease()?;
        // A manifest in place is another writer's set (the id drawn twice, unseen by
        // `begin`): the conditional put refuses it, and what this writer wrote is removed.
        self.store.put(
            &key(&self.set_id, MANIFEST_NAME)?,
            &mut json.as_slice(),
            &PutOptions::expecting(Digest::of(&json)),
        )?;
        self.done = true;
        if let Some(lease) = self.lease.take()
            && let Err(e) = lease.release()
        {
            // Committed all the same; `prune` removes the lease objects left.
            tracing::warn!(set_id = %self.set_id, error = %e, "could not release the set's lease");
        }
        Ok(manifest)
    }

    /// Encrypts the full manifest and stores it as the set's catalog.
    fn write_catalog(&self, recipients: &Recipients, full: &Manifest) -> Result<CatalogRef> {
        let json = full.to_json();
        let mut encrypted = Vec::new();
        recipients
            .encrypt(json.as_slice())?
            .read_to_end(&mut encrypted)
            .map_err(|e| Error::io("encrypt", CATALOG_NAME, e))?;
        let sha256 = Digest::of(&encrypted);
        let object = key(&self.set_id, CATALOG_NAME)?;
        lock(&self.written).push(object.clone());
        let written = self.store.put(
            &object,
            &mut encrypted.as_slice(),
            &PutOptions::expecting(sha256),
        );
        if let Err(Error::AlreadyExists { .. }) = written {
            lock(&self.written).retain(|k| k != &object);
        }
        let written = written?;
        Ok(CatalogRef {
            path: MemberPath::parse(CATALOG_NAME)?,
            size: written.size,
            sha256,
            encryption: Encryption::Age {
                recipients: recipients.to_strings(),
            },
        })
    }

    /// Removes everything written so far, then the set's lease.
    pub fn abort(mut self) -> Result<()> {
        self.done = true;
        let removed = self.remove_written();
        let released = match self.lease.take() {
            Some(lease) => lease.release(),
            None => Ok(()),
        };
        removed.and(released)
    }

    fn remove_written(&self) -> Result<()> {
        let written = std::mem::take(&mut *lock(&self.written));
        let mut first_error = None;
        for object in written {
            if let Err(e) = self.store.delete(&object) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

impl Drop for SetWriter {
    fn drop(&mut self) {
        if !self.done
            && let Err(e) = self.remove_written()
        {
            tracing::warn!(set_id = %self.set_id, error = %e, "could not remove an uncommitted set");
        }
        // Then the lease goes (dropped, it stops its heartbeat and removes its objects).
        drop(self.lease.take());
    }
}

/// The simplest backup there is: commits `files` as one set, each artifact named after its
/// file name. Every file is checked (it exists, is not a folder, names are unique) before anything
/// is written; a failure while writing removes what was written.
pub fn create_set_from_files(
    store: DynStore,
    files: &[std::path::PathBuf],
    kind: DataKind,
    component: &str,
    options: SetOptions,
) -> Result<Manifest> {
    if files.is_empty() {
        return Err(Error::InvalidInput {
            what: "file list",
            value: String::new(),
            reason: "give at least one file".to_string(),
        });
    }
    let mut names = BTreeSet::new();
    for file in files {
        let md = std::fs::metadata(file).map_err(|e| Error::io("read", file, e))?;
        // Pipes are welcome (`<(pg_dump …)`, a FIFO); folders are not.
        if md.is_dir() {
            return Err(Error::InvalidInput {
                what: "file",
                value: file.display().to_string(),
                reason: "a folder, expected a file".to_string(),
            });
        }
        let name = artifact_name(file)?;
        if !names.insert(name.clone()) {
            return Err(Error::InvalidInput {
                what: "file",
                value: file.display().to_string(),
                reason: format!(
                    "another file is also named `{name}`; artifact names must be unique"
                ),
            });
        }
    }
    let writer = SetWriter::begin(store, options)?;
    for file in files {
        let mut f = std::fs::File::open(file).map_err(|e| Error::io("open", file, e))?;
        let spec = ArtifactSpec::new(kind, component, artifact_name(file)?).details(
            ArtifactDetails::File {
                source: file.display().to_string(),
            },
        );
        writer.add(spec, &mut f)?;
    }
    writer.commit()
}

fn artifact_name(file: &std::path::Path) -> Result<String> {
    file.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string)
        .ok_or_else(|| Error::InvalidInput {
            what: "file",
            value: file.display().to_string(),
            reason: "its name is not valid UTF-8".to_string(),
        })
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A set found in a store.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct SetEntry {
    /// The set's id.
    pub set_id: String,
    /// What state it is in.
    pub state: SetState,
    /// Objects the set holds, the manifest included, its lease objects not.
    pub objects: usize,
    /// Their total size.
    pub bytes: u64,
    /// The newest object's time, lease objects included (a renewal is a sign of life).
    pub last_modified: Timestamp,
    /// The lease on the set, when it has lease objects: live while a writer is at work on
    /// it. A set with only a lease is one whose writer has begun and written nothing yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease: Option<LeaseStatus>,
}

/// The state of a set.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SetState {
    /// Its manifest is present and valid.
    Committed {
        /// The manifest.
        manifest: Box<Manifest>,
    },
    /// It has no manifest: a backup that did not finish, or one being written.
    Incomplete,
    /// Its manifest is present but cannot be read; it is reported and never pruned.
    Unreadable {
        /// Why.
        error: String,
    },
}

/// Every set in the store, in any state, sorted by id (oldest first). Reads the manifest of
/// each committed set, and the newest lease object of each set that has any.
pub fn scan_sets(store: &dyn Store) -> Result<Vec<SetEntry>> {
    #[derive(Default)]
    struct Group {
        objects: usize,
        bytes: u64,
        last_modified: Option<Timestamp>,
        has_manifest: bool,
        leases: Vec<ObjectMeta>,
    }
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for meta in store.list(SETS_PREFIX)? {
        let Some(rest) = meta.key.strip_prefix(SETS_PREFIX) else {
            continue;
        };
        let Some((id, inner)) = rest.split_once('/') else {
            continue;
        };
        let group = groups.entry(id.to_string()).or_default();
        group.last_modified = group.last_modified.max(Some(meta.last_modified));
        if inner.starts_with(LEASE_DIR) {
            group.leases.push(meta);
            continue;
        }
        group.objects += 1;
        group.bytes += meta.size;
        group.has_manifest |= inner == MANIFEST_NAME;
    }
    let mut out = Vec::with_capacity(groups.len());
    for (set_id, group) in groups {
        let Group {
            objects,
            bytes,
            last_modified,
            has_manifest,
            leases,
        } = group;
        let lease = lease_status(store, &lease_prefix(&set_id), &leases)?;
        let last_modified = last_modified.unwrap_or(Timestamp::UNIX_EPOCH);
        let state = if !has_manifest {
            SetState::Incomplete
        } else {
            match load_manifest(store, &set_id) {
                Ok(manifest) => SetState::Committed {
                    manifest: Box::new(manifest),
                },
                Err(e) => SetState::Unreadable {
                    error: e.to_string(),
                },
            }
        };
        out.push(SetEntry {
            set_id,
            state,
            objects,
            bytes,
            last_modified,
            lease,
        });
    }
    Ok(out)
}

/// The committed sets, newest first.
pub fn list_sets(store: &dyn Store) -> Result<Vec<Manifest>> {
    let mut sets: Vec<Manifest> = scan_sets(store)?
        .into_iter()
        .filter_map(|e| match e.state {
            SetState::Committed { manifest } => Some(*manifest),
            _ => None,
        })
        .collect();
    sets.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| b.set_id.cmp(&a.set_id))
    });
    Ok(sets)
}

/// Reads and checks a set's manifest.
pub fn load_manifest(store: &dyn Store, set_id: &str) -> Result<Manifest> {
    validate_set_id(set_id)?;
    let object = key(set_id, MANIFEST_NAME)?;
    let bytes = match get_bytes(store, &object, MAX_MANIFEST_SIZE) {
        Err(Error::NotFound { .. }) => {
            return Err(Error::SetNotFound {
                set_id: set_id.to_string(),
                store: store.url(),
            });
        }
        other => other?,
    };
    let manifest = Manifest::from_json(object.as_str(), &bytes)?;
    if manifest.set_id != set_id {
        return Err(Error::Corrupt {
            entry: object.to_string(),
            expected: format!("set id `{set_id}`"),
            actual: format!("set id `{}`", manifest.set_id),
        });
    }
    Ok(manifest)
}

/// Reads an encrypted set's catalog: the full manifest, with each artifact's details and
/// plaintext size and SHA-256. The catalog object is checked against the size and SHA-256
/// the manifest in clear records, decrypted with `identities`, and must agree with the
/// manifest in clear on the set and on every artifact. For a set in clear, its manifest
/// holds everything and is returned as [`load_manifest`] reads it.
pub fn load_catalog(store: &dyn Store, set_id: &str, identities: &Identities) -> Result<Manifest> {
    let manifest = load_manifest(store, set_id)?;
    if manifest.catalog.is_none() {
        return Ok(manifest);
    }
    read_catalog(store, &manifest, identities)
}

fn read_catalog(store: &dyn Store, clear: &Manifest, identities: &Identities) -> Result<Manifest> {
    let Some(catalog) = &clear.catalog else {
        return Ok(clear.clone());
    };
    let object = key(&clear.set_id, catalog.path.as_str())?;
    let label = object.to_string();
    let encrypted = get_bytes(store, &object, MAX_MANIFEST_SIZE + CATALOG_OVERHEAD)?;
    let (size, sha256) = (encrypted.len() as u64, Digest::of(&encrypted));
    if size != catalog.size || sha256 != catalog.sha256 {
        return Err(Error::Corrupt {
            entry: label,
            expected: format!("{} bytes, SHA-256 {}", catalog.size, catalog.sha256),
            actual: format!("{size} bytes, SHA-256 {sha256}"),
        });
    }
    let mut json = Vec::new();
    LimitedReader::new(
        identities.decrypt(&label, encrypted.as_slice())?,
        MAX_MANIFEST_SIZE,
        label.as_str(),
    )
    .read_to_end(&mut json)
    .map_err(|e| crate::store::io_error(store, &object, e))?;
    let full = Manifest::from_json(&label, &json)?;
    let disagree = |what: &str, expected: String, actual: String| Error::Corrupt {
        entry: label.clone(),
        expected: format!("{what} {expected} (as in `{MANIFEST_NAME}`)"),
        actual: format!("{what} {actual}"),
    };
    if full.catalog.is_some() {
        return Err(disagree(
            "catalog",
            "none".to_string(),
            "a catalog".to_string(),
        ));
    }
    if full.set_id != clear.set_id {
        return Err(disagree(
            "set id",
            format!("`{}`", clear.set_id),
            format!("`{}`", full.set_id),
        ));
    }
    if (full.created_at, full.reason, &full.cluster_name)
        != (clear.created_at, clear.reason, &clear.cluster_name)
    {
        return Err(disagree(
            "set",
            format!("created at {}, reason {}", clear.created_at, clear.reason),
            format!("created at {}, reason {}", full.created_at, full.reason),
        ));
    }
    let names = |m: &Manifest| {
        m.artifacts
            .iter()
            .map(|a| a.name.clone())
            .collect::<Vec<_>>()
    };
    if names(&full) != names(clear) {
        return Err(disagree(
            "artifacts",
            format!("{:?}", names(clear)),
            format!("{:?}", names(&full)),
        ));
    }
    for (c, f) in clear.artifacts.iter().zip(&full.artifacts) {
        let mut stripped = f.clone();
        stripped.details = ArtifactDetails::None;
        stripped.plaintext = None;
        if &stripped != c {
            return Err(disagree(
                "artifact",
                format!("`{}` as recorded in clear", c.name),
                "different size, digest or encoding".to_string(),
            ));
        }
        if f.is_encrypted() && f.plaintext.is_none() {
            return Err(disagree(
                "artifact",
                format!("`{}` with its plaintext size and digest", f.name),
                "none".to_string(),
            ));
        }
    }
    Ok(full)
}

/// Streams an artifact of a committed set as stored, checking its size and SHA-256 as it
/// is read: the reader fails at the end of the stream when either differs. An encrypted
/// artifact comes out encrypted (a standard age file); [`open_artifact_decrypted`] decrypts.
pub fn open_artifact(
    store: &dyn Store,
    manifest: &Manifest,
    name: &str,
) -> Result<Box<dyn Read + Send>> {
    let artifact = find_artifact(store, manifest, name)?;
    open_stored(store, manifest, artifact)
}

/// Streams an artifact's content, decrypted when it is encrypted: its stored size and
/// SHA-256 are checked as [`open_artifact`] does and, for an encrypted artifact, its
/// plaintext size and SHA-256 from the set's catalog too; every check fails the reader at
/// the end of the stream, and the decryption itself yields authenticated bytes only.
///
/// `manifest` may be the manifest in clear ([`load_manifest`]; the catalog is then read
/// and checked with `identities` at each call) or the catalog itself ([`load_catalog`],
/// better when reading several artifacts). An encrypted artifact
/// without identities fails with [`Error::IdentityRequired`]; with identities that do not
/// match, with [`Error::Decrypt`]. An artifact in clear needs none.
pub fn open_artifact_decrypted(
    store: &dyn Store,
    manifest: &Manifest,
    name: &str,
    identities: Option<&Identities>,
) -> Result<Box<dyn Read + Send>> {
    let artifact = find_artifact(store, manifest, name)?;
    if !artifact.is_encrypted() {
        return open_stored(store, manifest, artifact);
    }
    let Some(identities) = identities else {
        return Err(Error::IdentityRequired {
            entry: artifact.name.clone(),
        });
    };
    let plaintext = match (artifact.plaintext, &manifest.catalog) {
        (Some(p), _) => Some(p),
        (None, Some(_)) => {
            let full = read_catalog(store, manifest, identities)?;
            find_artifact(store, &full, name)?.plaintext
        }
        // Encrypted by the caller before it was added: nothing records its plaintext.
        (None, None) => None,
    };
    let stored = open_stored(store, manifest, artifact)?;
    let decrypted: Box<dyn Read + Send> = Box::new(identities.decrypt(&artifact.name, stored)?);
    Ok(match plaintext {
        Some(p) => Box::new(CheckedReader {
            inner: HashingReader::new(decrypted),
            expected: p.sha256,
            size: p.size,
            name: format!("{} (decrypted)", artifact.name),
            finished: false,
        }),
        None => decrypted,
    })
}

fn find_artifact<'m>(
    store: &dyn Store,
    manifest: &'m Manifest,
    name: &str,
) -> Result<&'m Artifact> {
    manifest
        .artifacts
        .iter()
        .find(|a| a.name == name)
        .ok_or_else(|| Error::NotFound {
            key: format!("{}/{name}", manifest.set_id),
            store: store.url(),
        })
}

fn open_stored(
    store: &dyn Store,
    manifest: &Manifest,
    artifact: &Artifact,
) -> Result<Box<dyn Read + Send>> {
    let object = key(&manifest.set_id, artifact.path.as_str())?;
    Ok(checked(
        store.get(&object)?,
        artifact.sha256,
        artifact.size,
        &artifact.name,
    ))
}

fn checked(
    inner: Box<dyn Read + Send>,
    expected: Digest,
    size: u64,
    name: &str,
) -> Box<dyn Read + Send> {
    Box::new(CheckedReader {
        inner: HashingReader::new(inner),
        expected,
        size,
        name: name.to_string(),
        finished: false,
    })
}

struct CheckedReader {
    inner: HashingReader<Box<dyn Read + Send>>,
    expected: Digest,
    size: u64,
    name: String,
    finished: bool,
}

impl Read for CheckedReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.finished {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        if self.inner.len() > self.size {
            return Err(std::io::Error::other(Error::Corrupt {
                entry: self.name.clone(),
                expected: format!("{} bytes", self.size),
                actual: format!("more than {} bytes", self.size),
            }));
        }
        if n == 0 && !buf.is_empty() {
            self.finished = true;
            let len = self.inner.len();
            let digest = std::mem::replace(
                &mut self.inner,
                HashingReader::new(Box::new(std::io::empty())),
            )
            .finish()
            .1;
            if len != self.size {
                return Err(std::io::Error::other(Error::Corrupt {
                    entry: self.name.clone(),
                    expected: format!("{} bytes", self.size),
                    actual: format!("{len} bytes"),
                }));
            }
            if digest != self.expected {
                return Err(std::io::Error::other(Error::Corrupt {
                    entry: self.name.clone(),
                    expected: self.expected.to_string(),
                    actual: digest.to_string(),
                }));
            }
        }
        Ok(n)
    }
}

/// Copies a committed set to another store: every artifact (checked against its SHA-256 as
/// it streams), an encrypted set's catalog, then the manifest last, so the copy is committed
/// only when complete. Encrypted sets are copied as stored, without any secret key.
///
/// While it runs, the copy holds a lease on the set in `to`, so that a prune of `to` leaves
/// the partial copy alone. A set `to` holds already is refused; a copy that fails removes
/// what it wrote, never what was there before it.
pub fn copy_set(from: &dyn Store, to: &dyn Store, set_id: &str) -> Result<Manifest> {
    let manifest = load_manifest(from, set_id)?;
    let manifest_key = key(set_id, MANIFEST_NAME)?;
    if to.head(&manifest_key)?.is_some() {
        return Err(Error::AlreadyExists {
            key: manifest_key.to_string(),
            store: to.url(),
        });
    }
    let lease = LeaseState::take(
        to,
        &lease_prefix(set_id),
        &format!("copy of backup set {set_id}"),
        DEFAULT_LEASE_DURATION,
    )?;
    while_held(to, &lease, || {
        let mut written = Vec::new();
        let result = (|| -> Result<()> {
            for artifact in &manifest.artifacts {
                let object = key(set_id, artifact.path.as_str())?;
                let mut data = open_artifact(from, &manifest, &artifact.name)?;
                put_tracked(
                    to,
                    &mut written,
                    &object,
                    &mut data,
                    &PutOptions::expecting(artifact.sha256),
                )?;
            }
            if let Some(catalog) = &manifest.catalog {
                let object = key(set_id, catalog.path.as_str())?;
                let mut data = checked(
                    from.get(&object)?,
                    catalog.sha256,
                    catalog.size,
                    object.as_str(),
                );
                put_tracked(
                    to,
                    &mut written,
                    &object,
                    &mut data,
                    &PutOptions::expecting(catalog.sha256),
                )?;
            }
            lease.check(to)?;
            let json = manifest.to_json();
            to.put(
                &manifest_key,
                &mut json.as_slice(),
                &PutOptions::expecting(Digest::of(&json)),
            )?;
            Ok(())
        })();
        if result.is_err() {
            for object in &written {
                let _ = to.delete(object);
            }
        }
        result
    })?;
    Ok(manifest)
}

/// Puts a new object, noting it in `written` to be removed should what follows fail; an
/// object that exists already is not noted (it is not ours to remove).
fn put_tracked(
    store: &dyn Store,
    written: &mut Vec<ObjectKey>,
    object: &ObjectKey,
    data: &mut dyn Read,
    options: &PutOptions,
) -> Result<()> {
    written.push(object.clone());
    let result = store.put(object, data, options);
    if let Err(Error::AlreadyExists { .. }) = result {
        written.pop();
    }
    result.map(|_| ())
}

/// The outcome of checking one artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum CheckStatus {
    /// Size and SHA-256 match.
    Ok,
    /// The object is gone.
    Missing,
    /// The object's size differs.
    SizeMismatch {
        /// Recorded size.
        expected: u64,
        /// Size found.
        actual: u64,
    },
    /// The object's content differs.
    DigestMismatch {
        /// Recorded digest.
        expected: Digest,
        /// Digest found.
        actual: Digest,
    },
    /// The object could not be read.
    ReadError {
        /// Why.
        message: String,
    },
}

/// One artifact's check.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ArtifactCheck {
    /// The artifact's name.
    pub name: String,
    /// Its path in the set.
    pub path: String,
    /// The outcome.
    #[serde(flatten)]
    pub status: CheckStatus,
}

/// The result of [`verify_set`].
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct VerifyReport {
    /// The set.
    pub set_id: String,
    /// True when every artifact checked out.
    pub ok: bool,
    /// Bytes read and hashed.
    pub bytes_checked: u64,
    /// Every artifact's outcome.
    pub artifacts: Vec<ArtifactCheck>,
    /// The outcome for an encrypted set's catalog (`None` for a set in clear).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalog: Option<ArtifactCheck>,
    /// Objects in the set the manifest does not name (reported, not an error).
    pub unexpected_objects: Vec<String>,
}

impl VerifyReport {
    /// The artifacts (and catalog) that failed.
    pub fn failures(&self) -> impl Iterator<Item = &ArtifactCheck> {
        self.artifacts
            .iter()
            .chain(&self.catalog)
            .filter(|a| a.status != CheckStatus::Ok)
    }
}

/// Reads every artifact of a committed set (and an encrypted set's catalog) and checks its
/// size and SHA-256 as stored. Needs no secret key: encrypted sets are checked as stored.
pub fn verify_set(store: &dyn Store, set_id: &str) -> Result<VerifyReport> {
    let manifest = load_manifest(store, set_id)?;
    let listed: BTreeSet<String> = store
        .list(&format!("{SETS_PREFIX}{set_id}/"))?
        .into_iter()
        .map(|m| m.key)
        .collect();
    let mut expected_keys = BTreeSet::new();
    expected_keys.insert(format!("{SETS_PREFIX}{set_id}/{MANIFEST_NAME}"));
    let mut bytes_checked = 0;
    let mut check = |name: &str, path: &MemberPath, size: u64, sha256: Digest| {
        let object = key(set_id, path.as_str())?;
        expected_keys.insert(object.to_string());
        let status = check_object(store, &listed, &object, size, sha256, &mut bytes_checked);
        Ok::<_, Error>(ArtifactCheck {
            name: name.to_string(),
            path: path.to_string(),
            status,
        })
    };
    let mut checks = Vec::new();
    for artifact in &manifest.artifacts {
        checks.push(check(
            &artifact.name,
            &artifact.path,
            artifact.size,
            artifact.sha256,
        )?);
    }
    let catalog = match &manifest.catalog {
        Some(c) => Some(check(c.path.as_str(), &c.path, c.size, c.sha256)?),
        None => None,
    };
    // A lease left in a committed set (its writer stopped between the manifest and the
    // lease's removal; `prune` removes it) is not content.
    let unexpected_objects = listed
        .difference(&expected_keys)
        .filter(|k| !is_lease_key(k))
        .cloned()
        .collect();
    let ok = checks
        .iter()
        .chain(&catalog)
        .all(|c| c.status == CheckStatus::Ok);
    Ok(VerifyReport {
        set_id: set_id.to_string(),
        ok,
        bytes_checked,
        artifacts: checks,
        catalog,
        unexpected_objects,
    })
}

fn check_object(
    store: &dyn Store,
    listed: &BTreeSet<String>,
    object: &ObjectKey,
    expected_size: u64,
    expected_sha256: Digest,
    bytes_checked: &mut u64,
) -> CheckStatus {
    if !listed.contains(object.as_str()) {
        return CheckStatus::Missing;
    }
    match store.get(object) {
        Err(Error::NotFound { .. }) => CheckStatus::Missing,
        Err(e) => CheckStatus::ReadError {
            message: e.to_string(),
        },
        Ok(reader) => match crate::digest::digest_reader(reader) {
            Err(e) => CheckStatus::ReadError {
                message: e.to_string(),
            },
            Ok((digest, size)) => {
                *bytes_checked += size;
                if size != expected_size {
                    CheckStatus::SizeMismatch {
                        expected: expected_size,
                        actual: size,
                    }
                } else if digest != expected_sha256 {
                    CheckStatus::DigestMismatch {
                        expected: expected_sha256,
                        actual: digest,
                    }
                } else {
                    CheckStatus::Ok
                }
            }
        },
    }
}

/// How long a prune waits by default for another prune of the same store to end: longer
/// than a lease, so that a prune killed on another host never stops the next one.
pub const DEFAULT_PRUNE_LOCK_WAIT: Duration = Duration::from_secs(360);

/// Options of [`prune`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PruneOptions {
    /// Which committed sets to keep.
    pub policy: RetentionPolicy,
    /// Report without removing anything.
    pub dry_run: bool,
    /// An incomplete set whose writer's lease is live is always left alone, and so are the
    /// temporaries in it. Once the lease has ended (the writer was killed), or for a set
    /// without one (written by an older version), an incomplete set whose newest object is
    /// younger than this is left alone too; so is a temporary ([`Store::temporaries`]: a
    /// folder store's temporary files) written more recently than this. Zero removes every
    /// incomplete set and temporary no live lease covers (a temporary file only when it was
    /// there when the prune began: one that appears meanwhile may be a put under way).
    pub incomplete_grace: Duration,
    /// The time to judge retention and the grace period by (now, when unset). Leases are
    /// always judged by the clock.
    pub now: Option<Timestamp>,
    /// Apply the policy only to the sets made for this reason (retention per reason: keep
    /// 7 daily sets and 5 deploy sets, say); other committed sets are left alone.
    pub reason: Option<Reason>,
    /// Prunes of one store take turns (a prune holds a lease in `locks/prune/`): how long
    /// to wait for another one to end before failing with [`Error::Lease`]
    /// ([`DEFAULT_PRUNE_LOCK_WAIT`] by default; zero fails at once). A dry run takes no turn.
    pub lock_wait: Duration,
}

impl PruneOptions {
    /// Options for a policy, with a one-hour grace for incomplete sets.
    pub fn new(policy: RetentionPolicy) -> Self {
        Self {
            policy,
            dry_run: false,
            incomplete_grace: Duration::from_secs(3600),
            now: None,
            reason: None,
            lock_wait: DEFAULT_PRUNE_LOCK_WAIT,
        }
    }
}

/// What prune decided for an incomplete or unreadable set.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct LeftoverDecision {
    /// The set.
    pub set_id: String,
    /// Its objects.
    pub objects: usize,
    /// Removed (or would be, in a dry run).
    pub remove: bool,
    /// Why.
    pub reason: String,
    /// The lease on the set, when it has one: a live one is why an incomplete set is kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease: Option<LeaseStatus>,
}

/// What prune decided for a temporary an interrupted write left ([`Store::temporaries`]).
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct TemporaryDecision {
    /// Where it is in the store.
    pub path: String,
    /// What it is.
    pub kind: TemporaryKind,
    /// Its size.
    pub size: u64,
    /// Removed (or would be, in a dry run).
    pub remove: bool,
    /// Why.
    pub reason: String,
}

/// The result of [`prune`].
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct PruneReport {
    /// True when nothing was removed on purpose.
    pub dry_run: bool,
    /// One decision per committed set, newest first.
    pub decisions: Vec<Decision>,
    /// Decisions for incomplete and unreadable sets.
    pub leftovers: Vec<LeftoverDecision>,
    /// Decisions for what killed writers left that is not an object (a folder store's
    /// temporary files and the empty folders around them).
    pub temporaries: Vec<TemporaryDecision>,
    /// Lease objects left in committed sets (a writer stopped between writing its manifest
    /// and removing its lease), removed (or that would be, in a dry run).
    pub stale_leases: Vec<String>,
    /// Objects removed.
    pub removed_objects: u64,
    /// Temporaries removed.
    pub removed_temporaries: u64,
    /// Bytes removed (or that would be), temporaries included.
    pub removed_bytes: u64,
}

/// Applies a retention policy: removes the committed sets no rule keeps, the incomplete
/// sets no live lease covers that are older than the grace period, and then the temporaries
/// older than it that no live lease covers (what writers killed mid-put left: a folder
/// store's temporary files, wherever they are, and the folders left empty). A committed set
/// loses its manifest first, so a prune that is interrupted leaves an incomplete set
/// (removed next time), never a damaged one.
///
/// Safe while backups run: an incomplete set whose writer's lease is live is never removed,
/// nor anything in it, whatever the grace period; an incomplete set about to be removed is
/// looked at again first (a writer may have renewed its lease, or committed, since the
/// scan). Prunes of one store take turns ([`PruneOptions::lock_wait`]).
///
/// Not covered: a committed set that retention removes while someone reads it (a restore,
/// a [`copy_set`] from this store) goes all the same; keep what is being read with the
/// policy.
pub fn prune(store: &dyn Store, options: &PruneOptions) -> Result<PruneReport> {
    options.policy.validate()?;
    if options.dry_run {
        return prune_unlocked(store, options);
    }
    let lock = take_exclusive(
        store,
        PRUNE_LOCK_PREFIX,
        "prune",
        DEFAULT_LEASE_DURATION,
        options.lock_wait,
    )?;
    while_held(store, &lock, || prune_unlocked(store, options))
}

fn prune_unlocked(store: &dyn Store, options: &PruneOptions) -> Result<PruneReport> {
    let now = options.now.unwrap_or_else(Timestamp::now);
    let entries = scan_sets(store)?;
    let committed: Vec<(String, Timestamp)> = entries
        .iter()
        .filter_map(|e| match &e.state {
            SetState::Committed { manifest }
                if options.reason.is_none_or(|r| r == manifest.reason) =>
            {
                Some((e.set_id.clone(), manifest.created_at))
            }
            _ => None,
        })
        .collect();
    let decisions = decide(&committed, &options.policy)?;
    let mut report = PruneReport {
        dry_run: options.dry_run,
        decisions,
        leftovers: Vec::new(),
        temporaries: Vec::new(),
        stale_leases: Vec::new(),
        removed_objects: 0,
        removed_temporaries: 0,
        removed_bytes: 0,
    };
    let grace = jiff::SignedDuration::try_from(options.incomplete_grace)
        .unwrap_or(jiff::SignedDuration::MAX);
    // A set still being written may show only old objects while its current artifact
    // streams into a temporary: the temporaries in a set's folder count as its writes.
    let mut written_into: BTreeMap<String, Timestamp> = BTreeMap::new();
    // A temporary file that appears during the prune may be a put under way (the first
    // lease object of a writer that has just begun, which no lease covers yet): only those
    // found here, at the start, can go.
    let mut present_at_start: BTreeSet<String> = BTreeSet::new();
    for temporary in store.temporaries()? {
        if temporary.kind != TemporaryKind::EmptyFolder {
            present_at_start.insert(temporary.path.clone());
        }
        if let Some((set_id, _)) = temporary
            .path
            .strip_prefix(SETS_PREFIX)
            .and_then(|rest| rest.split_once('/'))
        {
            let newest = written_into
                .entry(set_id.to_string())
                .or_insert(temporary.last_modified);
            *newest = (*newest).max(temporary.last_modified);
        }
    }
    for entry in &entries {
        let decision = match &entry.state {
            SetState::Committed { .. } => continue,
            SetState::Unreadable { error } => LeftoverDecision {
                set_id: entry.set_id.clone(),
                objects: entry.objects,
                remove: false,
                reason: format!("kept: its manifest cannot be read ({error}); look at it by hand"),
                lease: entry.lease.clone(),
            },
            SetState::Incomplete => {
                let last_written = written_into
                    .get(&entry.set_id)
                    .map_or(entry.last_modified, |t| entry.last_modified.max(*t));
                incomplete_decision(entry, now.duration_since(last_written), grace)
            }
        };
        report.leftovers.push(decision);
    }
    // Look again before removing an incomplete set: its writer may have renewed its lease
    // (a listing taken during a renewal), or committed, since the scan.
    if !options.dry_run {
        for leftover in report.leftovers.iter_mut().filter(|l| l.remove) {
            if let Some((reason, lease)) = taken_back(store, &leftover.set_id)? {
                leftover.remove = false;
                leftover.reason = reason;
                leftover.lease = lease;
            }
        }
    }
    let sizes: BTreeMap<&str, u64> = entries
        .iter()
        .map(|e| (e.set_id.as_str(), e.bytes))
        .collect();
    let doomed: Vec<String> = report
        .decisions
        .iter()
        .filter(|d| !d.keep)
        .map(|d| d.set_id.clone())
        .chain(
            report
                .leftovers
                .iter()
                .filter(|l| l.remove)
                .map(|l| l.set_id.clone()),
        )
        .collect();
    for set_id in &doomed {
        report.removed_bytes += sizes.get(set_id.as_str()).copied().unwrap_or(0);
        if !options.dry_run {
            report.removed_objects += remove_set(store, set_id)?;
        }
    }
    // Leases left in the committed sets that stay: the manifest is in place, so they
    // protect nothing (a writer still between the two removes them itself, harmlessly).
    for entry in &entries {
        if !matches!(entry.state, SetState::Committed { .. })
            || entry.lease.is_none()
            || doomed.contains(&entry.set_id)
        {
            continue;
        }
        for meta in store.list(&lease_prefix(&entry.set_id))? {
            report.removed_bytes += meta.size;
            if !options.dry_run {
                store.delete(&ObjectKey::parse(&meta.key)?)?;
                report.removed_objects += 1;
            }
            report.stale_leases.push(meta.key);
        }
    }
    // After the sets: removing a set's objects can leave its temporaries alone in a folder.
    // A temporary in a set (or lock) whose lease is live is in use, whatever its age: the
    // lease is read after the temporaries are listed, and a writer takes its lease before
    // it writes anything, and releases it only after its last put.
    let mut leases: BTreeMap<String, Option<LeaseStatus>> = BTreeMap::new();
    for temporary in store.temporaries()? {
        let live = match lease_scope(&temporary.path) {
            Some(prefix) => match leases.get(&prefix) {
                Some(status) => status.clone(),
                None => {
                    let status = read_lease(store, &prefix)?.filter(LeaseStatus::is_live);
                    leases.insert(prefix, status.clone());
                    status
                }
            },
            None => None,
        };
        let decision = match live {
            Some(status) => TemporaryDecision {
                path: temporary.path.clone(),
                kind: temporary.kind,
                size: temporary.size,
                remove: false,
                reason: format!("{} in use: {status}", temporary.kind),
            },
            None if temporary.kind != TemporaryKind::EmptyFolder
                && !present_at_start.contains(&temporary.path) =>
            {
                TemporaryDecision {
                    path: temporary.path.clone(),
                    kind: temporary.kind,
                    size: temporary.size,
                    remove: false,
                    reason: format!(
                        "{} that appeared during the prune: a write may still be using it",
                        temporary.kind
                    ),
                }
            }
            // The folders of a set this prune removed, emptied by its removal (their times
            // are those of the removal, within any grace period): nothing writes there.
            None if temporary.kind == TemporaryKind::EmptyFolder
                && temporary
                    .path
                    .strip_prefix(SETS_PREFIX)
                    .and_then(|rest| rest.split('/').next())
                    .is_some_and(|id| doomed.iter().any(|d| d == id)) =>
            {
                TemporaryDecision {
                    path: temporary.path.clone(),
                    kind: temporary.kind,
                    size: temporary.size,
                    remove: true,
                    reason: format!("{} of a set removed by this prune", temporary.kind),
                }
            }
            None => temporary_decision(&temporary, now, grace),
        };
        if decision.remove {
            report.removed_bytes += temporary.size;
            if !options.dry_run {
                store.remove_temporary(&temporary)?;
                report.removed_temporaries += 1;
            }
        }
        report.temporaries.push(decision);
    }
    Ok(report)
}

/// What to do with an incomplete set last written `age` ago.
fn incomplete_decision(
    entry: &SetEntry,
    age: jiff::SignedDuration,
    grace: jiff::SignedDuration,
) -> LeftoverDecision {
    let (remove, reason) = match &entry.lease {
        Some(lease) if lease.is_live() => (
            false,
            format!("incomplete (no manifest), being written: {lease}"),
        ),
        Some(lease) if age >= grace => (
            true,
            format!(
                "incomplete (no manifest), its writer stopped: {lease}; last written {} ago",
                human_duration(age)
            ),
        ),
        Some(lease) => (
            false,
            format!(
                "incomplete, its writer stopped ({lease}), but written {} ago, within the \
                 grace period",
                human_duration(age)
            ),
        ),
        None if age >= grace => (
            true,
            format!(
                "incomplete (no manifest), last written {} ago",
                human_duration(age)
            ),
        ),
        None => (
            false,
            format!(
                "incomplete but written {} ago, within the grace period: it may still be being written",
                human_duration(age)
            ),
        ),
    };
    LeftoverDecision {
        set_id: entry.set_id.clone(),
        objects: entry.objects,
        remove,
        reason,
        lease: entry.lease.clone(),
    }
}

/// Why an incomplete set the scan found abandoned is not to be removed after all: its lease
/// is live again, or it was committed meanwhile. The lease is read first: a writer removes
/// it only after its manifest is in place.
fn taken_back(store: &dyn Store, set_id: &str) -> Result<Option<(String, Option<LeaseStatus>)>> {
    let lease = read_lease(store, &lease_prefix(set_id))?;
    if let Some(status) = lease.as_ref().filter(|l| l.is_live()) {
        return Ok(Some((
            format!("incomplete (no manifest), being written: {status} (renewed during the prune)"),
            lease,
        )));
    }
    if store.head(&key(set_id, MANIFEST_NAME)?)?.is_some() {
        return Ok(Some((
            "committed during the prune: left for the next one to judge".to_string(),
            lease,
        )));
    }
    Ok(None)
}

/// The lease that covers a temporary at `path`: its set's, or the prune lock's.
fn lease_scope(path: &str) -> Option<String> {
    if let Some(rest) = path.strip_prefix(SETS_PREFIX) {
        let set_id = rest.split('/').next().filter(|id| !id.is_empty())?;
        return Some(lease_prefix(set_id));
    }
    let locks = PRUNE_LOCK_PREFIX.split('/').next().unwrap_or_default();
    let in_locks = path == locks
        || path
            .strip_prefix(locks)
            .is_some_and(|rest| rest.starts_with('/'));
    in_locks.then(|| PRUNE_LOCK_PREFIX.to_string())
}

fn temporary_decision(
    temporary: &Temporary,
    now: Timestamp,
    grace: jiff::SignedDuration,
) -> TemporaryDecision {
    let age = now.duration_since(temporary.last_modified);
    let remove = age >= grace;
    let reason = if remove {
        format!(
            "{} left by an interrupted write, last written {} ago",
            temporary.kind,
            human_duration(age)
        )
    } else {
        format!(
            "{} written {} ago, within the grace period: a write may still be using it",
            temporary.kind,
            human_duration(age)
        )
    };
    TemporaryDecision {
        path: temporary.path.clone(),
        kind: temporary.kind,
        size: temporary.size,
        remove,
        reason,
    }
}

/// Removes a set: the manifest first, then every other object.
fn remove_set(store: &dyn Store, set_id: &str) -> Result<u64> {
    let manifest = key(set_id, MANIFEST_NAME)?;
    let mut removed = 0;
    if store.head(&manifest)?.is_some() {
        store.delete(&manifest)?;
        removed += 1;
    }
    for meta in store.list(&format!("{SETS_PREFIX}{set_id}/"))? {
        store.delete(&ObjectKey::parse(&meta.key)?)?;
        removed += 1;
    }
    Ok(removed)
}

fn human_duration(d: jiff::SignedDuration) -> String {
    let secs = d.as_secs().max(0);
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::store::LocalStore;

    #[test]
    fn a_set_id_in_use_is_drawn_again() {
        let dir = tempfile::tempdir().unwrap();
        let store: DynStore = Arc::new(LocalStore::new(dir.path()));
        let taken = "20260101T000000Z-0000000000000001";
        let fresh = "20260101T000000Z-0000000000000002";
        // A set from before leases, and a writer at work under the same id: both seen.
        store
            .put(
                &key(taken, "artifacts/a").unwrap(),
                &mut &b"x"[..],
                &PutOptions::default(),
            )
            .unwrap();
        let mut ids = [taken, taken, fresh].into_iter();
        let writer = SetWriter::begin_with_ids(store.clone(), SetOptions::default(), |_| {
            ids.next().unwrap().to_string()
        })
        .unwrap();
        assert_eq!(writer.set_id(), fresh);
        // The set in use keeps its object, and no lease of the writer's is left in it.
        let left: Vec<String> = store
            .list(&format!("{SETS_PREFIX}{taken}/"))
            .unwrap()
            .into_iter()
            .map(|m| m.key)
            .collect();
        assert_eq!(left, [format!("{SETS_PREFIX}{taken}/artifacts/a")]);
        // A second writer drawing the fresh id while the first is at work: seen by its lease.
        let e =
            SetWriter::begin_with_ids(store.clone(), SetOptions::default(), |_| fresh.to_string())
                .unwrap_err();
        assert!(e.to_string().contains("all in use"), "{e}");
        writer
            .add(ArtifactSpec::new(DataKind::Log, "x", "a"), &mut &b"1"[..])
            .unwrap();
        let manifest = writer.commit().unwrap();
        assert_eq!(manifest.set_id, fresh);
        assert!(store.list(&lease_prefix(fresh)).unwrap().is_empty());
    }

    #[test]
    fn lease_scopes() {
        assert_eq!(
            lease_scope("sets/abc/artifacts/.continuum-tmp-1").as_deref(),
            Some("sets/abc/lease/")
        );
        assert_eq!(lease_scope("sets/abc").as_deref(), Some("sets/abc/lease/"));
        assert_eq!(lease_scope("sets"), None);
        assert_eq!(lease_scope("locks").as_deref(), Some(PRUNE_LOCK_PREFIX));
        assert_eq!(
            lease_scope("locks/prune/.continuum-tmp-1").as_deref(),
            Some(PRUNE_LOCK_PREFIX)
        );
        assert_eq!(lease_scope("locksmith/x"), None);
        assert!(is_lease_key("sets/a/lease/x.json"));
        assert!(!is_lease_key("sets/a/artifacts/lease/x.json"));
    }
}
