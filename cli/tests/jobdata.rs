//! The job data commands (`package`, `job`, `import`, `export`, `cntmp`), run as a user runs them.
#![cfg(test)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_continuum-backup"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Runs a command that must succeed; returns its stdout.
fn ok(dir: &Path, args: &[&str]) -> String {
    let o = run_in(dir, args);
    assert!(
        o.status.success(),
        "{args:?}: {:?}\n{}{}",
        o.status,
        text(&o.stdout),
        text(&o.stderr)
    );
    text(&o.stdout)
}

/// A small gzip tarball holding one file.
fn tarball(dir: &Path, name: &str, content: &str) -> PathBuf {
    let src = dir.join(format!("{name}.src"));
    fs::create_dir_all(&src).unwrap();
    fs::write(src.join("file.txt"), content).unwrap();
    let out = dir.join(name);
    let status = Command::new("tar")
        .arg("czf")
        .arg(&out)
        .arg("-C")
        .arg(&src)
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success());
    out
}

/// Every path under `root` with its contents (folders as `/`), sorted.
fn snapshot(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            if path.is_dir() {
                out.push((rel, b"/".to_vec()));
                stack.push(path);
            } else {
                out.push((rel, fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// Flips one byte in the middle of a stored ZIP entry's data.
fn flip_byte_in_entry(file: &Path, entry: &str) {
    let mut bytes = fs::read(file).unwrap();
    // The local header comes first: signature, …, name length at 26, extra length at 28,
    // the name at 30, then the extra field, then the data.
    let name_at = bytes
        .windows(entry.len())
        .position(|w| w == entry.as_bytes())
        .unwrap();
    let header = name_at - 30;
    assert_eq!(&bytes[header..header + 4], b"PK\x03\x04");
    let name_len = u16::from_le_bytes([bytes[header + 26], bytes[header + 27]]) as usize;
    let extra_len = u16::from_le_bytes([bytes[header + 28], bytes[header + 29]]) as usize;
    let data = name_at + name_len + extra_len;
    bytes[data + 40] ^= 0x01;
    fs::write(file, bytes).unwrap();
}

fn json_of(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[test]
fn packages_and_jobs_round_trip_through_cntmp_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cluster = d.join("cluster");
    let c = p(&cluster);
    let layer1 = tarball(d, "layer1.tar.gz", "the first layer");
    let layer2 = tarball(d, "layer2.tar.gz", "the second layer");

    // package from-file: two layers, provides, depends, environment.
    let out = ok(
        d,
        &[
            "package",
            "from-file",
            p(&layer1),
            p(&layer2),
            "--name",
            "go-1.5",
            "--provides",
            "runtime.go",
            "--depends",
            "os.linux",
            "--env",
            "A=1",
            "--cluster",
            c,
        ],
    );
    assert_eq!(out.trim(), "package::/apcera/pkg/packages::go-1.5");
    let out = ok(
        d,
        &[
            "package",
            "from-file",
            p(&layer2),
            "--name",
            "go-1.6",
            "--cluster",
            c,
        ],
    );
    assert_eq!(out.trim(), "package::/apcera/pkg/packages::go-1.6");

    let packages = json_of(&ok(d, &["package", "list", "--cluster", c, "--json"]));
    let go15 = &packages[0];
    assert_eq!(go15["fqn"], "package::/apcera/pkg/packages::go-1.5");
    assert_eq!(go15["resources"].as_array().unwrap().len(), 2);
    assert_eq!(go15["provides"][0]["type"], "runtime");
    assert_eq!(go15["provides"][0]["name"], "go");
    assert_eq!(go15["dependencies"][0]["type"], "os");
    assert_eq!(go15["dependencies"][0]["name"], "linux");
    assert_eq!(go15["environment"]["A"], "1");
    let uuid = go15["uuid"].as_str().unwrap().to_string();
    let table = ok(d, &["package", "list", "--cluster", c]);
    assert!(table.starts_with("FQN"), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("package::/apcera/pkg/packages::go-1.5  2")),
        "{table}"
    );

    // job create from the API's JSON shape.
    let job = serde_json::json!({
        "fqn": "job::/sandbox/demo::web",
        "name": "web",
        "packages": [{"uuid": uuid}],
        "processes": {"app": {"start_command": "./run"}},
        "ports": [{"number": 8080, "routes": [{"type": "http", "endpoint": "web.example.com", "weight": 1.0}]}],
        "tags": {"tier": "front"}
    });
    let job_file = d.join("job.json");
    fs::write(&job_file, serde_json::to_vec(&job).unwrap()).unwrap();
    let out = ok(
        d,
        &["job", "create", "--from-json", p(&job_file), "--cluster", c],
    );
    assert_eq!(out.trim(), "job::/sandbox/demo::web");
    let table = ok(d, &["job", "list", "--cluster", c]);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("job::/sandbox/demo::web") && l.ends_with(" 1")),
        "{table}"
    );
    let jobs = json_of(&ok(d, &["job", "list", "--cluster", c, "--json"]));
    assert_eq!(
        jobs[0]["ports"][0]["routes"][0]["endpoint"],
        "web.example.com"
    );

    // package export without -o: `<name>.cntmp` in the current folder, one per match.
    let here = d.join("here");
    fs::create_dir_all(&here).unwrap();
    ok(&here, &["package", "export", "go-1.5", "--cluster", c]);
    assert!(here.join("go-1.5.cntmp").is_file());
    let o = run_in(&here, &["package", "export", "go-1.5", "--cluster", c]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("already exists"),
        "{}",
        text(&o.stderr)
    );
    ok(
        &here,
        &["package", "export", "go-1.5", "--cluster", c, "--force"],
    );
    let wild = d.join("wild");
    fs::create_dir_all(&wild).unwrap();
    ok(&wild, &["package", "export", "go-*", "--cluster", c]);
    assert!(wild.join("go-1.5.cntmp").is_file());
    assert!(wild.join("go-1.6.cntmp").is_file());
    ok(&wild, &["job", "export", "web", "--cluster", c]);
    assert!(wild.join("web.cntmp").is_file());

    // export all, inspect, verify.
    ok(&here, &["export", "all", "--cluster", c, "-o", "all.cntmp"]);
    let all = here.join("all.cntmp");
    let inspected = json_of(&ok(d, &["cntmp", "inspect", p(&all), "--json"]));
    let fqns: Vec<&str> = inspected["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["fqn"].as_str().unwrap())
        .collect();
    assert_eq!(
        fqns,
        [
            "job::/sandbox/demo::web",
            "package::/apcera/pkg/packages::go-1.5",
            "package::/apcera/pkg/packages::go-1.6"
        ]
    );
    assert_eq!(inspected["objects"][1]["kind"], "package");
    let resources = inspected["objects"][1]["resources"].as_array().unwrap();
    assert_eq!(resources.len(), 2);
    assert_eq!(resources[0]["entry"], "PACKAGE_RESOURCE_0001.tar.gz");
    assert_eq!(resources[0]["compression"], "gzip");
    assert!(
        resources[0]["sha256"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert!(
        inspected["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "manifest.json")
    );
    let table = ok(d, &["cntmp", "inspect", p(&all)]);
    assert!(table.contains("PACKAGE_RESOURCE_0002.tar.gz"), "{table}");
    let out = ok(d, &["cntmp", "verify", p(&all)]);
    assert!(out.contains(": ok (3 objects, "), "{out}");

    // import: a dry run stores nothing, then it creates, then it refuses, then it skips.
    let new = d.join("new");
    let n = p(&new);
    let report = json_of(&ok(
        d,
        &["import", p(&all), "--cluster", n, "--dry-run", "--json"],
    ));
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["objects"].as_array().unwrap().len(), 3);
    assert!(
        report["objects"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["action"] == "create")
    );
    assert!(!new.exists() || snapshot(&new).is_empty());
    let table = ok(d, &["import", p(&all), "--cluster", n, "--dry-run"]);
    assert!(table.contains("WOULD"), "{table}");
    let table = ok(d, &["import", p(&all), "--cluster", n]);
    assert!(
        table
            .lines()
            .any(|l| l.contains("package::/apcera/pkg/packages::go-1.5") && l.contains("create")),
        "{table}"
    );
    let imported = json_of(&ok(d, &["package", "list", "--cluster", n, "--json"]));
    assert_eq!(imported, packages);
    let o = run_in(d, &["import", p(&all), "--cluster", n]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("already exists"),
        "{}",
        text(&o.stderr)
    );
    let table = ok(d, &["import", p(&all), "--cluster", n, "-s"]);
    assert_eq!(
        table.lines().filter(|l| l.contains("unchanged")).count(),
        3,
        "{table}"
    );

    // A namespace override moves every object, and the job follows its package.
    let acme = d.join("acme");
    let a = p(&acme);
    let report = json_of(&ok(
        d,
        &[
            "package",
            "import",
            p(&all),
            "--cluster",
            a,
            "-o",
            "/acme",
            "--json",
        ],
    ));
    let moved: Vec<&str> = report["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["fqn"].as_str().unwrap())
        .collect();
    assert_eq!(
        moved,
        [
            "job::/acme::web",
            "package::/acme::go-1.5",
            "package::/acme::go-1.6"
        ]
    );
    let packages = json_of(&ok(d, &["package", "list", "--cluster", a, "--json"]));
    let jobs = json_of(&ok(d, &["job", "list", "--cluster", a, "--json"]));
    assert_eq!(jobs[0]["packages"][0]["uuid"], packages[0]["uuid"]);
    assert_ne!(packages[0]["uuid"].as_str(), Some(uuid.as_str()));

    // One flipped byte in the first resource: verify fails naming it, import stores nothing.
    let bad = d.join("bad.cntmp");
    fs::copy(&all, &bad).unwrap();
    flip_byte_in_entry(&bad, "PACKAGE_RESOURCE_0001.tar.gz");
    let o = run_in(d, &["cntmp", "verify", p(&bad)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stdout));
    assert!(
        text(&o.stderr).contains("PACKAGE_RESOURCE_0001.tar.gz"),
        "{}",
        text(&o.stderr)
    );
    let target = d.join("target");
    let t = p(&target);
    ok(
        d,
        &[
            "package",
            "from-file",
            p(&layer2),
            "--name",
            "linux",
            "--provides",
            "os.linux",
            "--cluster",
            t,
        ],
    );
    fs::write(target.join("unrelated"), "kept").unwrap();
    let before = snapshot(&target);
    for extra in [&[][..], &["-s"][..], &["-o", "/acme"][..]] {
        let mut args = vec!["import", p(&bad), "--cluster", t];
        args.extend_from_slice(extra);
        let o = run_in(d, &args);
        assert_ne!(o.status.code(), Some(0), "{args:?}: {}", text(&o.stdout));
        assert!(
            text(&o.stderr).contains("PACKAGE_RESOURCE_0001.tar.gz"),
            "{}",
            text(&o.stderr)
        );
        assert_eq!(snapshot(&target), before, "{args:?}");
    }
}

#[test]
fn bad_names_and_values_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cluster = d.join("cluster");
    let c = p(&cluster);
    let layer = tarball(d, "layer.tar.gz", "a layer");
    ok(
        d,
        &[
            "package",
            "from-file",
            p(&layer),
            "--name",
            "tool",
            "--cluster",
            c,
        ],
    );

    let o = run_in(d, &["package", "export", "nope", "--cluster", c]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("no package matches `nope`"),
        "{}",
        text(&o.stderr)
    );
    assert!(!d.join("nope.cntmp").exists());

    let o = run_in(
        d,
        &[
            "package",
            "from-file",
            p(&layer),
            "--name",
            "other",
            "--provides",
            "runtime.go,nonsense",
            "--cluster",
            c,
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("nonsense"), "{}", text(&o.stderr));

    let o = run_in(d, &["job", "export", "we*", "--cluster", c]);
    assert_eq!(o.status.code(), Some(2));

    let o = run_in(
        d,
        &[
            "package",
            "from-file",
            p(&layer),
            "--name",
            "tool",
            "--cluster",
            c,
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("already exists"),
        "{}",
        text(&o.stderr)
    );

    let not_a_job = d.join("pkg.json");
    fs::write(&not_a_job, r#"{"fqn": "package::/a::b"}"#).unwrap();
    let o = run_in(
        d,
        &[
            "job",
            "create",
            "--from-json",
            p(&not_a_job),
            "--cluster",
            c,
        ],
    );
    assert_eq!(o.status.code(), Some(2));

    let junk = d.join("junk.cntmp");
    fs::write(&junk, "not a zip").unwrap();
    let o = run_in(d, &["cntmp", "inspect", p(&junk)]);
    assert_eq!(o.status.code(), Some(2));
}
