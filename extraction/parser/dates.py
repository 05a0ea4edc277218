"""Dates as invoices print them: numeric, written (EN/DE/FR/NL/ES/PL month names) and ISO.

Numeric dates whose day and month could swap (`03/04/2024`) are read with an order decided for the
whole document (`decide_order`): from its unambiguous numeric dates first, then its language and
currency. When nothing decides, the date is read day-first and flagged `ambiguous` so the caller can
record a reason; it is never silently guessed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from extraction.parser.misreads import one_letter_off

Order = Literal["dmy", "mdy"]

_MONTHS: dict[int, tuple[str, ...]] = {
    1: (
        "january",
        "jan",
        "januar",
        "jänner",
        "janvier",
        "janv",
        "januari",
        "enero",
        "ene",
        "styczeń",
        "stycznia",
        "sty",
    ),
    2: (
        "february",
        "feb",
        "februar",
        "février",
        "fevrier",
        "févr",
        "fevr",
        "fév",
        "februari",
        "febrero",
        "luty",
        "lutego",
        "lut",
    ),
    3: ("march", "mar", "märz", "maerz", "mär", "mars", "maart", "mrt", "marzo", "marzec", "marca"),
    4: ("april", "apr", "avril", "avr", "abril", "abr", "kwiecień", "kwietnia", "kwi"),
    5: ("may", "mai", "mei", "mayo", "maj", "maja"),
    6: ("june", "jun", "juni", "juin", "junio", "czerwiec", "czerwca", "cze"),
    7: ("july", "jul", "juli", "juillet", "juil", "julio", "lipiec", "lipca", "lip"),
    8: ("august", "aug", "août", "aout", "augustus", "agosto", "ago", "sierpień", "sierpnia", "sie"),
    9: ("september", "sep", "sept", "septembre", "septiembre", "setiembre", "set", "wrzesień", "września", "wrz"),
    10: ("october", "oct", "oktober", "okt", "octobre", "octubre", "październik", "października", "paź", "paz"),
    11: ("november", "nov", "novembre", "noviembre", "listopad", "listopada", "lis"),
    12: (
        "december",
        "dec",
        "dezember",
        "dez",
        "décembre",
        "decembre",
        "déc",
        "diciembre",
        "dic",
        "grudzień",
        "grudnia",
        "gru",
    ),
}
_DE_MONTHS = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
]
MONTH_NAMES: dict[str, int] = {name: month for month, names in _MONTHS.items() for name in names}


def _ocr_variants(name: str) -> set[str]:
    """The spellings OCR makes of a month name by reading l as 1 and o as 0 ("Ju1", "0ct")."""
    return {name.replace("l", "1"), name.replace("o", "0"), name.replace("l", "1").replace("o", "0")} - {name}


# English names only: receipts' short dates ("Jul19'14") are where OCR meets them most, and the
# variants of shorter foreign names ("lut", "lis") would read ordinary text as dates.
MONTH_NAMES.update({v: month for month, names in _MONTHS.items() for n in names[:2] for v in _ocr_variants(n)})
_MONTH_ALT = "|".join(sorted((re.escape(n) for n in MONTH_NAMES), key=len, reverse=True))

_SEP = r"[./\-]"
_NUMERIC = re.compile(
    rf"(?<![\d.,/\-])(?:"
    # A time glued to the day: 2019-04-0209:15:33.
    rf"(?P<iy>(?:19|20)\d\d)(?P<is>{_SEP})(?P<im>\d{{1,2}})(?P=is)"
    rf"(?:(?P<idg>\d{{2}})(?=\d{{1,2}}:\d\d)|(?P<id>\d{{1,2}}))"
    rf"|(?P<a>\d{{1,2}})\s?(?P<s>{_SEP})\s?(?P<b>\d{{1,2}})\s?(?P=s)\s?"
    # OCR often glues the time to a four-digit year: 14/03/20185:57:07PM.
    rf"(?:(?P<y>(?:19|20)\d\d)(?=\d{{1,2}}:\d\d)|(?P<y2>(?:19|20)?\d\d)(?![\d]|[.,/\-]\d))"
    rf")(?(y)|(?(idg)|(?![\d]|[.,/\-]\d)))"
)
_WRITTEN_DMY = re.compile(
    rf"(?<![\w])(?P<d>\d{{1,2}})(?:st|nd|rd|th|er|\.|º)?[\s\-/.]*(?:de\s+)?(?P<m>{_MONTH_ALT})\.?"
    rf"(?:[\s\-/.,´'`’]*(?:de\s+)?(?P<y>(?:19|20)\d\d|\d\d))(?![\d])",
    re.IGNORECASE,
)
_WRITTEN_MDY = re.compile(
    rf"(?<![\w])(?P<m>{_MONTH_ALT})\.?[\s\-/.]*(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?:,\s*|[\s\-/.,´'`’]+)"
    rf"(?P<y>(?:19|20)\d\d|\d\d)(?![\d])",
    re.IGNORECASE,
)
# One separator lost between day and month, or before the year: 0804/2019, 08/042019.
_GLUED = re.compile(
    r"(?<![\d.,/\-])(?:(?P<a>\d{2})(?P<b>\d{2})[./\-]|(?P<a2>\d{2})[./\-](?P<b2>\d{2}))"
    r"(?P<y>(?:19|20)\d\d)(?![\d])"
)
# A written date with a four-digit year whose month name OCR misread by one letter ("Harch 27th 2018").
_MISREAD_MDY = re.compile(
    r"(?<![\w])(?P<m>[^\W\d_]{5,9})\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>(?:19|20)\d\d)(?![\d])"
)
_MISREAD_DMY = re.compile(
    r"(?<![\w])(?P<d>\d{1,2})(?:st|nd|rd|th|er|\.)?\s+(?P<m>[^\W\d_]{5,9})\.?,?\s+(?P<y>(?:19|20)\d\d)(?![\d])"
)
_COMPACT = re.compile(r"(?<![\d])(?P<y>(?:19|20)\d\d)(?P<m>0[1-9]|1[0-2])(?P<d>0[1-9]|[12]\d|3[01])(?![\d])")

# Quick tests that rule patterns out before they scan a line: every date holds a figure; the misread, glued
# and compact ones a four-digit year; the written ones a month name, so the first three letters of one.
_DIGIT = re.compile(r"\d")
_YEAR = re.compile(r"(?:19|20)\d\d")


def _prefix_pattern(prefixes: set[str]) -> re.Pattern[str]:
    """A case-sensitive pattern for any of these strings, grouped by first letter (much faster than IGNORECASE)."""
    by_first: dict[str, list[str]] = {}
    for p in sorted(prefixes):
        by_first.setdefault(p[0], []).append(re.escape(p[1:]))
    return re.compile("|".join(f"{re.escape(first)}(?:{'|'.join(rest)})" for first, rest in by_first.items()))


_MONTH_PREFIX = _prefix_pattern({name.lower()[:3] for name in MONTH_NAMES})


def _may_name_month(text: str) -> bool:
    """Whether a month name could be in `text` as the IGNORECASE written-date patterns read it."""
    folded = text.lower()
    if not folded.isascii():
        # IGNORECASE also reads "ı" as i and "ſ" as s; lower() makes "İ" an i and a combining dot.
        folded = folded.replace("ı", "i").replace("ſ", "s").replace("\u0307", "")
    return _MONTH_PREFIX.search(folded) is not None


# Languages that write numeric dates month-first; everything else is day-first.
MONTH_FIRST_LANGUAGES = frozenset({"en-us"})
MONTH_FIRST_CURRENCIES = frozenset({"USD"})
MONTH_FIRST_COUNTRIES = frozenset({"US"})
# Countries whose documents write numeric dates both ways: neither they nor their currency decide the order.
EITHER_ORDER_COUNTRIES = frozenset({"CA"})
EITHER_ORDER_CURRENCIES = frozenset({"CAD"})


@dataclass(frozen=True)
class DateMatch:
    """One date found in a text."""

    value: dt.date
    start: int
    end: int
    text: str
    ambiguous: bool = False
    kind: str = "numeric"  # numeric | written | iso | compact (20240305) | glued (0804/2019)


def expand_year(year: int, today: dt.date | None = None) -> int:
    """A four-digit year from a two-digit one: up to 10 years ahead of today, else last century."""
    if year >= 100:
        return year
    today = today or dt.date.today()
    pivot = (today.year + 10) % 100
    century = today.year // 100 * 100
    return century + year if year <= pivot else century - 100 + year


def _make(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(expand_year(year), month, day)
    except ValueError:
        return None


def numeric_votes(text: str) -> tuple[int, int]:
    """(day-first, month-first) evidence from numeric dates whose order is certain (a part > 12)."""
    dmy = mdy = 0
    for m in _NUMERIC.finditer(text):
        if m.group("a") is None:
            continue
        a, b = int(m.group("a")), int(m.group("b"))
        if a > 12 >= b >= 1:
            dmy += 1
        elif b > 12 >= a >= 1:
            mdy += 1
    return dmy, mdy


def decide_order(
    text: str, language: str | None = None, currency: str | None = None, country: str | None = None
) -> tuple[Order | None, str]:
    """The document's numeric date order and why; None when nothing decides."""
    dmy, mdy = numeric_votes(text)
    if dmy > mdy:
        return "dmy", "another date on the document is day-first"
    if mdy > dmy:
        return "mdy", "another date on the document is month-first"
    if language:
        if language.lower() in MONTH_FIRST_LANGUAGES:
            return "mdy", f"the document's language ({language}) writes month first"
        if language.lower() not in ("en", "unknown"):
            return "dmy", f"the document's language ({language}) writes day first"
    if currency and currency not in EITHER_ORDER_CURRENCIES:
        if currency in MONTH_FIRST_CURRENCIES:
            return "mdy", f"the currency ({currency}) suggests a US document"
        return "dmy", f"the currency ({currency}) suggests a day-first country"
    if country:
        if country in MONTH_FIRST_COUNTRIES:
            return "mdy", f"the document shows a month-first country ({country})"
        if country in EITHER_ORDER_COUNTRIES:
            return None, f"the document shows a country ({country}) that writes dates either way"
        return "dmy", f"the document shows a day-first country ({country})"
    return None, "nothing on the document decides the order"


_LONG_MONTHS = {name: month for name, month in MONTH_NAMES.items() if len(name) >= 5 and name.isalpha()}


def misread_month(word: str) -> int | None:
    """The month a five-letter-or-longer word names with one letter misread, when exactly one month fits."""
    word = word.lower()
    if word in MONTH_NAMES:
        return None
    months = {month for name, month in _LONG_MONTHS.items() if one_letter_off(word, name)}
    return months.pop() if len(months) == 1 else None


def find_dates(text: str, order: Order | None = None) -> list[DateMatch]:
    """Every date in `text`, left to right; numeric ones read in `order` (day-first when None)."""
    found: list[DateMatch] = []
    taken: list[tuple[int, int]] = []

    def add(match: DateMatch | None) -> None:
        if match is None:
            return
        if any(s < match.end and match.start < e for s, e in taken):
            return
        taken.append((match.start, match.end))
        found.append(match)

    if not _DIGIT.search(text):
        return found
    written = (_WRITTEN_DMY, _WRITTEN_MDY) if _may_name_month(text) else ()
    for pattern in written:
        for m in pattern.finditer(text):
            month = MONTH_NAMES.get(m.group("m").lower())
            value = _make(int(m.group("y")), month, int(m.group("d"))) if month else None
            if value:
                add(DateMatch(value, m.start(), m.end(), m.group(0), False, "written"))
    has_year = _YEAR.search(text) is not None
    for pattern in (_MISREAD_MDY, _MISREAD_DMY) if has_year else ():
        for m in pattern.finditer(text):
            month = misread_month(m.group("m"))
            value = _make(int(m.group("y")), month, int(m.group("d"))) if month else None
            if value:
                add(DateMatch(value, m.start(), m.end(), m.group(0), False, "written"))
    for m in _NUMERIC.finditer(text):
        if m.group("iy"):
            value = _make(int(m.group("iy")), int(m.group("im")), int(m.group("id") or m.group("idg")))
            if value:
                add(DateMatch(value, m.start(), m.end(), m.group(0), False, "iso"))
            continue
        year_text = m.group("y") or m.group("y2")
        a, b, year = int(m.group("a")), int(m.group("b")), int(year_text)
        if len(year_text) == 2 and m.group("s").strip() == "." and a > 31:
            continue
        dmy_value, mdy_value = _make(year, b, a), _make(year, a, b)
        if dmy_value and mdy_value and dmy_value != mdy_value:
            value = mdy_value if order == "mdy" else dmy_value
            add(DateMatch(value, m.start(), m.end(), m.group(0), order is None, "numeric"))
        elif (either := dmy_value or mdy_value) is not None:
            add(DateMatch(either, m.start(), m.end(), m.group(0), False, "numeric"))
    for m in _GLUED.finditer(text) if has_year else ():
        a, b = int(m.group("a") or m.group("a2")), int(m.group("b") or m.group("b2"))
        dmy_value, mdy_value = _make(int(m.group("y")), b, a), _make(int(m.group("y")), a, b)
        value = (mdy_value if order == "mdy" else dmy_value) or dmy_value or mdy_value
        if value:
            both = dmy_value and mdy_value and dmy_value != mdy_value
            add(DateMatch(value, m.start(), m.end(), m.group(0), bool(both and order is None), "glued"))
    for m in _COMPACT.finditer(text) if has_year else ():
        value = _make(int(m.group("y")), int(m.group("m")), int(m.group("d")))
        if value:
            add(DateMatch(value, m.start(), m.end(), m.group(0), False, "compact"))
    found.sort(key=lambda d: d.start)
    return found


def parse_date(text: str, order: Order | None = None) -> DateMatch | None:
    """The first date in `text`, or None."""
    dates = find_dates(text, order)
    return dates[0] if dates else None


def format_date(value: dt.date, style: str) -> str:
    """`value` in one printed style (for tests and display)."""
    months_en = next(n for n in _MONTHS[value.month] if len(n) > 3).capitalize()
    return {
        "iso": value.isoformat(),
        "dmy-slash": value.strftime("%d/%m/%Y"),
        "mdy-slash": value.strftime("%m/%d/%Y"),
        "dmy-dot": value.strftime("%d.%m.%Y"),
        "dmy-dash-2": value.strftime("%d-%m-%y"),
        "written-dmy": f"{value.day} {months_en} {value.year}",
        "written-mdy": f"{months_en[:3]} {value.day}, {value.year}",
        "oracle": f"{value.day:02d}-{months_en[:3].upper()}-{value.year % 100:02d}",
        "de": f"{value.day}. {_DE_MONTHS[value.month - 1]} {value.year}",
    }[style]
