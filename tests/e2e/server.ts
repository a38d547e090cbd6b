// Starts and stops the real fieldcheck-server for end-to-end tests, on a temporary data folder.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const serverBin = process.env.FIELDCHECK_SERVER_BIN ?? path.resolve(__dirname, '../../target/debug/fieldcheck-server');
export const distDir = process.env.FIELDCHECK_DIST ?? path.resolve(__dirname, '../../dist');

/** A running server process and the address it bound. */
export class Server {
  private constructor(
    private process: ChildProcess,
    readonly baseUrl: string,
    readonly dataDir: string,
    readonly staticDir: string,
  ) {}

  /** Starts a server with demo data; `listen` 127.0.0.1:0 picks a free port; `staticDir` holds the built app. */
  static async start(
    dataDir = mkdtempSync(path.join(tmpdir(), 'fieldcheck-e2e-')),
    listen = '127.0.0.1:0',
    staticDir = distDir,
  ): Promise<Server> {
    const child = spawn(serverBin, ['serve', '--demo', '--listen', listen, '--data', dataDir, '--static', staticDir], {
      stdio: ['ignore', 'pipe', 'inherit'],
      // The server logs every request at info; the tests' output keeps only warnings and errors.
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' },
    });
    const baseUrl = await new Promise<string>((resolve, reject) => {
      let seen = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        const match = seen.match(/listening on (http:\/\/\S+)/);
        if (match) resolve(match[1]);
      });
      child.on('exit', (code) => reject(new Error(`fieldcheck-server exited with ${code} before listening:\n${seen}`)));
      child.on('error', reject);
    });
    // Keep draining stdout so the server never blocks on a full pipe.
    child.stdout!.on('data', () => {});
    return new Server(child, baseUrl, dataDir, staticDir);
  }

  /** Stops the process and waits until it is gone, so that its port refuses connections. */
  async stop(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const exited = new Promise((resolve) => this.process.once('exit', resolve));
    this.process.kill('SIGTERM');
    await exited;
  }

  /** Starts a new server process on the same address and data folder. */
  async restart(): Promise<Server> {
    await this.stop();
    return Server.start(this.dataDir, new URL(this.baseUrl).host, this.staticDir);
  }

  /** Logs in through the API and returns a bearer token. */
  async login(username: string, password: string): Promise<{ token: string; user: { id: string; unit_id: string } }> {
    const response = await fetch(`${this.baseUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    if (!response.ok) throw new Error(`login as ${username} answered ${response.status}`);
    return response.json();
  }

  /** A supervisor's review through the API, on the rev they read. */
  async review(token: string, id: string, decision: 'approve' | 'return', rev: number, comment = ''): Promise<Response> {
    return fetch(`${this.baseUrl}/api/inspections/${id}/review`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ decision, rev, comment }),
    });
  }

  /** A raw pull answer, to check what a token may still do. */
  async pullStatus(token: string): Promise<number> {
    const response = await fetch(`${this.baseUrl}/api/sync/pull`, { headers: { authorization: `Bearer ${token}` } });
    return response.status;
  }

  /** Pulls every change the token may see, following the cursor to the end. */
  async pullAll(token: string): Promise<Array<{ entity: string; id: string; rev: number; body: any }>> {
    const changes = [];
    let cursor = '';
    for (;;) {
      const response = await fetch(`${this.baseUrl}/api/sync/pull?since=${encodeURIComponent(cursor)}&limit=100`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (!response.ok) throw new Error(`pull answered ${response.status}`);
      const page = await response.json();
      changes.push(...page.changes);
      cursor = page.cursor;
      if (!page.has_more) return changes;
    }
  }
}

export const DEMO_PASSWORD = 'fieldcheck';
