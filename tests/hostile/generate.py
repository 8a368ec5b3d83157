#!/usr/bin/env python3
"""Generates the hostile-input corpus: damaged, truncated and malicious inputs for every reader.

    python3 tests/hostile/generate.py            # (re)writes tests/hostile/{cases.json,<reader>/...}
    python3 tests/hostile/generate.py OUT_DIR    # writes the corpus somewhere else (the drift check)

Python 3 standard library only, deterministic (fixed times, gzip mtime 0): the same script
writes the same bytes. `cli/tests/hostile.rs` iterates `cases.json`; every case names its
reader, its file, what it tests and the substring the error must hold. Inputs too big to
commit (10 MB lines, 64 MB objects) are described by a `build` recipe that the test expands
at run time; bombs are committed compressed, which is what makes them bombs.
"""

import gzip
import hashlib
import io
import json
import os
import shutil
import struct
import sys
import tarfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else HERE
READERS = ["cntmp", "archive", "manifest", "policy", "dconf", "url"]
MB = 1 << 20
CASES = []


def write(rel, data):
    path = os.path.join(OUT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def case(reader, name, data, tests, expect, **extra):
    """A committed case: `data` is written to `<reader>/<name>`."""
    assert reader in READERS, reader
    assert isinstance(data, bytes), name
    assert len(data) < 512 * 1024, f"{name} is too big to commit; build it at test time"
    rel = f"{reader}/{name}"
    assert all(c["file"] != rel for c in CASES), rel
    write(rel, data)
    CASES.append(dict(reader=reader, file=rel, tests=tests, expect=expect, **extra))


def built(reader, name, tests, expect, parts, **extra):
    """A case the test expands at run time: `parts` is a list of `[text, times]`, concatenated
    (for inputs too big to commit)."""
    rel = f"{reader}/{name}"
    assert all(c["file"] != rel for c in CASES), rel
    CASES.append(dict(reader=reader, file=rel, tests=tests, expect=expect, build=parts, **extra))


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


# ----------------------------------------------------------------------------------------------
# ZIP, written by hand so that every field can lie.

def zip_build(entries):
    """entries: dicts with name (bytes), data (bytes as stored), and optional method, crc,
    csize, usize, flags, attr (unix mode), system, same_as (index of an earlier entry whose
    local header this central record points at: overlapping entries)."""
    out = io.BytesIO()
    central = []
    offsets = []
    for e in entries:
        name = e["name"]
        data = e["data"]
        method = e.get("method", 0)
        crc = e.get("crc", zlib.crc32(e.get("plain", data)) & 0xFFFFFFFF)
        csize = e.get("csize", len(data))
        usize = e.get("usize", len(e.get("plain", data)))
        flags = e.get("flags", 0)
        if "same_as" in e:
            offset = offsets[e["same_as"]]
        else:
            offset = out.tell()
            out.write(
                struct.pack(
                    "<IHHHHHIIIHH", 0x04034B50, 20, flags, method, 0, 0x21,
                    crc, min(csize, 0xFFFFFFFF), min(usize, 0xFFFFFFFF), len(name), 0,
                )
            )
            out.write(name)
            out.write(data)
        offsets.append(offset)
        attr = e.get("attr", 0o100644) << 16
        system = e.get("system", 3)
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII", 0x02014B50, (system << 8) | 20, 20, flags, method, 0,
                0x21, crc, min(csize, 0xFFFFFFFF), min(usize, 0xFFFFFFFF), len(name), 0, 0,
                0, 0, attr, offset,
            )
            + name
        )
    cd_offset = out.tell()
    cd = b"".join(central)
    out.write(cd)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(cd),
                          cd_offset, 0))
    return out.getvalue()


def deflate(data):
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


# ----------------------------------------------------------------------------------------------
# cntmp

def tar_gz_layer(name, content):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        info = tarfile.TarInfo(name)
        info.size = len(content)
        info.mtime = 0
        info.mode = 0o644
        t.addfile(info, io.BytesIO(content))
    return gz(buf.getvalue())


LAYER1 = tar_gz_layer("bin/tool", b"#!/bin/sh\necho MARKER-LAYER-ONE\n" + b"x" * 300)
LAYER2 = tar_gz_layer("etc/tool.conf", b"setting = 2\n")
PKG_FQN = "package::/hostile/pkg::tool"
JOB_FQN = "job::/hostile::web"


def cntmp_manifest(layers=(LAYER1, LAYER2)):
    resources = [
        {"entry": f"PACKAGE_RESOURCE_{i + 1:04}.tar.gz", "sha256": sha(d), "length": len(d),
         "compression": "gzip"}
        for i, d in enumerate(layers)
    ]
    package = {
        "kind": "package",
        "fqn": PKG_FQN,
        "metadata": {
            "dependencies": [{"name": "linux", "type": "os"}],
            "environment": {"PATH": "/bin"},
            "fqn": PKG_FQN,
            "name": "tool",
            "provides": [{"name": "tool", "type": "runtime"}],
            "resources": [
                {"digest": r["sha256"], "length": r["length"],
                 "uuid": f"00000000-0000-4000-8000-00000000000{i + 1}"}
                for i, r in enumerate(resources)
            ],
            "state": "ready",
            "tags": {},
            "uuid": "00000000-0000-4000-8000-0000000000aa",
        },
        "resources": resources,
    }
    job = {
        "kind": "job",
        "fqn": JOB_FQN,
        "metadata": {
            "fqn": JOB_FQN,
            "name": "web",
            "packages": [{"uuid": "00000000-0000-4000-8000-0000000000aa"}],
            "processes": {"app": {"start_command": "./run"}},
            "uuid": "00000000-0000-4000-8000-0000000000bb",
        },
    }
    return {"format": "continuum-cntmp", "format_version": 1,
            "producer": "continuum-backup 0.1.0", "objects": [job, package]}


def cntmp_json(m):
    return (json.dumps(m, indent=2, sort_keys=False) + "\n").encode()


def cntmp(manifest=None, layers=(LAYER1, LAYER2), extra=(), manifest_bytes=None, edit=None):
    """A cntmp as our writer makes it (stored entries, manifest last); `edit` may change the
    entry list before it is written."""
    m = cntmp_manifest(layers) if manifest is None else manifest
    entries = [
        {"name": f"PACKAGE_RESOURCE_{i + 1:04}.tar.gz".encode(), "data": d}
        for i, d in enumerate(layers)
    ]
    entries += list(extra)
    entries.append({"name": b"manifest.json",
                    "data": manifest_bytes if manifest_bytes is not None else cntmp_json(m)})
    if edit:
        edit(entries)
    return zip_build(entries)


def find(data, needle, start=0):
    at = data.find(needle, start)
    assert at >= 0, needle
    return at


def flip(data, at, mask=0x01):
    b = bytearray(data)
    b[at] ^= mask
    return bytes(b)


def gen_cntmp():
    good = cntmp()
    c = lambda name, data, tests, expect, **kw: case("cntmp", name, data, tests, expect, **kw)
    case("cntmp", "control-valid.cntmp", good, "control: the base file imports", "", ok=True)
    cd = find(good, struct.pack("<I", 0x02014B50))
    eocd = find(good, struct.pack("<I", 0x06054B50))
    manifest_at = find(good, b'{\n  "format"')
    # Truncation at every structural boundary.
    c("empty.cntmp", b"", "an empty file", "not a readable cntmp")
    c("cut-in-local-header.cntmp", good[:10], "cut inside the first local header",
      "not a readable cntmp")
    c("cut-after-local-header.cntmp", good[:30 + 28], "cut after the first local header",
      "not a readable cntmp")
    c("cut-in-resource.cntmp", good[:100], "cut inside the first resource", "not a readable cntmp")
    c("cut-in-manifest.cntmp", good[:manifest_at + 40], "cut inside the manifest",
      "not a readable cntmp")
    c("cut-before-directory.cntmp", good[:cd], "cut before the central directory",
      "not a readable cntmp")
    c("cut-in-directory.cntmp", good[:cd + 30], "cut inside the central directory",
      "not a readable cntmp")
    c("cut-before-eocd.cntmp", good[:eocd], "cut before the end-of-directory record",
      "not a readable cntmp")
    c("cut-in-eocd.cntmp", good[:-10], "cut inside the end-of-directory record",
      "the file ends inside a ZIP record (cut short?)")
    # Flipped bytes.
    layer1_at = find(good, LAYER1)
    c("flip-in-resource.cntmp", flip(good, layer1_at + 40), "a flipped byte in a resource",
      "PACKAGE_RESOURCE_0001.tar.gz")
    c("flip-in-manifest.cntmp", flip(good, manifest_at + 300, 0x20),
      "a flipped byte in the manifest (CRC-32)", "manifest.json")
    c("flip-in-directory-name.cntmp", flip(good, cd + 46 + 3, 0x02),
      "a flipped byte in a name of the central directory", "PACKAGE_RESOURCE_0001.tar.gz")
    c("flip-in-eocd-offset.cntmp", flip(good, eocd + 16, 0x04),
      "a flipped byte in the directory offset", "not a readable cntmp")
    # Wrong declared sizes.
    def declare(i, **fields):
        def edit(entries):
            entries[i].update(fields)
        return edit
    c("directory-size-too-big.cntmp",
      cntmp(edit=declare(0, usize=len(LAYER1) + 7, csize=len(LAYER1) + 7)),
      "the directory declares more bytes than a stored resource holds",
      "PACKAGE_RESOURCE_0001.tar.gz")
    c("directory-size-too-small.cntmp",
      cntmp(edit=declare(1, usize=len(LAYER2) - 5, csize=len(LAYER2) - 5)),
      "the directory declares fewer bytes than a stored resource holds",
      "PACKAGE_RESOURCE_0002.tar.gz")
    m = cntmp_manifest()
    m["objects"][1]["resources"][0]["length"] += 1
    m["objects"][1]["metadata"]["resources"][0]["length"] += 1
    c("manifest-length-wrong.cntmp", cntmp(m), "the manifest declares a wrong length",
      "PACKAGE_RESOURCE_0001.tar.gz` is refused: the manifest declares")
    m = cntmp_manifest()
    zero = "sha256:" + "0" * 64
    m["objects"][1]["resources"][1]["sha256"] = zero
    m["objects"][1]["metadata"]["resources"][1]["digest"] = zero
    c("manifest-digest-wrong.cntmp", cntmp(m), "the manifest declares a wrong SHA-256",
      "PACKAGE_RESOURCE_0002.tar.gz` is corrupt")
    m = cntmp_manifest()
    m["objects"][1]["resources"][0]["sha256"] = "sha256:xyz"
    c("manifest-digest-malformed.cntmp", cntmp(m), "a malformed SHA-256 in the manifest",
      "invalid manifest.json")
    # Versions and shapes.
    m = cntmp_manifest()
    m["format_version"] = 9
    c("unknown-version.cntmp", cntmp(m), "an unknown format version",
      "manifest.json` has format version 9, this build reads version 1")
    m = cntmp_manifest()
    m["format"] = "tarball"
    c("unknown-format.cntmp", cntmp(m), "an unknown format name", "`format` must be")
    m = cntmp_manifest()
    del m["format_version"]
    c("missing-version.cntmp", cntmp(m), "no format version", "missing field `format_version`")
    m = cntmp_manifest()
    m["objects"][0]["surprise"] = 1
    c("unknown-field.cntmp", cntmp(m), "an unknown field in an object", "unknown field `surprise`")
    c("manifest-invalid-utf8.cntmp",
      cntmp(manifest_bytes=cntmp_json(cntmp_manifest()).replace(b"continuum-backup 0.1.0",
                                                               b"continuum-backup \xff\xfe.1.0")),
      "invalid UTF-8 in the manifest", "invalid manifest.json")
    c("manifest-not-json.cntmp", cntmp(manifest_bytes=b"\x00\x01PK not json"),
      "a manifest that is not JSON", "invalid manifest.json")
    c("manifest-array.cntmp", cntmp(manifest_bytes=b"[1, 2]"), "a manifest that is an array",
      "invalid manifest.json")
    m = cntmp_manifest()
    m["objects"][0]["kind"] = "\u001b[2J\u001b[Hjob"
    c("kind-escape-sequence.cntmp", cntmp(m), "an object kind holding a terminal escape sequence",
      "unknown variant")
    m = cntmp_manifest()
    m["objects"][0]["\u001b]0;owned\u0007"] = 1
    c("field-escape-sequence.cntmp", cntmp(m), "a field name holding a terminal escape sequence",
      "unknown field")
    m = cntmp_manifest()
    m["objects"][1]["resources"][0]["entry"] = "PACKAGE_RESOURCE_\u001b[2J"
    c("manifest-entry-escape.cntmp", cntmp(m), "a manifest naming an entry with an escape sequence",
      "the manifest lists it but the file does not hold it")
    m = cntmp_manifest()
    m["objects"][1]["metadata"] = [0]
    c("metadata-not-object.cntmp", cntmp(m), "package metadata that is an array",
      "invalid manifest.json")
    bomb = (b'{"format":"continuum-cntmp","format_version":1,"producer":"x","objects":[{"kind":"job",'
            b'"fqn":"job::/a::b","metadata":{"fqn":"job::/a::b","x":[' + b"0," * (8 * MB) + b'0]}}]}')
    c("manifest-value-bomb.cntmp",
      cntmp(edit=lambda es: es[-1].update(data=deflate(bomb), plain=bomb, method=8)),
      "16 MB of `0,` in an object's metadata (a JSON tree bomb, deflated to 16 KB), default limits",
      "it holds 8388629 JSON values, more than the 1048576 a manifest may hold")
    c("manifest-trailing.cntmp", cntmp(manifest_bytes=cntmp_json(cntmp_manifest()) + b"}{"),
      "trailing characters after the manifest", "trailing characters")
    deep = b'{"format":"continuum-cntmp","format_version":1,"producer":"x","objects":[{"kind":"job","fqn":"job::/a::b","metadata":' + b"[" * 100000 + b"]" * 100000 + b"}]}"
    c("manifest-deep.cntmp",
      cntmp(edit=lambda es: es[-1].update(data=deflate(deep), plain=deep, method=8)),
      "a manifest nested 100000 levels deep (deflated)", "recursion limit exceeded")
    big = b'{"format":"continuum-cntmp","format_version":1,"producer":"' + b"p" * (10 * MB) + b'","objects":[], "x": 1}'
    c("manifest-10mb-line.cntmp",
      cntmp(edit=lambda es: es[-1].update(data=deflate(big), plain=big, method=8)),
      "a 10 MB single-line manifest (deflated) with an unknown field at its end",
      "unknown field `x`")
    m = cntmp_manifest()
    m["objects"][1]["fqn"] = "package::/hostile/pkg::other"
    c("fqn-mismatch.cntmp", cntmp(m), "an object whose FQN differs from its metadata's",
      "carries the FQN")
    m = cntmp_manifest()
    m["objects"][1]["resources"][0]["entry"] = "../../etc/passwd"
    c("manifest-entry-traversal.cntmp", cntmp(m), "a manifest naming `../../etc/passwd`",
      "is not a resource entry name")
    m = cntmp_manifest()
    m["objects"][1]["resources"][0]["entry"] = "PACKAGE_RESOURCE_0099.tar.gz"
    c("manifest-entry-missing.cntmp", cntmp(m), "a manifest naming an entry the file lacks",
      "PACKAGE_RESOURCE_0099.tar.gz` is refused: the manifest lists it but the file does not hold it")
    m = cntmp_manifest()
    other = json.loads(json.dumps(m["objects"][1]))
    other["fqn"] = other["metadata"]["fqn"] = "package::/hostile/pkg::twin"
    other["resources"] = [dict(other["resources"][0], sha256=sha(b"twin"))]
    other["metadata"]["resources"] = [dict(other["metadata"]["resources"][0], digest=sha(b"twin"))]
    m["objects"].append(other)
    c("entry-two-digests.cntmp", cntmp(m), "one entry given two different digests",
      "the manifest gives it two different digests")
    # Entry names.
    def named(raw):
        return cntmp(extra=[{"name": raw, "data": b"x"}])
    c("name-dotdot.cntmp", named(b"../evil"), "an entry named `../evil`", "`..` is not allowed")
    c("name-absolute.cntmp", named(b"/etc/passwd"), "an absolute entry name",
      "absolute paths are not allowed")
    c("name-backslash.cntmp", named(b"..\\..\\evil"), "a backslash in an entry name",
      "backslashes are not allowed")
    c("name-nul.cntmp", named(b"PACKAGE\x00RESOURCE"), "a NUL in an entry name",
      "control characters are not allowed")
    c("name-drive.cntmp", named(b"C:evil"), "a drive prefix", "drive prefixes are not allowed")
    c("name-invalid-utf8.cntmp", named(b"PACKAGE_RESOURCE_\xff\xfe.tar.gz"),
      "an entry name that is not UTF-8", "not UTF-8")
    c("name-dot-segment.cntmp", named(b"./PACKAGE_RESOURCE_0003.tar.gz"),
      "an entry name that is not plain", "plain relative paths")
    c("name-folder.cntmp", cntmp(extra=[{"name": b"PACKAGE_RESOURCE_0009/", "data": b"",
                                         "attr": 0o040755}]),
      "a folder entry", "entry `PACKAGE_RESOURCE_0009/` is refused")
    c("name-64k.cntmp", named(b"PACKAGE_RESOURCE_" + b"n" * 65000), "an entry name of 65 KB",
      "longer than 4096 bytes")
    c("symlink-escape.cntmp",
      cntmp(extra=[{"name": b"PACKAGE_RESOURCE_0003.tar.gz", "data": b"../../../etc/passwd",
                    "attr": 0o120777}]),
      "a symbolic link entry pointing out", "folders and links are not allowed")
    c("duplicate-entry.cntmp",
      cntmp(extra=[{"name": b"PACKAGE_RESOURCE_0001.tar.gz", "data": b"evil twin"}]),
      "the same entry name twice", "two entries have the same name")
    c("duplicate-manifest.cntmp",
      cntmp(edit=lambda es: es.insert(0, {"name": b"manifest.json", "data": b"{}"})),
      "two manifests", "two entries have the same name")
    # Methods and flags.
    c("method-bzip2.cntmp", cntmp(edit=lambda es: es[0].update(method=12)),
      "an entry compressed with an unsupported method", "unsupported compression method")
    c("encrypted-entry.cntmp", cntmp(edit=lambda es: es[0].update(flags=1)),
      "an entry flagged as encrypted",
      "entry `PACKAGE_RESOURCE_0001.tar.gz` is refused: encrypted entries are not supported")
    # Bombs, under limits of 1 MiB an entry, 8 MiB in all, 100 entries.
    limits = [MB, 8 * MB, 100]
    bomb = b"\0" * (64 * MB)
    c("bomb-declared.cntmp",
      cntmp(edit=lambda es: es[0].update(data=deflate(bomb), plain=bomb, method=8)),
      "a resource that inflates to 64 MiB and says so", "exceeds the limit of 1048576 bytes",
      limits=limits)
    def lying_bomb(es):
        es[0].update(data=deflate(bomb), method=8, usize=len(LAYER1), crc=zlib.crc32(LAYER1))
    c("bomb-lying.cntmp", cntmp(edit=lying_bomb),
      "a resource that declares its true length but inflates to 64 MiB",
      "PACKAGE_RESOURCE_0001.tar.gz", limits=limits)
    small = b"\0" * (900 * 1024)
    overlap = [{"name": b"PACKAGE_RESOURCE_0001.tar.gz", "data": deflate(small), "plain": small,
                "method": 8}]
    overlap += [dict(overlap[0], name=f"PACKAGE_RESOURCE_{i:04}.tar.gz".encode(), same_as=0)
                for i in range(2, 40)]
    c("bomb-overlapping.cntmp", zip_build(overlap),
      "39 entries sharing one 900 KiB deflate stream (an overlapping zip bomb)",
      "exceeds the limit of 8388608 bytes", limits=limits)
    many = [{"name": f"PACKAGE_RESOURCE_{i:04}.tar.gz".encode(), "data": b""}
            for i in range(1, 202)]
    c("too-many-entries.cntmp", zip_build(many), "201 entries", "exceeds the limit of 100 entries",
      limits=limits)
    eocd_lie = bytearray(good)
    struct.pack_into("<HH", eocd_lie, eocd + 8, 0xFFFF, 0xFFFF)
    c("eocd-entry-count-lie.cntmp", bytes(eocd_lie),
      "an end-of-directory record claiming 65535 entries", "not a readable cntmp")
    # Legacy files (no manifest).
    legacy = zip_build([{"name": b"PACKAGE_RESOURCE_0001.tar.gz", "data": LAYER1}])
    c("legacy-truncated.cntmp", legacy[:len(legacy) // 2], "a legacy file cut in half",
      "not a readable cntmp")
    c("legacy-size-lie.cntmp",
      zip_build([{"name": b"PACKAGE_RESOURCE_0001.tar.gz", "data": LAYER1,
                  "usize": len(LAYER1) + 10, "csize": len(LAYER1) + 10}]),
      "a legacy resource whose declared size is wrong", "PACKAGE_RESOURCE_0001.tar.gz")
    # Import only: the file reads, the plan refuses it.
    m = cntmp_manifest()
    twin = json.loads(json.dumps(m["objects"][0]))
    twin["metadata"]["name"] = "other-content"
    m["objects"].append(twin)
    c("same-fqn-twice.cntmp", cntmp(m), "one FQN twice with different content",
      "appears twice in the files, with different content", reader_ok=True)


# ----------------------------------------------------------------------------------------------
# Orchestrator archive

TS = "2026-11-25T17:39:26Z"
MTIME = 1795714766


def orch_members():
    return [
        ("release/version", b"2.6.1\n"),
        ("db/orchestrator.sql", b"-- PostgreSQL database dump\nCREATE TABLE public.h (id int);\n"
                                b"COPY public.h (id) FROM stdin;\n1\n2\n\\.\n"),
        ("db/roles.sql", b"CREATE ROLE orchestrator;\n"),
        ("config/cluster.conf", b"chef: { continuum: { cluster_name: hostile } }\n"),
        ("config/main.tf", b"# terraform\n"),
    ]


def orch_metadata(members):
    return {
        "format_version": 1,
        "created_at": TS,
        "producer": "continuum-backup 0.1.0",
        "host": "vm",
        "host_addresses": ["192.0.2.2"],
        "cluster_name": "hostile",
        "orchestrator_version": "2.6.1",
        "platform_release": "2.6.1",
        "postgresql_version": "15.18",
        "release": {"version": "2.6.1", "version_file": "release/version", "bundle": None},
        "databases": [{"name": "orchestrator", "owner": "postgres", "file": "db/orchestrator.sql",
                       "row_counts": {"public.h": 2}}],
        "roles": "db/roles.sql",
        "config": ["config/cluster.conf", "config/main.tf"],
        "members": [{"path": p, "size": len(d), "sha256": sha(d)} for p, d in members],
    }


def tar_entry(name, data=b"", kind=tarfile.REGTYPE, link="", size=None, mode=0o600):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if size is None else size
    info.mtime = MTIME
    info.mode = mode
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    info.linkname = link
    return info, data


def tar_bytes(entries, fmt=tarfile.GNU_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for info, data in entries:
            t.addfile(info, io.BytesIO(data) if info.isreg() and info.size else None)
    return buf.getvalue()


def orch_tar(members=None, metadata=None, edit_meta=None, entries=None, meta_bytes=None):
    members = orch_members() if members is None else members
    meta = orch_metadata(members) if metadata is None else metadata
    if edit_meta:
        edit_meta(meta)
    mb = meta_bytes if meta_bytes is not None else (json.dumps(meta, indent=2) + "\n").encode()
    es = [tar_entry("metadata.json", mb)] + [tar_entry(p, d) for p, d in members]
    if entries:
        entries(es)
    return tar_bytes(es)


def orch(**kw):
    return gz(orch_tar(**kw))


def tar_body(tar):
    """A tar without its end-of-archive blocks, to append entries to."""
    heads = header_offsets(tar)
    last = heads[-1]
    size = int(tar[last + 124:last + 136].rstrip(b"\0 ") or b"0", 8)
    return tar[:last + 512 + (size + 511) // 512 * 512]


def header_offsets(tar):
    """The offsets of every header block in a tar (GNU format, no long names)."""
    out, at = [], 0
    while at + 512 <= len(tar) and tar[at:at + 512] != b"\0" * 512:
        out.append(at)
        size = int(tar[at + 124:at + 136].rstrip(b"\0 ") or b"0", 8)
        at += 512 + (size + 511) // 512 * 512
    return out


def raw_header(name, kind, size, link=b""):
    """A GNU tar header block written by hand (for sizes and types tarfile refuses)."""
    h = bytearray(512)
    h[0:len(name)] = name
    h[100:108] = b"0000600\0"
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = b"%011o\0" % size if size < 8 ** 11 else b"\x80" + size.to_bytes(11, "big")
    h[136:148] = b"%011o\0" % MTIME
    h[156:157] = kind
    h[157:157 + len(link)] = link
    h[257:265] = b"ustar  \0"
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def gen_archive():
    c = lambda name, data, tests, expect, **kw: case("archive", name, data, tests, expect, **kw)
    good_tar = orch_tar()
    good = gz(good_tar)
    case("archive", "control-valid.tgz", good, "control: the base archive verifies", "", ok=True)
    heads = header_offsets(good_tar)
    # Truncation.
    c("empty.tgz", b"", "an empty file", "empty.tgz`: unexpected end of file")
    c("cut-in-gzip-header.tgz", good[:5], "cut inside the gzip header", "cut-in-gzip-header.tgz")
    c("cut-in-deflate.tgz", good[:len(good) // 2], "cut inside the deflate stream", "cut-in-deflate.tgz")
    c("cut-in-gzip-trailer.tgz", good[:-4], "cut inside the gzip trailer (CRC and size)",
      "cut-in-gzip-trailer.tgz")
    c("cut-at-member-boundary.tgz", gz(good_tar[:heads[3]]),
      "cut at a member boundary of the tar", "is listed in `metadata.json` but missing")
    c("cut-in-member-header.tgz", gz(good_tar[:heads[2] + 100]),
      "cut inside a member's header", "cut-in-member-header.tgz")
    c("cut-in-member-data.tgz", gz(good_tar[:heads[2] + 512 + 20]),
      "cut inside a member's data",
      "`db/orchestrator.sql` is corrupt: expected 98 bytes, found 20 bytes (the archive is cut short)")
    c("cut-in-metadata.tgz", gz(good_tar[:512 + 100]), "cut inside metadata.json",
      "cut-in-metadata.tgz")
    case("archive", "control-no-end-marker.tgz", gz(good_tar[:heads[-1] + 512 + 512]),
         "control: a tar without its end-of-archive blocks reads, as GNU tar reads it", "",
         ok=True)
    # Not this format.
    c("not-gzip.tgz", b"just some text, not an archive\n", "a file that is not gzip",
      "not-gzip.tgz")
    c("plain-tar.tgz", good_tar, "an uncompressed tar", "plain-tar.tgz")
    c("gzip-of-text.tgz", gz(b"hello\n" * 200), "gzip of something that is not a tar",
      "gzip-of-text.tgz")
    c("trailing-garbage.tgz", good + b"GARBAGE-AFTER-THE-GZIP-STREAM",
      "garbage after the gzip stream", "trailing-garbage.tgz")
    # Flipped bytes.
    c("flip-in-deflate.tgz", flip(good, len(good) // 2, 0x10), "a flipped byte in the deflate stream",
      "`release/version` is corrupt")
    c("flip-in-gzip-crc.tgz", flip(good, len(good) - 6), "a flipped byte in the gzip CRC-32",
      "flip-in-gzip-crc.tgz")
    c("flip-in-member.tgz", gz(flip(good_tar, heads[2] + 512 + 10)),
      "a flipped byte in a member's content", "`db/orchestrator.sql` is corrupt")
    c("flip-in-header-checksum.tgz", gz(flip(good_tar, heads[1] + 150)),
      "a damaged header checksum", "checksum")
    bad_size = bytearray(good_tar)
    bad_size[heads[1] + 124:heads[1] + 136] = b"zz!notoctal\0"
    bad_size[heads[1] + 148:heads[1] + 156] = b" " * 8
    bad_size[heads[1] + 148:heads[1] + 156] = b"%06o\0 " % sum(bad_size[heads[1]:heads[1] + 512])
    c("non-octal-size.tgz", gz(bytes(bad_size)), "a size field that is not a number",
      "non-octal-size.tgz")
    # Metadata.
    c("first-not-metadata.tgz",
      orch(entries=lambda es: es.insert(0, es.pop(1))), "a first member other than metadata.json",
      "its first member is `release/version`")
    c("metadata-symlink.tgz",
      gz(tar_bytes([tar_entry("metadata.json", kind=tarfile.SYMTYPE, link="/etc/passwd")])),
      "metadata.json as a symbolic link", "`metadata.json` is not a regular file")
    c("metadata-version-2.tgz", orch(edit_meta=lambda m: m.update(format_version=2)),
      "an unknown format version", "metadata.json` has format version 2, this build reads version 1")
    c("metadata-no-version.tgz", orch(edit_meta=lambda m: m.pop("format_version")),
      "no format version", "has no format_version")
    c("metadata-not-json.tgz", orch(meta_bytes=b"{\"format_version\": 1,\n  oops"),
      "metadata.json that is not JSON", "metadata.json` line 2 column 3")
    c("metadata-invalid-utf8.tgz",
      orch(meta_bytes=(json.dumps(orch_metadata(orch_members())) + "\n").encode().replace(
          b'"vm"', b'"v\xff"')),
      "invalid UTF-8 in metadata.json", "metadata.json` line 1 column")
    c("metadata-value-bomb.tgz",
      orch(meta_bytes=b'{"format_version":1,"x":[' + b"0," * (4 * MB) + b'0]}'),
      "8 MB of `0,` in metadata.json (a JSON tree bomb: 32 bytes a value)", "missing field")
    c("metadata-deep.tgz", orch(meta_bytes=b'{"format_version":1,"x":' + b"[" * 100000 + b"]" * 100000 + b"}"),
      "metadata.json nested 100000 levels deep", "missing field `created_at`")
    c("metadata-wrong-shape.tgz", orch(meta_bytes=b'{"format_version":1,"members":[1]}'),
      "metadata.json of the wrong shape", "metadata.json` line 1 column")
    c("metadata-17mb-line.tgz",
      gz(tar_bytes([tar_entry("metadata.json", b'{"format_version":1,"host":"' + b"h" * (17 * MB) + b'"}')])),
      "a 17 MB single-line metadata.json (over its 16 MiB limit)",
      "`metadata.json` exceeds the limit of 16777216 bytes")
    c("metadata-declares-huge.tgz",
      gz(raw_header(b"metadata.json", b"0", 20 << 30) + b"{}"),
      "metadata.json declaring 20 GiB", "`metadata.json` exceeds the limit of 16777216 bytes")
    c("metadata-lists-itself.tgz",
      orch(edit_meta=lambda m: m["members"].append({"path": "metadata.json", "size": 2,
                                                     "sha256": sha(b"{}")})),
      "metadata.json listing itself", "lists itself as a member")
    c("metadata-lists-twice.tgz",
      orch(edit_meta=lambda m: m["members"].append(dict(m["members"][0]))),
      "a member listed twice", "`release/version` is listed twice")
    c("metadata-outside-folder.tgz",
      orch(edit_meta=lambda m: m.update(config=["db/roles.sql", "config/main.tf"], roles=None)),
      "a configuration file outside `config/`", "is not below `config/`")
    c("metadata-path-traversal.tgz",
      orch(edit_meta=lambda m: m["config"].append("config/../../etc/passwd")),
      "a `..` path in metadata.json", "`..` is not allowed")
    c("metadata-db-name-nul.tgz",
      orch(edit_meta=lambda m: m["databases"][0].update(name="orch\u0000estrator")),
      "a NUL in a database name", "is empty, invalid or named twice")
    c("release-gate.tgz", orch(edit_meta=lambda m: m.update(platform_release="2.3.9")),
      "an archive from platform release 2.3.9 (before the 2.4.0 gate)", "2.3.9",
      verify_ok=True)
    # Members.
    c("member-dotdot.tgz", orch(entries=lambda es: es.append(tar_entry("../evil", b"x"))),
      "a member named `../evil`", "`..` is not allowed")
    c("member-absolute.tgz", orch(entries=lambda es: es.append(tar_entry("/etc/cron.d/evil", b"x"))),
      "an absolute member name", "absolute paths are not allowed")
    c("member-backslash.tgz", orch(entries=lambda es: es.append(tar_entry("config\\..\\..\\evil", b"x"))),
      "a backslash in a member name", "backslashes are not allowed")
    c("member-newline.tgz", orch(entries=lambda es: es.append(tar_entry("config/a\nb", b"x"))),
      "a newline in a member name", "control characters are not allowed")
    c("member-long-name.tgz", orch(entries=lambda es: es.append(tar_entry("config/" + "a" * 5000, b"x"))),
      "a 5000-byte member name (GNU long name)", "longer than 4096 bytes")
    c("member-symlink-escape.tgz",
      orch(entries=lambda es: es.append(tar_entry("config/evil", kind=tarfile.SYMTYPE,
                                                  link="../../../../etc/passwd"))),
      "a symbolic link pointing out of the archive", "`config/evil` is a link")
    c("member-hardlink-escape.tgz",
      orch(entries=lambda es: es.append(tar_entry("config/evil", kind=tarfile.LNKTYPE,
                                                  link="/etc/shadow"))),
      "a hard link to a file outside", "`config/evil` is a link")
    c("member-fifo.tgz", orch(entries=lambda es: es.append(tar_entry("config/fifo", kind=tarfile.FIFOTYPE))),
      "a FIFO", "is a special file")
    c("member-device.tgz", orch(entries=lambda es: es.append(tar_entry("config/sda", kind=tarfile.BLKTYPE))),
      "a block device", "is a special file")
    c("member-duplicate.tgz",
      orch(entries=lambda es: es.append(tar_entry("db/roles.sql", b"CREATE ROLE orchestrator;\n"))),
      "a member twice (same content)", "`db/roles.sql` appears twice")
    c("member-unlisted.tgz", orch(entries=lambda es: es.append(tar_entry("config/extra.tf", b"x"))),
      "a member metadata.json does not list", "`config/extra.tf` is not listed")
    c("member-missing.tgz", orch(entries=lambda es: es.pop(3)),
      "a listed member missing", "`db/roles.sql` is listed in `metadata.json` but missing")
    c("member-size-lie.tgz",
      orch(edit_meta=lambda m: m["members"][1].update(size=m["members"][1]["size"] + 1)),
      "metadata.json declaring a wrong size", "`db/orchestrator.sql` is corrupt")
    c("member-digest-lie.tgz",
      orch(edit_meta=lambda m: m["members"][2].update(sha256=sha(b"other"))),
      "metadata.json declaring a wrong SHA-256", "`db/roles.sql` is corrupt")
    c("member-folder-unlisted.tgz",
      orch(entries=lambda es: es.append(tar_entry("secret/", kind=tarfile.DIRTYPE, mode=0o700))),
      "a folder that holds no listed member", "the folder `secret` holds no listed member")
    c("member-sparse.tgz",
      orch(entries=lambda es: es.append(tar_entry("config/sparse", kind=tarfile.GNUTYPE_SPARSE))),
      "a GNU sparse member", "member-sparse.tgz")
    # Bombs, under limits of 1 MiB a member, 2 MiB in all, 100 members.
    limits = [MB, 2 * MB, 100]
    def with_big(size, count=1):
        members = orch_members()
        for i in range(count):
            members.append((f"config/big{i}.tf", b"\0" * size))
        meta = orch_metadata(members)
        meta["config"] += [f"config/big{i}.tf" for i in range(count)]
        return orch(members=members, metadata=meta)
    c("bomb-member.tgz", with_big(64 * MB), "a 64 MiB member of zeros (gzip bomb)",
      "`config/big0.tf` exceeds the limit of 1048576 bytes", limits=limits)
    c("bomb-total.tgz", with_big(1000 * 1024, count=3), "3 members of 1000 KiB (total over 2 MiB)",
      "exceeds the limit of 2097152 bytes", limits=limits)
    c("bomb-declared.tgz",
      gz(tar_body(orch_tar()) + raw_header(b"config/huge", b"0", 1 << 40)),
      "a member declaring 1 TiB", "config/huge", limits=limits)
    many_members = orch_members() + [(f"config/m{i}.tf", b"") for i in range(150)]
    meta = orch_metadata(many_members)
    meta["config"] += [f"config/m{i}.tf" for i in range(150)]
    c("bomb-entries.tgz", orch(members=many_members, metadata=meta), "155 members (over 100)",
      "exceeds the limit of 100 entries", limits=limits)
    # tar's own metadata entries, read by the tar library before any check of ours.
    longname = raw_header(b"././@LongLink", b"L", 96 * MB) + b"a" * (96 * MB)
    # Under the default limits (1 TiB in all), which is how `verify_archive` reads.
    c("bomb-gnu-longname.tgz", gz(tar_body(orch_tar()) + longname),
      "a GNU long-name entry of 96 MiB (read whole by the tar library), default limits",
      "(tar headers before an entry)` exceeds the limit of 1048576 bytes")
    pax = b"%d path=" % (96 * MB) + b"b" * (96 * MB - 20)
    pax = raw_header(b"PaxHeaders/x", b"x", len(pax)) + pax + b"\0" * (-len(pax) % 512)
    c("bomb-pax-header.tgz", gz(tar_body(orch_tar()) + pax),
      "a PAX extended header of 96 MiB, default limits",
      "(tar headers before an entry)` exceeds the limit of 1048576 bytes")


# ----------------------------------------------------------------------------------------------
# Backup-set manifest

SET_ID = "20261125T120000Z-0a1b2c3d"


def manifest():
    return {
        "format_version": 1,
        "set_id": SET_ID,
        "created_at": "2026-11-25T12:00:00Z",
        "producer": "continuum-backup 0.1.0",
        "cluster_name": "prod",
        "reason": "daily",
        "artifacts": [
            {"kind": "cluster", "component": "component-database",
             "name": "component-database.sql.zst", "path": "artifacts/component-database.sql.zst",
             "size": 1234, "sha256": sha(b"dump"), "compression": "zstd",
             "encryption": {"scheme": "none"}, "created_at": "2026-11-25T12:00:00Z",
             "details": {"type": "database", "database": "component", "server_version": "15.18",
                         "row_counts": {"public.jobs": 42}}},
            {"kind": "job", "component": "job-data", "name": "all.cntmp",
             "path": "artifacts/all.cntmp", "size": 99, "sha256": sha(b"cntmp"),
             "compression": "none", "encryption": {"scheme": "none"},
             "created_at": "2026-11-25T12:00:00Z",
             "details": {"type": "job", "fqns": ["package::/apcera/pkg/runtimes::go-1.5.1"]}},
        ],
    }


def mj(m):
    return (json.dumps(m, indent=2) + "\n").encode()


def gen_manifest():
    def c(name, data, tests, expect, **kw):
        case("manifest", name, data, tests, expect, **kw)

    def edit(fn):
        m = manifest()
        fn(m)
        return mj(m)

    good = mj(manifest())
    c("control-valid.json", good, "control: the base manifest loads", "", ok=True)
    c("empty.json", b"", "an empty file", "manifest.json` line 1 column 0: EOF while parsing")
    # Truncation at every structural boundary.
    for label, needle, extra in [
        ("after-open-brace", b"{", 0),
        ("in-key", b'"set_', 0),
        ("after-colon", b'"created_at":', 0),
        ("in-string", b'"continuum-ba', 0),
        ("in-artifacts", b'"artifacts": [', 0),
        ("between-artifacts", b"    },", 0),
        ("in-details", b'"row_counts": {', 0),
        ("before-last-brace", b"  ]\n", 0),
    ]:
        at = find(good, needle) + len(needle) + extra
        c(f"cut-{label}.json", good[:at], f"cut {label.replace('-', ' ')}", "EOF while parsing")
    c("flip-quote.json", good.replace(b'"producer"', b'#producer"', 1),
      "a flipped byte (a quote)", "manifest.json` line 5 column 3")
    c("version-3.json", edit(lambda m: m.update(format_version=3)), "an unknown format version",
      "has format version 3, this build reads version 2")
    c("version-0.json", edit(lambda m: m.update(format_version=0)), "format version 0",
      "has format version 0")
    c("version-string.json", edit(lambda m: m.update(format_version="1")),
      "a format version as a string", "invalid type: string \"1\"")
    c("version-negative.json", edit(lambda m: m.update(format_version=-1)),
      "a negative format version", "invalid value: integer `-1`")
    c("version-missing.json", edit(lambda m: m.pop("format_version")), "no format version",
      "missing field `format_version`")
    c("unknown-field.json", edit(lambda m: m.update(surprise=True)), "an unknown field",
      "unknown field `surprise`")
    c("duplicate-key.json", good.replace(b'"reason": "daily",', b'"reason": "daily", "reason": "manual",'),
      "a key given twice", "duplicate field `reason`")
    c("top-level-array.json", b"\n [1, 2, 3]\n", "an array instead of an object",
      "manifest.json` line 2 column 2: expected a manifest object, starting with `{`")
    c("invalid-utf8-string.json", good.replace(b'"prod"', b'"pr\xc3\x28d"'),
      "invalid UTF-8 inside a string", "manifest.json` line 6 column 22: invalid unicode code point")
    c("invalid-utf8-bare.json", b"\xff\xfe" + good, "bytes that are not UTF-8 before the object",
      "manifest.json` line 1 column 1")
    c("utf8-bom.json", b"\xef\xbb\xbf" + good, "a UTF-8 byte order mark", "line 1 column 1")
    c("utf16.json", good.decode().encode("utf-16"), "UTF-16 text", "line 1 column 1")
    c("nan.json", good.replace(b'"size": 1234', b'"size": NaN'), "NaN as a size",
      "manifest.json` line")
    c("size-overflow.json", good.replace(b'"size": 1234', b'"size": 18446744073709551616'),
      "a size over 2^64", "manifest.json` line")
    deep = b'{"format_version": 1, "artifacts": ' + b"[" * 100000 + b"]" * 100000 + b"}"
    c("deep.json", deep, "artifacts nested 100000 levels deep", "manifest.json` line 1 column")
    deep = b'{"format_version": 1, "zzz": ' + b"[" * 100000 + b"]" * 100000 + b"}"
    c("deep-unknown-field.json", deep, "an unknown field nested 100000 levels deep",
      "unknown field `zzz`")
    c("field-escape-sequence.json", edit(lambda m: m.update({"\u001b]0;owned\u0007": 1})),
      "a field name holding a terminal escape sequence", "unknown field")
    c("reason-escape-sequence.json", edit(lambda m: m.update(reason="\u001b[2J\u001b[H")),
      "a reason holding a terminal escape sequence", "unknown variant")
    c("digest-malformed.json",
      edit(lambda m: m["artifacts"][0].update(sha256="sha256:zz")), "a malformed SHA-256",
      "invalid digest `zz`: expected 64 hex digits")
    c("timestamp-invalid.json", edit(lambda m: m.update(created_at="yesterday")),
      "a timestamp that is no time", "manifest.json` line 4 column 27")
    c("reason-unknown.json", edit(lambda m: m.update(reason="because")), "an unknown reason",
      "unknown variant `because`")
    c("encryption-unknown.json",
      edit(lambda m: m["artifacts"][1].update(encryption={"scheme": "rot13"})),
      "an unknown encryption scheme", "unknown variant `rot13`")
    c("artifact-not-object.json", edit(lambda m: m.update(artifacts=[1])),
      "an artifact that is a number", "manifest.json` line")
    for label, path, expect in [
        ("dotdot", "../../../etc/passwd", "`..` is not allowed"),
        ("absolute", "/etc/passwd", "absolute paths are not allowed"),
        ("backslash", "artifacts\\..\\..\\x", "backslashes are not allowed"),
        ("nul", "artifacts/a\u0000b", "control characters are not allowed"),
        ("escape-sequence", "artifacts/\u001b[2Jx", "control characters are not allowed"),
        ("empty", "", "empty path"),
        ("drive", "C:/Windows/x", "drive prefixes are not allowed"),
    ]:
        c(f"path-{label}.json", edit(lambda m, p=path: m["artifacts"][0].update(path=p)),
          f"an artifact path: {label}", expect)
    c("path-too-long.json", edit(lambda m: m["artifacts"][0].update(path="a/" * 3000)),
      "an artifact path of 6000 bytes", "longer than 4096 bytes")
    c("duplicate-name.json",
      edit(lambda m: m["artifacts"][1].update(name=m["artifacts"][0]["name"])),
      "two artifacts with one name", "appears twice")
    c("duplicate-path.json",
      edit(lambda m: m["artifacts"][1].update(path=m["artifacts"][0]["path"])),
      "two artifacts at one path", "appears twice")
    c("set-id-traversal.json", edit(lambda m: m.update(set_id="../../x")),
      "a set id with `..` and `/`", "invalid set id")
    c("set-id-mismatch.json", edit(lambda m: m.update(set_id="20261125T120000Z-ffffffff")),
      "a manifest of another set", "expected set id `20261125T120000Z-0a1b2c3d`",
      from_json_ok=True)
    c("catalog-in-v1.json",
      edit(lambda m: m.update(catalog={"path": "catalog.json.age", "size": 1, "sha256": sha(b"c"),
                                       "encryption": {"scheme": "age", "recipients": ["age1x"]}})),
      "an encrypted catalog in a version 1 manifest", "needs format version 2")
    def leaky(m):
        m["format_version"] = 2
        m["catalog"] = {"path": "catalog.json.age", "size": 1, "sha256": sha(b"c"),
                        "encryption": {"scheme": "age", "recipients": ["age1x"]}}
        for a in m["artifacts"]:
            a["encryption"] = {"scheme": "age", "recipients": ["age1x"]}
    c("encrypted-with-details.json", edit(leaky),
      "an encrypted set telling its details in clear", "must be encrypted and have no details")
    built("manifest", "10mb-set-id.json", "a 10 MB single-line set id", "invalid set id",
          [['{"format_version":1,"set_id":"', 1], ["i", 10 * MB],
           ['","created_at":"2026-11-25T12:00:00Z","producer":"p","reason":"daily","artifacts":[]}',
            1]])
    built("manifest", "10mb-whitespace.json", "10 MB of spaces before the object ends",
          "EOF while parsing", [['{"format_version":1', 1], [" ", 10 * MB]])
    built("manifest", "over-64mib.json", "a manifest object over its 64 MiB limit",
          "exceeds the limit of 67108864 bytes",
          [['{"format_version":1,"x":"', 1], ["x", 64 * MB], ['"}', 1]], store_only=True,
          max_mb=200)


# ----------------------------------------------------------------------------------------------
# Policy documents

def gen_policy():
    def c(name, data, tests, expect, **kw):
        case("policy", name, data if isinstance(data, bytes) else data.encode(), tests, expect, **kw)

    good = 'on job::/sandbox {\n    if (auth_server@apcera.me->name == "admin") { permit read, update }\n}\n'
    c("control-valid.pol", good, "control: the base document checks", "", ok=True)
    # Truncation at every structural boundary.
    cuts = [
        ("on", "on", "1:3"),
        ("realm", "on job::/sandbox", "1:17"),
        ("open-brace", "on job::/sandbox {", "1:19"),
        ("if", "on job::/sandbox {\n    if", "2:7"),
        ("open-paren", "on job::/sandbox {\n    if (", "2:9"),
        ("subject", "on job::/sandbox {\n    if (auth_server@apcera.me->", "2:"),
        ("comparator", "on job::/sandbox {\n    if (auth_server@apcera.me->name ==", "2:"),
        ("value", 'on job::/sandbox {\n    if (auth_server@apcera.me->name == "admin"', "2:"),
        ("close-paren", 'on job::/sandbox {\n    if (auth_server@apcera.me->name == "admin")', "2:"),
        ("consequent", 'on job::/sandbox {\n    if (role == "a") { permit', "2:"),
        ("comma", 'on job::/sandbox {\n    if (role == "a") { permit read,', "2:"),
        ("rule-brace", 'on job::/sandbox {\n    if (role == "a") { permit read }', "2:"),
        ("in-string", 'on job::/sandbox {\n    if (role == "adm', "2:"),
        ("in-header", '<continuum-policy description="hal', "1:1"),
    ]
    for label, text, where in cuts:
        c(f"cut-{label}.pol", text, f"cut after {label.replace('-', ' ')}", f"cut-{label}.pol:{where}")
    c("invalid-utf8.pol", good.encode().replace(b"admin", b"adm\xffn"), "a byte that is not UTF-8",
      "is not UTF-8 text (invalid byte at offset 62)")
    c("utf16.pol", good.encode("utf-16"), "UTF-16 text", "is not UTF-8 text")
    c("nul.pol", good.replace("read", "re\0ad"), "a NUL in a consequent", "nul.pol:2:")
    c("escape-sequence.pol", good.replace("sandbox", "sand\x1b[2Jbox"),
      "a terminal escape sequence in the realm", "escape-sequence.pol:1:")
    c("unknown-realm.pol", good.replace("job::/", "spaceship::/"), "an unknown realm type",
      "unknown-realm.pol:1:")
    c("nested-policy.pol", "on job::/a {\n  on job::/b { { permit read } }\n}\n",
      "a policy inside a policy", "nested-policy.pol:2:")
    c("single-equals.pol", good.replace("==", "="), "`=` for `==`", "equality is written `==`")
    c("unclosed-template.pol", good.replace('"admin"', "[admin"), "an unclosed template",
      "unclosed-template.pol:2:")
    c("stray-close.pol", "}\n" * 3 + good, "closing braces with nothing open", "stray-close.pol:1:1")
    c("block-comment.pol", "/* not a comment */\n" + good, "a C block comment", "block-comment.pol:1:1")
    built("policy", "deep-parens.pol", "conditions nested 100000 levels deep", "deep-parens.pol:2:",
          [["on job::/a {\n    if ", 1], ["(", 100000], ['role == "a"', 1], [")", 100000],
           [" { permit read }\n}\n", 1]])
    built("policy", "deep-not.pol", "200000 negations in a row", "deep-not.pol:2:",
          [["on job::/a {\n    if (", 1], ["!", 200000], ['role == "a") { permit read }\n}\n', 1]])
    built("policy", "deep-braces.pol", "200000 opening braces", "deep-braces.pol:1:",
          [["on job::/a ", 1], ["{", 200000]])
    built("policy", "many-errors.pol", "20000 broken rules (the error list is capped)",
          "many-errors.pol:2:", [["on job::/a {\n", 1], ["    if ( { }\n", 20000], ["}\n", 1]])
    built("policy", "long-line-error.pol",
          "a 400 KB line with an error at its end (the line is shown cut)", "long-line-error.pol:1:",
          [["on job::/a { ", 1], ["{ permit read } ", 25000], ["if ( }\n", 1]])
    built("policy", "10mb-line.pol", "a 10 MB single line",
          "is 10485776 bytes; a policy document holds at most",
          [["on job::/a { ", 1], ["x", 10 * MB], [" }\n", 1]])
    built("policy", "just-over-limit.pol", "one byte over the 512 KB limit", "is 524289 bytes",
          [["// ", 1], ["c", 512 * 1024 - 2]])


# ----------------------------------------------------------------------------------------------
# cluster.conf

def gen_dconf():
    def c(name, data, tests, expect, **kw):
        case("dconf", name, data if isinstance(data, bytes) else data.encode(), tests, expect, **kw)

    good = ("machines: { central: { hosts: [10.0.0.1], suitable_tags: [component-database] } }\n"
            "components: { component-database: 1 }\n"
            "chef: { continuum: { cluster_name: tiny, base_domain: tiny.test } }\n")
    c("control-valid.conf", good, "control: the base file parses", "", ok=True)
    c("cut-in-map.conf", good[:40], "cut inside a map", "cut-in-map.conf:1:41: expected `}` to close the map opened at 1:")
    c("cut-in-array.conf", good[:good.index("[") + 1], "cut inside an array",
      "cut-in-array.conf:1:32: expected `]` to close the array opened at 1:31")
    c("cut-after-key.conf", "chef", "cut after a key", "cut-after-key.conf:1:5: expected `:`, `=` or a value after the key `chef`")
    c("cut-after-colon.conf", "chef:", "cut after a colon", "cut-after-colon.conf:1:6: expected a value")
    c("cut-in-string.conf", 'a: "abc', "cut inside a string", "cut-in-string.conf:1:4: unterminated string")
    c("cut-in-escape.conf", 'a: "abc\\', "cut inside an escape", "cut-in-escape.conf:1:8: unknown escape")
    c("cut-in-raw-block.conf", "cert: (-----BEGIN\nabc\n", "cut inside a raw block",
      "cut-in-raw-block.conf:1:7: unterminated raw block")
    c("cut-in-quoted-key.conf", '"chef', "cut inside a quoted key", "cut-in-quoted-key.conf:1:1: unterminated string")
    c("stray-close.conf", "}\n" + good, "a closing brace at the top", "stray-close.conf:1:1: expected a key, found `}`")
    c("stray-bracket.conf", "a: ]\n", "a closing bracket as a value", "stray-bracket.conf:1:4: expected a value")
    c("colon-key.conf", ": 1\n", "a colon where a key belongs", "colon-key.conf:1:1: expected a key")
    c("unknown-escape.conf", 'a: "\\q"\n', "an unknown escape", "unknown-escape.conf:1:5: unknown escape")
    c("newline-in-string.conf", 'a: "ab\ncd"\n', "a line break inside a string", "newline-in-string.conf:1:4: unterminated string")
    c("deep-maps.conf", "a: " + "{ b: " * 100 + "1" + " }" * 100 + "\n", "maps nested 100 deep",
      "deep-maps.conf:1:")
    c("deep-arrays.conf", "a: " + "[" * 100000 + "]" * 100000 + "\n", "arrays nested 100000 deep",
      "nested deeper than 64 levels")
    c("deep-raw-parens.conf", "a: " + "(" * 200000 + "\n", "200000 unclosed parentheses",
      "deep-raw-parens.conf:1:4: unterminated raw block")
    c("invalid-utf8.conf", good.encode().replace(b"tiny.test", b"tiny\xff.test"), "a byte that is not UTF-8",
      "invalid-utf8.conf")
    c("utf16.conf", good.encode("utf-16"), "UTF-16 text", "utf16.conf")
    c("components-not-number.conf", good.replace("component-database: 1 }", "component-database: lots }"),
      "a component count that is no number", "`components.component-database` must be a whole number")
    c("components-negative.conf", good.replace("component-database: 1 }", "component-database: -1 }"),
      "a negative component count", "must be a whole number")
    c("hosts-not-strings.conf", good.replace("hosts: [10.0.0.1]", "hosts: [{ a: 1 }]"),
      "hosts that are maps", "`machines.central.hosts` must be an array of strings")
    c("backups-incomplete.conf",
      good.replace("base_domain: tiny.test", "base_domain: tiny.test, database_backups: { bucket: b }"),
      "database_backups without keys", "database_backups")
    c("cluster-name-map.conf", good.replace("cluster_name: tiny", "cluster_name: { a: 1 }"),
      "a cluster name that is a map", "cluster_name` must be a string")
    c("escape-sequence-key.conf", "\x1b[2J\x1b[H: {\n", "a terminal escape sequence as a key",
      "escape-sequence-key.conf:1:")
    c("escape-sequence-bare-key.conf", "\x1b]0;owned\x07\n", "a key that is an escape sequence",
      "escape-sequence-bare-key.conf:1:2: expected `:`, `=` or a value after the key `\\u{1b}`")
    built("dconf", "10mb-line.conf", "a 10 MB single line",
          "10mb-line.conf:1:1: the document is 10485763 bytes; a cluster.conf holds at most",
          [["a: ", 1], ["v", 10 * MB]], max_message=4096)
    built("dconf", "3mb-key.conf", "a 3 MB key with no value",
          "expected `:`, `=` or a value after the key", [["k", 3 * MB]], max_message=4096)
    built("dconf", "3mb-string.conf", "a 3 MB unterminated string",
          "3mb-string.conf:1:4: unterminated string", [['a: "', 1], ["s", 3 * MB]])
    built("dconf", "3mb-line-of-maps.conf",
          "a 3.5 MB line of 500000 small maps, unclosed at the end (the tree takes ~40x the text)",
          "3mb-line-of-maps.conf:1:3500007: expected `}` to close the map opened at 1:3500006",
          [["k{a 1} ", 500000], ["last {", 1]], max_mb=200)
    built("dconf", "many-lines-maps.conf",
          "350000 lines of small maps (3.9 MB), unclosed at the end",
          "many-lines-maps.conf:350001:7: expected `}`", [["k { a: 1 }\n", 350000], ["last {", 1]],
          max_mb=200)


# ----------------------------------------------------------------------------------------------
# Store URLs

def gen_url():
    def c(name, text, tests, expect, **kw):
        case("url", name, text.encode() if isinstance(text, str) else text, tests, expect, **kw)

    c("control-valid.url", "s3://bucket/backups?endpoint=http://127.0.0.1:9000&region=eu-west-1&path_style=true",
      "control: an S3 URL with options opens", "", ok=True)
    c("empty.url", "", "an empty URL", "empty store URL")
    c("file-relative.url", "file://relative/path", "a relative `file://` URL", "needs an absolute path")
    c("scheme-unknown.url", "gs://bucket/p", "an unsupported scheme", "unsupported scheme `gs`")
    c("scheme-upper.url", "S3://bucket/p", "an upper-case scheme", "unsupported scheme `S3`")
    c("credentials.url", "s3://AKIAHOSTILE:hunter2secret@bucket/p", "credentials in the URL",
      "credentials are not allowed", secret="hunter2secret")
    c("credentials-user.url", "s3://AKIAHOSTILE@bucket/p", "a user name in the URL",
      "credentials are not allowed", secret="AKIAHOSTILE")
    c("endpoint-credentials.url", "s3://bucket/p?endpoint=http://AKIAHOSTILE:hunter2secret@127.0.0.1:9000",
      "credentials inside the endpoint option", "credentials are not allowed", secret="hunter2secret")
    c("endpoint-not-http.url", "s3://bucket/p?endpoint=file:///etc/passwd", "an endpoint that is not http(s)",
      "the S3 endpoint must be an `http://` or `https://` URL")
    c("endpoint-empty.url", "s3://bucket/p?endpoint=", "an empty endpoint",
      "the S3 endpoint is not a URL")
    c("option-unknown.url", "s3://bucket/p?colour=red", "an unknown option", "unknown option `colour`")
    c("option-twice.url", "s3://bucket/p?region=eu-west-1&region=us-east-1", "an option given twice",
      "the option `region` is given twice")
    c("path-style-bad.url", "s3://bucket/p?path_style=maybe", "a path_style that is no boolean",
      "`path_style` must be true or false")
    c("path-style-empty.url", "s3://bucket/p?path_style", "a path_style without a value",
      "`path_style` must be true or false")
    c("bucket-empty.url", "s3:///prefix", "no bucket", "the bucket name is empty")
    c("bucket-missing.url", "s3://", "nothing after the scheme", "the bucket name is empty")
    c("prefix-dotdot.url", "s3://bucket/a/../../etc", "`..` in the prefix", "`..` is not allowed")
    c("prefix-encoded-dotdot.url", "s3://bucket/a/%2e%2e/%2E%2E/etc", "percent-encoded `..` in the prefix",
      "`..` is not allowed")
    c("prefix-encoded-slash.url", "s3://bucket/a%2F..%2F..%2Fetc", "percent-encoded `/..` in the prefix",
      "`..` is not allowed")
    c("prefix-backslash.url", "s3://bucket/a\\..\\b", "backslashes in the prefix", "backslashes are not allowed")
    c("prefix-drive.url", "s3://bucket/C:/x", "a drive prefix", "drive prefixes are not allowed")
    c("prefix-too-long.url", "s3://bucket/" + "p/" * 2100, "a prefix of 4200 bytes", "longer than 4096 bytes",
      max_message=1024)
    c("port-invalid.url", "s3://bucket:99999/p", "an invalid port", "not a URL")
    c("ipv6-broken.url", "s3://[::1/p", "a broken IPv6 host", "not a URL")
    c("space-in-bucket.url", "s3://my bucket/p", "a space in the bucket", "not a URL")
    c("newline.url", "s3://bucket/p\nq", "a line break in the URL", "control characters are not allowed")
    c("tab.url", "s3://buc\tket/p", "a tab in the bucket", "control characters are not allowed")
    c("escape-sequence.url", "s3://bucket/\x1b[2J\x1b[Hp", "a terminal escape sequence",
      "control characters are not allowed")
    c("nul-folder.url", "/tmp/continuum\0hostile", "a NUL in a folder path", "control characters are not allowed")
    c("nul-file-url.url", "file:///tmp/a\0b", "a NUL in a `file://` URL", "control characters are not allowed")
    c("fragment.url", "s3://bucket/p#frag", "a fragment", "fragment")
    c("folder-too-long.url", "/tmp/" + "d/" * 2500, "a folder path of 5000 bytes",
      "the path is longer than 4096 bytes", max_message=1024)
    built("url", "10mb.url", "a 10 MB URL", "longer than 8192 bytes",
          [["s3://bucket/", 1], ["p", 10 * MB]], max_message=1024)
    built("url", "10mb-folder.url", "a 10 MB folder path", "longer than 8192 bytes",
          [["/tmp/", 1], ["d", 10 * MB]], max_message=1024)


def main():
    for reader in READERS:
        d = os.path.join(OUT, reader)
        if os.path.isdir(d):
            shutil.rmtree(d)
    gen_cntmp()
    gen_archive()
    gen_manifest()
    gen_policy()
    gen_dconf()
    gen_url()
    counts = {r: sum(1 for c in CASES if c["reader"] == r and not c.get("ok")) for r in READERS}
    doc = {
        "about": "hostile inputs for every reader; generated by generate.py, run by cli/tests/hostile.rs",
        "counts": counts,
        "cases": CASES,
    }
    write("cases.json", (json.dumps(doc, indent=1, ensure_ascii=True) + "\n").encode())
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(OUT) for f in fs)
    print(f"{len(CASES)} cases ({counts}), {total / MB:.2f} MiB in {OUT}")


if __name__ == "__main__":
    main()
