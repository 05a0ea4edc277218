"""The facade's public API stays put: the app, the CLI, the benches and other branches call these names."""

import inspect

from retrieval.service import InvoiceService

# Each public method with its parameters (and defaults), as before the facade delegated to its units.
PUBLIC = {
    "approve_invoice": "self, invoice_id, who",
    "close": "self",
    "correct_invoice": "self, invoice_id, changes, who",
    "dashboard": "self",
    "delete_invoice": "self, invoice_id",
    "document_file": "self, invoice_id",
    "enrich": "self, result",
    "export": "self, filters, fmt",
    "feedback_export": "self",
    "get_invoice": "self, invoice_id",
    "get_vendor": "self, vendor_id",
    "has_document": "self, sha256",
    "health": "self",
    "index": "self",
    "index_vector": "self, invoice_id, vector",
    "invoice_lock": "self, invoice_id",
    "list_invoices": "self, filters, limit=50, offset=0, vendor_id=None",
    "list_vendors": "self, limit=100, offset=0",
    "lookup_vendors": "self, name, limit=5",
    "merge_vendors": "self, source, target, who",
    "recognise": "self, result",
    "record_failure": "self, filename, error_code, engine",
    "reindex": "self",
    "rename_vendor": "self, vendor_id, name, who",
    "reread": "self, vendor=None, needs_review=None, who='system', invoice_ids=None, engine=None",
    "reread_invoice": "self, invoice_id, result, who",
    "review_queue": "self, limit=200, exclude=None",
    "save_index": "self",
    "search": "self, query",
    "search_async": "self, query",
    "search_page": "self, query",
    "search_page_async": "self, query",
    "store_many": "self, items, enrich=True",
    "store_result": "self, result, data, enrich=True",
    "vendor_events": "self, vendor_id=None",
    "vendor_hints": "self, vendor_id",
}
INSTANCE = ("settings", "store", "embedder", "model_name", "resolver", "records", "hints", "searcher", "repaired")


def _shape(method: object) -> str:
    return ", ".join(
        p.name if p.default is inspect.Parameter.empty else f"{p.name}={p.default!r}"
        for p in inspect.signature(method).parameters.values()  # type: ignore[arg-type]
    )


def test_public_methods_keep_their_names_and_parameters() -> None:
    got = {n: _shape(m) for n, m in inspect.getmembers(InvoiceService) if not n.startswith("_") and callable(m)}
    assert got == PUBLIC


def test_public_attributes_are_there(service: InvoiceService) -> None:
    for name in INSTANCE:
        assert hasattr(service, name), name
    assert service.repaired is None or isinstance(service.repaired, str)
    assert service._index_lock is service.sync.lock  # what writers hold while the index changes or is saved
