//! The `sets` commands, run as a user runs them.
#![cfg(test)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use continuum_testkit::{Pattern, create_bucket, s3_endpoint, unique};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_continuum-backup"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write(dir: &Path, name: &str, data: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p.to_string_lossy().into_owned()
}

#[test]
fn version_is_printed() {
    let o = run(&["--version"]);
    assert!(o.status.success());
    assert_eq!(
        stdout(&o).trim(),
        format!("continuum-backup {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn create_list_verify_damage_prune() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let store = store.to_str().unwrap();
    let conf = write(dir.path(), "cluster.conf", b"cluster_name: demo\n");
    let tf = write(dir.path(), "main.tf", b"resource \"x\" {}\n");

    let o = run(&[
        "sets",
        "create",
        store,
        &conf,
        &tf,
        "--reason",
        "daily",
        "--cluster-name",
        "demo",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let first = stdout(&o).trim().to_string();
    std::thread::sleep(Duration::from_millis(1100));
    let o = run(&["sets", "create", store, &conf, "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let manifest: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let second = manifest["set_id"].as_str().unwrap().to_string();
    assert_eq!(manifest["artifacts"][0]["name"], "cluster.conf");

    let o = run(&["sets", "list", store]);
    let text = stdout(&o);
    let first_line = text.lines().nth(1).unwrap();
    assert!(first_line.starts_with(&second), "newest first:\n{text}");
    assert!(
        text.contains(&first) && text.contains("daily") && text.contains("demo"),
        "{text}"
    );

    let o = run(&["sets", "verify", store]);
    assert!(o.status.success(), "{}", stdout(&o));
    assert_eq!(stdout(&o).matches(": ok").count(), 2);

    // flip one byte of main.tf in the first set
    let victim = dir
        .path()
        .join(format!("store/sets/{first}/artifacts/main.tf"));
    let mut data = std::fs::read(&victim).unwrap();
    data[5] ^= 0x20;
    std::fs::write(&victim, data).unwrap();
    let o = run(&["sets", "verify", store, &first]);
    assert_eq!(o.status.code(), Some(1));
    let text = stdout(&o);
    assert!(
        text.contains("DAMAGED") && text.contains("artifact `main.tf`"),
        "{text}"
    );
    let o = run(&["sets", "verify", store, &first, "--json"]);
    let reports: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(reports[0]["ok"], false);

    // prune dry run explains every set and removes nothing
    let o = run(&[
        "sets",
        "prune",
        store,
        "--keep-last",
        "1",
        "--keep-daily",
        "0",
        "--dry-run",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("keep_last: one of the newest 1"), "{text}");
    assert!(
        text.contains("would remove") && text.contains("no rule keeps it"),
        "{text}"
    );
    let listing: serde_json::Value =
        serde_json::from_slice(&run(&["sets", "list", store, "--json"]).stdout).unwrap();
    assert_eq!(listing["sets"].as_array().unwrap().len(), 2);

    let o = run(&["sets", "prune", store, "--keep-last", "1", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["dry_run"], false);
    let listing: serde_json::Value =
        serde_json::from_slice(&run(&["sets", "list", store, "--json"]).stdout).unwrap();
    assert_eq!(listing["sets"][0]["set_id"], second.as_str());
    assert_eq!(listing["sets"].as_array().unwrap().len(), 1);
}

#[test]
fn bad_input_exits_2_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");
    let store = store.to_str().unwrap();
    let missing = dir.path().join("missing.conf");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["sets", "create", store, missing.to_str().unwrap()],
            "missing.conf",
        ),
        (
            vec!["sets", "list", "gs://bucket"],
            "unsupported scheme `gs`",
        ),
        (
            vec![
                "sets",
                "create",
                store,
                "/etc/hostname",
                "--kind",
                "nonsense",
            ],
            "nonsense",
        ),
        (vec!["sets", "prune", store], "no rule"),
        (vec!["sets", "verify", store, "../../etc"], "invalid set id"),
        (vec!["sets", "list", store], "does not exist"),
    ];
    for (args, needle) in cases {
        let o = run(&args);
        let err = stderr(&o);
        assert!(
            o.status.code() == Some(2) || o.status.code() == Some(1),
            "{args:?}: {:?}",
            o.status
        );
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
            "{err}"
        );
    }
    // usage and input errors are 2
    assert_eq!(
        run(&["sets", "verify", store, "../../etc"]).status.code(),
        Some(2)
    );
    assert_eq!(run(&["sets", "bogus"]).status.code(), Some(2));
}

/// A backup killed in the middle of a large upload leaves no visible object: the folder
/// store's temporary file is hidden, an S3 multipart upload never completes.
fn killed_upload_leaves_nothing(
    store: &str,
    extra: &[&str],
    envs: &[(&str, &str)],
    list: impl Fn() -> Vec<String>,
) {
    let mut child = bin()
        .args(["sets", "create", store, "/dev/stdin"])
        .args(extra)
        .envs(envs.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut data = Pattern::new(u64::MAX, 3);
    let mut buf = vec![0u8; 1 << 20];
    for _ in 0..40 {
        std::io::Read::read_exact(&mut data, &mut buf).unwrap();
        stdin.write_all(&buf).unwrap();
    }
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    drop(stdin);
    assert_eq!(list(), Vec::<String>::new());
}

#[test]
fn killed_upload_to_a_folder_leaves_no_visible_object() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let s = store.to_str().unwrap().to_string();
    killed_upload_leaves_nothing(&s, &[], &[], || {
        let listing: serde_json::Value =
            serde_json::from_slice(&run(&["sets", "list", &s, "--json"]).stdout).unwrap();
        listing["sets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.to_string())
            .collect()
    });
    // the incomplete set is pruned away
    let o = run(&[
        "sets",
        "prune",
        &s,
        "--keep-last",
        "5",
        "--incomplete-grace",
        "0",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let remaining: Vec<_> = walk(&store);
    assert!(
        remaining.iter().all(|p| p.contains(".continuum-tmp-")),
        "{remaining:?}"
    );
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().unwrap().is_dir() {
                out.extend(walk(&e.path()));
            } else {
                out.push(e.path().to_string_lossy().into_owned());
            }
        }
    }
    out
}

#[test]
fn killed_upload_to_s3_leaves_no_visible_object() {
    let endpoint = s3_endpoint();
    let bucket = unique("killed");
    create_bucket(&endpoint, &bucket);
    let url = format!("s3://{bucket}/backups");
    let envs = [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
    ];
    let extra = ["--s3-endpoint", endpoint.as_str(), "--s3-path-style"];
    // ask the server directly, not through our own listing
    let all = || {
        let store =
            continuum_core::S3Store::open(&bucket, "", &continuum_testkit::s3_options(&endpoint))
                .unwrap();
        continuum_core::Store::list(&store, "")
            .unwrap()
            .into_iter()
            .map(|m| m.key)
            .collect::<Vec<String>>()
    };
    // The killed writer's lease on its set stays (`sets/<id>/lease/…`, as a crash leaves
    // it): no content.
    killed_upload_leaves_nothing(&url, &extra, &envs, || {
        all()
            .into_iter()
            .filter(|k| k.split('/').nth(3) != Some("lease"))
            .collect()
    });
    // Its process gone, prune removes it.
    let o = bin()
        .args([
            "sets",
            "prune",
            &url,
            "--keep-last",
            "5",
            "--incomplete-grace",
            "0",
        ])
        .args(extra)
        .envs(envs)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(all(), Vec::<String>::new());
}
