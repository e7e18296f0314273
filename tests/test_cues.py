"""Pure cue functions: stance, money, deadlines, addressee and action."""
import pytest

from reviewnlp.cues import action, addressee, deadline, money, money_amounts, stance_of


@pytest.mark.parametrize("text,label", [
    ("The Government rejected the Care Review's recommendation that care experience become a protected characteristic.",
     "rejected"),
    ("the Government does not intend to do this", "rejected"),
    ("Test the use of regional care cooperatives in two regional pathfinders.", "partial"),
    ("We accept this recommendation in principle.", "partial"),
    ("Explore the case for mandating a financial allowance for kinship carers.", "deferred"),
    ("The Government will consult on the plans in autumn 2023.", "deferred"),
    ("The Government will therefore give careful consideration to the idea of appointing a Chief Social Scientist.",
     "deferred"),
    ("The Government will establish a Children's Social Care National Framework.", "accepted"),
    ("Practice guides will also be produced setting out approaches.", "accepted"),
])
def test_stance(text, label):
    assert stance_of(text).label == label


def test_stance_none_for_plain_statement():
    assert stance_of("Membership of the board was confirmed on 31 October 2022.") is None


def test_money_normalised():
    assert money("would require £2.6 billion of new spending, comprising £46 million in year one and £1,200") == [
        {"amount": 2.6e9, "currency": "GBP", "text": "£2.6 billion"},
        {"amount": 46e6, "currency": "GBP", "text": "£46 million"},
        {"amount": 1200.0, "currency": "GBP", "text": "£1,200"}]
    assert money_amounts("£28.3 million and $5 million") == [28.3e6]


@pytest.mark.parametrize("text,phrase,date", [
    ("frictionless data sharing by 2027", "by 2027", "2027-12-31"),
    ("Publish a data strategy by the end of 2023.", "by the end of 2023", "2023-12-31"),
    ("The Government will consult in spring 2023.", "in spring 2023", "2023-05-31"),
    ("By summer 2024, the Government will publish a statement.", "By summer 2024", "2024-08-31"),
    ("publish its new media protocol as soon as possible", "as soon as possible", None),
])
def test_deadline(text, phrase, date):
    assert deadline(text) == {"text": phrase, "date": date}


def test_no_deadline_for_past_events_or_forecasts():
    assert deadline("In 2022 the review was published.") is None


@pytest.mark.parametrize("text,who", [
    ("The Department for Education should urgently set regional and national targets.", "Department for Education"),
    ("Local authorities should make a financial allowance available.", "Local authorities"),
    ("Notwithstanding changes to the law, we recommend that the CPS publish its new media protocol.", "CPS"),
    ("The UK government and devolved administrations should work together.",
     "UK government and devolved administrations"),
    ("Ofsted should be given new powers to oversee the market.", None),
    ("In the future, social workers would need to have passed a framework.", None),
])
def test_addressee(text, who):
    assert addressee(text) == who


def test_action():
    assert action("The Government should invest around £2 billion to implement the reforms.") == \
        "invest around £2 billion to implement the reforms"
    assert action("we recommend that the CPS publish its new media protocol; and more") == "publish its new media protocol"


def test_quantities_count_things_not_years():
    from reviewnlp.cues import quantities

    assert quantities("a five-year early career framework") == {"year": 5.0}
    assert quantities("recruit 9,000 additional foster carers by 2027") == {"foster": 9000.0}
    assert quantities("two years of consistent support in 2023") == {"year": 2.0}


def test_building_towards_is_partial():
    from reviewnlp.cues import stance_of

    st = stance_of("Prioritise working with councils, building towards a national recruitment campaign.")
    assert st is not None and st.label == "partial" and st.cue == "building towards"


@pytest.mark.parametrize("text,cue", [
    ("In March we asked the research community to respond to our Call for Evidence.", None),
    ("But this Call for Ideas is open to all and we hope anyone will share ideas.", None),
    ("For those who have submitted evidence to our previous open calls for input this may come as a relief.", None),
    ("The review called for a national framework for children's social care.", "called for"),
])
def test_a_call_for_evidence_is_not_a_recommendation(text, cue):
    from reviewnlp.cues import recommends

    assert recommends(text) == cue
