// vmsim classroom. This script draws what the server's API returns: every
// hit, fault, victim, slot, bit and count comes from vmsim's pager. It holds
// no rule of paging.
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
const SVGNS = "http" + "://www.w3.org/2000/svg"; // a namespace name, not a host

function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const k of kids) if (k != null) e.append(k);
  return e;
}

const state = {
  info: null,
  steps: null,   // the last /api/steps response
  cur: 0,        // the access shown, from 0
  timer: null,
  curve: null,   // the last curve or mrc response, and its kind
  curveKind: "",
  quiz: null,
};

// ---- the API ----

// api posts body (the JSON request) to path, with the uploaded trace as a
// multipart part when the source is an upload. It returns the JSON, or
// throws an Error with the server's message.
async function api(path, body, opts = {}) {
  const init = { method: "POST" };
  const file = opts.withTrace && source() === "upload" ? $("#upload").files[0] : null;
  if (file) {
    const fd = new FormData();
    fd.append("request", JSON.stringify(body));
    fd.append("trace", file, file.name);
    init.body = fd;
  } else {
    init.headers = { "Content-Type": "application/json" };
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(path + (opts.query || ""), init);
  if (opts.raw && resp.ok) return resp;
  let data;
  try {
    data = await resp.json();
  } catch (e) {
    throw new Error(`${path}: HTTP ${resp.status}`);
  }
  if (!resp.ok) throw new Error(data.error || `HTTP ${resp.status}`);
  return data;
}

function showError(err) {
  const box = $("#error");
  if (!err) {
    box.hidden = true;
    box.textContent = "";
    return;
  }
  box.hidden = false;
  box.textContent = err.message || String(err);
}

// ---- the inputs ----

function source() {
  return $("input[name=source]:checked").value;
}

function traceSpec() {
  switch (source()) {
    case "text":
      return { text: $("#trace-text").value };
    case "builtin": {
      const b = $("#builtin").value;
      const spec = { builtin: b };
      const info = state.info.builtins.find((x) => x.name === b);
      if (info && info.generated) {
        spec.n = +$("#gen-n").value;
        spec.distinct = +$("#gen-distinct").value;
        spec.seed = +$("#gen-seed").value;
      }
      return spec;
    }
    case "upload":
      if (!$("#upload").files[0]) throw new Error("choose a trace file to upload");
      return {};
  }
}

function chosenPolicies() {
  return $$("#policies input:checked").map((c) => c.value);
}

function frames() {
  return +$("#frames").value;
}

function seed() {
  return +$("#gen-seed").value;
}

// ---- step playback ----

async function load() {
  stop();
  try {
    const pol = chosenPolicies();
    if (pol.length === 0) throw new Error("choose at least one policy");
    state.steps = await api("/api/steps", { trace: traceSpec(), policies: pol, frames: frames(), seed: seed() }, { withTrace: true });
    showError(null);
    state.cur = 0;
    drawRuns();
    show(0);
  } catch (e) {
    showError(e);
  }
}

function pageLabel(p) {
  return $("#hex").checked ? "0x" + p.toString(16) : String(p);
}

// drawRuns builds one panel per policy: totals, the textbook grid (refs
// across, slots down) and the state of the access shown.
function drawRuns() {
  const box = $("#runs");
  box.replaceChildren();
  const s = state.steps;
  for (const run of s.runs) {
    const panel = el("div", { class: "run", "data-policy": run.policy },
      el("h3", {}, run.policy + " ", el("span", { class: "summary", text: "· " + run.summary })),
      el("div", { class: "totals" }),
      el("div", { class: "grid-wrap" }, gridFor(run, s)),
      el("div", { class: "state" }));
    box.append(panel);
  }
  $("#jump").max = s.trace.accesses;
}

function gridFor(run, s) {
  const t = el("table", { class: "grid" });
  const head = el("tr", {}, el("th", { class: "rowhead", text: "access" }));
  const refs = el("tr", {}, el("th", { class: "rowhead", text: "page" }));
  s.trace.pages.forEach((p, i) => {
    head.append(el("th", { class: "idx", "data-step": i, text: String(i + 1) }));
    refs.append(el("th", { class: "ref" + (s.trace.writes[i] ? " write" : ""), "data-step": i, text: pageLabel(p) }));
  });
  t.append(head, refs);
  for (let k = 0; k < s.slots; k++) {
    const tr = el("tr", { "data-slot": k }, el("th", { class: "rowhead", text: "frame " + k }));
    run.steps.forEach((st, i) => tr.append(el("td", { class: "slot", "data-slot": k, "data-step": i })));
    t.append(tr);
  }
  const res = el("tr", { class: "results" }, el("th", { class: "rowhead", text: "result" }));
  run.steps.forEach((st, i) => res.append(el("td", { class: "result", "data-step": i })));
  t.append(res);
  return t;
}

const kindMark = { fault: "F", hit: "·", protection: "P" };

// show draws access i (from 0) in every panel: the columns up to it
// filled, later ones left as references only.
function show(i) {
  const s = state.steps;
  if (!s) return;
  i = Math.max(0, Math.min(i, s.trace.accesses - 1));
  state.cur = i;
  for (const run of s.runs) {
    const panel = $(`.run[data-policy="${run.policy}"]`);
    for (const td of $$("td.slot", panel)) {
      const j = +td.dataset.step, k = +td.dataset.slot;
      td.className = "slot";
      td.replaceChildren();
      if (j > i) {
        td.classList.add("future");
        continue;
      }
      const st = run.steps[j];
      const sl = st.slots[k];
      if (sl) {
        td.append(pageLabel(sl.page));
        if (sl.dirty) td.append(el("sup", { text: "*" }));
      }
      if (st.slot === k) {
        td.classList.add("loaded", st.kind);
        if (st.victim !== null) td.append(el("s", { text: pageLabel(st.victim), title: "evicted" }));
      }
      if (j === i) td.classList.add("current");
    }
    for (const td of $$("td.result", panel)) {
      const j = +td.dataset.step;
      const st = run.steps[j];
      td.className = "result" + (j > i ? " future" : " " + st.kind) + (j === i ? " current" : "");
      td.textContent = j > i ? "" : kindMark[st.kind];
      td.title = j > i ? "" : st.kind + (st.written_back ? ", victim written back" : "");
    }
    for (const th of $$("th.ref, th.idx", panel)) {
      const j = +th.dataset.step;
      th.classList.toggle("current", j === i);
      th.classList.toggle("future", j > i);
    }
    const st = run.steps[i];
    const tot = st.totals;
    $(".totals", panel).replaceChildren(
      el("span", { class: "faults" }, el("b", { text: String(tot.faults) }), " faults, "),
      el("span", { class: "hits" }, el("b", { text: String(tot.hits) }), " hits, "),
      el("span", { class: "evictions", text: `${tot.evictions} evictions, ` }),
      el("span", { class: "writebacks", text: `${tot.writebacks} written back, ` }),
      el("span", { class: "protections", text: `${tot.protection_faults} protection faults` }),
      el("span", { class: "of", text: ` after ${i + 1} of ${s.trace.accesses} accesses (in all: ${run.totals.faults} faults)` }));
    $(".state", panel).replaceChildren(...stateOf(run, st, s));
    const cell = $(`td.slot.current`, panel);
    if (cell && cell.scrollIntoView) cell.scrollIntoView({ block: "nearest", inline: "nearest" });
  }
  $("#position").textContent = `access ${i + 1} of ${s.trace.accesses}: page ${pageLabel(s.trace.pages[i])}${s.trace.writes[i] ? " (write)" : ""}`;
  $("#jump").value = i + 1;
}

// stateOf draws a policy's state after a step: its frames now (hand, bits,
// keys, dirty), its lists and ghost lists, its order and note, all as the
// API gives them.
function stateOf(run, st, s) {
  const now = el("div", { class: "now" });
  st.slots.forEach((sl, k) => {
    const f = el("div", { class: "frame", "data-slot": k }, el("div", { class: "slotno", text: "frame " + k }));
    if (!sl) {
      f.classList.add("empty");
      f.append(el("div", { class: "page", text: "–" }));
    } else {
      f.append(el("div", { class: "page", text: pageLabel(sl.page) }));
      if (sl.note) f.append(el("div", { class: "note", text: noteOf(sl) }));
      if (sl.dirty) f.append(el("div", { class: "dirty", text: "dirty" }));
      if (sl.hand) f.classList.add("hand");
      if (st.next_victim !== null && sl.page === st.next_victim) f.classList.add("next");
    }
    if (st.slot === k) f.classList.add("loaded", st.kind);
    now.append(f);
  });
  const out = [now];
  const lists = el("div", { class: "lists" });
  const named = {};
  for (const p of st.order) {
    const sl = st.slots.find((x) => x && x.page === p);
    if (sl && sl.list) (named[sl.list] = named[sl.list] || []).push(p);
  }
  const ghosts = {};
  for (const g of st.ghosts || []) ghosts[g.name] = g.pages;
  const box = (name, pages, ghost) => el("div", { class: "list" + (ghost ? " ghost" : ""), "data-list": name },
    el("div", { class: "name", text: name + (ghost ? " (ghosts)" : "") }), el("div", { class: "pages", text: pages.length ? pages.map(pageLabel).join(" ") : "–" }));
  if (run.policy === "arc") {
    lists.append(box("B1", ghosts.B1 || [], true), box("T1", named.T1 || [], false), box("T2", named.T2 || [], false), box("B2", ghosts.B2 || [], true));
  } else if (run.policy === "s3fifo") {
    lists.append(box("S", named.S || [], false), box("M", named.M || [], false), box("G", ghosts.G || [], true));
  }
  if (lists.children.length) out.push(lists);
  const order = el("div", { class: "order" }, el("span", { class: "name", text: "order (" + run.order + "): " }));
  st.order.forEach((p, n) => order.append(el("span", { class: n === 0 && st.next_victim !== null ? "first" : "", text: pageLabel(p) }), " "));
  out.push(order);
  if (st.note) out.push(el("div", { class: "statenote", text: st.note }));
  return out;
}

function noteOf(sl) {
  if (sl.key_name === "next" && sl.key === undefined) return "next: never";
  if (sl.key_name === "next") return "next: " + (sl.key + 1);
  if (sl.key_name === "last") return "last: " + (sl.key + 1) + (sl.ref !== undefined ? " R=" + sl.ref : "");
  return sl.note;
}

function play() {
  if (state.timer) return stop();
  if (!state.steps) return;
  if (state.cur >= state.steps.trace.accesses - 1) show(0);
  $("#play").textContent = "⏸ Pause";
  const tick = () => {
    if (state.cur >= state.steps.trace.accesses - 1) return stop();
    show(state.cur + 1);
    state.timer = setTimeout(tick, 1000 / +$("#speed").value);
  };
  state.timer = setTimeout(tick, 1000 / +$("#speed").value);
}

function stop() {
  clearTimeout(state.timer);
  state.timer = null;
  $("#play").textContent = "▶ Play";
}

// ---- quiz ----

function quizURL() {
  const u = new URL(location.href);
  u.search = "";
  u.hash = "";
  const q = u.searchParams;
  q.set("view", "quiz");
  const spec = traceSpec();
  if (spec.text !== undefined) q.set("text", spec.text);
  if (spec.builtin) q.set("builtin", spec.builtin);
  if (spec.n) q.set("n", spec.n);
  if (spec.distinct) q.set("distinct", spec.distinct);
  q.set("seed", seed());
  q.set("frames", frames());
  q.set("policy", $("#quiz-policy").value);
  return u.toString();
}

async function startQuiz() {
  stop();
  try {
    const policy = $("#quiz-policy").value;
    const data = await api("/api/steps", { trace: traceSpec(), policies: [policy], frames: frames(), seed: seed() }, { withTrace: true });
    showError(null);
    state.quiz = { data, run: data.runs[0], i: 0, right: 0, answered: 0, kind: null };
    $("#quiz-link").href = quizURL();
    $("#quiz-box").hidden = false;
    $("#quiz-final").hidden = true;
    $("#quiz-feedback").textContent = "";
    $("#quiz-feedback").className = "";
    drawQuizGrid();
    askQuiz();
  } catch (e) {
    showError(e);
  }
}

function drawQuizGrid() {
  const q = state.quiz;
  const box = $("#quiz-grid");
  box.replaceChildren(el("div", { class: "run", "data-policy": q.run.policy }, el("div", { class: "grid-wrap" }, gridFor(q.run, q.data))));
  revealQuiz(-1);
}

// revealQuiz fills the quiz grid up to access i (-1: none).
function revealQuiz(upto) {
  const q = state.quiz;
  const panel = $("#quiz-grid");
  for (const td of $$("td.slot", panel)) {
    const j = +td.dataset.step, k = +td.dataset.slot;
    td.className = "slot";
    td.replaceChildren();
    if (j > upto) {
      td.classList.add("future");
      continue;
    }
    const st = q.run.steps[j];
    const sl = st.slots[k];
    if (sl) td.append(pageLabel(sl.page));
    if (st.slot === k) {
      td.classList.add("loaded", st.kind);
      if (st.victim !== null) td.append(el("s", { text: pageLabel(st.victim) }));
    }
  }
  for (const td of $$("td.result", panel)) {
    const j = +td.dataset.step;
    const st = q.run.steps[j];
    td.className = "result" + (j > upto ? " future" : " " + st.kind);
    td.textContent = j > upto ? "" : kindMark[st.kind];
  }
  for (const th of $$("th.ref, th.idx", panel)) th.classList.toggle("current", +th.dataset.step === upto + 1);
}

function askQuiz() {
  const q = state.quiz;
  const n = q.data.trace.accesses;
  $("#quiz-score").textContent = `Score: ${q.right} of ${q.answered}`;
  if (q.i >= n) {
    $("#quiz-box").classList.add("done");
    $("#quiz-question").textContent = "Done.";
    $("#quiz-kind").hidden = true;
    $("#quiz-victims").hidden = true;
    const final = $("#quiz-final");
    final.hidden = false;
    final.textContent = `Final score: ${q.right} of ${n}. ${q.run.policy} made ${q.run.totals.faults} faults with ${q.data.frames} frames.`;
    return;
  }
  const p = q.data.trace.pages[q.i];
  $("#quiz-question").textContent = `Access ${q.i + 1} of ${n}: page ${pageLabel(p)} (${q.data.trace.writes[q.i] ? "write" : "read"}). Hit or fault?`;
  $("#quiz-kind").hidden = false;
  $("#quiz-victims").hidden = true;
}

function answerKind(fault) {
  const q = state.quiz;
  if (!q || q.i >= q.data.trace.accesses) return;
  if (!fault) return judge(false, null);
  // A fault: which page goes? The choices are the pages resident before
  // the access, as the previous step shows them.
  const before = q.i > 0 ? q.run.steps[q.i - 1].slots : [];
  const choices = $("#victim-choices");
  choices.replaceChildren();
  for (const sl of before) {
    if (!sl) continue;
    const b = el("button", { class: "victim-choice", "data-page": sl.page, text: pageLabel(sl.page) });
    b.addEventListener("click", () => judge(true, sl.page));
    choices.append(b);
  }
  $("#quiz-kind").hidden = true;
  $("#quiz-victims").hidden = false;
}

// judge compares an answer with what the pager did at this access.
function judge(fault, victim) {
  const q = state.quiz;
  const st = q.run.steps[q.i];
  const wasFault = st.kind === "fault";
  const ok = fault === wasFault && (!wasFault || victim === st.victim);
  q.answered++;
  if (ok) q.right++;
  const said = fault ? "fault" + (victim === null ? " with a free frame" : ", evicting " + pageLabel(victim)) : "hit";
  let truth = wasFault ? (st.victim === null ? "a fault, and a frame was free" : "a fault that evicts " + pageLabel(st.victim)) : "a hit";
  if (st.kind === "protection") truth = "a hit (the first write to a clean page: a protection fault, not a page fault)";
  const fb = $("#quiz-feedback");
  fb.className = ok ? "right" : "wrong";
  fb.textContent = ok ? `Right: access ${q.i + 1} is ${truth}.` : `Wrong: you said ${said}; access ${q.i + 1} is ${truth}.`;
  revealQuiz(q.i);
  q.i++;
  askQuiz();
}

// ---- curves ----

async function runCurve() {
  try {
    const pol = chosenPolicies();
    if (pol.length === 0) throw new Error("choose at least one policy");
    const body = { trace: traceSpec(), policies: pol, from: +$("#curve-from").value, to: +$("#curve-to").value, seed: seed() };
    state.curve = await api("/api/curve", body, { withTrace: true });
    state.curveKind = "curve";
    state.curveBody = body;
    showError(null);
    drawCurve();
  } catch (e) {
    showError(e);
  }
}

async function runMRC() {
  try {
    const body = { trace: traceSpec() };
    const data = await api("/api/mrc", body, { withTrace: true });
    state.curve = { trace: data.trace, series: [{ policy: "lru", points: data.points }], anomalies: [] };
    state.curveKind = "mrc";
    state.curveBody = body;
    showError(null);
    drawCurve();
  } catch (e) {
    showError(e);
  }
}

function drawCurve() {
  const c = state.curve;
  const mrc = state.curveKind === "mrc";
  const series = c.series.map((s) => ({ name: s.policy, points: s.points.map((p) => ({ x: p.frames, y: mrc ? p.miss_ratio : p.faults })) }));
  const marks = c.anomalies.map((a) => ({ series: a.policy, x: a.frames, y: a.faults }));
  drawChart($("#curve-chart"), series, {
    title: (mrc ? "Exact LRU miss-ratio curve: " : "Faults against frames: ") + c.trace.name + ` (${c.trace.accesses} accesses, ${c.trace.distinct} pages)`,
    xlabel: "frames", ylabel: mrc ? "miss ratio" : "faults", logx: $("#logx").checked, logy: $("#logy").checked, marks,
  });
  const ul = $("#anomalies");
  ul.replaceChildren(...c.anomalies.map((a) => el("li", { "data-policy": a.policy, "data-frames": a.frames,
    text: `Belady's anomaly: ${a.policy} faults ${a.faults} times with ${a.frames} frames, more than ${a.fewer_faults} with ${a.fewer_frames}.` })));
  const t = $("#curve-table");
  const head = el("tr", {}, el("th", { text: "frames" }), ...c.series.map((s) => el("th", { text: s.policy + (mrc ? " miss ratio" : " faults") })));
  const rows = [head];
  const xs = c.series[0].points.map((p) => p.frames);
  xs.forEach((x, j) => {
    const tr = el("tr", { "data-frames": x }, el("th", { text: String(x) }));
    for (const s of c.series) {
      const p = s.points[j];
      const anomalous = c.anomalies.some((a) => a.policy === s.policy && a.frames === x);
      tr.append(el("td", { class: "v" + (anomalous ? " anomaly" : ""), "data-policy": s.policy, text: mrc ? p.miss_ratio.toFixed(4) : String(p.faults) }));
    }
    rows.push(tr);
  });
  t.replaceChildren(...rows);
}

const palette = ["#c62828", "#1f4fbf", "#2e7d32", "#8e24aa", "#ef6c00", "#00838f", "#6d4c41", "#546e7a"];

function svg(tag, attrs = {}, text) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// ticks returns round values across [lo, hi].
function ticks(lo, hi, log) {
  if (log) {
    const out = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
      for (const m of [1, 2, 5]) {
        const v = m * 10 ** e;
        if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
      }
    }
    return out;
  }
  const span = hi - lo || 1;
  const step0 = 10 ** Math.floor(Math.log10(span / 6));
  const step = [1, 2, 5, 10].map((m) => m * step0).find((s) => span / s <= 8);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

function drawChart(node, series, o) {
  const W = 760, H = 420, L = 64, R = 150, T = 36, B = 48;
  node.replaceChildren();
  node.setAttribute("viewBox", `0 0 ${W} ${H}`);
  node.append(svg("rect", { x: 0, y: 0, width: W, height: H, fill: "#fff" }));
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return;
  const pos = (v) => v > 0;
  let x0 = Math.min(...all.map((p) => p.x)), x1 = Math.max(...all.map((p) => p.x));
  let y0 = o.logy ? Math.min(...all.map((p) => p.y).filter(pos)) : 0, y1 = Math.max(...all.map((p) => p.y));
  if (o.logx) x0 = Math.max(x0, 1);
  if (!(y0 > 0) && o.logy) y0 = 1e-3;
  if (x1 === x0) x1 = x0 + 1;
  if (y1 <= y0) y1 = y0 + 1;
  const fx = (v) => L + (o.logx ? (Math.log(v) - Math.log(x0)) / (Math.log(x1) - Math.log(x0)) : (v - x0) / (x1 - x0)) * (W - L - R);
  const fy = (v) => H - B - (o.logy ? (Math.log(v) - Math.log(y0)) / (Math.log(y1) - Math.log(y0)) : (v - y0) / (y1 - y0)) * (H - T - B);
  const font = { "font-family": "system-ui, sans-serif", "font-size": 12, fill: "#1d232b" };
  node.append(svg("text", { ...font, x: L, y: 20, "font-size": 14, "font-weight": 600 }, o.title));
  for (const v of ticks(x0, x1, o.logx)) {
    if (!o.logx && !Number.isInteger(v)) continue;
    node.append(svg("line", { x1: fx(v), x2: fx(v), y1: T, y2: H - B, stroke: "#eef1f4" }));
    node.append(svg("text", { ...font, x: fx(v), y: H - B + 16, "text-anchor": "middle" }, String(v)));
  }
  for (const v of ticks(y0, y1, o.logy)) {
    node.append(svg("line", { x1: L, x2: W - R, y1: fy(v), y2: fy(v), stroke: "#eef1f4" }));
    node.append(svg("text", { ...font, x: L - 6, y: fy(v) + 4, "text-anchor": "end" }, String(v)));
  }
  node.append(svg("line", { x1: L, x2: W - R, y1: H - B, y2: H - B, stroke: "#5d6875" }));
  node.append(svg("line", { x1: L, x2: L, y1: T, y2: H - B, stroke: "#5d6875" }));
  node.append(svg("text", { ...font, x: (L + W - R) / 2, y: H - 10, "text-anchor": "middle" }, o.xlabel + (o.logx ? " (log)" : "")));
  node.append(svg("text", { ...font, x: 16, y: (T + H - B) / 2, transform: `rotate(-90 16 ${(T + H - B) / 2})`, "text-anchor": "middle" }, o.ylabel + (o.logy ? " (log)" : "")));
  series.forEach((s, i) => {
    const color = palette[i % palette.length];
    const pts = s.points.filter((p) => (!o.logx || p.x > 0) && (!o.logy || p.y > 0));
    node.append(svg("polyline", { points: pts.map((p) => `${fx(p.x)},${fy(p.y)}`).join(" "), fill: "none", stroke: color, "stroke-width": 2, "data-series": s.name }));
    if (pts.length <= 80) for (const p of pts) node.append(svg("circle", { cx: fx(p.x), cy: fy(p.y), r: 3, fill: color }));
    node.append(svg("line", { x1: W - R + 14, x2: W - R + 38, y1: T + 10 + i * 20, y2: T + 10 + i * 20, stroke: color, "stroke-width": 3 }));
    node.append(svg("text", { ...font, x: W - R + 44, y: T + 14 + i * 20 }, s.name));
  });
  for (const m of o.marks || []) {
    node.append(svg("circle", { cx: fx(m.x), cy: fy(m.y), r: 8, fill: "none", stroke: "#c62828", "stroke-width": 2, class: "anomaly" }));
    node.append(svg("text", { ...font, x: fx(m.x) + 10, y: fy(m.y) - 10, fill: "#c62828", "font-weight": 600 }, `anomaly: ${m.series}`));
  }
}

function save(blob, name) {
  const a = el("a", { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

function svgText() {
  const node = $("#curve-chart").cloneNode(true);
  node.setAttribute("xmlns", SVGNS);
  return new XMLSerializer().serializeToString(node);
}

async function download(kind) {
  try {
    if (!state.curve) throw new Error("draw a curve first");
    const base = state.curveKind === "mrc" ? "mrc" : "curve";
    switch (kind) {
      case "svg":
        return save(new Blob([svgText()], { type: "image/svg+xml" }), base + ".svg");
      case "png": {
        const img = new Image();
        img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(svgText());
        await img.decode();
        const cv = el("canvas", { width: 1520, height: 840 });
        const ctx = cv.getContext("2d");
        ctx.drawImage(img, 0, 0, 1520, 840);
        return cv.toBlob((b) => save(b, base + ".png"), "image/png");
      }
      case "json":
        return save(new Blob([JSON.stringify(state.curve, null, 2)], { type: "application/json" }), base + ".json");
      case "csv": {
        const resp = await api("/api/" + state.curveKind, state.curveBody, { withTrace: true, query: "?format=csv", raw: true });
        return save(await resp.blob(), base + ".csv");
      }
    }
  } catch (e) {
    showError(e);
  }
}

// ---- real memory and exercises ----

async function runReal() {
  try {
    const pol = chosenPolicies();
    if (pol.length === 0) throw new Error("choose at least one policy");
    const data = await api("/api/real", { trace: traceSpec(), policies: pol, frames: frames(), seed: seed(), mechanism: $("#mechanism").value }, { withTrace: true });
    showError(null);
    const head = el("tr", {}, ...["policy", "simulated faults", "real faults", "caught in user space", "kernel's faults", "evictions (sim / real)", "written back (sim / real)", "agree"].map((h) => el("th", { text: h })));
    const rows = data.runs.map((r) => el("tr", { "data-policy": r.policy },
      el("th", { text: r.policy }),
      el("td", { class: "sim-faults", text: String(r.sim.faults) }),
      el("td", { class: "real-faults", text: String(r.real.faults) }),
      el("td", { class: "user-faults", text: String(r.user_faults) }),
      el("td", { class: "kernel-faults", text: r.kernel ? `${r.kernel.faults} (${r.kernel.not_present} not present, ${r.kernel.protection} protection)` : "needs root" }),
      el("td", { text: `${r.sim.evictions} / ${r.real.evictions}` }),
      el("td", { text: `${r.sim.writebacks} / ${r.real.writebacks}` }),
      el("td", { class: "agree" + (r.agree ? "" : " bad"), text: r.agree ? "yes" : "NO" })));
    $("#real-table").replaceChildren(head, ...rows);
    $("#kernel-note").textContent = data.kernel
      ? (data.mechanism === "uffd"
        ? "The kernel's faults come from an eBPF probe on the region. With userfaultfd each fault caught in user space costs the kernel one: the access to the missing page, which it turns into a signal; the handler's fill (UFFDIO_COPY) maps the page itself, so the retry does not fault."
        : "The kernel's faults come from an eBPF probe on the region. Each fault caught in user space costs the kernel two: the access to the PROT_NONE page, which it turns into a signal, and the first touch after the handler's grant, which maps the page in.")
      : data.kernel_note || state.info.kernel.note;
  } catch (e) {
    showError(e);
  }
}

async function runExercise(name) {
  const out = $("#exercise-out");
  out.textContent = "running " + name + "…";
  try {
    const data = await api("/api/exercise", { name });
    showError(null);
    out.textContent = data.transcript + (data.ok ? "" : "\n" + data.failed);
    out.dataset.name = name;
    out.dataset.ok = data.ok;
  } catch (e) {
    out.textContent = "";
    showError(e);
  }
}

async function runCheck() {
  const out = $("#check-out");
  try {
    const file = $("#check-file").files[0];
    const fd = new FormData();
    fd.append("request", JSON.stringify({ exercise: $("#check-exercise").value }));
    if (file) fd.append("trace", file, file.name);
    const resp = await fetch("/api/check", { method: "POST", body: fd });
    const data = await resp.json();
    if (!resp.ok) throw new Error(data.error);
    out.textContent = data.report;
    showError(null);
  } catch (e) {
    out.textContent = e.message;
  }
}

// ---- the page ----

function setView(v) {
  for (const b of $$("#tabs button")) b.classList.toggle("active", b.dataset.view === v);
  for (const s of $$(".view")) s.hidden = s.id !== "view-" + v;
  document.body.dataset.view = v;
}

function updateGenOptions() {
  const b = state.info.builtins.find((x) => x.name === $("#builtin").value);
  $("#gen-options").hidden = !(b && b.generated);
}

// fromURL sets the inputs from the query (a quiz link), and returns the
// view it names.
function fromURL() {
  const q = new URLSearchParams(location.search);
  if (q.has("text")) {
    $("#trace-text").value = q.get("text");
    $("input[name=source][value=text]").checked = true;
  }
  if (q.has("builtin")) {
    $("#builtin").value = q.get("builtin");
    $("input[name=source][value=builtin]").checked = true;
  }
  for (const [k, id] of [["n", "#gen-n"], ["distinct", "#gen-distinct"], ["seed", "#gen-seed"], ["frames", "#frames"]]) {
    if (q.has(k)) $(id).value = q.get(k);
  }
  if (q.has("policy")) $("#quiz-policy").value = q.get("policy");
  if (q.has("policies")) {
    const want = q.get("policies").split(",");
    for (const c of $$("#policies input")) c.checked = want.includes(c.value);
  }
  return q.get("view") || "step";
}

async function init() {
  const resp = await fetch("/api/info");
  state.info = await resp.json();
  const info = state.info;
  for (const p of info.policies) {
    const on = ["fifo", "lru", "opt"].includes(p.name);
    $("#policies").append(el("label", { title: p.summary }, el("input", { type: "checkbox", value: p.name, checked: on }), " " + p.name));
    $("#quiz-policy").append(el("option", { value: p.name, text: p.name }));
  }
  for (const b of info.builtins) $("#builtin").append(el("option", { value: b.name, text: b.name, title: b.what }));
  for (const m of info.mechanisms) $("#mechanism").append(el("option", { value: m, text: m }));
  for (const e of info.exercises) {
    const b = el("button", { class: "exercise", "data-name": e.name, text: e.name, title: e.summary });
    b.addEventListener("click", () => runExercise(e.name));
    $("#exercise-list").append(b);
    $("#check-exercise").append(el("option", { value: e.name, text: e.name }));
  }
  $("#frames").max = info.limits.max_frames;
  if (!info.real.available) {
    $("#real-run").disabled = true;
    $("#kernel-note").textContent = info.real.note;
  } else if (!info.kernel.available) {
    $("#kernel-note").textContent = info.kernel.note;
  }
  if (!info.check.available) $("#check-out").textContent = info.check.note;
  $("#builtin").addEventListener("change", () => {
    $("input[name=source][value=builtin]").checked = true;
    updateGenOptions();
  });
  $("#trace-text").addEventListener("input", () => ($("input[name=source][value=text]").checked = true));
  $("#upload").addEventListener("change", () => ($("input[name=source][value=upload]").checked = true));
  $("#trace-text").addEventListener("keydown", (e) => e.key === "Enter" && load());
  $("#load").addEventListener("click", load);
  $("#first").addEventListener("click", () => (stop(), show(0)));
  $("#prev").addEventListener("click", () => (stop(), show(state.cur - 1)));
  $("#next").addEventListener("click", () => (stop(), show(state.cur + 1)));
  $("#last").addEventListener("click", () => state.steps && (stop(), show(state.steps.trace.accesses - 1)));
  $("#play").addEventListener("click", play);
  $("#jump-go").addEventListener("click", () => (stop(), show(+$("#jump").value - 1)));
  $("#jump").addEventListener("keydown", (e) => e.key === "Enter" && (stop(), show(+$("#jump").value - 1)));
  $("#quiz-start").addEventListener("click", startQuiz);
  $("#answer-hit").addEventListener("click", () => answerKind(false));
  $("#answer-fault").addEventListener("click", () => answerKind(true));
  $("#victim-none").addEventListener("click", () => judge(true, null));
  $("#quiz-policy").addEventListener("change", () => ($("#quiz-link").href = quizURL()));
  $("#curve-run").addEventListener("click", runCurve);
  $("#mrc-run").addEventListener("click", runMRC);
  $("#logx").addEventListener("change", () => state.curve && drawCurve());
  $("#logy").addEventListener("change", () => state.curve && drawCurve());
  for (const k of ["svg", "png", "csv", "json"]) $("#dl-" + k).addEventListener("click", () => download(k));
  $("#real-run").addEventListener("click", runReal);
  $("#hex").addEventListener("change", () => {
    if (state.steps) drawRuns(), show(state.cur);
    if (state.quiz) drawQuizGrid(), revealQuiz(state.quiz.i - 1);
  });
  $("#check-run").addEventListener("click", runCheck);
  for (const b of $$("#tabs button")) b.addEventListener("click", () => setView(b.dataset.view));
  document.addEventListener("keydown", (e) => {
    if (e.target.closest("input, select, textarea") || document.body.dataset.view !== "step") return;
    const keys = { ArrowRight: () => show(state.cur + 1), ArrowLeft: () => show(state.cur - 1), Home: () => show(0),
      End: () => state.steps && show(state.steps.trace.accesses - 1), " ": play };
    if (keys[e.key]) {
      e.preventDefault();
      if (e.key !== " ") stop();
      keys[e.key]();
    }
  });
  const view = fromURL();
  updateGenOptions();
  $("#quiz-link").href = quizURL();
  setView(view);
  if (view === "quiz") await startQuiz();
  else await load();
  document.body.dataset.ready = "1";
}

init().catch(showError);
