"""The evaluation's comparison rules and its docs section."""

from pathlib import Path

from bench.eval import FIELDS, Job, Outcome, compare, table, vendor_match, write_docs


def _job(dataset: str, **label: object) -> Job:
    return Job(dataset, dataset, "x.pdf", dict(label), None)


def test_vendor_strict_and_fuzzy() -> None:
    assert vendor_match("Coolblue B.V.", "coolblue bv", fuzzy=False)
    assert vendor_match("SUE'SHALLMARK", "Sue's Hallmark", fuzzy=False)
    assert not vendor_match("SUPERAFOODS", "SUPER FOODS", fuzzy=False)
    assert vendor_match("SUPERAFOODS", "SUPER FOODS", fuzzy=True)
    assert not vendor_match("Amazon", "Flipkart", fuzzy=True)
    assert not vendor_match("Amazon", None, fuzzy=True)


def test_compare_follows_the_dataset_rules() -> None:
    job = _job("sroie", vendor="A SDN BHD", date="2018-12-25", total=9.0, currency="MYR", invoice_number=None)
    got = Outcome("sroie", "sroie", "x", got={"vendor": "A Sdn. Bhd.", "date": "2018-12-25", "total": "9.004"})
    scores = compare(job, got)
    assert scores == {"vendor": True, "vendor~": True, "date": True, "date-u": True, "total": True}
    job = _job("zugferd", invoice_number="RE 1", currency="EUR", total=1.0, date="2020-01-02", date_ambiguous=True)
    got = Outcome("zugferd", "zugferd", "x", got={"invoice_number": "RE1", "currency": "EUR", "total": "1.01"})
    scores = compare(job, got)
    assert scores == {"invoice_number": True, "currency": True, "total": False, "date": False}


def test_table_and_docs_markers(tmp_path: Path) -> None:
    job = _job("sroie", total=9.0)
    outcome = Outcome("sroie", "sroie", "x", got={"total": "9.00"}, pages=1, seconds=2.0)
    from bench.eval import summarize

    text = table(summarize([job], [outcome]))
    assert "| sroie | 1 | 0.50 |" in text and "100% (1)" in text
    assert text.splitlines()[0].count("|") == len(FIELDS) + 5
    path = tmp_path / "accuracy.md"
    write_docs("RUN-ONE", path)
    assert "RUN-ONE" in path.read_text()
    path.write_text(path.read_text() + "\n## Engines\nkept\n")
    write_docs("RUN-TWO", path)
    content = path.read_text()
    assert "RUN-TWO" in content and "RUN-ONE" not in content and "## Engines\nkept" in content


def test_calibration_judges_fields_as_the_targets_do() -> None:
    from bench.eval_learning import calibration, judged

    boxes = {"annotations": [{"label": 1, "text": "CAFE BLUE"}, {"label": 1, "text": "STORE 12"}]}
    receipt = _job(
        "wildreceipt", vendor="CAFE BLUE STORE 12", date="2016-05-12", date_ambiguous=True, total=5.0, raw=boxes
    )
    receipt.label["dataset"] = "wildreceipt"
    got = Outcome("wildreceipt", "wildreceipt", "x", got={"vendor": "Cafe Blue", "date": "2016-12-05", "total": "5.00"})
    scores = compare(receipt, got)
    fields = judged(receipt, scores)
    assert "date" not in fields  # the label's fixed day/month order cannot judge a swappable date
    assert fields["total"] is True
    assert fields["vendor"] is True and scores["vendor"] is False  # one store-name box of the joined label
    got.confidence = {"vendor": 0.99, "date": 0.99, "total": 0.99}
    text = calibration([receipt], [got])
    assert "1 dates whose day and month could swap are left out" in text
    assert "passes 100% of the 1 fully right ones" in text
    got.needs_review = True
    assert "passes 0% of the 1 fully right ones" in calibration([receipt], [got])
