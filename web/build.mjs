// Builds the dashboard into OUTDIR: assets/app-HASH.js and .css (content-hashed, cached
// forever by vigild) and index.html that names them. Nothing is fetched at run time: no CDN,
// no web fonts; the browser gets only what vigild embeds.
//   node build.mjs --outdir DIR
import * as esbuild from "esbuild";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outIndex = args.indexOf("--outdir");
const outdir = resolve(outIndex >= 0 ? args[outIndex + 1] : join(here, "dist"));

rmSync(outdir, { recursive: true, force: true });
mkdirSync(join(outdir, "assets"), { recursive: true });

const result = await esbuild.build({
  entryPoints: { app: join(here, "src", "main.tsx") },
  bundle: true,
  minify: true,
  sourcemap: false,
  format: "esm",
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  jsx: "automatic",
  jsxImportSource: "preact",
  outdir: join(outdir, "assets"),
  entryNames: "[name]-[hash]",
  assetNames: "[name]-[hash]",
  metafile: true,
  legalComments: "none",
  logLevel: "warning",
});

let js = "", css = "";
for (const out of Object.keys(result.metafile.outputs)) {
  if (out.endsWith(".js")) js = basename(out);
  if (out.endsWith(".css")) css = basename(out);
}
if (!js) throw new Error("esbuild produced no JavaScript bundle");

// The favicon is inline: a browser asks for /favicon.ico otherwise, and a 404 is a console error.
const icon = "data:image/svg+xml," + encodeURIComponent(
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><path d="M8 1 2 3.5V8c0 3.3 2.6 6.2 6 7 3.4-.8 6-3.7 6-7V3.5z" fill="#1f6feb"/></svg>');
const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Vigil</title>
<link rel="icon" href="${icon}">
${css ? `<link rel="stylesheet" href="/assets/${css}">` : ""}
<script type="module" src="/assets/${js}"></script>
</head>
<body>
<div id="app"><noscript>The Vigil dashboard needs JavaScript.</noscript></div>
</body>
</html>
`;
writeFileSync(join(outdir, "index.html"), html);
console.log(`dashboard: ${outdir}/index.html, assets/${js}${css ? ", assets/" + css : ""}`);
