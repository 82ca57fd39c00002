// check_interaction.mjs SERVER EXPECTED.json [SCREENSHOT_DIR]: what a person
// does with the web view, in headless Chromium (zone Asia/Kolkata, +05:30
// all year, so that "local" differs from UTC), against the fleet of
// test_web.sh (EXPECTED): a link of before (ns) opens and reads as RFC 3339,
// exactly, in UTC or local (remembered); a drag across the fleet chart
// narrows the range and the data follows, Back restores it; the heatmap's
// legend gives its scale; a finding's series opens the aggregator's
// explanation in place; every clickable row is reached with Tab and opened
// with Enter (and Space), with a visible focus; an opened burst graph, an
// opened explanation and the scroll position survive two auto-refreshes;
// the dark theme darkens the page and its charts. No console errors.
import { check, openBrowser, run, viewOpener } from "./harness.mjs";
import fs from "node:fs";
import path from "node:path";

const [server, expectedPath, shotsDir] = process.argv.slice(2);
if (!server || !expectedPath) {
  console.error("usage: check_interaction.mjs SERVER EXPECTED.json [SCREENSHOT_DIR]");
  process.exit(2);
}
const expText = fs.readFileSync(expectedPath, "utf8"), exp = JSON.parse(expText);
// The range's ends as written: ns beyond 2^53, which JSON.parse rounds.
const [from, to] = ["from", "to"].map((k) => new RegExp(`"${k}": (\\d+)`).exec(expText)[1]);
const [web1] = exp.hosts;
const REFRESH_MS = 300; // the page's setting dropscope.refresh_ms (5 s by default)

const { browser, page, errors } = await openBrowser({ timezoneId: "Asia/Kolkata" });
await page.addInitScript((ms) => localStorage.setItem("dropscope.refresh_ms", String(ms)), REFRESH_MS);
const open = viewOpener(page, server);

// RFC 3339 -> BigInt ns, read here independently of the page.
function nsOf(text) {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(text || "");
  return m ? BigInt(Date.parse(m[1] + m[3])) * 1000000n + BigInt((m[2] || "").padEnd(9, "0")) : null;
}

const hashParams = () => page.evaluate(() => {
  const q = location.hash.slice(location.hash.indexOf("?") + 1);
  return Object.fromEntries(q.split("&").map((p) => p.split("=").map(decodeURIComponent)));
});
const renders = () => page.evaluate(() => Number(document.body.dataset.renders || 0));
// Waits until the page has drawn `more` times after `since` renders.
const drawn = (since, more = 1) => page.waitForFunction(([n, k]) =>
  Number(document.body.dataset.renders) >= n + k && document.body.dataset.state === "ready", [since, more], { timeout: 30000 });
const totals = async (from, to) =>
  (await (await fetch(`${server}/api/totals?from=${from}&to=${to}`)).json()).total;
const summaryDrops = () => page.$eval(".view-fleet .summary", (el) => Number(/([\d,]+) drops/.exec(el.textContent)[1].replace(/,/g, "")));

async function shot(name) {
  if (!shotsDir) return;
  fs.mkdirSync(shotsDir, { recursive: true });
  await page.screenshot({ path: path.join(shotsDir, `${name}.png`), fullPage: true });
}

// The rows of #view with a click listener (asked of Chromium itself), and
// those that declare themselves operable: tabindex 0 and a role.
async function clickableRows() {
  const cdp = await page.context().newCDPSession(page);
  const { result } = await cdp.send("Runtime.evaluate", { expression: "[...document.querySelectorAll('#view tr')]" });
  const { result: items } = await cdp.send("Runtime.getProperties", { objectId: result.objectId, ownProperties: true });
  const clickable = [];
  for (const p of items.filter((x) => /^\d+$/.test(x.name))) {
    const { listeners } = await cdp.send("DOMDebugger.getEventListeners", { objectId: p.value.objectId });
    if (listeners.some((l) => l.type === "click")) clickable.push(Number(p.name));
  }
  await cdp.detach();
  const operable = await page.$$eval("#view tr", (trs) => trs.map((tr, i) =>
    tr.getAttribute("tabindex") === "0" && tr.getAttribute("role") ? i : -1).filter((i) => i >= 0));
  return { clickable, operable };
}

// Presses Tab from the top of the page until focus leaves it; returns the
// indexes (among #view's rows) of the rows it reached, in order.
async function tabWalk(limit = 400) {
  await page.evaluate(() => { document.activeElement?.blur(); window.scrollTo(0, 0); });
  const reached = [];
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press("Tab");
    const at = await page.evaluate(() => {
      const a = document.activeElement;
      return !a || a === document.body ? -2 : [...document.querySelectorAll("#view tr")].indexOf(a);
    });
    if (at === -2 && i > 0) break;
    if (at >= 0) reached.push(at);
  }
  return reached;
}

// Tabs to the row index-th of #view's rows; returns whether it got there.
async function tabTo(index) {
  await page.evaluate(() => { document.activeElement?.blur(); window.scrollTo(0, 0); });
  for (let i = 0; i < 400; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate((k) => document.activeElement === document.querySelectorAll("#view tr")[k], index)) return true;
  }
  return false;
}

// Every clickable row of the shown view is operable and reached with Tab.
async function checkRows(view) {
  const { clickable, operable } = await clickableRows();
  check(JSON.stringify(clickable) === JSON.stringify(operable),
    `${view}: the ${clickable.length} clickable rows are the rows with tabindex 0 and a role`);
  if (!clickable.length) return clickable; // nothing to reach
  const reached = new Set(await tabWalk());
  check(clickable.every((i) => reached.has(i)), `${view}: Tab reaches every clickable row ` +
    `(${clickable.filter((i) => reached.has(i)).length} of ${clickable.length})`);
  return clickable;
}

await run(browser, async () => {
  // --- times: a link of before, RFC 3339, the zone toggle --------------------
  check(await open(`#/fleet?from=${from}&to=${to}`) === "ready", "a link with ns draws the fleet");
  let q = await hashParams();
  const inputs = await page.evaluate(() => [document.getElementById("range-from").value, document.getElementById("range-to").value]);
  check(/Z$/.test(q.from) && nsOf(q.from) === BigInt(from) && nsOf(q.to) === BigInt(to),
    `the link's ns became RFC 3339 in the URL, exactly: ${q.from} … ${q.to}`);
  check(inputs[0] === q.from && inputs[1] === q.to, `the range inputs show RFC 3339: ${inputs.join(" … ")}`);
  check(await page.$eval("#heatmap tbody td.hot", (td) => /T\d\d:\d\d:\d\d\.\d{3}Z:/.test(td.title)), "heatmap cells name their time in RFC 3339 (UTC)");
  await page.selectOption("#zone", "local");
  await page.waitForFunction(() => location.hash.includes("+05:30") && document.body.dataset.state === "ready");
  q = await hashParams();
  const local = await page.$eval("#range-from", (el) => el.value);
  check(q.from.endsWith("+05:30") && local === q.from && nsOf(q.from) === BigInt(from) && nsOf(q.to) === BigInt(to),
    `local time: the link and the inputs read ${local}, the same instant`);
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.state === "ready");
  check(await page.$eval("#zone", (el) => el.value) === "local" &&
    await page.$eval("#heatmap tbody td.hot", (td) => td.title.includes("+05:30:")), "the zone is remembered over a reload");
  await page.selectOption("#zone", "utc");
  await page.waitForFunction(() => /from=[^&]*Z/.test(location.hash) && document.body.dataset.state === "ready");

  // --- the heatmap's legend ---------------------------------------------------
  const heat = await page.evaluate(() => {
    const cells = [...document.querySelectorAll("#heatmap td.hot")];
    const max = Math.max(...cells.map((td) => Number(td.dataset.drops)));
    const shades = [...document.querySelectorAll("#heat-legend .shade")];
    return {
      layers: [...new Set(cells.map((td) => td.dataset.layer))].sort(),
      legendLayers: [...document.querySelectorAll("#heat-legend [data-layer]")].map((e) => e.dataset.layer).sort(),
      max, steps: shades.map((e) => Number(e.dataset.drops)), texts: shades.map((e) => e.textContent),
      maxCell: getComputedStyle(cells.find((td) => Number(td.dataset.drops) === max)).backgroundColor,
      maxSwatch: getComputedStyle(shades[shades.length - 1].querySelector(".swatch")).backgroundColor,
    };
  });
  check(JSON.stringify(heat.legendLayers) === JSON.stringify(heat.layers), `heatmap legend: the layers of its cells (${heat.legendLayers})`);
  check(heat.steps[0] === 1 && heat.steps[heat.steps.length - 1] === heat.max &&
    heat.steps.every((n, i) => i === 0 || n > heat.steps[i - 1]) && heat.texts.at(-1) === heat.max.toLocaleString("en-US"),
    `heatmap legend: the scale from 1 to the largest cell's ${heat.max} drops (${heat.texts.join(", ")})`);
  check(heat.maxSwatch === heat.maxCell, `heatmap legend: its darkest shade is the fullest cell's colour (${heat.maxSwatch})`);

  // --- drag to zoom, and back -------------------------------------------------
  const before = await hashParams(), beforeDrops = await summaryDrops();
  const box = await page.$eval("#fleet-drops .u-over", (el) => { const r = el.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; });
  const n0 = await renders();
  await page.mouse.move(box.x + box.w * 0.3, box.y + box.h / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.w * 0.7, box.y + box.h / 2, { steps: 8 });
  await page.mouse.up();
  await drawn(n0);
  const after = await hashParams();
  const [f0, t0, f1, t1] = [before.from, before.to, after.from, after.to].map(nsOf);
  check(f1 !== null && t1 !== null && f0 < f1 && f1 < t1 && t1 < t0,
    `a drag on the fleet chart narrows the range: ${after.from} … ${after.to} inside ${before.from} … ${before.to}`);
  const zoomed = await page.$eval("#fleet-drops", (el) => ({ min: el.uplot.scales.x.min, max: el.uplot.scales.x.max, x: el.uplot.data[0] }));
  check(Math.abs(zoomed.min - Number(f1) / 1e9) < 1e-3 && Math.abs(zoomed.max - Number(t1) / 1e9) < 1e-3 &&
    zoomed.x.every((s) => s >= Number(f1) / 1e9 - 60 && s < Number(t1) / 1e9),
    `the fleet chart shows the new range (${zoomed.x.length} buckets)`);
  const zoomedDrops = await summaryDrops(), apiDrops = await totals(f1, t1);
  check(zoomedDrops === apiDrops && zoomedDrops <= beforeDrops,
    `the summary follows: ${zoomedDrops} drops, /api/totals says ${apiDrops} (${beforeDrops} before)`);
  const n1 = await renders();
  await page.goBack();
  await drawn(n1);
  const back = await hashParams();
  check(back.from === before.from && back.to === before.to && await summaryDrops() === beforeDrops,
    `Back restores the range before (${back.from} … ${back.to})`);
  const n2 = await renders();
  await page.click("#zoom-out");
  await drawn(n2);
  const out = await hashParams();
  const [f2, t2] = [out.from, out.to].map(nsOf);
  check(f2 < f0 && t2 - f2 >= 3n * (t0 - f0) - 2000000n, `zoom out: three times the range (${out.from} … ${out.to})`);

  // --- rows: every clickable one with Tab, Enter and Space -------------------
  check(await open(`#/fleet?from=${from}&to=${to}`) === "ready", "fleet view draws");
  await checkRows("fleet");
  const range = `from=${from}&to=${to}`;
  check(await open(`#/host/${encodeURIComponent(web1)}?${range}`) === "ready", "host view draws");
  const bursts = await checkRows("host");
  check(bursts.length === exp.bursts.length, `host: ${bursts.length} clickable burst rows for ${exp.bursts.length} bursts`);
  const target = bursts[bursts.length - 1];
  check(await tabTo(target), "Tab reaches the last burst row");
  const focus = await page.evaluate(() => {
    const s = getComputedStyle(document.activeElement);
    return { style: s.outlineStyle, width: parseFloat(s.outlineWidth) };
  });
  check(focus.style !== "none" && focus.width >= 2, `the focused row shows it (outline ${focus.style} ${focus.width}px)`);
  const targetKey = await page.evaluate(() => document.activeElement.dataset.key);
  const rowState = () => page.evaluate((k) => {
    const tr = document.querySelector(`#bursts-table tr[data-key="${CSS.escape(k)}"]`);
    const figs = [...document.querySelectorAll(".burst-figure")].map((f) => f.dataset.key);
    return { expanded: tr.getAttribute("aria-expanded"), shown: figs.includes(k), focused: document.activeElement === tr };
  }, targetKey);
  const s0 = await rowState();
  await page.keyboard.press("Enter");
  const s1 = await rowState();
  await page.keyboard.press(" ");
  const s2 = await rowState();
  check(s0.shown !== s1.shown && String(s1.shown) === s1.expanded && s2.shown === s0.shown && s2.focused,
    `Enter ${s0.shown ? "hides" : "shows"} the burst's graph, Space ${s0.shown ? "shows" : "hides"} it again, the row keeps the focus (${JSON.stringify([s0, s1, s2])})`);

  check(await open(`#/incidents?${range}`) === "ready", "incidents view draws");
  const incidentRows = await checkRows("incidents");
  check(incidentRows.length === exp.incidents.length, `incidents: ${incidentRows.length} clickable rows`);
  const other = await page.evaluate((ks) => ks.find((k) => !document.querySelectorAll("#view tr")[k].classList.contains("selected")), incidentRows);
  if (other !== undefined) {
    check(await tabTo(other), "Tab reaches an incident row not selected");
    const id = await page.evaluate(() => document.activeElement.dataset.id);
    const n = await renders();
    await page.keyboard.press("Enter");
    await drawn(n);
    const sel = await page.evaluate(() => ({ id: (document.querySelector("tr.incident.selected") || {}).dataset?.id,
      focused: document.activeElement?.dataset?.id, detail: document.querySelector("#incident-detail p")?.textContent || "" }));
    check((await hashParams()).id === id && sel.id === id && sel.focused === id && sel.detail.startsWith(`Incident ${id} `),
      `Enter on incident ${id} selects it and shows its detail; the row keeps the focus`);
  }
  check(await open(`#/timeline?${range}&hosts=${encodeURIComponent(web1)}`) === "ready", "timeline view draws");
  await checkRows("timeline");

  // --- a finding's series and its explanation, in place ----------------------
  check(await open(`#/host/${encodeURIComponent(web1)}?since=1h`) === "ready", "host view (a range that ends now) draws");
  const series = await page.$$eval("#findings details.explained", (ds) => ds.map((d) => ({
    series: d.dataset.series, href: d.querySelector("a.series").getAttribute("href") })));
  check(series.length > 0 && series.every((s) => s.href.startsWith(`#/explain/${encodeURIComponent(s.series)}?`)),
    `each of the findings' ${series.length} series links to its explanation`);
  await page.click("#findings details.explained > summary", { position: { x: 4, y: 8 } });
  await page.waitForFunction(() => document.querySelector("#findings details.explained[open] .explanation .meaning"), null, { timeout: 15000 });
  const api = await (await fetch(`${server}/api/explain?series=${encodeURIComponent(series[0].series)}`)).json();
  const inPlace = await page.$eval("#findings details.explained[open] .explanation", (el) => ({
    meaning: el.querySelector(".meaning").textContent, remedy: el.querySelector(".remedy")?.textContent }));
  check(inPlace.meaning === api.meaning && inPlace.remedy === api.remedy,
    `opening ${series[0].series} shows the aggregator's explanation in place ("${api.meaning.slice(0, 50)}…")`);

  // --- two auto-refreshes keep what was opened, and the scroll -------------
  const last = "#bursts-table tbody tr:last-child";
  if (await page.$eval(last, (tr) => tr.getAttribute("aria-expanded")) === "true") await page.click(last); // one shown by default: closed first
  await page.click(last); // opened by the user
  const key = await page.$eval(last, (tr) => tr.dataset.key);
  const marked = await page.evaluate((k) => {
    const fig = document.querySelector(`.burst-figure[data-key="${CSS.escape(k)}"]`);
    fig._mark = "kept";
    document.querySelector("#findings details.explained[open]")._mark = "kept";
    fig.scrollIntoView({ block: "center" });
    return { first: document.querySelector(".burst-figure") === fig, y: window.scrollY };
  }, key);
  check(marked.first, "the burst graph opened last comes first");
  const r0 = await renders();
  await drawn(r0, 2);
  const kept = await page.evaluate(([k, y]) => {
    const fig = document.querySelector(`.burst-figure[data-key="${CSS.escape(k)}"]`);
    const row = document.querySelector(`#bursts-table tr[data-key="${CSS.escape(k)}"]`);
    const det = document.querySelector("#findings details.explained");
    return { same: !!fig && fig._mark === "kept" && fig.isConnected, drawn: !!fig?.querySelector(".burst-chart").uplot,
      open: row?.getAttribute("aria-expanded"), explained: det?._mark === "kept" && det.open, scroll: window.scrollY - y };
  }, [key, marked.y]);
  check(kept.same && kept.drawn && kept.open === "true",
    `two auto-refreshes later the opened burst graph is the same element, still open (${JSON.stringify(kept)})`);
  check(kept.explained, "…and the opened explanation is still open");
  check(kept.scroll === 0, `…and the page has not scrolled (${kept.scroll} px)`);

  // --- the dark theme ---------------------------------------------------------
  check(await open(`#/fleet?${range}`) === "ready", "fleet view draws");
  const look = () => page.evaluate(() => {
    const u = document.querySelector("#fleet-drops").uplot;
    return { bg: getComputedStyle(document.documentElement).backgroundColor, axis: u.axes[1].stroke(u, 1) };
  });
  const light = await look();
  await page.emulateMedia({ colorScheme: "dark" });
  await page.waitForFunction((a) => {
    const u = document.querySelector("#fleet-drops").uplot;
    return u.axes[1].stroke(u, 1) !== a;
  }, light.axis, { timeout: 10000 });
  const dark = await look();
  // 0 (black) to 1 (white), of "#rrggbb" or "rgb(r, g, b)".
  const luminance = (c) => {
    const [r, g, b] = c.startsWith("#") ? [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16)) : c.match(/\d+/g).map(Number);
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
  };
  check(luminance(light.bg) > 0.8 && luminance(dark.bg) < 0.2, `dark theme: the background ${light.bg} -> ${dark.bg}`);
  check(luminance(light.axis) < 0.3 && luminance(dark.axis) > 0.6, `dark theme: the charts are drawn again, axes ${light.axis} -> ${dark.axis}`);
  await shot("fleet-dark");
  await page.emulateMedia({ colorScheme: "light" });

  check(errors.length === 0, `no console errors (${errors.join(" | ") || "none"})`);
});
