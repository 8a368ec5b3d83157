//! Faults from outside: the S3 endpoint going away in the middle of a multipart upload and
//! coming back, the disk filling up during a backup and during a restore, and `pg_dump`,
//! `psql` and `pg_restore` killed in the middle of their streams. After each: the command
//! failed with an error that says what happened (or, for a short outage, succeeded through
//! its retries), every listed set verifies, no committed set is damaged, nothing is left
//! half-written, and a rerun succeeds.
//!
//! Runs against the live services (`CONTINUUM_TEST_PG_URL`, `CONTINUUM_TEST_PG_EMPTY_URL`,
//! `CONTINUUM_TEST_S3_ENDPOINT`). The S3 outage is a proxy of this test's own between the
//! command and the server, closed (connections cut, new ones refused) and opened again: the
//! server keeps its state, as a restarted S3 service does (moto keeps objects in memory
//! only). The disk-full cases mount small tmpfs file systems, which needs root
//! (CAP_SYS_ADMIN), as CI has: without it they fail, never skip.
#![cfg(test)]

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use continuum_testkit::{create_bucket, pg_url, s3_endpoint, unique};
use serde_json::Value;

mod support;
use continuum_testkit::walk;
use support::{Databases, add_package, bin, cluster_dir, stderr};

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap()
}

fn ok(cmd: &mut Command) -> Output {
    let o = run(cmd);
    assert!(o.status.success(), "{cmd:?}: {}{}", stdout(&o), stderr(&o));
    o
}

fn random_file(path: &Path, len: usize) {
    let mut state = 0x9e37_79b9_7f4a_7c15u64 ^ len as u64;
    let mut bytes = Vec::with_capacity(len);
    while bytes.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(len);
    fs::write(path, bytes).unwrap();
}

/// How a test runs the binary: `args` and, for S3, the endpoint's flags after them.
type Runner<'a> = &'a dyn Fn(&[&str]) -> Command;

fn local(args: &[&str]) -> Command {
    let mut cmd = bin();
    cmd.args(args);
    cmd
}

/// `sets list --json`: committed set ids, and incomplete ones.
fn list(cmd: Runner<'_>, store: &str) -> (Vec<String>, Vec<String>) {
    let o = ok(&mut cmd(&["sets", "list", store, "--json"]));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let ids = |field: &str| -> Vec<String> {
        v[field]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                s.get("set_id")
                    .and_then(Value::as_str)
                    .or_else(|| s.as_str())
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    (ids("sets"), ids("incomplete"))
}

/// Every committed set verifies, incomplete ones are pruned, and only `expected` is left.
fn settle(cmd: Runner<'_>, store: &str, expected: &[String]) {
    ok(&mut cmd(&["sets", "verify", store]));
    ok(&mut cmd(&[
        "sets",
        "prune",
        store,
        "--keep-last",
        "100000",
        "--incomplete-grace",
        "0",
    ]));
    let (sets, incomplete) = list(cmd, store);
    assert!(incomplete.is_empty(), "{incomplete:?}");
    let mut sets = sets;
    sets.sort();
    let mut expected = expected.to_vec();
    expected.sort();
    assert_eq!(sets, expected);
}

// ---------------------------------------------------------------------------------------
// The S3 endpoint going away.

/// A TCP proxy to the S3 server that can be closed (every connection cut, new ones
/// refused) and opened again on the same port.
struct Proxy {
    port: u16,
    upstream: SocketAddr,
    /// Bytes sent towards the server.
    forwarded: Arc<AtomicU64>,
    connections: Arc<Mutex<Vec<TcpStream>>>,
    accepting: Option<(Arc<AtomicBool>, JoinHandle<()>)>,
}

impl Proxy {
    fn new(endpoint: &str) -> Self {
        let upstream: SocketAddr = endpoint
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .unwrap();
        let mut proxy = Self {
            port: 0,
            upstream,
            forwarded: Arc::default(),
            connections: Arc::default(),
            accepting: None,
        };
        proxy.open();
        proxy
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn open(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).unwrap();
        self.port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let (upstream, forwarded, connections) = (
            self.upstream,
            self.forwarded.clone(),
            self.connections.clone(),
        );
        let stopping = stop.clone();
        let accepting = std::thread::spawn(move || {
            for client in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                {
                    let mut all = connections.lock().unwrap();
                    all.push(client.try_clone().unwrap());
                    all.push(server.try_clone().unwrap());
                }
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let counted = forwarded.clone();
                std::thread::spawn(move || pump(client, server, Some(&counted)));
                std::thread::spawn(move || pump(s2, c2, None));
            }
        });
        self.accepting = Some((stop, accepting));
    }

    /// Cuts every connection and refuses new ones.
    fn close(&mut self) {
        if let Some((stop, accepting)) = self.accepting.take() {
            stop.store(true, Ordering::SeqCst);
            let _ = TcpStream::connect(("127.0.0.1", self.port));
            accepting.join().unwrap();
        }
        for c in self.connections.lock().unwrap().drain(..) {
            let _ = c.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if self.accepting.is_some() && !std::thread::panicking() {
            self.close();
        }
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream, counted: Option<&AtomicU64>) {
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
        if let Some(c) = counted {
            c.fetch_add(n as u64, Ordering::SeqCst);
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

fn s3_command(endpoint: &str, args: &[&str]) -> Command {
    let mut cmd = bin();
    cmd.args(args)
        .args(["--s3-path-style", "--s3-region", "us-east-1"])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("CONTINUUM_S3_ENDPOINT", endpoint)
        .env_remove("RUST_LOG");
    cmd
}

/// Starts `sets create` of `file` through the proxy and closes the proxy once `after`
/// bytes went through; opens it again after `outage` (or, when `None`, once the command
/// has ended). Returns the command's output and whether the outage hit an upload.
fn upload_through_outage(
    proxy: &mut Proxy,
    store: &str,
    file: &Path,
    after: u64,
    outage: Option<Duration>,
) -> Output {
    let endpoint = proxy.endpoint();
    let start = proxy.forwarded.load(Ordering::SeqCst);
    let mut child = s3_command(
        &endpoint,
        &["sets", "create", store, file.to_str().unwrap()],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while proxy.forwarded.load(Ordering::SeqCst) - start < after {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the upload ended before the outage"
        );
        assert!(Instant::now() < deadline, "the upload does not progress");
        std::thread::sleep(Duration::from_millis(1));
    }
    proxy.close();
    let closed = Instant::now();
    match outage {
        Some(outage) => {
            std::thread::sleep(outage);
            proxy.open();
        }
        None => {
            while child.try_wait().unwrap().is_none() {
                assert!(
                    closed.elapsed() < Duration::from_secs(300),
                    "the upload neither ends nor fails"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
            eprintln!(
                "the upload gave up {:.1} s into the outage",
                closed.elapsed().as_secs_f64()
            );
            proxy.open();
        }
    }
    child.wait_with_output().unwrap()
}

#[test]
fn s3_outage_in_the_middle_of_a_multipart_upload() {
    let dir = tempfile::tempdir().unwrap();
    let mut proxy = Proxy::new(&s3_endpoint());
    let bucket = unique("faults-s3");
    create_bucket(&s3_endpoint(), &bucket);
    let store = format!("s3://{bucket}/backups");
    let direct = s3_endpoint();
    let cmd = &|args: &[&str]| s3_command(&direct, args);

    // A committed set before anything goes wrong.
    let small = dir.path().join("small.bin");
    random_file(&small, 1 << 20);
    let first = ok(&mut cmd(&[
        "sets",
        "create",
        &store,
        small.to_str().unwrap(),
    ]));
    let first = stdout(&first).trim().to_string();
    // 64 MiB: four 16 MiB parts, uploaded at once.
    let big = dir.path().join("big.bin");
    random_file(&big, 64 << 20);

    // A short outage (1 s): the retries carry the upload through it.
    let o = upload_through_outage(
        &mut proxy,
        &store,
        &big,
        24 << 20,
        Some(Duration::from_secs(1)),
    );
    assert!(
        o.status.success(),
        "a 1 s outage is retried through: {}",
        stderr(&o)
    );
    let second = stdout(&o).trim().to_string();
    settle(cmd, &store, &[first.clone(), second.clone()]);

    // An outage longer than the retries: a clean failure that names the endpoint, no
    // set listed, no object of it visible but its lease, a rerun succeeds.
    let o = upload_through_outage(&mut proxy, &store, &big, 24 << 20, None);
    assert!(!o.status.success(), "the upload cannot succeed");
    let e = stderr(&o);
    eprintln!("the failed upload says: {e}");
    assert!(
        e.contains(&format!("127.0.0.1:{}", proxy.port)) || e.contains("S3"),
        "the error says where: {e}"
    );
    let (sets, _) = list(cmd, &store);
    let mut sorted = sets.clone();
    sorted.sort();
    let mut want = vec![first.clone(), second.clone()];
    want.sort();
    assert_eq!(sorted, want, "no set of the failed upload is listed");
    let keys = s3_keys(&bucket);
    let partial: Vec<&String> = keys
        .iter()
        .filter(|k| k.ends_with("big.bin") && !want.iter().any(|id| k.contains(id.as_str())))
        .collect();
    assert!(
        partial.is_empty(),
        "visible objects of the failed set: {partial:?}"
    );
    settle(cmd, &store, &want);
    let third = ok(&mut cmd(&["sets", "create", &store, big.to_str().unwrap()]));
    let third = stdout(&third).trim().to_string();
    want.push(third);
    settle(cmd, &store, &want);
}

/// Every key in the bucket, as the server lists them.
fn s3_keys(bucket: &str) -> Vec<String> {
    let store =
        continuum_core::S3Store::open(bucket, "", &continuum_testkit::s3_options(&s3_endpoint()))
            .unwrap();
    continuum_core::Store::list(&store, "")
        .unwrap()
        .into_iter()
        .map(|m| m.key)
        .collect()
}

// ---------------------------------------------------------------------------------------
// The disk filling up.

/// A tmpfs file system of `kib` KiB mounted on a new folder; unmounted when dropped.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(dir: PathBuf, kib: u64) -> Self {
        fs::create_dir_all(&dir).unwrap();
        let o = run(Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
            .arg(&dir));
        assert!(
            o.status.success(),
            "mounting a {kib} KiB tmpfs on {} (the disk-full tests need root): {}",
            dir.display(),
            stderr(&o)
        );
        Self { dir }
    }

    fn resize(&self, kib: u64) {
        ok(Command::new("mount")
            .args(["-o", &format!("remount,size={kib}k")])
            .arg(&self.dir));
    }

    /// Bytes in use.
    fn used(&self) -> u64 {
        let o = ok(Command::new("df")
            .args(["--output=used", "-B1"])
            .arg(&self.dir));
        stdout(&o).lines().nth(1).unwrap().trim().parse().unwrap()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).output();
    }
}

/// What differs between two snapshots: (path, before, after).
fn changes(
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> Vec<(String, Option<String>, Option<String>)> {
    let mut paths: Vec<&String> = before.keys().chain(after.keys()).collect();
    paths.sort();
    paths.dedup();
    paths
        .into_iter()
        .filter(|p| before.get(*p) != after.get(*p))
        .map(|p| (p.clone(), before.get(p).cloned(), after.get(p).cloned()))
        .collect()
}

/// Every file under `root` with its SHA-256 (folders with nothing).
fn snapshot(root: &Path) -> BTreeMap<String, String> {
    walk(root)
        .into_iter()
        .map(|p| {
            let digest = if p.ends_with('/') {
                String::new()
            } else {
                continuum_core::Digest::of(&fs::read(root.join(&p)).unwrap()).to_string()
            };
            (p, digest)
        })
        .collect()
}

fn no_space(o: &Output) -> bool {
    let e = stderr(o);
    e.contains("No space left on device") || e.contains("os error 28")
}

#[test]
fn disk_full_during_a_backup_and_during_a_restore() {
    let dir = tempfile::tempdir().unwrap();
    let dbs = Databases::create("faults_disk", 5_000);
    let cluster = cluster_dir(dir.path());
    // Job data big enough to matter: a package of an incompressible 4 MiB layer.
    let layer_src = dir.path().join("layer");
    fs::create_dir_all(&layer_src).unwrap();
    random_file(&layer_src.join("data.bin"), 4 << 20);
    add_package(
        &layer_src,
        &dir.path().join("layer.tar.gz"),
        "bulk",
        &cluster,
    );
    let backup = |to: &Path| -> Command {
        let mut cmd = bin();
        cmd.args(["backup", "--to"])
            .arg(to)
            .arg("--config")
            .arg(cluster.join("cluster.conf"))
            .arg("--cluster")
            .arg(&cluster)
            .args(["--dsn", &pg_url(), "--with-job-data", "--json"])
            .args(dbs.overrides());
        cmd
    };

    // How much a whole backup takes.
    let reference = dir.path().join("reference");
    ok(&mut backup(&reference));
    let whole: u64 = walk(&reference)
        .iter()
        .filter(|p| !p.ends_with('/'))
        .map(|p| fs::metadata(reference.join(p)).unwrap().len())
        .sum();
    eprintln!("a whole backup is {whole} bytes");

    // A backup into a store with room for half of it, beside a committed set.
    let disk = Tmpfs::mount(dir.path().join("small-disk"), 64 * 1024);
    let store = disk.dir.join("store");
    let store_s = store.to_string_lossy().into_owned();
    let first = ok(&mut backup(&store));
    let first: Value = serde_json::from_slice(&first.stdout).unwrap();
    let first = first["set_id"].as_str().unwrap().to_string();
    let used = disk.used();
    disk.resize((used + whole / 2) / 1024);
    let before = snapshot(&store);
    let o = run(&mut backup(&store));
    assert!(!o.status.success(), "the backup cannot fit");
    eprintln!("disk full during the backup: {}", stderr(&o).trim());
    assert!(
        no_space(&o),
        "the error says the disk is full: {}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains(&store_s),
        "the error names the store: {}",
        stderr(&o)
    );
    let changed = changes(&before, &snapshot(&store));
    assert!(
        changed.is_empty(),
        "the failed backup left something in the store: {changed:?}"
    );
    assert_eq!(disk.used(), used, "the failed backup freed what it wrote");
    settle(&local, &store_s, std::slice::from_ref(&first));
    disk.resize(64 * 1024);
    let second = ok(&mut backup(&store));
    let second: Value = serde_json::from_slice(&second.stdout).unwrap();
    let second = second["set_id"].as_str().unwrap().to_string();
    settle(&local, &store_s, &[first.clone(), second.clone()]);

    // A restore of the files (installation files, policy, job data) into a cluster folder
    // on a disk with room for half of them: the folder is left as it was.
    let target_disk = Tmpfs::mount(dir.path().join("target-disk"), 64 * 1024);
    let target = target_disk.dir.join("cluster");
    fs::create_dir_all(&target).unwrap();
    fs::write(target.join("notes.txt"), b"kept as it is\n").unwrap();
    let restore = || -> Command {
        let mut cmd = bin();
        cmd.args(["restore", "--from", &store_s, "--set", &second, "--cluster"])
            .arg(&target)
            .args(["--only", "installation-files,policy,job-data", "--json"]);
        cmd
    };
    let used = target_disk.used();
    target_disk.resize((used + (4 << 20) / 2) / 1024);
    let before = snapshot(&target);
    let o = run(&mut restore());
    assert!(!o.status.success(), "the restore cannot fit");
    eprintln!("disk full during the restore: {}", stderr(&o).trim());
    assert!(
        no_space(&o),
        "the error says the disk is full: {}",
        stderr(&o)
    );
    // What it restored before the disk filled is whole (each file as backed up), nothing
    // that was there changed, and nothing else (no partial file, no temporary) is left.
    // The files as the set holds them (`install/cluster.conf` restores to `cluster.conf`,
    // with its secrets redacted).
    let source: BTreeMap<String, String> =
        snapshot(&store.join(format!("sets/{second}/artifacts")))
            .into_iter()
            .map(|(p, d)| (p.strip_prefix("install/").unwrap_or(&p).to_string(), d))
            .collect();
    for (path, was, now) in changes(&before, &snapshot(&target)) {
        assert!(was.is_none(), "the failed restore changed {path}");
        let now = now.unwrap();
        assert!(
            path.ends_with('/') || source.get(&path) == Some(&now),
            "the failed restore left {path}, which is not as backed up"
        );
    }
    let leftover: Vec<String> = walk(&target)
        .into_iter()
        .filter(|p| p.starts_with("jobdata/"))
        .collect();
    assert!(leftover.is_empty(), "job data half-restored: {leftover:?}");
    let kept: u64 = walk(&target)
        .iter()
        .filter(|p| !p.ends_with('/'))
        .map(|p| fs::metadata(target.join(p)).unwrap().len().div_ceil(4096) * 4096)
        .sum();
    assert!(
        target_disk.used() <= kept,
        "the failed restore freed what it did not keep: {} bytes used, {kept} kept",
        target_disk.used()
    );
    settle(&local, &store_s, &[first, second.clone()]);
    target_disk.resize(64 * 1024);
    ok(&mut restore());
    for name in ["cluster.conf", "main.tf", "variables.tf", "policy/root.pol"] {
        assert_eq!(
            snapshot(&target).get(name),
            source.get(name),
            "{name} is restored as backed up"
        );
    }
    let packages = |c: &Path| -> Value {
        let o = ok(bin()
            .args(["package", "list", "--json", "--cluster"])
            .arg(c));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    assert_eq!(packages(&target), packages(&cluster));
    assert_eq!(
        fs::read(target.join("notes.txt")).unwrap(),
        b"kept as it is\n"
    );
}

// ---------------------------------------------------------------------------------------
// PostgreSQL's programs killed in the middle of their streams.

/// A folder of the PostgreSQL programs (links to the real ones), in which `program` is a
/// script that passes `bytes` bytes of its stream on and is then killed by SIGKILL:
/// `pg_dump` writes that much of its output, `psql` and `pg_restore` read that much of
/// their input.
fn bindir_killing(root: &Path, program: &str, bytes: u64) -> PathBuf {
    let real = continuum_orchestrator::pg_program("pg_dump")
        .parent()
        .unwrap()
        .to_path_buf();
    let dir = root.join(format!("bin-{program}-{bytes}"));
    if dir.exists() {
        return dir;
    }
    fs::create_dir_all(&dir).unwrap();
    for entry in fs::read_dir(&real).unwrap() {
        let entry = entry.unwrap();
        std::os::unix::fs::symlink(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    let real_program = real.join(program);
    let script = if program == "pg_dump" {
        format!(
            "#!/bin/bash\n\"{}\" \"$@\" | head -c {bytes}\nkill -9 $$\n",
            real_program.display()
        )
    } else {
        format!(
            "#!/bin/bash\nhead -c {bytes} | \"{}\" \"$@\"\nkill -9 $$\n",
            real_program.display()
        )
    };
    let path = dir.join(program);
    fs::remove_file(&path).unwrap();
    fs::write(&path, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// Databases on the empty server named like `prefix%`.
fn databases_like(prefix: &str) -> Vec<String> {
    let url = std::env::var("CONTINUUM_TEST_PG_EMPTY_URL")
        .expect("CONTINUUM_TEST_PG_EMPTY_URL: a second PostgreSQL server, left empty");
    let o = ok(Command::new(continuum_orchestrator::pg_program("psql"))
        .args(["-X", "-A", "-t", "-d", &url, "-c"])
        .arg(format!(
            "SELECT datname FROM pg_database WHERE datname LIKE '{prefix}%' ORDER BY 1"
        )));
    stdout(&o).lines().map(str::to_string).collect()
}

fn row_count(url: &str, database: &str, table: &str) -> u64 {
    let url = continuum_testkit::pg_url_for(url, database);
    let o = ok(Command::new(continuum_orchestrator::pg_program("psql"))
        .args(["-X", "-A", "-t", "-d", &url, "-c"])
        .arg(format!("SELECT count(*) FROM {table}")));
    stdout(&o).trim().parse().unwrap()
}

#[test]
fn pg_dump_psql_and_pg_restore_killed_mid_stream() {
    let dir = tempfile::tempdir().unwrap();
    let dbs = Databases::create("faults_pg", 30_000);
    let cluster = cluster_dir(dir.path());
    let store = dir.path().join("store");
    let store_s = store.to_string_lossy().into_owned();
    let backup = |bindir: Option<&Path>| -> Command {
        let mut cmd = bin();
        cmd.args(["backup", "--to", &store_s, "--config"])
            .arg(cluster.join("cluster.conf"))
            .arg("--cluster")
            .arg(&cluster)
            .args(["--dsn", &pg_url(), "--json"])
            .args(dbs.overrides());
        if let Some(b) = bindir {
            cmd.env("CONTINUUM_PG_BINDIR", b);
        }
        cmd
    };

    // pg_dump killed after 200 KB of a dump: the backup fails and says so; no set listed.
    let killing = bindir_killing(dir.path(), "pg_dump", 200_000);
    let o = run(&mut backup(Some(&killing)));
    assert!(!o.status.success(), "a killed pg_dump fails the backup");
    let e = stderr(&o);
    eprintln!("pg_dump killed: {}", e.trim());
    assert!(e.contains("pg_dump"), "the error names pg_dump: {e}");
    assert!(
        e.contains("signal 9") || e.contains("SIGKILL") || e.contains("killed"),
        "the error says how it ended: {e}"
    );
    settle(&local, &store_s, &[]);
    let o = ok(&mut backup(None));
    let set: Value = serde_json::from_slice(&o.stdout).unwrap();
    let set = set["set_id"].as_str().unwrap().to_string();
    settle(&local, &store_s, std::slice::from_ref(&set));

    // Restores into the empty server, under new names.
    let empty = std::env::var("CONTINUUM_TEST_PG_EMPTY_URL")
        .expect("CONTINUUM_TEST_PG_EMPTY_URL: a second PostgreSQL server, left empty");
    let prefix = unique("faults_restore").replace('-', "_");
    let renames: Vec<String> = dbs
        .names
        .values()
        .enumerate()
        .flat_map(|(i, name)| ["--database".to_string(), format!("{name}={prefix}_{i}")])
        .collect();
    let restore = |bindir: Option<&Path>, force: bool| -> Command {
        let mut cmd = bin();
        cmd.args(["restore", "--from", &store_s, "--set", &set, "--cluster"])
            .arg(dir.path().join("restored"))
            .args(["--only", "databases", "--dsn", &empty, "--json"])
            .args(&renames);
        if force {
            cmd.arg("--force");
        }
        if let Some(b) = bindir {
            cmd.env("CONTINUUM_PG_BINDIR", b);
        }
        cmd
    };
    // psql (the roles) killed after 300 bytes; then pg_restore killed after 100 KB: the
    // restore fails, naming the program, and no database is left behind.
    for (program, bytes) in [("psql", 300), ("pg_restore", 100_000)] {
        let killing = bindir_killing(dir.path(), program, bytes);
        let o = run(&mut restore(Some(&killing), false));
        assert!(!o.status.success(), "a killed {program} fails the restore");
        eprintln!("{program} killed: {}", stderr(&o).trim());
        assert!(
            stderr(&o).contains(program),
            "the error names {program}: {}",
            stderr(&o)
        );
        assert_eq!(
            databases_like(&prefix),
            Vec::<String>::new(),
            "a failed restore ({program} killed) left databases"
        );
    }
    let o = ok(&mut restore(None, false));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let restored = databases_like(&prefix);
    assert_eq!(restored.len(), dbs.names.len(), "{report}");
    let bulk: Vec<u64> = restored
        .iter()
        .map(|d| row_count(&empty, d, "kill_bulk"))
        .collect();
    assert!(bulk.iter().all(|&n| n == 30_000), "{bulk:?}");

    // Over databases that hold data (--force), pg_restore killed: the old data stays.
    let killing = bindir_killing(dir.path(), "pg_restore", 100_000);
    for d in &restored {
        continuum_testkit::pg_execute(&empty, d, "DELETE FROM kill_bulk WHERE i > 20000");
    }
    let o = run(&mut restore(Some(&killing), true));
    assert!(!o.status.success(), "a killed pg_restore fails the restore");
    eprintln!("pg_restore killed over data: {}", stderr(&o).trim());
    assert_eq!(
        databases_like(&prefix),
        restored,
        "no database appeared or went"
    );
    for d in &restored {
        assert_eq!(
            row_count(&empty, d, "kill_bulk"),
            20_000,
            "{d}: a failed forced restore kept the data it would have replaced"
        );
    }
    ok(&mut restore(None, true));
    assert_eq!(databases_like(&prefix), restored);
    for d in &restored {
        assert_eq!(row_count(&empty, d, "kill_bulk"), 30_000, "{d}");
    }
    settle(&local, &store_s, &[set]);
    for d in &restored {
        let _ = Command::new(continuum_orchestrator::pg_program("psql"))
            .args(["-X", "-q", "-d", &empty, "-c"])
            .arg(format!("DROP DATABASE IF EXISTS \"{d}\" WITH (FORCE)"))
            .output();
    }
}
