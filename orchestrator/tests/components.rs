//! Component database backups placed by cluster.conf: master keeps a local copy and uploads,
//! a replica only uploads, without S3 every server keeps a local copy; retention per reason.
#![cfg(test)]

use std::process::Command;
use std::sync::Arc;

use continuum_core::{LocalStore, Reason, S3Store, Store, list_sets, verify_set};
use continuum_orchestrator::{ClusterConf, ComponentBackupOptions, PgTarget, backup_components};
use continuum_testkit::{create_bucket, s3_endpoint, s3_options, unique};

fn pg_url() -> String {
    std::env::var("CONTINUUM_TEST_PG_URL").unwrap_or_else(|_| {
        panic!("CONTINUUM_TEST_PG_URL is not set: start PostgreSQL and set it, or run `bash scripts/test.sh`")
    })
}

fn psql(url: &str, sql: &str) {
    let o = Command::new("psql")
        .args([url, "-X", "-qAt", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn conf(bucket: Option<&str>) -> ClusterConf {
    let backups = bucket.map_or(String::new(), |b| {
        format!("database_backups: {{ access_key: testing, secret_key: testing, endpoint: us-east-1, bucket: {b} }}")
    });
    let text = format!(
        r#"machines: {{
  central: {{ hosts: ["10.0.0.11", "10.0.0.12"], suitable_tags: ["component-database", "auditlog-database"] }}
  im: {{ hosts: ["10.0.1.1"], suitable_tags: ["instance-manager"] }}
}}
chef: {{ continuum: {{ cluster_name: comp, {backups} }} }}
"#
    );
    ClusterConf::parse(&text, "cluster.conf").unwrap()
}

#[test]
fn placement_decides_where_each_host_keeps_its_dumps() {
    let url = pg_url();
    for db in ["comp_component", "comp_auditlog"] {
        psql(&url, &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
        psql(&url, &format!("CREATE DATABASE {db}"));
        let base = url.rsplit_once('/').unwrap().0;
        psql(
            &format!("{base}/{db}"),
            "CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 100) g",
        );
    }
    let target = PgTarget::parse(&url).unwrap();
    let endpoint = s3_endpoint();
    let bucket = unique("dbbackups");
    create_bucket(&endpoint, &bucket);
    let dir = tempfile::tempdir().unwrap();
    let mut options = ComponentBackupOptions::new(Reason::Daily);
    options.local_dir = dir.path().to_path_buf();
    options
        .databases
        .insert("component-database".into(), vec!["comp_component".into()]);
    options
        .databases
        .insert("auditlog-database".into(), vec!["comp_auditlog".into()]);
    options.s3_endpoint = Some(endpoint.clone());
    options.s3_path_style = true;
    options.with_globals = false;

    let with_s3 = conf(Some(&bucket));
    let s3: Arc<dyn Store> =
        Arc::new(S3Store::open(&bucket, "database_backups", &s3_options(&endpoint)).unwrap());
    let local: Arc<dyn Store> = Arc::new(LocalStore::new(dir.path().join("comp")));

    // the master: local copy and S3
    let master = backup_components(&with_s3, "10.0.0.11", &target, &options).unwrap();
    assert_eq!(master.databases, ["comp_component", "comp_auditlog"]);
    assert_eq!(master.stores.len(), 2);
    assert!(verify_set(local.as_ref(), &master.set_id).unwrap().ok);
    assert!(verify_set(s3.as_ref(), &master.set_id).unwrap().ok);

    // a replica: S3 only
    let replica = backup_components(&with_s3, "10.0.0.12", &target, &options).unwrap();
    assert_eq!(replica.stores.len(), 1);
    assert!(replica.stores[0].starts_with("s3://"));
    assert_eq!(list_sets(local.as_ref()).unwrap().len(), 1);
    assert_eq!(list_sets(s3.as_ref()).unwrap().len(), 2);

    // without S3, the replica keeps a local copy
    let local_only = backup_components(&conf(None), "10.0.0.12", &target, &options).unwrap();
    assert_eq!(local_only.stores.len(), 1);
    assert!(local_only.stores[0].starts_with("file://"));
    assert_eq!(list_sets(local.as_ref()).unwrap().len(), 2);

    // a host without databases is told so
    let e = backup_components(&with_s3, "10.0.1.1", &target, &options).unwrap_err();
    assert!(e.to_string().contains("runs no database component"), "{e}");

    // retention per reason: keep the last 1 manual set, daily sets untouched
    options.reason = Reason::Manual;
    options
        .retention
        .insert(Reason::Manual, continuum_core::RetentionPolicy::last(1));
    backup_components(&conf(None), "10.0.0.11", &target, &options).unwrap();
    let second = backup_components(&conf(None), "10.0.0.11", &target, &options).unwrap();
    let sets = list_sets(local.as_ref()).unwrap();
    assert_eq!(
        sets.iter().filter(|m| m.reason == Reason::Manual).count(),
        1
    );
    assert_eq!(sets.iter().filter(|m| m.reason == Reason::Daily).count(), 2);
    assert!(sets.iter().any(|m| m.set_id == second.set_id));
    for db in ["comp_component", "comp_auditlog"] {
        psql(&url, &format!("DROP DATABASE {db} WITH (FORCE)"));
    }
}
