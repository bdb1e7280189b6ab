#!/usr/bin/env node
// A WebDAV server for the integration tests: the npm package webdav-server (v2 API) on
// 127.0.0.1, HTTP Basic authentication for one user, files on disk or in memory.
//
// Usage: node webdav-server.js [--port N] [--user U] [--pass P] [--root DIR | --memory]
//                              [--quota BYTES] [--ignore-range] [--fault-paths] [--stdin-exit]
//   --port  0 (the default) lets the system pick a free port.
//   --user / --pass default to $JSYNC_WEBDAV_USER / $JSYNC_WEBDAV_PASS, else "jsync"/"jsync".
//   --root  serves DIR (created if missing); --memory (the default) keeps files in memory.
//   --quota limits what the user may store in this run (RFC 4331 properties are then reported
//           and writes past it answer 507 Insufficient Storage).
//   --ignore-range answers every GET with the whole file (200), as servers without Range do.
//   --fault-paths  answers a request whose path has a segment __status_NNN__ with status NNN
//           and `Retry-After: 7`, or __status_NNN_date__ with an HTTP-date 30 s ahead.
// Prints the base URL ("http://127.0.0.1:PORT/") as its first stdout line once listening,
// then serves until SIGTERM/SIGINT or until its stdin closes (when started with --stdin-exit).
'use strict';

const fs = require('fs');
const path = require('path');
const webdav = require('webdav-server').v2;

function usage(message) {
  process.stderr.write(`webdav-server.js: ${message}\n` +
      'usage: webdav-server.js [--port N] [--user U] [--pass P] [--root DIR | --memory]\n' +
      '                        [--quota BYTES] [--ignore-range] [--fault-paths] [--stdin-exit]\n');
  process.exit(2);
}

const opts = {
  port: 0,
  user: process.env.JSYNC_WEBDAV_USER || 'jsync',
  pass: process.env.JSYNC_WEBDAV_PASS || 'jsync',
  root: null,
  quota: 0,
  ignoreRange: false,
  faultPaths: false,
  stdinExit: false,
};
const args = process.argv.slice(2);
for (let i = 0; i < args.length; ++i) {
  const value = () => {
    if (i + 1 >= args.length) usage(`${args[i]} needs a value`);
    return args[++i];
  };
  switch (args[i]) {
    case '--port': {
      const text = value();
      opts.port = Number(text);
      if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
        usage(`bad port "${text}"`);
      }
      break;
    }
    case '--user': opts.user = value(); break;
    case '--pass': opts.pass = value(); break;
    case '--root': opts.root = path.resolve(value()); break;
    case '--memory': opts.root = null; break;
    case '--quota': {
      const text = value();
      opts.quota = Number(text);
      if (!Number.isInteger(opts.quota) || opts.quota <= 0) usage(`bad quota "${text}"`);
      break;
    }
    case '--ignore-range': opts.ignoreRange = true; break;
    case '--fault-paths': opts.faultPaths = true; break;
    case '--stdin-exit': opts.stdinExit = true; break;
    case '--help': case '-h': usage('help'); break;
    default: usage(`unknown argument "${args[i]}"`);
  }
}

const users = new webdav.SimpleUserManager();
const user = users.addUser(opts.user, opts.pass, false);
const privileges = new webdav.SimplePathPrivilegeManager();
privileges.setRights(user, '/', ['all']);

let rootFileSystem;
if (opts.root) {
  fs.mkdirSync(opts.root, {recursive: true});
  rootFileSystem = new webdav.PhysicalFileSystem(opts.root);
} else {
  rootFileSystem = new webdav.VirtualFileSystem();
}

const server = new webdav.WebDAVServer({
  hostname: '127.0.0.1',
  port: opts.port,  // 0: the system picks one
  requireAuthentification: true,
  httpAuthentication: new webdav.HTTPBasicAuthentication(users, 'jsync-test'),
  privilegeManager: privileges,
  rootFileSystem,
  storageManager: opts.quota > 0 ? new webdav.PerUserStorageManager(opts.quota)
                                 : new webdav.NoStorageManager(),
});

if (opts.ignoreRange) {
  server.beforeRequest((ctx, next) => {
    for (const name of Object.keys(ctx.request.headers)) {
      if (name.toLowerCase() === 'range') delete ctx.request.headers[name];
    }
    next();
  });
}

if (opts.faultPaths) {
  server.beforeRequest((ctx, next) => {
    let requestPath = ctx.request.url || '';
    try {
      requestPath = decodeURIComponent(requestPath);
    } catch (_) {
      // keep it encoded
    }
    const m = /(^|\/)__status_(\d{3})(_date)?__(\/|$)/.exec(requestPath);
    if (!m) return next();
    const retryAfter = m[3] ? new Date(Date.now() + 30000).toUTCString() : '7';
    ctx.response.writeHead(Number(m[2]), {'Retry-After': retryAfter, 'Content-Length': '0'});
    ctx.response.end();
  });
}

server.start((httpServer) => {
  const address = httpServer.address();
  process.stdout.write(`http://127.0.0.1:${address.port}/\n`);
});

function shutdown() {
  server.stop(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
if (opts.stdinExit) {
  process.stdin.on('end', shutdown);
  process.stdin.on('error', shutdown);
  process.stdin.resume();
}
