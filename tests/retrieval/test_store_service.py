from __future__ import annotations

import json
import threading
from decimal import Decimal

import duckdb
import numpy as np
import pytest

from retrieval.models import SearchFilters, SearchQuery
from retrieval.repository.schema import MIGRATIONS
from retrieval.service import InvoiceService
from tests.builders import make_result
from utils.errors import InvalidRequest, NotFound
from utils.settings import Settings


def test_store_result_sets_id_and_keeps_everything(service: InvoiceService, settings: Settings) -> None:
    result, data = make_result(tax_id="DE 123 456 789", iban="DE89 3704 0044 0532 0130 00")
    stored = service.store_result(result, data)
    assert stored.invoice_id is not None and stored.enrichment is not None
    assert (settings.files_dir / result.document.sha256).read_bytes() == data
    record = service.get_invoice(stored.invoice_id)
    assert record.vendor == "Acme Industrial Supplies GmbH"
    assert record.total == Decimal("123.45") and record.currency == "EUR"
    assert record.result.invoice == result.invoice
    assert record.status == "new" and record.sha256 == result.document.sha256
    rows = service.store.fetch(
        "SELECT description FROM line_items WHERE invoice_id = ? ORDER BY position", [stored.invoice_id]
    )
    assert [r[0] for r in rows] == ["Steel bolts M8", "Hex nuts"]
    assert service.store.scalar("SELECT count(*) FROM extraction_runs") == 1
    path, media_type, filename = service.document_file(stored.invoice_id)
    assert path.read_bytes() == data and media_type == "application/pdf" and filename == "INV-1001.pdf"
    assert service.has_document(result.document.sha256)
    assert service.store.schema_version() == MIGRATIONS[-1][0]


def test_same_file_twice_is_one_document(service: InvoiceService) -> None:
    result, data = make_result()
    first = service.store_result(result, data)
    again = service.store_result(result, data)
    assert again.invoice_id == first.invoice_id
    assert "already stored" in again.enrichment["note"]
    assert service.store.scalar("SELECT count(*) FROM invoices") == 1
    assert service.store.scalar("SELECT count(*) FROM documents") == 1


def test_missing_records_raise_not_found(service: InvoiceService) -> None:
    for call in (lambda: service.get_invoice(42), lambda: service.get_vendor(42), lambda: service.delete_invoice(42)):
        with pytest.raises(NotFound):
            call()


def test_correct_invoice_audits_and_reindexes(service: InvoiceService) -> None:
    stored = service.store_result(*make_result())
    record = service.correct_invoice(stored.invoice_id, {"total": "150.00", "vendor.name": "Zeta Tools Ltd"}, "alice")
    assert record.status == "corrected" and record.total == Decimal("150.00")
    assert [(c.field, c.who) for c in record.corrections] == [("total", "alice"), ("vendor.name", "alice")]
    assert record.corrections[0].old == 123.45
    assert record.result.fields["total"].confidence == 1.0
    assert record.vendor == "Zeta Tools Ltd"
    assert service.lookup_vendors("zeta tools")[0].id == record.vendor_id
    hits = service.search(SearchQuery(q="150.00", mode="keyword"))
    assert hits and hits[0].invoice_id == stored.invoice_id
    assert service.health()["index"]["consistent"]
    with pytest.raises(InvalidRequest):
        service.correct_invoice(stored.invoice_id, {"total": "a lot"}, "bob")
    with pytest.raises(InvalidRequest):
        service.correct_invoice(stored.invoice_id, {"no_such_field": 1}, "bob")
    feedback = [json.loads(line) for line in service.feedback_export()]
    assert feedback[0]["extracted"]["total"] == 123.45 and feedback[0]["corrected"]["total"] == 150


def test_approve_and_dashboard(service: InvoiceService) -> None:
    stored = service.store_result(*make_result(needs_review=True))
    assert service.dashboard()["review_backlog"] == 1
    record = service.approve_invoice(stored.invoice_id, "carol")
    assert record.status == "approved" and not record.needs_review
    assert record.corrections[-1].field == "status"
    service.record_failure("bad.pdf", "unreadable_document", "textlayer")
    board = service.dashboard()
    assert board["approved_without_edits"] == 1.0 and board["review_backlog"] == 0
    assert board["failures"] == 1 and 0 < board["error_rate"] < 1


def test_delete_removes_invoice_and_vector(service: InvoiceService) -> None:
    a = service.store_result(*make_result(number="A-1"))
    b = service.store_result(*make_result(number="B-2", vendor="Other Co"))
    service.correct_invoice(a.invoice_id, {"total": "1.00"}, "dan")
    service.delete_invoice(a.invoice_id)
    assert service.index().ids().tolist() == [b.invoice_id]
    assert service.store.scalar("SELECT count(*) FROM corrections WHERE invoice_id = ?", [a.invoice_id]) == 1
    assert all(h.invoice_id != a.invoice_id for h in service.search(SearchQuery(q="A-1")))
    assert not service.has_document(a.document.sha256)
    again = service.store_result(*make_result(number="A-1"))  # stored again after deletion
    assert again.invoice_id not in (a.invoice_id, b.invoice_id)


def _fill(service: InvoiceService, n: int) -> list[int]:
    return [
        service.store_result(*make_result(number=f"N-{i}", total=f"{10 + i}.00"), enrich=False).invoice_id
        for i in range(n)
    ]


def test_restart_with_deleted_index_rebuilds(settings: Settings, embedder) -> None:
    svc = InvoiceService(settings)
    ids = _fill(svc, 4)
    svc.close()
    for f in settings.index_dir.iterdir():
        f.unlink()
    settings.index_dir.rmdir()
    svc = InvoiceService(settings)
    try:
        assert svc.repaired and "rebuilt" in svc.repaired
        assert svc.index().ids().tolist() == ids and svc.health()["index"]["consistent"]
        assert svc.search(SearchQuery(q="steel bolts", mode="semantic", limit=4))
    finally:
        svc.close()


def test_restart_with_corrupt_index_rebuilds(settings: Settings, embedder) -> None:
    svc = InvoiceService(settings)
    ids = _fill(svc, 3)
    svc.close()
    (settings.index_dir / "index.faiss").write_bytes(b"\x00garbage")
    svc = InvoiceService(settings)
    try:
        assert svc.index().ids().tolist() == ids and svc.health()["index"]["consistent"]
    finally:
        svc.close()


def test_restart_with_stale_index_repairs(settings: Settings, embedder) -> None:
    svc = InvoiceService(settings)
    ids = _fill(svc, 3)
    svc.save_index()
    late = svc.store_result(*make_result(number="LATE"), enrich=False).invoice_id
    svc.delete_invoice(ids[0])
    # A crash: the database closes, the saved index predates the last two writes.
    svc.store.close()
    svc = InvoiceService(settings)
    try:
        assert svc.repaired and svc.repaired.startswith("repaired")
        assert svc.index().ids().tolist() == [*ids[1:], late]
    finally:
        svc.close()


def test_model_change_reembeds(settings: Settings, embedder) -> None:
    svc = InvoiceService(settings)
    _fill(svc, 2)
    svc.close()
    con = duckdb.connect(str(settings.db_path))
    con.execute("UPDATE embeddings SET model = 'older-model'")
    con.close()
    svc = InvoiceService(settings)
    try:
        assert svc.repaired and "model" in svc.repaired
        assert svc.store.scalar("SELECT count(*) FROM embeddings WHERE model = ?", [svc.model_name]) == 2
        assert svc.health()["index"]["consistent"]
    finally:
        svc.close()


def test_concurrent_readers_while_one_writer_stores(service: InvoiceService) -> None:
    service.store_result(*make_result(number="SEED-0"))
    errors: list[BaseException] = []
    stop = threading.Event()
    reads = [0]

    def reader() -> None:
        try:
            while not stop.is_set():
                service.search(SearchQuery(q="steel bolts", limit=5))
                service.list_invoices(SearchFilters())
                service.lookup_vendors("acme")
                reads[0] += 1
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    writers = [
        threading.Thread(
            target=lambda k=k: [service.store_result(*make_result(number=f"W{k}-{i}"), enrich=False) for i in range(5)]
        )
        for k in range(2)
    ]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    stop.set()
    for t in threads:
        t.join()
    assert not errors, errors
    assert reads[0] > 0
    assert service.store.scalar("SELECT count(*) FROM invoices") == 11
    assert service.health()["index"]["consistent"]


def test_searches_do_not_wait_while_the_index_is_saved(service: InvoiceService) -> None:
    stored = service.store_result(*make_result(), enrich=False)
    saving, saved = threading.Event(), threading.Event()

    def slow_save() -> None:  # what save_index does, with a disk that takes its time
        with service._index_lock:
            saving.set()
            saved.wait(20)

    writer = threading.Thread(target=slow_save)
    writer.start()
    saving.wait(5)
    answers: list[list[int]] = []
    reader = threading.Thread(
        target=lambda: answers.append([h.invoice_id for h in service.search(SearchQuery(q="bolts"))])
    )
    reader.start()
    reader.join(10)
    try:
        assert answers == [[stored.invoice_id]]  # answered while the save still held the index lock
    finally:
        saved.set()
        writer.join()
        reader.join()


def test_export_round_trip(service: InvoiceService) -> None:
    service.store_result(*make_result(number="E-1", total="10.00", currency="EUR"))
    service.store_result(*make_result(number="E-2", total="20.50", currency="USD", vendor="Beta LLC"))
    lines = "".join(service.export(SearchFilters(), "jsonl")).splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["invoice"]["invoice_number"] for r in records] == ["E-1", "E-2"]
    for record in records:
        assert service.get_invoice(record["id"]).result.invoice.model_dump(mode="json") == record["invoice"]
    csv_text = "".join(service.export(SearchFilters(currency="USD"), "csv"))
    rows = csv_text.strip().splitlines()
    assert rows[0].startswith("id,filename") and len(rows) == 2 and "E-2" in rows[1] and "20.5" in rows[1]
    with pytest.raises(InvalidRequest):
        list(service.export(SearchFilters(), "xml"))


def test_a_correction_past_the_text_length_bound_is_refused(service: InvoiceService) -> None:
    # A 300 kB vendor name in a PATCH held the server 25 s in vendor resolution.
    from extraction.schema import MAX_TEXT_CHARS

    invoice_id = service.store_result(*make_result()).invoice_id
    before = service.get_invoice(invoice_id)
    for changes in (
        {"vendor.name": "A" * 300_000},
        {"line_items": [{"description": "ok"}, {"description": "d" * (MAX_TEXT_CHARS + 1)}]},
    ):
        with pytest.raises(InvalidRequest, match=str(MAX_TEXT_CHARS)):
            service.correct_invoice(invoice_id, changes, "clerk")
    after = service.get_invoice(invoice_id)
    assert after.result.invoice == before.result.invoice and after.corrections == before.corrections
    service.correct_invoice(invoice_id, {"vendor.name": "A" * MAX_TEXT_CHARS}, "clerk")


def test_amounts_past_the_column_range_are_refused_before_anything_is_stored(service: InvoiceService) -> None:
    from utils.errors import AmountOutOfRange

    fine, fine_data = make_result(number="RANGE-1")
    huge, huge_data = make_result(number="RANGE-2", total="1.2E+20")
    with pytest.raises(AmountOutOfRange, match="total"):
        service.store_many([(fine, fine_data), (huge, huge_data)])
    assert service.store.scalar("SELECT count(*) FROM invoices") == 0
    assert not any(service.settings.files_dir.iterdir())


def test_restart_with_flipped_bytes_in_the_index_rebuilds(settings: Settings, embedder) -> None:
    svc = InvoiceService(settings)
    ids = _fill(svc, 3)
    svc.close()
    path = settings.index_dir / "index.faiss"
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 256] = bytes(b ^ 0x5A for b in data[middle : middle + 256])
    path.write_bytes(bytes(data))
    svc = InvoiceService(settings)
    try:
        assert svc.repaired and "rebuilt" in svc.repaired
        stored_ids, stored = svc.store.embeddings()
        index_ids, vectors = svc.index().vectors()
        assert index_ids.tolist() == stored_ids.tolist() == ids
        assert np.allclose(vectors, stored)
    finally:
        svc.close()


def test_a_truncated_database_is_reported_as_damaged_not_as_in_use(settings: Settings, embedder) -> None:
    from utils.errors import DatabaseDamaged

    svc = InvoiceService(settings)
    _fill(svc, 2)
    svc.close()
    data = settings.db_path.read_bytes()
    for cut in (len(data) // 2, 100):
        settings.db_path.write_bytes(data[:cut])
        with pytest.raises(DatabaseDamaged, match="damaged or truncated") as caught:
            InvoiceService(settings)
        assert "in use" not in caught.value.message
