/**
 * A remote's wiring: the session core (src/session/remote-session.ts) on a UDP socket, the
 * node's segments and real time. Every protocol decision is the core's; this file binds the
 * socket, builds the MO, RO and BC flows, makes ready what a WELCOME asks for (the BC
 * segment, the multicast group), and reports.
 *
 * Timing: one CoreDriver timer wakes the core at its next deadline (HELLO retry, scan,
 * heartbeat, digest).
 */
import { randomInt } from 'node:crypto';
import { hostname } from 'node:os';
import { PdsmError, usageError } from '../errors.js';
import { REMOTE_ST } from '../segments/layout.js';
import { realClock } from '../reliability/clock.js';
import type { WelcomeMessage } from '../udp/codec.js';
import { NODE_MASTER, VERSION_MAX_SUPPORTED, VERSION_MIN_SUPPORTED } from '../udp/constants.js';
import { UdpEndpoint, addressText, formatPeer, multicastInterface, resolveHost, type Peer } from '../udp/socket.js';
import { RemoteSession, type RemoteIo } from '../session/remote-session.js';
import type { Logger } from '../log.js';
import type { RemoteConfig } from './config.js';
import { InFlow, OutFlow, type FlowGeometry } from './flows.js';
import { DEFAULT_FLUSH_MIN_MS, FlushGate, flushTargets, type FlushRequest, type FlushResult } from './flush-gate.js';
import { attachBroadcast, type NodeSegments } from './node-segments.js';
import { LoopMonitor } from './loop-monitor.js';
import { CoreDriver, commonReport, logResyncs, openTransport, sessionIo, warnStuck, type Service } from './service.js';
import type { Transport } from './transport.js';
import { Observers, type DaemonReport } from './status-report.js';

export class RemoteService implements Service {
  readonly config: RemoteConfig;
  readonly transport: Transport;
  readonly observers = new Observers();
  readonly core: RemoteSession;
  readonly #log: Logger;
  readonly #node: NodeSegments;
  readonly #master: Peer;
  readonly #geometry: FlowGeometry;
  readonly #roOut: OutFlow;
  readonly #moIn: InFlow;
  #bcIn: InFlow | undefined;
  /** The socket that receives the master's multicast BC (port + 1), joined at WELCOME. */
  #multicast: { endpoint: UdpEndpoint; group: string; iface: string | undefined } | undefined;
  readonly #driver: CoreDriver;
  readonly #startedAt = performance.now();
  /** How long the event loop was held (status, metrics); runs from start() to stop(). */
  readonly #loop = new LoopMonitor();

  private constructor(config: RemoteConfig, node: NodeSegments, log: Logger, transport: Transport, master: Peer, fail: (err: Error) => void) {
    this.config = config;
    this.#node = node;
    this.#log = log;
    this.transport = transport;
    this.#master = master;
    this.#geometry = { pageSize: config.pageSize, wordSize: config.wordSize, mtu: config.mtu };
    this.#roOut = new OutFlow('ro', node.ro.buffer, config.pageSize, node.status, REMOTE_ST.RO_OUT);
    this.#moIn = new InFlow('mo', node.mo.buffer, this.#geometry, node.status, REMOTE_ST.MO_IN);
    this.#roOut.onStuck((n) => warnStuck(log, 'ro', REMOTE_ST.RO_OUT, n));
    logResyncs(log, this.#roOut);
    logResyncs(log, this.#moIn);
    const records = (): number[] => (this.#bcIn ? [REMOTE_ST.MO_IN, REMOTE_ST.RO_OUT, REMOTE_ST.BC_IN] : [REMOTE_ST.MO_IN, REMOTE_ST.RO_OUT]);
    const io: RemoteIo = {
      ...sessionIo(transport, log, this.observers, {
        state: (_id, s) => records().forEach((r) => node.status.setPeerState(r, s)),
        heard: () => records().forEach((r) => node.status.stampHeard(r)),
      }),
      newEpoch: () => {
        transport.renew(node.nextEpoch());
        return transport.epoch;
      },
      prepare: (w) => this.#prepare(w),
      fail,
    };
    this.core = new RemoteSession(
      {
        clientId: config.clientId,
        master,
        pageSize: config.pageSize,
        wordSize: config.wordSize,
        segSize: config.segSize,
        mtu: config.mtu,
        intervalMs: config.intervalMs,
        ...(config.digestMs ? { digestMs: config.digestMs } : {}),
        versions: { min: VERSION_MIN_SUPPORTED, max: VERSION_MAX_SUPPORTED },
        sealed: transport.sealed,
        hostname: hostname(),
        epoch: transport.epoch,
        clock: realClock,
        randomSeq: () => randomInt(0, 2 ** 32 - 1) >>> 0,
      },
      io,
      { ro: this.#roOut, mo: this.#moIn },
      realClock.now(),
    );
    this.#driver = new CoreDriver(this.core, transport.endpoint);
    this.#roOut.flushGate = new FlushGate(() => this.core.flushScan(), { minGapMs: config.flushMinMs ?? DEFAULT_FLUSH_MIN_MS });
  }

  /** Control socket `flush`: this remote's one outgoing flow, RO. */
  flush(request: FlushRequest): Promise<FlushResult[]> {
    if ((request.flow !== undefined && request.flow !== 'ro') || request.client !== undefined) {
      throw usageError('a remote sends only RO: flush "ro" (or no flow), without a client');
    }
    return flushTargets([{ flow: 'ro', gate: this.#roOut.flushGate! }], request.wait);
  }

  static async start(config: RemoteConfig, node: NodeSegments, log: Logger, fail: (err: Error) => void): Promise<RemoteService> {
    const address = await resolveHost(config.masterHost, config.family);
    const endpoint = await UdpEndpoint.bind({ family: config.family, port: 0, ...(config.listen ? { address: config.listen } : {}) });
    let service: RemoteService;
    try {
      const transport = openTransport(
        endpoint,
        log,
        node.nextEpoch(),
        config.pskFile,
        config.psk,
        { self: config.clientId, acceptSrc: (src) => src === NODE_MASTER },
        {
          text: 'the network side is unauthenticated: anyone who can reach this node can write into its MO and BC; use --psk-file',
        },
      );
      service = new RemoteService(config, node, log, transport, { address, port: config.port }, fail);
    } catch (err) {
      await endpoint.close(0);
      throw err;
    }
    service.#loop.start();
    service.#driver.listen(service.transport);
    log.info('joining master', { master: formatPeer(service.#master), host: config.masterHost, epoch: service.epoch });
    return service;
  }

  get epoch(): number {
    return this.transport.epoch;
  }

  /** WELCOME asks for BC: create or re-attach the segment, list it in the registry, join the group (spec §8.1). */
  async #prepare(w: WelcomeMessage): Promise<InFlow | undefined> {
    if (w.bcSize === 0) return undefined;
    await attachBroadcast(this.config, this.#node, w.bcSize);
    if (!this.#bcIn) {
      this.#bcIn = new InFlow('bc', this.#node.bc!.buffer, this.#geometry, this.#node.status, REMOTE_ST.BC_IN);
      logResyncs(this.#log, this.#bcIn);
    }
    if (w.bcMode === 'multicast' && w.multicast) await this.#joinGroup(addressText(w.multicast.address), w.multicast.port);
    return this.#bcIn;
  }

  /** spec §8.1: join the group on --multicast-if (or the default interface) before acting on WELCOME. */
  async #joinGroup(group: string, port: number): Promise<void> {
    if (this.#multicast?.group === group && this.#multicast.endpoint.localPort === port) return;
    await this.#leaveGroup();
    const iface = this.config.multicastIf !== undefined ? multicastInterface(this.config.multicastIf, this.config.family) : undefined;
    const endpoint = await UdpEndpoint.bind({ family: this.config.family, port, reuseAddr: true });
    try {
      endpoint.socket.addMembership(group, iface);
    } catch (err) {
      await endpoint.close(0);
      throw new PdsmError(
        'PDSM_ERR_NETWORK',
        `cannot join multicast group ${group}${iface ? ` on ${this.config.multicastIf}` : ''}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    this.#multicast = { endpoint, group, iface };
    this.#driver.listen(this.transport, endpoint, true);
    this.#log.info('joined multicast group', { group, port, interface: this.config.multicastIf });
  }

  async #leaveGroup(): Promise<void> {
    const m = this.#multicast;
    if (!m) return;
    this.#multicast = undefined;
    try {
      m.endpoint.socket.dropMembership(m.group, m.iface);
    } catch {
      // already gone with the interface
    }
    await m.endpoint.close(0);
  }

  /** Status of this remote and its master (pdsm status, top, metrics). */
  report(): DaemonReport {
    const c = this.config;
    const now = realClock.now();
    const core = this.core;
    const s = core.session;
    const flows = [this.#moIn.report(), this.#roOut.report()];
    if (this.#bcIn) flows.push(this.#bcIn.report());
    const heard = core.lastHeardMsAgo(now);
    return {
      ...commonReport('remote', this.transport, this.#startedAt, now, core.scanTimes, this.#loop),
      params: {
        client_id: c.clientId,
        master: formatPeer(this.#master),
        family: c.family,
        seg_size: c.segSize,
        page_size: c.pageSize,
        word_size: c.wordSize,
        interval_ms: c.intervalMs,
        mtu: s?.mtu ?? c.mtu,
        heartbeat_ms: core.timers.heartbeatMs,
        liveness_ms: core.timers.livenessMs,
        bc_size: this.#node.bc?.size ?? 0,
        bc_mode: s?.bcMode ?? 'none',
        ...(s ? { master_epoch: s.masterEpoch } : {}),
      },
      peers: [
        {
          id: -1,
          state: core.peerStateName,
          address: formatPeer(this.#master),
          sessions: core.sessions,
          ...(heard !== undefined ? { lastHeardMsAgo: heard } : {}),
          ...(s?.rttMs !== undefined ? { rttMs: s.rttMs } : {}),
          ...(s && s.bcMode === 'multicast' ? { bcUnicast: s.wantBcUnicast } : {}),
          ...(core.problem ? { problem: core.problem } : {}),
          flows,
        },
      ],
    };
  }

  async stop(): Promise<void> {
    this.#roOut.flushGate?.close();
    this.#driver.stop();
    this.core.close();
    this.#loop.stop();
    await this.#leaveGroup();
    await this.transport.endpoint.close(1000);
  }
}
