from __future__ import annotations

import pytest

from continuum_backup import Error, Fqn, InvalidInputError


def test_parse_fields() -> None:
    fqn = Fqn.parse("package::/apcera/pkg/runtimes::go-1.5.1")
    assert fqn.resource_type == "package"
    assert fqn.namespace == "/apcera/pkg/runtimes"
    assert fqn.local_name == "go-1.5.1"
    assert not fqn.is_realm
    assert str(fqn) == "package::/apcera/pkg/runtimes::go-1.5.1"
    assert repr(fqn) == "Fqn('package::/apcera/pkg/runtimes::go-1.5.1')"


def test_realm_root_and_untyped() -> None:
    realm = Fqn.parse("job::/sandbox/tom/")
    assert realm.is_realm
    assert realm.local_name is None
    assert str(realm) == "job::/sandbox/tom"

    root = Fqn.parse("job::/")
    assert root.namespace == "/"

    untyped = Fqn.parse("/apcera::continuum-guide")
    assert untyped.resource_type is None
    assert untyped.local_name == "continuum-guide"


def test_default_type() -> None:
    fqn = Fqn.parse("/apcera/pkg/runtimes::go-1.5.1", default_type="package")
    assert fqn.resource_type == "package"
    assert str(fqn) == "package::/apcera/pkg/runtimes::go-1.5.1"
    assert Fqn.parse("package::/a::b", default_type="package").resource_type == "package"

    with pytest.raises(InvalidInputError, match="expected a `package` FQN, found `job`"):
        Fqn.parse("job::/a::b", default_type="package")
    with pytest.raises(InvalidInputError, match="unknown resource type"):
        Fqn.parse("/a::b", default_type="jobs")


def test_with_namespace_keeps_type_and_name() -> None:
    fqn = Fqn.parse("package::/apcera/pkg/runtimes::go-1.5.1")
    moved = fqn.with_namespace("/acme/pkg/runtimes")
    assert str(moved) == "package::/acme/pkg/runtimes::go-1.5.1"
    assert moved.resource_type == fqn.resource_type
    assert moved.local_name == fqn.local_name
    assert str(fqn) == "package::/apcera/pkg/runtimes::go-1.5.1", "the original is unchanged"

    with pytest.raises(InvalidInputError, match="column 1"):
        fqn.with_namespace("acme")


def test_equality_and_hash() -> None:
    a = Fqn.parse("job::/apcera::x")
    b = Fqn.parse("job::/apcera/::x")
    c = Fqn.parse("job::/apcera::y")
    assert a == b
    assert a != c
    assert hash(a) == hash(b)
    assert len({a, b, c}) == 2
    assert a != "job::/apcera::x"


@pytest.mark.parametrize(
    ("text", "column", "reason"),
    [
        ("job::/a//b::x", 9, "empty segment"),
        ("job::apcera::x", 6, "start with `/`"),
        ("job::/apc era::x", 10, "whitespace"),
        ("job::/apcera/../x::y", 14, "`..`"),
    ],
)
def test_errors_name_the_column(text: str, column: int, reason: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        Fqn.parse(text)
    message = str(caught.value)
    assert message.startswith(f"invalid FQN `{text}` at column {column}: "), message
    assert reason in message
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, Error)


@pytest.mark.parametrize("text", ["", "jobs::/apcera::x", "job::/apcera::", "job::/a::b::c", "apcera"])
def test_more_invalid_text(text: str) -> None:
    with pytest.raises(ValueError, match="invalid FQN"):
        Fqn.parse(text)


def test_frozen() -> None:
    fqn = Fqn.parse("job::/apcera::x")
    with pytest.raises(AttributeError):
        fqn.namespace = "/other"  # type: ignore[misc]
