"""What a known vendor's reviewed invoices showed, passed into extraction as plain data.

The app or retrieval layer builds a `VendorHints` from a vendor's approved and corrected invoices and
hands it to `extract()`; extraction never looks the vendor up itself. The field scorers weigh the
hints as features (a habit makes a reading likelier, it never forces one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from extraction.markdown import PageMarkdown
    from extraction.schema import Invoice


@dataclass(frozen=True)
class VendorHints:
    """One vendor's reading habits, learned from its reviewed invoices."""

    name: str
    aliases: tuple[str, ...] = ()
    vendor_id: int | None = None
    documents: int = 0  # reviewed invoices the habits were learned from
    matched_by: str | None = None  # "tax_id", "iban", "email_domain", "name", ...
    match_confidence: float = 0.0
    date_order: str | None = None  # "DMY" | "MDY" | "YMD"
    currency: str | None = None
    number_labels: tuple[str, ...] = ()
    number_pattern: str | None = None  # candidates.numbers.shape() of its invoice numbers
    total_labels: tuple[str, ...] = ()
    tax_rates: tuple[float, ...] = ()
    identifiers: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        """A sentence saying what the hints came from, for the result's reasons."""
        plural = "s" if self.documents != 1 else ""
        return f"read with what {self.documents} reviewed invoice{plural} of {self.name} showed"


class HintsLookup(Protocol):
    """Finds a known vendor's hints for pages being parsed (implemented by the history, outside extraction).

    Called first with `invoice=None` (identifiers printed on the pages), then, when that finds nothing,
    with the invoice parsed without hints; the pipeline re-parses the same pages when the second call
    recognises the vendor.
    """

    def __call__(self, pages: list[PageMarkdown], invoice: Invoice | None) -> VendorHints | None:
        """The hints for this document's vendor, or None when it is not recognised."""
        ...
