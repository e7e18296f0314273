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


def test_recommendation_headings_that_open_pages_are_not_running_headers():
    # A GOV.UK print put "Recommendation 4", "Recommendation 8" and "Recommendation 10" at page edges; read as
    # a running header with a page number, all three were stripped and their recommendations lost (dhsc).
    def body(n):
        word = "".join(chr(97 + int(d)) for d in str(n))  # a different line on every page, digits or not
        return [f"The review found {word} gaps in the data collected on {w}." for w in ("deaths", "visits", "staff")]
    pages = [body(n) + [f"Page {n} of 30"] for n in range(1, 31)]
    pages[14] = ["Recommendation 4", *body(15), "Page 15 of 30"]
    pages[15] = [*body(16), "Recommendation 8", "Page 16 of 30"]
    pages[17] = ["Recommendation 10", *body(18), "Page 18 of 30"]
    furniture = find_furniture(pages)
    assert strip_furniture(pages[14], furniture)[0] == "Recommendation 4"
    assert "Recommendation 8" in strip_furniture(pages[15], furniture)
    # A chapter's running header with the page number still goes, on however few pages it appears.
    chapter = [[f"Recommendations {n + 280}", *body(n)] for n in range(4)] + [body(n) for n in range(20)]
    assert "recommendations #" in find_furniture(chapter)
