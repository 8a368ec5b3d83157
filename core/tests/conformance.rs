//! One conformance suite, run on every store backend.
#![cfg(test)]

use continuum_core::Store;
use continuum_testkit::*;

#[test]
fn folder_store_conforms() {
    let (_dir, store) = local_store();
    conformance(store.as_ref(), false);
}

#[test]
fn s3_store_conforms() {
    let store = s3_store();
    conformance(store.as_ref(), true);
}

#[test]
fn folder_store_streams_a_200_mib_object() {
    let (_dir, store) = local_store();
    large_object(store.as_ref(), 200 << 20);
}

#[test]
fn s3_store_streams_a_200_mib_object_in_parts() {
    let store = s3_store();
    large_object(store.as_ref(), 200 << 20);
}

#[test]
fn folder_store_leaves_no_temporary_files() {
    let (dir, store) = local_store();
    conformance(store.as_ref(), false);
    let mut stack = vec![dir.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            assert!(
                !name.starts_with(".continuum-tmp-"),
                "left behind: {}",
                e.path().display()
            );
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            }
        }
    }
}

#[test]
fn s3_store_refuses_a_missing_bucket() {
    let endpoint = s3_endpoint();
    let store =
        continuum_core::S3Store::open(&unique("missing"), "", &s3_options(&endpoint)).unwrap();
    let e = store.list("").unwrap_err();
    assert!(e.to_string().contains("s3://missing-"), "{e}");
}

#[test]
fn folder_store_reads_only_regular_files_inside_its_folder() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let store = continuum_core::LocalStore::new(&root);
    store
        .put(
            &key("sets/a/manifest.json"),
            &mut &b"{}"[..],
            &Default::default(),
        )
        .unwrap();
    std::fs::write(dir.path().join("outside"), b"secret").unwrap();

    // A link in place of the object, and a link on the way to it.
    std::fs::remove_file(root.join("sets/a/manifest.json")).unwrap();
    symlink(
        dir.path().join("outside"),
        root.join("sets/a/manifest.json"),
    )
    .unwrap();
    let e = store.get(&key("sets/a/manifest.json")).err().unwrap();
    assert!(e.to_string().contains("symbolic link"), "{e}");
    std::fs::create_dir_all(dir.path().join("elsewhere")).unwrap();
    std::fs::write(dir.path().join("elsewhere/manifest.json"), b"{}").unwrap();
    symlink(dir.path().join("elsewhere"), root.join("sets/b")).unwrap();
    let e = store.get(&key("sets/b/manifest.json")).err().unwrap();
    assert!(e.to_string().contains("symbolic link"), "{e}");

    // A FIFO nobody writes to: refused at once instead of blocking the reader forever.
    let fifo = root.join("sets/c/manifest.json");
    std::fs::create_dir_all(fifo.parent().unwrap()).unwrap();
    let o = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .output()
        .unwrap();
    assert!(o.status.success());
    let e = store.get(&key("sets/c/manifest.json")).err().unwrap();
    assert!(e.to_string().contains("not a regular file"), "{e}");
}
