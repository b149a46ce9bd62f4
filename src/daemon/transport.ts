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
 * and opened on the way in: cheap header checks first (length, magic, a source this node
 * talks to, a destination that is this node), then the AEAD tag, then the replay window per
 * (src, dst) and epoch, which also refuses an older epoch than the one already seen; only
 * then is the datagram decoded. Without a key, sealed datagrams are dropped. Nothing is
 * allocated for a datagram before its header passed those checks, and UDP bounds its size.
 *
 * Drops are counted by reason and logged at most once per second per reason, so junk
 * traffic cannot flood the log.
 */
import type { Logger } from '../log.js';
import { tracer } from '../log.js';
import { decode, encodeUnchecked, type CommitMessage, type DataMessage, type Message } from '../udp/codec.js';
import { formatPeer, type Peer, type UdpEndpoint } from '../udp/socket.js';
import { isSealed, open, seal, type PskKeys } from '../udp/seal.js';
import { ReplayWindow } from '../udp/replay-window.js';
import type { DropReason } from '../session/drop-reasons.js';
import { seqGt, seqLt } from '../udp/serial.js';
import { HDR_DST, HDR_EPOCH, HDR_MAGIC, HDR_PACKET_NUMBER, HDR_SRC, HEADER_SIZE, MAGIC, NODE_ALL, TAG_SIZE } from '../udp/constants.js';

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
  /** With a pre-shared key: seal and open every datagram. */
  keys?: PskKeys;
  /** With a key, an unsealed datagram arrived (the master answers an unsealed HELLO). */
  onUnsealed?(bytes: Buffer, from: Peer): void;
}

interface Window {
  epoch: number;
  window: ReplayWindow;
}

export class Transport {
  readonly endpoint: UdpEndpoint;
  readonly #log: Logger;
  readonly #packetNumbers = new Map<number, number>();
  readonly #windows = new Map<number, Window>();
  readonly #options: TransportOptions;
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
  }

  /**
   * Start a new epoch (a remote that lost its session joins again as a new session, spec
   * §7.1): packet numbers start over, which is safe because the nonce includes the epoch.
   */
  renew(epoch: number): void {
    this.#epoch = epoch;
    this.#packetNumbers.clear();
  }

  /** True when datagrams are sealed (a key is configured). */
  get sealed(): boolean {
    return this.#options.keys !== undefined;
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

  #emit(msg: Outgoing, peer: Peer, sealIt: boolean): void {
    const full = { ...msg, packetNumber: this.#nextPacketNumber(msg.dst) } as Message;
    const plain = encodeUnchecked(full);
    const keys = sealIt ? this.#options.keys : undefined;
    const bytes = keys ? seal(keys.key(this.#options.self, full.dst), plain) : plain;
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
      const bytes = this.#open(raw, from);
      if (bytes === undefined) return;
      const r = decode(bytes);
      if (!r.ok) {
        if (trace.enabled) trace(`drop ${formatPeer(from)} ${r.reason} bytes=${bytes.byteLength} ${bytes.subarray(0, 100).toString('hex')}`);
        this.drop(`decode-${r.reason}` as const, from);
        return;
      }
      count(this.received, r.msg.type, bytes.byteLength);
      if (trace.enabled) trace(`recv ${formatPeer(from)} ${describe(r.msg, bytes.byteLength)}`);
      handler(r.msg, from, raw.byteLength);
    });
  }

  /** Authenticate and unseal (with a key), or refuse sealed datagrams (without). */
  #open(raw: Buffer, from: Peer): Buffer | undefined {
    const keys = this.#options.keys;
    const sealed = isSealed(raw);
    if (!keys) {
      if (!sealed) return raw;
      this.drop('sealed-without-key', from);
      return undefined;
    }
    if (!sealed) {
      this.drop('unsealed', from);
      this.#options.onUnsealed?.(raw, from);
      return undefined;
    }
    if (raw.byteLength < HEADER_SIZE + TAG_SIZE || raw.readUInt32BE(HDR_MAGIC) !== MAGIC) {
      this.drop('decode-short', from);
      return undefined;
    }
    const src = raw.readUInt16BE(HDR_SRC);
    const dst = raw.readUInt16BE(HDR_DST);
    if (!this.#options.acceptSrc(src) || (dst !== this.#options.self && dst !== NODE_ALL)) {
      this.drop('auth-unknown-route', from);
      return undefined;
    }
    const opened = open(keys.key(src, dst), raw);
    if (!opened.ok) {
      this.drop(`auth-${opened.reason}` as const, from);
      return undefined;
    }
    // spec §9.4: the replay window of this (src, dst), for the newest epoch seen.
    const epoch = raw.readUInt32BE(HDR_EPOCH);
    const pn = raw.readUInt16BE(HDR_PACKET_NUMBER + 2) * 0x1_0000_0000 + raw.readUInt32BE(HDR_PACKET_NUMBER + 4);
    const id = src * 0x10000 + dst;
    let w = this.#windows.get(id);
    if (w === undefined || seqGt(epoch, w.epoch)) {
      w = { epoch, window: new ReplayWindow() };
      this.#windows.set(id, w);
    } else if (seqLt(epoch, w.epoch)) {
      this.drop('auth-old-epoch', from);
      return undefined;
    }
    if (!w.window.accept(pn)) {
      this.drop('auth-replay', from);
      return undefined;
    }
    return opened.datagram;
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

  /** Hand DATA or COMMIT to a receiver and count what it refused. */
  deliver(receiver: { onDatagram(m: DataMessage | CommitMessage): 'ok' | 'duplicate' | 'invalid' | 'window' }, msg: DataMessage | CommitMessage, from: Peer): void {
    const r = receiver.onDatagram(msg);
    if (r === 'ok') return;
    this.drop(r === 'invalid' ? 'invalid-data' : r === 'window' ? 'beyond-window' : 'duplicate', from, r === 'invalid' ? 'warn' : 'debug');
  }
}
