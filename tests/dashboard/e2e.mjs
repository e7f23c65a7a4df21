#!/usr/bin/env node
// The dashboard end to end, in real headless Chromium (playwright-core) against a real vigild
// (SQLite in a temporary directory) and the demo shop under
// `vigil run --mode monitor --server URL --key KEY`:
//   sign-in (a wrong password first: a clear error), the overview; an SQL injection sent to the
//   shop appears as an incident; its page shows the SQL query with the input highlighted (the
//   highlighted text is the payload); "Switch rule sql-injection to block" on the page reaches
//   the agent within 5 s (long-poll), the identical attack then gets a 403, and its `blocked`
//   event appears in the Events explorer. Any console error fails the test.
// Screenshots of every step: BUILD/test-artifacts/dashboard/.
//   node tests/dashboard/e2e.mjs --build BUILD [--keep]
import { mkdirSync } from "node:fs";
import { Api, Processes, Vigild, chromiumPath, existsSync, launchBrowser, loadAxeSource,
         loadPlaywright, path, rmSync, shopGet, skip, tempDir, waitUntil, writeFileSync,
         freePort } from "./lib.mjs";

const args = process.argv.slice(2);
const build = path.resolve(args[args.indexOf("--build") + 1] ?? "build");
const keep = args.includes("--keep");
const PASSWORD = "dashboard-e2e-password";
const PAYLOAD = "2 OR 1=1";
const ATTACK = "/product?id=" + encodeURIComponent(PAYLOAD);
const failures = [];
const t0 = Date.now();
const elapsed = () => ((Date.now() - t0) / 1000).toFixed(1) + "s";

function check(cond, msg) {
  console.log((cond ? "  ok   " : "FAIL: ") + msg);
  if (!cond) failures.push(msg);
  return cond;
}

for (const f of ["bin/vigild", "bin/vigil", "bin/vigil-shop", "lib/libvigil_preload.so"])
  if (!existsSync(path.join(build, f))) skip(`${f} is not built`);
const playwright = loadPlaywright();
if (!playwright) skip("playwright-core is not installed (npm ci in web/)");
if (!chromiumPath()) skip("chromium is not installed (scripts/install-deps)");
const axeSource = loadAxeSource();
if (!axeSource) skip("axe-core is not installed (npm ci in web/)");

const shots = path.join(build, "test-artifacts", "dashboard");
rmSync(shots, { recursive: true, force: true });
mkdirSync(shots, { recursive: true });
const work = tempDir("vigil-dashboard-e2e.");
const procs = new Processes();
let browser;
let currentPage = null;  // for a screenshot when a step fails
const consoleErrors = [];
let expectedConsoleErrors = [];  // regexes of errors a step provokes on purpose

// axe-core on the page as it is (labels, roles, names, contrast, keyboard access to scrolling
// regions): no serious or critical violation; and nothing wider than the window.
async function audit(page, name, axe = true) {
  const [scroll, inner] = await page.evaluate(() => [document.documentElement.scrollWidth,
                                                     window.innerWidth]);
  check(scroll <= inner, `${name}: no horizontal scrolling at ${inner} px (content ${scroll} px)`);
  if (!axe) return;
  await page.evaluate(axeSource);
  const r = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const bad = r.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  for (const v of r.violations)
    if (!bad.includes(v)) console.log(`  note ${name}: ${v.impact} ${v.id}: ${v.help}`);
  check(bad.length === 0, `${name}: no serious accessibility violation (axe-core)` +
        bad.map((v) => ` | ${v.id}: ${v.help} at ${v.nodes[0]?.target}`).join(""));
}

async function main() {
  const vigild = new Vigild(procs, build, work, PASSWORD);
  await vigild.start();
  console.log(`== vigild on ${vigild.url} [${elapsed()}]`);
  const api = new Api(vigild.url);
  await api.login("admin", PASSWORD);
  const key = await api.call("POST", "/api/v1/keys", { app: "shop", name: "dashboard-e2e" });
  check(key.status === 200 && String(key.body?.key).startsWith("vk_"), "agent key for app shop");
  const keyFile = path.join(work, "agent.key");
  writeFileSync(keyFile, key.body.key + "\n", { mode: 0o600 });

  const port = await freePort();
  procs.start([path.join(build, "bin", "vigil"), "run", "--mode", "monitor", "--app", "shop",
               "--server", vigild.url, "--key-file", keyFile, "--spool", path.join(work, "spool"),
               "--", path.join(build, "bin", "vigil-shop"), "--port", String(port),
               "--data", path.join(work, "shop-data")],
              { env: { VIGIL_HEARTBEAT: "2" }, log: path.join(work, "shop.log") });
  const up = await waitUntil(async () => (await shopGet(port, "/")).status === 200, 30000, 100);
  if (!check(up, "the shop answers under the agent")) return;
  const registered = await waitUntil(async () => {
    const r = await api.call("GET", "/api/v1/agents?app=shop");
    return r.status === 200 && r.body.length === 1 && r.body[0].state === "ok";
  }, 15000);
  check(registered, "the shop's agent registered with vigild");

  console.log(`== the attack, monitor mode [${elapsed()}]`);
  const first = await shopGet(port, ATTACK);
  check(first.status === 200, `before: GET ${decodeURIComponent(ATTACK)} answers ${first.status}`);
  const incident = await waitUntil(async () => {
    const r = await api.call("GET", "/api/v1/incidents?app=shop");
    return (r.body ?? []).find((i) => i.outcome === "exploited");
  }, 20000);
  if (!check(incident, `vigild formed an exploited incident: ${incident?.summary}`)) return;
  // A second, lower incident (a probe from another address, posted with the agent key) gives
  // the keyboard navigation somewhere to go.
  const probe = await fetch(vigild.url + "/api/v1/events", {
    method: "POST", headers: { Authorization: "Bearer " + key.body.key, "Content-Type": "application/json" },
    body: JSON.stringify([{ event_id: "d0".repeat(16), time: new Date().toISOString(), app: "shop",
      outcome: "probed", rule: "xss", severity: "medium", cwe: "CWE-79",
      request: { method: "GET", path: "/search", client_ip: "203.0.113.9", user_agent: "e2e" },
      input: { source: "query", name: "q", value: "<script>alert(1)</script>" } }]) });
  check(probe.status === 202, `a probe from 203.0.113.9 posted (${probe.status})`);

  browser = await launchBrowser(playwright);
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  currentPage = page;
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    const text = m.text();
    const i = expectedConsoleErrors.findIndex((re) => re.test(text));
    if (i >= 0) expectedConsoleErrors.splice(i, 1);
    else consoleErrors.push(text);
  });
  page.on("pageerror", (e) => consoleErrors.push("page error: " + e.message));
  page.on("dialog", (d) => {  // an attacker's alert(1) must never run in the analyst's browser
    consoleErrors.push("dialog opened: " + d.message());
    d.dismiss().catch(() => {});
  });
  page.setDefaultTimeout(15000);
  const shot = async (name) => page.screenshot({ path: path.join(shots, name + ".png"), fullPage: true });

  console.log(`== sign in [${elapsed()}]`);
  await page.goto(vigild.url + "/");
  await page.getByLabel("User name").waitFor();
  await audit(page, "sign-in");
  await shot("01-sign-in");
  await page.getByLabel("User name").fill("admin");
  await page.getByLabel("Password").fill("not-the-password");
  expectedConsoleErrors = [/status of 401/];  // the browser logs the refused sign-in itself
  await page.getByRole("button", { name: "Sign in" }).click();
  const err = page.getByRole("alert");
  await err.waitFor();
  check((await err.textContent()) === "Wrong user name or password.",
        `a wrong password says so: "${await err.textContent()}"`);
  await shot("02-sign-in-error");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Overview" }).waitFor();
  check(expectedConsoleErrors.length === 0, "the refused sign-in was the only error logged");
  expectedConsoleErrors = [];
  await page.getByRole("heading", { name: "Attacks over time" }).waitFor();
  await page.locator("figure.chart svg").first().waitFor();
  await page.getByRole("cell", { name: "shop" }).first().waitFor();
  await shot("03-overview");

  console.log(`== the incident appears [${elapsed()}]`);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Incidents" }).click();
  const row = page.locator(`tr[data-incident="${incident.id}"]`);
  await row.waitFor();
  check((await row.textContent()).includes("SQL injection"), "the incident list shows the SQL injection");
  await shot("04-incidents");
  // Keyboard: the first row is selected; j moves down, k back up, Enter opens.
  await page.locator("tr[data-incident]").nth(1).waitFor();
  await page.locator("h1").click();
  await page.keyboard.press("j");
  check(await page.locator("tr.selected").getAttribute("data-incident") !== String(incident.id),
        "j selects the next incident");
  await page.keyboard.press("k");
  check(await page.locator("tr.selected").getAttribute("data-incident") === String(incident.id),
        "k selects the exploited incident again (first: it outranks the probe)");
  // The list refreshes itself while events arrive: Enter opens whichever row is selected at that
  // moment, which is what is checked; the proof below is read on the exploited incident.
  const selected = await page.locator("tr.selected").getAttribute("data-incident");
  await page.keyboard.press("Enter");
  await page.getByTestId("incident-summary").waitFor();
  check(page.url().endsWith(`/incidents/${selected}`), "Enter opens the selected incident");
  if (!page.url().endsWith(`/incidents/${incident.id}`)) {
    await page.goto(`${vigild.url}/incidents/${incident.id}`);
    await page.getByTestId("incident-summary").waitFor();
  }

  console.log(`== the incident: the query with the input highlighted [${elapsed()}]`);
  const mark = page.getByTestId("input-highlight");
  await mark.waitFor();
  const highlighted = await mark.textContent();
  const query = await page.getByTestId("sink-value").textContent();
  check(highlighted === PAYLOAD, `the highlighted text is the payload: "${highlighted}"`);
  check(/SELECT .* FROM products/.test(query), `inside the SQL query: "${query}"`);
  check((await page.getByText("CWE-89").count()) > 0, "CWE-89 is named");
  check((await page.getByText("T1190").count()) > 0, "the ATT&CK technique T1190 is named");
  await shot("05-incident");

  console.log(`== switch the rule to block from the page [${elapsed()}]`);
  const before = await api.call("GET", "/api/v1/apps/shop/policy");
  const clicked = Date.now();
  await page.getByRole("button", { name: "Switch rule sql-injection to block" }).click();
  await page.getByText(/sql-injection now blocks on shop \(policy version \d+\)/).waitFor();
  const after = await api.call("GET", "/api/v1/apps/shop/policy");
  check(after.body?.version > (before.body?.version ?? 0) &&
        after.body?.policy?.rules?.["sql-injection"] === "block",
        `the policy says sql-injection: block (version ${after.body?.version})`);
  await shot("06-rule-switched-to-block");
  let blockedAt = null;
  let eventId = "";
  await waitUntil(async () => {
    const r = await shopGet(port, ATTACK);
    if (r.status === 403) {
      blockedAt = (Date.now() - clicked) / 1000;
      eventId = r.headers.get("x-vigil-event") ?? "";
      return true;
    }
    return false;
  }, 10000, 100);
  check(blockedAt !== null && blockedAt <= 5,
        `the identical attack is answered 403 ${blockedAt === null ? "never" : blockedAt.toFixed(2) + " s"} after the click (<= 5 s)`);
  const auditLog = await api.call("GET", "/api/v1/audit?target=app:shop");
  check((auditLog.body ?? []).some((a) => a.action === "policy.update" && /^(user:)?admin$/.test(a.actor)),
        "the change is in the audit log, by admin");

  console.log(`== the blocked event in the Events explorer [${elapsed()}]`);
  const stored = await waitUntil(async () => {
    const r = await api.call("GET", "/api/v1/events?app=shop&outcome=blocked");
    return (r.body ?? []).some((e) => !eventId || e.event_id === eventId);
  }, 15000);
  check(stored, "a blocked event reached vigild");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Events" }).click();
  await page.getByLabel("Outcome").selectOption("blocked");
  const blockedRow = page.locator("tbody tr", { has: page.locator(".o-blocked") }).first();
  await blockedRow.waitFor();
  await blockedRow.getByRole("button").click();
  // Blocked before the query ran (input analysis in block mode): the detail names the input.
  const detail = page.locator(".event-detail", { has: page.locator(".o-blocked") });
  await detail.waitFor();
  check((await detail.textContent()).includes(`query:id = ${PAYLOAD}`),
        "the blocked event's detail shows the input query:id = the payload");
  if (eventId) {
    await page.goto(`${vigild.url}/events/${eventId}`);
    await page.locator(`[data-event="${eventId}"]`).waitFor();
    check((await page.locator(`[data-event="${eventId}"] .o-blocked`).count()) === 1,
          `/events/${eventId} (the id in the 403's X-Vigil-Event) shows the blocked event`);
  }
  await shot("07-blocked-event");

  // An attacker's markup is shown as text, never run.
  await page.goto(`${vigild.url}/events/${"d0".repeat(16)}`);
  const xss = page.locator(`[data-event="${"d0".repeat(16)}"]`);
  await xss.waitFor();
  check((await xss.textContent()).includes("query:q = <script>alert(1)</script>"),
        "the probe's <script> input is shown as text");
  check(await page.locator("main script").count() === 0, "and no script element is created");

  // The incident now counts the blocked attempt too.
  await page.goto(`${vigild.url}/incidents/${incident.id}`);
  await page.getByTestId("incident-summary").waitFor();
  await shot("08-incident-after-block");

  console.log(`== accessibility and layout from 1280 to 1920 px [${elapsed()}]`);
  for (const width of [1280, 1920]) {
    await page.setViewportSize({ width, height: 900 });
    for (const p of ["/", "/incidents", `/incidents/${incident.id}`, "/events", "/apps/shop",
                     "/users"]) {
      await page.goto(vigild.url + p);
      await page.locator("main h1").first().waitFor();
      await page.locator("main p[role=status]").first().waitFor({ state: "detached" });
      await audit(page, `${p} at ${width} px`, width === 1280);
    }
    await page.goto(`${vigild.url}/apps/shop`);
    await page.getByRole("tab", { name: "Policy" }).click();
    await page.getByRole("combobox", { name: "sql-injection", exact: true }).waitFor();
    check(await page.getByRole("combobox", { name: "sql-injection", exact: true }).inputValue() === "block",
          `the policy editor shows sql-injection in block mode (${width} px)`);
    await audit(page, `policy editor at ${width} px`, width === 1280);
    await shot(`09-policy-editor-${width}`);
  }

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByLabel("User name").waitFor();
  expectedConsoleErrors = [/status of 401/];
  const me = await page.evaluate(() => fetch("/api/v1/incidents").then((r) => r.status));
  check(me === 401, "signed out: the API refuses the browser (401)");
  await context.close();
}

let code = 0;
try {
  await Promise.race([
    main(),
    new Promise((_, reject) => setTimeout(() => reject(new Error("test took over 150 s")), 150000)),
  ]);
} catch (e) {
  check(false, "exception: " + (e?.stack ?? e));
  if (currentPage)
    await currentPage.screenshot({ path: path.join(shots, "99-failure.png"), fullPage: true })
      .catch(() => {});
} finally {
  check(consoleErrors.length === 0, `no console errors${consoleErrors.length ? ": " + consoleErrors.join(" | ") : ""}`);
  try {
    if (browser) await browser.close();
  } catch {}
  await procs.stopAll();
  if (failures.length) {
    console.log(`\n${failures.length} FAILED (work dir kept: ${work}; screenshots: ${shots})`);
    code = 1;
  } else {
    console.log(`\nall passed in ${elapsed()}; screenshots: ${shots}`);
    if (!keep) rmSync(work, { recursive: true, force: true });
  }
}
process.exit(code);
