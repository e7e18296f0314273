"""Segmentation: markers, voice, stance, and the offsets invariant on real documents."""
import json
from dataclasses import replace

import pytest
from hypothesis import given, settings, strategies as st

from conftest import SEED_BRIEFING, SHARED_EVAL, SMALL_PDF
from reviewnlp.extract import extract
from reviewnlp.extract.build import DocumentBuilder
from reviewnlp.segment import classify, find_body, segment_document, split_marker


@pytest.mark.parametrize("para,label,rest", [
    ("• Ofsted should be given new powers.", None, "Ofsted should be given new powers."),
    ("Recommendation 7: The Government should act.", "Recommendation 7", "The Government should act."),
    ("Recommendation: We recommend that the CPS publish.", "Recommendation", "We recommend that the CPS publish."),
    ("4c) Provide support", "4c", "Provide support"),
    ("12. The Committee recommends", "12", "The Committee recommends"),
    ("Response: The CPS supported the committee.", "Response", "The CPS supported the committee."),
    ("The report said so.", None, "The report said so."),
])
def test_split_marker(para, label, rest):
    got, off = split_marker(para)
    assert got == label and para[off:] == rest


@pytest.mark.parametrize("sentence,ctx,kind,stance", [
    ("The report recommended that a new category of Family Help should replace existing work.", None,
     "recommendation", None),
    ("The Government will test regional care cooperatives in two pathfinders.", None, "commitment", "partial"),
    ("It says the Government does not intend to do this.", None, "response", "rejected"),
    ("The Government will explore the case for mandating a financial allowance.", None, "response", "deferred"),
    ("The Government will publish a national kinship care strategy by the end of 2023.", None, "commitment",
     "accepted"),
    ("Explore the case for mandating a financial allowance for kinship carers.", "gov", "response", "deferred"),
    ("The Department for Education should urgently set regional targets.", None, "other", None),
    ("The Department for Education should urgently set regional targets.", "review", "recommendation", None),
])
def test_classify_voice_and_stance(sentence, ctx, kind, stance):
    got_kind, got_stance, _, _ = classify(sentence, ctx)
    assert (got_kind, got_stance) == (kind, stance)


@pytest.mark.parametrize("sentence", [
    "The Commons Library does not intend the information in our research publications to address the specific "
    "circumstances of any particular individual.",
    "You should not rely upon it as legal or professional advice, or as a substitute for it.",
    "Without such a reset, the report said, there will be nearly 100,000 children in care by 2032.",
])
def test_not_recommendations(sentence):
    assert classify(sentence, None)[0] != "recommendation"
    assert classify(sentence, "review")[0] != "recommendation"


def test_find_body():
    assert find_body("In March 2021, the Competition and Markets Authority (CMA) launched") == \
        "Competition and Markets Authority"
    assert find_body("2.1 Independent Review of Children's Social Care") == "Independent Review of Children's Social Care"


@pytest.mark.parametrize("path", [SEED_BRIEFING, SMALL_PDF])
def test_offsets_invariant_and_stable_ids(path):
    doc = extract(path)
    segs = segment_document(doc)
    assert segs
    for s in segs:
        assert doc.text[s.start:s.end] == s.text
        assert s.seg_id.startswith(doc.doc_id + ":")
    assert [s.seg_id for s in segs] == [s.seg_id for s in segment_document(doc)]


def test_pdf_recommendations_keep_their_page():
    doc = extract(SMALL_PDF)
    recs = [s for s in segment_document(doc) if s.kind == "recommendation"]
    first = next(s for s in recs if "CPS publish its new media protocol" in s.text)
    assert first.page == 4 and first.label == "Recommendation"


def test_briefing_lists_inherit_speaker():
    segs = segment_document(extract(SEED_BRIEFING))
    by_text = {s.text: s for s in segs}
    assert by_text["The Government should develop a legal definition of kinship care."].kind == "recommendation"
    item = next(s for s in segs if s.text.startswith("Explore the case for mandating a financial allowance"))
    assert (item.kind, item.stance) == ("response", "deferred")
    assert not any(s.kind == "recommendation" and "You should not rely upon it" in s.text for s in segs)


@pytest.mark.skipif(not (SHARED_EVAL / "dev_gold.jsonl").exists(), reason="shared eval kit not present")
def test_every_gold_recommendation_is_a_recommendation_segment():
    from reviewnlp.evaluate import covers

    segs = [s for s in segment_document(extract(SEED_BRIEFING)) if s.kind == "recommendation"]
    gold = [json.loads(l) for l in (SHARED_EVAL / "dev_gold.jsonl").read_text().splitlines() if l.strip()]
    missing = [g["id"] for g in gold if not any(covers(s.text, g["rec"], 0.8) for s in segs)]
    assert missing == []


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=120),
                max_size=12))
def test_offsets_invariant_on_arbitrary_text(paras):
    b = DocumentBuilder()
    for i, p in enumerate(paras):
        b.add(p, page=1 + i // 4)
    doc = b.build("prop", "prop.txt", "test")
    for s in segment_document(doc):
        assert doc.text[s.start:s.end] == s.text and s.text.strip() == s.text


def test_conventions_keep_only_marked_recommendations_in_a_report():
    from reviewnlp.segment import apply_conventions

    b = DocumentBuilder()
    paras = ["Recommendation 1: The Government should publish a strategy.",
             "Recommendation 2: The Government should fund local services.",
             "Recommendation 3: The Cabinet Office should lead on resilience.",
             "The Inquiry heard evidence that departments should have planned better.",
             "The Inquiry said the regulator should act faster."]
    for p in paras:
        b.add(p, page=1)
    doc = b.build("r", "report.pdf", "test")
    segs = apply_conventions(doc, segment_document(doc))
    recs = [s.label for s in segs if s.kind == "recommendation"]
    assert recs == ["Recommendation 1", "Recommendation 2", "Recommendation 3"]
    assert [s.kind for s in segs if "regulator should act" in s.text] == ["commentary"]


def test_grenfell_style_quote_and_answer_in_one_paragraph():
    b = DocumentBuilder()
    b.add("Recommendation 1: That the government draw together under a single regulator all the functions to which "
          "we have referred. (113.6) The government accepts this recommendation in principle.", page=1)
    doc = b.build("g", "response.pdf", "test")
    segs = segment_document(doc)
    assert [(s.kind, s.label) for s in segs][0] == ("recommendation", "Recommendation 1")
    assert segs[0].text.endswith("(113.6)")
    assert (segs[-1].kind, segs[-1].stance) == ("commitment", "partial")


def test_compound_and_outline_labels():
    from reviewnlp.segment import canonical_label

    assert split_marker("4a) i. A statutory duty of candour should be introduced.")[0] == "4a i"
    assert canonical_label("4(a)(ii)") == "4a ii"
    b = DocumentBuilder()
    for p in ["4. Preventing future harm to patients", "(a) Duty of candour",
              "(i) A statutory duty of candour in healthcare should be introduced.",
              "(ii) That a framework be established for recording outcomes."]:
        b.add(p, page=1)
    doc = b.build("o", "report.pdf", "test")
    recs = [(s.label, s.kind) for s in segment_document(doc) if s.kind == "recommendation"]
    assert recs == [("4a i", "recommendation"), ("4a ii", "recommendation")]


# ------------------------------------------------ giant paragraphs (issue 13)

WORDS = ("data", "record", "line", "value", "field", "entry", "item", "block", "token", "series")


def _soup(n_words: int, seed: int = 0) -> str:
    """Words with no sentence punctuation: the shape of a dump or log saved as text."""
    import random

    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(n_words))


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab .?!\n"), max_size=400), st.integers(4, 60))
def test_chunk_spans_tile_the_text_within_the_limit(text, limit):
    from reviewnlp.segment import chunk_spans

    spans = chunk_spans(text, limit)
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    assert all(0 < b - a <= limit for a, b in spans) or text == ""


def test_chunk_spans_cut_after_a_sentence_end_where_there_is_one():
    from reviewnlp.segment import chunk_spans

    text = "First sentence here. Second one follows and runs on and on"
    assert chunk_spans(text, 30)[0] == (0, 21)  # after "here. ", not at the last space
    assert chunk_spans(text, 100) == [(0, len(text))]
    assert chunk_spans("x" * 25, 10) == [(0, 10), (10, 20), (20, 25)]


def test_a_paragraph_over_the_limit_is_fed_to_spacy_in_pieces_with_exact_offsets():
    from reviewnlp.segment import _sentence_spans

    para = "The committee met in May. " * 40 + _soup(300)
    spans = _sentence_spans([para, "Short one. Two."], limit=500)
    assert len(spans[0]) >= 40 and spans[1] == [(0, 10), (11, 15)]
    assert all(0 <= a < b <= len(para) for a, b in spans[0])
    assert all(x[1] <= y[0] for x, y in zip(spans[0], spans[0][1:]))
    assert para[spans[0][0][0]:spans[0][0][1]] == "The committee met in May."


@pytest.mark.slow  # 25-45 s; CI runs it with the slow tests
def test_hard_wrapped_6_5_mb_text_with_no_blank_lines_segments(tmp_path):
    """Once spaCy's E088: the whole file is one paragraph of 6.5 million characters."""
    import textwrap

    path = tmp_path / "hard_wrapped_6_5mb_no_blank_lines.txt"
    path.write_text("\n".join(textwrap.wrap(_soup(1_150_000), 72)) + "\n", encoding="utf-8")
    assert path.stat().st_size > 6_500_000
    doc = extract(path)
    assert "\n" not in doc.text and len(doc.text) > 6_000_000  # reflowed into one paragraph
    segs = segment_document(doc)
    assert segs and segs[-1].end == len(doc.text.rstrip())
    assert all(doc.text[s.start:s.end] == s.text for s in segs[::50])


def test_a_segmentation_failure_is_one_failed_file_not_a_crash(monkeypatch):
    """With chunking switched off, the giant paragraph hits spaCy's E088 again: caught per file."""
    import reviewnlp.segment as segment
    from reviewnlp.units import segment_or_fail

    monkeypatch.setattr(segment, "SPACY_CHUNK", 10**9)
    b = DocumentBuilder()
    b.add(_soup(900_000), page=None)
    doc = b.build("d", "giant_one_line.txt", "test")
    failed = segment_or_fail(doc)
    assert failed.stage == "segment" and failed.cause == "unsegmentable"
    assert failed.message.startswith("giant_one_line.txt: unsegmentable (ValueError: [E088] Text of length")


@pytest.mark.slow
def test_one_line_text_of_50_mb_segments(tmp_path):
    """Once spaCy's E088 on a 50 MB one-line file (about a minute of spaCy on 2 cores)."""
    path = tmp_path / "giant_one_line_50mb.txt"
    with open(path, "w", encoding="utf-8") as fh:
        for seed in range(10):
            fh.write(_soup(850_000, seed) + " ")
        fh.write("\n")
    assert path.stat().st_size > 50_000_000
    doc = extract(path)
    segs = segment_document(doc)
    assert segs[-1].end == len(doc.text.rstrip()) and all(len(s.text) <= 10_000 for s in segs)
    assert all(doc.text[s.start:s.end] == s.text for s in segs[::100])


# ------------------------------------------------ long and many headings (issues 12a, 13)

def test_a_200_kb_heading_does_not_multiply_the_output(tmp_path, fake_embedder):
    """Once 465 MB from a 278 KB .md: each of 1,000 segments repeated the 200 KB heading as its section."""
    from reviewnlp.pipeline import run
    from reviewnlp.records import Document, Segment, read_jsonl

    src = tmp_path / "in" / "one_giant_heading.md"
    src.parent.mkdir()
    sentences = "\n\n".join(f"The committee met on day {i} and agreed the plan for that week." for i in range(1000))
    src.write_text("# " + _soup(40_000)[:200_000] + "\n\n" + sentences + "\n", encoding="utf-8")
    run([src.parent], tmp_path / "out", embedder=fake_embedder)
    out = tmp_path / "out"
    written = (out / "documents.jsonl").stat().st_size + (out / "segments.jsonl").stat().st_size
    assert written < 5 * src.stat().st_size
    (doc,) = read_jsonl(out / "documents.jsonl", Document)
    segs = list(read_jsonl(out / "segments.jsonl", Segment))
    # A 200 KB line is running text, not a title: it titles no section and not the document.
    assert doc.sections == () and len(doc.title) <= 80
    assert len(segs) >= 1000 and all(s.section is None for s in segs)
    assert all(doc.text[s.start:s.end] == s.text for s in segs)
    assert segs[-1].text == "The committee met on day 999 and agreed the plan for that week."


def test_a_long_section_title_is_cut_at_a_word_for_its_segments():
    from reviewnlp.records import Document, Section
    from reviewnlp.sections import SECTION_TITLE_MAX, short_title

    heading = "Recommendations on " + _soup(100)  # about 600 characters: long, but still a heading
    b = DocumentBuilder()
    b.add(heading, heading=2)
    b.add("The Government should publish a plan. It should fund it.")
    doc = b.build("long", "long.md", "test")
    assert doc.sections[0].title == heading  # the document keeps the heading whole
    cut = short_title(heading)
    assert len(cut) <= SECTION_TITLE_MAX and cut.endswith("…") and heading.startswith(cut[:-1])
    assert heading[len(cut) - 1] == " "  # cut where a word ends
    segs = segment_document(doc)
    assert {s.section for s in segs} == {cut}
    # A document read from an older documents.jsonl may hold a giant title: its segments carry it cut too.
    old = Document(doc_id="old", path="old.md", title="Old", text=doc.text,
                   sections=(Section(_soup(40_000), 1, 0, len(doc.text)),))
    assert all(len(s.section) <= SECTION_TITLE_MAX and s.section.endswith("…") for s in segment_document(old))
    assert short_title("Short title") == "Short title" and short_title(None) is None
    assert short_title("x" * 1000) == "x" * (SECTION_TITLE_MAX - 1) + "…"  # one unbroken word: cut at the limit


def test_a_heading_over_the_limit_is_segmented_as_text():
    from reviewnlp.extract.build import HEADING_MAX_CHARS

    sentence = "The Government will publish a national kinship care strategy by the end of 2023."
    giant = f"{sentence} " * (HEADING_MAX_CHARS // len(sentence) + 1)
    b = DocumentBuilder()
    b.add("Introduction", heading=1)
    b.add(giant, heading=2)
    b.add("continued in lower case after it.")
    doc = b.build("g", "g.md", "test")
    assert [s.title for s in doc.sections] == ["Introduction"]
    assert doc.text.split("\n")[1] == giant.strip()  # its own paragraph, not joined to the heading
    assert doc.text.split("\n")[2] == "continued in lower case after it."
    segs = [s for s in segment_document(doc) if s.text == sentence]
    # Classified as running text (a heading's sentences are all "other").
    assert segs and all((s.kind, s.stance, s.section) == ("commitment", "accepted", "Introduction") for s in segs)


def _recommendation_sections_by_scan(doc):
    """recommendation_sections as it was: each title line scanned against every span, each span against all."""
    from reviewnlp.sections import CHAPTER_LINE_RE, RECO_SECTION_RE, RECO_TITLE_LINE_RE

    titled = [(x.start, x.end) for x in doc.sections if RECO_SECTION_RE.match(x.title)]
    for m in RECO_TITLE_LINE_RE.finditer(doc.text):
        if any(a <= m.start() < b for a, b in titled):
            continue
        end = next((n.start() for n in CHAPTER_LINE_RE.finditer(doc.text, m.end())), len(doc.text))
        titled.append((m.start(), end))
    return [(a, b) for a, b in titled if not any((a, b) != (c, d) and a <= c and d <= b for c, d in titled)]


LINES = ("Recommendations", "Chapter 2: Findings", "Appendix A", "The Inquiry heard evidence.",
         "Conclusions and recommendations", "1.5 Recommendations", "", "  ", "Annex B list")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(LINES), st.one_of(st.none(), st.integers(1, 3))), max_size=14),
       st.lists(st.tuples(st.integers(0, 200), st.integers(0, 200)), max_size=4))
def test_recommendation_sections_equal_the_scan(lines, extra):
    """The sorted, bisecting version gives the scan's spans, in its order, on any mix of headings and lines;
    and the span test answers as a scan of those spans would."""
    from reviewnlp.records import Section
    from reviewnlp.sections import recommendation_sections, span_test

    b = DocumentBuilder()
    for text, level in lines:
        b.add(text, heading=level, join_split=False)
    doc = b.build("r", "r.md", "test")
    # Overlapping and reversed spans as an older or hand-made Document may hold.
    doc = replace(doc, sections=doc.sections + tuple(Section("Recommendations", 2, a, c) for a, c in extra))
    spans = recommendation_sections(doc)
    assert spans == _recommendation_sections_by_scan(doc)
    inside = span_test(spans + list(extra))
    for x in range(-1, len(doc.text) + 2):
        assert inside(x) == any(a <= x < c for a, c in spans + list(extra))


def _headed(n: int):
    """``n`` headings over three levels, one in four "Recommendations", each on its own page."""
    b = DocumentBuilder()
    for i in range(n):
        b.add("Recommendations" if i % 4 == 0 else f"Part {i} of the report", page=1 + i, heading=1 + i % 3)
    return b.build(f"h{n}", "headings.md", "test")


def test_segmentation_is_linear_in_headings():
    """Once quadratic: each segment scanned every section (and page) for its own; 32,000 headings took 103 s."""
    import time

    from test_records import _page_at_by_scan, _section_at_by_scan

    segment_document(_headed(10))  # spaCy loaded outside the timing
    took = {}
    for n in (8_000, 32_000):
        doc = _headed(n)
        t = time.perf_counter()
        segs = segment_document(doc)
        took[n] = time.perf_counter() - t
        assert len(segs) == n * 3 // 4  # a bare "Recommendations" line opens a block: no segment of its own
    assert took[32_000] < 8 * took[8_000], took
    assert all(doc.text[s.start:s.end] == s.text for s in segs)
    assert all(s.section == _section_at_by_scan(doc, s.start) and s.page == _page_at_by_scan(doc, s.start)
               for s in segs[::997])
