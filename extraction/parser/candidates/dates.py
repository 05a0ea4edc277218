"""Date candidates: every date printed on the document, for the invoice-date and due-date scorers."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from typing import TYPE_CHECKING

from extraction.parser.candidates import Candidate, Layout
from extraction.parser.nearby import label_features

if TYPE_CHECKING:
    from extraction.parser.context import Doc

_TIME = re.compile(r"\b\d{1,2}[:.]\d{2}(?:[:.]\d{2})?\s?(?:[AaPp]\.?[Mm]\.?)?(?!\d)|\d{1,2}:\d{2}")
_GLUED_TIME = re.compile(r"\s?\d{1,2}:\d{2}")
_FIGURES = re.compile(r"\d+")
DATE_KINDS = ("numeric", "written", "iso", "compact", "glued")


def date_candidates(doc: Doc, layout: Layout, today: dt.date | None = None) -> list[Candidate]:
    """Every plausible date on the document with its features."""
    today = today or dt.date.today()
    out: list[Candidate] = []
    for line in doc.lines:
        for match in doc.dates(line):
            if not (dt.date(1980, 1, 1) <= match.value <= today.replace(year=today.year + 3)):
                continue
            cand = Candidate("date", match.value, match.text, line, match.start, match.end)
            f = layout.line_features(line, match.start, match.end)
            f.update(label_features(doc, line, match.start, match.end))
            for kind in DATE_KINDS:
                f[f"date_{kind}"] = float(match.kind == kind)
            f["swappable"] = float(_swappable(match.text, match.kind))
            f["time_on_line"] = float(
                bool(_TIME.search(line.text[match.end :]) or _TIME.search(line.text[: match.start]))
            )
            f["time_glued"] = float(bool(_GLUED_TIME.match(line.text[match.end : match.end + 6])))
            f["future_days"] = float(max(-1, min((match.value - today).days, 400)))
            f["dates_on_line"] = float(len(doc.dates(line)))
            cand.features = f
            out.append(cand)
    decided = 2.0 if doc.order_reason.startswith("another date") else 0.0 if doc.order is None else 1.0
    for cand in out:
        cand.features["order_decided"] = decided
    values = sorted({c.value for c in out})
    counts = Counter(c.value for c in out)
    for cand in out:
        f = cand.features
        f["dates_on_doc"] = float(min(len(values), 20))
        f["chrono_rank"] = float(values.index(cand.value))
        f["chrono_rank_rev"] = float(len(values) - 1 - values.index(cand.value))
        f["days_after_first"] = float(min((cand.value - values[0]).days, 400))
        f["days_before_last"] = float(min((values[-1] - cand.value).days, 400))
        f["date_occurrences"] = float(min(counts[cand.value], 6))

    def reading_order(i: int) -> tuple[int, int]:
        line = out[i].line
        return (line.index if line else 0, out[i].start)

    order = sorted(range(len(out)), key=reading_order)
    for position, i in enumerate(order):
        out[i].features["date_position"] = float(min(position, 20))
    return out


def _swappable(text: str, kind: str) -> bool:
    """Whether day and month could be read the other way round (both parts 1..12 and different)."""
    if kind not in ("numeric", "glued"):
        return False
    parts = _FIGURES.findall(text)
    if len(parts) < 2:
        return False
    if kind == "glued" and len(parts) == 2 and len(parts[0]) == 4:
        parts = [parts[0][:2], parts[0][2:]]
    a, b = int(parts[0]), int(parts[1])
    return a <= 12 and b <= 12 and a != b
