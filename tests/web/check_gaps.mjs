// check_gaps.mjs SERVER HOST FROM TO: opens the web view in headless
// Chromium for a host whose probe saw 20 numbers never sent (test_gaps.sh)
// and checks what a person sees: on the host view the upstream finding of
// 20 packets with its gaps, the sequence gaps table (4 rows, 20 missing);
// on the timeline the 4 seq_gap events. playwright-core via $WEB_DIR.
import { check, openBrowser, run, viewOpener } from "./harness.mjs";

const [server, host, from, to] = process.argv.slice(2);
if (!to) {
  console.error("usage: check_gaps.mjs SERVER HOST FROM TO");
  process.exit(2);
}
const range = `from=${from}&to=${to}`;
const { browser, page, errors } = await openBrowser();
const open = viewOpener(page, server);

await run(browser, async () => {
  check(await open(`#/host/${encodeURIComponent(host)}?${range}`) === "ready", "host view draws");
  const v = await page.evaluate(() => ({
    findings: [...document.querySelectorAll("#findings .finding")].map((f) => ({
      layer: f.dataset.layer, title: f.querySelector("h3").textContent,
      gaps: f.querySelectorAll("li.gap").length, text: f.textContent })),
    rows: [...document.querySelectorAll("#gaps-table tbody tr")].map((tr) => [...tr.cells].map((td) => td.textContent)),
  }));
  const up = v.findings.find((f) => f.layer === "upstream");
  check(v.findings.length === 1 && up && up.title.includes("20 packets lost upstream, before this host"),
    `diagnosis: one upstream finding (${JSON.stringify(v.findings.map((f) => f.title))})`);
  check(up && up.gaps === 4 && up.text.includes("check the switch"), "the finding lists its 4 gaps and the remedy");
  check(v.rows.length === 4 && v.rows.reduce((n, r) => n + Number(r[3]), 0) === 20,
    `sequence gaps table: ${v.rows.length} rows, ${v.rows.map((r) => r[3]).join("+")} missing`);
  check(v.rows.every((r) => r[1] === "239.9.9.9:5400"), "each row names the probe");

  check(await open(`#/timeline?${range}&hosts=${encodeURIComponent(host)}`) === "ready", "timeline draws");
  const events = await page.evaluate(() =>
    [...document.querySelectorAll("#timeline-table tr.seq_gap")].map((tr) => tr.cells[3].textContent));
  check(events.length === 4 && events.every((t) => t.startsWith("the probe of 239.9.9.9:5400 missed")),
    `timeline: 4 seq_gap events (${events.length})`);
  check(errors.length === 0, `no console errors (${errors.join(" | ") || "none"})`);
});
