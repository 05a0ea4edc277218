"""RAG enrichment of one invoice: vendor context, similar invoices, duplicates and anomalies."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
from rapidfuzz import fuzz

from retrieval.repository import invoices as sql
from retrieval.repository.vendors import invoice_history
from retrieval.vendors import normalize_code, vendor_profile
from utils.money import exponent, same_amount

if TYPE_CHECKING:
    from extraction.schema import ExtractionResult
    from faiss_service.index import VectorIndex
    from retrieval.repository.database import Store

DUPLICATE_WINDOW_DAYS = 7  # same vendor and total within this many days: a likely duplicate
NEAR_IDENTICAL = 0.95  # cosine from which two invoices read as the same document
SIMILAR_COUNT = 5
RECENT_COUNT = 5
AMOUNT_FACTOR = Decimal(2)  # outside [min / factor, max * factor] of the vendor's history is unusual
MIN_HISTORY = 3  # invoices of the vendor needed before amounts or currency can be unusual


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in row.items():
        if isinstance(value, Decimal):
            value = float(value)
        elif isinstance(value, dt.date):
            value = value.isoformat()
        out[key] = value
    return out


def _same_number(a: str | None, b: str | None) -> bool | None:
    """True/False when both numbers are known (OCR slips of one character still count as same)."""
    ka, kb = normalize_code(a), normalize_code(b)
    if not ka or not kb:
        return None
    return ka == kb or (min(len(ka), len(kb)) >= 6 and fuzz.ratio(ka, kb) >= 90)


def _same_total(a: Decimal | None, b: Any) -> bool | None:
    if a is None or b is None:
        return None
    return same_amount(Decimal(a), Decimal(b))


def find_duplicates(
    store: Store,
    result: ExtractionResult,
    vendor_id: int | None,
    similar: list[tuple[int, float]],
    exclude: int | None,
) -> list[dict[str, Any]]:
    """Exact (same vendor and number), likely (same vendor and total near in time) and near-identical invoices."""
    inv = result.invoice
    excl = -1 if exclude is None else exclude
    found: dict[int, dict[str, Any]] = {}
    number_key = normalize_code(inv.invoice_number)
    if vendor_id is not None and number_key:
        for row in sql.summaries_by_number(store.cursor(), vendor_id, number_key, excl):
            found[row["invoice_id"]] = _jsonable(row) | {
                "kind": "exact",
                "reason": f"same vendor and invoice number {inv.invoice_number}",
            }
    if vendor_id is not None and inv.total is not None and inv.invoice_date is not None:
        for row in sql.summaries_by_total(
            store.cursor(),
            vendor_id,
            inv.total,
            excl,
            inv.invoice_date - dt.timedelta(days=DUPLICATE_WINDOW_DAYS),
            inv.invoice_date + dt.timedelta(days=DUPLICATE_WINDOW_DAYS),
            inv.currency,
        ):
            if row["invoice_id"] in found or _same_number(inv.invoice_number, row["invoice_number"]) is False:
                continue
            found[row["invoice_id"]] = _jsonable(row) | {
                "kind": "likely",
                "reason": f"same vendor and total {inv.total} within {DUPLICATE_WINDOW_DAYS} days",
            }
    near = [(i, s) for i, s in similar if s >= NEAR_IDENTICAL and i != excl and i not in found]
    if near:
        rows = {r["invoice_id"]: r for r in sql.summaries(store.cursor(), [i for i, _ in near])}
        for invoice_id, score in near:
            if invoice_id not in rows:
                continue
            row = rows[invoice_id]
            # Same template, different invoice: a differing number or total rules the match out.
            if _same_number(inv.invoice_number, row["invoice_number"]) is False:
                continue
            if _same_total(inv.total, row["total"]) is False:
                continue
            other_date = row["invoice_date"]
            if inv.invoice_date and other_date and abs((inv.invoice_date - other_date).days) > DUPLICATE_WINDOW_DAYS:
                continue
            found[invoice_id] = _jsonable(row) | {
                "kind": "likely",
                "reason": f"near-identical content (similarity {score:.3f})",
                "similarity": round(score, 4),
            }
    return list(found.values())


def amount_text(value: Decimal) -> str:
    """An amount as people write it, without the store's padding zeros: 119.0000 -> 119.00, 2.3450 -> 2.345."""
    value = value.normalize()
    if exponent(value) > -2:
        value = value.quantize(Decimal("0.01"))
    return format(value, "f")


def find_anomalies(store: Store, result: ExtractionResult, vendor_id: int | None, exclude: int | None) -> list[dict]:
    """Unusual amount, new IBAN, currency change, future date."""
    inv = result.invoice
    out: list[dict[str, Any]] = []
    today = dt.date.today()
    if inv.invoice_date is not None and inv.invoice_date > today + dt.timedelta(days=1):
        out.append({"kind": "future_date", "detail": f"invoice date {inv.invoice_date.isoformat()} is in the future"})
    if vendor_id is None:
        return out
    excl = -1 if exclude is None else exclude
    history = invoice_history(store.cursor(), vendor_id, excl)
    if not history:
        return out
    currencies = [c for _, c, _ in history if c]
    if inv.currency and len(currencies) >= MIN_HISTORY - 1 and inv.currency not in currencies:
        usual = max(set(currencies), key=currencies.count)
        out.append(
            {"kind": "currency_change", "detail": f"currency {inv.currency}; this vendor has billed in {usual} so far"}
        )
    amounts = [Decimal(t) for t, c, _ in history if t is not None and (c == inv.currency or not c or not inv.currency)]
    if inv.total is not None and len(amounts) >= MIN_HISTORY:
        lo, hi = min(amounts), max(amounts)
        total = Decimal(inv.total)
        if total > hi * AMOUNT_FACTOR or (lo > 0 and total < lo / AMOUNT_FACTOR) or (total < 0 <= lo):
            out.append(
                {
                    "kind": "unusual_amount",
                    "detail": f"total {amount_text(total)} is far outside this vendor's range "
                    f"{amount_text(lo)} to {amount_text(hi)}",
                }
            )
    ibans = {normalize_code(i) for _, _, i in history if i}
    if inv.vendor.iban and ibans and normalize_code(inv.vendor.iban) not in ibans:
        out.append({"kind": "new_iban", "detail": f"IBAN {inv.vendor.iban} was never used by this vendor before"})
    return out


def similar_invoices(
    index: VectorIndex, vector: np.ndarray | None, exclude: int | None, k: int
) -> list[tuple[int, float]]:
    """Nearest stored invoices by embedding: (id, cosine)."""
    if vector is None or index.count == 0:
        return []
    ids, scores = index.search(vector, k + 1)
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0 and i != exclude][:k]


def build_enrichment(
    store: Store,
    index: VectorIndex,
    result: ExtractionResult,
    vector: np.ndarray | None,
    vendor_id: int | None,
    exclude: int | None = None,
) -> dict[str, Any]:
    """The `enrichment` object of an ExtractionResult."""
    vendor: dict[str, Any] | None = None
    if vendor_id is not None:
        profile = vendor_profile(store, vendor_id, exclude_invoice=exclude)
        excl = -1 if exclude is None else exclude
        recent = sql.recent_summaries(store.cursor(), vendor_id, excl, RECENT_COUNT)
        vendor = profile.model_dump(mode="json") | {"recent": [_jsonable(r) for r in recent]}
    neighbours = similar_invoices(index, vector, exclude, max(SIMILAR_COUNT, 10))
    similar: list[dict[str, Any]] = []
    if neighbours:
        rows = {r["invoice_id"]: r for r in sql.summaries(store.cursor(), [i for i, _ in neighbours])}
        for invoice_id, score in neighbours[:SIMILAR_COUNT]:
            if invoice_id in rows:
                similar.append(_jsonable(rows[invoice_id]) | {"score": round(score, 4)})
    return {
        "vendor": vendor,
        "similar": similar,
        "duplicates": find_duplicates(store, result, vendor_id, neighbours, exclude),
        "anomalies": find_anomalies(store, result, vendor_id, exclude),
    }
