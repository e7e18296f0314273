"""Pure layout rules on synthetic lines (PDF coordinates, origin bottom-left)."""
from reviewnlp.extract.clean import is_print_furniture, reflow
from reviewnlp.extract.layout import (Line, lift_markers, merge_number_lines, order_columns, parse_footnotes,
                                      split_footnotes)


def _line(text, left, bottom, right, height=12.0, bold=False):
    return Line(text, left, bottom, right, bottom + height, [], bold)


def test_lift_markers_only_when_raised():
    text = "of public safety or national security.”39 In 2027 there were 12 cases"
    clean, markers = lift_markers(text, lambda i: text[i:i + 2] == "39")
    assert clean == "of public safety or national security.” In 2027 there were 12 cases"
    assert markers == [(len("of public safety or national security.”"), "39")]


def test_merge_number_lines_and_split_footnotes():
    body = [_line(f"Body line {i} of running text that fills the page width nicely.", 70, 700 - 15 * i, 520)
            for i in range(10)]
    notes = [_line("1", 70, 118, 74, height=6), _line("Prime Minister’s Office, PM statement", 80, 113, 400, 10),
             _line("2", 70, 106, 74, height=6), _line("Lords Library research briefing, Infected", 80, 101, 400, 10),
             _line("compensation and inquiry outcomes, 22 May 2024", 80, 89, 400, 10)]
    lines = merge_number_lines(body + notes, 12.0)
    running, foot = split_footnotes(lines, 12.0, 842)
    assert running == body
    assert parse_footnotes(foot) == [
        ("1", "Prime Minister’s Office, PM statement"),
        ("2", "Lords Library research briefing, Infected compensation and inquiry outcomes, 22 May 2024")]


def test_no_footnotes_without_a_numbered_small_line():
    body = [_line(f"Line {i}", 70, 700 - 15 * i, 520) for i in range(5)]
    small = [_line("Source: ONS", 70, 100, 200, height=8)]
    running, foot = split_footnotes(body + small, 12.0, 842)
    assert foot == [] and running == body + small


def test_interleaved_two_columns_are_read_column_by_column():
    left = [_line(f"L{i}", 60, 700 - 15 * i, 280) for i in range(8)]
    right = [_line(f"R{i}", 320, 700 - 15 * i, 540) for i in range(8)]
    interleaved = [l for pair in zip(left, right) for l in pair]
    ordered, two_col = order_columns(interleaved, 595)
    assert two_col and [l.text for l in ordered] == [l.text for l in left + right]
    stream_ordered, two_col = order_columns(left + right, 595)
    assert not two_col and stream_ordered == left + right


def test_full_width_title_stays_above_columns():
    title = _line("A title across the page", 60, 760, 540, 20)
    left = [_line(f"L{i}", 60, 700 - 15 * i, 280) for i in range(6)]
    right = [_line(f"R{i}", 320, 700 - 15 * i, 540) for i in range(6)]
    ordered, _ = order_columns([title] + [l for p in zip(left, right) for l in p], 595)
    assert [l.text for l in ordered] == ["A title across the page"] + [l.text for l in left + right]


def test_print_furniture_and_dehyphenation():
    assert is_print_furniture("20/06/2023, 14:32 Government proposals for children's social care reform")
    assert is_print_furniture("https://commonslibrary.parliament.uk/research-briefings/cbp-9745/ 3/41")
    assert not is_print_furniture("In 2023, 14 areas took part.")
    assert reflow(["all cases should be co-", "worked by an expert and recom-", "mendations followed."]) == [
        "all cases should be co-worked by an expert and recommendations followed."]
