// Vector stores: list with counts and usage, create, rename in place, delete.
import { api } from './api.js';
import { h, mount, field, say, table, statusBadge, bytes, when, announce } from './view.js';

export function expiryText(store) {
  if (!store.expires_after) return 'Never';
  const days = store.expires_after.days;
  return `${days} day${days === 1 ? '' : 's'} after last use`;
}

export function countsText(c) {
  const parts = [`${c.completed} completed`];
  if (c.in_progress) parts.push(`${c.in_progress} in progress`);
  if (c.failed) parts.push(`${c.failed} failed`);
  if (c.cancelled) parts.push(`${c.cancelled} cancelled`);
  return `${c.total} file${c.total === 1 ? '' : 's'}: ${parts.join(', ')}`;
}

/** Reads the expiry field: '' means never, else whole days 1..365. Returns undefined when invalid. */
export function parseExpiry(value) {
  if (value.trim() === '') return null;
  const days = Number(value);
  return Number.isInteger(days) && days >= 1 && days <= 365 ? { anchor: 'last_active_at', days } : undefined;
}

export async function storesPage(root, { ctx }) {
  const slot = h('div', { class: 'slot' });
  const listArea = h('div', { class: 'list-area' });
  const createForm = await createStoreForm(slot, () => load());
  mount(root,
    h('h1', {}, 'Vector stores'),
    createForm,
    slot,
    listArea);

  let stores = [];
  // The "Show more" cursor (the last listed store's id), or null when every store is listed. Kept
  // here so that redrawing after a rename or delete still offers the next page.
  let nextCursor = null;
  async function load(after) {
    const page = await api.listStores(after);
    if (!ctx.alive()) return;
    stores = after ? stores.concat(page.data) : page.data;
    nextCursor = page.has_more ? page.last_id : null;
    render();
  }

  function render() {
    if (stores.length === 0) {
      mount(listArea, h('p', { class: 'empty' }, 'No vector stores yet. Create one above, then open it to upload files.'));
      return;
    }
    mount(listArea,
      table(`${stores.length} vector store${stores.length === 1 ? '' : 's'}`,
        ['Name', 'Status', 'Files', 'Usage', 'Expires', 'Last active', 'Actions'],
        stores.map(s => [
          nameCell(s),
          statusBadge(s.status),
          countsText(s.file_counts),
          bytes(s.usage_bytes),
          h('span', {}, expiryText(s), s.expires_at ? h('br') : null, s.expires_at ? when(s.expires_at) : null),
          when(s.last_active_at),
          h('div', { class: 'row-actions' },
            h('button', { type: 'button', onclick: e => rename(s, e.target.closest('tr')) }, 'Rename', h('span', { class: 'visually-hidden' }, ` ${s.name ?? s.id}`)),
            h('button', { type: 'button', class: 'danger', onclick: () => remove(s) }, 'Delete', h('span', { class: 'visually-hidden' }, ` ${s.name ?? s.id}`))),
        ]),
        i => ({ 'data-store-id': stores[i].id })),
      nextCursor ? h('button', { type: 'button', onclick: () => load(nextCursor).catch(e => say(slot, 'error', e.message)) }, 'Show more') : null);
  }

  function nameCell(s) {
    return h('a', { href: `#/stores/${encodeURIComponent(s.id)}`, class: 'store-link' }, s.name || '(no name)',
      h('span', { class: 'sub' }, s.id));
  }

  function rename(store, row) {
    const cell = row.querySelector('td');
    const input = h('input', { type: 'text', value: store.name ?? '', maxlength: 256, required: true });
    const form = h('form', {
      class: 'inline',
      onsubmit: async e => {
        e.preventDefault();
        try {
          const updated = await api.updateStore(store.id, { name: input.value.trim() });
          Object.assign(store, updated);
          say(slot, 'ok', `Renamed to “${updated.name}”.`);
          render();
        } catch (err) {
          say(slot, 'error', `Could not rename: ${err.message}`);
        }
      },
      onkeydown: e => { if (e.key === 'Escape') render(); },
    },
      field('New name', input),
      h('button', { type: 'submit', class: 'primary' }, 'Save'),
      h('button', { type: 'button', onclick: () => render() }, 'Cancel'));
    mount(cell, form);
    input.focus();
    input.select();
  }

  async function remove(store) {
    if (!confirm(`Delete the vector store “${store.name || store.id}”? Its files stay uploaded but are no longer searchable here.`)) return;
    try {
      await api.deleteStore(store.id);
      stores = stores.filter(s => s.id !== store.id);
      // The cursor was the last listed store; if that one was deleted, continue after the one
      // now last (or from the start when none is left).
      if (nextCursor === store.id) nextCursor = stores.at(-1)?.id ?? null;
      // Nothing left on the page, but perhaps more on the server: list again from the start.
      if (stores.length === 0) await load().catch(() => render());
      else render();
      say(slot, 'ok', `Deleted “${store.name || store.id}”.`);
      announce('Vector store deleted.');
    } catch (err) {
      say(slot, 'error', `Could not delete: ${err.message}`);
    }
  }

  await load();
}

async function createStoreForm(slot, onCreated) {
  const name = h('input', { type: 'text', name: 'name', maxlength: 256, required: true, autocomplete: 'off' });
  const expiry = h('input', { type: 'number', name: 'expires_after_days', min: 1, max: 365, step: 1, inputmode: 'numeric' });
  const model = h('select', { name: 'embedding_model' }, h('option', { value: '' }, 'Server default'));
  try {
    const models = await api.listModels();
    for (const m of models.data) model.append(h('option', { value: m.id }, `${m.id} (${m.dimensions} dimensions)`));
  } catch {
    // The default model still works; the list is only a convenience.
  }
  const form = h('form', {
    class: 'card',
    'aria-labelledby': 'create-store-title',
    onsubmit: async e => {
      e.preventDefault();
      const expiresAfter = parseExpiry(expiry.value);
      if (expiresAfter === undefined) {
        say(slot, 'error', 'Expiry must be a whole number of days from 1 to 365, or empty for never.');
        expiry.focus();
        return;
      }
      const body = { name: name.value.trim() };
      if (expiresAfter) body.expires_after = expiresAfter;
      if (model.value) body.embedding_model = model.value;
      try {
        const store = await api.createStore(body);
        say(slot, 'ok', `Created “${store.name}”.`);
        announce('Vector store created.');
        form.reset();
        await onCreated(store);
      } catch (err) {
        say(slot, 'error', `Could not create the vector store: ${err.message}`);
      }
    },
  },
    h('h2', { id: 'create-store-title' }, 'New vector store'),
    h('div', { class: 'fields' },
      field('Name', name),
      field('Expires after (days idle)', expiry, 'Leave empty to keep it until deleted.'),
      field('Embedding model', model)),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Create vector store')));
  return form;
}
