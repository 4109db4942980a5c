// The page side of the Forge Custom UI bridge: what `app::forge_bridge`
// (Rust, through wasm-bindgen) calls, as one global object `scForge`.
//
// scripts/build-forge.sh bundles this file with esbuild (pinned in
// package.json) into `forge-bridge.js`, which every Custom UI page loads
// before its WASM. It only forwards to Atlassian's @forge/bridge, so the
// Rust side never depends on that library's module layout; @forge/bridge
// itself talks to the host through `window.__bridge`, which Forge (or the
// simulator's Forge mode) injects into the page before any script runs.
import { invokeRemote, router, view } from "@forge/bridge";

globalThis.scForge = {
  // locale, theme, extension.{config, content, space}, …
  getContext: () => view.getContext(),
  // {path, method, headers, body} -> {status, headers, body}
  invokeRemote: (input) => invokeRemote(input),
  // The macro config editor: saves the macro's config and closes the editor.
  submit: (config) => view.submit(config),
  close: () => view.close(),
  navigate: (url) => router.navigate(url),
  // The host then sets data-color-mode / data-theme on <html>, as AP does.
  enableTheme: () => view.theme.enable(),
};
