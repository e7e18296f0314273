"use strict";
// Served as /app.js so the page can forbid inline script (CSP): text from a document can never run.
const $ = id => document.getElementById(id);
// Every string that comes from a document or the API is data: it passes through esc() before innerHTML.
const esc = s => (s ?? "").toString().replace(/[&<>"']/g, c => ({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;","'":"&#39;"}[c]));
const num = n => n !== "" && n !== null && Number.isFinite(Number(n)) ? String(Number(n)) : "";
// The write token: only a page from this server can read it, and a write without it is refused.
const TOKEN = document.querySelector('meta[name="reviewnlp-token"]').content;
let UNPAIRED = "";    // /api/meta names it: the status of a row whose report nothing among the inputs answers
let META = null;     // /api/meta: vocabulary, meanings, CSV columns, documents
let ROWS = [];       // the rows the server sent for the current filters
let SORT = {key: null, dir: 1, type: "text"};
let CURRENT = null;  // the row in the review form
let tableSeq = 0;

async function getJSON(url, opts){
  const r = await fetch(url, opts);
  let data = null;
  try { data = await r.json(); } catch (e) { data = {error: "the server's answer was not JSON (" + r.status + ")"}; }
  return {ok: r.ok, status: r.status, data};
}

function option(select, value, text, title){
  const o = document.createElement("option");
  o.value = value; o.textContent = text; if (title) o.title = title;
  select.appendChild(o);
}

function show(tab){
  for (const t of ["search", "table"]) { $(t).classList.toggle("on", t === tab); $("show-" + t).classList.toggle("on", t === tab); }
  if (tab === "table") loadTable();
}
$("show-search").onclick = () => show("search");
$("show-table").onclick = () => show("table");

function link(doc, page, label){ return linkHtml(doc, page, esc(label)); }
// A file name may break after its underscores (<wbr> added after escaping, so the name stays text).
function fileLink(doc, page, name){ return linkHtml(doc, page, esc(name).replace(/_/g, "_<wbr>")); }
function linkHtml(doc, page, labelHtml){
  const href = `/files/${encodeURIComponent(doc)}` + (page ? `#page=${num(page)}` : "");
  return `<a href="${href}" target="_blank" rel="noopener">${labelHtml}${page ? " p" + num(page) : ""}</a>`; }

const kindTitle = k => `${k}: ${META.kind_meanings[k] || ""}`;
const shownStatus = r => r.shown_status;  // the server's, as every export shows it
const statusWords = s => s === UNPAIRED ? `unpaired (${META.unpaired})` : s;
const meaning = s => META.status_meanings[s] || "";
const statusMeaning = s => `${s}: ${meaning(s)}`;

// ------------------------------------------------------------------ start

async function init(){
  const m = await getJSON("/api/meta");
  if (!m.ok) { $("results").innerHTML = `<p class="error">${esc(m.data.error)}</p>`; return; }
  META = m.data;
  UNPAIRED = META.unpaired_status;
  for (const mode of META.modes) option($("mode"), mode, mode);
  for (const k of META.kinds) option($("kind"), k, META.kind_words[k] || k, kindTitle(k));
  for (const s of META.stances) option($("stance"), s, s, statusMeaning(s));
  for (const s of META.shown_statuses) option($("sstatus"), s, s, statusMeaning(s));
  for (const s of META.shown_statuses) option($("tstatus"), s, statusWords(s), statusMeaning(s));
  option($("r-status"), "", "keep the model's status");
  for (const s of META.statuses) option($("r-status"), s, s, statusMeaning(s));
  for (const d of META.reports) option($("treport"), d.doc_id, d.name, d.title);
  for (const d of META.responses) option($("tresponse"), d.doc_id, d.name, d.title);
  for (const name of META.documents) option($("doc-names"), name, name);
  $("k").max = META.max_k;
  $("legend-body").innerHTML = legend();
}

function legend(){
  const kinds = META.kinds.map(k => `<dt>${esc(META.kind_words[k] || k)}</dt><dd>${esc(META.kind_meanings[k])}</dd>`).join("");
  const statuses = META.shown_statuses.map(s => `<dt>${esc(s)}</dt><dd>${esc(meaning(s))}</dd>`).join("");
  return `<p>The first tag of a hit says what the passage is:</p><dl>${kinds}</dl>`
    + `<p><b>stance:</b> what a government passage says in its own words. <b>status:</b> the alignment status of a `
    + `recommendation, or of the recommendation the passage was chosen to answer. Both use these words `
    + `(gap and unpaired for a status only):</p><dl>${statuses}</dl>`
    + `<p><b>similarity:</b> the cosine between the query's meaning and the passage's, 0 to 1; higher is closer. `
    + `Most passages score under 0.3 for any query; good hits usually 0.5 to 0.8. Hits are ordered by meaning and `
    + `words together, so a lower similarity can sit above a higher one.</p>`;
}

// ------------------------------------------------------------------ search

function guidance(on){ $("guidance").classList.toggle("off", !on); }
document.querySelectorAll("#guidance .example").forEach(b => b.onclick = () => { $("q").value = b.textContent; runSearch(); });

async function runSearch(){
  if (!$("q").value.trim()) {  // nothing to search for: say what to type instead of listing stray segments
    $("results").innerHTML = `<p class="error">Type what you are looking for first; the examples below show how.</p>`;
    guidance(true);
    return;
  }
  const fields = {q: "q", k: "k", mode: "mode", kind: "kind", stance: "stance", status: "sstatus", doc: "doc",
                  body: "sbody", from: "sfrom", to: "sto"};
  const p = new URLSearchParams();
  for (const [name, id] of Object.entries(fields)) if ($(id).value.trim()) p.set(name, $(id).value.trim());
  const r = await getJSON("/api/search?" + p);
  if (!r.ok) {
    $("results").innerHTML = `<p class="error">${esc(r.data.error)}</p>`;
    guidance(true);
    return;
  }
  guidance(false);
  $("results").innerHTML = r.data.length ? r.data.map(hitHtml).join("") : "<p>No results. Loosen a filter or try other words.</p>";
}
$("sform").onsubmit = e => { e.preventDefault(); runSearch(); };

function hitHtml(h){
  const [a, b] = h.highlight, c = h.context;
  const ctx = esc(c.slice(Math.max(0, a - 240), a)) + "<mark>" + esc(c.slice(a, b)) + "</mark>" + esc(c.slice(b, b + 240));
  const tags = [`<span class="tag kind" title="${esc(kindTitle(h.kind))}">${esc(META.kind_words[h.kind] || h.kind)}</span>`];
  if (h.stance) tags.push(`<span class="tag" title="${esc("stance, what this government passage says in its own words. " + statusMeaning(h.stance))}">stance: ${esc(h.stance)}</span>`);
  if (h.status) tags.push(`<span class="tag" title="${esc("status, the alignment status of the recommendation (or of the one this passage answers). " + statusMeaning(h.status))}">status: ${esc(h.status)}</span>`);
  // The reader sees the similarity (a cosine, comparable across queries), never the rank fusion score.
  const sim = h.similarity !== null && h.similarity !== undefined
    ? ` · <span class="sim" title="similarity: the cosine between your query and this passage, 0 to 1; higher is closer in meaning">similarity ${Number(h.similarity).toFixed(2)}</span>` : "";
  const also = (h.also_in || []).length
    ? `<div class="also">also printed ${h.also_in.length} more time${h.also_in.length > 1 ? "s" : ""}: `
      + h.also_in.slice(0, 6).map(x => link(x.doc_id, x.page, x.title)).join("; ") + (h.also_in.length > 6 ? "; …" : "") + "</div>" : "";
  return `<div class="hit" data-kind="${esc(h.kind)}"><div class="meta">${tags.join("")}${sim} · ${link(h.doc_id, h.page, h.title)}`
    + `${h.section ? " · " + esc(h.section) : ""}</div><div>${ctx}</div>${also}</div>`;
}

// ------------------------------------------------------------------ the alignment table

const FILTERS = {report: "treport", response: "tresponse", status: "tstatus", body: "tbody", needs_review: "tneeds",
                 reviewed: "treviewed", from: "tfrom", to: "tto", q: "tq"};

async function loadTable(){
  const p = new URLSearchParams();
  for (const [name, id] of Object.entries(FILTERS)) if ($(id).value.trim()) p.set(name, $(id).value.trim());
  const seq = ++tableSeq;
  const r = await getJSON("/api/alignments?" + p);
  if (seq !== tableSeq) return;  // a later filter's answer is on its way
  if (!r.ok) { ROWS = []; renderTable(r.data.error); return; }
  ROWS = r.data;
  renderTable();
}

function sortValue(r, key, type){
  if (key === "confidence" && shownStatus(r) === UNPAIRED) return null;  // shown as "–": nothing was matched
  const v = key === "status" ? shownStatus(r) : r[key];
  if (type === "number") return v === "" || v === null || v === undefined ? null : Number(v);
  if (type === "status") return META.shown_statuses.indexOf(v);
  return v === null || v === undefined ? "" : String(v);
}

function sortedRows(){
  if (!SORT.key) return ROWS;
  const {key, dir, type} = SORT;
  return ROWS.map((r, i) => [r, i]).sort(([x, i], [y, j]) => {
    const a = sortValue(x, key, type), b = sortValue(y, key, type);
    const emptyA = a === null || a === "", emptyB = b === null || b === "";
    if (emptyA || emptyB) return emptyA === emptyB ? i - j : (emptyA ? 1 : -1);  // empty cells last either way
    const c = type === "text" ? a.localeCompare(b, undefined, {numeric: true, sensitivity: "base"}) : a - b;
    return c ? c * dir : i - j;
  }).map(([r]) => r);
}

document.querySelectorAll("#atable th").forEach(th => th.onclick = () => {
  const key = th.dataset.key;
  SORT = {key, type: th.dataset.type, dir: SORT.key === key ? -SORT.dir : 1};
  document.querySelectorAll("#atable th").forEach(x => x.removeAttribute("aria-sort"));
  th.setAttribute("aria-sort", SORT.dir > 0 ? "ascending" : "descending");
  renderTable();
});

function clamp(text){
  if (!text) return "";
  return text.length > 300 ? `<div class="clamp">${esc(text)}</div><button type="button" class="more">show all</button>`
                           : `<div>${esc(text)}</div>`;
}

// "30, 31, 32, 35" -> "30-32, 35": an answer over 47 pages once listed every one of them.
function pageRanges(pages){
  const n = String(pages || "").split(",").map(x => parseInt(x, 10)).filter(Number.isFinite);
  const out = [];
  for (let i = 0; i < n.length; i++) {
    let j = i;
    while (j + 1 < n.length && n[j + 1] === n[j] + 1) j++;
    out.push(j > i ? `${n[i]}-${n[j]}` : `${n[i]}`);
    i = j;
  }
  return out.join(", ");
}

function rowHtml(r){
  const st = shownStatus(r);
  const model = r.reviewed || r.status !== r.model_status ? `<div class="small">model: ${esc(r.model_status)}</div>` : "";
  const flag = r.needs_review ? `<span class="flag" title="among the least certain rows: check it first">needs review</span>` : "";
  const block = r.response_block ? `<details class="block"><summary>whole answer${r.response_block_pages ? " (pp. " + esc(pageRanges(r.response_block_pages)) + ")" : ""}</summary>`
    + `<div>${esc(r.response_block)}</div></details>` : "";
  const response = r.response_text ? clamp(r.response_text)
    : `<span class="small">${st === UNPAIRED ? esc(META.unpaired) : "nothing in the response answers it"}</span>`;
  const reviewed = r.reviewed ? `<span class="reviewed-flag" title="${esc("reviewed by " + (r.reviewer || "(no name)") + " at " + r.reviewed_at)}">reviewed</span>`
    + `<div class="small">${esc(r.reviewer)}</div>` : "";
  const note = r.review_note ? `<div class="small note" title="${esc(r.review_note)}">note: ${esc(r.review_note.slice(0, 60))}${r.review_note.length > 60 ? "…" : ""}</div>` : "";
  return `<tr class="${esc(st)}" data-status="${esc(st)}" data-rec="${esc(r.rec_id)}">`
    + `<td>${fileLink(r.rec_doc_id, r.rec_page, r.rec_document)}<div class="small">${esc(r.body)}</div></td>`
    + `<td class="nowrap">${esc(r.rec_date)}</td><td class="label">${esc(r.label)}</td><td>${clamp(r.recommendation_text)}</td>`
    + `<td><span class="st" title="${esc(statusMeaning(st))}">${esc(statusWords(st))}</span>${model}`
    + (st === UNPAIRED ? "" : `<div class="small" title="the cue the status rests on, and the probability that the status is right">${esc(r.cue)} (${num(r.status_confidence)})</div>`)
    + `${flag}</td>`
    + `<td>${response}${block}</td>`
    + `<td>${r.response_document ? fileLink(r.response_doc_id, r.response_page, r.response_document) : ""}<div class="small">${esc(r.response_date)}</div></td>`
    // An unpaired row was matched against nothing: a confidence there would read as a sure "no answer".
    + `<td>${st === UNPAIRED ? `<span class="small" title="no response among the inputs: nothing was matched">–</span>` : num(r.confidence)}</td>`
    + `<td>${reviewed}${note}<button type="button" class="reviewbtn" data-rec="${esc(r.rec_id)}">Review</button></td></tr>`;
}

function renderTable(error){
  const rows = sortedRows();
  $("count").textContent = error ? error : `${rows.length} of ${META ? META.rows : "?"} recommendations`;
  $("count").classList.toggle("error", !!error);
  $("rows").innerHTML = rows.map(rowHtml).join("");
}

$("rows").onclick = e => {
  const b = e.target.closest("button");
  if (!b) return;
  if (b.classList.contains("more")) {
    const open = b.previousElementSibling.classList.toggle("open");
    b.textContent = open ? "show less" : "show all";
  } else if (b.classList.contains("reviewbtn")) {
    openReview(b.dataset.rec);
  }
};

let typing = null;
$("tform").onsubmit = e => { e.preventDefault(); loadTable(); };
$("tform").onchange = e => { if (e.target.tagName === "SELECT" || e.target.type === "date") loadTable(); };
$("tform").oninput = e => { if (e.target.tagName === "INPUT" && e.target.type !== "date") { clearTimeout(typing); typing = setTimeout(loadTable, 300); } };
$("tclear").onclick = () => { for (const id of Object.values(FILTERS)) $(id).value = ""; loadTable(); };

// The filtered, sorted view as CSV, as alignments.csv writes it: UTF-8 with BOM, the same columns, and a text
// cell a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a leading '.
function csvCell(v){
  if (v === null || v === undefined) v = "";
  else if (typeof v === "boolean") v = v ? "True" : "False";
  else if (typeof v === "string" && /^[=+\-@\t\r]/.test(v)) v = "'" + v;
  v = String(v);
  return /[",\r\n]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v;
}
$("export").onclick = () => {
  const cols = META.csv_columns;
  const lines = [cols.join(","), ...sortedRows().map(r => cols.map(c => csvCell(r[c])).join(","))];
  const blob = new Blob(["\ufeff" + lines.join("\n") + "\n"], {type: "text/csv;charset=utf-8"});
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = "alignments-view.csv";
  document.body.appendChild(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
};

// ------------------------------------------------------------------ review

async function openReview(recId){
  const row = ROWS.find(r => r.rec_id === recId);
  if (!row) return;
  CURRENT = row;
  const st = shownStatus(row);
  $("r-title").textContent = `Review: ${row.label || "recommendation"} · ${row.rec_document}${row.rec_page ? " p" + row.rec_page : ""}`;
  $("r-rec").textContent = row.recommendation_text;
  $("r-now").textContent = `Status now: ${statusWords(st)}; the model's: ${row.model_status}.`
    + (row.reviewed ? ` Reviewed by ${row.reviewer || "(no name)"} at ${row.reviewed_at}.` : "");
  $("r-reviewed").checked = true;
  $("r-status").value = row.reviewed && row.status !== row.model_status ? row.status : "";
  $("r-note").value = row.review_note || "";
  $("r-reviewer").value = localStorage.getItem("reviewnlp-reviewer") || "";
  $("r-msg").textContent = ""; $("r-msg").className = "msg";
  $("r-passages").innerHTML = `<p class="small">loading the passages of the answer…</p>`;
  $("review").showModal();
  const r = await getJSON("/api/passages?rec_id=" + encodeURIComponent(recId));
  if (CURRENT !== row) return;
  if (!r.ok) { $("r-passages").innerHTML = `<p class="error">${esc(r.data.error)}</p>`; return; }
  const d = r.data;
  $("r-passages").innerHTML = d.passages.length ? d.passages.map(p => {
    const about = [p.page ? "p" + num(p.page) : "", META.kind_words[p.kind] || p.kind, p.stance ? "stance: " + p.stance : "",
                   p.seg_id === d.model ? "the model's choice" : ""].filter(Boolean).join(" · ");
    return `<label class="${p.seg_id === d.chosen ? "chosen" : ""}"><input type="radio" name="r-passage" value="${esc(p.seg_id)}"`
      + `${p.seg_id === d.chosen ? " checked" : ""}><span><span class="small">${esc(about)}</span><br>${esc(p.text)}</span></label>`;
  }).join("") : `<p class="small">This row has no answer to choose a passage from.</p>`;
}

$("r-cancel").onclick = () => $("review").close();
$("r-save").onclick = async () => {
  const chosen = document.querySelector('input[name="r-passage"]:checked');
  const body = {rec_id: CURRENT.rec_id, reviewed: $("r-reviewed").checked, status: $("r-status").value || null,
                response_id: chosen ? chosen.value : null, note: $("r-note").value, reviewer: $("r-reviewer").value.trim()};
  localStorage.setItem("reviewnlp-reviewer", body.reviewer);
  $("r-msg").textContent = "saving…"; $("r-msg").className = "msg";
  const r = await getJSON("/api/review", {method: "POST", body: JSON.stringify(body),
                                          headers: {"Content-Type": "application/json", "X-Reviewnlp-Token": TOKEN}});
  if (!r.ok) { $("r-msg").textContent = r.data.error; $("r-msg").className = "msg bad"; return; }
  const i = ROWS.findIndex(x => x.rec_id === r.data.rec_id);
  if (i >= 0) ROWS[i] = r.data;
  renderTable();
  $("review").close();
};

init();
