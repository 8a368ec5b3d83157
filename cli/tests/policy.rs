//! The `policy` commands, run as a user runs them.
#![cfg(test)]

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_continuum-backup"))
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn check_reports_every_error_with_its_place_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.pol");
    let bad = dir.path().join("bad.pol");
    fs::write(&good, "on job::/a { { permit read, frobnicate } }\n").unwrap();
    fs::write(
        &bad,
        "on job::/a {\n  { permit read, }\n  if (role = \"x\") { permit read }\n}\n",
    )
    .unwrap();
    let o = run(&["policy", "check", p(&good)]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("good.pol: ok (1 warning(s))"));
    assert!(text(&o.stderr).contains("`frobnicate` is not a permission known for `job` realms"));
    let o = run(&["policy", "check", p(&good), p(&bad)]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains("bad.pol:2:18: error: expected a value after `,`"),
        "{err}"
    );
    assert!(
        err.contains("bad.pol:3:12: error: expected a comparator"),
        "{err}"
    );
    assert!(err.contains("  |                  ^"), "{err}");
    assert!(text(&o.stdout).contains("bad.pol: 2 error(s)"));
}

#[test]
fn fmt_rewrites_in_place_and_check_mode_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("a.pol");
    fs::write(&f, "job::/a{\n\t{permit read}  // why\n}").unwrap();
    let o = run(&["policy", "fmt", "--check", p(&f)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stdout).contains("a.pol: not formatted"));
    let o = run(&["policy", "fmt", p(&f)]);
    assert!(o.status.success());
    let formatted = fs::read_to_string(&f).unwrap();
    assert_eq!(formatted, "on job::/a {\n    { permit read }  // why\n}\n");
    let o = run(&["policy", "fmt", "--check", p(&f)]);
    assert!(o.status.success());
}

#[test]
fn import_export_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    fs::create_dir_all(&src).unwrap();
    fs::write(
        src.join("quotas.pol"),
        "on quota::/ { { max.instances 1 } }\n",
    )
    .unwrap();
    fs::write(
        src.join("roles.pol"),
        "on job::/ { if (role == \"admin\") { permit all } }\n",
    )
    .unwrap();
    let cluster = dir.path().join("cluster");
    let pattern = format!("{}/*.pol", src.display());

    let o = run(&[
        "policy",
        "import",
        &pattern,
        "--cluster",
        p(&cluster),
        "--dry-run",
        "--json",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["documents"][0]["outcome"], "created");
    assert!(!cluster.join("policy").exists());

    let o = run(&["policy", "import", &pattern, "--cluster", p(&cluster)]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("created"));
    let o = run(&["policy", "import", &pattern, "--cluster", p(&cluster)]);
    assert!(text(&o.stdout).contains("unchanged"));

    let out = dir.path().join("out");
    let o = run(&[
        "policy",
        "export",
        "--cluster",
        p(&cluster),
        "--dir",
        p(&out),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        fs::read_to_string(out.join("roles.pol")).unwrap(),
        fs::read_to_string(src.join("roles.pol")).unwrap()
    );
    let o = run(&[
        "policy",
        "export",
        "quotas",
        "--cluster",
        p(&cluster),
        "--dir",
        p(&out),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("quotas.pol` already exists"),
        "{}",
        text(&o.stderr)
    );
    let o = run(&[
        "policy",
        "export",
        "quotas",
        "--cluster",
        p(&cluster),
        "--dir",
        p(&out),
        "--force",
    ]);
    assert!(o.status.success());
    let o = run(&[
        "policy",
        "export",
        "nope",
        "--cluster",
        p(&cluster),
        "--dir",
        p(&out),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("no policy document named `nope`"));
}
