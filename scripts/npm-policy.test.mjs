// Each npm policy check fails on what it is there to catch (node --test).
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import http from "node:http";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { audit, checkLock, evaluateAudit } from "./npm-policy.mjs";

const root = new URL("..", import.meta.url);
const pkg = JSON.parse(readFileSync(new URL("package.json", root), "utf8"));
const lock = JSON.parse(readFileSync(new URL("package-lock.json", root), "utf8"));
const policy = JSON.parse(readFileSync(new URL(".npm-audit-policy.json", root), "utf8"));
const clone = (v) => JSON.parse(JSON.stringify(v));
const firstPackage = (l) => Object.keys(l.packages).find((k) => k.startsWith("node_modules/"));

test("the committed package.json and lockfile pass", () => {
  assert.deepEqual(checkLock(pkg, lock), []);
});

test("a version range in package.json is refused", () => {
  const p = clone(pkg);
  const name = Object.keys(p.devDependencies)[0];
  p.devDependencies[name] = `^${p.devDependencies[name]}`;
  const l = clone(lock);
  l.packages[""].devDependencies = p.devDependencies;
  assert.match(checkLock(p, l).join("\n"), /pin an exact version/);
});

test("git, file and link sources are refused, registry tarballs are not", () => {
  for (const [resolved, ok] of [
    ["git+ssh://git@example.com/x/y.git#0123abc", false],
    ["file:../somewhere", false],
    ["https://codeload.example.com/x/y/tar.gz/0123abc", false],
    ["https://registry.example/@scope/name/-/name-1.2.3.tgz", true],
  ]) {
    const l = clone(lock);
    l.packages[firstPackage(l)].resolved = resolved;
    assert.equal(checkLock(pkg, l).length === 0, ok, resolved);
  }
  const l = clone(lock);
  l.packages[firstPackage(l)] = { resolved: "../local", link: true };
  assert.match(checkLock(pkg, l).join("\n"), /linked/);
});

test("a package without sha512 integrity is refused", () => {
  const l = clone(lock);
  delete l.packages[firstPackage(l)].integrity;
  assert.match(checkLock(pkg, l).join("\n"), /no sha512 integrity/);
});

test("a lockfile out of step with package.json is refused", () => {
  const p = clone(pkg);
  p.devDependencies["left-pad"] = "1.3.0";
  assert.match(checkLock(p, lock).join("\n"), /out of date/);
});

// An `npm audit --json` report (v2) with one advisory.
function report(severity, name = "some-lib", id = "GHSA-aaaa-bbbb-cccc") {
  return {
    auditReportVersion: 2,
    vulnerabilities: {
      [name]: {
        name,
        severity,
        via: [{ source: 1, name, title: "Prototype pollution", url: `https://github.com/advisories/${id}`, severity, range: "<2.0.0" }],
      },
      dependent: { name: "dependent", severity, via: [name] },
    },
    metadata: { vulnerabilities: { [severity]: 1 }, dependencies: { total: 2 } },
  };
}

test("the policy fails at high and critical, not below", () => {
  assert.equal(policy.fail_at, "high");
  for (const [severity, fails] of [["low", false], ["moderate", false], ["high", true], ["critical", true]]) {
    const { failures, below } = evaluateAudit(report(severity), policy, "2026-01-01");
    assert.equal(failures.length === 1, fails, severity);
    assert.equal(below.length === 1, !fails, severity);
  }
  assert.deepEqual(evaluateAudit({ vulnerabilities: {}, metadata: {} }, policy, "2026-01-01").failures, []);
});

test("an exception accepts its advisory until it expires, and must match something", () => {
  const exc = { id: "GHSA-aaaa-bbbb-cccc", package: "some-lib", reason: "not reachable: build-time only", until: "2026-03-01" };
  const p = { ...policy, exceptions: [exc] };
  const ok = evaluateAudit(report("critical"), p, "2026-02-01");
  assert.deepEqual(ok.failures, []);
  assert.equal(ok.accepted.length, 1);
  const expired = evaluateAudit(report("critical"), p, "2026-03-02");
  assert.match(expired.failures.join("\n"), /expired/);
  assert.match(expired.failures.join("\n"), /GHSA-aaaa-bbbb-cccc some-lib/);
  const unused = evaluateAudit({ vulnerabilities: {}, metadata: {} }, p, "2026-02-01");
  assert.match(unused.failures.join("\n"), /matches no advisory/);
  const noReason = evaluateAudit(report("low"), { ...policy, exceptions: [{ ...exc, reason: "" }] }, "2026-02-01");
  assert.match(noReason.failures.join("\n"), /needs id, package, reason/);
});

// The real `npm audit` against a stand-in for the registry's audit endpoint on
// loopback: what the step does with npm's own output. (The real endpoint may be
// unreachable where CI runs; this shows the step would still bite.)
async function withFakeRegistry(answer, fn) {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      if (req.method === "POST" && req.url.endsWith("/-/npm/v1/security/advisories/bulk")) {
        if (answer === "refuse") {
          res.writeHead(405, { allow: "GET,HEAD" }).end();
        } else {
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer));
        }
      } else if (req.method === "GET" && /^\/jquery\/?$/.test(req.url)) {
        // The packument npm reads to work out the vulnerable versions.
        res.writeHead(200, { "content-type": "application/json" }).end(
          JSON.stringify({
            name: "jquery",
            "dist-tags": { latest: "4.0.0" },
            versions: { "4.0.0": { name: "jquery", version: "4.0.0", dist: { tarball: "http://127.0.0.1/x.tgz" } } },
          }),
        );
      } else {
        res.writeHead(404).end("{}");
      }
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address();
  const lines = [];
  const log = { log: (l) => lines.push(l), error: (l) => lines.push(l) };
  // A cache of its own: the stand-in's answers never reach the real npm cache.
  const cache = mkdtempSync(join(tmpdir(), "npm-policy-test-"));
  try {
    const env = { npm_config_registry: `http://127.0.0.1:${port}/`, npm_config_cache: cache };
    return await fn((r) => audit(r, env, log), lines);
  } finally {
    server.close();
    rmSync(cache, { recursive: true, force: true });
  }
}

const repoRoot = fileURLToPath(root);
const advisory = (severity) => ({
  jquery: [{ id: 1, url: "https://github.com/advisories/GHSA-test-test-test", title: "Canary", severity, vulnerable_versions: "<5.0.0", cwe: [], cvss: { score: 0, vectorString: null } }],
});

test("npm audit: a high advisory fails the step", { timeout: 60_000 }, async () => {
  await withFakeRegistry(advisory("high"), async (run, lines) => {
    assert.equal(await run(repoRoot), 1, lines.join("\n"));
    assert.match(lines.join("\n"), /FAIL: high GHSA-test-test-test jquery/);
  });
});

test("npm audit: a moderate advisory is listed but passes", { timeout: 60_000 }, async () => {
  await withFakeRegistry(advisory("moderate"), async (run, lines) => {
    assert.equal(await run(repoRoot), 0, lines.join("\n"));
    assert.match(lines.join("\n"), /below high: moderate GHSA-test-test-test/);
  });
});

test("npm audit: no advisories passes; an endpoint that refuses is NOT RUN", { timeout: 60_000 }, async () => {
  await withFakeRegistry({}, async (run, lines) => {
    assert.equal(await run(repoRoot), 0, lines.join("\n"));
  });
  await withFakeRegistry("refuse", async (run, lines) => {
    assert.equal(await run(repoRoot), 3, lines.join("\n"));
    assert.match(lines.join("\n"), /NOT RUN/);
  });
});
