"""What one browser tab holds: the documents read or opened in it, the open one, its page and selected field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.ui.forms import money
from app.ui.pages import page_numbers

if TYPE_CHECKING:
    from retrieval.models import InvoiceRecord


@dataclass
class SessionDoc:
    """One entry of the session's document list: a stored invoice, or a file that could not be read."""

    key: str
    filename: str
    label: str
    invoice_id: int | None = None
    error: str | None = None


@dataclass
class ReviewSession:
    """A browser tab's review state (kept in a gr.State); the invoices themselves are read from the history."""

    docs: list[SessionDoc] = field(default_factory=list)
    current: str | None = None  # the key of the open document
    page: int = 1  # the file page shown
    selected_field: str | None = None  # the dotted name of the field whose box is highlighted
    recent_ids: list[int] = field(default_factory=list)  # the vendor panel's "recent invoices" rows
    similar_ids: list[int | None] = field(default_factory=list)  # its "similar invoices" rows

    def doc(self, key: str | None) -> SessionDoc | None:
        """The document entry with this key."""
        return next((d for d in self.docs if d.key == key), None)

    @property
    def current_doc(self) -> SessionDoc | None:
        """The open document's entry."""
        return self.doc(self.current)

    @property
    def invoice_id(self) -> int | None:
        """The open invoice's id (None when nothing is open or the open file failed)."""
        doc = self.current_doc
        return doc.invoice_id if doc is not None else None

    def add_invoice(self, record: InvoiceRecord, filename: str | None = None) -> str:
        """Put a stored invoice in the list (once, its label refreshed) and open it; returns its key."""
        key = f"i{record.id}"
        existing = self.doc(key)
        if existing is not None:
            existing.label = doc_label(record, existing.filename)
        else:
            name = filename or record.filename or record.result.document.filename
            self.docs.append(SessionDoc(key, name, doc_label(record, name), invoice_id=record.id))
        self.select(key, record)
        return key

    def add_failure(self, filename: str, message: str) -> str:
        """Put a file that could not be read in the list, with its message; returns its key."""
        key = f"e{len(self.docs)}"
        self.docs.append(SessionDoc(key, filename, doc_label(None, filename), error=message))
        return key

    def select(self, key: str | None, record: InvoiceRecord | None = None) -> None:
        """Open a document at its first page, no field selected."""
        self.current = key
        self.selected_field = None
        self.page = page_numbers(record)[0] if record is not None else 1

    def choices(self) -> list[tuple[str, str]]:
        """The document list as (label, key) choices."""
        return [(d.label, d.key) for d in self.docs]

    def linked(self, kind: str) -> list[int] | list[int | None]:
        """The invoice ids behind the vendor panel's rows of one kind ('recent' or 'similar')."""
        return self.recent_ids if kind == "recent" else self.similar_ids


def doc_label(record: InvoiceRecord | None, filename: str) -> str:
    """How a document reads in the session's list."""
    if record is None:
        return f"✗ {filename} — failed"
    vendor = record.vendor or record.result.invoice.vendor.name or "unknown vendor"
    total = money(record.total, record.currency) if record.total is not None else "no total"
    mark = {"approved": "✓", "corrected": "✎"}.get(record.status, "⚠" if record.needs_review else "•")
    return f"{mark} {filename} — {vendor} · {total}"
