"""Letter-for-digit OCR confusions inside figures."""

import pytest

from extraction.parser.figures import normalise_figures


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2O19-04-02", "2019-04-02"),
        ("1O.5O", "10.50"),
        ("3l/12/2O18", "31/12/2018"),
        ("RM1O.00", "RM10.00"),
        ("Date: 30/O4/2018", "Date: 30/04/2018"),
    ],
)
def test_lookalike_letters_inside_figures_become_digits(text: str, expected: str) -> None:
    assert normalise_figures(text) == expected


@pytest.mark.parametrize("text", ["OIL 20l", "TOTAL", "ISO 9001", "S/N 1234", "SOLD 10 ITEMS"])
def test_words_units_and_codes_keep_their_letters(text: str) -> None:
    assert normalise_figures(text) == text


def test_length_is_kept_so_spans_stay_valid() -> None:
    text = "Total 1O.5O  Date 2O19-04-02"
    assert len(normalise_figures(text)) == len(text)
