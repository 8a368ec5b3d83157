//! Backup sets on both stores: commit, list, verify, damage, prune.
#![cfg(test)]

use std::io::Read;
use std::time::Duration;

use continuum_core::{
    ArtifactSpec, CheckStatus, DataKind, DynStore, Error, ObjectKey, PruneOptions, PutOptions,
    Reason, RetentionPolicy, SetOptions, SetState, SetWriter, Store, list_sets, load_manifest,
    open_artifact, prune, scan_sets, verify_set,
};
use continuum_testkit::*;

fn write_set(store: &DynStore, files: &[(&str, &[u8])]) -> String {
    let writer = SetWriter::begin(
        store.clone(),
        SetOptions::new(Reason::Daily).cluster_name("demo"),
    )
    .unwrap();
    for (name, data) in files {
        writer
            .add(
                ArtifactSpec::new(DataKind::Cluster, "installation-files", *name),
                &mut &data[..],
            )
            .unwrap();
    }
    writer.commit().unwrap().set_id
}

/// Rewrites one object with one byte flipped (stores never overwrite, so delete first).
fn flip_byte(store: &dyn Store, k: &str, at: usize) {
    let mut data = read_all(store, k);
    data[at] ^= 0x01;
    store.delete(&key(k)).unwrap();
    store
        .put(&key(k), &mut &data[..], &PutOptions::default())
        .unwrap();
}

fn lifecycle(store: DynStore) {
    let a = write_set(
        &store,
        &[
            ("cluster.conf", b"cluster_name: demo\n"),
            ("main.tf", b"resource {}\n"),
        ],
    );
    std::thread::sleep(Duration::from_millis(1100));
    let b = write_set(&store, &[("cluster.conf", b"cluster_name: demo2\n")]);

    // listing: committed only, newest first, manifests readable
    let sets = list_sets(store.as_ref()).unwrap();
    assert_eq!(
        sets.iter().map(|m| m.set_id.as_str()).collect::<Vec<_>>(),
        [b.as_str(), a.as_str()]
    );
    let m = load_manifest(store.as_ref(), &a).unwrap();
    assert_eq!(m.artifacts.len(), 2);
    assert_eq!(m.cluster_name.as_deref(), Some("demo"));
    assert_eq!(m.reason, Reason::Daily);

    // artifacts read back checked
    let mut text = String::new();
    open_artifact(store.as_ref(), &m, "main.tf")
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, "resource {}\n");

    // an incomplete set (a writer that never commits) is not listed
    let writer = SetWriter::begin(
        store.clone(),
        SetOptions::default().lease_duration(Duration::from_millis(300)),
    )
    .unwrap();
    writer
        .add(
            ArtifactSpec::new(DataKind::Log, "x", "partial.bin"),
            &mut &b"partial"[..],
        )
        .unwrap();
    let partial_id = writer.set_id().to_string();
    writer.simulate_crash(); // as if the process died here: its lease expires after 300 ms
    assert_eq!(list_sets(store.as_ref()).unwrap().len(), 2);
    let states: Vec<_> = scan_sets(store.as_ref()).unwrap();
    assert!(
        states
            .iter()
            .any(|e| e.set_id == partial_id && matches!(e.state, SetState::Incomplete))
    );

    // verify: clean, then one flipped byte names the artifact
    let report = verify_set(store.as_ref(), &a).unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.bytes_checked, 19 + 12);
    flip_byte(store.as_ref(), &format!("sets/{a}/artifacts/main.tf"), 3);
    let report = verify_set(store.as_ref(), &a).unwrap();
    assert!(!report.ok);
    let failures: Vec<_> = report.failures().collect();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].name, "main.tf");
    assert!(matches!(
        failures[0].status,
        CheckStatus::DigestMismatch { .. }
    ));
    // reading a damaged artifact fails at its end, naming it
    let mut sink = Vec::new();
    let e = open_artifact(store.as_ref(), &m, "main.tf")
        .unwrap()
        .read_to_end(&mut sink)
        .unwrap_err();
    assert!(e.to_string().contains("`main.tf` is corrupt"), "{e}");

    // a missing artifact is reported as missing
    store
        .delete(&key(&format!("sets/{a}/artifacts/cluster.conf")))
        .unwrap();
    let report = verify_set(store.as_ref(), &a).unwrap();
    assert!(
        report
            .artifacts
            .iter()
            .any(|c| c.name == "cluster.conf" && c.status == CheckStatus::Missing)
    );

    // unknown set
    assert!(matches!(
        verify_set(store.as_ref(), "nope"),
        Err(Error::SetNotFound { .. })
    ));

    // prune dry run explains every decision and removes nothing
    let mut options = PruneOptions::new(RetentionPolicy::last(1));
    options.dry_run = true;
    let report = prune(store.as_ref(), &options).unwrap();
    assert_eq!(report.decisions.len(), 2);
    assert!(report.decisions.iter().all(|d| !d.reasons.is_empty()));
    let kept: Vec<_> = report
        .decisions
        .iter()
        .filter(|d| d.keep)
        .map(|d| d.set_id.clone())
        .collect();
    assert_eq!(kept, [b.as_str()]);
    let leftover = report
        .leftovers
        .iter()
        .find(|l| l.set_id == partial_id)
        .unwrap();
    assert!(
        !leftover.remove,
        "within the grace period: {}",
        leftover.reason
    );
    assert_eq!(scan_sets(store.as_ref()).unwrap().len(), 3);

    // the real prune, with no grace for incomplete sets (and the crashed writer's lease over)
    std::thread::sleep(Duration::from_millis(350));
    options.dry_run = false;
    options.incomplete_grace = Duration::ZERO;
    let report = prune(store.as_ref(), &options).unwrap();
    assert!(report.removed_objects >= 3);
    let left: Vec<_> = scan_sets(store.as_ref())
        .unwrap()
        .into_iter()
        .map(|e| e.set_id)
        .collect();
    assert_eq!(left, [b.as_str()]);
    assert!(verify_set(store.as_ref(), &b).unwrap().ok);
    assert!(store.list(&format!("sets/{a}/")).unwrap().is_empty());
}

#[test]
fn folder_store_set_lifecycle() {
    let (_dir, store) = local_store();
    lifecycle(store);
}

#[test]
fn s3_store_set_lifecycle() {
    lifecycle(s3_store());
}

#[test]
fn dropped_writer_removes_what_it_wrote() {
    let (_dir, store) = local_store();
    {
        let writer = SetWriter::begin(store.clone(), SetOptions::default()).unwrap();
        writer
            .add(
                ArtifactSpec::new(DataKind::Log, "x", "a.bin"),
                &mut &b"abc"[..],
            )
            .unwrap();
        let e = writer
            .add(
                ArtifactSpec::new(DataKind::Log, "x", "b.bin"),
                &mut FailingReader::new(10),
            )
            .unwrap_err();
        assert!(e.to_string().contains("the producer died"), "{e}");
    }
    assert!(store.list("").unwrap().is_empty());
}

#[test]
fn artifact_names_are_checked() {
    let (_dir, store) = local_store();
    let writer = SetWriter::begin(store.clone(), SetOptions::default()).unwrap();
    for bad in ["../x", "/etc/passwd", ""] {
        let e = writer
            .add(ArtifactSpec::new(DataKind::Log, "x", bad), &mut &b""[..])
            .unwrap_err();
        assert!(e.to_string().starts_with("invalid artifact name"), "{e}");
    }
    writer
        .add(ArtifactSpec::new(DataKind::Log, "x", "a"), &mut &b"1"[..])
        .unwrap();
    let e = writer
        .add(ArtifactSpec::new(DataKind::Log, "x", "a"), &mut &b"2"[..])
        .unwrap_err();
    assert!(e.to_string().contains("another artifact"), "{e}");
}

#[test]
fn manifest_with_a_future_version_is_reported_not_pruned() {
    let (_dir, store) = local_store();
    let id = write_set(&store, &[("f", b"x")]);
    let k = ObjectKey::parse(&format!("sets/{id}/manifest.json")).unwrap();
    let mut v: serde_json::Value =
        serde_json::from_slice(&read_all(store.as_ref(), k.as_str())).unwrap();
    v["format_version"] = 99.into();
    store.delete(&k).unwrap();
    store
        .put(&k, &mut v.to_string().as_bytes(), &PutOptions::default())
        .unwrap();
    let e = load_manifest(store.as_ref(), &id).unwrap_err();
    assert!(e.to_string().contains("format version 99"), "{e}");
    let mut options = PruneOptions::new(RetentionPolicy::last(1));
    options.incomplete_grace = Duration::ZERO;
    let report = prune(store.as_ref(), &options).unwrap();
    assert!(!report.leftovers[0].remove);
    assert!(report.leftovers[0].reason.contains("cannot be read"));
    assert_eq!(scan_sets(store.as_ref()).unwrap().len(), 1);
}

#[test]
fn retention_per_reason_leaves_other_reasons_alone() {
    let (_dir, store) = local_store();
    let mut ids = Vec::new();
    for reason in [Reason::Daily, Reason::Deploy, Reason::Daily, Reason::Deploy] {
        let writer = SetWriter::begin(store.clone(), SetOptions::new(reason)).unwrap();
        writer
            .add(
                ArtifactSpec::new(DataKind::Cluster, "c", "f"),
                &mut &b"x"[..],
            )
            .unwrap();
        ids.push(writer.commit().unwrap().set_id);
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut options = PruneOptions::new(RetentionPolicy::last(1));
    options.reason = Some(Reason::Daily);
    let report = prune(store.as_ref(), &options).unwrap();
    assert_eq!(report.decisions.len(), 2, "only daily sets are judged");
    let left: Vec<String> = list_sets(store.as_ref())
        .unwrap()
        .into_iter()
        .map(|m| m.set_id)
        .collect();
    assert_eq!(left.len(), 3);
    assert!(
        !left.contains(&ids[0])
            && left.contains(&ids[2])
            && left.contains(&ids[1])
            && left.contains(&ids[3])
    );
}

#[test]
fn a_set_copies_to_another_store_and_verifies_there() {
    let (_a, from) = local_store();
    let to = s3_store();
    let id = write_set(&from, &[("one", b"first"), ("two", b"second")]);
    let copied = continuum_core::copy_set(from.as_ref(), to.as_ref(), &id).unwrap();
    assert_eq!(copied.set_id, id);
    assert!(verify_set(to.as_ref(), &id).unwrap().ok);
    assert_eq!(
        list_sets(to.as_ref()).unwrap()[0],
        load_manifest(from.as_ref(), &id).unwrap()
    );
    // copying again is refused: nothing is overwritten
    assert!(continuum_core::copy_set(from.as_ref(), to.as_ref(), &id).is_err());
}
