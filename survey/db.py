"""Database plumbing shared by every part: one SQLite transaction, one migration runner.

Each part owns its schema: a `Schema` names its component (`core`, `sms_gateway`,
`central`) and lists its forward-only migrations. The versions of all components
live in one table, `schema_versions(component, version)`, in the same file or
database, so a kiosk's file holds only the core's tables and a gateway adds its own
without the core knowing. `migrate` runs inside the caller's transaction: the
version is read under the write lock (another process may have migrated
meanwhile), a version newer than the code knows is refused before anything
changes, and each step records its version in the same transaction.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from survey.errors import NewerSchemaError

log = logging.getLogger(__name__)

Dialect = Literal["sqlite", "postgresql"]

VERSIONS_TABLE = "schema_versions"
# Before `schema_versions`, an SQLite file counted its one list of migrations in
# `PRAGMA user_version`. Adopting such a file sets user_version to this mark, which a
# palaute of the old layout refuses as newer instead of migrating a file it no longer
# understands.
USER_VERSION_RETIRED = 1000
_CREATE_VERSIONS = (
    f"CREATE TABLE IF NOT EXISTS {VERSIONS_TABLE} "
    "(component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
)


class Executor(Protocol):
    """What a migration needs: an sqlite3 connection or a psycopg cursor."""

    def execute(self, sql: Any, params: Any = ..., /) -> Any: ...


@dataclass(frozen=True)
class Migration:
    """One forward step of a schema: a name for the log and the statements it runs."""

    name: str
    apply: Callable[[Executor], None]


def script(sql: str) -> Callable[[Executor], None]:
    """A migration step running `;`-separated statements (no `;` inside a statement)."""
    statements = [s.strip() for s in sql.split(";") if s.strip()]

    def apply(ex: Executor) -> None:
        for statement in statements:
            ex.execute(statement)

    return apply


@dataclass(frozen=True)
class Schema:
    """The tables of one component and their migrations, in order; append, never edit."""

    component: str
    migrations: tuple[Migration, ...]
    # For a part whose tables a device file could hold before each part owned its schema:
    # its version in a file that counted one list in user_version (survey.store).
    legacy_version: Callable[[int], int] | None = None

    @property
    def version(self) -> int:
        """The version this code brings the component to."""
        return len(self.migrations)


def _param(dialect: Dialect) -> str:
    return "?" if dialect == "sqlite" else "%s"


def has_versions_table(ex: Executor, dialect: Dialect) -> bool:
    """Whether the file or database has a `schema_versions` table yet."""
    if dialect == "sqlite":
        row = ex.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                         (VERSIONS_TABLE,)).fetchone()
        return row is not None
    row = ex.execute("SELECT to_regclass(%s)", (VERSIONS_TABLE,)).fetchone()
    return row is not None and row[0] is not None


def installed_version(ex: Executor, component: str, dialect: Dialect = "sqlite") -> int:
    """The component's installed version (0 when it has none); reads only."""
    if not has_versions_table(ex, dialect):
        return 0
    row = ex.execute(f"SELECT version FROM {VERSIONS_TABLE} WHERE component = {_param(dialect)}",
                     (component,)).fetchone()
    return int(row[0]) if row else 0


def refuse_newer(schema: Schema, version: int, where: str) -> None:
    """NewerSchemaError when `version` is beyond what this code knows of the component."""
    if version > schema.version:
        raise NewerSchemaError(
            f"{where}: its {schema.component} schema was written by a newer palaute (version "
            f"{version}, this one knows {schema.version}); upgrade palaute here. "
            "Nothing was changed."
        )


def record_versions(ex: Executor, versions: dict[str, int], dialect: Dialect = "sqlite") -> None:
    """Create the versions table when missing and set these components' versions."""
    ex.execute(_CREATE_VERSIONS)
    p = _param(dialect)
    for component, version in versions.items():
        ex.execute(
            f"INSERT INTO {VERSIONS_TABLE} (component, version) VALUES ({p}, {p}) "
            "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
            (component, version),
        )


def legacy_user_version(conn: sqlite3.Connection, legacy_max: int, where: str) -> int | None:
    """The old layout's version (0 for a new file) while user_version still counts the
    schema; None once the file is adopted. NewerSchemaError for any other number."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version == USER_VERSION_RETIRED:
        return None
    if version > legacy_max:
        raise NewerSchemaError(
            f"{where}: written by a newer palaute (schema {version}, this one knows up to "
            f"{legacy_max} and {USER_VERSION_RETIRED}); upgrade palaute here. "
            "Nothing was changed."
        )
    return version


def retire_user_version(conn: sqlite3.Connection, versions: dict[str, int]) -> None:
    """Adopt an old-layout file: record its component versions, mark user_version."""
    record_versions(conn, versions)
    conn.execute(f"PRAGMA user_version = {USER_VERSION_RETIRED}")


def migrate(ex: Executor, schema: Schema, where: str, dialect: Dialect = "sqlite") -> int:
    """Bring one component to its latest version inside the caller's (write) transaction.

    Returns the version it found. Raises NewerSchemaError (the caller rolls back) when
    the component is newer than this code."""
    found = installed_version(ex, schema.component, dialect)
    refuse_newer(schema, found, where)
    for index in range(found, schema.version):
        step = schema.migrations[index]
        log.info("%s: %s schema %d -> %d (%s)", where, schema.component, index, index + 1,
                 step.name)
        step.apply(ex)
        record_versions(ex, {schema.component: index + 1}, dialect)
    return found


@contextlib.contextmanager
def transaction(
    conn: sqlite3.Connection, *, immediate: bool = True,
    explain: Callable[[sqlite3.Error], Exception] | None = None,
) -> Iterator[sqlite3.Connection]:
    """One SQLite transaction on an autocommit connection (`isolation_level=None`).

    BEGIN IMMEDIATE takes the write lock at once (no upgrade deadlock between two
    writers); `immediate=False` begins a deferred one, for a consistent read. Any
    error rolls back; `explain` turns an sqlite3 error (also from BEGIN or COMMIT)
    into the caller's own error."""
    try:
        try:
            conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            raise
    except sqlite3.Error as exc:
        if explain is None:
            raise
        raise explain(exc) from exc

