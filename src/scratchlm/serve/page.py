"""``GET /``: one self-contained HTML page to try the model (no external scripts, fonts or styles).

Type a text (or several, one per line), press *Classify* (or Ctrl+Enter): the page calls
``POST /v1/classify`` and shows each label with a bar per probability. For a tagger the button says
*Tag*, the page calls ``POST /v1/tag`` and shows the segmented text or the marked entities, and the
spans found. For a causal-LM or seq2seq run the button says *Generate*: the page asks for
``"stream": true`` and appends each piece of text to its result as the server-sent events arrive
(tokens and temperature beside the button). Errors from the API are shown
as they come (their ``message``). With ``--api-key`` the page asks for the key and sends it as
``X-API-Key``; it is kept only in the page's memory.
"""

from __future__ import annotations

import html
import json

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>scratchlm: __NAME__</title>
<style>
  body { font: 16px/1.5 system-ui, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
  h1 { font-size: 1.3rem; margin-bottom: .2rem; }
  .meta { color: #666; font-size: .9rem; margin-top: 0; }
  textarea { width: 100%; box-sizing: border-box; min-height: 7rem; font: inherit; padding: .5rem; }
  .row { display: flex; gap: 1rem; align-items: center; margin: .5rem 0 1rem; flex-wrap: wrap; }
  button { font: inherit; padding: .4rem 1.2rem; cursor: pointer; }
  input[type=password] { font: inherit; padding: .3rem; }
  .result { border: 1px solid #ddd; border-radius: 6px; padding: .6rem .8rem; margin: .6rem 0; }
  .text { color: #555; font-size: .9rem; white-space: pre-wrap; overflow-wrap: anywhere; }
  .label { font-weight: 600; font-size: 1.1rem; }
  .prob { display: grid; grid-template-columns: 9rem 1fr 4.5rem; gap: .5rem; align-items: center; font-size: .9rem; }
  .bar { background: #eee; height: .7rem; border-radius: 3px; overflow: hidden; }
  .bar > div { background: #4a7bd0; height: 100%; }
  .error { color: #b00020; white-space: pre-wrap; }
</style>
</head>
<body>
<h1>scratchlm: <span id="model-name">__NAME__</span></h1>
<p class="meta">labels: __LABELS__ &middot; <a href="docs">API docs</a></p>
<label for="text">Text</label>
<textarea id="text" placeholder="Type a text to __ACTION__"></textarea>
<div class="row">
  <button id="classify" type="button">__BUTTON__</button>
  <label><input id="per-line" type="checkbox"> one text per line</label>
  __GEN_INPUTS__
  __KEY_INPUT__
  <span id="status" class="meta" role="status"></span>
</div>
<div id="results" aria-live="polite"></div>
<script>
const NEEDS_KEY = __NEEDS_KEY__;
const ENDPOINT = __ENDPOINT__;
const $ = (id) => document.getElementById(id);

function showTags(results, texts) {
  const box = $("results");
  box.replaceChildren();
  results.forEach((r, i) => {
    const div = document.createElement("div");
    div.className = "result";
    const text = document.createElement("div");
    text.className = "text";
    text.textContent = texts[i];
    const out = document.createElement("div");
    out.className = "label output";
    out.textContent = r.output;
    div.append(text, out);
    for (const s of r.spans.filter((s) => s.type !== "word")) {
      const row = document.createElement("div");
      row.className = "span meta";
      row.dataset.type = s.type;
      row.textContent = s.type + ": " + s.text + "  [" + s.start + ", " + s.end + ")";
      div.append(row);
    }
    box.append(div);
  });
}

function show(results, texts) {
  const box = $("results");
  box.replaceChildren();
  results.forEach((r, i) => {
    const div = document.createElement("div");
    div.className = "result";
    div.dataset.label = r.label;
    const text = document.createElement("div");
    text.className = "text";
    text.textContent = texts[i];
    const label = document.createElement("div");
    label.className = "label";
    label.textContent = r.label + "  " + (100 * r.score).toFixed(1) + "%";
    div.append(text, label);
    for (const [name, p] of Object.entries(r.probabilities).sort((a, b) => b[1] - a[1])) {
      const row = document.createElement("div");
      row.className = "prob";
      row.dataset.label = name;
      const n = document.createElement("span");
      n.textContent = name;
      const bar = document.createElement("div");
      bar.className = "bar";
      const fill = document.createElement("div");
      fill.style.width = (100 * p).toFixed(1) + "%";
      bar.append(fill);
      const v = document.createElement("span");
      v.className = "p";
      v.textContent = p.toFixed(4);
      row.append(n, bar, v);
      div.append(row);
    }
    if (r.truncated) {
      const note = document.createElement("div");
      note.className = "meta";
      note.textContent = r.truncated + " tokens beyond the model's length were not read";
      div.append(note);
    }
    box.append(div);
  });
}

function fail(message) {
  const p = document.createElement("p");
  p.className = "error";
  p.id = "error";
  p.textContent = message;
  $("results").replaceChildren(p);
}

async function generate(texts, headers) {
  const body = { texts, stream: true, temperature: parseFloat($("temperature").value) || 0 };
  const n = parseInt($("max-new").value, 10);
  if (n > 0) body.max_new_tokens = n;
  const resp = await fetch("v1/generate", { method: "POST", headers, body: JSON.stringify(body) });
  if (!resp.ok) {
    const data = await resp.json();
    fail(data.error ? data.error.message : resp.status + " " + resp.statusText);
    return;
  }
  const box = $("results");
  box.replaceChildren();
  const outs = texts.map((t) => {
    const div = document.createElement("div");
    div.className = "result";
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = t;
    const out = document.createElement("span");
    out.className = "label generated";
    div.append(text, out);
    box.append(div);
    return out;
  });
  const reader = resp.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let at;
    while ((at = buffer.indexOf("\\n\\n")) >= 0) {
      const event = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      if (!event.startsWith("data: ") || event === "data: [DONE]") continue;
      const data = JSON.parse(event.slice(6));
      if (data.error) { fail(data.error.message); return; }
      for (const c of data.choices) {
        outs[c.index].textContent += c.text;
        if (c.finish_reason) outs[c.index].dataset.finish = c.finish_reason;
      }
    }
  }
}

async function classify() {
  const raw = $("text").value;
  const texts = $("per-line").checked ? raw.split("\\n").filter((t) => t.trim()) : [raw];
  if (!texts.length || !texts.some((t) => t.trim())) { fail("Type a text first."); return; }
  const headers = { "Content-Type": "application/json" };
  if (NEEDS_KEY) headers["X-API-Key"] = $("key").value;
  $("status").textContent = "…";
  $("classify").disabled = true;
  try {
    const t0 = performance.now();
    if (ENDPOINT === "generate") {
      await generate(texts, headers);
      $("status").textContent = (performance.now() - t0).toFixed(0) + " ms";
      return;
    }
    const resp = await fetch("v1/" + ENDPOINT, { method: "POST", headers, body: JSON.stringify({ texts }) });
    const data = await resp.json();
    if (!resp.ok) { fail(data.error ? data.error.message : resp.status + " " + resp.statusText); return; }
    (ENDPOINT === "tag" ? showTags : show)(data.results, texts);
    $("status").textContent = (performance.now() - t0).toFixed(0) + " ms";
  } catch (e) {
    fail("The server did not answer: " + e);
  } finally {
    $("classify").disabled = false;
    if ($("status").textContent === "…") $("status").textContent = "";
  }
}

$("classify").addEventListener("click", classify);
$("text").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) classify(); });
</script>
</body>
</html>
"""

_GEN_INPUTS = (
    '<label>tokens <input id="max-new" type="number" min="1" value="64" style="width:4rem"></label> '
    '<label>temperature <input id="temperature" type="number" min="0" step="0.1" value="0.8" '
    'style="width:4rem"></label>'
)
"""The generation box's options (``/v1/generate`` runs only): new tokens and sampling temperature."""

_KEY_INPUT = '<label>API key <input id="key" type="password" autocomplete="off"></label>'


PAGE_ENDPOINTS = ("classify", "tag", "generate")
"""The endpoints the page can show results of, in the order it prefers them."""


def page_endpoint(endpoints: tuple[str, ...]) -> str:
    """The endpoint the page of a run with these ``endpoints`` calls."""
    return next((e for e in PAGE_ENDPOINTS if e in endpoints), PAGE_ENDPOINTS[0])


def render_page(name: str, labels: list[str], *, needs_key: bool, endpoint: str = "classify") -> str:
    """The page for a run called ``name`` (every value HTML-escaped or JSON-encoded) that calls
    ``endpoint`` (``classify``, ``tag`` or ``generate``: a box whose text is continued, streamed)."""
    return (
        _PAGE.replace("__NAME__", html.escape(name))
        .replace("__ACTION__", endpoint)
        .replace("__BUTTON__", endpoint.capitalize())
        .replace("__ENDPOINT__", json.dumps(endpoint))
        .replace("__LABELS__", html.escape(", ".join(labels)))
        .replace("__KEY_INPUT__", _KEY_INPUT if needs_key else "")
        .replace("__GEN_INPUTS__", _GEN_INPUTS if endpoint == "generate" else "")
        .replace("__NEEDS_KEY__", json.dumps(bool(needs_key)))
    )
