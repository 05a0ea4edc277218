"""Corrections, approvals and deletions of one invoice arriving at once: none is lost, the audit chain holds."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

from retrieval.service import InvoiceService
from tests.builders import make_result
from utils.errors import NotFound

FIELDS = {
    "invoice_number": "C-{}",
    "purchase_order": "PO-{}",
    "payment_terms": "Net {}",
    "currency": "USD",
    "vendor.email": "billing{}@example.com",
    "vendor.phone": "+49 30 {}",
    "vendor.address": "Street {}",
    "customer.name": "Customer {}",
    "customer.email": "ap{}@example.org",
    "customer.address": "Road {}",
}


def _all_at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls on their own threads, released together; each outcome is a value or an exception."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(n: int) -> None:
        barrier.wait()
        try:
            outcomes[n] = calls[n]()
        except Exception as exc:  # the outcome is asserted by the test
            outcomes[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_concurrent_corrections_of_different_fields_are_all_kept(service: InvoiceService) -> None:
    invoice_id = service.store_result(*make_result()).invoice_id
    wanted = {field: template.format(n) for n, (field, template) in enumerate(FIELDS.items())}
    calls = [lambda f=f, v=v: service.correct_invoice(invoice_id, {f: v}, "clerk") for f, v in wanted.items()]
    outcomes = _all_at_once(calls)
    assert not [o for o in outcomes if isinstance(o, Exception)]
    invoice = service.get_invoice(invoice_id).result.invoice.model_dump(mode="json")
    for field, value in wanted.items():
        node: Any = invoice
        for part in field.split("."):
            node = node[part]
        assert node == value, field


def test_concurrent_corrections_of_one_field_keep_the_audit_chain(service: InvoiceService) -> None:
    invoice_id = service.store_result(*make_result()).invoice_id
    outcomes = _all_at_once(
        [lambda n=n: service.correct_invoice(invoice_id, {"payment_terms": f"Net {n}"}, "clerk") for n in range(10)]
    )
    assert not [o for o in outcomes if isinstance(o, Exception)]
    record = service.get_invoice(invoice_id)
    chain = [c for c in record.corrections if c.field == "payment_terms"]
    assert len(chain) == 10
    assert chain[0].old is None
    for before, after in itertools.pairwise(chain):
        assert after.old == before.new
    assert record.result.invoice.payment_terms == chain[-1].new


def test_a_correction_racing_a_deletion_leaves_nothing_of_the_invoice(service: InvoiceService) -> None:
    for n in range(4):
        invoice_id = service.store_result(*make_result(number=f"RACE-{n}", salt=str(n))).invoice_id
        outcomes = _all_at_once(
            [
                lambda i=invoice_id: service.correct_invoice(i, {"payment_terms": "Net 5"}, "clerk"),
                lambda i=invoice_id: service.delete_invoice(i),
            ]
        )
        assert outcomes[1] is None
        assert outcomes[0] is None or isinstance(outcomes[0], NotFound) or outcomes[0].id == invoice_id
        for table, key in (("embeddings", "invoice_id"), ("fts_docs", "invoice_id"), ("line_items", "invoice_id")):
            assert not service.store.scalar(f"SELECT count(*) FROM {table} WHERE {key} = ?", [invoice_id]), table
        assert invoice_id not in service.index().ids()
    assert service.health()["index"]["consistent"]
