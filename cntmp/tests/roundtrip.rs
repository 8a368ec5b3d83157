//! Export all → import into an empty registry gives identical objects and resources;
//! the same with a namespace override; and the bytes are deterministic.
#![cfg(test)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use continuum_cntmp::{
    FolderRegistry, ImportAction, ImportOptions, Object, ObjectKind, PackageSpec, Registry,
    Selection, create_object, export_to_file, import_files, package_from_files,
};
use continuum_core::{Fqn, Namespace};
use serde_json::json;

/// 50 packages (every fifth has three layers, layers shared between neighbours), 20 jobs
/// using them, 2 staging pipelines whose stagers are jobs.
fn populate(dir: &Path) -> FolderRegistry {
    let files = dir.join("files");
    std::fs::create_dir_all(&files).unwrap();
    let registry = FolderRegistry::open(dir.join("cluster/jobdata")).unwrap();
    let mut uuids = Vec::new();
    for i in 0..50 {
        let mut layers = Vec::new();
        let count = if i % 5 == 0 { 3 } else { 1 };
        for l in 0..count {
            // layer `shared-{i/2}` appears in two packages
            let name = if l == 0 {
                format!("shared-{}.tar.gz", i / 2)
            } else {
                format!("pkg{i}-layer{l}.tar.gz")
            };
            let path = files.join(&name);
            if !path.exists() {
                std::fs::write(
                    &path,
                    format!("{name} {}", "x".repeat(1000 + i * 37 + l)).as_bytes(),
                )
                .unwrap();
            }
            layers.push(path);
        }
        let mut spec = PackageSpec::new(format!("pkg-{i:02}"), layers).unwrap();
        if i < 10 {
            spec.namespace = Namespace::parse("/apcera/pkg/runtimes").unwrap();
            spec.provides = vec![continuum_cntmp::Dependency::new(
                "runtime",
                format!("rt{i}"),
            )];
        } else {
            spec.depends = vec![continuum_cntmp::Dependency::new(
                "runtime",
                format!("rt{}", i % 10),
            )];
            spec.environment.insert("PKG".to_string(), i.to_string());
        }
        let p = package_from_files(&registry, &spec).unwrap();
        uuids.push(p.uuid.unwrap());
    }
    let mut stager_uuids = Vec::new();
    for j in 0..20 {
        let uuid = format!("00000000-0000-4000-8000-{j:012}");
        let json = json!({
            "fqn": format!("job::/sandbox/team{}::app-{j:02}", j % 3),
            "uuid": uuid,
            "name": format!("app-{j:02}"),
            "packages": [{"uuid": uuids[j], "source": "user"}, {"uuid": uuids[(j * 7) % 50], "source": "system"}],
            "processes": {"app": {"start_command": "./start", "environment": {"PORT": "8080"}}},
            "ports": [{"number": 8080, "routes": [{"type": "http", "endpoint": format!("app{j}.example.com"), "weight": 1.0}]}],
            "resources": {"cpu": 100, "memory": 256, "disk": 1024},
            "tags": {"tier": if j % 2 == 0 { "front" } else { "back" }},
            "bindings": {"db": {"fqn": format!("binding::/sandbox/team{}::db{j}", j % 3), "job_fqn": format!("job::/sandbox/team{}::app-{j:02}", j % 3)}},
        });
        create_object(&registry, &json).unwrap();
        if j >= 18 {
            stager_uuids.push(uuid);
        }
    }
    for (k, stager) in stager_uuids.iter().enumerate() {
        let json = json!({
            "fqn": format!("stagpipe::/apcera::pipeline-{k}"),
            "uuid": format!("10000000-0000-4000-8000-{k:012}"),
            "name": format!("pipeline-{k}"),
            "stagers": [{"uuid": stager}],
        });
        create_object(&registry, &json).unwrap();
    }
    registry
}

fn all_objects(r: &FolderRegistry) -> BTreeMap<Fqn, Object> {
    r.list(None)
        .unwrap()
        .into_iter()
        .map(|f| {
            let o = r.get(&f).unwrap().unwrap();
            (f, o)
        })
        .collect()
}

fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let e = e.unwrap();
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                out.insert(format!("{}/", p.display()), Vec::new());
                stack.push(p);
            } else {
                out.insert(p.display().to_string(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[test]
fn export_all_then_import_gives_identical_objects_and_resources() {
    let dir = tempfile::tempdir().unwrap();
    let source = populate(dir.path());
    let before = all_objects(&source);
    assert_eq!(before.len(), 72);
    assert_eq!(source.list(Some(ObjectKind::Package)).unwrap().len(), 50);

    let file = dir.path().join("all.cntmp");
    let report = export_to_file(&source, &Selection::everything(), &file, false).unwrap();
    assert_eq!(report.objects.len(), 72);
    // 25 shared layers + 10 packages × 2 own layers
    assert_eq!(report.resources, 45);

    let target = FolderRegistry::open(dir.path().join("target/jobdata")).unwrap();
    let imported = import_files(&target, &[&file], &ImportOptions::default()).unwrap();
    assert_eq!(imported.objects.len(), 72);
    assert!(
        imported
            .objects
            .iter()
            .all(|o| o.action == ImportAction::Create)
    );
    assert_eq!(imported.resources_stored, 45);
    assert_eq!(all_objects(&target), before);
    // resources are byte-identical
    let src_res = tree(&dir.path().join("cluster/jobdata/resources"));
    let dst_res = tree(&dir.path().join("target/jobdata/resources"));
    let strip = |m: BTreeMap<String, Vec<u8>>, prefix: &str| -> BTreeMap<String, Vec<u8>> {
        m.into_iter()
            .map(|(k, v)| (k.replacen(prefix, "", 1), v))
            .collect()
    };
    assert_eq!(
        strip(src_res, &dir.path().join("cluster").display().to_string()),
        strip(dst_res, &dir.path().join("target").display().to_string())
    );

    // deterministic: the same input gives the same bytes
    let again = dir.path().join("again.cntmp");
    export_to_file(&source, &Selection::everything(), &again, false).unwrap();
    assert_eq!(
        std::fs::read(&file).unwrap(),
        std::fs::read(&again).unwrap()
    );
    // and exporting from the imported registry too
    let third = dir.path().join("third.cntmp");
    export_to_file(&target, &Selection::everything(), &third, false).unwrap();
    assert_eq!(
        std::fs::read(&file).unwrap(),
        std::fs::read(&third).unwrap()
    );
}

#[test]
fn import_with_a_namespace_override_rewrites_references() {
    let dir = tempfile::tempdir().unwrap();
    let source = populate(dir.path());
    let file = dir.path().join("jobs.cntmp");
    let mut selection = Selection::jobs(["job::/sandbox/team1::app-10"]);
    selection.packages = vec!["/apcera/pkg/packages::pkg-*".to_string()];
    selection.pipelines = vec!["pipeline-0".to_string()];
    export_to_file(&source, &selection, &file, false).unwrap();

    let target = FolderRegistry::open(dir.path().join("target/jobdata")).unwrap();
    let mut options = ImportOptions::default();
    options.override_namespace = Some(Namespace::parse("/acme/moved").unwrap());
    let report = import_files(&target, &[file], &options).unwrap();
    assert!(
        report
            .objects
            .iter()
            .all(|o| o.fqn.namespace().as_str() == "/acme/moved")
    );
    let job_fqn = Fqn::parse("job::/acme/moved::app-10").unwrap();
    let Some(Object::Job(job)) = target.get(&job_fqn).unwrap() else {
        panic!("job missing")
    };
    // the binding that referred to the job's own FQN follows it
    let binding = &job.extra["bindings"]["db"];
    assert_eq!(binding["job_fqn"], "job::/acme/moved::app-10");
    // the packages it uses, where imported too, are referred to by their new ids
    let packages: BTreeMap<String, Object> = target
        .list(Some(ObjectKind::Package))
        .unwrap()
        .into_iter()
        .map(|f| {
            let o = target.get(&f).unwrap().unwrap();
            (o.uuid().unwrap().to_string(), o)
        })
        .collect();
    let first = &job.packages[0].uuid;
    assert!(
        packages.contains_key(first),
        "job refers to {first}, not an imported package id"
    );
    let original = source
        .get(&Fqn::parse("job::/sandbox/team1::app-10").unwrap())
        .unwrap()
        .unwrap();
    let Object::Job(original) = original else {
        panic!()
    };
    assert_ne!(&original.packages[0].uuid, first);
    // the pipeline's stager followed its job
    let Some(Object::Stagpipe(p)) = target
        .get(&Fqn::parse("stagpipe::/acme/moved::pipeline-0").unwrap())
        .unwrap()
    else {
        panic!("pipeline missing")
    };
    let stager = target
        .get(&Fqn::parse("job::/acme/moved::app-18").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(Some(p.stagers[0].uuid.as_str()), stager.uuid());
}

#[test]
fn existing_objects_conflict_or_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let source = populate(dir.path());
    let file = dir.path().join("all.cntmp");
    export_to_file(&source, &Selection::everything(), &file, false).unwrap();
    // importing into the source itself: everything exists
    let e = import_files(&source, &[&file], &ImportOptions::default()).unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");
    let mut options = ImportOptions::default();
    options.skip_existing = true;
    let report = import_files(&source, &[&file], &options).unwrap();
    assert!(
        report
            .objects
            .iter()
            .all(|o| o.action == ImportAction::Unchanged)
    );

    // a changed object is "skipped, differs", and kept as it was
    let target = FolderRegistry::open(dir.path().join("t/jobdata")).unwrap();
    create_object(
        &target,
        &json!({"fqn": "job::/sandbox/team0::app-00", "name": "mine"}),
    )
    .unwrap();
    let report = import_files(&target, &[file], &options).unwrap();
    let app = report
        .objects
        .iter()
        .find(|o| o.fqn.to_string() == "job::/sandbox/team0::app-00")
        .unwrap();
    assert_eq!(app.action, ImportAction::SkippedDiffers);
    let kept = target.get(&app.fqn).unwrap().unwrap();
    let Object::Job(kept) = kept else { panic!() };
    assert_eq!(kept.name, "mine");
}

#[test]
fn dry_run_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let source = populate(dir.path());
    let file = dir.path().join("all.cntmp");
    export_to_file(&source, &Selection::everything(), &file, false).unwrap();
    let target_dir = dir.path().join("t");
    std::fs::create_dir_all(&target_dir).unwrap();
    let target = FolderRegistry::open(target_dir.join("jobdata")).unwrap();
    let mut options = ImportOptions::default();
    options.dry_run = true;
    let report = import_files(&target, &[file], &options).unwrap();
    assert!(report.dry_run);
    assert_eq!(report.objects.len(), 72);
    assert_eq!(report.resources_stored, 45);
    assert!(report.bytes_checked > 0);
    assert!(tree(&target_dir).is_empty());
}

#[test]
fn selection_by_name_wildcard_dependencies_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let source = populate(dir.path());
    let (objects, _) = continuum_cntmp::select(&source, &Selection::packages(["pkg-1*"])).unwrap();
    assert_eq!(objects.len(), 10, "pkg-10 … pkg-19");
    let mut with_deps = Selection::packages(["pkg-13"]);
    with_deps.with_dependencies = true;
    let (objects, notes) = continuum_cntmp::select(&source, &with_deps).unwrap();
    let names: Vec<String> = objects.iter().map(|o| o.fqn().to_string()).collect();
    assert_eq!(
        names,
        [
            "package::/apcera/pkg/packages::pkg-13",
            "package::/apcera/pkg/runtimes::pkg-03"
        ],
        "{notes:?}"
    );
    let e = continuum_cntmp::select(&source, &Selection::packages(["nope"])).unwrap_err();
    assert!(e.to_string().contains("no package matches `nope`"), "{e}");
    let e = continuum_cntmp::select(&source, &Selection::jobs(["app-*"])).unwrap_err();
    assert!(e.to_string().contains("wildcards are for packages"), "{e}");
    create_object(
        &source,
        &json!({"fqn": "job::/other::app-00", "name": "app-00"}),
    )
    .unwrap();
    let e = continuum_cntmp::select(&source, &Selection::jobs(["app-00"])).unwrap_err();
    assert!(e.to_string().contains("ambiguous"), "{e}");
}

#[test]
fn other_tools_read_our_files() {
    let dir = tempfile::tempdir().unwrap();
    let source = populate(dir.path());
    let file = dir.path().join("all.cntmp");
    export_to_file(&source, &Selection::everything(), &file, false).unwrap();
    let o = Command::new("unzip").arg("-t").arg(&file).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    assert!(String::from_utf8_lossy(&o.stdout).contains("No errors detected"));
    let o = Command::new("python3")
        .arg("-c")
        .arg("import sys, zipfile, json; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; m = json.loads(z.read('manifest.json')); print(len(m['objects']), len([n for n in z.namelist() if n.startswith('PACKAGE_RESOURCE_')]), z.getinfo('PACKAGE_RESOURCE_0001.tar.gz').compress_type)")
        .arg(&file)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "72 45 0");
}

#[test]
fn what_a_killed_import_staged_is_removed_unless_an_import_is_staging() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("jobdata");
    let incoming = root.join(".incoming");
    std::fs::create_dir_all(&incoming).unwrap();
    std::fs::write(
        incoming.join("0123456789abcdef"),
        b"left by a killed import",
    )
    .unwrap();

    // An import staging now holds a shared lock on the folder: its files stay.
    let live = std::fs::File::open(&incoming).unwrap();
    live.lock_shared().unwrap();
    FolderRegistry::open(&root).unwrap();
    assert!(incoming.join("0123456789abcdef").exists());

    // Nobody is staging: the next open removes what was left, and the folder.
    drop(live);
    FolderRegistry::open(&root).unwrap();
    assert!(!incoming.exists());
}
