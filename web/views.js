// views.js: the four views of the four questions dropscope answers (README), and the
// explain view a finding's series links to. Each is an async
// function (root, ctx) that reads the JSON API for ctx.range and fills
// root; an API error propagates to app.js, which shows it in place of the
// view. Totals are the API's (/api/totals, /api/top), never sums of a list
// the API may have cut; charts leave out the drops of counters marked
// "overlap" (they repeat a more specific counter), as the totals do. The
// precursor layers' rows (the API's vocabulary marks them: budget) are
// squeezes, not lost packets: drawn in a chart of their own, never stacked
// into the drops.
"use strict";

(function () {
  const DS = window.DS, h = DS.h;
  const views = (DS.views = {});
  const HOST_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"];

  const hostLink = (name, range) => h("a", { href: DS.link("host", name, range) }, name);

  // Appends children to a view's root, skipping the absent ones.
  const fill = (root, ...children) => root.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));

  function section(title, ...body) {
    return h("section", {}, h("h2", {}, title), ...body);
  }

  function table(headers, rows, attrs = {}) {
    return h("table", attrs, h("thead", {}, h("tr", {}, headers.map((c) => h("th", {}, c)))),
      h("tbody", {}, rows));
  }

  // A row that does something when clicked: reachable with Tab and done
  // with Enter or Space too, as a button is.
  function actionRow(attrs, action, ...cells) {
    const onkeydown = (e) => {
      if (e.target !== e.currentTarget || (e.key !== "Enter" && e.key !== " ")) return;
      e.preventDefault(); // Space would scroll
      action(e);
    };
    return h("tr", { ...attrs, tabindex: 0, role: "button", onclick: action, onkeydown }, ...cells);
  }

  // A layer's name in its colour; the API's words on it when hovered.
  function layerBadge(layer) {
    const t = DS.LAYER_TEXT[layer];
    return h("span", {
      class: "layer", style: `background:${DS.LAYER_COLORS[layer] || "#999"}`,
      title: t ? `${t.meaning}. Bounded by ${t.setting}.` : undefined,
    }, layer);
  }

  // Drop rows (already bucketed by the API's step) -> per bucket, and per
  // bucket and host, sums by layer of the non-overlapping counters: what
  // the charts and the heatmap draw; the precursor layers' rows into
  // squeezes (per bucket) only.
  function foldDrops(rows, stepNs, bounds) {
    const buckets = [];
    if (bounds) {
      for (let t = Math.floor(bounds[0] / stepNs) * stepNs; t < bounds[1]; t += stepNs) buckets.push(t);
    }
    const index = new Map(buckets.map((t, i) => [t, i]));
    const byLayer = {}, cells = {}, squeezes = {};
    for (const r of rows) {
      if (r.overlap) continue;
      let i = index.get(r.ts_ns);
      if (i === undefined) { // a bucket outside what we laid out (clock skew): add it
        buckets.push(r.ts_ns);
        buckets.sort((a, b) => a - b);
        index.clear();
        buckets.forEach((t, k) => index.set(t, k));
        for (const per of [byLayer, cells, squeezes]) {
          for (const v of Object.values(per)) v.splice(index.get(r.ts_ns), 0, 0);
        }
        i = index.get(r.ts_ns);
      }
      if (DS.isPrecursor(r.layer)) {
        (squeezes[r.layer] ||= buckets.map(() => 0))[i] += r.delta;
        continue;
      }
      (byLayer[r.layer] ||= buckets.map(() => 0))[i] += r.delta;
      const key = `${r.host}\u0000${r.layer}`;
      (cells[key] ||= buckets.map(() => 0))[i] += r.delta;
    }
    return { buckets, byLayer, cells, squeezes };
  }

  // The squeezes' chart: bars of their own, in squeezes, beside the drops'.
  function squeezeChart(el, folded, range) {
    DS.stackedBars(el, {
      times: folded.buckets.map((t) => t / 1e9), ylabel: "squeezes", range,
      layers: DS.PRECURSORS.filter((l) => folded.squeezes[l]).map((l) => ({
        label: `${l} (squeezes)`, color: DS.LAYER_COLORS[l], values: folded.squeezes[l],
      })),
    });
  }

  // "1,234 squeezes (softirq budget ran out: a precursor, not a loss)", in the API's words.
  const squeezeWords = (n) => `${DS.fmtCount(n)} ${DS.SQUEEZES}`;

  function layerSeries(byLayer) {
    return DS.LAYERS.filter((l) => byLayer[l]).map((l) => ({
      label: l, color: DS.LAYER_COLORS[l], values: byLayer[l],
    }));
  }

  const layerSummary = (layers) =>
    DS.LAYERS.filter((l) => layers[l]).map((l) => `${l} ${DS.fmtCount(layers[l])}`).join(" · ");

  // --- fleet ------------------------------------------------------------

  // A heatmap cell's colour: its top layer's, more opaque for more drops
  // (log scale, so that a cell of a few drops still shows beside the worst).
  function shade(layer, n, max) {
    const v = parseInt((DS.LAYER_COLORS[layer] || "#999999").slice(1), 16);
    const alpha = 0.25 + 0.75 * Math.log1p(n) / Math.log1p(max);
    return `rgba(${v >> 16},${(v >> 8) & 255},${v & 255},${alpha.toFixed(2)})`;
  }

  // What the heatmap's colours mean: a swatch per layer that tops a cell,
  // and the shades of one of them for drop counts from 1 to the largest
  // cell's (log-spaced: the scale's own steps).
  function heatLegend(layers, max) {
    const swatch = (style) => h("span", { class: "swatch", style });
    const steps = [...new Set([0, 0.25, 0.5, 0.75, 1].map((f) =>
      Math.max(1, Math.round(Math.expm1(f * Math.log1p(max))))))];
    const example = layers[0];
    return h("div", { class: "heat-legend", id: "heat-legend" },
      h("span", { class: "legend-part" }, "Colour: the layer that dropped most in the cell ",
        layers.map((l) => h("span", { class: "legend-item", dataset: { layer: l } }, swatch(`background:${DS.LAYER_COLORS[l] || "#999"}`), l)),
        h("span", { class: "legend-item" }, swatch(""), "no drops")),
      example ? h("span", { class: "legend-part" }, "Shade: drops in the cell (log scale) ",
        steps.map((n) => h("span", { class: "legend-item shade", dataset: { drops: String(n) } },
          swatch(`background:${shade(example, n, max)}`), DS.fmtCount(n)))) : null,
      h("span", { class: "legend-part" }, h("span", { class: "incident-mark" }, "▼"), " incident in the bucket"));
  }

  // Hosts x time: each cell is coloured by the layer that dropped most in
  // it, darker for more drops (log scale); a row of marks above shows the
  // buckets with incidents; the legend below says what the colours mean.
  function heatmap(hosts, folded, incidents, stepNs, range) {
    const { buckets, cells } = folded;
    let max = 1;
    for (const v of Object.values(cells)) for (const n of v) max = Math.max(max, n);
    const tops = new Set();
    const incidentAt = new Map();
    for (const c of incidents) {
      const b = Math.floor(c.start_ns / stepNs) * stepNs;
      incidentAt.set(b, (incidentAt.get(b) || []).concat(c));
    }
    const labelEvery = Math.max(1, Math.ceil(buckets.length / 6));
    const head = h("tr", {}, h("th", { class: "host" }, "host"),
      buckets.map((t, i) => h("th", { class: "tick" }, i % labelEvery === 0 ? DS.fmtClock(t).slice(0, 8) : "")));
    const marks = h("tr", { class: "incident-row" }, h("td", { class: "host" }, "incidents"),
      buckets.map((t) => {
        const list = incidentAt.get(t);
        return h("td", list ? {
          class: "incident-mark",
          title: list.map((c) => `incident ${c.id}: ${c.hosts.join(", ")}`).join("\n"),
        } : {}, list ? "▼" : "");
      }));
    const rows = hosts.map((host) => h("tr", { dataset: { host, key: host } }, h("td", { class: "host" }, hostLink(host, range)),
      buckets.map((t, i) => {
        let total = 0, top = null, topN = 0;
        const parts = [];
        for (const l of DS.LAYERS) {
          const n = (cells[`${host}\u0000${l}`] || [])[i] || 0;
          if (!n) continue;
          total += n;
          parts.push(`${l} ${DS.fmtCount(n)}`);
          if (n > topN) { top = l; topN = n; }
        }
        if (!total) return h("td", { class: "cell" });
        tops.add(top);
        return h("td", {
          class: "cell hot", dataset: { layer: top, drops: String(total) },
          style: `background:${shade(top, total, max)}`,
          title: `${host} at ${DS.fmtTime(t)}: ${parts.join(", ")}`,
        });
      })));
    return [h("table", { class: "heatmap", id: "heatmap" }, h("thead", {}, head, marks), h("tbody", {}, rows)),
      heatLegend(DS.LAYERS.filter((l) => tops.has(l)), max)];
  }

  views.fleet = async function (root, { range }) {
    const step = DS.stepFor(range), stepNs = DS.parseDuration(step);
    const p = DS.rangeParams(range);
    const hostsAsked = DS.get("/api/hosts");
    const [hosts, drops, incidents, totals, top] = await Promise.all([
      hostsAsked, DS.get("/api/drops", { ...p, step }), DS.get("/api/incidents", p),
      DS.get("/api/totals", p),
      // every host's drops by layer (those without drops are left out)
      hostsAsked.then((list) => DS.get("/api/top", { ...p, limit: Math.max(1, list.length) }))]);
    const bounds = DS.rangeBounds(range);
    const folded = foldDrops(drops, stepNs, bounds);
    const byHost = Object.fromEntries(top.map((x) => [x.host, x]));
    const names = hosts.map((x) => x.host).sort((a, b) =>
      ((byHost[b] || {}).drops || 0) - ((byHost[a] || {}).drops || 0) || a.localeCompare(b));
    const inIncidents = {};
    for (const c of incidents) for (const n of c.hosts) inIncidents[n] = (inIncidents[n] || 0) + 1;
    const total = totals.total; // every drop of the range, however many rows a list is cut to

    const chart = h("div", { class: "chart", id: "fleet-drops" });
    const squeezed = h("div", { class: "chart", id: "fleet-squeezes" });
    fill(root, 
      h("p", { class: "summary" }, `${hosts.length} hosts, ${DS.fmtCount(total)} drops and ` +
        `${incidents.length} incidents in the range (buckets of ${step}).`,
        totals.squeezes ? h("span", { class: "squeezes" }, ` Also ${squeezeWords(totals.squeezes)}.`) : null),
      section("Drops by layer, all hosts", total ? chart : h("p", { class: "empty" }, "No drops in this range."),
        incidents.length ? h("p", { class: "note" }, "Dashed lines: incidents (bursts on several hosts at the same instant).") : null),
      totals.squeezes ? section("Squeezes, all hosts", h("p", { class: "note" }, `${DS.SQUEEZES}: not in the drops above.`), squeezed) : null,
      section("Hosts × time", names.length ? heatmap(names, folded, incidents, stepNs, range)
        : h("p", { class: "empty" }, "No host has reported yet. Start a collector with --connect.")),
      section("Hosts", table(["host", "last seen", "backend", "interval", "drops", "by layer", "squeezes", "incidents", "clock ±", "spool lost", "rejected", "aggregator"],
        names.map((n) => {
          const x = hosts.find((y) => y.host === n), d = byHost[n] || { drops: 0, layers: {}, squeezes: 0 };
          return h("tr", { dataset: { host: n, key: n } },
            h("td", {}, hostLink(n, range)),
            h("td", { title: DS.fmtTime(x.last_seen_ns) }, DS.fmtAgo(x.last_seen_ns)),
            h("td", x.backend_note ? { title: x.backend_note, class: "fallback" } : {},
              x.backend, x.backend_note ? " ⚠" : ""),
            h("td", {}, DS.fmtDuration(x.interval_ns)),
            h("td", { class: "num" }, DS.fmtCount(d.drops)),
            h("td", { class: "layers" }, DS.LAYERS.filter((l) => d.layers[l]).map((l) =>
              h("span", { class: "layer-count" }, layerBadge(l), " ", DS.fmtCount(d.layers[l])))),
            h("td", { class: "num squeezes", title: DS.SQUEEZES }, DS.fmtCount(d.squeezes || 0)),
            h("td", { class: "num" }, DS.fmtCount(inIncidents[n] || 0)),
            h("td", {}, x.clock ? DS.fmtDuration(x.clock.uncertainty_ns) : "–"),
            h("td", { class: "num" }, DS.fmtCount(x.spool_dropped.messages)),
            h("td", { class: "num rejected", title: `${DS.fmtCount(x.spool_rejected.samples)} samples refused by the aggregator` },
              DS.fmtCount(x.spool_rejected.messages)),
            h("td", { class: "aggregator", title: "the aggregator that stored its latest message (--name)" },
              x.aggregator || "–"));
        }), { id: "hosts-table" })));
    if (total) {
      const b = bounds || [folded.buckets[0], folded.buckets[folded.buckets.length - 1] + stepNs];
      DS.stackedBars(chart, {
        times: folded.buckets.map((t) => t / 1e9), layers: layerSeries(folded.byLayer),
        marks: incidents.map((c) => c.start_ns / 1e9), range: [b[0] / 1e9, b[1] / 1e9],
      });
    }
    if (totals.squeezes) {
      const b = bounds || [folded.buckets[0], folded.buckets[folded.buckets.length - 1] + stepNs];
      squeezeChart(squeezed, folded, [b[0] / 1e9, b[1] / 1e9]);
    }
  };

  // --- host ---------------------------------------------------------------

  // A series name linked to what it counts (the explain view).
  const seriesLink = (series, range) =>
    h("a", { class: "series", href: DS.link("explain", series, range), title: "what it counts, what bounds it" },
      h("code", {}, series));

  // What the aggregator says of a series (GET /api/explain), asked for once
  // a session: the text is the counter reference's, fixed in the binary.
  const explanations = new Map();

  function explainSeries(series) {
    if (!explanations.has(series)) {
      const asked = DS.get("/api/explain", { series });
      explanations.set(series, asked);
      asked.then((x) => explanations.set(series, x), () => explanations.delete(series));
    }
    return explanations.get(series);
  }

  // The explanation's text: what the series counts, its bound, the remedy.
  function explanationText(x) {
    return h("dl", { class: "explain" },
      h("dt", {}, "Meaning"), h("dd", { class: "meaning" }, x.meaning),
      x.drop || x.precursor ? [h("dt", {}, "Bounded by"), h("dd", { class: "setting" }, x.setting),
        h("dt", {}, "Remedy"), h("dd", { class: "remedy" }, x.remedy)] : null);
  }

  // A finding's series with its explanation in place: opening it shows
  // what the aggregator says of the series, under the finding (the link
  // opens the same as a page of its own). rest: what follows the name.
  function explainedSeries(series, range, ...rest) {
    const known = explanations.get(series);
    const body = h("div", { class: "explanation" }, known && !(known instanceof Promise) ? explanationText(known) : null);
    const load = async (e) => {
      const box = e.currentTarget.querySelector(".explanation");
      if (!e.currentTarget.open || box.childElementCount) return;
      box.textContent = "…";
      try {
        box.replaceChildren(explanationText(await explainSeries(series)));
      } catch (err) {
        box.replaceChildren(DS.errorBox(err));
      }
    };
    return h("details", { class: "explained", dataset: { series, key: series }, ontoggle: load },
      h("summary", { title: "what it counts, what bounds it, what to do" }, seriesLink(series, range), ...rest), body);
  }

  // A finding (noun "drops"), or a precursor's warning (noun "squeezes":
  // no packet lost, its counts in the API's words).
  // An upstream finding's drops are packets the host's probes missed while
  // no layer of the host dropped: lost before it.
  function findingTitle(f, drops) {
    if (f.layer === "upstream") return ` ${DS.fmtCount(f.drops)} packets lost upstream, before this host`;
    return drops ? ` ${DS.fmtCount(f.drops)} drops at the ${f.layer} layer`
      : ` Warning: ${squeezeWords(f.squeezes)} at the ${f.layer} layer`;
  }

  const gapItem = (g) => h("li", { class: "gap" },
    `${DS.fmtTime(g.start_ns)}: the probe of ${g.group}:${g.port} missed ${DS.fmtCount(g.missing)} ` +
    `(sequence ${g.first_seq}…${g.last_seq})`);

  function finding(f, range, noun = "drops") {
    const ev = f.evidence, drops = noun === "drops";
    return h("div", { class: drops ? "finding" : "finding precursor", dataset: { layer: f.layer } },
      h("h3", {}, layerBadge(f.layer), findingTitle(f, drops)),
      h("p", { class: "when" }, `${DS.fmtTime(f.first_ns)} … ${DS.fmtTime(f.last_ns)}`),
      h("p", {}, h("strong", {}, "Limit: "), f.limit),
      h("p", { class: "remedy" }, h("strong", {}, "Remedy: "), f.remedy),
      f.resolved ? h("p", { class: "resolved" }, h("strong", {}, "Resolved: "), f.resolved) : null,
      h("ul", { class: "evidence" },
        ev.counters.map((c) => h("li", {}, explainedSeries(c.series, range, c.owner ? ` held by ${c.owner}` : "",
          ` ${DS.fmtCount(c[noun])}`,
          c.overlap ? " (overlaps a more specific counter)" : ""))),
        ev.bursts_before ? h("li", {}, `${ev.bursts_before} bursts in the second before or during the ${noun}`) : null,
        ev.setting_changes.map((s) => h("li", {}, `${DS.fmtTime(s.ts_ns)}: `, seriesLink(s.series, range),
          ` ${s.from} → ${s.to} (${noun} before ${DS.fmtCount(s[`${noun}_before`])}, after ${DS.fmtCount(s[`${noun}_after`])})`)),
        (ev.gaps || []).slice(0, 20).map(gapItem),
        (ev.gaps || []).length > 20 ? h("li", {}, `and ${ev.gaps.length - 20} more gaps`) : null));
  }

  // A burst's name across refreshes: its interface, direction and exact start.
  const burstKey = (b) => `${b.iface}/${b.direction}/${DS.exactNs(b, "start_ns")}`;

  // A burst's row: it opens and closes the burst's graph (aria-expanded).
  function burstRow(b, open, onToggle) {
    const drops = Object.entries(b.drops).map(([l, n]) => `${l} ${DS.fmtCount(n)}`).join(", ");
    return actionRow({ class: "burst", "aria-expanded": String(open), title: "show or hide its 1 ms I/O graph",
      dataset: { start: String(DS.exactNs(b, "start_ns")), key: burstKey(b) } }, () => onToggle(b),
      h("td", {}, DS.fmtTime(b.start_ns)),
      h("td", {}, `${b.iface} ${b.direction}`),
      h("td", { class: "num" }, DS.fmtDuration(b.end_ns - b.start_ns)),
      h("td", { class: "num" }, b.peak_per_ms.toFixed(0)),
      h("td", { class: "num" }, DS.fmtCount(b.packets)),
      h("td", {}, drops || "none"));
  }

  function burstChart(b) {
    const el = h("div", { class: "chart burst-chart", dataset: { start: String(DS.exactNs(b, "start_ns")), iface: b.iface } });
    DS.burstProfile(el, b);
    return h("figure", { class: "burst-figure", dataset: { key: burstKey(b) } }, el,
      h("figcaption", {}, `${DS.fmtTime(b.start_ns)} ${b.iface} ${b.direction}: ${DS.fmtCount(b.packets)} packets, ` +
        `peak ${b.peak_per_ms.toFixed(0)}/ms, threshold ${b.threshold_per_ms}/ms` +
        (b.drops_total ? `, ${DS.fmtCount(b.drops_total)} drops after` : "") +
        (b.profile_complete ? "" : " (profile cut short: the recorder had moved on)")));
  }

  // The bursts whose graphs are shown: those the user opened (the last
  // opened first), then the newest six but those the user closed. st: the
  // view's state, kept across refreshes.
  function shownBursts(newest, st) {
    const byKey = new Map(newest.map((b) => [burstKey(b), b]));
    const defaults = newest.slice(0, 6).map(burstKey).filter((k) => !st.opened.includes(k) && !st.closed.has(k));
    return [...st.opened.filter((k) => byKey.has(k)), ...defaults].map((k) => byKey.get(k));
  }

  const burstGraphs = (shown) => h("div", { class: "burst-graphs", id: "burst-graphs" }, shown.map(burstChart));

  // Opens or closes a burst's graph: the shown graphs and rows are updated
  // in place (the page's, found by id: this view may have been drawn again
  // since).
  function toggleBurst(b, newest, st) {
    const k = burstKey(b);
    const open = !shownBursts(newest, st).includes(b);
    st.opened = st.opened.filter((x) => x !== k);
    if (open) {
      st.opened.unshift(k);
      st.closed.delete(k);
    } else st.closed.add(k);
    const list = shownBursts(newest, st), shown = new Set(list.map(burstKey));
    const live = document.getElementById("burst-graphs");
    DS.patch(live, burstGraphs(list));
    DS.drawCharts(live);
    for (const tr of document.querySelectorAll("#bursts-table tr.burst")) {
      tr.setAttribute("aria-expanded", String(shown.has(tr.dataset.key)));
    }
  }

  // The rate histograms of an interface (per interval: max, p99, p50
  // packets per tick) with the burst threshold.
  async function rateChart(host, iface, range) {
    const names = ["max", "p99", "p50", "threshold"];
    const rows = await Promise.all(names.map((n) =>
      DS.get("/api/series", { host, series: `rate/${iface}/rx_${n}`, ...DS.rangeParams(range) })));
    // Gauges are sent when they change: each value holds until the next.
    const times = [...new Set(rows.flat().map((r) => r.ts_ns))].sort((a, b) => a - b);
    const held = (list) => {
      let k = 0, v = null;
      return times.map((t) => {
        while (k < list.length && list[k].ts_ns <= t) v = list[k++].value;
        return v;
      });
    };
    const x = times.map((t) => t / 1e9);
    const el = h("div", { class: "chart rate-chart", dataset: { iface, key: iface } });
    const colors = ["#d62728", "#ff7f0e", "#1f77b4", "#7f7f7f"];
    DS.lines(el, {
      x, ylabel: "packets/tick",
      series: names.map((n, i) => ({ label: n, color: colors[i], values: held(rows[i]), dash: n === "threshold" ? [4, 4] : undefined })),
    });
    return h("div", {}, h("h3", {}, `${iface} rx, packets per tick`), el);
  }

  views.host = async function (root, { range, arg: host, place }) {
    const step = DS.stepFor(range), stepNs = DS.parseDuration(step);
    const p = DS.rangeParams(range);
    if (!host) throw new DS.ApiError("", 0, "no host named: open a host from the fleet view");
    const [drops, diag, bursts, series, settings, totals, gaps] = await Promise.all([
      DS.get("/api/drops", { ...p, host, step }), DS.get("/api/diagnose", { ...p, host }),
      DS.get("/api/bursts", { ...p, host, limit: 2000 }), DS.get("/api/series", { host }),
      DS.get("/api/settings", { ...p, host }), DS.get("/api/totals", { ...p, host }),
      DS.get("/api/gaps", { ...p, host, limit: 500 })]);
    const bounds = DS.rangeBounds(range);
    const folded = foldDrops(drops, stepNs, bounds);
    const ifaces = series.map((s) => /^rate\/(.+)\/rx_max$/.exec(s.series)).filter(Boolean).map((m) => m[1]);
    const shown = (ifaces.filter((i) => i !== "lo").length ? ifaces.filter((i) => i !== "lo") : ifaces).slice(0, 4);
    const rates = await Promise.all(shown.map((i) => rateChart(host, i, range)));

    const dropChart = h("div", { class: "chart", id: "host-drops" });
    const squeezed = h("div", { class: "chart", id: "host-squeezes" });
    const total = totals.total;
    const precursors = diag.precursors || [];
    const newest = [...bursts].sort((a, b) => b.start_ns - a.start_ns);
    const st = DS.viewState(place);
    st.opened ||= [];
    st.closed ||= new Set();
    const opened = new Set(shownBursts(newest, st));
    const toggle = (b) => toggleBurst(b, newest, st);
    fill(root, 
      h("h1", {}, host),
      h("p", { class: "summary" }, `${DS.fmtCount(total)} drops (${layerSummary(totals.layers) || "none"}), ` +
        `${bursts.length} bursts in the range.`,
        totals.squeezes ? h("span", { class: "squeezes" }, ` Also ${squeezeWords(totals.squeezes)}.`) : null),
      section("Diagnosis", diag.findings.length ? h("div", { id: "findings" }, diag.findings.map((f) => finding(f, range)))
        : h("p", { class: "empty" }, "No drops in this range: nothing to diagnose."),
        precursors.length ? h("div", { id: "precursors" }, precursors.map((f) => finding(f, range, "squeezes"))) : null),
      section("Drops by layer", total ? dropChart : h("p", { class: "empty" }, "No drops in this range.")),
      totals.squeezes ? section("Squeezes", h("p", { class: "note" }, `${DS.SQUEEZES}: not in the drops above.`), squeezed) : null,
      section("Bursts", bursts.length ? [
        h("p", { class: "note" }, "The 1 ms I/O graph of each burst, from the collector's flight recorder " +
          "(the newest six, and those you open: click a row, or Enter on it, to show or hide its graph)."),
        burstGraphs([...opened]),
        h("div", { class: "scroll", id: "bursts-scroll" }, table(["start", "interface", "length", "peak/ms", "packets", "drops after"],
          newest.slice(0, 500).map((b) => burstRow(b, opened.has(b), toggle)),
          { id: "bursts-table" })),
        newest.length > 500 ? h("p", { class: "note" }, `Showing the newest 500 of ${newest.length}.`) : null,
      ] : h("p", { class: "empty" }, "No bursts in this range.")),
      gaps.length ? section("Sequence gaps", h("p", { class: "note" },
        "Numbers the collector's probes (--probe) never received, newest last; the diagnosis says where they were lost."),
      h("div", { class: "scroll" }, table(["start", "probe", "length", "missing", "first", "last"],
        gaps.map((g) => h("tr", { class: "gap" }, h("td", {}, DS.fmtTime(g.start_ns)), h("td", {}, `${g.group}:${g.port}`),
          h("td", { class: "num" }, DS.fmtDuration(g.end_ns - g.start_ns)), h("td", { class: "num" }, DS.fmtCount(g.missing)),
          h("td", { class: "num" }, String(g.first_seq)), h("td", { class: "num" }, String(g.last_seq)))),
        { id: "gaps-table" }))) : null,
      section("Rate histogram", rates.length ? rates : h("p", { class: "empty" }, "No rate series yet.")),
      section("Settings", table(["setting", "value", "since", "changes in the range"],
        settings.map((s) => h("tr", { class: s.changes.length ? "changed" : "" },
          h("td", {}, seriesLink(s.series, range)), h("td", { class: "num" }, DS.fmtCount(s.value)),
          h("td", {}, DS.fmtTime(s.since_ns)),
          h("td", {}, s.changes.map((c) => `${DS.fmtTime(c.ts_ns)}: ${c.from} → ${c.to}`).join("; ")))),
        { id: "settings-table" })));
    if (total) {
      const b = bounds || [folded.buckets[0], folded.buckets[folded.buckets.length - 1] + stepNs];
      DS.stackedBars(dropChart, { times: folded.buckets.map((t) => t / 1e9), layers: layerSeries(folded.byLayer), range: [b[0] / 1e9, b[1] / 1e9] });
    }
    if (totals.squeezes) {
      const b = bounds || [folded.buckets[0], folded.buckets[folded.buckets.length - 1] + stepNs];
      squeezeChart(squeezed, folded, [b[0] / 1e9, b[1] / 1e9]);
    }
  };

  // --- incidents ----------------------------------------------------------

  views.incidents = async function (root, { range, params }) {
    const window_ = params.get("window") || "2ms", minHosts = params.get("min_hosts") || "2";
    const incidents = await DS.get("/api/incidents", { ...DS.rangeParams(range), window: window_, min_hosts: minHosts });
    const selected = incidents.find((c) => String(c.id) === params.get("id")) || incidents[incidents.length - 1];
    const detail = h("div", { id: "incident-detail" });
    const overview = h("div", { class: "chart", id: "incidents-chart" });
    const periods = incidents.map((c) => c.period_ms).filter((x) => x !== null);
    const form = h("form", { class: "inline", onsubmit: (e) => {
      e.preventDefault();
      const f = e.currentTarget.elements; // the form on the page (this drawing may have been patched into it)
      DS.navigate("incidents", null, range, { window: f.window.value, min_hosts: f.min_hosts.value });
    } }, h("label", {}, "window ", h("input", { name: "window", value: window_, size: 6 })),
    h("label", {}, " min hosts ", h("input", { name: "min_hosts", value: minHosts, size: 4 })),
    h("button", { type: "submit" }, "Group"));
    fill(root, 
      h("p", { class: "summary" }, `${incidents.length} incidents: bursts on ≥ ${minHosts} hosts within ${window_} ` +
        "(widened by each host's clock uncertainty)" +
        (periods.length ? `; recurring every ${periods[periods.length - 1].toFixed(1)} ms` : "") + "."),
      form,
      ...(incidents.length ? [section("Incidents over time (hosts hit)", overview), section("Selected incident", detail)]
        : [h("p", { class: "empty" }, "No incidents in this range.")]),
      incidents.length ? section("All incidents", h("div", { class: "scroll" }, table(["id", "start", "span", "hosts", "bursts", "packets", "drops after", "period", ""],
        [...incidents].reverse().slice(0, 1000).map((c) => actionRow({
          class: `incident${c === selected ? " selected" : ""}`, dataset: { id: String(c.id), key: String(c.id) },
          "aria-pressed": String(c === selected), title: "show this incident",
        }, () => DS.navigate("incidents", null, range, { window: window_, min_hosts: minHosts, id: c.id }),
        h("td", {}, c.id), h("td", {}, DS.fmtTime(c.start_ns)), h("td", { class: "num" }, DS.fmtDuration(c.end_ns - c.start_ns)),
        h("td", { class: "hosts" }, [...c.hosts].sort().join(", ")), h("td", { class: "num" }, c.bursts),
        h("td", { class: "num" }, DS.fmtCount(c.packets)), h("td", { class: "num" }, DS.fmtCount(c.drops)),
        h("td", {}, c.period_ms === null ? "–" : `${c.period_ms.toFixed(1)} ms`),
        h("td", {}, c.uncertain ? h("span", { class: "uncertain", title: "a member's clock uncertainty exceeds the window" }, "uncertain") : ""))),
        { id: "incidents-table" }))) : null);
    if (!incidents.length) return;
    const b = DS.rangeBounds(range);
    DS.lines(overview, {
      x: incidents.map((c) => c.start_ns / 1e9), ylabel: "hosts",
      series: [{ label: "hosts hit", color: "#c0392b", values: incidents.map((c) => c.hosts.length) }],
      range: b ? [b[0] / 1e9, b[1] / 1e9] : undefined, height: 160,
    });
    await incidentDetail(detail, selected, range);
  };

  // One incident: its members on one (clock-corrected) time axis.
  async function incidentDetail(el, c, range) {
    const members = [...new Set(c.hosts)];
    const events = await DS.get("/api/timeline", {
      from: `${DS.exactNs(c, "start_ns") - 30000000n}ns`, to: `${DS.exactNs(c, "end_ns") + 30000000n}ns`,
      host: members.join(","),
    });
    const bursts = events.filter((e) => e.type === "burst" && e.direction === "rx" &&
      c.members.some((m) => m.host === e.host && m.iface === e.iface && Math.abs(m.start_ns - e.corrected_start_ns) < 1e6));
    const chart = h("div", { class: "chart", id: "incident-chart" });
    el.append(
      h("p", {}, `Incident ${c.id} at ${DS.fmtTime(c.start_ns)}: ${c.hosts.length} hosts, ${DS.fmtCount(c.packets)} packets, ` +
        `${DS.fmtCount(c.drops)} drops after` + (c.period_ms !== null ? `, recurs every ${c.period_ms.toFixed(1)} ms` : "") +
        (c.uncertain ? " — uncertain: a member's clock is less certain than the window" : "") + "."),
      chart,
      table(["host", "interface", "start (corrected)", "offset", "± clock", "packets", "drops after"],
        c.members.map((m) => h("tr", { class: "member", dataset: { host: m.host, key: `${m.host}/${m.iface}` } },
          h("td", {}, hostLink(m.host, range)), h("td", {}, m.iface), h("td", {}, DS.fmtTime(m.start_ns)),
          h("td", { class: "num" }, `+${((m.start_ns - c.start_ns) / 1e6).toFixed(2)} ms`),
          h("td", { class: "num" }, DS.fmtDuration(m.uncertainty_ns)),
          h("td", { class: "num" }, DS.fmtCount(m.packets)), h("td", { class: "num" }, DS.fmtCount(m.drops)))),
        { id: "members-table" }));
    if (bursts.length) DS.alignedProfiles(chart, bursts, c.start_ns, HOST_COLORS);
    else chart.replaceWith(h("p", { class: "empty" }, "The members' burst profiles are not stored."));
  }

  // --- timeline -----------------------------------------------------------

  function eventDetail(e, range) {
    switch (e.type) {
      case "drop": case "squeeze": case "retrans": return [layerBadge(e.layer), " ", seriesLink(e.series, range),
        e.owner ? ` held by ${e.owner}` : "", ` +${DS.fmtCount(e.delta)}`,
        e.reset ? " (counter reset)" : "", e.overlap ? " (overlaps)" : ""];
      case "burst": return `${e.iface} ${e.direction}: ${DS.fmtCount(e.packets)} packets in ` +
        `${DS.fmtDuration(e.end_ns - e.start_ns)}, peak ${e.peak_per_ms.toFixed(0)}/ms` +
        (e.drops_total ? `, ${DS.fmtCount(e.drops_total)} drops after` : "");
      case "incident": return `incident ${e.id}: ${e.hosts.join(", ")} (${e.bursts} bursts` +
        (e.period_ms !== null ? `, every ${e.period_ms.toFixed(1)} ms` : "") + ")";
      case "setting": return [seriesLink(e.series, range), ` ${e.from} → ${e.to}`];
      case "seq_gap": return `the probe of ${e.group}:${e.port} missed ${DS.fmtCount(e.missing)} (sequence ${e.first_seq}…${e.last_seq})`;
      case "gap": return `no data for ${e.seconds.toFixed(1)} s (until ${DS.fmtTime(e.end_ns)})`;
      default: return JSON.stringify(e);
    }
  }

  // What a series counts, its layer, what bounds it and what to do: the
  // counter reference, the same text as `dropscope explain SERIES`.
  views.explain = async function (root, { arg: series }) {
    if (!series) throw new DS.ApiError("", 0, "explain needs a series: #/explain/SOURCE/DEVICE/NAME");
    const x = await DS.get("/api/explain", { series });
    fill(root,
      h("h1", {}, h("code", {}, x.series)),
      h("p", { class: "summary" }, layerBadge(x.layer), ` ${x.drop ? "a drop" : x.precursor ? "a precursor" : "a"} ${x.kind} of the ${x.layer} layer`,
        x.precursor ? ` (it counts ${DS.SQUEEZES}: in no drops total)` : "",
        x.overlap ? " (overlap: a more specific series counts its drops too, so totals leave it out)" : ""),
      explanationText(x),
      h("p", { class: "note" }, `The long form: docs/COUNTERS.md, section ${x.layer}.`));
  };

  // An event's name across refreshes (two alike are told apart by patch.js).
  const eventKey = (e) => [e.type, e.host, DS.exactNs(e, "ts_ns"), e.series || e.iface || e.id || e.group || ""].join("/");

  views.timeline = async function (root, { range, params }) {
    const hosts = params.get("hosts") || "";
    const events = await DS.get("/api/timeline", { ...DS.rangeParams(range), host: hosts, limit: 20000 });
    const form = h("form", { class: "inline", onsubmit: (e) => {
      e.preventDefault();
      DS.navigate("timeline", null, range, { hosts: e.currentTarget.elements.hosts.value.replace(/\s+/g, "") });
    } }, h("label", {}, "hosts ", h("input", { name: "hosts", value: hosts, size: 40, placeholder: "all (or a,b,c)" })),
    h("button", { type: "submit" }, "Show"));
    const counts = {};
    for (const e of events) counts[e.type] = (counts[e.type] || 0) + 1;
    const shown = events.slice(0, 5000);
    fill(root, 
      h("p", { class: "summary" }, `${events.length} events` +
        (Object.keys(counts).length ? ` (${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(", ")})` : "") +
        ", in time order."),
      form,
      events.length ? table(["time", "host", "event", ""], shown.map((e) => h("tr", { class: `event ${e.type}`, dataset: { type: e.type, key: eventKey(e) } },
        h("td", { title: DS.rfc3339(DS.exactNs(e, "ts_ns")) }, DS.fmtTime(e.ts_ns)), h("td", {}, e.host ? hostLink(e.host, range) : "–"),
        h("td", {}, h("span", { class: `type ${e.type}` }, e.type)), h("td", {}, eventDetail(e, range)))), { id: "timeline-table" })
        : h("p", { class: "empty" }, "Nothing happened in this range."),
      events.length > shown.length ? h("p", { class: "note" }, `Showing the first ${shown.length}; narrow the range for the rest.`) : null);
  };
})();
