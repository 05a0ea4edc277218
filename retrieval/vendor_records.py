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
from retrieval.repository import invoices as invoice_sql
from retrieval.repository import vendors as sql
from retrieval.repository.database import dumps
from retrieval.textindex import search_text
from retrieval.vendors import compact_name, normalize_name
from utils.errors import Conflict, InvalidRequest, NotFound

if TYPE_CHECKING:
    import duckdb

    from extraction.schema import Party
    from retrieval.repository.database import Store
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
    sql.log_event(cur, action, who, vendor_id, other_vendor_id, invoice_id, dumps(detail))


def _vendor_name(cur: duckdb.DuckDBPyConnection, vendor_id: int) -> str:
    name = sql.vendor_name(cur, vendor_id)
    if name is None:
        raise NotFound(f"vendor {vendor_id} not found")
    return name


def _named(cur: duckdb.DuckDBPyConnection, name: str) -> list[int]:
    """Vendors whose canonical name or a name alias is this name (same compact key)."""
    return sql.named(cur, compact_name(name))


def refresh_search_text(store: Store, cur: duckdb.DuckDBPyConnection, vendor_id: int) -> None:
    """Re-index the keyword text of a vendor's invoices (it carries the canonical name)."""
    name = _vendor_name(cur, vendor_id)
    for invoice_id, raw in sql.invoice_results(cur, vendor_id):
        text = search_text(ExtractionResult.model_validate_json(raw), [name])
        invoice_sql.set_search_text(cur, invoice_id, text)
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
        con = self.store.cursor()
        total = sql.vendor_count(con)
        rows = sql.vendor_page(con, limit, offset)
        items = [
            VendorSummary(id=int(i), name=n, invoice_count=int(c), conflicts=int(k), aliases=list(a or []))
            for i, n, c, k, a in rows
        ]
        return VendorPage(items=items, total=total, limit=limit, offset=offset)

    def events(self, vendor_id: int | None = None) -> builtins.list[VendorEvent]:
        """The vendor audit log, oldest first (one vendor's entries when given)."""
        return [
            VendorEvent(
                action=a, vendor_id=v, other_vendor_id=o, invoice_id=i, detail=json.loads(d) if d else {}, who=w, at=t
            )
            for a, v, o, i, d, w, t in sql.events(self.store.cursor(), vendor_id)
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
        sql.rename_vendor(cur, vendor_id, name, normalize_name(name), compact_name(name))
        for alias in (old, name):
            sql.add_alias(cur, vendor_id, "name", alias, compact_name(alias))
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
            keys = {vid: sql.vendor_keys(cur, vid, kind) for vid in (source, target)}
            if keys[source] and keys[target] and not keys[source] & keys[target]:
                raise Conflict(
                    f"{source_name} and {target_name} have different {kind.replace('_', ' ')}s"
                    f" ({', '.join(sorted(keys[source]))} vs {', '.join(sorted(keys[target]))}): not merged"
                )
        moved = sql.invoice_ids(cur, source)
        sql.move_invoices(cur, source, target)
        sql.copy_aliases(cur, source, target)
        sql.add_alias(cur, target, "name", source_name, compact_name(source_name))
        sql.delete_aliases(cur, source)
        # Conflicts between the two are settled by a person merging them; others now concern the target.
        sql.delete_conflicts_between(cur, source, target)
        for kind, key, a, b, inv in sql.raw_conflicts_of(cur, source):
            other = b if a == source else a
            sql.record_conflict(cur, kind, key, other, target, inv)
        sql.delete_conflicts_of(cur, source)
        sql.inherit_tax_id(cur, source, target)
        sql.delete_vendor(cur, source)
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
        alone = vendor_id is not None and not sql.other_invoice_count(cur, vendor_id, invoice_id)
        if target is None and vendor_id is not None and alone:
            self.rename_in(cur, vendor_id, name, who, invoice_id=invoice_id, because="vendor name corrected")
            target = vendor_id
        elif target is None:
            target = sql.insert_vendor(cur, name, normalize_name(name), compact_name(name))
            log_event(cur, "create", who, target, vendor_id, invoice_id, name=name, because="vendor name corrected")
        elif target == vendor_id and _vendor_name(cur, target) != name:
            # The person's spelling becomes the canonical one, unless another vendor goes by it too.
            with suppress(Conflict):
                self.rename_in(cur, target, name, who, invoice_id=invoice_id, because="vendor name corrected")
        if target != vendor_id:
            sql.set_invoice_vendor(cur, invoice_id, target)
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
                still = [n for n in sql.other_invoice_names(cur, vendor_id, invoice_id) if compact_name(n) == key]
                if not still and compact_name(_vendor_name(cur, vendor_id)) != key:
                    sql.delete_name_alias(cur, vendor_id, key)
        if read_name and compact_name(read_name):
            sql.add_alias(cur, target, "name", read_name.strip(), compact_name(read_name))
        conflicts = self.resolver.add_aliases(cur, target, party, identifiers, invoice_id)
        self._changed()
        return target, conflicts
