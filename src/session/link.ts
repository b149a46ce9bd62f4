/**
 * The peer core both sides share: one session's liveness, heartbeat echo and RTT, address
 * validation with its anti-amplification budget, and the dispatch of flow datagrams to the
 * session's flows. No sockets, no timers: every call takes `now` (monotonic ms).
 *
 * Liveness (spec §7.10) blames the right side:
 * - any datagram of the session counts as heard;
 * - the daemon judges liveness only after the datagrams queued on its socket were read
 *   (the wiring calls the core's onTimeout from setImmediate, after the poll phase);
 * - a daemon that notices its own stall (a deadline it asked for came late by L ms) adds L
 *   to every session's credit: it could not have heard anyone while it did not run;
 * - while this side still has datagrams queued to send (its own backlog, e.g. the join
 *   batch going out), silence is not judged before 2 x Liveness Ms.
 *
 * Address validation (RFC 9000 §8.1): until a session's address is validated, the master
 * sends it at most 3 x the bytes it received from it. In version 2 the WELCOME carries a
 * COOKIE (spec §4.2) that only a peer receiving at the session address can know; a
 * HEARTBEAT of the session that echoes it (spec §6.2) validates the address. A version-1
 * session (no cookie) keeps the old rule: its first datagram other than HELLO validates.
 */
import type { CommitMessage, DataMessage, DigestMessage, FlowName, HeartbeatMessage, Message, SeqRange } from '../udp/codec.js';
import { DIGEST_HASHES, DIGEST_HASH_SIZE, TAG_SIZE } from '../udp/constants.js';
import type { Peer } from '../udp/socket.js';
import { timingSafeEqual } from 'node:crypto';
import type { Clock } from '../reliability/clock.js';
import type { WordSize } from '../segments/word-codec.js';
import type { SessionIo } from './io.js';
import { echoFor, heardHeartbeat } from './timers.js';
import { plainAddress } from '../udp/address.js';

/** RFC 9000 §8.1: bytes to an unvalidated address, per byte received from it. */
export const AMPLIFICATION_FACTOR = 3;

export { plainAddress } from '../udp/address.js';

/** A session's address is its address AND port (spec §7.1). */
export function sessionKey(p: Peer): string {
  return `${plainAddress(p.address)}|${p.port}`;
}

export class PeerLink {
  readonly peer: Peer;
  readonly key: string;
  readonly livenessMs: number;
  /** When the peer was last heard (monotonic ms). */
  lastHeard: number;
  /** ms of this daemon's own stalls since the peer was last heard. */
  #credit = 0;
  /** The peer's last heartbeat timestamp and when it arrived, for the echo (spec §6.2). */
  peerStamp: { timestamp: number; at: number } | undefined;
  rttMs: number | undefined;
  #validated: boolean;
  #received = 0;
  #sent = 0;
  /** The COOKIE of this session's WELCOME (version 2), which validation needs echoed. */
  readonly #cookie: Uint8Array | undefined;

  constructor(peer: Peer, now: number, livenessMs: number, options: { validated: boolean; receivedBytes?: number; cookie?: Uint8Array }) {
    this.peer = peer;
    this.key = sessionKey(peer);
    this.livenessMs = livenessMs;
    this.lastHeard = now;
    this.#validated = options.validated;
    this.#received = options.receivedBytes ?? 0;
    this.#cookie = options.cookie;
  }

  /** True when this session validates by cookie (version 2). */
  get needsCookie(): boolean {
    return this.#cookie !== undefined;
  }

  get validated(): boolean {
    return this.#validated;
  }

  /** A datagram of this session arrived (`bytes` long). */
  heard(now: number, bytes: number): void {
    this.lastHeard = now;
    this.#credit = 0;
    if (!this.#validated) this.#received += bytes;
  }

  /**
   * A datagram of the session arrived carrying `echo` (a HEARTBEAT's cookie, or null): did
   * it prove, for the first time, that the peer receives at its address? With a cookie only
   * its exact echo does (compared in constant time); without one, any datagram (version 1).
   */
  validate(echo: Uint8Array | null = null): boolean {
    if (this.#validated) return false;
    const want = this.#cookie;
    if (want !== undefined && (echo === null || echo.byteLength !== want.byteLength || !timingSafeEqual(echo, want))) return false;
    this.#validated = true;
    return true;
  }

  /** Anti-amplification: may `bytes` more go to this address now? */
  maySend(bytes: number): boolean {
    return this.#validated || this.#sent + bytes <= AMPLIFICATION_FACTOR * this.#received;
  }

  /** Count bytes sent to this session (they count against the budget until validation). */
  sent(bytes: number): void {
    this.#sent += bytes;
  }

  /** This daemon did not run for `ms`: nobody could have been heard meanwhile. */
  stalled(ms: number): void {
    this.#credit += ms;
  }

  /** Silence that counts against the peer, ms. */
  silence(now: number): number {
    return now - this.lastHeard - this.#credit;
  }

  /** spec §7.10: down? `backlog`: this side still has datagrams queued to send. */
  expired(now: number, backlog: boolean): boolean {
    const silent = this.silence(now);
    return silent > this.livenessMs && (!backlog || silent > 2 * this.livenessMs);
  }

  echo(now: number): { timestamp: number; delay: number } | null {
    return echoFor(this, now);
  }

  /** A HEARTBEAT arrived: the RTT sample when it carried an echo. */
  onHeartbeat(msg: HeartbeatMessage, now: number): number | undefined {
    return heardHeartbeat(this, msg, now);
  }
}

/** An outgoing flow as the core uses it (src/daemon/flows.ts OutFlow fits it). */
export interface OutPort {
  readonly sender:
    | {
        readonly highestSeq: number;
        /** `limit`: the most page bytes a retransmitted DATA may carry to where `repair` sends (spec §8.1). */
        onNack(ranges: readonly SeqRange[], repair?: (m: DataMessage | CommitMessage) => void, limit?: () => number): void;
        /** spec §6.4: false when the RESYNC is invalid for this segment (it is then dropped whole). */
        onResync(firstPage: number, pageCount: number, full: boolean): boolean;
        /** The session's smoothed RTT (spec §6.2), ms: the flow controller's growth period (§7.9). */
        setRtt(srttMs: number): void;
        /** spec §8.1: a shared stream's DATA from now on are cut for `mtu`. */
        setMtu?(mtu: number): void;
      }
    | undefined;
  start(options: {
    src: number;
    dst: number;
    epoch: number;
    firstSeq: number;
    geometry: { pageSize: number; wordSize: WordSize; mtu: number };
    sealed: boolean;
    clock: Clock;
    emit(msg: DataMessage | CommitMessage): void;
  }): unknown;
  stop(): void;
  tick(): unknown;
  owesFull(): void;
  digest(wordSize: WordSize, perDatagram: number): { batchId: number; firstPage: number; hashes: BigUint64Array }[];
}

/** An incoming flow as the core uses it (src/daemon/flows.ts InFlow fits it). */
export interface InPort {
  readonly receiver:
    | {
        onDatagram(m: DataMessage | CommitMessage): 'ok' | 'duplicate' | 'invalid' | 'window';
        onHighestSeq(seq: number): void;
        readonly expected: number;
      }
    | undefined;
  start(options: {
    firstSeq: number;
    clock: Clock;
    sendNack(ranges: SeqRange[]): void;
    requestResync(firstPage: number, pageCount: number, full: boolean): void;
    nackBackoff?: () => number;
  }): unknown;
  stop(): void;
  onDigest(chunk: DigestMessage): number[];
}

export type FlowMessage = Extract<Message, { type: 'data' | 'commit' | 'nack' | 'resync' | 'digest' }>;

const FLOW_TYPES: ReadonlySet<Message['type']> = new Set(['data', 'commit', 'nack', 'resync', 'digest']);

/** The messages a session hands to its flows (dispatchFlow), whichever side it is. */
export function isFlowMessage(msg: Message): msg is FlowMessage {
  return FLOW_TYPES.has(msg.type);
}

/**
 * The flows of one session by name, how a NACKed datagram of a flow is repaired, and the
 * most page bytes such a repair may carry (spec §8.1; none: any held DATA fits).
 */
export interface SessionFlows {
  in: Partial<Record<FlowName, InPort>>;
  out: Partial<Record<FlowName, OutPort>>;
  repair?: Partial<Record<FlowName, (m: DataMessage | CommitMessage) => void>>;
  repairLimit?: Partial<Record<FlowName, () => number>>;
}

/** Hand DATA, COMMIT, NACK, RESYNC or DIGEST of a session to its flow (spec §5, §6). */
export function dispatchFlow(msg: FlowMessage, flows: SessionFlows, io: SessionIo, from: Peer, logFields: Record<string, number | string>): void {
  switch (msg.type) {
    case 'data':
    case 'commit': {
      const receiver = flows.in[msg.flow]?.receiver;
      if (!receiver) return io.drop('wrong-flow', from);
      const r = receiver.onDatagram(msg);
      if (r !== 'ok') io.drop(r === 'invalid' ? 'invalid-data' : r === 'window' ? 'beyond-window' : 'duplicate', from, r === 'invalid' ? 'warn' : 'debug');
      return;
    }
    case 'nack': {
      const sender = flows.out[msg.flow]?.sender;
      if (!sender) return io.drop('wrong-flow', from);
      return sender.onNack(msg.ranges, flows.repair?.[msg.flow], flows.repairLimit?.[msg.flow]);
    }
    case 'resync': {
      const sender = flows.out[msg.flow]?.sender;
      if (!sender) return io.drop('wrong-flow', from);
      // spec §6.4: a RESYNC outside the segment is dropped whole, never partly answered.
      if (!sender.onResync(msg.firstPage, msg.pageCount, msg.full)) io.drop('invalid-resync', from, 'warn');
      return;
    }
    case 'digest': {
      const flow = flows.in[msg.flow];
      if (!flow?.receiver) return io.drop('wrong-flow', from);
      const differ = flow.onDigest(msg);
      if (differ.length) io.log('warn', 'digest found divergent pages; resyncing them', { ...logFields, flow: msg.flow, pages: differ.length });
      return;
    }
  }
}

/** HEARTBEAT's flow entries: the highest sequence each of the peer's flows sent (spec §6.2). */
export function heartbeatFlows(msg: HeartbeatMessage, flows: SessionFlows): void {
  for (const f of msg.flows) flows.in[f.flow]?.receiver?.onHighestSeq(f.highestSeq);
}

/**
 * A duty that runs every `periodMs` (scan, heartbeat, digest). `lateness(now)` says how late
 * the daemon came to it: the stall the core credits to its sessions.
 */
export class Periodic {
  periodMs: number;
  next: number;

  constructor(periodMs: number, now: number, firstIn: number = periodMs) {
    this.periodMs = periodMs;
    this.next = now + firstIn;
  }

  due(now: number): boolean {
    return now >= this.next;
  }

  /** Mark it done at `now`: the next one a period after the one due, skipping missed ones. */
  done(now: number): void {
    this.next += this.periodMs;
    if (this.next <= now) this.next = now + this.periodMs;
  }
}

/**
 * What one flush scan of a flow did (src/daemon/flush-gate.ts): pages queued to send (0: nothing
 * changed), 'busy' (writers held the ST generation), 'scanning' (a scan or batch is still under
 * way: try again when it is done), 'down' (no validated session to send to).
 */
export type FlushScan = number | 'busy' | 'scanning' | 'down';

/** An OutPort's tick() as a FlushScan (ports of tests return nothing: nothing was sent). */
export function flushScanOf(tick: unknown): FlushScan {
  return typeof tick === 'number' || tick === 'busy' || tick === 'scanning' ? tick : 0;
}

/** Stalls shorter than this are timer jitter, not this daemon's fault. */
export const STALL_TOLERANCE_MS = 20;

/** The last scan durations (ms, most recent last, at most 64) for `pdsm status`. */
export class ScanTimes {
  readonly #ms: number[] = [];
  /** Periodic scan passes since start (flush scans are counted by their flows). */
  count = 0;

  add(ms: number): void {
    this.count++;
    this.#ms.push(ms);
    if (this.#ms.length > 64) this.#ms.shift();
  }

  list(): number[] {
    return [...this.#ms];
  }
}

/** Hashes per DIGEST datagram that fit `mtu` (spec §6.3: 145 at 1200 unsealed). */
export function hashesPerDigest(mtu: number, sealed: boolean): number {
  return Math.floor((mtu - DIGEST_HASHES - (sealed ? TAG_SIZE : 0)) / DIGEST_HASH_SIZE);
}
