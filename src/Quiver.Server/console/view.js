// The console's whole view layer: h() builds real DOM nodes (text is always set as text, never
// parsed as HTML, so nothing a server or user typed can inject markup), plus small helpers that
// every page shares. See docs/console.md for why there is no framework.

/**
 * h('button', { class: 'primary', onclick: fn }, 'Save') → <button class="primary">Save</button>.
 * Attributes: on* are event listeners, `class`, `for`, `aria-*`, `data-*` and the rest are set as
 * attributes; booleans add or omit the attribute; null/undefined/false children are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (name === 'value' && 'value' in el) {
      el.value = value;
    } else if (name === 'checked' || name === 'selected') {
      el[name] = Boolean(value);
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces everything inside `el` with `children`. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A labelled form field: <div class="field"><label for=id>Label</label>{control}{hint}</div>. */
let fieldCounter = 0;
export function field(label, control, hint) {
  const id = control.id || `f${++fieldCounter}`;
  control.id = id;
  let hintEl = null;
  if (hint) {
    hintEl = h('p', { class: 'hint', id: `${id}-hint` }, hint);
    control.setAttribute('aria-describedby', hintEl.id);
  }
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hintEl);
}

/** A message box: kind is 'error' (role=alert), 'ok' or 'info' (role=status). */
export function message(kind, text) {
  return h('p', { class: `msg msg-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

/** Shows `text` in a page's message slot (an element), or clears it with null. */
export function say(slot, kind, text) {
  mount(slot, text ? message(kind, text) : null);
}

/** A table whose cells carry their column name, so narrow screens can show each row as a card. */
export function table(caption, columns, rows, rowAttrs = () => ({})) {
  return h('div', { class: 'table-wrap' },
    h('table', {},
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, columns.map(c => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows.map((cells, i) => h('tr', rowAttrs(i),
        cells.map((cell, j) => h('td', { 'data-label': columns[j] }, cell)))))));
}

export function statusBadge(status) {
  return h('span', { class: `badge badge-${status}` }, status.replace('_', ' '));
}

export function bytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = -1;
  do { value /= 1024; unit++; } while (value >= 1024 && unit < units.length - 1);
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function when(unixSeconds) {
  if (unixSeconds === null || unixSeconds === undefined) return '—';
  const d = new Date(unixSeconds * 1000);
  return h('time', { datetime: d.toISOString(), title: d.toISOString() }, d.toLocaleString());
}

/** Announces `text` to screen readers through the page's polite live region. */
export function announce(text) {
  const region = document.getElementById('announcer');
  if (region) region.textContent = text;
}

/**
 * Wraps every occurrence of any of `terms` (case-insensitive) in <mark>; returns DOM nodes.
 * Terms shorter than 2 characters are ignored so single letters don't light up everything.
 */
export function highlight(text, terms) {
  const words = [...new Set(terms.map(t => t.trim()).filter(t => t.length >= 2))]
    .sort((a, b) => b.length - a.length)
    .map(t => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  if (words.length === 0) return [text];
  const pattern = new RegExp(`(${words.join('|')})`, 'giu');
  return text.split(pattern).map((part, i) => (i % 2 === 1 ? h('mark', {}, part) : part));
}

/** Splits a query into the words to highlight. */
export function queryTerms(query) {
  return query.split(/[^\p{L}\p{N}_-]+/u).filter(Boolean);
}
