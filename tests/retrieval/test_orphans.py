"""Rows and vectors of a deleted invoice: never written after the delete, seen by health, dropped by reindex."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.service import InvoiceService
from tests.builders import make_result
from utils.errors import NotFound
from utils.settings import Settings

GHOST = 987_654


def _leave_orphans(service: InvoiceService) -> None:
    """What a write that lost a race with a delete used to leave: a vector, an embedding and keyword rows."""
    vector = service.embedder.encode_one("ghost invoice")
    with service.store.transaction() as cur:
        service.store.put_embedding(cur, GHOST, service.model_name, vector)
        service.store.index_text(cur, GHOST, "ghost invoice text")
    service.index().add([GHOST], vector)


def _orphan_rows(service: InvoiceService) -> int:
    return sum(service.store.orphan_counts().values())


def test_a_correction_that_loses_the_race_with_a_delete_writes_nothing(service: InvoiceService, monkeypatch) -> None:
    invoice_id = service.store_result(*make_result(number="RACE-1"), enrich=False).invoice_id
    encode = service.embedder.encode_one

    def delete_meanwhile(text: str) -> np.ndarray:
        service.delete_invoice(invoice_id)  # lands between the correction's read and its write
        return encode(text)

    monkeypatch.setattr(service.embedder, "encode_one", delete_meanwhile)
    unlocked = InvoiceService.correct_invoice.__wrapped__  # the per-invoice lock would order the two calls
    with pytest.raises(NotFound):
        unlocked(service, invoice_id, {"total": "5.00"}, "clerk")
    assert _orphan_rows(service) == 0
    assert invoice_id not in service.index().ids().tolist()
    assert service.health()["index"]["consistent"]


def test_health_compares_the_index_with_the_invoices(service: InvoiceService) -> None:
    service.store_result(*make_result(number="HEALTH-1"), enrich=False)
    assert service.health()["index"]["consistent"]
    _leave_orphans(service)
    index = service.health()["index"]
    assert not index["consistent"]
    assert index["orphans"] == 1 and index["orphan_rows"]["embeddings"] == 1 and index["orphan_rows"]["fts_docs"] == 1


def test_reindex_and_restart_drop_orphans(service: InvoiceService, settings: Settings) -> None:
    kept = service.store_result(*make_result(number="KEEP-1"), enrich=False).invoice_id
    _leave_orphans(service)
    assert service.reindex() == 1
    assert _orphan_rows(service) == 0 and service.index().ids().tolist() == [kept]
    assert service.health()["index"]["consistent"]

    _leave_orphans(service)
    service.close()
    again = InvoiceService(settings)
    try:
        assert _orphan_rows(again) == 0 and again.index().ids().tolist() == [kept]
        assert again.health()["index"]["consistent"]
    finally:
        again.close()


def test_files_left_by_an_interrupted_write_are_removed_on_start(service: InvoiceService, settings: Settings) -> None:
    kept = service.store_result(*make_result(number="FILE-1"), enrich=False)
    service.close()
    # A crash after the file was written (or while its temp file was) and before the invoice was committed.
    (settings.files_dir / ("ab" * 32)).write_bytes(b"never committed")
    (settings.files_dir / f".{'cd' * 32}.123.456.tmp").write_bytes(b"half written")
    again = InvoiceService(settings)
    try:
        assert [p.name for p in settings.files_dir.iterdir()] == [kept.document.sha256]
        assert again.document_file(kept.invoice_id)[0].read_bytes()
    finally:
        again.close()
