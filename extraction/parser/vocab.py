"""Words the parser reads, per language (matching is on folded text: lower case, no accents)."""

from __future__ import annotations

import re

COPY_STAMP = re.compile(
    r"^\W*(?:copy|customer copy|merchant copy|duplicate|reprint|kopie|duplikat|abschrift|copie|duplicata|"
    r"duplicaat|copia|duplicado)\b"
)
SECTION_HEADING = re.compile(
    r"^\W*(?:(?:payment|bank|banking|invoice|order|shipping|delivery|billing|account|contact|customer|company)"
    r" (?:details|information|info)|terms and conditions|bankverbindung|bankdaten|zahlungsinformationen|"
    r"rechnungsdetails|coordonnees bancaires|details de la facture|conditions generales|betaalgegevens|"
    r"bankgegevens|datos bancarios|detalles de la factura|coordinate bancarie|dettagli fattura)\W*$"
)
DOCUMENT_TITLE = re.compile(
    r"^\W*(?:tax invoice|invoice|receipt|credit note|pro ?forma(?: invoice)?|statement|delivery note|rechnung|"
    r"gutschrift|quittung|kassenbon|lieferschein|facture|avoir|recu|factuur|creditnota|kassabon|factura|recibo|"
    r"fattura|ricevuta|scontrino)\b(?:\W+(?:no|nr|n|#)\W*[\w\-/]*)?\W*$"
)
