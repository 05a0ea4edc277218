"""The country a document shows: IBANs, VAT ids, phone prefixes, country names, the regions its address names
and one-country legal forms."""

from __future__ import annotations

import re
from collections import Counter

from extraction.parser.vocab import COMPANY_SUFFIXES, MORE_LEGAL_FORMS

_PHONE_PREFIX = {
    "49": "DE",
    "33": "FR",
    "31": "NL",
    "32": "BE",
    "34": "ES",
    "39": "IT",
    "43": "AT",
    "41": "CH",
    "44": "GB",
    "48": "PL",
    "60": "MY",
    "65": "SG",
    "91": "IN",
    "61": "AU",
    "64": "NZ",
    "353": "IE",
    "351": "PT",
    "352": "LU",
    "45": "DK",
    "46": "SE",
    "47": "NO",
}
_COUNTRY_NAMES = {
    "DE": r"germany|deutschland",
    "AT": r"austria|osterreich",
    "CH": r"switzerland|schweiz|suisse|svizzera",
    "FR": r"france",
    "BE": r"belgium|belgique|belgie",
    "NL": r"netherlands|nederland|holland",
    "ES": r"spain|espana",
    "IT": r"italy|italia",
    "GB": r"united kingdom|england|scotland|wales",
    "IE": r"ireland",
    "PL": r"poland|polska",
    "MY": r"malaysia",
    "SG": r"singapore",
    "IN": r"india",
    "US": r"usa|united states",
    "CA": r"canada",
    "AU": r"australia",
}
# Regions an address names by convention: Malaysian and Indian states (after the postcode and town).
_REGIONS = {
    "MY": r"kuala lumpur|putrajaya|labuan|johor|kedah|kelantan|melaka|malacca|negeri sembilan|pahang|pulau pinang|"
    r"penang|perak|perlis|sabah|sarawak|selangor|terengganu",
    "IN": r"maharashtra|karnataka|tamil nadu|telangana|andhra pradesh|uttar pradesh|west bengal|gujarat|rajasthan|"
    r"kerala|haryana|madhya pradesh|odisha|new delhi",
}
_REGION = re.compile(r"\b(?:" + "|".join(f"(?P<{k}>{v})" for k, v in _REGIONS.items()) + r")\b")
# A state or province before its postcode: Australia's four digits ("Sydney NSW 2000"; a US state has five) and
# Canada's letters and digits ("Toronto, ON M5V 2A1").
_AU_ADDRESS = re.compile(r"\b(?:NSW|VIC|QLD|SA|WA|TAS|ACT|NT)\s+\d{4}\b")
_CA_ADDRESS = re.compile(r"\b(?:AB|BC|MB|NB|NL|NS|NT|NU|ON|PE|QC|SK|YT)\s+[A-Z]\d[A-Z]\s?\d[A-Z]\d\b")
# An amount with cents: the line is an item or a total ("BAWANG BESAR INDIA 3.50"), not an address.
_MONEY_ON_LINE = re.compile(r"(?<![\d.,])\d{1,3}(?:[.,]?\d{3})*[.,]\d{2}(?![\d.,])")
# A US state before its ZIP code ("Seattle, WA 98101-9998"), and a North American phone number ("(303) 555-0148").
_US_STATES = (
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR "
    "PA RI SC SD TN TX UT VT VA WA WV WI WY DC"
)
US_ADDRESS = re.compile(rf",?\s(?:{'|'.join(_US_STATES.split())}),?\s+\d{{5}}(?:-\d{{4}})?\b")
US_PHONE = re.compile(r"\(\d{3}\)\s?\d{3}[-.\s]\d{4}|\b\d{3}[-.]\d{3}[-.]\d{4}\b")
# What may follow a country that an address or a company names: a postcode, or a legal form with or without its
# dots ("ESPAÑA,SL").
_FORMS = "|".join(re.sub(r"\\\.(?!\?)", r"\\.?", form) for form in COMPANY_SUFFIXES + MORE_LEGAL_FORMS)
_ADDRESS_END = re.compile(rf"[\s.,;:)\-]*(?:\d[\d\s\-]*|(?:{_FORMS})\b)?[\s.]*$")
_COUNTRY_NAME = re.compile(r"\b(?:" + "|".join(f"(?P<{k}>{v})" for k, v in _COUNTRY_NAMES.items()) + r")\b")
_IBAN = re.compile(r"\b([A-Z]{2})\d{2}\s?(?:[A-Z0-9]{4}\s?){2,7}[A-Z0-9]{1,4}\b")
_VAT = re.compile(r"\b(AT|BE|DE|DK|ES|FI|FR|GB|IE|IT|LU|NL|PL|PT|SE|CH)[ ]?(?:U)?\d{8,12}\b")
_PHONE = re.compile(r"(?:\+|\b00)(\d{2,3})[\s\-/().]*\d")
# Legal forms that exist in one country only.
_LEGAL_COUNTRY = {
    # "Bhd" (Berhad) alone ends public companies' names ("AEON CO. (M) BHD"); beside a figure it is the dinar.
    "MY": re.compile(r"\bsdn\.?\s?bhd\b|\(m\)\s*sdn|\bberhad\b|(?<![\d.,])(?<![\d.,] )\bbhd\b(?!\.?\s?[-−]?\d)"),
    "IN": re.compile(r"\bpvt\.?\s?ltd\b|\bgstin\b"),
    "CA": re.compile(r"\bhst\b"),  # the harmonized sales tax
    "SG": re.compile(r"\bpte\.?\s?ltd\b|\buen\b"),
    "DE": re.compile(r"\bgmbh\b|\bust\s?id"),
    "FR": re.compile(r"\bsarl\b|\bsiret\b|\bsiren\b"),
    "NL": re.compile(r"\bb\.?v\.\B|\bkvk\b"),
}


def country_votes(text: str, folded: str) -> Counter[str]:
    """Evidence per country code that the document itself shows (its text, and the same text folded)."""
    votes: Counter[str] = Counter()
    for m in _IBAN.finditer(text):
        votes[m.group(1)] += 2
    for m in _VAT.finditer(text.replace(" ", "")):
        votes[m.group(1)] += 2
    for m in _PHONE.finditer(text):
        code = m.group(1)
        country = _PHONE_PREFIX.get(code) or _PHONE_PREFIX.get(code[:2])
        if country:
            votes[country] += 1
    # A country an item line names is the item's origin ("BAWANG BESAR INDIA 3.50", "Canada - First-Class $4.25").
    # An address ends with its country or puts only a postcode after it ("Singapore 038983"), a national company
    # only its legal form ("STARBUCKS COFFEE ESPAÑA,SL"); a country inside a name or a slogan is neither
    # ("India Palace", "for Canada's Best Pet").
    for line in folded.splitlines():
        if _MONEY_ON_LINE.search(line):
            continue
        for m in _COUNTRY_NAME.finditer(line):
            if m.lastgroup and _ADDRESS_END.match(line, m.end()):
                votes[m.lastgroup] += 1
        for m in _REGION.finditer(line):
            if m.lastgroup:
                votes[m.lastgroup] += 1
    for country, address in (("AU", _AU_ADDRESS), ("CA", _CA_ADDRESS)):
        if found := len(address.findall(text)):
            votes[country] += found
    for country, pattern in _LEGAL_COUNTRY.items():
        if pattern.search(folded):
            votes[country] += 1
    return votes


def shown_country(votes: Counter[str]) -> str | None:
    """The one country with more evidence (`country_votes`) than any other, if any."""
    ranked = votes.most_common(2)
    if not ranked or (len(ranked) > 1 and ranked[1][1] == ranked[0][1]):
        return None
    return ranked[0][0]
