//! Damaged and hostile files are refused, naming the entry, and leave the target registry
//! byte-for-byte unchanged; files from the platform's own tool import in legacy mode.
#![cfg(test)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use continuum_cntmp::{
    CntmpReader, FolderRegistry, ImportOptions, Object, PackageSpec, Registry, Selection,
    export_to_file, import_files, package_from_files,
};
use continuum_core::{Compression, Limits};

const MARKER: &[u8] = b"UNIQUE-MARKER-0123456789";

fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                out.insert(format!("{}/", e.path().display()), Vec::new());
                stack.push(e.path());
            } else {
                out.insert(
                    e.path().display().to_string(),
                    std::fs::read(e.path()).unwrap(),
                );
            }
        }
    }
    out
}

/// A valid file with one package of two layers, and a target registry that already
/// holds something (so "unchanged" means more than "empty").
fn setup(dir: &Path) -> (PathBuf, FolderRegistry, PathBuf) {
    let a = dir.join("a.tar.gz");
    let mut data = MARKER.to_vec();
    data.extend(std::iter::repeat_n(b'z', 5000));
    std::fs::write(&a, &data).unwrap();
    let b = dir.join("b.tar.gz");
    std::fs::write(&b, b"second layer").unwrap();
    let source = FolderRegistry::open(dir.join("src")).unwrap();
    package_from_files(&source, &PackageSpec::new("tool", vec![a, b]).unwrap()).unwrap();
    let file = dir.join("tool.cntmp");
    export_to_file(&source, &Selection::everything(), &file, false).unwrap();
    let target_dir = dir.join("target");
    let target = FolderRegistry::open(target_dir.join("jobdata")).unwrap();
    let c = dir.join("c.tar.gz");
    std::fs::write(&c, b"already here").unwrap();
    package_from_files(&target, &PackageSpec::new("existing", vec![c]).unwrap()).unwrap();
    (file, target, target_dir)
}

fn refused(file: &Path, target: &FolderRegistry, target_dir: &Path, needle: &str) {
    let before = tree(target_dir);
    let e = import_files(target, &[file.to_path_buf()], &ImportOptions::default()).unwrap_err();
    assert!(
        e.to_string().contains(needle),
        "expected `{needle}` in: {e}"
    );
    assert_eq!(tree(target_dir), before, "the target registry changed");
}

fn python(script: &str, args: &[&Path]) {
    let o = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn a_flipped_byte_in_a_resource() {
    let dir = tempfile::tempdir().unwrap();
    let (file, target, target_dir) = setup(dir.path());
    let mut bytes = std::fs::read(&file).unwrap();
    let at = bytes
        .windows(MARKER.len())
        .position(|w| w == MARKER)
        .unwrap()
        + 3;
    bytes[at] ^= 0x01;
    std::fs::write(&file, &bytes).unwrap();
    refused(&file, &target, &target_dir, "PACKAGE_RESOURCE_0001.tar.gz");
    // a cluster folder that existed (empty) stays; one that did not is not left behind
    let empty = dir.path().join("empty-cluster");
    std::fs::create_dir(&empty).unwrap();
    let fresh = dir.path().join("fresh-cluster");
    for cluster in [&empty, &fresh] {
        let registry = FolderRegistry::for_cluster(cluster).unwrap();
        assert!(import_files(&registry, &[&file], &ImportOptions::default()).is_err());
    }
    assert!(empty.is_dir() && std::fs::read_dir(&empty).unwrap().next().is_none());
    assert!(!fresh.exists());
    let mut reader = CntmpReader::open(&file, Limits::default()).unwrap();
    let e = reader.verify().unwrap_err();
    assert!(
        e.to_string().contains("PACKAGE_RESOURCE_0001.tar.gz"),
        "{e}"
    );
}

#[test]
fn a_truncated_file() {
    let dir = tempfile::tempdir().unwrap();
    let (file, target, target_dir) = setup(dir.path());
    let bytes = std::fs::read(&file).unwrap();
    for cut in [bytes.len() - 10, bytes.len() / 2, 100, 0] {
        std::fs::write(&file, &bytes[..cut]).unwrap();
        refused(&file, &target, &target_dir, "tool.cntmp");
    }
}

#[test]
fn traversal_duplicates_and_links() {
    let dir = tempfile::tempdir().unwrap();
    let (file, target, target_dir) = setup(dir.path());
    for (case, name) in [
        ("../x", "`..` is not allowed"),
        ("/etc/passwd", "absolute paths are not allowed"),
        ("a\\\\b", "backslashes"),
    ] {
        let evil = dir.path().join("evil.cntmp");
        python(
            &format!(
                "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1], 'w')\nz.writestr('{case}', b'data')\nz.close()"
            ),
            &[&evil],
        );
        refused(&evil, &target, &target_dir, name);
    }
    let dup = dir.path().join("dup.cntmp");
    python(
        "import sys, zipfile, warnings\nwarnings.simplefilter('ignore')\nz = zipfile.ZipFile(sys.argv[1], 'w')\nz.writestr('PACKAGE_RESOURCE_0001.tar.gz', b'a')\nz.writestr('PACKAGE_RESOURCE_0001.tar.gz', b'b')\nz.close()",
        &[&dup],
    );
    refused(&dup, &target, &target_dir, "two entries have the same name");
    let link = dir.path().join("link.cntmp");
    python(
        "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1], 'w')\ni = zipfile.ZipInfo('PACKAGE_RESOURCE_0001.tar.gz')\ni.create_system = 3\ni.external_attr = (0o120777 << 16)\nz.writestr(i, '../../etc/passwd')\nz.close()",
        &[&link],
    );
    refused(&link, &target, &target_dir, "links are not allowed");
    let _ = file;
}

/// Rewrites the manifest of a file with a Python expression over `m`.
fn edit_manifest(src: &Path, dst: &Path, edit: &str) {
    python(
        &format!(
            "import sys, zipfile, json\nzi = zipfile.ZipFile(sys.argv[1])\nzo = zipfile.ZipFile(sys.argv[2], 'w')\nfor n in zi.namelist():\n    d = zi.read(n)\n    if n == 'manifest.json':\n        m = json.loads(d)\n        {edit}\n        d = json.dumps(m).encode()\n    zo.writestr(n, d)\nzo.close()"
        ),
        &[src, dst],
    );
}

#[test]
fn a_wrong_declared_length_or_digest_or_version() {
    let dir = tempfile::tempdir().unwrap();
    let (file, target, target_dir) = setup(dir.path());
    let bad = dir.path().join("bad.cntmp");
    edit_manifest(
        &file,
        &bad,
        "m['objects'][0]['resources'][0]['length'] += 1; m['objects'][0]['metadata']['resources'][0]['length'] += 1",
    );
    refused(
        &bad,
        &target,
        &target_dir,
        "PACKAGE_RESOURCE_0001.tar.gz` is refused: the manifest declares 5025 bytes but the entry holds 5024",
    );
    edit_manifest(
        &file,
        &bad,
        "m['objects'][0]['resources'][1]['sha256'] = 'sha256:' + '0' * 64; m['objects'][0]['metadata']['resources'][1]['digest'] = 'sha256:' + '0' * 64",
    );
    refused(&bad, &target, &target_dir, "PACKAGE_RESOURCE_0002.tar.gz");
    edit_manifest(&file, &bad, "m['format_version'] = 9");
    refused(
        &bad,
        &target,
        &target_dir,
        "format version 9, this build reads version 1",
    );
    edit_manifest(
        &file,
        &bad,
        "m['objects'][0]['resources'][0]['entry'] = 'PACKAGE_RESOURCE_0099.tar.gz'",
    );
    refused(&bad, &target, &target_dir, "PACKAGE_RESOURCE_0099.tar.gz");
    edit_manifest(&file, &bad, "m['objects'][0]['resources'].pop()");
    refused(&bad, &target, &target_dir, "do not match its metadata");
}

#[test]
fn size_limits_stop_bombs() {
    let dir = tempfile::tempdir().unwrap();
    let (file, _, _) = setup(dir.path());
    let e = CntmpReader::open(&file, Limits::new(1000, 1 << 20, 100)).unwrap_err();
    assert!(
        e.to_string().contains("exceeds the limit of 1000 bytes"),
        "{e}"
    );
    let e = CntmpReader::open(&file, Limits::new(1 << 20, 1 << 20, 2)).unwrap_err();
    assert!(e.to_string().contains("limit of 2 entries"), "{e}");
    // a deflated entry that inflates far beyond what it declares is cut at its declared size
    let bomb = dir.path().join("bomb.cntmp");
    python(
        "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED)\nz.writestr('PACKAGE_RESOURCE_0001.tar.gz', b'\\0' * (50 << 20))\nz.close()",
        &[&bomb],
    );
    let e = CntmpReader::open(&bomb, Limits::new(1 << 20, 1 << 30, 10)).unwrap_err();
    assert!(e.to_string().contains("exceeds the limit"), "{e}");
}

#[test]
fn a_legacy_file_from_another_tool_imports() {
    let dir = tempfile::tempdir().unwrap();
    let legacy = dir.path().join("legacy-tool.cntmp");
    // a bzip2 resource under a .tar.gz name, and a gzip one; no manifest
    python(
        "import sys, zipfile, bz2, gzip\nz = zipfile.ZipFile(sys.argv[1], 'w')\nz.writestr('PACKAGE_RESOURCE_0001.tar.gz', bz2.compress(b'layer one' * 100))\nz.writestr('PACKAGE_RESOURCE_0002.tar.gz', gzip.compress(b'layer two' * 100))\nz.close()",
        &[&legacy],
    );
    let reader = CntmpReader::open(&legacy, Limits::default()).unwrap();
    assert!(reader.manifest().is_none());
    let refs = &reader.objects()[0].resources;
    assert_eq!(refs[0].compression, Compression::Bzip2);
    assert_eq!(refs[1].compression, Compression::Gzip);
    assert!(
        reader
            .notes()
            .iter()
            .any(|n| n.contains("no package metadata")),
        "{:?}",
        reader.notes()
    );

    let target = FolderRegistry::open(dir.path().join("t")).unwrap();
    let report = import_files(&target, &[legacy], &ImportOptions::default()).unwrap();
    assert_eq!(
        report.objects[0].fqn.to_string(),
        "package::/apcera/pkg/packages::legacy-tool"
    );
    assert!(!report.notes.is_empty());
    let Some(Object::Package(p)) = target.get(&report.objects[0].fqn).unwrap() else {
        panic!()
    };
    assert_eq!(p.resources.len(), 2);
    let mut layer = Vec::new();
    std::io::Read::read_to_end(
        &mut target.open_resource(&p.resources[1].digest).unwrap(),
        &mut layer,
    )
    .unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&layer[..]), &mut text)
        .unwrap();
    assert!(text.starts_with("layer two"));

    // with the platform's package JSON beside it, its metadata is taken
    let with_meta = dir.path().join("with-meta.cntmp");
    python(
        "import sys, zipfile, json\nz = zipfile.ZipFile(sys.argv[1], 'w')\nz.writestr('PACKAGE_RESOURCE_0001.tar.gz', b'plain bytes')\nz.writestr('package.json', json.dumps({'fqn': 'package::/apcera/pkg/runtimes::go-1.5.1', 'name': 'go-1.5.1', 'provides': [{'type': 'runtime', 'name': 'go'}], 'resources': [{'sha1': 'abc', 'length': 11}]}))\nz.close()",
        &[&with_meta],
    );
    let report = import_files(&target, &[with_meta], &ImportOptions::default()).unwrap();
    assert_eq!(
        report.objects[0].fqn.to_string(),
        "package::/apcera/pkg/runtimes::go-1.5.1"
    );
    let Some(Object::Package(go)) = target.get(&report.objects[0].fqn).unwrap() else {
        panic!()
    };
    assert_eq!(go.provides[0].name, "go");
    assert_eq!(go.resources.len(), 1);
}
