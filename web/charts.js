// charts.js: the few chart shapes the views use, on uPlot (fast with many
// points; embedded from npm, no CDN). Each function draws into a container
// element and records the number of points it drew in data-points, so a
// test (or a curious user) can check a chart against the API's numbers.
"use strict";

(function () {
  const DS = window.DS;
  // The uPlot instances of a view live on its root element (class "view"),
  // so a view that is replaced, or abandoned by a newer render, takes its
  // charts with it.
  const chartsOf = (root) => (root ? (root._charts ||= []) : []);

  DS.destroyCharts = function (root) {
    for (const u of chartsOf(root)) u.destroy();
    if (root) root._charts = [];
  };

  function widthOf(el) {
    return Math.max(320, (el.clientWidth || (el.parentElement && el.parentElement.clientWidth) || 800) - 8);
  }

  // Time axes in UTC, like every time the page and the CLI print.
  const utc = (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC");

  // Time axis labels in UTC and 24 h, precise enough for the tick spacing.
  const timeAxis = {
    space: 90, // px between labels: "17:28:36.500" is wide
    values: (u, splits, ax, space, incr) => splits.map((t) => {
      const iso = new Date(t * 1e3).toISOString(); // 2026-11-22T14:59:30.123Z
      if (incr < 1) return iso.slice(11, 23);
      if (incr < 60) return iso.slice(11, 19);
      if (incr < 86400) return iso.slice(11, 16);
      return iso.slice(0, 10);
    }),
  };

  function make(el, opts, data) {
    el.replaceChildren();
    const u = new uPlot({ width: widthOf(el), tzDate: utc, ...opts }, data, el);
    el.dataset.points = String(data[0].length);
    el.uplot = u; // for the browser test, which reads what was drawn
    chartsOf(el.closest(".view")).push(u);
    return u;
  }

  // Fits the shown view's charts to their containers (after the view is
  // attached, and whenever the window changes size).
  DS.fitCharts = function () {
    for (const u of chartsOf(document.querySelector("#view > .view"))) {
      const w = widthOf(u.root.parentElement);
      if (w !== u.width) u.setSize({ width: w, height: u.height });
    }
  };

  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(DS.fitCharts, 150);
  });

  // Dashed vertical lines at the given x values (incidents on a time axis).
  function markers(xs, color) {
    return {
      hooks: {
        draw: [(u) => {
          const ctx = u.ctx, { left, top, width, height } = u.bbox;
          ctx.save();
          ctx.strokeStyle = color;
          ctx.lineWidth = 1.5 * devicePixelRatio;
          ctx.setLineDash([5 * devicePixelRatio, 4 * devicePixelRatio]);
          for (const x of xs) {
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
    const series = [{}];
    const data = [times];
    for (let j = layers.length - 1; j >= 0; j--) {
      const raw = layers[j].values;
      series.push({
        label: layers[j].label,
        stroke: layers[j].color,
        fill: layers[j].color,
        width: 0,
        paths: bars(),
        points: { show: false },
        value: (u, v, si, i) => (i === null || i === undefined ? "–" : DS.fmtCount(raw[i] || 0)),
      });
      data.push(running[j]);
    }
    const u = make(el, {
      height,
      scales: { x: { time: true, range: range ? () => range : undefined }, y: { range: (u, min, max) => [0, Math.max(1, max)] } },
      axes: [timeAxis, { label: ylabel, size: 60 }],
      series,
      plugins: [markers(marks, "#c0392b")],
      cursor: { drag: { x: false, y: false } },
    }, data);
    return u;
  };

  // Lines over x. series: [{label, color, values, dash}]; time: x in s.
  DS.lines = function (el, { x, series, time = true, height = 200, ylabel = "", range }) {
    return make(el, {
      height,
      scales: { x: { time, range: range ? () => range : undefined }, y: { range: (u, min, max) => [0, Math.max(1, max)] } },
      axes: [time ? timeAxis : {}, { label: ylabel, size: 60 }],
      series: [{}, ...series.map((s) => ({
        label: s.label, stroke: s.color, width: 1.5, dash: s.dash, spanGaps: true,
        points: { show: x.length < 60 },
      }))],
      cursor: { drag: { x: false, y: false } },
    }, [x, ...series.map((s) => s.values)]);
  };

  // A burst's 1 ms I/O graph from the flight recorder: packets per tick
  // around the burst, x in ms from the burst's start, with its threshold.
  DS.burstProfile = function (el, b, height = 150) {
    const tickMs = b.tick_ns / 1e6;
    const x = b.profile.map((_, i) => (b.profile_start_ns - b.start_ns) / 1e6 + i * tickMs);
    const threshold = b.profile.map(() => b.threshold_per_ms * tickMs);
    const u = make(el, {
      height,
      scales: { x: { time: false }, y: { range: (u, min, max) => [0, Math.max(1, max)] } },
      axes: [{ label: "ms from burst start" }, { label: "packets/tick", size: 60 }],
      series: [{ label: "ms" },
        { label: `${b.iface} ${b.direction}`, stroke: "#1f77b4", fill: "rgba(31,119,180,0.35)",
          width: 1, paths: bars(), points: { show: false } },
        { label: "threshold", stroke: "#c0392b", dash: [4, 4], width: 1, points: { show: false } }],
      cursor: { drag: { x: false, y: false } },
    }, [x, b.profile, threshold]);
    el.dataset.points = String(b.profile.length);
    return u;
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
    const u = make(el, {
      height: 240,
      scales: { x: { time: false }, y: { range: (u, min, max) => [0, Math.max(1, max)] } },
      axes: [{ label: "ms from the incident's start (aggregator clock)" }, { label: "packets/tick", size: 60 }],
      series: [{ label: "ms" }, ...bursts.map((b, i) => ({
        label: b.host, stroke: colors[i % colors.length], width: 1.5, spanGaps: true,
        points: { show: false },
      }))],
      cursor: { drag: { x: false, y: false } },
    }, [x, ...lines.map((p) => x.map((ms) => (p.has(ms) ? p.get(ms) : null)))]);
    return u;
  };
})();
