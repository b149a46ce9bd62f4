/**
 * A remote's session with its master without I/O: the JOINING / UP / FAILED / CLOSED machine
 * of spec §7.11, HELLO with back-off, heartbeats and liveness, the RO flow to the master,
 * the MO and BC flows from it, and the §8.4 multicast fallback. Datagrams in through
 * handle(), time through onTimeout(now); datagrams, drops, logs and peer states out through
 * the RemoteIo sink; nextDeadline() says when to call onTimeout next.
 *
 * Timing: JOINING says HELLO after 500 ms doubling to 8 s, with jitter (spec §4.6); after an
 * unauthenticated REJECT that would end a configured remote, 1 s doubling to 30 s. UP runs
 * the scan (-i), heartbeat (the master's Heartbeat Ms from WELCOME, with the liveness check)
 * and digest duties.
 *
 * REJECTs (spec §4.3, §13): without a key nobody can tell a REJECT from a forged one, so no
 * REJECT takes the remote down for good: a configuration mismatch is logged as an error,
 * shown in status, and the remote keeps trying with back-off. With a key, a REJECT for a
 * configuration mismatch is authenticated and ends the remote (FAILED, exit 1).
 */
import { PdsmError } from '../errors.js';
import { PeerState, type PeerStateValue } from '../segments/status.js';
import type { WordSize } from '../segments/word-codec.js';
import type { Clock } from '../reliability/clock.js';
import { multicastNackDelay } from '../reliability/receiver.js';
import type { Message, RejectMessage, WelcomeMessage } from '../udp/codec.js';
import { NODE_ALL, NODE_MASTER } from '../udp/constants.js';
import { formatPeer, type Peer } from '../udp/socket.js';
import { freshNonce } from '../udp/seal.js';
import type { VersionRange } from './admission.js';
import type { Outgoing, SessionIo } from './io.js';
import {
  PeerLink,
  Periodic,
  STALL_TOLERANCE_MS,
  ScanTimes,
  dispatchFlow,
  flushScanOf,
  isFlowMessage,
  hashesPerDigest,
  heartbeatFlows,
  sessionKey,
  type FlushScan,
  type InPort,
  type OutPort,
  type SessionFlows,
} from './link.js';
import { MulticastFallback } from './multicast-fallback.js';
import { RemoteState, peerStateName, type PeerStateName } from './states.js';
import { defaultTimers, helloDelay, stampUs, type ProtocolTimers } from './timers.js';

export interface RemoteSessionConfig {
  clientId: number;
  master: Peer;
  pageSize: number;
  wordSize: WordSize;
  segSize: number;
  mtu: number;
  intervalMs: number;
  digestMs?: number;
  versions: VersionRange;
  sealed: boolean;
  hostname: string;
  epoch: number;
  clock: Clock;
  randomSeq(): number;
  /** Jitter source in [0, 1). */
  random?(): number;
  /** Fresh 16-byte nonces (spec §4.5 NONCE); tests pass their own. */
  freshNonce?(): Uint8Array;
}

export interface RemoteIo extends SessionIo {
  /** Take a new epoch (ST's next, spec §7.1) and start the transport's packet numbers over. */
  newEpoch(): number;
  /** Make ready what WELCOME asks for (BC segment, multicast group); the BC flow, if any. */
  prepare(w: WelcomeMessage): Promise<InPort | undefined>;
  /** Something ends the remote (FAILED): exit 1 with this error. */
  fail(err: Error): void;
}

export interface RemoteFlows {
  ro: OutPort;
  mo: InPort;
}

interface Session {
  link: PeerLink;
  masterEpoch: number;
  mtu: number;
  bcMode: WelcomeMessage['bcMode'];
  bc: InPort | undefined;
  fallback: MulticastFallback;
  flows: SessionFlows;
  heartbeat: Periodic;
  digest: Periodic;
  /** Version 2: the WELCOME's COOKIE, echoed in every HEARTBEAT of the session (spec §6.2). */
  cookie: Uint8Array | null;
  /** Version 2: the WELCOME's NONCE (fresh per master session; the COOKIE may repeat, §9.6). */
  welcomeNonce: Uint8Array | null;
  /** A datagram of this session came from the master (not a multicast one): its keys work. */
  confirmed: boolean;
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.byteLength === b.byteLength && a.every((x, i) => x === b[i]);

const REJECT_WHAT: Partial<Record<RejectMessage['reason'], string>> = {
  'seg-size': 'segment size (-s)',
  'page-size': 'page size (--page-size)',
  'word-size': 'word size (-w)',
  'bc-size': 'broadcast size',
  version: 'protocol version',
  'client-id': 'client id (-n)',
};

/** What a REJECT says, for the log and status. */
export function rejectDetail(r: RejectMessage): string {
  if (r.reason === 'auth-required') return "the master requires authentication: start this remote with --psk-file and the master's key";
  const what = REJECT_WHAT[r.reason];
  const v = (x: number): string => (r.reason === 'version' ? `${x >>> 8}..${x & 0xff}` : String(x));
  const detail = what ? `${what}: the master has ${v(r.expected)}, this remote has ${v(r.offered)}` : (r.text ?? r.reason);
  return `the master rejected this remote (${r.reason}): ${detail}`;
}

/** REJECTs after which the remote waits (or, authenticated, ends): everything but the "try again" ones. */
const RETRY_REASONS = new Set<RejectMessage['reason']>(['duplicate', 'unavailable', 'auth-failed']);
/** Back-off after an unauthenticated REJECT that would end a configured remote: 1 s doubling to 30 s. */
export const REJECT_BACKOFF_MAX_MS = 30_000;

export class RemoteSession {
  readonly #c: RemoteSessionConfig;
  readonly #io: RemoteIo;
  readonly #flows: RemoteFlows;
  readonly #random: () => number;
  readonly scanTimes = new ScanTimes();
  readonly #scan: Periodic;
  #state = RemoteState.JOINING;
  #epoch: number;
  #timers: ProtocolTimers;
  #session: Session | undefined;
  /** A WELCOME being made ready (BC, multicast group) before the session is UP. */
  #accepting: WelcomeMessage | undefined;
  #roNextSeq = 0;
  /** spec §4.1 NONCE (version 2): fresh for each epoch, the same in that epoch's retransmitted HELLOs. */
  #helloNonce: Uint8Array | null = null;
  #helloAt = Infinity;
  #helloAttempt = 0;
  #warnedAt = 0;
  /** Unauthenticated "exit 1" REJECTs in a row, for their back-off. */
  #rejectStreak = 0;
  /** Why the master does not take us, for status (last REJECT), or undefined. */
  problem: string | undefined;
  /** Sessions opened (flaps show here). */
  sessions = 0;
  #lastHeard: number | undefined;
  #stallLoggedAt = -Infinity;

  constructor(config: RemoteSessionConfig, io: RemoteIo, flows: RemoteFlows, now: number) {
    this.#c = config;
    this.#io = io;
    this.#flows = flows;
    this.#random = config.random ?? Math.random;
    this.#epoch = config.epoch;
    this.#timers = defaultTimers(config.intervalMs, config.digestMs ? { digestMs: config.digestMs } : {});
    this.#scan = new Periodic(config.intervalMs, now);
    this.#io.peerState(-1, PeerState.JOINING);
    this.#startJoining(now);
  }

  get state(): RemoteState {
    return this.#state;
  }

  get epoch(): number {
    return this.#epoch;
  }

  get timers(): ProtocolTimers {
    return this.#timers;
  }

  /** The session's parameters while UP. */
  get session(): { masterEpoch: number; mtu: number; bcMode: WelcomeMessage['bcMode']; wantBcUnicast: boolean; rttMs: number | undefined } | undefined {
    const s = this.#session;
    return s && { masterEpoch: s.masterEpoch, mtu: s.mtu, bcMode: s.bcMode, wantBcUnicast: s.fallback.wantUnicast, rttMs: s.link.rttMs };
  }

  /** ST's code for the master as this remote sees it. */
  get peerCode(): PeerStateValue {
    if (this.#state === RemoteState.UP) return PeerState.UP;
    return this.sessions > 0 || this.#state !== RemoteState.JOINING ? PeerState.DOWN : PeerState.JOINING;
  }

  get peerStateName(): PeerStateName {
    return peerStateName(this.peerCode);
  }

  lastHeardMsAgo(now: number): number | undefined {
    const at = this.#session?.link.lastHeard ?? this.#lastHeard;
    return at === undefined ? undefined : Math.round(now - at);
  }

  nextDeadline(): number {
    const s = this.#session;
    if (this.#state === RemoteState.JOINING) return Math.min(this.#helloAt, this.#scan.next);
    if (s) return Math.min(this.#scan.next, s.heartbeat.next, s.digest.next);
    return Infinity;
  }

  /** The deadline came (after the socket's queued datagrams were read); `backlog`: datagrams still queued to send. */
  onTimeout(now: number, backlog: boolean): void {
    if (this.#state === RemoteState.JOINING && now >= this.#helloAt) this.#hello(now);
    const s = this.#session;
    if (this.#scan.due(now)) {
      if (s) this.#stalledSince(this.#scan.next, now, s);
      this.#scan.done(now);
      if (s) this.scanOnce();
    }
    if (s && s.heartbeat.due(now)) {
      this.#stalledSince(s.heartbeat.next, now, s);
      s.heartbeat.done(now);
      if (s.link.expired(now, backlog)) return this.#lost('master silent past the liveness timeout', now);
      this.#heartbeat(s, now);
    }
    if (s && this.#session === s && s.digest.due(now)) {
      s.digest.done(now);
      if (!backlog) this.#digestOut(s);
    }
  }

  #stalledSince(due: number, now: number, s: Session): void {
    const late = now - due;
    if (late <= STALL_TOLERANCE_MS) return;
    s.link.stalled(late);
    if (late >= this.#timers.heartbeatMs && now - this.#stallLoggedAt >= 10_000) {
      this.#stallLoggedAt = now;
      this.#io.log('warn', 'this daemon did not run for a while; liveness deadlines extended by as much', { stall_ms: Math.round(late) });
    }
  }

  scanOnce(): void {
    if (!this.#session) return;
    const started = this.#c.clock.now();
    this.#flows.ro.tick();
    const ms = this.#c.clock.now() - started;
    this.scanTimes.add(ms);
    this.#io.scanned(ms);
  }

  /** A flush (src/daemon/flush-gate.ts): scan and send RO now, through the periodic scan's tick(), while UP. */
  flushScan(): FlushScan {
    return this.#session ? flushScanOf(this.#flows.ro.tick()) : 'down';
  }

  #send(msg: Outgoing): void {
    this.#io.send(msg, this.#c.master);
  }

  #heartbeat(s: Session, now: number): void {
    if (s.bcMode === 'multicast' && s.fallback.check(s.bc?.receiver?.expected, now)) {
      this.#io.log('warn', 'no multicast arrives; asking the master for BC by unicast', {
        periods: s.fallback.periodsWithout,
        advancing: s.fallback.advancingWithout,
      });
    }
    const sender = this.#flows.ro.sender;
    this.#send({
      type: 'heartbeat',
      src: this.#c.clientId,
      dst: NODE_MASTER,
      epoch: this.#epoch,
      timestamp: stampUs(now),
      echo: s.link.echo(now),
      wantBcUnicast: s.fallback.wantUnicast,
      flows: [{ flow: 'ro', highestSeq: sender ? sender.highestSeq : (this.#roNextSeq - 1) >>> 0 }],
      cookie: s.cookie,
    });
  }

  /** spec §7.8: the hashes of RO as last sent. */
  #digestOut(s: Session): void {
    for (const chunk of this.#flows.ro.digest(this.#c.wordSize, hashesPerDigest(s.mtu, this.#c.sealed))) {
      this.#send({ type: 'digest', src: this.#c.clientId, dst: NODE_MASTER, epoch: this.#epoch, flow: 'ro', ...chunk });
    }
  }

  #startJoining(now: number): void {
    this.#roNextSeq = this.#c.randomSeq();
    this.#helloNonce = this.#c.versions.max >= 2 ? (this.#c.freshNonce ?? freshNonce)() : null;
    this.#helloAttempt = 0;
    this.#warnedAt = now;
    this.#hello(now);
  }

  #hello(now: number): void {
    const c = this.#c;
    this.#send({
      type: 'hello',
      src: c.clientId,
      dst: NODE_MASTER,
      epoch: this.#epoch,
      versionMin: c.versions.min,
      versionMax: c.versions.max,
      mtu: c.mtu,
      pageSize: c.pageSize,
      segSize: c.segSize,
      bcSize: 0,
      roNextSeq: this.#roNextSeq,
      wordSize: c.wordSize,
      hostname: c.hostname.slice(0, 255),
      nonce: this.#helloNonce,
      options: [],
    });
    // No answer at all: the master is down, unreachable, or drops us for a key mismatch.
    const hint = 'no answer from the master yet; is it running and reachable, and do both sides use the same --psk-file?';
    if (this.#rejectStreak === 0 && (this.#helloAttempt === 4 || (this.#helloAttempt > 4 && now - this.#warnedAt >= 30_000))) {
      this.#warnedAt = now;
      this.#io.log('warn', hint, { master: formatPeer(c.master), hellos: this.#helloAttempt + 1 });
    }
    this.#helloAt = now + (this.#rejectStreak > 0 ? this.#rejectDelay() : helloDelay(this.#helloAttempt, this.#random));
    this.#helloAttempt++;
  }

  #rejectDelay(): number {
    return Math.min(REJECT_BACKOFF_MAX_MS, 1000 * 2 ** Math.min(this.#rejectStreak - 1, 5) * (0.5 + this.#random()));
  }

  /** A datagram that decoded (and, with a key, opened), `bytes` long; `multicast`: it came on the group socket. */
  handle(msg: Message, from: Peer, bytes: number, now: number, multicast = false): void {
    // Only the master's socket may speak to us (multicast too is sent from it).
    if (sessionKey(from) !== sessionKey(this.#c.master)) return this.#io.drop('unknown-source', from);
    const toAll = msg.dst === NODE_ALL && 'flow' in msg && msg.flow === 'bc';
    if (msg.src !== NODE_MASTER || (msg.dst !== this.#c.clientId && !toAll)) return this.#io.drop('not-for-us', from);
    if (msg.type === 'welcome') return this.#onWelcome(msg, now);
    if (msg.type === 'reject') return this.#onReject(msg, now);
    const s = this.#session;
    if (!s) return this.#io.drop('not-joined', from, 'debug'); // e.g. the full batch racing our WELCOME
    if (msg.epoch !== s.masterEpoch) {
      // spec §7.1: HEARTBEAT or GOODBYE from another master epoch: the master restarted.
      if (msg.type === 'heartbeat' || msg.type === 'goodbye') return this.#lost('master restarted (new epoch)', now);
      return this.#io.drop('old-master-epoch', from);
    }
    if (multicast) s.fallback.onMulticast();
    else s.confirmed = true;
    s.link.heard(now, bytes);
    this.#lastHeard = now;
    this.#io.heard(-1);
    if (isFlowMessage(msg)) return dispatchFlow(msg, s.flows, this.#io, from, {});
    switch (msg.type) {
      case 'heartbeat': {
        const rtt = s.link.onHeartbeat(msg, now);
        if (rtt !== undefined) {
          this.#io.rtt(-1, rtt);
          // spec §7.9: the smoothed RTT sets the RO flow controller's growth period.
          this.#flows.ro.sender?.setRtt(rtt);
        }
        heartbeatFlows(msg, s.flows);
        for (const f of msg.flows) if (f.flow === 'bc') s.fallback.onHighest(f.highestSeq);
        return;
      }
      case 'goodbye':
        return this.#lost(msg.reason === 'evicted' ? 'the master evicted this session' : 'master said goodbye', now);
      default:
        return this.#io.drop('unexpected-type', from);
    }
  }

  #onWelcome(w: WelcomeMessage, now: number): void {
    this.#lastHeard = now;
    if (w.remoteEpoch !== this.#epoch) return this.#io.drop('stale-welcome');
    const s = this.#session;
    if (s) {
      if (s.masterEpoch !== w.epoch) return this.#io.drop('stale-welcome');
      // A copy of the WELCOME we acted on is ignored. One with another NONCE, before any
      // datagram of our session came, is the master's new session for our retransmitted
      // HELLO (ours went unvalidated past its liveness): take it (spec §4.6). Not the COOKIE:
      // it binds only our id, epoch, HELLO NONCE and address, so the new session's is the same.
      if (w.version >= 2 && w.nonce && s.welcomeNonce && !s.confirmed && !sameBytes(w.nonce, s.welcomeNonce)) this.#replaceSession(s, w, now);
      return;
    }
    if (this.#state !== RemoteState.JOINING) return;
    // spec §4.2, §10.4: a version-2 WELCOME carries NONCE and COOKIE; without them no keys, no validation.
    if (w.version >= 2 && (!w.nonce || !w.cookie || !this.#helloNonce)) return this.#io.drop('decode-option');
    if (this.#accepting) {
      // spec §4.6: a later WELCOME of the same master while we still prepare for the first
      // is the session the master holds now: when ours went unvalidated past its liveness
      // (this node stalled), our retransmitted HELLO opened a new one, with a new NONCE (the
      // COOKIE may repeat). Keys from the first would fail (auth) both ways until a REJECT
      // not-joined.
      if (this.#accepting.epoch === w.epoch) this.#accepting = w;
      return;
    }
    this.#accepting = w;
    this.#io.prepare(w).then(
      // The latest WELCOME of that master (the one prepared for has the same BC mode and sizes).
      (bc) => this.#up(this.#accepting?.epoch === w.epoch ? this.#accepting : w, bc, this.#c.clock.now()),
      (err: Error) => {
        this.#accepting = undefined;
        this.#state = RemoteState.FAILED;
        this.#io.fail(err);
      },
    );
  }

  /** The master replaced the session we acted on before it carried anything: start over on its WELCOME. */
  #replaceSession(s: Session, w: WelcomeMessage, now: number): void {
    this.#session = undefined;
    this.#io.dropSession?.(NODE_MASTER);
    this.#io.dropGroup?.();
    this.#state = RemoteState.JOINING;
    this.#io.log('info', 'the master answered with a new session; taking it', { master: formatPeer(this.#c.master), master_epoch: w.epoch });
    this.#up(w, s.bc, now, true);
  }

  /** spec §7.11 JOINING -> UP: flows from WELCOME's fields, the first RO batch FULL at once. */
  #up(w: WelcomeMessage, bc: InPort | undefined, now: number, replacing = false): void {
    this.#accepting = undefined;
    if (this.#state !== RemoteState.JOINING || w.remoteEpoch !== this.#epoch) return;
    const c = this.#c;
    this.#timers = defaultTimers(c.intervalMs, { heartbeatMs: w.heartbeatMs, livenessMs: w.livenessMs, digestMs: this.#timers.digestMs });
    const mtu = Math.min(c.mtu, w.mtu);
    const bcFlow = w.bcMode !== 'none' ? bc : undefined;
    const session: Session = {
      link: new PeerLink(c.master, now, this.#timers.livenessMs, { validated: true }),
      masterEpoch: w.epoch,
      mtu,
      bcMode: w.bcMode,
      bc: bcFlow,
      fallback: new MulticastFallback(),
      flows: { in: { mo: this.#flows.mo, ...(bcFlow ? { bc: bcFlow } : {}) }, out: { ro: this.#flows.ro } },
      heartbeat: new Periodic(this.#timers.heartbeatMs, now),
      digest: new Periodic(this.#timers.digestMs, now),
      cookie: w.version >= 2 ? (w.cookie ?? null) : null,
      welcomeNonce: w.version >= 2 ? (w.nonce ?? null) : null,
      confirmed: false,
    };
    if (w.version >= 2 && w.nonce && this.#helloNonce) {
      // spec §9.2: from here on every datagram of the session is sealed under keys from both nonces and epochs.
      this.#io.installSession?.(NODE_MASTER, {
        secrets: { clientId: c.clientId, helloNonce: this.#helloNonce, welcomeNonce: w.nonce, remoteEpoch: this.#epoch, masterEpoch: w.epoch },
        peerEpoch: w.epoch,
      });
      if (w.bcMode === 'multicast' && w.groupNonce) this.#io.installGroup?.(w.groupNonce, w.epoch);
    }
    const feedback = (flow: 'mo' | 'bc') => ({
      sendNack: (ranges: { first: number; count: number }[]) =>
        this.#send({ type: 'nack', src: c.clientId, dst: NODE_MASTER, epoch: this.#epoch, flow, ranges }),
      requestResync: (firstPage: number, pageCount: number, full: boolean) =>
        this.#send({ type: 'resync', src: c.clientId, dst: NODE_MASTER, epoch: this.#epoch, flow, full, firstPage, pageCount }),
    });
    // spec §8.2: many remotes miss the same multicast datagram; back off at random.
    const backoff = w.bcMode === 'multicast' ? { nackBackoff: () => multicastNackDelay(50, w.clientCount) } : {};
    bcFlow?.start({ firstSeq: w.bcNextSeq, clock: c.clock, ...feedback('bc'), ...backoff });
    this.#flows.mo.start({ firstSeq: w.moNextSeq, clock: c.clock, ...feedback('mo') });
    this.#flows.ro.start({
      src: c.clientId,
      dst: NODE_MASTER,
      epoch: this.#epoch,
      firstSeq: this.#roNextSeq,
      geometry: { pageSize: c.pageSize, wordSize: c.wordSize, mtu },
      sealed: c.sealed,
      clock: c.clock,
      emit: (msg) => this.#send(msg),
    });
    this.#session = session;
    this.#state = RemoteState.UP;
    this.#helloAt = Infinity;
    this.#rejectStreak = 0;
    this.problem = undefined;
    if (!replacing) this.sessions++; // a replaced session never carried a datagram: one join
    this.#lastHeard = now;
    this.#io.peerState(-1, PeerState.UP);
    this.#io.heard(-1);
    this.#io.log('info', 'joined master', { master: formatPeer(c.master), master_epoch: w.epoch, remotes: w.clientCount });
    // spec §4.2, §13: echo the cookie at once, so the master validates our address and starts MO and BC.
    if (session.cookie) this.#heartbeat(session, now);
    this.#flows.ro.tick(); // the full RO batch right away
  }

  /** spec §7.11 UP -> JOINING: the master went away (silence, goodbye, restart). */
  #lost(why: string, now: number): void {
    const s = this.#session;
    if (!s) return;
    this.#session = undefined;
    this.#io.dropSession?.(NODE_MASTER);
    this.#io.dropGroup?.();
    this.#lastHeard = s.link.lastHeard;
    this.#flows.ro.stop();
    this.#flows.mo.stop();
    s.bc?.stop();
    this.#state = RemoteState.JOINING;
    this.#io.peerState(-1, PeerState.DOWN);
    // A new epoch: the master must see a new session (fresh sequence numbers, full resync),
    // not a retransmitted HELLO of the one it may still hold (spec §4.6, §7.1).
    this.#epoch = this.#io.newEpoch();
    this.#io.log('warn', 'master down; joining again', { master: formatPeer(this.#c.master), reason: why, epoch: this.#epoch });
    this.#startJoining(now);
  }

  #onReject(r: RejectMessage, now: number): void {
    if (r.remoteEpoch !== this.#epoch) return this.#io.drop('stale-reject');
    if (r.reason === 'not-joined') {
      if (this.#session) this.#lost('master does not know us (it restarted or marked us down)', now);
      return;
    }
    if (this.#state !== RemoteState.JOINING) return; // a joined session ends only by §7.11's events
    if (RETRY_REASONS.has(r.reason)) {
      this.#io.log('warn', 'master refused the join for now; retrying', { reason: r.reason, text: r.text ?? undefined });
      return;
    }
    const detail = rejectDetail(r);
    if (this.#c.sealed) {
      // Sealed under our key: the master really said it. A configuration error: exit 1.
      this.#state = RemoteState.FAILED;
      this.#io.fail(new PdsmError('PDSM_ERR_REJECTED', detail));
      return;
    }
    this.#rejectStreak++;
    this.problem = detail;
    this.#helloAt = now + this.#rejectDelay();
    this.#io.log('error', detail, {
      retry_in_s: Math.round((this.#helloAt - now) / 1000),
      note: 'without --psk-file a REJECT cannot be authenticated, so this remote keeps trying',
    });
  }

  /** spec §7.11 UP -> CLOSED: the last RO batch and GOODBYE shutdown. */
  close(): void {
    if (this.#session) {
      this.#flows.ro.tick();
      this.#send({ type: 'goodbye', src: this.#c.clientId, dst: NODE_MASTER, epoch: this.#epoch, reason: 'shutdown' });
    }
    this.#flows.mo.stop();
    this.#session?.bc?.stop();
    this.#session = undefined;
    if (this.#state !== RemoteState.FAILED) this.#state = RemoteState.CLOSED;
    this.#helloAt = Infinity;
  }
}
