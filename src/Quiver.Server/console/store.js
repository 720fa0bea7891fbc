// One vector store: its numbers and settings, a drag-and-drop batch upload with live progress and
// Cancel, and its files with statuses and errors (filter by status, detach).
import { api, ApiError } from './api.js';
import { h, mount, field, say, table, statusBadge, bytes, when, announce } from './view.js';
import { expiryText, countsText, parseExpiry } from './stores.js';

const MAX_BATCH_FILES = 2000;
const UPLOAD_PARALLELISM = 4;
const POLL_MS = 500;
const STATUSES = ['in_progress', 'completed', 'failed', 'cancelled'];

// File names by id: the store's file list carries ids only. Names never change, so they are kept.
const names = new Map();
function filename(id) {
  if (!names.has(id)) names.set(id, api.getFile(id).then(f => f.filename, () => null));
  return names.get(id);
}

/**
 * `key=value` lines → attributes. `true`/`false` become booleans and plain numbers numbers;
 * everything else is a string. Returns { attributes } or { error }.
 */
export function parseAttributes(text) {
  const attributes = {};
  const lines = text.split('\n').map(l => l.trim()).filter(Boolean);
  for (const line of lines) {
    const eq = line.indexOf('=');
    if (eq <= 0) return { error: `“${line}” is not key=value. Write one attribute a line, like team=docs.` };
    const key = line.slice(0, eq).trim();
    const raw = line.slice(eq + 1).trim();
    attributes[key] = raw === 'true' ? true : raw === 'false' ? false : /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
  }
  return { attributes };
}

export async function storePage(root, { params: [storeId], ctx }) {
  let store = await api.getStore(storeId);
  if (!ctx.alive()) return;

  const slot = h('div', { class: 'slot' });
  const summary = h('section', { class: 'card summary', 'aria-labelledby': 'summary-title' });
  const batchArea = h('section', { class: 'card batch', 'aria-labelledby': 'upload-title' });
  const filesArea = h('section', { class: 'files', 'aria-labelledby': 'files-title' });
  const title = h('h1', {}, store.name || '(no name)');
  mount(root,
    h('p', { class: 'crumbs' }, h('a', { href: '#/stores' }, 'Vector stores'), ' / ', store.id),
    title,
    slot,
    summary,
    batchArea,
    filesArea);

  // ---- summary and settings -------------------------------------------------------------
  // The facts are redrawn on every refresh (they hold nothing focusable); the settings form is
  // filled from the store only when the page opens and after a save, so a refresh while a batch
  // runs never resets what the user is typing or moves the focus.
  const facts = h('dl', { class: 'facts' });
  const nameInput = h('input', { type: 'text', maxlength: 256, required: true });
  const expiryInput = h('input', { type: 'number', min: 1, max: 365, step: 1 });
  mount(summary,
    h('h2', { id: 'summary-title' }, 'Overview'),
    facts,
    h('form', {
      class: 'fields settings',
      'aria-label': 'Store settings',
      onsubmit: async e => {
        e.preventDefault();
        const expiresAfter = parseExpiry(String(expiryInput.value));
        if (expiresAfter === undefined) {
          say(slot, 'error', 'Expiry must be a whole number of days from 1 to 365, or empty for never.');
          expiryInput.focus();
          return;
        }
        try {
          store = await api.updateStore(store.id, { name: nameInput.value.trim(), expires_after: expiresAfter });
          say(slot, 'ok', 'Settings saved.');
          renderFacts();
          fillSettings();
        } catch (err) {
          say(slot, 'error', `Could not save the settings: ${err.message}`);
        }
      },
    },
      field('Name', nameInput),
      field('Expires after (days idle)', expiryInput, 'Empty: never expires.'),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save settings'))));

  function renderFacts() {
    title.textContent = store.name || '(no name)';
    mount(facts,
      fact('Status', statusBadge(store.status)),
      fact('Files', countsText(store.file_counts)),
      fact('Usage', bytes(store.usage_bytes)),
      fact('Embedding model', `${store.embedding_model} (${store.embedding_dimensions} dimensions)`),
      fact('Expires', expiryText(store)),
      store.expires_at ? fact('Expires at', when(store.expires_at)) : null,
      fact('Created', when(store.created_at)),
      fact('Last active', when(store.last_active_at)));
  }
  function fillSettings() {
    nameInput.value = store.name ?? '';
    expiryInput.value = store.expires_after?.days ?? '';
  }
  const fact = (label, value) => h('div', {}, h('dt', {}, label), h('dd', {}, value));

  async function refreshStore() {
    try {
      store = await api.getStore(store.id);
      if (ctx.alive()) renderFacts();
    } catch { /* the next refresh will try again */ }
  }

  // ---- files -----------------------------------------------------------------------------
  const filter = h('select', { name: 'status_filter' },
    h('option', { value: '' }, 'All statuses'),
    STATUSES.map(s => h('option', { value: s }, s.replace('_', ' '))));
  filter.addEventListener('change', () => loadFiles());
  const filesTable = h('div', { 'aria-live': 'off' });
  mount(filesArea,
    h('div', { class: 'section-head' },
      h('h2', { id: 'files-title' }, 'Files'),
      field('Show', filter),
      h('button', { type: 'button', onclick: () => loadFiles() }, 'Refresh')),
    filesTable);

  let files = [];
  let pages = 0;          // pages shown: the first plus one per "Show more"
  let nextCursor = null;  // the "Show more" cursor, or null when everything is shown
  let generation = 0;     // bumped by every load the user asks for; a refresh begun before is dropped
  let loadsInFlight = 0;  // the user's loads on their way (a refresh then waits for the next turn)
  let deferred = null;    // a refreshed list kept back while the focus is inside the table

  /** The first page (after = undefined) or one more page, as the user asked; redraws the table. */
  async function loadFiles(after) {
    const run = ++generation;
    deferred = null;
    loadsInFlight++;
    const page = await api.listStoreFiles(store.id, filter.value || undefined, after).catch(e => {
      say(slot, 'error', `Could not list the files: ${e.message}`);
      return null;
    }).finally(() => { loadsInFlight--; });
    if (!page || !ctx.alive() || run !== generation) return;
    files = after ? files.concat(page.data) : page.data;
    pages = after ? pages + 1 : 1;
    nextCursor = page.has_more ? page.last_id : null;
    renderFiles();
  }

  /**
   * The periodic refresh while a batch runs (and once when it ends): reloads as many pages as are
   * shown. While the focus is inside the table only the statuses, errors and sizes of the rows
   * change in place, and the whole table is redrawn once the focus leaves it.
   */
  async function refreshFiles() {
    if (loadsInFlight) return; // the user's own load is on its way
    const started = generation;
    let list = [];
    let cursor;
    let more = false;
    try {
      for (let i = 0; i < Math.max(pages, 1); i++) {
        const page = await api.listStoreFiles(store.id, filter.value || undefined, cursor);
        list = list.concat(page.data);
        more = page.has_more;
        cursor = page.last_id;
        if (!more) break;
      }
    } catch {
      return; // the next refresh will try again
    }
    if (!ctx.alive() || started !== generation || loadsInFlight) return;
    const next = { files: list, pages: Math.max(pages, 1), cursor: more ? cursor : null };
    if (filesTable.contains(document.activeElement)) {
      deferred = next;
      updateRows(list);
    } else {
      apply(next);
    }
  }
  function apply(next) {
    deferred = null;
    ({ files, pages, cursor: nextCursor } = next);
    renderFiles();
  }
  filesTable.addEventListener('focusout', e => {
    if (deferred && !filesTable.contains(e.relatedTarget)) apply(deferred);
  });

  /** Updates the rows already shown in place (nothing added or removed, the focus stays). */
  function updateRows(list) {
    const byId = new Map(list.map(f => [f.id, f]));
    for (const row of filesTable.querySelectorAll('tr[data-file-id]')) {
      const f = byId.get(row.dataset.fileId);
      if (!f || row.dataset.status === f.status) continue;
      row.dataset.status = f.status;
      mount(row.querySelector('td[data-label="Status"]'), statusBadge(f.status));
      mount(row.querySelector('td[data-label="Error"]'), errorCell(f));
      mount(row.querySelector('td[data-label="Size"]'), bytes(f.usage_bytes));
    }
  }
  const errorCell = f => f.last_error
    ? h('span', { class: 'error-text' }, f.last_error.message, h('span', { class: 'sub' }, f.last_error.code))
    : '—';

  function renderFiles() {
    if (files.length === 0) {
      mount(filesTable, h('p', { class: 'empty' }, filter.value
        ? `No files with status “${filter.value.replace('_', ' ')}”.`
        : 'This store has no files yet. Drop files above to add some.'));
      return;
    }
    mount(filesTable,
      table(`${files.length}${nextCursor ? '+' : ''} file${files.length === 1 ? '' : 's'}${filter.value ? ` (${filter.value.replace('_', ' ')})` : ''}`,
        ['File', 'Status', 'Error', 'Size', 'Attached', 'Actions'],
        files.map(f => {
          const nameEl = h('span', { class: 'filename' }, f.id);
          filename(f.id).then(n => { if (n) mount(nameEl, n, h('span', { class: 'sub' }, f.id)); });
          return [
            nameEl,
            statusBadge(f.status),
            errorCell(f),
            bytes(f.usage_bytes),
            when(f.created_at),
            h('button', { type: 'button', onclick: () => detach(f) }, 'Detach', h('span', { class: 'visually-hidden' }, ` ${f.id}`)),
          ];
        }),
        i => ({ 'data-file-id': files[i].id, 'data-status': files[i].status })),
      nextCursor ? h('button', { type: 'button', onclick: () => loadFiles(nextCursor) }, 'Show more') : null);
  }

  async function detach(file) {
    const name = (await filename(file.id)) ?? file.id;
    if (!confirm(`Detach “${name}” from this store? The file stays uploaded; it is only removed from this store's search.`)) return;
    try {
      await api.detachFile(store.id, file.id);
    } catch (err) {
      say(slot, 'error', `Could not detach: ${err.message}`);
      return;
    }
    // Reloaded before the message, so "Detached" never sits beside the row it removed.
    try {
      await Promise.all([loadFiles(), refreshStore()]);
      say(slot, 'ok', `Detached “${name}”.`);
      announce('File detached.');
    } catch (err) {
      say(slot, 'error', `Detached “${name}”, but the list could not be reloaded: ${err.message}`);
    }
  }

  // ---- upload and batch ------------------------------------------------------------------
  const watchKey = `quiver.console.batch.${store.id}`;
  let chosen = [];
  let running = null; // { abort: AbortController, batchId, cancelled }
  const fileInput = h('input', { type: 'file', multiple: true, class: 'file-input', id: 'upload-files' });
  const attributes = h('textarea', { rows: 2, name: 'attributes', spellcheck: 'false', placeholder: 'team=docs' });
  const chosenText = h('p', { class: 'chosen', 'aria-live': 'polite' }, 'No files chosen.');
  const startButton = h('button', { type: 'submit', class: 'primary', disabled: true }, 'Upload and attach');
  const progress = h('div', { class: 'progress-area' });
  const dropzone = h('div', { class: 'dropzone' },
    h('label', { for: 'upload-files' }, h('strong', {}, 'Drop files here'), ' or choose them:'),
    fileInput,
    chosenText);

  function choose(list) {
    chosen = [...list];
    const total = chosen.reduce((n, f) => n + f.size, 0);
    chosenText.textContent = chosen.length === 0 ? 'No files chosen.'
      : `${chosen.length} file${chosen.length === 1 ? '' : 's'} chosen (${bytes(total)}).`;
    startButton.disabled = chosen.length === 0 || running !== null;
  }
  fileInput.addEventListener('change', () => choose(fileInput.files));
  dropzone.addEventListener('dragover', e => { e.preventDefault(); dropzone.classList.add('over'); });
  dropzone.addEventListener('dragleave', () => dropzone.classList.remove('over'));
  dropzone.addEventListener('drop', e => {
    e.preventDefault();
    dropzone.classList.remove('over');
    if (running) return;
    choose([...e.dataTransfer.files].filter(f => f.size > 0 || f.type !== ''));
  });

  mount(batchArea,
    h('h2', { id: 'upload-title' }, 'Add files'),
    h('form', {
      onsubmit: e => { e.preventDefault(); start(); },
    },
      dropzone,
      field('Attributes for these files (optional)', attributes, 'One key=value a line; true/false and numbers are typed, the rest are text.'),
      h('div', { class: 'actions' }, startButton)),
    progress);

  async function start() {
    if (running || chosen.length === 0) return;
    if (chosen.length > MAX_BATCH_FILES) {
      say(slot, 'error', `A batch holds at most ${MAX_BATCH_FILES} files; you chose ${chosen.length}. Choose fewer and add the rest in another batch.`);
      return;
    }
    const parsed = parseAttributes(attributes.value);
    if (parsed.error) {
      say(slot, 'error', parsed.error);
      attributes.focus();
      return;
    }
    say(slot, null);
    const files = chosen;
    running = { abort: new AbortController(), batchId: null, cancelled: false };
    startButton.disabled = true;
    const panel = openPanel(files.length, `Uploading 0 of ${files.length} files…`);
    const { cancelButton, bar, phase, problems } = panel;

    // 1. upload, a few at a time
    const ids = [];
    let done = 0;
    let next = 0;
    const worker = async () => {
      while (next < files.length && !running.cancelled) {
        const file = files[next++];
        try {
          const uploaded = await api.uploadFile(file, running.abort.signal);
          ids.push(uploaded.id);
          names.set(uploaded.id, Promise.resolve(uploaded.filename));
        } catch (err) {
          if (err.name === 'AbortError') return;
          problems.append(h('li', {}, `${file.name}: ${err.message}`));
        }
        done++;
        bar.value = done;
        phase.textContent = `Uploading ${done} of ${files.length} files…`;
      }
    };
    await Promise.all(Array.from({ length: Math.min(UPLOAD_PARALLELISM, files.length) }, worker));

    if (running.cancelled) {
      await Promise.all(ids.map(id => api.deleteFile(id).catch(() => {})));
      phase.textContent = `Cancelled before attaching; the ${ids.length} uploaded file${ids.length === 1 ? ' was' : 's were'} removed.`;
      return finish(cancelButton);
    }
    if (ids.length === 0) {
      phase.textContent = 'No file could be uploaded, so nothing was attached.';
      return finish(cancelButton);
    }

    // 2. attach them as one batch
    phase.textContent = `Attaching ${ids.length} files as one batch…`;
    let batch;
    try {
      const body = { file_ids: ids };
      if (Object.keys(parsed.attributes).length) body.attributes = parsed.attributes;
      batch = await api.createBatch(store.id, body);
    } catch (err) {
      phase.textContent = `The files were uploaded but could not be attached: ${err.message}`;
      return finish(cancelButton);
    }
    running.batchId = batch.id;
    sessionStorage.setItem(watchKey, batch.id);
    // Cancel was clicked while the attach request was in flight: there was no batch to cancel
    // then, so send it now; watch() shows what the cancel left.
    if (running.cancelled) batch = (await sendCancel(batch.id)) ?? batch;
    await watch(batch, panel);
  }

  /** The batch panel: phase line, progress bar, per-status counts, problems, Cancel. */
  function openPanel(total, text) {
    progress.removeAttribute('data-batch-id');
    progress.removeAttribute('data-batch-status');
    const cancelButton = h('button', { type: 'button', class: 'danger', onclick: () => cancel(cancelButton) }, 'Cancel batch');
    const bar = h('progress', { max: total, value: 0, 'aria-label': 'Batch progress' });
    const phase = h('p', { class: 'phase', role: 'status' }, text);
    const counts = h('dl', { class: 'counts' });
    const problems = h('ul', { class: 'problems' });
    mount(progress, h('h3', {}, 'Batch'), phase, bar, counts, problems, h('div', { class: 'actions' }, cancelButton));
    renderCounts(counts, { in_progress: 0, completed: 0, failed: 0, cancelled: 0, total });
    return { cancelButton, bar, phase, counts, problems };
  }

  /** Polls the batch until every file is done (after a cancel: until nothing is in progress). */
  async function watch(initial, { cancelButton, bar, phase, counts }) {
    let batch = initial;
    progress.setAttribute('data-batch-id', batch.id);
    bar.max = batch.file_counts.total;
    let lastFilesRefresh = 0;
    for (;;) {
      const c = batch.file_counts;
      bar.value = c.total - c.in_progress;
      renderCounts(counts, c);
      progress.setAttribute('data-batch-status', batch.status);
      const settled = c.in_progress === 0;
      phase.textContent = settled
        ? `Batch ${batch.status.replace('_', ' ')}: ${c.completed} completed, ${c.failed} failed, ${c.cancelled} cancelled.`
        : batch.status === 'cancelled'
          ? `Cancelling: ${c.in_progress} file${c.in_progress === 1 ? '' : 's'} still stopping…`
          : `Processing: ${c.completed + c.failed} of ${c.total} files done.`;
      if (settled) break;
      if (Date.now() - lastFilesRefresh > 2000) {
        lastFilesRefresh = Date.now();
        refreshFiles();
        refreshStore();
      }
      await new Promise(r => setTimeout(r, POLL_MS));
      if (!ctx.alive()) return;
      try {
        batch = await api.getBatch(store.id, batch.id);
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) return;
        phase.textContent = `Lost track of the batch: ${err.message}. It keeps running on the server; refresh to see where it is.`;
        return finish(cancelButton);
      }
    }
    sessionStorage.removeItem(watchKey);
    announce(phase.textContent);
    finish(cancelButton);
  }

  // A batch started from this tab and still running (the page was left or reloaded): watch it again.
  async function resumeWatching() {
    const batchId = sessionStorage.getItem(watchKey);
    if (!batchId) return;
    const batch = await api.getBatch(store.id, batchId).catch(() => null);
    if (!batch || batch.file_counts.in_progress === 0 || !ctx.alive()) {
      sessionStorage.removeItem(watchKey);
      return;
    }
    running = { abort: new AbortController(), batchId, cancelled: batch.status === 'cancelled' };
    startButton.disabled = true;
    const panel = openPanel(batch.file_counts.total, 'Watching the batch started earlier…');
    if (running.cancelled) panel.cancelButton.disabled = true;
    watch(batch, panel);
  }

  function renderCounts(dl, c) {
    mount(dl, ['in_progress', 'completed', 'failed', 'cancelled', 'total'].map(k =>
      h('div', { 'data-count': k }, h('dt', {}, k === 'in_progress' ? 'In progress' : k[0].toUpperCase() + k.slice(1)), h('dd', {}, String(c[k])))));
  }

  async function cancel(button) {
    if (!running || running.cancelled) return;
    running.cancelled = true;
    button.disabled = true;
    button.textContent = 'Cancelling…';
    running.abort.abort();
    // Without a batch id yet, the upload loop stops (uploading) or start() sends the cancel as
    // soon as createBatch answers (attaching).
    if (running.batchId) await sendCancel(running.batchId);
  }

  /** POST …/cancel; returns the batch as the cancel left it, or null (the error is shown). */
  async function sendCancel(batchId) {
    try {
      const batch = await api.cancelBatch(store.id, batchId);
      announce('Cancel sent.');
      return batch;
    } catch (err) {
      say(slot, 'error', `Could not cancel the batch: ${err.message}`);
      return null;
    }
  }

  function finish(cancelButton) {
    cancelButton.remove();
    running = null;
    fileInput.value = '';
    choose([]);
    if (ctx.alive()) {
      refreshFiles();
      refreshStore();
    }
  }

  renderFacts();
  fillSettings();
  await loadFiles();
  await resumeWatching();
}
