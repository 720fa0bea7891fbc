// The HTTP API client. The console uses the OpenAI dialect (/v1) for stores, files and search and
// the admin API for keys. The key lives in sessionStorage: it is gone when the tab closes.

const KEY = 'quiver.console.key';
const ON_BEHALF_OF = 'quiver.console.onBehalfOf';
const ADMIN = 'quiver.console.admin';

export const session = {
  get key() { return sessionStorage.getItem(KEY); },
  get onBehalfOf() { return sessionStorage.getItem(ON_BEHALF_OF) || ''; },
  get isAdmin() { return sessionStorage.getItem(ADMIN) === 'true'; },
  save(key, onBehalfOf, isAdmin) {
    sessionStorage.setItem(KEY, key);
    if (onBehalfOf) sessionStorage.setItem(ON_BEHALF_OF, onBehalfOf);
    else sessionStorage.removeItem(ON_BEHALF_OF);
    sessionStorage.setItem(ADMIN, String(isAdmin));
  },
  clear() {
    sessionStorage.removeItem(KEY);
    sessionStorage.removeItem(ON_BEHALF_OF);
    sessionStorage.removeItem(ADMIN);
  },
};

/** A failed call: `message` is the server's own error message (or a plain-words network one). */
export class ApiError extends Error {
  constructor(status, message, code, param) {
    super(message);
    this.status = status;
    this.code = code;
    this.param = param;
  }
}

/** Called when a request is answered 401 with the stored key, so the app can ask to sign in again. */
let onUnauthorized = () => {};
export function setUnauthorizedHandler(handler) { onUnauthorized = handler; }

/**
 * One request. `body` is sent as JSON unless it is FormData. Returns the parsed JSON answer, or
 * throws ApiError. `credentials` overrides the stored key (sign-in tries a key before keeping it).
 */
export async function call(method, path, { body, signal, credentials } = {}) {
  const { key, onBehalfOf } = credentials ?? { key: session.key, onBehalfOf: session.onBehalfOf };
  const headers = { Authorization: `Bearer ${key ?? ''}` };
  if (onBehalfOf) headers['X-On-Behalf-Of'] = onBehalfOf;
  let payload;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }

  let response;
  try {
    response = await fetch(path, { method, headers, body: payload, signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'The server could not be reached. Check that Quiver is running and try again.');
  }

  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON: use the status below */ }
  if (!response.ok) {
    const error = json?.error;
    const failure = new ApiError(response.status,
      error?.message ?? `The server answered ${response.status} ${response.statusText}.`, error?.code, error?.param);
    if (response.status === 401 && !credentials) onUnauthorized(failure);
    throw failure;
  }
  return json;
}

const enc = encodeURIComponent;
const query = params => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
};

export const api = {
  listStores: (after) => call('GET', `/v1/vector_stores${query({ limit: 100, after })}`),
  getStore: id => call('GET', `/v1/vector_stores/${enc(id)}`),
  createStore: body => call('POST', '/v1/vector_stores', { body }),
  updateStore: (id, body) => call('POST', `/v1/vector_stores/${enc(id)}`, { body }),
  deleteStore: id => call('DELETE', `/v1/vector_stores/${enc(id)}`),
  listModels: () => call('GET', '/v1/embeddings/models'),

  listStoreFiles: (id, filter, after) =>
    call('GET', `/v1/vector_stores/${enc(id)}/files${query({ limit: 100, filter, after })}`),
  detachFile: (id, fileId) => call('DELETE', `/v1/vector_stores/${enc(id)}/files/${enc(fileId)}`),
  getFile: fileId => call('GET', `/v1/files/${enc(fileId)}`),
  deleteFile: fileId => call('DELETE', `/v1/files/${enc(fileId)}`),
  uploadFile: (file, signal) => {
    const form = new FormData();
    form.append('purpose', 'assistants');
    form.append('file', file, file.name);
    return call('POST', '/v1/files', { body: form, signal });
  },

  createBatch: (id, body) => call('POST', `/v1/vector_stores/${enc(id)}/file_batches`, { body }),
  getBatch: (id, batchId) => call('GET', `/v1/vector_stores/${enc(id)}/file_batches/${enc(batchId)}`),
  cancelBatch: (id, batchId) => call('POST', `/v1/vector_stores/${enc(id)}/file_batches/${enc(batchId)}/cancel`),

  search: (id, body) => call('POST', `/v1/vector_stores/${enc(id)}/search`, { body }),

  listKeys: () => call('GET', '/api/v1/admin/keys'),
  createKey: body => call('POST', '/api/v1/admin/keys', { body }),
  revokeKey: keyId => call('DELETE', `/api/v1/admin/keys/${enc(keyId)}`),
};
