// app.js: the router. The location hash holds the whole state of the page
// — view, its argument, the range and the view's own parameters — so a
// link can be shared: #/host/web1?since=1h,
// #/incidents?from=2026-11-22T14:00:00Z&to=2026-11-22T15:00:00Z&id=7,
// #/timeline?from=…&to=…&hosts=a,b. Times in links are RFC 3339 in the
// page's zone (time.js); a link of before, with ns, still opens and is
// rewritten so. Views are drawn again on every hash change and, for ranges
// that end now, every refresh interval while auto-refresh is on; a view
// drawn again at the same place (view and argument) updates the shown one
// in place (patch.js), so what the user opened stays open.
"use strict";

(function () {
  const DS = window.DS;
  // The refresh interval: 5 s, unless the setting dropscope.refresh_ms says
  // otherwise (the browser test shortens it to see refreshes quickly).
  const REFRESH_MS = Math.max(100, Number(localStorage.getItem("dropscope.refresh_ms")) || 5000);
  const DEFAULT_SINCE = "15m";
  const $ = (id) => document.getElementById(id);
  let timer = null, generation = 0, vocabulary = null, renders = 0;

  // The API's vocabulary (layers, duration units), asked for once before the
  // first view; asked again by the next render only if it failed.
  async function loadVocabulary() {
    if (vocabulary) return;
    const answer = await DS.get("/api/vocabulary");
    DS.useVocabulary(answer);
    vocabulary = answer;
  }

  // A value in the hash: ':', '+' and ',' stay readable (a fragment allows
  // them, and the hash is not parsed as a form: '+' is no space).
  const encode = (v) => encodeURIComponent(String(v)).replace(/%(3A|2B|2C)/gi, (m) => decodeURIComponent(m));

  function decode(text) {
    try {
      return decodeURIComponent(text);
    } catch (e) {
      return text; // a stray '%': taken as written
    }
  }

  function parseQuery(query) {
    const params = new URLSearchParams();
    for (const part of (query || "").split("&").filter(Boolean)) {
      const at = part.indexOf("=");
      params.append(decode(at < 0 ? part : part.slice(0, at)), at < 0 ? "" : decode(part.slice(at + 1)));
    }
    return params;
  }

  // The state in the hash: {view, arg, range, params}.
  function parseHash() {
    const hash = location.hash.replace(/^#\/?/, "");
    const at = hash.indexOf("?");
    const path = at < 0 ? hash : hash.slice(0, at);
    const [view, ...rest] = (path || "fleet").split("/");
    const params = parseQuery(at < 0 ? "" : hash.slice(at + 1));
    const range = params.has("from") || params.has("to")
      ? { from: params.get("from") || "", to: params.get("to") || "" }
      : { since: params.get("since") || DEFAULT_SINCE };
    return { view: view || "fleet", arg: rest.length ? decode(rest.join("/")) : null, range, params };
  }

  // The view's own parameters: all but the range's.
  const extraOf = (params) => Object.fromEntries([...params].filter(([k]) => !["since", "from", "to"].includes(k)));

  // The hash for a view, its argument, a range and extra parameters.
  DS.link = function (view, arg, range, extra = {}) {
    const q = Object.entries({ ...DS.linkRange(range), ...extra })
      .filter(([, v]) => v !== undefined && v !== null && v !== "")
      .map(([k, v]) => `${encode(k)}=${encode(v)}`).join("&");
    return `#/${view}${arg ? `/${encodeURIComponent(arg)}` : ""}?${q}`;
  };

  DS.navigate = function (view, arg, range, extra) {
    location.hash = DS.link(view, arg, range, extra);
  };

  // A link whose times are not written as the page writes them (ns, another
  // zone) is rewritten in place: same instants, no new history entry.
  function rewriteLink(state) {
    const { range } = state;
    if (range.since) return;
    const shown = DS.linkRange(range);
    if (shown.from === range.from && shown.to === range.to) return;
    history.replaceState(history.state, "", DS.link(state.view, state.arg, shown, extraOf(state.params)));
    state.range = shown;
  }

  // What each view keeps between its drawings at one place (view/argument):
  // the graphs a user opened, for instance.
  const kept = new Map();
  DS.viewState = (place) => kept.get(place) || kept.set(place, {}).get(place);

  // Makes [from_s, to_s] (a span selected on a time chart) the range: a new
  // history entry, so Back returns to the range before.
  DS.zoomTo = function (fromS, toS) {
    const ns = (s) => BigInt(Math.round(s * 1e3)) * 1000000n; // ms: what a pixel can mean
    const state = parseHash();
    DS.navigate(state.view, state.arg, { from: DS.rfc3339(ns(fromS)), to: DS.rfc3339(ns(toS)) }, extraOf(state.params));
  };

  // Three times the range around its middle (a range that ends now stays
  // one: three times as long).
  function zoomOut() {
    const state = parseHash();
    let range;
    const m = /^(\d+)([a-z]+)$/.exec(state.range.since || "");
    if (m) range = { since: `${Number(m[1]) * 3}${m[2]}` };
    else {
      const from = DS.parseNs(state.range.from), to = DS.parseNs(state.range.to);
      if (from === null || to === null) return;
      const now = BigInt(Date.now()) * 1000000n, span = to - from;
      const end = to + span < now ? to + span : now;
      range = { from: DS.rfc3339(end - 3n * span), to: DS.rfc3339(end) };
    }
    DS.navigate(state.view, state.arg, range, extraOf(state.params));
  }

  function showRange(range) {
    const preset = $("range-preset");
    if (range.since && DS.parseDuration(range.since) &&
        ![...preset.options].some((o) => o.value === range.since)) { // a link with another span
      preset.insertBefore(new Option(`last ${range.since}`, range.since), preset.lastElementChild);
    }
    const known = [...preset.options].some((o) => o.value === range.since);
    preset.value = range.since && known ? range.since : "custom";
    $("range-custom").hidden = preset.value !== "custom";
    if (!range.since) {
      $("range-from").value = range.from;
      $("range-to").value = range.to;
    }
  }

  // Applies the range form: the same view and parameters, another range.
  function onRangeSubmit(e) {
    e.preventDefault();
    const state = parseHash();
    const v = $("range-preset").value;
    const range = v === "custom" ? { from: $("range-from").value.trim(), to: $("range-to").value.trim() } : { since: v };
    DS.navigate(state.view, state.arg, range, extraOf(state.params));
  }

  function onPresetChange() {
    const custom = $("range-preset").value === "custom";
    $("range-custom").hidden = !custom;
    if (custom && !$("range-from").value) { // start from the range just shown
      const b = DS.rangeBounds(parseHash().range);
      if (b) {
        $("range-from").value = DS.rfc3339(DS.toNs(b[0]));
        $("range-to").value = DS.rfc3339(DS.toNs(b[1]));
      }
    } else if (!custom) {
      $("range-form-submit").click();
    }
  }

  // The zone toggle: every time is written again, the link's too.
  function onZoneChange() {
    DS.setZone($("zone").value);
    render({ fresh: true });
  }

  // Puts root (the view just drawn) on the page: in place of the shown view
  // at the same place, else instead of it.
  function show(root, place, fresh) {
    const main = $("view"), shown = main.firstElementChild;
    root.dataset.place = place;
    if (shown && shown.dataset.place === place) DS.patch(shown, root);
    else {
      DS.destroyCharts(shown);
      main.replaceChildren(root);
    }
    DS.drawCharts(main, fresh);
  }

  // Draws the view of the hash. fresh: charts drawn anew (the zone changed).
  async function render({ fresh = false } = {}) {
    const mine = ++generation;
    clearTimeout(timer);
    const state = parseHash();
    rewriteLink(state);
    const view = DS.views[state.view];
    for (const a of document.querySelectorAll("nav a")) {
      a.classList.toggle("active", a.dataset.view === state.view || (state.view === "host" && a.dataset.view === "fleet"));
      a.href = DS.link(a.dataset.view, null, state.range);
    }
    $("status").textContent = "loading…";
    const root = document.createElement("div");
    root.className = `view view-${state.view}`;
    let failed = null;
    DS.truncations = [];
    try {
      await loadVocabulary();
      showRange(state.range); // durations are read with the API's units
      if (!view) throw new DS.ApiError("", 0, `no view "${state.view}" (fleet, host/NAME, incidents, timeline, explain/SERIES)`);
      await view(root, { ...state, place: `${state.view}/${state.arg}` });
    } catch (err) {
      failed = err;
    }
    if (mine !== generation) return; // a newer render has started: this one is not shown
    if (failed) {
      root.replaceChildren(DS.errorBox(failed));
      if (!(failed instanceof DS.ApiError)) console.warn(failed); // a bug of the page: keep its stack
    } else if (DS.truncations.length) { // capped answers: the view shows part of the range
      root.prepend(DS.h("div", { class: "truncated", role: "status", dataset: { key: "truncated" } },
        DS.h("strong", {}, "Incomplete: "), DS.truncations.join(" · ")));
    }
    show(root, `${state.view}/${state.arg}`, fresh);
    document.body.dataset.view = state.view;
    document.body.dataset.state = failed ? "error" : "ready";
    document.body.dataset.renders = String(++renders);
    $("status").textContent = failed ? "" : `updated ${DS.fmtClock(Date.now() * 1e6).slice(0, 8)}${DS.zone === "utc" ? " UTC" : ""}`;
    if (state.range.since && $("auto-refresh").checked && !failed) timer = setTimeout(render, REFRESH_MS);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const submit = document.querySelector("#range button[type=submit]");
    submit.id = "range-form-submit";
    $("range").addEventListener("submit", onRangeSubmit);
    $("range-preset").addEventListener("change", onPresetChange);
    $("auto-refresh").addEventListener("change", () => render());
    $("zone").value = DS.zone;
    $("zone").addEventListener("change", onZoneChange);
    $("zoom-out").addEventListener("click", zoomOut);
    $("auto-refresh").parentElement.title = `Reload the view every ${REFRESH_MS / 1000} s (for ranges that end now)`;
    // The theme follows the system's; the charts' colours are drawn in.
    matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => DS.drawCharts(undefined, true));
    window.addEventListener("hashchange", () => render());
    render();
  });
})();
