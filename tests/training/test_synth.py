"""The synthetic document generator: deterministic, arithmetic exact, labels that the page really shows."""

from __future__ import annotations

import io
import json
import re
from decimal import ROUND_HALF_UP, Decimal

import pymupdf
import pytest
from PIL import Image

from extraction.parser.labels import find_label
from training.synth import KINDS, LANGUAGES, generate, make_doc
from training.synth.__main__ import main
from training.synth.vocab import CURRENCIES, MONTHS, WORDS

SEED = 20240305


@pytest.fixture(scope="module")
def docs():
    return list(generate(72, SEED))


def page_texts(pdf: bytes) -> list[str]:
    with pymupdf.open(stream=pdf, filetype="pdf") as doc:
        return [" ".join(page.get_text().replace("\u00a0", " ").split()) for page in doc]


def squash(s: str) -> str:
    return " ".join(s.replace("\u00a0", " ").split())


def parse_amount(text: str) -> Decimal:
    """Independent reading of a printed amount: '1.234,56 €', '(12.00)', 'RM12.50', '12,34,567.00', '9.90-'."""
    negative = text.strip().startswith(("-", "(")) or text.strip().endswith("-")
    body = re.search(r"\d[\d.,' \u00a0]*\d|\d", text).group()
    digits = re.sub(r"[^0-9]", "", body)
    decimals = 2 if re.search(r"[.,]\d\d$", body) else 0
    value = Decimal(digits).scaleb(-decimals)
    return -value if negative else value


def parse_date(text: str, order: str) -> str:
    """Independent reading of a printed date in the order the label says it was printed."""
    month_words = {}
    for full, abbr in MONTHS.values():
        for i, name in enumerate(full):
            month_words[name.lower()] = i + 1
        for i, name in enumerate(abbr):
            month_words[name.lower().rstrip(".")] = i + 1
    numbers = [int(n) for n in re.findall(r"\d+", text)]
    words = [w.lower().rstrip(".") for w in re.findall(r"[^\W\d_]+\.?", text) if w.lower().rstrip(".") in month_words]
    if words:
        month = month_words[words[0]]
        day, year = (numbers[1], numbers[0]) if order == "YMD" else (numbers[0], numbers[-1])
    else:
        parts = dict(zip(order, numbers, strict=True))
        day, month, year = parts["D"], parts["M"], parts["Y"]
    year = year + 2000 if year < 100 else year
    return f"{year:04d}-{month:02d}-{day:02d}"


def test_every_language_has_every_wording():
    keys = set(WORDS["en"])
    for language in LANGUAGES:
        assert set(WORDS[language]) == keys, language
        assert all(WORDS[language][k] for k in keys), language


# The label kind the parser must know for each wording the generated documents print.
PRINTED_LABELS = {
    "number": "invoice_number",
    "date": "invoice_date",
    "due_date": "due_date",
    "bill_to": "customer_label",
    "total": "total",
    "vat_id": "tax_id",
}
# "Nummer", "Numéro", "Núm.": a bare number word says nothing of which number follows.
BARE_NUMBER_WORD = re.compile(r"^(?:nummer|numero|numéro|núm\.)$", re.IGNORECASE)


def test_the_parser_knows_every_label_the_generator_prints():
    unknown = [
        (language, key, wording)
        for language in LANGUAGES
        for key, kind in PRINTED_LABELS.items()
        for wording in WORDS[language][key]
        if "{" not in wording and not BARE_NUMBER_WORD.match(wording) and find_label(wording, kind) is None
    ]
    assert not unknown


def test_same_seed_gives_identical_documents():
    first, second = list(generate(6, 7)), list(generate(6, 7))
    assert [d.label for d in first] == [d.label for d in second]
    assert [d.spans for d in first] == [d.spans for d in second]
    assert [d.pdf for d in first] == [d.pdf for d in second]
    assert [d.id for d in first] == [f"synth-7-{i}" for i in range(6)]


def test_document_depends_on_seed_and_index_not_on_n():
    assert list(generate(5, 7))[3].label == list(generate(4, 7))[3].label
    assert [d.label for d in generate(4, 7)] != [d.label for d in generate(4, 8)]


def test_every_kind_and_language_is_produced(docs):
    pairs = {(d.label["kind"], d.label["language"]) for d in docs}
    assert pairs == {(k, lang) for k in KINDS for lang in LANGUAGES}
    assert {d.label["dataset"] for d in docs} == {"synth"}


def test_layouts_and_formats_vary(docs):
    invoices = [d.label for d in docs if d.label["kind"] == "invoice"]
    receipts = [d.label for d in docs if d.label["kind"] == "receipt"]
    assert len({lab["layout"] for lab in invoices}) >= 5
    assert len({lab["layout"] for lab in receipts}) >= 3
    assert {True, False} <= {lab["vendor_in_logo"] for lab in invoices}
    assert {"DMY", "YMD"} <= {d.label["date_order"] for d in docs}
    assert len({d.label["currency"] for d in docs}) >= 5
    assert any(d.page_count == 2 for d in generate(60, 3, kinds=("invoice",)))


def test_amounts_add_up_to_the_cent(docs):
    for d in docs:
        lab = d.label
        total = Decimal(str(lab["total"]))
        rounding = Decimal(str(lab["rounding"] or 0))
        items = lab["line_items"]
        for it in items:
            product = Decimal(str(it["quantity"])) * Decimal(str(it["unit_price"]))
            expected = product.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            assert Decimal(str(it["amount"])) == expected, (d.id, it)
        if lab["subtotal"] is None:
            continue
        subtotal, tax = Decimal(str(lab["subtotal"])), Decimal(str(lab["tax"]))
        assert subtotal + tax + rounding == total, d.id
        assert 0 <= tax < total, d.id
        if lab["kind"] == "receipt":
            gross = sum(Decimal(str(it["amount"])) for it in items)
            assert gross in (subtotal, subtotal + tax), d.id  # prices net of tax, or including it
        if lab["rounding"]:
            assert total % Decimal("0.05") == 0, d.id
        if lab["amount_due"] is not None:
            assert Decimal(str(lab["amount_due"])) < total, d.id


def test_labelled_values_are_in_the_text_layer(docs):
    for d in docs:
        lab, texts = d.label, page_texts(d.pdf)
        by_field: dict[str, list[dict]] = {}
        for span in d.spans:
            by_field.setdefault(span["field"], []).append(span)
            assert squash(span["text"]) in texts[span["page"] - 1], (d.id, span)
            x0, y0, x1, y1 = span["bbox"]
            assert 0 <= x0 < x1 <= 1.001 and 0 <= y0 < y1 <= 1.001, (d.id, span)
        for key in ("invoice_number", "date", "total"):
            assert key in by_field, (d.id, key)
        assert all(s["text"] == lab["invoice_number"] for s in by_field["invoice_number"]), d.id
        assert all(parse_date(s["text"], lab["date_order"]) == lab["date"] for s in by_field["date"]), d.id
        assert all(parse_amount(s["text"]) == Decimal(str(lab["total"])) for s in by_field["total"]), d.id
        for key in ("subtotal", "tax", "rounding", "amount_due"):
            for s in by_field.get(key, []):
                assert parse_amount(s["text"]) == Decimal(str(lab[key])), (d.id, key, s)
        for s in by_field.get("due_date", []):
            assert parse_date(s["text"], lab["date_order"]) == lab["due_date"], d.id
        if lab["kind"] == "invoice":
            assert [s["text"] for s in by_field["customer"]] == [lab["customer"]], d.id
        if not lab["vendor_in_logo"]:
            assert "vendor" in by_field or "vendor_brand" in by_field, d.id
        names = [s["text"] for s in d.spans if s["field"] in ("vendor", "vendor_brand")]
        assert lab["vendor"] in names or (lab["vendor_in_logo"] and not names), d.id
        marks = {m.upper() for m in CURRENCIES[lab["currency"]]["marks"]}
        for s in by_field.get("currency", []):
            assert s["text"].upper() in marks, (d.id, s)


def test_a_vendor_shown_only_in_its_logo_is_not_in_the_header_text(docs):
    logo_docs = [d for d in docs if d.label["vendor_in_logo"]]
    assert logo_docs
    for d in logo_docs:
        with pymupdf.open(stream=d.pdf, filetype="pdf") as pdf:
            page = pdf[0]
            assert page.get_images(), d.id
            top = page.rect
            header = page.get_text(clip=pymupdf.Rect(top.x0, top.y0, top.x1, top.y0 + top.height * 0.2))
        header = re.sub(r"\S*(@|www\.|https?:|\.[a-z]{2,3}\b)\S*", " ", header)  # e-mail and web may show it
        vendor = d.label["vendor"]
        brand = vendor.split(",")[0].rsplit(" ", 1)[0]  # the name without its legal form
        assert vendor not in header and brand.lower() not in header.lower(), (d.id, header)


def test_vendor_ibans_carry_valid_check_digits(docs):
    ibans = [d.label["vendor_iban"] for d in docs if d.label["vendor_iban"]]
    assert len(ibans) >= 10
    for iban in ibans:
        rearranged = iban[4:] + iban[:4]
        assert int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1, iban


def test_cash_rounding_is_printed_above_the_total():
    receipts = [d for d in generate(80, 11, kinds=("receipt",)) if d.label["rounding"]]
    assert receipts
    for d in receipts:
        rounding = next(s for s in d.spans if s["field"] == "rounding")
        total = next(s for s in d.spans if s["field"] == "total")
        assert rounding["bbox"][1] < total["bbox"][1], d.id


@pytest.mark.parametrize("noise", [None, "scan", "photo"])
def test_png_is_a_decodable_page_image_and_deterministic(noise):
    invoice, receipt = list(generate(2, 5))
    for doc, kind in ((invoice, "invoice"), (receipt, "receipt")):
        data = doc.png(dpi=60, noise=noise, seed=3)
        image = Image.open(io.BytesIO(data))
        image.load()
        assert image.format == "PNG"
        w, h = image.size
        if kind == "invoice":
            assert 440 <= w <= 700 and 600 <= h <= 1000, (noise, image.size)
        else:
            assert 120 <= w <= 300 and h > w, (noise, image.size)
        assert data == doc.png(dpi=60, noise=noise, seed=3)
        if noise:
            assert data != doc.png(dpi=60, noise=noise, seed=4)
            assert data != doc.png(dpi=60, noise=None)
            assert doc.png(dpi=60, noise=noise) == doc.png(dpi=60, noise=noise)  # seeded by the document id


def test_unknown_noise_kind_or_language_is_an_error():
    doc = next(generate(1, 1))
    with pytest.raises(ValueError, match="noise"):
        doc.png(noise="fax")
    with pytest.raises(ValueError, match="language"):
        make_doc(1, 0, "invoice", "pt")
    with pytest.raises(ValueError, match="kind"):
        list(generate(1, 1, kinds=("letter",)))


def test_sample_script_writes_pdfs_pngs_and_labels(tmp_path):
    assert main(["--n", "3", "--seed", "2", "--out", str(tmp_path), "--dpi", "40"]) == 0
    rows = [json.loads(line) for line in (tmp_path / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["synth-2-0", "synth-2-1", "synth-2-2"]
    for row in rows:
        assert (tmp_path / row["file"]).read_bytes().startswith(b"%PDF")
        Image.open(tmp_path / row["image_file"]).verify()
        assert row["vendor"] and row["total"] is not None and row["spans"]
    with pytest.raises(SystemExit):
        main(["--n", "1", "--out", str(tmp_path), "--languages", "xx"])
