/**
 * One UDP socket of `pdsm conformance`, playing a remote (or a stranger) against a master
 * under test: it sends datagrams crafted with the codec of src/udp/ (sealed when the run
 * has a PSK) and keeps everything that comes back, decoded, with its size on the wire.
 *
 * Packet numbers count per probe from 0 (spec §3): a probe is one (src, dst) stream of one
 * epoch as long as a case uses it so; a case that changes epoch or Src opens another probe.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { decode, encode, encodeUnchecked, type Message } from '../udp/codec.js';
import { HDR_TYPE } from '../udp/constants.js';
import { isHandshakeType, isSealed, open, openHandshake, seal, sealHandshake, type SessionKeys } from '../udp/seal.js';

/** A message before the probe gives it a packet number. */
export type Unnumbered = Message extends infer M ? (M extends Message ? Omit<M, 'packetNumber'> : never) : never;

export interface Target {
  host: string;
  port: number;
  family: 4 | 6;
  /** The pre-shared key (--psk-file), or null for an unsealed run. */
  psk: Buffer | null;
}

/** What arrived: the decoded message (null when it did not open or decode) and its size. */
export interface Arrival {
  msg: Message | null;
  bytes: number;
  /** Why it is null: the decoder's or opener's reason. */
  reason?: string;
  /** The datagram as it came (sealed, when sealed), its source and when it came (Date.now()). */
  raw?: Buffer;
  from?: { address: string; port: number };
  at?: number;
  /** WELCOMEs this probe had sent when it came: a session's datagrams share one count (§3: numbering may restart per session). */
  session?: number;
}

export class Probe {
  /** Called with every arrival of every probe of the run (`conformance master` tallies what the master sent). */
  static observe: ((a: Arrival, port: number) => void) | null = null;
  readonly #socket: Socket;
  #target: Target;
  readonly arrivals: Arrival[] = [];
  #taken = 0;
  #wake: (() => void) | null = null;
  #packetNumber = 0;
  #welcomes = 0;
  #inFlight = 0;
  /** Session keys once a WELCOME was accepted (with a PSK). */
  keys: SessionKeys | null = null;
  /** Bytes this probe sent (whole UDP payloads, sealed size with a PSK). */
  bytesSent = 0;
  /** The bytes of the last datagram sent, as they went on the wire (to replay them). */
  lastWire: Buffer = Buffer.alloc(0);

  private constructor(socket: Socket, target: Target) {
    this.#socket = socket;
    this.#target = target;
    socket.on('message', (b, rinfo) => this.#arrive(b, { address: rinfo.address, port: rinfo.port }));
  }

  /** A probe on a port of its own (`port` 0: any), sending to `target` (aim() changes it). */
  static async open(target: Target, bind: { address?: string; port?: number } = {}): Promise<Probe> {
    const socket = createSocket(target.family === 6 ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(bind.port ?? 0, bind.address, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new Probe(socket, target);
  }

  /** Send to another address and port from now on (`pdsm conformance remote` aims at the remote its HELLO came from). */
  aim(host: string, port: number): void {
    this.#target = { ...this.#target, host, port };
  }

  get port(): number {
    return this.#socket.address().port;
  }

  #arrive(b: Buffer, from: { address: string; port: number }): void {
    let plain: Buffer = b;
    const psk = this.#target.psk;
    const seen = { bytes: b.length, raw: b, from, at: Date.now(), session: this.#welcomes };
    if (psk !== null && isSealed(b)) {
      const opened = isHandshakeType(b[HDR_TYPE] ?? 0) ? openHandshake(psk, b) : this.keys ? open(this.keys.receive, b) : null;
      if (opened === null || !opened.ok) {
        this.#push({ msg: null, ...seen, reason: opened === null ? 'no-session-keys' : `open-${opened.reason}` });
        return;
      }
      plain = opened.datagram;
    }
    const r = decode(plain);
    this.#push(r.ok ? { msg: r.msg, ...seen } : { msg: null, ...seen, reason: `decode-${r.reason}` });
  }

  #push(a: Arrival): void {
    this.arrivals.push(a);
    Probe.observe?.(a, this.port);
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /** Encode (unchecked when `unchecked`: to craft what the codec would refuse), seal, send. Returns the bytes sent. */
  send(msg: Unnumbered, unchecked = false): number {
    return this.sendRaw(this.craft(msg, { unchecked }));
  }

  /**
   * The wire bytes of `msg` with the next packet number: encoded (unchecked: as the codec
   * would refuse it), changed by `mutate` while plain, then sealed as the run seals (or
   * under `key`; `key` null: left unsealed). Remembered as lastWire (to replay it).
   */
  craft(msg: Unnumbered, o: { unchecked?: boolean; key?: Buffer | null; mutate?: (plain: Buffer) => Buffer } = {}): Buffer {
    const full = { ...msg, packetNumber: this.#packetNumber++ } as Message;
    if (full.type === 'welcome') this.#welcomes++;
    let plain = o.unchecked ? encodeUnchecked(full) : encode(full);
    if (o.mutate) plain = o.mutate(plain);
    const psk = this.#target.psk;
    let wire: Buffer = plain;
    if (o.key !== undefined) {
      if (o.key !== null) wire = seal(o.key, plain);
    } else if (psk !== null) {
      if (isHandshakeType(plain[HDR_TYPE] ?? 0)) wire = sealHandshake(psk, plain, randomBytes(16));
      else if (this.keys) wire = seal(this.keys.send, plain);
    }
    this.lastWire = wire;
    return wire;
  }

  /** The packet number the next datagram takes; a probe that speaks for another may start above it (§9.4). */
  get packetNumber(): number {
    return this.#packetNumber;
  }

  set packetNumber(n: number) {
    this.#packetNumber = n;
  }

  /** Send bytes as they are (malformed datagrams). */
  sendRaw(bytes: Uint8Array): number {
    this.#inFlight++;
    this.#socket.send(bytes, this.#target.port, this.#target.host, () => this.#inFlight--);
    this.bytesSent += bytes.byteLength;
    return bytes.byteLength;
  }

  /** The next arrival (not yet taken) that `match` accepts, within `ms`; earlier non-matching ones are skipped. */
  async next<T extends Message>(match: (m: Message) => m is T, ms: number): Promise<T | undefined>;
  async next(match: (m: Message) => boolean, ms: number): Promise<Message | undefined>;
  async next(match: (m: Message) => boolean, ms: number): Promise<Message | undefined> {
    const deadline = Date.now() + ms;
    for (;;) {
      while (this.#taken < this.arrivals.length) {
        const a = this.arrivals[this.#taken++]!;
        if (a.msg !== null && match(a.msg)) return a.msg;
      }
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /**
   * The first arrival at index `from` or later that `match` accepts, within `ms`; takes
   * nothing (next() and collect() still see it). Its index too, to search on after it.
   */
  async find(match: (a: Arrival) => boolean, ms: number, from = 0): Promise<{ a: Arrival; index: number } | undefined> {
    const deadline = Date.now() + ms;
    for (let i = from; ;) {
      for (; i < this.arrivals.length; i++) if (match(this.arrivals[i]!)) return { a: this.arrivals[i]!, index: i };
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Everything that arrives from now for `ms` (and what arrived untaken before). */
  async collect(ms: number): Promise<Arrival[]> {
    const from = this.#taken;
    await new Promise((r) => setTimeout(r, ms));
    this.#taken = this.arrivals.length;
    return this.arrivals.slice(from);
  }

  /** Close once what was sent has left (at most 500 ms). */
  async close(): Promise<void> {
    for (let i = 0; i < 50 && this.#inFlight > 0; i++) await new Promise((r) => setTimeout(r, 10));
    this.#wake?.();
    this.#socket.close();
  }
}

/** Type guards for probe.next(). */
export const is =
  <K extends Message['type']>(type: K) =>
  (m: Message): m is Extract<Message, { type: K }> =>
    m.type === type;
