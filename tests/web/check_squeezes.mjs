// check_squeezes.mjs SERVER HOST N FROM TO: opens the web view in headless
// Chromium for a host that only squeezed (test_squeeze_not_drop.sh) and
// checks what a person sees: 0 drops and no drops chart, the N squeezes in
// the API's words, in a chart and a column of their own; on the host view
// no finding, the squeezes as a warning. playwright-core via $WEB_DIR.
import { check, openBrowser, run, viewOpener } from "./harness.mjs";

const [server, host, n, from, to] = process.argv.slice(2);
if (!to) {
  console.error("usage: check_squeezes.mjs SERVER HOST N FROM TO");
  process.exit(2);
}
const count = Number(n).toLocaleString("en-US"), range = `from=${from}&to=${to}`;
const words = "squeezes (softirq budget ran out: a precursor, not a loss)";

const { browser, page, errors } = await openBrowser();
const open = viewOpener(page, server);

await run(browser, async () => {
  check(await open(`#/fleet?${range}`) === "ready", "fleet view draws");
  const fleet = await page.evaluate(() => ({
    summary: document.querySelector(".view-fleet .summary").textContent,
    dropsChart: !!document.querySelector("#fleet-drops"),
    squeezeChart: (document.querySelector("#fleet-squeezes") || {}).uplot?.series.slice(1).map((s) => s.label),
    hot: document.querySelectorAll("#heatmap td.hot").length,
    row: [...document.querySelectorAll("#hosts-table tbody tr")].map((tr) => ({
      host: tr.dataset.host, cells: [...tr.cells].map((td) => td.textContent.trim()),
      layers: tr.querySelectorAll(".layer-count").length,
      squeezes: (tr.querySelector("td.squeezes") || { textContent: "?" }).textContent.trim(),
    })),
  }));
  check(fleet.summary.includes("0 drops") && fleet.summary.includes(`${count} ${words}`),
    `fleet summary: "${fleet.summary}"`);
  check(!fleet.dropsChart, "no drops chart: nothing was lost");
  check(JSON.stringify(fleet.squeezeChart) === '["budget (squeezes)"]',
    `the squeezes' own chart: ${JSON.stringify(fleet.squeezeChart)}`);
  check(fleet.hot === 0, `the drops heatmap has no hot cell (${fleet.hot})`);
  const r = fleet.row.find((x) => x.host === host) || { cells: [], layers: -1, squeezes: "missing" };
  check(r.cells[4] === "0" && r.layers === 0 && r.squeezes === count,
    `hosts table: ${host} drops ${r.cells[4]}, ${r.layers} drop layers, squeezes ${r.squeezes}`);

  check(await open(`#/host/${encodeURIComponent(host)}?${range}`) === "ready", "host view draws");
  const hostView = await page.evaluate(() => ({
    summary: document.querySelector(".view-host .summary").textContent,
    findings: document.querySelectorAll("#findings .finding").length,
    warning: (document.querySelector("#precursors .finding.precursor h3") || { textContent: "" }).textContent,
    dropsChart: !!document.querySelector("#host-drops"),
    squeezeChart: !!(document.querySelector("#host-squeezes") || {}).uplot,
  }));
  check(hostView.summary.startsWith("0 drops (none)") && hostView.summary.includes(`${count} ${words}`),
    `host summary: "${hostView.summary}"`);
  check(hostView.findings === 0 && hostView.warning.includes(`Warning: ${count} ${words} at the budget layer`),
    `diagnosis: no finding, the warning "${hostView.warning}"`);
  check(!hostView.dropsChart && hostView.squeezeChart, "host: a squeezes chart, no drops chart");
  check(errors.length === 0, `no console errors (${errors.join(" | ") || "none"})`);
});
