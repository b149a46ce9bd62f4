/**
 * UDP endpoints for the daemons: IPv4 or IPv6 sockets, name resolution with errors that
 * name the host or port, and a paced send queue.
 *
 * Timing: Node's receive path tops out near 120k datagrams/s per process and the kernel
 * drops silently past it (RcvbufErrors in /proc/net/snmp). A full resync of a large segment
 * would blast far more than that, so DATA, COMMIT and DIGEST go through a token bucket per
 * destination (control datagrams do not, spec §7.9): at most `rate` datagrams per second
 * to each peer with bursts of `burst`, drained by one timer that exists only while some
 * queue is non-empty. Queues are bounded; past the bound the oldest queued datagrams are
 * dropped and counted (the reliability layer repairs them).
 */
import { createSocket, type Socket, type RemoteInfo } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { PdsmError } from '../errors.js';

export interface Peer {
  address: string;
  port: number;
}

export function peerKey(p: Peer): string {
  return `${p.address}|${p.port}`;
}

export function formatPeer(p: Peer): string {
  return p.address.includes(':') ? `[${p.address}]:${p.port}` : `${p.address}:${p.port}`;
}

/** Resolve `host` to one address of `family`; PDSM_ERR_NETWORK naming the host otherwise. */
export async function resolveHost(host: string, family: 4 | 6): Promise<string> {
  if (isIP(host) === family) return host;
  if (isIP(host) !== 0) {
    throw new PdsmError('PDSM_ERR_NETWORK', `${host} is an IPv${isIP(host)} address but the network side is IPv${family}`);
  }
  try {
    const r = await lookup(host, { family });
    return r.address;
  } catch (err) {
    throw new PdsmError(
      'PDSM_ERR_NETWORK',
      `cannot resolve ${host} to an IPv${family} address: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { cause: err },
    );
  }
}

/** All IPv4/IPv6 addresses of `host` (for the Clientname source check). */
export async function resolveAll(host: string, family: 4 | 6): Promise<string[]> {
  if (isIP(host) !== 0) return [host];
  try {
    return (await lookup(host, { family, all: true })).map((r) => r.address);
  } catch {
    return [];
  }
}

// Address literals <-> wire bytes (WELCOME's MULTICAST_GROUP option) live in address.ts.
export { addressBytes, addressText } from './address.js';

/**
 * The interface for multicast given by one of its addresses (--multicast-if): for IPv4 the
 * address itself, for IPv6 `::%name` as Node wants it. PDSM_ERR_NETWORK naming the address
 * when no interface has it: never a silent fallback to another interface.
 */
export function multicastInterface(address: string, family: 4 | 6): string {
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.address === address) return family === 4 ? address : `::%${name}`;
    }
  }
  throw new PdsmError('PDSM_ERR_NETWORK', `--multicast-if: no interface of this host has the address ${address}`);
}

const EMPTY = new Uint8Array(0);

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/**
 * The sockets' name lookup: an address literal (every peer the daemons send to) is answered
 * at once. Node's default goes through dns.lookup and a process.nextTick for every datagram
 * sent, about a tenth of the send path's CPU during a big resync (issue 12).
 */
function literalLookup(hostname: string, options: number | LookupOneOptions, callback: LookupCallback): void {
  const family = isIP(hostname);
  if (family !== 0) {
    callback(null, hostname, family);
    return;
  }
  dnsLookup(hostname, typeof options === 'number' ? { family: options } : options, callback);
}

export interface EndpointOptions {
  family: 4 | 6;
  /** Local address; default any. */
  address?: string;
  /** Local port; 0 for any. */
  port: number;
  /** Datagrams per second the pacer lets out to each destination (spec §12 Pace Rate, default 50000). */
  rate?: number;
  /** Burst the pacer allows each destination (spec §12 Pace Burst, default 256). */
  burst?: number;
  /** Most datagrams queued per destination before the oldest are dropped (default 65536). */
  queueLimit?: number;
  /** Requested kernel receive buffer, bytes (default 8 MiB; the kernel may cap it). */
  recvBufferSize?: number;
  /** Share the port with other sockets (multicast receivers on one host). */
  reuseAddr?: boolean;
}

/** One destination's token bucket and queue (spec §7.9: pacing is per destination). */
interface Lane {
  peer: Peer;
  queue: Uint8Array[];
  head: number;
  tokens: number;
  last: number;
}

export class UdpEndpoint {
  readonly socket: Socket;
  readonly family: 4 | 6;
  #rate: number;
  #burst: number;
  #queueLimit: number;
  readonly #lanes = new Map<string, Lane>();
  /** Lanes with datagrams waiting. */
  readonly #waiting = new Set<Lane>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Sends handed to the socket whose callback has not run yet. */
  #inFlight = 0;
  /** Counters: datagrams sent, dropped from a full queue, send errors. */
  readonly counters = { sent: 0, queueDropped: 0, sendErrors: 0, received: 0 };
  /** One completion callback for every send (no closure per datagram). */
  readonly #afterSend = (err: Error | null): void => {
    this.#inFlight--;
    if (err) this.counters.sendErrors++;
  };

  private constructor(socket: Socket, options: EndpointOptions) {
    this.socket = socket;
    this.family = options.family;
    this.#rate = options.rate ?? 50_000;
    this.#burst = options.burst ?? 256;
    this.#queueLimit = options.queueLimit ?? 65_536;
  }

  /** Bind a socket; PDSM_ERR_NETWORK naming the address and port when that fails. */
  static async bind(options: EndpointOptions): Promise<UdpEndpoint> {
    const socket = createSocket({ type: options.family === 6 ? 'udp6' : 'udp4', reuseAddr: options.reuseAddr ?? false, lookup: literalLookup });
    const address = options.address ?? (options.family === 6 ? '::' : '0.0.0.0');
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        socket.close();
        const what = options.port === 0 ? `address ${address}` : `port ${options.port} on ${address}`;
        const why =
          err.code === 'EADDRINUSE' ? 'is in use' : err.code === 'EADDRNOTAVAIL' ? 'is not an address of this host' : `cannot be bound: ${err.message}`;
        reject(new PdsmError('PDSM_ERR_NETWORK', `UDP ${what} ${why}`, { cause: err }));
      };
      socket.once('error', onError);
      socket.bind({ port: options.port, address, exclusive: !(options.reuseAddr ?? false) }, () => {
        socket.off('error', onError);
        resolve();
      });
    });
    const size = options.recvBufferSize ?? 8 * 1024 * 1024;
    try {
      socket.setRecvBufferSize(size);
      socket.setSendBufferSize(Math.min(size, 4 * 1024 * 1024));
    } catch {
      // The kernel caps these at rmem_max/wmem_max; a smaller buffer still works.
    }
    return new UdpEndpoint(socket, options);
  }

  get localPort(): number {
    return this.socket.address().port;
  }

  onMessage(handler: (msg: Buffer, from: Peer) => void): void {
    this.socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
      this.counters.received++;
      handler(msg, { address: rinfo.address, port: rinfo.port });
    });
  }

  /** Send at once, bypassing the pacer: small control datagrams (spec §7.9). */
  sendNow(buf: Uint8Array, peer: Peer): void {
    if (this.#closed) return;
    this.counters.sent++;
    this.#inFlight++;
    this.socket.send(buf, peer.port, peer.address, this.#afterSend);
  }

  /** Queue a datagram for `peer`; that destination's pacer sends it. */
  send(buf: Uint8Array, peer: Peer): void {
    if (this.#closed) return;
    const key = peerKey(peer);
    let lane = this.#lanes.get(key);
    if (lane === undefined) {
      if (this.#lanes.size >= 8192) this.#forgetIdleLanes();
      lane = { peer, queue: [], head: 0, tokens: this.#burst, last: performance.now() };
      this.#lanes.set(key, lane);
    }
    if (lane.queue.length - lane.head >= this.#queueLimit) {
      lane.head++;
      this.counters.queueDropped++;
    }
    lane.queue.push(buf);
    this.#waiting.add(lane);
    this.#drain();
  }

  /** Datagrams waiting in the pacers. */
  get queued(): number {
    let n = 0;
    for (const lane of this.#waiting) n += lane.queue.length - lane.head;
    return n;
  }

  #forgetIdleLanes(): void {
    for (const [key, lane] of this.#lanes) if (!this.#waiting.has(lane)) this.#lanes.delete(key);
  }

  #drain(): void {
    const now = performance.now();
    for (const lane of this.#waiting) {
      lane.tokens = Math.min(this.#burst, lane.tokens + ((now - lane.last) * this.#rate) / 1000);
      lane.last = now;
      while (lane.head < lane.queue.length && lane.tokens >= 1) {
        const buf = lane.queue[lane.head]!;
        lane.queue[lane.head++] = EMPTY;
        lane.tokens -= 1;
        this.counters.sent++;
        this.#inFlight++;
        this.socket.send(buf, lane.peer.port, lane.peer.address, this.#afterSend);
      }
      if (lane.head === lane.queue.length) {
        lane.queue = [];
        lane.head = 0;
        this.#waiting.delete(lane);
      } else if (lane.head > 4096) {
        lane.queue = lane.queue.slice(lane.head);
        lane.head = 0;
      }
    }
    if (this.#timer === undefined && this.#waiting.size > 0) {
      this.#timer = setTimeout(
        () => {
          this.#timer = undefined;
          this.#drain();
        },
        Math.max(1, Math.ceil(1000 / this.#rate)),
      );
    }
  }

  /** Send what is queued (bounded by `timeoutMs`), then close. */
  async close(timeoutMs = 1000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    // Closing a socket drops sends still in flight: wait for the queue and the callbacks.
    while ((this.queued > 0 || this.#inFlight > 0) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}
