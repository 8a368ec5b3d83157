//! Encrypted backup sets on both stores: round trips, what the store sees, wrong or missing
//! identities, tampering, large artifacts, and files that the Go `age` tool reads and writes.
#![cfg(test)]

use std::io::Read;
use std::path::Path;
use std::process::Command;

use continuum_core::{
    ArtifactDetails, ArtifactSpec, CheckStatus, DataKind, Digest, DynStore, Encryption, Error,
    Identities, Manifest, PruneOptions, PutOptions, Reason, Recipients, RetentionPolicy,
    SetOptions, SetWriter, Store, copy_set, digest_reader, generate_identity, list_sets,
    load_catalog, load_manifest, open_artifact, open_artifact_decrypted, prune, verify_set,
};
use continuum_testkit::*;

const DUMP: &[u8] = b"CREATE TABLE secret_customers (id int);\nCOPY secret_customers FROM stdin;\n";
const CONF: &[u8] = b"cluster_name: very-secret-cluster-config\n";

struct Keys {
    secret: String,
    recipients: Recipients,
    identities: Identities,
}

fn keys() -> Keys {
    let (secret, public) = generate_identity();
    Keys {
        recipients: Recipients::parse([public]).unwrap(),
        identities: Identities::parse(&secret).unwrap(),
        secret,
    }
}

fn encrypted_options(keys: &Keys) -> SetOptions {
    SetOptions::new(Reason::Daily)
        .cluster_name("demo")
        .encrypt_to(keys.recipients.clone())
}

/// An encrypted set of three artifacts (one empty), with details to hide.
fn write_encrypted_set(store: &DynStore, keys: &Keys) -> Manifest {
    let writer = SetWriter::begin(store.clone(), encrypted_options(keys)).unwrap();
    writer
        .add(
            ArtifactSpec::new(DataKind::Cluster, "component-database", "db/component.sql").details(
                ArtifactDetails::Database {
                    database: "secret_customers_db".to_string(),
                    server_version: "15.18".to_string(),
                    row_counts: [("public.secret_customers".to_string(), 42)].into(),
                },
            ),
            &mut &DUMP[..],
        )
        .unwrap();
    writer
        .add(
            ArtifactSpec::new(DataKind::Cluster, "installation-files", "cluster.conf").details(
                ArtifactDetails::File {
                    source: "/etc/hidden/path/cluster.conf".to_string(),
                },
            ),
            &mut &CONF[..],
        )
        .unwrap();
    writer
        .add(
            ArtifactSpec::new(DataKind::Log, "logs", "empty.log"),
            &mut &b""[..],
        )
        .unwrap();
    writer.commit().unwrap()
}

fn read_plain(
    store: &dyn Store,
    manifest: &Manifest,
    name: &str,
    ids: Option<&Identities>,
) -> continuum_core::Result<Vec<u8>> {
    let mut out = Vec::new();
    open_artifact_decrypted(store, manifest, name, ids)?
        .read_to_end(&mut out)
        .map_err(|e| continuum_core::from_io(e).unwrap())?;
    Ok(out)
}

fn object(set_id: &str, rest: &str) -> String {
    format!("sets/{set_id}/{rest}")
}

/// Rewrites one object with one byte flipped (stores never overwrite, so delete first).
fn flip_byte(store: &dyn Store, k: &str, at: usize) {
    let mut data = read_all(store, k);
    data[at] ^= 0x01;
    replace(store, k, &data);
}

fn replace(store: &dyn Store, k: &str, data: &[u8]) {
    store.delete(&key(k)).unwrap();
    store
        .put(&key(k), &mut &data[..], &PutOptions::default())
        .unwrap();
}

fn round_trip(store: DynStore) {
    let keys = keys();
    let committed = write_encrypted_set(&store, &keys);
    let id = committed.set_id.clone();

    // the manifest in clear: committed, listed, version 2, no details, a catalog
    let clear = load_manifest(store.as_ref(), &id).unwrap();
    assert_eq!(clear, committed);
    assert_eq!(clear.format_version, 2);
    assert!(clear.is_encrypted());
    assert_eq!(
        list_sets(store.as_ref()).unwrap(),
        std::slice::from_ref(&clear)
    );
    for a in &clear.artifacts {
        assert_eq!(a.details, ArtifactDetails::None);
        assert_eq!(a.plaintext, None);
        assert_eq!(
            a.encryption,
            Encryption::Age {
                recipients: keys.recipients.to_strings()
            }
        );
        // size and digest are those of the stored, encrypted bytes
        let stored = read_all(store.as_ref(), &object(&id, a.path.as_str()));
        assert!(stored.starts_with(b"age-encryption.org/v1\n"));
        assert_eq!(
            (a.size, a.sha256),
            (stored.len() as u64, Digest::of(&stored))
        );
    }

    // verify needs no identity, and checks the catalog too
    let report = verify_set(store.as_ref(), &id).unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.catalog.as_ref().unwrap().status, CheckStatus::Ok);
    assert!(report.unexpected_objects.is_empty(), "{report:?}");

    // the catalog holds details and plaintext digests
    let full = load_catalog(store.as_ref(), &id, &keys.identities).unwrap();
    assert_eq!(full.set_id, id);
    let db = full
        .artifacts
        .iter()
        .find(|a| a.name == "db/component.sql")
        .unwrap();
    assert!(matches!(
        &db.details,
        ArtifactDetails::Database { database, .. } if database == "secret_customers_db"
    ));
    let p = db.plaintext.unwrap();
    assert_eq!((p.size, p.sha256), (DUMP.len() as u64, Digest::of(DUMP)));

    // reading decrypts, from the manifest in clear or from the catalog
    for m in [&clear, &full] {
        let ids = Some(&keys.identities);
        assert_eq!(
            read_plain(store.as_ref(), m, "db/component.sql", ids).unwrap(),
            DUMP
        );
        assert_eq!(
            read_plain(store.as_ref(), m, "cluster.conf", ids).unwrap(),
            CONF
        );
        assert_eq!(
            read_plain(store.as_ref(), m, "empty.log", ids).unwrap(),
            b""
        );
    }
    // open_artifact gives the stored bytes, checked
    let mut raw = Vec::new();
    open_artifact(store.as_ref(), &clear, "cluster.conf")
        .unwrap()
        .read_to_end(&mut raw)
        .unwrap();
    assert!(raw.starts_with(b"age-encryption.org/v1\n"));

    // a copy needs no identity, verifies and decrypts where it lands
    let (_dir, other) = local_store();
    copy_set(store.as_ref(), other.as_ref(), &id).unwrap();
    assert!(verify_set(other.as_ref(), &id).unwrap().ok);
    let copied = load_catalog(other.as_ref(), &id, &keys.identities).unwrap();
    assert_eq!(copied, full);
    assert_eq!(
        read_plain(
            other.as_ref(),
            &copied,
            "cluster.conf",
            Some(&keys.identities)
        )
        .unwrap(),
        CONF
    );

    // prune removes the whole set, catalog included
    let mut options = PruneOptions::new(RetentionPolicy::last(1));
    options.incomplete_grace = std::time::Duration::ZERO;
    let writer = SetWriter::begin(store.clone(), encrypted_options(&keys)).unwrap();
    writer
        .add(ArtifactSpec::new(DataKind::Log, "l", "x"), &mut &b"x"[..])
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let newer = writer.commit().unwrap().set_id;
    let report = prune(store.as_ref(), &options).unwrap();
    assert_eq!(report.removed_objects, 5, "{report:?}");
    assert!(store.list(&format!("sets/{id}/")).unwrap().is_empty());
    assert!(verify_set(store.as_ref(), &newer).unwrap().ok);
}

#[test]
fn folder_store_encrypted_round_trip() {
    let (_dir, store) = local_store();
    round_trip(store);
}

#[test]
fn s3_store_encrypted_round_trip() {
    round_trip(s3_store());
}

#[test]
fn s3_store_streams_a_multipart_encrypted_artifact() {
    let store = s3_store();
    let keys = keys();
    let len = 20 << 20; // above the 8 MiB multipart threshold of the test store
    let writer = SetWriter::begin(store.clone(), encrypted_options(&keys)).unwrap();
    writer
        .add(
            ArtifactSpec::new(DataKind::Job, "job-data", "big.bin"),
            &mut Pattern::new(len, 3),
        )
        .unwrap();
    let clear = writer.commit().unwrap();
    assert!(verify_set(store.as_ref(), &clear.set_id).unwrap().ok);
    let reader =
        open_artifact_decrypted(store.as_ref(), &clear, "big.bin", Some(&keys.identities)).unwrap();
    assert_eq!(
        digest_reader(reader).unwrap(),
        digest_reader(Pattern::new(len, 3)).unwrap()
    );
}

#[test]
fn a_large_artifact_streams_through_encryption() {
    let (_dir, store) = local_store();
    let keys = keys();
    let len = 64 << 20;
    let writer = SetWriter::begin(store.clone(), encrypted_options(&keys)).unwrap();
    let added = writer
        .add(
            ArtifactSpec::new(DataKind::Job, "job-data", "big.bin"),
            &mut Pattern::new(len, 9),
        )
        .unwrap();
    // age adds a header and 16 bytes per 64 KiB chunk
    assert!(added.size > len && added.size < len + 1024 + (len >> 16) * 16 + 16);
    let clear = writer.commit().unwrap();
    let reader =
        open_artifact_decrypted(store.as_ref(), &clear, "big.bin", Some(&keys.identities)).unwrap();
    let (digest, size) = digest_reader(reader).unwrap();
    assert_eq!((digest, size), digest_reader(Pattern::new(len, 9)).unwrap());
    let full = load_catalog(store.as_ref(), &clear.set_id, &keys.identities).unwrap();
    assert_eq!(full.artifacts[0].plaintext.unwrap().sha256, digest);
}

#[test]
fn reading_without_or_with_the_wrong_identity_fails() {
    let (_dir, store) = local_store();
    let keys = keys();
    let m = write_encrypted_set(&store, &keys);

    let e = read_plain(store.as_ref(), &m, "cluster.conf", None).unwrap_err();
    assert!(matches!(e, Error::IdentityRequired { .. }), "{e}");
    assert!(e.to_string().contains("identity file"), "{e}");

    let wrong = self::keys();
    let e = read_plain(store.as_ref(), &m, "cluster.conf", Some(&wrong.identities)).unwrap_err();
    assert!(matches!(e, Error::Decrypt { .. }), "{e}");
    assert!(e.to_string().contains("none of the identities"), "{e}");
    assert!(!e.to_string().contains(&wrong.secret[15..]), "{e}");
    let e = load_catalog(store.as_ref(), &m.set_id, &wrong.identities).unwrap_err();
    assert!(matches!(e, Error::Decrypt { .. }), "{e}");

    // an identity file holding the wrong key and the right one reads
    let both = Identities::parse(&format!("{}\n{}\n", wrong.secret, keys.secret)).unwrap();
    assert_eq!(
        read_plain(store.as_ref(), &m, "cluster.conf", Some(&both)).unwrap(),
        CONF
    );

    // a set encrypted to two recipients is read by either
    let other = self::keys();
    let mut two = keys.recipients.to_strings();
    two.extend(other.recipients.to_strings());
    let writer = SetWriter::begin(
        store.clone(),
        SetOptions::new(Reason::Manual).encrypt_to(Recipients::parse(&two).unwrap()),
    )
    .unwrap();
    writer
        .add(
            ArtifactSpec::new(DataKind::Log, "l", "x"),
            &mut &b"both"[..],
        )
        .unwrap();
    let m2 = writer.commit().unwrap();
    for ids in [&keys.identities, &other.identities] {
        assert_eq!(
            read_plain(store.as_ref(), &m2, "x", Some(ids)).unwrap(),
            b"both"
        );
    }

    // a set in clear needs no identity
    let writer = SetWriter::begin(store.clone(), SetOptions::default()).unwrap();
    writer
        .add(
            ArtifactSpec::new(DataKind::Log, "l", "x"),
            &mut &b"clear"[..],
        )
        .unwrap();
    let m3 = writer.commit().unwrap();
    assert_eq!(m3.format_version, 1);
    assert_eq!(
        read_plain(store.as_ref(), &m3, "x", None).unwrap(),
        b"clear"
    );
    assert_eq!(
        load_catalog(store.as_ref(), &m3.set_id, &keys.identities).unwrap(),
        m3
    );
}

#[test]
fn tampering_is_detected_and_never_yields_garbage() {
    let (_dir, store) = local_store();
    let keys = keys();
    let ids = Some(&keys.identities);
    let m = write_encrypted_set(&store, &keys);
    let id = m.set_id.clone();
    let conf = m
        .artifacts
        .iter()
        .find(|a| a.name == "cluster.conf")
        .unwrap();
    let conf_key = object(&id, conf.path.as_str());

    // a flipped byte in the ciphertext: authentication fails before any plaintext
    let size = conf.size as usize;
    flip_byte(store.as_ref(), &conf_key, size - 5);
    let e = read_plain(store.as_ref(), &m, "cluster.conf", ids).unwrap_err();
    assert!(
        matches!(e, Error::Decrypt { .. } | Error::Corrupt { .. }),
        "{e}"
    );
    let mut reader = open_artifact_decrypted(store.as_ref(), &m, "cluster.conf", ids).unwrap();
    let mut got = Vec::new();
    assert!(reader.read_to_end(&mut got).is_err());
    assert!(got.is_empty(), "no unauthenticated byte comes out");
    let report = verify_set(store.as_ref(), &id).unwrap();
    assert!(!report.ok);
    assert!(matches!(
        report.failures().next().unwrap().status,
        CheckStatus::DigestMismatch { .. }
    ));
    flip_byte(store.as_ref(), &conf_key, size - 5);

    // a truncated artifact
    let full = read_all(store.as_ref(), &conf_key);
    replace(store.as_ref(), &conf_key, &full[..full.len() - 1]);
    let e = read_plain(store.as_ref(), &m, "cluster.conf", ids).unwrap_err();
    assert!(
        matches!(e, Error::Decrypt { .. } | Error::Corrupt { .. }),
        "{e}"
    );
    replace(store.as_ref(), &conf_key, &full);
    assert_eq!(
        read_plain(store.as_ref(), &m, "cluster.conf", ids).unwrap(),
        CONF
    );

    // a damaged catalog
    let catalog_key = object(&id, "catalog.json.age");
    flip_byte(store.as_ref(), &catalog_key, 300);
    let e = load_catalog(store.as_ref(), &id, &keys.identities).unwrap_err();
    assert!(matches!(e, Error::Corrupt { .. }), "{e}");
    assert!(!verify_set(store.as_ref(), &id).unwrap().ok);
    flip_byte(store.as_ref(), &catalog_key, 300);

    // artifacts swapped by someone who rewrote the manifest in clear to match: the
    // catalog disagrees, so nothing is read
    let db = m
        .artifacts
        .iter()
        .find(|a| a.name == "db/component.sql")
        .unwrap();
    let db_key = object(&id, db.path.as_str());
    let (db_bytes, conf_bytes) = (
        read_all(store.as_ref(), &db_key),
        read_all(store.as_ref(), &conf_key),
    );
    replace(store.as_ref(), &db_key, &conf_bytes);
    replace(store.as_ref(), &conf_key, &db_bytes);
    let mut forged = m.clone();
    for a in &mut forged.artifacts {
        let stored = read_all(store.as_ref(), &object(&id, a.path.as_str()));
        a.size = stored.len() as u64;
        a.sha256 = Digest::of(&stored);
    }
    replace(
        store.as_ref(),
        &object(&id, "manifest.json"),
        &forged.to_json(),
    );
    let forged = load_manifest(store.as_ref(), &id).unwrap();
    assert!(
        verify_set(store.as_ref(), &id).unwrap().ok,
        "consistent in clear"
    );
    let e = read_plain(store.as_ref(), &forged, "cluster.conf", ids).unwrap_err();
    assert!(matches!(e, Error::Corrupt { .. }), "{e}");
    let e = load_catalog(store.as_ref(), &id, &keys.identities).unwrap_err();
    assert!(e.to_string().contains("as in `manifest.json`"), "{e}");
}

#[test]
fn the_store_sees_no_content_and_no_details() {
    let (dir, store) = local_store();
    let keys = keys();
    let m = write_encrypted_set(&store, &keys);
    let full = load_catalog(store.as_ref(), &m.set_id, &keys.identities).unwrap();
    let manifest_text = String::from_utf8(read_all(
        store.as_ref(),
        &object(&m.set_id, "manifest.json"),
    ))
    .unwrap();
    let mut forbidden: Vec<String> = [
        "secret_customers",
        "very-secret-cluster-config",
        "/etc/hidden",
        "15.18",
        "plaintext",
        "row_counts",
    ]
    .map(String::from)
    .to_vec();
    for a in &full.artifacts {
        forbidden.push(a.plaintext.unwrap().sha256.to_hex());
    }
    for word in &forbidden {
        assert!(
            !manifest_text.contains(word.as_str()),
            "`{word}` in {manifest_text}"
        );
    }
    // nothing anywhere in the store holds the plaintext or the details
    for entry in walk(dir.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        for needle in [&b"secret_customers"[..], b"very-secret", b"/etc/hidden"] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{} holds {}",
                entry.display(),
                String::from_utf8_lossy(needle)
            );
        }
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn an_encrypted_set_refuses_bytes_encrypted_already() {
    let (_dir, store) = local_store();
    let keys = keys();
    let writer = SetWriter::begin(store.clone(), encrypted_options(&keys)).unwrap();
    let mut spec = ArtifactSpec::new(DataKind::Log, "l", "x");
    spec.encryption = Encryption::Age {
        recipients: keys.recipients.to_strings(),
    };
    let e = writer.add(spec, &mut &b"x"[..]).unwrap_err();
    assert!(e.to_string().contains("encrypted already"), "{e}");
}

fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?} ({e}): install Debian's `age` package"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn the_go_age_tool_reads_what_we_write_and_we_read_what_it_writes() {
    let dir = tempfile::tempdir().unwrap();
    let identity_file = dir.path().join("key.txt");
    run(Command::new("age-keygen").arg("-o").arg(&identity_file));
    let public = String::from_utf8(run(Command::new("age-keygen")
        .arg("-y")
        .arg(&identity_file)))
    .unwrap();
    let recipients_file = dir.path().join("recipients.txt");
    std::fs::write(&recipients_file, format!("# the backup key\n{public}")).unwrap();

    // our side, with keys from files as age-keygen writes them (comments included)
    let identities = Identities::from_file(&identity_file).unwrap();
    let recipients = Recipients::from_file(&recipients_file).unwrap();
    assert_eq!(recipients.to_strings(), [public.trim().to_string()]);
    assert_eq!(identities.recipients(), recipients);

    // Go age decrypts an artifact and the catalog we wrote
    let (_d, store) = local_store();
    let writer = SetWriter::begin(
        store.clone(),
        SetOptions::new(Reason::Manual).encrypt_to(recipients.clone()),
    )
    .unwrap();
    let len = 3 * (64 << 10) + 123;
    writer
        .add(
            ArtifactSpec::new(DataKind::Job, "job-data", "data.bin"),
            &mut Pattern::new(len, 5),
        )
        .unwrap();
    let m = writer.commit().unwrap();
    let stored = dir.path().join("data.bin.age");
    std::fs::write(
        &stored,
        read_all(store.as_ref(), &object(&m.set_id, "artifacts/data.bin")),
    )
    .unwrap();
    let plain = run(Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&identity_file)
        .arg(&stored));
    let mut expected = Vec::new();
    Pattern::new(len, 5).read_to_end(&mut expected).unwrap();
    assert!(plain == expected, "age -d gave {} bytes", plain.len());

    let catalog = dir.path().join("catalog.json.age");
    std::fs::write(
        &catalog,
        read_all(store.as_ref(), &object(&m.set_id, "catalog.json.age")),
    )
    .unwrap();
    let json = run(Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&identity_file)
        .arg(&catalog));
    let full = Manifest::from_json("catalog.json", &json).unwrap();
    assert_eq!(full.set_id, m.set_id);
    assert_eq!(full.artifacts[0].plaintext.unwrap().size, len);

    // we decrypt what Go age encrypted, to a recipient and to a recipients file
    let source = dir.path().join("plain.txt");
    std::fs::write(&source, b"written by the Go age tool\n".repeat(5000)).unwrap();
    for (flag, value) in [
        ("-r", public.trim().to_string()),
        ("-R", recipients_file.display().to_string()),
    ] {
        let out = dir.path().join(format!("go{flag}.age"));
        run(Command::new("age")
            .arg(flag)
            .arg(&value)
            .arg("-o")
            .arg(&out)
            .arg(&source));
        let mut got = Vec::new();
        identities
            .decrypt("go.age", std::fs::File::open(&out).unwrap())
            .unwrap()
            .read_to_end(&mut got)
            .unwrap();
        assert_eq!(got, std::fs::read(&source).unwrap());
    }

    // and the wrong key is refused by Go age too
    let (other_secret, _) = generate_identity();
    let other_file = dir.path().join("other.txt");
    std::fs::write(&other_file, format!("{other_secret}\n")).unwrap();
    let out = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&other_file)
        .arg(&stored)
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn key_files_report_the_line_and_never_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let (secret, public) = generate_identity();
    let file = dir.path().join("ids.txt");
    let mut damaged = secret.clone();
    damaged.insert(20, 'x');
    std::fs::write(&file, format!("# created\n{secret}\n\n{damaged}\n")).unwrap();
    let e = Identities::from_file(&file).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("ids.txt` line 4"), "{text}");
    assert!(
        !text.contains(&secret[16..]) && !text.contains(&damaged[16..]),
        "{text}"
    );

    let file = dir.path().join("recipients.txt");
    std::fs::write(&file, format!("{public}\n# comment\nnot-a-key\n")).unwrap();
    let e = Recipients::from_file(&file).unwrap_err();
    assert!(e.to_string().contains("recipients.txt` line 3"), "{e}");
    assert!(e.to_string().contains("age1…"), "{e}");

    let e = Recipients::from_file(dir.path().join("missing.txt")).unwrap_err();
    assert!(e.to_string().contains("missing.txt"), "{e}");
}
