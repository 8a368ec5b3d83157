"""continuum_backup.policy: policy documents (``.pol``), over the Rust library continuum-policy.

Parse a document into its model, check it (errors raise ``PolicyError`` with every
diagnostic; warnings are returned), format it in the canonical layout, and export or import
the documents of a cluster folder (``<cluster>/policy/<name>.pol``)::

    from continuum_backup import policy

    doc = policy.parse(text, "sandbox.pol")
    for warning in policy.check(text, "sandbox.pol"):
        print(warning)
    report = policy.import_files("/var/lib/continuum/prod", ["policies/*.pol"])
"""

from ._errors import PolicyError
from ._native import (
    Condition,
    Consequent,
    Diagnostic,
    Document,
    ImportedDocument,
    ImportReport,
    Policy,
    Rule,
    Value,
)
from ._native import policy_api_docs_from_json as api_docs_from_json
from ._native import policy_api_docs_to_json as api_docs_to_json
from ._native import policy_check as check
from ._native import policy_export as export
from ._native import policy_format as format
from ._native import policy_import_files as import_files
from ._native import policy_parse as parse

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
