//! The whole platform in one set, against the live PostgreSQL server (`CONTINUUM_TEST_PG_URL`)
//! and the live S3-compatible server (`CONTINUUM_TEST_S3_ENDPOINT`): back up, restore onto
//! an empty cluster folder and fresh databases, compare everything.
#![cfg(test)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use continuum_cntmp::{FolderRegistry, PackageSpec, Registry, package_from_files};
use continuum_core::{DynStore, Reason, list_sets, scan_sets};
use continuum_orchestrator::{
    Error, PgTarget, PlatformAction, PlatformBackupOptions, PlatformRestoreOptions, PlatformSource,
    Progress, REDACTED_PLACEHOLDER, RestoreDestination, RestoreKind, backup_platform,
    plan_platform_restore, redact_secrets, restore_platform,
};
use continuum_testkit::{pg_execute, pg_url, table_digests, unique};

const CONF: &str = r#"
# a small cluster
machines: {
  central: { hosts: ["10.0.0.11"], suitable_tags: ["component-database", "auditlog-database", "api-server", "redis-server", "nats-server"] }
  monitoring: { hosts: ["10.0.0.21"], suitable_tags: [monitoring, graphite-server] }
}
components: { component-database: 1, auditlog-database: 1, monitoring: 1, api-server: 2,
  redis-server: 1, nats-server: 1, graphite-server: 1 }
chef: { continuum: { cluster_name: platform-test, base_domain: "test.example.com",
  database_backups: { access_key: AKIAPLATFORMTEST, secret_key: "platform/secret/key", endpoint: eu-west-1, bucket: backups }
} }
"#;

/// The four databases of a test, under names no other test uses; dropped at the end.
struct Databases {
    url: String,
    /// component → database
    names: BTreeMap<String, String>,
}

impl Databases {
    fn create(tag: &str) -> Self {
        let url = pg_url();
        let mut names = BTreeMap::new();
        for component in [
            "component-database",
            "auditlog-database",
            "monitoring",
            "orchestrator",
        ] {
            let name = unique(&format!("{tag}_{component}")).replace('-', "_");
            pg_execute(&url, "postgres", &format!("CREATE DATABASE \"{name}\""));
            pg_execute(
                &url,
                &name,
                &format!(
                    "CREATE TABLE items (id serial PRIMARY KEY, label text NOT NULL, at timestamptz DEFAULT now());
                     INSERT INTO items (label) SELECT '{component}-' || i FROM generate_series(1, 500) i;
                     CREATE TABLE notes (k text PRIMARY KEY, v jsonb);
                     INSERT INTO notes VALUES ('a', '{{\"x\": 1}}'), ('b', NULL);"
                ),
            );
            names.insert(component.to_string(), name);
        }
        Self { url, names }
    }

    fn overrides(&self) -> BTreeMap<String, String> {
        self.names.clone()
    }

    fn target(&self) -> PgTarget {
        PgTarget::parse(&self.url).unwrap()
    }
}

impl Drop for Databases {
    fn drop(&mut self) {
        let t = self.target();
        for name in self.names.values() {
            let _ = t.drop_database(name);
        }
    }
}

/// Drops databases a restore made.
struct Restored(PgTarget, Vec<String>);

impl Drop for Restored {
    fn drop(&mut self) {
        for name in &self.1 {
            let _ = self.0.drop_database(name);
        }
    }
}

/// A cluster folder: cluster.conf, Terraform, policy documents, a package and a job.
fn cluster_dir(root: &Path) -> PathBuf {
    let dir = root.join("cluster");
    fs::create_dir_all(dir.join("policy")).unwrap();
    fs::create_dir_all(dir.join("terraform")).unwrap();
    fs::write(dir.join("cluster.conf"), CONF).unwrap();
    fs::write(
        dir.join("terraform/main.tf"),
        "resource \"aws_instance\" \"central\" {}\n",
    )
    .unwrap();
    fs::write(
        dir.join("terraform/vars.tfvars"),
        "region = \"eu-west-1\"\n",
    )
    .unwrap();
    fs::write(
        dir.join("policy/root.pol"),
        "on job::/sandbox/tom { { permit read } }\n",
    )
    .unwrap();
    fs::write(
        dir.join("policy/quota.pol"),
        "// quotas\non quota::/dev { { total.memory 4GB } }\n",
    )
    .unwrap();
    let layer = root.join("layer.bin");
    fs::write(&layer, b"package layer contents\n".repeat(1000)).unwrap();
    let registry = FolderRegistry::for_cluster(&dir).unwrap();
    package_from_files(
        &registry,
        &PackageSpec::new("demo-pkg", vec![layer]).unwrap(),
    )
    .unwrap();
    dir
}

fn options(dbs: &Databases) -> PlatformBackupOptions {
    let mut o = PlatformBackupOptions::default();
    o.reason = Reason::Daily;
    o.with_job_data = true;
    o.databases = dbs.overrides();
    o.with_globals = false;
    o
}

/// Every file below `dir` (relative path → bytes), hidden ones aside.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || name == "jobdata" {
                continue;
            }
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(rel, fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Backs up, restores into an empty folder and fresh databases, and compares: on the same
/// server under other names, or (`empty_server`) onto a server that has never seen them,
/// under their own names and with the roles.
fn round_trip(store: DynStore, tag: &str, empty_server: bool) {
    let tmp = tempfile::tempdir().unwrap();
    let dbs = Databases::create(tag);
    let cluster = cluster_dir(tmp.path());
    let source = PlatformSource::new(cluster.join("cluster.conf"), &cluster, dbs.target());
    let seen = Mutex::new(Vec::<Progress>::new());
    let progress = |p: &Progress| seen.lock().unwrap().push(p.clone());
    let mut o = options(&dbs);
    o.with_globals = empty_server;
    let report = backup_platform(store.clone(), &source, &o, Some(&progress)).unwrap();

    // what the set holds
    let names: Vec<&str> = report.artifacts.iter().map(|a| a.name.as_str()).collect();
    for db in dbs.names.values() {
        assert!(
            names.contains(&format!("db/{db}.dump.zst").as_str()),
            "{names:?}"
        );
    }
    for expected in [
        "install/cluster.conf",
        "install/terraform/main.tf",
        "install/terraform/vars.tfvars",
        "policy/root.pol",
        "policy/quota.pol",
        "job/all.cntmp",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    assert_eq!(
        report.redacted_secrets.len(),
        2,
        "{:?}",
        report.redacted_secrets
    );
    let sets = list_sets(store.as_ref()).unwrap();
    assert_eq!(sets.len(), 1);
    assert_eq!(sets[0].set_id, report.set_id);
    assert_eq!(sets[0].cluster_name.as_deref(), Some("platform-test"));
    // secrets are not in the set, in any object
    for key in continuum_testkit::keys(store.as_ref(), "") {
        let bytes = continuum_testkit::read_all(store.as_ref(), &key);
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("platform/secret/key") && !text.contains("AKIAPLATFORMTEST"),
            "{key}"
        );
    }
    // progress: every artifact started and finished, the last report says so
    let seen = seen.into_inner().unwrap();
    let last = seen.last().unwrap();
    assert!(last.finished);
    assert_eq!(last.artifacts_done, report.artifacts.len());
    assert!(last.bytes_done > 0);

    // restore onto an empty folder and fresh databases
    let target_dir = tmp.path().join("restored");
    let (restore_url, renames) = if empty_server {
        let same: BTreeMap<String, String> =
            dbs.names.values().map(|d| (d.clone(), d.clone())).collect();
        (pg_empty_url(), same)
    } else {
        let renamed = dbs
            .names
            .values()
            .map(|d| (d.clone(), format!("{d}_r")))
            .collect();
        (dbs.url.clone(), renamed)
    };
    let restore_target = PgTarget::parse(&restore_url).unwrap();
    let _cleanup = Restored(restore_target.clone(), renames.values().cloned().collect());
    let mut ropts = PlatformRestoreOptions::default();
    ropts.databases = renames.clone();
    let dest = RestoreDestination::new(&target_dir, Some(restore_target));
    let plan = plan_platform_restore(store.as_ref(), &report.set_id, &dest, &ropts).unwrap();
    assert!(
        plan.items
            .iter()
            .all(|i| i.action == PlatformAction::Create || i.artifact == "db/globals.sql.zst"),
        "{:#?}",
        plan.items
    );
    assert_eq!(
        plan.items
            .iter()
            .any(|i| i.artifact == "db/globals.sql.zst"),
        empty_server
    );
    let restored = plan.apply(store.as_ref(), None).unwrap();
    assert_eq!(restored.items.len(), report.artifacts.len());
    assert!(
        restored
            .notes
            .iter()
            .any(|n| n.contains(REDACTED_PLACEHOLDER)),
        "{:?}",
        restored.notes
    );

    // files: equal, cluster.conf equal to its redacted form
    let mut expected = files(&cluster);
    let conf = String::from_utf8(expected["cluster.conf"].clone()).unwrap();
    expected.insert(
        "cluster.conf".to_string(),
        redact_secrets(&conf, "cluster.conf")
            .unwrap()
            .text
            .into_bytes(),
    );
    assert_eq!(files(&target_dir), expected);
    // job data: the same objects
    let before = FolderRegistry::for_cluster(&cluster)
        .unwrap()
        .list(None)
        .unwrap();
    let after = FolderRegistry::for_cluster(&target_dir)
        .unwrap()
        .list(None)
        .unwrap();
    assert_eq!(before, after);
    assert!(!before.is_empty());
    // databases: the same rows, table by table
    for (db, copy) in &renames {
        assert_eq!(
            table_digests(&dbs.url, db),
            table_digests(&restore_url, copy),
            "{db}"
        );
    }

    // a second restore: files identical are skipped, databases holding data conflict
    let plan = plan_platform_restore(store.as_ref(), &report.set_id, &dest, &ropts).unwrap();
    assert!(
        plan.items
            .iter()
            .filter(|i| i.kind == RestoreKind::Databases && i.artifact != "db/globals.sql.zst")
            .all(|i| i.action == PlatformAction::Conflict)
    );
    assert!(
        plan.items
            .iter()
            .filter(|i| i.kind == RestoreKind::Policy)
            .all(|i| i.action == PlatformAction::Skip)
    );
    let e = plan.apply(store.as_ref(), None).unwrap_err();
    assert!(matches!(e, Error::RestoreConflicts { .. }), "{e}");
    assert!(e.to_string().contains("holds data"), "{e}");
}

#[test]
fn the_whole_platform_round_trips_through_a_folder() {
    let (_dir, store) = continuum_testkit::local_store();
    round_trip(store, "pf_local", false);
}

#[test]
fn the_whole_platform_round_trips_through_s3_onto_an_empty_server() {
    round_trip(continuum_testkit::s3_store(), "pf_s3", true);
}

/// The second PostgreSQL server, empty (`CONTINUUM_TEST_PG_EMPTY_URL`, started by
/// `scripts/test.sh`).
fn pg_empty_url() -> String {
    std::env::var("CONTINUUM_TEST_PG_EMPTY_URL").unwrap_or_else(|_| {
        panic!(
            "CONTINUUM_TEST_PG_EMPTY_URL is not set: start a second, empty PostgreSQL server \
             and set it, or run `bash scripts/test.sh`, which does"
        )
    })
}

#[test]
fn a_failing_artifact_fails_the_set_and_names_it() {
    let (_store_dir, store) = continuum_testkit::local_store();
    let tmp = tempfile::tempdir().unwrap();
    let dbs = Databases::create("pf_fail");
    let cluster = cluster_dir(tmp.path());
    // a resource of the job-data registry vanishes: the export fails after the dumps ran
    let resources = cluster.join("jobdata");
    let mut removed = false;
    for e in walkdir(&resources) {
        if e.to_string_lossy().contains("resources") && e.is_file() {
            fs::remove_file(&e).unwrap();
            removed = true;
        }
    }
    assert!(
        removed,
        "no resource file found below {}",
        resources.display()
    );
    let source = PlatformSource::new(cluster.join("cluster.conf"), &cluster, dbs.target());
    let e = backup_platform(store.clone(), &source, &options(&dbs), None).unwrap_err();
    assert!(e.to_string().contains("artifact `job/all.cntmp`"), "{e}");
    assert!(list_sets(store.as_ref()).unwrap().is_empty());
    // what was written is gone
    let left: u64 = scan_sets(store.as_ref())
        .unwrap()
        .iter()
        .map(|s| s.objects as u64)
        .sum();
    assert_eq!(left, 0);

    // a database the plan needs and the server lacks: refused before anything is written
    let mut o = options(&dbs);
    o.databases
        .insert("monitoring".to_string(), unique("absent").replace('-', "_"));
    let e = backup_platform(store.clone(), &source, &o, None).unwrap_err();
    assert!(e.to_string().contains("does not have"), "{e}");
    assert!(scan_sets(store.as_ref()).unwrap().is_empty());
}

#[test]
fn restore_only_some_kinds_and_dry_run_changes_nothing() {
    let (_store_dir, store) = continuum_testkit::local_store();
    let tmp = tempfile::tempdir().unwrap();
    let dbs = Databases::create("pf_only");
    let cluster = cluster_dir(tmp.path());
    let source = PlatformSource::new(cluster.join("cluster.conf"), &cluster, dbs.target());
    let report = backup_platform(store.clone(), &source, &options(&dbs), None).unwrap();

    let target_dir = tmp.path().join("only-policy");
    let mut ropts = PlatformRestoreOptions::default();
    ropts.only = vec![RestoreKind::Policy];
    // no database server needed for files only
    let dest = RestoreDestination::new(&target_dir, None);
    let plan = plan_platform_restore(store.as_ref(), &report.set_id, &dest, &ropts).unwrap();
    assert_eq!(plan.items.len(), 2);
    assert!(!target_dir.exists(), "planning wrote something");
    restore_platform(store.as_ref(), &report.set_id, &dest, &ropts, None).unwrap();
    assert_eq!(
        fs::read(target_dir.join("policy/root.pol")).unwrap(),
        fs::read(cluster.join("policy/root.pol")).unwrap()
    );
    assert!(!target_dir.join("cluster.conf").exists());

    // a policy changed locally conflicts; force replaces it
    fs::write(
        target_dir.join("policy/root.pol"),
        "on job::/x { { permit all } }\n",
    )
    .unwrap();
    let e = restore_platform(store.as_ref(), &report.set_id, &dest, &ropts, None).unwrap_err();
    assert!(e.to_string().contains("policy/root.pol"), "{e}");
    ropts.force = true;
    let done = restore_platform(store.as_ref(), &report.set_id, &dest, &ropts, None).unwrap();
    assert!(
        done.items
            .iter()
            .any(|i| i.action == PlatformAction::Replace)
    );
    assert_eq!(
        fs::read(target_dir.join("policy/root.pol")).unwrap(),
        fs::read(cluster.join("policy/root.pol")).unwrap()
    );
}

fn walkdir(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walkdir(&p));
        }
        out.push(p);
    }
    out
}

#[test]
fn an_encrypted_set_restores_only_with_its_identity() {
    let store = continuum_testkit::s3_store();
    let tmp = tempfile::tempdir().unwrap();
    let dbs = Databases::create("pf_age");
    let cluster = cluster_dir(tmp.path());
    let (secret, public) = continuum_core::generate_identity();
    let mut o = options(&dbs);
    o.encrypt_to = Some(continuum_core::Recipients::parse([public.as_str()]).unwrap());
    let source = PlatformSource::new(cluster.join("cluster.conf"), &cluster, dbs.target());
    let report = backup_platform(store.clone(), &source, &o, None).unwrap();
    // encrypted: the secrets stay in cluster.conf, and nothing is readable in the store
    assert!(report.redacted_secrets.is_empty());
    for key in continuum_testkit::keys(store.as_ref(), &format!("sets/{}/", report.set_id)) {
        let bytes = continuum_testkit::read_all(store.as_ref(), &key);
        let text = String::from_utf8_lossy(&bytes);
        for secret_text in [
            "platform/secret/key",
            "component-database-1",
            "demo-pkg",
            "permit read",
        ] {
            assert!(!text.contains(secret_text), "{key} holds `{secret_text}`");
        }
    }
    // still verifiable without the identity
    assert!(
        continuum_core::verify_set(store.as_ref(), &report.set_id)
            .unwrap()
            .ok
    );

    let target_dir = tmp.path().join("restored");
    let dest = RestoreDestination::new(&target_dir, Some(dbs.target()));
    let mut ropts = PlatformRestoreOptions::default();
    ropts.databases = dbs
        .names
        .values()
        .map(|d| (d.clone(), format!("{d}_r")))
        .collect();
    let _cleanup = Restored(dbs.target(), ropts.databases.values().cloned().collect());
    // no identity, a wrong identity: refused, nothing written
    let e = plan_platform_restore(store.as_ref(), &report.set_id, &dest, &ropts).unwrap_err();
    assert!(e.to_string().contains("identity"), "{e}");
    let (other, _) = continuum_core::generate_identity();
    ropts.identities = Some(continuum_core::Identities::parse(&other).unwrap());
    let e = plan_platform_restore(store.as_ref(), &report.set_id, &dest, &ropts).unwrap_err();
    assert!(e.to_string().contains("decrypt"), "{e}");
    assert!(!target_dir.exists());
    // the right one: everything back, cluster.conf with its secrets
    ropts.identities = Some(continuum_core::Identities::parse(&secret).unwrap());
    restore_platform(store.as_ref(), &report.set_id, &dest, &ropts, None).unwrap();
    assert_eq!(files(&target_dir), files(&cluster));
    for (db, copy) in &ropts.databases {
        assert_eq!(
            table_digests(&dbs.url, db),
            table_digests(&dbs.url, copy),
            "{db}"
        );
    }
}
