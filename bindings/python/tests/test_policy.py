"""continuum_backup.policy: parse, check, format, export and import of policy documents."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import continuum_backup
import continuum_backup.policy as policy_module
from continuum_backup import AlreadyExistsError, Error, InvalidInputError, NotFoundError, policy
from continuum_backup.policy import PolicyError

SANDBOX = """\
<continuum-policy description="Sandbox permissions and quotas">
// Admins look after every sandbox; each user owns their own.
on job::/sandbox/[name] {
    if (auth_server@apcera.me->name == "admin") {
        permit read, update
    }
    if (auth_server@apcera.me->name == [name] || role == "owner") {
        permit create, read, start, stop
    }
}

on quota::/sandbox {
    { total.memory 2GB; max.instances 3 }
}
"""

# Two errors: consequents without braces (line 2), a clause without a value (line 4).
TWO_ERRORS = """\
on job::/x {
  permit read,
}
on job::/y { if (role == ) { permit read } }
"""

UNKNOWN_VERB = """\
on job::/sandbox {
    { permit frobnicate }
}
"""


def test_module_layout() -> None:
    assert policy is policy_module
    assert continuum_backup.policy is policy
    for name in policy.__all__:
        assert getattr(policy, name) is not None, name
    assert policy.PolicyError is continuum_backup.PolicyError
    assert policy.Document.__module__ == "continuum_backup.policy"
    assert issubclass(PolicyError, Error) and issubclass(PolicyError, ValueError)


def test_parse_builds_the_model() -> None:
    doc = policy.parse(SANDBOX)
    assert doc.name is None
    assert doc.description == "Sandbox permissions and quotas"
    assert [p.realm for p in doc.policies] == ["job::/sandbox/[name]", "quota::/sandbox"]

    admin, owner = doc.policies[0].rules
    cond = admin.condition
    assert cond is not None
    assert cond.kind == "clause"
    assert (cond.issuer, cond.claim, cond.comparator) == ("auth_server@apcera.me", "name", "==")
    assert cond.value is not None
    assert (cond.value.type, cond.value.value, cond.value.unit) == ("string", "admin", None)
    assert cond.of == []
    [permit] = admin.consequents
    assert permit.claim == "permit"
    assert [(v.type, v.value) for v in permit.values] == [("word", "read"), ("word", "update")]

    either = owner.condition
    assert either is not None and either.kind == "any"
    assert (either.issuer, either.claim, either.value) == (None, None, None)
    by_name, by_role = either.of
    assert by_name.value is not None
    assert (by_name.value.type, by_name.value.value, str(by_name.value)) == ("template", "name", "[name]")
    assert by_role.claim == "role"

    [quota_rule] = doc.policies[1].rules
    assert quota_rule.condition is None
    memory, instances = quota_rule.consequents
    assert memory.claim == "total.memory"
    [size] = memory.values
    assert (size.type, size.value, size.unit, str(size)) == ("number", "2", "GB", "2GB")
    assert (instances.values[0].value, instances.values[0].unit) == ("3", None)


def test_parse_names_the_document() -> None:
    assert policy.parse(SANDBOX, "sandbox").name == "sandbox"
    assert policy.parse(SANDBOX, name="sandbox").to_dict()["name"] == "sandbox"
    assert "name" not in policy.parse(SANDBOX).to_dict()


def test_to_dict_is_the_serde_shape() -> None:
    doc = policy.parse(SANDBOX)
    d = doc.to_dict()
    assert d == json.loads(doc.to_json())
    assert set(d) == {"description", "policies"}
    rule = d["policies"][0]["rules"][0]
    assert rule == {
        "condition": {
            "op": "clause",
            "issuer": "auth_server@apcera.me",
            "claim": "name",
            "comparator": "==",
            "value": {"type": "string", "value": "admin"},
        },
        "consequents": [
            {
                "claim": "permit",
                "values": [{"type": "word", "value": "read"}, {"type": "word", "value": "update"}],
            }
        ],
    }
    assert "condition" not in d["policies"][1]["rules"][0]
    memory = d["policies"][1]["rules"][0]["consequents"][0]["values"][0]
    assert memory == {"type": "number", "value": {"number": "2", "unit": "GB"}}
    assert doc.policies[1].rules[0].consequents[0].values[0].to_dict() == memory
    assert doc.policies[0].to_dict() == d["policies"][0]
    assert doc.policies[0].rules[1].condition is not None
    assert doc.policies[0].rules[1].condition.to_dict()["op"] == "any"


def test_not_holds_one_condition() -> None:
    doc = policy.parse('on job::/a { if (!(role == "guest")) { permit read } }')
    cond = doc.policies[0].rules[0].condition
    assert cond is not None and cond.kind == "not"
    [inner] = cond.of
    assert (inner.kind, inner.claim) == ("clause", "role")
    assert cond.to_dict() == {
        "op": "not",
        "of": {"op": "clause", "claim": "role", "comparator": "==", "value": {"type": "string", "value": "guest"}},
    }


def test_models_compare_by_meaning() -> None:
    doc = policy.parse(SANDBOX)
    again = policy.parse(policy.format(SANDBOX))
    assert doc == again and hash(doc) == hash(again)
    assert doc.policies[0] == again.policies[0]
    assert doc.policies[0] != doc.policies[1]
    assert len({doc, again}) == 1


def test_errors_carry_every_diagnostic() -> None:
    with pytest.raises(PolicyError) as caught:
        policy.parse(TWO_ERRORS, "two.pol")
    e = caught.value
    assert isinstance(e, ValueError) and isinstance(e, Error)
    assert (e.file, e.line, e.column) == ("two.pol", 2, 3)
    assert len(e.diagnostics) == 2
    first, second = e.diagnostics
    assert first.severity == second.severity == "error"
    assert (first.file, first.line, first.column) == ("two.pol", 2, 3)
    assert first.source_line == "  permit read,"
    assert first.width == len("permit")
    assert first.help is not None
    assert second.line == 4
    text = str(e)
    assert "2 error(s)" in text
    assert re.search(r"^\s*\|\s+\^+$", text, re.MULTILINE), text
    assert str(first).startswith("two.pol:2:3: error: ")
    assert str(first) in text and str(second) in text
    assert first.to_dict()["severity"] == "error"
    # check refuses it the same way; the default name is `<text>`
    with pytest.raises(PolicyError) as again:
        policy.check(TWO_ERRORS)
    assert again.value.file == "<text>"
    assert again.value.diagnostics[0].line == 2


def test_validation_errors_are_policy_errors() -> None:
    with pytest.raises(PolicyError, match=r"template `\[other\]` is not bound") as caught:
        policy.check("on job::/sandbox/[name] {\n  if (role == [other]) { permit read }\n}\n")
    assert (caught.value.line, caught.value.column) == (2, 7)


def test_policy_error_from_python() -> None:
    e = PolicyError("no diagnostics")
    assert str(e) == "no diagnostics"
    assert e.diagnostics == [] and e.file is None and e.line is None and e.column is None


def test_check_returns_warnings() -> None:
    assert policy.check(SANDBOX, "sandbox.pol") == []
    warnings = policy.check(UNKNOWN_VERB, "verbs.pol")
    assert len(warnings) == 1
    [w] = warnings
    assert w.severity == "warning"
    assert "frobnicate" in w.message
    assert (w.file, w.line) == ("verbs.pol", 2)
    assert w.help is not None and "read" in w.help
    assert "verbs.pol:2:" in str(w) and "^" in str(w)


def test_format_is_idempotent_and_keeps_comments() -> None:
    messy = "// keep me\non job::/a {   if(role==\"x\"){permit read,update}\n{ role admin } }\n"
    once = policy.format(messy)
    assert policy.format(once) == once
    assert "// keep me" in once
    assert policy.parse(once) == policy.parse(messy)
    formatted = policy.format(SANDBOX, "sandbox.pol")
    assert policy.format(formatted) == formatted
    assert "// Admins look after every sandbox" in formatted
    with pytest.raises(PolicyError):
        policy.format(TWO_ERRORS)


def write_sources(root: Path) -> Path:
    src = root / "src"
    src.mkdir()
    (src / "sandbox.pol").write_text(SANDBOX)
    (src / "verbs.pol").write_text(UNKNOWN_VERB)
    (src / "notes.txt").write_text("not a policy")
    return src


def test_import_then_export_round_trip(tmp_path: Path) -> None:
    src = write_sources(tmp_path)
    cluster = tmp_path / "cluster"
    pattern = str(src / "*.pol")

    dry = policy.import_files(cluster, pattern, dry_run=True)
    assert dry.dry_run is True
    assert [(d.name, d.outcome) for d in dry.documents] == [("sandbox", "created"), ("verbs", "created")]
    assert not (cluster / "policy").exists()

    first = policy.import_files(cluster, [pattern])
    assert first.dry_run is False
    assert [(d.name, d.outcome) for d in first.documents] == [("sandbox", "created"), ("verbs", "created")]
    sandbox, verbs = first.documents
    assert sandbox.file == str(src / "sandbox.pol")
    assert sandbox.warnings == []
    assert [w.severity for w in verbs.warnings] == ["warning"]
    assert (cluster / "policy" / "sandbox.pol").read_text() == SANDBOX
    assert first.to_dict()["documents"][0]["outcome"] == "created"

    second = policy.import_files(str(cluster), pattern)
    assert [d.outcome for d in second.documents] == ["unchanged", "unchanged"]

    (src / "verbs.pol").write_text(UNKNOWN_VERB.replace("frobnicate", "read"))
    third = policy.import_files(cluster, [str(src / "verbs.pol")])
    assert [(d.name, d.outcome, d.warnings) for d in third.documents] == [("verbs", "updated", [])]

    out = tmp_path / "out"
    written = policy.export(cluster, out)
    assert written == [str(out / "sandbox.pol"), str(out / "verbs.pol")]
    assert (out / "sandbox.pol").read_text() == SANDBOX
    assert policy.export(cluster, tmp_path / "one", name="verbs") == [str(tmp_path / "one" / "verbs.pol")]


def test_export_never_overwrites_without_force(tmp_path: Path) -> None:
    src = write_sources(tmp_path)
    cluster = tmp_path / "cluster"
    policy.import_files(cluster, str(src / "*.pol"))

    out = tmp_path / "out"
    out.mkdir()
    (out / "verbs.pol").write_text("mine\n")
    with pytest.raises(AlreadyExistsError, match="verbs.pol"):
        policy.export(cluster, out)
    # nothing at all was written: not the other document, and the existing file is intact
    assert sorted(p.name for p in out.iterdir()) == ["verbs.pol"]
    assert (out / "verbs.pol").read_text() == "mine\n"

    written = policy.export(cluster, out, force=True)
    assert len(written) == 2
    assert (out / "verbs.pol").read_text() == UNKNOWN_VERB
    assert (out / "sandbox.pol").read_text() == SANDBOX


def test_import_is_all_or_nothing(tmp_path: Path) -> None:
    src = write_sources(tmp_path)
    (src / "broken.pol").write_text(TWO_ERRORS)
    cluster = tmp_path / "cluster"
    with pytest.raises(PolicyError) as caught:
        policy.import_files(cluster, str(src / "*.pol"))
    assert caught.value.file == str(src / "broken.pol")
    assert len(caught.value.diagnostics) == 2
    assert not (cluster / "policy").exists()


def test_oversized_documents_are_refused(tmp_path: Path) -> None:
    big = SANDBOX + "// " + "x" * (512 * 1024) + "\n"
    path = tmp_path / "big.pol"
    path.write_text(big)
    cluster = tmp_path / "cluster"
    with pytest.raises(InvalidInputError, match="512 KB"):
        policy.import_files(cluster, str(path))
    assert not (cluster / "policy").exists()
    with pytest.raises(InvalidInputError, match="512 KB"):
        policy.parse(big)


def test_other_errors_map_onto_the_hierarchy(tmp_path: Path) -> None:
    cluster = tmp_path / "cluster"
    with pytest.raises(InvalidInputError, match="matches no file"):
        policy.import_files(cluster, str(tmp_path / "none-*.pol"))
    with pytest.raises(InvalidInputError, match="invalid document name"):
        policy.export(cluster, tmp_path / "out", name="../escape")
    with pytest.raises(NotFoundError, match="no policy document named `absent`"):
        policy.export(cluster, tmp_path / "out", name="absent")
    not_text = tmp_path / "binary.pol"
    not_text.write_bytes(b"on job::/a { \xff }")
    with pytest.raises(InvalidInputError, match="not UTF-8"):
        policy.import_files(cluster, [str(not_text)])
    with pytest.raises(TypeError):
        policy.import_files(cluster, 42)  # type: ignore[arg-type]


def test_api_docs_json() -> None:
    docs = [("sandbox", SANDBOX), ("verbs", UNKNOWN_VERB)]
    text = policy.api_docs_to_json(docs)
    assert json.loads(text) == {"docs": [{"name": n, "text": t} for n, t in docs]}
    assert policy.api_docs_from_json(text) == docs
    with_version = '{"docs": [{"name": "a", "for_version": 3, "text": "x"}]}'
    assert policy.api_docs_from_json(with_version) == [("a", "x")]
    with pytest.raises(InvalidInputError):
        policy.api_docs_from_json('{"documents": []}')
