//! Where packages, jobs and their resources live: the [`Registry`] trait and its embedded
//! default, [`FolderRegistry`].

use std::collections::BTreeSet;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use continuum_core::{Digest, Fqn, WriteOptions, write_atomic};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::objects::{Object, ObjectKind};

/// Where job data lives.
pub trait Registry: std::fmt::Debug {
    /// A name for messages.
    fn location(&self) -> String;
    /// Every object's FQN of a kind (of every kind when `None`), sorted.
    fn list(&self, kind: Option<ObjectKind>) -> Result<Vec<Fqn>>;
    /// An object, or `None`.
    fn get(&self, fqn: &Fqn) -> Result<Option<Object>>;
    /// True when the registry holds the resource with this digest.
    fn has_resource(&self, digest: &Digest) -> Result<bool>;
    /// Streams a resource.
    fn open_resource(&self, digest: &Digest) -> Result<Box<dyn Read + Send>>;
    /// Streams a resource into a staging area, checking its digest when one is expected.
    /// Nothing is visible until [`Registry::commit`]; [`Registry::discard`] removes it.
    fn stage_resource(&self, data: &mut dyn Read, expected: Option<Digest>) -> Result<Staged>;
    /// Makes staged resources visible, then stores the objects — all or none: after a crash
    /// the batch of objects is either complete or absent.
    fn commit(&self, staged: &[Staged], objects: &[Object]) -> Result<()>;
    /// Removes staged resources (after a failure); the registry is left as it was.
    fn discard(&self, staged: &[Staged]);

    /// Streams one resource in and commits it. Identical content is stored once.
    fn put_resource(&self, data: &mut dyn Read, expected: Option<Digest>) -> Result<(Digest, u64)> {
        let staged = self.stage_resource(data, expected)?;
        let result = (staged.digest, staged.length);
        match self.commit(std::slice::from_ref(&staged), &[]) {
            Ok(()) => Ok(result),
            Err(e) => {
                self.discard(std::slice::from_ref(&staged));
                Err(e)
            }
        }
    }
}

/// A resource streamed into a registry's staging area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staged {
    /// Its digest.
    pub digest: Digest,
    /// Its length.
    pub length: u64,
    /// Where it waits (`None` when the registry already held it).
    pub(crate) path: Option<PathBuf>,
}

/// The embedded default: a folder (`<cluster>/jobdata/`) with objects as JSON files under
/// `objects/<kind>/`, resources content-addressed under `resources/sha256/`, and a journal
/// that makes a batch of object writes atomic.
#[derive(Debug, Clone)]
pub struct FolderRegistry {
    root: PathBuf,
    /// Folders (the root, its parent) that did not exist when the registry was opened: a
    /// failed first write removes them again, and never a folder that was there before.
    created: Vec<PathBuf>,
    /// A shared lock on the staging folder, held while this registry has resources staged
    /// there: [`FolderRegistry::open`] removes what the staging folder holds only when it
    /// can lock it exclusively, so never what a live import staged, always what a killed one
    /// left.
    staging: Arc<Mutex<Staging>>,
}

/// What this registry (and its clones) has in the staging folder.
#[derive(Debug, Default)]
struct Staging {
    /// The shared lock on the folder, held while anything is staged.
    lock: Option<fs::File>,
    /// Resources staged and neither committed nor discarded yet.
    pending: usize,
}

const JOURNAL: &str = "journal.json";
const INCOMING: &str = ".incoming";

#[derive(Serialize, Deserialize)]
struct Journal {
    format_version: u64,
    objects: Vec<Object>,
}

impl FolderRegistry {
    /// Opens the registry in `root`, finishing any batch a crash interrupted.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self> {
        let root: PathBuf = root.into();
        let created = [Some(root.as_path()), root.parent()]
            .into_iter()
            .flatten()
            .filter(|p| !p.as_os_str().is_empty() && !p.exists())
            .map(Path::to_path_buf)
            .collect();
        let registry = Self {
            root,
            created,
            staging: Arc::default(),
        };
        registry.recover()?;
        registry.clear_stale_staging();
        Ok(registry)
    }

    /// The registry of a cluster folder: `<cluster>/jobdata/`.
    pub fn for_cluster(cluster_dir: &Path) -> Result<Self> {
        Self::open(cluster_dir.join("jobdata"))
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn object_path(&self, fqn: &Fqn) -> Result<PathBuf> {
        let kind = fqn
            .resource_type()
            .and_then(ObjectKind::from_resource_type)
            .ok_or_else(|| Error::InvalidObject {
                kind: "object".to_string(),
                fqn: fqn.to_string(),
                reason: "job data holds packages, jobs, staging pipelines, services, providers and bindings".to_string(),
            })?;
        Ok(self
            .root
            .join("objects")
            .join(kind.as_str())
            .join(file_name(fqn)))
    }

    fn resource_path(&self, digest: &Digest) -> PathBuf {
        let hex = digest.to_hex();
        self.root
            .join("resources/sha256")
            .join(hex.get(..2).unwrap_or("00"))
            .join(hex)
    }

    fn write_object(&self, object: &Object) -> Result<()> {
        let path = self.object_path(object.fqn())?;
        let mut json = serde_json::to_vec_pretty(object).map_err(|e| Error::InvalidObject {
            kind: object.kind().to_string(),
            fqn: object.fqn().to_string(),
            reason: e.to_string(),
        })?;
        json.push(b'\n');
        write_atomic(&path, &mut json.as_slice(), WriteOptions::replacing(true))?;
        Ok(())
    }

    /// Removes what imports killed before their commit left in the staging folder, unless an
    /// import is staging there now (it holds a shared lock on the folder).
    fn clear_stale_staging(&self) {
        let incoming = self.root.join(INCOMING);
        let Ok(dir) = fs::File::open(&incoming) else {
            return;
        };
        if dir.try_lock().is_err() {
            return;
        }
        if let Ok(entries) = fs::read_dir(&incoming) {
            for entry in entries.flatten() {
                let _ = fs::remove_file(entry.path());
            }
        }
        let _ = fs::remove_dir(&incoming);
    }

    /// Counts one more resource to stage, taking the shared lock on the staging folder
    /// (creating it) for the first.
    fn hold_staging(&self) -> Result<()> {
        let mut staging = self
            .staging
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if staging.lock.is_none() {
            let incoming = self.root.join(INCOMING);
            fs::create_dir_all(&incoming).map_err(|e| Error::io("create", &incoming, e))?;
            let dir = fs::File::open(&incoming).map_err(|e| Error::io("open", &incoming, e))?;
            dir.lock_shared()
                .map_err(|e| Error::io("lock", &incoming, e))?;
            staging.lock = Some(dir);
        }
        staging.pending += 1;
        Ok(())
    }

    /// Counts `n` staged resources as committed or discarded; after the last, the lock goes
    /// and so do the staging folder and the folders the registry made, when empty.
    fn release_staging(&self, n: usize) {
        let mut staging = self
            .staging
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        staging.pending = staging.pending.saturating_sub(n);
        if staging.pending > 0 {
            return;
        }
        staging.lock = None;
        let _ = fs::remove_dir(self.root.join(INCOMING));
        for dir in &self.created {
            // Only empty folders go; one that holds anything stays.
            let _ = fs::remove_dir(dir);
        }
    }

    /// Rolls a journaled batch forward: every object it names is written (again).
    fn recover(&self) -> Result<()> {
        let journal = self.root.join(JOURNAL);
        let bytes = match fs::read(&journal) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::io("read", &journal, e)),
        };
        let batch: Journal = serde_json::from_slice(&bytes)
            .map_err(|e| continuum_core::Error::json(journal.display().to_string(), &e))?;
        for object in &batch.objects {
            self.write_object(object)?;
        }
        fs::remove_file(&journal).map_err(|e| Error::io("remove", &journal, e))?;
        Ok(())
    }
}

/// A file name for an FQN: readable where it can be, `%XX` for the rest, a digest when long.
fn file_name(fqn: &Fqn) -> String {
    let text = fqn.to_string();
    let mut out = String::with_capacity(text.len() + 8);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.len() > 200 {
        out = format!("long-{}", Digest::of(text.as_bytes()).to_hex());
    }
    out.push_str(".json");
    out
}

impl Registry for FolderRegistry {
    fn location(&self) -> String {
        self.root.display().to_string()
    }

    fn list(&self, kind: Option<ObjectKind>) -> Result<Vec<Fqn>> {
        let kinds: Vec<ObjectKind> = kind.map_or_else(|| ObjectKind::ALL.to_vec(), |k| vec![k]);
        let mut out = BTreeSet::new();
        for kind in kinds {
            let dir = self.root.join("objects").join(kind.as_str());
            let entries = match fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io("list", &dir, e)),
            };
            for entry in entries {
                let path = entry.map_err(|e| Error::io("list", &dir, e))?.path();
                if path.extension().and_then(|e| e.to_str()) != Some("json") {
                    continue;
                }
                let object = read_object(&path)?;
                out.insert(object.fqn().clone());
            }
        }
        Ok(out.into_iter().collect())
    }

    fn get(&self, fqn: &Fqn) -> Result<Option<Object>> {
        let path = self.object_path(fqn)?;
        if !path.exists() {
            return Ok(None);
        }
        read_object(&path).map(Some)
    }

    fn has_resource(&self, digest: &Digest) -> Result<bool> {
        Ok(self.resource_path(digest).is_file())
    }

    fn open_resource(&self, digest: &Digest) -> Result<Box<dyn Read + Send>> {
        let path = self.resource_path(digest);
        let file = fs::File::open(&path).map_err(|e| Error::io("open", &path, e))?;
        Ok(Box::new(file))
    }

    fn stage_resource(&self, data: &mut dyn Read, expected: Option<Digest>) -> Result<Staged> {
        if let Some(digest) = expected
            && self.has_resource(&digest)?
        {
            // Identical content is stored once; the stream is still read and checked, so a
            // damaged source is refused even when the registry already holds the resource.
            let (actual, length) = continuum_core::digest_reader(data)
                .map_err(|e| Error::io("read", self.resource_path(&digest), e))?;
            if actual != digest {
                return Err(Error::Core(continuum_core::Error::Corrupt {
                    entry: digest.to_string(),
                    expected: digest.to_string(),
                    actual: actual.to_string(),
                }));
            }
            return Ok(Staged {
                digest,
                length,
                path: None,
            });
        }
        self.hold_staging()?;
        let path = self
            .root
            .join(INCOMING)
            .join(format!("{:016x}", rand::random::<u64>()));
        let mut options = WriteOptions::default();
        options.expected_sha256 = expected;
        let written = write_atomic(&path, data, options);
        let (length, digest) = match written {
            Ok(w) => w,
            Err(e) => {
                self.release_staging(1);
                return Err(e.into());
            }
        };
        Ok(Staged {
            digest,
            length,
            path: Some(path),
        })
    }

    fn commit(&self, staged: &[Staged], objects: &[Object]) -> Result<()> {
        for s in staged {
            let Some(path) = &s.path else { continue };
            let target = self.resource_path(&s.digest);
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
            }
            fs::rename(path, &target).map_err(|e| Error::io("move into place", &target, e))?;
        }
        self.release_staging(staged.iter().filter(|s| s.path.is_some()).count());
        self.put_objects(objects)
    }

    fn discard(&self, staged: &[Staged]) {
        for s in staged {
            if let Some(path) = &s.path {
                let _ = fs::remove_file(path);
            }
        }
        self.release_staging(staged.iter().filter(|s| s.path.is_some()).count());
    }
}

impl FolderRegistry {
    fn put_objects(&self, objects: &[Object]) -> Result<()> {
        if objects.is_empty() {
            return Ok(());
        }
        let journal = Journal {
            format_version: 1,
            objects: objects.to_vec(),
        };
        let json = serde_json::to_vec(&journal).map_err(|e| Error::InvalidObject {
            kind: "batch".to_string(),
            fqn: String::new(),
            reason: e.to_string(),
        })?;
        // The journal is the commit point: once it is in place, the batch completes (now or
        // when the registry is next opened).
        write_atomic(
            &self.root.join(JOURNAL),
            &mut json.as_slice(),
            WriteOptions::default(),
        )?;
        self.recover()
    }
}

fn read_object(path: &Path) -> Result<Object> {
    let bytes = fs::read(path).map_err(|e| Error::io("read", path, e))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| Error::Core(continuum_core::Error::json(path.display().to_string(), &e)))
}
