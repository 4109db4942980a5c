//! `smart-courses forge-manifest`: the Forge `manifest.yml` (issue #15, item 1),
//! rendered from the same `atlassian-connect.json` template as the Connect
//! descriptor ([`crate::descriptor`]), so the app name, module keys, titles,
//! lifecycle paths and scopes of the two cannot drift. The checked-in
//! `forge/manifest.yml` is this function's output; a test fails when they differ.
//!
//! What is deliberately *not* in the template and is written here: the Forge-only
//! parts (resources, endpoints, remote, the lifecycle trigger) and the scope map
//! [`CONNECT_TO_FORGE_SCOPES`]. The base URL and the Forge app id stay Forge
//! manifest variables (`${APP_BASE_URL}` — the same variable the server reads —
//! and `${FORGE_APP_ID}`), set at `forge deploy` time; they have no default, so a
//! deploy without them fails instead of pointing somewhere wrong.
//! Background and sources: README "Running on Forge".

use anyhow::{bail, Context};
use serde_json::Value;

/// Connect scope → the Forge manifest scope that grants the same.
///
/// Rule: lower-case, `_` → `-`, suffix `:connect-confluence` (Atlassian's
/// `connect-to-forge` converter, `src/convert.ts`); all six are in the valid-scope
/// list of `@forge/manifest` 13.7.0 (`out/scopes/shipyard-scopes.json`), which the
/// validation script checks. A Connect scope without a row here makes [`render`]
/// fail; a row without a Connect scope fails the tests.
pub const CONNECT_TO_FORGE_SCOPES: &[(&str, &str)] = &[
    ("READ", "read:connect-confluence"),
    ("WRITE", "write:connect-confluence"),
    ("DELETE", "delete:connect-confluence"),
    ("ACT_AS_USER", "act-as-user:connect-confluence"),
    (
        "ACCESS_EMAIL_ADDRESSES",
        "access-email-addresses:connect-confluence",
    ),
    ("SPACE_ADMIN", "space-admin:connect-confluence"),
];

/// Forge-only scopes with no Connect counterpart: Forge Remote needs them to
/// send the `x-forge-oauth-system` / `x-forge-oauth-user` tokens to our backend.
pub const FORGE_ONLY_SCOPES: &[&str] = &["read:app-system-token", "read:app-user-token"];

/// The `remotes[].key` of our backend.
pub const REMOTE_KEY: &str = "backend";

/// Where the Custom UI builds go (relative to `forge/`). Placeholders until the
/// Custom UI work (#15 item 3) fills them.
pub const RESOURCES: &[(&str, &str)] = &[
    ("learner", "static/learner"),
    ("editor", "static/editor"),
    ("admin", "static/admin"),
];

/// The Forge scope for a Connect scope, if mapped.
pub fn forge_scope(connect: &str) -> Option<&'static str> {
    CONNECT_TO_FORGE_SCOPES
        .iter()
        .find(|(c, _)| *c == connect)
        .map(|(_, f)| *f)
}

/// A YAML double-quoted scalar (a JSON string is one).
fn q(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

fn text<'a>(v: &'a Value, path: &str) -> anyhow::Result<&'a str> {
    v.pointer(path)
        .and_then(Value::as_str)
        .with_context(|| format!("atlassian-connect.json has no string at {path}"))
}

/// Renders `manifest.yml` from the descriptor template.
pub fn render() -> anyhow::Result<String> {
    // The placeholders stay: the Forge file carries its own variables.
    let d: Value = serde_json::from_str(&crate::descriptor::render(
        "https://base-url.invalid",
        "app-key",
    )?)?;
    let name = text(&d, "/name")?;
    let macros = d
        .pointer("/modules/dynamicContentMacros")
        .and_then(Value::as_array)
        .context("no dynamicContentMacros")?;
    let tabs = d
        .pointer("/modules/spaceToolsTabs")
        .and_then(Value::as_array)
        .context("no spaceToolsTabs")?;
    if macros.len() != 1 || tabs.len() != 1 {
        bail!("the Forge manifest maps exactly one macro and one space tools tab; update forge_manifest.rs");
    }
    let (mac, tab) = (&macros[0], &tabs[0]);
    let mut scopes = Vec::new();
    for s in d["scopes"].as_array().context("no scopes")? {
        let s = s.as_str().context("a scope is not a string")?;
        scopes.push(forge_scope(s).with_context(|| {
            format!("Connect scope {s} has no Forge scope in CONNECT_TO_FORGE_SCOPES")
        })?);
    }
    scopes.extend(FORGE_ONLY_SCOPES);

    let mut y = String::new();
    let mut line = |s: &str| {
        y.push_str(s);
        y.push('\n');
    };
    line("# GENERATED from atlassian-connect.json by server/src/forge_manifest.rs:");
    line("#   cargo run -p server -- forge-manifest --out forge/manifest.yml");
    line("# Do not edit by hand (a test compares this file with the generator).");
    line("# Validated by scripts/validate-forge-manifest.mjs (@forge/manifest).");
    line(&format!(
        "# App: {name}. Set at deploy: FORGE_APP_ID (from `forge register`),"
    ));
    line("# APP_BASE_URL (the server's public base URL, as for Connect).");
    line("# Custom UI resources under forge/static/: build them with scripts/build-forge.sh.");
    line("app:");
    line("  id: ${FORGE_APP_ID}");
    line("  runtime:");
    line("    name: nodejs24.x");
    line("environment:");
    line("  variables:");
    line("    - FORGE_APP_ID");
    line("    - APP_BASE_URL");
    line("modules:");
    line("  macro:");
    line(&format!("    - key: {}", q(text(mac, "/key")?)));
    line(&format!("      title: {}", q(text(mac, "/name/value")?)));
    line(&format!(
        "      description: {}",
        q(text(mac, "/description/value")?)
    ));
    line("      resource: learner");
    line("      resolver:");
    line("        endpoint: remote-resolver");
    line(&format!("      layout: {}", q(text(mac, "/outputType")?)));
    line("      config:");
    line(&format!(
        "        title: {}",
        q(text(mac, "/editor/editTitle/value")?)
    ));
    line("        resource: editor");
    line("        viewportSize: max");
    line("        openOnInsert: true");
    line("  confluence:spaceSettings:");
    line(&format!("    - key: {}", q(text(tab, "/key")?)));
    line(&format!("      title: {}", q(text(tab, "/name/value")?)));
    line(&format!("      route: {}", q(text(tab, "/key")?)));
    line("      resource: admin");
    line("      resolver:");
    line("        endpoint: remote-resolver");
    line("  trigger:");
    line("    - key: lifecycle-installed");
    line("      endpoint: remote-lifecycle");
    line("      events:");
    line("        - avi:forge:installed:app");
    line("        - avi:forge:upgraded:app");
    line("  preUninstall:");
    line("    - key: lifecycle-uninstalled");
    line("      endpoint: remote-pre-uninstall");
    line("  endpoint:");
    line("    - key: remote-resolver");
    line(&format!("      remote: {REMOTE_KEY}"));
    line("      route:");
    line("        path: /forge/invoke");
    line("      auth:");
    line("        appSystemToken:");
    line("          enabled: true");
    line("        appUserToken:");
    line("          enabled: true");
    line("    - key: remote-lifecycle");
    line(&format!("      remote: {REMOTE_KEY}"));
    line("      route:");
    // The trigger's events (the payload's `eventType` names the event); the
    // Connect callbacks (`/installed`, `/uninstalled`) stay as they are.
    line(&format!("        path: {}", crate::forge::LIFECYCLE_PATH));
    line("      auth:");
    line("        appSystemToken:");
    line("          enabled: true");
    // `preUninstall` on its own path: its body is not documented, so the
    // path says which event it is.
    line("    - key: remote-pre-uninstall");
    line(&format!("      remote: {REMOTE_KEY}"));
    line("      route:");
    line(&format!(
        "        path: {}",
        crate::forge::PRE_UNINSTALL_PATH
    ));
    line("      auth:");
    line("        appSystemToken:");
    line("          enabled: true");
    line("remotes:");
    line(&format!("  - key: {REMOTE_KEY}"));
    line("    baseUrl: ${APP_BASE_URL}");
    line("    operations:");
    line("      - storage");
    line("      - compute");
    line("    storage:");
    line("      inScopeEUD: true");
    line("resources:");
    for (key, path) in RESOURCES {
        line(&format!("  - key: {key}"));
        line(&format!("    path: {path}"));
    }
    line("permissions:");
    line("  scopes:");
    for s in &scopes {
        line(&format!("    - {s}"));
    }
    // The Custom UI pages (scripts/build-forge.sh) are WASM: compiling it
    // needs `unsafe-eval` in Forge's script CSP (the only source
    // @forge/manifest allows for it), and Leptos sets `style` attributes,
    // which need `unsafe-inline` for styles. Untested on a real site.
    line("  content:");
    line("    scripts:");
    line("      - unsafe-eval");
    line("    styles:");
    line("      - unsafe-inline");
    line("  external:");
    line("    fetch:");
    line("      backend:");
    line(&format!("        - remote: {REMOTE_KEY}"));
    Ok(y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    const CHECKED_IN: &str = include_str!("../../forge/manifest.yml");

    fn descriptor() -> Value {
        serde_json::from_str(&crate::descriptor::render("https://x.example", "k").unwrap()).unwrap()
    }

    #[test]
    fn checked_in_manifest_is_the_generator_output() {
        assert!(
            CHECKED_IN == render().unwrap(),
            "forge/manifest.yml is stale: run `cargo run -p server -- forge-manifest --out forge/manifest.yml`"
        );
    }

    #[test]
    fn connect_and_forge_scopes_map_one_to_one() {
        let d = descriptor();
        let connect: BTreeSet<&str> = d["scopes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        let mapped: BTreeSet<&str> = CONNECT_TO_FORGE_SCOPES.iter().map(|(c, _)| *c).collect();
        assert_eq!(connect, mapped, "descriptor scopes and the map differ");
        let forge: BTreeSet<&str> = CONNECT_TO_FORGE_SCOPES.iter().map(|(_, f)| *f).collect();
        assert_eq!(
            forge.len(),
            CONNECT_TO_FORGE_SCOPES.len(),
            "two Connect scopes share a Forge scope"
        );
        for (c, f) in CONNECT_TO_FORGE_SCOPES {
            // The converter's rule, so a hand-written row cannot be a typo.
            assert_eq!(
                *f,
                format!("{}:connect-confluence", c.to_lowercase().replace('_', "-"))
            );
        }
        // The manifest's scopes are exactly the mapped ones plus the Forge-only ones.
        let y = render().unwrap();
        let listed: BTreeSet<&str> = y
            .split("  scopes:\n")
            .nth(1)
            .unwrap()
            .lines()
            .take_while(|l| l.starts_with("    - "))
            .map(|l| l.trim_start_matches("    - "))
            .collect();
        let want: BTreeSet<&str> = forge
            .iter()
            .copied()
            .chain(FORGE_ONLY_SCOPES.iter().copied())
            .collect();
        assert_eq!(listed, want);
    }

    #[test]
    fn a_connect_scope_without_a_forge_scope_is_refused() {
        assert_eq!(forge_scope("ADMIN"), None);
        assert_eq!(forge_scope("READ"), Some("read:connect-confluence"));
    }

    #[test]
    fn manifest_takes_keys_and_titles_from_the_descriptor() {
        let d = descriptor();
        let y = render().unwrap();
        let mac = &d["modules"]["dynamicContentMacros"][0];
        let tab = &d["modules"]["spaceToolsTabs"][0];
        for want in [
            format!("  macro:\n    - key: {}", mac["key"]),
            format!("      title: {}", mac["name"]["value"]),
            format!("  confluence:spaceSettings:\n    - key: {}", tab["key"]),
            format!("      title: {}", tab["name"]["value"]),
            "    baseUrl: ${APP_BASE_URL}".to_owned(),
        ] {
            assert!(y.contains(&want), "missing {want:?} in\n{y}");
        }
        assert!(!y.contains("base-url.invalid") && !y.contains("{{"));
    }
}
