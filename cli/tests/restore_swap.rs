//! `db restore` never loses the database it replaces, nor leaves a half-restored one under
//! its name: it restores into a staging database and swaps that in only once it is complete
//! and verified. Shown with a `pg_restore` that dies of SIGKILL half-way (a stand-in chosen
//! with `CONTINUUM_PG_BINDIR`, set on the child process only), with `continuum-backup` itself
//! killed in the middle of a restore, and with the restores that succeed.
//!
//! Runs against the live PostgreSQL server (`CONTINUUM_TEST_PG_URL`); it fails without it.
#![cfg(test)]

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use continuum_orchestrator::pg_program;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn pg_url() -> String {
    std::env::var("CONTINUUM_TEST_PG_URL").unwrap_or_else(|_| {
        panic!("CONTINUUM_TEST_PG_URL is not set: start PostgreSQL and set it, or run `bash scripts/test.sh`")
    })
}

fn with_db(url: &str, db: &str) -> String {
    let base = url.rsplit_once('/').map_or(url, |(b, _)| b);
    format!("{base}/{db}")
}

fn psql(url: &str, sql: &str) -> String {
    let o = Command::new(pg_program("psql"))
        .args([url, "-X", "-qAt", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .unwrap();
    assert!(o.status.success(), "{sql}: {}", text(&o.stderr));
    text(&o.stdout).trim().to_string()
}

/// A database name no other test uses.
fn unique(prefix: &str) -> String {
    continuum_testkit::unique(prefix).replace('-', "_")
}

/// The staging (`__restore_`) and replaced (`__old_`) databases a restore into `database`
/// has left on the server.
fn leftovers(url: &str, database: &str) -> Vec<String> {
    psql(url, "SELECT datname FROM pg_database ORDER BY 1")
        .lines()
        .filter(|n| {
            ["__restore_", "__old_"].iter().any(|tag| {
                n.rfind(tag)
                    .is_some_and(|at| at > 0 && database.starts_with(&n[..at]))
            })
        })
        .map(str::to_string)
        .collect()
}

/// Drops its database, and whatever a restore into it left beside it, when the test ends.
struct Db {
    url: String,
    name: String,
}

impl Db {
    fn named(url: &str, prefix: &str) -> Self {
        Self {
            url: url.to_string(),
            name: unique(prefix),
        }
    }

    fn url(&self) -> String {
        with_db(&self.url, &self.name)
    }

    fn exists(&self) -> bool {
        psql(
            &self.url,
            &format!(
                "SELECT count(*) FROM pg_database WHERE datname = '{}'",
                self.name
            ),
        ) == "1"
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        let mut names = leftovers(&self.url, &self.name);
        names.push(self.name.clone());
        for name in names {
            let _ = Command::new(pg_program("psql"))
                .args([&self.url, "-X", "-qAt", "-c"])
                .arg(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .output();
        }
    }
}

/// A backup set of one database of 50 000 rows (a few MB of dump), in a folder store.
struct Backup {
    _dir: tempfile::TempDir,
    store: String,
    set_id: String,
    source: Db,
}

fn backup(url: &str) -> Backup {
    let source = Db::named(url, "swap_src");
    psql(url, &format!("CREATE DATABASE {}", source.name));
    psql(
        &source.url(),
        "CREATE TABLE items AS SELECT i AS id, md5(i::text) AS name FROM generate_series(1, 50000) i",
    );
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store").to_str().unwrap().to_string();
    let o = Command::new(env!("CARGO_BIN_EXE_continuum-backup"))
        .args(["db", "backup", "--dsn", url, "--database", &source.name])
        .args(["--to", &store, "--no-globals"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    Backup {
        _dir: dir,
        store,
        set_id: text(&o.stdout).trim().to_string(),
        source,
    }
}

impl Backup {
    /// `db restore … --as <target> --force`, with `CONTINUUM_PG_BINDIR` set for the child
    /// alone when a bindir is given.
    fn restore(&self, url: &str, target: &str, bindir: Option<&Path>) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_continuum-backup"));
        cmd.args([
            "db",
            "restore",
            "--from",
            &self.store,
            "--set",
            &self.set_id,
        ])
        .args(["--database", &self.source.name, "--as", target])
        .args(["--dsn", url, "--force", "--json"]);
        if let Some(dir) = bindir {
            cmd.env("CONTINUUM_PG_BINDIR", dir);
        }
        cmd
    }
}

/// A folder of the PostgreSQL programs (links to the real ones) whose `pg_restore` is a
/// shell script: it records its arguments in `args`, then runs `body`, in which `$REAL` is
/// the real `pg_restore`.
fn fake_bindir(dir: &Path, body: &str) -> PathBuf {
    let real = pg_program("pg_restore");
    let real_dir = real.parent().unwrap();
    let bindir = dir.join("bin");
    std::fs::create_dir(&bindir).unwrap();
    for entry in std::fs::read_dir(real_dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() != "pg_restore" {
            symlink(entry.path(), bindir.join(entry.file_name())).unwrap();
        }
    }
    let script = bindir.join("pg_restore");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nREAL='{}'\necho \"$@\" > '{}'\n{body}\n",
            real.display(),
            dir.join("args").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    bindir
}

/// The database the stand-in `pg_restore` was pointed at, from the arguments it recorded.
fn restored_into(dir: &Path) -> String {
    let args = std::fs::read_to_string(dir.join("args")).unwrap();
    let start = args.find("dbname='").unwrap() + "dbname='".len();
    let end = start + args[start..].find('\'').unwrap();
    args[start..end].to_string()
}

fn occupied(url: &str) -> Db {
    let db = Db::named(url, "swap_occupied");
    psql(url, &format!("CREATE DATABASE {}", db.name));
    psql(
        &db.url(),
        "CREATE TABLE keep (v text); INSERT INTO keep VALUES ('precious');",
    );
    db
}

fn empty(url: &str) -> Db {
    let db = Db::named(url, "swap_empty");
    psql(url, &format!("CREATE DATABASE {}", db.name));
    db
}

/// `pg_restore` gets the first 100 KB of the dump, then dies of SIGKILL: the restore fails,
/// and the database replaced (or filled, or never created) is as it was, with nothing left
/// beside it.
#[test]
fn a_pg_restore_killed_half_way_changes_nothing() {
    let url = pg_url();
    let set = backup(&url);
    let dir = tempfile::tempdir().unwrap();
    let bindir = fake_bindir(dir.path(), "head -c 100000 | \"$REAL\" \"$@\"\nkill -9 $$");
    let replace = occupied(&url);
    let fill = empty(&url);
    let create = Db::named(&url, "swap_missing");
    for db in [&replace, &fill, &create] {
        let o = set.restore(&url, &db.name, Some(&bindir)).output().unwrap();
        let stderr = text(&o.stderr);
        assert!(!o.status.success(), "{}", text(&o.stdout));
        assert!(
            stderr.contains(&db.name)
                && stderr.contains("`pg_restore` failed")
                && stderr.contains("signal: 9"),
            "{stderr}"
        );
        // It was writing beside the target, under a name of its own, now gone.
        let staging = restored_into(dir.path());
        assert!(
            staging.starts_with(&format!("{}__restore_", db.name)),
            "{staging}"
        );
        assert!(leftovers(&url, &db.name).is_empty(), "{stderr}");
    }
    assert_eq!(psql(&replace.url(), "SELECT v FROM keep"), "precious");
    assert_eq!(
        psql(
            &replace.url(),
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ),
        "1"
    );
    assert_eq!(
        psql(
            &fill.url(),
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ),
        "0"
    );
    assert!(!create.exists());

    // The same restores with the real `pg_restore` succeed, and leave nothing beside them.
    for (db, action) in [(&replace, "replace"), (&fill, "fill"), (&create, "create")] {
        let o = set.restore(&url, &db.name, None).output().unwrap();
        assert!(o.status.success(), "{}", text(&o.stderr));
        let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(report["action"], action);
        assert_eq!(report["total_rows"], 50_000);
        assert!(report.get("warnings").is_none(), "{report}");
        assert_eq!(psql(&db.url(), "SELECT count(*) FROM items"), "50000");
        assert!(leftovers(&url, &db.name).is_empty());
    }
    assert_eq!(
        psql(
            &replace.url(),
            "SELECT count(*) FROM pg_tables WHERE tablename = 'keep'"
        ),
        "0"
    );
}

/// `continuum-backup` killed (SIGKILL) while `pg_restore` runs: the database being replaced
/// keeps its data and a database being created does not appear; what the restore wrote is
/// left under the staging name only.
#[test]
fn continuum_backup_killed_mid_restore_leaves_the_target_alone() {
    let url = pg_url();
    let set = backup(&url);
    let replace = occupied(&url);
    let create = Db::named(&url, "swap_killed_missing");
    for db in [&replace, &create] {
        let dir = tempfile::tempdir().unwrap();
        let ready = dir.path().join("ready");
        // A part of the dump restored, the stand-in waits to be killed with its parent.
        let bindir = fake_bindir(
            dir.path(),
            &format!(
                "head -c 100000 | \"$REAL\" \"$@\"\necho $$ > '{}.tmp'\nmv '{0}.tmp' '{0}'\nexec sleep 60",
                ready.display()
            ),
        );
        let mut child = set
            .restore(&url, &db.name, Some(&bindir))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while !ready.exists() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "pg_restore never got going"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let sleeper = std::fs::read_to_string(&ready).unwrap();
        let _ = Command::new("kill").args(["-9", sleeper.trim()]).status();

        let staging = restored_into(dir.path());
        assert_eq!(leftovers(&url, &db.name), std::slice::from_ref(&staging));
        // The half-restored copy is there, under its own name only.
        assert_eq!(
            psql(
                &with_db(&url, &staging),
                "SELECT count(*) FROM pg_tables WHERE tablename = 'items'"
            ),
            "1"
        );
        psql(&url, &format!("DROP DATABASE \"{staging}\" WITH (FORCE)"));
    }
    assert_eq!(psql(&replace.url(), "SELECT v FROM keep"), "precious");
    assert!(!create.exists());
}
