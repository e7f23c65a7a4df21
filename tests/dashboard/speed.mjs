#!/usr/bin/env node
// How fast the dashboard's pages render on a large database: starts vigild on an existing data
// directory (e.g. the 5,000,000 events of `vigil_server_bench query --events 5000000 --data
// /tmp/vigil-5m`), signs in with headless Chromium, and times each page from the start of its
// navigation to its first meaningful render (the data drawn, not a spinner), measured inside the
// page (a MutationObserver notes performance.now() when every element that means "drawn" is
// there): the median and slowest of N loads.
//   node tests/dashboard/speed.mjs --build BUILD --data /tmp/vigil-5m [--user admin]
//        [--password bench-password] [--runs 5] [--shots DIR]   (DIR: a screenshot of each page)
// Not a test: speed targets live in benchmarks (it prints numbers; docs/dashboard.md has them).
import { Processes, Vigild, chromiumPath, launchBrowser, loadPlaywright, path, skip, tempDir,
         rmSync } from "./lib.mjs";

const args = process.argv.slice(2);
const opt = (name, def) => (args.includes(name) ? args[args.indexOf(name) + 1] : def);
const build = path.resolve(opt("--build", "build"));
const data = opt("--data", "/tmp/vigil-5m");
const user = opt("--user", "admin");
const password = opt("--password", "bench-password");
const runs = Number(opt("--runs", "5"));
const shots = opt("--shots", "");

const playwright = loadPlaywright();
if (!playwright || !chromiumPath()) skip("playwright-core or chromium missing");

// Each page, and what "rendered" means for it.
const kPages = [
  ["Overview", "/", ["figure.chart svg rect", "section[aria-labelledby=s-top-rules] tbody tr",
                     "section[aria-labelledby=s-top-attackers] tbody tr",
                     "section[aria-labelledby=s-applications-and-sensor-health] tbody tr"]],
  ["Incidents", "/incidents", ["tr[data-incident]"]],
  ["Events", "/events", ["table[aria-label^=Events] tbody tr td time"]],
  ["Events: exploited", "/events?outcome=exploited", ["table[aria-label^=Events] tbody tr td time"]],
  ["Incident", "FIRST_INCIDENT", ["[data-testid=incident-summary]", ".timeline li"]],
];

const work = tempDir("vigil-dashboard-speed.");
const procs = new Processes();
let browser;
try {
  const vigild = new Vigild(procs, build, work, password, data);
  await vigild.start();
  await (async () => {
    const r = await fetch(vigild.url + "/api/v1/session", {
      method: "POST", body: JSON.stringify({ username: user, password }),
      headers: { "Content-Type": "application/json" } });
    const { token } = await r.json();
    const inc = await (await fetch(vigild.url + "/api/v1/incidents?limit=1",
                                   { headers: { Authorization: "Bearer " + token } })).json();
    kPages[4][1] = "/incidents/" + (inc[0]?.id ?? 1);
  })();
  console.log(`vigild on ${vigild.url}, data ${data}`);
  browser = await launchBrowser(playwright);
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  // Installed in every document before its scripts run: notes when the page's data is drawn.
  await context.addInitScript((map) => {
    const want = map[location.pathname + location.search];
    if (!want) return;
    const obs = new MutationObserver(() => check());
    function check() {
      if (want.every((s) => document.querySelector(s))) {
        window.__rendered = performance.now();
        obs.disconnect();
      }
    }
    document.addEventListener("DOMContentLoaded", () => {
      obs.observe(document.body, { childList: true, subtree: true });
      check();
    });
  }, Object.fromEntries(kPages.map(([, url, sel]) => [url, sel])));
  const page = await context.newPage();
  page.setDefaultTimeout(30000);
  await page.goto(vigild.url + "/");
  await page.getByLabel("User name").fill(user);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Overview" }).waitFor();
  console.log(`page                  median     slowest   (${runs} loads each, after one warm-up)`);
  for (const [name, url, selectors] of kPages) {
    const times = [];
    for (let i = 0; i <= runs; i++) {
      await page.goto("about:blank");
      await page.goto(vigild.url + url);
      for (const s of selectors) await page.locator(s).first().waitFor();
      await page.waitForFunction(() => window.__rendered !== undefined);
      if (i > 0) times.push(Math.round(await page.evaluate(() => window.__rendered)));
    }
    if (shots) {
      await page.waitForTimeout(300);  // the last requests' data (sensors, counts) drawn too
      await page.screenshot({ path: path.join(shots, name.toLowerCase().replace(/[^a-z]+/g, "-") + ".png"),
                              fullPage: false });
    }
    times.sort((a, b) => a - b);
    console.log(`${name.padEnd(20)} ${String(times[Math.floor(times.length / 2)]).padStart(6)} ms ${String(times[times.length - 1]).padStart(8)} ms`);
  }
} finally {
  if (browser) await browser.close();
  await procs.stopAll();
  rmSync(work, { recursive: true, force: true });
}
