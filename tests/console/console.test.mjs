// The web console in a real headless Chromium against a live Quiver (run.sh builds the server;
// harness.mjs starts it with a held embedding model). One browser page walks through what a user
// does, in order: each test depends on the ones before it. Screenshots go to artifacts/console/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startSystem, until, artifacts, HELD_MODEL } from './harness.mjs';

let system;
let page;
let storeId;
const consoleErrors = [];
let failed = false;

/** A test that also remembers a failure, so the server log is printed at the end. */
const step = (name, fn) => test(name, async () => {
  try {
    await fn();
  } catch (e) {
    failed = true;
    throw e;
  }
});

before(async () => {
  system = await startSystem();
  const context = await system.browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(30_000);
  page.on('dialog', dialog => dialog.accept());
  page.on('pageerror', e => consoleErrors.push(`pageerror: ${e.message}`));
  page.on('console', m => { if (m.type() === 'error') consoleErrors.push(`console: ${m.text()}`); });
});

after(async () => {
  if (page) await page.screenshot({ path: join(artifacts, 'last.png'), fullPage: true }).catch(() => {});
  if (failed && system) console.error(`--- server log ---\n${system.serverLog().slice(-8000)}`);
  await system?.stop();
});

const nav = name => page.locator('#nav').getByRole('link', { name, exact: true });
const shot = name => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
const count = (name) => page.locator(`.progress-area [data-count="${name}"] dd`).innerText().then(Number);

// Twenty short documents on shelf "a" and three on shelf "b"; all mention tides and harbours, so
// an unfiltered search finds both shelves and only the filter tells them apart.
const topics = ['lighthouses', 'ferries', 'sandbanks', 'moorings', 'estuaries', 'breakwaters', 'pilots', 'buoys', 'cranes', 'quays'];
const doc = (shelf, i) => ({
  name: `${shelf}-${String(i).padStart(2, '0')}.txt`,
  mimeType: 'text/plain',
  buffer: Buffer.from(`Shelf ${shelf}, note ${i}. How tides move ships in and out of the harbour, ` +
    `with a section on ${topics[i % topics.length]} and the harbour master's log for week ${i}.`),
});

async function uploadBatch(files, attributes) {
  await page.locator('#upload-files').setInputFiles(files);
  await page.getByText(`${files.length} files chosen`).waitFor();
  await page.getByLabel('Attributes for these files (optional)').fill(attributes);
  await page.getByRole('button', { name: 'Upload and attach' }).click();
}

step('a wrong key is refused on the sign-in page, in words', async () => {
  await page.goto(`${system.baseUrl}/console`);
  await page.getByRole('heading', { name: 'Sign in to Quiver' }).waitFor();
  await page.getByLabel('API key').fill('not-a-real-key');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.innerText(), /^Sign-in failed: Incorrect API key provided\./);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('quiver.console.key')), null);
  assert.equal(await page.getByRole('link', { name: 'Vector stores' }).count(), 0, 'no navigation before signing in');
  await shot('bad-key');
});

step('signing in with the key lands on an empty store list', async () => {
  await page.getByLabel('API key').fill(system.apiKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Vector stores', level: 1 }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('quiver.console.key')), system.apiKey);
  await page.getByText('No vector stores yet.').waitFor();
  // The environment key is an admin key, so the keys page is offered.
  await nav('API keys').waitFor();
});

step('create a store; it is listed with no files', async () => {
  await page.getByLabel('Name', { exact: true }).fill('Harbour handbook');
  await page.getByRole('button', { name: 'Create vector store' }).click();
  await page.getByText('Created “Harbour handbook”.').waitFor();
  const row = page.locator('tr', { hasText: 'Harbour handbook' });
  await row.waitFor();
  assert.match(await row.innerText(), /0 files: 0 completed/);
  storeId = await row.getAttribute('data-store-id');
  assert.match(storeId, /^vs_/);
});

step('upload 20 files as one batch and watch it complete', async () => {
  await page.getByRole('link', { name: /Harbour handbook/ }).click();
  await page.getByRole('heading', { name: 'Harbour handbook', level: 1 }).waitFor();
  await page.getByText('This store has no files yet.').waitFor();

  // Record every value the page shows for "completed" while the batch runs.
  await page.evaluate(() => {
    window.__completedSeen = [];
    new MutationObserver(() => {
      const dd = document.querySelector('.progress-area [data-count="completed"] dd');
      if (dd) window.__completedSeen.push(Number(dd.textContent));
    }).observe(document.querySelector('.batch'), { subtree: true, childList: true, characterData: true });
  });
  await uploadBatch(Array.from({ length: 20 }, (_, i) => doc('a', i)), 'shelf=a');
  await page.locator('.progress-area[data-batch-status="completed"]').waitFor({ timeout: 90_000 });
  assert.equal(await count('completed'), 20);
  assert.equal(await count('total'), 20);
  assert.equal(await count('in_progress'), 0);
  assert.equal(await count('failed'), 0);
  const seen = await page.evaluate(() => window.__completedSeen);
  assert.deepEqual(seen, [...seen].sort((a, b) => a - b), `completed only goes up: ${seen}`);
  assert.equal(seen.at(-1), 20);
  assert.match(await page.locator('.phase').innerText(), /^Batch completed: 20 completed, 0 failed, 0 cancelled\./);

  // The files list shows all twenty, completed, with their names.
  await until(async () => (await page.locator('tr[data-status="completed"]').count()) === 20, '20 completed rows');
  await page.locator('tr', { hasText: 'a-07.txt' }).waitFor();
  await page.getByLabel('Show').selectOption('failed');
  await page.getByText('No files with status “failed”.').waitFor();
  await page.getByLabel('Show').selectOption('');
  await until(async () => (await page.locator('tr[data-file-id]').count()) === 20, '20 rows again');
});

step('a second batch on another shelf, with a damaged file that fails with its reason', async () => {
  const first = await page.locator('.progress-area').getAttribute('data-batch-id');
  const broken = { name: 'broken.pdf', mimeType: 'application/pdf', buffer: Buffer.from('not a pdf at all') };
  await uploadBatch([...[0, 1, 2].map(i => doc('b', i)), broken], 'shelf=b\nreviewed=true');
  await page.locator(`.progress-area[data-batch-status="completed"]:not([data-batch-id="${first}"])`).waitFor({ timeout: 60_000 });
  assert.equal(await count('completed'), 3);
  assert.equal(await count('failed'), 1);
  await until(async () => (await page.locator('tr[data-file-id]').count()) === 24, '24 rows');

  await page.getByLabel('Show').selectOption('failed');
  await until(async () => (await page.locator('tr[data-file-id]').count()) === 1, 'one failed row');
  const row = page.locator('tr[data-status="failed"]');
  await row.getByText('broken.pdf').waitFor();
  assert.match(await row.locator('td[data-label="Error"]').innerText(), /The PDF could not be read; it appears to be damaged\.[\s\S]*invalid_file/);
  await page.getByLabel('Show').selectOption('');
  await until(async () => (await page.locator('tr[data-file-id]').count()) === 24, '24 rows again');
});

step('the store list shows counts and usage; rename in place', async () => {
  await nav('Vector stores').click();
  const row = page.locator(`tr[data-store-id="${storeId}"]`);
  await row.waitFor();
  assert.match(await row.innerText(), /24 files: 23 completed, 1 failed/);
  assert.doesNotMatch(await row.locator('td[data-label="Usage"]').innerText(), /^0 B$/);
  await row.getByRole('button', { name: /^Rename/ }).click();
  await row.getByLabel('New name').fill('Harbour notes');
  await row.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Renamed to “Harbour notes”.').waitFor();
  await page.locator(`tr[data-store-id="${storeId}"]`, { hasText: 'Harbour notes' }).waitFor();
  await shot('store-list');
});

step('a batch in progress can be cancelled with one click', async () => {
  await page.getByLabel('Name', { exact: true }).fill('Held store');
  await page.getByLabel('Embedding model').selectOption(HELD_MODEL);
  await page.getByRole('button', { name: 'Create vector store' }).click();
  await page.getByRole('link', { name: /Held store/ }).click();
  await page.getByRole('heading', { name: 'Held store', level: 1 }).waitFor();

  await uploadBatch(Array.from({ length: 12 }, (_, i) => doc('held', i)), '');
  await page.locator('.progress-area[data-batch-status="in_progress"]').waitFor();
  // The single worker is inside the held model: the batch is really running, not just queued.
  await until(() => system.embedder.inFlight >= 1, 'an embedding request in flight');
  await until(async () => (await count('in_progress')) === 12, 'in progress 12 on the page');
  await shot('batch-in-progress');

  // Reloading the page (or coming back to it) picks the running batch up again.
  const batchId = await page.locator('.progress-area').getAttribute('data-batch-id');
  await page.reload();
  await page.getByRole('heading', { name: 'Held store', level: 1 }).waitFor();
  await page.locator(`.progress-area[data-batch-id="${batchId}"][data-batch-status="in_progress"]`).waitFor();
  assert.equal(await count('in_progress'), 12);
  const cancel = page.getByRole('button', { name: 'Cancel batch' });
  assert.equal(await cancel.isEnabled(), true);

  await cancel.click();
  await page.locator('.progress-area[data-batch-status="cancelled"]').waitFor();
  await until(async () => (await count('in_progress')) === 0, 'nothing in progress after the cancel');
  assert.equal(await count('cancelled'), 12);
  assert.equal(await count('completed'), 0);
  assert.match(await page.locator('.phase').innerText(), /^Batch cancelled: 0 completed, 0 failed, 12 cancelled\./);
  await until(() => system.embedder.inFlight === 0 && system.embedder.aborted >= 1, 'the held embedding request abandoned');
  assert.equal(await page.getByRole('button', { name: 'Cancel batch' }).count(), 0, 'no cancel button once settled');
  await shot('batch-cancelled');

  await page.getByLabel('Show').selectOption('cancelled');
  await until(async () => (await page.locator('tr[data-status="cancelled"]').count()) === 12, '12 cancelled rows');
});

step('a Cancel clicked while the batch is being attached still cancels it', async () => {
  // Hold the answer to the attach request (the batch already exists on the server) until the
  // Cancel has been clicked: the page has no batch id yet when the click comes.
  let release;
  const released = new Promise(r => { release = r; });
  let entered;
  const attaching = new Promise(r => { entered = r; });
  const attachUrl = `**/v1/vector_stores/*/file_batches`;
  await page.route(attachUrl, async route => {
    if (route.request().method() !== 'POST') return route.continue();
    const response = await route.fetch();
    entered();
    await released;
    await route.fulfill({ response });
  });
  try {
    await page.getByLabel('Show').selectOption('');
    const before = await page.locator('.progress-area').getAttribute('data-batch-id');
    await uploadBatch(Array.from({ length: 3 }, (_, i) => doc('attach', i)), '');
    await attaching;
    await page.getByText('Attaching 3 files as one batch…').waitFor();
    await page.getByRole('button', { name: 'Cancel batch' }).click();
    await page.getByRole('button', { name: 'Cancelling…' }).waitFor();
    release();
    await page.locator(`.progress-area[data-batch-status="cancelled"]:not([data-batch-id="${before}"])`).waitFor();
    await until(async () => (await count('in_progress')) === 0, 'nothing in progress after the late cancel');
    assert.equal(await count('cancelled'), 3);
    assert.match(await page.locator('.phase').innerText(), /^Batch cancelled: 0 completed, 0 failed, 3 cancelled\./);
    assert.equal(await page.getByRole('button', { name: /^Cancel/ }).count(), 0, 'no cancel button once settled');
  } finally {
    release();
    await page.unroute(attachUrl);
  }
});

step('while a batch runs, the page refresh keeps what is typed in the settings, and the focus', async () => {
  const heldId = decodeURIComponent(new URL(page.url()).hash.split('/')[2]);
  const storeUrl = `${system.baseUrl}/v1/vector_stores/${heldId}`;
  const polls = { store: 0, files: 0 };
  const onResponse = r => {
    const url = r.url().split('?')[0];
    if (r.request().method() !== 'GET') return;
    if (url === storeUrl) polls.store++;
    else if (url === `${storeUrl}/files`) polls.files++;
  };
  const before = await page.locator('.progress-area').getAttribute('data-batch-id');
  await uploadBatch(Array.from({ length: 3 }, (_, i) => doc('typing', i)), '');
  await page.locator(`.progress-area[data-batch-status="in_progress"]:not([data-batch-id="${before}"])`).waitFor();
  page.on('response', onResponse);
  try {
    // Typing into the store's name while the page refreshes the store and its files every 2 s.
    const name = page.getByLabel('Name', { exact: true });
    await name.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type('Held store, renamed');
    const typed = { ...polls };
    await until(() => polls.store >= typed.store + 2 && polls.files >= typed.files + 2, 'two refreshes after typing', 20_000);
    assert.equal(await name.inputValue(), 'Held store, renamed');
    assert.equal(await name.evaluate(el => el === document.activeElement), true, 'the focus stays in the Name field');

    // The focus on a Detach button in the files table survives the refreshes too.
    const detach = page.locator('tr[data-file-id] button', { hasText: 'Detach' }).first();
    const fileId = await detach.evaluate(el => el.closest('tr').dataset.fileId);
    await detach.focus();
    const focused = { ...polls };
    await until(() => polls.files >= focused.files + 2, 'two file refreshes with a Detach button focused', 20_000);
    assert.deepEqual(await page.evaluate(() => [document.activeElement.tagName, document.activeElement.closest('tr')?.dataset.fileId]),
      ['BUTTON', fileId]);
    assert.equal(await name.inputValue(), 'Held store, renamed');
  } finally {
    page.off('response', onResponse);
  }
  await page.getByRole('button', { name: 'Cancel batch' }).click();
  await page.locator('.progress-area[data-batch-status="cancelled"]').waitFor();
  await until(async () => (await count('in_progress')) === 0, 'nothing in progress after the cancel');
  assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'Held store, renamed', 'kept after the batch ends');
});

step('more than a page of files: the pages shown survive the refresh while a batch runs', async () => {
  // 100 more files in the held store, attached and cancelled through the API, so its list needs a second page.
  const heldId = decodeURIComponent(new URL(page.url()).hash.split('/')[2]);
  const auth = { Authorization: `Bearer ${system.apiKey}` };
  const json = { ...auth, 'Content-Type': 'application/json' };
  const ids = [];
  for (let i = 0; i < 100; i++) {
    const form = new FormData();
    form.append('purpose', 'assistants');
    form.append('file', new Blob([`Bulk note ${i} about harbour cranes.`], { type: 'text/plain' }), `bulk-${String(i).padStart(3, '0')}.txt`);
    const r = await fetch(`${system.baseUrl}/v1/files`, { method: 'POST', headers: auth, body: form });
    assert.equal(r.status, 200);
    ids.push((await r.json()).id);
  }
  const batches = `${system.baseUrl}/v1/vector_stores/${heldId}/file_batches`;
  const created = await fetch(batches, { method: 'POST', headers: json, body: JSON.stringify({ file_ids: ids }) });
  assert.equal(created.status, 200);
  const cancelled = await fetch(`${batches}/${(await created.json()).id}/cancel`, { method: 'POST', headers: json });
  assert.equal((await cancelled.json()).file_counts.in_progress, 0);
  const total = (await (await fetch(`${system.baseUrl}/v1/vector_stores/${heldId}`, { headers: auth })).json()).file_counts.total;
  assert.ok(total > 100, `${total} files in the held store`);

  await page.reload();
  await page.getByRole('heading', { name: /^Held store/, level: 1 }).waitFor();
  const rows = page.locator('tr[data-file-id]');
  await until(async () => (await rows.count()) === 100, 'the first 100 files');
  await page.getByRole('button', { name: 'Show more' }).click();
  await until(async () => (await rows.count()) === total, `all ${total} files after Show more`);

  // A batch from the page: every refresh now reloads both pages, not just the first.
  const secondPage = [];
  const onResponse = r => {
    const url = new URL(r.url());
    if (r.request().method() === 'GET' && url.pathname.endsWith(`/vector_stores/${heldId}/files`) && url.searchParams.has('after')) secondPage.push(url);
  };
  const before = await page.locator('.progress-area').getAttribute('data-batch-id');
  page.on('response', onResponse);
  try {
    await uploadBatch(Array.from({ length: 3 }, (_, i) => doc('paged', i)), '');
    await page.locator(`.progress-area[data-batch-status="in_progress"]:not([data-batch-id="${before}"])`).waitFor();
    const seen = secondPage.length;
    await until(() => secondPage.length >= seen + 2, 'two refreshes of the second page', 20_000);
    await until(async () => (await rows.count()) === total + 3, `all ${total + 3} files shown during the batch`);
    assert.equal(await page.getByRole('button', { name: 'Show more' }).count(), 0, 'nothing left to show');
  } finally {
    page.off('response', onResponse);
  }
  await page.getByRole('button', { name: 'Cancel batch' }).click();
  await page.locator('.progress-area[data-batch-status="cancelled"]').waitFor();
  await until(async () => (await count('in_progress')) === 0, 'nothing in progress after the cancel');
  await until(async () => (await rows.count()) === total + 3, `all ${total + 3} files after the batch`);
});

step('files dropped on the drop zone go up as one batch; a dropped folder is left out', async () => {
  const zone = page.locator('.dropzone');
  const rows = page.locator('tr[data-file-id]');
  const shown = await rows.count();
  const dataTransfer = await page.evaluateHandle(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['Dropped note one, about harbour tugs.'], 'dropped-1.txt', { type: 'text/plain' }));
    dt.items.add(new File(['Dropped note two, about harbour tugs.'], 'dropped-2.txt', { type: 'text/plain' }));
    dt.items.add(new File([], 'a-folder')); // how a dropped folder arrives: no bytes and no type
    return dt;
  });
  await zone.dispatchEvent('dragover', { dataTransfer });
  assert.equal(await zone.evaluate(el => el.classList.contains('over')), true, 'the zone shows that it takes the drop');
  await zone.dispatchEvent('drop', { dataTransfer });
  assert.equal(await zone.evaluate(el => el.classList.contains('over')), false);
  await page.getByText('2 files chosen').waitFor();

  const before = await page.locator('.progress-area').getAttribute('data-batch-id');
  await page.getByRole('button', { name: 'Upload and attach' }).click();
  await page.locator(`.progress-area[data-batch-status="in_progress"]:not([data-batch-id="${before}"])`).waitFor();
  await until(async () => (await count('in_progress')) === 2, 'the two dropped files in progress');
  await page.getByRole('button', { name: 'Cancel batch' }).click();
  await page.locator('.progress-area[data-batch-status="cancelled"]').waitFor();
  await until(async () => (await count('in_progress')) === 0, 'nothing in progress after the cancel');
  assert.equal(await count('cancelled'), 2);
  await until(async () => (await rows.count()) === shown + 2, 'the two dropped files listed');
  await page.locator('tr', { hasText: 'dropped-1.txt' }).waitFor();
  await page.locator('tr', { hasText: 'dropped-2.txt' }).waitFor();
  assert.equal(await page.locator('tr', { hasText: 'a-folder' }).count(), 0, 'no row for the folder');
});

step('a filtered search shows only matching files, with scores, attributes and highlights', async () => {
  await nav('Search').click();
  await page.getByRole('heading', { name: 'Search', level: 1 }).waitFor();
  await page.getByLabel('Vector store').selectOption(storeId);
  await page.getByLabel('Query').fill('tides harbour');
  await page.getByLabel('Max results (1 to 50)').fill('20');

  // Unfiltered first: both shelves come back.
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.getByRole('heading', { name: /^Results \(\d+\)$/ }).waitFor();
  const shelves = await page.locator('.result [data-attribute="shelf"]').allInnerTexts();
  assert.equal(shelves.length, 20);
  assert.ok(shelves.includes('shelf = "a"'), `shelf a in ${shelves}`);

  await page.getByRole('button', { name: 'Add a filter' }).click();
  const row = page.locator('[data-filter-row="1"]');
  await row.getByLabel('Attribute').fill('shelf');
  await row.getByLabel('Condition').selectOption('eq');
  await row.getByLabel('Value').fill('b');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.getByRole('heading', { name: 'Results (3)' }).waitFor();

  const results = page.locator('.result');
  const names = (await results.locator('.result-file').allInnerTexts()).sort();
  assert.deepEqual(names, ['b-00.txt', 'b-01.txt', 'b-02.txt']);
  for (const attribute of await results.locator('[data-attribute="shelf"]').allInnerTexts()) assert.equal(attribute, 'shelf = "b"');
  assert.equal(await results.locator('[data-attribute="reviewed"]').count(), 3);
  for (const score of await results.locator('.score').allInnerTexts()) {
    const value = Number(score.replace('score ', ''));
    assert.ok(value > 0 && value <= 1, `score ${score}`);
  }
  const marks = (await results.locator('mark').allInnerTexts()).map(m => m.toLowerCase());
  assert.ok(marks.includes('tides') && marks.includes('harbour'), `highlighted: ${marks}`);
  const sent = JSON.parse((await page.locator('.request').textContent()).split('\n').slice(1).join('\n'));
  assert.deepEqual(sent.filters, { type: 'eq', key: 'shelf', value: 'b' });
  await shot('search-results');

  // A filter nothing matches gives the plain-words empty state.
  await row.getByLabel('Value').fill('z');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.getByText('Nothing matched.').waitFor();
});

step('detach a file from the store', async () => {
  await page.goto(`${system.baseUrl}/console/#/stores/${storeId}`);
  const row = page.locator('tr', { hasText: 'b-02.txt' });
  await row.getByRole('button', { name: /^Detach/ }).click();
  await page.getByText('Detached “b-02.txt”.').waitFor();
  await until(async () => (await page.locator('tr[data-file-id]').count()) === 23, '23 rows after detach');
  await page.getByText('23 files: 22 completed, 1 failed').waitFor();
});

step('admin keys: create shows the secret once, revoke marks it revoked', async () => {
  await nav('API keys').click();
  await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
  await page.getByLabel('Name', { exact: true }).fill('ci-reader');
  await page.getByLabel('Rate limit (optional)').fill('10/s');
  await page.getByRole('button', { name: 'Create key' }).click();
  const secret = await page.locator('.secret').innerText();
  assert.ok(secret.length > 20, 'the secret is shown');
  const row = page.locator('tr', { hasText: 'ci-reader' });
  assert.match(await row.innerText(), /Active/);
  // The new key works against the API.
  const ok = await fetch(`${system.baseUrl}/v1/vector_stores`, { headers: { Authorization: `Bearer ${secret}` } });
  assert.equal(ok.status, 200);

  await row.getByRole('button', { name: /^Revoke/ }).click();
  await page.getByText('Revoked “ci-reader”.').waitFor();
  // The message follows the reloaded list, so the row already says so.
  assert.match(await page.locator('tr', { hasText: 'ci-reader' }).innerText(), /Revoked/);
  const refused = await fetch(`${system.baseUrl}/v1/vector_stores`, { headers: { Authorization: `Bearer ${secret}` } });
  assert.equal(refused.status, 401);
});

step('sign out, then sign in with the keyboard on behalf of another user: their own, empty view', async () => {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByText('You are signed out.').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('quiver.console.key')), null);
  await page.getByLabel('API key').focus();
  await page.keyboard.type(system.apiKey);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.name), 'on_behalf_of');
  await page.keyboard.type('alice');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Vector stores', level: 1 }).waitFor();
  // The page's heading takes the focus once the page has loaded (its list follows the heading, so
  // the heading can be visible a moment before the focus moves).
  await until(async () => (await page.evaluate(() => document.activeElement.tagName)) === 'H1',
    'the focus on the page heading after sign-in');
  await page.getByText('Key …' + system.apiKey.slice(-4) + ' for alice').waitFor();
  // Objects are scoped to the on-behalf-of user: alice sees none of the stores made without it.
  await page.getByText('No vector stores yet.').waitFor();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('API key').fill(system.apiKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator(`tr[data-store-id="${storeId}"]`).waitFor();
});

step('on a narrow screen the store list fits without sideways scrolling', async () => {
  await page.setViewportSize({ width: 375, height: 800 });
  await page.goto(`${system.baseUrl}/console/#/stores`);
  await page.locator(`tr[data-store-id="${storeId}"]`).waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
  await shot('store-list-narrow');
  await page.setViewportSize({ width: 1280, height: 900 });
});

step('more than a page of stores: Show more survives rename and delete, and search lists them all', async () => {
  // 105 stores of another user (made through the API), so the console's lists need a second page.
  const headers = { Authorization: `Bearer ${system.apiKey}`, 'X-On-Behalf-Of': 'bob', 'Content-Type': 'application/json' };
  for (let i = 0; i < 105; i++) {
    const r = await fetch(`${system.baseUrl}/v1/vector_stores`, { method: 'POST', headers, body: JSON.stringify({ name: `Bob ${i}` }) });
    assert.equal(r.status, 200);
  }
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('API key').fill(system.apiKey);
  await page.getByLabel('On behalf of (optional)').fill('bob');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const rows = page.locator('tr[data-store-id]');
  await until(async () => (await rows.count()) === 100, 'the first 100 stores');
  const more = page.getByRole('button', { name: 'Show more' });
  await more.waitFor();

  const first = rows.first();
  await first.getByRole('button', { name: /^Rename/ }).click();
  await first.getByLabel('New name').fill('Bob renamed');
  await first.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Renamed to “Bob renamed”.').waitFor();
  assert.equal(await more.count(), 1, 'Show more is still offered after a rename');

  await page.locator('tr', { hasText: 'Bob renamed' }).getByRole('button', { name: /^Delete/ }).click();
  await page.getByText('Deleted “Bob renamed”.').waitFor();
  assert.equal(await rows.count(), 99);
  assert.equal(await more.count(), 1, 'Show more is still offered after a delete');
  await more.click();
  await until(async () => (await rows.count()) === 104, 'all 104 stores after Show more');
  assert.equal(await more.count(), 0);

  // The search page's picker pages through all of them.
  await nav('Search').click();
  await page.getByRole('heading', { name: 'Search', level: 1 }).waitFor();
  assert.equal(await page.getByLabel('Vector store').locator('option').count(), 104);
});

step('the page raised no script errors', async () => {
  assert.deepEqual(consoleErrors.filter(e => !/status of 401/.test(e)), []);
});
