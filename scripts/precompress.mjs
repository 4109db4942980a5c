#!/usr/bin/env node
// Writes `<file>.br` (brotli quality 11) and `<file>.gz` (gzip level 9) beside every
// .js, .wasm and .css file in the given directories (not recursive), so the server can
// send precompressed assets. Idempotent: a compressed file that is newer than its source
// is left alone, and stale .br/.gz files whose source is gone are removed.
//
//   node scripts/precompress.mjs target/site/pkg [more dirs...]

import { readdirSync, readFileSync, statSync, writeFileSync, renameSync, rmSync, existsSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, gzipSync, constants } from "node:zlib";

const EXT = /\.(js|wasm|css)$/;
const dirs = process.argv.slice(2);
if (dirs.length === 0) {
  process.stderr.write("usage: node scripts/precompress.mjs <dir> [dir...]\n");
  process.exit(2);
}

const encoders = {
  ".br": (buf) =>
    brotliCompressSync(buf, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 11,
        [constants.BROTLI_PARAM_SIZE_HINT]: buf.length,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_GENERIC,
      },
    }),
  ".gz": (buf) => gzipSync(buf, { level: 9 }),
};

let written = 0;
for (const dir of dirs) {
  for (const name of readdirSync(dir)) {
    const file = join(dir, name);
    // Remove orphans (e.g. the previous build's hashed bundle was deleted).
    const m = name.match(/^(.*)\.(br|gz)$/);
    if (m && EXT.test(m[1])) {
      if (!existsSync(join(dir, m[1]))) rmSync(file);
      continue;
    }
    if (!EXT.test(name) || !statSync(file).isFile()) continue;
    const srcTime = statSync(file).mtimeMs;
    let src = null;
    for (const [suffix, encode] of Object.entries(encoders)) {
      const target = file + suffix;
      if (existsSync(target) && statSync(target).mtimeMs >= srcTime) continue;
      src ??= readFileSync(file);
      const tmp = `${target}.tmp`;
      writeFileSync(tmp, encode(src));
      renameSync(tmp, target);
      written++;
    }
  }
}
process.stdout.write(`precompress: ${written} file(s) written in ${dirs.join(", ")}\n`);
