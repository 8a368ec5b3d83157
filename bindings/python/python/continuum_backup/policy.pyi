"""continuum_backup.policy: policy documents (``.pol``), over the Rust library continuum-policy.

Errors: ``PolicyError`` (a ``ValueError``) for a document with errors, carrying every
diagnostic; ``InvalidInputError`` for a document over 512 KB, not UTF-8, a bad document name
or a pattern that matches nothing; ``NotFoundError``; ``AlreadyExistsError`` when an export
would overwrite a file; ``StoreError`` when the file system fails.
"""

import os
from collections.abc import Sequence

from ._errors import PolicyError as PolicyError
from ._native import Condition as Condition
from ._native import Consequent as Consequent
from ._native import Diagnostic as Diagnostic
from ._native import Document as Document
from ._native import ImportedDocument as ImportedDocument
from ._native import ImportReport as ImportReport
from ._native import Policy as Policy
from ._native import Rule as Rule
from ._native import Value as Value

__all__ = [
    "Condition",
    "Consequent",
    "Diagnostic",
    "Document",
    "ImportReport",
    "ImportedDocument",
    "Policy",
    "PolicyError",
    "Rule",
    "Value",
    "api_docs_from_json",
    "api_docs_to_json",
    "check",
    "export",
    "format",
    "import_files",
    "parse",
]

def parse(text: str, name: str | None = None) -> Document:
    """Parses a document into its model. ``name`` names it in diagnostics (``<text>`` when not
    given) and becomes ``Document.name``. Raises ``PolicyError`` with every error found, or
    ``InvalidInputError`` for a text over 512 KB."""

def check(text: str, name: str | None = None) -> list[Diagnostic]:
    """Parses and validates a document; returns its warnings. Raises ``PolicyError`` with
    every error (and warning) when it has errors."""

def format(text: str, name: str | None = None) -> str:
    """The document in the canonical layout, comments kept. The output is checked to mean
    what the input means; otherwise ``Error`` is raised and nothing is returned."""

def export(
    cluster_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    name: str | None = None,
    force: bool = False,
) -> list[str]:
    """Writes every document of the cluster (or only ``name``) to ``out_dir/<name>.pol``
    and returns the paths written. Without ``force``, writes nothing at all when any target
    exists (``AlreadyExistsError``)."""

def import_files(
    cluster_dir: str | os.PathLike[str],
    patterns: str | Sequence[str],
    *,
    dry_run: bool = False,
) -> ImportReport:
    """Imports files and glob patterns (``policies/*.pol``) into the cluster, each document
    named after its file stem. All or nothing: one bad file stores none (``PolicyError``).
    With ``dry_run``, stores nothing and reports what would happen."""

def api_docs_to_json(docs: Sequence[tuple[str, str]]) -> str:
    """The policy API's JSON form, ``{"docs": [{"name": …, "text": …}]}``, of
    ``(name, text)`` pairs."""

def api_docs_from_json(text: str) -> list[tuple[str, str]]:
    """The ``(name, text)`` pairs of the policy API's JSON form. Raises
    ``InvalidInputError`` when it is not that form."""
