//! What the fault tests (`kill.rs`, `faults.rs`) share: the binary, the demo cluster copied
//! with a job-data registry, and the demo databases under names no other test uses.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use continuum_orchestrator::PgTarget;
use continuum_testkit::{pg_url, unique};

pub(crate) const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/demo-cluster");

/// The demo cluster's databases: component, seed file.
const DATABASES: [(&str, &str); 4] = [
    ("component-database", "component_database"),
    ("auditlog-database", "auditlog_database"),
    ("monitoring", "monitoring"),
    ("orchestrator", "orchestrator"),
];

pub(crate) fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_continuum-backup"))
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The demo databases under names no other test uses, seeded and enlarged by `bulk_rows`
/// rows each; dropped at the end (sessions a killed program left are forced out).
pub(crate) struct Databases {
    pub(crate) target: PgTarget,
    /// component → database
    pub(crate) names: BTreeMap<&'static str, String>,
}

impl Databases {
    pub(crate) fn create(label: &str, bulk_rows: u32) -> Self {
        let target = PgTarget::parse(&pg_url()).unwrap();
        let mut dbs = Self {
            target,
            names: BTreeMap::new(),
        };
        let tag = unique(label).replace('-', "_");
        for (component, seed) in DATABASES {
            let name = format!("{tag}_{seed}");
            dbs.psql("postgres", &["-c", &format!("CREATE DATABASE \"{name}\"")]);
            dbs.names.insert(component, name.clone());
            let file = format!("{DEMO}/seed/{seed}.sql");
            dbs.psql(&name, &["-v", "ON_ERROR_STOP=1", "-f", &file]);
            dbs.psql(
                &name,
                &[
                    "-c",
                    &format!(
                        "CREATE TABLE kill_bulk AS SELECT i, md5(i::text) AS h, \
                         repeat(md5((i * 7)::text), 4) AS pad FROM generate_series(1, {bulk_rows}) i"
                    ),
                ],
            );
        }
        dbs
    }

    pub(crate) fn psql(&self, database: &str, args: &[&str]) -> String {
        let o = self
            .target
            .command("psql")
            .args(["-X", "-q", "-A", "-t", "-d", database])
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "psql {args:?}: {}", stderr(&o));
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    }

    /// `--database component=name` for each database.
    pub(crate) fn overrides(&self) -> Vec<String> {
        self.names
            .iter()
            .flat_map(|(c, d)| ["--database".to_string(), format!("{c}={d}")])
            .collect()
    }
}

impl Drop for Databases {
    fn drop(&mut self) {
        for name in self.names.values() {
            // Best effort, and never a panic while unwinding.
            let _ = self
                .target
                .command("psql")
                .args(["-X", "-q", "-d", "postgres", "-c"])
                .arg(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .output();
        }
    }
}

/// A copy of the demo cluster folder (cluster.conf, Terraform, policy documents) with a
/// job-data registry of one package, so that a backup writes every kind of artifact.
pub(crate) fn cluster_dir(root: &Path) -> PathBuf {
    let dir = root.join("cluster");
    fs::create_dir_all(dir.join("policy")).unwrap();
    for name in ["cluster.conf", "main.tf", "variables.tf"] {
        fs::copy(Path::new(DEMO).join(name), dir.join(name)).unwrap();
    }
    for entry in fs::read_dir(Path::new(DEMO).join("policy")).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), dir.join("policy").join(entry.file_name())).unwrap();
    }
    add_package(
        &Path::new(DEMO).join("jobdata-src/packages/demo-runtime"),
        &root.join("demo-runtime.tar.gz"),
        "demo-runtime",
        &dir,
    );
    dir
}

/// Makes a package `name` in the registry of `cluster` of one layer: `src` as a gzip
/// tarball written to `layer`.
pub(crate) fn add_package(src: &Path, layer: &Path, name: &str, cluster: &Path) {
    let o = Command::new("tar")
        .arg("-czf")
        .arg(layer)
        .arg("-C")
        .arg(src)
        .arg(".")
        .output()
        .unwrap();
    assert!(o.status.success(), "tar: {}", stderr(&o));
    let o = bin()
        .args(["package", "from-file"])
        .arg(layer)
        .args(["--name", name, "--cluster"])
        .arg(cluster)
        .output()
        .unwrap();
    assert!(o.status.success(), "package from-file: {}", stderr(&o));
}
