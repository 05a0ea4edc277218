"""SQL of the vendor tables: vendors, their aliases and identifiers, conflicts and the vendor audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from retrieval.repository.database import one_row

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection as Cursor


# -- vendors --------------------------------------------------------------------------------------
def vendor_name(con: Cursor, vendor_id: int) -> str | None:
    """A vendor's canonical name, or None when there is no such vendor."""
    row = con.execute("SELECT name FROM vendors WHERE id = ?", [vendor_id]).fetchone()
    return row[0] if row else None


def vendor_head(con: Cursor, vendor_id: int) -> tuple[int, str, str | None] | None:
    """(id, name, tax_id) of a vendor, or None."""
    row = con.execute("SELECT id, name, tax_id FROM vendors WHERE id = ?", [vendor_id]).fetchone()
    return tuple(row) if row else None


def vendor_count(con: Cursor) -> int:
    """How many vendors there are."""
    return int(one_row(con.execute("SELECT count(*) FROM vendors"))[0] or 0)


def vendor_page(con: Cursor, limit: int, offset: int) -> list[tuple]:
    """(id, name, invoice count, conflict count, name aliases) of a page of vendors by name."""
    return con.execute(
        "SELECT v.id, v.name,"
        " (SELECT count(*) FROM invoices i WHERE i.vendor_id = v.id),"
        " (SELECT count(*) FROM vendor_conflicts c WHERE v.id IN (c.vendor_id, c.other_vendor_id)),"
        " (SELECT list(a.alias ORDER BY a.created_at, a.alias) FROM vendor_aliases a"
        "   WHERE a.vendor_id = v.id AND a.kind = 'name' AND a.alias <> v.name)"
        " FROM vendors v ORDER BY lower(v.name), v.id LIMIT ? OFFSET ?",
        [limit, offset],
    ).fetchall()


def insert_vendor(
    cur: Cursor, name: str, normalized: str, compact: str, tax_id: str | None = None, iban: str | None = None
) -> int:
    """A new vendor row; its id."""
    return int(
        one_row(
            cur.execute(
                "INSERT INTO vendors (name, normalized, compact, tax_id, iban) VALUES (?, ?, ?, ?, ?) RETURNING id",
                [name, normalized, compact, tax_id, iban],
            )
        )[0]
    )


def rename_vendor(cur: Cursor, vendor_id: int, name: str, normalized: str, compact: str) -> None:
    """Set a vendor's canonical name and its comparable forms."""
    cur.execute(
        "UPDATE vendors SET name = ?, normalized = ?, compact = ? WHERE id = ?", [name, normalized, compact, vendor_id]
    )


def set_tax_id_if_missing(cur: Cursor, vendor_id: int, tax_id: str) -> None:
    """Give a vendor without a tax id this one."""
    cur.execute("UPDATE vendors SET tax_id = ? WHERE id = ? AND tax_id IS NULL", [tax_id, vendor_id])


def inherit_tax_id(cur: Cursor, source: int, target: int) -> None:
    """Give `target`, when it has no tax id, the one of `source`."""
    cur.execute(
        "UPDATE vendors SET tax_id = (SELECT tax_id FROM vendors WHERE id = ?) WHERE id = ? AND tax_id IS NULL",
        [source, target],
    )


def delete_vendor(cur: Cursor, vendor_id: int) -> None:
    """Remove a vendor row."""
    cur.execute("DELETE FROM vendors WHERE id = ?", [vendor_id])


# -- names and aliases ----------------------------------------------------------------------------
def name_rows(con: Cursor) -> list[tuple]:
    """(vendor_id, name or name alias, compact key) of every vendor, canonical names first."""
    return con.execute(
        "SELECT id, name, compact FROM vendors UNION ALL "
        "SELECT vendor_id, alias, key FROM vendor_aliases WHERE kind = 'name'"
    ).fetchall()


def named(con: Cursor, key: str) -> list[int]:
    """Vendors whose canonical name or a name alias has this compact key."""
    return [
        int(r[0])
        for r in con.execute(
            "SELECT id FROM vendors WHERE compact = ? UNION SELECT vendor_id FROM vendor_aliases"
            " WHERE kind = 'name' AND key = ? ORDER BY 1",
            [key, key],
        ).fetchall()
    ]


def keys_of_kind(con: Cursor, kind: str) -> list[tuple]:
    """(vendor_id, key) of every alias of one kind."""
    return con.execute("SELECT vendor_id, key FROM vendor_aliases WHERE kind = ?", [kind]).fetchall()


def vendor_keys(con: Cursor, vendor_id: int, kind: str) -> set[str]:
    """The keys of one vendor's aliases of one kind."""
    return {
        k
        for (k,) in con.execute(
            "SELECT key FROM vendor_aliases WHERE vendor_id = ? AND kind = ?", [vendor_id, kind]
        ).fetchall()
    }


def vendors_with_key(con: Cursor, kind: str, key: str) -> set[int]:
    """The vendors holding an identifier of this kind and key."""
    return {
        int(r[0])
        for r in con.execute(
            "SELECT DISTINCT vendor_id FROM vendor_aliases WHERE kind = ? AND key = ?", [kind, key]
        ).fetchall()
    }


def vendors_with_code(con: Cursor, code: str) -> list[tuple]:
    """(vendor_id, alias) of the vendors whose tax id or IBAN has this key."""
    return con.execute(
        "SELECT vendor_id, alias FROM vendor_aliases WHERE kind IN ('tax_id', 'iban') AND key = ?", [code]
    ).fetchall()


def other_holders(cur: Cursor, kind: str, key: str, vendor_id: int) -> list[tuple]:
    """(vendor_id, name) of the other vendors holding an identifier, by id."""
    return cur.execute(
        "SELECT DISTINCT a.vendor_id, v.name FROM vendor_aliases a JOIN vendors v ON v.id = a.vendor_id"
        " WHERE a.kind = ? AND a.key = ? AND a.vendor_id <> ? ORDER BY a.vendor_id",
        [kind, key, vendor_id],
    ).fetchall()


def add_alias(cur: Cursor, vendor_id: int, kind: str, alias: str, key: str) -> None:
    """Record a name or identifier of a vendor (once)."""
    cur.execute(
        "INSERT INTO vendor_aliases (vendor_id, kind, alias, key) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [vendor_id, kind, alias, key],
    )


def copy_aliases(cur: Cursor, source: int, target: int) -> None:
    """Give `target` every alias of `source`."""
    cur.execute(
        "INSERT INTO vendor_aliases (vendor_id, kind, alias, key)"
        " SELECT ?, kind, alias, key FROM vendor_aliases WHERE vendor_id = ? ON CONFLICT DO NOTHING",
        [target, source],
    )


def delete_aliases(cur: Cursor, vendor_id: int) -> None:
    """Remove every alias of a vendor."""
    cur.execute("DELETE FROM vendor_aliases WHERE vendor_id = ?", [vendor_id])


def delete_name_alias(cur: Cursor, vendor_id: int, key: str) -> None:
    """Remove a vendor's name aliases with this compact key."""
    cur.execute("DELETE FROM vendor_aliases WHERE vendor_id = ? AND kind = 'name' AND key = ?", [vendor_id, key])


def name_aliases(con: Cursor, vendor_id: int) -> list[str]:
    """A vendor's name aliases, oldest first (its canonical name included)."""
    return [
        a
        for (a,) in con.execute(
            "SELECT alias FROM vendor_aliases WHERE vendor_id = ? AND kind = 'name' ORDER BY created_at, alias",
            [vendor_id],
        ).fetchall()
    ]


def identifier_aliases(con: Cursor, vendor_id: int) -> list[tuple]:
    """(kind, alias) of a vendor's identifiers (every kind but names), by kind, oldest first."""
    return con.execute(
        "SELECT kind, alias FROM vendor_aliases WHERE vendor_id = ? AND kind <> 'name' ORDER BY kind, created_at",
        [vendor_id],
    ).fetchall()


def all_aliases(con: Cursor, vendor_id: int) -> list[tuple]:
    """(kind, alias) of every alias of a vendor, oldest first."""
    return con.execute(
        "SELECT kind, alias FROM vendor_aliases WHERE vendor_id = ? ORDER BY created_at, alias", [vendor_id]
    ).fetchall()


# -- conflicts ------------------------------------------------------------------------------------
def record_conflict(cur: Cursor, kind: str, key: str, a: int, b: int, invoice_id: int | None) -> None:
    """Flag an identifier two vendors hold (once per pair, the lower id first)."""
    cur.execute(
        "INSERT INTO vendor_conflicts (kind, key, vendor_id, other_vendor_id, invoice_id)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [kind, key, min(a, b), max(a, b), invoice_id],
    )


def claim_new_conflicts(cur: Cursor, invoice_id: int) -> None:
    """Name the invoice that raised the conflicts recorded without one."""
    cur.execute("UPDATE vendor_conflicts SET invoice_id = ? WHERE invoice_id IS NULL", [invoice_id])


def conflicts_of(con: Cursor, vendor_id: int) -> list[tuple]:
    """(kind, key, other vendor id, other vendor name, invoice id) of a vendor's conflicts, oldest first."""
    return con.execute(
        "SELECT c.kind, c.key, CASE WHEN c.vendor_id = ? THEN c.other_vendor_id ELSE c.vendor_id END AS other,"
        " v.name, c.invoice_id FROM vendor_conflicts c LEFT JOIN vendors v ON v.id ="
        " (CASE WHEN c.vendor_id = ? THEN c.other_vendor_id ELSE c.vendor_id END)"
        " WHERE ? IN (c.vendor_id, c.other_vendor_id) ORDER BY c.created_at",
        [vendor_id, vendor_id, vendor_id],
    ).fetchall()


def raw_conflicts_of(cur: Cursor, vendor_id: int) -> list[tuple]:
    """(kind, key, vendor_id, other_vendor_id, invoice_id) of the conflicts a vendor is part of."""
    return cur.execute(
        "SELECT kind, key, vendor_id, other_vendor_id, invoice_id FROM vendor_conflicts"
        " WHERE ? IN (vendor_id, other_vendor_id)",
        [vendor_id],
    ).fetchall()


def delete_conflicts_between(cur: Cursor, a: int, b: int) -> None:
    """Remove the conflicts between two vendors."""
    cur.execute(
        "DELETE FROM vendor_conflicts WHERE (vendor_id = ? AND other_vendor_id = ?)"
        " OR (vendor_id = ? AND other_vendor_id = ?)",
        [min(a, b), max(a, b), min(a, b), max(a, b)],
    )


def delete_conflicts_of(cur: Cursor, vendor_id: int) -> None:
    """Remove every conflict a vendor is part of."""
    cur.execute("DELETE FROM vendor_conflicts WHERE ? IN (vendor_id, other_vendor_id)", [vendor_id])


# -- the vendor audit log -------------------------------------------------------------------------
def log_event(
    cur: Cursor,
    action: str,
    who: str,
    vendor_id: int | None,
    other_vendor_id: int | None,
    invoice_id: int | None,
    detail: str,
) -> None:
    """One vendor audit-log entry (`detail`: JSON text)."""
    cur.execute(
        "INSERT INTO vendor_events (action, vendor_id, other_vendor_id, invoice_id, detail, who)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [action, vendor_id, other_vendor_id, invoice_id, detail, who],
    )


def events(con: Cursor, vendor_id: int | None = None) -> list[tuple]:
    """(action, vendor_id, other_vendor_id, invoice_id, detail, who, changed_at), oldest first."""
    sql = "SELECT action, vendor_id, other_vendor_id, invoice_id, detail, who, changed_at FROM vendor_events"
    params: list[Any] = []
    if vendor_id is not None:
        sql += " WHERE ? IN (vendor_id, other_vendor_id)"
        params.append(vendor_id)
    return con.execute(sql + " ORDER BY id", params).fetchall()


# -- a vendor's invoices --------------------------------------------------------------------------
def invoice_counts(con: Cursor, vendor_ids: list[int]) -> dict[int, int]:
    """Invoices per vendor, for these vendors (those with none left out)."""
    return dict(
        con.execute(
            "SELECT vendor_id, count(*) FROM invoices WHERE vendor_id IN (SELECT unnest(?::BIGINT[]))"
            " GROUP BY vendor_id",
            [vendor_ids],
        ).fetchall()
    )


def invoice_figures(con: Cursor, vendor_id: int, exclude: int) -> list[tuple]:
    """(total, currency, invoice_date, payment_terms, vendor_iban) of a vendor's invoices but one, by date."""
    return con.execute(
        "SELECT total, currency, invoice_date, payment_terms, vendor_iban FROM invoices"
        " WHERE vendor_id = ? AND id <> ? ORDER BY invoice_date NULLS LAST, id",
        [vendor_id, exclude],
    ).fetchall()


def invoice_history(con: Cursor, vendor_id: int, exclude: int) -> list[tuple]:
    """(total, currency, vendor_iban) of a vendor's invoices but one."""
    return con.execute(
        "SELECT total, currency, vendor_iban FROM invoices WHERE vendor_id = ? AND id <> ?", [vendor_id, exclude]
    ).fetchall()


def invoice_ids(cur: Cursor, vendor_id: int) -> list[int]:
    """The ids of a vendor's invoices."""
    return [int(r[0]) for r in cur.execute("SELECT id FROM invoices WHERE vendor_id = ?", [vendor_id]).fetchall()]


def invoice_results(cur: Cursor, vendor_id: int) -> list[tuple]:
    """(id, stored result JSON) of a vendor's invoices."""
    return cur.execute("SELECT id, result FROM invoices WHERE vendor_id = ?", [vendor_id]).fetchall()


def other_invoice_count(cur: Cursor, vendor_id: int, invoice_id: int) -> int:
    """How many invoices a vendor has besides this one."""
    return int(
        one_row(cur.execute("SELECT count(*) FROM invoices WHERE vendor_id = ? AND id <> ?", [vendor_id, invoice_id]))[
            0
        ]
    )


def other_invoice_names(cur: Cursor, vendor_id: int, invoice_id: int) -> list[str]:
    """The vendor names read on a vendor's other invoices."""
    return [
        n
        for (n,) in cur.execute(
            "SELECT vendor_name FROM invoices WHERE vendor_id = ? AND id <> ?", [vendor_id, invoice_id]
        ).fetchall()
    ]


def move_invoices(cur: Cursor, source: int, target: int) -> None:
    """Give every invoice of `source` to `target`."""
    cur.execute("UPDATE invoices SET vendor_id = ? WHERE vendor_id = ?", [target, source])


def set_invoice_vendor(cur: Cursor, invoice_id: int, vendor_id: int | None) -> None:
    """Give one invoice to a vendor."""
    cur.execute("UPDATE invoices SET vendor_id = ? WHERE id = ?", [vendor_id, invoice_id])


def reviewed_results(con: Cursor, vendor_id: int, exclude: int) -> list[str]:
    """The stored result JSON of a vendor's approved and corrected invoices but one, oldest first."""
    return [
        r[0]
        for r in con.execute(
            "SELECT result FROM invoices WHERE vendor_id = ? AND status IN ('approved', 'corrected') AND id <> ?"
            " ORDER BY id",
            [vendor_id, exclude],
        ).fetchall()
    ]


def hint_versions(con: Cursor, vendor_id: int | None = None) -> dict[int, tuple]:
    """Per vendor with reviewed invoices (or just this one): what its hints are learned from, in a few numbers.

    (reviewed invoices, newest of them, newest audit entry on them, aliases, name): any change to the
    reviewed invoices (a correction, an approval, a re-read) or to the vendor's record changes it.
    """
    where = "" if vendor_id is None else " AND i.vendor_id = ?"
    rows = con.execute(
        "SELECT i.vendor_id, count(DISTINCT i.id), max(i.id), max(c.id), any_value(v.name),"
        " (SELECT count(*) FROM vendor_aliases a WHERE a.vendor_id = i.vendor_id)"
        " FROM invoices i JOIN vendors v ON v.id = i.vendor_id LEFT JOIN corrections c ON c.invoice_id = i.id"
        " WHERE i.status IN ('approved', 'corrected')" + where + " GROUP BY i.vendor_id",
        [] if vendor_id is None else [vendor_id],
    ).fetchall()
    return {int(r[0]): tuple(r[1:]) for r in rows}


def all_alias_keys(con: Cursor, vendor_ids: list[int]) -> list[tuple]:
    """(vendor_id, kind, key, alias) of every alias of these vendors."""
    if not vendor_ids:
        return []
    return con.execute(
        "SELECT vendor_id, kind, key, alias FROM vendor_aliases WHERE list_contains(?, vendor_id) ORDER BY vendor_id",
        [vendor_ids],
    ).fetchall()
