#!/usr/bin/env node
// Runs the ftb-offline binary of this platform, which npm installed as one of this package's optionalDependencies
// (@ftb-offline/<platform>-<arch>, the way esbuild and biome ship theirs), with this command's arguments. Ctrl-C and
// SIGTERM reach the binary, so `ftb-offline start` stops as cleanly as when run directly, and this command ends as
// the binary did: with its exit code, or by its signal. FTB_OFFLINE_BINARY=/path/to/ftb-offline runs that binary
// instead. No dependencies.
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const manifest = require('../package.json');

function fail(message) {
  process.stderr.write(`ftb-offline: ${message}\n`);
  process.exit(1);
}

function binaryPath() {
  const override = process.env.FTB_OFFLINE_BINARY;
  if (override) {
    return override;
  }
  const platform = `${process.platform}-${process.arch}`;
  const name = `@ftb-offline/${platform}`;
  const supported = Object.keys(manifest.optionalDependencies || {});
  if (!supported.includes(name)) {
    fail(
      `there is no prebuilt binary for ${process.platform} ${process.arch} (there are for ` +
        `${supported.map((p) => p.replace('@ftb-offline/', '')).join(', ')}). Build it from source with ` +
        '`cargo install ftb-offline` (Rust), or point FTB_OFFLINE_BINARY at an ftb-offline binary.'
    );
  }
  let dir;
  try {
    dir = path.dirname(require.resolve(`${name}/package.json`));
  } catch {
    fail(
      `the binary for ${process.platform} ${process.arch} is not installed. It comes in the package ` +
        `${name}@${manifest.version}, an optional dependency of ftb-offline, which npm leaves out when it installs ` +
        'with --no-optional or --omit=optional (or omit=optional in .npmrc), or when a package-lock.json written on ' +
        `another platform lacks it. Install again without that flag (\`npm i -D ftb-offline\`, or ` +
        `\`npm i -D ${name}@${manifest.version}\`), or build the binary with Rust, \`cargo install ftb-offline\`, and ` +
        'run it directly or through FTB_OFFLINE_BINARY=/path/to/ftb-offline.'
    );
  }
  return path.join(dir, 'bin', 'ftb-offline');
}

const binary = binaryPath();
if (!fs.existsSync(binary)) {
  fail(`${binary} does not exist${process.env.FTB_OFFLINE_BINARY ? ' (FTB_OFFLINE_BINARY)' : '; reinstall ftb-offline'}.`);
}

const child = spawn(binary, process.argv.slice(2), { stdio: 'inherit' });

// The terminal sends Ctrl-C to the binary too (same process group); ftb-offline stops once however many it gets.
// Forwarding covers `kill <this pid>` from process managers, npm scripts and tests.
const forwarded = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];
const forward = (signal) => {
  if (child.exitCode === null && child.signalCode === null) {
    try {
      child.kill(signal);
    } catch {
      // It has just ended; its exit is handled below.
    }
  }
};
for (const signal of forwarded) {
  process.on(signal, forward);
}

child.on('error', (err) => {
  fail(`cannot run ${binary}: ${err.message}`);
});

child.on('exit', (code, signal) => {
  for (const name of forwarded) {
    process.removeListener(name, forward);
  }
  if (signal) {
    // End by the same signal, so the shell sees what the binary saw (130 after Ctrl-C); the exit code it
    // implies if the signal cannot be raised on this process.
    process.kill(process.pid, signal);
    process.exit(128 + (os.constants.signals[signal] || 0));
  }
  process.exit(code === null ? 1 : code);
});
