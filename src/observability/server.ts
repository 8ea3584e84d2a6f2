/**
 * HTTP endpoints: /metrics (Prometheus), /healthz (503 once the pipeline is
 * dead, so an orchestrator restarts it), /readyz (every input ready, rules
 * loaded, no breaker open; the reasons when not).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface Readiness {
  ready: boolean;
  reasons: string[];
  /** Hash of the loaded rule files: which ruleset version is running. */
  ruleset?: string;
}

export interface HttpServer {
  port: number;
  close(): Promise<void>;
}

export interface Health {
  ok: boolean;
  reasons: string[];
}

export function startHttpServer(host: string, port: number, registry: Registry, readiness: () => Readiness, health: () => Health = () => ({ ok: true, reasons: [] })): Promise<HttpServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (e: Error) => res.writeHead(500).end(e.message),
      );
    } else if (path === '/healthz') {
      const h = health();
      res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' }).end(`${JSON.stringify(h.ok ? { status: 'ok' } : { status: 'failed', reasons: h.reasons })}\n`);
    } else if (path === '/readyz') {
      const r = readiness();
      res.writeHead(r.ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ ready: r.ready, reasons: r.reasons, ...(r.ruleset ? { ruleset: r.ruleset } : {}) }) + '\n');
    } else res.writeHead(404).end('not found\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () => new Promise((r) => server.close(() => r())),
      });
    });
  });
}
