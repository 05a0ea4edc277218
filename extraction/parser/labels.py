"""Multilingual label lexicons (EN/DE/FR/NL/ES/IT/PL) and matching on accent-folded, lower-cased text.

Each category is a list of (pattern, strength) pairs; patterns are regular expressions over folded
text (see `fold`), strength 1..3 says how specific the label is (3: names exactly this field).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from extraction.parser.literals import Sieve
from utils.text import FoldTable

if TYPE_CHECKING:
    from collections.abc import Iterable

# The parser's folding: `ß` -> `ss`, `ł` -> `l`, hyphens as spaces ("Rechnungs-Nr", "Total-Excl-GST").
LABEL_FOLD = FoldTable({"ß": "ss", "ł": "l", "Ł": "L"} | dict.fromkeys("-_\u2010\u2011\u2013", " "))


@lru_cache(maxsize=100_000)
def fold(text: str) -> str:
    """Lower case without accents, hyphens as spaces; `ß` -> `ss`, `ł` -> `l`."""
    return text.translate(LABEL_FOLD).lower()


_NO = r"(?:(?:no|nr|n|num|nummer|number|numero|numer)(?![a-z])|#)\.?\s*[o°º]?\.?"

LEXICON: dict[str, list[tuple[str, int]]] = {
    "invoice_number": [
        (
            rf"\b(?:invoice|inv|bill|receipt|tax invoice|document|doc|credit note|rechnungs?|beleg|gutschrift|re|"
            rf"dokument|facture|factuur|factura|fattura|documento|ricevuta)\s*[-.]?\s*{_NO}",
            3,
        ),
        (r"\b(?:rechnungsnummer|rechnungsnr|belegnummer|gutschriftsnummer|factuurnummer|factuurnr|fakturanr)\b", 3),
        (rf"\b{_NO}\s*(?:de\s+|di\s+)?(?:la\s+)?(?:facture|factura|faktury|factuur|fattura|document|documento)\b", 3),
        (r"\bnumero (?:de |di |della )?(?:facture|factura|fattura|document|documento)\b", 3),
        # A receipt's own number ("Bon-Nr.", "Ticket n°", "Slip No", "Check #", "Scontrino n.").
        (
            rf"\b(?:bon|ticket|slip|check|trans|transaction|scontrino|fra\.? simpl)\s*[-.]?\s*{_NO}|"
            rf"\b{_NO}\s*(?:de\s+)?(?:ticket|scontrino)\b|\b(?:bonnummer|bonnr)\b",
            2,
        ),
        # A booking's number is the invoice's on booking confirmations ("Booking ID", "Buchungsnummer").
        (
            r"\b(?:booking|reservation|buchungs?|boekings?|reserva|prenotazione)\s*(?:id|ref|nummer|nr|no|number|code)\b|"
            r"\b(?:buchungsnummer|boekingsnummer|codice prenotazione|n[o°] (?:de )?(?:reserva|reservation))\b",
            2,
        ),
        (r"\bfaktura (?:vat )?nr\b", 3),
        (r"\b(?:invoice|rechnung|facture|factuur|factura|faktura) (?:id|ref)\b", 2),
        # A bare reference: often the invoice's number, sometimes the order's ("Ref.", "Our ref.", "Riferimento").
        (r"(?<!gst )(?<!vat )(?<!tax )\b(?:our ref\w*|ref|reference|referentie|referencia|riferimento|rif)\b", 1),
    ],
    "invoice_number_doc": [
        (
            r"\b(?:tax invoice|invoice|rechnung|handelsrechnung|gutschrift|facture|factuur|factura|faktura(?: vat)?|"
            r"credit note|receipt|fattura|ricevuta|scontrino|nota di credito)\b",
            1,
        ),
    ],
    "invoice_date": [
        (r"\b(?:invoice|inv|bill|receipt|document|tax point) date\b", 3),
        (r"\bdate (?:of )?(?:invoice|issue|bill)\b", 3),
        (r"\b(?:issue|issued|billing) (?:date|on|at)\b", 3),
        (r"\b(?:rechnungsdatum|belegdatum|beleg datum|ausstellungsdatum|rechnungs datum|gutschriftsdatum)\b", 3),
        (r"\bdate (?:de (?:la )?)?(?:facture|facturation|d'?emission)\b", 3),
        (r"\b(?:factuurdatum|datum factuur|factuur datum|uitgiftedatum)\b", 3),
        (r"\bdata (?:della |di )?(?:fattura|documento|emissione)\b", 3),
        (r"\b(?:emise? le|fait le|tax point)\b", 2),
        (r"\bfecha (?:de )?(?:la )?(?:factura|emision|expedicion)\b", 3),
        (r"\bdata (?:wystawienia|faktury)\b", 3),
        (r"\b(?:date|dated|datum|fecha|data|tarikh)\b", 2),
        # "vom 12.03.", "du 12/03", "van 12-03", "del 12/03": only before a date, never in a name ("Van Dijk Bouw").
        (r"\b(?:vom|du|issued|van|del)\b(?=\W*(?:$|\d))", 1),
    ],
    "due_date": [
        (
            r"\b(?:due date|payment due|due on|due by|pay by|payable by|zahlungsziel|faelligkeitsdatum|"
            r"falligkeitsdatum|fallig(?:keit)?(?: am)?|zahlbar bis|date d'?echeance|echeance|a payer avant le|"
            r"date limite de paiement|vervaldatum|uiterste betaaldatum|(?:te )?betalen voor|fecha de vencimiento|"
            r"vencimiento|fecha de pago|pagar antes de|(?:data )?scadenza|pagamento entro|da pagare entro|"
            r"termin platnosci|"
            r"remit until|please remit until|bitte uberweisen sie bis)\b",
            3,
        ),
        (r"\bdue\b", 2),
    ],
    "other_date": [
        (
            r"\b(?:returns?|exchanges?|valid|expir\w*|exp|use by|best before|redeem\w*|offer ends?|"
            r"(?:thru|through|until|till|before)\b)",
            2,
        ),
        (
            r"\b(?:delivery|ship(?:ping|ment|ped)?|order(?:ed)?|service|supply|performance|period|billing period|start|"
            r"end)(?: date| on)?\b",
            1,
        ),
        (r"\b(?:liefer|leistungs|bestell|auftrags?|lieferschein)\s?datum\b|\bliefertag\b", 2),
        (
            r"\b(?:lieferdatum|leistungsdatum|bestelldatum|orderdatum|leverdatum|date de livraison|"
            r"fecha de entrega|date de commande|leistungszeitraum|data (?:dostawy|sprzedazy)|date de prestation|"
            r"livre le|commande le|leveringsdatum|prestatiedatum|besteldatum|fecha de (?:servicio|pedido)|"
            r"fecha (?:de )?operacion|data (?:di )?(?:consegna|prestazione|spedizione|ordine))\b",
            2,
        ),
    ],
    "total": [
        (
            r"\b(?:grand total|total amount|amount total|invoice total|total (?:amount )?due|total payable|"
            r"amount payable|total to pay|total (?:incl|inc|including|inclusive|with)\b\.?(?: of)?(?: gst| vat| tax)?|"
            r"total sales \(?incl\w*|total \(incl\w*|net total \(incl\w*|total rounded|rounded total|"
            r"round(?:ed|ing)? total|total (?:rm|usd|eur|\$)|total after|total value)\b"
            r"|\btotal\b[^0-9]{0,24}\bincl\w*|\btotal\W{0,3}\(?(?:gst|vat|tax)\W{0,3}incl\w*",
            3,
        ),
        (
            r"\b(?:gesamtbetrag|rechnungsbetrag|endbetrag|bruttobetrag|gesamtsumme|summe brutto|brutto(?:betrag)?|"
            r"summe inkl|gesamt inkl|total inkl|zahlbetrag|zu zahlen|rechnungssumme|zahlbarer betrag)\b",
            3,
        ),
        (r"\b(?:montant ttc|total ttc|net a payer|montant total|total a payer|montant du|total general)\b", 3),
        (r"\b(?:totaalbedrag|factuurbedrag|totaal incl|te betalen|totaal te betalen|bedrag incl|totaal)\b", 2),
        (r"\b(?:importe total|total a pagar|total factura|importe a pagar|total con iva)\b", 3),
        (r"\b(?:totale (?:complessivo|documento|fattura|da pagare|euro|eur)|importo totale|netto a pagare)\b", 3),
        (r"\btotale\b", 2),
        (r"\b(?:razem do zaplaty|do zaplaty|naleznosc ogolem|wartosc brutto|suma brutto)\b", 3),
        (r"\b(?:total|totals|summe|gesamt|suma|razem)\b", 2),
        (r"\b(?:montant|amount|amt)\b", 1),
    ],
    "amount_due": [
        (
            r"\b(?:amount due|balance due|total due|due payable|balance|amount to pay|to pay|zu zahlen|zahlbetrag|"
            r"offener betrag|restbetrag|net a payer|solde a payer|solde du|reste a payer|a payer(?! avant)|te betalen|"
            r"te voldoen|openstaand|a pagar|pendiente|da pagare(?! entro)|importo dovuto|"
            r"please pay(?!\s+(?:within|by|before|until|in)\b)|outstanding|do zaplaty)\b",
            3,
        ),
        (r"\b(?:solde|saldo|residuo)\b", 2),
        # A cell holding only "Due" (receipts: "Due | 19.20"); "Due within 14 days" is not an amount label.
        (r"^\W*due\W*$", 2),
    ],
    "net": [
        (r"\b(?:nett? (?:total|amt|amount|sales)|total nett?|nett)\b", 2),
    ],
    "subtotal": [
        (r"\b(?:sub[\s\-]?total|subtotaal|zwischensumme|sous[\s\-]?total|total partial)\b", 3),
        (
            r"\b(?:net amount|amount excl\w*|total excl\w*|total \(excl\w*|total before tax|"
            r"total sales \(?excl\w*|total exclusive|taxable amount|amount before tax|total ex\.? (?:gst|vat|tax))\b",
            3,
        ),
        (
            r"\b(?:ohne (?:ust|mwst|steuer)|exkl\.? (?:ust|mwst)|nettobetrag|summe netto|gesamt netto|"
            r"netto(?:summe|betrag)?|warenwert|gesamtnetto|"
            r"summe positionen|positionssumme)\b",
            3,
        ),
        (r"\b(?:total ht|montant ht|total hors taxes?|prix ht|base ht|net ht)\b", 3),
        (r"\b(?:totaal excl|excl\.? btw|exclusief btw|bedrag excl|netto bedrag)\b", 3),
        (r"\b(?:base imponible|importe neto|subtotal sin iva|total sin iva)\b", 3),
        (r"\b(?:subtotale|sub totale|imponibile|totale imponibile)\b", 3),
        (r"\b(?:wartosc netto|razem netto|suma netto)\b", 3),
    ],
    "tax": [
        (
            r"\b(?:total tax|tax total|total vat|vat total|total gst|gst total|tax amount|vat amount|gst amount|"
            r"sales tax|total sst|service tax|service charge tax)\b",
            3,
        ),
        (
            r"\b(?:mwst\.?\s?betrag|ust\.?\s?betrag|steuerbetrag|umsatzsteuer|mehrwertsteuer|zzgl\.? (?:mwst|ust)|"
            r"zuzugl\.? (?:mwst|ust)|plus vat)\b",
            3,
        ),
        (r"\b(?:montant tva|total tva|tva|total taxes)\b", 3),
        (r"\b(?:btw bedrag|totaal btw|btw)\b", 3),
        (r"\b(?:cuota iva|importe iva|total iva|iva|igic)\b", 3),
        (r"\b(?:kwota vat|podatek vat|vat)\b", 3),
        # Not "Tax Invoice No: 138652": the document's title and number.
        (r"\b(?:tax|taxes|gst|sst|mwst|ust|hst|pst|qst)\b(?!\W*invoice)", 2),
    ],
    "paid": [
        (
            r"\b(?:cash|tendered|tender|paid|payment|card|visa|master ?card|mastercard|amex|debit|credit card|"
            r"credit|eftpos|bar|gegeben|bezahlt|especes|paye|contant|pin|betaald|efectivo|tarjeta|gotowka|karta|"
            r"ideal|paypal|cheque|check|voucher|nets|alipay|wechat|grab ?pay|touch ?n ?go|boost|contanti|"
            r"pagamento|contante|bargeld|ec karte|girocard|kartenzahlung|cb|carte bancaire|carte bleue|ontvangen|"
            r"pinbetaling|maestro|bancontact|entregado|bizum|bancomat|carta di credito)\b",
            2,
        ),
        (r"^\W*pay\W*$", 2),  # a cell holding only "Pay" ("Pay | 20.00"); "Pay by ..." is a due date
    ],
    "change": [
        (
            r"\b(?:change|change due|changed|rueckgeld|ruckgeld|wechselgeld|rendu|monnaie rendue|a rendre|"
            r"wisselgeld|terug|retour|zuruck|cambio|vuelto|devolucion|reszta|balance change)\b|^\W*resto\b",
            3,
        ),
    ],
    "rounding": [
        (
            r"\b(?:rounding|round(?:ing)? adj\w*|rounding adjustment|adj(?:ustment)?|rundung\w*|arrondi|afronding\w*|"
            r"redondeo|arrotondamento|arrot|zaokraglenie)\b",
            3,
        ),
    ],
    "discount": [
        (
            r"\b(?:discount|disc|savings|you saved|rebate|rabatt|nachlass|skonto|remise|reduction|rabais|escompte|"
            r"korting\w*|descuento|dto|bonificacion|sconto|abbuono|rabat)\b",
            2,
        ),
    ],
    "not_money": [
        (
            r"\b(?:total (?:(?:number|no\.?) of )?(?:qty|quantity|items?|item\(s\)|pcs|pieces|units|weight|points)|"
            r"(?:qty|quantity|items?|no\.? of items|item count|pcs|units|anzahl|anz|menge|artikel|aantal|aant|"
            r"hoeveelheid|qte|quantite|nombre d'?articles|nb articles|cantidad|cant|uds|unidades|"
            r"n[o°]\.? articulos|quantita|qta|q\.ta|qt|numero articoli|pezzi|ilosc)\b|"
            r"points?|loyalty|member)\b",
            3,
        ),
        # "VAT Reg No: 191 2478 96", "GST ID 0012": a tax registration number, not a tax amount
        # ("IVA no incluido" says the tax is not included).
        (
            r"\b(?:vat|gst|tax|tva|btw|ust|mwst|sst|iva|nip)\W{0,3}(?:reg(?:istration)?|id|no|nr|number)\b"
            r"(?!\W*inclu)",
            3,
        ),
        # Business registration numbers: Australian ABN/ACN, Indian GSTIN, Singapore UEN.
        (r"\b(?:abn|acn|gstin|uen)\b", 3),
    ],
    "vendor_label": [
        (
            r"\b(?:seller|sold by|vendor|supplier|from|issued by|bill from|service provider|merchant|"
            r"verkaufer|lieferant|rechnungssteller|leistungserbringer|absender|vendeur|fournisseur|emetteur|"
            r"leverancier|verkoper|proveedor|vendedor|emisor|fornitore|cedente|prestatore|mittente|sprzedawca|"
            r"wystawca)\b",
            3,
        ),
        # "Von:", "Van:", "Da:" opening a line: the sender's block follows.
        (r"^\W*(?:von|van|da)\s*:", 3),
    ],
    "customer_label": [
        (
            r"\b(?:bill(?:ed)? to|invoice to|invoiced to|ship(?:ped)? to|deliver to|sold to|customer|client|buyer|"
            r"recipient|attn|attention|kaufer|leistungsempfanger|rechnungsempfanger|warenempfanger|kunde|empfanger|"
            r"rechnungsadresse|lieferanschrift|lieferadresse|facture a|facturer a|adresse de livraison|destinataire|"
            r"acheteur|adresse de facturation|klant|afnemer|factuuradres|afleveradres|koper|gefactureerd aan|"
            r"factuur aan|debiteur|cliente|comprador|facturar a|facturado a|destinatario|spett\.?\s?le|spettabile|"
            r"intestatario|fatturare a|committente|cessionario|nabywca|odbiorca|billing address|shipping address|"
            r"delivery address|invoice address)\b",
            3,
        ),
        # "To", "An:", "Aan:" opening a line (alone or before a colon), "À :": the addressee's block follows.
        (r"^\W*(?:(?:to|an|aan)(?:\s*:|\W*$)|a\s*:)", 3),
    ],
    "payment_terms": [
        (
            r"\b(?:payment terms|terms of payment|terms|zahlungsbedingungen|zahlungsziel|conditions de paiement|"
            r"conditions de reglement|betalingsvoorwaarden|betalingstermijn|condiciones de pago|forma de pago|"
            r"warunki platnosci|termin platnosci)\b",
            3,
        ),
    ],
    "purchase_order": [
        (r"\b(?:purchase order|p\.?o\.?|order)\s*(?:no|nr|number|num|#|ref)?\.?\s*[:#]?", 2),
        (
            r"\b(?:bestell\s?(?:nummer|nr)|auftrags?\s?(?:nummer|nr)|bon de commande|votre (?:commande|reference)|"
            r"n[o°] de commande|numero de commande|your order|your ref\w*|ihre bestellung|ihr zeichen|"
            r"inkoopordernummer|bestelnummer|ordernummer|uw referentie|numero de pedido|pedido|su referencia|"
            r"numero ordine|ordine n|rif\.? ordine|vs\.? riferimento|vostro riferimento|zamowienie)\b",
            2,
        ),
    ],
    # Numbers that name the customer's account, not the document ("Klantnummer", "Customer No.").
    "account_number": [
        (
            r"\b(?:customer|client|account|member|debtor|kunden|klant|debiteur|cliente)\s*(?:no|nr|number|num|id|n\b|#)|"
            r"\b(?:kundennummer|kundennr|kd\.?\s?nr|klantnummer|klantnr|debiteurnummer|debitorennummer|kontonummer|"
            r"numero (?:de )?client|n[o°] (?:de )?client|numero (?:de )?cliente|n[o°] (?:de )?cliente|code client|"
            r"reference client|codigo (?:de )?cliente|cod(?:ice|\.)?\s?cliente)\b",
            3,
        ),
    ],
    "tax_id": [
        (
            r"\b(?:vat|tva|btw|iva|ust|mwst)[\s\-.]*(?:id|reg|registration|no|nr|number|nummer|numero|n°|#)?\.?"
            r"(?:[\s\-.]*(?:no|nr|number|nummer))?\b",
            2,
        ),
        (
            r"\b(?:ust\s?idnr|ust\.?\s?id\.?\s?nr|ust\s?id|steuer\s?nr|steuernummer|tax id|tax no|tax reg\w*|tin|"
            r"gst\W{0,2}(?:reg\w*\W{0,2})?(?:no|id|#)|gst ?id|abn|nip|nif|cif|siren|siret|kvk|vat reg\w*|company no|"
            r"sst (?:reg\w* )?(?:no|id)|uid\W{0,2}(?:nr|nummer)?|n\.i\.f|c\.i\.f|partita iva|codice fiscale|c\.f)\b",
            3,
        ),
    ],
    # A company's entry in a trade register: its number names a company, never the document (read by the
    # consistency pass, not a scorer feature).
    "registration": [
        (
            r"\b(?:co(?:mpany)?\.?\s*reg(?:istration|istered)?\.?\s*(?:no|nr|number|#)?|"
            r"(?<!gst )(?<!vat )(?<!sst )(?<!tax )(?:business |company )?reg(?:istration)?\.?\s*(?:no|nr|number)|"
            r"company (?:no|number)|roc(?: no)?|"
            r"br no|handelsregister|registergericht|amtsgericht|hr[ab]|kvk|kamer van koophandel|siren|siret|rcs|"
            r"registro mercantil|registro (?:delle )?imprese|rea|registered in|registered office)\b",
            3,
        ),
    ],
    "phone": [
        (
            r"\b(?:tel|tel\.|phone|ph(?=\W{0,3}[+(\d])|telephone|telefon|fon|mobile|mob|hp|tlf|telefoon|telefono|"
            r"handy|fax)\b",
            2,
        ),
    ],
}


@dataclass(frozen=True)
class LabelHit:
    """One label found in a line: category, strength, and the span it covers in the folded text."""

    category: str
    strength: int
    start: int
    end: int


@cache
def compiled_labels(category: str) -> list[tuple[re.Pattern[str], int]]:
    """The category's patterns, compiled, with their strengths."""
    return [(re.compile(p), s) for p, s in LEXICON[category]]


@cache
def _sieve() -> tuple[Sieve, dict[str, range], list[str]]:
    """A sieve over every category's patterns, where each category's patterns stand in it, and each one's category."""
    patterns: list[str] = []
    spans: dict[str, range] = {}
    for category, entries in LEXICON.items():
        spans[category] = range(len(patterns), len(patterns) + len(entries))
        patterns.extend(p for p, _ in entries)
    return Sieve(patterns), spans, [c for c, entries in LEXICON.items() for _ in entries]


@lru_cache(maxsize=1024)
def _possible(folded: str) -> frozenset[int]:
    """The patterns (by their place in `_sieve`) that could match a folded text; read several times per text."""
    return _sieve()[0].possible(folded)


def find_label(text: str, category: str, folded: str | None = None) -> LabelHit | None:
    """The strongest (then earliest) label of `category` in `text`, or None."""
    folded = fold(text) if folded is None else folded
    return _strongest(category, folded, _possible(folded))


def find_labels(text: str, categories: Iterable[str], folded: str | None = None) -> dict[str, LabelHit]:
    """The strongest label of each of `categories` that `text` holds (in the order given)."""
    folded = fold(text) if folded is None else folded
    possible = _possible(folded)
    category_of = _sieve()[2]
    present = {category_of[i] for i in possible}
    return {c: hit for c in categories if c in present and (hit := _strongest(c, folded, possible)) is not None}


def _strongest(category: str, folded: str, possible: frozenset[int]) -> LabelHit | None:
    """The strongest (then earliest) label of `category` in a folded text, scanning only the possible patterns."""
    span = _sieve()[1][category]
    if possible.isdisjoint(span):
        return None
    best: LabelHit | None = None
    for i, (pattern, strength) in zip(span, compiled_labels(category), strict=True):
        if i not in possible:
            continue
        m = pattern.search(folded)
        if m is None:
            continue
        hit = LabelHit(category, strength, m.start(), m.end())
        if best is None or (hit.strength, -hit.start, hit.end - hit.start) > (
            best.strength,
            -best.start,
            best.end - best.start,
        ):
            best = hit
    return best


def has_label(text: str, category: str) -> bool:
    """Whether `text` holds a label of `category`."""
    return find_label(text, category) is not None
