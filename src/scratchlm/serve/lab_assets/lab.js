// scratchlm lab: draws what POST /lab/api/inspect returns, one column per run, one panel per step.
// Plain JS, no libraries: heatmaps are <canvas> elements filled pixel by pixel and scaled by CSS.
"use strict";

const LAB = window.LAB;
const API = LAB.root + "/lab/api/";
const EXAMPLES = [
  "这本书写得太好了，强烈推荐！",
  "质量很差，用了两天就坏了。",
  "ＷＩＦＩ信号很好，价格１２０元。",
  "The battery life is great.",
];
const TIER_COLOURS = {
  exact: "#2e7d32", normalized: "#558b2f", chars: "#00838f", compose: "#6a1b9a", knn: "#ad1457",
  stats: "#ef6c00", random: "#757575", oov: "#9e9e9e", special: "#b0bec5",
};
const TAG_COLOURS = ["#3558a8", "#c0392b", "#2e7d32", "#8e44ad", "#d35400", "#16a085", "#7f8c8d", "#b7950b"];
const ROW_PX = 14;
const state = { text: "", reports: {}, history: [], selected: null };

// ------------------------------------------------------------------------------------------ helpers
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k === "data") Object.assign(node.dataset, v);
    else if (k === "style") node.style.cssText = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}
const fmt = (v, d = 3) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(d));
const shown = (t) => (t === " " ? "▁" : t);

function tipOn(node, textAt) {
  const tip = document.getElementById("tip");
  node.addEventListener("mousemove", (e) => {
    const text = textAt(e);
    if (!text) { tip.hidden = true; return; }
    tip.textContent = text;
    tip.hidden = false;
    tip.style.left = Math.min(e.clientX + 14, window.innerWidth - tip.offsetWidth - 8) + "px";
    tip.style.top = e.clientY + 16 + "px";
  });
  node.addEventListener("mouseleave", () => { tip.hidden = true; });
}

async function post(path, body) {
  const headers = { "Content-Type": "application/json" };
  if (LAB.needsKey) headers["X-API-Key"] = document.getElementById("key").value;
  const resp = await fetch(API + path, { method: "POST", headers, body: JSON.stringify(body) });
  let data = null;
  try { data = await resp.json(); } catch (e) { /* not JSON */ }
  if (!resp.ok) throw new Error(data && data.error ? data.error.message : resp.status + " " + resp.statusText);
  return data;
}

// ------------------------------------------------------------------------------------------ colours
function diverging(v) { // -1..1 -> blue, white, red
  const t = Math.max(-1, Math.min(1, v));
  const [r0, g0, b0] = t < 0 ? [43, 97, 173] : [192, 41, 43];
  const a = Math.abs(t);
  return [247 + (r0 - 247) * a, 247 + (g0 - 247) * a, 247 + (b0 - 247) * a];
}
function sequential(v) { // 0..1 -> white to deep blue
  const t = Math.max(0, Math.min(1, v));
  return [247 - 239 * t, 251 - 203 * t, 255 - 148 * t];
}

function paint(canvas, rows, colour) {
  const h = rows.length, w = rows[0] ? rows[0].length : 0;
  canvas.width = Math.max(1, w);
  canvas.height = Math.max(1, h);
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(canvas.width, canvas.height);
  rows.forEach((row, y) => row.forEach((v, x) => {
    const [r, g, b] = colour(v);
    const k = 4 * (y * w + x);
    img.data[k] = r; img.data[k + 1] = g; img.data[k + 2] = b; img.data[k + 3] = 255;
  }));
  ctx.putImageData(img, 0, 0);
}

function cellAt(e, canvas, rows, cols) {
  const box = canvas.getBoundingClientRect();
  const x = Math.floor(((e.clientX - box.left) / box.width) * cols);
  const y = Math.floor(((e.clientY - box.top) / box.height) * rows);
  return x >= 0 && y >= 0 && x < cols && y < rows ? [y, x] : null;
}

// A (rows x cols) heatmap with a label per row and, optionally, the L2 norm of each row as a bar.
function heatmap(rows, labels, { norms = null, normMax = 1, name = "value", colLabel = "dim", colNames = null, sequentialScale = false, rowPx = ROW_PX, mark = -1 } = {}) {
  const vmax = sequentialScale ? 1 : Math.max(1e-9, ...rows.map((r) => Math.max(...r.map(Math.abs))));
  const canvas = el("canvas", { style: `height:${rows.length * rowPx}px` });
  paint(canvas, rows, sequentialScale ? sequential : (v) => diverging(v / vmax));
  tipOn(canvas, (e) => {
    const at = cellAt(e, canvas, rows.length, rows[0].length);
    if (!at) return "";
    const [y, x] = at;
    const col = typeof colLabel === "function" ? colLabel(x) : `${colLabel} ${x}`;
    return `${y} ${shown(labels[y])} · ${col}: ${fmt(rows[y][x], 4)}`;
  });
  const lab = el("div", { class: "labels" }, labels.map((t, i) => el("span", { class: i === mark ? "mark" : null, text: shown(t), style: `height:${rowPx}px;line-height:${rowPx}px` })));
  const normCol = el("div", { class: "norms" });
  if (norms) norms.forEach((n) => normCol.append(el("div", { style: `height:${rowPx}px`, title: `L2 norm ${fmt(n, 4)}` },
    el("span", { class: "bar", style: `width:${(100 * n / normMax).toFixed(1)}%;max-width:2.2rem` }), el("span", { text: fmt(n, 2) }))));
  const header = colNames ? [el("span"), el("div", { class: "cols-head" }, colNames.map((c) => el("span", { text: c }))), el("span")] : [];
  const box = el("div", { class: "hm", data: { name } }, ...header, lab, canvas, normCol);
  box.dataset.vmax = vmax.toFixed(4);
  return box;
}

// ------------------------------------------------------------------------------------------ panels
function runSpec(r) {
  const parts = [r.task, r.tokenizer + " tokens", `d=${r.embed_dim}`, r.positional + (r.combine === "concat" ? " (concat)" : ""), r.encoder + (r.num_heads ? ` ${r.num_layers}×${r.num_heads}h` : ` ×${r.num_layers}`), "init " + r.init];
  return parts.join(" · ");
}

function normalisationCell(rep) {
  const n = rep.normalization;
  const byStart = new Map(n.changes.map((c) => [c.start, c]));
  const orig = el("div", { class: "textline" }, el("span", { class: "lbl", text: "typed" }));
  [...n.original].forEach((ch, i) => {
    const c = byStart.get(i);
    orig.append(c ? el("mark", { class: "changed", title: `${JSON.stringify(c.from)} → ${JSON.stringify(c.to)} (${c.kind})`, text: ch }) : ch);
  });
  const norm = el("div", { class: "textline", data: { role: "normalized" } }, el("span", { class: "lbl", text: "normalised" }), n.normalized);
  const counts = Object.entries(n.counts);
  const summary = counts.length ? counts.map(([k, v]) => `${k}: ${v}`).join(" · ") : "nothing changed";
  return [orig, norm, el("div", { class: "counts", data: { role: "counts" }, text: `${summary}  (NFKC ${n.nfkc ? "on" : "off"}, lowercase ${n.lowercase ? "on" : "off"})` })];
}

function tokenChip(t, extra = {}) {
  const special = /^\[[A-Z]+\]$/.test(t.token);
  return el("span", { class: "chip" + (t.unk ? " unk" : "") + (special ? " special" : ""), title: t.unk ? `${t.token}: not in this run's vocabulary → [UNK] (id ${t.id})` : `${t.token} → id ${t.id}`, ...extra },
    el("span", { class: "t", text: shown(t.token) }), el("span", { class: "i", text: t.unk ? "UNK" : String(t.id) }));
}

const KIND_NAMES = { char: "characters", jieba: "jieba words", bpe: "BPE", bytebpe: "byte-level BPE", wordpiece: "WordPiece", unigram: "Unigram" };

function tokensCell(rep) {
  return rep.tokenizations.map((k) => {
    const name = KIND_NAMES[k.kind] || k.kind;
    if (k.error) return el("div", { class: "tokrow", data: { kind: k.kind } }, el("div", { class: "lbl", text: name }), el("div", { class: "note", text: k.error }));
    const lbl = el("div", { class: "lbl" }, `${name} · ${k.tokens.length} tokens · `, el("span", { class: k.unk ? "unk-count" : "", style: k.unk ? "color:var(--unk);font-weight:600" : "", text: `${k.unk} [UNK]` }), k.own ? el("span", { class: "own", text: "this run's tokenizer" }) : null);
    return el("div", { class: "tokrow", data: { kind: k.kind, unk: String(k.unk) } }, lbl, el("div", { class: "chips" }, k.tokens.map((t) => tokenChip(t))));
  });
}

function positionsCell(rep, name) {
  const p = rep.positions;
  const chips = p.tokens.map((tok, i) => {
    const chip = tokenChip({ token: tok, id: p.ids[i], unk: p.unk[i] });
    chip.classList.add("pos");
    chip.dataset.position = String(i);
    if (state.selected && state.selected.position === i && state.selected.token === tok) chip.classList.add("selected");
    const tier = p.tiers[i];
    if (tier) chip.append(el("span", { class: "tier", style: `background:${TIER_COLOURS[tier] || "#555"}`, text: tier }));
    chip.addEventListener("click", () => selectToken(name, i, tok));
    return chip;
  });
  const out = [el("div", { class: "chips" }, chips)];
  const tiers = [...new Set(p.tiers.filter(Boolean))];
  if (tiers.length) out.push(el("div", { class: "legend" }, `initial rows from ${p.tier_source}:`, tiers.map((t) => el("span", {}, el("span", { class: "sw", style: `background:${TIER_COLOURS[t] || "#555"}` }), t))));
  else if (p.tier_note) out.push(el("div", { class: "note", text: p.tier_note }));
  if (p.truncated) out.push(el("div", { class: "note", text: `${p.truncated} more beyond max_seq_len are not read` }));
  return out;
}

function inputCell(rep) {
  const parts = rep.input.parts;
  const labels = rep.positions.tokens;
  const normMax = Math.max(1e-9, ...parts.flatMap((q) => q.norms));
  const out = parts.map((q) => {
    const sel = state.selected && labels[state.selected.position] === state.selected.token ? state.selected.position : -1;
    const hm = heatmap(q.rows, labels, { norms: q.norms, normMax, name: q.name, mark: sel });
    return el("div", { class: "part", data: { part: q.name } },
      el("div", { class: "lbl" }, q.name, el("span", { class: "range", text: `(${q.rows.length} × ${q.rows[0].length}, colour ±${hm.dataset.vmax}; right: L2 norm)` })), hm);
  });
  if (rep.input.position_note) out.push(el("div", { class: "note", data: { role: "position-note" }, text: rep.input.position_note }));
  return out;
}

function attentionCell(rep) {
  const a = rep.attention;
  if (!a.layers) return el("div", { class: "note", text: a.note });
  const tokens = rep.positions.tokens;
  const heads = a.layers[0].length;
  const grid = el("div", { class: "heads", style: `grid-template-columns:repeat(${Math.min(heads, 8)}, minmax(0, 7.5rem))` });
  const big = el("div", { class: "big-box" });
  const figures = [];
  const showBig = (l, h) => {
    figures.forEach((f) => f.classList.toggle("selected", f.dataset.layer === String(l) && f.dataset.head === String(h)));
    big.replaceChildren(el("div", { class: "lbl meta", text: `layer ${l}, head ${h}: rows are queries, columns keys (each row sums to 1)` }), bigMap(a.layers[l][h], tokens));
  };
  a.layers.forEach((layer, l) => layer.forEach((w, h) => {
    const canvas = el("canvas");
    paint(canvas, w, (v) => sequential(Math.sqrt(v)));
    tipOn(canvas, (e) => { const at = cellAt(e, canvas, w.length, w.length); return at ? `L${l} H${h} · ${shown(tokens[at[0]])} → ${shown(tokens[at[1]])}: ${fmt(w[at[0]][at[1]], 3)}` : ""; });
    const fig = el("figure", { data: { layer: String(l), head: String(h) }, onclick: () => showBig(l, h) }, canvas, el("figcaption", { text: `L${l} H${h}` }));
    figures.push(fig);
    grid.append(fig);
  }));
  // enlarged first: the most focused head (highest mean of its rows' largest weight)
  let best = [a.layers.length - 1, 0], bestScore = -1;
  a.layers.forEach((layer, l) => layer.forEach((w, h) => {
    const score = w.reduce((sum, row) => sum + Math.max(...row), 0) / w.length;
    if (score > bestScore) { bestScore = score; best = [l, h]; }
  }));
  showBig(best[0], best[1]);
  return [grid, big];
}

function bigMap(w, tokens) {
  const s = tokens.length;
  const px = Math.max(8, Math.min(26, Math.floor(420 / s)));
  const canvas = el("canvas", { style: `height:${s * px}px;width:${s * px}px` });
  paint(canvas, w, (v) => sequential(Math.sqrt(v)));
  tipOn(canvas, (e) => { const at = cellAt(e, canvas, s, s); return at ? `${shown(tokens[at[0]])} → ${shown(tokens[at[1]])}: ${fmt(w[at[0]][at[1]], 3)}` : ""; });
  const font = `font-size:${Math.min(12, px - 1)}px;`;
  const short = (t) => (/^\[[A-Z]+\]$/.test(t) ? t[1] : shown(t).slice(0, 2)); // [CLS] -> C
  const keys = el("div", { class: "keys" }, tokens.map((t) => el("span", { text: short(t), title: t, style: `${font}width:${px}px` })));
  const qs = el("div", { class: "qs" }, tokens.map((t) => el("span", { text: shown(t), style: `${font}height:${px}px;line-height:${px}px` })));
  return el("div", { class: "big", data: { role: "attention-big" } }, keys, qs, canvas);
}

function pooledCell(rep) {
  const p = rep.pooled;
  if (!p) return el("div", { class: "note", text: "this model has no pooled vector: it predicts at every position (tagger) or the next token (language model)" });
  return [el("div", { class: "meta", text: `${p.pooling} pooling of the encoder's output · ${p.vector.length} values · L2 norm ${fmt(p.norm, 3)}` }),
    heatmap([p.vector], [p.pooling], { name: "pooled", rowPx: 22 })];
}

function bars(entries, { labelFn = (e) => e[0], valueFn = (e) => e[1], data = () => ({}) } = {}) {
  return entries.map((e) => el("div", { class: "prob", data: data(e) }, el("span", { text: labelFn(e) }),
    el("div", { class: "bar" }, el("div", { style: `width:${(100 * valueFn(e)).toFixed(1)}%` })), el("span", { class: "p", text: valueFn(e).toFixed(4) })));
}

function predictionCell(rep) {
  const p = rep.prediction;
  if (p.kind === "label") {
    const sorted = Object.entries(p.probabilities).sort((a, b) => b[1] - a[1]);
    return [el("div", { class: "pred-label", data: { label: p.label }, text: `${p.label}  ${(100 * p.probabilities[p.label]).toFixed(1)}%` }),
      bars(sorted, { data: (e) => ({ label: e[0] }) })];
  }
  if (p.kind === "tags") {
    const colour = (t) => TAG_COLOURS[p.tag_names.indexOf(t) % TAG_COLOURS.length];
    const tagged = el("div", { class: "tagged" }, rep.positions.tokens.map((tok, i) => el("span", { class: "chip", data: { tag: p.tags[i] } },
      el("span", { class: "t", text: shown(tok) }), el("span", { class: "tag", style: `background:${colour(p.tags[i])}`, text: p.tags[i] }))));
    return [el("div", { class: "pred-label", data: { role: "tag-output" }, text: p.output }), tagged,
      el("div", { class: "meta", text: "per position: softmax of the tag scores (" + p.tag_names.join(", ") + ")" }),
      heatmap(p.tag_probabilities, rep.positions.tokens, { name: "tags", sequentialScale: true, colLabel: (x) => p.tag_names[x], colNames: p.tag_names })];
  }
  if (p.kind === "next_token") {
    return [el("div", { class: "meta", text: `the next token after ${shown(p.after)}: the ${p.top.length} most probable` }),
      bars(p.top, { labelFn: (e) => shown(e.token), valueFn: (e) => e.p, data: (e) => ({ token: e.token }) })];
  }
  return el("div", { class: "note", text: p.note });
}

function neighboursCell(name) {
  const sel = state.selected;
  const nb = sel && sel.results[name];
  if (!sel) return el("div", { class: "note", text: "click a token in panel 3" });
  if (!nb) return el("div", { class: "note", text: `this run reads another token at position ${sel.position}; click one in its own column` });
  if (nb.error) return el("div", { class: "cell-error", text: nb.error });
  const texts = [state.text, ...sel.others];
  return el("div", { class: "nb" },
    el("div", { class: "meta", text: `${shown(nb.token)} at position ${nb.position}: id ${nb.id}` + (nb.unk && nb.token !== "[UNK]" ? " ([UNK]: every unknown token shares this row)" : "") }),
    el("h3", { text: "static row: the nearest rows of the token-embedding matrix" }),
    el("div", { data: { role: "static" } }, bars(nb.static, { labelFn: (e) => shown(e.token), valueFn: (e) => Math.max(0, e.cosine), data: (e) => ({ token: e.token }) })),
    el("h3", { text: `contextual vector: the nearest encoder outputs among ${texts.length} text(s) typed` }),
    el("div", { data: { role: "contextual" } }, nb.contextual.map((e) => {
      const row = bars([e], { valueFn: (x) => Math.max(0, x.cosine), data: (x) => ({ token: x.token, text: String(x.text) }) })[0];
      const [left, rest] = e.context.split("[" + e.token + "]");
      row.firstChild.replaceWith(el("span", { class: "ctx", title: texts[e.text] }, `#${e.text} `, left || "", el("b", { text: shown(e.token) }), rest || ""));
      return row;
    })));
}

const PANELS = [
  ["normalization", "Normalisation", "NFKC and full-width → half-width, as the run's tokenizer does it first; changed characters are marked.", normalisationCell],
  ["tokens", "Tokens", "The normalised text cut by characters, by jieba words and by the run's own tokenizer; ids in this run's vocabulary, [UNK] in red.", tokensCell],
  ["positions", "Positions the model reads", "The ids the model gets, [CLS] first for a classifier; the coloured tag says where each token's initial row came from. Click one.", positionsCell],
  ["input", "Input layer", "Each part as a heatmap (rows: positions, columns: dimensions; blue negative, red positive), its L2 norm per position on the right.", inputCell],
  ["attention", "Attention weights", "Every layer and head (darker: more weight); click one to enlarge it.", attentionCell],
  ["pooled", "Pooled vector", "The one vector the classifier's head reads.", pooledCell],
  ["prediction", "Prediction", "Label probabilities, tags per position, or the next-token distribution.", predictionCell],
  ["neighbours", "Nearest neighbours", "Of the clicked token: its static row among all rows, and its contextual vector among the encoder outputs of the texts typed so far.", (rep, name) => neighboursCell(name)],
];

function render() {
  const names = Object.keys(state.reports);
  const box = document.getElementById("panels");
  box.replaceChildren();
  PANELS.forEach(([id, title, what, draw], k) => {
    const cols = el("div", { class: "cols", style: `grid-template-columns:repeat(${names.length}, minmax(0, 1fr))` });
    for (const name of names) {
      const rep = state.reports[name];
      const run = LAB.runs.find((r) => r.name === name);
      const cell = el("div", { class: "cell", data: { run: name } }, el("div", { class: "run-name", title: runSpec(run), text: name }));
      if (rep.error) cell.append(el("div", { class: "cell-error", text: rep.error }));
      else cell.append(...[draw(rep, name)].flat(3));
      cols.append(cell);
    }
    box.append(el("section", { class: "panel", id: "panel-" + id, data: { ready: "true" } },
      el("h2", {}, el("span", { class: "n", text: String(k + 1) }), title), el("p", { class: "what", text: what }), cols));
  });
}

function rerender() { // after a click: draw again, where the reader is
  const y = window.scrollY;
  render();
  window.scrollTo(0, y);
}

// ------------------------------------------------------------------------------------------ actions
function fail(message) {
  const box = document.getElementById("error");
  box.textContent = message;
  box.hidden = !message;
}

async function show() {
  const text = document.getElementById("text").value;
  if (!text.trim()) { fail("Type a text first."); return; }
  fail("");
  const button = document.getElementById("show");
  const status = document.getElementById("status");
  button.disabled = true;
  status.textContent = "reading…";
  const t0 = performance.now();
  try {
    const results = await Promise.all(LAB.runs.map((r) => post("inspect", { run: r.name, text }).catch((e) => ({ error: e.message }))));
    const errors = results.filter((r) => r.error);
    if (errors.length === results.length) { fail(errors[0].error); status.textContent = ""; return; }
    state.reports = {};
    LAB.runs.forEach((r, i) => { state.reports[r.name] = results[i]; });
    if (state.text && state.text !== text) state.history = [state.text, ...state.history.filter((t) => t !== state.text && t !== text)].slice(0, 16);
    state.text = text;
    state.selected = null;
    render();
    status.textContent = `${(performance.now() - t0).toFixed(0)} ms`;
  } finally {
    button.disabled = false;
  }
}

async function selectToken(name, position, token) {
  const others = state.history.filter((t) => t !== state.text);
  state.selected = { position, token, others, results: {} };
  const targets = LAB.runs.map((r) => r.name).filter((n) => {
    const rep = state.reports[n];
    return n === name || (rep && rep.positions && rep.positions.tokens[position] === token);
  });
  const answers = await Promise.all(targets.map((n) => post("neighbours", { run: n, text: state.text, position, texts: others }).catch((e) => ({ error: e.message }))));
  if (!state.selected || state.selected.position !== position) return; // another click came first
  targets.forEach((n, i) => { state.selected.results[n] = answers[i]; });
  rerender();
  document.getElementById("panel-neighbours").dataset.position = String(position);
}

function setup() {
  const runs = document.getElementById("run-list");
  LAB.runs.forEach((r) => runs.append(el("span", { class: "run-chip", title: r.path }, el("b", { text: r.name }), " " + runSpec(r))));
  const ex = document.getElementById("examples");
  EXAMPLES.forEach((t) => ex.append(el("button", { type: "button", text: t.length > 14 ? t.slice(0, 13) + "…" : t, title: t, onclick: () => { document.getElementById("text").value = t; show(); } })));
  if (LAB.needsKey) document.getElementById("key-box").append(el("label", {}, "API key ", el("input", { id: "key", type: "password", autocomplete: "off" })));
  document.getElementById("show").addEventListener("click", show);
  document.getElementById("text").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); show(); } });
}

setup();
