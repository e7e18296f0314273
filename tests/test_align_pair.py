"""pair: which documents answer which report, given their roles."""
import numpy as np

from reviewnlp.align.pair import document_partners, holds_originals, responds_to, unpaired
from reviewnlp.records import Document, Role


def _docs(roles, dates=None):
    dates = dates or {}
    return {d: Document(d, f"{d}.txt", d, "x", date=dates.get(d)) for d in roles}


def test_partners_discount_a_hub_document_that_matches_everything():
    # Three reports (a, b, c) each with a true response (ra, rb, rc); "hub" is close to all of them.
    rng = np.random.default_rng(0)
    topics = {k: rng.normal(size=32) for k in "abc"}
    generic = rng.normal(size=32)
    rows, vecs = {}, []

    def add(name, vec):
        v = vec / np.linalg.norm(vec)
        rows.setdefault(name, []).append(len(vecs))
        vecs.append(v)

    for k, t in topics.items():
        add(k, t + 0.3 * rng.normal(size=32))
        add("r" + k, t + 0.9 * generic + 0.3 * rng.normal(size=32))
        add("hub", 0.6 * t + 2.0 * generic)
    V = np.array(vecs, dtype=np.float32)
    rec_rows = {k: rows[k] for k in "abc"}
    cand_rows = {k: rows[k] for k in ("ra", "rb", "rc", "hub")}
    roles = {d: Role(d, "report" if d in "abc" else "other") for d in list(rec_rows) + list(cand_rows)}
    partners = document_partners(list(rec_rows) + list(cand_rows), rec_rows, cand_rows, V, roles, _docs(roles))
    assert partners == {"a": ["ra"], "b": ["rb"], "c": ["rc"]}


def test_two_document_run_pairs_a_briefing_with_itself():
    # A briefing answered by its own statements, beside an unrelated report that answers itself.
    V = np.eye(4, dtype=np.float32)
    V[1] = 0.9 * V[0] + 0.436 * V[3]   # briefing's own answer, close to its recommendation
    V[3] = 0.5 * V[0] + 0.866 * V[2]   # the report's statement, half-related to the briefing
    rec_rows = {"brief": [0], "report": [2]}
    cand_rows = {"brief": [1], "report": [3]}
    roles = {"brief": Role("brief", "briefing"), "report": Role("report", "report")}
    partners = document_partners(["brief", "report"], rec_rows, cand_rows, V, roles, _docs(roles))
    assert partners["brief"] == ["brief"]



def test_a_report_answers_nothing_and_a_response_answers_a_report_whatever_the_dates():
    roles = {"rep": Role("rep", "report"), "resp": Role("resp", "response"), "a": Role("a", "other"),
             "b": Role("b", "other")}
    # A web print's "Updated" date can put the report after its response: the roles still decide.
    docs = _docs(roles, {"rep": "2024-03-21", "resp": "2023-06-28", "a": "2020-01-01", "b": "2021-01-01"})
    assert responds_to("resp", "rep", roles, docs) and not responds_to("rep", "resp", roles, docs)
    assert holds_originals("rep", "resp", roles, docs, {}) and not holds_originals("resp", "rep", roles, docs, {})
    # Between two documents of the same role, the dates decide.
    assert responds_to("b", "a", roles, docs) and not responds_to("a", "b", roles, docs)


def test_only_a_report_left_alone_is_unpaired():
    roles = {"rep": Role("rep", "report"), "brief": Role("brief", "briefing")}
    assert unpaired("rep", roles, ["rep"]) and unpaired("rep", roles, [])
    assert not unpaired("brief", roles, ["brief"]) and not unpaired("rep", roles, ["resp"])
