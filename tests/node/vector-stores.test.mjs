// The official OpenAI Node SDK, unchanged (only baseURL and apiKey set), against a live Quiver.
// run.sh starts the server and sets QUIVER_OPENAI_BASE_URL and QUIVER_API_KEY.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { toFile, NotFoundError } from 'openai';

const baseURL = process.env.QUIVER_OPENAI_BASE_URL;
const apiKey = process.env.QUIVER_API_KEY;
if (!baseURL || !apiKey) {
  throw new Error('Set QUIVER_OPENAI_BASE_URL (http://127.0.0.1:PORT/v1) and QUIVER_API_KEY, or use run.sh.');
}

const client = new OpenAI({ baseURL, apiKey });
const cleanup = { stores: new Set(), files: new Set() };

after(async () => {
  for (const id of cleanup.stores) await client.vectorStores.delete(id).catch(() => {});
  for (const id of cleanup.files) await client.files.delete(id).catch(() => {});
});

const upload = async (name, text) => {
  const file = await client.files.create({ file: await toFile(Buffer.from(text), name), purpose: 'assistants' });
  cleanup.files.add(file.id);
  return file;
};

const newStore = async (params = {}) => {
  const store = await client.vectorStores.create({ name: 'node sdk', ...params });
  cleanup.stores.add(store.id);
  return store;
};

// A few KB of distinct prose per file, so the local model has real work to do.
const essay = (topic, n) =>
  Array.from({ length: n }, (_, i) => `Paragraph ${i} on ${topic}: ${topic} matters for reason ${i}, and notes about ${topic} fill this sentence.`).join('\n\n');

test('files: create, retrieve, list, content, delete', async () => {
  const file = await upload('hello.txt', 'hello from the node sdk');
  assert.match(file.id, /^file-/);
  assert.equal(file.object, 'file');
  assert.equal(file.bytes, 23);
  assert.equal(file.filename, 'hello.txt');
  assert.equal(file.purpose, 'assistants');
  assert.equal(typeof file.created_at, 'number');
  assert.ok(Number.isInteger(file.created_at));

  assert.equal((await client.files.retrieve(file.id)).id, file.id);

  const ids = [];
  for await (const f of client.files.list({ purpose: 'assistants', limit: 2 })) ids.push(f.id);
  assert.ok(ids.includes(file.id));

  const content = await client.files.content(file.id);
  assert.equal(await content.text(), 'hello from the node sdk');

  const deleted = await client.files.delete(file.id);
  assert.deepEqual([deleted.id, deleted.deleted], [file.id, true]);
  cleanup.files.delete(file.id);
  await assert.rejects(client.files.retrieve(file.id), NotFoundError);
});

test('vector stores: create, retrieve, update, list, delete', async () => {
  const store = await newStore({ metadata: { team: 'search' }, expires_after: { anchor: 'last_active_at', days: 7 } });
  assert.match(store.id, /^vs_/);
  assert.equal(store.object, 'vector_store');
  assert.equal(store.status, 'completed');
  assert.deepEqual(store.file_counts, { in_progress: 0, completed: 0, failed: 0, cancelled: 0, total: 0 });
  assert.deepEqual(store.expires_after, { anchor: 'last_active_at', days: 7 });

  assert.equal((await client.vectorStores.retrieve(store.id)).name, 'node sdk');
  const updated = await client.vectorStores.update(store.id, { name: 'renamed', metadata: { team: 'ranking' } });
  assert.equal(updated.name, 'renamed');
  assert.equal(updated.metadata.team, 'ranking');

  const second = await newStore();
  const seen = [];
  for await (const s of client.vectorStores.list({ limit: 1, order: 'asc' })) seen.push(s.id);
  // Following `after` cursors one store per page sees both stores exactly once (ties on created_at order by id).
  assert.deepEqual([...seen].sort(), [store.id, second.id].sort());

  const deleted = await client.vectorStores.delete(store.id);
  assert.deepEqual([deleted.id, deleted.object, deleted.deleted], [store.id, 'vector_store.deleted', true]);
  cleanup.stores.delete(store.id);
  await assert.rejects(client.vectorStores.retrieve(store.id), NotFoundError);
});

test('fileBatches.uploadAndPoll, files.list with filter, update, content, search', async () => {
  const store = await newStore();
  const batch = await client.vectorStores.fileBatches.uploadAndPoll(store.id, {
    files: [
      await toFile(Buffer.from('# Apples\n\nApple orchards bloom in spring. Apples keep well in cold storage.'), 'apples.md'),
      await toFile(Buffer.from('# Pears\n\nPear trees need cross pollination. Pears ripen off the tree.'), 'pears.md'),
      await toFile(Buffer.from('Plums are stone fruit. Dried plums are prunes.'), 'plums.txt'),
    ],
  });
  assert.equal(batch.object, 'vector_store.files_batch');
  assert.equal(batch.status, 'completed');
  assert.deepEqual(batch.file_counts, { in_progress: 0, completed: 3, failed: 0, cancelled: 0, total: 3 });

  const inBatch = [];
  for await (const f of client.vectorStores.fileBatches.listFiles(batch.id, { vector_store_id: store.id, filter: 'completed', limit: 2 })) {
    inBatch.push(f);
  }
  assert.equal(inBatch.length, 3);
  for (const f of inBatch) {
    cleanup.files.add(f.id);
    assert.equal(f.object, 'vector_store.file');
    assert.equal(f.status, 'completed');
    assert.ok(f.usage_bytes > 0);
  }

  const completed = [];
  for await (const f of client.vectorStores.files.list(store.id, { filter: 'completed' })) completed.push(f.id);
  assert.equal(completed.length, 3);
  const failed = await client.vectorStores.files.list(store.id, { filter: 'failed' });
  assert.deepEqual(failed.data, []);
  assert.equal(failed.hasNextPage(), false);

  const names = new Map();
  for (const id of completed) names.set((await client.files.retrieve(id)).filename, id);
  const apples = names.get('apples.md');
  const plums = names.get('plums.txt');

  const updated = await client.vectorStores.files.update(apples, {
    vector_store_id: store.id,
    attributes: { kind: 'pome', year: 2024, organic: true },
  });
  assert.deepEqual(updated.attributes, { kind: 'pome', year: 2024, organic: true });

  const retrieved = await client.vectorStores.files.retrieve(apples, { vector_store_id: store.id });
  assert.equal(retrieved.chunking_strategy.type, 'static');

  const parts = [];
  for await (const part of client.vectorStores.files.content(plums, { vector_store_id: store.id })) parts.push(part);
  assert.ok(parts.length > 0);
  assert.equal(parts[0].type, 'text');
  assert.match(parts.map((p) => p.text).join(''), /Dried plums are prunes\./);

  const hits = await client.vectorStores.search(store.id, {
    query: 'apple orchards',
    max_num_results: 5,
    filters: { type: 'eq', key: 'kind', value: 'pome' },
  });
  assert.ok(hits.data.length > 0);
  for (const hit of hits.data) {
    assert.equal(hit.file_id, apples);
    assert.equal(hit.filename, 'apples.md');
    assert.equal(hit.attributes.kind, 'pome');
    assert.ok(hit.score >= 0 && hit.score <= 1);
    assert.equal(hit.content[0].type, 'text');
  }

  const compound = await client.vectorStores.search(store.id, {
    query: ['prunes', 'stone fruit'],
    rewrite_query: true,
    ranking_options: { ranker: 'auto', score_threshold: 0 },
    filters: { type: 'or', filters: [{ type: 'eq', key: 'kind', value: 'pome' }, { type: 'nin', key: 'kind', value: ['pome'] }] },
  });
  // `nin` never matches a missing key, so only the attributed apples file can come back.
  for (const hit of compound.data) assert.equal(hit.file_id, apples);

  const all = await client.vectorStores.search(store.id, { query: 'Dried plums are prunes' });
  assert.equal(all.data[0].file_id, plums);

  const detached = await client.vectorStores.files.delete(plums, { vector_store_id: store.id });
  assert.deepEqual([detached.id, detached.object, detached.deleted], [plums, 'vector_store.file.deleted', true]);
  const after = await client.vectorStores.retrieve(store.id);
  assert.equal(after.file_counts.total, 2);
});

test('fileBatches.createAndPoll and files.createAndPoll / uploadAndPoll with attributes', async () => {
  const store = await newStore();
  const a = await upload('a.txt', essay('rivers', 4));
  const b = await upload('b.txt', essay('mountains', 4));
  const batch = await client.vectorStores.fileBatches.createAndPoll(store.id, {
    files: [
      { file_id: a.id, attributes: { region: 'north' }, chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 200, chunk_overlap_tokens: 50 } } },
      { file_id: b.id, attributes: { region: 'south' }, chunking_strategy: { type: 'auto' } },
    ],
  });
  assert.equal(batch.status, 'completed');
  assert.equal(batch.file_counts.completed, 2);
  assert.equal((await client.vectorStores.fileBatches.retrieve(batch.id, { vector_store_id: store.id })).status, 'completed');

  const fa = await client.vectorStores.files.retrieve(a.id, { vector_store_id: store.id });
  assert.deepEqual(fa.attributes, { region: 'north' });
  assert.deepEqual(fa.chunking_strategy, { type: 'static', static: { max_chunk_size_tokens: 200, chunk_overlap_tokens: 50 } });
  // `auto` is echoed resolved in the OpenAI dialect.
  const fb = await client.vectorStores.files.retrieve(b.id, { vector_store_id: store.id });
  assert.equal(fb.chunking_strategy.type, 'static');
  assert.ok(fb.chunking_strategy.static.max_chunk_size_tokens >= 100);

  const c = await upload('c.txt', essay('deserts', 2));
  const single = await client.vectorStores.files.createAndPoll(store.id, { file_id: c.id, attributes: { region: 'east' } });
  assert.equal(single.status, 'completed');
  assert.equal(single.id, c.id);

  const uploaded = await client.vectorStores.files.uploadAndPoll(store.id, await toFile(Buffer.from(essay('forests', 2)), 'd.txt'));
  cleanup.files.add(uploaded.id);
  assert.equal(uploaded.status, 'completed');

  const hits = await client.vectorStores.search(store.id, { query: 'mountains', filters: { type: 'eq', key: 'region', value: 'south' } });
  assert.ok(hits.data.length > 0);
  assert.ok(hits.data.every((h) => h.file_id === b.id));

  const store2 = await client.vectorStores.retrieve(store.id);
  assert.equal(store2.status, 'completed');
  assert.equal(store2.file_counts.completed, 4);
  assert.ok(store2.usage_bytes > 0);
});

test('poll after cancel returns the cancelled batch', async () => {
  const store = await newStore();
  const ids = [];
  for (let i = 0; i < 24; i++) ids.push((await upload(`doc${i}.txt`, essay(`topic ${i}`, 24))).id);

  const batch = await client.vectorStores.fileBatches.create(store.id, { file_ids: ids });
  assert.equal(batch.status, 'in_progress');
  const cancelled = await client.vectorStores.fileBatches.cancel(batch.id, { vector_store_id: store.id });
  assert.equal(cancelled.status, 'cancelled');
  assert.equal(cancelled.file_counts.in_progress, 0);
  assert.ok(cancelled.file_counts.cancelled > 0, JSON.stringify(cancelled.file_counts));
  assert.equal(cancelled.file_counts.total, 24);

  const polled = await client.vectorStores.fileBatches.poll(store.id, batch.id);
  assert.equal(polled.status, 'cancelled');
  assert.deepEqual(polled.file_counts, cancelled.file_counts);

  const cancelledFiles = [];
  for await (const f of client.vectorStores.fileBatches.listFiles(batch.id, { vector_store_id: store.id, filter: 'cancelled', limit: 100 })) {
    cancelledFiles.push(f);
  }
  assert.equal(cancelledFiles.length, cancelled.file_counts.cancelled);
  assert.ok(cancelledFiles.every((f) => f.status === 'cancelled'));

  const storeAfter = await client.vectorStores.retrieve(store.id);
  assert.equal(storeAfter.status, 'completed');
  assert.equal(storeAfter.file_counts.in_progress, 0);
});
