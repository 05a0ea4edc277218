"""Receipt or invoice: the marks of a till slip weighed against the marks of an invoice."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from extraction.parser.candidates import receipt_word_count
from extraction.parser.labels import find_label
from extraction.parser.vocab import BANK_WORDS, INVOICE_TITLE

if TYPE_CHECKING:
    from extraction.parser.candidates import Candidate
    from extraction.parser.context import Doc

# Labels that only an invoice prints: who is billed, on what terms, under which customer account.
INVOICE_LABELS = ("customer_label", "payment_terms", "account_number")


def invoice_marks(doc: Doc, data: dict[str, Any]) -> int:
    """How many kinds of invoice mark the document shows (due date, customer, invoice labels, bank, title)."""
    text = "\n".join(ln.folded for ln in doc.lines)
    return sum(
        (
            data.get("due_date") is not None,
            bool(data["customer"].name),
            any(find_label(ln.text, kind, ln.folded) for ln in doc.lines for kind in INVOICE_LABELS),
            bool(data["vendor"].iban) or BANK_WORDS.search(text) is not None,
            INVOICE_TITLE.search(text) is not None,
        )
    )


def receipt_marks(doc: Doc, amounts: list[Candidate]) -> int:
    """Till-slip marks: a paid or change line counts two, each of up to two receipt words one."""
    paid = any(c.features.get(f"before_{k}", 0) > 0 for c in amounts for k in ("paid", "change"))
    return 2 * paid + min(receipt_word_count(doc), 2)


def document_type(doc: Doc, amounts: list[Candidate], data: dict[str, Any]) -> str:
    """'receipt' when its marks outweigh an invoice's, or when nothing marks an invoice; else 'invoice'."""
    invoice = invoice_marks(doc, data)
    return "receipt" if invoice == 0 or receipt_marks(doc, amounts) > invoice else "invoice"
