//! Leases: small objects by which a process tells the others sharing a store "I am at work
//! here until …", renewed by a heartbeat while it lives.
//!
//! A backup set being written holds a lease in `sets/<set-id>/lease/`; a prune holds one in
//! `locks/prune/`. Whoever finds a live lease leaves what it covers alone; a lease that is
//! not renewed expires, so a writer that was killed stops protecting its leftovers after the
//! lease's duration (or at once, when its process is seen to be gone on the same host).
//!
//! Objects are write-once in every store (a put never overwrites, on S3 a conditional put),
//! so a lease is renewed by writing a **new** object, never by rewriting one. A holder draws
//! a random name (16 hex digits) and writes `<prefix><holder>-<sequence>.json`, the sequence
//! counting up from 1 in 10 decimal digits (so keys sort in the order written). Each renewal
//! writes the next object first, then removes those older than the one before it: at least
//! one object of a live holder stays in place through any renewal, whatever order a listing
//! reads a folder in. The holder's newest object tells who it is ([`LeaseDocument`]) and when
//! the lease expires.
//!
//! Expiry is judged by the clock of the process that reads the lease, against the later of
//! the time the holder wrote into the lease and the time the store gave its newest object
//! plus the lease's duration: the hosts sharing a store must agree on the time to well
//! within a lease's duration (five minutes by default).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::{DynStore, ObjectKey, ObjectMeta, PutOptions, Store, get_bytes};
use crate::digest::Digest;
use crate::error::{Error, Result};

/// The version of the lease format ([`LeaseDocument`]) this build writes and reads.
pub const LEASE_FORMAT_VERSION: u64 = 1;

/// How long a lease lasts unless renewed, by default. A heartbeat renews it every third of
/// its duration.
pub const DEFAULT_LEASE_DURATION: Duration = Duration::from_secs(300);

/// Where a prune's lease lives: one prune at a time works on a store.
pub const PRUNE_LOCK_PREFIX: &str = "locks/prune/";

/// The largest lease object read (a bound against hostile stores).
const MAX_LEASE_SIZE: u64 = 64 << 10;
/// The shortest pause between two renewals.
const MIN_PERIOD: Duration = Duration::from_millis(10);
/// Tries of one lease put (a lease is small, so it can be written again).
const PUT_ATTEMPTS: u32 = 10;
/// The longest lease duration taken, or believed from a lease object.
const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);
const MAX_BELIEVED_DURATION: SignedDuration = SignedDuration::from_hours(24);

/// What one lease object says (`<prefix><holder>-<sequence>.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[non_exhaustive]
pub struct LeaseDocument {
    /// The version of this format: 1.
    pub format_version: u64,
    /// What the holder is doing (`backup set <id>`, `prune`).
    pub purpose: String,
    /// The holder: 16 random hex digits, the same in every object of one lease.
    pub holder: String,
    /// Which renewal this object is: 1 when the lease is taken, then 2, 3 …
    pub sequence: u64,
    /// The host the holder runs on (its name, for people to read).
    pub host: String,
    /// The holder's process id on its host.
    pub pid: u32,
    /// What identifies the holder's process on its host (Linux), so that a process on the
    /// same host and in the same PID namespace can tell it is gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<ProcessIdentity>,
    /// The program that holds the lease.
    pub producer: String,
    /// When the lease was taken (UTC).
    #[schemars(with = "String")]
    pub acquired_at: Timestamp,
    /// When this object was written (UTC).
    #[schemars(with = "String")]
    pub renewed_at: Timestamp,
    /// When the lease ends unless renewed again (UTC).
    #[schemars(with = "String")]
    pub expires_at: Timestamp,
}

/// What identifies a process on a Linux host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[non_exhaustive]
pub struct ProcessIdentity {
    /// The kernel's boot id (`/proc/sys/kernel/random/boot_id`): this host, this boot.
    pub boot_id: String,
    /// The PID namespace the pid belongs to (`/proc/self/ns/pid`, as `pid:[4026531836]`).
    pub pid_namespace: String,
    /// The process's start time in clock ticks after boot (`/proc/<pid>/stat`): a pid used
    /// again by another process tells apart.
    pub start_time: u64,
}

impl LeaseDocument {
    /// Parses and checks a lease object.
    pub fn from_json(path: &str, bytes: &[u8]) -> Result<Self> {
        #[derive(Deserialize)]
        struct VersionOnly {
            format_version: Option<u64>,
        }
        let probe: VersionOnly =
            serde_json::from_slice(bytes).map_err(|e| Error::json(path, &e))?;
        match probe.format_version {
            Some(LEASE_FORMAT_VERSION) => {}
            Some(found) => {
                return Err(Error::UnsupportedVersion {
                    path: path.to_string(),
                    found,
                    supported: LEASE_FORMAT_VERSION,
                });
            }
            None => {
                return Err(Error::InvalidDocument {
                    path: path.to_string(),
                    line: 1,
                    column: 1,
                    message: "missing field `format_version`".to_string(),
                });
            }
        }
        serde_json::from_slice(bytes).map_err(|e| Error::json(path, &e))
    }

    /// The canonical JSON form (pretty, with a final newline).
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).unwrap_or_default();
        out.push(b'\n');
        out
    }

    /// The JSON Schema of a lease object, as committed in `docs/schemas/lease.schema.json`.
    pub fn json_schema() -> String {
        let schema = schemars::schema_for!(LeaseDocument);
        let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// Who holds (or held) a lease, as its newest object tells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct LeaseHolder {
    /// The newest object of the lease.
    pub key: String,
    /// What the holder is doing (`unknown` when the object cannot be read).
    pub purpose: String,
    /// Its host.
    pub host: String,
    /// Its process id there (0 when unknown).
    pub pid: u32,
    /// When it took the lease.
    pub acquired_at: Timestamp,
    /// When the lease ends (or ended) unless renewed.
    pub expires_at: Timestamp,
}

impl fmt::Display for LeaseHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (pid {} on {})", self.purpose, self.pid, self.host)
    }
}

/// The state of a lease, as a reader finds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[non_exhaustive]
pub enum LeaseStatus {
    /// Its holder is at work: what it covers is left alone.
    Live {
        /// The holder whose lease ends last.
        holder: LeaseHolder,
    },
    /// An object of the lease went between its listing and its reading: the holder renewed
    /// or released the lease a moment ago. Counts as live.
    Changing {
        /// The object that went.
        key: String,
    },
    /// No holder is at work any more.
    Expired {
        /// The holder whose lease ended last.
        holder: LeaseHolder,
        /// True when its process is known to be gone (same host, no such process), whatever
        /// the lease's time.
        gone: bool,
    },
}

impl LeaseStatus {
    /// True when the lease protects what it covers ([`LeaseStatus::Live`] or
    /// [`LeaseStatus::Changing`]).
    pub fn is_live(&self) -> bool {
        !matches!(self, Self::Expired { .. })
    }
}

impl fmt::Display for LeaseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Live { holder } => write!(
                f,
                "{holder} holds its lease until {}",
                when(holder.expires_at)
            ),
            Self::Changing { key } => write!(
                f,
                "its lease changed while it was read (`{key}` renewed or released just now)"
            ),
            Self::Expired { holder, gone: true } => {
                write!(f, "the holder of its lease, {holder}, is gone")
            }
            Self::Expired {
                holder,
                gone: false,
            } => write!(
                f,
                "the lease of {holder} expired at {}",
                when(holder.expires_at)
            ),
        }
    }
}

fn when(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// The holder and sequence a lease object's key names (the whole name and 0 when it does
/// not follow the pattern).
fn holder_of<'k>(prefix: &str, key: &'k str) -> (&'k str, u64) {
    let name = key
        .strip_prefix(prefix)
        .unwrap_or(key)
        .rsplit('/')
        .next()
        .unwrap_or(key);
    name.strip_suffix(".json")
        .and_then(|n| n.rsplit_once('-'))
        .and_then(|(holder, seq)| Some((holder, seq.parse().ok()?)))
        .unwrap_or((name, 0))
}

/// One holder's lease, as judged.
#[derive(Debug)]
struct Judged {
    holder: String,
    keys: Vec<ObjectKey>,
    status: LeaseStatus,
}

/// Judges every holder of the lease objects `objects` (listed below `prefix`).
fn judge(store: &dyn Store, prefix: &str, objects: &[ObjectMeta]) -> Result<Vec<Judged>> {
    let mut holders: BTreeMap<&str, (u64, &ObjectMeta, Vec<ObjectKey>)> = BTreeMap::new();
    for meta in objects {
        let (holder, sequence) = holder_of(prefix, &meta.key);
        let entry = holders
            .entry(holder)
            .or_insert((sequence, meta, Vec::new()));
        if sequence >= entry.0 {
            entry.0 = sequence;
            entry.1 = meta;
        }
        // A key this build would not write cannot be removed through it either.
        if let Ok(key) = ObjectKey::parse(&meta.key) {
            entry.2.push(key);
        }
    }
    let now = Timestamp::now();
    let mut out = Vec::with_capacity(holders.len());
    for (holder, (_, newest, keys)) in holders {
        let read = ObjectKey::parse(&newest.key).and_then(|k| get_bytes(store, &k, MAX_LEASE_SIZE));
        let status = match read {
            Err(Error::NotFound { .. }) => LeaseStatus::Changing {
                key: newest.key.clone(),
            },
            Err(e @ (Error::Store { .. } | Error::Io { .. })) => return Err(e),
            Err(_) => unreadable(newest, now),
            Ok(bytes) => match LeaseDocument::from_json(&newest.key, &bytes) {
                Ok(doc) => judge_document(&doc, newest, now),
                Err(_) => unreadable(newest, now),
            },
        };
        out.push(Judged {
            holder: holder.to_string(),
            keys,
            status,
        });
    }
    Ok(out)
}

/// A lease object that cannot be read counts for a lease of the default duration, from the
/// time the store gives it.
fn unreadable(meta: &ObjectMeta, now: Timestamp) -> LeaseStatus {
    let duration = SignedDuration::try_from(DEFAULT_LEASE_DURATION).unwrap_or(SignedDuration::MAX);
    let holder = LeaseHolder {
        key: meta.key.clone(),
        purpose: "unknown (its lease object cannot be read)".to_string(),
        host: "unknown".to_string(),
        pid: 0,
        acquired_at: meta.last_modified,
        expires_at: meta
            .last_modified
            .checked_add(duration)
            .unwrap_or(Timestamp::MAX),
    };
    if now < holder.expires_at {
        LeaseStatus::Live { holder }
    } else {
        LeaseStatus::Expired {
            holder,
            gone: false,
        }
    }
}

fn judge_document(doc: &LeaseDocument, meta: &ObjectMeta, now: Timestamp) -> LeaseStatus {
    let duration = doc
        .expires_at
        .duration_since(doc.renewed_at)
        .clamp(SignedDuration::ZERO, MAX_BELIEVED_DURATION);
    let by_store = meta
        .last_modified
        .checked_add(duration)
        .unwrap_or(Timestamp::MAX);
    let holder = LeaseHolder {
        key: meta.key.clone(),
        purpose: doc.purpose.clone(),
        host: doc.host.clone(),
        pid: doc.pid,
        acquired_at: doc.acquired_at,
        expires_at: doc.expires_at.max(by_store),
    };
    if holder_is_gone(doc) {
        LeaseStatus::Expired { holder, gone: true }
    } else if now < holder.expires_at {
        LeaseStatus::Live { holder }
    } else {
        LeaseStatus::Expired {
            holder,
            gone: false,
        }
    }
}

/// The status of a lease, all holders together: live when any holder is; `None` when
/// `objects` is empty.
fn combine(judged: &[Judged]) -> Option<LeaseStatus> {
    let latest = |live: bool| {
        judged
            .iter()
            .filter_map(|j| match &j.status {
                LeaseStatus::Live { holder } if live => Some(holder),
                LeaseStatus::Expired { holder, .. } if !live => Some(holder),
                _ => None,
            })
            .max_by_key(|h| h.expires_at)
    };
    if let Some(holder) = latest(true) {
        return Some(LeaseStatus::Live {
            holder: holder.clone(),
        });
    }
    if let Some(changing) = judged
        .iter()
        .find(|j| matches!(j.status, LeaseStatus::Changing { .. }))
    {
        return Some(changing.status.clone());
    }
    let holder = latest(false)?;
    let gone = judged
        .iter()
        .all(|j| matches!(j.status, LeaseStatus::Expired { gone: true, .. }));
    Some(LeaseStatus::Expired {
        holder: holder.clone(),
        gone,
    })
}

/// The status of the lease whose objects, listed below `prefix`, are `objects`; `None` when
/// there are none. Fails only when the store fails.
pub(crate) fn lease_status(
    store: &dyn Store,
    prefix: &str,
    objects: &[ObjectMeta],
) -> Result<Option<LeaseStatus>> {
    if objects.is_empty() {
        return Ok(None);
    }
    Ok(combine(&judge(store, prefix, objects)?))
}

/// Lists the lease at `prefix` and tells its status.
pub(crate) fn read_lease(store: &dyn Store, prefix: &str) -> Result<Option<LeaseStatus>> {
    let objects = store.list(prefix)?;
    lease_status(store, prefix, &objects)
}

// ---------------------------------------------------------------------------------------
// Telling whether a process on this host is gone.

/// This process's identity, where the platform gives one.
fn this_process() -> Option<&'static ProcessIdentity> {
    static THIS: OnceLock<Option<ProcessIdentity>> = OnceLock::new();
    THIS.get_or_init(identify_this_process).as_ref()
}

#[cfg(target_os = "linux")]
fn identify_this_process() -> Option<ProcessIdentity> {
    let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let pid_namespace = std::fs::read_link("/proc/self/ns/pid").ok()?;
    // A `/proc` of another PID namespace numbers processes otherwise: pids cannot be told.
    let own = std::fs::read_to_string("/proc/self/stat").ok()?;
    if own.split(' ').next()? != std::process::id().to_string() {
        return None;
    }
    let ProcState::Running { start_time, .. } = proc_state(std::process::id()) else {
        return None;
    };
    Some(ProcessIdentity {
        boot_id: boot_id.trim().to_string(),
        pid_namespace: pid_namespace.to_str()?.to_string(),
        start_time,
    })
}

#[cfg(not(target_os = "linux"))]
fn identify_this_process() -> Option<ProcessIdentity> {
    None
}

/// What `/proc/<pid>/stat` tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProcState {
    /// There is no such process.
    Gone,
    /// There is: its state letter and start time.
    Running { state: char, start_time: u64 },
    /// Cannot tell.
    Unknown,
}

fn proc_state(pid: u32) -> ProcState {
    let text = match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return ProcState::Gone,
        Err(_) => return ProcState::Unknown,
    };
    // `pid (comm) state ppid …`: the command may hold spaces and parentheses.
    let parsed = text.rfind(')').and_then(|close| {
        let rest: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
        let state = rest.first()?.chars().next()?;
        let start_time = rest.get(19)?.parse().ok()?;
        Some(ProcState::Running { state, start_time })
    });
    parsed.unwrap_or(ProcState::Unknown)
}

/// True when the holder of a lease ran on this host, in this PID namespace, and its process
/// is gone (no such process, a zombie, or another process under its pid). Never true where
/// that cannot be told: another host, another namespace, a `/proc` that hides other users'
/// processes, another platform.
fn holder_is_gone(doc: &LeaseDocument) -> bool {
    let (Some(theirs), Some(ours)) = (&doc.process, this_process()) else {
        return false;
    };
    if theirs.boot_id != ours.boot_id || theirs.pid_namespace != ours.pid_namespace {
        return false;
    }
    // With `hidepid`, processes of other users are hidden, pid 1 among them.
    if !matches!(proc_state(1), ProcState::Running { .. }) {
        return false;
    }
    match proc_state(doc.pid) {
        ProcState::Gone => true,
        ProcState::Running { state, start_time } => {
            start_time != theirs.start_time || matches!(state, 'Z' | 'X')
        }
        ProcState::Unknown => false,
    }
}

/// This host's name, for people to read.
fn host_name() -> String {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .or_else(|| std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()))
            .or_else(|| std::env::var("COMPUTERNAME").ok().filter(|h| !h.is_empty()))
            .unwrap_or_else(|| "unknown".to_string())
    })
    .clone()
}

// ---------------------------------------------------------------------------------------
// Holding a lease.

/// A lease this process holds: what it wrote, and until when it is sure to hold it.
#[derive(Debug)]
pub(crate) struct LeaseState {
    prefix: String,
    holder: String,
    purpose: String,
    duration: Duration,
    acquired_at: Timestamp,
    renewals: Mutex<Renewals>,
}

#[derive(Debug)]
struct Renewals {
    /// The sequence of the newest object written.
    sequence: u64,
    /// The objects written and not removed, oldest first.
    keys: Vec<ObjectKey>,
    /// Until when the lease is sure to hold (the start of the last renewal written, plus
    /// the duration).
    valid_until: Instant,
    /// Once true, always: the lease went unrenewed past its end at some point, and what it
    /// covered may have been removed meanwhile.
    lapsed: bool,
    /// A put failed: it may have landed all the same, so a release looks for strays.
    put_failed: bool,
}

fn lock(m: &Mutex<Renewals>) -> MutexGuard<'_, Renewals> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl LeaseState {
    /// Takes a new lease at `prefix`: writes its first object.
    pub(crate) fn take(
        store: &dyn Store,
        prefix: &str,
        purpose: &str,
        duration: Duration,
    ) -> Result<Self> {
        let state = Self {
            prefix: prefix.to_string(),
            holder: format!("{:016x}", rand::random::<u64>()),
            purpose: purpose.to_string(),
            duration: duration.clamp(MIN_PERIOD * 3, MAX_DURATION),
            acquired_at: Timestamp::now(),
            renewals: Mutex::new(Renewals {
                sequence: 0,
                keys: Vec::new(),
                valid_until: Instant::now(),
                lapsed: false,
                put_failed: false,
            }),
        };
        state.renew(store)?;
        Ok(state)
    }

    /// True when `key` is one of this lease's objects.
    pub(crate) fn owns(&self, key: &str) -> bool {
        key.strip_prefix(&self.prefix)
            .and_then(|name| name.strip_prefix(&self.holder))
            .is_some_and(|rest| rest.starts_with('-'))
    }

    fn key(&self, sequence: u64) -> Result<ObjectKey> {
        ObjectKey::parse(&format!(
            "{}{}-{sequence:010}.json",
            self.prefix, self.holder
        ))
    }

    /// Writes the lease's next object, then removes those older than the one before it.
    pub(crate) fn renew(&self, store: &dyn Store) -> Result<()> {
        let started = Instant::now();
        let sequence = {
            let mut r = lock(&self.renewals);
            if r.sequence > 0 && started >= r.valid_until {
                r.lapsed = true;
            }
            r.sequence + 1
        };
        let now = Timestamp::now();
        let expires_at = now
            .checked_add(SignedDuration::try_from(self.duration).unwrap_or(SignedDuration::MAX))
            .unwrap_or(Timestamp::MAX);
        let document = LeaseDocument {
            format_version: LEASE_FORMAT_VERSION,
            purpose: self.purpose.clone(),
            holder: self.holder.clone(),
            sequence,
            host: host_name(),
            pid: std::process::id(),
            process: this_process().cloned(),
            producer: format!("continuum-backup {}", env!("CARGO_PKG_VERSION")),
            acquired_at: self.acquired_at,
            renewed_at: now,
            expires_at,
        };
        let key = self.key(sequence)?;
        let written = put_small(store, &key, &document.to_json());
        let stale = {
            let mut r = lock(&self.renewals);
            if written.is_err() {
                r.put_failed = true;
            }
            written?;
            r.sequence = sequence;
            r.keys.push(key);
            r.valid_until = started.checked_add(self.duration).unwrap_or(started);
            let keep = r.keys.len().saturating_sub(2);
            r.keys.drain(..keep).collect::<Vec<_>>()
        };
        for old in stale {
            if let Err(e) = store.delete(&old) {
                tracing::warn!(key = %old, error = %e, "could not remove an old lease object");
            }
        }
        Ok(())
    }

    /// Fails when the lease lapsed at some point: it was not renewed in time, so what it
    /// covers may have been removed meanwhile.
    pub(crate) fn check(&self, store: &dyn Store) -> Result<()> {
        let mut r = lock(&self.renewals);
        if Instant::now() >= r.valid_until {
            r.lapsed = true;
        }
        if r.lapsed {
            return Err(Error::Lease {
                store: store.url(),
                message: format!(
                    "the lease of {} (`{}`) was not renewed within {} s: what it covers may \
                     have been removed meanwhile, so it is not committed",
                    self.purpose,
                    self.prefix,
                    self.duration.as_secs_f64()
                ),
            });
        }
        Ok(())
    }

    /// Removes the lease's objects.
    pub(crate) fn release(&self, store: &dyn Store) -> Result<()> {
        let (keys, put_failed) = {
            let mut r = lock(&self.renewals);
            (std::mem::take(&mut r.keys), r.put_failed)
        };
        let mut first_error = None;
        for key in keys {
            if let Err(e) = store.delete(&key) {
                first_error.get_or_insert(e);
            }
        }
        if put_failed {
            match store.list(&self.prefix) {
                Ok(objects) => {
                    for meta in objects.iter().filter(|m| self.owns(&m.key)) {
                        if let Err(e) = ObjectKey::parse(&meta.key).and_then(|k| store.delete(&k)) {
                            first_error.get_or_insert(e);
                        }
                    }
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// Puts a small object, trying again when the put fails for any reason but the key being
/// taken: in a folder store, a prune sweeping empty folders and temporaries may remove the
/// folder or the temporary file of a first put under a new prefix. A key that exists is
/// taken as written (a put that failed after landing); lease keys are random.
fn put_small(store: &dyn Store, key: &ObjectKey, bytes: &[u8]) -> Result<()> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        // Lease objects need not survive a power cut (their holder would not).
        let options = PutOptions {
            volatile: true,
            ..PutOptions::expecting(Digest::of(bytes))
        };
        match store.put(key, &mut &bytes[..], &options) {
            Ok(_) | Err(Error::AlreadyExists { .. }) => return Ok(()),
            Err(e) if attempt >= PUT_ATTEMPTS => return Err(e),
            Err(e) => {
                tracing::debug!(key = %key, error = %e, attempt, "lease put failed; trying again");
                thread::sleep(Duration::from_millis(20 * u64::from(attempt)));
            }
        }
    }
}

/// Renews `state` every third of its duration until `stop` says so (a message, or its
/// sender dropped).
fn heartbeat(store: &dyn Store, state: &LeaseState, stop: &mpsc::Receiver<()>) {
    let period = (state.duration / 3).max(MIN_PERIOD);
    let mut wait = period;
    loop {
        match stop.recv_timeout(wait) {
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
        wait = match state.renew(store) {
            Ok(()) => period,
            Err(e) => {
                tracing::warn!(lease = %state.prefix, error = %e, "could not renew a lease");
                (period / 4).max(MIN_PERIOD)
            }
        };
    }
}

/// A lease held by an owner that outlives any one call (a set writer), renewed by a thread
/// of its own. Dropped, it stops its heartbeat and removes its objects.
#[derive(Debug)]
pub(crate) struct HeldLease {
    store: DynStore,
    state: Arc<LeaseState>,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
    released: bool,
}

impl HeldLease {
    /// Takes a lease at `prefix` and starts its heartbeat.
    pub(crate) fn take(
        store: DynStore,
        prefix: &str,
        purpose: &str,
        duration: Duration,
    ) -> Result<Self> {
        let state = Arc::new(LeaseState::take(store.as_ref(), prefix, purpose, duration)?);
        let (stop, stopped) = mpsc::channel();
        let (s, st) = (Arc::clone(&store), Arc::clone(&state));
        let spawned = thread::Builder::new()
            .name("continuum-lease".to_string())
            .spawn(move || heartbeat(s.as_ref(), &st, &stopped));
        match spawned {
            Ok(thread) => Ok(Self {
                store,
                state,
                stop: Some(stop),
                thread: Some(thread),
                released: false,
            }),
            Err(e) => {
                let _ = state.release(store.as_ref());
                Err(Error::io("start the lease heartbeat of", prefix, e))
            }
        }
    }

    /// The lease.
    pub(crate) fn state(&self) -> &LeaseState {
        &self.state
    }

    fn stop_heartbeat(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    /// Stops the heartbeat and removes the lease's objects.
    pub(crate) fn release(mut self) -> Result<()> {
        self.stop_heartbeat();
        self.released = true;
        self.state.release(self.store.as_ref())
    }

    /// Stops the heartbeat and leaves the lease's objects, as a process killed would.
    pub(crate) fn abandon(mut self) {
        self.stop_heartbeat();
        self.released = true;
    }
}

impl Drop for HeldLease {
    fn drop(&mut self) {
        self.stop_heartbeat();
        if !self.released
            && let Err(e) = self.state.release(self.store.as_ref())
        {
            tracing::warn!(lease = %self.state.prefix, error = %e, "could not release a lease");
        }
    }
}

/// Runs `f` while `state` is renewed by a heartbeat on a scoped thread, then releases it
/// (whatever `f` returned).
pub(crate) fn while_held<R>(
    store: &dyn Store,
    state: &LeaseState,
    f: impl FnOnce() -> Result<R>,
) -> Result<R> {
    let (stop, stopped) = mpsc::channel::<()>();
    let result = thread::scope(|scope| {
        let spawned = thread::Builder::new()
            .name("continuum-lease".to_string())
            .spawn_scoped(scope, move || heartbeat(store, state, &stopped));
        if let Err(e) = spawned {
            return Err(Error::io("start the lease heartbeat of", &state.prefix, e));
        }
        let result = f();
        drop(stop);
        result
    });
    let released = state.release(store);
    let value = result?;
    if let Err(e) = released {
        tracing::warn!(lease = %state.prefix, error = %e, "could not release a lease");
    }
    Ok(value)
}

/// Takes the lease at `prefix` for this process alone: while another holder's lease there is
/// live, waits (polling, up to `wait`), then fails with [`Error::Lease`]. Expired leases of
/// other holders found there are removed once the lease is taken.
///
/// Exclusion without an atomic compare-and-swap: a taker writes its own object (a claim),
/// then lists again, and goes on only when no other holder's lease is live in a listing
/// taken after its claim was written. Of two takers, the one that lists second sees the
/// other's claim (a claim stays in place until its taker backs off or ends), so two never
/// both go on. Between takers that see each other's claims, the one whose holder name is
/// smallest keeps its claim a moment longer, the others back off: one of them goes on.
pub(crate) fn take_exclusive(
    store: &dyn Store,
    prefix: &str,
    purpose: &str,
    duration: Duration,
    wait: Duration,
) -> Result<LeaseState> {
    let began = Instant::now();
    // No deadline: wait as long as it takes.
    let deadline = began.checked_add(wait);
    loop {
        let blocking = match others_live(store, prefix, None)? {
            Some((status, _)) => status,
            None => {
                let state = LeaseState::take(store, prefix, purpose, duration)?;
                match claim(store, prefix, &state) {
                    Ok(None) => return Ok(state),
                    Ok(Some(status)) => {
                        state.release(store)?;
                        status
                    }
                    Err(e) => {
                        // Not left behind to stop the next taker.
                        let _ = state.release(store);
                        return Err(e);
                    }
                }
            }
        };
        let now = Instant::now();
        let left = deadline.map_or(Duration::MAX, |d| d.saturating_duration_since(now));
        if left.is_zero() {
            return Err(Error::Lease {
                store: store.url(),
                message: format!(
                    "another {purpose} is at work on this store: {blocking}; waited {} s \
                     for it (a lease that is not renewed expires, and one whose process is \
                     gone on this host ends at once)",
                    began.elapsed().as_secs()
                ),
            });
        }
        let jitter = Duration::from_millis(rand::random::<u64>() % 250);
        let pause = (Duration::from_millis(250) + jitter).min(left);
        tracing::info!(%blocking, "waiting for another {purpose} to end");
        thread::sleep(pause);
    }
}

/// Rounds a taker whose claim meets only claims of larger holder names keeps it, waiting for
/// them to back off.
const CLAIM_ROUNDS: u32 = 40;

/// Settles a claim just written: `None` when this taker goes on (no other live holder in a
/// listing taken after it; expired leases of others are then removed), or the status of
/// the lease it yields to.
fn claim(store: &dyn Store, prefix: &str, state: &LeaseState) -> Result<Option<LeaseStatus>> {
    for _ in 0..CLAIM_ROUNDS {
        match others_live(store, prefix, Some(state))? {
            None => {
                state.check(store)?;
                sweep_expired(store, prefix, state)?;
                return Ok(None);
            }
            Some((status, smallest)) if smallest.as_str() < state.holder.as_str() => {
                return Ok(Some(status));
            }
            Some(_) => {
                let jitter = Duration::from_millis(rand::random::<u64>() % 50);
                thread::sleep(Duration::from_millis(50) + jitter);
            }
        }
    }
    others_live(store, prefix, Some(state)).map(|o| o.map(|(status, _)| status))
}

/// The status of the leases at `prefix` of every holder but `mine` and the smallest name of
/// a live holder, when any is live.
fn others_live(
    store: &dyn Store,
    prefix: &str,
    mine: Option<&LeaseState>,
) -> Result<Option<(LeaseStatus, String)>> {
    let objects: Vec<ObjectMeta> = store
        .list(prefix)?
        .into_iter()
        .filter(|m| mine.is_none_or(|s| !s.owns(&m.key)))
        .collect();
    let judged = judge(store, prefix, &objects)?;
    let smallest = judged
        .iter()
        .filter(|j| j.status.is_live())
        .map(|j| j.holder.clone())
        .min();
    Ok(combine(&judged).filter(LeaseStatus::is_live).zip(smallest))
}

/// Removes the objects of other holders' expired leases at `prefix`.
fn sweep_expired(store: &dyn Store, prefix: &str, mine: &LeaseState) -> Result<()> {
    let objects: Vec<ObjectMeta> = store
        .list(prefix)?
        .into_iter()
        .filter(|m| !mine.owns(&m.key))
        .collect();
    for judged in judge(store, prefix, &objects)? {
        if matches!(judged.status, LeaseStatus::Expired { .. }) {
            tracing::info!(holder = %judged.holder, status = %judged.status, "removing an expired lease");
            for key in judged.keys {
                store.delete(&key)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse() {
        assert_eq!(
            holder_of(
                "sets/x/lease/",
                "sets/x/lease/00000000000000ab-0000000012.json"
            ),
            ("00000000000000ab", 12)
        );
        assert_eq!(holder_of("p/", "p/odd"), ("odd", 0));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_finished_process_is_gone_and_this_one_is_not() {
        let ours = this_process().cloned().unwrap();
        let mut doc = LeaseDocument {
            format_version: LEASE_FORMAT_VERSION,
            purpose: "test".to_string(),
            holder: "0".repeat(16),
            sequence: 1,
            host: host_name(),
            pid: std::process::id(),
            process: Some(ours.clone()),
            producer: "test".to_string(),
            acquired_at: Timestamp::now(),
            renewed_at: Timestamp::now(),
            expires_at: Timestamp::now(),
        };
        assert!(!holder_is_gone(&doc));
        // The same pid with another start time: a pid used again.
        doc.process = Some(ProcessIdentity {
            start_time: ours.start_time + 1,
            ..ours.clone()
        });
        assert!(holder_is_gone(&doc));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        doc.pid = pid;
        assert!(holder_is_gone(&doc));
        // Another host (or boot) cannot be told.
        doc.process = Some(ProcessIdentity {
            boot_id: "another".to_string(),
            ..ours
        });
        assert!(!holder_is_gone(&doc));
        doc.process = None;
        assert!(!holder_is_gone(&doc));
    }

    #[test]
    fn committed_schema_is_current() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../docs/schemas/lease.schema.json"
        );
        let generated = LeaseDocument::json_schema();
        if std::env::var_os("UPDATE_SCHEMAS").is_some() {
            std::fs::write(path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert_eq!(
            committed, generated,
            "run with UPDATE_SCHEMAS=1 to refresh docs/schemas"
        );
    }
}
