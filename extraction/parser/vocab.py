"""Words the parser reads, per language, in one place: document titles, copy stamps, legal forms, receipt words.

Matching is on folded text (lower case, no accents) unless a pattern says IGNORECASE. Each list feeds named
features of the learned scorers: changing a word changes what the models see (retrain with `make train`).
"""

from __future__ import annotations

import re


def _any(words: tuple[str, ...]) -> str:
    """One regular-expression alternation of `words` (each itself a pattern)."""
    return "|".join(words)


# -- document titles -------------------------------------------------------------------------------
# Titles every document kind shows (EN/DE/FR/NL/ES).
TITLE_WORDS = (
    "tax invoice", "invoice", "receipt", "credit note", "statement", "delivery note", "rechnung", "gutschrift",
    "quittung", "kassenbon", "facture", "recu", "factuur", "kassabon", "factura", "recibo",
)  # fmt: skip
# More titles a line may consist of (with an optional number after them).
MORE_TITLE_WORDS = (
    "pro ?forma(?: invoice)?", "lieferschein", "avoir", "creditnota", "fattura", "ricevuta", "scontrino",
)  # fmt: skip
# Copy marks in English (a line that says which copy of the slip this is).
COPY_WORDS = (
    "copy", "customer copy", "merchant copy", "duplicate", "reprint",
    "(?:original|duplicate|triplicate) for (?:recipient|buyer|transporter|supplier)",
)  # fmt: skip
# The same in the other languages.
MORE_COPY_WORDS = (
    "kopie", "duplikat", "abschrift", "zweitschrift", "copie", "duplicata", "duplicaat", "kopiefactuur", "copia",
    "duplicado", "duplicato",
)  # fmt: skip

COPY_STAMP = re.compile(rf"^\W*(?:{_any(COPY_WORDS + MORE_COPY_WORDS)})\b")
SECTION_HEADING = re.compile(
    r"^\W*(?:(?:payment|bank|banking|invoice|order|shipping|delivery|billing|account|contact|customer|company)"
    r" (?:details|information|info)|terms and conditions|bankverbindung|bankdaten|zahlungsinformationen|"
    r"rechnungsdetails|coordonnees bancaires|details de la facture|conditions generales|betaalgegevens|"
    r"bankgegevens|datos bancarios|detalles de la factura|coordinate bancarie|dettagli fattura)\W*$"
)
DOCUMENT_TITLE = re.compile(rf"^\W*(?:{_any(TITLE_WORDS + MORE_TITLE_WORDS)})\b(?:\W+(?:no|nr|n|#)\W*[\w\-/]*)?\W*$")
# Lines that are never a vendor name (document titles and receipt boilerplate).
# A document title after a name on its line ("Amazon Web Services Invoice", "ACME GMBH RECHNUNG").
TRAILING_TITLE = re.compile(rf"\s+(?:{_any(TITLE_WORDS + MORE_TITLE_WORDS)})\W*$", re.IGNORECASE)
GENERIC_LINE = re.compile(
    rf"^(?:{_any(TITLE_WORDS + COPY_WORDS)}|"
    r"(?:simplified |full )?tax invoice|official receipt|cash (?:bill|receipt|sale)|sales receipt|"
    r"bill|tax receipt|original|debit note|"
    r"beleg|kassenbeleg|ticket|bon|"
    r"ticket de compra|faktura(?: vat)?|paragon(?: fiskalny)?|welcome(?: to)?|thank you\b.*|"
    r"page \d+.*|order|quotation|quote|proforma(?: invoice)?|sales invoice|"
    r"retail invoices?(?:/bill)?|cash|member|table.*|pax.*|cashier.*|server.*|date.*|time.*)$"
)
# A line that is only a title or copy mark of the other languages ("KOPIE", "Lieferschein"): it names nobody.
MORE_GENERIC_LINE = re.compile(rf"^(?:{_any(MORE_TITLE_WORDS + MORE_COPY_WORDS)})$")
# "Customer Receipt", "Customer Billing Receipt", "Customer Copy": a title, not a customer block.
COPY_TITLE = re.compile(r"\W*(?:billing\s+)?(?:receipt|copy)\b")

# -- legal forms -----------------------------------------------------------------------------------
# Company suffixes proper: a company name ends with them (matched case-insensitively on the name as read).
COMPANY_SUFFIXES = (
    r"gmbh", r"ag", r"kg", r"mbh", r"ltd", r"limited", r"llc", r"llp", r"inc", r"corp", r"co\.", r"plc", r"pty",
    r"b\.\s?v", r"bv", r"n\.\s?v\.", r"sarl", r"sas", r"s\.a", r"s\.l", r"srl", r"spa", r"sdn\.?\s?bhd", r"bhd",
    r"berhad", r"s/b", r"pvt", r"pte",
)  # fmt: skip
# Further legal forms (and spellings) that mark a company name.
MORE_LEGAL_FORMS = (
    r"ohg", r"gbr", r"ug", r"e\.\s?k", r"e\.\s?v", r"l\.l\.c", r"corporation", r"company", r"vof", r"bvba",
    r"sprl", r"s\.a\.s?", r"s\.a\.r\.l", r"eurl", r"sasu", r"s\.l\.u", r"s\.r\.l", r"s\.p\.a",
    r"sp\.\s?z\s?o\.?o", r"spolka", r"spółka", r"sdn", r"kft", r"s\.r\.o", r"d\.o\.o",
)  # fmt: skip
# Business words: not legal forms, but names that hold them are shops and companies.
BUSINESS_WORDS = (
    r"enterprise", r"enterprises", r"trading", r"restaurant", r"restoran", r"cafe", r"café", r"store", r"stores",
    r"shop", r"mart", r"market", r"supermarket", r"hotel", r"bakery", r"pharmacy", r"station",
)  # fmt: skip
COMPANY_SUFFIX = re.compile(rf"\b(?:{_any(COMPANY_SUFFIXES)})(?:\.|\b|(?<=\.))", re.IGNORECASE)
LEGAL_FORM = re.compile(
    rf"\b(?:{_any(COMPANY_SUFFIXES + MORE_LEGAL_FORMS + BUSINESS_WORDS)})(?:\.|\b|(?<=\.))", re.IGNORECASE
)

# -- receipts --------------------------------------------------------------------------------------
# Words of till slips: how many a document holds says receipt rather than invoice.
RECEIPT_WORDS = re.compile(
    r"\b(?:receipt|cashier|cash|change|tendered|visa|mastercard|debit|card|kassenbon|bon|ticket|recu|kassabon|"
    r"recibo|scontrino|thank you|thanks|table|server|guest)\b"
)
# The marks of an invoice: its title (a GST "tax invoice" is what till slips print in several countries, so it
# does not count) and bank details to pay it to.
INVOICE_TITLE = re.compile(r"(?<!tax )\b(?:invoice|rechnung|facture|factuur|factura|fattura)\b")
BANK_WORDS = re.compile(r"\b(?:iban|bic|swift|bank|bankverbindung|kontonummer|sort code|rekeningnummer)\b")
# Receipt boilerplate: words that make a line unlikely to be a name (counted, case-insensitive).
BOILERPLATE = re.compile(
    r"\b(?:thank|thanks|welcome|visit|again|open|hours|daily|cashier|server|table|guest|order|terminal|"
    r"register|receipt|copy|member|items?|qty|price|description|amount|payment|change|page|seite|tel|fax|phone)\b",
    re.IGNORECASE,
)

# Figures OCR reads for look-alike letters inside words ("5DN BHD", "S/8", "D.1.Y").
FIGURES_AS_LETTERS = str.maketrans("0158", "OISB")
