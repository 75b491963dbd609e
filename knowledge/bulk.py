"""Moving fixed-width columns between numpy and PostgreSQL.

:class:`CopyTransfer` speaks binary COPY in both directions, building and
parsing the wire format with numpy (no Python object per value).
:class:`InsertTransfer` does the same job with INSERT and SELECT for servers
where COPY is unavailable (the PGlite build of TimescaleDB crashes on COPY).

Columns are described by :class:`Column` (name and PostgreSQL type); values
travel as numpy arrays, with timestamps as int64 microseconds since 1970.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import numpy as np
from psycopg import AsyncCursor, sql

EPOCH_2000_US = 946_684_800_000_000  # binary timestamps count from 2000-01-01
_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_BINARY_TRAILER = struct.pack(">h", -1)
_WIRE = {"int4": ">i4", "int8": ">i8", "float8": ">f8", "timestamptz": ">i8", "bool": "?"}
_NATIVE = {
    "int4": np.int32,
    "int8": np.int64,
    "float8": np.float64,
    "timestamptz": np.int64,
    "bool": np.bool_,
}

Columns = Mapping[str, np.ndarray[Any, Any]]


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    pg_type: str  # one of int4, int8, float8, timestamptz, bool


def _wire_dtype(columns: Sequence[Column]) -> np.dtype[Any]:
    """One binary-COPY tuple: int16 field count, then (int32 length, value) per field."""
    layout: list[tuple[str, str]] = [("_nfields", ">i2")]
    for c in columns:
        layout += [(f"_len_{c.name}", ">i4"), (c.name, _WIRE[c.pg_type])]
    return np.dtype(layout)


def encode_binary_copy(columns: Sequence[Column], values: Columns) -> bytes:
    """The whole COPY FROM STDIN (FORMAT BINARY) stream for non-null fixed-width columns."""
    n = len(values[columns[0].name])
    rows = np.empty(n, dtype=_wire_dtype(columns))
    rows["_nfields"] = len(columns)
    for c in columns:
        rows[f"_len_{c.name}"] = np.dtype(_WIRE[c.pg_type]).itemsize
        data = values[c.name]
        rows[c.name] = data - EPOCH_2000_US if c.pg_type == "timestamptz" else data
    return _BINARY_HEADER + rows.tobytes() + _BINARY_TRAILER


def decode_binary_copy(columns: Sequence[Column], data: bytes) -> dict[str, np.ndarray[Any, Any]]:
    """Columns of a COPY TO STDOUT (FORMAT BINARY) stream of non-null fixed-width values."""
    if not data:
        return {c.name: np.empty(0, _NATIVE[c.pg_type]) for c in columns}
    (extension,) = struct.unpack_from(">i", data, 15)
    body = data[19 + extension : len(data) - 2]
    rows = np.frombuffer(body, dtype=_wire_dtype(columns))
    decoded = {}
    for c in columns:
        native: np.ndarray[Any, Any] = rows[c.name].astype(_NATIVE[c.pg_type])
        decoded[c.name] = native + EPOCH_2000_US if c.pg_type == "timestamptz" else native
    return decoded


class Transfer(Protocol):
    async def load_rows(
        self, cur: AsyncCursor[Any], table: str, names: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> None: ...

    async def load(
        self, cur: AsyncCursor[Any], table: str, columns: Sequence[Column], values: Columns
    ) -> None: ...

    async def dump(
        self, cur: AsyncCursor[Any], query: sql.SQL | sql.Composed, columns: Sequence[Column]
    ) -> dict[str, np.ndarray[Any, Any]]: ...


class CopyTransfer:
    """Binary COPY both ways (the fast path)."""

    async def load_rows(
        self, cur: AsyncCursor[Any], table: str, names: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> None:
        """Rows of Python values (any types), as text COPY."""
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, names))
        )
        async with cur.copy(statement) as copy:
            for row in rows:
                await copy.write_row(row)

    async def load(
        self, cur: AsyncCursor[Any], table: str, columns: Sequence[Column], values: Columns
    ) -> None:
        if len(values[columns[0].name]) == 0:
            return
        statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
            sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c.name) for c in columns)
        )
        async with cur.copy(statement) as copy:
            await copy.write(encode_binary_copy(columns, values))

    async def dump(
        self, cur: AsyncCursor[Any], query: sql.SQL | sql.Composed, columns: Sequence[Column]
    ) -> dict[str, np.ndarray[Any, Any]]:
        chunks = []
        async with cur.copy(sql.SQL("COPY ({}) TO STDOUT (FORMAT BINARY)").format(query)) as copy:
            async for chunk in copy:
                chunks.append(bytes(chunk))
        return decode_binary_copy(columns, b"".join(chunks))


def _from_db(value: Any) -> Any:
    if isinstance(value, datetime):
        delta = value.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return value


# PGlite's socket server crashes on a protocol message over ~64 KB and stalls on pipelined
# bursts (executemany): send plain multi-row INSERTs of a bounded size instead.
_INSERT_CHUNK_ROWS = 100


async def _insert_in_chunks(
    cur: AsyncCursor[Any],
    table: str,
    names: Sequence[str],
    row_sql: sql.Composable,
    rows: list[Sequence[Any]],
) -> None:
    head = sql.SQL("INSERT INTO {} ({}) VALUES ").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, names))
    )
    for start in range(0, len(rows), _INSERT_CHUNK_ROWS):
        chunk = rows[start : start + _INSERT_CHUNK_ROWS]
        statement = head + sql.SQL(", ").join([row_sql] * len(chunk))
        await cur.execute(statement, [value for row in chunk for value in row])


class InsertTransfer:
    """INSERT/SELECT with the same contract, for servers without COPY."""

    async def load_rows(
        self, cur: AsyncCursor[Any], table: str, names: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> None:
        row_sql = sql.SQL("({})").format(sql.SQL(", ").join([sql.Placeholder()] * len(names)))
        await _insert_in_chunks(cur, table, names, row_sql, list(rows))

    async def load(
        self, cur: AsyncCursor[Any], table: str, columns: Sequence[Column], values: Columns
    ) -> None:
        n = len(values[columns[0].name])
        if n == 0:
            return
        placeholders = [
            sql.SQL("timestamptz 'epoch' + %s * interval '1 microsecond'")
            if c.pg_type == "timestamptz"
            else sql.SQL("%s")
            for c in columns
        ]
        row_sql = sql.SQL("({})").format(sql.SQL(", ").join(placeholders))
        rows = zip(*(values[c.name].tolist() for c in columns), strict=True)
        await _insert_in_chunks(cur, table, [c.name for c in columns], row_sql, list(rows))

    async def dump(
        self, cur: AsyncCursor[Any], query: sql.SQL | sql.Composed, columns: Sequence[Column]
    ) -> dict[str, np.ndarray[Any, Any]]:
        await cur.execute(query)
        rows = await cur.fetchall()
        return {
            c.name: np.array([_from_db(r[i]) for r in rows], dtype=_NATIVE[c.pg_type])
            for i, c in enumerate(columns)
        }
