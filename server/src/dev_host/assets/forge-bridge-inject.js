// The simulator's stand-in for what Forge injects into every Custom UI page:
// `window.__bridge.callBridge(method, payload)`, the one entry point
// @forge/bridge uses (node_modules/@forge/bridge/out/bridge.js). Each call is
// posted to the host page (forge-host.js) and resolves with its answer.
// Served by server/src/dev_host/forge.rs with the host's origin filled in;
// loaded before any app script.
(() => {
  "use strict";
  const HOST_ORIGIN = "__SIM_HOST_ORIGIN__";
  const pending = new Map();
  let next = 1;

  // Forge's theming: once the app called view.theme.enable(), the host
  // sends the theme and every change; the page's <html> gets the same
  // attributes AP.theming sets under Connect (the stylesheet keys on them).
  function applyTheme(colorMode) {
    const mode = colorMode === "dark" ? "dark" : "light";
    document.documentElement.setAttribute("data-color-mode", mode);
    document.documentElement.setAttribute("data-theme", `${mode}:${mode} light:light dark:dark`);
  }

  window.addEventListener("message", (event) => {
    if (event.source !== window.parent || event.origin !== HOST_ORIGIN) return;
    const m = event.data;
    if (!m || typeof m !== "object") return;
    if (m.type === "sc-forge-reply" && pending.has(m.id)) {
      const { resolve, reject } = pending.get(m.id);
      pending.delete(m.id);
      if (m.ok) resolve(m.value);
      else reject(new Error(String(m.error)));
    } else if (m.type === "sc-forge-theme") {
      applyTheme(m.colorMode);
    }
  });

  window.__bridge = {
    callBridge(method, payload) {
      return new Promise((resolve, reject) => {
        const id = next++;
        pending.set(id, { resolve, reject });
        window.parent.postMessage({ type: "sc-forge-call", id, method, payload }, HOST_ORIGIN);
      });
    },
  };
})();
