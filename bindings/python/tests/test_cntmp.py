"""continuum_backup.cntmp: packages, objects, export, import, inspect and verify of job data."""

from __future__ import annotations

import bz2
import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest

import continuum_backup
import continuum_backup.cntmp as cntmp_module
from continuum_backup import (
    AlreadyExistsError,
    CorruptError,
    InvalidInputError,
    NotFoundError,
    StoreError,
    cntmp,
)

# Stored uncompressed in layer one (gzip level 0), so it can be found in a cntmp file's bytes.
MARKER = b"continuum-cntmp-marker-5be1f0"
PACKAGE = "package::/apcera/pkg/packages::tool"
JOB = "job::/sandbox::web"
FIRST_RESOURCE = "PACKAGE_RESOURCE_0001.tar.gz"


def write_layer(path: Path, member: str, content: bytes) -> Path:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=0) as tar:
        info = tarfile.TarInfo(member)
        info.size = len(content)
        tar.addfile(info, io.BytesIO(content))
    path.write_bytes(buf.getvalue())
    return path


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under `root` with its content (None for a folder)."""
    return {
        str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
    }


class Source:
    """A cluster with a two-layer package and a job that uses it, exported into one file."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.layers = [
            write_layer(tmp_path / "layer1.tar.gz", "bin/tool", MARKER + b"\n"),
            write_layer(tmp_path / "layer2.tar.gz", "share/tool/data", b"data " * 400),
        ]
        self.cluster = tmp_path / "source"
        self.package = cntmp.package_from_files(
            self.cluster,
            self.layers,
            name="tool",
            provides=["runtime.go"],
            depends=["os.linux"],
            env={"TOOL_HOME": "/opt/tool"},
        )
        stored = cntmp.get_object(self.cluster, PACKAGE)
        assert stored is not None
        self.job = cntmp.create_object(
            self.cluster,
            {
                "fqn": JOB,
                "name": "web",
                "packages": [{"uuid": stored["uuid"]}],
                "processes": {"app": {"start_command": "./tool"}},
            },
        )
        self.file = tmp_path / "all.cntmp"
        self.export = cntmp.export(self.cluster, self.file, all=True)


@pytest.fixture
def source(tmp_path: Path) -> Source:
    return Source(tmp_path)


def test_module_layout() -> None:
    assert continuum_backup.cntmp is cntmp is cntmp_module
    for name in cntmp.__all__:
        assert getattr(cntmp, name) is not None, name
    # Not the policy one, which _native also holds.
    assert cntmp.ImportReport.__module__ != continuum_backup.policy.ImportReport.__module__
    assert cntmp.ImportReport.__name__ == "ImportReport"
    assert cntmp.Package.__module__ == "continuum_backup.cntmp"


def test_package_and_objects(source: Source) -> None:
    pkg = source.package
    assert isinstance(pkg, cntmp.Package)
    assert (pkg.fqn, pkg.name, pkg.layers) == (PACKAGE, "tool", 2)
    assert pkg.uuid is not None
    assert len(pkg.digests) == 2 and all(d.startswith("sha256:") for d in pkg.digests)
    assert pkg.size == sum(p.stat().st_size for p in source.layers)
    assert repr(pkg) == f"Package(fqn='{PACKAGE}', layers=2)"

    stored = cntmp.get_object(source.cluster, PACKAGE)
    assert stored == pkg.to_dict()
    assert stored is not None
    assert stored["provides"] == [{"type": "runtime", "name": "go"}]
    assert stored["dependencies"] == [{"type": "os", "name": "linux"}]
    assert stored["environment"] == {"TOOL_HOME": "/opt/tool"}
    assert [r["digest"] for r in stored["resources"]] == pkg.digests

    job = source.job
    assert isinstance(job, cntmp.Object)
    assert (job.kind, job.fqn) == ("job", JOB)
    assert job.uuid is not None and job.uuid != pkg.uuid  # every created object gets an id
    assert job.to_dict()["packages"] == [{"uuid": pkg.uuid}]
    assert cntmp.get_object(source.cluster, JOB) == job.to_dict()

    assert cntmp.list_objects(source.cluster) == [JOB, PACKAGE]
    assert cntmp.list_objects(source.cluster, "package") == [PACKAGE]
    assert cntmp.list_objects(source.cluster, kind="binding") == []
    assert cntmp.get_object(source.cluster, "job::/sandbox::absent") is None

    # JSON text works as a dict does
    text = json.dumps({"fqn": "service::/sandbox::db", "uuid": "svc-1", "provider": "postgres"})
    service = cntmp.create_object(source.cluster, text)
    assert (service.kind, service.uuid) == ("service", "svc-1")


def test_create_refuses_what_exists_or_is_invalid(source: Source) -> None:
    with pytest.raises(AlreadyExistsError, match="already exists"):
        cntmp.package_from_files(source.cluster, source.layers[0], name="tool")
    with pytest.raises(AlreadyExistsError):
        cntmp.create_object(source.cluster, {"fqn": JOB, "name": "web"})
    with pytest.raises(InvalidInputError, match="`runtime` is not TYPE.NAME"):
        cntmp.package_from_files(source.cluster, source.layers, name="x", provides=["runtime"])
    with pytest.raises(InvalidInputError, match="`lang.go` is not TYPE.NAME"):
        cntmp.package_from_files(source.cluster, source.layers, name="x", depends=["os.linux", "lang.go"])
    with pytest.raises(InvalidInputError, match="give at least one file"):
        cntmp.package_from_files(source.cluster, [], name="x")
    with pytest.raises(InvalidInputError, match="namespace must start with `/`"):
        cntmp.package_from_files(source.cluster, source.layers, name="x", namespace="acme")
    with pytest.raises(StoreError):
        cntmp.package_from_files(source.cluster, [source.tmp / "absent.tar.gz"], name="x")
    with pytest.raises(InvalidInputError, match="does not hold"):
        cntmp.create_object(
            source.cluster,
            {"fqn": "package::/a::p", "resources": [{"digest": "sha256:" + "0" * 64, "length": 3}]},
        )
    with pytest.raises(InvalidInputError, match="line 1"):
        cntmp.create_object(source.cluster, '{"fqn": ')
    with pytest.raises(InvalidInputError, match="missing `fqn`"):
        cntmp.create_object(source.cluster, {"name": "x"})
    with pytest.raises(InvalidInputError, match="unknown kind `pkg`"):
        cntmp.list_objects(source.cluster, "pkg")
    with pytest.raises(InvalidInputError, match="invalid FQN"):
        cntmp.get_object(source.cluster, "job::/a//b")
    with pytest.raises(TypeError):
        cntmp.create_object(source.cluster, [1, 2])  # type: ignore[arg-type]
    # nothing of that was stored
    assert cntmp.list_objects(source.cluster) == [JOB, PACKAGE]


def test_export_inspect_verify(source: Source) -> None:
    report = source.export
    assert isinstance(report, cntmp.ExportReport)
    assert report.file == str(source.file)
    assert report.objects == [JOB, PACKAGE]
    assert (report.resources, report.resource_bytes) == (2, source.package.size)
    assert report.notes == []
    assert report.to_dict() == {
        "file": str(source.file),
        "objects": [JOB, PACKAGE],
        "resources": 2,
        "resource_bytes": source.package.size,
        "notes": [],
    }

    inspection = cntmp.inspect(source.file)
    assert isinstance(inspection, cntmp.Inspection)
    assert inspection.legacy is False
    assert inspection.format_version == 1
    assert inspection.producer is not None and inspection.producer.startswith("continuum-backup")
    assert [(kind, fqn) for kind, fqn, _ in inspection.objects] == [("job", JOB), ("package", PACKAGE)]
    resources = [r for _, _, refs in inspection.objects for r in refs]
    assert len(resources) == 2
    assert [r.entry for r in resources] == [FIRST_RESOURCE, "PACKAGE_RESOURCE_0002.tar.gz"]
    assert [r.sha256 for r in resources] == source.package.digests
    assert [r.compression for r in resources] == ["gzip", "gzip"]
    assert sum(r.length for r in resources) == source.package.size
    assert inspection.entries[-1] == ("manifest.json", inspection.entries[-1][1], "stored")
    assert [name for name, _, _ in inspection.entries][:2] == [r.entry for r in resources]
    assert inspection.notes == []
    d = inspection.to_dict()
    assert d["legacy"] is False
    assert d["objects"][1]["resources"][0] == resources[0].to_dict()

    checked = cntmp.verify(source.file)
    assert checked > 0
    assert checked == source.package.size

    # Export is deterministic, and never overwrites without force.
    with pytest.raises(AlreadyExistsError):
        cntmp.export(source.cluster, source.file, all=True)
    again = source.tmp / "again.cntmp"
    cntmp.export(source.cluster, again, all=True)
    assert again.read_bytes() == source.file.read_bytes()
    cntmp.export(source.cluster, source.file, packages=["too*"], force=True)
    assert [fqn for _, fqn, _ in cntmp.inspect(source.file).objects] == [PACKAGE]


def test_export_selection_errors(source: Source) -> None:
    out = source.tmp / "x.cntmp"
    with pytest.raises(NotFoundError, match="no package matches `absent`"):
        cntmp.export(source.cluster, out, packages=["absent"])
    with pytest.raises(NotFoundError):
        cntmp.export(source.cluster, out, jobs=["absent"])
    with pytest.raises(InvalidInputError, match="nothing to export"):
        cntmp.export(source.cluster, out)
    with pytest.raises(TypeError):
        cntmp.export(source.cluster, out, packages="tool")  # a str, not a sequence of them
    assert not out.exists()

    # A package's dependencies come along on request.
    base = write_layer(source.tmp / "base.tar.gz", "etc/os-release", b"linux\n")
    cntmp.package_from_files(source.cluster, base, name="linux", provides=["os.linux"])
    alone = cntmp.export(source.cluster, out, packages=["tool"])
    assert alone.objects == [PACKAGE]
    both = cntmp.export(source.cluster, out, packages=["tool"], with_dependencies=True, force=True)
    assert both.objects == ["package::/apcera/pkg/packages::linux", PACKAGE]


def test_import_round_trip(source: Source) -> None:
    target = source.tmp / "target"
    report = cntmp.import_files(target, [source.file])
    assert isinstance(report, cntmp.ImportReport)
    assert report.dry_run is False
    assert [(o.kind, o.fqn, o.action) for o in report.objects] == [
        ("job", JOB, "create"),
        ("package", PACKAGE, "create"),
    ]
    assert all(isinstance(o, cntmp.ImportedObject) for o in report.objects)
    assert report.objects[0].source_fqn == JOB
    assert report.objects[0].file == str(source.file)
    assert report.resources_stored == 2
    assert report.bytes_checked == source.package.size
    assert report.notes == []
    assert report.to_dict()["objects"][1] == report.objects[1].to_dict()
    assert report.to_dict()["objects"][1]["action"] == "create"
    assert cntmp.list_objects(target) == [JOB, PACKAGE]
    assert cntmp.get_object(target, PACKAGE) == cntmp.get_object(source.cluster, PACKAGE)
    assert cntmp.get_object(target, JOB) == cntmp.get_object(source.cluster, JOB)

    # Again: the objects exist.
    before = snapshot(target)
    with pytest.raises(AlreadyExistsError, match="already exists"):
        cntmp.import_files(target, source.file)
    assert snapshot(target) == before

    skipped = cntmp.import_files(target, source.file, skip_existing=True)
    assert [o.action for o in skipped.objects] == ["unchanged", "unchanged"]
    assert skipped.resources_stored == 0
    assert snapshot(target) == before


def test_import_skips_what_differs(source: Source, tmp_path: Path) -> None:
    target = tmp_path / "target"
    cntmp.create_object(target, {"fqn": JOB, "name": "web", "packages": []})
    report = cntmp.import_files(target, source.file, skip_existing=True)
    assert [(o.fqn, o.action) for o in report.objects] == [
        (JOB, "skipped, differs"),
        (PACKAGE, "create"),
    ]
    kept = cntmp.get_object(target, JOB)
    assert kept is not None and kept["packages"] == []


def test_import_override_namespace(source: Source) -> None:
    target = source.tmp / "target"
    report = cntmp.import_files(target, source.file, override_namespace="/acme")
    moved = {o.source_fqn: o.fqn for o in report.objects}
    assert moved == {JOB: "job::/acme::web", PACKAGE: "package::/acme::tool"}
    assert cntmp.list_objects(target) == ["job::/acme::web", "package::/acme::tool"]
    package = cntmp.get_object(target, "package::/acme::tool")
    job = cntmp.get_object(target, "job::/acme::web")
    assert package is not None and job is not None
    # The job still finds its package: the id moved with it.
    assert package["uuid"] != source.package.uuid
    assert job["packages"] == [{"uuid": package["uuid"]}]
    with pytest.raises(InvalidInputError, match="namespace must start with `/`"):
        cntmp.import_files(target, source.file, override_namespace="acme")


def test_dry_run_stores_nothing(source: Source) -> None:
    target = source.tmp / "target"
    target.mkdir()
    report = cntmp.import_files(target, source.file, dry_run=True)
    assert report.dry_run is True
    assert [o.action for o in report.objects] == ["create", "create"]
    assert report.resources_stored == 2
    assert report.bytes_checked == source.package.size
    assert snapshot(target) == {}
    assert cntmp.list_objects(target) == []


def test_a_flipped_byte_is_caught(source: Source) -> None:
    data = bytearray(source.file.read_bytes())
    assert data.count(MARKER) == 1
    data[data.index(MARKER)] ^= 0xFF
    damaged = source.tmp / "damaged.cntmp"
    damaged.write_bytes(bytes(data))

    # The directory and manifest are intact: inspect reads them.
    assert len(cntmp.inspect(damaged).objects) == 2
    with pytest.raises(CorruptError, match=FIRST_RESOURCE):
        cntmp.verify(damaged)

    target = source.tmp / "target"
    target.mkdir()
    cntmp.create_object(target, {"fqn": "job::/other::keep", "name": "keep"})
    before = snapshot(target)
    with pytest.raises(CorruptError, match=FIRST_RESOURCE):
        cntmp.import_files(target, damaged)
    assert snapshot(target) == before
    with pytest.raises(CorruptError, match=FIRST_RESOURCE):
        cntmp.import_files(target, [source.file, damaged], dry_run=True)
    assert snapshot(target) == before
    assert cntmp.list_objects(target) == ["job::/other::keep"]

    # Into a cluster folder that does not exist yet: it still does not.
    fresh = source.tmp / "fresh"
    with pytest.raises(CorruptError, match=FIRST_RESOURCE):
        cntmp.import_files(fresh, damaged)
    assert not fresh.exists()


def test_legacy_file(tmp_path: Path) -> None:
    legacy = tmp_path / "old-tool.cntmp"
    layer = bz2.compress(b"a layer from the platform's own tool\n" * 20)
    with zipfile.ZipFile(legacy, "w") as z:
        z.writestr(FIRST_RESOURCE, layer)

    inspection = cntmp.inspect(legacy)
    assert inspection.legacy is True
    assert (inspection.format_version, inspection.producer) == (None, None)
    [(kind, fqn, [resource])] = inspection.objects
    assert (kind, fqn) == ("package", "package::/apcera/pkg/packages::old-tool")
    assert (resource.entry, resource.length, resource.compression) == (FIRST_RESOURCE, len(layer), "bzip2")
    assert inspection.entries == [(FIRST_RESOURCE, len(layer), "stored")]
    assert any("no manifest.json" in n for n in inspection.notes)
    assert cntmp.verify(legacy) == len(layer)

    target = tmp_path / "target"
    report = cntmp.import_files(target, legacy)
    assert [(o.fqn, o.action) for o in report.objects] == [("package::/apcera/pkg/packages::old-tool", "create")]
    assert any("no package metadata" in n for n in report.notes), report.notes
    assert all(n.startswith(str(legacy)) for n in report.notes)
    stored = cntmp.get_object(target, "package::/apcera/pkg/packages::old-tool")
    assert stored is not None
    assert [(r["digest"], r["length"]) for r in stored["resources"]] == [(resource.sha256, len(layer))]


def test_files_that_are_not_cntmp(tmp_path: Path) -> None:
    not_zip = tmp_path / "notes.cntmp"
    not_zip.write_text("not a zip\n")
    with pytest.raises(InvalidInputError, match="not a readable cntmp"):
        cntmp.inspect(not_zip)
    with pytest.raises(InvalidInputError):
        cntmp.import_files(tmp_path / "target", not_zip)
    with pytest.raises(StoreError):
        cntmp.verify(tmp_path / "absent.cntmp")
    traversal = tmp_path / "evil.cntmp"
    with zipfile.ZipFile(traversal, "w") as z:
        z.writestr("../PACKAGE_RESOURCE_0001.tar.gz", b"x")
    with pytest.raises(CorruptError, match="refused"):
        cntmp.inspect(traversal)
    assert not (tmp_path / "target").exists()
