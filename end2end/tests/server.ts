// Test fixture: one fresh `prefcenter --demo` server per test file.
//
// The server runs on a random port (PREFCENTER_LISTEN=127.0.0.1:0) with its own SQLite
// database in a new temp dir, so every test file starts from the same demo data. It is
// stopped with SIGTERM when the worker moves on to another file, or at worker teardown.
// A worker restarts after a failed test, so a failure also gives the next test a fresh
// server.
//
// The binary is $PREFCENTER_BIN (resolved against end2end/ when relative), by default
// ../target/debug/prefcenter relative to end2end/.

import { test as base, expect } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export { expect };

const END2END_DIR = path.resolve(__dirname, '..');
const REPO_DIR = path.resolve(END2END_DIR, '..');
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

export function binaryPath(): string {
  const fromEnv = process.env.PREFCENTER_BIN;
  return path.resolve(END2END_DIR, fromEnv && fromEnv.length > 0 ? fromEnv : '../target/debug/prefcenter');
}

/** The demo's links, as printed by `prefcenter --demo`. */
export interface Demo {
  /** Origin of the server, e.g. http://127.0.0.1:41234 */
  base: string;
  /** holly@contoso.com's unsubscribe link (/u/{token}) */
  holly: string;
  /** frank@contoso.com's unsubscribe link (/u/{token}) */
  frank: string;
  /** Every demo contact's unsubscribe link, by email address. */
  links: Record<string, string>;
  /** The server's temp dir (database and data dir). */
  dir: string;
  /** Everything the server printed so far (keeps growing): confirmation links among it. */
  output: string[];
}

/** /u/{token} → /p/{token} (the subscription center). */
export function centerUrl(unsubscribeUrl: string): string {
  const u = new URL(unsubscribeUrl);
  u.pathname = u.pathname.replace(/^\/u\//, '/p/');
  return u.toString();
}

/** The token of a /u/{token} or /p/{token} link. */
export function tokenOf(link: string): string {
  const m = new URL(link).pathname.match(/^\/[up]\/([^/]+)/);
  if (!m) throw new Error(`not a contact link: ${link}`);
  return m[1];
}

export class Server {
  private exited = false;
  private exitInfo = '';

  private constructor(
    readonly proc: ChildProcess,
    readonly demo: Demo,
    /** Everything the server printed, stdout and stderr, line by line (keeps growing). */
    readonly output: string[],
  ) {}

  get alive(): boolean {
    return !this.exited && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  log(): string {
    return this.output.join('\n');
  }

  /** Starts a demo server; `extraEnv` adds settings (e.g. an SMTP server's). */
  static async start(extraEnv: NodeJS.ProcessEnv = {}): Promise<Server> {
    const bin = binaryPath();
    if (!fs.existsSync(bin)) {
      throw new Error(
        `prefcenter binary not found at ${bin}.\n` +
          `Build it first (from the repository root: cargo build --features ssr --bin prefcenter), ` +
          `or point PREFCENTER_BIN at an existing binary.`,
      );
    }
    try {
      fs.accessSync(bin, fs.constants.X_OK);
    } catch {
      throw new Error(`prefcenter binary at ${bin} is not executable.`);
    }

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prefcenter-e2e-'));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PREFCENTER_LISTEN: '127.0.0.1:0',
      PREFCENTER_DATABASE_URL: `sqlite://${dir}/db.sqlite`,
      PREFCENTER_DATA_DIR: dir,
      // The webhook test's receiver runs on this machine; deliveries are looked for often.
      PREFCENTER_WEBHOOKS_ALLOW_PRIVATE: 'true',
      PREFCENTER_POLL_MS: '200',
      NO_COLOR: '1',
      ...extraEnv,
    };
    const proc = spawn(bin, ['--demo'], { cwd: REPO_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] });

    const output: string[] = [];
    const links: Record<string, string> = {};
    let origin: string | undefined;

    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`prefcenter did not print its "listening" line within ${START_TIMEOUT_MS} ms.\nOutput:\n${output.join('\n')}`));
      }, START_TIMEOUT_MS);
      const onLine = (stream: 'out' | 'err') => (line: string) => {
        output.push(`[${stream}] ${line}`);
        if (stream !== 'out') return;
        const link = line.match(/^\s+(\S+@\S+)\s+(https?:\/\/\S+\/u\/\S+)\s*$/);
        if (link) links[link[1]] = link[2];
        const listening = line.match(/listening on (https?:\/\/\S+)/);
        if (listening) {
          origin = listening[1].replace(/\/$/, '');
          clearTimeout(timer);
          resolve();
        }
      };
      lines(proc.stdout!, onLine('out'));
      lines(proc.stderr!, onLine('err'));
      proc.once('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`could not start ${bin}: ${e.message}`));
      });
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        // A no-op once ready: the promise is settled by then.
        reject(new Error(`prefcenter exited before it was ready (code ${code}, signal ${signal}).\nOutput:\n${output.join('\n')}`));
      });
    });
    // Never leave a server behind if the worker process goes away abruptly.
    const killOnExit = () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    };
    process.once('exit', killOnExit);
    proc.once('exit', () => process.removeListener('exit', killOnExit));

    try {
      await ready;
    } catch (e) {
      killOnExit();
      fs.rmSync(dir, { recursive: true, force: true });
      throw e;
    }

    const find = (name: string) => {
      const key = Object.keys(links).find((k) => k.startsWith(`${name}@`));
      if (!key) {
        throw new Error(`prefcenter --demo printed no link for ${name}@…\nOutput:\n${output.join('\n')}`);
      }
      return links[key];
    };
    let demo: Demo;
    try {
      demo = { base: origin!, holly: find('holly'), frank: find('frank'), links, dir, output };
    } catch (e) {
      killOnExit();
      throw e;
    }
    const server = new Server(proc, demo, output);
    proc.once('exit', (code, signal) => {
      server.exited = true;
      server.exitInfo = `code ${code}, signal ${signal}`;
    });
    return server;
  }

  /** SIGTERM, then SIGKILL if it has not stopped within a few seconds; removes the temp dir. */
  async stop(): Promise<void> {
    if (this.alive) {
      const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
      this.proc.kill('SIGTERM');
      const timedOut = await Promise.race([
        exited.then(() => false),
        new Promise<boolean>((r) => setTimeout(() => r(true), STOP_TIMEOUT_MS)),
      ]);
      if (timedOut) {
        this.proc.kill('SIGKILL');
        await exited;
        console.warn(`prefcenter did not stop on SIGTERM within ${STOP_TIMEOUT_MS} ms; killed it.`);
      }
    }
    fs.rmSync(this.demo.dir, { recursive: true, force: true });
  }

  describeExit(): string {
    return this.exitInfo;
  }
}

function lines(stream: NodeJS.ReadableStream, onLine: (line: string) => void) {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buf += chunk;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, i).replace(/\r$/, ''));
      buf = buf.slice(i + 1);
    }
  });
}

/** Holds the current file's server within one worker. */
class ServerPool {
  private current?: { file: string; server: Server };

  async forFile(file: string): Promise<Server> {
    if (this.current && this.current.file === file && this.current.server.alive) {
      return this.current.server;
    }
    await this.stop();
    const server = await Server.start();
    this.current = { file, server };
    return server;
  }

  async stop(): Promise<void> {
    const cur = this.current;
    this.current = undefined;
    if (cur) await cur.server.stop();
  }
}

export const test = base.extend<{ server: Demo }, { serverPool: ServerPool }>({
  serverPool: [
    async ({}, use) => {
      const pool = new ServerPool();
      await use(pool);
      await pool.stop();
    },
    { scope: 'worker' },
  ],
  server: async ({ serverPool }, use, testInfo) => {
    const server = await serverPool.forFile(testInfo.file);
    await use(server.demo);
    if (!server.alive) {
      throw new Error(`prefcenter exited during the test (${server.describeExit()}).\nOutput:\n${server.log()}`);
    }
    if (testInfo.status !== testInfo.expectedStatus) {
      await testInfo.attach('prefcenter-output', { body: server.log(), contentType: 'text/plain' });
    }
  },
});

/** The confirmation links the demo server printed (no SMTP server: kept as .eml files). */
export function confirmLinks(server: Demo): string[] {
  return server.output
    .map((l) => l.match(/^\[out\]\s+confirm: (https?:\/\/\S+\/c\/\S+)\s*$/))
    .filter((m): m is RegExpMatchArray => m !== null)
    .map((m) => m[1]);
}

/** Waits for the confirmation link after the first `seen` ones. */
export async function nextConfirmLink(server: Demo, seen: number): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const links = confirmLinks(server);
    if (links.length > seen) return links[seen];
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no confirmation link printed:\n${server.output.join('\n')}`);
}
