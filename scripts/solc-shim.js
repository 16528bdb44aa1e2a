#!/usr/bin/env node
// Makes solc-js (the npm `solc` package) answer like a native `solc` binary for
// the two calls py-solc-x and crytic-compile make:
//   solc --version                  -> "Version: x.y.z+commit.abcdef01..."
//   solc --standard-json [opts...]  -> standard JSON in on stdin, out on stdout
// Imports resolve against --base-path / --include-path / the project root and
// its node_modules, never outside the allowed roots.
'use strict';
const fs = require('fs');
const path = require('path');

const projectRoot = path.resolve(__dirname, '..');
const solc = require(path.join(projectRoot, 'node_modules', 'solc'));

const argv = process.argv.slice(2);

function fail(message) {
  process.stderr.write(`solc-shim: ${message}\n`);
  process.exit(2);
}

if (argv.includes('--version') || argv.includes('-v')) {
  process.stdout.write(
    'solc, the solidity compiler commandline interface\n' + `Version: ${solc.version()}\n`,
  );
  process.exit(0);
}

if (!argv.includes('--standard-json')) {
  fail('only --version and --standard-json are supported');
}

// Options that take a value; anything else we do not understand is ignored so
// that callers passing harmless flags (e.g. --allow-paths) keep working.
const roots = [];
for (let i = 0; i < argv.length; i += 1) {
  const arg = argv[i];
  const [flag, inline] = arg.includes('=') ? arg.split(/=(.*)/s, 2) : [arg, undefined];
  if (flag === '--base-path' || flag === '--include-path' || flag === '--allow-paths') {
    const value = inline !== undefined ? inline : argv[(i += 1)];
    if (value === undefined) fail(`${flag} needs a value`);
    for (const p of value.split(',')) if (p) roots.push(path.resolve(p));
  }
}
roots.push(projectRoot, path.join(projectRoot, 'node_modules'));

function findImports(importPath) {
  if (path.isAbsolute(importPath)) {
    const inside = roots.some((root) => importPath.startsWith(root + path.sep));
    if (inside && fs.existsSync(importPath)) {
      return { contents: fs.readFileSync(importPath, 'utf8') };
    }
    return { error: `File outside allowed paths or not found: ${importPath}` };
  }
  for (const root of roots) {
    const candidate = path.resolve(root, importPath);
    if (candidate.startsWith(root + path.sep) && fs.existsSync(candidate)) {
      return { contents: fs.readFileSync(candidate, 'utf8') };
    }
  }
  return { error: `File not found: ${importPath}` };
}

const chunks = [];
process.stdin.on('data', (chunk) => chunks.push(chunk));
process.stdin.on('end', () => {
  const input = Buffer.concat(chunks).toString('utf8');
  const output = solc.compile(input, { import: findImports });
  process.stdout.write(output);
  process.stdout.write('\n');
});
