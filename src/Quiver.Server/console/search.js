// Search playground: a query, filters built row by row, ranker, score threshold and result count;
// results show the file, score, attributes and the chunk with the query's words highlighted.
import { api } from './api.js';
import { h, mount, field, say, highlight, queryTerms, announce } from './view.js';

const OPERATORS = [
  ['eq', 'equals'], ['ne', 'does not equal'], ['gt', 'greater than'], ['gte', 'at least'],
  ['lt', 'less than'], ['lte', 'at most'], ['in', 'is one of'], ['nin', 'is none of'],
];

/** One filter row's value, typed: `in`/`nin` take a comma-separated list. Returns { value } or { error }. */
export function filterValue(raw, type, op) {
  const one = text => {
    const t = text.trim();
    if (type === 'number') {
      const n = Number(t);
      return t === '' || Number.isNaN(n) ? { error: `“${t}” is not a number.` } : { value: n };
    }
    if (type === 'boolean') {
      return t === 'true' || t === 'false' ? { value: t === 'true' } : { error: `“${t}” is not true or false.` };
    }
    return { value: t };
  };
  if (op === 'in' || op === 'nin') {
    const parts = raw.split(',').map(one);
    const bad = parts.find(p => p.error);
    return bad ?? { value: parts.map(p => p.value) };
  }
  return one(raw);
}

/** The store picker pages through at most this many pages of 100; beyond them, an id is typed. */
const STORE_PAGES = 10;

async function listStoresForPicker() {
  let stores = [];
  let after;
  for (let i = 0; i < STORE_PAGES; i++) {
    const page = await api.listStores(after);
    stores = stores.concat(page.data);
    if (!page.has_more) return { stores, more: false };
    after = page.last_id;
  }
  return { stores, more: true };
}

export async function searchPage(root, { query }) {
  const { stores, more } = await listStoresForPicker();
  const slot = h('div', { class: 'slot' });
  const results = h('section', { class: 'results', 'aria-labelledby': 'results-title', 'aria-busy': 'false' });
  if (stores.length === 0) {
    mount(root, h('h1', {}, 'Search'),
      h('p', { class: 'empty' }, 'There is no vector store to search yet. ', h('a', { href: '#/stores' }, 'Create one and add files first.')));
    return;
  }

  const store = h('select', { name: 'store', required: true },
    stores.map(s => h('option', { value: s.id, selected: s.id === query.get('store') }, `${s.name || '(no name)'} — ${s.file_counts.completed} files`)));
  // More stores than the picker lists: a store id typed here is searched instead.
  const wanted = query.get('store');
  const otherId = more
    ? h('input', { type: 'text', name: 'store_id', autocomplete: 'off', spellcheck: 'false',
      value: wanted && !stores.some(s => s.id === wanted) ? wanted : '' })
    : null;
  const chosenStore = () => otherId?.value.trim() || store.value;
  const text = h('input', { type: 'search', name: 'query', required: true, maxlength: 4096, autocomplete: 'off' });
  const ranker = h('select', { name: 'ranker' },
    h('option', { value: 'auto' }, 'Hybrid: meaning and keywords (auto)'),
    h('option', { value: 'default-2024-11-15' }, 'Hybrid, pinned version (default-2024-11-15)'),
    h('option', { value: 'none' }, 'Meaning only (none)'));
  const threshold = h('input', { type: 'number', name: 'score_threshold', min: 0, max: 1, step: 0.01, value: '0' });
  const max = h('input', { type: 'number', name: 'max_num_results', min: 1, max: 50, step: 1, value: '10' });
  const combine = h('select', { name: 'combine' }, h('option', { value: 'and' }, 'all of them'), h('option', { value: 'or' }, 'any of them'));
  const rows = h('div', { class: 'filter-rows' });
  const requestView = h('pre', { class: 'request' });
  let rowCounter = 0;

  function addRow() {
    const n = ++rowCounter;
    const key = h('input', { type: 'text', name: `filter_key_${n}`, maxlength: 64, autocomplete: 'off' });
    const op = h('select', { name: `filter_op_${n}` }, OPERATORS.map(([v, label]) => h('option', { value: v }, label)));
    const value = h('input', { type: 'text', name: `filter_value_${n}`, autocomplete: 'off' });
    const type = h('select', { name: `filter_type_${n}` },
      h('option', { value: 'string' }, 'text'), h('option', { value: 'number' }, 'number'), h('option', { value: 'boolean' }, 'true/false'));
    const row = h('fieldset', { class: 'filter-row', 'data-filter-row': String(n) },
      h('legend', {}, `Filter ${n}`),
      field('Attribute', key),
      field('Condition', op),
      field('Value', value, null),
      field('Type', type),
      h('button', { type: 'button', class: 'link', onclick: () => { row.remove(); addButton.focus(); } }, 'Remove', h('span', { class: 'visually-hidden' }, ` filter ${n}`)));
    row.read = () => ({ key: key.value.trim(), op: op.value, raw: value.value, type: type.value });
    rows.append(row);
    key.focus();
  }
  const addButton = h('button', { type: 'button', onclick: addRow }, 'Add a filter');

  function buildRequest() {
    const filters = [];
    for (const row of rows.querySelectorAll('.filter-row')) {
      const { key, op, raw, type } = row.read();
      if (!key && !raw.trim()) continue;
      if (!key) return { error: `${row.querySelector('legend').textContent}: name the attribute to filter on.` };
      const parsed = filterValue(raw, type, op);
      if (parsed.error) return { error: `${row.querySelector('legend').textContent}: ${parsed.error}` };
      filters.push({ type: op, key, value: parsed.value });
    }
    const body = {
      query: text.value,
      max_num_results: Number(max.value),
      ranking_options: { ranker: ranker.value, score_threshold: Number(threshold.value) },
    };
    if (filters.length === 1) body.filters = filters[0];
    else if (filters.length > 1) body.filters = { type: combine.value, filters };
    return { body };
  }

  const form = h('form', {
    class: 'card',
    'aria-label': 'Search',
    onsubmit: async e => {
      e.preventDefault();
      const { body, error } = buildRequest();
      if (error) {
        say(slot, 'error', error);
        return;
      }
      if (!text.value.trim()) {
        say(slot, 'error', 'Type something to search for.');
        text.focus();
        return;
      }
      say(slot, null);
      const storeId = chosenStore();
      requestView.textContent = `POST /v1/vector_stores/${storeId}/search\n${JSON.stringify(body, null, 2)}`;
      results.setAttribute('aria-busy', 'true');
      mount(results, h('h2', { id: 'results-title' }, 'Results'), h('p', { class: 'loading' }, 'Searching…'));
      try {
        const page = await api.search(storeId, body);
        renderResults(page, text.value);
      } catch (err) {
        mount(results, h('h2', { id: 'results-title' }, 'Results'));
        say(slot, 'error', `The search failed: ${err.message}`);
      } finally {
        results.setAttribute('aria-busy', 'false');
      }
    },
  },
    h('div', { class: 'fields' },
      field('Vector store', store),
      otherId ? field('Or a store id', otherId, `Only the first ${stores.length} stores are listed; type the id of another one here.`) : null,
      field('Query', text)),
    h('fieldset', { class: 'filters' },
      h('legend', {}, 'Filters on attributes'),
      rows,
      h('div', { class: 'actions' }, addButton, field('Match', combine))),
    h('div', { class: 'fields' },
      field('Ranker', ranker),
      field('Score threshold (0 to 1)', threshold),
      field('Max results (1 to 50)', max)),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Search')),
    h('details', {}, h('summary', {}, 'Request sent'), requestView));

  function renderResults(page, queryText) {
    const terms = queryTerms(queryText);
    const items = page.data;
    announce(`${items.length} result${items.length === 1 ? '' : 's'}.`);
    mount(results,
      h('h2', { id: 'results-title' }, `Results (${items.length})`),
      items.length === 0
        ? h('p', { class: 'empty' }, 'Nothing matched. Try other words, fewer filters or a lower score threshold.')
        : h('ol', { class: 'result-list' }, items.map(r => h('li', { class: 'result', 'data-file-id': r.file_id },
          h('div', { class: 'result-head' },
            h('strong', { class: 'result-file' }, r.filename),
            h('span', { class: 'sub' }, r.file_id),
            h('span', { class: 'score', title: 'Score from 0 to 1' }, `score ${r.score.toFixed(4)}`)),
          Object.keys(r.attributes).length
            ? h('ul', { class: 'attributes', 'aria-label': 'Attributes' },
              Object.entries(r.attributes).map(([k, v]) => h('li', { 'data-attribute': k }, `${k} = ${JSON.stringify(v)}`)))
            : null,
          r.content.map(part => h('p', { class: 'chunk' }, highlight(part.text, terms)))))));
  }

  mount(root, h('h1', {}, 'Search'), form, slot, results);
  mount(results, h('h2', { id: 'results-title' }, 'Results'), h('p', { class: 'empty' }, 'Run a search to see results here.'));
  const remember = () => history.replaceState(null, '', `#/search?store=${encodeURIComponent(chosenStore())}`);
  store.addEventListener('change', remember);
  otherId?.addEventListener('change', remember);
}
