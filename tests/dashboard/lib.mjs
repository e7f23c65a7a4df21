// Shared pieces of the dashboard tests: a real vigild on a free loopback port, the demo shop
// under `vigil run`, headless Chromium through playwright-core. Every process started here is
// stopped here; every wait is bounded; all traffic stays on 127.0.0.1.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const SKIP = 77;  // CTest SKIP_RETURN_CODE

export function skip(why) {
  console.log("SKIP: " + why);
  process.exit(SKIP);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// playwright-core comes with the dashboard's npm packages (web/node_modules).
export function loadPlaywright() {
  const require = createRequire(path.join(ROOT, "web", "package.json"));
  try {
    return require("playwright-core");
  } catch {
    return null;
  }
}

// axe-core's source (web/node_modules), evaluated in a page to check its accessibility.
export function loadAxeSource() {
  const require = createRequire(path.join(ROOT, "web", "package.json"));
  try {
    return readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
  } catch {
    return null;
  }
}

export function chromiumPath() {
  for (const p of [process.env.CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"])
    if (p && existsSync(p)) return p;
  return null;
}

export async function launchBrowser(playwright) {
  const args = ["--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-default-apps", "--disable-sync", "--no-default-browser-check"];
  // Chromium refuses to run as root with its sandbox.
  if (process.getuid && process.getuid() === 0) args.push("--no-sandbox");
  return playwright.chromium.launch({ executablePath: chromiumPath(), headless: true, args,
                                      timeout: 60000 });
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export async function waitUntil(predicate, timeoutMs, stepMs = 200) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await predicate();
    if (v || Date.now() > deadline) return v;
    await sleep(stepMs);
  }
}

export class Processes {
  constructor() {
    this.list = [];
  }
  start(argv, { env = {}, log }) {
    const fd = openSync(log, "a");
    const full = { ...process.env, ...env };
    delete full.LD_PRELOAD;
    const p = spawn(argv[0], argv.slice(1), { env: full, stdio: ["ignore", fd, fd], detached: true });
    p.exited = new Promise((r) => p.once("exit", (code, sig) => r(code ?? sig)));
    this.list.push(p);
    return p;
  }
  async stopAll() {
    for (const p of this.list.reverse()) {
      if (p.exitCode !== null || p.signalCode !== null) continue;
      try {
        process.kill(-p.pid, "SIGTERM");
      } catch {}
      const t = await Promise.race([p.exited, sleep(10000).then(() => "timeout")]);
      if (t === "timeout") {
        try {
          process.kill(-p.pid, "SIGKILL");
        } catch {}
        await Promise.race([p.exited, sleep(5000)]);
      }
    }
  }
}

export class Vigild {
  constructor(procs, build, work, password, data) {
    this.procs = procs;
    this.exe = path.join(build, "bin", "vigild");
    this.data = data ?? path.join(work, "vigild-data");
    this.portFile = path.join(work, "vigild.port");
    this.log = path.join(work, "vigild.log");
    this.password = password;
    this.url = "";
  }
  async start(extra = []) {
    rmSync(this.portFile, { force: true });
    this.proc = this.procs.start([this.exe, "--data", this.data, "--listen", "127.0.0.1:0",
                                  "--port-file", this.portFile, ...extra],
                                 { env: { VIGIL_ADMIN_PASSWORD: this.password }, log: this.log });
    const ok = await waitUntil(async () => {
      if (this.proc.exitCode !== null) throw new Error(`vigild exited (log: ${this.log})`);
      if (!existsSync(this.portFile)) return false;
      const port = parseInt(readFileSync(this.portFile, "utf8"), 10);
      if (!port) return false;
      this.url = `http://127.0.0.1:${port}`;
      try {
        return (await fetch(this.url + "/healthz")).status === 200;
      } catch {
        return false;
      }
    }, 60000, 100);
    if (!ok) throw new Error(`vigild did not become ready (log: ${this.log})`);
  }
}

// vigild's API with a bearer token (the test's own checks; the browser uses its cookie).
export class Api {
  constructor(base) {
    this.base = base;
    this.token = "";
  }
  async call(method, p, body) {
    const headers = { "Content-Type": "application/json" };
    if (this.token) headers.Authorization = "Bearer " + this.token;
    const r = await fetch(this.base + p, { method, headers,
                                           body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = text;
    }
    return { status: r.status, headers: r.headers, body: data };
  }
  async login(user, password) {
    const r = await this.call("POST", "/api/v1/session", { username: user, password });
    if (r.status !== 200) throw new Error(`sign-in failed: ${r.status} ${JSON.stringify(r.body)}`);
    this.token = r.body.token;
  }
}

// One request to the shop on its own connection: {status, headers}.
export async function shopGet(port, target, agent = "vigil-dashboard-e2e") {
  try {
    const r = await fetch(`http://127.0.0.1:${port}${target}`,
                          { headers: { "User-Agent": agent, Connection: "close" } });
    await r.arrayBuffer();
    return { status: r.status, headers: r.headers };
  } catch (e) {
    return { status: 0, headers: new Headers(), error: String(e) };
  }
}

export function tempDir(prefix) {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export { path, existsSync, writeFileSync, rmSync };
