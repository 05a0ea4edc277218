"""The consistency pass over the scorers' rankings: amounts that add up, dates in order, two parties."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from extraction.markdown import page_from_text
from extraction.parser import consistency
from extraction.parser.candidates import Candidate, generate
from extraction.parser.context import build_doc
from extraction.parser.scoring import Ranked, load_models

FLOORS = {"subtotal": 0.15, "tax": 0.15}


def _ranked(kind: str, *options: tuple[object, float], probability: float, **features: float) -> Ranked:
    """A ranking: (value, raw score) best first, the best with its calibrated probability."""
    cands = [Candidate(kind, value, str(value), None, features=dict(features)) for value, _ in options]
    scores = [score for _, score in options]
    lead = scores[0] - scores[1] if len(scores) > 1 else 10.0
    return Ranked(cands[0], scores[0], lead, probability, list(zip(cands[1:], scores[1:], strict=True)))


def _money(*options: tuple[str, float], probability: float) -> Ranked:
    return _ranked("amount", *((Decimal(v), s) for v, s in options), probability=probability)


def _values(chosen: dict[str, consistency.Choice | None]) -> dict[str, object]:
    return {name: (c.candidate.value if c is not None else None) for name, c in chosen.items()}


def test_amounts_that_add_up_are_kept_and_confirm_a_doubtful_part() -> None:
    ranked = {
        "total": _money(("119.00", 3.0), ("100.00", -4.0), probability=0.97),
        "subtotal": _money(("100.00", -1.0), probability=0.10),  # under its floor on its own
        "tax": _money(("19.00", 1.0), probability=0.8),
    }
    chosen = consistency.amounts(ranked, FLOORS)
    assert _values(chosen) == {"total": Decimal("119.00"), "subtotal": Decimal("100.00"), "tax": Decimal("19.00")}
    assert chosen["subtotal"].probability == 0.97  # confirmed by the sum


def test_a_total_its_own_parts_add_up_to_gains_the_worth_of_their_agreement() -> None:
    model = load_models()["total"]
    assert model.agreement_gain > 0  # fitted by make train on the training set, out of fold
    ranked = {
        "total": _money(("423.50", 1.6), ("350.00", -0.4), probability=0.80),
        "subtotal": _money(("350.00", 2.6), probability=0.93),
        "tax": _money(("73.50", 1.6), probability=0.98),
    }
    ranked["total"].model = model
    chosen = consistency.amounts(ranked, FLOORS)
    assert _values(chosen) == {"total": Decimal("423.50"), "subtotal": Decimal("350.00"), "tax": Decimal("73.50")}
    assert chosen["total"].probability == model.agreed(0.80) > 0.80
    assert chosen["subtotal"].probability == chosen["total"].probability  # as sure as the total they add up to


def test_parts_that_do_not_add_up_or_were_chosen_for_the_sum_confirm_nothing() -> None:
    model = load_models()["total"]
    apart = {
        "total": _money(("423.50", 1.6), probability=0.80),
        "subtotal": _money(("350.00", 2.6), probability=0.93),
        "tax": _money(("70.00", 1.6), probability=0.98),
    }
    # The tax is only its scorer's runner-up: the pass chose it because it adds up, so it is no evidence.
    runner_up = {
        "total": _money(("423.50", 1.6), probability=0.80),
        "subtotal": _money(("350.00", 2.6), probability=0.93),
        "tax": _money(("70.00", 1.6), ("73.50", 0.2), probability=0.6),
    }
    # A part too doubtful to be reported on its own.
    doubtful = {
        "total": _money(("423.50", 1.6), probability=0.80),
        "subtotal": _money(("350.00", -1.0), probability=0.10),
        "tax": _money(("73.50", 1.6), probability=0.98),
    }
    for ranked in (apart, runner_up, doubtful):
        ranked["total"].model = model
        chosen = consistency.amounts(ranked, FLOORS)
        assert chosen["total"].candidate.value == Decimal("423.50")
        assert chosen["total"].probability == 0.80


def test_a_runner_up_total_that_makes_the_invoice_add_up_replaces_an_impossible_one() -> None:
    # The best total equals the tax (a tax line read as the total): impossible; 12.00 adds up.
    ranked = {
        "total": _money(("2.00", -0.3), ("12.00", -3.1), probability=0.79),
        "subtotal": _money(("10.00", -0.5), probability=0.59),
        "tax": _money(("2.00", -2.6), probability=0.81),
    }
    chosen = consistency.amounts(ranked, FLOORS)
    assert _values(chosen) == {"total": Decimal("12.00"), "subtotal": Decimal("10.00"), "tax": Decimal("2.00")}
    assert chosen["total"].changed and 0.5 < chosen["total"].probability <= 1.0


def test_a_clear_total_is_not_traded_for_a_sum_of_weak_candidates() -> None:
    ranked = {
        "total": _money(("13.20", 2.6), ("20.00", -5.4), probability=0.99),
        "subtotal": _money(("12.50", 1.9), ("19.50", -6.0), probability=0.9),
        "tax": _money(("0.75", 0.1), ("0.50", -6.0), probability=0.93),
    }
    chosen = consistency.amounts(ranked, FLOORS)
    # 12.50 + 0.75 = 13.25 is not 13.20 (a rounding line between), yet 19.50 + 0.50 = 20.00 must not win.
    assert _values(chosen) == {"total": Decimal("13.20"), "subtotal": Decimal("12.50"), "tax": Decimal("0.75")}


def test_credit_notes_add_up_with_negative_amounts() -> None:
    ranked = {
        "total": _money(("-8.79", -4.0), ("-1.12", -6.8), probability=0.58),
        "subtotal": _money(("-7.67", -4.6), probability=0.10),
        "tax": _money(("-1.12", -3.4), probability=0.45),
    }
    chosen = consistency.amounts(ranked, FLOORS)
    assert _values(chosen) == {"total": Decimal("-8.79"), "subtotal": Decimal("-7.67"), "tax": Decimal("-1.12")}


def test_a_subtotal_above_the_total_stays_and_a_tax_not_below_it_goes() -> None:
    discounted = {
        "total": _money(("2.50", -1.7), probability=0.68),
        "subtotal": _money(("2.70", -0.6), probability=0.63),
        "tax": None,
    }
    assert _values(consistency.amounts(discounted, FLOORS))["subtotal"] == Decimal("2.70")
    tax_as_total = {
        "total": _money(("7.25", 3.7), probability=0.99),
        "subtotal": None,
        "tax": _money(("7.25", -6.3), probability=0.35),
    }
    assert _values(consistency.amounts(tax_as_total, FLOORS)) == {
        "total": Decimal("7.25"),
        "subtotal": None,
        "tax": None,
    }


def test_a_tax_of_the_other_sign_than_the_total_is_a_discount_and_gives_way() -> None:
    ranked = {
        "total": _money(("53.78", 3.0), probability=0.97),
        "subtotal": _money(("53.78", 1.0), probability=0.8),
        "tax": _money(("-8.59", 0.5), ("3.52", -0.5), probability=0.6),
    }
    chosen = consistency.amounts(ranked, FLOORS)
    assert _values(chosen) == {"total": Decimal("53.78"), "subtotal": Decimal("53.78"), "tax": Decimal("3.52")}
    credit_note = {  # a credit note: every amount negative, its tax too
        "total": _money(("-11.90", 3.0), probability=0.97),
        "subtotal": _money(("-10.00", 1.0), probability=0.8),
        "tax": _money(("-1.90", 0.5), probability=0.6),
    }
    assert _values(consistency.amounts(credit_note, FLOORS))["tax"] == Decimal("-1.90")


def test_a_due_date_before_the_issue_date_gives_way_to_a_later_one() -> None:
    ranked = {
        "invoice_date": _ranked("date", (dt.date(2024, 3, 5), 3.0), probability=0.95),
        "due_date": _ranked("date", (dt.date(2024, 3, 1), 1.0), (dt.date(2024, 4, 4), 0.5), probability=0.7),
    }
    chosen = consistency.dates(ranked)
    assert chosen["due_date"].candidate.value == dt.date(2024, 4, 4) and chosen["due_date"].changed


def test_one_name_is_not_both_parties_without_a_customer_label() -> None:
    ranked = {
        "vendor": _ranked("name", ("Corner Bakery Cafe", -1.1), ("TAX INVOICE", -1.3), probability=0.41),
        "customer": _ranked("name", ("Corner Bakery Cafe", -0.7), ("Welcome to", -5.6), probability=0.92),
    }
    ranked["customer"].model = load_models()["customer"]
    chosen = consistency.parties(ranked)
    assert chosen["vendor"].candidate.value == "Corner Bakery Cafe"
    # Many documents name no customer: the next candidate stands in only when it is likely on its own.
    assert chosen["customer"] is None


def test_a_name_under_a_customer_label_stays_the_customer() -> None:
    ranked = {
        "vendor": _ranked("name", ("Jane Roe Ltd", -2.0), ("Acme GmbH", -2.5), probability=0.3),
        "customer": _ranked("name", ("Jane Roe Ltd", 1.0), probability=0.9, customer_label_same_line=1.0),
    }
    chosen = consistency.parties(ranked)
    assert chosen["customer"].candidate.value == "Jane Roe Ltd"
    assert chosen["vendor"] is None  # a ranking without its scorer: the runner-up is too unlikely on its own


def test_the_seller_whose_name_the_customer_took_is_reranked_without_it() -> None:
    model = load_models()["vendor"]
    vendor = _ranked("name", ("Jane Roe Ltd", -0.2), ("Acme GmbH", -2.5), ("Acme GmbH Hauptstr. 5", -4.0),
                     ("Hauptstr. 5", -6.0), probability=0.6)  # fmt: skip
    vendor.model = model
    ranked = {"vendor": vendor, "customer": _ranked("name", ("Jane Roe Ltd", 1.0), probability=0.95,
                                                    customer_label_same_line=1.0)}  # fmt: skip
    chosen = consistency.parties(ranked)
    assert chosen["customer"].candidate.value == "Jane Roe Ltd"
    # Every invoice has a seller: the best other name stands in, as sure as the scorer is of it among the rest.
    assert chosen["vendor"].candidate.value == "Acme GmbH" and chosen["vendor"].changed
    assert chosen["vendor"].probability == model.probability(-2.5, 1.5)


def test_one_printed_date_is_not_both_the_issue_and_the_due_date() -> None:
    issue = _ranked("date", (dt.date(2018, 12, 25), 3.0), probability=0.97)
    due = Ranked(issue.candidate, -1.0, 10.0, 0.4, [])
    chosen = consistency.dates({"invoice_date": issue, "due_date": due})
    assert chosen["invoice_date"].candidate.value == dt.date(2018, 12, 25) and chosen["due_date"] is None


def test_doubtful_parts_do_not_overturn_a_clear_total() -> None:
    # Tendered 20.00 = total 19.50 + change 0.50 always adds up; neither part is a likely subtotal or tax.
    ranked = {
        "total": _money(("19.50", 0.8), ("20.00", -1.3), probability=0.78),
        "subtotal": _money(("0.50", -2.6), ("19.50", -3.3), probability=0.18),
        "tax": _money(("19.50", -6.1), ("0.50", -6.9), probability=0.09),
    }
    chosen = consistency.amounts(ranked, FLOORS)
    assert chosen["total"].candidate.value == Decimal("19.50") and not chosen["total"].changed


def _amount(value: str, **features: float) -> Candidate:
    return Candidate("amount", Decimal(value), value, None, features=dict(features))


def test_the_sum_tendered_is_not_the_total_when_change_was_given() -> None:
    # "TO GO 19.50 / AMOUNT TENDER 20.00 / CHANGE DUE 0.50": the scorer liked the tendered sum best.
    cands = [_amount("19.50"), _amount("20.00", before_paid=2.0), _amount("0.50", before_change=3.0)]
    paid = consistency.payment(cands)
    assert paid.agrees(Decimal("19.50")) and paid.excludes(Decimal("20.00"))
    ranked = {
        "total": _money(("20.00", 0.9), ("19.50", 0.2), probability=0.70),
        "subtotal": _money(("0.50", -3.0), probability=0.05),
        "tax": None,
    }
    assert consistency.amounts(ranked, FLOORS)["total"].candidate.value == Decimal("20.00")
    chosen = consistency.amounts(ranked, FLOORS, paid)
    assert chosen["total"].candidate.value == Decimal("19.50") and chosen["total"].changed


def test_payment_lines_say_nothing_unless_tendered_less_change_is_printed() -> None:
    # "CASH 30.90 RM 51.00 / CHANGE 20.10": 30.90 is the total paid in cash; 10.80 is printed nowhere.
    cands = [_amount("30.90", before_paid=2.0), _amount("51.00"), _amount("20.10", before_change=3.0)]
    paid = consistency.payment(cands)
    assert not paid.excludes(Decimal("30.90")) and not paid.agrees(Decimal("10.80"))


def _numbers_and_seller(text: str, seller: str) -> tuple[dict[str, Candidate], consistency.Choice]:
    cands = generate(build_doc([page_from_text(text, 1)]))
    name = next(c for c in cands["name"] if c.value == seller)
    return {c.value: c for c in cands["number"]}, consistency.Choice(name, 0.9)


def _number_ranking(numbers: dict[str, Candidate], *order: tuple[str, float]) -> Ranked:
    cands = [numbers[value] for value, _ in order]
    return Ranked(cands[0], order[0][1], 2.0, 0.8, [(c, s) for c, (_, s) in zip(cands[1:], order[1:], strict=True)])


def test_the_invoice_number_is_not_a_companys_registration_number() -> None:
    text = (
        "KEDAI MAJU SDN BHD (1095514-X)\n(273500-U)\nNo. 12 Jalan Besar\nCo. Reg No: 75495-W\nHRB 44120\n"
        "Owned by: SANYU SUPPLY SDN BHD (1135772-K)\nReceipt 88123\nThank you\n"
    )
    numbers, seller = _numbers_and_seller(text, "KEDAI MAJU SDN BHD")
    # With the seller's name, alone in brackets under it, under a trade-register label, after a legal form.
    for reg in ("1095514-X", "273500-U", "75495-W", "44120", "1135772-K"):
        chosen = consistency.invoice_number(_number_ranking(numbers, (reg, 1.0), ("88123", 0.5)), seller)
        assert chosen is not None and chosen.candidate.value == "88123" and chosen.changed, reg
    # Where no other number is likely on its own, the receipt has no invoice number.
    assert consistency.invoice_number(_number_ranking(numbers, ("1095514-X", 1.0), ("88123", -2.0)), seller) is None
    # A number elsewhere on the page is not touched, with or without a seller.
    for who in (seller, None):
        kept = consistency.invoice_number(_number_ranking(numbers, ("88123", 1.0), ("1095514-X", 0.5)), who)
        assert kept is not None and kept.candidate.value == "88123" and not kept.changed


def test_a_number_beside_the_sellers_name_on_its_line_stays_a_candidate() -> None:
    text = "Northwind Traders GmbH      Invoice INV-2024-0042\nHauptstraße 5, 10115 Berlin\n"
    numbers, seller = _numbers_and_seller(text, "Northwind Traders GmbH")
    chosen = consistency.invoice_number(_number_ranking(numbers, ("INV-2024-0042", 1.0)), seller)
    assert chosen is not None and chosen.candidate.value == "INV-2024-0042"


def test_the_invoice_number_is_not_the_figures_of_a_date_glued_to_its_time() -> None:
    cands = generate(build_doc([page_from_text("CORNER GROCER\nDate:2019-04-0209:15:33\nReceipt # 20190402-17\n", 1)]))
    numbers = {c.value: c for c in cands["number"]}
    glued_date, labelled_date = (c for c in cands["date"] if c.value == dt.date(2019, 4, 2))
    ranking = _number_ranking(numbers, ("2019-04-0209", 1.0), ("20190402-17", 0.5))
    chosen = consistency.invoice_number(ranking, None, consistency.Choice(glued_date, 0.9))
    assert chosen is not None and chosen.candidate.value == "20190402-17" and chosen.changed
    # A doubtful date does not overrule a likelier number.
    kept = consistency.invoice_number(ranking, None, consistency.Choice(glued_date, 0.5))
    assert kept is not None and kept.candidate.value == "2019-04-0209"
    # A number under its own label stays, whatever date is read from inside it.
    labelled = _number_ranking(numbers, ("20190402-17", 1.0))
    own = consistency.invoice_number(labelled, None, consistency.Choice(labelled_date, 0.9))
    assert own is not None and own.candidate.value == "20190402-17" and not own.changed
