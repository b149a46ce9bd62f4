/**
 * The master side of a session, as `pdsm conformance remote` plays it against a remote
 * under test: take the remote's HELLO on the master port, answer WELCOME (sealed with a
 * PSK, and the session keys derived as a master derives them, §9.2), wait for the
 * HEARTBEAT that echoes the COOKIE, keep the session alive with HEARTBEATs, send MO
 * batches cut as §5.3 says (or broken on purpose), and end it with GOODBYE, after which the
 * remote says HELLO again with a new epoch (§4.4), ready for the next case.
 */
import { randomBytes } from 'node:crypto';
import { attachRemote, type RemoteNode } from '../index.js';
import { toWire, type WordSize } from '../segments/word-codec.js';
import type { DataMessage, HeartbeatMessage, HelloMessage, Message, WelcomeMessage } from '../udp/codec.js';
import { TYPE_HELLO, NODE_MASTER } from '../udp/constants.js';
import { deriveSessionKeys, freshNonce } from '../udp/seal.js';
import type { RemoteContext } from './case.js';
import type { Arrival, Unnumbered } from './probe.js';
import { ANSWER_MS } from './session.js';

/** The session timers this master offers (WELCOME): short, so that cases see several periods. */
export const HEARTBEAT_MS = 200;
export const LIVENESS_MS = 5000;
/** MO Next Seq of every session: just below 2^32, so batches cross the wrap (§7.2). */
export const MO_FIRST_SEQ = 0xffff_fffa;
/** Largest segment the MO cases send whole (a FULL batch is one burst here, unpaced). */
export const MAX_MO_BYTES = 4 << 20;

export type UData = Omit<DataMessage, 'packetNumber'>;
export type UWelcome = Omit<WelcomeMessage, 'packetNumber'>;

export const isHelloArrival = (a: Arrival): boolean => (a.raw?.[5] ?? 0) === TYPE_HELLO;

/** The remote's next HELLO (a new one, not of a session this run ended), aimed at; or undefined. */
export async function nextHello(ctx: RemoteContext, ms: number): Promise<{ a: Arrival; hello: HelloMessage; index: number } | undefined> {
  const f = await ctx.probe.find((a) => a.msg?.type === 'hello' && !ctx.spent.has(a.msg.epoch), ms, ctx.cursor);
  if (f === undefined) return undefined;
  ctx.cursor = f.index + 1;
  ctx.probe.aim(f.a.from!.address, f.a.from!.port);
  return { a: f.a, hello: f.a.msg as HelloMessage, index: f.index };
}

export function welcomeFor(ctx: RemoteContext, h: HelloMessage, over: Partial<WelcomeMessage> = {}): UWelcome {
  return {
    type: 'welcome',
    src: NODE_MASTER,
    dst: h.src,
    epoch: ctx.masterEpoch,
    remoteEpoch: h.epoch,
    pageSize: h.pageSize,
    segSize: h.segSize,
    bcSize: 0,
    moNextSeq: MO_FIRST_SEQ,
    bcNextSeq: 0,
    intervalMs: 100,
    heartbeatMs: HEARTBEAT_MS,
    livenessMs: LIVENESS_MS,
    clientCount: h.src + 1,
    mtu: Math.min(h.mtu, 1200),
    version: 2,
    wordSize: h.wordSize,
    bcMode: 'none',
    multicast: null,
    nonce: freshNonce(),
    cookie: randomBytes(16),
    groupNonce: null,
    options: [],
    ...over,
  } as UWelcome;
}

/** Say WELCOME `w` to the HELLO `h` and take the session keys (with a PSK). */
export function sendWelcome(ctx: RemoteContext, h: HelloMessage, w: UWelcome): number {
  const sent = ctx.probe.send(w);
  if (ctx.psk !== null && w.remoteEpoch === h.epoch && h.nonce && w.nonce) {
    const secrets = { clientId: h.src, helloNonce: h.nonce, welcomeNonce: w.nonce, remoteEpoch: h.epoch, masterEpoch: w.epoch };
    ctx.probe.keys = deriveSessionKeys(ctx.psk, secrets, 'master');
  }
  return sent;
}

/** A datagram of the session (Src = the client id, Epoch = the HELLO's, from the session address). */
export const ofSession =
  (h: HelloMessage, from: Arrival['from']) =>
  (a: Arrival): boolean =>
    a.msg !== null &&
    a.msg.type !== 'hello' &&
    a.msg.src === h.src &&
    a.msg.epoch === h.epoch &&
    a.from?.port === from?.port &&
    a.from?.address === from?.address;

export interface Up {
  ctx: RemoteContext;
  hello: HelloMessage;
  helloArrival: Arrival;
  welcome: UWelcome;
  /** The first HEARTBEAT of the session, and its index in the arrivals. */
  firstBeat: HeartbeatMessage;
  firstBeatIndex: number;
  /** Index of the first arrival after the WELCOME went out. */
  since: number;
  /** Next MO sequence number and batch id to send. */
  seq: number;
  batchId: number;
  /** Highest MO sequence number sent, for the HEARTBEAT (§6.2). */
  highest: number;
  /** Send one master HEARTBEAT now (Epoch, Highest Seq overridable). */
  beat(over?: Partial<HeartbeatMessage>): void;
  /** Stop heartbeating, send GOODBYE shutdown; the remote's HELLOs after it are the next case's. */
  end(): Promise<void>;
}

/**
 * Take the next HELLO, answer WELCOME (with `over`), wait for the first HEARTBEAT of the
 * session and heartbeat every HEARTBEAT_MS from then. A reason when it did not work.
 */
export async function up(ctx: RemoteContext, over: Partial<WelcomeMessage> = {}, waitMs = ctx.firstHelloMs): Promise<Up | string> {
  const got = await nextHello(ctx, waitMs);
  if (got === undefined) return `no HELLO from the remote within ${waitMs} ms`;
  return upFrom(ctx, got.a, got.hello, over);
}

export async function upFrom(ctx: RemoteContext, helloArrival: Arrival, h: HelloMessage, over: Partial<WelcomeMessage> = {}): Promise<Up | string> {
  const w = welcomeFor(ctx, h, over);
  const since = ctx.probe.arrivals.length;
  sendWelcome(ctx, h, w);
  const inSession = ofSession(h, helloArrival.from);
  const beat = await ctx.probe.find((a) => inSession(a) && a.msg?.type === 'heartbeat', 3 * ANSWER_MS, since);
  if (beat === undefined) {
    await goodbye(ctx, h);
    return `no HEARTBEAT of the session within ${3 * ANSWER_MS} ms of WELCOME`;
  }
  const beating: { timer?: NodeJS.Timeout } = {};
  const u: Up = {
    ctx,
    hello: h,
    helloArrival,
    welcome: w,
    firstBeat: beat.a.msg as HeartbeatMessage,
    firstBeatIndex: beat.index,
    since,
    seq: w.moNextSeq,
    batchId: 7,
    highest: (w.moNextSeq - 1) >>> 0,
    beat(o = {}) {
      ctx.probe.send({
        type: 'heartbeat',
        src: NODE_MASTER,
        dst: h.src,
        epoch: ctx.masterEpoch,
        timestamp: Number(process.hrtime.bigint() / 1000n) >>> 0,
        echo: null,
        wantBcUnicast: false,
        flows: [{ flow: 'mo', highestSeq: u.highest }],
        cookie: null,
        ...o,
      } as Unnumbered);
    },
    async end() {
      clearInterval(beating.timer);
      await goodbye(ctx, h);
    },
  };
  u.beat();
  beating.timer = setInterval(() => u.beat(), HEARTBEAT_MS);
  return u;
}

/** GOODBYE shutdown to the session of `h`; its HELLOs are spent (late copies are not the next session's). */
async function goodbye(ctx: RemoteContext, h: HelloMessage): Promise<void> {
  ctx.spent.add(h.epoch);
  ctx.probe.send({ type: 'goodbye', src: NODE_MASTER, dst: h.src, epoch: ctx.masterEpoch, reason: 'shutdown' });
  ctx.probe.keys = null;
  await new Promise((r) => setTimeout(r, 20));
}

/** The payload bytes per DATA (§5.3): MTU - 40 (- 16 sealed), down to a multiple of W, at most a page. */
export function rangeBytes(u: Up): number {
  const p = u.welcome.mtu - 40 - (u.ctx.psk ? 16 : 0);
  return Math.min(u.hello.pageSize, p - (p % u.hello.wordSize));
}

export interface Batch {
  data: UData[];
  commit: Unnumbered;
  first: number;
}

/** The next MO batch of `pages`, their wire-form bytes taken from `wire` (a whole segment). Advances seq and batch id. */
export function batch(
  u: Up,
  pages: number[],
  wire: Buffer,
  flags: { full?: boolean; replaces?: boolean; cut?: (i: number, step: number) => number } = {},
): Batch {
  const ps = u.hello.pageSize;
  const step = rangeBytes(u);
  const first = u.seq;
  const data: UData[] = [];
  const w = u.hello.wordSize;
  for (const page of pages) {
    // Range i of a page is `cut(i, P)` bytes (a multiple of W, at most P), or P (§5.3).
    for (let off = 0, i = 0; off < ps; i++) {
      const len = Math.min(ps - off, flags.cut === undefined ? step : Math.max(w, Math.min(step, flags.cut(i, step))));
      const payload = wire.subarray(page * ps + off, page * ps + off + len);
      data.push({
        type: 'data',
        src: NODE_MASTER,
        dst: u.hello.src,
        epoch: u.ctx.masterEpoch,
        flow: 'mo',
        seq: u.seq,
        batchId: u.batchId,
        page,
        offset: off,
        payload,
      } as UData);
      u.seq = (u.seq + 1) >>> 0;
      off += len;
    }
  }
  const commit = {
    type: 'commit',
    src: NODE_MASTER,
    dst: u.hello.src,
    epoch: u.ctx.masterEpoch,
    flow: 'mo',
    seq: u.seq,
    batchId: u.batchId,
    dataCount: data.length,
    pageCount: pages.length,
    replaces: flags.replaces ?? false,
    full: flags.full ?? false,
  } as Unnumbered;
  u.seq = (u.seq + 1) >>> 0;
  u.batchId = (u.batchId + 1) >>> 0;
  return { data, commit, first };
}

/** Send datagrams of the session in order (yielding now and then, so the remote's socket keeps up), marking the highest sequence sent. */
export async function sendAll(u: Up, msgs: Unnumbered[], unchecked = false): Promise<void> {
  let n = 0;
  for (const m of msgs) {
    u.ctx.probe.send(m, unchecked);
    const seq = (m as { seq?: number }).seq;
    if (seq !== undefined && ((seq - u.highest) | 0) > 0) u.highest = seq;
    if (++n % 64 === 0) await new Promise((r) => setTimeout(r, 2));
  }
}

export const allPages = (u: Up): number[] => Array.from({ length: u.hello.segSize / u.hello.pageSize }, (_, i) => i);

/** A whole segment of random bytes (wire form). */
export const randomSegment = (u: Up): Buffer => randomBytes(u.hello.segSize);

/** The FULL+REPLACES batch a session starts MO with (§7.1), of `wire`. */
export async function sendFull(u: Up, wire: Buffer): Promise<Batch> {
  const b = batch(u, allPages(u), wire, { full: true, replaces: true });
  await sendAll(u, [...b.data, b.commit]);
  return b;
}

/** The remote's segments through its registry file (-d), read-only; null without -d. */
export function attachUnderTest(ctx: RemoteContext, h: HelloMessage): RemoteNode | null {
  if (ctx.registryDir === null) return null;
  return attachRemote({ registryDir: ctx.registryDir, clientId: h.src, readOnly: true });
}

/** The remote's MO as a whole batch shows it, in wire form (W-byte words big-endian, §5.3). */
export function moWire(node: RemoteNode, w: WordSize): Buffer {
  const native = node.readConsistent('mo', () => Buffer.from(node.mo));
  const wire = Buffer.alloc(native.length);
  toWire(native, wire, w);
  return wire;
}

/** Where two segments first differ, for "seen". */
export function firstDiff(seen: Buffer, want: Buffer, pageSize: number): string {
  const at = seen.findIndex((b, i) => b !== want[i]);
  if (at < 0) return seen.length === want.length ? 'equal' : `${seen.length} bytes for ${want.length}`;
  return `byte ${at} (page ${Math.floor(at / pageSize)}) is 0x${seen[at]!.toString(16)}, not 0x${want[at]!.toString(16)}`;
}

/** Poll the remote's MO until `ok` says yes (true) or `ms` pass (false); `each` sees every sample. */
export async function watchMo(node: RemoteNode, w: WordSize, ms: number, ok: (wire: Buffer) => boolean, each?: (wire: Buffer) => void): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (let i = 0; i < 10_000; i++) {
    const wire = moWire(node, w);
    each?.(wire);
    if (ok(wire)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

/** Arrivals of the session from index `from` that `match` accepts, decoded. */
export function sessionMessages<T extends Message>(u: Up, from: number, match: (m: Message) => m is T): T[] {
  const inSession = ofSession(u.hello, u.helloArrival.from);
  return u.ctx.probe.arrivals.slice(from).flatMap((a) => (inSession(a) && match(a.msg!) ? [a.msg as T] : []));
}
