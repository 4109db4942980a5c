// The npm side of the dependency policy (README "Dependency scanning").
//
//   node scripts/npm-policy.mjs lock    package.json pins exact versions; every package in
//                                       package-lock.json comes from the registry with a
//                                       sha512 integrity (no git, file, link or other URLs).
//                                       Offline.
//   node scripts/npm-policy.mjs audit   `npm audit --json` over every package, judged by
//                                       .npm-audit-policy.json (fail_at, exceptions).
//                                       Exit 0 pass, 1 fail, 3 not run (the registry's
//                                       audit endpoint did not answer).
//
// The checks are plain functions (exported) so scripts/npm-policy.test.mjs can show
// that each one fails on what it is there to catch.

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const SEVERITIES = ["info", "low", "moderate", "high", "critical"];
const EXACT = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;
// A registry tarball: https://<registry>/<name>/-/<basename>-<version>.tgz
const REGISTRY_TARBALL = /^https:\/\/[^/]+\/.+\/-\/[^/]+-\d[^/]*\.tgz$/;

/** Problems with package.json + package-lock.json (empty: fine). */
export function checkLock(pkg, lock) {
  const problems = [];
  for (const field of ["dependencies", "devDependencies", "optionalDependencies"]) {
    for (const [name, spec] of Object.entries(pkg[field] ?? {})) {
      if (!EXACT.test(spec)) {
        problems.push(`package.json ${field}.${name} = "${spec}": pin an exact version`);
      }
    }
  }
  if (!(lock.lockfileVersion >= 2)) {
    problems.push(`package-lock.json lockfileVersion ${lock.lockfileVersion}: need 2 or 3`);
  }
  const root = lock.packages?.[""] ?? {};
  for (const field of ["dependencies", "devDependencies", "optionalDependencies"]) {
    if (JSON.stringify(root[field] ?? {}) !== JSON.stringify(pkg[field] ?? {})) {
      problems.push(`package-lock.json is out of date with package.json (${field}): run npm install`);
    }
  }
  for (const [path, entry] of Object.entries(lock.packages ?? {})) {
    if (!path.startsWith("node_modules/") && !path.includes("/node_modules/")) continue;
    if (entry.link) {
      problems.push(`${path}: a linked (local) package`);
      continue;
    }
    if (entry.inBundle) continue; // shipped inside its parent's tarball, covered by its integrity
    if (entry.resolved !== undefined && !REGISTRY_TARBALL.test(entry.resolved)) {
      problems.push(`${path}: from ${entry.resolved}, not a registry tarball`);
    }
    if (!entry.version || !EXACT.test(entry.version)) {
      problems.push(`${path}: version "${entry.version}" is not a registry version`);
    }
    if (!entry.integrity?.startsWith("sha512-")) {
      problems.push(`${path}: no sha512 integrity`);
    }
  }
  return problems;
}

/** The advisories of an `npm audit --json` report (v2), one per advisory and package. */
export function advisories(report) {
  const seen = new Map();
  for (const vuln of Object.values(report.vulnerabilities ?? {})) {
    for (const via of vuln.via ?? []) {
      if (typeof via !== "object") continue; // "via another package": listed under that one
      const id = String(via.url ?? via.source).split("/").pop();
      const key = `${id} ${via.name}`;
      if (!seen.has(key)) {
        seen.set(key, { id, package: via.name, severity: via.severity, title: via.title, range: via.range });
      }
    }
  }
  return [...seen.values()];
}

/**
 * Judges an audit report by the policy. `today` is YYYY-MM-DD.
 * Returns { failures: [...], accepted: [...], below: [...] }.
 */
export function evaluateAudit(report, policy, today) {
  const failAt = SEVERITIES.indexOf(policy.fail_at);
  if (failAt < 0) throw new Error(`fail_at must be one of ${SEVERITIES.join(", ")}`);
  const failures = [];
  const accepted = [];
  const below = [];
  const used = new Set();
  for (const exc of policy.exceptions ?? []) {
    if (!exc.id || !exc.package || !exc.reason || !/^\d{4}-\d{2}-\d{2}$/.test(exc.until ?? "")) {
      failures.push(`exception ${JSON.stringify(exc)} needs id, package, reason and until (YYYY-MM-DD)`);
    } else if (exc.until < today) {
      failures.push(`exception for ${exc.id} (${exc.package}) expired on ${exc.until}: fix it or renew it with a reason`);
    }
  }
  for (const adv of advisories(report)) {
    const line = `${adv.severity} ${adv.id} ${adv.package} ${adv.range ?? ""}: ${adv.title ?? ""}`;
    const exc = (policy.exceptions ?? []).find(
      (e) => e.id === adv.id && e.package === adv.package && e.until >= today,
    );
    if (exc) {
      used.add(exc);
      accepted.push(`${line} (accepted until ${exc.until}: ${exc.reason})`);
    } else if (SEVERITIES.indexOf(adv.severity) >= failAt) {
      failures.push(line);
    } else {
      below.push(line);
    }
  }
  for (const exc of policy.exceptions ?? []) {
    if (exc.id && exc.until >= today && !used.has(exc)) {
      failures.push(`exception for ${exc.id} (${exc.package}) matches no advisory any more: remove it`);
    }
  }
  return { failures, accepted, below };
}

function readJson(path) {
  return JSON.parse(readFileSync(path, "utf8"));
}

/** Runs `npm audit --json` over every package in `root` (env: extra variables). */
export function npmAudit(root, env = {}) {
  // Every package (they are all devDependencies; --omit=dev would audit nothing).
  return new Promise((resolve) => {
    const child = spawn("npm", ["audit", "--json", "--audit-level=info"], {
      cwd: root,
      env: { ...process.env, ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", () => {
      try {
        resolve(JSON.parse(stdout));
      } catch {
        resolve({ error: { summary: (stderr || stdout || "no output").trim() } });
      }
    });
  });
}

/** The `audit` command: 0 pass, 1 fail, 3 not run. Prints what it found. */
export async function audit(root, env = {}, log = console) {
  const policy = readJson(join(root, ".npm-audit-policy.json"));
  const report = await npmAudit(root, env);
  if (report.error || !report.metadata) {
    const why = report.error?.summary || report.message || "no report";
    log.error(`npm audit: NOT RUN: the registry's audit endpoint did not answer (${why.split("\n")[0]})`);
    return 3;
  }
  const today = new Date().toISOString().slice(0, 10);
  const { failures, accepted, below } = evaluateAudit(report, policy, today);
  const m = report.metadata;
  log.log(
    `npm audit: ${m.dependencies?.total ?? "?"} packages; advisories: ` +
      SEVERITIES.map((s) => `${s} ${m.vulnerabilities?.[s] ?? 0}`).join(", "),
  );
  for (const l of below) log.log(`  below ${policy.fail_at}: ${l}`);
  for (const l of accepted) log.log(`  accepted: ${l}`);
  for (const l of failures) log.error(`  FAIL: ${l}`);
  log.log(failures.length ? `npm audit: FAILED (fail at ${policy.fail_at})` : `npm audit: ok (fail at ${policy.fail_at})`);
  return failures.length ? 1 : 0;
}

async function main(root, command) {
  if (command === "lock") {
    const problems = checkLock(readJson(join(root, "package.json")), readJson(join(root, "package-lock.json")));
    for (const p of problems) console.error(`npm lock policy: ${p}`);
    console.log(
      problems.length
        ? `npm lock policy: FAILED (${problems.length} problems)`
        : "npm lock policy: ok (exact pins; every package from the registry with sha512 integrity)",
    );
    return problems.length ? 1 : 0;
  }
  if (command === "audit") return audit(root);
  console.error("usage: node scripts/npm-policy.mjs lock|audit");
  return 2;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  process.exitCode = await main(root, process.argv[2]);
}
