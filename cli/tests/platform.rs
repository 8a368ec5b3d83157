//! `backup` and `restore` of the whole platform, run as a user runs them, against the live
//! PostgreSQL server (`CONTINUUM_TEST_PG_URL`).
#![cfg(test)]

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use continuum_testkit::{pg_execute, pg_url, table_digests, unique};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_continuum-backup"))
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert!(
        o.status.success(),
        "{args:?}: {}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    text(&o.stdout)
}

const CONF: &str = r#"
machines: { central: { hosts: ["10.0.0.11"], suitable_tags: ["component-database", "redis-server"] } }
components: { component-database: 1, redis-server: 1 }
chef: { continuum: { cluster_name: cli-demo,
  database_backups: { access_key: AKIACLITEST, secret_key: "cli/secret", endpoint: eu-west-1, bucket: b } } }
"#;

struct Dbs(String, Vec<String>);

impl Drop for Dbs {
    fn drop(&mut self) {
        for db in &self.1 {
            pg_execute(
                &self.0,
                "postgres",
                &format!("DROP DATABASE IF EXISTS \"{db}\""),
            );
        }
    }
}

fn cluster(dir: &Path) {
    fs::create_dir_all(dir.join("policy")).unwrap();
    fs::write(dir.join("cluster.conf"), CONF).unwrap();
    fs::write(dir.join("main.tf"), "variable \"region\" {}\n").unwrap();
    fs::write(
        dir.join("policy/root.pol"),
        "on job::/sandbox { { permit read } }\n",
    )
    .unwrap();
}

#[test]
fn backup_then_restore_with_the_cli() {
    let url = pg_url();
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("cluster");
    cluster(&src);
    let cdb = unique("cli_cdb").replace('-', "_");
    let orch = unique("cli_orch").replace('-', "_");
    let mut dbs = Dbs(url.clone(), vec![cdb.clone(), orch.clone()]);
    for db in [&cdb, &orch] {
        pg_execute(&url, "postgres", &format!("CREATE DATABASE \"{db}\""));
        pg_execute(
            &url,
            db,
            "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT i, md5(i::text) FROM generate_series(1, 300) i;",
        );
    }
    let store = tmp.path().join("store");
    let (conf, src_s, store_s) = (
        src.join("cluster.conf"),
        src.to_str().unwrap().to_string(),
        store.to_str().unwrap().to_string(),
    );
    let cdb_arg = format!("component-database={cdb}");
    let orch_arg = format!("orchestrator={orch}");
    let out = ok(&[
        "backup",
        "--config",
        conf.to_str().unwrap(),
        "--cluster",
        &src_s,
        "--dsn",
        &url,
        "--to",
        &store_s,
        "--database",
        &cdb_arg,
        "--database",
        &orch_arg,
        "--no-globals",
        "--reason",
        "deploy",
        "--json",
    ]);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let set_id = report["set_id"].as_str().unwrap().to_string();
    assert_eq!(report["artifacts"].as_array().unwrap().len(), 5, "{out}");
    let plan = report["plan"]["components"].as_array().unwrap();
    let redis = plan
        .iter()
        .find(|c| c["component"] == "redis-server")
        .unwrap();
    assert_eq!(redis["coverage"], "not_backed_up");
    assert!(!out.contains("cli/secret") && !out.contains("AKIACLITEST"));

    let listed = ok(&["sets", "list", &store_s, "--json"]);
    assert!(listed.contains(&set_id), "{listed}");

    // dry run: a plan, nothing written
    let dst = tmp.path().join("restored");
    let dst_s = dst.to_str().unwrap().to_string();
    let (cdb_r, orch_r) = (format!("{cdb}_r"), format!("{orch}_r"));
    dbs.1.extend([cdb_r.clone(), orch_r.clone()]);
    let ren1 = format!("{cdb}={cdb_r}");
    let ren2 = format!("{orch}={orch_r}");
    let restore = |extra: &[&str]| {
        let mut args = vec![
            "restore",
            "--from",
            &store_s,
            "--set",
            &set_id,
            "--cluster",
            &dst_s,
            "--dsn",
            &url,
            "--database",
            &ren1,
            "--database",
            &ren2,
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    let o = restore(&["--dry-run", "--json"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        plan["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["action"] == "create")
    );
    assert!(!dst.exists());

    let o = restore(&[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let said = text(&o.stdout);
    assert!(
        said.contains("restored") && said.contains("REDACTED"),
        "{said}"
    );
    assert_eq!(
        fs::read(dst.join("main.tf")).unwrap(),
        fs::read(src.join("main.tf")).unwrap()
    );
    assert_eq!(
        fs::read(dst.join("policy/root.pol")).unwrap(),
        fs::read(src.join("policy/root.pol")).unwrap()
    );
    assert_eq!(table_digests(&url, &cdb), table_digests(&url, &cdb_r));

    // again: the databases hold data now, so nothing is changed
    let o = restore(&[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("nothing was changed"),
        "{}",
        text(&o.stderr)
    );
    // a dry run shows the conflicts and fails
    let o = restore(&["--dry-run"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stdout).contains("conflict"), "{}", text(&o.stdout));
}

#[test]
fn an_encrypted_backup_needs_the_identity_file() {
    let url = pg_url();
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("cluster");
    cluster(&src);
    // only files: the component database and the orchestrator database are left to others
    fs::write(
        src.join("cluster.conf"),
        CONF.replace("component-database: 1, ", ""),
    )
    .unwrap();
    let orch = unique("cli_age").replace('-', "_");
    let _dbs = Dbs(url.clone(), vec![orch.clone()]);
    pg_execute(&url, "postgres", &format!("CREATE DATABASE \"{orch}\""));
    let (secret, public) = continuum_core::generate_identity();
    let key = tmp.path().join("key.txt");
    fs::write(&key, format!("# test key\n{secret}\n")).unwrap();
    let store = tmp.path().join("store");
    let (src_s, store_s) = (src.to_str().unwrap(), store.to_str().unwrap());
    let conf = src.join("cluster.conf");
    let orch_arg = format!("orchestrator={orch}");
    let out = ok(&[
        "backup",
        "--config",
        conf.to_str().unwrap(),
        "--cluster",
        src_s,
        "--dsn",
        &url,
        "--to",
        store_s,
        "--database",
        &orch_arg,
        "--no-globals",
        "--encrypt-to",
        &public,
        "--json",
    ]);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let set_id = report["set_id"].as_str().unwrap();
    assert!(report["redacted_secrets"].as_array().unwrap().is_empty());
    let dst = tmp.path().join("restored");
    let dst_s = dst.to_str().unwrap();
    let files_only = [
        "restore",
        "--from",
        store_s,
        "--set",
        set_id,
        "--cluster",
        dst_s,
        "--only",
        "installation-files,policy",
    ];
    let o = run(&files_only);
    assert_ne!(o.status.code(), Some(0));
    assert!(text(&o.stderr).contains("identity"), "{}", text(&o.stderr));
    let mut with_key = files_only.to_vec();
    with_key.extend(["--identity", key.to_str().unwrap()]);
    ok(&with_key);
    // encrypted, so cluster.conf came back whole, secrets and all
    assert_eq!(
        fs::read(dst.join("cluster.conf")).unwrap(),
        fs::read(src.join("cluster.conf")).unwrap()
    );
    assert!(!fs::read_to_string(&key).unwrap().is_empty());
}
