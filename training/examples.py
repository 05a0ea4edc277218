"""Training examples: each labelled document's candidates per field, their features and whether each is right."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from extraction.parser.candidates import FIELD_KINDS, Layout, generate
from extraction.parser.candidates.name_lines import spans_whole_lines, window_candidates
from extraction.parser.context import build_doc
from training import targets

if TYPE_CHECKING:
    from extraction.hints import VendorHints
    from extraction.parser.candidates import Candidate
    from training.corpus import LabelledDoc


class FeatureSpace:
    """Feature names in the order they were first seen; a document's features become a compact array."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.index: dict[str, int] = {}

    def encode(self, rows: list[dict[str, float]]) -> np.ndarray:
        """The rows as a float32 array over the names seen so far (new names are added)."""
        for row in rows:
            for name in row:
                if name not in self.index:
                    self.index[name] = len(self.names)
                    self.names.append(name)
        x = np.zeros((len(rows), len(self.names)), dtype=np.float32)
        for r, row in enumerate(rows):
            for name, value in row.items():
                x[r, self.index[name]] = value
        return x


SPACE = FeatureSpace()


@dataclass
class DocExamples:
    """One document's candidates for one field: features as an array over `SPACE.names` (a prefix of them)."""

    dataset: str
    doc_id: str
    group: str  # documents of one group never straddle a fold (one vendor's receipts)
    x: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    targets: list[int] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)
    label_texts: list[str] = field(default_factory=list)

    @property
    def features(self) -> list[dict[str, float]]:
        """The candidates' features by name (nonzero ones)."""
        names = SPACE.names
        return [{names[j]: float(v) for j, v in enumerate(row) if v} for row in self.x]

    @property
    def right_label_text(self) -> str:
        """The label printed by the first right candidate ('' when none is right)."""
        return next((t for t, hit in zip(self.label_texts, self.targets, strict=True) if hit), "")

    @property
    def answerable(self) -> bool:
        """Whether any candidate is right (else no ranking can get the field)."""
        return any(self.targets)


def _vendor_targets(label: dict[str, Any], cands: list[Candidate]) -> list[int] | None:
    names = targets.vendor_names(label)
    return _name_targets(names, cands)


def _name_targets(names: list[str], cands: list[Candidate]) -> list[int] | None:
    if not names:
        return None
    exact = {targets.squeeze(n) for n in names}
    hits = [int(targets.squeeze(c.value) in exact) for c in cands]
    if any(hits):
        return hits
    sims = [max(targets.name_similarity(n, c.value) for n in names) for c in cands]
    best = max(sims, default=0)
    return [int(s >= 90 and s == best) for s in sims]


# Sets whose labels list every field the document prints (generated documents): there a missing
# customer, subtotal or tax means the document has none, and every candidate is wrong. (Due dates are
# left out: negatives from undated documents taught the scorer to doubt clearly labelled due dates.) (An
# e-invoice's XML can lack a due date its PDF prints, so ZUGFeRD is not one of them.)
COMPLETE_LABELS = ("synth",)
ABSENCE_KNOWN = ("customer", "subtotal", "tax")


ABSENT = ":absent"  # suffix of the dataset name of documents that have no value of the field


def absence_known(name: str, label: dict[str, Any]) -> bool:
    """Whether a missing label of field `name` means the document has none."""
    return name in ABSENCE_KNOWN and label.get("dataset") in COMPLETE_LABELS


def doc_targets(name: str, label: dict[str, Any], cands: list[Candidate]) -> list[int] | None:
    """Per candidate, 1 where it is the labelled value of field `name`; None when the label does not say."""
    if name == "vendor":
        return _vendor_targets(label, cands)
    if name == "customer":
        return _name_targets(targets.customer_names(label), cands)
    if name in ("invoice_date", "due_date"):
        key = "date" if name == "invoice_date" else "due_date"
        if targets.date_value(label, key) is None:
            return None
        return [int(targets.date_matches(label, key, c.value)) for c in cands]
    if name in ("total", "subtotal", "tax"):
        if label.get(name) is None:
            return None
        return [int(targets.money_matches(label, name, c.value)) for c in cands]
    if name == "invoice_number":
        if not label.get("invoice_number"):
            return None
        return [int(targets.number_matches(label, c.value)) for c in cands]
    if name == "currency":
        code = targets.currency_label(label)
        return None if code is None else [int(c.value == code) for c in cands]
    raise ValueError(f"unknown field {name!r}")


def group_of(doc: LabelledDoc) -> str:
    """Documents of one vendor form one group, so cross-validation scores vendors it has not seen."""
    vendor = targets.squeeze(doc.label.get("vendor") or "")
    # The label's set, so that another view of a document (its text without boxes) shares its group.
    return f"{doc.label.get('dataset') or doc.dataset}:{vendor or doc.doc_id}"


MAX_ANCHORS = 3  # lines of one document a vendor name printed over several lines is learned from


def vendor_line_examples(doc: LabelledDoc, layout: Layout, names: list[Candidate], group: str) -> list[DocExamples]:
    """Windows of lines around each line that holds part of the vendor's name: which window is the whole name.

    The anchors are the whole-line name candidates whose text is part of the labelled name (where the
    name scorer could have stopped); the window equal to the label is right.
    """
    accepted = targets.vendor_names(doc.label)
    keys = [targets.squeeze(n) for n in accepted]
    out: list[DocExamples] = []
    seen: set[int] = set()
    for cand in names:
        line = cand.line
        key = targets.squeeze(cand.value)
        if line is None or line.index in seen or len(key) < 3 or not spans_whole_lines(cand):
            continue
        if not any(key in k for k in keys):
            continue
        seen.add(line.index)
        windows = window_candidates(layout, cand)
        found = _name_targets(accepted, windows)
        if len(windows) < 2 or not found or not any(found):
            continue
        x = SPACE.encode([w.features for w in windows])
        values = [w.value for w in windows]
        out.append(DocExamples(doc.dataset, f"{doc.doc_id}#{line.index}", group, x, found, values, [""] * len(values)))
        if len(out) >= MAX_ANCHORS:
            break
    return out


def field_examples(
    doc: LabelledDoc, hints: VendorHints | None = None, group: str | None = None
) -> list[tuple[str, DocExamples]]:
    """(field, examples) of one labelled document: one per field, and one per anchor line for `vendor_lines`."""
    parsed = build_doc(doc.pages, hints.date_order if hints is not None else None)
    layout = Layout(parsed)
    cands = generate(parsed, hints, layout)
    group = group or group_of(doc)
    out: list[tuple[str, DocExamples]] = []
    for name, kind in FIELD_KINDS.items():
        pool = cands[kind]
        found = doc_targets(name, doc.label, pool)
        dataset = doc.dataset
        if found is None:
            if not absence_known(name, doc.label):
                continue
            found, dataset = [0] * len(pool), doc.dataset + ABSENT
        x = SPACE.encode([c.features for c in pool])
        values, labels = [c.value for c in pool], [c.label_text for c in pool]
        out.append((name, DocExamples(dataset, doc.doc_id, group, x, found, values, labels)))
    if doc.label.get("vendor"):
        out += [("vendor_lines", ex) for ex in vendor_line_examples(doc, layout, cands[FIELD_KINDS["vendor"]], group)]
    return out


def examples(doc: LabelledDoc, hints: VendorHints | None = None, group: str | None = None) -> dict[str, DocExamples]:
    """Every field scorer's examples of one labelled document (read with a vendor's `hints` when given)."""
    return {name: ex for name, ex in field_examples(doc, hints, group) if name in FIELD_KINDS}
