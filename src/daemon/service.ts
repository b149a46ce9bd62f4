/**
 * What master.ts and remote.ts share: the Service a daemon runs, the transport with its key
 * and the start-up warning, the SessionIo sink over Transport, Logger and ST, the one timer
 * that drives a session core, and the parts of the status report both sides fill alike.
 *
 * Timing (the driver): one timeout, armed for the core's nextDeadline(). When it fires the
 * driver waits for setImmediate, so the datagrams already queued on the socket are read
 * (Node's poll phase runs between timers and immediates) before the core judges liveness;
 * the core sees how late it was woken and credits that stall to its sessions.
 */
import type { Logger } from '../log.js';
import type { PeerStateValue } from '../segments/status.js';
import { realClock, type Clock } from '../reliability/clock.js';
import type { Message } from '../udp/codec.js';
import { PskKeys } from '../udp/seal.js';
import type { Peer, UdpEndpoint } from '../udp/socket.js';
import type { SessionIo } from '../session/io.js';
import { NODE_MASTER } from '../udp/constants.js';
import { readKeyFile } from './key-file.js';
import { Transport, type TransportOptions } from './transport.js';
import type { DaemonReport, Observers } from './status-report.js';
import type { ResyncEvent } from './flows.js';
import type { LoopMonitor } from './loop-monitor.js';
import type { FlushRequest, FlushResult } from './flush-gate.js';

/** The network side of a daemon, started once the segments are ready. */
export interface Service {
  /** Flush what changed, say goodbye, close sockets. */
  stop(): Promise<void>;
  /** What the daemon reports about itself (status, top, metrics). */
  report(): DaemonReport;
  /** Samples for histograms (scan duration, round-trip time). */
  readonly observers: Observers;
  /** Scan and send outgoing flows now (control socket `flush`); throws PDSM_ERR_USAGE for a flow it does not send. */
  flush(request: FlushRequest): Promise<FlushResult[]>;
}

/** The key (--psk-file), the transport over `endpoint`, and what the start says about authentication. */
export function openTransport(
  endpoint: UdpEndpoint,
  log: Logger,
  epoch: number,
  pskFile: string | undefined,
  psk: Buffer | undefined,
  options: Omit<TransportOptions, 'keys' | 'psk'>,
  unauthenticated: { text: string; fields?: Record<string, string | number> },
): Transport {
  const keys = pskFile !== undefined ? new PskKeys(psk ?? readKeyFile(pskFile)) : undefined;
  // spec §9.2 version 2: session datagrams only under keys the session core installed.
  const transport = new Transport(endpoint, log, epoch, { ...options, ...(keys ? { psk: keys } : {}) });
  if (keys) log.info('datagrams are authenticated and encrypted', { psk_file: pskFile });
  else log.warn(unauthenticated.text, unauthenticated.fields);
  return transport;
}

/** A core's outputs, done: datagrams by the transport, logs by the logger, states and stamps in ST. */
export function sessionIo(
  transport: Transport,
  log: Logger,
  observers: Observers,
  st: { state(id: number, s: PeerStateValue): void; heard(id: number): void },
): SessionIo {
  return {
    send: (msg, to, plain) => (plain ? transport.sendPlain(msg, to) : transport.send(msg, to)),
    drop: (reason, from, level) => transport.drop(reason, from, level),
    log: (level, text, fields) => log.log(level, text, fields ?? {}),
    peerState: (id, s) => st.state(id, s),
    heard: (id) => st.heard(id),
    rtt: (id, ms) => observers.emitRtt(id, ms),
    scanned: (ms) => observers.emitScan(ms),
    installSession: (peerId, s) => {
      const keys = transport.sessionKeys(s.secrets, peerId === NODE_MASTER ? 'remote' : 'master');
      transport.installSession(peerId, { peerEpoch: s.peerEpoch, ...(keys ? { keys } : {}), ...(s.peer ? { peer: s.peer } : {}) });
    },
    dropSession: (peerId) => transport.dropSession(peerId),
    installGroup: (nonce, masterEpoch) => {
      const key = transport.groupKey(nonce, masterEpoch);
      if (key) transport.installGroup(key, masterEpoch);
    },
    dropGroup: () => transport.dropGroup(),
  };
}

export interface DrivenCore {
  nextDeadline(): number;
  onTimeout(now: number, backlog: boolean): void;
  handle(msg: Message, from: Peer, bytes: number, now: number, multicast?: boolean): void;
}

/** Runs a session core on real time: its deadline timer, and every datagram the transport delivers. */
export class CoreDriver {
  readonly #core: DrivenCore;
  readonly #clock: Clock;
  readonly #endpoint: UdpEndpoint;
  #timer: unknown;
  #armedAt = Infinity;
  #stopped = false;

  constructor(core: DrivenCore, endpoint: UdpEndpoint, clock: Clock = realClock) {
    this.#core = core;
    this.#endpoint = endpoint;
    this.#clock = clock;
    this.poke();
  }

  /** Listen on `endpoint` (the session socket by default, or a multicast one). */
  listen(transport: Transport, endpoint?: UdpEndpoint, multicast = false): void {
    transport.listen((msg, from, bytes) => {
      this.#core.handle(msg, from, bytes, this.#clock.now(), multicast);
      this.poke();
    }, endpoint);
  }

  /** Re-arm when the core's next deadline moved earlier (a session began, a HELLO is due). */
  poke(): void {
    if (this.#stopped) return;
    const at = this.#core.nextDeadline();
    if (at >= this.#armedAt || at === Infinity) return;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#armedAt = at;
    this.#timer = this.#clock.setTimeout(() => setImmediate(() => this.#fire()), Math.max(0, at - this.#clock.now()));
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedAt = Infinity;
    if (this.#stopped) return;
    this.#core.onTimeout(this.#clock.now(), this.#endpoint.queued > 0);
    this.poke();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** The report fields both roles fill the same way (loopDelay from the daemon's LoopMonitor). */
export function commonReport(
  role: DaemonReport['role'],
  transport: Transport,
  startedAt: number,
  now: number,
  scans: { list(): number[]; count: number },
  loop: LoopMonitor,
): Omit<DaemonReport, 'params' | 'peers'> {
  return {
    role,
    pid: process.pid,
    epoch: transport.epoch,
    uptimeS: Math.round((now - startedAt) / 1000),
    wire: { sent: Object.fromEntries(transport.sent), received: Object.fromEntries(transport.received) },
    drops: Object.fromEntries(transport.drops),
    scanMs: scans.list(),
    scans: scans.count,
    loopDelay: loop.report(),
  };
}

/**
 * Log a flow's full resyncs (flows.ts ResyncEvent): one line when one starts and one when it
 * ends, with size, duration and rate; never one per datagram.
 */
export function logResyncs(
  log: Pick<Logger, 'info'>,
  flow: { onResync: ((e: ResyncEvent) => void) | undefined },
  fields: Record<string, string | number> = {},
): void {
  flow.onResync = (e) => {
    const what = { ...fields, flow: e.flow, direction: e.direction, bytes: e.bytes };
    if (e.kind === 'start') log.info('full resync started', what);
    else log.info('full resync done', { ...what, duration_ms: e.durationMs, rate_bytes_s: e.rate });
  };
}

/** The warning when writers hold a flow's ST generation odd or moving (src/daemon/flows.ts onStuck). */
export function warnStuck(log: Logger, flow: string, record: number, intervals: number, client?: number): void {
  log.warn("writers keep the flow's ST generation odd or moving; nothing is sent until it is even (did a writer die mid-update?)", {
    flow,
    client,
    st_record: record,
    intervals,
  });
}
