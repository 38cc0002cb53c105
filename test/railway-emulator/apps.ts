// Real app processes behind emulated deployments, and the stable per-service proxy that plays the Railway domain.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppBehaviour } from './types.js';

export const APP_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'app.mjs');

// Every child of every emulator in this process: killed on exit even when a test forgets close().
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of liveChildren) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function behaviourEnv(b: AppBehaviour): Record<string, string> {
  const env: Record<string, string> = {};
  if (b.healthy === false) env.APP_HEALTHY = '0';
  if (b.healthStatus !== undefined) env.APP_HEALTH_STATUS = String(b.healthStatus);
  if (b.flapEvery !== undefined) env.APP_FLAP_EVERY = String(b.flapEvery);
  if (b.startDelayMs !== undefined) env.APP_START_DELAY_MS = String(b.startDelayMs);
  if (b.version !== undefined) env.APP_VERSION = b.version;
  if (b.crashOnStart) env.APP_CRASH_ON_START = '1';
  return env;
}

export interface AppExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  expected: boolean;
}

export class AppProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<AppExit>;
  private stopping = false;
  private hasExited = false;

  private constructor(
    child: ChildProcess,
    readonly port: number,
    onLine: (line: string, stream: 'stdout' | 'stderr') => void,
  ) {
    this.child = child;
    this.pid = child.pid ?? -1;
    liveChildren.add(child);
    for (const stream of ['stdout', 'stderr'] as const) {
      let buffered = '';
      child[stream]?.setEncoding('utf8');
      child[stream]?.on('data', (chunk: string) => {
        buffered += chunk;
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          onLine(buffered.slice(0, newline), stream);
          buffered = buffered.slice(newline + 1);
        }
      });
    }
    // The control pipe breaks when the child dies; nothing to do about it.
    child.stdin?.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.hasExited = true;
        liveChildren.delete(child);
        resolve({ code, signal, expected: this.stopping });
      });
    });
  }

  static async start(
    env: Record<string, string>,
    onLine: (line: string, stream: 'stdout' | 'stderr') => void,
  ): Promise<AppProcess> {
    installExitHook();
    const port = await freePort();
    const child = spawn(process.execPath, [APP_SCRIPT], {
      env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port), APP_CONTROL_STDIN: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return new AppProcess(child, port, onLine);
  }

  get running(): boolean {
    return !this.hasExited;
  }

  /** Live behaviour change (e.g. turn unhealthy) without a new deployment. */
  update(b: AppBehaviour): void {
    if (this.hasExited) return;
    this.child.stdin?.write(`${JSON.stringify(b)}\n`);
  }

  /** Graceful stop like Railway's teardown: SIGTERM, then SIGKILL after a grace period. */
  async stop(graceMs = 2000): Promise<void> {
    if (this.hasExited) return;
    this.stopping = true;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Abrupt death (a crash): the exit is reported as unexpected. */
  crash(): void {
    if (!this.hasExited) this.child.kill('SIGKILL');
  }

  killNow(): void {
    if (this.hasExited) return;
    this.stopping = true;
    this.child.kill('SIGKILL');
  }
}

/** One GET against the app; resolves the HTTP status or null when nothing answers. */
export function probe(port: number, urlPath: string, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? null));
      res.on('error', () => resolve(res.statusCode ?? null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });
}

/**
 * The stable public address of a service: forwards every request to whatever port `target()` names right now
 * (the active deployment's process), 502 like Railway's edge when nothing serves.
 */
export class ServiceProxy {
  private sockets = new Set<net.Socket>();
  private scripted: number[] = [];
  /** `target` names the port to forward to; it may instead answer a status itself (e.g. a waking service's 502). */
  constructor(
    readonly server: http.Server,
    readonly port: number,
    private target: () => number | null | { status: number },
  ) {
    server.on('request', (req, res) => this.forward(req, res));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The next `count` requests answer `status` from the edge (a fresh domain's 404 before routing catches up). */
  answerNext(count: number, status: number): void {
    for (let i = 0; i < count; i++) this.scripted.push(status);
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    const edge = (status: number): void => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const message = status === 404 ? 'Application not found' : 'Application failed to respond';
      const body = JSON.stringify({ status: 'error', code: status, message });
      res.writeHead(status, { 'content-type': 'application/json', 'x-railway-fallback': 'true' });
      res.end(body);
    };
    const fail = (): void => edge(502);
    const scripted = this.scripted.shift();
    const port = scripted === undefined ? this.target() : { status: scripted };
    if (port === null || typeof port === 'object') {
      req.resume();
      edge(port?.status ?? 502);
      return;
    }
    const upstream = http.request(
      { host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers, agent: false },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    upstream.on('error', fail);
    req.pipe(upstream);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Listening HTTP servers ready to become service proxies: `serviceUrl()` is synchronous and must name a port that
 * already accepts connections, so ports are bound ahead of time and the pool refills in the background.
 */
export class ListenerPool {
  private ready: Array<{ server: http.Server; port: number }> = [];
  private closed = false;

  constructor(private size: number) {}

  async fill(): Promise<void> {
    while (!this.closed && this.ready.length < this.size) this.ready.push(await listenLoopback());
  }

  take(): { server: http.Server; port: number } {
    const item = this.ready.shift();
    if (this.ready.length < this.size) void this.fill().catch(() => undefined);
    if (item) return item;
    // Pool drained by a burst of services: find a port synchronously and bind it right away.
    const port = Number(
      execFileSync(
        process.execPath,
        [
          '-e',
          "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})",
        ],
        { encoding: 'utf8' },
      ),
    );
    const server = http.createServer();
    server.listen(port, '127.0.0.1');
    return { server, port };
  }

  async close(): Promise<void> {
    this.closed = true;
    const items = this.ready.splice(0);
    await Promise.all(items.map((i) => new Promise<void>((resolve) => i.server.close(() => resolve()))));
  }
}

function listenLoopback(): Promise<{ server: http.Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = http.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : 0 });
    });
  });
}
