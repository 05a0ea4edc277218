"""Identifiers with their real formats and check digits: IBANs, BICs, VAT and registration numbers."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field

from training.synth import vocab

DIGITS = string.digits
UPPER = string.ascii_uppercase

# BBAN layout per country: n = digit, a = capital letter, c = digit or capital letter; None: no IBAN there.
BBAN: dict[str, str | None] = {
    "DE": "n" * 18, "AT": "n" * 16, "CH": "n" * 17, "FR": "n" * 23, "BE": "n" * 12, "NL": "aaaa" + "n" * 10,
    "LU": "n" * 16, "ES": "n" * 20, "IT": "a" + "n" * 22, "GB": "aaaa" + "n" * 14, "IE": "aaaa" + "n" * 14,
    "SE": "n" * 20, "PL": "n" * 24, "US": None, "MY": None, "IN": None,
}  # fmt: skip


def _draw(rng: random.Random, layout: str) -> str:
    pools = {"n": DIGITS, "a": UPPER, "c": DIGITS + UPPER}
    return "".join(rng.choice(pools[c]) for c in layout)


def _luhn_check(digits: str) -> int:
    """The digit that makes `digits + check` pass the Luhn test."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def _iban_check(country: str, bban: str) -> str:
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{98 - int(numeric) % 97:02d}"


def make_iban(rng: random.Random, country: str, bank_code: str | None = None) -> str | None:
    """A checksum-valid IBAN for the country (None where IBANs are not used)."""
    layout = BBAN.get(country)
    if layout is None:
        return None
    bban = _draw(rng, layout)
    if bank_code and layout.startswith("aaaa"):
        bban = bank_code[:4] + bban[4:]
    if country == "BE":  # national check: last two digits are the first ten mod 97
        check = int(bban[:10]) % 97 or 97
        bban = bban[:10] + f"{check:02d}"
    elif country == "FR":  # RIB key over bank, branch and account
        bank, branch, account = int(bban[:5]), int(bban[5:10]), int(bban[10:21])
        key = 97 - (89 * bank + 15 * branch + 3 * account) % 97
        bban = bban[:21] + f"{key:02d}"
    return country + _iban_check(country, bban) + bban


def group4(s: str) -> str:
    """'DE89370400440532013000' -> 'DE89 3704 0044 0532 0130 00'."""
    return " ".join(s[i : i + 4] for i in range(0, len(s), 4))


def make_bic(rng: random.Random, country: str, bank_code: str) -> str:
    """An 8 or 11 character BIC for a bank code."""
    loc = rng.choice(("FF", "MM", "2X", "22", "HH", "PP", "RR", "AA", "BB"))
    branch = rng.choice(("", "", "XXX", _draw(rng, "ccc")))
    return f"{bank_code[:4]}{country}{loc}{branch}"


@dataclass
class TaxIds:
    """A company's tax and registration numbers as printed, and its compact VAT/tax id."""

    tax_id: str  # compact, e.g. 'DE123456789'
    printed: str  # as the document prints it, e.g. 'DE 123 456 789'
    label: str  # what precedes it: 'USt-IdNr.', 'VAT Reg No', ...
    registrations: list[str] = field(default_factory=list)  # 'HRB 12345, Amtsgericht Köln', 'SIRET ...'


def _de_check(body: str) -> int:
    product = 10
    for ch in body:
        s = (int(ch) + product) % 10 or 10
        product = (2 * s) % 11
    return (11 - product) % 10


def _it_check(body: str) -> int:
    total = 0
    for i, ch in enumerate(body):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return (10 - total % 10) % 10


def _es_cif(rng: random.Random, letter: str) -> str:
    body = _draw(rng, "nnnnnnn")
    even = sum(int(body[i]) for i in (1, 3, 5))
    odd = sum(sum(divmod(2 * int(body[i]), 10)) for i in (0, 2, 4, 6))
    return f"{letter}{body}{(10 - (even + odd) % 10) % 10}"


def _gstin_check(s: str) -> str:
    chars = DIGITS + UPPER
    total = 0
    for i, ch in enumerate(s):
        v = chars.index(ch) * (2 if i % 2 else 1)
        total += v // 36 + v % 36
    return chars[(36 - total % 36) % 36]


def _pl_nip(rng: random.Random) -> str:
    while True:
        body = _draw(rng, "n" * 9)
        check = sum(w * int(d) for w, d in zip((6, 5, 7, 2, 3, 4, 5, 6, 7), body, strict=True)) % 11
        if check != 10:
            return body + str(check)


def make_tax_ids(rng: random.Random, country: str, language: str, city: str, form: str) -> TaxIds:
    """VAT / tax id and registration lines in the country's real formats."""
    vat_label = rng.choice(vocab.WORDS[language]["vat_id"])
    n = rng.randint
    if country == "DE":
        body = f"{n(1, 9)}{_draw(rng, 'nnnnnnn')}"
        vat = f"DE{body}{_de_check(body)}"
        printed = rng.choice((vat, f"DE {vat[2:5]} {vat[5:8]} {vat[8:]}", f"DE {vat[2:]}"))
        court = city.split(",")[0]
        reg_kind = "HRA" if "KG" in form or "e.K." in form else "HRB"
        regs = [f"{reg_kind} {n(1000, 99999)}", f"Amtsgericht {court}"]
        if rng.random() < 0.4:
            regs.append(f"St.-Nr. {n(10, 99)}/{n(100, 999)}/{n(10000, 99999)}")
        if rng.random() < 0.3:
            regs.append(f"WEEE-Reg.-Nr. DE {n(10000000, 99999999)}")
        return TaxIds(vat, printed, vat_label, regs)
    if country == "AT":
        body = _draw(rng, "nnnnnnn")
        s = sum(int(body[i]) for i in (0, 2, 4, 6)) + sum(sum(divmod(2 * int(body[i]), 10)) for i in (1, 3, 5))
        vat = f"ATU{body}{(10 - (s + 4) % 10) % 10}"
        regs = [f"FN {n(100000, 599999)}{rng.choice('abdghimpstvwxyz')}", f"Firmenbuchgericht {city}"]
        return TaxIds(vat, vat, rng.choice(("UID-Nr.", "UID", "USt-IdNr.")), regs)
    if country == "CH":
        while True:
            body = _draw(rng, "nnnnnnnn")
            check = 11 - sum(w * int(d) for w, d in zip((5, 4, 3, 2, 7, 6, 5, 4), body, strict=True)) % 11
            if check != 10:
                break
        uid = f"CHE-{body[:3]}.{body[3:6]}.{body[6:]}{check % 11}"
        tax = {"de": "MWST", "fr": "TVA", "it": "IVA"}.get(language, "MWST")
        printed = f"{uid} {tax}"
        return TaxIds(f"CHE{body}{check % 11}", printed, rng.choice(("UID", "MWST-Nr.", "N° TVA", "IDI")), [])
    if country == "FR":
        body = _draw(rng, "nnnnnnnn")
        siren = body + str(_luhn_check(body))
        key = (12 + 3 * (int(siren) % 97)) % 97
        vat = f"FR{key:02d}{siren}"
        nic = _draw(rng, "nnnn")
        siret = siren + nic + str(_luhn_check(siren + nic))
        printed = rng.choice((vat, f"FR {key:02d} {siren[:3]} {siren[3:6]} {siren[6:]}"))
        regs = [f"SIRET {siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}",
                f"RCS {city} B {siren[:3]} {siren[3:6]} {siren[6:]}",
                f"Code APE {n(1000, 9999)}{rng.choice('ABCZ')}"]  # fmt: skip
        if rng.random() < 0.5:
            regs.append(f"{form} au capital de {n(1, 50) * 1000:,} €".replace(",", " "))
        return TaxIds(vat, printed, vat_label, regs)
    if country == "BE":
        body = f"0{_draw(rng, 'nnnnnnn')}"
        check = 97 - int(body) % 97
        num = f"{body}{check:02d}"
        vat = f"BE{num}"
        printed = rng.choice((vat, f"BE {num[:4]}.{num[4:7]}.{num[7:]}", f"BE{num[:4]}.{num[4:7]}.{num[7:]}"))
        court = rng.choice(("RPM Bruxelles", "RPR Antwerpen", "RPR Gent", "RPM Liège"))
        return TaxIds(vat, printed, vat_label, [f"{court}", f"KBO/BCE {num[:4]}.{num[4:7]}.{num[7:]}"])
    if country == "NL":
        vat = f"NL{_draw(rng, 'n' * 9)}B{n(1, 3):02d}"
        regs = [f"KvK {_draw(rng, 'n' * 8)}"]
        return TaxIds(vat, rng.choice((vat, f"{vat[:2]} {vat[2:]}")), vat_label, regs)
    if country == "LU":
        body = _draw(rng, "nnnnnn")
        vat = f"LU{body}{int(body) % 89:02d}"
        return TaxIds(vat, vat, rng.choice(("TVA", "N° TVA", "USt-IdNr.")), [f"RCS Luxembourg B{n(10000, 299999)}"])
    if country == "ES":
        cif = _es_cif(rng, "A" if form.startswith("S.A") else "B")
        province = city.split()[0]
        regs = [f"Inscrita en el Registro Mercantil de {province}, Tomo {n(1000, 40000)}, Folio {n(1, 220)}, "
                f"Hoja {province[0]}-{n(10000, 699999)}"]  # fmt: skip
        printed = rng.choice((cif, f"ES{cif}", f"{cif[0]}-{cif[1:]}"))
        return TaxIds(f"ES{cif}", printed, vat_label, regs)
    if country == "IT":
        body = f"{_draw(rng, 'n' * 7)}{rng.choice(('015', '096', '058', '021', '037'))}"
        piva = body + str(_it_check(body))
        prov = city.split("(")[-1].rstrip(")") if "(" in city else "MI"
        regs = [f"REA {prov}-{n(100000, 2999999)}", f"Capitale sociale € {n(10, 500)}.000,00 i.v."]
        printed = rng.choice((piva, f"IT{piva}", f"IT {piva}"))
        return TaxIds(f"IT{piva}", printed, vat_label, regs)
    if country == "GB":
        body = _draw(rng, "nnnnnnn")
        s = sum(w * int(d) for w, d in zip(range(8, 1, -1), body, strict=True))
        num = f"{body}{(-s) % 97:02d}"
        printed = rng.choice((f"GB{num}", f"GB {num[:3]} {num[3:7]} {num[7:]}", f"{num[:3]} {num[3:7]} {num[7:]}"))
        regs = [f"Registered in England and Wales No. {n(1000000, 15999999):08d}"]
        return TaxIds(f"GB{num}", printed, vat_label, regs)
    if country == "IE":
        body = _draw(rng, "nnnnnnn")
        s = sum(w * int(d) for w, d in zip(range(8, 1, -1), body, strict=True))
        vat = f"IE{body}{'WABCDEFGHIJKLMNOPQRSTUV'[s % 23]}"
        return TaxIds(vat, vat, vat_label, [f"Registered in Ireland No. {n(100000, 799999)}"])
    if country == "US":
        ein = f"{n(10, 98)}-{n(1000000, 9999999)}"
        return TaxIds(ein, ein, rng.choice(("EIN", "Tax ID", "Federal Tax ID", "TIN")), [])
    if country == "MY":
        old = f"{n(10000, 1299999)}-{rng.choice(UPPER)}"
        new = f"{n(1990, 2023)}{n(1, 3):02d}{n(0, 999999):06d}"
        regs = [rng.choice((f"({old})", f"Co. Reg. No. {old}", f"{new} ({old})", f"ROC No: {old}"))]
        if rng.random() < 0.5:
            gst = f"{n(0, 2999999999):012d}"
            return TaxIds(gst, gst, rng.choice(("GST ID", "GST Reg No", "GST No", "GST ID No")), regs)
        sst = f"{rng.choice('BWJ')}{n(10, 24)}-{n(1000, 1999)}-{n(10000000, 32999999)}"
        return TaxIds(sst.replace("-", ""), sst, rng.choice(("SST No", "SST Reg No", "SST ID")), regs)
    if country == "IN":
        state = rng.choice(("29", "27", "07", "33", "36", "24", "09"))
        pan = f"{_draw(rng, 'aaa')}C{rng.choice(UPPER)}{_draw(rng, 'nnnn')}{rng.choice(UPPER)}"
        body = f"{state}{pan}{n(1, 9)}Z"
        gstin = body + _gstin_check(body)
        regs = [f"PAN: {pan}", f"CIN: U{n(10000, 99999)}{rng.choice(('KA', 'MH', 'DL', 'TN'))}{n(1995, 2022)}"
                f"PTC{n(0, 999999):06d}"]  # fmt: skip
        return TaxIds(gstin, gstin, rng.choice(("GSTIN", "GSTIN/UIN", "GST No")), regs)
    if country == "SE":
        body = f"55{_draw(rng, 'nnnnnnn')}"
        org = body + str(_luhn_check(body))
        vat = f"SE{org}01"
        regs = [f"Org.nr {org[:6]}-{org[6:]}", "Godkänd för F-skatt"]
        return TaxIds(vat, vat, rng.choice(("VAT No.", "Momsreg.nr", "VAT reg. no.")), regs)
    if country == "PL":
        nip = _pl_nip(rng)
        printed = rng.choice((f"PL{nip}", f"{nip[:3]}-{nip[3:6]}-{nip[6:8]}-{nip[8:]}", nip))
        regs = [f"KRS {n(1, 999999):010d}", f"REGON {_draw(rng, 'n' * 9)}"]
        return TaxIds(f"PL{nip}", printed, rng.choice(("NIP", "VAT ID", "NIP/VAT")), regs)
    raise ValueError(f"no tax id format for {country}")
