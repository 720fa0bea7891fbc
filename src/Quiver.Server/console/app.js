// Entry point: sign-in, navigation and a hash router (#/stores, #/stores/ID, #/search, #/keys).
import { call, session, setUnauthorizedHandler, ApiError } from './api.js';
import { h, mount, field, say, announce } from './view.js';
import { storesPage } from './stores.js';
import { storePage } from './store.js';
import { searchPage } from './search.js';
import { keysPage } from './keys.js';

const main = document.getElementById('main');
let generation = 0;
let signInNotice = null;

const routes = [
  { pattern: /^\/stores$/, title: 'Vector stores', page: storesPage, nav: 'stores' },
  { pattern: /^\/stores\/([^/]+)$/, title: 'Vector store', page: storePage, nav: 'stores' },
  { pattern: /^\/search$/, title: 'Search', page: searchPage, nav: 'search' },
  { pattern: /^\/keys$/, title: 'API keys', page: keysPage, nav: 'keys' },
];

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/stores';
  const [path, queryString] = raw.split('?');
  return { path, query: new URLSearchParams(queryString ?? '') };
}

function renderNav(active) {
  const link = (id, href, label) =>
    h('a', { href, 'aria-current': active === id ? 'page' : false }, label);
  const nav = document.getElementById('nav');
  const who = document.getElementById('who');
  if (!session.key) {
    mount(nav);
    mount(who);
    return;
  }
  mount(nav,
    link('stores', '#/stores', 'Vector stores'),
    link('search', '#/search', 'Search'),
    session.isAdmin ? link('keys', '#/keys', 'API keys') : null);
  mount(who,
    h('span', { class: 'who-key', title: 'Signed in with this key' },
      `Key …${session.key.slice(-4)}`, session.onBehalfOf ? ` for ${session.onBehalfOf}` : ''),
    h('button', { type: 'button', class: 'link', onclick: signOut }, 'Sign out'));
}

function signOut() {
  session.clear();
  signInNotice = { kind: 'info', text: 'You are signed out.' };
  location.hash = '#/signin';
}

async function route() {
  const run = ++generation;
  const ctx = { alive: () => run === generation };
  const { path, query } = parseHash();
  if (!session.key || path === '/signin') {
    if (session.key && path === '/signin') session.clear();
    renderNav(null);
    document.title = 'Sign in · Quiver console';
    signInPage(main, query.get('next'));
    focusMain();
    return;
  }

  const match = routes.map(r => ({ r, m: path.match(r.pattern) })).find(x => x.m);
  renderNav(match?.r.nav);
  if (!match) {
    document.title = 'Not found · Quiver console';
    mount(main, h('h1', {}, 'Page not found'),
      h('p', {}, 'There is no console page at this address. ', h('a', { href: '#/stores' }, 'Go to the vector stores.')));
    focusMain();
    return;
  }
  document.title = `${match.r.title} · Quiver console`;
  mount(main, h('p', { class: 'loading' }, 'Loading…'));
  try {
    await match.r.page(main, { params: match.m.slice(1).map(decodeURIComponent), query, ctx });
  } catch (e) {
    if (!ctx.alive()) return;
    mount(main, h('h1', {}, match.r.title), h('div', { class: 'slot' }));
    say(main.querySelector('.slot'), 'error', e instanceof ApiError ? e.message : `Something went wrong: ${e.message}`);
  }
  // The heading takes the focus once the page has loaded, unless the user has already moved into
  // the page while it loaded (typing into a form there must not be interrupted).
  if (ctx.alive() && !main.contains(document.activeElement)) focusMain();
}

function focusMain() {
  const heading = main.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: true });
  }
}

function signInPage(root, next) {
  const key = h('input', { type: 'password', name: 'key', required: true, autocomplete: 'off', spellcheck: 'false' });
  const onBehalfOf = h('input', { type: 'text', name: 'on_behalf_of', autocomplete: 'off', spellcheck: 'false' });
  const slot = h('div', { class: 'slot' });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h('form', {
    class: 'card narrow',
    'aria-labelledby': 'signin-title',
    onsubmit: async event => {
      event.preventDefault();
      const credentials = { key: key.value.trim(), onBehalfOf: onBehalfOf.value.trim() };
      if (!credentials.key) {
        say(slot, 'error', 'Enter an API key to sign in.');
        key.focus();
        return;
      }
      button.disabled = true;
      say(slot, 'info', 'Checking the key…');
      try {
        await call('GET', '/v1/vector_stores?limit=1', { credentials });
        let isAdmin = false;
        try {
          await call('GET', '/api/v1/admin/keys', { credentials });
          isAdmin = true;
        } catch (e) {
          if (!(e instanceof ApiError) || e.status !== 403) throw e;
        }
        session.save(credentials.key, credentials.onBehalfOf, isAdmin);
        announce('Signed in.');
        location.hash = next && next.startsWith('/') ? `#${next}` : '#/stores';
      } catch (e) {
        button.disabled = false;
        say(slot, 'error', `Sign-in failed: ${e.message}`);
        key.select();
        key.focus();
      }
    },
  },
    h('h1', { id: 'signin-title' }, 'Sign in to Quiver'),
    h('p', {}, 'Use an API key of this server. It is kept in this browser tab only, until you sign out or close the tab.'),
    field('API key', key),
    field('On behalf of (optional)', onBehalfOf, 'A user id within the key\'s project; the console sends it as X-On-Behalf-Of.'),
    slot,
    h('div', { class: 'actions' }, button));
  mount(root, form);
  if (signInNotice) {
    say(slot, signInNotice.kind, signInNotice.text);
    signInNotice = null;
  }
}

setUnauthorizedHandler(error => {
  session.clear();
  signInNotice = { kind: 'error', text: `Your key was not accepted any more, so you were signed out: ${error.message}` };
  const { path } = parseHash();
  location.hash = `#/signin?next=${encodeURIComponent(path)}`;
});

window.addEventListener('hashchange', route);
route();
