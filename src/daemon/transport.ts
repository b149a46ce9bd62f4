/**
 * A daemon's wire: encode and send typed messages, receive and decode datagrams, count
 * what was dropped and why, and trace every datagram with `PDSM_DEBUG=pdsm:udp`.
 *
 * Packet numbers (spec §3): one counter per daemon process and epoch, incremented for
 * every datagram sent, retransmissions included, so (epoch, packet number) never repeats
 * for this sender whatever the destination.
 *
 * Drops are counted by reason and logged at most once per second per reason, so junk
 * traffic cannot flood the log.
 */
import type { Logger } from '../log.js';
import { tracer } from '../log.js';
import { decode, encodeUnchecked, type CommitMessage, type DataMessage, type Message } from '../udp/codec.js';
import { formatPeer, type Peer, type UdpEndpoint } from '../udp/socket.js';

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

export class Transport {
  readonly endpoint: UdpEndpoint;
  readonly #log: Logger;
  #packetNumber = 0;
  #epoch: number;
  readonly drops = new Map<string, number>();
  readonly #lastLogged = new Map<string, number>();
  /** Datagrams and bytes by message type, each way. */
  readonly sent = new Map<string, { datagrams: number; bytes: number }>();
  readonly received = new Map<string, { datagrams: number; bytes: number }>();

  constructor(endpoint: UdpEndpoint, log: Logger, epoch: number) {
    this.endpoint = endpoint;
    this.#log = log;
    this.#epoch = epoch;
  }

  get epoch(): number {
    return this.#epoch;
  }

  /** Encode `msg` with this daemon's next packet number and queue it for `peer`. */
  send(msg: Outgoing, peer: Peer): void {
    const full = { ...msg, packetNumber: this.#packetNumber++ } as Message;
    const bytes = encodeUnchecked(full);
    count(this.sent, full.type, bytes.byteLength);
    if (trace.enabled) trace(`send ${formatPeer(peer)} ${describe(full, bytes.byteLength)}`);
    // spec §7.9: page content is paced; control datagrams are not.
    if (full.type === 'data' || full.type === 'commit' || full.type === 'digest') this.endpoint.send(bytes, peer);
    else this.endpoint.sendNow(bytes, peer);
  }

  /**
   * Deliver every datagram that decodes to `handler`; count and drop the rest. `endpoint`
   * defaults to the sending one (a remote also listens on its multicast socket).
   */
  listen(handler: (msg: Message, from: Peer) => void, endpoint: UdpEndpoint = this.endpoint): void {
    endpoint.onMessage((bytes, from) => {
      const r = decode(bytes);
      if (!r.ok) {
        if (trace.enabled) trace(`drop ${formatPeer(from)} ${r.reason} bytes=${bytes.byteLength} ${bytes.subarray(0, 100).toString('hex')}`);
        this.drop(`decode-${r.reason}`, from);
        return;
      }
      count(this.received, r.msg.type, bytes.byteLength);
      if (trace.enabled) trace(`recv ${formatPeer(from)} ${describe(r.msg, bytes.byteLength)}`);
      handler(r.msg, from);
    });
  }

  /**
   * Count a dropped datagram; log the reason at most once per second. Drops that loss and
   * retransmission make normal (duplicates, data racing ahead of a WELCOME) log at debug.
   */
  drop(reason: string, from?: Peer, level: 'warn' | 'debug' = 'warn'): void {
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
