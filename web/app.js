// app.js: the router. The location hash holds the whole state of the page
// — view, its argument, the range and the view's own parameters — so a
// link can be shared: #/host/web1?since=1h, #/incidents?from=…&to=…&id=7,
// #/timeline?from=…&to=…&hosts=a,b. Views redraw on every hash change and,
// for ranges that end now, every REFRESH_MS while auto-refresh is on.
"use strict";

(function () {
  const DS = window.DS;
  const REFRESH_MS = 5000;
  const DEFAULT_SINCE = "15m";
  const $ = (id) => document.getElementById(id);
  let timer = null, generation = 0, vocabulary = null;

  // The API's vocabulary (layers, duration units), asked for once before the
  // first view; asked again by the next render only if it failed.
  async function loadVocabulary() {
    if (vocabulary) return;
    const answer = await DS.get("/api/vocabulary");
    DS.useVocabulary(answer);
    vocabulary = answer;
  }

  // The state in the hash: {view, arg, range, params}.
  function parseHash() {
    const hash = location.hash.replace(/^#\/?/, "");
    const [path, query] = hash.split("?");
    const [view, ...rest] = (path || "fleet").split("/");
    const params = new URLSearchParams(query || "");
    const range = params.has("from") || params.has("to")
      ? { from: params.get("from") || "", to: params.get("to") || "" }
      : { since: params.get("since") || DEFAULT_SINCE };
    return { view: view || "fleet", arg: rest.length ? decodeURIComponent(rest.join("/")) : null, range, params };
  }

  // The hash for a view, its argument, a range and extra parameters.
  DS.link = function (view, arg, range, extra = {}) {
    const q = new URLSearchParams(DS.rangeParams(range));
    for (const [k, v] of Object.entries(extra)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
    return `#/${view}${arg ? `/${encodeURIComponent(arg)}` : ""}?${q}`;
  };

  DS.navigate = function (view, arg, range, extra) {
    location.hash = DS.link(view, arg, range, extra);
  };

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
    const extra = Object.fromEntries([...state.params].filter(([k]) => !["since", "from", "to"].includes(k)));
    DS.navigate(state.view, state.arg, range, extra);
  }

  function onPresetChange() {
    const custom = $("range-preset").value === "custom";
    $("range-custom").hidden = !custom;
    if (custom && !$("range-from").value) { // start from the range just shown
      const b = DS.rangeBounds(parseHash().range);
      if (b) {
        $("range-from").value = DS.fmtTime(b[0]);
        $("range-to").value = DS.fmtTime(b[1]);
      }
    } else if (!custom) {
      $("range-form-submit").click();
    }
  }

  async function render() {
    const mine = ++generation;
    clearTimeout(timer);
    const state = parseHash();
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
      await view(root, state);
    } catch (err) {
      failed = err;
    }
    if (mine !== generation) { // a newer render has started: this one is not shown
      DS.destroyCharts(root);
      return;
    }
    const main = $("view");
    if (failed) {
      DS.destroyCharts(root);
      root.replaceChildren(DS.errorBox(failed));
      if (!(failed instanceof DS.ApiError)) console.warn(failed); // a bug of the page: keep its stack
    } else if (DS.truncations.length) { // capped answers: the view shows part of the range
      root.prepend(DS.h("div", { class: "truncated", role: "status" },
        DS.h("strong", {}, "Incomplete: "), DS.truncations.join(" · ")));
    }
    DS.destroyCharts(main.querySelector(".view"));
    main.replaceChildren(root);
    DS.fitCharts(); // they were drawn before the view was attached
    document.body.dataset.view = state.view;
    document.body.dataset.state = failed ? "error" : "ready";
    $("status").textContent = failed ? "" : `updated ${new Date().toISOString().slice(11, 19)} UTC`;
    if (state.range.since && $("auto-refresh").checked && !failed) timer = setTimeout(render, REFRESH_MS);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const submit = document.querySelector("#range button[type=submit]");
    submit.id = "range-form-submit";
    $("range").addEventListener("submit", onRangeSubmit);
    $("range-preset").addEventListener("change", onPresetChange);
    $("auto-refresh").addEventListener("change", render);
    window.addEventListener("hashchange", render);
    render();
  });
})();
