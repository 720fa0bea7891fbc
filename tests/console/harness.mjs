// The live system the browser tests drive: a held embedding model on loopback, the built Quiver
// server as a child process configured to use it, and Debian's Chromium through playwright-core.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, mkdirSync, rmSync, createWriteStream, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { chromium } from 'playwright-core';

export const root = resolve(import.meta.dirname, '../..');
export const artifacts = join(root, 'artifacts', 'console');

/** The remote model whose every embedding request is held until the harness stops. */
export const HELD_MODEL = 'openai:held-8';
const HELD_DIMENSIONS = 8;

/**
 * An OpenAI-compatible POST /v1/embeddings that never answers while the tests run (like
 * tests/Quiver.IntegrationTests/Infrastructure/HoldingEmbeddingServer.cs): a store on this model
 * keeps its batch in progress, so there is always something to cancel. `inFlight` counts the
 * requests being held; `aborted` those the server gave up (a cancelled file's worker stops).
 */
async function startHeldEmbedder() {
  const held = new Set();
  const state = { inFlight: 0, aborted: 0 };
  const server = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/v1/embeddings') {
      res.writeHead(404).end();
      return;
    }
    req.resume();
    state.inFlight++;
    held.add(res);
    res.on('close', () => {
      if (held.delete(res)) {
        state.inFlight--;
        if (!res.writableEnded) state.aborted++;
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    state,
    baseUrl: `http://127.0.0.1:${server.address().port}/v1`,
    async stop() {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      server.close();
    },
  };
}

async function freePort() {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address();
  s.close();
  return port;
}

/** Starts everything; returns { baseUrl, apiKey, embedder, browser, stop, serverLog }. */
export async function startSystem() {
  const serverDll = process.env.QUIVER_SERVER_DLL ?? join(root, 'src/Quiver.Server/bin/Release/net10.0/Quiver.Server.dll');
  if (!existsSync(serverDll)) throw new Error(`${serverDll} not found: build it first (dotnet build src/Quiver.Server -c Release).`);
  const executablePath = process.env.QUIVER_CHROMIUM ?? '/usr/bin/chromium';
  mkdirSync(artifacts, { recursive: true });

  const embedder = await startHeldEmbedder();
  const dataDir = mkdtempSync(join(tmpdir(), 'quiver-console-'));
  const port = await freePort();
  const apiKey = `console-test-${Math.random().toString(36).slice(2)}`;
  const logPath = join(dataDir, 'server.log');
  const log = createWriteStream(logPath);
  const model = 'Quiver__Embeddings__Remote__0__';
  const server = spawn('dotnet', [serverDll, 'serve', '--urls', `http://127.0.0.1:${port}`], {
    env: {
      ...process.env,
      QUIVER_API_KEY: apiKey,
      Quiver__DataDir: join(dataDir, 'data'),
      // One worker: on the held model, one file is held and the rest wait, until the cancel.
      Quiver__Ingestion__Workers: '1',
      [`${model}Id`]: HELD_MODEL,
      [`${model}BaseUrl`]: embedder.baseUrl,
      [`${model}ApiKey`]: 'held',
      [`${model}Dimensions`]: String(HELD_DIMENSIONS),
      [`${model}MaxAttempts`]: '1',
      [`${model}TimeoutSeconds`]: '300',
      Logging__LogLevel__Default: 'Warning',
      DOTNET_ENVIRONMENT: 'Production',
      ASPNETCORE_ENVIRONMENT: 'Production',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout.pipe(log);
  server.stderr.pipe(log);
  let exited = null;
  server.on('exit', code => { exited = code ?? -1; });

  const baseUrl = `http://127.0.0.1:${port}`;
  const readLog = () => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : '');
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (exited !== null) throw new Error(`Quiver exited (${exited}) before it was ready:\n${readLog()}`);
    if (Date.now() > deadline) throw new Error(`Quiver was not ready after 120 s:\n${readLog()}`);
    const ok = await fetch(`${baseUrl}/readyz`).then(r => r.ok, () => false);
    if (ok) break;
    await new Promise(r => setTimeout(r, 250));
  }

  const browser = await chromium.launch({ executablePath, headless: true });
  return {
    baseUrl,
    apiKey,
    embedder: embedder.state,
    browser,
    serverLog: readLog,
    async stop() {
      await browser.close().catch(() => {});
      server.kill('SIGTERM');
      if (exited === null) await once(server, 'exit').catch(() => {});
      await embedder.stop();
      log.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Waits until `predicate()` is true (polled every 50 ms), failing with `what` after `ms`. */
export async function until(predicate, what, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms waiting for ${what}.`);
    await new Promise(r => setTimeout(r, 50));
  }
}
