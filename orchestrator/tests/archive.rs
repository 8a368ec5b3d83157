//! The orchestrator archive against a live PostgreSQL server (`CONTINUUM_TEST_PG_URL` names
//! it; `scripts/test.sh` starts a throwaway cluster and sets it; without it these tests fail),
//! GNU tar and git: backup, verify, the release gate, restore with plan → apply → verify, and
//! the installation files kept in git.
#![cfg(test)]

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use continuum_core::Digest;
use continuum_orchestrator::{
    ARCHIVE_METADATA, Error, ItemAction, ItemKind, ORCHESTRATOR_ARCHIVE_DATABASE,
    ORCHESTRATOR_DATABASE, OrchestratorBackupOptions, OrchestratorRestoreOptions, PgTarget,
    backup_orchestrator, collect_installation_files, plan_orchestrator_restore,
    restore_orchestrator, snapshot_to_git, verify_archive,
};

fn pg_url() -> String {
    std::env::var("CONTINUUM_TEST_PG_URL").unwrap_or_else(|_| {
        panic!(
            "CONTINUUM_TEST_PG_URL is not set: start a PostgreSQL server and set it to its URL \
             (postgresql://postgres@127.0.0.1:PORT/postgres), or run `bash scripts/test.sh`, \
             which starts a throwaway cluster"
        )
    })
}

fn target() -> PgTarget {
    PgTarget::parse(&pg_url()).unwrap()
}

/// Runs SQL with `psql` and returns its unaligned output.
fn psql(target: &PgTarget, database: &str, sql: &str) -> String {
    let t = target.with_database(database);
    let out = t
        .command("psql")
        .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d"])
        .arg(t.dbname_arg())
        .arg("-c")
        .arg(sql)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn git(repo: &Path, args: &[&str]) -> String {
    run(Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["-c", "user.name=test", "-c", "user.email=test@localhost"])
        .args(args))
}

fn commit_count(repo: &Path) -> usize {
    git(repo, &["rev-list", "--count", "HEAD"])
        .trim()
        .parse()
        .unwrap()
}

const ROLE: &str = "continuum_orch_owner";

const ORCHESTRATOR_SQL: &str = r#"
CREATE TABLE jobs (id bigint PRIMARY KEY, fqn text NOT NULL, spec jsonb, created timestamptz);
INSERT INTO jobs SELECT i, 'job::/apcera::job-' || i, jsonb_build_object('i', i, 'n', 'ü ' || i),
       '2026-01-01 00:00:00+00'::timestamptz + i * interval '1 minute'
FROM generate_series(1, 250) i;
CREATE TABLE packages (name text PRIMARY KEY, data bytea);
INSERT INTO packages SELECT 'pkg-' || i, decode(md5(i::text), 'hex') FROM generate_series(1, 40) i;
CREATE SCHEMA audit;
CREATE TABLE audit.events (at timestamptz DEFAULT now(), what text);
INSERT INTO audit.events (what) SELECT 'event ' || i FROM generate_series(1, 17) i;
CREATE TABLE empty_one (x int);
CREATE SEQUENCE job_ids START 1000;
SELECT nextval('job_ids'), nextval('job_ids'), nextval('job_ids');
CREATE VIEW recent_jobs AS SELECT id, fqn FROM jobs WHERE id > 200;
"#;

/// A folder of installation files: cluster.conf, Terraform, and what must be left out.
fn installation(dir: &Path, cluster: &str) -> PathBuf {
    let src = dir.join("install");
    fs::create_dir_all(src.join("modules/net")).unwrap();
    fs::create_dir_all(src.join(".terraform/modules")).unwrap();
    fs::write(
        src.join("cluster.conf"),
        format!(
            "# the cluster\nchef: {{ continuum: {{ cluster_name: {cluster}, base_domain: \"{cluster}.example.com\" }} }}\n\
             machines: {{ central: {{ hosts: [\"192.0.2.10\"], suitable_tags: [\"component-database\"] }} }}\n"
        ),
    )
    .unwrap();
    fs::write(
        src.join("main.tf"),
        "resource \"aws_instance\" \"orchestrator\" {\n  # MARKER-main-tf-7f3a\n  ami = \"ami-123\"\n}\n",
    )
    .unwrap();
    fs::write(
        src.join("terraform.tfvars"),
        "region = \"eu-west-1\"\ncount = 3\n",
    )
    .unwrap();
    fs::write(
        src.join("modules/net/variables.tf"),
        "variable \"cidr\" {}\n",
    )
    .unwrap();
    fs::write(src.join(".terraform/modules/cached.tf"), "# not ours\n").unwrap();
    fs::write(src.join("terraform.tfstate"), "{\"secret\": 1}\n").unwrap();
    fs::write(src.join("notes.txt"), "not configuration\n").unwrap();
    src
}

/// Member names of a `.tgz` as GNU tar lists them.
fn tar_list(archive: &Path) -> Vec<String> {
    run(Command::new("tar").arg("tzf").arg(archive))
        .lines()
        .map(str::to_string)
        .collect()
}

fn gunzip(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn gzip_to(data: &[u8], path: &Path) {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(data).unwrap();
    fs::write(path, gz.finish().unwrap()).unwrap();
}

fn drop_role(t: &PgTarget) {
    psql(t, "postgres", &format!("DROP ROLE IF EXISTS {ROLE}"));
}

/// The databases the orchestrator uses have fixed names; only this test uses them.
#[test]
fn the_orchestrator_survives_backup_verify_and_restore_onto_a_new_host() {
    let t = target();
    let dir = tempfile::tempdir().unwrap();
    for db in [ORCHESTRATOR_DATABASE, ORCHESTRATOR_ARCHIVE_DATABASE] {
        t.drop_database(db).unwrap();
    }
    drop_role(&t);
    psql(&t, "postgres", &format!("CREATE ROLE {ROLE} NOLOGIN"));
    t.create_database(ORCHESTRATOR_DATABASE).unwrap();
    psql(
        &t,
        "postgres",
        &format!("CREATE DATABASE {ORCHESTRATOR_ARCHIVE_DATABASE} OWNER {ROLE}"),
    );
    psql(&t, ORCHESTRATOR_DATABASE, ORCHESTRATOR_SQL);
    psql(
        &t,
        ORCHESTRATOR_DATABASE,
        &format!(
            "CREATE TABLE owned (x int); INSERT INTO owned VALUES (1), (2); ALTER TABLE owned OWNER TO {ROLE}"
        ),
    );
    psql(
        &t,
        ORCHESTRATOR_ARCHIVE_DATABASE,
        "CREATE TABLE history (id serial PRIMARY KEY, note text); \
         INSERT INTO history (note) SELECT 'old ' || i FROM generate_series(1, 60) i;",
    );
    let counts_before = t.row_counts(ORCHESTRATOR_DATABASE).unwrap();
    let archive_counts_before = t.row_counts(ORCHESTRATOR_ARCHIVE_DATABASE).unwrap();

    let src = installation(dir.path(), "test-cluster");
    let bundle = dir.path().join("release-2.6.1.tar.gz");
    fs::write(&bundle, b"\x1f\x8b pretend bundle bytes").unwrap();
    let mut options = OrchestratorBackupOptions::new("2.6.1");
    options.release_bundle = Some(bundle.clone());
    options.config_files = vec![src.clone()];
    options.host = Some("orch-1".to_string());
    options.host_addresses = Some(vec!["192.0.2.10".to_string()]);
    let out = dir.path().join("out");
    let made = backup_orchestrator(&src.join("cluster.conf"), &t, &out, &options).unwrap();

    // The name, the metadata, what GNU tar sees.
    let name = made.path.file_name().unwrap().to_str().unwrap().to_string();
    assert!(
        name.starts_with("orchestrator_backup_") && name.ends_with("Z.tgz") && name.len() == 40,
        "{name}"
    );
    let meta = &made.metadata;
    assert_eq!(meta.cluster_name.as_deref(), Some("test-cluster"));
    assert_eq!(meta.platform_release, "2.6.1");
    assert_eq!(meta.host, "orch-1");
    assert_eq!(meta.host_addresses, ["192.0.2.10"]);
    assert!(meta.postgresql_version.starts_with(char::is_numeric));
    assert_eq!(meta.databases.len(), 2);
    assert_eq!(meta.databases[0].row_counts, counts_before);
    assert_eq!(meta.databases[0].row_counts["public.jobs"], 250);
    assert_eq!(meta.databases[1].row_counts, archive_counts_before);
    assert_eq!(meta.databases[1].owner.as_deref(), Some(ROLE));
    let listed = tar_list(&made.path);
    assert_eq!(
        listed,
        [
            ARCHIVE_METADATA,
            "release/version",
            "release/release-2.6.1.tar.gz",
            "db/orchestrator.sql",
            "db/orchestrator_archive.sql",
            "db/roles.sql",
            "config/cluster.conf",
            "config/main.tf",
            "config/modules/net/variables.tf",
            "config/terraform.tfvars",
        ]
    );
    let verbose = run(Command::new("tar").arg("tvzf").arg(&made.path));
    assert!(
        verbose.lines().all(|l| l.starts_with("-rw------- 0/0")),
        "{verbose}"
    );
    // GNU tar unpacks it; the files are the originals and the dumps plain SQL.
    let unpacked = dir.path().join("unpacked");
    fs::create_dir(&unpacked).unwrap();
    run(Command::new("tar")
        .arg("xzf")
        .arg(&made.path)
        .arg("-C")
        .arg(&unpacked));
    for f in ["cluster.conf", "main.tf", "terraform.tfvars"] {
        assert_eq!(
            fs::read(unpacked.join("config").join(f)).unwrap(),
            fs::read(src.join(f)).unwrap()
        );
    }
    assert_eq!(
        fs::read_to_string(unpacked.join("release/version")).unwrap(),
        "2.6.1\n"
    );
    let sql = fs::read_to_string(unpacked.join("db/orchestrator.sql")).unwrap();
    assert!(sql.contains("PostgreSQL database dump"), "{}", &sql[..200]);
    assert!(
        fs::read_to_string(unpacked.join("db/roles.sql"))
            .unwrap()
            .contains(ROLE)
    );
    let on_disk: serde_json::Value =
        serde_json::from_slice(&fs::read(unpacked.join(ARCHIVE_METADATA)).unwrap()).unwrap();
    assert_eq!(on_disk["members"].as_array().unwrap().len(), 9);
    assert_eq!(
        on_disk["members"][5]["sha256"],
        Digest::of(&fs::read(src.join("cluster.conf")).unwrap()).to_string()
    );
    // Nothing but the archive is left in the output folder.
    let left: Vec<_> = fs::read_dir(&out).unwrap().collect();
    assert_eq!(left.len(), 1);

    // verify: sound; a flipped byte is named.
    let report = verify_archive(&made.path).unwrap();
    assert_eq!((report.members, report.restorable), (9, true));
    assert_eq!(report.size, made.size);
    let mut tar = gunzip(&made.path);
    let marker = b"MARKER-main-tf-7f3a";
    let hits: Vec<usize> = tar
        .windows(marker.len())
        .enumerate()
        .filter(|(_, w)| w == marker)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(hits.len(), 1, "the marker must be unique");
    tar[hits[0] + 3] ^= 0x01;
    let flipped = dir.path().join("flipped.tgz");
    gzip_to(&tar, &flipped);
    let e = verify_archive(&flipped).unwrap_err().to_string();
    assert!(
        e.contains("`config/main.tf` is corrupt") && e.contains("sha256:"),
        "{e}"
    );

    // A restore onto the populated server is refused, changing nothing; a dry run shows why.
    let config_dir = dir.path().join("new-host/etc/continuum");
    let mut new_host = OrchestratorRestoreOptions::default();
    new_host.host_addresses = Some(vec!["192.0.2.99".to_string()]);
    let e = restore_orchestrator(&made.path, &t, &config_dir, &new_host).unwrap_err();
    assert!(matches!(e, Error::RestoreConflicts { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("database `orchestrator` is not empty"),
        "{e}"
    );
    assert!(!config_dir.exists());
    let plan = plan_orchestrator_restore(&made.path, &t, &config_dir, &new_host).unwrap();
    assert_eq!(plan.conflicts().count(), 2);
    let shown = plan.to_string();
    assert!(shown.contains("conflict  database"), "{shown}");
    assert!(
        shown.contains("warning: this host's addresses (192.0.2.99)"),
        "{shown}"
    );

    // The new host: the databases and the role are gone, the config folder is empty.
    for db in [ORCHESTRATOR_DATABASE, ORCHESTRATOR_ARCHIVE_DATABASE] {
        t.drop_database(db).unwrap();
    }
    drop_role(&t);
    fs::create_dir_all(&config_dir).unwrap();

    // dry run: the plan, nothing done.
    let mut dry = new_host.clone();
    dry.dry_run = true;
    let shown = restore_orchestrator(&made.path, &t, &config_dir, &dry).unwrap();
    assert!(shown.dry_run && shown.databases.is_empty() && shown.files.is_empty());
    let actions: Vec<(ItemKind, ItemAction)> =
        shown.items.iter().map(|i| (i.kind, i.action)).collect();
    assert_eq!(
        actions[..3],
        [
            (ItemKind::Roles, ItemAction::Apply),
            (ItemKind::Database, ItemAction::Create),
            (ItemKind::Database, ItemAction::Create),
        ]
    );
    assert_eq!(
        shown
            .items
            .iter()
            .filter(|i| i.kind == ItemKind::ConfigFile && i.action == ItemAction::Create)
            .count(),
        4
    );
    assert!(!t.database_exists(ORCHESTRATOR_DATABASE).unwrap());
    assert_eq!(fs::read_dir(&config_dir).unwrap().count(), 0);
    assert_eq!(
        fs::read_dir(config_dir.parent().unwrap()).unwrap().count(),
        1
    );

    // The restore.
    let restored = restore_orchestrator(&made.path, &t, &config_dir, &new_host).unwrap();
    assert!(!restored.dry_run);
    assert!(
        restored
            .warnings
            .iter()
            .any(|w| w.contains("same IP address")),
        "{:?}",
        restored.warnings
    );
    assert_eq!(t.row_counts(ORCHESTRATOR_DATABASE).unwrap(), counts_before);
    assert_eq!(
        t.row_counts(ORCHESTRATOR_ARCHIVE_DATABASE).unwrap(),
        archive_counts_before
    );
    assert_eq!(restored.databases.len(), 2);
    assert_eq!(restored.databases[0].total_rows, 250 + 40 + 17 + 2);
    assert_eq!(
        psql(&t, ORCHESTRATOR_DATABASE, "SELECT nextval('job_ids')"),
        "1003"
    );
    assert_eq!(
        psql(
            &t,
            ORCHESTRATOR_DATABASE,
            "SELECT tableowner FROM pg_tables WHERE tablename = 'owned'"
        ),
        ROLE
    );
    let owner = t
        .list_databases()
        .unwrap()
        .into_iter()
        .find(|d| d.name == ORCHESTRATOR_ARCHIVE_DATABASE)
        .unwrap()
        .owner;
    assert_eq!(owner, ROLE);
    for f in [
        "cluster.conf",
        "main.tf",
        "terraform.tfvars",
        "modules/net/variables.tf",
    ] {
        assert_eq!(
            fs::read(config_dir.join(f)).unwrap(),
            fs::read(src.join(f)).unwrap(),
            "{f}"
        );
    }
    assert!(!config_dir.join("terraform.tfstate").exists());
    assert_eq!(restored.files.len(), 4);
    // No staging folder is left behind.
    assert_eq!(
        fs::read_dir(config_dir.parent().unwrap()).unwrap().count(),
        1
    );

    // Again without force: refused (the databases hold data), nothing changed.
    psql(
        &t,
        ORCHESTRATOR_DATABASE,
        "INSERT INTO jobs VALUES (9999, 'later', NULL, NULL)",
    );
    fs::write(config_dir.join("main.tf"), "# edited on the new host\n").unwrap();
    let e = restore_orchestrator(&made.path, &t, &config_dir, &new_host).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("database `orchestrator` is not empty")
            && text.contains("database `orchestrator_archive` is not empty")
            && text.contains("main.tf` exists and differs"),
        "{text}"
    );
    assert_eq!(
        psql(&t, ORCHESTRATOR_DATABASE, "SELECT count(*) FROM jobs"),
        "251"
    );
    assert_eq!(
        fs::read_to_string(config_dir.join("main.tf")).unwrap(),
        "# edited on the new host\n"
    );

    // With force and dry run: the replacements are shown, nothing is done.
    let mut force = new_host.clone();
    force.force = true;
    force.release_dir = Some(dir.path().join("new-host/release"));
    let mut dry = force.clone();
    dry.dry_run = true;
    let shown = restore_orchestrator(&made.path, &t, &config_dir, &dry).unwrap();
    let replaced: Vec<&str> = shown
        .items
        .iter()
        .filter(|i| i.action == ItemAction::Replace)
        .map(|i| i.member.as_str())
        .collect();
    assert_eq!(
        replaced,
        [
            "db/orchestrator.sql",
            "db/orchestrator_archive.sql",
            "config/main.tf"
        ]
    );
    assert!(
        shown
            .items
            .iter()
            .any(|i| i.member == "config/cluster.conf" && i.action == ItemAction::Skip)
    );
    assert_eq!(
        psql(&t, ORCHESTRATOR_DATABASE, "SELECT count(*) FROM jobs"),
        "251"
    );
    assert!(!dir.path().join("new-host/release").exists());

    // With force: back to the archive.
    let restored = restore_orchestrator(&made.path, &t, &config_dir, &force).unwrap();
    assert_eq!(restored.databases[0].action, ItemAction::Replace);
    assert_eq!(t.row_counts(ORCHESTRATOR_DATABASE).unwrap(), counts_before);
    assert_eq!(
        fs::read(config_dir.join("main.tf")).unwrap(),
        fs::read(src.join("main.tf")).unwrap()
    );
    assert_eq!(
        fs::read(dir.path().join("new-host/release/release-2.6.1.tar.gz")).unwrap(),
        fs::read(&bundle).unwrap()
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("new-host/release/version")).unwrap(),
        "2.6.1\n"
    );

    for db in [ORCHESTRATOR_DATABASE, ORCHESTRATOR_ARCHIVE_DATABASE] {
        t.drop_database(db).unwrap();
    }
    drop_role(&t);
}

/// A database name no other test uses.
fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}",
        continuum_testkit::unique("t").replace('-', "_")
    )
}

#[test]
fn an_archive_from_before_2_4_0_is_refused_before_anything_changes() {
    let t = target();
    let dir = tempfile::tempdir().unwrap();
    let db = unique("orch_old");
    t.create_database(&db).unwrap();
    psql(
        &t,
        &db,
        "CREATE TABLE t (x int); INSERT INTO t SELECT generate_series(1, 5);",
    );
    let src = installation(dir.path(), "old-cluster");
    let mut options = OrchestratorBackupOptions::new("2.3.9");
    options.database = db.clone();
    options.archive_database = unique("orch_old_archive");
    options.config_files = vec![src.join("main.tf")];
    options.with_roles = false;
    let made = backup_orchestrator(
        &src.join("cluster.conf"),
        &t,
        &dir.path().join("out"),
        &options,
    )
    .unwrap();
    assert_eq!(made.metadata.databases.len(), 1);
    assert!(made.metadata.roles.is_none());
    let report = verify_archive(&made.path).unwrap();
    assert!(!report.restorable);

    // The database holds other data, the config folder another file: neither is touched,
    // even with force.
    psql(&t, &db, "INSERT INTO t VALUES (100)");
    let config_dir = dir.path().join("config");
    fs::create_dir(&config_dir).unwrap();
    fs::write(config_dir.join("main.tf"), "# mine\n").unwrap();
    let mut force = OrchestratorRestoreOptions::default();
    force.force = true;
    let e = restore_orchestrator(&made.path, &t, &config_dir, &force).unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, Error::ReleaseGate { .. }), "{text}");
    assert!(
        text.contains("2.3.9")
            && text.contains("2.4.0")
            && text.contains("lack the metadata the restore needs")
            && text.contains("psql")
            && text.contains("db/")
            && text.contains("config/"),
        "{text}"
    );
    assert_eq!(psql(&t, &db, "SELECT count(*) FROM t"), "6");
    assert_eq!(
        fs::read_to_string(config_dir.join("main.tf")).unwrap(),
        "# mine\n"
    );
    assert_eq!(fs::read_dir(&config_dir).unwrap().count(), 1);
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        3,
        "no staging left"
    );
    // Dropped, the database is not created either.
    t.drop_database(&db).unwrap();
    assert!(restore_orchestrator(&made.path, &t, &config_dir, &force).is_err());
    assert!(!t.database_exists(&db).unwrap());
}

/// The staging (`__restore_`) and replaced (`__old_`) databases a restore into `database`
/// has left on the server.
fn leftovers(target: &PgTarget, database: &str) -> Vec<String> {
    target
        .list_databases()
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .filter(|n| {
            ["__restore_", "__old_"].iter().any(|tag| {
                n.rfind(tag)
                    .is_some_and(|at| at > 0 && database.starts_with(&n[..at]))
            })
        })
        .collect()
}

/// A database is loaded and checked beside the one it replaces: a load that fails half-way,
/// or rows that do not add up, leave the old database exactly as it was and nothing beside
/// it; a sound load replaces it and leaves nothing beside it either.
#[test]
fn a_failed_database_load_leaves_the_old_database_as_it_was() {
    let t = target();
    let dir = tempfile::tempdir().unwrap();
    let db = unique("orch_swap");
    t.create_database(&db).unwrap();
    psql(&t, &db, ORCHESTRATOR_SQL);
    let counts = t.row_counts(&db).unwrap();
    let src = installation(dir.path(), "swap-cluster");
    let mut options = OrchestratorBackupOptions::new("2.6.1");
    options.database = db.clone();
    options.archive_database = unique("orch_swap_archive");
    options.config_files = vec![src.join("main.tf")];
    options.with_roles = false;
    let made = backup_orchestrator(
        &src.join("cluster.conf"),
        &t,
        &dir.path().join("out"),
        &options,
    )
    .unwrap();
    assert_eq!(made.metadata.databases.len(), 1);
    // Data written since the archive, which only a successful restore may replace.
    psql(
        &t,
        &db,
        "INSERT INTO jobs VALUES (9999, 'later', NULL, NULL)",
    );

    let config_dir = dir.path().join("config");
    let staging = dir.path().join("staging");
    fs::create_dir(&staging).unwrap();
    let mut force = OrchestratorRestoreOptions::default();
    force.force = true;
    force.staging_dir = Some(staging.clone());
    for (sabotage, expected) in [
        ("SELECT 1/0;\n", "division by zero"),
        (
            "INSERT INTO public.jobs VALUES (10000, 'extra', NULL, NULL);\n",
            "`public.jobs`",
        ),
    ] {
        let plan = plan_orchestrator_restore(&made.path, &t, &config_dir, &force).unwrap();
        let item = plan
            .items
            .iter()
            .find(|i| i.kind == ItemKind::Database)
            .unwrap();
        assert_eq!(item.action, ItemAction::Replace);
        // The staged dump, checked when it was unpacked, changes behind the plan's back.
        let unpacked: Vec<PathBuf> = fs::read_dir(&staging)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(unpacked.len(), 1);
        let dump = unpacked[0].join(format!("db/{db}.sql"));
        fs::OpenOptions::new()
            .append(true)
            .open(&dump)
            .unwrap()
            .write_all(sabotage.as_bytes())
            .unwrap();
        let e = plan.apply().unwrap_err().to_string();
        assert!(
            e.contains(&format!("database `{db}`")) && e.contains(expected),
            "{e}"
        );
        assert_eq!(psql(&t, &db, "SELECT count(*) FROM jobs"), "251");
        assert!(leftovers(&t, &db).is_empty(), "{e}");
        assert!(!config_dir.join("main.tf").exists());
    }

    let restored = restore_orchestrator(&made.path, &t, &config_dir, &force).unwrap();
    assert_eq!(restored.databases.len(), 1);
    assert_eq!(restored.databases[0].action, ItemAction::Replace);
    assert_eq!(t.row_counts(&db).unwrap(), counts);
    assert!(leftovers(&t, &db).is_empty());
    assert!(config_dir.join("main.tf").exists());
    t.drop_database(&db).unwrap();
}

#[test]
fn a_failed_backup_leaves_nothing_behind() {
    let t = target();
    let dir = tempfile::tempdir().unwrap();
    let src = installation(dir.path(), "c");
    let out = dir.path().join("out");
    let mut options = OrchestratorBackupOptions::new("2.6.1");
    options.database = unique("orch_missing");
    let e = backup_orchestrator(&src.join("cluster.conf"), &t, &out, &options).unwrap_err();
    assert!(e.to_string().contains("no such database"), "{e}");
    // A missing configuration file, after the databases were dumped.
    let db = unique("orch_tmp");
    t.create_database(&db).unwrap();
    options.database = db.clone();
    options.config_files = vec![dir.path().join("absent.tf")];
    let e = backup_orchestrator(&src.join("cluster.conf"), &t, &out, &options).unwrap_err();
    assert!(e.to_string().contains("absent.tf"), "{e}");
    options.config_files = vec![];
    options.release_version = " ".to_string();
    assert!(backup_orchestrator(&src.join("cluster.conf"), &t, &out, &options).is_err());
    t.drop_database(&db).unwrap();
    let left: Vec<_> = fs::read_dir(&out)
        .map(|r| r.collect::<Vec<_>>())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn installation_files_are_collected_and_kept_in_git() {
    let dir = tempfile::tempdir().unwrap();
    let src = installation(dir.path(), "git-cluster");
    let files = collect_installation_files(&[&src]).unwrap();
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "cluster.conf",
            "main.tf",
            "modules/net/variables.tf",
            "terraform.tfvars"
        ]
    );
    for f in &files {
        let data = fs::read(&f.path).unwrap();
        assert_eq!((f.size, f.sha256), (data.len() as u64, Digest::of(&data)));
    }
    // A file named by itself is taken whatever its name; two files of one name are refused.
    let one = collect_installation_files(&[src.join("notes.txt")]).unwrap();
    assert_eq!(one[0].name, "notes.txt");
    let other = dir.path().join("other");
    fs::create_dir(&other).unwrap();
    fs::write(other.join("main.tf"), "# another\n").unwrap();
    let e = collect_installation_files(&[src.clone(), other]).unwrap_err();
    assert!(e.to_string().contains("`main.tf` is taken"), "{e}");

    let repo = dir.path().join("repo");
    // Named files go in even where a `.gitignore` of the repository would leave them out.
    fs::create_dir(&repo).unwrap();
    fs::write(repo.join(".gitignore"), "*.tfvars\n").unwrap();
    let first = snapshot_to_git(&files, &repo, "installation files").unwrap();
    assert!(first.initialized && first.commit.is_some());
    assert_eq!(first.changed.len(), 4);
    assert_eq!(commit_count(&repo), 1);
    assert_eq!(
        git(&repo, &["log", "-1", "--format=%an <%ae> %s"]).trim(),
        "continuum-backup <continuum-backup@localhost> installation files"
    );
    assert_eq!(
        fs::read(repo.join("modules/net/variables.tf")).unwrap(),
        fs::read(src.join("modules/net/variables.tf")).unwrap()
    );
    // Nothing changed: no commit.
    let again = snapshot_to_git(&files, &repo, "again").unwrap();
    assert!(again.commit.is_none() && again.changed.is_empty());
    assert_eq!(again.head, first.commit);
    assert_eq!(commit_count(&repo), 1);
    assert_eq!(
        git(&repo, &["ls-files"]),
        "cluster.conf\nmain.tf\nmodules/net/variables.tf\nterraform.tfvars\n"
    );
    // A file changed: a new commit with that file, and only with it (what someone else
    // staged stays staged).
    fs::write(repo.join("README.md"), "# ours\n").unwrap();
    git(&repo, &["add", "README.md", ".gitignore"]);
    fs::write(src.join("terraform.tfvars"), "region = \"eu-west-2\"\n").unwrap();
    let files = collect_installation_files(&[&src]).unwrap();
    let changed = snapshot_to_git(&files, &repo, "region moved").unwrap();
    assert_eq!(changed.changed, ["terraform.tfvars"]);
    assert_eq!(commit_count(&repo), 2);
    assert_eq!(
        git(&repo, &["show", "--name-only", "--format=", "HEAD"]),
        "terraform.tfvars\n"
    );
    let staged = "A  .gitignore\nA  README.md\n";
    assert_eq!(git(&repo, &["status", "--porcelain"]), staged);
    // A file that changed after it was collected is refused.
    fs::write(src.join("main.tf"), "# changed behind our back\n").unwrap();
    let e = snapshot_to_git(&files, &repo, "stale").unwrap_err();
    assert!(
        e.to_string().contains("changed since it was collected"),
        "{e}"
    );
    assert_eq!(commit_count(&repo), 2);
    assert_eq!(git(&repo, &["status", "--porcelain"]), staged);
}

#[test]
fn a_snapshot_is_refused_when_the_branch_is_behind_its_upstream() {
    let dir = tempfile::tempdir().unwrap();
    let src = installation(dir.path(), "shared");
    let files = collect_installation_files(&[&src]).unwrap();
    let repo = dir.path().join("repo");
    snapshot_to_git(&files, &repo, "first").unwrap();
    let upstream = dir.path().join("upstream.git");
    run(Command::new("git")
        .args(["-c", "init.defaultBranch=main", "init", "-q", "--bare"])
        .arg(&upstream));
    git(
        &repo,
        &["remote", "add", "origin", upstream.to_str().unwrap()],
    );
    git(&repo, &["push", "-q", "-u", "origin", "main"]);
    // Up to date with its upstream: fine.
    fs::write(src.join("main.tf"), "# second\n").unwrap();
    let files = collect_installation_files(&[&src]).unwrap();
    let second = snapshot_to_git(&files, &repo, "second").unwrap();
    assert!(second.commit.is_some());
    git(&repo, &["push", "-q"]);

    // Someone else pushes; this clone fetches.
    let other = dir.path().join("other");
    run(Command::new("git")
        .args(["clone", "-q"])
        .arg(&upstream)
        .arg(&other));
    fs::write(other.join("cluster.conf"), "# edited elsewhere\n").unwrap();
    git(&other, &["commit", "-q", "-am", "elsewhere"]);
    git(&other, &["push", "-q"]);
    git(&repo, &["fetch", "-q"]);

    fs::write(src.join("main.tf"), "# third\n").unwrap();
    let files = collect_installation_files(&[&src]).unwrap();
    let e = snapshot_to_git(&files, &repo, "third").unwrap_err();
    assert!(matches!(e, Error::BehindUpstream { behind: 1, .. }), "{e}");
    assert!(
        e.to_string().contains("behind `origin/main` by 1 commit"),
        "{e}"
    );
    assert_eq!(commit_count(&repo), 2);
    assert_eq!(
        fs::read_to_string(repo.join("main.tf")).unwrap(),
        "# second\n"
    );
}
