"""The shared vocabulary: recommendation labels and the printed-verdict table."""
import pytest

from reviewnlp.vocab import canonical_label, is_rec_label, is_verdict, label_key, parent_key, printed_number, verdict_class


@pytest.mark.parametrize("text", [
    "This recommendation is accepted in full by the UK Government and the Scottish Government.",
    "Recommendation accepted.",
    "Accepted in principle.",
    "The Government accepts this recommendation.",
    "Recommendations 12) a-c) are accepted in full by the UK Government.",
    "4c is accepted in principle.",
])
def test_verdict_lines(text):
    assert is_verdict(text)


@pytest.mark.parametrize("text", [
    "The government agrees that clear governance is needed.",
    "Whether this recommendation is accepted or rejected depends on funding.",
    "It is accepted that the system failed.",
    "2023 is accepted as the year the scheme opened.",
])
def test_opinions_are_not_verdicts(text):
    assert not is_verdict(text)



@pytest.mark.parametrize("label,key", [("Recommendation 4a i", "4a i"), ("4a i", "4a i"), ("8.3", "8.3"), ("16", None),
                                       ("Recommendation", None), (None, None)])
def test_label_key_is_comparable_across_documents(label, key):
    assert label_key(label) == key


def test_labels_parse_one_way_everywhere():
    assert canonical_label("4(a)(i)") == canonical_label("4a) i)") == "4a i"
    assert is_rec_label("Recommendation") and is_rec_label("Recommendation 7") and not is_rec_label("Recommendations")
    assert printed_number("Recommendation 7") == "7" and printed_number("Recommendation") is None
    assert parent_key("6a i") == "6a" and parent_key("6a") == "6" and parent_key("6") is None


def test_verdict_class_reads_not_accepted_before_accepted():
    assert verdict_class("Not accepted.") == "not"
    assert verdict_class("Accepted in principle.") == "principle"
    assert verdict_class("This recommendation is accepted in full.") == "full"
    assert verdict_class(None) is None


@pytest.mark.parametrize("text,cls", [
    ("The Australian Government supports this recommendation.", "full"),
    ("The Government accepts in principle this recommendation.", "principle"),
    ("The Government accepts this recommendation in principle.", "principle"),
    ("Supported in principle.", "principle"),
    ("Agreed in-principle", "principle"),
    ("The Government notes this recommendation.", "noted"),
    ("Not supported.", "not"),
    ("Partially supported.", "part"),
])
def test_other_governments_verdict_words(text, cls):
    assert is_verdict(text) and verdict_class(text) == cls
