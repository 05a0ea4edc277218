"""Stable identifiers of a vendor (tax id, IBAN, registration number, phone, e-mail domain, web address).

Names get garbled by OCR or sit only in a logo; these do not change between a vendor's invoices, so the
history can recognise a vendor by them. Keys are normalized so that two spellings of one identifier agree.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from extraction.parser.parties import iban_valid

if TYPE_CHECKING:
    from extraction.schema import Invoice

# Strongest first: the order a vendor is recognised in, with how sure a match by each kind is.
KIND_CONFIDENCE: dict[str, float] = {
    "tax_id": 0.99,
    "iban": 0.97,
    "registration": 0.95,
    "email_domain": 0.9,
    "website": 0.9,
    "phone": 0.85,
}
# Kinds of which one vendor has exactly one: a different value means a different vendor.
EXCLUSIVE_KINDS = ("tax_id", "registration")
# Mail hosted for everyone says nothing about who sent the invoice.
FREE_MAIL = frozenset(
    {
        *("gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "hotmail.com", "outlook.com", "live.com"),
        *("msn.com", "icloud.com", "me.com", "aol.com", "gmx.de", "gmx.net", "web.de", "t-online.de", "mail.com"),
        *("protonmail.com", "proton.me", "yandex.ru", "mail.ru", "qq.com", "163.com", "orange.fr", "wanadoo.fr"),
        *("free.fr", "libero.it"),
    }
)

_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b")
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,})")
_WEB = re.compile(r"\b(?:https?://)?(www\.[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,})", re.IGNORECASE)
_REGISTRATION = re.compile(
    r"\b(?:HRB|HRA|KvK|SIRET|SIREN|RCS|CRN|company\s+(?:reg(?:istration)?\.?\s*)?(?:no|number)|"
    r"reg(?:istration)?\.?\s*(?:no|nr|number)|ROC|UEN|ABN|ACN)\b[\s.:#\-]*([A-Z]{0,2}[\s\-]?\d[\d\s\-/]{3,18}\d)",
    re.IGNORECASE,
)
_VAT = re.compile(r"\b(?:ATU\d{8}|BE[01]\d{9}|DE\d{9}|FR[A-Z0-9]{2}\d{9}|GB\d{9}|NL\d{9}B\d{2}|[A-Z]{2}\d{8,12})\b")


def normalize_code(value: str | None) -> str:
    """Tax ids, IBANs and registration numbers compared without spaces and punctuation, upper case."""
    return re.sub(r"[^0-9A-Z]", "", (value or "").upper())


# Letters OCR reads for figures in a code ("00039A528768" for "000394528768").
_CODE_GLYPHS = str.maketrans("ODQILZASGB", "0001124568")


def codes_agree(a: str, b: str) -> bool:
    """Whether two normalized codes are one, up to letters read for look-alike figures."""
    return a == b or a.translate(_CODE_GLYPHS) == b.translate(_CODE_GLYPHS)


def normalize_phone(value: str | None) -> str:
    """A phone number's last nine digits (country prefixes and trunk zeros written either way agree)."""
    digits = re.sub(r"\D", "", value or "")
    return digits[-9:] if len(digits) >= 7 else ""


def domain_of(value: str | None) -> str:
    """The registrable part of an e-mail address or web address ('billing@eu.acme.com' -> 'acme.com')."""
    text = (value or "").strip().lower()
    host = text.rsplit("@", 1)[-1]
    host = re.sub(r"^(?:https?://)?(?:www\.)?", "", host).split("/", 1)[0].strip(".")
    parts = [p for p in host.split(".") if p]
    if len(parts) < 2:
        return ""
    # Two-part public suffixes ('co.uk', 'com.my') keep three labels.
    keep = 3 if len(parts) >= 3 and parts[-2] in {"co", "com", "org", "net", "gov", "ac"} else 2
    return ".".join(parts[-keep:])


def identifier_key(kind: str, value: str | None) -> str:
    """The comparable key of one identifier ('' when it is too short or worthless to recognise a vendor by)."""
    if kind == "phone":
        return normalize_phone(value)
    if kind in ("email_domain", "website"):
        domain = domain_of(value)
        return "" if domain in FREE_MAIL else domain
    key = normalize_code(value)
    return key if len(key) >= 5 and any(ch.isdigit() for ch in key) else ""


def text_identifiers(text: str) -> dict[str, list[str]]:
    """Identifiers printed anywhere in a text: checksum-valid IBANs, VAT ids, registrations, domains."""
    found: dict[str, list[str]] = {}

    def add(kind: str, value: str) -> None:
        if identifier_key(kind, value) and value not in found.setdefault(kind, []):
            found[kind].append(value)

    for m in _IBAN.finditer(text):
        if iban_valid(m.group(0)):
            add("iban", m.group(0).replace(" ", ""))
    for m in _VAT.finditer(text):
        add("tax_id", m.group(0))
    for m in _REGISTRATION.finditer(text):
        add("registration", m.group(1).strip())
    for m in _EMAIL.finditer(text):
        add("email_domain", m.group(1).lower())
    for m in _WEB.finditer(text):
        add("website", m.group(1).lower())
    return {k: v for k, v in found.items() if v}


def vendor_identifiers(invoice: Invoice, text: str = "") -> dict[str, str]:
    """The vendor's identifiers: read on its party block, plus registration and web address from the text."""
    party = invoice.vendor
    out: dict[str, str] = {}
    for kind, value in (
        ("tax_id", party.tax_id),
        ("iban", party.iban),
        ("email_domain", domain_of(party.email) if party.email else None),
        ("phone", party.phone),
    ):
        if value and identifier_key(kind, value):
            out[kind] = value
    printed = text_identifiers(text) if text else {}
    customer = invoice.customer
    customer_keys = {
        identifier_key(k, v)
        for k, v in (
            ("registration", customer.tax_id),
            ("email_domain", customer.email),
            ("website", customer.email),
        )
        if v
    }
    for kind in ("registration", "website"):
        for value in printed.get(kind, []):
            if identifier_key(kind, value) not in customer_keys:
                out.setdefault(kind, value)
                break
    return out
