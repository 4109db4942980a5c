#!/usr/bin/env node
// Validates forge/manifest.yml with Atlassian's own validator, @forge/manifest
// (pinned in package.json): `validate()` runs the full processor — YAML, the JSON
// schema, scopes, remotes, endpoints, resources (their folders and index.html must
// exist), permissions. It reads only local files: no network.
//
// The manifest's ${FORGE_APP_ID} and ${APP_BASE_URL} are Forge manifest variables
// set at `forge deploy`; when unset here, validation uses stand-ins.
//
//   node scripts/validate-forge-manifest.mjs [manifest.yml]   (default forge/manifest.yml)
//   node scripts/validate-forge-manifest.mjs --self-test      (also: a broken manifest must fail)
import { createRequire } from 'node:module';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { validate } = require('@forge/manifest');

process.env.FORGE_APP_ID ??= 'ari:cloud:ecosystem::app/00000000-0000-0000-0000-000000000000';
process.env.APP_BASE_URL ??= 'https://smart-courses.example.com';

async function check(file) {
  const result = await validate(false, file);
  const errors = (result.errors ?? []).filter((e) => e.level === 'error');
  for (const e of result.errors ?? []) {
    console.log(`  ${e.level} ${file}:${e.line ?? 0}: ${e.message}`);
  }
  return result.success && errors.length === 0;
}

const args = process.argv.slice(2);
const selfTest = args.includes('--self-test');
const file = resolve(args.find((a) => !a.startsWith('--')) ?? join(root, 'forge/manifest.yml'));

let ok = await check(file);
console.log(`${ok ? 'valid' : 'INVALID'}: ${file}`);

if (selfTest) {
  // Broken copies beside a copy of the resources: each must be refused, or the
  // check above could not fail.
  const breakages = {
    'unknown scope': (y) => y.replace('read:connect-confluence', 'read:no-such-scope'),
    'macro without a resource': (y) => y.replace('      resource: learner\n', ''),
    'fetch.backend names an unknown remote': (y) => y.replace('        - remote: backend', '        - remote: nowhere'),
    'not YAML': (y) => y + '\n  : : [\n',
  };
  const dir = mkdtempSync(join(tmpdir(), 'forge-manifest-'));
  try {
    cpSync(join(dirname(file), 'static'), join(dir, 'static'), { recursive: true });
    const text = readFileSync(file, 'utf8');
    for (const [name, breakIt] of Object.entries(breakages)) {
      const broken = breakIt(text);
      if (broken === text) {
        console.log(`SELF-TEST FAILED: "${name}" changed nothing`);
        ok = false;
        continue;
      }
      const path = join(dir, 'manifest.yml');
      writeFileSync(path, broken);
      const refused = !(await check(path));
      console.log(`${refused ? 'refused as expected' : 'SELF-TEST FAILED, accepted'}: ${name}`);
      ok &&= refused;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
process.exit(ok ? 0 : 1);
