// Scripted HTTP servers on loopback for health-check tests (the core, the bundled action and the CLI).
import http from 'node:http';
import type https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface Reply {
  status?: number;
  body?: unknown;
  delayMs?: number;
  /** Accept the request and never answer. */
  hang?: boolean;
  headers?: Record<string, string>;
}
/** Called for the n-th request (1-based). */
export type Script = (n: number, req: http.IncomingMessage) => Reply;

const servers: Array<http.Server | https.Server> = [];

/** Registers a server for closeServers() (for servers a test creates itself, e.g. HTTPS). */
export function trackServer<S extends http.Server | https.Server>(server: S): S {
  servers.push(server);
  return server;
}

/** Closes every server started since the last call; use as `afterEach(closeServers)`. */
export async function closeServers(): Promise<void> {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
}

/**
 * An HTTP server answering each request as `script` says: JSON for object bodies, text for strings, `defaultBody`
 * when the reply has none (undefined: an empty body). Its URL ends in /health.
 */
export async function serveScript(
  script: Script,
  opts: { port?: number; defaultBody?: unknown } = {},
): Promise<{ url: string; requests: () => number; server: http.Server }> {
  let n = 0;
  const server = http.createServer((req, res) => {
    const reply = script(++n, req);
    if (reply.hang) return;
    const send = () => {
      const raw = reply.body === undefined ? opts.defaultBody : reply.body;
      const body = raw === undefined ? '' : typeof raw === 'string' ? raw : JSON.stringify(raw);
      res.writeHead(reply.status ?? 200, {
        'content-type': typeof raw === 'string' ? 'text/plain' : 'application/json',
        ...reply.headers,
      });
      res.end(body);
    };
    if (reply.delayMs) setTimeout(send, reply.delayMs);
    else send();
  });
  trackServer(server);
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/health`, requests: () => n, server };
}
