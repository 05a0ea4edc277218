"""Learned vendor hints are cached per vendor: a write that touches one vendor relearns that vendor only."""

from __future__ import annotations

from retrieval.hints import snapshot, snapshot_excluding
from retrieval.service import InvoiceService
from tests.builders import make_result


def _reviewed(service: InvoiceService, vendor: str, currency: str, tax_id: str, n: int = 2) -> list[int]:
    ids = []
    for k in range(n):
        result, data = make_result(vendor=vendor, number=f"{vendor[:2]}-{k}", currency=currency, tax_id=tax_id)
        stored = service.store_result(result, data)
        service.approve_invoice(stored.invoice_id, "test")
        ids.append(stored.invoice_id)
    return ids


def test_a_correction_relearns_its_vendor_only(service: InvoiceService) -> None:
    first = _reviewed(service, "Acme Industrial Supplies GmbH", "EUR", "DE811111111")
    _reviewed(service, "Northwind Traders Ltd", "USD", "GB999999973")
    acme = service.lookup_vendors("Acme Industrial Supplies GmbH")[0].id
    northwind = service.lookup_vendors("Northwind Traders Ltd")[0].id
    before = snapshot(service.hints)
    acme_hints, northwind_hints = service.hints.for_vendor(acme), service.hints.for_vendor(northwind)
    assert acme_hints is not None and acme_hints.currency == "EUR"
    assert northwind_hints is not None and northwind_hints.currency == "USD"

    for invoice_id in first:
        service.correct_invoice(invoice_id, {"currency": "CHF"}, "dana")
    after = snapshot(service.hints)
    assert after is not before  # the history changed: a new snapshot
    assert service.hints.for_vendor(acme).currency == "CHF"  # relearnt from the corrected invoices
    assert service.hints.for_vendor(northwind) is northwind_hints  # untouched vendor: the cached hints
    assert {h.currency for h in after.by_key.values()} == {"CHF", "USD"}


def test_snapshot_is_reused_until_the_next_write(service: InvoiceService) -> None:
    _reviewed(service, "Acme Industrial Supplies GmbH", "EUR", "DE811111111")
    assert snapshot(service.hints) is snapshot(service.hints)


def test_re_reading_an_invoice_leaves_its_own_review_out(service: InvoiceService) -> None:
    first, _second = _reviewed(service, "Acme Industrial Supplies GmbH", "EUR", "DE811111111")
    _reviewed(service, "Northwind Traders Ltd", "USD", "GB999999973")
    whole = snapshot(service.hints)
    without = snapshot_excluding(service.hints, first)
    acme = {h.documents for h in without.by_key.values() if h.name.startswith("Acme")}
    assert acme == {1} and {h.documents for h in whole.by_key.values() if h.name.startswith("Acme")} == {2}
    northwind = [h for h in without.by_key.values() if h.name.startswith("Northwind")]
    assert northwind and all(h in whole.by_key.values() for h in northwind)  # other vendors: the cached entries
