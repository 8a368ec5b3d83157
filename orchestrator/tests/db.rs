//! PostgreSQL backups and restores against a live server: `CONTINUUM_TEST_PG_URL` names it
//! (`scripts/test.sh` starts a throwaway cluster and sets it); without it these tests fail.
#![cfg(test)]

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use continuum_core::{
    ArtifactDetails, ArtifactSpec, DataKind, DynStore, LocalStore, Reason, SetOptions, SetWriter,
    list_sets, scan_sets,
};
use continuum_orchestrator::{
    ChildReader, DbBackupOptions, DbRestoreOptions, Error, GLOBALS_ARTIFACT, PgTarget,
    RestoreAction, backup_databases, dump_artifact_name, list_databases, pg_program,
    plan_database_restore, restore_database,
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

/// A database name no other test uses.
fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}",
        continuum_testkit::unique("t").replace('-', "_")
    )
}

/// Drops its database when the test ends, however it ends.
struct Db {
    target: PgTarget,
    name: String,
}

impl Db {
    fn create(target: &PgTarget, prefix: &str) -> Self {
        let name = unique(prefix);
        target.create_database(&name).unwrap();
        Self {
            target: target.clone(),
            name,
        }
    }

    /// Only the name: the database is made by whoever uses it (a restore).
    fn named(target: &PgTarget, prefix: &str) -> Self {
        Self {
            target: target.clone(),
            name: unique(prefix),
        }
    }

    fn sql(&self, sql: &str) -> String {
        psql(&self.target, &self.name, sql)
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        let _ = self.target.drop_database(&self.name);
    }
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

/// `pgbench -i`, connected through the standard environment variables.
fn pgbench_init(target: &PgTarget, database: &str, scale: u32) {
    let out = Command::new(pg_program("pgbench"))
        .env("PGHOST", &target.host)
        .env("PGPORT", target.port.to_string())
        .env("PGUSER", &target.user)
        .args(["-i", "-q", "-s", &scale.to_string(), database])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pgbench: {}",
        String::from_utf8_lossy(&out.stderr)
    );
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
            // The name is cut to make room for the suffix when it is long.
            ["__restore_", "__old_"].iter().any(|tag| {
                n.rfind(tag)
                    .is_some_and(|at| at > 0 && database.starts_with(&n[..at]))
            })
        })
        .collect()
}

/// Roles belong to the whole server: a test that restores the globals recreates every role
/// that existed when its backup ran, and would race with a test that drops one of its own.
/// Such tests hold this lock.
static ROLES: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn store() -> (tempfile::TempDir, DynStore) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    std::fs::create_dir_all(&root).unwrap();
    (dir, Arc::new(LocalStore::new(root)))
}

fn options() -> DbBackupOptions {
    let mut o = DbBackupOptions::new(Reason::Manual);
    o.cluster_name = Some("test-cluster".to_string());
    o
}

/// Every user table's content as one digest, computed by the server.
fn table_digests(target: &PgTarget, database: &str) -> BTreeMap<String, String> {
    target
        .row_counts(database)
        .unwrap()
        .into_keys()
        .map(|table| {
            let (schema, name) = table.split_once('.').unwrap();
            let digest = psql(
                target,
                database,
                &format!(
                    "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM \"{schema}\".\"{name}\" t"
                ),
            );
            (table, digest)
        })
        .collect()
}

use continuum_testkit::EVERY_TYPE_SQL as EVERY_TYPE;

#[test]
fn a_database_survives_backup_drop_and_restore_under_another_name() {
    let _roles = ROLES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let t = target();
    let original = Db::create(&t, "bench");
    pgbench_init(&t, &original.name, 20);
    original.sql(EVERY_TYPE);
    let small = Db::create(&t, "small");
    small.sql("CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes VALUES (1, 'one'), (2, NULL);");
    let role = unique("reader");
    original.sql(&format!(
        "CREATE ROLE {role} NOLOGIN; GRANT SELECT ON every_type TO {role};"
    ));

    let digests = table_digests(&t, &original.name);
    let counts = t.row_counts(&original.name).unwrap();
    assert_eq!(counts["public.pgbench_accounts"], 2_000_000);
    assert_eq!(counts["public.every_type"], 41);
    assert_eq!(digests.len(), 5, "{digests:?}");

    let (_dir, store) = store();
    let started = Instant::now();
    let manifest = backup_databases(
        store.clone(),
        &t,
        &[original.name.clone(), small.name.clone()],
        &options(),
    )
    .unwrap();
    eprintln!(
        "backup of 2 databases and the globals: {:?}",
        started.elapsed()
    );
    assert_eq!(manifest.cluster_name.as_deref(), Some("test-cluster"));
    let names: Vec<&str> = manifest.artifacts.iter().map(|a| a.name.as_str()).collect();
    let mut expected = vec![
        dump_artifact_name(&original.name),
        dump_artifact_name(&small.name),
        GLOBALS_ARTIFACT.to_string(),
    ];
    expected.sort();
    assert_eq!(names, expected);
    let dump = manifest
        .artifacts
        .iter()
        .find(|a| a.name == dump_artifact_name(&original.name))
        .unwrap();
    assert_eq!(dump.kind, DataKind::Cluster);
    assert_eq!(dump.component, "postgresql");
    assert_eq!(dump.compression, continuum_core::Compression::Zstd);
    let ArtifactDetails::Database {
        database,
        server_version,
        row_counts,
    } = &dump.details
    else {
        panic!("{:?}", dump.details)
    };
    assert_eq!(database, &original.name);
    assert_eq!(server_version, &t.server_version().unwrap());
    assert_eq!(row_counts, &counts);
    assert_eq!(list_sets(store.as_ref()).unwrap().len(), 1);

    t.drop_database(&original.name).unwrap();
    original.sql_on_postgres(&format!("DROP ROLE {role}"));

    let restored = Db::named(&t, "restored");
    let mut restore = DbRestoreOptions::default();
    restore.as_name = Some(restored.name.clone());
    restore.with_globals = true;
    let started = Instant::now();
    let report = restore_database(
        store.as_ref(),
        &manifest.set_id,
        &original.name,
        &t,
        &restore,
    )
    .unwrap();
    eprintln!("restore of the pgbench database: {:?}", started.elapsed());
    assert_eq!(report.action, RestoreAction::Create);
    assert!(report.globals_restored);
    assert_eq!(report.tables.len(), counts.len());
    assert!(report.tables.iter().all(|c| c.ok()));
    assert_eq!(report.total_rows, counts.values().sum::<u64>());

    assert_eq!(table_digests(&t, &restored.name), digests);
    assert_eq!(restored.sql("SELECT count(*) FROM rich_accounts"), "2000");
    assert_eq!(restored.sql("SELECT add_one(41)"), "42");
    assert_eq!(restored.sql("SELECT note_length(1)"), "100000");
    assert_eq!(restored.sql("SELECT nextval('counter')"), "45");
    assert_eq!(
        restored.sql("SELECT count(*) FROM pg_indexes WHERE tablename = 'every_type'"),
        "2"
    );
    assert_eq!(
        restored.sql(
            "SELECT count(*) FROM every_type WHERE raw IS NULL AND doc IS NULL AND big IS NULL"
        ),
        "1"
    );
    // The role came back with the globals, and with it the grant pg_restore made.
    assert_eq!(
        restored.sql(&format!(
            "SELECT has_table_privilege('{role}', 'every_type', 'SELECT')"
        )),
        "t"
    );

    // The second database of the set restores on its own.
    let small_copy = Db::named(&t, "small_copy");
    let mut restore = DbRestoreOptions::default();
    restore.as_name = Some(small_copy.name.clone());
    restore_database(store.as_ref(), &manifest.set_id, &small.name, &t, &restore).unwrap();
    assert_eq!(
        small_copy.sql("SELECT string_agg(coalesce(body, 'NULL'), ',' ORDER BY id) FROM notes"),
        "one,NULL"
    );
    restored.sql(&format!("DROP OWNED BY {role}"));
    restored.sql_on_postgres(&format!("DROP ROLE {role}"));
}

impl Db {
    fn sql_on_postgres(&self, sql: &str) -> String {
        psql(&self.target, &self.target.database, sql)
    }
}

#[test]
fn row_counts_match_the_dump_while_writes_go_on() {
    let t = target();
    let db = Db::create(&t, "busy");
    db.sql("CREATE TABLE events (id bigserial PRIMARY KEY, body text); INSERT INTO events (body) SELECT md5(i::text) FROM generate_series(1, 200000) i;");
    let stop = AtomicBool::new(false);
    let (_dir, store) = store();
    let (manifest, inserted) = std::thread::scope(|s| {
        let writer = s.spawn(|| {
            let mut rounds = 0;
            while !stop.load(Ordering::Relaxed) {
                db.sql("INSERT INTO events (body) SELECT 'late' FROM generate_series(1, 500)");
                rounds += 1;
            }
            rounds
        });
        // Let the writer get going, so that rows arrive while the dump runs.
        std::thread::sleep(Duration::from_millis(200));
        let mut o = options();
        o.with_globals = false;
        let manifest = backup_databases(store.clone(), &t, std::slice::from_ref(&db.name), &o);
        stop.store(true, Ordering::Relaxed);
        (manifest.unwrap(), writer.join().unwrap())
    });
    assert!(inserted > 0);
    let ArtifactDetails::Database { row_counts, .. } = &manifest.artifacts[0].details else {
        panic!()
    };
    let recorded = row_counts["public.events"];
    assert!(recorded >= 200_000, "{recorded}");
    // The restore verifies every table against the recorded counts: it only passes when the
    // counts and the dump came from the same snapshot.
    let copy = Db::named(&t, "busy_copy");
    let mut restore = DbRestoreOptions::default();
    restore.as_name = Some(copy.name.clone());
    let report =
        restore_database(store.as_ref(), &manifest.set_id, &db.name, &t, &restore).unwrap();
    assert_eq!(report.tables[0].actual, Some(recorded));
    assert!(
        db.sql("SELECT count(*) FROM events")
            .parse::<u64>()
            .unwrap()
            > recorded,
        "the writer added rows after the snapshot"
    );
}

#[test]
fn a_missing_database_fails_the_backup_and_leaves_no_set() {
    let t = target();
    let good = Db::create(&t, "good");
    good.sql("CREATE TABLE t AS SELECT generate_series(1, 100000) AS i");
    let missing = unique("no_such_db");
    let (_dir, store) = store();
    let e = backup_databases(
        store.clone(),
        &t,
        &[good.name.clone(), missing.clone()],
        &options(),
    )
    .unwrap_err();
    let text = e.to_string();
    assert!(text.contains(&format!("database `{missing}`")), "{text}");
    assert!(text.contains("does not exist"), "{text}");
    assert!(list_sets(store.as_ref()).unwrap().is_empty());
    // What the good database's dump wrote was removed too.
    assert!(scan_sets(store.as_ref()).unwrap().is_empty());

    let e = backup_databases(store.clone(), &t, &[], &options()).unwrap_err();
    assert!(e.to_string().contains("at least one database"), "{e}");
}

/// Finds the pid of the `pg_dump` that dumps `database`, from `/proc`.
fn pg_dump_pid(database: &str) -> Option<u32> {
    let needle = format!("dbname='{database}'");
    std::fs::read_dir("/proc").ok()?.find_map(|entry| {
        let entry = entry.ok()?;
        let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
        let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        (args.first()?.ends_with("pg_dump") && args.contains(&needle)).then_some(pid)
    })
}

#[test]
fn killing_pg_dump_midway_fails_the_backup() {
    let t = target();
    let db = Db::create(&t, "killed");
    db.sql("CREATE TABLE t AS SELECT generate_series(1, 1000) AS i");
    // Holding an exclusive lock keeps pg_dump waiting at its start, so the test can be sure
    // to kill it midway.
    let mut locker =
        postgres::Client::connect(&t.with_database(&db.name).to_string(), postgres::NoTls).unwrap();
    let mut tx = locker.transaction().unwrap();
    tx.batch_execute("LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    let (_dir, store) = store();
    let result = std::thread::scope(|s| {
        let backup = s.spawn(|| {
            let mut o = options();
            o.with_globals = false;
            backup_databases(store.clone(), &t, std::slice::from_ref(&db.name), &o)
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let pid = loop {
            if let Some(pid) = pg_dump_pid(&db.name) {
                break pid;
            }
            assert!(Instant::now() < deadline, "pg_dump never started");
            std::thread::sleep(Duration::from_millis(20));
        };
        let killed = Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        // Let the row count, which waits for the lock too, go on.
        std::thread::sleep(Duration::from_millis(100));
        tx.rollback().unwrap();
        backup.join().unwrap()
    });
    let e = result.unwrap_err();
    let text = e.to_string();
    assert!(text.contains(&format!("database `{}`", db.name)), "{text}");
    assert!(text.contains("`pg_dump` failed"), "{text}");
    assert!(text.contains("signal: 9"), "{text}");
    assert!(scan_sets(store.as_ref()).unwrap().is_empty());
}

#[test]
fn a_program_killed_midway_fails_the_stream_and_the_put() {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("head -c 1000000 /dev/zero; echo 'about to die' >&2; kill -9 $$");
    let mut reader = ChildReader::spawn(cmd).unwrap();
    let mut out = Vec::new();
    let e = std::io::Read::read_to_end(&mut reader, &mut out).unwrap_err();
    assert_eq!(
        out.len(),
        1_000_000,
        "the output up to the kill was streamed"
    );
    let text = e.to_string();
    assert!(text.contains("`sh` failed"), "{text}");
    assert!(text.contains("signal: 9"), "{text}");
    assert!(text.contains("about to die"), "{text}");
    let ours = e.into_inner().unwrap().downcast::<Error>().unwrap();
    assert!(matches!(*ours, Error::ChildFailed { .. }), "{ours:?}");

    // Through a set: the put fails and nothing is committed or left behind.
    let (_dir, store) = store();
    let writer = SetWriter::begin(store.clone(), SetOptions::new(Reason::Manual)).unwrap();
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg("head -c 1000000 /dev/zero; kill -9 $$");
    let mut reader = ChildReader::spawn(cmd).unwrap();
    let e = writer
        .add(
            ArtifactSpec::new(DataKind::Cluster, "postgresql", "x.dump"),
            &mut reader,
        )
        .unwrap_err();
    assert!(e.to_string().contains("signal: 9"), "{e}");
    drop(writer);
    assert!(scan_sets(store.as_ref()).unwrap().is_empty());

    // A program that succeeds streams all its output.
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg("head -c 1000000 /dev/zero");
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut ChildReader::spawn(cmd).unwrap(), &mut out).unwrap();
    assert_eq!(out.len(), 1_000_000);
}

#[test]
fn restore_refuses_a_database_with_data_unless_forced() {
    let t = target();
    let source = Db::create(&t, "src");
    source.sql("CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items VALUES (1, 'a'), (2, 'b'), (3, 'c');");
    let (_dir, store) = store();
    let mut o = options();
    o.with_globals = false;
    let manifest =
        backup_databases(store.clone(), &t, std::slice::from_ref(&source.name), &o).unwrap();

    let occupied = Db::create(&t, "occupied");
    occupied.sql("CREATE TABLE keep (v text); INSERT INTO keep VALUES ('precious');");
    let mut restore = DbRestoreOptions::default();
    restore.as_name = Some(occupied.name.clone());
    let e = plan_database_restore(store.as_ref(), &manifest.set_id, &source.name, &t, &restore)
        .unwrap_err();
    assert!(matches!(e, Error::DatabaseNotEmpty { .. }), "{e}");
    let e =
        restore_database(store.as_ref(), &manifest.set_id, &source.name, &t, &restore).unwrap_err();
    let text = e.to_string();
    assert!(text.contains(&occupied.name), "{text}");
    assert!(text.contains("not empty"), "{text}");
    assert!(text.contains("force"), "{text}");
    assert_eq!(occupied.sql("SELECT v FROM keep"), "precious");
    assert_eq!(
        occupied.sql("SELECT count(*) FROM pg_tables WHERE tablename = 'items'"),
        "0"
    );

    // The plan says what force will do, without doing it.
    restore.force = true;
    let plan = plan_database_restore(store.as_ref(), &manifest.set_id, &source.name, &t, &restore)
        .unwrap();
    assert_eq!(plan.action, RestoreAction::Replace);
    assert_eq!(plan.expected_rows["public.items"], 3);
    assert_eq!(occupied.sql("SELECT v FROM keep"), "precious");
    let report = plan.apply(store.as_ref()).unwrap();
    assert_eq!(report.action, RestoreAction::Replace);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(
        occupied.sql("SELECT count(*) FROM pg_tables WHERE tablename = 'keep'"),
        "0"
    );
    assert_eq!(
        occupied.sql("SELECT string_agg(name, '' ORDER BY id) FROM items"),
        "abc"
    );
    assert!(leftovers(&t, &occupied.name).is_empty());

    // An existing empty database is filled without force, and keeps its encoding and locale.
    let empty = Db::named(&t, "empty");
    psql(
        &t,
        &t.database,
        &format!(
            "CREATE DATABASE {} TEMPLATE template0 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'",
            empty.name
        ),
    );
    restore.as_name = Some(empty.name.clone());
    restore.force = false;
    let report =
        restore_database(store.as_ref(), &manifest.set_id, &source.name, &t, &restore).unwrap();
    assert_eq!(report.action, RestoreAction::Fill);
    assert_eq!(empty.sql("SELECT count(*) FROM items"), "3");
    assert_eq!(
        empty.sql(
            "SELECT pg_encoding_to_char(encoding) || ' ' || datcollate || ' ' || datctype \
             FROM pg_database WHERE datname = current_database()"
        ),
        "LATIN1 C C"
    );
    assert!(leftovers(&t, &empty.name).is_empty());

    // A database the set does not hold is named, with what the set does hold.
    let e = restore_database(store.as_ref(), &manifest.set_id, "nope", &t, &restore).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("`nope.dump.zst`"), "{text}");
    assert!(text.contains(&dump_artifact_name(&source.name)), "{text}");
    // So is a request for globals the set does not have.
    restore.with_globals = true;
    let e =
        restore_database(store.as_ref(), &manifest.set_id, &source.name, &t, &restore).unwrap_err();
    assert!(e.to_string().contains(GLOBALS_ARTIFACT), "{e}");
}

#[test]
fn a_damaged_dump_is_refused_and_leaves_no_database() {
    let t = target();
    let source = Db::create(&t, "dmg");
    source.sql("CREATE TABLE t AS SELECT i, md5(i::text) AS h FROM generate_series(1, 50000) i;");
    let (dir, store) = store();
    let mut o = options();
    o.with_globals = false;
    let manifest =
        backup_databases(store.clone(), &t, std::slice::from_ref(&source.name), &o).unwrap();
    let artifact = &manifest.artifacts[0];
    let path = dir
        .path()
        .join("store/sets")
        .join(&manifest.set_id)
        .join(artifact.path.as_str());
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&path, bytes).unwrap();
    let copy = Db::named(&t, "dmg_copy");
    let mut restore = DbRestoreOptions::default();
    restore.as_name = Some(copy.name.clone());
    let e =
        restore_database(store.as_ref(), &manifest.set_id, &source.name, &t, &restore).unwrap_err();
    let text = e.to_string();
    assert!(text.contains(&copy.name), "{text}");
    assert!(text.contains(&artifact.name), "{text}");
    assert!(!t.database_exists(&copy.name).unwrap(), "{text}");
}

/// A restore that fails before its swap (the dump breaks off inside `pg_restore`, or the rows
/// do not add up) leaves the target exactly as it was, and no staging database behind.
#[test]
fn a_failed_restore_leaves_the_target_as_it_was() {
    let t = target();
    let source = Db::create(&t, "fail_src");
    source.sql(
        "CREATE TABLE items AS SELECT i AS id, md5(i::text) AS name FROM generate_series(1, 50000) i;",
    );
    let (dir, store) = store();
    let mut o = options();
    o.with_globals = false;
    let manifest =
        backup_databases(store.clone(), &t, std::slice::from_ref(&source.name), &o).unwrap();

    let occupied = Db::create(&t, "fail_occupied");
    occupied.sql("CREATE TABLE keep (v text); INSERT INTO keep VALUES ('precious');");
    let empty = Db::create(&t, "fail_empty");
    let missing = Db::named(&t, "fail_missing");
    let mut restore = DbRestoreOptions::default();
    restore.force = true;

    // The rows do not add up: refused before the swap.
    for (db, action) in [
        (&occupied, RestoreAction::Replace),
        (&empty, RestoreAction::Fill),
        (&missing, RestoreAction::Create),
    ] {
        restore.as_name = Some(db.name.clone());
        let mut plan =
            plan_database_restore(store.as_ref(), &manifest.set_id, &source.name, &t, &restore)
                .unwrap();
        assert_eq!(plan.action, action);
        plan.expected_rows
            .insert("public.items".to_string(), 49_999);
        let e = plan.apply(store.as_ref()).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains(&format!("database `{}`", db.name))
                && text.contains("`public.items`")
                && !text.contains("__restore_"),
            "{text}"
        );
        assert!(leftovers(&t, &db.name).is_empty(), "{action:?}");
    }
    assert_eq!(occupied.sql("SELECT v FROM keep"), "precious");
    assert_eq!(
        occupied.sql("SELECT count(*) FROM pg_tables WHERE tablename = 'items'"),
        "0"
    );
    assert!(t.is_empty(&empty.name).unwrap());
    assert!(!t.database_exists(&missing.name).unwrap());

    // The dump breaks off: its last byte is damaged, so the store's check fails at the very
    // end and `pg_restore` is killed after it has restored almost everything.
    let path = dir
        .path()
        .join("store/sets")
        .join(&manifest.set_id)
        .join(manifest.artifacts[0].path.as_str());
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&path, bytes).unwrap();
    for db in [&occupied, &empty, &missing] {
        restore.as_name = Some(db.name.clone());
        let e = restore_database(store.as_ref(), &manifest.set_id, &source.name, &t, &restore)
            .unwrap_err();
        assert!(e.to_string().contains(&db.name), "{e}");
        assert!(leftovers(&t, &db.name).is_empty(), "{e}");
    }
    assert_eq!(occupied.sql("SELECT v FROM keep"), "precious");
    assert_eq!(
        occupied.sql("SELECT count(*) FROM pg_tables WHERE tablename = 'items'"),
        "0"
    );
    assert!(t.is_empty(&empty.name).unwrap());
    assert!(!t.database_exists(&missing.name).unwrap());
}

/// The database replaced keeps its owner, its sessions are ended, and nothing is left
/// beside it; a name too long to have a suffix added still gets a staging database.
#[test]
fn a_replace_keeps_the_owner_and_ends_the_sessions() {
    let _roles = ROLES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let t = target();
    let role = unique("owner_role");
    psql(&t, &t.database, &format!("CREATE ROLE {role} NOLOGIN"));
    let source = Db::create(&t, "own_src");
    source.sql("CREATE TABLE items (id int); INSERT INTO items SELECT generate_series(1, 10);");
    let (_dir, store) = store();
    let mut o = options();
    o.with_globals = false;
    let manifest =
        backup_databases(store.clone(), &t, std::slice::from_ref(&source.name), &o).unwrap();

    // 63 bytes, the most PostgreSQL keeps, with a two-byte character where the staging
    // name (`__restore_` and 8 hex digits after 45 bytes of it) would cut it in two.
    let head = format!("{:x<44}", unique("own"));
    let long = format!("{head}é{}", "x".repeat(17));
    assert_eq!((long.len(), long.find('é')), (63, Some(44)));
    let occupied = Db {
        target: t.clone(),
        name: long,
    };
    t.create_database(&occupied.name).unwrap();
    occupied.sql(&format!(
        "CREATE TABLE keep (v text); INSERT INTO keep VALUES ('old');          ALTER DATABASE \"{}\" OWNER TO {role}",
        occupied.name
    ));
    let mut session = postgres::Client::connect(
        &format!(
            "host={} port={} user={} dbname='{}'",
            t.host, t.port, t.user, occupied.name
        ),
        postgres::NoTls,
    )
    .unwrap();
    session.simple_query("SELECT 1").unwrap();

    let mut restore = DbRestoreOptions::default();
    restore.as_name = Some(occupied.name.clone());
    restore.force = true;
    let report =
        restore_database(store.as_ref(), &manifest.set_id, &source.name, &t, &restore).unwrap();
    assert_eq!(report.action, RestoreAction::Replace);
    assert_eq!(report.total_rows, 10);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(occupied.sql("SELECT count(*) FROM items"), "10");
    let owner = t
        .list_databases()
        .unwrap()
        .into_iter()
        .find(|d| d.name == occupied.name)
        .unwrap()
        .owner;
    assert_eq!(owner, role);
    assert!(
        session.simple_query("SELECT 1").is_err(),
        "the session was ended"
    );
    assert!(leftovers(&t, &occupied.name).is_empty());
    drop(occupied);
    psql(&t, &t.database, &format!("DROP ROLE {role}"));
}

#[test]
fn passwords_never_show() {
    const PASSWORD: &str = "pw-secret-123";
    let _roles = ROLES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let admin = target();
    let role = unique("pw_user");
    psql(
        &admin,
        &admin.database,
        &format!("CREATE ROLE {role} LOGIN SUPERUSER PASSWORD '{PASSWORD}'"),
    );
    let url = format!(
        "postgresql://{role}:{PASSWORD}@{}:{}/{}",
        admin.host, admin.port, admin.database
    );
    let t = PgTarget::parse(&url).unwrap();
    assert_eq!(t.password.as_ref().unwrap().expose(), PASSWORD);
    let mut shown = vec![format!("{t:?}"), t.to_string(), t.label()];

    // It works through the password-carrying target.
    let db = Db::create(&t, "pw");
    db.sql("CREATE TABLE t (v int); INSERT INTO t VALUES (1);");
    assert!(
        list_databases(&t)
            .unwrap()
            .iter()
            .any(|d| d.name == db.name)
    );
    let (_dir, store) = store();
    let manifest = backup_databases(
        store.clone(),
        &t,
        std::slice::from_ref(&db.name),
        &options(),
    )
    .unwrap();
    shown.push(String::from_utf8(manifest.to_json()).unwrap());

    // Every kind of failure.
    let missing = unique("no_such_db");
    shown.push(
        backup_databases(
            store.clone(),
            &t,
            std::slice::from_ref(&missing),
            &options(),
        )
        .unwrap_err()
        .to_string(),
    );
    let mut restore = DbRestoreOptions::default();
    restore.as_name = Some(db.name.clone());
    shown.push(
        restore_database(store.as_ref(), &manifest.set_id, &db.name, &t, &restore)
            .unwrap_err()
            .to_string(),
    );
    shown.push(format!(
        "{:?}",
        restore_database(
            store.as_ref(),
            "20240101T000000Z-00000000",
            &db.name,
            &t,
            &restore
        )
        .unwrap_err()
    ));
    let nowhere =
        PgTarget::parse(&format!("postgresql://{role}:{PASSWORD}@127.0.0.1:1/x")).unwrap();
    let e = nowhere.list_databases().unwrap_err();
    shown.push(e.to_string());
    shown.push(format!("{e:?}"));
    let e = backup_databases(store.clone(), &nowhere, &["x".to_string()], &options()).unwrap_err();
    shown.push(e.to_string());
    for bad in [
        format!("postgresql://{role}:{PASSWORD}@h:notaport/x"),
        format!("postgresql://{role}:{PASSWORD}@h/x?sslmode=verify-full"),
        format!("postgresql://{role}:{PASSWORD}%@h/x"),
    ] {
        shown.push(PgTarget::parse(&bad).unwrap_err().to_string());
    }
    // A program that prints the password it was given: the error hides it. `command` puts
    // the password in the environment only; the connection flags it adds are not for `sh`.
    let with_env = t.command("psql");
    let mut cmd = Command::new("sh");
    for (k, v) in with_env.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    cmd.args(["-c", "echo \"password: $PGPASSWORD\" >&2; exit 1"]);
    let mut reader = ChildReader::spawn(cmd)
        .unwrap()
        .redacting(vec![t.password.clone().unwrap()]);
    let e = std::io::Read::read_to_end(&mut reader, &mut Vec::new()).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("password: ***"), "{text}");
    shown.push(text);

    for text in &shown {
        assert!(!text.contains(PASSWORD), "the password shows in: {text}");
    }
    drop(db);
    psql(&admin, &admin.database, &format!("DROP ROLE {role}"));
}

#[test]
fn databases_are_listed_as_psql_lists_them() {
    let t = target();
    let db = Db::create(&t, "listed");
    let ours = list_databases(&t).unwrap();
    let out = t
        .command("psql")
        .args(["-X", "-l", "-A", "-t", "-F", "|", "-d"])
        .arg(t.dbname_arg())
        .output()
        .unwrap();
    assert!(out.status.success());
    let theirs: Vec<(String, String, String)> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| l.contains('|'))
        .map(|l| {
            let f: Vec<&str> = l.split('|').collect();
            (f[0].to_string(), f[1].to_string(), f[2].to_string())
        })
        .collect();
    let ours_short: Vec<(String, String, String)> = ours
        .iter()
        .map(|d| (d.name.clone(), d.owner.clone(), d.encoding.clone()))
        .collect();
    // Other tests create and drop databases meanwhile: compare the ones both saw.
    for entry in &theirs {
        if ["postgres", "template0", "template1", db.name.as_str()].contains(&entry.0.as_str()) {
            assert!(
                ours_short.contains(entry),
                "{entry:?} not in {ours_short:?}"
            );
        }
    }
    let mine = ours.iter().find(|d| d.name == db.name).unwrap();
    assert!(mine.size.unwrap() > 0);
    assert!(!mine.is_template);
    let template0 = ours.iter().find(|d| d.name == "template0").unwrap();
    assert!(template0.is_template && !template0.allows_connections);
    assert!(t.is_empty(&db.name).unwrap());
    db.sql("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'");
    assert!(!t.is_empty(&db.name).unwrap());
}
