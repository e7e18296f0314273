"""Which segments search leaves out, what counts as the same text, and the tags in words (pure rules)."""
import pytest

from reviewnlp.passages import (EMPTY_QUERY, READABLE, describe_tags, has_sentence_shape, is_empty_query, left_out,
                                same_text_key)

HEADINGS = frozenset({same_text_key("The role of local authorities"), same_text_key("Kinship care")})


@pytest.mark.parametrize("text, kind, label, why", [
    # found on the bundled corpus (issue 20)
    ("The role of local authorities", "other", None, "heading"),
    ("THE ROLE OF LOCAL AUTHORITIES.", "other", None, "heading"),  # case and punctuation do not make it a sentence
    ("Kinship care", "other", None, "heading"),
    ("Local authorities NHS", "other", None, "fragment"),  # a diagram's label
    ("Convention of Scottish Local Authorities", "other", None, "fragment"),  # a heading the extractor missed
    ("Voluntary agreements between Government and businesses 5.19 38 The role of local authorities 5.28 41",
     "other", None, "contents line"),
    ("A UK-wide whole-system civil emergency strategy.......................18", "recommendation",
     "Recommendation 4", "contents line"),
    ("Introduction by the Chair vii", "other", None, "contents line"),
    (".", "other", None, "no content"),
    ("*", "other", None, "no content"),
    ("The", "other", None, "no content"),
    ("101.", "other", "2", "no content"),
    ("Recommendation 4", "recommendation", "Recommendation 4", "contents line"),  # a bare label: ends in a number
    # kept: sentences, however short, and labelled recommendations
    ("A national membership body for local authorities in England and Wales.", "other", None, None),
    ("Accepted.", "commitment", None, None),
    ("The Inquiry agrees.", "other", None, None),
    ("Recommendation 4: Red teams", "recommendation", "Recommendation 4", None),
    ("We recommend that the", "recommendation", None, None),  # a subject and a verb: a sentence cut short
    ("no young person should leave care without two loving relationships, by 2027", "recommendation", None, None),
    ("Bruce Mann (Director of the Civil", "other", None, "fragment"),  # "Civil" is not a page number
])
def test_left_out(text, kind, label, why):
    assert left_out(text, kind, label, HEADINGS) == why


def test_a_passage_the_table_quotes_is_kept_however_short():
    assert left_out("Kinship care", "recommendation", "7f", HEADINGS) == "heading"
    assert left_out("Kinship care", "recommendation", "7f", HEADINGS, quoted=True) is None
    assert left_out("Agreed", "commitment", None, HEADINGS, quoted=True) is None
    assert left_out(".", "commitment", None, HEADINGS, quoted=True) == "no content"


def test_the_rules_live_in_one_settings_object():
    from dataclasses import replace

    assert left_out("Funding for local authorities in England", "other", None, HEADINGS) == "fragment"
    looser = replace(READABLE, fragment_max_words=3)
    assert left_out("Funding for local authorities in England", "other", None, HEADINGS, settings=looser) is None
    assert has_sentence_shape("They agreed") and not has_sentence_shape("Agreement in principle")


def test_same_text_key_and_empty_queries():
    assert same_text_key("  The kinship  care\nstrategy, ") == same_text_key("the Kinship care strategy")
    assert same_text_key("£9 million") != same_text_key("9 million")
    for query in ("", "  ", "?!", "the of", " . * ", None):
        assert is_empty_query(query)
    for query in ("kinship", "2023", "what was rejected?", "éducation"):
        assert not is_empty_query(query)
    assert EMPTY_QUERY == ('the query is empty; type what you are looking for, e.g. '
                           '"financial support for kinship carers"')


def test_tags_in_words():
    assert describe_tags("recommendation", None, "accepted") == "recommendation · status: accepted"
    assert describe_tags("commitment", "deferred", None) == "government commitment · stance: deferred"
    assert describe_tags("response", "rejected", "partial") == ("government response · stance: rejected · "
                                                                "status: partial")
    assert describe_tags("other", None, None) == "other text"
