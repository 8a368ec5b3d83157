"""continuum_backup.db: PostgreSQL backups and restores, over the Rust library
continuum-orchestrator.

``backup`` streams ``pg_dump`` through zstd into one new backup set, with every table's row
count taken from the same snapshot; ``restore`` plans a restore (``dry_run=True`` stops
there), applies it and checks every count; ``list_databases`` is what ``psql -l`` shows. The
server is a ``postgresql://`` URL (``dsn``) or, without one, the standard environment
(``DATABASE_URL``, ``PGHOST``, ``PGPORT``, ``PGUSER``, ``PGPASSWORD``, ``PGDATABASE``)::

    from continuum_backup import db

    manifest = db.backup(["appdb"], "/var/backups/pg", dsn="postgresql://postgres@db1/postgres")
    plan = db.restore("/var/backups/pg", manifest.set_id, "appdb", as_name="appdb_copy",
                      dry_run=True)
    report = db.restore("/var/backups/pg", manifest.set_id, "appdb", as_name="appdb_copy")
    print(report.action, report.total_rows)
"""

from ._native import DbDatabaseInfo as DatabaseInfo
from ._native import DbRestorePlan as RestorePlan
from ._native import DbRestoreReport as RestoreReport
from ._native import db_backup as backup
from ._native import db_list_databases as list_databases
from ._native import db_restore as restore

__all__ = [
    "DatabaseInfo",
    "RestorePlan",
    "RestoreReport",
    "backup",
    "list_databases",
    "restore",
]
