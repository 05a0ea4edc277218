"""Words of a closed vocabulary misread by one letter."""

from extraction.parser.misreads import one_letter_off, only_match


def test_one_letter_changed_added_or_dropped() -> None:
    assert one_letter_off("harch", "march")
    assert one_letter_off("sdn hd", "sdn bhd")
    assert one_letter_off("septembre", "september") is False  # two letters swapped is two changes
    assert one_letter_off("march", "march") is False
    assert one_letter_off("mar", "march") is False


def test_only_match_needs_exactly_one_fit() -> None:
    assert only_match("PTE LTO", ["PTE LTD", "PVT LTD"]) == "PTE LTD"
    assert only_match("PTV LTD", ["PTY LTD", "PTE LTD"]) is None
    assert only_match("QUARTERLY", ["PTY LTD"]) is None
