//! The main job, for now: a store round trip on the embedded default (a local folder).
//!
//! Writes a small demo cluster's installation files, backs them up as one set, lists and
//! verifies the store, restores every artifact into a fresh folder, compares it with the
//! original, and prints a short report. Run it with `bash scripts/demo.sh`.

use std::error::Error;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use continuum_core::{
    DataKind, LocalStore, Reason, SetOptions, create_set_from_files, list_sets, open_artifact,
    verify_set,
};

fn main() -> Result<(), Box<dyn Error>> {
    let work = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("continuum-demo"));
    if work.exists() {
        std::fs::remove_dir_all(&work)?;
    }
    let cluster = work.join("cluster");
    let restored = work.join("restored");
    std::fs::create_dir_all(&cluster)?;
    std::fs::create_dir_all(&restored)?;
    let files = demo_cluster(&cluster)?;

    let started = Instant::now();
    let store = Arc::new(LocalStore::new(work.join("backups")));
    let manifest = create_set_from_files(
        store.clone(),
        &files,
        DataKind::Cluster,
        "installation-files",
        SetOptions::new(Reason::Manual).cluster_name("demo"),
    )?;
    println!(
        "backed up {} files as set {}",
        manifest.artifacts.len(),
        manifest.set_id
    );

    let listed = list_sets(store.as_ref())?;
    println!("the store lists {} committed set(s)", listed.len());
    let report = verify_set(store.as_ref(), &manifest.set_id)?;
    println!(
        "verify: {} ({} bytes hashed)",
        if report.ok { "ok" } else { "DAMAGED" },
        report.bytes_checked
    );

    let mut equal = 0;
    for artifact in &manifest.artifacts {
        let mut data = Vec::new();
        open_artifact(store.as_ref(), &manifest, &artifact.name)?.read_to_end(&mut data)?;
        std::fs::write(restored.join(&artifact.name), &data)?;
        let original = std::fs::read(cluster.join(&artifact.name))?;
        let same = original == data;
        equal += usize::from(same);
        println!(
            "  {:<18} {:>6} bytes  {}  restored {}",
            artifact.name,
            artifact.size,
            artifact.sha256,
            if same { "and equal" } else { "BUT DIFFERENT" }
        );
    }
    println!(
        "report: {equal}/{} artifacts restored and equal, store {} ({:.0?})",
        manifest.artifacts.len(),
        store.root().display(),
        started.elapsed()
    );
    if equal != manifest.artifacts.len()
        || !report.ok
        || listed.first().map(|m| &m.set_id) != Some(&manifest.set_id)
    {
        return Err("the round trip did not restore everything".into());
    }
    Ok(())
}

fn demo_cluster(dir: &Path) -> Result<Vec<PathBuf>, Box<dyn Error>> {
    let files = [
        (
            "cluster.conf",
            "# demo cluster\nprovisioner { type: generic }\nchef: {\n  \"continuum\": {\n    \"cluster_name\": \"demo\",\n    \"base_domain\": \"demo.example.com\"\n  }\n}\n",
        ),
        (
            "main.tf",
            "module \"continuum\" {\n  source = \"./modules/continuum\"\n  cluster_name = \"demo\"\n}\n",
        ),
        (
            "terraform.tfvars",
            "region = \"eu-west-1\"\ninstance_count = 3\n",
        ),
    ];
    let mut out = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text)?;
        out.push(path);
    }
    Ok(out)
}
