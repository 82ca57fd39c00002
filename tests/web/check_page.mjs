// check_page.mjs SERVER EXPECTED.json [SCREENSHOT_DIR]: opens the web view
// in headless Chromium and checks what a person would see against what the
// kernel and the API said (EXPECTED, written by test_web.sh): the hosts,
// their drops by layer, each burst graph's points, the incidents' hosts,
// the timeline, a bad link's error; that its layers and durations are the
// API's vocabulary, asked for once; and that the console stayed clean.
// Run from anywhere; playwright-core is found through $WEB_DIR.
import { check, openBrowser, run, viewOpener } from "./harness.mjs";
import fs from "node:fs";
import path from "node:path";

const [server, expectedPath, shotsDir] = process.argv.slice(2);
if (!server || !expectedPath) {
  console.error("usage: check_page.mjs SERVER EXPECTED.json [SCREENSHOT_DIR]");
  process.exit(2);
}
const exp = JSON.parse(fs.readFileSync(expectedPath, "utf8"));
const range = `from=${exp.from}&to=${exp.to}`;
const [web1, web2, web3] = exp.hosts;

const { browser, page, errors: consoleErrors } = await openBrowser();
let vocabularyAsked = 0; // the page asks for the API's vocabulary once, not per view
page.on("request", (r) => { if (new URL(r.url()).pathname === "/api/v1/vocabulary") vocabularyAsked++; });

const open = viewOpener(page, server);

async function shot(name) {
  if (!shotsDir) return;
  fs.mkdirSync(shotsDir, { recursive: true });
  await page.screenshot({ path: path.join(shotsDir, `${name}.png`), fullPage: true });
}

await run(browser, async () => {
  // Fleet: every host, the drops with their layer and the kernel's count.
  check(await open(`#/fleet?${range}`) === "ready", "fleet view draws");
  const rows = await page.$$eval("#hosts-table tbody tr", (trs) => trs.map((tr) => ({
    host: tr.dataset.host,
    layers: [...tr.querySelectorAll(".layer-count")].map((s) => s.textContent.trim()),
    rejected: (tr.querySelector("td.rejected") || { textContent: "?" }).textContent.trim(),
    aggregator: (tr.querySelector("td.aggregator") || { textContent: "?" }).textContent.trim(),
  })));
  check(rows.every((r) => r.aggregator === exp.aggregator), `the hosts table names the ` +
    `aggregator ${exp.aggregator} (got ${rows.map((r) => r.aggregator).join(", ")})`);
  check(rows.every((r) => r.rejected === "0"), `the hosts table shows no batch refused by the ` +
    `aggregator (got ${rows.map((r) => r.rejected).join(", ")})`);
  check(JSON.stringify(rows.map((r) => r.host).sort()) === JSON.stringify([...exp.hosts].sort()),
    `the hosts table lists ${exp.hosts.join(", ")} (got ${rows.map((r) => r.host).join(", ")})`);
  for (const host of [web1, web2]) {
    const want = `socket ${exp.socket_drops[host].toLocaleString("en-US")}`;
    const got = (rows.find((r) => r.host === host) || { layers: [] }).layers;
    check(JSON.stringify(got) === JSON.stringify([want]), `${host}: drops by layer ${JSON.stringify(got)}, kernel says ${want}`);
  }
  check((rows.find((r) => r.host === web3) || { layers: ["?"] }).layers.length === 0, `${web3} shows no drops`);
  const hot = await page.$$eval("#heatmap tbody tr", (trs) => Object.fromEntries(trs.map((tr) =>
    [tr.dataset.host, [...tr.querySelectorAll("td.hot")].map((td) => td.dataset.layer)])));
  check(hot[web1].length > 0 && hot[web1].every((l) => l === "socket"), `heatmap: ${web1} has socket cells (${hot[web1].length})`);
  check(hot[web3].length === 0, `heatmap: ${web3} has no hot cells`);
  const fleetChart = await page.$eval("#fleet-drops", (el) => el.uplot.series.slice(1).map((s) => s.label));
  check(JSON.stringify(fleetChart) === '["socket"]', `fleet chart: layers ${JSON.stringify(fleetChart)}`);
  const fleetTotal = exp.hosts.reduce((a, x) => a + (exp.socket_drops[x] || 0), 0);
  const fleetSummary = await page.$eval(".view-fleet .summary", (el) => el.textContent);
  check(fleetSummary.includes(`${fleetTotal.toLocaleString("en-US")} drops`),
    `fleet summary (from /api/totals) "${fleetSummary}", the kernel says ${fleetTotal} drops`);
  await shot("fleet");

  // The page's layers and durations are the API's vocabulary, not a copy.
  const vocabulary = await (await fetch(`${server}/api/vocabulary`)).json();
  const pageWords = await page.evaluate(() => ({
    layers: window.DS.LAYERS, precursors: window.DS.PRECURSORS, week: window.DS.parseDuration("7d"), zero: window.DS.parseDuration("0s"),
    badge: document.querySelector("#hosts-table .layer").title,
  }));
  const day = (vocabulary.durations.find((u) => u.unit === "d") || {}).ns;
  check(JSON.stringify(pageWords.layers) === JSON.stringify(vocabulary.layers.filter((l) => !l.precursor).map((l) => l.name)),
    `the page's drop layers are the API's, in its order (${pageWords.layers.join(" ")})`);
  check(JSON.stringify(pageWords.precursors) === '["budget"]' &&
    JSON.stringify(vocabulary.layers.filter((l) => l.precursor).map((l) => l.name)) === '["budget"]',
    `budget is a precursor for the API and the page, never a drop layer (${pageWords.precursors.join(" ")})`);
  check(day === 86400e9 && pageWords.week === 7 * day && pageWords.zero === null,
    `the page reads durations with the API's units (7d = ${pageWords.week} ns)`);
  check(pageWords.badge.includes(vocabulary.layers.find((l) => l.name === "socket").setting),
    `a layer badge names its bound from the API ("${pageWords.badge.slice(0, 60)}…")`);

  // Host: the diagnosis, and each burst's graph point for point.
  check(await open(`#/host/${encodeURIComponent(web1)}?${range}`) === "ready", "host view draws");
  const finding = await page.$eval("#findings .finding", (el) => ({ layer: el.dataset.layer, text: el.textContent }));
  check(finding.layer === "socket" && finding.text.includes("rmem_max"),
    `diagnosis: ${finding.layer} layer, remedy names rmem_max`);
  check(finding.text.includes(`${exp.socket_drops[web1].toLocaleString("en-US")} drops`), "diagnosis: the kernel's drop count");
  check(finding.text.includes(`held by ${exp.owners[web1]}`), `diagnosis: the dropping socket is ${exp.owners[web1]}'s`);
  const graphs = await page.$$eval(".burst-chart", (els) => els.map((el) => ({
    start: Number(el.dataset.start), points: Number(el.dataset.points), drawn: el.uplot.data[1],
  })));
  check(graphs.length === Math.min(6, exp.bursts.length), `${graphs.length} burst graphs for ${exp.bursts.length} bursts`);
  for (const g of graphs) {
    const b = exp.bursts.find((x) => Math.abs(x.start_ns - g.start) < 1000);
    check(b && g.points === b.profile.length && JSON.stringify(g.drawn) === JSON.stringify(b.profile),
      `burst at ${g.start}: graph of ${g.points} points = the profile's ${b ? b.profile.length : "?"}`);
  }
  const burstRows = await page.$$eval("#bursts-table tbody tr", (trs) => trs.length);
  check(burstRows === exp.bursts.length, `bursts table: ${burstRows} rows`);
  const rate = await page.$eval(".rate-chart", (el) => el.uplot.data[0].length);
  check(rate > 0, `rate histogram: ${rate} intervals`);
  const settings = await page.$$eval("#settings-table code", (els) => els.map((e) => e.textContent));
  check(settings.includes("sysctl//net.core.rmem_max"), "settings include net.core.rmem_max");
  // Clicking a burst row shows or hides its graph; opened, it comes first.
  const last = "#bursts-table tbody tr:last-child";
  const graphsNow = () => page.$$eval(".burst-figure", (els) => els.map((el) => el.dataset.key));
  const key = await page.$eval(last, (tr) => tr.dataset.key);
  for (let i = 0; i < 2; i++) {
    const open = await page.$eval(last, (tr) => tr.getAttribute("aria-expanded") === "true");
    await page.click(last);
    const now = await graphsNow(), expanded = await page.$eval(last, (tr) => tr.getAttribute("aria-expanded"));
    check(open ? !now.includes(key) && expanded === "false" : now[0] === key && expanded === "true",
      `clicking the burst row ${open ? "hides" : "shows"} its graph (${now.length} graphs)`);
  }
  await shot("host");

  // A finding's series links to what it counts: the text `dropscope explain` prints.
  const evidence = await page.$eval("#findings .finding a.series", (a) => ({ href: a.getAttribute("href"), series: a.textContent }));
  check(await open(evidence.href) === "ready", `explain view of ${evidence.series} draws`);
  const explained = await (await fetch(`${server}/api/explain?series=${encodeURIComponent(evidence.series)}`)).json();
  const shown = await page.$eval(".explain", (el) => ({
    meaning: el.querySelector(".meaning").textContent, remedy: el.querySelector(".remedy").textContent }));
  check(explained.layer === "socket" && explained.meaning.length > 20 && shown.meaning === explained.meaning &&
    shown.remedy === explained.remedy && explained.remedy.includes("rmem_max"),
    `explain: ${evidence.series} is a socket drop, its meaning and remedy as the API gives them`);

  // Incidents: each one's hosts, and the selected one on one time axis.
  check(await open(`#/incidents?${range}`) === "ready", "incidents view draws");
  const incidentRows = await page.$$eval("#incidents-table tbody tr", (trs) =>
    trs.map((tr) => ({ id: Number(tr.dataset.id), hosts: tr.querySelector(".hosts").textContent })));
  check(incidentRows.length === exp.incidents.length, `${incidentRows.length} incidents listed`);
  for (const c of exp.incidents) {
    const r = incidentRows.find((x) => x.id === c.id);
    check(r && r.hosts === c.hosts.join(", "), `incident ${c.id}: hosts ${r ? r.hosts : "missing"}`);
  }
  const members = await page.$$eval("#members-table tbody tr", (trs) => trs.map((tr) => tr.dataset.host).sort());
  const aligned = await page.$eval("#incident-chart", (el) => el.uplot.series.slice(1).map((s) => s.label).sort());
  check(members.length >= 2 && JSON.stringify(aligned) === JSON.stringify(members),
    `selected incident: ${members.join(", ")} on one time axis`);
  await shot("incidents");

  // Timeline: web1's events in time order.
  check(await open(`#/timeline?${range}&hosts=${encodeURIComponent(web1)}`) === "ready", "timeline view draws");
  const events = await page.$$eval("#timeline-table tbody tr", (trs) => trs.map((tr) => tr.dataset.type));
  check(events.length === Math.min(5000, exp.timeline_events), `timeline: ${events.length} events`);
  check(events.includes("burst") && events.includes("drop"), "timeline: bursts and drops");
  await shot("timeline");

  check(vocabularyAsked === 1, `/api/vocabulary asked for once over every view (${vocabularyAsked} times)`);
  check(consoleErrors.length === 0, `no console errors (${consoleErrors.join(" | ") || "none"})`);

  // A bad link shows the API's error instead of a blank chart.
  const bad = [
    [`#/host/no-such-host?${range}`, "unknown host 'no-such-host'"],
    [`#/fleet?from=garbage&to=${exp.to}`, "is not a time"],
    [`#/incidents?from=${exp.to}&to=${exp.from}`, "inverted"],
  ];
  for (const [hash, words] of bad) {
    const state = await open(hash);
    const text = await page.$eval("#view", (el) => el.textContent);
    const canvases = await page.$$eval("#view canvas", (c) => c.length);
    check(state === "error" && text.includes(words) && text.includes("400") && canvases === 0,
      `${hash}: shows "${text.trim().slice(0, 100)}"`);
  }
  await shot("error");
  const unexpected = consoleErrors.filter((e) => !/status of 400/.test(e));
  check(unexpected.length === 0, `bad links: only the 400s in the console (${unexpected.join(" | ") || "none"})`);

  // A range that ends now refreshes by itself, every 5 s unless set
  // otherwise (check_interaction.mjs sets 300 ms and watches refreshes).
  await open(`#/fleet?since=5m`);
  const every = await page.$eval("#auto-refresh", (el) => el.parentElement.title);
  check(every.includes("every 5 s"), `auto-refresh by default: "${every}"`);
});
