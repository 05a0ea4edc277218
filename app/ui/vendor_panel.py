"""The vendor context beside an extraction: who it is, what is usual, its history, similar invoices."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gradio as gr
import pandas as pd

from app.ui import enrichment as enr
from app.ui.charts import timeline_svg
from app.ui.forms import money

if TYPE_CHECKING:
    import datetime as dt

    from gradio.blocks import Block

    from app.ui.handlers import Updates
    from retrieval.models import InvoiceRecord, InvoiceSummary, VendorProfile
    from retrieval.service import InvoiceService

HISTORY_LIMIT = 200
RECENT_HEADERS = ["Date", "Number", "Total"]
SIMILAR_HEADERS = ["Vendor", "Number", "Total"]


@dataclass
class VendorPanel:
    """The panel's components."""

    card: gr.HTML
    chart: gr.HTML
    recent: gr.Dataframe
    similar: gr.Dataframe

    @property
    def outputs(self) -> list[Block]:
        """Components updated when an invoice is shown."""
        return [self.card, self.chart, self.recent, self.similar]

    def updates(self, view: VendorView) -> Updates:
        """The panel's components filled with `view`."""
        return {self.card: view.card, self.chart: view.chart, self.recent: view.recent, self.similar: view.similar}


@dataclass
class VendorView:
    """What the panel shows for one invoice, and the invoice ids behind its clickable rows."""

    card: str
    chart: str
    recent: pd.DataFrame
    similar: pd.DataFrame
    recent_ids: list[int]
    similar_ids: list[int | None]


def build_vendor_panel() -> VendorPanel:
    """Lay out the panel (inside the caller's column)."""
    card = gr.HTML(_empty_card(), label="Vendor profile", elem_classes=["vendor-card"], elem_id="vendor-card")
    chart = gr.HTML(timeline_svg([], None), label="Amounts over time", elem_id="vendor-chart")
    recent = gr.Dataframe(
        pd.DataFrame(columns=RECENT_HEADERS),
        label="Recent invoices from this vendor (click to open)",
        column_widths=["30%", "36%", "34%"],
        interactive=False,
        max_height=220,
        wrap=False,
        elem_id="vendor-recent",
    )
    similar = gr.Dataframe(
        pd.DataFrame(columns=SIMILAR_HEADERS),
        label="Similar invoices (click to open)",
        column_widths=["42%", "29%", "29%"],
        interactive=False,
        max_height=200,
        wrap=False,
        elem_id="vendor-similar",
    )
    return VendorPanel(card, chart, recent, similar)


def _empty_card(text: str = "The vendor's history appears here once an invoice is open.") -> str:
    return f"<div class='empty-state'>{html.escape(text)}</div>"


def _figure(key: str, value: str) -> str:
    return (
        f"<div class='figure'><div class='k'>{html.escape(key)}</div>"
        f"<div class='v' title='{html.escape(value)}'>{html.escape(value)}</div></div>"
    )


def vendor_card(profile: VendorProfile | None, read_as: str | None, vendor_info: dict[str, Any]) -> str:
    """The vendor's name, the spelling it was resolved from and its profile figures, as HTML."""
    if profile is None:
        name = read_as or vendor_info.get("name")
        if not name:
            return _empty_card("No vendor was read from this invoice.")
        return (
            f"<h3>{html.escape(str(name))}</h3>"
            "<div class='resolved'>Not matched to a known vendor yet: this is its first invoice.</div>"
        )
    parts = [f"<h3>{html.escape(profile.name)}</h3>"]
    if read_as and read_as.strip().casefold() != profile.name.strip().casefold():
        parts.append(f"<div class='resolved'>resolved from “{html.escape(read_as)}”</div>")
    elif profile.aliases:
        parts.append(f"<div class='resolved'>also known as {html.escape(', '.join(profile.aliases[:3]))}</div>")
    else:
        parts.append("<div class='resolved'>canonical vendor</div>")
    currency = profile.usual_currency
    typical = (
        f"{money(profile.typical_min)} – {money(profile.typical_max, currency)}"
        if profile.typical_min is not None and profile.typical_max is not None
        else "—"
    )
    spend = ", ".join(money(v, k) for k, v in profile.spend.items()) or "—"
    span = (
        f"{profile.first_date:%b %Y} – {profile.last_date:%b %Y}" if profile.first_date and profile.last_date else "—"
    )
    figures = [
        _figure("Invoices", str(profile.invoice_count)),
        _figure("Usual currency", currency or "—"),
        _figure("Typical total", typical),
        _figure("Total spend", spend),
        _figure("Active", span),
        _figure("Payment terms", profile.payment_terms or "—"),
    ]
    if profile.tax_id:
        figures.append(_figure("Tax id", profile.tax_id))
    if profile.ibans:
        figures.append(_figure("IBAN", profile.ibans[0]))
    parts.append(f"<div class='figures'>{''.join(figures)}</div>")
    return "".join(parts)


def amounts_chart(history: list[InvoiceSummary], current: InvoiceSummary | None) -> str:
    """The vendor's totals over time with the current invoice marked."""

    def point(item: InvoiceSummary) -> tuple[dt.date, float, str]:
        day, total = item.invoice_date, item.total
        assert day is not None and total is not None  # only invoices with a date and a total are drawn
        label = f"{item.invoice_number or 'no number'} · {item.invoice_date} · {money(item.total, item.currency)}"
        return (day, float(total), label)

    usable = [h for h in history if h.invoice_date is not None and h.total is not None]
    marked = None
    if current is not None and current.invoice_date is not None and current.total is not None:
        marked = point(current)
    return timeline_svg([point(h) for h in usable if current is None or h.id != current.id], marked)


def vendor_history(service: InvoiceService, vendor_id: int | None) -> list[InvoiceSummary]:
    """The vendor's stored invoices (newest first as the service lists them)."""
    if vendor_id is None:
        return []
    from retrieval.models import SearchFilters

    return list(service.list_invoices(SearchFilters(), limit=HISTORY_LIMIT, vendor_id=vendor_id).items)


def vendor_view(service: InvoiceService | None, record: InvoiceRecord | None) -> VendorView:
    """The panel's contents for an invoice (empty without one), and the invoice ids behind its clickable rows."""
    if record is None or service is None:
        return VendorView(
            _empty_card(),
            amounts_chart([], None),
            pd.DataFrame(columns=RECENT_HEADERS),
            pd.DataFrame(columns=SIMILAR_HEADERS),
            [],
            [],
        )
    from utils.errors import NotFound

    profile = None
    if record.vendor_id is not None:
        try:
            profile = service.get_vendor(record.vendor_id)
        except NotFound:
            profile = None
    enrichment = record.result.enrichment
    card = vendor_card(profile, record.result.invoice.vendor.name, enr.vendor(enrichment))
    history = vendor_history(service, record.vendor_id)
    chart = amounts_chart(history, record)
    others = sorted(
        (h for h in history if h.id != record.id),
        key=lambda h: (h.invoice_date is not None, h.invoice_date),
        reverse=True,
    )[:8]
    recent = pd.DataFrame(
        [
            [
                h.invoice_date.isoformat() if h.invoice_date else "—",
                h.invoice_number or "—",
                money(h.total, h.currency),
            ]
            for h in others
        ],
        columns=RECENT_HEADERS,
    )
    similar_items = [s for s in enr.similar(enrichment) if enr.invoice_ref(s) != record.id][:6]
    similar = pd.DataFrame(
        [
            [
                s.get("vendor") or "—",
                s.get("invoice_number") or "—",
                money(s.get("total"), s.get("currency")),
            ]
            for s in similar_items
        ],
        columns=SIMILAR_HEADERS,
    )
    return VendorView(card, chart, recent, similar, [h.id for h in others], [enr.invoice_ref(s) for s in similar_items])
