/**
 * `--metrics [host:]port`: a Prometheus endpoint (GET /metrics) on node:http with a private
 * prom-client Registry (never the global one, so a library user's metrics never mix in).
 *
 * The daemon already counts everything in its DaemonReport, cumulatively since start
 * (FlowTotals folds finished sessions in). Those counters are exposed through collect()
 * callbacks that reset the metric and set it to the report's number, so a scrape shows the
 * report exactly: nothing is counted twice and nothing is added on the hot path. The
 * report is taken once per scrape and shared by every collector. Only the two histograms
 * are fed live, from service.observers (a report carries no distribution).
 *
 * Names follow Prometheus conventions: `_total` for counters, base units (seconds, bytes).
 */
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { PdsmError } from '../errors.js';
import type { Logger } from '../log.js';
import type { DaemonReport, FlowReport, Observers } from './status-report.js';

/** What the metrics need from a running daemon. */
export interface MetricsSource {
  report(): DaemonReport;
  readonly observers: Observers;
}

/** Round-trip times on loopback are ~0.1 ms, across a data center ~0.5 ms, a WAN 10-300 ms. */
export const RTT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
/** A scan hashes every page of every outgoing flow: microseconds for 4 KiB, ~100 ms for 1 GiB. */
export const SCAN_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/** The `peer` label: a client id on the master, "master" on a remote, "all" for the master's BC. */
export function peerLabel(id: number): string {
  return id < 0 ? 'master' : String(id);
}

/**
 * Build the registry for `source`. `snapshot()` returns the report of the scrape under way
 * (taken once by the HTTP handler) so every collector sees the same numbers.
 */
export function buildRegistry(source: MetricsSource, snapshot: () => DaemonReport, role: string, clientId?: number): { registry: Registry; dispose(): void } {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });

  new Gauge({
    name: 'pdsm_info',
    help: 'Always 1; labels name the daemon',
    labelNames: ['role', 'client_id'],
    registers,
    collect() {
      this.reset();
      this.set({ role, client_id: clientId === undefined ? '' : String(clientId) }, 1);
    },
  });
  new Gauge({
    name: 'pdsm_epoch',
    help: "This daemon's epoch (changes at every start)",
    registers,
    collect() {
      this.set(snapshot().epoch);
    },
  });

  const wire = (name: string, help: string, field: 'datagrams' | 'bytes'): void => {
    new Counter({
      name,
      help,
      labelNames: ['direction', 'type'],
      registers,
      collect() {
        this.reset();
        const w = snapshot().wire;
        for (const [direction, byType] of [
          ['out', w.sent],
          ['in', w.received],
        ] as const) {
          for (const [type, c] of Object.entries(byType)) this.inc({ direction, type }, c[field]);
        }
      },
    });
  };
  wire('pdsm_datagrams_total', 'Datagrams by message type and direction (out: sent, in: received and decoded)', 'datagrams');
  wire('pdsm_bytes_total', 'Datagram bytes on the wire by message type and direction', 'bytes');

  new Counter({
    name: 'pdsm_dropped_datagrams_total',
    help: 'Datagrams dropped (invalid, unknown source, duplicate...) by reason',
    labelNames: ['reason'],
    registers,
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(snapshot().drops)) this.inc({ reason }, n);
    },
  });

  /** Every flow of the report with its peer label. */
  const flows = (r: DaemonReport): { peer: string; f: FlowReport }[] => {
    const out = r.peers.flatMap((p) => p.flows.map((f) => ({ peer: peerLabel(p.id), f })));
    if (r.bc) out.push({ peer: 'all', f: r.bc });
    return out;
  };
  const flowCounter = (name: string, help: string, pick: (f: FlowReport) => number | undefined): void => {
    new Counter({
      name,
      help,
      labelNames: ['peer', 'flow', 'direction'],
      registers,
      collect() {
        this.reset();
        for (const { peer, f } of flows(snapshot())) {
          const v = pick(f);
          if (v !== undefined) this.inc({ peer, flow: f.flow, direction: f.direction }, v);
        }
      },
    });
  };
  flowCounter('pdsm_flow_batches_total', 'Batches sent (out) or applied (in) per peer and flow', (f) => f.batches);
  flowCounter('pdsm_flow_datagrams_total', 'DATA datagrams sent, without retransmissions (out), or accepted (in)', (f) => f.datagrams);
  flowCounter('pdsm_page_bytes_total', 'Page bytes sent (out) or applied (in) per peer and flow', (f) => f.bytes);
  flowCounter('pdsm_nacks_total', 'NACKs received for a flow this daemon sends (out) or sent for a flow it receives (in)', (f) => f.nacks);
  flowCounter('pdsm_retransmits_total', 'DATA datagrams retransmitted after a NACK (out flows only)', (f) =>
    f.direction === 'out' ? f.retransmits : undefined,
  );
  flowCounter(
    'pdsm_nacked_too_old_total',
    'NACKed DATA no longer in the retransmit history: a replacement batch went instead (out flows only)',
    (f) => f.nackedTooOld,
  );
  flowCounter(
    'pdsm_nacked_oversized_total',
    "NACKed DATA cut larger than the NACKing session's MTU: a replacement batch went instead (out flows only)",
    (f) => f.nackedOversized,
  );
  flowCounter('pdsm_nack_shed_total', 'NACKed numbers not queued for repair: the repair queue was full (out flows only)', (f) => f.nackShed);
  flowCounter('pdsm_resyncs_total', 'Full or replacement batches sent (out) or RESYNCs asked for (in)', (f) => f.resyncs);
  flowCounter('pdsm_flush_requests_total', 'Flush-on-demand requests taken for an outgoing flow (control socket)', (f) => f.flushRequests);
  flowCounter('pdsm_flush_scans_total', 'Scans those flush requests ran (coalesced, at most one per --flush-min-ms)', (f) => f.flushScans);
  new Counter({
    name: 'pdsm_scans_total',
    help: 'Periodic scan passes (every -i) since start; flush scans are pdsm_flush_scans_total',
    registers,
    collect() {
      this.reset();
      this.inc(snapshot().scans ?? 0);
    },
  });
  new Gauge({
    name: 'pdsm_pending_datagrams',
    help: 'Datagrams of an incoming flow still missing or held before they can be applied',
    labelNames: ['peer', 'flow'],
    registers,
    collect() {
      this.reset();
      for (const { peer, f } of flows(snapshot())) if (f.direction === 'in') this.set({ peer, flow: f.flow }, f.pending);
    },
  });

  new Gauge({
    name: 'pdsm_resync_bytes',
    help: 'A full resync under way: page bytes done (state="done") and in all (state="total")',
    labelNames: ['peer', 'flow', 'direction', 'state'],
    registers,
    collect() {
      this.reset();
      for (const { peer, f } of flows(snapshot())) {
        if (!f.resync) continue;
        this.set({ peer, flow: f.flow, direction: f.direction, state: 'done' }, f.resync.bytesDone);
        this.set({ peer, flow: f.flow, direction: f.direction, state: 'total' }, f.resync.bytesTotal);
      }
    },
  });
  new Gauge({
    name: 'pdsm_pace_rate_datagrams',
    help: "The flow controller's rate of an outgoing flow, datagrams per second (spec §7.9)",
    labelNames: ['peer', 'flow'],
    registers,
    collect() {
      this.reset();
      for (const { peer, f } of flows(snapshot())) if (f.paceRate !== undefined) this.set({ peer, flow: f.flow }, f.paceRate);
    },
  });
  new Gauge({
    name: 'pdsm_event_loop_delay_seconds',
    help: 'Event-loop delay of the daemon over the report window (quantile 0.5, 0.99, 1 = max)',
    labelNames: ['quantile'],
    registers,
    collect() {
      this.reset();
      const d = snapshot().loopDelay;
      if (!d) return;
      this.set({ quantile: '0.5' }, d.p50Ms / 1000);
      this.set({ quantile: '0.99' }, d.p99Ms / 1000);
      this.set({ quantile: '1' }, d.maxMs / 1000);
    },
  });

  new Gauge({
    name: 'pdsm_peer_up',
    help: '1 while the peer is up (heard within the liveness timeout), else 0',
    labelNames: ['peer'],
    registers,
    collect() {
      this.reset();
      for (const p of snapshot().peers) this.set({ peer: peerLabel(p.id) }, p.state === 'up' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'pdsm_peer_last_heard_seconds',
    help: 'Seconds since the peer was last heard (absent if never heard)',
    labelNames: ['peer'],
    registers,
    collect() {
      this.reset();
      for (const p of snapshot().peers) if (p.lastHeardMsAgo !== undefined) this.set({ peer: peerLabel(p.id) }, p.lastHeardMsAgo / 1000);
    },
  });
  new Gauge({
    name: 'pdsm_peer_rtt_seconds',
    help: 'Latest smoothed round-trip time to the peer',
    labelNames: ['peer'],
    registers,
    collect() {
      this.reset();
      for (const p of snapshot().peers) if (p.rttMs !== undefined) this.set({ peer: peerLabel(p.id) }, p.rttMs / 1000);
    },
  });

  // Histograms have no peer label: with hundreds of remotes that would be thousands of
  // series; pdsm_peer_rtt_seconds gives the per-peer value.
  const rtt = new Histogram({ name: 'pdsm_rtt_seconds', help: 'Round-trip time samples to any peer', buckets: RTT_BUCKETS, registers });
  const scan = new Histogram({ name: 'pdsm_scan_duration_seconds', help: 'Time of one scan pass over every outgoing flow', buckets: SCAN_BUCKETS, registers });
  const onRtt = (_id: number, ms: number): void => rtt.observe(ms / 1000);
  const onScan = (ms: number): void => scan.observe(ms / 1000);
  source.observers.rtt.add(onRtt);
  source.observers.scan.add(onScan);
  return {
    registry,
    dispose() {
      source.observers.rtt.delete(onRtt);
      source.observers.scan.delete(onScan);
    },
  };
}

export class MetricsServer {
  readonly host: string;
  readonly port: number;
  readonly #server: Server;
  readonly #dispose: () => void;

  private constructor(host: string, port: number, server: Server, dispose: () => void) {
    this.host = host;
    this.port = port;
    this.#server = server;
    this.#dispose = dispose;
  }

  /** Listen on host:port; a bind failure is PDSM_ERR_NETWORK naming host:port (exit 1). */
  static async start(at: { host: string; port: number }, source: MetricsSource, log: Logger, role: string, clientId?: number): Promise<MetricsServer> {
    let current: DaemonReport | undefined;
    const snapshot = (): DaemonReport => (current ??= source.report());
    const { registry, dispose } = buildRegistry(source, snapshot, role, clientId);
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (path !== '/metrics') {
        res.writeHead(path === '/' ? 200 : 404, { 'content-type': 'text/plain' }).end(path === '/' ? 'pdsm: metrics at /metrics\n' : 'not found\n');
        return;
      }
      current = undefined;
      registry
        .metrics()
        .then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(req.method === 'HEAD' ? undefined : text))
        .catch((err: unknown) => {
          log.warn('metrics scrape failed', { error: (err as Error).message });
          res.writeHead(500, { 'content-type': 'text/plain' }).end('scrape failed\n');
        })
        .finally(() => (current = undefined));
    });
    // A scraper is one client; keep slow or idle connections from piling up.
    server.maxConnections = 32;
    server.requestTimeout = 10_000;
    server.headersTimeout = 5_000;
    server.keepAliveTimeout = 5_000;
    const where = at.host.includes(':') ? `[${at.host}]:${at.port}` : `${at.host}:${at.port}`;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(at.port, at.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      dispose();
      throw new PdsmError('PDSM_ERR_NETWORK', `--metrics: cannot listen on ${where}: ${(err as Error).message}`, { cause: err });
    }
    server.on('error', (err) => log.warn('metrics server error', { error: err.message }));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : at.port;
    log.info('metrics endpoint', { url: `http://${at.host.includes(':') ? `[${at.host}]` : at.host}:${port}/metrics` });
    return new MetricsServer(at.host, port, server, dispose);
  }

  async close(): Promise<void> {
    this.#dispose();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
