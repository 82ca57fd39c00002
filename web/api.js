// api.js: the page's only way to the aggregator (its JSON API), and the
// small helpers every view shares: building elements, formatting times and
// counts, and the time range the views are asked for. Times from the API
// are ns since the epoch; as JS numbers they keep ~0.25 us, plenty for
// drawing; what goes back into a link or a query is exact (time.js).
"use strict";

const DS = (window.DS = window.DS || {});

// An error the API answered with (a 4xx/5xx and its JSON "error").
class ApiError extends Error {
  constructor(path, status, message) {
    super(message);
    this.path = path;
    this.status = status;
  }
}
DS.ApiError = ApiError;

// The lists of events, which the versioned API gives newest first: the
// views draw them in time order.
const EVENT_LISTS = new Set(["drops", "bursts", "gaps", "incidents"]);

// GET /api/v1/NAME?params for DS.get("/api/NAME", params); resolves to the
// answer's data, rejects with an ApiError naming the endpoint and what the
// API said was wrong.
DS.get = async function (endpoint, params) {
  const name = endpoint.replace(/^\/api\//, "");
  const path = `/api/v1/${name}`;
  const query = new URLSearchParams(EVENT_LISTS.has(name) ? { order: "oldest" } : {});
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== "") query.set(k, String(v));
  }
  const url = `${path}?${query}`;
  let resp;
  try {
    resp = await fetch(url, { headers: { Accept: "application/json" } });
  } catch (e) {
    throw new ApiError(path, 0, `the aggregator did not answer (${e.message}); is it running?`);
  }
  let body = null;
  try {
    body = DS.parseJson(await resp.text());
  } catch (e) {
    throw new ApiError(path, resp.status, `the answer was not JSON (HTTP ${resp.status})`);
  }
  if (!resp.ok) throw new ApiError(path, resp.status, (body && body.error) || `HTTP ${resp.status}`);
  if (body.truncated_reason) DS.truncations.push(`GET ${path}: ${body.truncated_reason}`);
  return body.data;
};

// What the answers of the view being drawn left out (their
// X-Dropscope-Truncated headers); the router empties it for each view and
// shows it above the view.
DS.truncations = [];

// An element's listeners live in its _on (type -> function) behind one
// dispatcher per type, so that patching a shown element (patch.js) gives it
// the handlers of the view drawn last, with that view's data.
function dispatch(e) {
  const f = this._on && this._on[e.type];
  if (f) f.call(this, e);
}

function listen(el, type, f) {
  if (!(el._on ||= {})[type]) el.addEventListener(type, dispatch);
  el._on[type] = f;
}

DS.adoptHandlers = function (old, neu) {
  for (const type of Object.keys(old._on || {})) old._on[type] = null;
  for (const [type, f] of Object.entries(neu._on || {})) listen(old, type, f);
};

// h("a", {href: "#"}, "text", child...): an element; attributes starting
// with "on" are listeners, "dataset" an object of data-* values.
DS.h = function (tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) listen(el, k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
};

// The error box a view shows instead of a chart it could not draw.
DS.errorBox = function (err) {
  const where = err.path ? `GET ${err.path}` : "the page";
  const status = err.status ? ` answered ${err.status}` : " failed";
  return DS.h("div", { class: "error", role: "alert" }, DS.h("strong", {}, `${where}${status}: `),
    err.message);
};

// --- formatting -----------------------------------------------------------

// 2026-11-22T14:59:30.123Z (ms), as the CLI prints times; in the local
// zone 2026-11-22T15:59:30.123+01:00 (the header's toggle).
DS.fmtTime = function (ns) {
  if (ns === null || ns === undefined) return "–";
  return DS.rfc3339(ns, 3);
};

// 14:59:30.123, in the page's zone: for tables where the day is evident.
DS.fmtClock = (ns) => DS.rfc3339(ns, 3).slice(11, 23);

DS.fmtAgo = function (ns) {
  const s = Math.max(0, (Date.now() * 1e6 - ns) / 1e9);
  if (s < 90) return `${s.toFixed(0)} s ago`;
  if (s < 5400) return `${(s / 60).toFixed(0)} min ago`;
  if (s < 129600) return `${(s / 3600).toFixed(1)} h ago`;
  return `${(s / 86400).toFixed(1)} d ago`;
};

DS.fmtCount = function (n) {
  if (n === null || n === undefined) return "–";
  return Number(n).toLocaleString("en-US");
};

DS.fmtDuration = function (ns) {
  if (ns < 1e6) return `${(ns / 1e3).toFixed(0)} us`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(1)} ms`;
  if (ns < 120e9) return `${(ns / 1e9).toFixed(1)} s`;
  return `${(ns / 60e9).toFixed(1)} min`;
};

// --- the vocabulary ---------------------------------------------------------

// The API's words (GET /api/vocabulary), which app.js loads once before the
// first view: the page keeps no copy of them. DS.LAYERS: the drop layers in
// the order the receive path meets them; DS.PRECURSORS: the layers the API
// marks "precursor" (budget), whose counts are squeezes, not lost packets:
// drawn apart and never summed into drops; DS.SQUEEZES: the API's words for
// them; DS.LAYER_TEXT: each layer's meaning, bound and remedy; the duration
// units DS.parseDuration takes.
DS.LAYERS = [];
DS.PRECURSORS = [];
DS.SQUEEZES = "squeezes";
DS.LAYER_TEXT = {};
let unitNs = {};

DS.useVocabulary = function (vocabulary) {
  DS.LAYERS = vocabulary.layers.filter((l) => !l.precursor).map((l) => l.name);
  DS.PRECURSORS = vocabulary.layers.filter((l) => l.precursor).map((l) => l.name);
  DS.SQUEEZES = vocabulary.squeezes;
  DS.LAYER_TEXT = Object.fromEntries(vocabulary.layers.map((l) => [l.name, l]));
  unitNs = Object.fromEntries(vocabulary.durations.map((u) => [u.unit, u.ns]));
};

DS.isPrecursor = (layer) => DS.PRECURSORS.includes(layer);

// Each layer's colour in every chart and heatmap (a layer the API adds
// later is drawn grey until it gets one).
DS.LAYER_COLORS = {
  nic: "#d62728", budget: "#ff7f0e", backlog: "#bcbd22", qdisc: "#8c564b",
  proto: "#7f7f7f", listen: "#9467bd", socket: "#1f77b4", onload: "#17becf",
};

// --- the time range -------------------------------------------------------

// "15m" -> ns, or null when it is not a duration the API takes: a count
// from 1 and one of the API's units (common/ts.c's syntax).
DS.parseDuration = function (text) {
  const m = /^(\d+)([a-z]+)$/.exec(text || "");
  return m && Number(m[1]) >= 1 && Object.hasOwn(unitNs, m[2]) ? Number(m[1]) * unitNs[m[2]] : null;
};

// A range is either {since: "1h"} (ends now, refreshes) or {from, to} as
// the link or the user wrote them: RFC 3339, or what the page cannot read,
// which goes to the API as written (it takes more forms, and says what is
// wrong with the rest). rangeBounds gives [from_ns, to_ns] as numbers when
// the page can read both ends, else null.
DS.rangeBounds = function (range) {
  if (range.since) {
    const span = DS.parseDuration(range.since);
    const now = Date.now() * 1e6;
    return span === null ? null : [now - span, now];
  }
  const from = DS.parseNs(range.from), to = DS.parseNs(range.to);
  return from === null || to === null ? null : [Number(from), Number(to)];
};

// The range's parameters for the API: a time the page reads goes as its
// exact ns (with their unit: the API reads no bare number), whatever zone
// it was written in.
DS.rangeParams = function (range) {
  if (range.since) return { since: range.since };
  const exact = (text) => { const ns = DS.parseNs(text); return ns === null ? text : `${ns}ns`; };
  return { from: exact(range.from), to: exact(range.to) };
};

// The range as links write it: RFC 3339 in the page's zone, exact.
DS.linkRange = function (range) {
  if (range.since) return { since: range.since };
  const shown = (text) => { const ns = DS.parseNs(text); return ns === null ? text : DS.rfc3339(ns); };
  return { from: shown(range.from), to: shown(range.to) };
};

// A bucket size for drop histories: about `buckets` bars over the range,
// rounded to a step a person reads easily.
DS.stepFor = function (range, buckets = 60) {
  const b = DS.rangeBounds(range);
  const steps = ["1s", "2s", "5s", "10s", "30s", "1m", "5m", "10m", "30m", "1h", "3h", "6h", "1d"];
  if (!b) return "1m";
  const want = (b[1] - b[0]) / buckets;
  return steps.find((s) => DS.parseDuration(s) >= want) || "1d";
};
