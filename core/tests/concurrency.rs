//! Backups and prunes at once in one store, on both stores: writers hold leases on the sets
//! they write, so a prune (even with no grace) never removes or damages one of them; a
//! writer that was killed stops protecting its set once its lease expires (at once when its
//! process is seen gone on this host); lease objects are never taken for sets or content;
//! prunes take turns.
#![cfg(test)]

use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use continuum_core::{
    ArtifactSpec, DataKind, DynStore, Error, LeaseDocument, LeaseStatus, LocalStore, ObjectKey,
    ObjectMeta, PruneOptions, PruneReport, PutOptions, PutResult, Reason, RetentionPolicy,
    SetOptions, SetState, SetWriter, Store, Temporary, copy_set, list_sets, prune, scan_sets,
    verify_set,
};
use continuum_testkit::{Pattern, key, local_store, read_all, s3_store};
use serde_json::{Value, json};

/// A policy that keeps every committed set: only incomplete sets and temporaries can go.
fn keep_all(grace: Duration) -> PruneOptions {
    let mut options = PruneOptions::new(RetentionPolicy::last(1_000_000));
    options.incomplete_grace = grace;
    options
}

fn lease_keys(store: &dyn Store, set_id: &str) -> Vec<String> {
    store
        .list(&format!("sets/{set_id}/lease/"))
        .unwrap()
        .into_iter()
        .map(|m| m.key)
        .collect()
}

/// Every lease object in the store, wherever it is.
fn all_lease_keys(store: &dyn Store) -> Vec<String> {
    store
        .list("")
        .unwrap()
        .into_iter()
        .map(|m| m.key)
        .filter(|k| {
            let mut parts = k.splitn(3, '/');
            let in_set = parts.next() == Some("sets")
                && parts.next().is_some()
                && parts.next().is_some_and(|rest| rest.starts_with("lease/"));
            in_set || k.starts_with("locks/")
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Writers and prunes at once.

struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// `writers` threads write `sets_each` sets each (three artifacts, with pauses between them,
/// so that each set spends a while incomplete and its lease is renewed meanwhile) while
/// two threads prune with no grace in a loop. No writer fails; every set committed is
/// complete and verifies; no prune removes an incomplete set (none was abandoned); the
/// prunes did see sets being written, and said why they left them.
fn writers_and_prunes(store: DynStore, writers: usize, sets_each: usize, lease: Duration) {
    // A set from before (and a folder store's folder, which a prune wants to exist).
    let writer = SetWriter::begin(store.clone(), SetOptions::new(Reason::Daily)).unwrap();
    writer
        .add(
            ArtifactSpec::new(DataKind::Cluster, "c", "a0.bin"),
            &mut &b"x"[..],
        )
        .unwrap();
    let before = writer.commit().unwrap().set_id;
    let started = Instant::now();
    let done = AtomicBool::new(false);
    let prunes = AtomicUsize::new(0);
    let reports: Mutex<Vec<PruneReport>> = Mutex::new(Vec::new());
    let committed: Vec<String> = std::thread::scope(|s| {
        // The prunes end when the writers do, even when one fails (a test that fails
        // does not hang).
        let _stop = StopOnDrop(&done);
        let pruners: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    while !done.load(Ordering::SeqCst) {
                        let report = prune(store.as_ref(), &keep_all(Duration::ZERO))
                            .expect("a prune beside writers fails");
                        prunes.fetch_add(1, Ordering::SeqCst);
                        reports.lock().unwrap().push(report);
                    }
                })
            })
            .collect();
        let handles: Vec<_> = (0..writers)
            .map(|w| {
                let store = store.clone();
                s.spawn(move || {
                    let mut ids = Vec::new();
                    for n in 0..sets_each {
                        let options = SetOptions::new(Reason::Daily).lease_duration(lease);
                        let writer = SetWriter::begin(store.clone(), options).unwrap();
                        for a in 0..3u64 {
                            let seed = (w * 1000 + n * 10) as u64 + a;
                            let size = 1000 + (seed * 7919) % (96 << 10);
                            writer
                                .add(
                                    ArtifactSpec::new(DataKind::Cluster, "c", format!("a{a}.bin")),
                                    &mut Pattern::new(size, seed),
                                )
                                .unwrap_or_else(|e| panic!("writer {w} set {n}: {e}"));
                            std::thread::sleep(Duration::from_millis(120));
                        }
                        let manifest = writer
                            .commit()
                            .unwrap_or_else(|e| panic!("writer {w} set {n}: commit: {e}"));
                        ids.push(manifest.set_id);
                    }
                    ids
                })
            })
            .collect();
        let ids = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        done.store(true, Ordering::SeqCst);
        for p in pruners {
            p.join().unwrap();
        }
        ids
    });
    let elapsed = started.elapsed();

    let reports = reports.into_inner().unwrap();
    let mut kept_live = 0;
    for report in &reports {
        for leftover in &report.leftovers {
            assert!(
                !leftover.remove,
                "a prune removed a set being written: {leftover:?}"
            );
            if leftover.lease.as_ref().is_some_and(LeaseStatus::is_live) {
                assert!(
                    leftover.reason.contains("being written"),
                    "{}",
                    leftover.reason
                );
                kept_live += 1;
            }
        }
        for t in report.temporaries.iter().filter(|t| t.remove) {
            // Only the first lease object of a writer can be caught as a temporary before
            // any lease covers it (its put is tried again); an artifact's, never.
            assert!(!t.path.contains("/artifacts/"), "{t:?}");
        }
    }
    assert!(
        kept_live > 0,
        "no prune saw a set being written ({} prunes)",
        reports.len()
    );

    assert_eq!(committed.len(), writers * sets_each);
    assert!(verify_set(store.as_ref(), &before).unwrap().ok);
    let listed: Vec<String> = list_sets(store.as_ref())
        .unwrap()
        .into_iter()
        .map(|m| m.set_id)
        .collect();
    for id in &committed {
        assert!(listed.contains(id), "{id} is not listed");
        let report = verify_set(store.as_ref(), id).unwrap();
        assert!(report.ok, "{report:?}");
        assert!(report.unexpected_objects.is_empty(), "{report:?}");
        assert_eq!(report.artifacts.len(), 3);
    }
    assert_eq!(listed.len(), committed.len() + 1);
    let entries = scan_sets(store.as_ref()).unwrap();
    assert!(
        entries
            .iter()
            .all(|e| matches!(e.state, SetState::Committed { .. }) && e.lease.is_none()),
        "{entries:?}"
    );
    assert_eq!(all_lease_keys(store.as_ref()), Vec::<String>::new());
    eprintln!(
        "{} sets by {writers} writers in {:.2} s beside {} prunes; {kept_live} times a prune \
         left a set being written",
        committed.len(),
        elapsed.as_secs_f64(),
        prunes.load(Ordering::SeqCst)
    );
}

#[test]
fn folder_store_writers_and_prunes_at_once() {
    let (_dir, store) = local_store();
    writers_and_prunes(store, 6, 3, Duration::from_secs(2));
}

#[test]
fn s3_store_writers_and_prunes_at_once() {
    writers_and_prunes(s3_store(), 4, 2, Duration::from_secs(3));
}

// ---------------------------------------------------------------------------------------
// A writer killed.

/// A writer that crashes leaves an incomplete set that prune keeps while the lease lasts
/// (with the temporaries in it), then within the grace period, then removes.
fn crashed_writer(store: DynStore, lease: Duration, root: Option<&std::path::Path>) {
    let writer = SetWriter::begin(
        store.clone(),
        SetOptions::new(Reason::Daily).lease_duration(lease),
    )
    .unwrap();
    let id = writer.set_id().to_string();
    // Renewals only push the lease's end later: it lasts at least until `begun + lease`,
    // at most until `crashed + lease`.
    let begun = Instant::now();
    writer
        .add(
            ArtifactSpec::new(DataKind::Cluster, "c", "one.bin"),
            &mut Pattern::new(5000, 1),
        )
        .unwrap();
    writer.simulate_crash();
    let crashed = Instant::now();
    // In a folder store, a put it had begun left its temporary file.
    let temporary = root.map(|root| {
        let path = root.join(format!(
            "sets/{id}/artifacts/.continuum-tmp-00000000000000aa"
        ));
        std::fs::write(&path, b"half").unwrap();
        path
    });

    let report = prune(store.as_ref(), &keep_all(Duration::ZERO)).unwrap();
    assert!(
        lease.saturating_sub(begun.elapsed()) > Duration::ZERO,
        "the test was too slow"
    );
    let leftover = report.leftovers.iter().find(|l| l.set_id == id).unwrap();
    assert!(!leftover.remove, "{leftover:?}");
    assert!(
        leftover.reason.contains("being written") && leftover.reason.contains("holds its lease"),
        "{}",
        leftover.reason
    );
    match &leftover.lease {
        Some(LeaseStatus::Live { holder }) => {
            assert_eq!(holder.pid, std::process::id());
            assert!(holder.purpose.contains(&id), "{holder:?}");
        }
        other => panic!("{other:?}"),
    }
    if let Some(path) = &temporary {
        assert!(path.exists(), "a temporary in a leased set was removed");
        let t = report
            .temporaries
            .iter()
            .find(|t| t.path.ends_with(".continuum-tmp-00000000000000aa"))
            .unwrap();
        assert!(!t.remove && t.reason.contains("in use"), "{t:?}");
    }

    // The lease expires; within the grace period the set stays all the same.
    std::thread::sleep(lease.saturating_sub(crashed.elapsed()) + Duration::from_millis(100));
    let report = prune(store.as_ref(), &keep_all(Duration::from_secs(3600))).unwrap();
    let leftover = report.leftovers.iter().find(|l| l.set_id == id).unwrap();
    assert!(!leftover.remove, "{leftover:?}");
    assert!(
        leftover.reason.contains("writer stopped") && leftover.reason.contains("grace period"),
        "{}",
        leftover.reason
    );
    assert!(matches!(
        leftover.lease,
        Some(LeaseStatus::Expired { gone: false, .. })
    ));

    // With no grace, it goes: the artifact, the lease, the temporary.
    let report = prune(store.as_ref(), &keep_all(Duration::ZERO)).unwrap();
    let leftover = report.leftovers.iter().find(|l| l.set_id == id).unwrap();
    assert!(leftover.remove, "{leftover:?}");
    assert!(leftover.reason.contains("expired"), "{}", leftover.reason);
    assert!(store.list(&format!("sets/{id}/")).unwrap().is_empty());
    assert!(scan_sets(store.as_ref()).unwrap().is_empty());
    if let Some(path) = &temporary {
        assert!(!path.exists());
    }
    assert_eq!(all_lease_keys(store.as_ref()), Vec::<String>::new());
}

#[test]
fn folder_store_crashed_writer_is_removed_once_its_lease_expires() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let store: DynStore = Arc::new(LocalStore::new(&root));
    crashed_writer(store, Duration::from_secs(2), Some(&root));
}

#[test]
fn s3_store_crashed_writer_is_removed_once_its_lease_expires() {
    crashed_writer(s3_store(), Duration::from_secs(3), None);
}

/// The lease of a writer whose process is gone, on this host, ends at once, however long
/// it was to last (what `kill -9` leaves, removed by the next prune).
#[cfg(target_os = "linux")]
#[test]
fn a_lease_whose_process_is_gone_protects_nothing() {
    for store in [local_store().1, s3_store()] {
        let writer = SetWriter::begin(
            store.clone(),
            SetOptions::new(Reason::Daily).lease_duration(Duration::from_secs(3600)),
        )
        .unwrap();
        let id = writer.set_id().to_string();
        writer
            .add(
                ArtifactSpec::new(DataKind::Cluster, "c", "one.bin"),
                &mut &b"data"[..],
            )
            .unwrap();
        writer.simulate_crash();
        // The same lease, as written by a process that has since ended.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let [lease] = lease_keys(store.as_ref(), &id).try_into().unwrap();
        let mut doc: Value = serde_json::from_slice(&read_all(store.as_ref(), &lease)).unwrap();
        doc["pid"] = dead.into();
        store.delete(&key(&lease)).unwrap();
        store
            .put(
                &key(&lease),
                &mut doc.to_string().as_bytes(),
                &PutOptions::default(),
            )
            .unwrap();

        let report = prune(store.as_ref(), &keep_all(Duration::ZERO)).unwrap();
        let leftover = report.leftovers.iter().find(|l| l.set_id == id).unwrap();
        assert!(leftover.remove, "{leftover:?}");
        assert!(leftover.reason.contains("is gone"), "{}", leftover.reason);
        assert!(matches!(
            leftover.lease,
            Some(LeaseStatus::Expired { gone: true, .. })
        ));
        assert!(scan_sets(store.as_ref()).unwrap().is_empty());
    }
}

// ---------------------------------------------------------------------------------------
// What lease objects look like to everything else.

fn leases_are_not_sets(store: DynStore) {
    let writer = SetWriter::begin(
        store.clone(),
        SetOptions::new(Reason::Daily).lease_duration(Duration::from_millis(900)),
    )
    .unwrap();
    let id = writer.set_id().to_string();
    assert_eq!(id.len(), "20260101T000000Z-".len() + 16, "{id}");

    // Begun, nothing written: an incomplete set with a lease and no objects, never listed.
    let entries = scan_sets(store.as_ref()).unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let entry = &entries[0];
    assert_eq!(entry.set_id, id);
    assert!(matches!(entry.state, SetState::Incomplete));
    assert_eq!((entry.objects, entry.bytes), (0, 0));
    assert!(
        matches!(&entry.lease, Some(LeaseStatus::Live { holder }) if holder.pid == std::process::id()),
        "{entry:?}"
    );
    assert!(list_sets(store.as_ref()).unwrap().is_empty());
    let json = serde_json::to_value(entry).unwrap();
    assert_eq!(json["lease"]["state"], "live", "{json}");

    // The lease object, as documented.
    let [first] = lease_keys(store.as_ref(), &id).try_into().unwrap();
    let name = first.rsplit('/').next().unwrap();
    let (holder, rest) = name.split_once('-').unwrap();
    assert_eq!(holder.len(), 16);
    assert!(holder.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(rest, "0000000001.json");
    let bytes = read_all(store.as_ref(), &first);
    let doc = LeaseDocument::from_json(&first, &bytes).unwrap();
    assert_eq!(doc.format_version, 1);
    assert_eq!(doc.holder, holder);
    assert_eq!(doc.sequence, 1);
    assert_eq!(doc.pid, std::process::id());
    assert!(doc.purpose.contains(&id));
    assert!(doc.expires_at > doc.renewed_at);
    let raw: Value = serde_json::from_slice(&bytes).unwrap();
    for field in [
        "acquired_at",
        "renewed_at",
        "expires_at",
        "host",
        "producer",
    ] {
        assert!(raw.get(field).is_some(), "{field}: {raw}");
    }

    // The heartbeat renews it with new objects, and keeps two (three during a renewal).
    std::thread::sleep(Duration::from_millis(1600));
    let leases = lease_keys(store.as_ref(), &id);
    assert!(
        (1..=3).contains(&leases.len()) && !leases.contains(&first),
        "{leases:?}"
    );
    let newest = leases.last().unwrap();
    let doc = LeaseDocument::from_json(newest, &read_all(store.as_ref(), newest)).unwrap();
    assert!(doc.sequence >= 3, "{doc:?}");
    assert!(newest.contains(holder));

    // Committed: the lease is gone, the set is listed and clean.
    writer
        .add(
            ArtifactSpec::new(DataKind::Cluster, "c", "lease/not-a-lease.txt"),
            &mut &b"an artifact named like a lease"[..],
        )
        .unwrap();
    writer.commit().unwrap();
    assert!(lease_keys(store.as_ref(), &id).is_empty());
    let entries = scan_sets(store.as_ref()).unwrap();
    assert!(matches!(entries[0].state, SetState::Committed { .. }));
    assert!(entries[0].lease.is_none());
    assert_eq!(entries[0].objects, 2);

    // A lease left in a committed set (its writer killed between the manifest and the
    // lease's removal): neither content nor damage; prune removes it and says so.
    let stale = format!("sets/{id}/lease/{holder}-0000000009.json");
    store
        .put(&key(&stale), &mut &bytes[..], &PutOptions::default())
        .unwrap();
    let entries = scan_sets(store.as_ref()).unwrap();
    assert_eq!(entries.len(), 1);
    assert!(matches!(entries[0].state, SetState::Committed { .. }));
    assert!(entries[0].lease.is_some());
    assert_eq!(entries[0].objects, 2);
    let report = verify_set(store.as_ref(), &id).unwrap();
    assert!(
        report.ok && report.unexpected_objects.is_empty(),
        "{report:?}"
    );
    assert_eq!(list_sets(store.as_ref()).unwrap().len(), 1);
    let mut dry = keep_all(Duration::ZERO);
    dry.dry_run = true;
    let report = prune(store.as_ref(), &dry).unwrap();
    assert_eq!(report.stale_leases, std::slice::from_ref(&stale));
    assert_eq!(report.removed_objects, 0);
    let report = prune(store.as_ref(), &keep_all(Duration::ZERO)).unwrap();
    assert_eq!(report.stale_leases, [stale]);
    assert_eq!(report.removed_objects, 1);
    assert!(report.leftovers.is_empty());
    assert!(lease_keys(store.as_ref(), &id).is_empty());
    assert!(verify_set(store.as_ref(), &id).unwrap().ok);
    assert_eq!(all_lease_keys(store.as_ref()), Vec::<String>::new());
}

#[test]
fn folder_store_leases_are_not_sets() {
    leases_are_not_sets(local_store().1);
}

#[test]
fn s3_store_leases_are_not_sets() {
    leases_are_not_sets(s3_store());
}

// ---------------------------------------------------------------------------------------
// A lease that lapsed.

/// A store whose lease puts fail once told to (a network that fails the heartbeat).
#[derive(Debug)]
struct FlakyLeases {
    inner: DynStore,
    fail: AtomicBool,
}

impl Store for FlakyLeases {
    fn url(&self) -> String {
        self.inner.url()
    }
    fn put(
        &self,
        key: &ObjectKey,
        data: &mut dyn Read,
        options: &PutOptions,
    ) -> continuum_core::Result<PutResult> {
        if self.fail.load(Ordering::SeqCst) && key.as_str().contains("/lease/") {
            return Err(Error::Io {
                action: "write",
                path: key.as_str().into(),
                source: io::Error::other("the network is down"),
            });
        }
        self.inner.put(key, data, options)
    }
    fn get(&self, key: &ObjectKey) -> continuum_core::Result<Box<dyn Read + Send>> {
        self.inner.get(key)
    }
    fn head(&self, key: &ObjectKey) -> continuum_core::Result<Option<ObjectMeta>> {
        self.inner.head(key)
    }
    fn list(&self, prefix: &str) -> continuum_core::Result<Vec<ObjectMeta>> {
        self.inner.list(prefix)
    }
    fn delete(&self, key: &ObjectKey) -> continuum_core::Result<()> {
        self.inner.delete(key)
    }
    fn temporaries(&self) -> continuum_core::Result<Vec<Temporary>> {
        self.inner.temporaries()
    }
    fn remove_temporary(&self, temporary: &Temporary) -> continuum_core::Result<()> {
        self.inner.remove_temporary(temporary)
    }
}

/// A writer whose lease went unrenewed past its end does not commit: a prune may have
/// removed what it wrote meanwhile. What it wrote is removed.
#[test]
fn a_writer_whose_lease_lapsed_does_not_commit() {
    let (_dir, inner) = local_store();
    let flaky = Arc::new(FlakyLeases {
        inner: inner.clone(),
        fail: AtomicBool::new(false),
    });
    let store: DynStore = flaky.clone();
    let writer = SetWriter::begin(
        store.clone(),
        SetOptions::new(Reason::Daily).lease_duration(Duration::from_millis(200)),
    )
    .unwrap();
    writer
        .add(
            ArtifactSpec::new(DataKind::Cluster, "c", "one.bin"),
            &mut &b"data"[..],
        )
        .unwrap();
    flaky.fail.store(true, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(400));
    flaky.fail.store(false, Ordering::SeqCst);
    // Renewed again by now, but it lapsed meanwhile.
    std::thread::sleep(Duration::from_millis(150));
    let e = writer.commit().unwrap_err();
    assert!(matches!(e, Error::Lease { .. }), "{e}");
    assert!(e.to_string().contains("not renewed"), "{e}");
    assert!(inner.list("").unwrap().is_empty(), "{:?}", inner.list(""));
}

// ---------------------------------------------------------------------------------------
// Prunes take turns.

/// A prune lock as another host's prune would hold it, for `ttl` from now.
fn foreign_prune_lock(store: &dyn Store, ttl: Duration) -> String {
    let now = jiff::Timestamp::now();
    let until = now
        .checked_add(jiff::SignedDuration::try_from(ttl).unwrap())
        .unwrap();
    let doc = json!({
        "format_version": 1,
        "purpose": "prune",
        "holder": "00000000000000aa",
        "sequence": 1,
        "host": "elsewhere",
        "pid": 4242,
        "producer": "continuum-backup test",
        "acquired_at": now.to_string(),
        "renewed_at": now.to_string(),
        "expires_at": until.to_string(),
    });
    let k = "locks/prune/00000000000000aa-0000000001.json".to_string();
    store
        .put(
            &key(&k),
            &mut doc.to_string().as_bytes(),
            &PutOptions::default(),
        )
        .unwrap();
    k
}

fn prunes_take_turns(store: DynStore) {
    // Something to prune, so the store exists.
    let writer = SetWriter::begin(store.clone(), SetOptions::new(Reason::Daily)).unwrap();
    writer
        .add(
            ArtifactSpec::new(DataKind::Cluster, "c", "f"),
            &mut &b"x"[..],
        )
        .unwrap();
    let id = writer.commit().unwrap().set_id;

    let began = Instant::now();
    let lock = foreign_prune_lock(store.as_ref(), Duration::from_millis(1500));
    let mut at_once = keep_all(Duration::ZERO);
    at_once.lock_wait = Duration::ZERO;
    let e = prune(store.as_ref(), &at_once).unwrap_err();
    assert!(matches!(e, Error::Lease { .. }), "{e}");
    let message = e.to_string();
    assert!(
        message.contains("another prune") && message.contains("pid 4242 on elsewhere"),
        "{message}"
    );
    // A dry run takes no turn.
    let mut dry = at_once.clone();
    dry.dry_run = true;
    prune(store.as_ref(), &dry).unwrap();
    // Waiting: the other prune's lease expires (it was killed), and this one goes on, and
    // removes the expired lease.
    let mut waiting = keep_all(Duration::ZERO);
    waiting.lock_wait = Duration::from_secs(20);
    prune(store.as_ref(), &waiting).unwrap();
    let waited = began.elapsed();
    assert!(waited >= Duration::from_millis(1400), "{waited:?}");
    assert!(store.head(&key(&lock)).unwrap().is_none());
    assert_eq!(all_lease_keys(store.as_ref()), Vec::<String>::new());

    // Two prunes at once: both end well, one after the other.
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..3)
            .map(|_| s.spawn(|| prune(store.as_ref(), &keep_all(Duration::ZERO))))
            .collect();
        for h in handles {
            h.join().unwrap().unwrap();
        }
    });
    assert_eq!(all_lease_keys(store.as_ref()), Vec::<String>::new());
    assert!(verify_set(store.as_ref(), &id).unwrap().ok);
}

#[test]
fn folder_store_prunes_take_turns() {
    prunes_take_turns(local_store().1);
}

#[test]
fn s3_store_prunes_take_turns() {
    prunes_take_turns(s3_store());
}

// ---------------------------------------------------------------------------------------
// Copies.

/// A copy holds a lease while it runs, leaves none, and never removes what the target
/// held before it.
#[test]
fn a_copy_never_removes_what_was_there() {
    let (_a, from) = local_store();
    let to = s3_store();
    let writer = SetWriter::begin(from.clone(), SetOptions::new(Reason::Daily)).unwrap();
    for name in ["a", "b"] {
        writer
            .add(
                ArtifactSpec::new(DataKind::Cluster, "c", name),
                &mut name.as_bytes(),
            )
            .unwrap();
    }
    let id = writer.commit().unwrap().set_id;

    // The target holds one of the set's objects already (a copy killed earlier).
    let b = format!("sets/{id}/artifacts/b");
    to.put(&key(&b), &mut &b"b"[..], &PutOptions::default())
        .unwrap();
    let e = copy_set(from.as_ref(), to.as_ref(), &id).unwrap_err();
    assert!(matches!(e, Error::AlreadyExists { .. }), "{e}");
    let left: Vec<String> = to.list("").unwrap().into_iter().map(|m| m.key).collect();
    assert_eq!(
        left,
        std::slice::from_ref(&b),
        "the copy removed what it did not write"
    );

    to.delete(&key(&b)).unwrap();
    copy_set(from.as_ref(), to.as_ref(), &id).unwrap();
    assert!(verify_set(to.as_ref(), &id).unwrap().ok);
    assert!(lease_keys(to.as_ref(), &id).is_empty());
    // Again: refused, and the copy stays whole.
    let e = copy_set(from.as_ref(), to.as_ref(), &id).unwrap_err();
    assert!(matches!(e, Error::AlreadyExists { .. }), "{e}");
    assert!(verify_set(to.as_ref(), &id).unwrap().ok);
    assert_eq!(all_lease_keys(to.as_ref()), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------
// The puts leases use.

/// A volatile put (a lease's: no sync) is still checked, atomic and never overwrites; it
/// leaves no temporary behind.
#[test]
fn volatile_puts_are_checked_and_never_overwrite() {
    for store in [local_store().1, s3_store()] {
        let k = key("sets/x/lease/00000000000000aa-0000000001.json");
        let volatile = |digest| {
            let mut o = PutOptions::expecting(digest);
            o.volatile = true;
            o
        };
        let put = store
            .put(
                &k,
                &mut &b"{}"[..],
                &volatile(continuum_core::Digest::of(b"{}")),
            )
            .unwrap();
        assert_eq!(put.size, 2);
        assert_eq!(read_all(store.as_ref(), k.as_str()), b"{}");
        let e = store
            .put(
                &k,
                &mut &b"[]"[..],
                &volatile(continuum_core::Digest::of(b"[]")),
            )
            .unwrap_err();
        assert!(matches!(e, Error::AlreadyExists { .. }), "{e}");
        let other = key("sets/x/lease/00000000000000aa-0000000002.json");
        let e = store
            .put(
                &other,
                &mut &b"{}"[..],
                &volatile(continuum_core::Digest::of(b"[]")),
            )
            .unwrap_err();
        assert!(matches!(e, Error::Corrupt { .. }), "{e}");
        assert!(store.head(&other).unwrap().is_none());
        let too_big = Pattern::new(continuum_core::MAX_VOLATILE_SIZE + 1, 1);
        let mut o = PutOptions::default();
        o.volatile = true;
        if store.url().starts_with("file://") {
            let e = store.put(&other, &mut { too_big }, &o).unwrap_err();
            assert!(e.to_string().contains("exceeds the limit"), "{e}");
            assert!(store.head(&other).unwrap().is_none());
        }
        assert_eq!(read_all(store.as_ref(), k.as_str()), b"{}");
        assert!(store.temporaries().unwrap().is_empty());
    }
}
