"""Everything the tests build for themselves: documents, e-invoice XML, hostile inputs, stored records, settings.

spec = InvoiceSpec(vendor="Muster GmbH", number="RE-7", language="de", currency="EUR")
pdf = make_invoice_pdf(spec)                          # one born-digital page with a line-item table
xml = make_cii_xml(spec)                              # Factur-X / ZUGFeRD 2 CII (or version=1)
png = render_png(pdf, page=1, dpi=200)
settings = make_settings(tmp_path / "data", engine="textlayer")
"""

from tests.builders.einvoices import make_cii_xml, make_ubl_xml
from tests.builders.hostile import (
    encrypted_pdf,
    many_pages_pdf,
    non_invoice_png,
    png_claiming,
    spec,
    truncated_pdf,
    two_invoices_pdf,
    zip_holding,
)
from tests.builders.invoices import (
    InvoiceSpec,
    add_dark_margins,
    blank_pdf,
    invoice_spec,
    make_invoice_pdf,
    make_tiff,
    render_image,
    render_pil,
    render_png,
)
from tests.builders.results import make_result, simple_invoice_pdf
from tests.builders.settings import clean_environ, make_settings

__all__ = [
    "InvoiceSpec",
    "add_dark_margins",
    "blank_pdf",
    "clean_environ",
    "encrypted_pdf",
    "invoice_spec",
    "make_cii_xml",
    "make_invoice_pdf",
    "make_result",
    "make_settings",
    "make_tiff",
    "make_ubl_xml",
    "many_pages_pdf",
    "non_invoice_png",
    "png_claiming",
    "render_image",
    "render_pil",
    "render_png",
    "simple_invoice_pdf",
    "spec",
    "truncated_pdf",
    "two_invoices_pdf",
    "zip_holding",
]
