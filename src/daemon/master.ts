/**
 * The master's wiring: the session core (src/session/master-session.ts) on a UDP socket,
 * the node's segments and real time. Every protocol decision is the core's; this file
 * binds the socket, builds the flows over MO, RO and BC slices, resolves -g Clientnames,
 * and reports.
 *
 * Timing: one CoreDriver timer wakes the core at its next deadline (scan, heartbeat,
 * digest); the Clientnames of -g are resolved again every minute.
 */
import { randomInt } from 'node:crypto';
import { usageError } from '../errors.js';
import { masterStRecords, sliceOffset } from '../segments/layout.js';
import { realClock } from '../reliability/clock.js';
import { decode } from '../udp/codec.js';
import { NODE_MASTER, VERSION_MAX_SUPPORTED, VERSION_MIN_SUPPORTED } from '../udp/constants.js';
import { UdpEndpoint, formatPeer, multicastInterface, resolveAll, type Peer } from '../udp/socket.js';
import { MasterSessions } from '../session/master-session.js';
import { defaultTimers, type ProtocolTimers } from '../session/timers.js';
import type { Logger } from '../log.js';
import type { MasterConfig } from './config.js';
import { InFlow, OutFlow, type FlowGeometry } from './flows.js';
import { DEFAULT_FLUSH_MIN_MS, FlushGate, flushTargets, type FlushRequest, type FlushResult, type FlushTarget } from './flush-gate.js';
import type { NodeSegments } from './node-segments.js';
import { LoopMonitor } from './loop-monitor.js';
import { CoreDriver, commonReport, logResyncs, openTransport, sessionIo, warnStuck, type Service } from './service.js';
import type { Transport } from './transport.js';
import { Observers, type DaemonReport } from './status-report.js';

export class MasterService implements Service {
  readonly config: MasterConfig;
  readonly transport: Transport;
  readonly timers: ProtocolTimers;
  readonly observers = new Observers();
  readonly core: MasterSessions;
  readonly #log: Logger;
  readonly #mo: OutFlow[] = [];
  readonly #ro: InFlow[] = [];
  readonly #bc: OutFlow | undefined;
  readonly #group: Peer | undefined;
  readonly #driver: CoreDriver;
  readonly #startedAt = performance.now();
  /** How long the event loop was held (status, metrics); runs from start() to stop(). */
  readonly #loop = new LoopMonitor();
  #namesTimer: NodeJS.Timeout | undefined;

  private constructor(config: MasterConfig, node: NodeSegments, log: Logger, transport: Transport) {
    this.config = config;
    this.#log = log;
    this.transport = transport;
    this.timers = defaultTimers(config.intervalMs, config.digestMs ? { digestMs: config.digestMs } : {});
    const geometry: FlowGeometry = { pageSize: config.pageSize, wordSize: config.wordSize, mtu: config.mtu };
    const records = masterStRecords(config.remotes);
    for (let id = 0; id < config.remotes; id++) {
      const start = sliceOffset(id, config.segSize);
      const mo = new OutFlow('mo', node.mo.buffer.subarray(start, start + config.segSize), config.pageSize, node.status, records.moOut(id));
      mo.onStuck((n) => warnStuck(log, 'mo', records.moOut(id), n, id));
      logResyncs(log, mo, { client: id });
      this.#mo.push(mo);
      const ro = new InFlow('ro', node.ro.buffer.subarray(start, start + config.segSize), geometry, node.status, records.roIn(id));
      logResyncs(log, ro, { client: id });
      this.#ro.push(ro);
    }
    if (node.bc) {
      this.#bc = new OutFlow('bc', node.bc.buffer, config.pageSize, node.status, records.bcOut);
      this.#bc.onStuck((n) => warnStuck(log, 'bc', records.bcOut, n));
      logResyncs(log, this.#bc);
      if (config.multicast) this.#group = { address: config.multicast.group, port: config.port + 1 };
    }
    const io = sessionIo(transport, log, this.observers, {
      state: (id, s) => {
        node.status.setPeerState(records.roIn(id), s);
        node.status.setPeerState(records.moOut(id), s);
      },
      heard: (id) => {
        node.status.stampHeard(records.roIn(id));
        node.status.stampHeard(records.moOut(id));
      },
    });
    this.#startMulticast();
    this.core = new MasterSessions(
      {
        epoch: transport.epoch,
        remotes: config.remotes,
        pageSize: config.pageSize,
        wordSize: config.wordSize,
        segSize: config.segSize,
        bcSize: config.broadcastSize,
        mtu: config.mtu,
        intervalMs: config.intervalMs,
        timers: this.timers,
        versions: { min: VERSION_MIN_SUPPORTED, max: VERSION_MAX_SUPPORTED },
        sealed: transport.sealed,
        ...(config.clientNames ? { clientNames: config.clientNames } : {}),
        ...(this.#group ? { group: this.#group } : {}),
        clock: realClock,
        randomSeq: () => randomInt(0, 2 ** 32 - 1) >>> 0,
      },
      io,
      { mo: this.#mo, ro: this.#ro, ...(this.#bc ? { bc: this.#bc } : {}) },
      realClock.now(),
    );
    this.#driver = new CoreDriver(this.core, transport.endpoint);
    const minGapMs = config.flushMinMs ?? DEFAULT_FLUSH_MIN_MS;
    this.#mo.forEach((mo, id) => (mo.flushGate = new FlushGate(() => this.core.flushScan('mo', id), { minGapMs })));
    if (this.#bc) this.#bc.flushGate = new FlushGate(() => this.core.flushScan('bc'), { minGapMs });
    if (this.#bc)
      log.info('broadcast segment', {
        size: config.broadcastSize,
        mode: this.#group ? `multicast ${formatPeer(this.#group)} ttl=${config.multicast!.ttl}` : 'unicast fan-out',
      });
  }

  static async start(config: MasterConfig, node: NodeSegments, log: Logger): Promise<MasterService> {
    const endpoint = await UdpEndpoint.bind({ family: config.family, port: config.port, ...(config.listen ? { address: config.listen } : {}) });
    let service: MasterService | undefined;
    try {
      const transport = openTransport(
        endpoint,
        log,
        node.nextEpoch(),
        config.pskFile,
        config.psk,
        {
          self: NODE_MASTER,
          acceptSrc: (src) => src < config.remotes,
          // spec §9.5: tell a remote without the key why it cannot join.
          onUnsealed: (bytes, from) => {
            const r = decode(bytes);
            if (r.ok && r.msg.type === 'hello') service?.core.onUnsealedHello(r.msg, from, realClock.now());
          },
          // A sealed datagram of no session here (this master restarted): REJECT not-joined.
          onNoSession: (src, epoch, from) => service?.core.onNoSession(src, epoch, from, realClock.now()),
        },
        {
          text: 'the network side is unauthenticated: anyone who can reach this UDP port can write into these segments; use --psk-file',
          fields: { port: endpoint.localPort, clientname_check: config.clientNames ? 'on' : 'off (no -g)' },
        },
      );
      service = new MasterService(config, node, log, transport);
    } catch (err) {
      await endpoint.close(0);
      throw err;
    }
    service.#loop.start();
    await service.#refreshNames();
    service.#driver.listen(service.transport);
    if (config.clientNames) service.#namesTimer = setInterval(() => void service.#refreshNames(), 60_000);
    log.info('listening', {
      port: endpoint.localPort,
      family: `IPv${config.family}`,
      epoch: service.epoch,
      remotes: config.remotes,
      interval_ms: config.intervalMs,
    });
    return service;
  }

  get epoch(): number {
    return this.transport.epoch;
  }

  /** -m: BC to the group at port + 1, with --ttl, out of --multicast-if (spec §8.1). */
  #startMulticast(): void {
    const c = this.config;
    if (!this.#group || !c.multicast) return;
    const socket = this.transport.endpoint.socket;
    socket.setMulticastTTL(c.multicast.ttl);
    socket.setMulticastLoopback(true); // remotes on this host (and tests on lo) hear it too
    if (c.multicastIf) socket.setMulticastInterface(multicastInterface(c.multicastIf, c.family));
  }

  /** -g: the addresses each Clientname resolves to. */
  async #refreshNames(): Promise<void> {
    const names = this.config.clientNames;
    if (!names) return;
    await Promise.all(
      names.map(async (name, id) => {
        const addrs = await resolveAll(name, this.config.family);
        if (addrs.length === 0) this.#log.warn('Clientname does not resolve; that remote cannot join', { client: id, name });
        this.core.setAllowed(id, addrs);
      }),
    );
  }

  /** Status of this master and every remote (pdsm status, top, metrics). */
  report(): DaemonReport {
    const c = this.config;
    const now = realClock.now();
    const report: DaemonReport = {
      ...commonReport('master', this.transport, this.#startedAt, now, this.core.scanTimes, this.#loop),
      params: {
        port: this.transport.endpoint.localPort,
        family: c.family,
        remotes: c.remotes,
        seg_size: c.segSize,
        page_size: c.pageSize,
        word_size: c.wordSize,
        interval_ms: c.intervalMs,
        mtu: c.mtu,
        heartbeat_ms: this.timers.heartbeatMs,
        liveness_ms: this.timers.livenessMs,
        bc_size: c.broadcastSize,
        bc_mode: this.core.bcMode,
        ...(this.#group ? { multicast_group: formatPeer(this.#group) } : {}),
      },
      peers: this.core.peers(now).map((p) => ({ ...p, flows: [this.#mo[p.id]!.report(), this.#ro[p.id]!.report()] })),
    };
    if (this.#bc) report.bc = this.#bc.report();
    return report;
  }

  /** Control socket `flush`: MO slice n, every MO slice, BC, or (no flow) all of them. */
  flush(request: FlushRequest): Promise<FlushResult[]> {
    const { flow, client } = request;
    if (flow === 'ro') throw usageError('the master receives RO and sends MO and BC: flush "mo" (with a client) or "bc"');
    if (flow === 'bc' && !this.#bc) throw usageError('this master has no broadcast segment (-b)');
    if (client !== undefined && (flow !== 'mo' || client >= this.#mo.length)) {
      throw usageError(flow === 'mo' ? `client ${client} is out of range 0..${this.#mo.length - 1}` : 'a client names an MO slice: give flow "mo" with it');
    }
    const targets: FlushTarget[] = [];
    if (flow !== 'bc') {
      this.#mo.forEach((mo, id) => {
        if (client === undefined || client === id) targets.push({ flow: 'mo', client: id, gate: mo.flushGate! });
      });
    }
    if (flow !== 'mo' && this.#bc) targets.push({ flow: 'bc', gate: this.#bc.flushGate! });
    return flushTargets(targets, request.wait);
  }

  /** Flush what changed, say goodbye to every remote (HELLOs now get REJECT unavailable), close the socket. */
  async stop(): Promise<void> {
    for (const f of [...this.#mo, this.#bc]) f?.flushGate?.close();
    clearInterval(this.#namesTimer);
    this.#driver.stop();
    this.core.close();
    this.#loop.stop();
    await this.transport.endpoint.close(1000);
  }
}
