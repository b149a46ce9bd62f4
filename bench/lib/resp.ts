/**
 * A minimal Redis client for the benchmarks: RESP2 over node:net, pipelined, no dependency.
 *
 * Commands are encoded as RESP arrays of bulk strings into one Buffer (`RespEncoder`), written
 * with one `socket.write`, and their replies are parsed incrementally from the byte stream in
 * order. A pipeline resolves when all of its replies have arrived. Only what the benchmark
 * needs: simple strings, errors, integers, bulk strings and arrays of those (RESP2).
 */
import { connect, type Socket } from 'node:net';

export type Reply = string | number | null | Error | Reply[];

const CR = 13;
const LF = 10;

/** Encodes commands into a reusable buffer; `take()` returns the bytes and starts over. */
export class RespEncoder {
  #buf: Buffer;
  #len = 0;
  #count = 0;

  constructor(capacity = 64 * 1024) {
    this.#buf = Buffer.allocUnsafe(capacity);
  }

  get count(): number {
    return this.#count;
  }

  #ensure(extra: number): void {
    if (this.#len + extra <= this.#buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#len + extra));
    this.#buf.copy(bigger, 0, 0, this.#len);
    this.#buf = bigger;
  }

  /** Append one command, e.g. `add('INCRBY', 'c:1:2', 5)`. Arguments are ASCII. */
  add(...args: (string | number)[]): this {
    // One string per command, one latin1 write: cheaper than a write per piece.
    let s = `*${args.length}\r\n`;
    for (const a of args) {
      const v = typeof a === 'string' ? a : String(a);
      s += `$${v.length}\r\n${v}\r\n`;
    }
    this.#ensure(s.length);
    this.#len += this.#buf.write(s, this.#len, 'latin1');
    this.#count++;
    return this;
  }

  /** The encoded commands (a copy: the encoder's buffer is reused) and their number. */
  take(): { bytes: Buffer; count: number } {
    const out = { bytes: Buffer.from(this.#buf.subarray(0, this.#len)), count: this.#count };
    this.#len = 0;
    this.#count = 0;
    return out;
  }
}

interface Waiter {
  remaining: number;
  replies: Reply[];
  resolve(replies: Reply[]): void;
  reject(err: Error): void;
}

/**
 * Incremental RESP2 parser: `parse(buf, start)` returns the reply and the offset after it,
 * or undefined when the buffer ends before the reply does.
 */
function findCrlf(buf: Buffer, from: number): number {
  for (let i = from; i + 1 < buf.length; i++) if (buf[i] === CR && buf[i + 1] === LF) return i;
  return -1;
}

function parse(buf: Buffer, start: number): { reply: Reply; next: number } | undefined {
  if (start >= buf.length) return undefined;
  const type = buf[start];
  const eol = findCrlf(buf, start + 1);
  if (eol < 0) return undefined;
  const line = buf.toString('latin1', start + 1, eol);
  const after = eol + 2;
  switch (type) {
    case 0x2b: // '+'
      return { reply: line, next: after };
    case 0x2d: // '-'
      return { reply: new Error(line), next: after };
    case 0x3a: // ':'
      return { reply: Number(line), next: after };
    case 0x24: { // '$'
      const n = Number(line);
      if (n < 0) return { reply: null, next: after };
      if (after + n + 2 > buf.length) return undefined;
      return { reply: buf.toString('utf8', after, after + n), next: after + n + 2 };
    }
    case 0x2a: { // '*'
      const n = Number(line);
      if (n < 0) return { reply: null, next: after };
      const items: Reply[] = [];
      let at = after;
      for (let i = 0; i < n; i++) {
        const r = parse(buf, at);
        if (!r) return undefined;
        items.push(r.reply);
        at = r.next;
      }
      return { reply: items, next: at };
    }
    default:
      throw new Error(`RESP: unexpected type byte 0x${(type ?? 0).toString(16)}`);
  }
}

export class RespClient {
  readonly socket: Socket;
  readonly #waiters: Waiter[] = [];
  #pending: Buffer = Buffer.alloc(0);
  #closed: Error | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    const fail = (err: Error): void => {
      this.#closed ??= err;
      for (const w of this.#waiters.splice(0)) w.reject(err);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('RESP: connection closed')));
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RespClient(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Bytes written to and read from the socket so far (TCP payload). */
  get bytesWritten(): number {
    return this.socket.bytesWritten;
  }

  get bytesRead(): number {
    return this.socket.bytesRead;
  }

  #onData(chunk: Buffer): void {
    let buf = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    let at = 0;
    for (;;) {
      const w = this.#waiters[0];
      if (!w) break;
      const r = parse(buf, at);
      if (!r) break;
      at = r.next;
      w.replies.push(r.reply);
      if (--w.remaining === 0) {
        this.#waiters.shift();
        w.resolve(w.replies);
      }
    }
    buf = buf.subarray(at);
    // Keep the unparsed tail in a buffer of its own (not a view pinning a large chunk).
    this.#pending = buf.length ? Buffer.from(buf) : Buffer.alloc(0);
  }

  /**
   * Write `count` already encoded commands with one write; resolves with their replies in
   * order (errors as Error values, not rejections). The write itself is synchronous.
   */
  send(bytes: Buffer, count: number): Promise<Reply[]> {
    if (this.#closed) return Promise.reject(this.#closed);
    const p = new Promise<Reply[]>((resolve, reject) => this.#waiters.push({ remaining: count, replies: [], resolve, reject }));
    this.socket.write(bytes);
    return p;
  }

  /** One command, its reply (a reply error rejects). */
  async command(...args: (string | number)[]): Promise<Reply> {
    const { bytes, count } = new RespEncoder(256).add(...args).take();
    const [reply] = await this.send(bytes, count);
    if (reply instanceof Error) throw reply;
    return reply ?? null;
  }

  close(): void {
    this.socket.destroy();
  }
}
