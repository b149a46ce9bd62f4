/**
 * The master's sessions without I/O: per client id the DOWN/UP machine of spec §7.11,
 * admission of HELLOs (./admission.ts), heartbeats and liveness, the MO flow to each remote,
 * the RO flow from each, and the shared BC flow (unicast fan-out or multicast with the
 * §8.4 fallback). Datagrams in through handle(), time in through onTimeout(now); datagrams,
 * drops, logs and peer states out through the SessionIo sink; nextDeadline() says when to
 * call onTimeout next.
 *
 * Timing: three periodic duties on the monotonic clock: scan (-i) sends each validated
 * session's changed MO pages as one batch (and BC's); heartbeat (Heartbeat Ms) sends a
 * HEARTBEAT to every session and ends those silent past Liveness Ms (./link.ts says how
 * silence is judged); digest (Digest Period) sends the MO and BC digests.
 */
import { PeerState } from '../segments/status.js';
import type { WordSize } from '../segments/word-codec.js';
import type { Clock } from '../reliability/clock.js';
import { encodeUnchecked, type HelloMessage, type Message, type RejectReason } from '../udp/codec.js';
import { HANDSHAKE_SALT_SIZE, NODE_MASTER, TAG_SIZE } from '../udp/constants.js';
import { addressBytes, formatPeer, type Peer } from '../udp/socket.js';
import { CookieJar, freshNonce } from '../udp/seal.js';
import { admit, type VersionRange } from './admission.js';
import type { Outgoing, SessionIo } from './io.js';
import { MasterBc } from './master-bc.js';
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
  plainAddress,
  sessionKey,
  type FlushScan,
  type InPort,
  type OutPort,
  type SessionFlows,
} from './link.js';
import { RejectBudget } from './reject-budget.js';
import { MasterPeerState, MasterState, peerStateName, type PeerStateName } from './states.js';
import { stampUs, type ProtocolTimers } from './timers.js';

export interface MasterSessionConfig {
  epoch: number;
  remotes: number;
  pageSize: number;
  wordSize: WordSize;
  segSize: number;
  /** 0: no BC. */
  bcSize: number;
  mtu: number;
  intervalMs: number;
  timers: ProtocolTimers;
  versions: VersionRange;
  sealed: boolean;
  /** -g: the Clientname of each id (the wiring resolves them and calls setAllowed). */
  clientNames?: string[];
  /** -m: the multicast group BC goes to. */
  group?: Peer;
  clock: Clock;
  /** A random initial sequence number (spec §7.2); tests pass a fixed one. */
  randomSeq(): number;
  /** The cookie secret (spec §9.2, local policy); 32 fresh random bytes when absent. */
  cookieSecret?: Uint8Array;
  /** Fresh 16-byte nonces (spec §4.5 NONCE, GROUP_NONCE); tests pass their own. */
  freshNonce?(): Uint8Array;
}

export interface MasterFlows {
  mo: OutPort[];
  ro: InPort[];
  bc?: OutPort;
}

interface Session {
  link: PeerLink;
  remoteEpoch: number;
  moNextSeq: number;
  /** Where this remote starts on the shared BC stream (spec §8.1). */
  bcNextSeq: number;
  /** spec §5.3: the smaller of ours and the remote's MTU. */
  mtu: number;
  version: number;
  flows: SessionFlows;
  /** Version 2 (spec §4.1, §4.2): the HELLO's and the WELCOME's NONCE, and the WELCOME's COOKIE. */
  helloNonce?: Uint8Array;
  welcomeNonce?: Uint8Array;
  cookie?: Uint8Array;
  /**
   * The session is reported UP (ST, status, log). A version-2 session is only once its
   * address is validated (the cookie came back, sealed under its keys when there is a key):
   * a replayed or spoofed HELLO makes a pending session that never shows and never blocks.
   */
  announced: boolean;
}

interface Slot {
  id: number;
  session: Session | undefined;
  /** Kept after the session ended, for status. */
  lastHeard: number | undefined;
  rttMs: number | undefined;
  address: string | undefined;
  /** spec §8.4: the remote asked for BC by unicast. */
  bcUnicast: boolean;
  /** Sessions opened for this id (flaps show here). */
  sessions: number;
}

/** One remote as the master sees it, for status. */
export interface MasterPeerView {
  id: number;
  state: PeerStateName;
  address?: string;
  lastHeardMsAgo?: number;
  rttMs?: number;
  bcUnicast?: boolean;
  sessions: number;
  validated?: boolean;
}

export class MasterSessions {
  readonly #c: MasterSessionConfig;
  readonly #io: SessionIo;
  readonly #flows: MasterFlows;
  readonly #slots: Slot[] = [];
  readonly #allowed = new Map<number, Set<string>>();
  readonly #rejects: RejectBudget;
  readonly #scan: Periodic;
  readonly #heartbeat: Periodic;
  readonly #digest: Periodic;
  readonly scanTimes = new ScanTimes();
  #state = MasterState.RUNNING;
  #stallLoggedAt = -Infinity;
  readonly #jar: CookieJar;
  readonly #nonce: () => Uint8Array;
  /** spec §9.2: keys the multicast stream for this master process (WELCOME GROUP_NONCE). */
  readonly #groupNonce: Uint8Array | undefined;
  /** The shared BC stream (spec §8), when there is BC. */
  readonly #bc: MasterBc<Session> | undefined;

  constructor(config: MasterSessionConfig, io: SessionIo, flows: MasterFlows, now: number) {
    this.#c = config;
    this.#io = io;
    this.#flows = flows;
    this.#rejects = new RejectBudget(now);
    this.#scan = new Periodic(config.intervalMs, now);
    this.#heartbeat = new Periodic(config.timers.heartbeatMs, now);
    this.#digest = new Periodic(config.timers.digestMs, now);
    this.#jar = new CookieJar(config.cookieSecret);
    this.#nonce = config.freshNonce ?? freshNonce;
    if (config.group && flows.bc && config.versions.max >= 2) this.#groupNonce = this.#nonce();
    for (let id = 0; id < config.remotes; id++) {
      this.#slots.push({ id, session: undefined, lastHeard: undefined, rttMs: undefined, address: undefined, bcUnicast: false, sessions: 0 });
    }
    if (flows.bc) {
      const { epoch, pageSize, wordSize, mtu, sealed, group, clock } = config;
      const bcConfig = { epoch, pageSize, wordSize, mtu, sealed, clock, firstSeq: config.randomSeq() };
      this.#bc = new MasterBc(
        flows.bc,
        { ...bcConfig, ...(group ? { group } : {}), ...(this.#groupNonce ? { groupNonce: this.#groupNonce } : {}) },
        io,
        this.#slots,
        (s, msg) => this.#send(s, msg),
      );
    }
  }

  get state(): MasterState {
    return this.#state;
  }

  get bcMode(): 'none' | 'unicast' | 'multicast' {
    return this.#bc?.mode ?? 'none';
  }

  /** spec §7.11 state of client `id`. */
  peerState(id: number): MasterPeerState {
    return this.#slots[id]?.session?.announced ? MasterPeerState.UP : MasterPeerState.DOWN;
  }

  /** -g: the addresses client `id`'s Clientname resolves to. */
  setAllowed(id: number, addresses: Iterable<string>): void {
    this.#allowed.set(id, new Set([...addresses].map(plainAddress)));
  }

  nextDeadline(): number {
    return Math.min(this.#scan.next, this.#heartbeat.next, this.#digest.next);
  }

  /**
   * The deadline came (called after the socket's queued datagrams were read). `backlog`:
   * this daemon still has datagrams queued to send.
   */
  onTimeout(now: number, backlog: boolean): void {
    const due = [this.#scan, this.#heartbeat, this.#digest].filter((p) => p.due(now));
    if (due.length === 0 || this.#state === MasterState.CLOSING) return;
    const late = now - Math.min(...due.map((p) => p.next));
    if (late > STALL_TOLERANCE_MS) this.#stalled(late, now);
    if (this.#scan.due(now)) {
      this.#scan.done(now);
      this.scanOnce();
    }
    if (this.#heartbeat.due(now)) {
      this.#heartbeat.done(now);
      this.#heartbeatAll(now, backlog);
    }
    if (this.#digest.due(now)) {
      this.#digest.done(now);
      if (!backlog) this.#digestAll(); // still sending: the next period will do
    }
  }

  #stalled(ms: number, now: number): void {
    for (const slot of this.#slots) slot.session?.link.stalled(ms);
    if (ms >= this.#c.timers.heartbeatMs && now - this.#stallLoggedAt >= 10_000) {
      this.#stallLoggedAt = now;
      this.#io.log('warn', 'this daemon did not run for a while; liveness deadlines extended by as much', { stall_ms: Math.round(ms) });
    }
  }

  /** One scan: each validated session's changed MO pages, and BC's, as one batch each. */
  scanOnce(): void {
    const started = this.#c.clock.now();
    let anyone = false;
    for (const slot of this.#slots) {
      if (!slot.session?.link.validated) continue;
      anyone = true;
      this.#flows.mo[slot.id]!.tick();
    }
    if (anyone) this.#flows.bc?.tick();
    const ms = this.#c.clock.now() - started;
    this.scanTimes.add(ms);
    this.#io.scanned(ms);
  }

  /**
   * A flush (src/daemon/flush-gate.ts): scan and send one flow now, through the same tick()
   * as the periodic scan, and only where that scan would: MO slice `id` of a validated
   * session, BC while anyone is validated. The periodic scan keeps its schedule.
   */
  flushScan(flow: 'mo' | 'bc', id = 0): FlushScan {
    if (this.#state === MasterState.CLOSING) return 'down';
    if (flow === 'bc') {
      const bc = this.#flows.bc;
      if (!bc || !this.#slots.some((slot) => slot.session?.link.validated)) return 'down';
      return flushScanOf(bc.tick());
    }
    if (!this.#slots[id]?.session?.link.validated) return 'down';
    return flushScanOf(this.#flows.mo[id]!.tick());
  }

  #heartbeatAll(now: number, backlog: boolean): void {
    const bcSender = this.#flows.bc?.sender;
    for (const slot of this.#slots) {
      const s = slot.session;
      if (!s) continue;
      if (s.link.expired(now, backlog)) {
        this.#end(slot, 'silent past the liveness timeout', true);
        continue;
      }
      const sender = this.#flows.mo[slot.id]!.sender;
      const mo = { flow: 'mo' as const, highestSeq: sender ? sender.highestSeq : (s.moNextSeq - 1) >>> 0 };
      this.#send(s, {
        type: 'heartbeat',
        src: NODE_MASTER,
        dst: slot.id,
        epoch: this.#c.epoch,
        timestamp: stampUs(now),
        echo: s.link.echo(now),
        wantBcUnicast: false,
        flows: bcSender ? [mo, { flow: 'bc', highestSeq: bcSender.highestSeq }] : [mo],
      });
    }
  }

  /** spec §7.8: the hashes of each MO slice and of BC as last sent. */
  #digestAll(): void {
    let anyone = false;
    for (const slot of this.#slots) {
      const s = slot.session;
      if (!s?.link.validated) continue;
      anyone = true;
      for (const chunk of this.#flows.mo[slot.id]!.digest(this.#c.wordSize, hashesPerDigest(s.mtu, this.#c.sealed))) {
        this.#send(s, { type: 'digest', src: NODE_MASTER, dst: slot.id, epoch: this.#c.epoch, flow: 'mo', ...chunk });
      }
    }
    if (anyone) this.#bc?.digest();
  }

  /** To a session's address, within the anti-amplification budget until it is validated. */
  #send(s: Session, msg: Outgoing): void {
    if (!s.link.validated) {
      const size = encodeUnchecked({ ...msg, packetNumber: 0 } as Message).byteLength + (this.#c.sealed ? sealOverhead(msg) : 0);
      if (!s.link.maySend(size)) return;
      s.link.sent(size);
    }
    this.#io.send(msg, s.link.peer);
  }

  /** A session ends (spec §7.11 UP -> DOWN); `evict`: tell the remote (GOODBYE evicted, §4.4). */
  #end(slot: Slot, why: string, evict: boolean): void {
    const s = slot.session;
    if (!s) return;
    if (evict) this.#send(s, { type: 'goodbye', src: NODE_MASTER, dst: slot.id, epoch: this.#c.epoch, reason: 'evicted' });
    slot.session = undefined;
    this.#bc?.sessionsChanged();
    this.#io.dropSession?.(slot.id);
    this.#flows.mo[slot.id]!.stop();
    this.#flows.ro[slot.id]!.stop();
    if (!s.announced) {
      this.#io.log('debug', 'unvalidated session ended', { client: slot.id, address: formatPeer(s.link.peer), reason: why });
      return;
    }
    slot.lastHeard = s.link.lastHeard;
    slot.rttMs = s.link.rttMs;
    this.#io.peerState(slot.id, PeerState.DOWN);
    this.#io.log('warn', 'remote down', { client: slot.id, address: slot.address, reason: why });
  }

  #reject(to: Peer, dst: number, remoteEpoch: number, reason: RejectReason, expected: number, offered: number, text: string, now: number, plain = false): void {
    if (!this.#rejects.allow(plainAddress(to.address), now)) return;
    this.#io.send({ type: 'reject', src: NODE_MASTER, dst, epoch: this.#c.epoch, remoteEpoch, expected, offered, reason, text, options: [] }, to, plain);
    if (reason !== 'not-joined') this.#io.log('warn', 'rejected remote', { client: dst, from: formatPeer(to), reason, expected, offered });
  }

  /** spec §9.5: with a key, an unsealed HELLO gets an unsealed REJECT auth-required. */
  onUnsealedHello(hello: HelloMessage, from: Peer, now: number): void {
    if (hello.src >= this.#c.remotes) return;
    this.#reject(
      from,
      hello.src,
      hello.epoch,
      'auth-required',
      0,
      0,
      'this master authenticates every datagram: give the remote --psk-file with the same key',
      now,
      true,
    );
  }

  /**
   * With a key, a sealed session datagram came for client `src` with no session keys
   * installed (the transport dropped it): a remote whose master restarted, or a recording.
   * REJECT not-joined (handshake-sealed, budgeted) makes a real remote join again at once.
   */
  onNoSession(src: number, epoch: number, from: Peer, now: number): void {
    const s = this.#slots[src]?.session;
    if (src >= this.#c.remotes || (s && s.link.key === sessionKey(from) && s.remoteEpoch === epoch)) return;
    this.#reject(from, src, epoch, 'not-joined', 0, 0, 'no session: say HELLO', now);
  }

  /** A datagram that decoded (and, with a key, opened), `bytes` long, from `from`. */
  handle(msg: Message, from: Peer, bytes: number, now: number): void {
    if (msg.dst !== NODE_MASTER) return this.#io.drop('not-for-master', from);
    if (msg.type === 'hello') return this.#onHello(msg, from, bytes, now);
    const slot = this.#slots[msg.src];
    if (!slot) return this.#io.drop('unknown-client', from);
    const s = slot.session;
    if (!s || s.link.key !== sessionKey(from) || s.remoteEpoch !== msg.epoch) {
      this.#io.drop('not-joined', from);
      if (msg.type !== 'goodbye' && msg.type !== 'reject') this.#reject(from, msg.src, msg.epoch, 'not-joined', 0, 0, 'no session: say HELLO', now);
      return;
    }
    s.link.heard(now, bytes);
    if (s.link.validate(msg.type === 'heartbeat' ? (msg.cookie ?? null) : null)) {
      if (!s.announced) this.#announce(slot, s, now);
      this.#startBatches(slot);
    }
    if (s.announced) this.#io.heard(slot.id);
    // spec §13: until the address is validated only HEARTBEAT (which carries the cookie) and
    // GOODBYE are taken: no blind writes into RO, nothing that makes the master send more.
    if (!s.link.validated && msg.type !== 'heartbeat' && msg.type !== 'goodbye') return this.#io.drop('not-validated', from, 'debug');
    if (isFlowMessage(msg)) return dispatchFlow(msg, s.flows, this.#io, from, { client: slot.id });
    switch (msg.type) {
      case 'heartbeat': {
        const rtt = s.link.onHeartbeat(msg, now);
        if (rtt !== undefined) {
          this.#io.rtt(slot.id, rtt);
          this.#setRtt(slot.id, rtt);
        }
        heartbeatFlows(msg, s.flows);
        this.#bc?.onHeartbeat(slot, msg);
        return;
      }
      case 'goodbye':
        return this.#end(slot, msg.reason === 'shutdown' ? 'said goodbye' : `said goodbye (${msg.reason})`, false);
      default:
        return this.#io.drop('unexpected-type', from);
    }
  }

  /**
   * spec §7.9: a smoothed RTT (spec §6.2) sets the growth period of the flows that send to
   * that remote: its MO flow, and the shared BC flow, which follows the slowest remote.
   */
  #setRtt(id: number, srttMs: number): void {
    this.#flows.mo[id]!.sender?.setRtt(srttMs);
    this.#bc?.setRtt(srttMs);
  }

  #addressProblem(id: number, from: Peer): string | undefined {
    const names = this.#c.clientNames;
    if (!names) return undefined;
    const source = plainAddress(from.address);
    return this.#allowed.get(id)?.has(source) ? undefined : `${source} is not ${names[id]} (Clientname of client ${id})`;
  }

  #onHello(m: HelloMessage, from: Peer, bytes: number, now: number): void {
    const c = this.#c;
    const slot = this.#slots[m.src];
    const s = slot?.session;
    const a = admit(m, sessionKey(from), {
      closing: this.#state === MasterState.CLOSING,
      versions: c.versions,
      remotes: c.remotes,
      addressProblem: (id) => this.#addressProblem(id, from),
      pageSize: c.pageSize,
      wordSize: c.wordSize,
      segSize: c.segSize,
      bcSize: this.#flows.bc ? c.bcSize : 0,
      // A pending (unvalidated) session never blocks a HELLO from elsewhere (spec §4.6).
      session: s && { peerKey: s.link.key, remoteEpoch: s.remoteEpoch, live: s.announced && !s.link.expired(now, false) },
    });
    if (a.kind === 'drop') return this.#io.drop(a.reason, from);
    if (a.kind === 'reject') return this.#reject(from, m.src, m.epoch, a.reason, a.expected, a.offered, a.text, now);
    if (!slot) return;
    if (a.kind === 'resend') {
      s!.link.heard(now, bytes); // our WELCOME was lost: say it again, same numbers
      return this.#welcome(slot, s!);
    }
    if (a.replaces === 'silent') this.#end(slot, `replaced by a HELLO from ${formatPeer(from)}`, true);
    if (a.replaces === 'restarted') this.#end(slot, 'joined again (new epoch)', false);
    this.#open(slot, m, from, bytes, now, a.version);
  }

  /** spec §7.1: a new session, every flow afresh; its first batches wait for validation. */
  #open(slot: Slot, m: HelloMessage, from: Peer, bytes: number, now: number, version: number): void {
    const c = this.#c;
    const bcSender = this.#flows.bc?.sender;
    // spec §4.2, §9.2 (version 2): our fresh nonce for this session's keys, and the cookie
    // that binds client id, remote epoch, HELLO nonce and the session address.
    const v2 =
      version >= 2 && m.nonce
        ? {
            helloNonce: m.nonce,
            welcomeNonce: this.#nonce(),
            cookie: this.#jar.make({ clientId: slot.id, remoteEpoch: m.epoch, helloNonce: m.nonce, address: plainAddress(from.address), port: from.port }),
          }
        : undefined;
    const session: Session = {
      link: new PeerLink(from, now, c.timers.livenessMs, { validated: false, receivedBytes: bytes, ...(v2 ? { cookie: v2.cookie } : {}) }),
      remoteEpoch: m.epoch,
      moNextSeq: c.randomSeq(),
      bcNextSeq: bcSender ? (bcSender.highestSeq + 1) >>> 0 : 0,
      mtu: Math.min(c.mtu, m.mtu),
      version,
      announced: false,
      ...v2,
      flows: {
        in: { ro: this.#flows.ro[slot.id]! },
        out: { mo: this.#flows.mo[slot.id]!, ...(this.#bc ? { bc: this.#bc.flow } : {}) },
        ...(this.#bc ? { repair: { bc: this.#bc.repairFor(slot, () => session) }, repairLimit: { bc: this.#bc.repairLimitFor(slot, () => session) } } : {}),
      },
    };
    slot.session = session;
    slot.bcUnicast = false;
    this.#bc?.sessionsChanged(); // spec §8.1: before the WELCOME, so every BC datagram after it fits
    if (v2) {
      this.#io.installSession?.(slot.id, {
        secrets: { clientId: slot.id, helloNonce: v2.helloNonce, welcomeNonce: v2.welcomeNonce, remoteEpoch: m.epoch, masterEpoch: c.epoch },
        peerEpoch: m.epoch,
        peer: from,
      });
    } else this.#announce(slot, session, now);
    const feedback = (flow: 'ro') => ({
      sendNack: (ranges: { first: number; count: number }[]) =>
        this.#send(session, { type: 'nack', src: NODE_MASTER, dst: slot.id, epoch: c.epoch, flow, ranges }),
      requestResync: (firstPage: number, pageCount: number, full: boolean) =>
        this.#send(session, { type: 'resync', src: NODE_MASTER, dst: slot.id, epoch: c.epoch, flow, full, firstPage, pageCount }),
    });
    this.#flows.ro[slot.id]!.start({ firstSeq: m.roNextSeq, clock: c.clock, ...feedback('ro') });
    this.#flows.mo[slot.id]!.start({
      src: NODE_MASTER,
      dst: slot.id,
      epoch: c.epoch,
      firstSeq: session.moNextSeq,
      geometry: { pageSize: c.pageSize, wordSize: c.wordSize, mtu: session.mtu },
      sealed: c.sealed,
      clock: c.clock,
      emit: (msg) => this.#send(session, msg),
    });
    this.#welcome(slot, session);
    this.#io.log(v2 ? 'debug' : 'info', v2 ? 'welcomed remote; waiting for its cookie' : 'remote joined', {
      client: slot.id,
      address: formatPeer(from),
      epoch: m.epoch,
      hostname: m.hostname ?? undefined,
    });
  }

  /** The session shows UP (ST, status): at once in version 1, once validated in version 2. */
  #announce(slot: Slot, s: Session, now: number): void {
    s.announced = true;
    slot.sessions++;
    slot.lastHeard = now;
    slot.address = formatPeer(s.link.peer);
    this.#io.peerState(slot.id, PeerState.UP);
    this.#io.heard(slot.id);
    if (s.cookie) this.#io.log('info', 'remote joined', { client: slot.id, address: slot.address, epoch: s.remoteEpoch });
  }

  /** The session's address is validated: the full MO batch now, and BC's for the newcomer (§8.1). */
  #startBatches(slot: Slot): void {
    this.#flows.mo[slot.id]!.tick();
    this.#bc?.startFor();
  }

  #welcome(slot: Slot, s: Session): void {
    const c = this.#c;
    const bc = this.#flows.bc;
    this.#send(s, {
      type: 'welcome',
      src: NODE_MASTER,
      dst: slot.id,
      epoch: c.epoch,
      remoteEpoch: s.remoteEpoch,
      pageSize: c.pageSize,
      segSize: c.segSize,
      bcSize: bc ? c.bcSize : 0,
      moNextSeq: s.moNextSeq,
      bcNextSeq: s.bcNextSeq,
      intervalMs: c.intervalMs,
      heartbeatMs: c.timers.heartbeatMs,
      livenessMs: c.timers.livenessMs,
      clientCount: c.remotes,
      mtu: s.mtu,
      version: s.version,
      wordSize: c.wordSize,
      bcMode: this.bcMode,
      multicast: c.group ? { port: c.group.port, address: addressBytes(c.group.address) } : null,
      nonce: s.welcomeNonce ?? null,
      cookie: s.cookie ?? null,
      groupNonce: s.cookie && this.#groupNonce ? this.#groupNonce : null,
      options: [],
    });
  }

  /** spec §7.11 SIGTERM: the last batches, GOODBYE shutdown to every session; from now on HELLO gets REJECT unavailable. */
  close(): void {
    if (this.#state === MasterState.CLOSING) return;
    this.scanOnce();
    this.#state = MasterState.CLOSING;
    for (const slot of this.#slots) {
      const s = slot.session;
      if (s) this.#send(s, { type: 'goodbye', src: NODE_MASTER, dst: slot.id, epoch: this.#c.epoch, reason: 'shutdown' });
      this.#flows.ro[slot.id]!.stop();
    }
  }

  /** Every remote for status (ST's state names). */
  peers(now: number): MasterPeerView[] {
    return this.#slots.map((slot) => {
      const s = slot.session;
      const code = s?.announced ? PeerState.UP : slot.lastHeard !== undefined ? PeerState.DOWN : PeerState.UNKNOWN;
      const heard = s?.link.lastHeard ?? slot.lastHeard;
      const rtt = s?.link.rttMs ?? slot.rttMs;
      return {
        id: slot.id,
        state: peerStateName(code),
        sessions: slot.sessions,
        ...(slot.address ? { address: slot.address } : {}),
        ...(heard !== undefined ? { lastHeardMsAgo: Math.round(now - heard) } : {}),
        ...(rtt !== undefined ? { rttMs: rtt } : {}),
        ...(this.#c.group ? { bcUnicast: slot.bcUnicast } : {}),
        ...(s ? { validated: s.link.validated } : {}),
      };
    });
  }
}

/**
 * Bytes sealing adds to `msg` (spec §9.3): the tag, and for WELCOME and REJECT (the handshake
 * seal) the salt before it, so the budget of §4.6 counts what goes on the wire.
 */
function sealOverhead(msg: Outgoing): number {
  return TAG_SIZE + (msg.type === 'welcome' || msg.type === 'reject' ? HANDSHAKE_SALT_SIZE : 0);
}
