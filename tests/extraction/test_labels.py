"""The label lexicon and the language words: the usual labels of each field in the six languages, and words
that are no labels."""

from __future__ import annotations

import pytest

from extraction.markdown import page_from_text
from extraction.parser.context import build_doc
from extraction.parser.labels import LEXICON, LabelHit, compiled_labels, find_label, fold
from extraction.parser.literals import Sieve, needs

KNOWN = [
    # customer's block
    ("To", "customer_label"),
    ("To:", "customer_label"),
    ("An:", "customer_label"),
    ("Aan: Van Dijk Bouw", "customer_label"),
    ("À : Café du Coin", "customer_label"),
    ("Gefactureerd aan", "customer_label"),
    ("Adresse de facturation", "customer_label"),
    ("Facturado a", "customer_label"),
    ("Spett.le", "customer_label"),
    ("Spettabile", "customer_label"),
    ("Intestatario", "customer_label"),
    ("Cessionario / committente", "customer_label"),
    # seller's block
    ("Von: Schmidt & Partner", "vendor_label"),
    ("Fornitore", "vendor_label"),
    ("Cedente / prestatore", "vendor_label"),
    # invoice number
    ("Fattura n. 87/2025", "invoice_number"),
    ("Numero fattura", "invoice_number"),
    ("N. fattura", "invoice_number"),
    ("Facture n° 2025-0099", "invoice_number"),
    ("Factuur nr.", "invoice_number"),
    ("Factura nº", "invoice_number"),
    ("Re.-Nr.", "invoice_number"),
    ("Bon-Nr.", "invoice_number"),
    ("Ticket n°", "invoice_number"),
    ("Scontrino n.", "invoice_number"),
    ("Check #", "invoice_number"),
    ("Booking ID", "invoice_number"),
    ("Buchungsnummer", "invoice_number"),
    ("Codice prenotazione", "invoice_number"),
    # dates
    ("Data fattura", "invoice_date"),
    ("Rechnung vom", "invoice_date"),
    ("Facture du 12/03/2025", "invoice_date"),
    ("Data di emissione", "invoice_date"),
    ("Uitgiftedatum", "invoice_date"),
    ("Émise le", "invoice_date"),
    ("Fälligkeitsdatum", "due_date"),
    ("Date limite de paiement", "due_date"),
    ("Betalen vóór", "due_date"),
    ("Pagar antes de", "due_date"),
    ("Data scadenza", "due_date"),
    ("Pagamento entro", "due_date"),
    ("Data consegna", "other_date"),
    ("Leveringsdatum", "other_date"),
    ("Auftragsdatum", "other_date"),
    # amounts
    ("Factuurbedrag", "total"),
    ("Restbetrag", "amount_due"),
    ("Da pagare", "amount_due"),
    ("Net HT", "subtotal"),
    ("Arrotondamento", "rounding"),
    ("Rundungsdifferenz", "rounding"),
    ("Resto", "change"),
    ("Please pay:", "amount_due"),
    ("Ph: 03-1655 5015", "phone"),
    ("Our ref.", "invoice_number"),
    ("Zurück", "change"),
    ("Sconto", "discount"),
    ("Girocard", "paid"),
    ("Bancomat", "paid"),
    ("Q.tà", "not_money"),
    ("Qté", "not_money"),
    ("Anz.", "not_money"),
    # numbers that are not the invoice's
    ("Auftrags-Nr.", "purchase_order"),
    ("Ihr Zeichen", "purchase_order"),
    ("Numero ordine", "purchase_order"),
    ("Kd.-Nr.", "account_number"),
    ("Codice cliente", "account_number"),
    ("Code client", "account_number"),
    ("Partita IVA", "tax_id"),
    ("UID-Nr.", "tax_id"),
]


@pytest.mark.parametrize(("text", "kind"), KNOWN)
def test_the_usual_labels_of_each_language_are_known(text: str, kind: str) -> None:
    assert find_label(text, kind) is not None


NOT_LABELS = [
    ("Welcome to Freshmart", "customer_label"),  # "to" inside a sentence
    ("Payable to Acme Ltd", "customer_label"),
    ("A", "customer_label"),  # a tax class letter alone
    ("Kundennummer", "customer_label"),  # the customer's account number, not the block
    ("Van Dijk Bouw", "vendor_label"),  # a name that starts with a word of the lexicon
    ("Van Dijk Bouw", "invoice_date"),  # "van" says "dated" only before a date
    ("Del Monte Foods", "invoice_date"),
    ("Fecha de entrega", "paid"),
    ("À payer avant le", "amount_due"),  # a due date
    ("Da pagare entro", "amount_due"),
    ("Total articles", "not_money"),
    ("HEMA RESTO", "change"),  # a restaurant, not the change ("Resto 0,00")
    ("Please pay within 14 days", "amount_due"),  # terms, not an amount
    ("GST Ref No: 001694261248", "invoice_number"),  # a tax registration
    ("Date: 21/10/2017 01:31 PH", "phone"),
]


@pytest.mark.parametrize(("text", "kind"), NOT_LABELS)
def test_words_that_name_something_else_are_no_labels(text: str, kind: str) -> None:
    assert find_label(text, kind) is None


def _scanned(text: str, category: str) -> LabelHit | None:
    """find_label the slow way: every pattern of the category scanned, none ruled out first."""
    hits = [(m, s) for p, s in compiled_labels(category) if (m := p.search(fold(text))) is not None]
    if not hits:
        return None
    m, strength = max(hits, key=lambda h: (h[1], -h[0].start(), h[0].end() - h[0].start()))
    return LabelHit(category, strength, m.start(), m.end())


@pytest.mark.parametrize("text", [text for text, _ in KNOWN + NOT_LABELS] + ["", "12.50", "Rechnungs-Nr. / Datum"])
def test_ruling_patterns_out_by_their_words_finds_every_label_a_full_scan_does(text: str) -> None:
    for category in LEXICON:
        assert find_label(text, category) == _scanned(text, category)


def test_what_a_pattern_needs() -> None:
    assert needs(r"\b(?:total|sum)\b") == {"tot", "sum"}
    assert needs(r"^\W*due\W*$") == {"due"}  # what stands around the word is not needed
    assert needs(r"(?<!gst )\bref\b") == {"ref"}  # nor a lookbehind
    assert needs(r"\d+[.,]\d{2}") == {".", ","}  # one of a set of characters
    assert needs(r"\d+\s\d+") is None  # no literal text: always scanned
    assert needs(r"(?i)total") is None  # case-insensitive: lower-case pieces would miss "TOTAL"
    sieve = Sieve([r"\btotal\b", r"\bdue\b", r"\d+"])
    assert sieve.possible("grand total") == {0, 2}
    assert sieve.possible("amount due") == {1, 2}


@pytest.mark.parametrize(
    ("text", "language"),
    [
        (
            "FATTURA N. 87/2025\nData fattura: 02/04/2025\nImponibile 800,00\nIVA 22% 176,00\nTotale documento 976,00",
            "it",
        ),
        ("FACTURA Nº 12\nFecha: 02/04/2025\nBase imponible 800,00\nIVA 21% 168,00\nImporte total 968,00", "es"),
        ("FACTURE n° 12\nDate : 02/04/2025\nTotal HT 800,00\nTVA 20 % 160,00\nTotal TTC 960,00", "fr"),
        ("RECHNUNG Nr. 12\nDatum: 02.04.2025\nNettobetrag 800,00\nMwSt 19 % 152,00\nGesamtbetrag 952,00", "de"),
    ],
)
def test_the_documents_language_is_read_from_its_words(text: str, language: str) -> None:
    assert build_doc([page_from_text(text, 1, "text")], None).language == language
