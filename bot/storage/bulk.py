"""Many rows in one statement, on PostgreSQL as one execution.

A list of parameter sets (executemany) runs a statement once per row: on PostgreSQL each row is
a round of the server's executor and a parameter set for SQLAlchemy and the driver to convert.
Passed instead as one array per column and spread into rows with `unnest`, the rows travel as a
handful of arrays and the statement runs once, however many rows. SQLite runs executemany in
process, so it keeps the plain form. Several such writes to different tables can also travel
as one statement (`combined`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Select, Table, bindparam, func, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql import Executable, TableValuedAlias
from sqlalchemy.types import TypeEngine


def rows_of(
    table: Table, columns: Sequence[str], *, prefix: str = "", **extra: TypeEngine
) -> TableValuedAlias:
    """A FROM clause of rows given as one array parameter per column: `columns` of `table`
    (each with that column's type) and `extra` parameters with the types given. Its columns
    take the parameters' names; the parameters are named `prefix` + name, so that several
    such statements can share one execution (see `combined`)."""
    types = {name: table.c[name].type for name in columns} | extra
    arrays = [bindparam(prefix + name, type_=ARRAY(type_)) for name, type_ in types.items()]
    return func.unnest(*arrays).table_valued(*types).render_derived(name="v")


def as_arrays(rows: Iterable[dict], names: Iterable[str], prefix: str = "") -> dict[str, list]:
    """Rows (dicts) as the parameters of `rows_of`: one list per name."""
    rows = list(rows)
    return {prefix + name: [row[name] for row in rows] for name in names}


def combined(statements: Sequence[Executable]) -> Select:
    """Writes to different tables as one statement, each a data-modifying CTE: PostgreSQL runs
    them all, on one snapshot, in one round trip. None may read what another writes, nor
    write a row another writes; their parameters must not share names."""
    ctes = [stmt.cte(f"write_{i}") for i, stmt in enumerate(statements)]  # type: ignore[attr-defined]
    return select(literal_column("1")).add_cte(*ctes)
