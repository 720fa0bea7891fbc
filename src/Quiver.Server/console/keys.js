// API keys (admin keys only): list, create (the secret is shown once), revoke.
import { api, session, ApiError } from './api.js';
import { h, mount, field, say, table, when, announce } from './view.js';

export async function keysPage(root) {
  const slot = h('div', { class: 'slot' });
  const created = h('div', { class: 'created-secret' });
  const listArea = h('div');
  if (!session.isAdmin) {
    mount(root, h('h1', {}, 'API keys'),
      h('p', { class: 'empty' }, 'The key you signed in with is not an admin key, so it cannot list or create keys. Sign in with an admin key to manage keys.'));
    return;
  }

  const name = h('input', { type: 'text', name: 'key_name', required: true, maxlength: 100, autocomplete: 'off' });
  const project = h('input', { type: 'text', name: 'project', maxlength: 100, autocomplete: 'off' });
  const admin = h('input', { type: 'checkbox', name: 'admin', id: 'key-admin' });
  const rateLimit = h('input', { type: 'text', name: 'rate_limit', autocomplete: 'off', placeholder: '10/s,5000/h' });
  const permissions = h('input', { type: 'text', name: 'permissions', autocomplete: 'off', placeholder: '*' });
  const form = h('form', {
    class: 'card',
    'aria-labelledby': 'create-key-title',
    onsubmit: async e => {
      e.preventDefault();
      const body = { name: name.value.trim(), admin: admin.checked };
      if (project.value.trim()) body.project = project.value.trim();
      if (rateLimit.value.trim()) body.rate_limit = rateLimit.value.trim();
      if (permissions.value.trim()) body.permissions = permissions.value.split(',').map(p => p.trim()).filter(Boolean);
      try {
        const key = await api.createKey(body);
        form.reset();
        const secret = h('code', { class: 'secret' }, key.secret);
        mount(created, h('div', { class: 'msg msg-ok', role: 'status' },
          h('p', {}, `Created “${key.name}” (${key.id}) in project “${key.project}”. Copy the secret now: it is not shown again.`),
          h('p', {}, secret, ' ',
            h('button', {
              type: 'button',
              onclick: async ev => {
                try {
                  await navigator.clipboard.writeText(key.secret);
                  ev.target.textContent = 'Copied';
                } catch {
                  getSelection().selectAllChildren(secret);
                  ev.target.textContent = 'Selected: press Ctrl+C';
                }
              },
            }, 'Copy'))));
        say(slot, null);
        announce('Key created. Copy the secret now.');
        await load();
      } catch (err) {
        say(slot, 'error', `Could not create the key: ${err.message}`);
      }
    },
  },
    h('h2', { id: 'create-key-title' }, 'New API key'),
    h('div', { class: 'fields' },
      field('Name', name),
      field('Project (optional)', project, 'Stores and files are scoped to a project. Empty: the name is the project.'),
      field('Rate limit (optional)', rateLimit, 'Like 10/s,5000/h (units s, m, h, d). Empty: no limit.'),
      field('Permissions (optional)', permissions, 'Comma-separated; carried into exchanged tokens.')),
    h('div', { class: 'check' }, admin, h('label', { for: 'key-admin' }, 'Admin key (can manage keys)')),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Create key')));

  async function load() {
    const page = await api.listKeys();
    const keys = page.data;
    if (keys.length === 0) {
      mount(listArea, h('p', { class: 'empty' }, 'No keys are stored yet. Keys given to the server by QUIVER_API_KEY are not listed.'));
      return;
    }
    mount(listArea, table(`${keys.length} key${keys.length === 1 ? '' : 's'}`,
      ['Name', 'Project', 'Admin', 'Rate limit', 'Permissions', 'Created', 'State', 'Actions'],
      keys.map(k => [
        h('span', {}, k.name, h('span', { class: 'sub' }, k.id)),
        k.project,
        k.admin ? 'Yes' : 'No',
        k.rate_limit ?? 'None',
        k.permissions.length ? k.permissions.join(', ') : '—',
        when(k.created_at),
        k.revoked_at ? h('span', {}, 'Revoked ', when(k.revoked_at)) : 'Active',
        k.revoked_at ? '—' : h('button', { type: 'button', class: 'danger', onclick: () => revoke(k) }, 'Revoke', h('span', { class: 'visually-hidden' }, ` ${k.name}`)),
      ]),
      i => ({ 'data-key-id': keys[i].id })));
  }

  async function revoke(key) {
    if (!confirm(`Revoke the key “${key.name}”? Requests with it, and tokens exchanged from it, stop working at once.`)) return;
    try {
      await api.revokeKey(key.id);
    } catch (err) {
      say(slot, 'error', err instanceof ApiError ? `Could not revoke: ${err.message}` : String(err));
      return;
    }
    // The list is reloaded before the message, so "Revoked" never sits beside a row still "Active".
    try {
      await load();
      say(slot, 'ok', `Revoked “${key.name}”.`);
    } catch (err) {
      say(slot, 'error', `Revoked “${key.name}”, but the list could not be reloaded: ${err.message}`);
    }
  }

  mount(root, h('h1', {}, 'API keys'), form, slot, created, h('h2', {}, 'Keys'), listArea);
  await load();
}
