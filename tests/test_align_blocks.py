"""blocks: contents entries, list fragments, scattered blocks split into runs."""
import pytest

from reviewnlp.align.blocks import CONTENTS_LINE_RE, contiguous_runs, is_fragment as _fragment


@pytest.mark.parametrize("line", [
    "Preventing future harm to patients: achieving a safety culture 41-42",
    "Giving effect to Recommendations of this Inquiry 67",
])
def test_contents_entries_without_leaders_are_pointers(line):
    assert CONTENTS_LINE_RE.match(line)


@pytest.mark.parametrize("line", [
    "The UK government should hold an exercise at least every 3 years.",
    "Ministers should publish the strategy within 12 months.",
])
def test_sentences_ending_in_a_number_are_not_contents_entries(line):
    assert not CONTENTS_LINE_RE.match(line)


def test_contiguous_runs_split_where_neighbours_are_far_apart():
    assert contiguous_runs([40, 3, 5, 4, 12], gap=6) == [[3, 4, 5], [12], [40]]


@pytest.mark.parametrize("text,cut", [
    ("F. include an assessment in the short, medium and long term of the potential impact;", True),
    ("(c) ensure that the reports are published", True),
    ("measure the effectiveness of a range of public health measures; and", True),
    ("F. The government will publish the assessment in 2025.", False),
    ("The government agrees.", False),
])
def test_list_fragments_of_a_reprint_are_not_answers(text, cut):

    assert _fragment(text) is cut

