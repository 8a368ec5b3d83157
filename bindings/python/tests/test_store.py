"""The core round trip through the binding, on a folder and on a live S3 server."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import Backend

from continuum_backup import (
    InvalidInputError,
    Manifest,
    NotFoundError,
    PruneReport,
    Store,
    StoreError,
    VerifyReport,
)


def test_create_list_verify(backend: Backend, files: list[Path]) -> None:
    store = backend.store
    assert store.sets() == []

    manifest = store.create_set(files, kind="cluster", component="config", cluster_name="prod")
    assert isinstance(manifest, Manifest)
    assert manifest.cluster_name == "prod"
    assert manifest.reason == "manual"
    assert manifest.producer.startswith("continuum-backup ")
    created = datetime.fromisoformat(manifest.created_at)
    assert created.tzinfo is not None
    assert abs((datetime.now(timezone.utc) - created).total_seconds()) < 300

    by_name = {a.name: a for a in manifest.artifacts}
    assert sorted(by_name) == ["cluster.conf", "components.sql"]
    conf = by_name["cluster.conf"]
    assert conf.kind == "cluster"
    assert conf.component == "config"
    assert conf.path == "artifacts/cluster.conf"
    assert conf.size == files[0].stat().st_size
    assert conf.sha256.startswith("sha256:") and len(conf.sha256) == 7 + 64
    assert conf.compression == "none"

    document = json.loads(manifest.to_json())
    assert document["set_id"] == manifest.set_id
    assert document["format_version"] == 1
    assert [a["name"] for a in document["artifacts"]] == ["cluster.conf", "components.sql"]
    as_dict = manifest.to_dict()
    assert as_dict["set_id"] == manifest.set_id
    assert as_dict["artifacts"][0]["sha256"] == document["artifacts"][0]["sha256"]

    listed = store.sets()
    assert [m.set_id for m in listed] == [manifest.set_id]
    assert listed[0].to_json() == manifest.to_json()

    report = store.verify(manifest.set_id)
    assert isinstance(report, VerifyReport)
    assert report.ok
    assert report.set_id == manifest.set_id
    assert report.bytes_checked == sum(f.stat().st_size for f in files)
    assert [c.status for c in report.artifacts] == ["ok", "ok"]
    assert report.unexpected_objects == []
    assert report.to_dict()["ok"] is True


def test_verify_finds_a_flipped_byte(backend: Backend, files: list[Path]) -> None:
    store = backend.store
    manifest = store.create_set(files)
    backend.corrupt(f"sets/{manifest.set_id}/artifacts/components.sql")

    report = store.verify(manifest.set_id)
    assert not report.ok
    statuses = {c.name: c for c in report.artifacts}
    assert statuses["cluster.conf"].status == "ok"
    bad = statuses["components.sql"]
    assert bad.status == "digest_mismatch"
    assert bad.path == "artifacts/components.sql"
    recorded = next(a for a in manifest.artifacts if a.name == "components.sql")
    assert bad.expected_sha256 == recorded.sha256
    assert bad.actual_sha256 is not None and bad.actual_sha256 != recorded.sha256
    assert bad.expected_size is None and bad.message is None
    assert bad.to_dict()["status"] == "digest_mismatch"
    assert "components.sql" in repr(bad)


def test_prune_dry_run_then_real(backend: Backend, files: list[Path]) -> None:
    store = backend.store
    ids = [store.create_set(files[:1]).set_id for _ in range(3)]
    newest_first = [m.set_id for m in store.sets()]
    assert sorted(newest_first) == sorted(ids)
    assert newest_first[0] == ids[-1]

    dry = store.prune(keep_last=1, dry_run=True)
    assert isinstance(dry, PruneReport)
    assert dry.dry_run
    assert [d.set_id for d in dry.decisions] == newest_first
    for decision in dry.decisions:
        assert decision.reasons, f"{decision.set_id} has no explanation"
        datetime.fromisoformat(decision.created_at)
    assert [d.keep for d in dry.decisions] == [True, False, False]
    assert dry.decisions[0].reasons[0].startswith("keep_last")
    assert dry.decisions[1].reasons == ["no rule keeps it"]
    assert dry.removed_objects == 0
    assert dry.removed_bytes > 0
    assert dry.leftovers == []
    assert len(store.sets()) == 3, "a dry run removes nothing"
    assert len(dry.to_dict()["decisions"]) == 3

    real = store.prune(keep_last=1)
    assert not real.dry_run
    assert real.removed_objects == 4, "two sets of one artifact and a manifest each"
    assert [m.set_id for m in store.sets()] == newest_first[:1]
    assert store.verify(newest_first[0]).ok
    with pytest.raises(NotFoundError):
        store.verify(newest_first[1])


def test_prune_refuses_an_empty_policy(backend: Backend, files: list[Path]) -> None:
    backend.store.create_set(files)
    with pytest.raises(InvalidInputError, match="retention policy"):
        backend.store.prune(dry_run=True)
    assert len(backend.store.sets()) == 1


def test_prune_explains_an_incomplete_set(tmp_path: Path, files: list[Path]) -> None:
    root = tmp_path / "store"
    store = Store.open(str(root))
    kept = store.create_set(files).set_id
    leftover = root / "sets" / "20000101T000000Z-deadbeef" / "artifacts" / "half.sql"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"partial")

    dry = store.prune(keep_last=5, dry_run=True, incomplete_grace_seconds=0)
    assert [(d.set_id, d.keep) for d in dry.decisions] == [(kept, True)]
    assert len(dry.leftovers) == 1
    assert dry.leftovers[0].set_id == "20000101T000000Z-deadbeef"
    assert dry.leftovers[0].remove
    assert "incomplete" in dry.leftovers[0].reason
    assert leftover.exists()

    store.prune(keep_last=5, incomplete_grace_seconds=0)
    assert not leftover.exists()
    assert [m.set_id for m in store.sets()] == [kept]


def test_input_errors(tmp_path: Path, files: list[Path]) -> None:
    store = Store.open(str(tmp_path / "store"))
    assert store.url == f"file://{tmp_path / 'store'}"

    with pytest.raises(InvalidInputError, match="data kind `bogus`"):
        store.create_set(files, kind="bogus")
    with pytest.raises(InvalidInputError, match="reason `whim`"):
        store.create_set(files, reason="whim")
    with pytest.raises(InvalidInputError, match="give at least one file"):
        store.create_set([])
    with pytest.raises(InvalidInputError, match="set id"):
        store.verify("../escape")
    with pytest.raises(NotFoundError, match="backup set `nope` not found") as not_found:
        store.verify("nope")
    assert isinstance(not_found.value, LookupError)
    with pytest.raises(StoreError) as missing:
        store.create_set([tmp_path / "does-not-exist"])
    assert isinstance(missing.value, OSError)
    assert "does-not-exist" in str(missing.value)
    with pytest.raises(InvalidInputError, match="unsupported scheme `gs`"):
        Store.open("gs://bucket/prefix")
    assert not (tmp_path / "store").exists(), "the refused calls wrote nothing"
    with pytest.raises(InvalidInputError, match="the folder does not exist"):
        store.sets()
