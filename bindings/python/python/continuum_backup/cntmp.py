"""continuum_backup.cntmp: job data and cntmp files, over the Rust library continuum-cntmp.

Job data lives in a cluster folder (``<cluster>/jobdata/``): packages (one resource per
layer, content-addressed by SHA-256), jobs, staging pipelines, services, providers and
bindings, in the platform API's shapes. A cntmp file moves them between clusters: export is
deterministic; import checks every digest before anything is stored, all or nothing::

    from continuum_backup import cntmp

    pkg = cntmp.package_from_files("/var/lib/continuum/prod", ["layer.tar.gz"], name="tool")
    cntmp.export("/var/lib/continuum/prod", "all.cntmp", all=True)
    report = cntmp.import_files("/var/lib/continuum/staging", "all.cntmp", skip_existing=True)
    for o in report.objects:
        print(o.fqn, o.action)
"""

from ._native import CntmpExportReport as ExportReport
from ._native import CntmpImportedObject as ImportedObject
from ._native import CntmpImportReport as ImportReport
from ._native import CntmpInspection as Inspection
from ._native import CntmpObject as Object
from ._native import CntmpPackage as Package
from ._native import CntmpResourceRef as ResourceRef
from ._native import cntmp_create_object as create_object
from ._native import cntmp_export as export
from ._native import cntmp_get_object as get_object
from ._native import cntmp_import_files as import_files
from ._native import cntmp_inspect as inspect
from ._native import cntmp_list_objects as list_objects
from ._native import cntmp_package_from_files as package_from_files
from ._native import cntmp_verify as verify

__all__ = [
    "ExportReport",
    "ImportReport",
    "ImportedObject",
    "Inspection",
    "Object",
    "Package",
    "ResourceRef",
    "create_object",
    "export",
    "get_object",
    "import_files",
    "inspect",
    "list_objects",
    "package_from_files",
    "verify",
]
