from reviewnlp.extract.clean import continues, find_furniture, first_date, reflow, strip_furniture


def test_reflow_joins_wrapped_lines_and_dehyphenates():
    lines = ["Notwithstanding potential changes to contempt of court laws, we recom-",
             "mend that the CPS publish its new media protocol as soon as possible and keep",
             "this updated.",
             "Response:",
             "The CPS supported the committee."]
    assert reflow(lines) == [
        "Notwithstanding potential changes to contempt of court laws, we recommend that the CPS publish its new "
        "media protocol as soon as possible and keep this updated.",
        "Response:",
        "The CPS supported the committee."]


def test_reflow_starts_paragraphs_at_list_markers():
    lines = ["The report's other recommendations included the following long lead-in text here:",
             "• A windfall tax should be levied on profits made by the largest providers.",
             "• Ofsted should be given new powers."]
    assert len(reflow(lines)) == 3


def test_furniture_found_on_many_pages_and_stripped():
    bodies = ["Alpha.", "Bravo.", "Charlie.", "Delta.", "Echo.", "Foxtrot.", "Golf."]
    pages = [[f"{n} Police response to the 2024 summer disorder", body, str(n)] for n, body in enumerate(bodies, 1)]
    furniture = find_furniture(pages)
    assert "# police response to the # summer disorder" in furniture
    assert strip_furniture(pages[3], furniture) == ["Delta."]


def test_continues_only_for_open_sentences():
    assert continues("to achieve frictionless data", "sharing by 2027, drastically reduce")
    assert not continues("It ended here.", "and then")
    assert not continues("open", "New sentence")


def test_first_date_iso():
    assert first_date("Published on 20 June 2023 by X") == "2023-06-20"
    assert first_date("no date") is None
    assert first_date("31 February 2023") is None
