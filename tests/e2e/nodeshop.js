#!/usr/bin/env node
// A deliberately vulnerable shop in plain Node.js (http, child_process, fs): the "any runtime"
// proof for the agent. Same routes and answers as the C++ shop (examples/shop/shop.cpp) except
// the SQL ones (Node has no SQLite in its standard library). Every handler builds its operation
// by string concatenation. Listens on 127.0.0.1 only; its fetcher refuses every destination
// that is not loopback.
//
// With --h2c it serves HTTP/2 without TLS (prior knowledge), through http2's compatibility API:
// the same handler, the same answers.
//
// usage: nodeshop.js PORT DATA_DIR [--h2c]
'use strict';
const http = require('http');
const http2 = require('http2');
const fs = require('fs');
const path = require('path');
const dns = require('dns');
const net = require('net');
const { exec, execSync } = require('child_process');

const PORT = Number(process.argv[2]);
const DATA = process.argv[3];

fs.mkdirSync(path.join(DATA, 'files'), { recursive: true });
fs.writeFileSync(path.join(DATA, 'files', 'manual.txt'), 'How to assemble the desk lamp: screw the shade on.\n');
fs.writeFileSync(path.join(DATA, 'files', 'terms.txt'), 'Terms: be nice.\n');

function reply(res, code, body, type = 'text/plain; charset=utf-8', headers = {}) {
  const data = Buffer.isBuffer(body) ? body : Buffer.from(body);
  res.writeHead(code, Object.assign({ 'Content-Type': type, 'Content-Length': data.length }, headers));
  res.end(data);
}

function isLoopback(addr) {
  return net.isIPv4(addr) ? addr.startsWith('127.') : addr === '::1';
}

function fetch(res, target) {
  if (target.startsWith('file://')) {
    return fs.readFile(target.slice(7), (err, data) =>
      err ? reply(res, 404, 'cannot open: ' + err.code + '\n') : reply(res, 200, data));
  }
  if (!target.startsWith('http://')) return reply(res, 400, 'http: and file: URLs only\n');
  let u;
  try { u = new URL(target); } catch (e) { return reply(res, 400, 'bad url\n'); }
  const host = u.hostname.replace(/^\[|\]$/g, '');
  dns.lookup(host, { all: true }, (err, addrs) => {
    if (err) return reply(res, 502, 'cannot resolve ' + host + '\n');
    if (!addrs.every((a) => isLoopback(a.address))) {
      return reply(res, 400, 'this demo fetches loopback addresses only\n');
    }
    const req = http.get(target, { timeout: 2000 }, (r) => {
      const chunks = [];
      r.on('data', (c) => chunks.push(c));
      r.on('end', () => reply(res, 200, Buffer.concat(chunks).subarray(0, 65536)));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => reply(res, 502, 'cannot fetch: ' + (e.code || 'error') + '\n'));
  });
}

const H2C = process.argv[4] === '--h2c';
const server = (H2C ? http2.createServer : http.createServer)((req, res) => {
  const u = new URL(req.url, 'http://127.0.0.1');
  const q = (name, dflt) => (u.searchParams.has(name) ? u.searchParams.get(name) : dflt);
  try {
    switch (u.pathname) {
      case '/':
        return reply(res, 200, '<!DOCTYPE html><html><body><h1>Vigil demo shop (Node.js)</h1></body></html>\n',
                     'text/html; charset=utf-8');
      case '/ping': {
        const host = q('host', '127.0.0.1');
        if (q('mode') === 'quiet') {
          let ok = true;
          try { execSync('ping -c 1 -W 1 -q ' + host + ' >/dev/null 2>&1'); } catch (e) { ok = false; }
          return reply(res, 200, host + (ok ? ' is up\n' : ' did not answer\n'));
        }
        return exec('ping -c 1 -W 1 -q ' + host + ' 2>&1', { timeout: 5000 }, (err, stdout) => {
          if (err && !stdout) return reply(res, 500, 'ping failed: ' + (err.code || 'error') + '\n');
          // Timings differ run to run: the answer keeps what ping found, not how fast.
          reply(res, 200, stdout.split(/(?<=\n)/).filter((l) => !l.startsWith('rtt '))
            .map((l) => l.replace(/, time .*/, '')).join(''));
        });
      }
      case '/download':
        return fs.readFile(path.join(DATA, 'files') + '/' + q('file', ''), (err, data) =>
          err ? reply(res, 404, 'cannot open file: ' + err.code + '\n')
              : reply(res, 200, data, 'application/octet-stream'));
      case '/fetch': {
        const target = q('url', '');
        if (!target) return reply(res, 400, 'give a url\n');
        return fetch(res, target);
      }
      case '/hello':
        return reply(res, 200, '<!DOCTYPE html><html><body><p>Hello, ' + q('name', 'guest') + '!</p></body></html>\n',
                     'text/html; charset=utf-8');
      case '/go':
        res.writeHead(302, { Location: q('to', '/'), 'Content-Length': 0 });
        return res.end();
      case '/lang':
        // Node refuses CR/LF in header values (ERR_INVALID_CHAR): caught below, answered 500.
        return reply(res, 200, 'language set\n', 'text/plain; charset=utf-8',
                     { 'Set-Cookie': 'lang=' + q('set', 'en') + '; Path=/' });
      case '/internal/config':
        return reply(res, 200, 'db_password=hunter2\napi_key=demo-internal-key\n');
      default:
        return reply(res, 404, 'not found\n');
    }
  } catch (e) {
    if (!res.headersSent) reply(res, 500, 'error: ' + (e.code || e.name) + '\n');
  }
});
if (!H2C) server.keepAliveTimeout = 5000;
server.listen(PORT, '127.0.0.1', () => console.log('nodeshop: listening on http://127.0.0.1:' + PORT + '/' +
                                                   (H2C ? ' (h2c)' : '')));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
