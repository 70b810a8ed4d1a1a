#!/usr/bin/env node
// Finds every *.test.ts under src/ and test/ and runs them with node's test runner
// through tsx. Node 20's --test does not expand globs, so we do it here.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

const roots = process.argv.length > 2 ? process.argv.slice(2) : ['src', 'test'];
const files = [];
function walk(p) {
  const st = statSync(p);
  if (st.isFile()) {
    if (p.endsWith('.test.ts')) files.push(p);
    return;
  }
  for (const name of readdirSync(p).sort()) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    walk(join(p, name));
  }
}
for (const r of roots) walk(r);
if (files.length === 0) {
  console.error('no test files found under', roots.join(', '));
  process.exit(1);
}
const args = ['--import', 'tsx', '--test', '--test-reporter=spec', `--test-concurrency=${process.env.TEST_CONCURRENCY ?? '2'}`, ...files];
const child = spawn(process.execPath, args, { stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
