//! `conf` and `db` commands, run as a user runs them, against a live PostgreSQL.
#![cfg(test)]

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_continuum-backup"))
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn pg_url() -> String {
    std::env::var("CONTINUUM_TEST_PG_URL").unwrap_or_else(|_| {
        panic!("CONTINUUM_TEST_PG_URL is not set: start PostgreSQL and set it, or run `bash scripts/test.sh`")
    })
}

fn psql(url: &str, sql: &str) -> String {
    let o = Command::new("psql")
        .args([url, "-X", "-qAt", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .unwrap();
    assert!(o.status.success(), "{sql}: {}", text(&o.stderr));
    text(&o.stdout).trim().to_string()
}

fn with_db(url: &str, db: &str) -> String {
    let base = url.rsplit_once('/').map_or(url, |(b, _)| b);
    format!("{base}/{db}")
}

const CONF: &str = r#"
machines: {
  central: { hosts: ["10.0.0.11", "10.0.0.12"], suitable_tags: ["component-database", "auditlog-database"] }
}
components: { component-database: 2, auditlog-database: 2 }
chef: { continuum: { cluster_name: demo,
  database_backups: { access_key: AKIATESTKEY123, secret_key: "secret/value+1", endpoint: eu-west-1, bucket: demo-backups }
} }
"#;

#[test]
fn conf_show_check_and_placement_never_leak_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("cluster.conf");
    std::fs::write(&conf, CONF).unwrap();
    let c = conf.to_str().unwrap();
    for args in [
        vec!["conf", "show", c],
        vec!["conf", "show", c, "--json"],
        vec!["conf", "check", c],
    ] {
        let o = run(&args);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let all = text(&o.stdout) + &text(&o.stderr);
        assert!(
            !all.contains("AKIATESTKEY123") && !all.contains("secret/value+1"),
            "{all}"
        );
    }
    assert!(text(&run(&["conf", "show", c]).stdout).contains("s3://demo-backups in eu-west-1"));
    let o = run(&["conf", "placement", c, "--host", "10.0.0.12", "--json"]);
    let p: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(p["keep_local"], false);
    assert_eq!(p["upload_s3"], true);
    // a broken file: exit 2 with file:line:column
    let bad = dir.path().join("bad.conf");
    std::fs::write(&bad, "machines: {\n  central: { hosts: [1, 2\n}\n").unwrap();
    let o = run(&["conf", "check", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("bad.conf:"), "{}", text(&o.stderr));
}

#[test]
fn db_backup_and_restore_under_another_name() {
    let url = pg_url();
    psql(&url, "DROP DATABASE IF EXISTS cli_src WITH (FORCE)");
    psql(&url, "DROP DATABASE IF EXISTS cli_copy WITH (FORCE)");
    psql(&url, "CREATE DATABASE cli_src");
    let src = with_db(&url, "cli_src");
    let pgbench = Command::new(continuum_orchestrator::pg_program("pgbench"))
        .args(["-i", "-q", "-s", "2", &src])
        .output()
        .unwrap();
    assert!(pgbench.status.success(), "{}", text(&pgbench.stderr));
    psql(&src, continuum_testkit::EVERY_TYPE_SQL);
    psql(
        &src,
        "CREATE TABLE t (id serial primary key, doc jsonb, data bytea); INSERT INTO t (doc, data) SELECT jsonb_build_object('i', g), decode(md5(g::text), 'hex') FROM generate_series(1, 500) g",
    );
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let s = store.to_str().unwrap();
    let o = run(&[
        "db",
        "backup",
        "--dsn",
        &url,
        "--database",
        "cli_src",
        "--to",
        s,
        "--reason",
        "daily",
        "--no-globals",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let set_id = text(&o.stdout).trim().to_string();
    let o = run(&["sets", "verify", s, &set_id]);
    assert!(o.status.success(), "{}", text(&o.stdout));

    let o = run(&[
        "db",
        "restore",
        "--from",
        s,
        "--set",
        &set_id,
        "--database",
        "cli_src",
        "--as",
        "cli_copy",
        "--dsn",
        &url,
        "--dry-run",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("rename it into place"),
        "{}",
        text(&o.stdout)
    );
    assert_eq!(
        psql(
            &url,
            "SELECT count(*) FROM pg_database WHERE datname = 'cli_copy'"
        ),
        "0"
    );

    let o = run(&[
        "db",
        "restore",
        "--from",
        s,
        "--set",
        &set_id,
        "--database",
        "cli_src",
        "--as",
        "cli_copy",
        "--dsn",
        &url,
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("every count verified"),
        "{}",
        text(&o.stdout)
    );
    for table in [
        "t",
        "every_type",
        "pgbench_accounts",
        "pgbench_branches",
        "pgbench_tellers",
        "pgbench_history",
    ] {
        let sum = format!(
            "SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM {table} x"
        );
        assert_eq!(
            psql(&src, &sum),
            psql(&with_db(&url, "cli_copy"), &sum),
            "{table}"
        );
    }
    assert_eq!(psql(&with_db(&url, "cli_copy"), "SELECT add_one(41)"), "42");

    // again, without force: refused, nothing changed
    let o = run(&[
        "db",
        "restore",
        "--from",
        s,
        "--set",
        &set_id,
        "--database",
        "cli_src",
        "--as",
        "cli_copy",
        "--dsn",
        &url,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let o = run(&[
        "db",
        "restore",
        "--from",
        s,
        "--set",
        &set_id,
        "--database",
        "cli_src",
        "--as",
        "cli_copy",
        "--dsn",
        &url,
        "--force",
        "--json",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));

    // a database that does not exist: exit non-zero naming it, no set committed
    let o = run(&[
        "db",
        "backup",
        "--dsn",
        &url,
        "--database",
        "no_such_db",
        "--to",
        s,
        "--no-globals",
    ]);
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("no_such_db"),
        "{}",
        text(&o.stderr)
    );
    let listing: serde_json::Value =
        serde_json::from_slice(&run(&["sets", "list", s, "--json"]).stdout).unwrap();
    assert_eq!(listing["sets"].as_array().unwrap().len(), 1);
    let o = run(&["db", "list", "--dsn", &url]);
    assert!(text(&o.stdout).contains("cli_copy"));
    psql(&url, "DROP DATABASE cli_src WITH (FORCE)");
    psql(&url, "DROP DATABASE cli_copy WITH (FORCE)");
}

#[test]
fn orchestrator_archive_backup_verify_restore_and_the_release_gate() {
    let url = pg_url();
    for db in ["orchestrator", "orchestrator_archive"] {
        psql(&url, &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
    }
    psql(&url, "CREATE DATABASE orchestrator");
    let orch = with_db(&url, "orchestrator");
    psql(
        &orch,
        "CREATE TABLE hosts (id serial primary key, addr text); INSERT INTO hosts (addr) SELECT '10.0.0.' || g FROM generate_series(1, 42) g",
    );
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("cluster.conf");
    std::fs::write(&conf, CONF).unwrap();
    let tf = dir.path().join("main.tf");
    std::fs::write(&tf, "module \"continuum\" {}\n").unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let backup = |release: &str| {
        let o = run(&[
            "orchestrator",
            "backup",
            "--config",
            conf.to_str().unwrap(),
            "--dsn",
            &url,
            "--release",
            release,
            "--config-file",
            tf.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        text(&o.stdout).trim().to_string()
    };
    let archive = backup("2.6.1");
    assert!(
        archive.contains("orchestrator_backup_") && archive.ends_with(".tgz"),
        "{archive}"
    );
    let listing = Command::new("tar")
        .args(["tzf", &archive])
        .output()
        .unwrap();
    assert_eq!(text(&listing.stdout).lines().next(), Some("metadata.json"));
    let o = run(&["orchestrator", "verify", "--file", &archive]);
    assert!(
        o.status.success() && text(&o.stdout).contains(": ok"),
        "{}",
        text(&o.stderr)
    );

    let config_dir = dir.path().join("restored-config");
    let o = run(&[
        "orchestrator",
        "restore",
        "--file",
        &archive,
        "--dsn",
        &url,
        "--config-dir",
        config_dir.to_str().unwrap(),
        "--dry-run",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(!config_dir.join("cluster.conf").exists());
    psql(&url, "DROP DATABASE orchestrator WITH (FORCE)");
    let o = run(&[
        "orchestrator",
        "restore",
        "--file",
        &archive,
        "--dsn",
        &url,
        "--config-dir",
        config_dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(psql(&orch, "SELECT count(*) FROM hosts"), "42");
    assert_eq!(
        std::fs::read(config_dir.join("cluster.conf")).unwrap(),
        CONF.as_bytes()
    );

    // a release older than 2.4.0 is refused before anything changes
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let old = backup("2.3.9");
    let fresh = dir.path().join("fresh-config");
    let o = run(&[
        "orchestrator",
        "restore",
        "--file",
        &old,
        "--dsn",
        &url,
        "--config-dir",
        fresh.to_str().unwrap(),
        "--force",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("2.4.0"), "{}", text(&o.stderr));
    assert!(!fresh.exists());

    // installation files under version control
    let repo = dir.path().join("repo");
    let o = run(&[
        "conf",
        "snapshot",
        conf.to_str().unwrap(),
        tf.to_str().unwrap(),
        "--repo",
        repo.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("committed 2 changed file(s)"),
        "{}",
        text(&o.stdout)
    );
    let o = run(&[
        "conf",
        "snapshot",
        conf.to_str().unwrap(),
        tf.to_str().unwrap(),
        "--repo",
        repo.to_str().unwrap(),
    ]);
    assert!(
        text(&o.stdout).contains("nothing changed"),
        "{}",
        text(&o.stdout)
    );
    psql(&url, "DROP DATABASE orchestrator WITH (FORCE)");
}
