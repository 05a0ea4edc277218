"""Vendor records a person keeps right: list, rename, merge, and follow a corrected vendor name.

Every change is written to the vendor audit log (`vendor_events`) in the same transaction.
"""

from __future__ import annotations

import builtins  # `list` is also a method of VendorRecords
import json
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from extraction.schema import ExtractionResult
from retrieval.models import VendorEvent, VendorPage, VendorSummary
from retrieval.store import dumps
from retrieval.textindex import search_text
from retrieval.vendors import compact_name, normalize_name
from utils.errors import Conflict, InvalidRequest, NotFound

if TYPE_CHECKING:
    import duckdb

    from extraction.schema import Party
    from retrieval.store import Store
    from retrieval.vendors import VendorResolver


def log_event(
    cur: duckdb.DuckDBPyConnection,
    action: str,
    who: str,
    vendor_id: int | None,
    other_vendor_id: int | None = None,
    invoice_id: int | None = None,
    **detail: Any,
) -> None:
    """One vendor audit-log entry."""
    cur.execute(
        "INSERT INTO vendor_events (action, vendor_id, other_vendor_id, invoice_id, detail, who)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [action, vendor_id, other_vendor_id, invoice_id, dumps(detail), who],
    )


def _vendor_name(cur: duckdb.DuckDBPyConnection, vendor_id: int) -> str:
    row = cur.execute("SELECT name FROM vendors WHERE id = ?", [vendor_id]).fetchone()
    if not row:
        raise NotFound(f"vendor {vendor_id} not found")
    return row[0]


def _named(cur: duckdb.DuckDBPyConnection, name: str) -> list[int]:
    """Vendors whose canonical name or a name alias is this name (same compact key)."""
    key = compact_name(name)
    return [
        int(r[0])
        for r in cur.execute(
            "SELECT id FROM vendors WHERE compact = ? UNION SELECT vendor_id FROM vendor_aliases"
            " WHERE kind = 'name' AND key = ? ORDER BY 1",
            [key, key],
        ).fetchall()
    ]


def refresh_search_text(store: Store, cur: duckdb.DuckDBPyConnection, vendor_id: int) -> None:
    """Re-index the keyword text of a vendor's invoices (it carries the canonical name)."""
    name = _vendor_name(cur, vendor_id)
    for invoice_id, raw in cur.execute("SELECT id, result FROM invoices WHERE vendor_id = ?", [vendor_id]).fetchall():
        text = search_text(ExtractionResult.model_validate_json(raw), [name])
        cur.execute("UPDATE invoices SET search_text = ? WHERE id = ?", [text, invoice_id])
        store.index_text(cur, int(invoice_id), text)


class VendorRecords:
    """Listing, renaming and merging vendors, and moving invoices when their vendor is corrected."""

    def __init__(self, store: Store, resolver: VendorResolver) -> None:
        self.store = store
        self.resolver = resolver

    def _changed(self) -> None:
        self.resolver.forget()

    def list(self, limit: int = 100, offset: int = 0) -> VendorPage:
        """A page of vendors by name, with their name aliases, invoice counts and conflicts."""
        total = int(self.store.scalar("SELECT count(*) FROM vendors") or 0)
        rows = self.store.fetch(
            "SELECT v.id, v.name,"
            " (SELECT count(*) FROM invoices i WHERE i.vendor_id = v.id),"
            " (SELECT count(*) FROM vendor_conflicts c WHERE v.id IN (c.vendor_id, c.other_vendor_id)),"
            " (SELECT list(a.alias ORDER BY a.created_at, a.alias) FROM vendor_aliases a"
            "   WHERE a.vendor_id = v.id AND a.kind = 'name' AND a.alias <> v.name)"
            " FROM vendors v ORDER BY lower(v.name), v.id LIMIT ? OFFSET ?",
            [limit, offset],
        )
        items = [
            VendorSummary(id=int(i), name=n, invoice_count=int(c), conflicts=int(k), aliases=list(a or []))
            for i, n, c, k, a in rows
        ]
        return VendorPage(items=items, total=total, limit=limit, offset=offset)

    def events(self, vendor_id: int | None = None) -> builtins.list[VendorEvent]:
        """The vendor audit log, oldest first (one vendor's entries when given)."""
        sql = "SELECT action, vendor_id, other_vendor_id, invoice_id, detail, who, changed_at FROM vendor_events"
        params: list[Any] = []
        if vendor_id is not None:
            sql += " WHERE ? IN (vendor_id, other_vendor_id)"
            params.append(vendor_id)
        return [
            VendorEvent(
                action=a, vendor_id=v, other_vendor_id=o, invoice_id=i, detail=json.loads(d) if d else {}, who=w, at=t
            )
            for a, v, o, i, d, w, t in self.store.fetch(sql + " ORDER BY id", params)
        ]

    # -- rename ---------------------------------------------------------------------------------
    def rename(self, vendor_id: int, name: str, who: str) -> None:
        """Give a vendor a new canonical name; the old one stays an alias. Conflict when another vendor has it."""
        with self.store.transaction() as cur:
            self.rename_in(cur, vendor_id, name, who)
        self._changed()

    def rename_in(self, cur: duckdb.DuckDBPyConnection, vendor_id: int, name: str, who: str, **detail: Any) -> None:
        """rename() inside the caller's transaction."""
        name = (name or "").strip()
        if not compact_name(name):
            raise InvalidRequest("a vendor name needs at least one letter or digit")
        old = _vendor_name(cur, vendor_id)
        others = [v for v in _named(cur, name) if v != vendor_id]
        if others:
            raise Conflict(
                f"vendor {others[0]} ({_vendor_name(cur, others[0])}) already has the name {name!r};"
                f" merge vendor {vendor_id} into it instead"
            )
        cur.execute(
            "UPDATE vendors SET name = ?, normalized = ?, compact = ? WHERE id = ?",
            [name, normalize_name(name), compact_name(name), vendor_id],
        )
        for alias in (old, name):
            cur.execute(
                "INSERT INTO vendor_aliases (vendor_id, kind, alias, key) VALUES (?, 'name', ?, ?)"
                " ON CONFLICT DO NOTHING",
                [vendor_id, alias, compact_name(alias)],
            )
        log_event(cur, "rename", who, vendor_id, old=old, new=name, **detail)
        refresh_search_text(self.store, cur, vendor_id)

    # -- merge ----------------------------------------------------------------------------------
    def merge(self, source: int, target: int, who: str) -> None:
        """Move every invoice, name and identifier of `source` to `target` and remove `source`.

        Refused (Conflict) when the two have different tax ids or registrations: those are two vendors.
        """
        with self.store.transaction() as cur:
            self.merge_in(cur, source, target, who)
        self._changed()

    def merge_in(
        self, cur: duckdb.DuckDBPyConnection, source: int, target: int, who: str, force: bool = False, **detail: Any
    ) -> None:
        """merge() inside the caller's transaction (`force`: even with different tax ids)."""
        if source == target:
            raise InvalidRequest("a vendor cannot be merged into itself")
        source_name, target_name = _vendor_name(cur, source), _vendor_name(cur, target)
        for kind in () if force else ("tax_id", "registration"):
            keys = {
                vid: {k for (k,) in cur.execute(
                    "SELECT key FROM vendor_aliases WHERE vendor_id = ? AND kind = ?", [vid, kind]
                ).fetchall()}
                for vid in (source, target)
            }  # fmt: skip
            if keys[source] and keys[target] and not keys[source] & keys[target]:
                raise Conflict(
                    f"{source_name} and {target_name} have different {kind.replace('_', ' ')}s"
                    f" ({', '.join(sorted(keys[source]))} vs {', '.join(sorted(keys[target]))}): not merged"
                )
        moved = [int(r[0]) for r in cur.execute("SELECT id FROM invoices WHERE vendor_id = ?", [source]).fetchall()]
        cur.execute("UPDATE invoices SET vendor_id = ? WHERE vendor_id = ?", [target, source])
        cur.execute(
            "INSERT INTO vendor_aliases (vendor_id, kind, alias, key)"
            " SELECT ?, kind, alias, key FROM vendor_aliases WHERE vendor_id = ? ON CONFLICT DO NOTHING",
            [target, source],
        )
        cur.execute(
            "INSERT INTO vendor_aliases (vendor_id, kind, alias, key) VALUES (?, 'name', ?, ?) ON CONFLICT DO NOTHING",
            [target, source_name, compact_name(source_name)],
        )
        cur.execute("DELETE FROM vendor_aliases WHERE vendor_id = ?", [source])
        # Conflicts between the two are settled by a person merging them; others now concern the target.
        cur.execute(
            "DELETE FROM vendor_conflicts WHERE (vendor_id = ? AND other_vendor_id = ?)"
            " OR (vendor_id = ? AND other_vendor_id = ?)",
            [min(source, target), max(source, target), min(source, target), max(source, target)],
        )
        for kind, key, a, b, inv in cur.execute(
            "SELECT kind, key, vendor_id, other_vendor_id, invoice_id FROM vendor_conflicts"
            " WHERE ? IN (vendor_id, other_vendor_id)",
            [source],
        ).fetchall():
            other = b if a == source else a
            cur.execute(
                "INSERT INTO vendor_conflicts (kind, key, vendor_id, other_vendor_id, invoice_id)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [kind, key, min(other, target), max(other, target), inv],
            )
        cur.execute("DELETE FROM vendor_conflicts WHERE ? IN (vendor_id, other_vendor_id)", [source])
        cur.execute(
            "UPDATE vendors SET tax_id = (SELECT tax_id FROM vendors WHERE id = ?) WHERE id = ? AND tax_id IS NULL",
            [source, target],
        )
        cur.execute("DELETE FROM vendors WHERE id = ?", [source])
        log_event(
            cur, "merge", who, target, source, source_name=source_name, target_name=target_name, invoices=moved,
            **detail,
        )  # fmt: skip
        refresh_search_text(self.store, cur, target)

    # -- corrections ----------------------------------------------------------------------------
    def follow_correction(
        self,
        cur: duckdb.DuckDBPyConnection,
        invoice_id: int,
        vendor_id: int | None,
        read_name: str | None,
        party: Party,
        identifiers: dict[str, str],
        who: str,
    ) -> tuple[int | None, builtins.list[dict[str, Any]]]:
        """Inside a correction's transaction: the vendor the invoice belongs to after its vendor name was corrected.

        The invoice moves to the vendor with the corrected name (created when none has it); the misread
        name becomes that vendor's alias, so the same misreading resolves to it next time. A vendor that
        only existed because of the misreading is renamed (or merged into the existing one).
        """
        name = (party.name or "").strip()
        if not compact_name(name):
            vid, _how, conflicts = self.resolver.resolve_with_conflicts(party, cur, identifiers, invoice_id)
            return vid, conflicts
        named = _named(cur, name)
        target = vendor_id if vendor_id in named else (named[0] if named else None)
        alone = (
            vendor_id is not None
            and not cur.execute(
                "SELECT count(*) FROM invoices WHERE vendor_id = ? AND id <> ?", [vendor_id, invoice_id]
            ).fetchone()[0]
        )
        if target is None and vendor_id is not None and alone:
            self.rename_in(cur, vendor_id, name, who, invoice_id=invoice_id, because="vendor name corrected")
            target = vendor_id
        elif target is None:
            target = int(
                cur.execute(
                    "INSERT INTO vendors (name, normalized, compact) VALUES (?, ?, ?) RETURNING id",
                    [name, normalize_name(name), compact_name(name)],
                ).fetchone()[0]
            )
            log_event(cur, "create", who, target, vendor_id, invoice_id, name=name, because="vendor name corrected")
        elif target == vendor_id and _vendor_name(cur, target) != name:
            # The person's spelling becomes the canonical one, unless another vendor goes by it too.
            with suppress(Conflict):
                self.rename_in(cur, target, name, who, invoice_id=invoice_id, because="vendor name corrected")
        if target != vendor_id:
            cur.execute("UPDATE invoices SET vendor_id = ? WHERE id = ?", [target, invoice_id])
            log_event(cur, "move invoice", who, target, vendor_id, invoice_id, read=read_name, corrected=name)
            if vendor_id is not None and alone:
                # The old vendor only existed because of this misreading: a person said whose invoice it is,
                # so its identifiers go to that vendor even where they differ from the ones it had.
                self.merge_in(
                    cur, vendor_id, target, who, force=True, invoice_id=invoice_id, because="vendor name corrected"
                )
            elif vendor_id is not None and read_name:
                # The misreading now means the corrected vendor, unless other invoices of the old one carry it.
                key = compact_name(read_name)
                still = [
                    n
                    for (n,) in cur.execute(
                        "SELECT vendor_name FROM invoices WHERE vendor_id = ? AND id <> ?", [vendor_id, invoice_id]
                    ).fetchall()
                    if compact_name(n) == key
                ]
                if not still and compact_name(_vendor_name(cur, vendor_id)) != key:
                    cur.execute(
                        "DELETE FROM vendor_aliases WHERE vendor_id = ? AND kind = 'name' AND key = ?", [vendor_id, key]
                    )
        if read_name and compact_name(read_name):
            cur.execute(
                "INSERT INTO vendor_aliases (vendor_id, kind, alias, key) VALUES (?, 'name', ?, ?)"
                " ON CONFLICT DO NOTHING",
                [target, read_name.strip(), compact_name(read_name)],
            )
        conflicts = self.resolver.add_aliases(cur, target, party, identifiers, invoice_id)
        self._changed()
        return target, conflicts
