// harness.mjs: what the browser checks share: playwright-core (found
// through $WEB_DIR, else web/ beside tests/), Debian's Chromium launched
// for a machine with no network beyond loopback, a page whose console
// errors are kept, and the check/finish bookkeeping.
import { createRequire } from "node:module";
import path from "node:path";

const webDir = process.env.WEB_DIR || path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../web");
const { chromium } = createRequire(path.join(webDir, "package.json"))("playwright-core");

let failures = 0;
export function check(ok, what) {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures++;
}

// A 1400x900 page (with contextOptions: Playwright's, e.g. timezoneId);
// its console errors and uncaught exceptions go to errors.
export async function openBrowser(contextOptions = {}) {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    // As root, and on a machine with no network beyond loopback: no sandbox,
    // and none of Chromium's own background connections.
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, ...contextOptions });
  const errors = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(`uncaught: ${e.message}`));
  return { browser, page, errors };
}

// A function that opens a view of the page at server (its hash) and waits
// until it has drawn or shown its error, returning body's data-state. The
// state is cleared first: a hash change keeps the page, and the last view's
// "ready" with it.
export function viewOpener(page, server) {
  let loaded = false;
  return async (hash) => {
    if (!loaded) {
      await page.goto(`${server}/${hash}`);
      loaded = true;
    } else {
      await page.evaluate((h) => { delete document.body.dataset.state; location.hash = h; }, hash);
    }
    await page.waitForFunction(() => document.body.dataset.state, null, { timeout: 20000 });
    return page.evaluate(() => document.body.dataset.state);
  };
}

// Runs the checks in body, counts a throw as a failure, closes the browser
// and exits 0 only when every check passed.
export async function run(browser, body) {
  try {
    await body();
  } catch (e) {
    check(false, `the check stopped: ${e.message}`);
  } finally {
    await browser.close();
  }
  console.log(failures ? `${failures} checks failed` : "all browser checks passed");
  process.exit(failures ? 1 : 0);
}
