// The host side of the simulator's Forge mode: what Confluence's Forge
// platform answers when a Custom UI page calls @forge/bridge. The page side
// (forge-bridge-inject.js, injected into every resource by forge.rs) posts
// {type: "sc-forge-call", id, method, payload}; this script answers
// {type: "sc-forge-reply", id, ok, value | error}.
//
// Answered here: getContext (user, locale, theme, module, macro config from
// /sim/macro, the page and space), submit (the editor's view.submit: saves the
// macro config, closes the editor, reloads the macro), close, navigate
// (recorded in #forge-navigated), enableTheming (theme now and on change).
// invoke (invokeRemote) goes to POST /sim/forge/invoke, which mints the Forge
// Invocation Token and calls the app. Anything else is refused by name.
(function () {
  'use strict';

  const byId = (id) => document.getElementById(id);
  const THEMES = ['light', 'dark'];
  const LOCALES = ['en-US', 'de-DE'];
  // The resources live on another origin, as on Forge's CDN: same server,
  // other host name (forge.rs sends the bridge only to this page's origin).
  const uiHost = location.hostname === 'localhost' ? '127.0.0.1' : 'localhost';
  const UI_ORIGIN = `${location.protocol}//${uiHost}:${location.port}`;
  const MODULE_KEYS = { learner: 'smart-course', editor: 'smart-course', admin: 'smart-courses-admin' };

  const state = {
    config: null,
    user: null,
    theme: 'light',
    locale: 'en-US',
    frames: {}, // module -> {iframe, theming}
  };

  let logCount = 0;
  function log(call, module, detail) {
    logCount += 1;
    byId('sim-log-count').textContent = String(logCount);
    const li = document.createElement('li');
    li.textContent = `${module || 'host'} · ${call}${detail ? ` · ${detail}` : ''}`;
    li.dataset.call = call;
    byId('sim-log-list').prepend(li);
  }

  async function api(method, path, body) {
    const init = { method, headers: {}, cache: 'no-store' };
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status}`);
    return res.status === 204 ? null : res.json();
  }

  // --- the context Forge gives a Custom UI page (view.getContext) -----------------
  async function context(module) {
    const { params } = await api('GET', '/sim/macro');
    const space = { id: '65537', key: state.config.space.key };
    const extension = module === 'admin'
      ? { type: 'confluence:spaceSettings', space }
      : {
        type: 'macro',
        content: { id: String(state.config.page.id), type: 'page' },
        space,
        config: params || {},
        isEditing: module === 'editor',
        ...(module === 'editor' ? { isConfig: true } : {}),
      };
    return {
      accountId: state.user,
      cloudId: '5ca1ab1e-d0c5-4e57-8000-000000000003',
      siteUrl: location.origin,
      locale: state.locale,
      timezone: 'UTC',
      moduleKey: MODULE_KEYS[module],
      localId: 'sim-macro-1',
      environmentType: 'DEVELOPMENT',
      theme: { colorMode: state.theme },
      extension,
    };
  }

  async function invoke(module, payload) {
    const request = {
      path: payload && payload.path,
      method: payload && payload.method,
      headers: (payload && payload.headers) || {},
      body: payload ? payload.body : undefined,
    };
    const res = await fetch('/sim/forge/invoke', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: state.user, module, request }),
      cache: 'no-store',
    });
    if (!res.ok) {
      // What the bridge gets when Forge itself refuses the call.
      return { success: false, error: { status: res.status, headers: {}, body: await res.text() } };
    }
    const answer = await res.json();
    log('invoke', module, `${request.method} ${String(request.path).split('?')[0]} → ${answer.status}`);
    return { success: true, payload: answer };
  }

  const HANDLERS = {
    getContext: (module) => context(module),
    invoke: (module, payload) => invoke(module, payload),
    async submit(module, payload) {
      if (module !== 'editor') return false; // @forge/bridge: "not submittable"
      await api('PUT', '/sim/macro', { params: payload && typeof payload === 'object' ? payload : {} });
      log('submit', module, JSON.stringify(payload));
      closeEditor();
      mount('learner');
      return true;
    },
    async close(module) {
      if (module !== 'editor') return false;
      closeEditor();
      return true;
    },
    async navigate(module, payload) {
      const where = (payload && (payload.url || payload.target)) || '';
      byId('forge-navigated').textContent = String(where);
      log('navigate', module, String(where));
      return undefined;
    },
    async enableTheming(module) {
      const f = state.frames[module];
      if (f) {
        f.theming = true;
        sendTheme(f);
      }
      return undefined;
    },
  };

  window.addEventListener('message', async (event) => {
    if (event.origin !== UI_ORIGIN) return;
    const module = Object.keys(state.frames).find((m) => state.frames[m].iframe.contentWindow === event.source);
    const m = event.data;
    if (!module || !m || m.type !== 'sc-forge-call' || typeof m.id !== 'number') return;
    const reply = (ok, valueOrError) => event.source.postMessage(
      ok ? { type: 'sc-forge-reply', id: m.id, ok: true, value: valueOrError }
        : { type: 'sc-forge-reply', id: m.id, ok: false, error: String(valueOrError) },
      UI_ORIGIN,
    );
    const handler = Object.prototype.hasOwnProperty.call(HANDLERS, m.method) ? HANDLERS[m.method] : null;
    if (!handler) {
      log(String(m.method), module, 'not simulated');
      reply(false, `${m.method} is not simulated`);
      return;
    }
    try {
      reply(true, await handler(module, m.payload));
    } catch (err) {
      log(String(m.method), module, `failed: ${err.message}`);
      reply(false, err.message);
    }
  });

  // --- frames ---------------------------------------------------------------------
  function mount(module) {
    const slot = byId(`forge-slot-${module}`);
    const iframe = document.createElement('iframe');
    iframe.id = `forge-${module}`;
    iframe.title = `Smart Courses (${module})`;
    iframe.src = `${UI_ORIGIN}/forge-ui/${module}/index.html`;
    iframe.style.width = '100%';
    iframe.style.height = module === 'editor' ? '100%' : '900px';
    iframe.style.border = '0';
    state.frames[module] = { iframe, theming: false };
    slot.replaceChildren(iframe);
    log('mount', module);
  }

  function unmount(module) {
    const f = state.frames[module];
    if (!f) return;
    f.iframe.remove();
    delete state.frames[module];
  }

  function openEditor() {
    byId('sim-editor-dialog').showModal();
    mount('editor');
  }

  function closeEditor() {
    unmount('editor');
    const dialog = byId('sim-editor-dialog');
    if (dialog.open) dialog.close();
  }

  function sendTheme(f) {
    f.iframe.contentWindow.postMessage({ type: 'sc-forge-theme', colorMode: state.theme }, UI_ORIGIN);
  }

  function route() {
    const view = location.hash === '#space-tools' ? 'space-tools' : 'page';
    byId('sim-page').hidden = view !== 'page';
    byId('sim-space-tools').hidden = view !== 'space-tools';
    for (const a of document.querySelectorAll('.sim-nav__link')) {
      a.setAttribute('aria-current', a.dataset.view === view ? 'page' : 'false');
    }
    if (view === 'page') {
      unmount('admin');
      mount('learner');
    } else {
      unmount('learner');
      mount('admin');
    }
  }

  function remountAll() {
    for (const module of Object.keys(state.frames)) mount(module);
  }

  function setTheme(mode) {
    if (!THEMES.includes(mode)) return;
    state.theme = mode;
    document.documentElement.setAttribute('data-color-mode', mode);
    document.documentElement.setAttribute('data-theme', 'dark:dark light:light spacing:spacing');
    byId('sim-theme').value = mode;
    for (const f of Object.values(state.frames)) if (f.theming) sendTheme(f);
  }

  async function boot() {
    state.config = await api('GET', '/sim/config');
    const params = new URLSearchParams(location.search);
    const users = state.config.users;
    const wanted = params.get('user');
    state.user = (users.find((u) => u.accountId === wanted || u.role === wanted) || users[1] || users[0]).accountId;
    const select = byId('sim-user');
    select.replaceChildren(...users.map((u) => {
      const o = document.createElement('option');
      o.value = u.accountId;
      o.textContent = `${u.displayName} (${u.role})`;
      return o;
    }));
    select.value = state.user;
    select.disabled = false;
    select.addEventListener('change', () => { state.user = select.value; remountAll(); });
    const loc = params.get('loc');
    state.locale = LOCALES.includes(loc) ? loc : 'en-US';
    byId('sim-locale').value = state.locale;
    byId('sim-locale').addEventListener('change', (e) => { state.locale = e.target.value; remountAll(); });
    setTheme(THEMES.includes(params.get('theme')) ? params.get('theme') : 'light');
    byId('sim-theme').addEventListener('change', (e) => setTheme(e.target.value));
    byId('sim-edit-macro').addEventListener('click', openEditor);
    byId('sim-editor-cancel').addEventListener('click', closeEditor);
    window.addEventListener('hashchange', route);
    route();
  }

  // Debug handle for people and tests.
  window.simForge = { state, mount, openEditor, closeEditor, setTheme };
  boot().catch((err) => {
    document.body.prepend(Object.assign(document.createElement('p'), { className: 'sim-error', textContent: `Forge mode failed to start: ${err.message}` }));
  });
}());
