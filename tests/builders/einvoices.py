"""E-invoice XML the tests build: Factur-X / ZUGFeRD CII (versions 1 and 2) and UBL, from an InvoiceSpec."""

from __future__ import annotations

from decimal import Decimal
from xml.sax.saxutils import escape

from tests.builders.invoices import InvoiceSpec


def _d(value: Decimal) -> str:
    return f"{value:.2f}"


def make_cii_xml(spec: InvoiceSpec | None = None, *, version: int = 2, type_code: str = "380") -> bytes:
    """A CII e-invoice for `spec`: version 2 = Factur-X / ZUGFeRD 2 (EN 16931), 1 = ZUGFeRD 1.0."""
    spec = spec or InvoiceSpec()
    return (_cii_v2(spec, type_code) if version == 2 else _cii_v1(spec, type_code)).encode("utf-8")


def _party_v2(tag: str, name: str, address: str, vat: str | None, email: str | None, phone: str | None) -> str:
    street, _, rest = address.partition(", ")
    postcode_city, _, country = rest.rpartition(", ")
    postcode, _, city = postcode_city.partition(" ")
    contact = ""
    if email or phone:
        contact = "<ram:DefinedTradeContact>"
        if phone:
            contact += f"<ram:TelephoneUniversalCommunication><ram:CompleteNumber>{escape(phone)}</ram:CompleteNumber></ram:TelephoneUniversalCommunication>"  # noqa: E501
        if email:
            contact += f"<ram:EmailURIUniversalCommunication><ram:URIID>{escape(email)}</ram:URIID></ram:EmailURIUniversalCommunication>"  # noqa: E501
        contact += "</ram:DefinedTradeContact>"
    tax = (
        f'<ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">{escape(vat)}</ram:ID></ram:SpecifiedTaxRegistration>'
        if vat
        else ""
    )
    return (
        f"<ram:{tag}><ram:Name>{escape(name)}</ram:Name>{contact}"
        f"<ram:PostalTradeAddress><ram:PostcodeCode>{escape(postcode)}</ram:PostcodeCode>"
        f"<ram:LineOne>{escape(street)}</ram:LineOne><ram:CityName>{escape(city)}</ram:CityName>"
        f"<ram:CountryID>{escape(country)}</ram:CountryID></ram:PostalTradeAddress>{tax}</ram:{tag}>"
    )


def _cii_v2(spec: InvoiceSpec, type_code: str) -> str:
    cur = spec.currency
    lines = []
    for index, (description, quantity, price) in enumerate(spec.lines, start=1):
        lines.append(
            f"""<ram:IncludedSupplyChainTradeLineItem>
      <ram:AssociatedDocumentLineDocument><ram:LineID>{index}</ram:LineID></ram:AssociatedDocumentLineDocument>
      <ram:SpecifiedTradeProduct><ram:Name>{escape(description)}</ram:Name></ram:SpecifiedTradeProduct>
      <ram:SpecifiedLineTradeAgreement><ram:NetPriceProductTradePrice><ram:ChargeAmount>{_d(price)}</ram:ChargeAmount></ram:NetPriceProductTradePrice></ram:SpecifiedLineTradeAgreement>
      <ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode="C62">{quantity:f}</ram:BilledQuantity></ram:SpecifiedLineTradeDelivery>
      <ram:SpecifiedLineTradeSettlement>
        <ram:ApplicableTradeTax><ram:TypeCode>VAT</ram:TypeCode><ram:CategoryCode>S</ram:CategoryCode><ram:RateApplicablePercent>{spec.tax_rate:f}</ram:RateApplicablePercent></ram:ApplicableTradeTax>
        <ram:SpecifiedTradeSettlementLineMonetarySummation><ram:LineTotalAmount>{_d(spec.line_amount(quantity, price))}</ram:LineTotalAmount></ram:SpecifiedTradeSettlementLineMonetarySummation>
      </ram:SpecifiedLineTradeSettlement>
    </ram:IncludedSupplyChainTradeLineItem>"""  # noqa: E501
        )
    due = (
        f'<ram:DueDateDateTime><udt:DateTimeString format="102">{spec.due_date:%Y%m%d}</udt:DateTimeString></ram:DueDateDateTime>'  # noqa: E501
        if spec.due_date
        else ""
    )
    po = (
        f"<ram:BuyerOrderReferencedDocument><ram:IssuerAssignedID>{escape(spec.purchase_order)}</ram:IssuerAssignedID></ram:BuyerOrderReferencedDocument>"
        if spec.purchase_order
        else ""
    )
    seller = _party_v2(
        "SellerTradeParty", spec.vendor, spec.vendor_address, spec.vendor_vat, spec.vendor_email, spec.vendor_phone
    )
    buyer = _party_v2("BuyerTradeParty", spec.customer, spec.customer_address, None, None, None)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100" xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100" xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">
  <rsm:ExchangedDocumentContext><ram:GuidelineSpecifiedDocumentContextParameter><ram:ID>urn:cen.eu:en16931:2017</ram:ID></ram:GuidelineSpecifiedDocumentContextParameter></rsm:ExchangedDocumentContext>
  <rsm:ExchangedDocument>
    <ram:ID>{escape(spec.number)}</ram:ID>
    <ram:TypeCode>{type_code}</ram:TypeCode>
    <ram:IssueDateTime><udt:DateTimeString format="102">{spec.date:%Y%m%d}</udt:DateTimeString></ram:IssueDateTime>
  </rsm:ExchangedDocument>
  <rsm:SupplyChainTradeTransaction>
    {"".join(lines)}
    <ram:ApplicableHeaderTradeAgreement>{seller}{buyer}{po}</ram:ApplicableHeaderTradeAgreement>
    <ram:ApplicableHeaderTradeDelivery/>
    <ram:ApplicableHeaderTradeSettlement>
      <ram:InvoiceCurrencyCode>{cur}</ram:InvoiceCurrencyCode>
      <ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>58</ram:TypeCode><ram:PayeePartyCreditorFinancialAccount><ram:IBANID>{spec.iban}</ram:IBANID></ram:PayeePartyCreditorFinancialAccount></ram:SpecifiedTradeSettlementPaymentMeans>
      <ram:ApplicableTradeTax><ram:CalculatedAmount>{_d(spec.tax)}</ram:CalculatedAmount><ram:TypeCode>VAT</ram:TypeCode><ram:BasisAmount>{_d(spec.subtotal)}</ram:BasisAmount><ram:CategoryCode>S</ram:CategoryCode><ram:RateApplicablePercent>{spec.tax_rate:f}</ram:RateApplicablePercent></ram:ApplicableTradeTax>
      <ram:SpecifiedTradePaymentTerms><ram:Description>{escape(spec.payment_terms)}</ram:Description>{due}</ram:SpecifiedTradePaymentTerms>
      <ram:SpecifiedTradeSettlementHeaderMonetarySummation>
        <ram:LineTotalAmount>{_d(spec.subtotal)}</ram:LineTotalAmount>
        <ram:TaxBasisTotalAmount>{_d(spec.subtotal)}</ram:TaxBasisTotalAmount>
        <ram:TaxTotalAmount currencyID="{cur}">{_d(spec.tax)}</ram:TaxTotalAmount>
        <ram:GrandTotalAmount>{_d(spec.total)}</ram:GrandTotalAmount>
        <ram:DuePayableAmount>{_d(spec.total)}</ram:DuePayableAmount>
      </ram:SpecifiedTradeSettlementHeaderMonetarySummation>
    </ram:ApplicableHeaderTradeSettlement>
  </rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>
"""  # noqa: E501


def _cii_v1(spec: InvoiceSpec, type_code: str) -> str:
    cur = spec.currency
    lines = []
    for index, (description, quantity, price) in enumerate(spec.lines, start=1):
        lines.append(
            f"""<ram:IncludedSupplyChainTradeLineItem>
      <ram:AssociatedDocumentLineDocument><ram:LineID>{index}</ram:LineID></ram:AssociatedDocumentLineDocument>
      <ram:SpecifiedSupplyChainTradeAgreement><ram:NetPriceProductTradePrice><ram:ChargeAmount currencyID="{cur}">{_d(price)}</ram:ChargeAmount></ram:NetPriceProductTradePrice></ram:SpecifiedSupplyChainTradeAgreement>
      <ram:SpecifiedSupplyChainTradeDelivery><ram:BilledQuantity unitCode="C62">{quantity:f}</ram:BilledQuantity></ram:SpecifiedSupplyChainTradeDelivery>
      <ram:SpecifiedSupplyChainTradeSettlement>
        <ram:ApplicableTradeTax><ram:TypeCode>VAT</ram:TypeCode><ram:ApplicablePercent>{spec.tax_rate:f}</ram:ApplicablePercent></ram:ApplicableTradeTax>
        <ram:SpecifiedTradeSettlementMonetarySummation><ram:LineTotalAmount currencyID="{cur}">{_d(spec.line_amount(quantity, price))}</ram:LineTotalAmount></ram:SpecifiedTradeSettlementMonetarySummation>
      </ram:SpecifiedSupplyChainTradeSettlement>
      <ram:SpecifiedTradeProduct><ram:Name>{escape(description)}</ram:Name></ram:SpecifiedTradeProduct>
    </ram:IncludedSupplyChainTradeLineItem>"""  # noqa: E501
        )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryDocument xmlns:rsm="urn:ferd:CrossIndustryDocument:invoice:1p0" xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:12" xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:15">
  <rsm:SpecifiedExchangedDocumentContext><ram:GuidelineSpecifiedDocumentContextParameter><ram:ID>urn:ferd:CrossIndustryDocument:invoice:1p0:comfort</ram:ID></ram:GuidelineSpecifiedDocumentContextParameter></rsm:SpecifiedExchangedDocumentContext>
  <rsm:HeaderExchangedDocument>
    <ram:ID>{escape(spec.number)}</ram:ID>
    <ram:TypeCode>{type_code}</ram:TypeCode>
    <ram:IssueDateTime><udt:DateTimeString format="102">{spec.date:%Y%m%d}</udt:DateTimeString></ram:IssueDateTime>
  </rsm:HeaderExchangedDocument>
  <rsm:SpecifiedSupplyChainTradeTransaction>
    <ram:ApplicableSupplyChainTradeAgreement>
      <ram:SellerTradeParty><ram:Name>{escape(spec.vendor)}</ram:Name><ram:SpecifiedTaxRegistration><ram:ID schemeID="FC">201/113/40209</ram:ID></ram:SpecifiedTaxRegistration><ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">{escape(spec.vendor_vat)}</ram:ID></ram:SpecifiedTaxRegistration></ram:SellerTradeParty>
      <ram:BuyerTradeParty><ram:Name>{escape(spec.customer)}</ram:Name></ram:BuyerTradeParty>
    </ram:ApplicableSupplyChainTradeAgreement>
    <ram:ApplicableSupplyChainTradeSettlement>
      <ram:InvoiceCurrencyCode>{cur}</ram:InvoiceCurrencyCode>
      <ram:SpecifiedTradeSettlementPaymentMeans><ram:PayeePartyCreditorFinancialAccount><ram:IBANID>{spec.iban}</ram:IBANID></ram:PayeePartyCreditorFinancialAccount></ram:SpecifiedTradeSettlementPaymentMeans>
      <ram:ApplicableTradeTax><ram:CalculatedAmount currencyID="{cur}">{_d(spec.tax)}</ram:CalculatedAmount><ram:TypeCode>VAT</ram:TypeCode><ram:BasisAmount currencyID="{cur}">{_d(spec.subtotal)}</ram:BasisAmount><ram:ApplicablePercent>{spec.tax_rate:f}</ram:ApplicablePercent></ram:ApplicableTradeTax>
      <ram:SpecifiedTradeSettlementMonetarySummation>
        <ram:LineTotalAmount currencyID="{cur}">{_d(spec.subtotal)}</ram:LineTotalAmount>
        <ram:TaxBasisTotalAmount currencyID="{cur}">{_d(spec.subtotal)}</ram:TaxBasisTotalAmount>
        <ram:TaxTotalAmount currencyID="{cur}">{_d(spec.tax)}</ram:TaxTotalAmount>
        <ram:GrandTotalAmount currencyID="{cur}">{_d(spec.total)}</ram:GrandTotalAmount>
        <ram:DuePayableAmount currencyID="{cur}">{_d(spec.total)}</ram:DuePayableAmount>
      </ram:SpecifiedTradeSettlementMonetarySummation>
    </ram:ApplicableSupplyChainTradeSettlement>
    {"".join(lines)}
  </rsm:SpecifiedSupplyChainTradeTransaction>
</rsm:CrossIndustryDocument>
"""  # noqa: E501


def make_ubl_xml(spec: InvoiceSpec | None = None, *, credit_note: bool = False) -> bytes:
    """A UBL 2.1 Invoice (or CreditNote) for `spec`."""
    spec = spec or InvoiceSpec()
    root = "CreditNote" if credit_note else "Invoice"
    qty_tag = "CreditedQuantity" if credit_note else "InvoicedQuantity"
    cur = spec.currency
    lines = "".join(
        f"""<cac:{root}Line><cbc:ID>{i}</cbc:ID><cbc:{qty_tag} unitCode="C62">{q:f}</cbc:{qty_tag}>
<cbc:LineExtensionAmount currencyID="{cur}">{_d(spec.line_amount(q, p))}</cbc:LineExtensionAmount>
<cac:Item><cbc:Name>{escape(d)}</cbc:Name><cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>{spec.tax_rate:f}</cbc:Percent></cac:ClassifiedTaxCategory></cac:Item>
<cac:Price><cbc:PriceAmount currencyID="{cur}">{_d(p)}</cbc:PriceAmount></cac:Price></cac:{root}Line>"""
        for i, (d, q, p) in enumerate(spec.lines, start=1)
    )
    due = f"<cbc:DueDate>{spec.due_date.isoformat()}</cbc:DueDate>" if spec.due_date and not credit_note else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<{root} xmlns="urn:oasis:names:specification:ubl:schema:xsd:{root}-2" xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
<cbc:ID>{escape(spec.number)}</cbc:ID><cbc:IssueDate>{spec.date.isoformat()}</cbc:IssueDate>{due}
<cbc:DocumentCurrencyCode>{cur}</cbc:DocumentCurrencyCode>
<cac:AccountingSupplierParty><cac:Party><cac:PartyName><cbc:Name>{escape(spec.vendor)}</cbc:Name></cac:PartyName>
<cac:PartyTaxScheme><cbc:CompanyID>{escape(spec.vendor_vat)}</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>
<cac:Contact><cbc:Telephone>{escape(spec.vendor_phone)}</cbc:Telephone><cbc:ElectronicMail>{escape(spec.vendor_email)}</cbc:ElectronicMail></cac:Contact></cac:Party></cac:AccountingSupplierParty>
<cac:AccountingCustomerParty><cac:Party><cac:PartyName><cbc:Name>{escape(spec.customer)}</cbc:Name></cac:PartyName></cac:Party></cac:AccountingCustomerParty>
<cac:PaymentMeans><cbc:PaymentMeansCode>58</cbc:PaymentMeansCode><cac:PayeeFinancialAccount><cbc:ID>{spec.iban}</cbc:ID></cac:PayeeFinancialAccount></cac:PaymentMeans>
<cac:PaymentTerms><cbc:Note>{escape(spec.payment_terms)}</cbc:Note></cac:PaymentTerms>
<cac:TaxTotal><cbc:TaxAmount currencyID="{cur}">{_d(spec.tax)}</cbc:TaxAmount>
<cac:TaxSubtotal><cbc:TaxableAmount currencyID="{cur}">{_d(spec.subtotal)}</cbc:TaxableAmount><cbc:TaxAmount currencyID="{cur}">{_d(spec.tax)}</cbc:TaxAmount><cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>{spec.tax_rate:f}</cbc:Percent></cac:TaxCategory></cac:TaxSubtotal></cac:TaxTotal>
<cac:LegalMonetaryTotal><cbc:LineExtensionAmount currencyID="{cur}">{_d(spec.subtotal)}</cbc:LineExtensionAmount><cbc:TaxExclusiveAmount currencyID="{cur}">{_d(spec.subtotal)}</cbc:TaxExclusiveAmount><cbc:TaxInclusiveAmount currencyID="{cur}">{_d(spec.total)}</cbc:TaxInclusiveAmount><cbc:PayableAmount currencyID="{cur}">{_d(spec.total)}</cbc:PayableAmount></cac:LegalMonetaryTotal>
{lines}
</{root}>
""".encode()  # noqa: E501
