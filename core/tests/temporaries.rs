//! What killed writers leave in a store that is not an object (a folder store's temporary
//! files, staging folders, empty folders): hidden from listings, found by
//! `Store::temporaries`, swept by `prune` once older than the grace period.
#![cfg(test)]

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use continuum_core::{
    ArtifactSpec, DataKind, DynStore, LocalStore, PruneOptions, Reason, RetentionPolicy,
    SetOptions, SetState, SetWriter, TemporaryKind, list_sets, prune, scan_sets, verify_set,
};
use continuum_testkit::{s3_store, walk};

fn write_set(store: &DynStore, files: &[(&str, &[u8])]) -> String {
    let writer = SetWriter::begin(store.clone(), SetOptions::new(Reason::Daily)).unwrap();
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

fn age(path: &Path, by: Duration) {
    let when = SystemTime::now() - by;
    fs::File::options()
        .write(true)
        .open(path)
        .or_else(|_| fs::File::open(path))
        .unwrap()
        .set_modified(when)
        .unwrap();
}

/// What a killed `backup` leaves in a folder store: a committed set with a stray link of
/// one of its objects (killed between the link and the removal of the temporary), an
/// incomplete set with a half-written artifact, a set whose first artifact never got past
/// its temporary, one killed before it wrote anything, a staging folder.
struct Debris {
    root: PathBuf,
    committed: String,
    temporaries: Vec<&'static str>,
}

fn debris(root: &Path, store: &DynStore) -> Debris {
    let committed = write_set(store, &[("cluster.conf", b"cluster_name: demo\n")]);
    let committed_dir = root.join("sets").join(&committed).join("artifacts");
    fs::hard_link(
        committed_dir.join("cluster.conf"),
        committed_dir.join(".continuum-tmp-00000000000000a1"),
    )
    .unwrap();

    let incomplete = root.join("sets/20200101T000000Z-0000000b/artifacts");
    fs::create_dir_all(incomplete.join("db")).unwrap();
    fs::write(incomplete.join("main.tf"), b"resource {}\n").unwrap();
    fs::write(
        incomplete.join("db/.continuum-tmp-00000000000000b1"),
        b"half a dump",
    )
    .unwrap();

    let only_temp = root.join("sets/20200101T000000Z-0000000c/artifacts/db");
    fs::create_dir_all(&only_temp).unwrap();
    fs::write(only_temp.join(".continuum-tmp-00000000000000c1"), b"x").unwrap();

    fs::create_dir_all(root.join("sets/20200101T000000Z-0000000d/artifacts/install")).unwrap();

    fs::create_dir_all(root.join(".continuum-unpack-00000000000000e1/a/b")).unwrap();
    fs::write(
        root.join(".continuum-unpack-00000000000000e1/a/b/f"),
        b"12345",
    )
    .unwrap();
    fs::write(root.join(".continuum-tmp-00000000000000f1"), b"").unwrap();

    Debris {
        root: root.to_path_buf(),
        committed,
        temporaries: vec![
            ".continuum-tmp-00000000000000f1",
            ".continuum-unpack-00000000000000e1",
            "sets/20200101T000000Z-0000000b/artifacts/db/.continuum-tmp-00000000000000b1",
            "sets/20200101T000000Z-0000000c/artifacts/db/.continuum-tmp-00000000000000c1",
            "sets/20200101T000000Z-0000000d",
        ],
    }
}

#[test]
fn temporaries_are_hidden_from_listings_and_found_wherever_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let store: DynStore = Arc::new(LocalStore::new(&root));
    let d = debris(&root, &store);

    let keys: Vec<String> = store.list("").unwrap().into_iter().map(|m| m.key).collect();
    assert!(
        keys.iter().all(|k| !k.contains(".continuum-")),
        "listed: {keys:?}"
    );
    let sets = list_sets(store.as_ref()).unwrap();
    assert_eq!(sets.len(), 1);
    assert_eq!(sets[0].set_id, d.committed);

    let found = store.temporaries().unwrap();
    let mut expected: Vec<String> = d.temporaries.iter().map(|s| s.to_string()).collect();
    expected.push(format!(
        "sets/{}/artifacts/.continuum-tmp-00000000000000a1",
        d.committed
    ));
    expected.sort();
    let paths: Vec<&str> = found.iter().map(|t| t.path.as_str()).collect();
    assert_eq!(paths, expected);
    let kind = |p: &str| found.iter().find(|t| t.path == p).unwrap();
    assert_eq!(
        kind("sets/20200101T000000Z-0000000d").kind,
        TemporaryKind::EmptyFolder,
        "the topmost empty folder is reported, once"
    );
    let staging = kind(".continuum-unpack-00000000000000e1");
    assert_eq!(
        (staging.kind, staging.size),
        (TemporaryKind::StagingFolder, 5)
    );
    let half = kind("sets/20200101T000000Z-0000000b/artifacts/db/.continuum-tmp-00000000000000b1");
    assert_eq!((half.kind, half.size), (TemporaryKind::File, 11));
}

#[test]
fn prune_keeps_fresh_temporaries_and_sweeps_them_all_with_grace_zero() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let store: DynStore = Arc::new(LocalStore::new(&root));
    let d = debris(&root, &store);
    let before = walk(&d.root);

    // Default grace (an hour): everything was just written, nothing goes.
    let options = PruneOptions::new(RetentionPolicy::last(5));
    let report = prune(store.as_ref(), &options).unwrap();
    assert_eq!(report.removed_temporaries, 0);
    assert_eq!(report.temporaries.len(), 6);
    assert!(
        report
            .temporaries
            .iter()
            .all(|t| !t.remove && t.reason.contains("within the grace period")),
        "{:?}",
        report.temporaries
    );
    assert_eq!(walk(&d.root), before);

    // Judged two hours later, in a dry run: everything would go, nothing does.
    let mut later = PruneOptions::new(RetentionPolicy::last(5));
    later.now = Some(jiff::Timestamp::now() + jiff::SignedDuration::from_hours(2));
    later.dry_run = true;
    let report = prune(store.as_ref(), &later).unwrap();
    assert!(report.temporaries.iter().all(|t| t.remove));
    assert!(report.removed_bytes >= 11 + 1 + 5);
    assert_eq!(report.removed_temporaries, 0);
    assert_eq!(walk(&d.root), before);

    // Grace zero: the incomplete set and every temporary go; the committed set stays whole.
    let mut now = PruneOptions::new(RetentionPolicy::last(5));
    now.incomplete_grace = Duration::ZERO;
    let report = prune(store.as_ref(), &now).unwrap();
    assert_eq!(report.removed_temporaries, 6, "{:?}", report.temporaries);
    assert!(report.leftovers.iter().all(|l| l.remove));
    let mut expected = vec![
        "sets/".to_string(),
        format!("sets/{}/", d.committed),
        format!("sets/{}/artifacts/", d.committed),
        format!("sets/{}/artifacts/cluster.conf", d.committed),
        format!("sets/{}/manifest.json", d.committed),
    ];
    expected.sort();
    assert_eq!(walk(&d.root), expected);
    assert!(verify_set(store.as_ref(), &d.committed).unwrap().ok);
    assert!(store.temporaries().unwrap().is_empty());
    // Nothing left to do.
    let report = prune(store.as_ref(), &now).unwrap();
    assert_eq!((report.removed_objects, report.removed_temporaries), (0, 0));
}

/// A writer killed between creating its artifact's folder and writing anything in it (a
/// file with no name leaves nothing else): once prune removes the set's objects, the set's
/// folders are empty, and their times are those of the removal, after the prune began.
#[test]
fn prune_removes_the_empty_folders_of_the_incomplete_sets_it_removes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let store: DynStore = Arc::new(LocalStore::new(&root));
    let committed = write_set(&store, &[("cluster.conf", b"conf")]);
    let id = "20260101T000000Z-00000000deadbeef";
    fs::create_dir_all(root.join(format!("sets/{id}/artifacts/db"))).unwrap();
    fs::write(root.join(format!("sets/{id}/artifacts/install.bin")), b"x").unwrap();
    for p in [
        format!("sets/{id}/artifacts/db"),
        format!("sets/{id}/artifacts/install.bin"),
        format!("sets/{id}/artifacts"),
        format!("sets/{id}"),
    ] {
        age(&root.join(p), Duration::from_secs(60));
    }
    let mut now = PruneOptions::new(RetentionPolicy::last(5));
    now.incomplete_grace = Duration::from_secs(30);
    let report = prune(store.as_ref(), &now).unwrap();
    assert!(report.leftovers.iter().all(|l| l.remove), "{report:?}");
    let mut expected = vec![
        "sets/".to_string(),
        format!("sets/{committed}/"),
        format!("sets/{committed}/artifacts/"),
        format!("sets/{committed}/artifacts/cluster.conf"),
        format!("sets/{committed}/manifest.json"),
    ];
    expected.sort();
    assert_eq!(walk(&root), expected, "{:?}", report.temporaries);
}

#[test]
fn an_incomplete_set_writing_into_a_temporary_is_still_being_written() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let store: DynStore = Arc::new(LocalStore::new(&root));
    // Its objects were written two hours ago; its current artifact is streaming now.
    let set = root.join("sets/20200101T000000Z-00000001/artifacts");
    fs::create_dir_all(&set).unwrap();
    fs::write(set.join("main.tf"), b"old").unwrap();
    age(&set.join("main.tf"), Duration::from_secs(7200));
    fs::write(set.join(".continuum-tmp-0000000000000001"), b"streaming").unwrap();
    // Another, abandoned: both its object and its temporary are old.
    let old = root.join("sets/20200101T000000Z-00000002/artifacts");
    fs::create_dir_all(&old).unwrap();
    fs::write(old.join("main.tf"), b"old").unwrap();
    fs::write(old.join(".continuum-tmp-0000000000000002"), b"abandoned").unwrap();
    age(&old.join("main.tf"), Duration::from_secs(7200));
    age(
        &old.join(".continuum-tmp-0000000000000002"),
        Duration::from_secs(7200),
    );

    let report = prune(store.as_ref(), &PruneOptions::new(RetentionPolicy::last(1))).unwrap();
    let decided = |id: &str| {
        report
            .leftovers
            .iter()
            .find(|l| l.set_id == id)
            .unwrap()
            .remove
    };
    assert!(!decided("20200101T000000Z-00000001"));
    assert!(decided("20200101T000000Z-00000002"));
    let left: Vec<String> = scan_sets(store.as_ref())
        .unwrap()
        .into_iter()
        .filter(|e| matches!(e.state, SetState::Incomplete))
        .map(|e| e.set_id)
        .collect();
    assert_eq!(left, ["20200101T000000Z-00000001"]);
    assert_eq!(
        walk(&root),
        [
            "sets/",
            "sets/20200101T000000Z-00000001/",
            "sets/20200101T000000Z-00000001/artifacts/",
            "sets/20200101T000000Z-00000001/artifacts/.continuum-tmp-0000000000000001",
            "sets/20200101T000000Z-00000001/artifacts/main.tf",
        ]
    );
}

#[test]
fn remove_temporary_refuses_what_is_not_one() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let store: DynStore = Arc::new(LocalStore::new(&root));
    let id = write_set(&store, &[("a", b"1")]);
    fs::write(root.join(".continuum-tmp-0000000000000009"), b"t").unwrap();
    fs::create_dir_all(root.join("empty/inside")).unwrap();
    let found = store.temporaries().unwrap();
    assert_eq!(found.len(), 2, "{found:?}");
    let file = found
        .iter()
        .find(|t| t.kind == TemporaryKind::File)
        .unwrap();
    let folder = found
        .iter()
        .find(|t| t.kind == TemporaryKind::EmptyFolder)
        .unwrap();
    assert_eq!(folder.path, "empty");

    // Its fields changed to name an object, the root, or a path outside: refused.
    let object = format!("sets/{id}/manifest.json");
    for bad in [object.as_str(), "../outside", "", "sets//x", "./x"] {
        let mut t = file.clone();
        t.path = bad.to_string();
        let e = store.remove_temporary(&t).unwrap_err();
        assert!(
            e.to_string().contains("unsafe") || e.to_string().contains(bad),
            "{bad}: {e}"
        );
    }
    // Nor through a symbolic link out of the store.
    let outside = dir.path().join("outside");
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join(".continuum-tmp-0000000000000007"), b"not ours").unwrap();
    std::os::unix::fs::symlink(&outside, root.join("link")).unwrap();
    assert_eq!(
        store.temporaries().unwrap().len(),
        2,
        "links are not followed"
    );
    let mut t = file.clone();
    t.path = "link/.continuum-tmp-0000000000000007".to_string();
    let e = store.remove_temporary(&t).unwrap_err();
    assert!(e.to_string().contains("symbolic link"), "{e}");
    assert!(outside.join(".continuum-tmp-0000000000000007").exists());
    fs::remove_file(root.join("link")).unwrap();
    // An "empty folder" that holds an object keeps it.
    let mut t = folder.clone();
    t.path = "sets".to_string();
    store.remove_temporary(&t).unwrap();
    assert!(verify_set(store.as_ref(), &id).unwrap().ok);

    store.remove_temporary(file).unwrap();
    store.remove_temporary(folder).unwrap();
    store.remove_temporary(file).unwrap(); // already gone: fine
    assert!(store.temporaries().unwrap().is_empty());
    assert!(!root.join("empty").exists());
}

#[test]
fn an_s3_store_has_no_temporaries_to_sweep() {
    let store = s3_store();
    write_set(&store, &[("a", b"1")]);
    assert!(store.temporaries().unwrap().is_empty());
    let mut options = PruneOptions::new(RetentionPolicy::last(1));
    options.incomplete_grace = Duration::ZERO;
    let report = prune(store.as_ref(), &options).unwrap();
    assert!(report.temporaries.is_empty());
    assert_eq!(list_sets(store.as_ref()).unwrap().len(), 1);
}
