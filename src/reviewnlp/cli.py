"""Command line: parse, call the library, render.  Domain errors become CLI errors only here."""
from __future__ import annotations

import json
import sys
from functools import wraps
from pathlib import Path

import click

from . import __version__
from .errors import ReviewNLPError
from .workers import DEFAULT_MAX_MEMORY_MB
from .progress import safe_line  # one definition, shared with the progress log
from .records import SHOWN_STATUSES

OUT_OPTION = click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
                          default=Path("outputs"), show_default=True, help="Folder for the stage's files.")


def _domain_errors(fn):
    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ReviewNLPError as exc:
            raise click.ClickException(safe_line(str(exc))) from exc  # messages name files: one escaped line
    return wrapper


def _writes_output(fn):
    """Hold the output folder's lock while a stage command writes it, then re-record run.json's digests.

    Temp files a killed command left are swept first, and a failed write (a full disk) is one line.
    """
    @wraps(fn)
    def wrapper(*args, **kwargs):
        from .batch import Cache
        from .outdir import locked, refresh_manifest, writing

        with locked(kwargs["out_dir"]) as folder, writing(folder):
            Cache(folder).sweep()
            result = fn(*args, **kwargs)
            refresh_manifest(folder)
        return result
    return wrapper


def page_ranges(pages: list[int]) -> str:
    """Page numbers as ranges: [3, 4, 5, 9] -> "3-5, 9"."""
    runs: list[list[int]] = []
    for p in sorted(pages):
        if runs and p == runs[-1][1] + 1:
            runs[-1][1] = p
        else:
            runs.append([p, p])
    return ", ".join(f"{a}-{b}" if b > a else f"{a}" for a, b in runs)


def _iso_date(ctx, param, value):
    """Click callback: a real calendar date as YYYY-MM-DD, or None."""
    import datetime as dt
    import re

    if value is None:
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date as YYYY-MM-DD") from None


def EMBED_OPTIONS(fn):
    """``--embed-backend`` and ``--device`` for the commands that embed or check vectors."""
    fn = click.option("--device", type=click.Choice(["cpu", "cuda"]), default=None,
                      help="cpu (default), or cuda: a GPU torch can see (torch backend only).")(fn)
    return click.option("--embed-backend", "backend", type=click.Choice(["openvino", "openvino-f32", "torch"]),
                        default=None, envvar="REVIEWNLP_EMBED_BACKEND",
                        help="Embedding backend [default: openvino on the CPU, torch with --device cuda].")(fn)


MAX_FILE_OPTION = click.option("--max-file-mb", default=200.0, show_default=True, type=click.FloatRange(min=0.001),
                               help="Refuse input files larger than this (MB).")
MAX_MEMORY_OPTION = click.option("--max-memory-mb", default=DEFAULT_MAX_MEMORY_MB, show_default=True,
                                 type=click.IntRange(min=0),
                                 help="Memory each file's worker process may use (MB; 0: no limit). A file that "
                                      "needs more (a decompression bomb) fails alone.")


@click.group()
@click.version_option(__version__, prog_name="reviewnlp")
def main() -> None:
    """Find recommendations and government responses in documents, align them and classify the status."""


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@OUT_OPTION
@click.option("-w", "--workers", default=1, show_default=True, type=click.IntRange(1, 256),
              help="Processes (or Ray tasks at a time) for extraction and segmentation.")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local: this machine; ray: Ray tasks (a local Ray instance, or the cluster at RAY_ADDRESS).")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
@MAX_FILE_OPTION
@MAX_MEMORY_OPTION
@EMBED_OPTIONS
@_domain_errors
def run(inputs: tuple[Path, ...], out_dir: Path, workers: int, executor: str, quiet: bool, max_file_mb: float,
        max_memory_mb: int, backend: str | None, device: str | None) -> None:
    """Run every stage on INPUTS (files or folders) and write the outputs to --out.

    Work already done for unchanged files is taken from --out/cache, so a killed
    run can simply be started again.  Exits 1 when no input file could be
    processed (every one failed or was skipped); the outputs are written all the same.
    """
    from .pipeline import run as run_pipeline
    from .progress import Progress

    from .embed import make_embedder

    embedder = make_embedder(backend, device)
    manifest = run_pipeline(list(inputs), out_dir, embedder=embedder, workers=workers,
                            executor=executor, progress=Progress(quiet=quiet),
                            max_file_mb=max_file_mb, max_memory_mb=max_memory_mb)
    c, f = manifest["counts"], manifest["files"]
    out = safe_line(str(out_dir))
    # Every path and message below can carry a file name: one escaped line each (safe_line).
    click.echo(f"{f['total']} files: {f['done']} processed, {f['cached']} from cache, {f['failed']} failed"
               + (f", {f['skipped']} skipped" if f["skipped"] else ""))
    for fail in manifest["failed"]:
        click.echo(f"  failed: {safe_line(fail['message'])}")
    for skip in manifest["skipped"]:
        click.echo(f"  skipped: {safe_line(skip['path'])}: {safe_line(skip['reason'])}")
    click.echo(f"{c['documents']} documents, {c['pages']} pages, {c['segments']} segments "
               f"({c['newly_embedded']} newly embedded), {c['recommendations']} recommendations aligned "
               f"in {manifest['timings_s']['total']:.1f}s")
    click.echo(f"embeddings: {embedder.describe()}")
    click.echo("statuses: " + ", ".join(f"{k} {v}" for k, v in c["shown_statuses"].items()))
    _echo_reports(manifest["reports"])
    for d in manifest["documents"]:
        if d["ocr_pages"]:
            click.echo(f"  read by OCR (check these pages): {safe_line(d['path'])}: pages {page_ranges(d['ocr_pages'])}")
        for note in d.get("ocr_limits", []):
            click.echo(f"  OCR limit: {safe_line(d['path'])}: {note}")
    _echo_corrections(manifest["corrections"], out)
    redone = [k for k, v in manifest["cache"]["recomputed"].items() if v]
    click.echo(f"recomputed: {', '.join(redone) if redone else 'nothing (all cached)'}")
    click.echo(f"outputs in {out}/ (errors in {out}/errors.jsonl)")
    if not c["documents"]:  # the outputs above are written, but a script must see that nothing was processed
        raise click.ClickException(f"no input file could be processed ({f['failed']} failed, {f['skipped']} "
                                   f"skipped); see {out}/errors.jsonl")


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@OUT_OPTION
@MAX_FILE_OPTION
@MAX_MEMORY_OPTION
@_domain_errors
@_writes_output
def extract(inputs: tuple[Path, ...], out_dir: Path, max_file_mb: float, max_memory_mb: int) -> None:
    """Extract text, pages and sections from INPUTS into documents.jsonl."""
    from .pipeline import extract_stage

    skipped: list[tuple[str, str]] = []
    docs, failed = extract_stage(list(inputs), out_dir, max_file_mb, skipped, max_memory_mb)
    for path, why in skipped:
        click.echo(f"skipped: {safe_line(path)}: {safe_line(why)}", err=True)
    for f in failed:
        click.echo(f"error: {safe_line(f.message)}", err=True)
    for d in docs:
        for note in d.meta.get("ocr_limits", []):
            click.echo(f"OCR limit: {safe_line(d.path)}: {note}", err=True)
    click.echo(f"{len(docs)} documents extracted, {len(failed)} failed -> {safe_line(str(out_dir))}/documents.jsonl")


@main.command()
@OUT_OPTION
@_domain_errors
@_writes_output
def segment(out_dir: Path) -> None:
    """Segment documents.jsonl into classified segments.jsonl."""
    from .pipeline import load_documents, segment_stage

    segs = segment_stage(load_documents(out_dir), out_dir)
    recs = sum(s.kind == "recommendation" for s in segs)
    click.echo(f"{len(segs)} segments ({recs} recommendations) -> {out_dir}/segments.jsonl")


@main.command()
@OUT_OPTION
@EMBED_OPTIONS
@_domain_errors
@_writes_output
def embed(out_dir: Path, backend: str | None, device: str | None) -> None:
    """Embed segments.jsonl into vectors.npy."""
    from .embed import make_embedder
    from .pipeline import embed_stage, load_segments

    vecs, new = embed_stage(load_segments(out_dir), out_dir, make_embedder(backend, device))
    click.echo(f"{len(vecs)} vectors ({new} newly embedded) -> {out_dir}/vectors.npy")


@main.command()
@OUT_OPTION
@EMBED_OPTIONS
@_domain_errors
@_writes_output
def index(out_dir: Path, backend: str | None, device: str | None) -> None:
    """Build the FAISS index from vectors.npy."""
    from .embed import make_embedder
    from .pipeline import index_stage, load_segment_vectors, load_segments

    model_id = make_embedder(backend, device).model_id
    segs = load_segments(out_dir)
    vecs = load_segment_vectors(out_dir, segs, model_id)
    idx = index_stage(segs, vecs, out_dir, model_id)
    click.echo(f"{idx.index.ntotal} vectors indexed -> {out_dir}/index.faiss")


@main.command()
@OUT_OPTION
@EMBED_OPTIONS
@_domain_errors
@_writes_output
def align(out_dir: Path, backend: str | None, device: str | None) -> None:
    """Align recommendations to responses; writes alignments.jsonl and alignments.csv."""
    from .embed import make_embedder
    from .pipeline import align_stage, corrections_summary, load_documents, load_segment_vectors, load_segments

    segs = load_segments(out_dir)
    vecs = load_segment_vectors(out_dir, segs, make_embedder(backend, device).model_id)
    alignments, orphans = align_stage(load_documents(out_dir), segs, vecs, out_dir)
    click.echo(f"{len(alignments)} recommendations aligned -> {safe_line(str(out_dir))}/alignments.jsonl")
    _echo_corrections(corrections_summary(out_dir, alignments, orphans), safe_line(str(out_dir)))


def _echo_reports(reports: list[dict]) -> None:
    """A line counting the reports (``run.json``'s ``reports``) and the rows of those nothing in the run answers,
    then one line per report."""
    unpaired = [r for r in reports if r["unpaired"]]
    rows = sum(r["unpaired_rows"] for r in reports)
    rows_note = f": {rows} unpaired row{'' if rows == 1 else 's'}, not counted as gaps" if rows else ""
    click.echo(f"reports: {len(reports)}"
               + (f" ({len(unpaired)} with no response found among the inputs{rows_note})" if unpaired else ""))
    for r in reports:
        click.echo(f"  {safe_line(r['line'])}")


def _echo_corrections(corr: dict, out: str) -> None:
    """One line on the analysts' corrections (``run.json``'s ``corrections``), when there are any, and one
    per correction that found no row or line that is not one."""
    if not (corr["lines"] or corr["problems"]):
        return
    click.echo(f"corrections: {corr['reviewed_rows']} rows reviewed from {out}/{corr['file']}"
               + (f"; {len(corr['orphans'])} found no row (listed in run.json)" if corr["orphans"] else ""))
    for o in corr["orphans"]:
        click.echo(f"  orphaned correction: {safe_line(o['rec_id'])}: {safe_line(o['why'])}")
    for line in corr["problems"]:
        click.echo(f"  warning: {safe_line(line)}")


@main.command()
@OUT_OPTION
@_domain_errors
@_writes_output
def export(out_dir: Path) -> None:
    """Write alignments.csv, alignments.xlsx and report.html from alignments.jsonl."""
    from .pipeline import (ALIGNMENTS, corrections_summary, export_stage, load_documents, load_segments,
                           reports_summary)
    from .records import Alignment, read_jsonl

    path = out_dir / ALIGNMENTS
    if not path.exists():
        raise ReviewNLPError(f"{path}: not found; run the align stage first")
    docs = load_documents(out_dir)
    rows, orphans = export_stage(out_dir, list(read_jsonl(path, Alignment)), docs, load_segments(out_dir))
    click.echo(f"-> {safe_line(str(out_dir))}/alignments.jsonl, alignments.csv, alignments.xlsx, report.html, "
               "reviewnlp.sqlite")
    _echo_reports(reports_summary(out_dir, rows, docs))
    _echo_corrections(corrections_summary(out_dir, rows, orphans), safe_line(str(out_dir)))


def _at_most_max_k(ctx, param, value):
    """Click callback: ``-k`` no larger than the most results one search returns (``MAX_K``)."""
    from .search import MAX_K

    if value is not None and value > MAX_K:
        raise click.BadParameter(f"{value} is not in the range 1<=x<={MAX_K}.")
    return value


def _search_epilog() -> str:
    """``reviewnlp search --help``'s epilog: what a hit shows and what its tags mean, one line each."""
    from .passages import KIND_MEANINGS, KIND_WORDS, STATUS_MEANINGS

    kinds = "\n".join(f"  {KIND_WORDS[k]:<22} {m}" for k, m in KIND_MEANINGS.items())
    statuses = "\n".join(f"  {s:<9} {m}" for s, m in STATUS_MEANINGS.items())
    return f"""Each hit shows its rank, what the passage is, its similarity, its document, page and section,
and the matching sentence in bold in its paragraph.

\b
similarity: the cosine between the query's embedding and the passage's, 0 to 1;
  higher is closer in meaning. Most passages score under 0.3 for any query, good
  hits usually 0.5 to 0.8. --json also gives score: the rank fusion (RRF) score
  the hits are ordered by, which means nothing outside its own search.

\b
What the passage is (its kind, as --kind names it without "government"/"text"):
{kinds}

\b
stance: what a government passage itself says; status: the alignment status of
the recommendation, or of the recommendation the passage answers:
{statuses}

Left out of the results: headings on their own, contents lines, diagram labels and other
fragments with no sentence in them. A text printed in several places is shown once, with the
other places under "also printed in"."""


@main.command(epilog=_search_epilog())
@click.argument("query")
@OUT_OPTION
@click.option("-k", "--top", default=10, show_default=True, type=click.IntRange(min=1), callback=_at_most_max_k,
              help="Number of results (at most 100).")
@click.option("--mode", type=click.Choice(["hybrid", "dense", "lexical", "phrase"]), default="hybrid",
              show_default=True, help="Ranking: dense + BM25 fused (hybrid), one of them, or exact phrase.")
@click.option("--doc", "documents", multiple=True, help="Only documents whose file name or title contains this.")
@click.option("--kind", "kinds", multiple=True,
              type=click.Choice(["recommendation", "commitment", "response", "commentary", "other"]))
@click.option("--body", "bodies", multiple=True, help="Only segments whose body contains this.")
@click.option("--stance", "stances", multiple=True, type=click.Choice(["accepted", "partial", "deferred", "rejected"]))
@click.option("--status", "statuses", multiple=True,
              type=click.Choice(SHOWN_STATUSES),
              help="Alignment status of the recommendation, or of the recommendation a passage answers "
                   "(unpaired: its report has no response among the inputs).")
@click.option("--from", "date_from", callback=_iso_date, help="Documents dated on or after (YYYY-MM-DD).")
@click.option("--to", "date_to", callback=_iso_date, help="Documents dated on or before (YYYY-MM-DD).")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON lines: every field of a hit, with similarity, score (the rank fusion score) and "
                   "also_in.")
@click.option("--no-similarity", "no_similarity", is_flag=True,
              help="With --mode lexical or phrase: do not embed the query, so no model loads (about 0.6 s "
                   "faster); hits show no similarity.")
@EMBED_OPTIONS
@_domain_errors
def search(query: str, out_dir: Path, top: int, mode: str, documents, kinds, bodies, stances, statuses,
           date_from, date_to, as_json: bool, no_similarity: bool, backend: str | None, device: str | None) -> None:
    """Search the passages of a finished run by meaning (hybrid dense + BM25 by default)."""
    from .passages import EMPTY_QUERY_LEAD, EXAMPLE_QUERY, is_empty_query
    from .search import Searcher

    if is_empty_query(query):  # refused before anything loads, with the example as a command to run
        import shlex

        exc = click.ClickException(f"{EMPTY_QUERY_LEAD} reviewnlp search \"{EXAMPLE_QUERY}\" "
                                   f"-o {safe_line(shlex.quote(str(out_dir)))}")
        exc.exit_code = 2
        raise exc
    embedder = None
    if backend or device:  # otherwise the backend that made the run's index answers (see Searcher)
        from .embed import make_embedder

        embedder = make_embedder(backend, device)
    hits = Searcher(out_dir, embedder).search(query, k=top, mode=mode, documents=documents, kinds=kinds,
                                              bodies=bodies, stances=stances, statuses=statuses,
                                              date_from=date_from, date_to=date_to, similarity=not no_similarity)
    if as_json:
        for h in hits:
            click.echo(json.dumps(h.to_dict(), ensure_ascii=False))
    else:
        _echo_hits(hits)
    if not hits:
        click.echo("no results", err=True)


def _echo_hits(hits) -> None:
    """Hits for a reader: tags in words, similarity, place, the sentence in its paragraph, other places printed.

    A sentence from a paragraph an earlier hit showed names that hit instead of printing the paragraph again.
    """
    from .passages import describe_tags

    shown: dict[tuple[str, str], int] = {}
    for n, h in enumerate(hits, 1):
        head = describe_tags(h.kind, h.stance, h.status)
        if h.similarity is not None:
            head += f" · similarity {h.similarity:.2f}"
        click.echo(f"{n}. {safe_line(head)}")
        place = safe_line(h.title[:70]) + (f", p{h.page}" if h.page else "")
        click.echo(f"   {place}" + (f" | {safe_line(h.section[:50])}" if h.section else ""))
        a, b = h.highlight
        sentence = click.style(_flat(h.context[a:b]), bold=True)
        earlier = shown.setdefault((h.doc_id, h.context), n)
        if earlier != n:
            click.echo(f"   (in the paragraph of {earlier}) {sentence}")
        else:
            click.echo(f"   {_flat(h.context[max(0, a - 200):a])}{sentence}{_flat(h.context[b:b + 200])}")
        if h.also_in:
            click.echo(f"   also printed {len(h.also_in)} more time{'s' if len(h.also_in) > 1 else ''}: "
                       + _places(h.also_in, h.doc_id))


def _places(also_in, doc_id: str) -> str:
    """Where else a text is printed, by document: "this document, pages 28-29; Other report, page 4".

    A document without pages (text, HTML) names the sections instead: "this document, under Annex".
    """
    docs: dict[str, tuple[str, list[int], list[str]]] = {}
    for p in also_in:
        title, pages, sections = docs.setdefault(p["doc_id"], (p["title"], [], []))
        if p["page"]:
            pages.append(p["page"])
        elif p.get("section") and p["section"] not in sections:
            sections.append(p["section"])
    parts = []
    for d, (title, pages, sections) in docs.items():
        name = "this document" if d == doc_id else safe_line(title[:60])
        if pages:
            pages = sorted(set(pages))
            name += f", page{'s' if len(pages) > 1 else ''} {page_ranges(pages)}"
        elif sections:
            name += ", under " + "; ".join(safe_line(x[:50]) for x in sections[:2])
        parts.append(name)
    return "; ".join(parts)


def _flat(text: str) -> str:
    """Document text for one terminal line: white space runs as one space, anything else unprintable escaped."""
    import re

    return safe_line(re.sub(r"\s+", " ", text))


@main.command()
@OUT_OPTION
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@_domain_errors
def serve(out_dir: Path, host: str, port: int) -> None:
    """Serve a local web page over a finished run: search, filters, and the alignment table.

    The page answers only this machine unless --host names another address.
    """
    from .serve import is_local_only, make_server

    server = make_server(out_dir, host, port)
    out = safe_line(str(out_dir))
    if not is_local_only(host):
        click.echo(f"warning: --host {safe_line(host)} lets anyone who can reach this machine read every document "
                   f"in {out}/ and search them; the default, 127.0.0.1, serves this machine only", err=True)
    click.echo(f"serving {out}/ at http://{safe_line(host)}:{server.server_address[1]}/  (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@main.command()
@click.argument("alignments", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--gold", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Gold JSONL (id, rec, status, also_ok, resp).")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@_domain_errors
def evaluate(alignments: Path, gold: Path, as_json: bool) -> None:
    """Score ALIGNMENTS against a gold file (same metrics as the shared score.py)."""
    from .evaluate import score_files

    res = score_files(alignments, gold)
    if as_json:
        click.echo(json.dumps(res["metrics"]))
        return
    for gid, why in res["misses"]:
        click.echo(f"{safe_line(str(gid))}\t{safe_line(why)}")  # ids and statuses come from the files
    m = res["metrics"]
    n = m["items"]
    click.echo(f"items {n}  found {m['found']} ({m['recall']:.0%})  status right {m['status_right']} "
               f"({m['status_accuracy']:.0%})  response right {m['response_right']} ({m['response_accuracy']:.0%})  "
               f"rows {m['rows']}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
