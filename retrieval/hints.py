"""Per-vendor reading hints learned from the history's approved and corrected invoices.

`learn_hints` reads what a vendor's reviewed invoices show (date order, currency, invoice-number label
and shape, total label, tax rates); `HistoryHints` is the lookup extraction calls to find the hints of
the vendor a document comes from, by its identifiers first and by its parsed vendor otherwise.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, Required, TypedDict

from extraction.hints import VendorHints
from extraction.identifiers import KIND_CONFIDENCE, identifier_key, text_identifiers, vendor_identifiers
from extraction.parser.candidates.numbers import shape
from extraction.schema import ExtractionResult
from retrieval.repository import invoices as invoice_sql
from retrieval.repository import vendors as sql
from retrieval.vendors import MATCH_CONFIDENCE, glyph_key

if TYPE_CHECKING:
    import datetime as dt

    from extraction.markdown import PageMarkdown
    from extraction.schema import Invoice
    from retrieval.repository.database import Store
    from retrieval.vendors import VendorResolver

MIN_DOCUMENTS = 1  # reviewed invoices a vendor needs before its habits are passed on
_NUMERIC_DATE = re.compile(r"(?<!\d)(\d{1,4})[./\-](\d{1,2})[./\-](\d{2,4})(?!\d)")
_LABEL_CUT = re.compile(r"[:#|]+\s*$")


class VendorRecord(TypedDict, total=False):
    """A vendor as learn_hints takes it: its name, and its id, name aliases and identifiers when known."""

    id: int
    name: Required[str]
    aliases: list[str]
    identifiers: dict[str, str]


def _date_orders(text: str, dates: list[dt.date | None]) -> Counter[str]:
    """How the numeric dates in a text that equal one of `dates` are written: DMY, MDY or YMD."""
    votes: Counter[str] = Counter()
    wanted = {(d.year, d.month, d.day) for d in dates if d is not None}
    for m in _NUMERIC_DATE.finditer(text):
        a, b, c = m.groups()
        if len(a) == 4:
            if (int(a), int(b), int(c)) in wanted:
                votes["YMD"] += 1
            continue
        year = int(c) + (2000 if len(c) == 2 else 0)
        dmy, mdy = (year, int(b), int(a)), (year, int(a), int(b))
        if dmy == mdy:
            continue  # day and month alike: says nothing
        if dmy in wanted:
            votes["DMY"] += 1
        elif mdy in wanted:
            votes["MDY"] += 1
    return votes


def _label_before(text: str, value: str) -> str | None:
    """The short label written before `value` on its line (or alone on the line above)."""
    lines = text.splitlines()
    for n, line in enumerate(lines):
        at = line.find(value)
        if at < 0:
            continue
        before = _LABEL_CUT.sub("", line[:at].replace("|", " ")).strip(" :#.-")
        if not before and n > 0:
            before = _LABEL_CUT.sub("", lines[n - 1].replace("|", " ")).strip(" :#.-")
        words = before.split()
        if 1 <= len(words) <= 4 and any(ch.isalpha() for ch in before):
            return " ".join(words[-4:]).lower()
    return None


def _amount_texts(amount: Decimal) -> list[str]:
    """Ways a total may be printed: 1,234.56 / 1.234,56 / 1234.56 / 1234,56."""
    plain = f"{amount:.2f}"
    grouped = f"{amount:,.2f}"
    return list(dict.fromkeys([grouped, grouped.translate(str.maketrans(",.", ".,")), plain, plain.replace(".", ",")]))


def _common(values: list[str], share: float = 0.5) -> str | None:
    """The most common value when it holds at least `share` of them, else None."""
    if not values:
        return None
    value, n = Counter(values).most_common(1)[0]
    return value if n / len(values) >= share else None


def learn_hints(vendor: VendorRecord, invoices: list[ExtractionResult]) -> VendorHints:
    """A vendor's reading habits from its reviewed invoices (`vendor`: id, name, aliases, identifiers)."""
    orders: Counter[str] = Counter()
    currencies, shapes, number_labels, total_labels = [], [], [], []
    rates: Counter[float] = Counter()
    for result in invoices:
        inv, text = result.invoice, result.markdown
        orders += _date_orders(text, [inv.invoice_date, inv.due_date])
        if inv.currency:
            currencies.append(inv.currency)
        if inv.invoice_number:
            shapes.append(shape(inv.invoice_number))
            label = _label_before(text, inv.invoice_number)
            if label:
                number_labels.append(label)
        if inv.total is not None:
            label = next(
                (lb for t in _amount_texts(Decimal(inv.total)) if (lb := _label_before(text, t)) is not None), None
            )
            if label:
                total_labels.append(label)
        for rate in {float(t.rate) for t in inv.tax_lines if t.rate is not None}:
            rates[rate] += 1
    order = orders.most_common(1)[0][0] if orders and orders.most_common(1)[0][1] > sum(orders.values()) / 2 else None
    return VendorHints(
        name=vendor["name"],
        aliases=tuple(vendor.get("aliases", ())),
        vendor_id=vendor.get("id"),
        documents=len(invoices),
        date_order=order,
        currency=_common(currencies),
        number_labels=tuple(lb for lb, _ in Counter(number_labels).most_common(3)),
        number_pattern=_common(shapes),
        total_labels=tuple(lb for lb, _ in Counter(total_labels).most_common(3)),
        tax_rates=tuple(sorted(r for r, n in rates.items() if n * 2 >= len(invoices) or n >= 2)),
        identifiers=dict(vendor.get("identifiers", {})),
    )


def reviewed_invoices(store: Store, vendor_id: int, exclude: int | None = None) -> list[ExtractionResult]:
    """A vendor's approved and corrected invoices, oldest first (their stored, corrected results)."""
    rows = sql.reviewed_results(store.cursor(), vendor_id, -1 if exclude is None else exclude)
    return [ExtractionResult.model_validate_json(raw) for raw in rows]


def vendor_record(store: Store, vendor_id: int) -> VendorRecord | None:
    """A vendor's id, name, name aliases and identifiers, as learn_hints takes them."""
    con = store.cursor()
    name = sql.vendor_name(con, vendor_id)
    if name is None:
        return None
    aliases: list[str] = []
    identifiers: dict[str, str] = {}
    for kind, alias in sql.all_aliases(con, vendor_id):
        if kind == "name":
            if alias != name:
                aliases.append(alias)
        else:
            identifiers.setdefault(kind, alias)
    return {"id": int(vendor_id), "name": name, "aliases": aliases, "identifiers": identifiers}


class HistoryHints:
    """The HintsLookup the history gives extraction: a recognised vendor's learned hints, or None."""

    def __init__(self, store: Store, resolver: VendorResolver) -> None:
        self.store = store
        self.resolver = resolver
        self._cache: dict[int, tuple[tuple, VendorHints | None]] = {}
        self._snapshot: tuple[int, HintsSnapshot] | None = None
        self._lock = threading.Lock()

    def for_vendor(self, vendor_id: int, version: tuple | None = None) -> VendorHints | None:
        """The learned hints of one vendor (None below MIN_DOCUMENTS reviewed invoices).

        Cached until what they are learned from changes (`version`, see hint_versions), so a write that
        touches one vendor costs the others nothing.
        """
        if version is None:
            version = sql.hint_versions(self.store.cursor(), vendor_id).get(vendor_id, ())
        with self._lock:
            cached = self._cache.get(vendor_id)
            if cached is not None and cached[0] == version:
                return cached[1]
        record = vendor_record(self.store, vendor_id)
        invoices = reviewed_invoices(self.store, vendor_id) if record else []
        hints = learn_hints(record, invoices) if record and len(invoices) >= MIN_DOCUMENTS else None
        with self._lock:
            self._cache[vendor_id] = (version, hints)
        return hints

    def recognise(self, pages: list[PageMarkdown], invoice: Invoice | None) -> tuple[int | None, str]:
        """The known vendor of a document and how: identifiers on the pages, then the parsed vendor."""
        text = "\n".join(p.to_markdown() for p in pages)
        if invoice is None:
            printed = text_identifiers(text)
            # Only identifiers that point to one vendor together (a customer's tax id is printed too).
            found = {
                self.resolver.by_identifier({kind: value})
                for kind, values in printed.items()
                if kind in ("iban", "tax_id", "registration", "website")
                for value in values
            }
            found = {f for f in found if f[0] is not None}
            if len({vid for vid, _ in found}) == 1:
                return found.pop()
            return None, ""
        vid, how = self.resolver.match(invoice.vendor, identifiers=vendor_identifiers(invoice, text))
        return (vid, how) if how != "embedding" else (None, "")

    def __call__(self, pages: list[PageMarkdown], invoice: Invoice | None) -> VendorHints | None:
        """HintsLookup: the hints of the vendor recognised from the pages (or the parsed invoice)."""
        vid, how = self.recognise(pages, invoice)
        if vid is None:
            return None
        hints = self.for_vendor(vid)
        if hints is None:
            return None
        return replace(hints, matched_by=how, match_confidence=MATCH_CONFIDENCE.get(how, 0.5))


class HintsSnapshot:
    """A plain-data HintsLookup (picklable) for reader processes that cannot reach the history database.

    It knows the vendors with reviewed invoices by their identifiers and exact names (look-alike figures folded).
    """

    def __init__(self, by_key: dict[tuple[str, str], VendorHints], by_name: dict[str, VendorHints]) -> None:
        self.by_key = by_key
        self.by_name = by_name

    def _one(self, identifiers: dict[str, list[str]]) -> tuple[VendorHints, str] | None:
        found = {
            (hints.vendor_id, kind): hints
            for kind in KIND_CONFIDENCE
            for value in identifiers.get(kind, [])
            if (hints := self.by_key.get((kind, identifier_key(kind, value)))) is not None
        }
        if len({vid for vid, _ in found}) != 1:
            return None
        kind = next(k for k in KIND_CONFIDENCE if any(kk == k for _, kk in found))
        hints = next(h for (_, k), h in found.items() if k == kind)
        return hints, kind

    def __call__(self, pages: list[PageMarkdown], invoice: Invoice | None) -> VendorHints | None:
        """HintsLookup over the snapshot."""
        text = "\n".join(p.to_markdown() for p in pages)
        if invoice is None:
            printed = {k: v for k, v in text_identifiers(text).items() if k in ("iban", "tax_id", "registration")}
            hit = self._one(printed)
        else:
            hit = self._one({k: [v] for k, v in vendor_identifiers(invoice, text).items()})
            if hit is None and (hints := self.by_name.get(glyph_key(invoice.vendor.name))) is not None:
                hit = hints, "name"
        if hit is None:
            return None
        hints, how = hit
        return replace(hints, matched_by=how, match_confidence=MATCH_CONFIDENCE.get(how, 0.5))


def snapshot(lookup: HistoryHints) -> HintsSnapshot:
    """Every vendor's learned hints keyed by identifier and exact name (vendors with reviewed invoices only).

    Rebuilt after a committed write of the history; only vendors whose reviewed invoices or record changed
    are learned again.
    """
    cached = getattr(lookup, "_snapshot", None)
    if cached is not None and cached[0] == lookup.store.generation:
        return cached[1]
    generation = lookup.store.generation
    con = lookup.store.cursor()
    versions = sql.hint_versions(con)
    learned = {vid: hints for vid, version in versions.items() if (hints := lookup.for_vendor(vid, version))}
    by_key: dict[tuple[str, str], VendorHints] = {}
    by_name: dict[str, VendorHints] = {}
    for vid, kind, key, alias in sql.all_alias_keys(con, list(learned)):
        hints = learned[vid]
        if kind == "name":
            by_name.setdefault(glyph_key(alias), hints)
        else:
            by_key.setdefault((kind, key), hints)
    built = HintsSnapshot(by_key, by_name)
    lookup._snapshot = (generation, built)
    return built


def snapshot_excluding(lookup: HistoryHints, invoice_id: int) -> HintsSnapshot:
    """The snapshot with one invoice's own review left out, for re-reading that invoice.

    Only that invoice's vendor is learned again (without it); every other entry is the cached snapshot's.
    """
    base = snapshot(lookup)
    vendor_id = invoice_sql.vendor_of(lookup.store.cursor(), invoice_id)
    known = {h.vendor_id for h in (*base.by_key.values(), *base.by_name.values())}
    if vendor_id is None or vendor_id not in known:
        return base
    record = vendor_record(lookup.store, vendor_id)
    invoices = reviewed_invoices(lookup.store, vendor_id, invoice_id)
    own = learn_hints(record, invoices) if record and len(invoices) >= MIN_DOCUMENTS else None
    by_key = {k: h for k, h in base.by_key.items() if h.vendor_id != vendor_id}
    by_name = {k: h for k, h in base.by_name.items() if h.vendor_id != vendor_id}
    if own is not None:
        by_key.update({k: own for k, h in base.by_key.items() if h.vendor_id == vendor_id})
        by_name.update({k: own for k, h in base.by_name.items() if h.vendor_id == vendor_id})
    return HintsSnapshot(by_key, by_name)
