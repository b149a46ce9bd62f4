/**
 * A daemon's wire: encode and send typed messages, receive and decode datagrams, count
 * what was dropped and why, and trace every datagram with `PDSM_DEBUG=pdsm:udp`.
 *
 * Packet numbers (spec §3, §9.2): one counter per destination (each (src, dst) pair has its
 * own key), from 0 in each epoch, incremented for every datagram sent, retransmissions
 * included, so a nonce never repeats under a key, and a receiver's replay window sees
 * consecutive numbers even when this node talks to thousands of peers.
 *
 * Authentication (spec §9): with a pre-shared key every datagram is sealed on the way out
 * and opened on the way in. HELLO, WELCOME and REJECT take a handshake seal (a fresh key per
 * datagram from a clear random salt); every other datagram is sealed under the keys of its
 * session, which the session core installs once the handshake gave both sides' nonces
 * (installSession), with one replay window per session. Cheap header checks come first
 * (length, magic, version, a length the type can have, a source this node talks to, a
 * destination that is this node, an installed session, its peer epoch and address, the
 * replay window), then the AEAD tag; only then is the datagram decoded and the window
 * moved. Without a key, sealed datagrams are dropped. Nothing is allocated for a datagram
 * before its header passed those checks, and UDP bounds its size.
 *
 * Drops are counted by reason and logged at most once per second per reason, so junk
 * traffic cannot flood the log.
 */
import type { Logger } from '../log.js';
import { tracer } from '../log.js';
import { decode, encodeUnchecked, TYPE_CODES, type Message } from '../udp/codec.js';
import { formatPeer, peerKey, type Peer, type UdpEndpoint } from '../udp/socket.js';
import { isHandshakeType, isSealed, open, openHandshake, seal, sealHandshake, type PskKeys, type SessionKeys, type SessionSecrets } from '../udp/seal.js';
import { ReplayWindow } from '../udp/replay-window.js';
import type { DropReason } from '../session/drop-reasons.js';
import { seqLt } from '../udp/serial.js';
import { headerVersion, plainLengthPossible } from '../udp/header.js';
import {
  HANDSHAKE_SALT_SIZE,
  HDR_DST,
  HDR_EPOCH,
  HDR_MAGIC,
  HDR_PACKET_NUMBER,
  HDR_SRC,
  HDR_TYPE,
  HDR_VERSION,
  HEADER_SIZE,
  MAGIC,
  NODE_ALL,
  TAG_SIZE,
  TYPE_HELLO,
} from '../udp/constants.js';

const trace = tracer('udp');

/** One line describing a message for the trace (type, flow, sequence, page, length). */
export function describe(msg: Message, bytes: number): string {
  let s = `${msg.type} src=${msg.src} dst=${msg.dst} epoch=${msg.epoch} pn=${msg.packetNumber}`;
  switch (msg.type) {
    case 'data':
      s += ` flow=${msg.flow} seq=${msg.seq} batch=${msg.batchId} page=${msg.page} off=${msg.offset} len=${msg.payload.byteLength}`;
      break;
    case 'commit':
      s += ` flow=${msg.flow} seq=${msg.seq} batch=${msg.batchId} data=${msg.dataCount} pages=${msg.pageCount}${msg.replaces ? ' replaces' : ''}${msg.full ? ' full' : ''}`;
      break;
    case 'nack':
      s += ` flow=${msg.flow} ranges=${msg.ranges.map((r) => `${r.first}+${r.count}`).join(',')}`;
      break;
    case 'heartbeat':
      s += ` flows=${msg.flows.map((f) => `${f.flow}:${f.highestSeq}`).join(',')}`;
      break;
    case 'digest':
      s += ` flow=${msg.flow} batch=${msg.batchId} first=${msg.firstPage} count=${msg.hashes.length}`;
      break;
    case 'resync':
      s += ` flow=${msg.flow} first=${msg.firstPage} count=${msg.pageCount}${msg.full ? ' full' : ''}`;
      break;
    case 'reject':
      s += ` reason=${msg.reason} expected=${msg.expected} offered=${msg.offered}`;
      break;
    case 'goodbye':
      s += ` reason=${msg.reason}`;
      break;
    default:
      break;
  }
  return `${s} bytes=${bytes}`;
}

function count(map: Map<string, { datagrams: number; bytes: number }>, type: string, bytes: number): void {
  const c = map.get(type);
  if (c) {
    c.datagrams++;
    c.bytes += bytes;
  } else map.set(type, { datagrams: 1, bytes });
}

export type Outgoing = Message extends infer M ? (M extends Message ? Omit<M, 'packetNumber'> : never) : never;

export interface TransportOptions {
  /** This node's id in headers: NODE_MASTER or the client id. */
  self: number;
  /** Sources this node accepts datagrams from (by header Src). */
  acceptSrc(src: number): boolean;
  /**
   * Optional cheap check of the source address before anything else (a remote accepts only
   * the master's address and port, spec §3.4).
   */
  acceptFrom?(from: Peer): boolean;
  /**
   * Protocol version 2 with a pre-shared key (spec §9): HELLO, WELCOME and REJECT take a
   * handshake seal; every other datagram is sealed under the keys of its session
   * (installSession) or of the multicast group (installGroup), and one for which no session
   * is installed is dropped (`no-session`) before any cryptography.
   */
  psk?: PskKeys;
  /** With a key, an unsealed datagram arrived (the master answers an unsealed HELLO). */
  onUnsealed?(bytes: Buffer, from: Peer): void;
  /**
   * With a key, a sealed session datagram arrived for which no session is installed (dropped
   * `no-session`): the master answers REJECT not-joined so a remote whose master restarted
   * joins again at once (spec §4.3, §7.1). Called with the clear header's Src and Epoch only.
   */
  onNoSession?(src: number, epoch: number, from: Peer): void;
}

/** What the session core hands the transport when a session is established (spec §9.2). */
export interface SessionInstall {
  /** The session's keys from deriveSessionKeys(); absent without a pre-shared key. */
  keys?: SessionKeys;
  /** The peer's epoch in this session: a sealed datagram with another Epoch is dropped before the AEAD. */
  peerEpoch: number;
  /** The session address; when given, sealed datagrams of this session from elsewhere are dropped first. */
  peer?: Peer;
}

interface InstalledSession {
  send?: Buffer;
  receive?: Buffer;
  peerEpoch: number;
  peer?: string;
  /** spec §9.4: one replay window per session (per receive key). */
  window: ReplayWindow;
}

interface Group {
  key: Buffer;
  /** The remote's window for the master's multicast stream (kept while the key is the same). */
  window: ReplayWindow;
  epoch: number;
}

export class Transport {
  readonly endpoint: UdpEndpoint;
  readonly #log: Logger;
  readonly #packetNumbers = new Map<number, number>();
  readonly #sessions = new Map<number, InstalledSession>();
  /** spec §9.3 step 4: the newest epoch of an authenticated HELLO per source, while its session lives. */
  readonly #helloEpochs = new Map<number, number>();
  #group: Group | undefined;
  readonly #options: TransportOptions;
  readonly #psk: PskKeys | undefined;
  #epoch: number;
  readonly drops = new Map<string, number>();
  readonly #lastLogged = new Map<string, number>();
  /** Datagrams and bytes by message type, each way. */
  readonly sent = new Map<string, { datagrams: number; bytes: number }>();
  readonly received = new Map<string, { datagrams: number; bytes: number }>();

  constructor(endpoint: UdpEndpoint, log: Logger, epoch: number, options: TransportOptions) {
    this.endpoint = endpoint;
    this.#log = log;
    this.#epoch = epoch;
    this.#options = options;
    this.#psk = options.psk;
  }

  /**
   * Start a new epoch (a remote that lost its session joins again as a new session, spec
   * §7.1): packet numbers start over, which is safe because every session has its own keys.
   */
  renew(epoch: number): void {
    this.#epoch = epoch;
    this.#packetNumbers.clear();
  }

  /** True when datagrams are sealed (a key is configured). */
  get sealed(): boolean {
    return this.#psk !== undefined;
  }

  /**
   * spec §9.2: a session with `peerId` (a client id on the master, NODE_MASTER on a remote)
   * is established: seal what goes to it with `s.keys.send`, open what comes from it with
   * `s.keys.receive`, in a fresh replay window, and start its packet numbers at 0 (new
   * keys, so no nonce repeats). Replaces an earlier session of the same peer.
   */
  installSession(peerId: number, s: SessionInstall): void {
    const session: InstalledSession = { peerEpoch: s.peerEpoch >>> 0, window: new ReplayWindow() };
    if (s.keys) {
      session.send = s.keys.send;
      session.receive = s.keys.receive;
    }
    if (s.peer) session.peer = peerKey(s.peer);
    this.#sessions.set(peerId, session);
    this.#packetNumbers.delete(peerId);
  }

  /** The session with `peerId` ended: its keys are forgotten and its datagrams dropped (`no-session`). */
  dropSession(peerId: number): void {
    this.#sessions.delete(peerId);
    this.#helloEpochs.delete(peerId);
    this.#packetNumbers.delete(peerId);
  }

  /** spec §9.2: the keys of a session with these secrets, for this side; undefined without a key. */
  sessionKeys(secrets: SessionSecrets, side: 'master' | 'remote'): SessionKeys | undefined {
    return this.#psk?.sessionKeys(secrets, side);
  }

  /** spec §9.2: the multicast group key; undefined without a key. */
  groupKey(groupNonce: Uint8Array, masterEpoch: number): Buffer | undefined {
    return this.#psk?.groupKey(groupNonce, masterEpoch);
  }

  hasSession(peerId: number): boolean {
    return this.#sessions.has(peerId);
  }

  /**
   * spec §9.2 group key of the master's multicast BC (Dst ALL), from deriveGroupKey(). The
   * master seals with it; a remote opens with it. A remote keeps its replay window while the
   * key stays the same (a re-join to the same master process), so an old multicast datagram
   * cannot be replayed into a new session.
   */
  installGroup(key: Buffer, masterEpoch: number): void {
    if (this.#group && this.#group.key.equals(key)) return;
    this.#group = { key, window: new ReplayWindow(), epoch: masterEpoch >>> 0 };
    this.#packetNumbers.delete(NODE_ALL);
  }

  dropGroup(): void {
    this.#group = undefined;
  }

  #nextPacketNumber(dst: number): number {
    const pn = this.#packetNumbers.get(dst) ?? 0;
    this.#packetNumbers.set(dst, pn + 1);
    return pn;
  }

  /** Send without sealing, whatever the key (the unsealed REJECT auth-required of spec §9.5). */
  sendPlain(msg: Outgoing, peer: Peer): void {
    this.#emit(msg, peer, false);
  }

  get epoch(): number {
    return this.#epoch;
  }

  /** Encode `msg` with this daemon's next packet number, seal it (with a key) and send it to `peer`. */
  send(msg: Outgoing, peer: Peer): void {
    this.#emit(msg, peer, true);
  }

  /** The key that seals a session datagram to `dst`: its session's or the group's; undefined when there is none. */
  #sendKey(dst: number): Buffer | undefined {
    return dst === NODE_ALL ? this.#group?.key : this.#sessions.get(dst)?.send;
  }

  #emit(msg: Outgoing, peer: Peer, sealIt: boolean): void {
    const full = { ...msg, packetNumber: this.#nextPacketNumber(msg.dst) } as Message;
    const plain = encodeUnchecked(full);
    let bytes = plain;
    if (sealIt && this.#psk) {
      if (isHandshakeType(TYPE_CODES[full.type])) bytes = sealHandshake(this.#psk.psk, plain);
      else {
        const key = this.#sendKey(full.dst);
        if (key === undefined) {
          // A programming error of the caller (a session datagram before installSession): never send it unsealed.
          this.drop('send-without-session', peer);
          return;
        }
        bytes = seal(key, plain);
      }
    }
    count(this.sent, full.type, bytes.byteLength);
    if (trace.enabled) trace(`send ${formatPeer(peer)} ${describe(full, bytes.byteLength)}${sealIt ? '' : ' plain'}`);
    // spec §7.9: page content is paced; control datagrams are not.
    if (full.type === 'data' || full.type === 'commit' || full.type === 'digest') this.endpoint.send(bytes, peer);
    else this.endpoint.sendNow(bytes, peer);
  }

  /**
   * Deliver every datagram that decodes to `handler`; count and drop the rest. `endpoint`
   * defaults to the sending one (a remote also listens on its multicast socket).
   */
  listen(handler: (msg: Message, from: Peer, bytes: number) => void, endpoint: UdpEndpoint = this.endpoint): void {
    endpoint.onMessage((raw, from) => {
      const msg = this.receive(raw, from);
      if (msg !== undefined) handler(msg, from, raw.byteLength);
    });
  }

  /**
   * One datagram in: checks, opens, decodes and counts it; returns the message or undefined
   * when it was dropped (the reason is counted in `drops`). listen() calls it; tests and
   * benchmarks call it directly.
   */
  receive(raw: Buffer, from: Peer): Message | undefined {
    if (this.#options.acceptFrom && !this.#options.acceptFrom(from)) {
      this.drop('unknown-source', from);
      return undefined;
    }
    const bytes = this.#open(raw, from);
    if (bytes === undefined) return undefined;
    const r = decode(bytes);
    if (!r.ok) {
      if (trace.enabled) trace(`drop ${formatPeer(from)} ${r.reason} bytes=${bytes.byteLength} ${bytes.subarray(0, 100).toString('hex')}`);
      this.drop(`decode-${r.reason}` as const, from);
      return undefined;
    }
    count(this.received, r.msg.type, bytes.byteLength);
    if (trace.enabled) trace(`recv ${formatPeer(from)} ${describe(r.msg, bytes.byteLength)}`);
    return r.msg;
  }

  /**
   * Authenticate and unseal (with a key), or refuse sealed datagrams (without). spec §9.3:
   * every check that needs only the clear header comes before the AEAD, so a forged or
   * replayed datagram costs a few comparisons, not a decryption: length, magic, version and
   * type, a length the type can have, route, then (session datagrams) an installed session,
   * its peer epoch and address, and the replay window.
   */
  #open(raw: Buffer, from: Peer): Buffer | undefined {
    const psk = this.#psk;
    const sealed = isSealed(raw);
    if (!psk) {
      if (!sealed) return raw;
      this.drop('sealed-without-key', from);
      return undefined;
    }
    if (!sealed) {
      this.drop('unsealed', from);
      this.#options.onUnsealed?.(raw, from);
      return undefined;
    }
    if (raw.byteLength < HEADER_SIZE + TAG_SIZE) return this.#dropped('decode-short', from);
    if (raw.readUInt32BE(HDR_MAGIC) !== MAGIC) return this.#dropped('decode-magic', from);
    const type = raw[HDR_TYPE] ?? 0;
    if (raw[HDR_VERSION] !== headerVersion(type)) return this.#dropped('decode-version', from);
    const handshake = isHandshakeType(type);
    const plainLength = raw.byteLength - TAG_SIZE - (handshake ? HANDSHAKE_SALT_SIZE : 0);
    if (!plainLengthPossible(type, plainLength)) return this.#dropped(plainLength < HEADER_SIZE ? 'decode-short' : 'decode-length', from);
    const src = raw.readUInt16BE(HDR_SRC);
    const dst = raw.readUInt16BE(HDR_DST);
    if (!this.#options.acceptSrc(src) || (dst !== this.#options.self && dst !== NODE_ALL)) {
      return this.#dropped('auth-unknown-route', from);
    }
    if (handshake) {
      // spec §9.3: a fresh key per datagram from its clear salt; replays are the session core's (§4.6).
      const opened = openHandshake(psk.psk, raw);
      if (!opened.ok) return this.#dropped(`auth-${opened.reason}` as const, from);
      if (type === TYPE_HELLO) {
        // A recorded HELLO of an older epoch must not replace the live session (spec §9.3 step 4):
        // the same epoch is a retransmission, a newer one a restart.
        const epoch = raw.readUInt32BE(HDR_EPOCH);
        const newest = this.#helloEpochs.get(src);
        if (newest !== undefined && seqLt(epoch, newest)) return this.#dropped('auth-old-epoch', from);
        this.#helloEpochs.set(src, epoch);
      }
      return opened.datagram;
    }
    const epoch = raw.readUInt32BE(HDR_EPOCH);
    const pn = raw.readUInt16BE(HDR_PACKET_NUMBER + 2) * 0x1_0000_0000 + raw.readUInt32BE(HDR_PACKET_NUMBER + 4);
    if (dst === NODE_ALL && this.#group) return this.#openWith(this.#group.key, this.#group.window, this.#group.epoch, epoch, pn, raw, from);
    const s = dst === NODE_ALL ? undefined : this.#sessions.get(src);
    if (s?.receive) {
      if (s.peer !== undefined && s.peer !== peerKey(from)) return this.#dropped('auth-wrong-address', from);
      return this.#openWith(s.receive, s.window, s.peerEpoch, epoch, pn, raw, from);
    }
    this.drop('no-session', from, 'debug');
    if (dst !== NODE_ALL) this.#options.onNoSession?.(src, epoch, from);
    return undefined;
  }

  /** spec §9.3, §9.4: epoch and window first (no cryptography), then the tag, then record the number. */
  #openWith(key: Buffer, window: ReplayWindow, wantEpoch: number, epoch: number, pn: number, raw: Buffer, from: Peer): Buffer | undefined {
    if (epoch !== wantEpoch) return this.#dropped('auth-old-epoch', from);
    if (!window.check(pn)) return this.#dropped('auth-replay', from);
    const opened = open(key, raw);
    if (!opened.ok) return this.#dropped(`auth-${opened.reason}` as const, from);
    window.accept(pn);
    return opened.datagram;
  }

  #dropped(reason: DropReason, from: Peer): undefined {
    this.drop(reason, from);
    return undefined;
  }

  /**
   * Count a dropped datagram; log the reason at most once per second. Drops that loss and
   * retransmission make normal (duplicates, data racing ahead of a WELCOME) log at debug.
   */
  drop(reason: DropReason, from?: Peer, level: 'warn' | 'debug' = 'warn'): void {
    const n = (this.drops.get(reason) ?? 0) + 1;
    this.drops.set(reason, n);
    if (!this.#log.enabled(level)) return;
    const now = performance.now();
    if (now - (this.#lastLogged.get(reason) ?? -Infinity) >= 1000) {
      this.#lastLogged.set(reason, now);
      this.#log.log(level, 'dropped datagram', { reason, from: from ? formatPeer(from) : undefined, total: n });
    }
  }
}
