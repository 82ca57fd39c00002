// charts.js: the few chart shapes the views use, on uPlot (fast with many
// points; embedded from npm, no CDN). A shape function does not draw: it
// leaves on its container element a spec (el._chart: uPlot's options, the
// data, and what the options read at draw time) and the number of points
// in data-points, so a test (or a curious user) can check a chart against
// the API's numbers. DS.drawCharts draws the shown view's specs: a chart
// already drawn with the same series takes the new data in place (a
// refresh keeps it, and its legend's state); another is drawn anew.
"use strict";

(function () {
  const DS = window.DS;

  // The element itself and the chart containers in it that hold a uPlot.
  const drawnIn = (node) => node && node.nodeType === Node.ELEMENT_NODE
    ? [node, ...node.querySelectorAll(".chart")].filter((el) => el.uplot) : [];

  DS.destroyCharts = function (node) {
    for (const el of drawnIn(node)) {
      el.uplot.destroy();
      el.uplot = null;
      el._drawn = null;
    }
  };

  function widthOf(el) {
    return Math.max(320, (el.clientWidth || (el.parentElement && el.parentElement.clientWidth) || 800) - 8);
  }

  // The theme's colours (app.css, light or dark), read when a chart is drawn.
  function theme() {
    const css = getComputedStyle(document.documentElement);
    return { axis: css.getPropertyValue("--chart-axis").trim() || "#000",
      grid: css.getPropertyValue("--chart-grid").trim() || "rgba(0,0,0,0.07)" };
  }

  // An axis in the theme's colours.
  function axis(extra) {
    const t = theme();
    return { stroke: t.axis, grid: { stroke: t.grid, width: 1 }, ticks: { stroke: t.grid, width: 1 }, ...extra };
  }

  // Time axes in the page's zone (the header's toggle), as every time it prints.
  const tzDate = (ts) => (DS.zone === "utc" ? uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC") : new Date(ts * 1e3));

  // Time axis labels in 24 h, precise enough for the tick spacing.
  const timeAxis = () => axis({
    space: 90, // px between labels: "17:28:36.500" is wide
    values: (u, splits, ax, space, incr) => splits.map((t) => {
      const text = DS.fmtTime(t * 1e9); // 2026-11-22T14:59:30.123Z
      if (incr < 1) return text.slice(11, 23);
      if (incr < 60) return text.slice(11, 19);
      if (incr < 86400) return text.slice(11, 16);
      return text.slice(0, 10);
    }),
  });

  // Leaves a chart's spec on el: opts(el) builds uPlot's options when it is
  // drawn; sig names its series, so a chart with the same ones can take new
  // data in place. Drawn at once if el is on the page (a graph the user
  // opens), else by DS.drawCharts once the view is.
  function make(el, opts, data, extra = {}) {
    const sig = JSON.stringify(opts(el).series.map((s) => [s.label, s.stroke]));
    el._chart = { opts, data, sig, ...extra };
    el.dataset.points = String(data[0].length);
    if (el.isConnected) DS.drawCharts(el);
  }

  function draw(el, spec, fresh) {
    if (!fresh && el.uplot && el._drawn.sig === spec.sig) {
      el.uplot.setData(spec.data); // the x range is read from el._chart: the new one
    } else {
      if (el.uplot) el.uplot.destroy();
      el.replaceChildren();
      el.uplot = new uPlot({ width: widthOf(el), tzDate, ...spec.opts(el) }, spec.data, el);
    }
    el._drawn = spec;
  }

  // Draws the charts in scope (default: the shown view) whose spec is new;
  // fresh: all of them anew (the theme or the zone changed).
  DS.drawCharts = function (scope = document.getElementById("view"), fresh = false) {
    for (const el of [scope, ...scope.querySelectorAll(".chart")]) {
      if (el._chart && (fresh || el._drawn !== el._chart)) draw(el, el._chart, fresh);
    }
  };

  // Fits the shown view's charts to their containers (whenever the window
  // changes size).
  function fitCharts() {
    for (const el of drawnIn(document.getElementById("view"))) {
      const w = widthOf(el);
      if (w !== el.uplot.width) el.uplot.setSize({ width: w, height: el.uplot.height });
    }
  }

  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(fitCharts, 150);
  });

  // Dashed vertical lines at the spec's marks (incidents on a time axis).
  function markers(el, color) {
    return {
      hooks: {
        draw: [(u) => {
          const ctx = u.ctx, { left, top, width, height } = u.bbox;
          ctx.save();
          ctx.strokeStyle = color;
          ctx.lineWidth = 1.5 * devicePixelRatio;
          ctx.setLineDash([5 * devicePixelRatio, 4 * devicePixelRatio]);
          for (const x of el._chart.marks || []) {
            const px = u.valToPos(x, "x", true);
            if (px < left || px > left + width) continue;
            ctx.beginPath();
            ctx.moveTo(px, top);
            ctx.lineTo(px, top + height);
            ctx.stroke();
          }
          ctx.restore();
        }],
      },
    };
  }

  // A time chart's x scale (its range the spec's, when it has one) and
  // cursor: dragging across it selects a span of time, which DS.zoomTo
  // (app.js) makes the range.
  function timeX(el) {
    return { time: true, range: (u, min, max) => el._chart.range || [min, max] };
  }

  const zoomCursor = { drag: { x: true, y: false, setScale: false } };

  function zoomHooks() {
    return {
      setSelect: [(u) => {
        const { left, width } = u.select;
        if (width >= 4 && DS.zoomTo) DS.zoomTo(u.posToVal(left, "x"), u.posToVal(left + width, "x"));
        u.setSelect({ left: 0, width: 0, top: 0, height: 0 }, false);
      }],
    };
  }

  const noDrag = { drag: { x: false, y: false } };
  const fromZero = { range: (u, min, max) => [0, Math.max(1, max)] };
  const bars = () => uPlot.paths.bars({ size: [0.9, 60], align: 1 });

  // Stacked bars over time. times: bucket starts (s); layers: [{label,
  // color, values}] bottom first; marks: x values (s) to mark; range:
  // [from_s, to_s] for the axis.
  DS.stackedBars = function (el, { times, layers, marks = [], range, height = 220, ylabel = "drops" }) {
    // uPlot does not stack: each bar is drawn as the running total up to its
    // layer, the tallest first, so each layer shows as its own band.
    const running = [];
    let acc = times.map(() => 0);
    for (const l of layers) {
      acc = acc.map((a, i) => a + (l.values[i] || 0));
      running.push(acc);
    }
    const top = [...layers].reverse(); // drawing order: the tallest first
    make(el, (el) => ({
      height,
      scales: { x: timeX(el), y: fromZero },
      axes: [timeAxis(), axis({ label: ylabel, size: 60 })],
      series: [{}, ...top.map((l, j) => ({
        label: l.label, stroke: l.color, fill: l.color, width: 0, paths: bars(), points: { show: false },
        // the legend shows the layer's own count, read from the spec drawn last
        value: (u, v, si, i) => (i === null || i === undefined ? "–" : DS.fmtCount(el._chart.raw[j][i] || 0)),
      }))],
      plugins: [markers(el, "#c0392b")],
      cursor: zoomCursor,
      hooks: zoomHooks(),
    }), [times, ...running.reverse()], { range, marks, raw: top.map((l) => l.values) });
  };

  // Lines over x. series: [{label, color, values, dash}]; time: x in s.
  DS.lines = function (el, { x, series, time = true, height = 200, ylabel = "", range }) {
    make(el, (el) => ({
      height,
      scales: { x: time ? timeX(el) : { time: false }, y: fromZero },
      axes: [time ? timeAxis() : axis(), axis({ label: ylabel, size: 60 })],
      series: [{}, ...series.map((s) => ({
        label: s.label, stroke: s.color, width: 1.5, dash: s.dash, spanGaps: true,
        points: { show: x.length < 60 },
      }))],
      cursor: time ? zoomCursor : noDrag,
      hooks: time ? zoomHooks() : {},
    }), [x, ...series.map((s) => s.values)], { range });
  };

  // A burst's 1 ms I/O graph from the flight recorder: packets per tick
  // around the burst, x in ms from the burst's start, with its threshold.
  DS.burstProfile = function (el, b, height = 150) {
    const tickMs = b.tick_ns / 1e6;
    const x = b.profile.map((_, i) => (b.profile_start_ns - b.start_ns) / 1e6 + i * tickMs);
    const threshold = b.profile.map(() => b.threshold_per_ms * tickMs);
    make(el, () => ({
      height,
      scales: { x: { time: false }, y: fromZero },
      axes: [axis({ label: "ms from burst start" }), axis({ label: "packets/tick", size: 60 })],
      series: [{ label: "ms" },
        { label: `${b.iface} ${b.direction}`, stroke: "#1f77b4", fill: "rgba(31,119,180,0.35)",
          width: 1, paths: bars(), points: { show: false } },
        { label: "threshold", stroke: "#c0392b", dash: [4, 4], width: 1, points: { show: false } }],
      cursor: noDrag,
    }), [x, b.profile, threshold]);
  };

  // Several hosts' bursts on one time axis (an incident): x in ms from t0
  // (clock-corrected), one line per burst.
  DS.alignedProfiles = function (el, bursts, t0, colors) {
    const xs = new Set();
    const lines = bursts.map((b) => {
      const shift = b.corrected_start_ns - b.start_ns; // onto the aggregator's clock
      const points = new Map();
      b.profile.forEach((v, i) => {
        const ms = Math.round((b.profile_start_ns + shift + i * b.tick_ns - t0) / 1e5) / 10;
        points.set(ms, v);
        xs.add(ms);
      });
      return points;
    });
    const x = [...xs].sort((a, b) => a - b);
    make(el, () => ({
      height: 240,
      scales: { x: { time: false }, y: fromZero },
      axes: [axis({ label: "ms from the incident's start (aggregator clock)" }), axis({ label: "packets/tick", size: 60 })],
      series: [{ label: "ms" }, ...bursts.map((b, i) => ({
        label: b.host, stroke: colors[i % colors.length], width: 1.5, spanGaps: true,
        points: { show: false },
      }))],
      cursor: noDrag,
    }), [x, ...lines.map((p) => x.map((ms) => (p.has(ms) ? p.get(ms) : null)))]);
  };
})();
