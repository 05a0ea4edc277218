"""E-invoices: Factur-X / ZUGFeRD (v1 and v2) / XRechnung CII XML, or UBL Invoice / CreditNote XML: exact values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, ClassVar
from xml.etree.ElementTree import Element

from extraction.engines.base import Availability, EngineOptions, OcrEngine
from extraction.markdown import Block, PageMarkdown
from extraction.schema import FieldInfo, Invoice, LineItem, Party, TaxLine
from utils.dotted import set_path
from utils.engine_options import EInvoiceOptions
from utils.errors import UnreadableDocument

if TYPE_CHECKING:
    from extraction.documents import Document, Page


# ---------------------------------------------------------------------------------------------------
# Namespace-agnostic element access: paths of local names, "A|B" for alternatives at one step.


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(el: Element, name: str) -> list[Element]:
    names = name.split("|")
    return [c for c in el if _local(c.tag) in names]


def _all(el: Element | None, path: str) -> list[Element]:
    """Every element at `path` (local names, '/'-separated) below `el`."""
    if el is None:
        return []
    current = [el]
    for step in path.split("/"):
        current = [c for parent in current for c in _children(parent, step)]
    return current


def _one(el: Element | None, path: str) -> Element | None:
    found = _all(el, path)
    return found[0] if found else None


def _text(el: Element | None, path: str | None = None) -> str | None:
    node = _one(el, path) if path else el
    if node is None or node.text is None:
        return None
    text = node.text.strip()
    return text or None


def _decimal(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text.strip().replace(" ", ""))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _amount(el: Element | None, path: str, currency: str | None) -> Decimal | None:
    """An amount; ZUGFeRD v1 may repeat an amount in several currencies, prefer the invoice's."""
    nodes = [n for n in _all(el, path) if n.text and n.text.strip()]
    if not nodes:
        return None
    if currency:
        for node in nodes:
            if node.get("currencyID") == currency:
                return _decimal(node.text)
    return _decimal(nodes[0].text)


def _date(el: Element | None) -> dt.date | None:
    """A CII date (udt:DateTimeString, format 102 = YYYYMMDD) or an ISO date (UBL)."""
    if el is None:
        return None
    node = _one(el, "DateTimeString|DateString") if len(el) else el
    text = _text(node)
    if not text:
        return None
    fmt = (node.get("format") if node is not None else None) or ""
    try:
        if fmt == "102" or (len(text) == 8 and text.isdigit()):
            return dt.datetime.strptime(text[:8], "%Y%m%d").date()
        if fmt == "610":
            return dt.datetime.strptime(text[:6], "%Y%m").date()
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------------
# Parsing into an Invoice with per-field provenance.


class _Collector:
    """Collects the Invoice and a FieldInfo per field that was set."""

    def __init__(self) -> None:
        self.invoice = Invoice()
        self.fields: dict[str, FieldInfo] = {}

    def put(self, dotted: str, value: Any, source: str) -> None:
        if value is None or value == "":
            return
        set_path(self.invoice, dotted, value)
        shown = value.isoformat() if isinstance(value, dt.date) else value
        self.fields[dotted] = FieldInfo(value=shown, confidence=1.0, page=1, bbox=None, source=f"{source} = {shown}")


def parse_einvoice(xml: bytes) -> tuple[Invoice, dict[str, FieldInfo], str]:
    """An Invoice, its fields and the syntax name from CII (ZUGFeRD v1/v2, Factur-X, XRechnung) or UBL XML."""
    from defusedxml import ElementTree
    from defusedxml.common import DefusedXmlException

    try:
        root = ElementTree.fromstring(xml)
    except (ElementTree.ParseError, DefusedXmlException, ValueError) as exc:
        raise UnreadableDocument(f"the e-invoice XML cannot be read: {exc}") from exc
    kind = _local(root.tag)
    collector = _Collector()
    if kind == "CrossIndustryInvoice":
        _parse_cii(root, collector, v1=False)
        syntax = "CII (Factur-X / ZUGFeRD 2 / XRechnung)"
    elif kind == "CrossIndustryDocument" or (kind == "Invoice" and "uncefact" in root.tag):
        # ZUGFeRD 1 and its draft (root rsm:Invoice in the CBFBUY namespace) share one structure.
        _parse_cii(root, collector, v1=True)
        syntax = "ZUGFeRD 1 (CrossIndustryDocument)"
    elif kind in ("Invoice", "CreditNote"):
        _parse_ubl(root, collector, credit=kind == "CreditNote")
        syntax = f"UBL {kind}"
    else:
        raise UnreadableDocument(f"unknown e-invoice XML root element {kind!r}")
    return collector.invoice, collector.fields, syntax


def _cii_party(party: Element | None, prefix: str, base: str, c: _Collector) -> None:
    if party is None:
        return
    c.put(f"{prefix}.name", _text(party, "Name"), f"{base}/Name")
    address = _one(party, "PostalTradeAddress")
    if address is not None:
        street = [_text(address, p) for p in ("LineOne", "LineTwo", "LineThree")]
        city = " ".join(t for t in (_text(address, "PostcodeCode"), _text(address, "CityName")) if t)
        parts = [t for t in [*street, city, _text(address, "CountrySubDivisionName"), _text(address, "CountryID")] if t]
        c.put(f"{prefix}.address", ", ".join(parts) or None, f"{base}/PostalTradeAddress")
    registrations = [r for r in _all(party, "SpecifiedTaxRegistration/ID") if _text(r)]
    vat = [r for r in registrations if (r.get("schemeID") or "").upper() == "VA"] or registrations
    if vat:
        c.put(f"{prefix}.tax_id", _text(vat[0]), f"{base}/SpecifiedTaxRegistration/ID[@schemeID='VA']")
    for contact in _all(party, "DefinedTradeContact"):
        phone = _text(contact, "TelephoneUniversalCommunication/CompleteNumber")
        email = _text(contact, "EmailURIUniversalCommunication/URIID|CompleteNumber")
        if phone and f"{prefix}.phone" not in c.fields:
            c.put(f"{prefix}.phone", phone, f"{base}/DefinedTradeContact/TelephoneUniversalCommunication")
        if email and f"{prefix}.email" not in c.fields:
            c.put(f"{prefix}.email", email, f"{base}/DefinedTradeContact/EmailURIUniversalCommunication")
    uri = _one(party, "URIUniversalCommunication/URIID")
    if uri is not None and f"{prefix}.email" not in c.fields and "@" in (uri.text or ""):
        c.put(f"{prefix}.email", _text(uri), f"{base}/URIUniversalCommunication/URIID")


def _parse_cii(root: Element, c: _Collector, v1: bool) -> None:
    doc_path = "HeaderExchangedDocument" if v1 else "ExchangedDocument"
    tx_path = "SpecifiedSupplyChainTradeTransaction" if v1 else "SupplyChainTradeTransaction"
    agreement_path = "ApplicableSupplyChainTradeAgreement" if v1 else "ApplicableHeaderTradeAgreement"
    settlement_path = "ApplicableSupplyChainTradeSettlement" if v1 else "ApplicableHeaderTradeSettlement"
    summation_path = (
        "SpecifiedTradeSettlementMonetarySummation" if v1 else "SpecifiedTradeSettlementHeaderMonetarySummation"
    )
    rate_name = "ApplicablePercent" if v1 else "RateApplicablePercent"

    document = _one(root, doc_path)
    transaction = _one(root, tx_path)
    agreement = _one(transaction, agreement_path)
    settlement = _one(transaction, settlement_path)
    summation = _one(settlement, summation_path)
    base_tx = f"{tx_path}/"

    c.put("invoice_number", _text(document, "ID"), f"{doc_path}/ID")
    c.put("invoice_date", _date(_one(document, "IssueDateTime")), f"{doc_path}/IssueDateTime")
    seller = f"{base_tx}{agreement_path}/SellerTradeParty"
    buyer = f"{base_tx}{agreement_path}/BuyerTradeParty"
    _cii_party(_one(agreement, "SellerTradeParty"), "vendor", seller, c)
    _cii_party(_one(agreement, "BuyerTradeParty"), "customer", buyer, c)
    c.put(
        "purchase_order",
        _text(agreement, "BuyerOrderReferencedDocument/IssuerAssignedID|ID"),
        f"{base_tx}{agreement_path}/BuyerOrderReferencedDocument",
    )

    currency = _text(settlement, "InvoiceCurrencyCode")
    sbase = f"{base_tx}{settlement_path}"
    c.put("currency", currency.upper() if currency else None, f"{sbase}/InvoiceCurrencyCode")
    ibans = [
        iban
        for n in _all(settlement, "SpecifiedTradeSettlementPaymentMeans/PayeePartyCreditorFinancialAccount/IBANID")
        if (iban := _text(n))
    ]
    if ibans:
        c.put(
            "vendor.iban",
            ibans[0].replace(" ", ""),
            f"{sbase}/SpecifiedTradeSettlementPaymentMeans/PayeePartyCreditorFinancialAccount/IBANID",
        )

    terms = _all(settlement, "SpecifiedTradePaymentTerms")
    descriptions = [d for d in (_text(t, "Description") for t in terms) if d]
    c.put("payment_terms", "; ".join(descriptions) or None, f"{sbase}/SpecifiedTradePaymentTerms/Description")
    for term in terms:
        due = _date(_one(term, "DueDateDateTime"))
        if due:
            c.put("due_date", due, f"{sbase}/SpecifiedTradePaymentTerms/DueDateDateTime")
            break

    mbase = f"{sbase}/{summation_path}"
    line_total = _amount(summation, "LineTotalAmount", currency)
    basis = _amount(summation, "TaxBasisTotalAmount", currency)
    # The subtotal is the net amount the tax applies to; without header charges or allowances both agree.
    if basis is not None:
        c.put("subtotal", basis, f"{mbase}/TaxBasisTotalAmount")
    else:
        c.put("subtotal", line_total, f"{mbase}/LineTotalAmount")
    c.put("tax_total", _amount(summation, "TaxTotalAmount", currency), f"{mbase}/TaxTotalAmount")
    c.put("total", _amount(summation, "GrandTotalAmount", currency), f"{mbase}/GrandTotalAmount")
    c.put("amount_due", _amount(summation, "DuePayableAmount", currency), f"{mbase}/DuePayableAmount")

    tax_lines = []
    for tax in _all(settlement, "ApplicableTradeTax"):
        tax_lines.append(
            TaxLine(
                rate=_decimal(_text(tax, rate_name)),
                base=_amount(tax, "BasisAmount", currency),
                amount=_amount(tax, "CalculatedAmount", currency),
            )
        )
    if tax_lines:
        c.invoice.tax_lines = tax_lines
        c.fields["tax_lines"] = _list_info(tax_lines, f"{sbase}/ApplicableTradeTax")

    items = []
    for line in _all(transaction, "IncludedSupplyChainTradeLineItem"):
        line_agreement = _one(line, "SpecifiedSupplyChainTradeAgreement|SpecifiedLineTradeAgreement")
        line_delivery = _one(line, "SpecifiedSupplyChainTradeDelivery|SpecifiedLineTradeDelivery")
        line_settlement = _one(line, "SpecifiedSupplyChainTradeSettlement|SpecifiedLineTradeSettlement")
        price = _amount(line_agreement, "NetPriceProductTradePrice/ChargeAmount", currency)
        if price is None:
            price = _amount(line_agreement, "GrossPriceProductTradePrice/ChargeAmount", currency)
        items.append(
            LineItem(
                description=_text(line, "SpecifiedTradeProduct/Name"),
                quantity=_decimal(_text(line_delivery, "BilledQuantity")),
                unit_price=price,
                amount=_amount(
                    line_settlement,
                    "SpecifiedTradeSettlementMonetarySummation|SpecifiedTradeSettlementLineMonetarySummation"
                    "/LineTotalAmount",
                    currency,
                ),
                tax_rate=_decimal(_text(line_settlement, f"ApplicableTradeTax/{rate_name}")),
            )
        )
    if items:
        c.invoice.line_items = items
        c.fields["line_items"] = _list_info(items, f"{tx_path}/IncludedSupplyChainTradeLineItem")


def _ubl_party(party: Element | None, prefix: str, base: str, c: _Collector) -> None:
    if party is None:
        return
    name = _text(party, "PartyName/Name") or _text(party, "PartyLegalEntity/RegistrationName")
    c.put(f"{prefix}.name", name, f"{base}/PartyName/Name")
    address = _one(party, "PostalAddress")
    if address is not None:
        city = " ".join(t for t in (_text(address, "PostalZone"), _text(address, "CityName")) if t)
        parts = [
            _text(address, "StreetName"),
            _text(address, "AdditionalStreetName"),
            _text(address, "AddressLine/Line"),
            city,
            _text(address, "CountrySubentity"),
            _text(address, "Country/IdentificationCode"),
        ]
        c.put(f"{prefix}.address", ", ".join(p for p in parts if p) or None, f"{base}/PostalAddress")
    c.put(f"{prefix}.tax_id", _text(party, "PartyTaxScheme/CompanyID"), f"{base}/PartyTaxScheme/CompanyID")
    c.put(f"{prefix}.phone", _text(party, "Contact/Telephone"), f"{base}/Contact/Telephone")
    c.put(f"{prefix}.email", _text(party, "Contact/ElectronicMail"), f"{base}/Contact/ElectronicMail")


def _parse_ubl(root: Element, c: _Collector, credit: bool) -> None:
    kind = "CreditNote" if credit else "Invoice"
    c.put("invoice_number", _text(root, "ID"), f"{kind}/ID")
    c.put("invoice_date", _date(_one(root, "IssueDate")), f"{kind}/IssueDate")
    due = _one(root, "DueDate")
    if due is None:
        due = _one(root, "PaymentMeans/PaymentDueDate")
    c.put("due_date", _date(due), f"{kind}/DueDate")
    c.put("purchase_order", _text(root, "OrderReference/ID"), f"{kind}/OrderReference/ID")
    currency = _text(root, "DocumentCurrencyCode")
    c.put("currency", currency.upper() if currency else None, f"{kind}/DocumentCurrencyCode")
    _ubl_party(_one(root, "AccountingSupplierParty/Party"), "vendor", f"{kind}/AccountingSupplierParty/Party", c)
    _ubl_party(_one(root, "AccountingCustomerParty/Party"), "customer", f"{kind}/AccountingCustomerParty/Party", c)
    iban = _text(root, "PaymentMeans/PayeeFinancialAccount/ID")
    if iban:
        c.put("vendor.iban", iban.replace(" ", ""), f"{kind}/PaymentMeans/PayeeFinancialAccount/ID")
    terms = [t for t in (_text(n) for n in _all(root, "PaymentTerms/Note")) if t]
    c.put("payment_terms", "; ".join(terms) or None, f"{kind}/PaymentTerms/Note")

    totals = _one(root, "LegalMonetaryTotal")
    mbase = f"{kind}/LegalMonetaryTotal"
    c.put("subtotal", _amount(totals, "TaxExclusiveAmount", currency), f"{mbase}/TaxExclusiveAmount")
    if "subtotal" not in c.fields:
        c.put("subtotal", _amount(totals, "LineExtensionAmount", currency), f"{mbase}/LineExtensionAmount")
    c.put("total", _amount(totals, "TaxInclusiveAmount", currency), f"{mbase}/TaxInclusiveAmount")
    c.put("amount_due", _amount(totals, "PayableAmount", currency), f"{mbase}/PayableAmount")

    tax_totals = _all(root, "TaxTotal")
    # A TaxTotal in the invoice currency carries the subtotals; one in the tax currency may follow.
    main = next((t for t in tax_totals if _one(t, "TaxSubtotal") is not None), tax_totals[0] if tax_totals else None)
    c.put("tax_total", _amount(main, "TaxAmount", currency), f"{kind}/TaxTotal/TaxAmount")
    tax_lines = [
        TaxLine(
            rate=_decimal(_text(sub, "TaxCategory/Percent")),
            base=_amount(sub, "TaxableAmount", currency),
            amount=_amount(sub, "TaxAmount", currency),
        )
        for sub in _all(main, "TaxSubtotal")
    ]
    if tax_lines:
        c.invoice.tax_lines = tax_lines
        c.fields["tax_lines"] = _list_info(tax_lines, f"{kind}/TaxTotal/TaxSubtotal")

    items = []
    for line in _all(root, "InvoiceLine|CreditNoteLine"):
        items.append(
            LineItem(
                description=_text(line, "Item/Name") or _text(line, "Item/Description"),
                quantity=_decimal(_text(line, "InvoicedQuantity|CreditedQuantity")),
                unit_price=_amount(line, "Price/PriceAmount", currency),
                amount=_amount(line, "LineExtensionAmount", currency),
                tax_rate=_decimal(_text(line, "Item/ClassifiedTaxCategory/Percent")),
            )
        )
    if items:
        c.invoice.line_items = items
        c.fields["line_items"] = _list_info(items, f"{kind}/{kind}Line")


def _list_info(values: list[Any], source: str) -> FieldInfo:
    return FieldInfo(
        value=[v.model_dump(mode="json") for v in values], confidence=1.0, page=1, bbox=None, source=source
    )


# ---------------------------------------------------------------------------------------------------
# Markdown rendering so the page view is useful.


def _money(value: Decimal | None, currency: str | None = None) -> str:
    if value is None:
        return ""
    return f"{value:,.2f} {currency}".strip() if currency else f"{value:,.2f}"


def _number(value: Decimal | None) -> str:
    if value is None:
        return ""
    return format(value.normalize(), "f") if value == value.to_integral_value() else str(value)


def invoice_blocks(invoice: Invoice, syntax: str, page: int = 1) -> list[Block]:
    """A readable markdown rendering of an invoice: heading, parties, line items, taxes, totals."""
    cur = invoice.currency
    blocks = [Block("heading", f"Invoice {invoice.invoice_number or ''}".strip(), page, level=1)]
    blocks.append(Block("text", f"E-invoice: {syntax}", page))
    facts = [
        ("Invoice number", invoice.invoice_number),
        ("Invoice date", invoice.invoice_date.isoformat() if invoice.invoice_date else None),
        ("Due date", invoice.due_date.isoformat() if invoice.due_date else None),
        ("Purchase order", invoice.purchase_order),
        ("Currency", cur),
        ("Payment terms", invoice.payment_terms),
    ]
    blocks.extend(Block("text", f"{label}: {value}", page) for label, value in facts if value)
    for title, party in (("Seller", invoice.vendor), ("Buyer", invoice.customer)):
        if party == Party():
            continue
        blocks.append(Block("heading", title, page, level=2))
        details = [
            ("Name", party.name),
            ("Address", party.address),
            ("VAT ID", party.tax_id),
            ("IBAN", party.iban),
            ("Email", party.email),
            ("Phone", party.phone),
        ]
        blocks.extend(Block("text", f"{label}: {value}", page) for label, value in details if value)
    if invoice.line_items:
        blocks.append(Block("heading", "Line items", page, level=2))
        rows = [["Description", "Quantity", "Unit price", "Tax %", "Amount"]]
        rows += [
            [
                item.description or "",
                _number(item.quantity),
                _money(item.unit_price),
                _number(item.tax_rate),
                _money(item.amount),
            ]
            for item in invoice.line_items
        ]
        blocks.append(Block("table", page=page, rows=rows))
    if invoice.tax_lines:
        blocks.append(Block("heading", "Taxes", page, level=2))
        rows = [["Tax %", "Base", "Tax"]]
        rows += [[_number(t.rate), _money(t.base), _money(t.amount)] for t in invoice.tax_lines]
        blocks.append(Block("table", page=page, rows=rows))
    totals = [
        ("Subtotal", invoice.subtotal),
        ("Tax total", invoice.tax_total),
        ("Total", invoice.total),
        ("Amount due", invoice.amount_due),
    ]
    rows = [[label, _money(value, cur)] for label, value in totals if value is not None]
    if rows:
        blocks.append(Block("heading", "Totals", page, level=2))
        blocks.append(Block("table", page=page, rows=[["", "Amount"], *rows]))
    for block in blocks:
        block.confidence = 1.0
    return blocks


class EInvoiceEngine(OcrEngine):
    """Reads the structured e-invoice XML (embedded in a PDF or a bare XML file): exact values, no OCR."""

    name: ClassVar[str] = "einvoice"
    description: ClassVar[str] = "Factur-X / ZUGFeRD / XRechnung (CII) or UBL XML: exact values, no OCR."
    options_model: ClassVar[type[EngineOptions]] = EInvoiceOptions
    needs_raster: ClassVar[bool] = False

    def available(self) -> Availability:
        """Needs defusedxml (a core dependency)."""
        try:
            import defusedxml  # noqa: F401
        except ImportError:
            return Availability(False, "defusedxml is not installed; pip install defusedxml")
        return Availability(True)

    def accepts(self, document: Document, page: Page) -> bool:
        """True only when the document carries e-invoice XML."""
        return document.xml is not None

    def recognize(self, document: Document, pages: list[Page], options: EngineOptions) -> list[PageMarkdown]:
        """Page 1 gets the invoice and its markdown; other pages (if asked for) are empty with a note."""
        if document.xml is None:
            raise UnreadableDocument(f"{document.filename}: no e-invoice XML in this document")
        out = []
        for page in pages:
            if page.number != 1:
                note = "not read: the e-invoice XML carries the invoice data (shown on page 1)"
                out.append(PageMarkdown(page.number, self.name, page.width, page.height, notes=[note]))
                continue
            invoice, fields, syntax = parse_einvoice(document.xml)
            source = document.xml_name or document.filename
            for info in fields.values():
                info.source = f"{source}: {info.source}"
            out.append(
                PageMarkdown(
                    page.number,
                    self.name,
                    page.width,
                    page.height,
                    invoice_blocks(invoice, syntax, page.number),
                    notes=[f"read from {source} ({syntax})"],
                    invoice=invoice,
                    invoice_fields=fields,
                )
            )
        return out
