//! Killing `continuum-backup backup` at random points: `sets list` never shows a set that is
//! not complete (every set it shows verifies and holds every artifact), and `sets prune
//! --incomplete-grace 0` removes everything else (incomplete sets, temporary files, the
//! folders they were in), while keeping every complete set. Also: the `pg_dump` programs a
//! killed backup ran do not linger, nor do their server sessions.
//!
//! Runs against the live PostgreSQL server (`CONTINUUM_TEST_PG_URL`) and the live
//! S3-compatible server (`CONTINUUM_TEST_S3_ENDPOINT`); it fails without them.
//! `CONTINUUM_KILL_TRIALS` (default 20) trials kill a backup into a folder store,
//! `CONTINUUM_KILL_S3_TRIALS` (default 4) one into S3; `CONTINUUM_KILL_SEED` replays the
//! delays of an earlier run (each run prints its seed). `scripts/kill-test.sh` runs more.
#![cfg(test)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use continuum_testkit::{create_bucket, pg_url, s3_endpoint, s3_options, unique};

mod support;
use continuum_testkit::walk;
use serde_json::Value;
use support::{Databases, add_package, bin, cluster_dir, stderr};

/// Rows added to each database beside the demo's own, so that a backup takes about a
/// second in a debug build: long enough to be killed in the middle of its dumps.
const BULK_ROWS: u32 = 30_000;

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v}: not a number")),
        Err(_) => default,
    }
}

/// A small, seedable generator (xorshift64*): the delays of a failing run can be replayed.
struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The generator of this run: seeded by `CONTINUUM_KILL_SEED` (to replay a run) or the clock;
/// the seed is printed.
fn seeded_rng() -> Rng {
    let seed = env_number(
        "CONTINUUM_KILL_SEED",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            | 1,
    );
    eprintln!("CONTINUUM_KILL_SEED={seed}");
    Rng(seed.max(1))
}

/// Server sessions on the test's databases.
fn server_sessions(dbs: &Databases) -> u64 {
    let list = dbs
        .names
        .values()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(",");
    dbs.psql(
        "postgres",
        &[
            "-c",
            &format!("SELECT count(*) FROM pg_stat_activity WHERE datname IN ({list})"),
        ],
    )
    .parse()
    .unwrap()
}

/// A process as `/proc/PID/stat` tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Proc {
    pid: u32,
    comm: String,
    state: char,
    ppid: u32,
    start: u64,
}

fn proc_stat(pid: u32) -> Option<Proc> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text.get(open + 1..close)?.to_string();
    let rest: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    Some(Proc {
        pid,
        comm,
        state: rest.first()?.chars().next()?,
        ppid: rest.get(1)?.parse().ok()?,
        start: rest.get(19)?.parse().ok()?,
    })
}

fn children_of(parent: u32) -> Vec<Proc> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(proc_stat)
        .filter(|p| p.ppid == parent)
        .collect()
}

/// The same process, still there (alive or a zombie)?
fn still_there(p: &Proc) -> Option<Proc> {
    proc_stat(p.pid).filter(|now| now.start == p.start && now.comm == p.comm)
}

/// Where the trials write, and how to see everything in it.
struct Target {
    label: &'static str,
    store: String,
    /// The kills fall in this part of a whole run (1.0: when it ends).
    window: (f64, f64),
    args: Vec<String>,
    envs: Vec<(&'static str, String)>,
    /// Everything in the store as paths relative to it (folders end in `/`).
    contents: Box<dyn Fn() -> Vec<String>>,
}

impl Target {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = bin();
        cmd.args(args).args(&self.args);
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// `sets list --json`: the committed sets' manifests by id, and the incomplete ids.
    fn list(&self) -> (BTreeMap<String, Value>, Vec<String>) {
        let o = self.run(&["sets", "list", &self.store, "--json"]);
        assert!(o.status.success(), "sets list: {}", stderr(&o));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["unreadable"], Value::Array(Vec::new()), "{v}");
        let sets = v["sets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["set_id"].as_str().unwrap().to_string(), m.clone()))
            .collect();
        let incomplete = v["incomplete"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect();
        (sets, incomplete)
    }
}

fn artifact_names(manifest: &Value) -> BTreeSet<String> {
    manifest["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect()
}

/// How the trials went.
#[derive(Debug, Default)]
struct Tally {
    killed_before_commit: u32,
    killed_after_commit: u32,
    finished: u32,
    incomplete_sets_pruned: u64,
    temporaries_pruned: u64,
    killed_during_a_dump: u32,
}

/// Runs `trials` backups into `target`, killing each after a random delay spread over the
/// target's window of a whole run's time, and checks the store after each. Returns the
/// tally, and every database program the backups ran.
fn trials(target: &Target, backup: &[String], trials: u64, rng: &mut Rng) -> (Tally, Vec<Proc>) {
    // One whole run first: how long a backup takes, and what a complete set holds.
    let began = Instant::now();
    let mut args: Vec<&str> = vec!["backup", "--to", &target.store];
    args.extend(backup.iter().map(String::as_str));
    let o = target.run(&args);
    let reference = began.elapsed();
    assert!(o.status.success(), "the reference backup: {}", stderr(&o));
    let (sets, incomplete) = target.list();
    assert!(incomplete.is_empty(), "{incomplete:?}");
    assert_eq!(sets.len(), 1);
    let complete = artifact_names(sets.values().next().unwrap());
    assert!(
        complete.iter().any(|n| n.starts_with("db/"))
            && complete.iter().any(|n| n.starts_with("install/"))
            && complete.iter().any(|n| n.starts_with("policy/"))
            && complete.contains("job/all.cntmp"),
        "{complete:?}"
    );
    eprintln!(
        "[{}] a whole backup takes {:.2} s ({} artifacts)",
        target.label,
        reference.as_secs_f64(),
        complete.len()
    );

    let mut tally = Tally::default();
    let mut programs: Vec<Proc> = Vec::new();
    let mut verified: BTreeSet<String> = sets.keys().cloned().collect();
    for trial in 0..trials {
        // Stratified: each trial has its own slice of the run, a random point in it; the
        // last slices fall after the backup has written everything (or has exited).
        let fraction = (trial as f64 + rng.unit()) / trials as f64;
        let (from, to) = target.window;
        let delay = reference.mul_f64(from + (to - from) * fraction);
        let mut child = target
            .command(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        let started = Instant::now();
        let mut seen: Vec<Proc> = Vec::new();
        let exited = loop {
            for p in children_of(pid) {
                let known = seen.iter().any(|s| (s.pid, s.start) == (p.pid, p.start));
                if !known && p.comm.starts_with("pg_dump") {
                    seen.push(p);
                }
            }
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            let left = delay.saturating_sub(started.elapsed());
            if left.is_zero() {
                break None;
            }
            std::thread::sleep(left.min(Duration::from_millis(15)));
        };
        let killed = exited.is_none();
        if killed {
            // SIGKILL: no destructor, no cleanup, as in a crash.
            child.kill().unwrap();
            let mut running_dumps = 0;
            for p in &seen {
                if still_there(p).is_some_and(|p| p.state != 'Z') {
                    running_dumps += 1;
                }
            }
            if running_dumps > 0 {
                tally.killed_during_a_dump += 1;
            }
        }
        let output = child.wait_with_output().unwrap();
        if let Some(status) = exited {
            assert!(
                status.success(),
                "trial {trial}: the backup failed on its own: {}",
                stderr(&output)
            );
        }
        programs.extend(seen);

        // Every set listed is complete, holds every artifact and verifies.
        let (sets, incomplete) = target.list();
        let new: Vec<&String> = sets.keys().filter(|id| !verified.contains(*id)).collect();
        assert!(new.len() <= 1, "trial {trial}: {new:?}");
        if !killed {
            assert_eq!(new.len(), 1, "trial {trial}: a finished backup is listed");
        }
        for id in &new {
            assert_eq!(
                artifact_names(&sets[*id]),
                complete,
                "trial {trial}: set {id} is listed without every artifact"
            );
            let o = target.run(&["sets", "verify", &target.store, id]);
            assert!(
                o.status.success(),
                "trial {trial} (killed after {delay:?}): set {id} is listed and does not verify: {}{}",
                String::from_utf8_lossy(&o.stdout),
                stderr(&o)
            );
        }
        match (killed, new.is_empty()) {
            (false, _) => tally.finished += 1,
            (true, true) => tally.killed_before_commit += 1,
            (true, false) => tally.killed_after_commit += 1,
        }
        verified.extend(new.into_iter().cloned());
        assert!(
            incomplete.len() <= 1,
            "trial {trial}: earlier incomplete sets were not pruned: {incomplete:?}"
        );

        // Prune with no grace and a policy that keeps every complete set: nothing but the
        // complete sets is left, each whole.
        let o = target.run(&[
            "sets",
            "prune",
            &target.store,
            "--keep-last",
            "100000",
            "--incomplete-grace",
            "0",
            "--json",
        ]);
        assert!(o.status.success(), "trial {trial}: prune: {}", stderr(&o));
        let report: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!(
            report["decisions"]
                .as_array()
                .unwrap()
                .iter()
                .all(|d| d["keep"] == Value::Bool(true)),
            "{report}"
        );
        let removed = |field: &str| {
            report[field]
                .as_array()
                .unwrap()
                .iter()
                .filter(|l| l["remove"] == Value::Bool(true))
                .count() as u64
        };
        tally.incomplete_sets_pruned += removed("leftovers");
        tally.temporaries_pruned += removed("temporaries");
        assert_eq!(
            removed("leftovers"),
            incomplete.len() as u64,
            "trial {trial}: {report}"
        );
        let (after, incomplete) = target.list();
        assert!(incomplete.is_empty(), "trial {trial}: {incomplete:?}");
        assert_eq!(
            after.keys().collect::<Vec<_>>(),
            verified.iter().collect::<Vec<_>>(),
            "trial {trial}: prune kept every complete set, and only them"
        );
        only_listed_sets(target, &after, trial);
    }
    (tally, programs)
}

/// Waits up to `limit` for the database programs of killed backups to be gone; returns
/// those still there.
fn lingering(programs: &[Proc], limit: Duration) -> Vec<Proc> {
    let deadline = Instant::now() + limit;
    loop {
        let left: Vec<Proc> = programs.iter().filter_map(still_there).collect();
        if left.is_empty() || Instant::now() > deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn killing_backup_at_random_points_never_lists_a_partial_set() {
    let started = Instant::now();
    let mut rng = seeded_rng();
    let dir = tempfile::tempdir().unwrap();
    let dbs = Databases::create("kill", BULK_ROWS);
    let cluster = cluster_dir(dir.path());
    // The job-data export goes through a temporary file in TMPDIR: watch what kills leave.
    let tmp = dir.path().join("tmp");
    fs::create_dir_all(&tmp).unwrap();
    let mut backup: Vec<String> = vec![
        "--config".into(),
        cluster.join("cluster.conf").to_string_lossy().into_owned(),
        "--cluster".into(),
        cluster.to_string_lossy().into_owned(),
        "--dsn".into(),
        pg_url(),
        "--with-job-data".into(),
        "--json".into(),
    ];
    backup.extend(dbs.overrides());
    eprintln!(
        "prepared the demo cluster and its databases in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // A folder store.
    let folder = folder_target(
        dir.path().join("store"),
        (0.0, 1.15),
        vec![("TMPDIR", tmp.to_string_lossy().into_owned())],
    );
    let n = env_number("CONTINUUM_KILL_TRIALS", 20);
    let (folder_tally, mut programs) = trials(&folder, &backup, n, &mut rng);
    eprintln!("[folder] {n} trials: {folder_tally:?}");
    if n >= 10 {
        assert!(
            folder_tally.killed_before_commit > 0 && folder_tally.incomplete_sets_pruned > 0,
            "no kill landed in the middle of a backup: {folder_tally:?}"
        );
    }

    // An S3 store (moto): puts are single requests below the multipart threshold (16 MiB;
    // the dumps are smaller), made once an artifact is whole, so a kill leaves complete
    // objects of an incomplete set, never a temporary. The objects come late in a run: so
    // do the kills.
    let endpoint = s3_endpoint();
    let bucket = unique("kill");
    create_bucket(&endpoint, &bucket);
    let s3 = s3_target(&endpoint, &bucket, &tmp);
    let n3 = env_number("CONTINUUM_KILL_S3_TRIALS", 4);
    let (s3_tally, more) = trials(&s3, &backup, n3, &mut rng);
    programs.extend(more);
    eprintln!("[s3] {n3} trials: {s3_tally:?}");

    // What killed backups leave outside the store.
    let left = lingering(&programs, Duration::from_secs(5));
    let job_data_temps: Vec<String> = fs::read_dir(&tmp)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut sessions = server_sessions(&dbs);
    while sessions > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        sessions = server_sessions(&dbs);
    }
    eprintln!(
        "database programs the backups ran: {}; still there 5 s after the last kill: {left:?}; \
         server sessions left on the test's databases: {sessions}",
        programs.len(),
    );
    if !job_data_temps.is_empty() {
        // Not the store's: the job-data export's named temporary file, which a SIGKILL
        // leaves in TMPDIR. Reported, not failed.
        eprintln!(
            "NOTE: killed backups left {} file(s) in TMPDIR: {job_data_temps:?}",
            job_data_temps.len()
        );
    }
    assert!(
        left.iter().all(|p| p.state == 'Z'),
        "pg_dump programs of killed backups still run: {left:?}"
    );
    assert_eq!(sessions, 0, "server sessions of killed backups remain");
    eprintln!("kill test done in {:.1} s", started.elapsed().as_secs_f64());
}

/// Kills `child` after `delay` unless it ends first; true when it was killed.
fn kill_after(child: &mut std::process::Child, delay: Duration) -> bool {
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        let left = delay.saturating_sub(started.elapsed());
        if left.is_zero() {
            child.kill().unwrap();
            child.wait().unwrap();
            return true;
        }
        std::thread::sleep(left.min(Duration::from_millis(2)));
    }
}

/// `sets create` of every file in `files` into the store, `n` times.
fn fill(target: &Target, files: &[PathBuf], n: usize) {
    for _ in 0..n {
        let mut args: Vec<&str> = vec!["sets", "create", &target.store];
        args.extend(files.iter().map(|f| f.to_str().unwrap()));
        let o = target.run(&args);
        assert!(o.status.success(), "sets create: {}", stderr(&o));
    }
}

/// Every file in the store belongs to a listed set (its manifest or one of its artifacts).
fn only_listed_sets(target: &Target, sets: &BTreeMap<String, Value>, trial: u64) {
    let mut allowed: BTreeSet<String> = BTreeSet::new();
    for (id, manifest) in sets {
        allowed.insert(format!("sets/{id}/manifest.json"));
        for a in manifest["artifacts"].as_array().unwrap() {
            allowed.insert(format!("sets/{id}/{}", a["path"].as_str().unwrap()));
        }
    }
    let contents = (target.contents)();
    let stray: Vec<&String> = contents
        .iter()
        .filter(|p| match p.strip_suffix('/') {
            Some(_) => !allowed.iter().any(|a| a.starts_with(p.as_str())),
            None => !allowed.contains(*p),
        })
        .collect();
    assert!(
        stray.is_empty(),
        "[{}] trial {trial}: left {stray:?}",
        target.label
    );
    let files = contents.iter().filter(|p| !p.ends_with('/')).count();
    assert_eq!(files, allowed.len(), "trial {trial}: {contents:?}");
}

/// Kills `sets prune` at random points of its run over a store of `SETS` sets, `trials`
/// times: every set still listed verifies, the sets the policy keeps are always there, and
/// a rerun prunes to exactly them, leaving nothing else in the store.
fn prune_trials(target: &Target, files: &[PathBuf], trials: u64, rng: &mut Rng) -> (u32, u32) {
    const SETS: usize = 12;
    const KEEP: usize = 3;
    let prune = [
        "sets",
        "prune",
        &target.store,
        "--keep-last",
        "3",
        "--incomplete-grace",
        "0",
        "--json",
    ];
    fill(target, files, SETS);
    let began = Instant::now();
    let o = target.run(&prune);
    let reference = began.elapsed();
    assert!(o.status.success(), "the reference prune: {}", stderr(&o));
    eprintln!(
        "[{}] pruning {SETS} sets to {KEEP} takes {:.3} s",
        target.label,
        reference.as_secs_f64()
    );
    let (mut killed, mut finished) = (0, 0);
    for trial in 0..trials {
        let (before, _) = target.list();
        fill(target, files, SETS - before.len());
        let (before, incomplete) = target.list();
        assert!(incomplete.is_empty(), "{incomplete:?}");
        let mut newest: Vec<(String, String)> = before
            .iter()
            .map(|(id, m)| (m["created_at"].as_str().unwrap().to_string(), id.clone()))
            .collect();
        newest.sort();
        let kept: BTreeSet<String> = newest
            .iter()
            .rev()
            .take(KEEP)
            .map(|(_, id)| id.clone())
            .collect();
        let fraction = (trial as f64 + rng.unit()) / trials as f64;
        let delay = reference.mul_f64(1.1 * fraction);
        let mut child = target
            .command(&prune)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        if kill_after(&mut child, delay) {
            killed += 1;
        } else {
            finished += 1;
        }
        let (after, _) = target.list();
        for id in after.keys() {
            assert!(before.contains_key(id), "trial {trial}: {id} appeared");
        }
        for id in &kept {
            assert!(
                after.contains_key(id),
                "trial {trial} (killed after {delay:?}): prune removed {id}, which the policy keeps"
            );
        }
        let o = target.run(&["sets", "verify", &target.store]);
        assert!(
            o.status.success(),
            "trial {trial} (killed after {delay:?}): a listed set does not verify: {}{}",
            String::from_utf8_lossy(&o.stdout),
            stderr(&o)
        );
        let o = target.run(&prune);
        assert!(
            o.status.success(),
            "trial {trial}: the rerun: {}",
            stderr(&o)
        );
        let (after, incomplete) = target.list();
        assert!(incomplete.is_empty(), "trial {trial}: {incomplete:?}");
        assert_eq!(
            after.keys().cloned().collect::<BTreeSet<_>>(),
            kept,
            "trial {trial}: the rerun keeps exactly the newest {KEEP}"
        );
        only_listed_sets(target, &after, trial);
    }
    (killed, finished)
}

#[test]
fn killing_prune_at_random_points_never_damages_a_kept_set() {
    let mut rng = seeded_rng();
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> = (0..4)
        .map(|i| {
            let path = dir.path().join(format!("part-{i}.bin"));
            let bytes: Vec<u8> = (0..200_000u32)
                .map(|_| (rng.unit() * 256.0) as u8)
                .collect();
            fs::write(&path, bytes).unwrap();
            path
        })
        .collect();

    let folder = folder_target(dir.path().join("store"), (0.0, 1.1), Vec::new());
    let n = env_number("CONTINUUM_KILL_PRUNE_TRIALS", 10);
    let (killed, finished) = prune_trials(&folder, &files, n, &mut rng);
    eprintln!("[folder] {n} prune trials: {killed} killed, {finished} finished");

    let endpoint = s3_endpoint();
    let bucket = unique("kill-prune");
    create_bucket(&endpoint, &bucket);
    let s3 = s3_target(&endpoint, &bucket, dir.path());
    let n3 = env_number("CONTINUUM_KILL_PRUNE_S3_TRIALS", 4);
    let (killed3, finished3) = prune_trials(&s3, &files, n3, &mut rng);
    eprintln!("[s3] {n3} prune trials: {killed3} killed, {finished3} finished");
    if n >= 10 {
        assert!(killed > 0, "no prune was killed");
    }
}

/// A folder store, its contents as the file system shows them.
fn folder_target(root: PathBuf, window: (f64, f64), envs: Vec<(&'static str, String)>) -> Target {
    Target {
        label: "folder",
        store: root.to_string_lossy().into_owned(),
        window,
        args: Vec::new(),
        envs,
        contents: Box::new(move || walk(&root)),
    }
}

/// A store in an S3 bucket (moto), its contents as the server lists them.
fn s3_target(endpoint: &str, bucket: &str, tmp: &Path) -> Target {
    let (b, e) = (bucket.to_string(), endpoint.to_string());
    Target {
        label: "s3",
        store: format!("s3://{bucket}/backups"),
        window: (0.4, 1.15),
        args: vec![
            "--s3-endpoint".into(),
            endpoint.to_string(),
            "--s3-path-style".into(),
            "--s3-region".into(),
            "us-east-1".into(),
        ],
        envs: vec![
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("TMPDIR", tmp.to_string_lossy().into_owned()),
        ],
        contents: Box::new(move || {
            // Ask the server, not our own listing of sets.
            let store = continuum_core::S3Store::open(&b, "backups", &s3_options(&e)).unwrap();
            let keys: Vec<String> = continuum_core::Store::list(&store, "")
                .unwrap()
                .into_iter()
                .map(|m| m.key)
                .collect();
            let mut all: BTreeSet<String> = BTreeSet::new();
            for k in keys {
                let mut prefix = String::new();
                let mut parts = k.split('/').peekable();
                while let Some(part) = parts.next() {
                    if parts.peek().is_some() {
                        prefix.push_str(part);
                        prefix.push('/');
                        all.insert(prefix.clone());
                    }
                }
                all.insert(k);
            }
            all.into_iter().collect()
        }),
    }
}

/// A cluster folder whose registry holds `n` packages of one incompressible layer each.
fn registry_with_packages(root: &Path, n: usize, layer_bytes: usize, rng: &mut Rng) -> PathBuf {
    let cluster = root.join("source");
    for i in 0..n {
        let src = root.join(format!("layer-{i}"));
        fs::create_dir_all(&src).unwrap();
        let bytes: Vec<u8> = (0..layer_bytes)
            .map(|_| (rng.unit() * 256.0) as u8)
            .collect();
        fs::write(src.join("data.bin"), bytes).unwrap();
        add_package(
            &src,
            &root.join(format!("layer-{i}.tar.gz")),
            &format!("bulk-{i}"),
            &cluster,
        );
    }
    cluster
}

fn export_all(cluster: &Path, out: &Path, force: bool) -> Command {
    let mut cmd = bin();
    cmd.args(["export", "all", "--cluster"])
        .arg(cluster)
        .arg("--output")
        .arg(out);
    if force {
        cmd.arg("--force");
    }
    cmd
}

fn timed(mut cmd: Command) -> Duration {
    let began = Instant::now();
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{cmd:?}: {}", stderr(&o));
    began.elapsed()
}

#[test]
fn killing_export_and_import_at_random_points_leaves_nothing_half_written() {
    let mut rng = seeded_rng();
    let dir = tempfile::tempdir().unwrap();
    let source = registry_with_packages(dir.path(), 3, 6 << 20, &mut rng);
    let reference = dir.path().join("reference.cntmp");
    let took = timed(export_all(&source, &reference, false));
    let expected = fs::read(&reference).unwrap();
    eprintln!(
        "exporting {} bytes takes {:.3} s",
        expected.len(),
        took.as_secs_f64()
    );

    // Export: the output is absent or whole (the writer is deterministic: byte for byte
    // the reference), and nothing else is left beside it.
    let n = env_number("CONTINUUM_KILL_EXPORT_TRIALS", 10);
    let (mut killed, mut whole_after_kill) = (0, 0);
    for trial in 0..n {
        let out_dir = dir.path().join(format!("export-{trial}"));
        fs::create_dir_all(&out_dir).unwrap();
        let out = out_dir.join("all.cntmp");
        let delay = took.mul_f64(1.25 * (trial as f64 + rng.unit()) / n as f64);
        let mut child = export_all(&source, &out, false)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let was_killed = kill_after(&mut child, delay);
        killed += u32::from(was_killed);
        if out.exists() {
            assert!(
                fs::read(&out).unwrap() == expected,
                "trial {trial} (killed after {delay:?}): a partial export is in place"
            );
            whole_after_kill += u32::from(was_killed);
            // A rerun refuses to overwrite it, and replaces it when forced.
            let o = export_all(&source, &out, false).output().unwrap();
            assert!(!o.status.success() && stderr(&o).contains("all.cntmp"));
            timed(export_all(&source, &out, true));
        } else {
            timed(export_all(&source, &out, false));
        }
        assert!(fs::read(&out).unwrap() == expected, "trial {trial}");
        assert_eq!(
            walk(&out_dir),
            vec!["all.cntmp".to_string()],
            "trial {trial} (killed after {delay:?}): left beside the export"
        );
    }
    eprintln!("{n} export trials: {killed} killed ({whole_after_kill} after the file was whole)");

    // Import: all or nothing. After a kill the registry opens, holds every package or none,
    // each whole (an export of it is the reference byte for byte); a rerun completes it.
    let took = {
        let target = dir.path().join("import-reference");
        let mut cmd = bin();
        cmd.args(["import", "--cluster"])
            .arg(&target)
            .arg(&reference);
        timed(cmd)
    };
    eprintln!("importing takes {:.3} s", took.as_secs_f64());
    let n = env_number("CONTINUUM_KILL_IMPORT_TRIALS", 10);
    let (mut killed, mut committed_before_kill) = (0, 0);
    let packages = |cluster: &Path| -> usize {
        let o = bin()
            .args(["package", "list", "--json", "--cluster"])
            .arg(cluster)
            .output()
            .unwrap();
        assert!(o.status.success(), "package list: {}", stderr(&o));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        v.as_array().map_or(0, Vec::len)
    };
    for trial in 0..n {
        let target = dir.path().join(format!("import-{trial}"));
        let delay = took.mul_f64(1.25 * (trial as f64 + rng.unit()) / n as f64);
        let mut import = bin();
        import
            .args(["import", "--cluster"])
            .arg(&target)
            .arg(&reference);
        let mut child = import
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let was_killed = kill_after(&mut child, delay);
        killed += u32::from(was_killed);
        let found = packages(&target);
        assert!(
            found == 0 || found == 3,
            "trial {trial} (killed after {delay:?}): {found} of 3 packages imported"
        );
        if found == 3 {
            committed_before_kill += u32::from(was_killed);
            let check = dir.path().join(format!("import-{trial}.cntmp"));
            timed(export_all(&target, &check, false));
            assert!(fs::read(&check).unwrap() == expected, "trial {trial}");
            fs::remove_file(&check).unwrap();
        }
        let mut rerun = bin();
        rerun
            .args(["import", "--skip-existing", "--cluster"])
            .arg(&target)
            .arg(&reference);
        timed(rerun);
        assert_eq!(packages(&target), 3, "trial {trial}");
        let check = dir.path().join(format!("import-{trial}.cntmp"));
        timed(export_all(&target, &check, false));
        assert!(fs::read(&check).unwrap() == expected, "trial {trial}");
        let stray: Vec<String> = walk(&target.join("jobdata"))
            .into_iter()
            .filter(|p| !(p.starts_with("objects/") || p.starts_with("resources/")))
            .collect();
        assert!(
            stray.is_empty(),
            "trial {trial} (killed after {delay:?}): the registry holds {stray:?}"
        );
    }
    eprintln!("{n} import trials: {killed} killed ({committed_before_kill} after the commit)");
}
