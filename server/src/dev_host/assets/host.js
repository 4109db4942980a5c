/*
 * Smart Courses — offline Confluence Cloud host simulator (browser side).
 *
 * This page plays the part of Confluence: it embeds the app's pages in cross-origin
 * iframes through Atlassian's own host library (npm `atlassian-connect-js`,
 * dist/connect-host.js) and answers the AP calls the real product answers
 * (context, user, confluence, navigator, request, flag, dialog).
 * Background: /work/shared/reference/ap-host-simulator.md ("the reference"; pitfalls
 * are cited by number) and §5 of connect-protocol.md.
 *
 * How iframes are made — variant A (jQuery + connectHost.create), not variant B
 * (createExtension):
 *  - it is the DOM path Confluence itself uses for macros, so AP.resize/autoresize
 *    work through ACJS's own `env` module (no `addon` provider of ours to get wrong);
 *  - the container removes its "Loading app..." indicator on the bridge handshake and
 *    shows ACJS's "App is not responding" text after 12 s, as in the product;
 *  - it checks the `jwt=` in the iframe URL the way the product does (pitfall 3), so an
 *    expired or malformed page token from the simulator server shows up here;
 *  - iframes removed from the DOM are unregistered by connect-host's own
 *    MutationObserver, so re-creating an iframe is just "replace the slot's content".
 *  The cost is jQuery, which must be on `AJS.$` before connect-host.js loads
 *  (pitfall 1). This file does that on its first line and is loaded between
 *  jquery.js and connect-host.js (see host.html).
 *
 * Rules followed throughout (from the reference):
 *  - every module is defined before the first iframe is created: the API spec is frozen
 *    into the iframe's window.name at create time (pitfall 5);
 *  - host methods declare their trailing `callback` parameter explicitly, because
 *    connect-host pads the iframe's arguments up to `fn.length - 1` and appends the
 *    callback; a method's arity is part of its contract;
 *  - promise-style methods (`returnsPromise`) never resolve with `undefined`: the iframe
 *    would reject (pitfall 2);
 *  - methods that are callback-only in production (@types/atlassian-connect-js) stay
 *    callback-only here, so the app cannot come to rely on a promise the product lacks.
 */

// Pitfall 1: connect-host.js reads AJS.$ while it loads. This script runs before it.
window.AJS = window.AJS || {};
window.AJS.$ = window.AJS.$ || window.jQuery;

(function () {
  'use strict';

  /** Everything the page knows; `window.simHost.state` exposes it for debugging. */
  const state = {
    config: null,           // GET /sim/config
    user: null,             // accountId of the "Viewing as" user
    macroParams: {},        // parameters stored on the simulated page (GET /sim/macro)
    pendingSave: Promise.resolve(), // the last PUT /sim/macro, awaited before reads
    view: null,             // 'page' | 'space-tools'
    editorOpen: false,
    editorSaved: false,     // saveMacro was called since the editor opened
    mounted: {},            // module -> {gen, slot, options}: iframes currently wanted
    gen: 0,                 // bumps on every mount/unmount, to drop stale async results
    installed: null,
    locale: 'en-US',        // the user's locale: every iframe URL's `loc` (see "Language")
  };

  const $ = window.jQuery;
  const byId = (id) => document.getElementById(id);

  // ---------------------------------------------------------------------------
  // Small helpers
  // ---------------------------------------------------------------------------

  /** JSON call to the simulator server (same origin). Throws with a readable message. */
  async function api(method, path, body) {
    const init = { method, cache: 'no-store', credentials: 'same-origin', headers: {} };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    const text = await res.text();
    if (!res.ok) {
      throw new Error(`${method} ${path} failed: ${res.status} ${res.statusText}${text ? ' — ' + text.slice(0, 300) : ''}`);
    }
    return text ? JSON.parse(text) : null;
  }

  function promised(fn) {
    // simple-xdm marks promise methods with this flag; the iframe then offers
    // `AP.x.y().then(...)` as well as `AP.x.y(cb)` (reference, "Promise style").
    fn.returnsPromise = true;
    return fn;
  }

  function isPlainObject(v) {
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  }

  function short(value) {
    if (value === undefined) return '';
    let s;
    try { s = JSON.stringify(value); } catch (_) { s = String(value); }
    if (s === undefined) s = String(value);
    return s.length > 160 ? s.slice(0, 157) + '…' : s;
  }

  function userById(accountId) {
    return (state.config && state.config.users || []).find((u) => u.accountId === accountId);
  }

  /** Our module name ("macro" | "editor" | "spaceTools") for a Connect module key. */
  function moduleOfKey(key) {
    const modules = (state.config && state.config.modules) || {};
    return Object.keys(modules).find((m) => modules[m] === key);
  }

  /** Which of our modules an AP call came from: `callback._context` is the registered extension. */
  function moduleOfCallback(callback) {
    const ext = callback && callback._context && callback._context.extension;
    return ext ? moduleOfKey(ext.key) || ext.key : undefined;
  }

  // ---------------------------------------------------------------------------
  // Host log (#sim-log): one line per AP call, plus simulator events ("sim.*").
  // ---------------------------------------------------------------------------

  let logCount = 0;
  function log(call, source, detail) {
    const list = byId('sim-log-list');
    const li = document.createElement('li');
    li.dataset.call = call;
    if (source) li.dataset.source = source;
    const time = document.createElement('time');
    time.textContent = new Date().toLocaleTimeString('en-GB');
    const who = document.createElement('span');
    who.className = 'sim-log__source';
    who.textContent = source || 'host';
    const what = document.createElement('code');
    what.textContent = detail === undefined ? call : `${call}(${detail})`;
    const outcome = document.createElement('span');
    outcome.className = 'sim-log__outcome';
    li.append(time, ' ', who, ' ', what, ' ', outcome);
    if (list) {
      list.append(li);
      while (list.children.length > 500) list.firstElementChild.remove();
      logCount += 1;
      byId('sim-log-count').textContent = String(logCount);
    }
    return {
      li,
      ok(result) {
        li.dataset.outcome = 'ok';
        outcome.textContent = result === undefined ? '✓' : `→ ${short(result)}`;
      },
      fail(message) {
        li.dataset.outcome = 'error';
        outcome.textContent = `✗ ${message}`;
      },
    };
  }

  /** Starts a log line for an AP call coming from an iframe. */
  function begin(call, callback, args) {
    const shown = (args || []).filter((a) => a !== undefined).map(short).join(', ');
    return log(call, moduleOfCallback(callback), shown);
  }

  /**
   * Wraps the promise of a `returnsPromise` method: logs the outcome, and turns an
   * `undefined` result into a rejection here, where it is visible, instead of the
   * iframe's bare "undefined" rejection (pitfall 2).
   */
  function track(entry, promise) {
    return promise.then(
      (value) => {
        if (value === undefined) {
          const msg = 'host bug: promise method resolved with undefined';
          entry.fail(msg);
          throw new Error(msg);
        }
        entry.ok(value);
        return value;
      },
      (err) => {
        entry.fail(err && err.err ? err.err : err && err.message ? err.message : String(err));
        throw err;
      },
    );
  }

  // ---------------------------------------------------------------------------
  // Flags (#sim-flags), Atlassian-style toasts. Used by AP.flag.create and the simulator.
  // ---------------------------------------------------------------------------

  const FLAG_ICONS = { success: '✓', info: 'i', warning: '!', error: '✕' };

  /**
   * Shows a flag. `opts`: {title, body, type, close: 'manual'|'auto', actions: [{actionKey,
   * actionText, executeAction}], onClose()}. Body text is shown as text, never as HTML
   * (ACJS escapes it too when it renders flags through AUI).
   */
  function showFlag(opts) {
    const type = ['success', 'info', 'warning', 'error'].includes(opts.type) ? opts.type : 'info';
    const el = document.createElement('div');
    el.className = `sim-flag sim-flag--${type}`;
    el.setAttribute('role', type === 'error' || type === 'warning' ? 'alert' : 'status');
    if (opts.id) el.dataset.flagId = opts.id;
    el.dataset.type = type;

    const icon = document.createElement('span');
    icon.className = 'sim-flag__icon';
    icon.setAttribute('aria-hidden', 'true');
    icon.textContent = FLAG_ICONS[type];

    const content = document.createElement('div');
    content.className = 'sim-flag__content';
    const title = document.createElement('div');
    title.className = 'sim-flag__title';
    title.textContent = opts.title == null ? '' : String(opts.title);
    content.append(title);
    if (opts.body != null && opts.body !== '') {
      const body = document.createElement('div');
      body.className = 'sim-flag__body';
      body.textContent = String(opts.body);
      content.append(body);
    }
    const actions = Array.isArray(opts.actions) ? opts.actions : [];
    if (actions.length) {
      const bar = document.createElement('div');
      bar.className = 'sim-flag__actions';
      actions.forEach((a) => {
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'sim-link-button';
        b.textContent = a.actionText;
        b.dataset.actionKey = a.actionKey;
        b.addEventListener('click', () => {
          log('sim.flagAction', undefined, short(a.actionKey));
          if (typeof a.executeAction === 'function') a.executeAction();
        });
        bar.append(b);
      });
      content.append(bar);
    }

    const closeBtn = document.createElement('button');
    closeBtn.type = 'button';
    closeBtn.className = 'sim-flag__close';
    closeBtn.setAttribute('aria-label', 'Dismiss');
    closeBtn.textContent = '×';

    el.append(icon, content, closeBtn);
    byId('sim-flags').prepend(el);

    let closed = false;
    let timer = null;
    const close = () => {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      el.classList.add('sim-flag--leaving');
      setTimeout(() => el.remove(), 150);
      if (typeof opts.onClose === 'function') opts.onClose(opts.id);
    };
    closeBtn.addEventListener('click', close);
    // AUI closes "auto" flags after 8 s; "manual" ones (the default) stay until dismissed.
    if (opts.close === 'auto') timer = setTimeout(close, 8000);
    return { close, element: el };
  }

  /** A simulator notice (not an AP call): shown as a flag and logged. */
  function notice(type, title, body) {
    showFlag({ type, title, body, close: type === 'error' ? 'manual' : 'auto' });
  }

  // ---------------------------------------------------------------------------
  // AP modules (pitfall 5: all defined before any iframe exists — see boot()).
  // ---------------------------------------------------------------------------

  function currentContext(module) {
    const c = state.config;
    const confluence = { space: { key: c.space.key } };
    // A space tools tab is not about a page, so it gets no `content` (our reading of the
    // product; the space key is what a space admin screen needs).
    if (module !== 'spaceTools') {
      confluence.content = { id: String(c.page.id), version: String(c.page.version), type: 'page' };
    }
    return { confluence, license: { active: true } };
  }

  function defineModules(host) {
    host.defineModule('context', {
      // Promise style in production (Promise<string>); the app calls it per request and
      // caches, so always ask the server for a fresh context JWT.
      getToken: promised(function getToken(callback) {
        const module = moduleOfCallback(callback);
        const entry = begin('context.getToken', callback);
        const p = api('POST', '/sim/context-token', { module, user: state.user }).then((r) => {
          if (!r || typeof r.token !== 'string' || !r.token) throw new Error('simulator returned no token');
          return r.token;
        });
        return track(entry, p);
      }),
      getContext: promised(function getContext(callback) {
        const entry = begin('context.getContext', callback);
        return track(entry, Promise.resolve(currentContext(moduleOfCallback(callback))));
      }),
    });

    host.defineModule('user', {
      // Callback-only in production (no promise form), so callback-only here.
      getCurrentUser(callback) {
        const entry = begin('user.getCurrentUser', callback);
        const value = { atlassianAccountId: state.user };
        entry.ok(value);
        callback(value);
      },
      getTimeZone(callback) {
        const entry = begin('user.getTimeZone', callback);
        let tz = 'UTC';
        try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'; } catch (_) { /* keep UTC */ }
        entry.ok(tz);
        callback(tz);
      },
      getLocale(callback) {
        const entry = begin('user.getLocale', callback);
        entry.ok(state.locale);
        callback(state.locale);
      },
    });

    host.defineModule('confluence', {
      getMacroData(callback) {
        const entry = begin('confluence.getMacroData', callback);
        // Wait for a save still in flight, then read what the page stores.
        state.pendingSave
          .then(() => api('GET', '/sim/macro'))
          .then((r) => {
            const params = (r && isPlainObject(r.params)) ? r.params : {};
            state.macroParams = params;
            entry.ok(params);
            callback(params);
          })
          .catch((err) => {
            entry.fail(err.message);
            notice('error', 'getMacroData failed', err.message);
            callback(state.macroParams);
          });
      },
      getMacroBody(callback) {
        const entry = begin('confluence.getMacroBody', callback);
        entry.ok('');
        callback('');
      },
      // Fire-and-forget in production: AP.confluence.saveMacro(params, body?).
      saveMacro(params, body, callback) {
        const entry = begin('confluence.saveMacro', callback, [params, body]);
        if (!isPlainObject(params)) {
          entry.fail('params must be an object');
          notice('error', 'saveMacro: params must be an object', short(params));
          return;
        }
        state.macroParams = params;
        state.editorSaved = true;
        state.pendingSave = api('PUT', '/sim/macro', { params })
          .then(() => entry.ok())
          .catch((err) => {
            entry.fail(err.message);
            notice('error', 'saveMacro failed', err.message);
          });
      },
      closeMacroEditor(callback) {
        const entry = begin('confluence.closeMacroEditor', callback);
        state.pendingSave.then(() => {
          entry.ok();
          closeEditor({ reason: 'closeMacroEditor', refreshMacro: true });
        });
      },
    });

    host.defineModule('navigator', {
      getLocation(callback) {
        const entry = begin('navigator.getLocation', callback);
        const c = state.config;
        const module = moduleOfCallback(callback);
        const site = c.site.baseUrl.replace(/\/$/, '');
        const value = module === 'spaceTools'
          ? { target: 'spacetools', context: { spaceKey: c.space.key }, href: `${site}/spaces/${c.space.key}/settings` }
          : {
            target: 'contentview',
            context: { contentId: String(c.page.id), spaceKey: c.space.key },
            href: `${site}/spaces/${c.space.key}/pages/${c.page.id}/${encodeURIComponent(c.page.title).replace(/%20/g, '+')}`,
          };
        entry.ok(value);
        callback(value);
      },
      go(target, context, callback) {
        const entry = begin('navigator.go', callback, [target, context]);
        const spaceToolsKey = state.config.modules.spaceTools;
        if (target === 'spacetools' || (target === 'addonModule' && context && context.moduleKey === spaceToolsKey)) {
          entry.ok();
          navigate('space-tools');
        } else if (target === 'contentview' || target === 'spaceview') {
          entry.ok();
          navigate('page');
        } else {
          entry.fail('target not simulated');
          notice('warning', `navigator.go("${target}") is not simulated`, 'The simulator only has the page and its space settings.');
        }
      },
      // In the product this reloads the whole page; here, re-create the visible iframes.
      reload(callback) {
        const entry = begin('navigator.reload', callback);
        entry.ok();
        remountAll();
      },
    });

    // AP.request is a top-level function, not a module: simple-xdm exposes methods of the
    // special `_globals` module directly on `AP`.
    host.defineModule('_globals', {
      request: promised(function request(urlOrOptions, maybeOptions, callback) {
        const entry = begin('request', callback, [urlOrOptions]);
        return track(entry, productRequest(urlOrOptions, maybeOptions));
      }),
    });

    // AP.flag through a framework-adaptor provider: the built-in flag module would call
    // AUI's AJS.flag, which the simulator does not have (reference, "Flag ... without AUI").
    host.frameworkAdaptor.registerModule({
      getModuleRegistrationName: () => 'flag',
      isEnabled: () => true,
      getProvider: () => ({
        create(options) {
          log('flag.create', undefined, short({ title: options.title, type: options.type, close: options.close })).ok();
          return showFlag(options);
        },
      }),
    });

    // AP.dialog through a provider as well (the built-in needs AUI's dialog2). It backs the
    // macro editor modal, so an editor written for the product works unchanged:
    // AP.dialog.getButton('submit'), disableCloseOnSubmit(), AP.events.on('dialog.submit'),
    // AP.dialog.close() and Escape (ACJS forwards it for `isDialog` iframes) all apply to
    // #sim-editor-dialog. AP.dialog.create({key}) would need a signed URL for a dialog
    // module, which the simulator server does not mint, so it is reported instead.
    host.frameworkAdaptor.registerModule({
      getModuleRegistrationName: () => 'dialog',
      isEnabled: () => true,
      getProvider: () => dialogProvider,
    });
  }

  // ---------------------------------------------------------------------------
  // AP.request: the product's REST API, answered by the simulator server under
  // site.baseUrl (e.g. /wiki/rest/api/...), as the current user.
  // ---------------------------------------------------------------------------

  const REQUEST_HEADERS_ALLOWED = ['accept', 'if-match', 'if-none-match'];

  async function productRequest(urlOrOptions, maybeOptions) {
    // AP.request(url), AP.request(url, options) and AP.request(options) all exist.
    let opts;
    if (typeof urlOrOptions === 'string') {
      opts = Object.assign({}, isPlainObject(maybeOptions) ? maybeOptions : {}, { url: urlOrOptions });
    } else if (isPlainObject(urlOrOptions)) {
      opts = Object.assign({}, urlOrOptions);
    } else {
      throw { err: 'AP.request needs a URL or an options object', xhr: { status: 0, statusText: '', responseText: '' } };
    }
    const url = String(opts.url || '');
    if (!url || /^[a-z][a-z0-9+.-]*:/i.test(url) || url.startsWith('//')) {
      throw { err: `AP.request URL must be relative to the product (got "${url}")`, xhr: { status: 0, statusText: '', responseText: '' } };
    }
    const method = String(opts.type || 'GET').toUpperCase();

    // Same origin as this page, path from site.baseUrl: works whether the simulator is
    // opened as 127.0.0.1 or localhost.
    const sitePath = new URL(state.config.site.baseUrl, location.href).pathname.replace(/\/$/, '');
    const target = new URL(location.origin + sitePath + (url.startsWith('/') ? url : '/' + url));

    const headers = { 'X-Sim-User': state.user };
    const dropped = [];
    if (isPlainObject(opts.headers)) {
      Object.keys(opts.headers).forEach((h) => {
        if (REQUEST_HEADERS_ALLOWED.includes(h.toLowerCase())) headers[h] = String(opts.headers[h]);
        else dropped.push(h);
      });
    }
    if (dropped.length) {
      log('sim.requestHeadersDropped', undefined, short(dropped));
    }

    let body;
    const data = opts.data;
    if (data !== undefined && data !== null) {
      if (method === 'GET' || method === 'HEAD') {
        // jQuery-style: data becomes the query string.
        new URLSearchParams(data).forEach((v, k) => target.searchParams.append(k, v));
      } else if (typeof data === 'string') {
        body = data;
        headers['Content-Type'] = opts.contentType || 'application/x-www-form-urlencoded; charset=UTF-8';
      } else if (opts.contentType && /json/i.test(opts.contentType)) {
        body = JSON.stringify(data);
        headers['Content-Type'] = opts.contentType;
      } else {
        body = new URLSearchParams(data).toString();
        headers['Content-Type'] = opts.contentType || 'application/x-www-form-urlencoded; charset=UTF-8';
      }
    }

    let res;
    try {
      res = await fetch(target.toString(), { method, headers, body, credentials: 'same-origin', cache: 'no-store' });
    } catch (e) {
      throw { err: `network error: ${e.message}`, xhr: { status: 0, statusText: '', responseText: '' } };
    }
    const text = await res.text();
    // The XHR object cannot cross postMessage (reference, pitfall 8): send its data.
    const xhr = {
      status: res.status,
      statusText: res.statusText,
      responseText: text,
      contentType: res.headers.get('Content-Type') || '',
    };
    if (res.status >= 400) {
      // The product rejects with {err, xhr} (apps write `.catch(e => e.err)`); `err` is a
      // readable message.
      throw { err: `${method} ${url} failed: ${res.status} ${res.statusText}`, xhr };
    }
    return { body: text, xhr };
  }

  // ---------------------------------------------------------------------------
  // Iframes
  // ---------------------------------------------------------------------------

  const MODULE_OPTIONS = {
    // The options the brief fixes for a dynamic content macro. `moduleType` makes
    // iframe.js fetch legacy-text-colors.css from the Atlassian CDN (pitfall 6); there is
    // no host option to avoid it short of lying about the module type, so it stays, and
    // the Playwright tests serve that file from the npm package instead.
    macro: () => ({ autoresize: true, width: '100%', height: '150px', moduleType: 'dynamicContentMacros', moduleLocation: 'content' }),
    // The editor is a dialog, as in the product: `isDialog` sizes the iframe to 100%×100% of
    // the modal body, ignores AP.resize (dialogs do not resize) and forwards Escape.
    editor: () => ({ isDialog: true, width: '100%', height: '100%', moduleLocation: 'macro-editor' }),
    spaceTools: () => ({ autoresize: true, width: '100%', height: '400px', moduleType: 'spaceToolsTabs', moduleLocation: 'spacetools' }),
  };

  function slotFor(module) {
    return { macro: byId('sim-macro-slot'), editor: byId('sim-editor-slot'), spaceTools: byId('sim-space-tools-slot') }[module];
  }

  function slotMessage(slot, kind, text) {
    const div = document.createElement('div');
    div.className = `sim-slot-message sim-slot-message--${kind}`;
    div.textContent = text;
    slot.replaceChildren(div);
  }

  /**
   * (Re-)creates the iframe of one of our modules in its slot. The old iframe goes first
   * (connect-host's MutationObserver unregisters it), then a freshly signed URL is fetched
   * for the current user and macro params, then connectHost.create builds the new one.
   */
  async function mount(module) {
    const slot = slotFor(module);
    const gen = ++state.gen;
    state.mounted[module] = { gen };
    slot.dataset.state = 'loading';
    delete slot.dataset.established;
    slotMessage(slot, 'loading', 'Loading Smart Courses…');

    const body = { module, user: state.user, locale: state.locale };
    if (module !== 'spaceTools') body.macroParams = state.macroParams;
    let url;
    try {
      url = (await api('POST', '/sim/iframe-url', body)).url;
      if (typeof url !== 'string' || !url) throw new Error('/sim/iframe-url returned no url');
    } catch (err) {
      if (!isCurrent(module, gen)) return;
      slot.dataset.state = 'error';
      slotMessage(slot, 'error', `Could not load the app: ${err.message}`);
      log('sim.mount', module, 'failed').fail(err.message);
      return;
    }
    if (!isCurrent(module, gen)) return; // superseded (user switched, view changed…)

    log('sim.mount', module, short(new URL(url).pathname));
    const $container = window.connectHost.create({
      addon_key: state.config.appKey,
      key: state.config.modules[module],
      url, // used verbatim: fully signed by the server (JWT with qsh, xdm_e, cp, lic, cv)
      options: MODULE_OPTIONS[module](),
    });
    slot.replaceChildren($container[0]);
    slot.dataset.state = 'created';
  }

  function isCurrent(module, gen) {
    return state.mounted[module] && state.mounted[module].gen === gen;
  }

  function unmount(module) {
    if (!state.mounted[module]) return;
    delete state.mounted[module];
    state.gen += 1;
    const slot = slotFor(module);
    slot.replaceChildren(); // connect-host's MutationObserver destroys the bridge
    slot.dataset.state = 'empty';
    delete slot.dataset.established;
  }

  function remountAll() {
    Object.keys(state.mounted).forEach((m) => { mount(m); });
  }

  // ---------------------------------------------------------------------------
  // Macro editor dialog
  // ---------------------------------------------------------------------------

  let finishClose = null; // the deferred half of closeEditor(), while pending

  function openEditor() {
    if (state.editorOpen) return;
    if (finishClose) finishClose();
    const dialog = byId('sim-editor-dialog');
    const hasParams = Object.keys(state.macroParams || {}).length > 0;
    byId('sim-editor-title').textContent = hasParams ? 'Edit Smart Course' : 'Insert Smart Course';
    const submit = byId('sim-editor-submit');
    submit.textContent = hasParams ? 'Save' : 'Insert';
    resetEditorButtons();
    state.editorOpen = true;
    state.editorSaved = false;
    dialog.showModal();
    log('sim.openEditor', 'editor');
    mount('editor');
  }

  /**
   * Closes the editor. The macro iframe is re-created when the macro was saved meanwhile
   * (or when asked to, for closeMacroEditor).
   *
   * The modal hides at once, but the iframe is removed a moment later: an editor often
   * sends saveMacro in the same tick as the close (e.g. from an AP.events.on('dialog.submit')
   * handler, which runs after iframe.js's own handler already called AP.dialog.close()).
   * Removing the iframe synchronously would unregister it before that message is read,
   * and the save would be dropped without a trace.
   */
  function closeEditor({ reason, refreshMacro } = {}) {
    if (!state.editorOpen) return;
    state.editorOpen = false;
    const dialog = byId('sim-editor-dialog');
    if (dialog.open) dialog.close();
    log('sim.closeEditor', 'editor', reason ? short(reason) : undefined);
    let refresh = Boolean(refreshMacro);
    const timer = setTimeout(() => finishClose && finishClose(), 100);
    finishClose = () => {
      clearTimeout(timer);
      finishClose = null;
      unmount('editor');
      refresh = refresh || state.editorSaved;
      state.editorSaved = false;
      if (refresh && state.view === 'page') state.pendingSave.then(() => mount('macro'));
    };
  }

  function editorButtons() {
    return Array.from(byId('sim-editor-dialog').querySelectorAll('.sim-modal__footer button'));
  }

  function editorButton(identifier) {
    return editorButtons().find((b) => b.dataset.identifier === identifier);
  }

  function resetEditorButtons() {
    editorButtons().forEach((b) => {
      if (b.dataset.custom) b.remove();
      else { b.disabled = false; b.hidden = false; }
    });
  }

  /** What AP.dialog sees for our editor modal (see defineModules). */
  const dialogProvider = {
    create(options, extension) {
      const key = extension && extension.key;
      log('dialog.create', undefined, short(key)).fail('not simulated');
      notice('warning', 'AP.dialog.create is not simulated', 'Opening an app dialog module needs a signed URL for it, which the simulator does not provide.');
    },
    close() {
      closeEditor({ reason: 'AP.dialog.close' });
    },
    isActiveDialog(addonKey) {
      return state.editorOpen && addonKey === state.config.appKey;
    },
    setButtonDisabled(identifier, disabled) {
      const b = editorButton(identifier);
      if (b) b.disabled = Boolean(disabled);
    },
    isButtonDisabled(identifier) {
      const b = editorButton(identifier);
      return b ? b.disabled : false;
    },
    setButtonHidden(identifier, hidden) {
      const b = editorButton(identifier);
      if (b) b.hidden = Boolean(hidden);
    },
    isButtonHidden(identifier) {
      const b = editorButton(identifier);
      return b ? b.hidden : true;
    },
    toggleButton(identifier) {
      const b = editorButton(identifier);
      if (b) b.disabled = !b.disabled;
    },
    createButton(button) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'sim-button';
      b.textContent = button.text || button.identifier;
      b.dataset.identifier = button.identifier;
      b.dataset.custom = 'true';
      b.disabled = Boolean(button.disabled);
      b.hidden = Boolean(button.hidden);
      b.addEventListener('click', () => { if (typeof button.onClick === 'function') button.onClick(); });
      byId('sim-editor-cancel').before(b);
    },
  };

  /**
   * The modal's own Save/Insert button, as Confluence draws it around a custom macro
   * editor: it sends `dialog.submit` (and `dialog.button.click`) to the editor iframe. The
   * iframe runs its handlers (getButton('submit').bind / events.on('dialog.submit')) and,
   * unless the app called disableCloseOnSubmit() or a handler returned false, calls
   * AP.dialog.close(), which closes the modal through dialogProvider.close().
   */
  function submitEditor() {
    const spec = { addon_key: state.config.appKey, key: state.config.modules.editor };
    const submit = byId('sim-editor-submit');
    const data = { button: { identifier: 'submit', name: 'submit', text: submit.textContent } };
    log('sim.dialogSubmit', 'editor');
    window.connectHost.broadcastEvent('dialog.submit', spec, data);
    window.connectHost.broadcastEvent('dialog.button.click', spec, data);
  }

  // ---------------------------------------------------------------------------
  // Views and chrome
  // ---------------------------------------------------------------------------

  function viewFromHash() {
    return /^#space-tools\b/.test(location.hash) ? 'space-tools' : 'page';
  }

  function navigate(view) {
    const hash = view === 'space-tools' ? '#space-tools' : '#page';
    if (location.hash !== hash) location.hash = hash; // hashchange → route()
    else route();
  }

  /** Shows the view named by location.hash and creates the iframes it needs. */
  function route() {
    const view = viewFromHash();
    if (view === state.view) return;
    state.view = view;
    document.querySelectorAll('.sim-view').forEach((s) => { s.hidden = s.dataset.view !== view; });
    document.querySelectorAll('.sim-nav__link').forEach((a) => {
      if (a.dataset.view === view) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    });
    const c = state.config;
    if (view === 'page') {
      document.title = `${c.page.title} - ${c.space.name} - Confluence (simulated)`;
      unmount('spaceTools');
      mount('macro');
    } else {
      document.title = `Space settings - ${c.space.name} - Confluence (simulated)`;
      closeEditor({ reason: 'navigation' });
      unmount('macro');
      selectTab('sim-tab-smart-courses');
      mount('spaceTools');
    }
  }

  function selectTab(tabId) {
    document.querySelectorAll('#sim-space-tools [role="tab"]').forEach((tab) => {
      const selected = tab.id === tabId;
      tab.setAttribute('aria-selected', String(selected));
      tab.tabIndex = selected ? 0 : -1;
      byId(tab.getAttribute('aria-controls')).hidden = !selected;
    });
  }

  function renderChrome() {
    const c = state.config;
    byId('sim-site-title').textContent = c.site.title;
    byId('sim-space-name').textContent = c.space.name;
    byId('sim-space-key').textContent = c.space.key;
    byId('sim-space-avatar').textContent = (c.space.name || c.space.key || '?').trim().charAt(0).toUpperCase();
    document.querySelectorAll('.sim-crumb-space, .sim-space-name-ref').forEach((el) => { el.textContent = c.space.name; });
    byId('sim-page-title').textContent = c.page.title;
    const author = (c.users || []).find((u) => u.role === 'author') || (c.users || [])[0];
    byId('sim-byline').textContent =
      `Owned by ${author ? author.displayName : 'someone'} · Last updated just now · v${c.page.version} · page ${c.page.id}`;

    const select = byId('sim-user');
    select.replaceChildren(...(c.users || []).map((u) => {
      const o = document.createElement('option');
      o.value = u.accountId;
      o.textContent = `${u.displayName} (${u.role})`;
      o.dataset.role = u.role;
      return o;
    }));
    select.value = state.user;
    select.disabled = false;
  }

  /** Initial user: ?user=<accountId|role>, else the last one chosen in this tab, else the first. */
  function initialUser() {
    const users = state.config.users || [];
    const wanted = new URLSearchParams(location.search).get('user');
    const stored = (() => { try { return sessionStorage.getItem('sim-user'); } catch (_) { return null; } })();
    const pick = (v) => v && (users.find((u) => u.accountId === v) || users.find((u) => u.role === v));
    const u = pick(wanted) || pick(stored) || users[0];
    return u ? u.accountId : null;
  }

  function setUser(accountId) {
    if (!userById(accountId) || accountId === state.user) return;
    state.user = accountId;
    try { sessionStorage.setItem('sim-user', accountId); } catch (_) { /* private mode */ }
    log('sim.user', undefined, short(userById(accountId).displayName));
    // New user → new page JWTs. mount() swaps each old iframe for a loading message
    // synchronously, so nothing can read a stale iframe after this returns.
    remountAll();
  }

  let installTimer = null;
  async function refreshInstallState() {
    clearTimeout(installTimer);
    const badge = byId('sim-install-state');
    try {
      const s = await api('GET', '/sim/state');
      state.installed = Boolean(s && s.installed);
      badge.textContent = state.installed ? 'Installed in Smart Courses' : 'Not installed';
      badge.dataset.installed = String(state.installed);
      badge.title = s && s.clientKey ? `clientKey ${s.clientKey}` : '';
    } catch (err) {
      state.installed = false;
      badge.textContent = 'Not installed';
      badge.dataset.installed = 'false';
      badge.title = err.message;
    }
    // The server installs itself at start-up; until that is confirmed, keep looking.
    if (!state.installed) installTimer = setTimeout(refreshInstallState, 3000);
  }

  /**
   * The demo course (seeded by the server once the app accepted the install): waits until
   * seeding is over, so the first page shows it. Gives up quietly after `ms`.
   */
  async function demoSettled(ms = 30000) {
    const until = Date.now() + ms;
    const button = byId('sim-reset-demo');
    for (;;) {
      let demo = { state: 'pending' };
      try { demo = ((await api('GET', '/sim/state')) || {}).demo || demo; } catch (_) { /* starting */ }
      if (demo.state !== 'pending' || Date.now() > until) {
        button.dataset.demo = demo.state;
        button.disabled = false;
        if (demo.state === 'failed') {
          showFlag({ type: 'error', title: 'The demo course could not be set up', body: demo.error || '' });
        }
        return demo;
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  }

  /** Reset demo: the server deletes the site's courses and seeds the demo again. */
  async function resetDemo() {
    const button = byId('sim-reset-demo');
    button.disabled = true;
    button.dataset.demo = 'resetting';
    button.textContent = 'Resetting…';
    const entry = log('sim.resetDemo');
    try {
      const demo = await api('POST', '/sim/demo/reset', {});
      entry.ok(demo.course);
      state.macroParams = { course: demo.course };
      closeEditor({ reason: 'reset demo' });
      remountAll();
      button.dataset.demo = 'ready';
      showFlag({ type: 'success', title: 'Demo restored', body: 'The demo course and its learners are back; other courses were deleted.' });
    } catch (err) {
      entry.fail(err.message);
      button.dataset.demo = 'failed';
      showFlag({ type: 'error', title: 'Reset demo failed', body: err.message });
    } finally {
      button.disabled = false;
      button.textContent = 'Reset demo';
    }
  }

  function wireUi() {
    window.addEventListener('hashchange', route);
    byId('sim-reset-demo').addEventListener('click', resetDemo);
    byId('sim-user').addEventListener('change', (e) => setUser(e.target.value));
    byId('sim-edit-macro').addEventListener('click', openEditor);
    byId('sim-editor-cancel').addEventListener('click', () => closeEditor({ reason: 'cancel' }));
    byId('sim-editor-submit').addEventListener('click', submitEditor);
    // Escape on the host page: close like Cancel (the native dialog would close itself and
    // leave the iframe behind).
    byId('sim-editor-dialog').addEventListener('cancel', (e) => {
      e.preventDefault();
      closeEditor({ reason: 'escape' });
    });
    document.querySelectorAll('#sim-space-tools [role="tab"]').forEach((tab) => {
      tab.addEventListener('click', () => selectTab(tab.id));
    });

    const host = window.connectHost;
    host.onIframeEstablished((data) => {
      const module = moduleOfKey(data.extension.key);
      const slot = module && slotFor(module);
      if (slot && slot.contains(document.getElementById(data.extension.id))) {
        slot.dataset.established = 'true';
        slot.dataset.state = 'established';
      }
      log('sim.established', module);
    });
    // AP.resize / autoresize: ACJS resizes the iframe and triggers jQuery "resized" on it.
    // Log it, folding repeats from the same iframe into one line.
    let lastResize = null;
    $(document).on('resized', 'iframe', (e, size) => {
      const iframe = e.target;
      const module = moduleOfKey((iframe.id || '').split('__')[1]);
      const text = `${size && size.width}, ${size && size.height}`;
      if (lastResize && lastResize.id === iframe.id && byId('sim-log-list').lastElementChild === lastResize.entry.li) {
        lastResize.count += 1;
        lastResize.entry.li.querySelector('code').textContent = `resize(${text}) ×${lastResize.count}`;
      } else {
        lastResize = { id: iframe.id, count: 1, entry: log('resize', module, text) };
      }
    });
  }

  function fatal(message) {
    const main = document.querySelector('.sim-main');
    const div = document.createElement('div');
    div.className = 'sim-slot-message sim-slot-message--error';
    div.textContent = message;
    main.prepend(div);
    console.error('[simulator]', message);
  }

  async function boot() {
    const host = window.connectHost;
    if (!host || typeof host.create !== 'function') {
      fatal('connect-host.js did not load (GET /vendor/connect-host.js); nothing can be embedded.');
      return;
    }
    // Pitfall 5: every module before the first iframe.
    defineModules(host);
    wireUi();

    // If a page URL's JWT looks expired when an iframe is created (pitfall 3: within the
    // 60 s skew), ACJS asks a content resolver for a new URL instead of giving up with
    // "JWT is expired and no content resolver was specified". It expects a jQuery promise.
    host.registerContentResolver.resolveByExtension((extension) => {
      const d = $.Deferred();
      const module = moduleOfKey(extension.key);
      const body = { module, user: state.user, locale: state.locale };
      if (module !== 'spaceTools') body.macroParams = state.macroParams;
      log('sim.contentResolver', module);
      api('POST', '/sim/iframe-url', body).then(
        (r) => d.resolve({ url: r.url }),
        (err) => d.reject(null, { text: err.message }),
      );
      return d.promise();
    });

    try {
      state.config = await api('GET', '/sim/config');
      // The page's macro holds the demo course once it is seeded.
      await demoSettled();
      const macro = await api('GET', '/sim/macro');
      state.macroParams = macro && isPlainObject(macro.params) ? macro.params : {};
    } catch (err) {
      fatal(`Simulator server not reachable: ${err.message}`);
      return;
    }
    state.user = initialUser();
    renderChrome();
    refreshInstallState();
    route();
  }

  // ---------------------------------------------------------------------------
  // Theme (light/dark), as Confluence does it: the host's own <html> carries the ADS
  // theme attributes, and connect-host.js's theming module (built in, not ours) reads
  // them when an app calls AP.theming.initializeTheming() (event `theme_initialized`)
  // and watches them with a MutationObserver, sending `theme_changed` to those apps.
  // Initial theme: ?theme=light|dark, else the last one chosen in this tab, else light.
  // ---------------------------------------------------------------------------

  const THEMES = ['light', 'dark'];

  function applyTheme(mode) {
    if (!THEMES.includes(mode)) return;
    const root = document.documentElement;
    // What setGlobalTheme() leaves on Confluence's <html> (@atlaskit/tokens).
    root.setAttribute('data-theme', 'dark:dark light:light spacing:spacing');
    root.setAttribute('data-color-mode', mode);
    const select = byId('sim-theme');
    if (select) select.value = mode;
  }

  function initialTheme() {
    const wanted = new URLSearchParams(location.search).get('theme');
    const stored = (() => { try { return sessionStorage.getItem('sim-theme'); } catch (_) { return null; } })();
    return [wanted, stored].find((t) => THEMES.includes(t)) || 'light';
  }

  function setTheme(mode) {
    if (!THEMES.includes(mode) || document.documentElement.getAttribute('data-color-mode') === mode) return;
    try { sessionStorage.setItem('sim-theme', mode); } catch (_) { /* private mode */ }
    applyTheme(mode);
    log('sim.theme', undefined, short(mode));
  }

  // At once (this script sits at the end of <body>): before the first iframe is created,
  // so apps start in the right theme.
  applyTheme(initialTheme());
  if (byId('sim-theme')) byId('sim-theme').addEventListener('change', (e) => setTheme(e.target.value));

  // ---------------------------------------------------------------------------
  // Language, as Confluence does it: the user's locale (profile → Language) goes
  // into every iframe URL as `loc` (signed with the rest of the URL) and answers
  // AP.user.getLocale(). Initial locale: ?loc=de-DE, else the last one chosen in
  // this tab, else en-US. Changing it reloads the app's iframes, as a Confluence
  // page reload would.
  // ---------------------------------------------------------------------------

  const LOCALES = ['en-US', 'de-DE'];

  function initialLocale() {
    const wanted = new URLSearchParams(location.search).get('loc');
    const stored = (() => { try { return sessionStorage.getItem('sim-locale'); } catch (_) { return null; } })();
    return [wanted, stored].find((l) => LOCALES.includes(l)) || 'en-US';
  }

  function setLocale(locale) {
    if (!LOCALES.includes(locale) || state.locale === locale) return;
    try { sessionStorage.setItem('sim-locale', locale); } catch (_) { /* private mode */ }
    state.locale = locale;
    log('sim.locale', undefined, short(locale));
    remountAll();
  }

  state.locale = initialLocale();
  if (byId('sim-locale')) {
    byId('sim-locale').value = state.locale;
    byId('sim-locale').addEventListener('change', (e) => setLocale(e.target.value));
  }

  // Debug handle for people and tests (read-only use, please).
  window.simHost = { state, log, showFlag, remountAll, openEditor, closeEditor, setTheme, setLocale };

  if (document.readyState === 'loading') {
    // connect-host.js is the next script; it has run by DOMContentLoaded.
    document.addEventListener('DOMContentLoaded', boot);
  } else {
    boot();
  }
}());
