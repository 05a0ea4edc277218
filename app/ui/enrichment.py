"""Reading the enrichment block of a stored result: vendor, similar invoices, duplicates, anomalies."""

from __future__ import annotations

from typing import Any


def _items(enrichment: dict[str, Any] | None, key: str) -> list[Any]:
    value = (enrichment or {}).get(key) or []
    return value if isinstance(value, list) else [value]


def invoice_ref(item: Any) -> int | None:
    """The invoice id an enrichment entry points at, whatever its shape."""
    if isinstance(item, dict):
        for key in ("invoice_id", "id", "other_invoice_id", "duplicate_of"):
            value = item.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, str) and value.isdigit():
                return int(value)
    return None


def describe(item: Any) -> str:
    """One enrichment entry (duplicate or anomaly) as a sentence."""
    if isinstance(item, str):
        return item
    if not isinstance(item, dict):
        return str(item)
    for key in ("message", "detail", "reason", "description", "text"):
        if item.get(key):
            return str(item[key])
    parts = [f"{k.replace('_', ' ')}: {v}" for k, v in item.items() if v not in (None, "", [], {})]
    return "; ".join(parts)


def duplicates(enrichment: dict[str, Any] | None) -> list[tuple[str, int | None]]:
    """Possible duplicates: (what was found, the other invoice's id)."""
    out = []
    for item in _items(enrichment, "duplicates"):
        ref = invoice_ref(item)
        text = describe(item)
        if ref is not None and f"{ref}" not in text:
            text = f"{text} (invoice #{ref})"
        out.append((text, ref))
    return out


def anomalies(enrichment: dict[str, Any] | None) -> list[str]:
    """Anomalies flagged against the vendor's history, as sentences."""
    return [describe(item) for item in _items(enrichment, "anomalies")]


def similar(enrichment: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Similar invoices as dicts with at least an invoice id."""
    out = []
    for item in _items(enrichment, "similar"):
        if isinstance(item, dict) and invoice_ref(item) is not None:
            out.append(item)
    return out


def vendor(enrichment: dict[str, Any] | None) -> dict[str, Any]:
    """The vendor part of the enrichment (may be empty)."""
    value = (enrichment or {}).get("vendor")
    return value if isinstance(value, dict) else {}


def notes(enrichment: dict[str, Any] | None) -> list[str]:
    """Other notes the store attached (for example: this file was already in the history)."""
    out = []
    for key in ("note", "notes"):
        value = (enrichment or {}).get(key)
        if isinstance(value, str) and value:
            out.append(value)
        elif isinstance(value, list):
            out.extend(str(v) for v in value if v)
    return out
