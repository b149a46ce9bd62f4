/**
 * Joining cases of `pdsm conformance remote` (spec §4, §6.2, §7.1, §9.6): the remote's
 * HELLO and its retransmission, what it does with WELCOMEs right and wrong, the COOKIE echo,
 * the session MTU, its first RO batch and its rejoining with a new epoch.
 */
import { MIN_MTU, NODE_MASTER } from '../udp/constants.js';
import type { CommitMessage, DataMessage, HeartbeatMessage, Message } from '../udp/codec.js';
import { toWire } from '../segments/word-codec.js';
import { fail, pass, skip, type Outcome, type RemoteCase, type RemoteContext } from './case.js';
import { attachUnderTest, firstDiff, isHelloArrival, nextHello, ofSession, sendWelcome, up, upFrom, welcomeFor, type Up } from './master-play.js';
import { ANSWER_MS } from './session.js';

const hex16 = (b: Uint8Array | null | undefined): string => (b ? Buffer.from(b).toString('hex') : 'none');

/** With the session up, run `f`, and end the session whatever happens. */
export async function withUp(ctx: RemoteContext, f: (u: Up) => Promise<Outcome>, over = {}): Promise<Outcome> {
  const u = await up(ctx, over);
  if (typeof u === 'string') return fail('a session to start from', u);
  try {
    return await f(u);
  } finally {
    await u.end();
  }
}

/** The first COMMIT of the remote's RO flow in the session, with the DATA before it. */
export async function firstRoBatch(u: Up, ms = 3 * ANSWER_MS): Promise<{ data: DataMessage[]; commit: CommitMessage } | undefined> {
  const inSession = ofSession(u.hello, u.helloArrival.from);
  const c = await u.ctx.probe.find((a) => inSession(a) && a.msg?.type === 'commit' && a.msg.flow === 'ro', ms, u.since);
  if (c === undefined) return undefined;
  const data = u.ctx.probe.arrivals.slice(u.since, c.index).flatMap((a) => (inSession(a) && a.msg?.type === 'data' && a.msg.flow === 'ro' ? [a.msg] : []));
  return { data, commit: c.a.msg as CommitMessage };
}

/**
 * Nothing but HELLOs of the remote's epoch `epoch` for `ms`: no HEARTBEAT, no session datagram.
 * A late datagram of the session before (another epoch) does not count.
 */
async function onlyHellos(ctx: RemoteContext, from: number, ms: number, epoch: number): Promise<Message | undefined> {
  const got = await ctx.probe.find((a) => a.msg !== null && a.msg.type !== 'hello' && a.msg.epoch === epoch, ms, from);
  return got?.a.msg ?? undefined;
}

export const REMOTE_JOIN_CASES: RemoteCase[] = [
  {
    id: 'hello-fields',
    section: '4.1',
    requirement:
      'A remote MUST say HELLO that decodes, with Dst = MASTER, versions including 2, a 16-byte NONCE (Version Max >= 2), within its own MTU; with -d, Seg Size and Word Size as its segments have them.',
    async run(ctx) {
      const f = await ctx.probe.find(isHelloArrival, ctx.firstHelloMs, ctx.cursor);
      if (f === undefined) return fail('a HELLO', `nothing within ${ctx.firstHelloMs} ms (--wait)`);
      ctx.cursor = f.index;
      const a = f.a;
      if (a.msg === null || a.msg.type !== 'hello') return fail('a HELLO that decodes (§10.1)', `${a.bytes} bytes that do not: ${a.reason ?? '?'}`);
      const h = a.msg;
      if (h.dst !== NODE_MASTER) return fail('Dst 0xffff', `Dst ${h.dst}`);
      if (h.versionMin > 2 || h.versionMax < 2) return fail('versions including 2', `${h.versionMin}..${h.versionMax}`);
      if (!h.nonce || h.nonce.byteLength !== 16) return fail('a 16-byte NONCE', hex16(h.nonce));
      if (a.bytes > h.mtu) return fail(`a HELLO of at most its MTU, ${h.mtu} bytes`, `${a.bytes} bytes`);
      if (ctx.psk !== null && (a.raw?.[6] ?? 0) < 0x80) return fail('a sealed HELLO (a PSK is set)', 'an unsealed one');
      const node = attachUnderTest(ctx, h);
      if (node !== null) {
        try {
          if (node.mo.length !== h.segSize) return fail(`Seg Size ${node.mo.length} (its MO)`, `${h.segSize}`);
          if (node.wordSize !== h.wordSize) return fail(`Word Size ${node.wordSize} (its registry)`, `${h.wordSize}`);
        } finally {
          node.detach();
        }
      }
      return pass;
    },
  },
  {
    id: 'hello-retransmitted',
    section: '4.6',
    requirement:
      'A remote MUST resend an unanswered HELLO, not sooner than 250 ms, with the same Epoch, NONCE and RO Next Seq (§9.2) and, sealed, a new Salt (§9.3).',
    async run(ctx) {
      const first = await nextHello(ctx, ctx.firstHelloMs);
      if (first === undefined) return fail('a HELLO', 'none');
      const again = await ctx.probe.find(isHelloArrival, 13_000, ctx.cursor);
      if (again === undefined) return fail('the HELLO again within 13 s (500 ms doubling to 8 s, x1.5 at most)', 'nothing');
      ctx.cursor = again.index;
      const h = first.hello;
      const r = again.a.msg;
      if (r === null || r.type !== 'hello') return fail('a HELLO that decodes', again.a.reason ?? '?');
      const gap = again.a.at! - first.a.at!;
      if (gap < 200) return fail('at least 250 ms between HELLOs (§4.6)', `${gap} ms`);
      if (r.epoch !== h.epoch) return fail(`Epoch ${h.epoch} again`, `${r.epoch}`);
      if (hex16(r.nonce) !== hex16(h.nonce)) return fail(`NONCE ${hex16(h.nonce)} again`, hex16(r.nonce));
      if (r.roNextSeq !== h.roNextSeq) return fail(`RO Next Seq ${h.roNextSeq} again`, `${r.roNextSeq}`);
      if (ctx.psk !== null && first.a.raw!.subarray(24, 40).equals(again.a.raw!.subarray(24, 40))) return fail('a new Salt', 'the same Salt');
      return pass;
    },
  },
  {
    id: 'welcome-other-epoch-ignored',
    section: '4.6',
    requirement:
      'A remote MUST ignore a WELCOME whose Remote Epoch is not its own epoch: no HEARTBEAT, no session; the WELCOME for its epoch then starts the session.',
    async run(ctx) {
      const got = await nextHello(ctx, ctx.firstHelloMs);
      if (got === undefined) return fail('a HELLO', 'none');
      const h = got.hello;
      const from = ctx.probe.arrivals.length;
      sendWelcome(ctx, h, welcomeFor(ctx, h, { remoteEpoch: (h.epoch + 0x5a5a) >>> 0 || 1 }));
      const bad = await onlyHellos(ctx, from, ANSWER_MS, h.epoch);
      if (bad !== undefined) return fail('nothing but HELLOs', bad.type.toUpperCase());
      const u = await upFrom(ctx, got.a, h);
      if (typeof u === 'string') return skip(`the WELCOME for its own epoch did not work either (${u}), so the silence proves nothing`);
      await u.end();
      return pass;
    },
  },
  {
    id: 'welcome-without-cookie-dropped',
    section: '10.4',
    requirement:
      'A remote MUST drop a WELCOME of version 2 that lacks COOKIE (or NONCE): no HEARTBEAT, no session; the WELCOME with both then starts the session.',
    async run(ctx) {
      const got = await nextHello(ctx, ctx.firstHelloMs);
      if (got === undefined) return fail('a HELLO', 'none');
      const h = got.hello;
      for (const lacking of ['cookie', 'nonce'] as const) {
        const from = ctx.probe.arrivals.length;
        // Unchecked: the codec refuses to encode such a WELCOME. No session keys are taken from it.
        ctx.probe.send(welcomeFor(ctx, h, { [lacking]: null }), true);
        const bad = await onlyHellos(ctx, from, ANSWER_MS, h.epoch);
        if (bad !== undefined) return fail(`nothing but HELLOs after a WELCOME without ${lacking.toUpperCase()}`, bad.type.toUpperCase());
      }
      const u = await upFrom(ctx, got.a, h);
      if (typeof u === 'string') return skip(`the WELCOME with both did not work either (${u}), so the silence proves nothing`);
      await u.end();
      return pass;
    },
  },
  {
    id: 'cookie-echoed',
    section: '9.6',
    requirement: 'A remote MUST echo the WELCOME’s COOKIE in every HEARTBEAT of the session (flag COOKIE, the 16 bytes after the flow entries).',
    run: (ctx) =>
      withUp(ctx, async (u) => {
        await new Promise((r) => setTimeout(r, 3 * u.welcome.heartbeatMs + 100));
        const beats = ctx.probe.arrivals
          .slice(u.since)
          .filter(ofSession(u.hello, u.helloArrival.from))
          .flatMap((a) => (a.msg?.type === 'heartbeat' ? [a.msg] : []));
        const want = hex16(u.welcome.cookie);
        const wrong = beats.find((b: HeartbeatMessage) => hex16(b.cookie) !== want);
        if (wrong !== undefined) return fail(`COOKIE ${want} in every HEARTBEAT`, `a HEARTBEAT with ${hex16(wrong.cookie)}`);
        return beats.length >= 2 ? pass : fail('a HEARTBEAT every Heartbeat Ms', `${beats.length} in ${3 * u.welcome.heartbeatMs} ms`);
      }),
  },
  {
    id: 'goodbye-new-epoch-hello',
    section: '7.1',
    requirement: 'A remote MUST take a new epoch, and a new NONCE (§9.2), before it says HELLO again after its session ended (here: GOODBYE from the master).',
    async run(ctx) {
      const u = await up(ctx);
      if (typeof u === 'string') return fail('a session to start from', u);
      await u.end();
      const next = await nextHello(ctx, 5000);
      if (next === undefined) return fail('a HELLO after GOODBYE (§4.4: at once)', 'none within 5 s');
      if (next.hello.epoch === u.hello.epoch) return fail('a new Epoch', `Epoch ${next.hello.epoch} again`);
      if (hex16(next.hello.nonce) === hex16(u.hello.nonce)) return fail('a new NONCE', 'the old one');
      ctx.cursor = next.index; // the next case takes this HELLO
      return pass;
    },
  },
  {
    id: 'large-welcome-accepted',
    section: '5.3',
    requirement:
      'A remote MUST accept a datagram of any size up to 65507 bytes whatever its MTU, skipping unknown options (§4.5): a WELCOME of about 1,600 bytes starts the session.',
    async run(ctx) {
      const options = Array.from({ length: 6 }, (_, i) => ({ type: 200 + i, value: new Uint8Array(255).fill(0x61 + i) }));
      const u = await up(ctx, { options });
      if (typeof u === 'string') return fail('a HEARTBEAT for the large WELCOME', u);
      await u.end();
      return pass;
    },
  },
  {
    id: 'session-mtu-kept',
    section: '4.2',
    requirement: 'A remote MUST keep every datagram within the session MTU (WELCOME MTU): with a WELCOME MTU of 576, its FULL RO batch and HEARTBEATs too.',
    run: (ctx) =>
      withUp(
        ctx,
        async (u) => {
          const b = await firstRoBatch(u);
          if (b === undefined) return fail('the FULL RO batch (§7.1)', 'no RO COMMIT within 3 s');
          await new Promise((r) => setTimeout(r, 2 * u.welcome.heartbeatMs));
          const over = ctx.probe.arrivals.slice(u.since).filter((a) => ofSession(u.hello, u.helloArrival.from)(a) && a.bytes > MIN_MTU);
          if (over.length === 0) return pass;
          return fail(`no datagram over ${MIN_MTU} bytes`, `${over.length}, the first ${over[0]!.bytes} bytes (${over[0]!.msg!.type})`);
        },
        { mtu: MIN_MTU },
      ),
  },
  {
    id: 'ro-first-batch-full',
    section: '7.1',
    requirement:
      'A remote MUST start RO with a FULL and REPLACES batch from its HELLO’s RO Next Seq: whole pages, every DATA with its COMMIT’s Batch Id; with -d, the bytes of its RO.',
    run: (ctx) =>
      withUp(ctx, async (u) => {
        const b = await firstRoBatch(u);
        if (b === undefined) return fail('a FULL RO batch', 'no RO COMMIT within 3 s');
        const { commit: c, data } = b;
        const ps = u.hello.pageSize;
        const pages = u.hello.segSize / ps;
        if (!c.full || !c.replaces) return fail('COMMIT with FULL and REPLACES', `full ${c.full}, replaces ${c.replaces}`);
        const first = (c.seq - c.dataCount) >>> 0;
        if (first !== u.hello.roNextSeq) return fail(`first sequence ${u.hello.roNextSeq} (RO Next Seq)`, `${first}`);
        if (c.pageCount !== pages) return fail(`Page Count ${pages}`, `${c.pageCount}`);
        if (data.length !== c.dataCount) return skip(`${data.length} of ${c.dataCount} DATA arrived (loss?)`);
        const other = data.find((d) => d.batchId !== c.batchId);
        if (other !== undefined) return fail(`Batch Id ${c.batchId} in every DATA`, `DATA ${other.seq} with ${other.batchId}`);
        const seen = Buffer.alloc(u.hello.segSize);
        const covered = new Map<number, number>();
        for (const d of data) {
          const at = covered.get(d.page) ?? 0;
          if (d.offset !== at) return fail(`page ${d.page}: consecutive ranges from 0 (§5.3)`, `a range at ${d.offset} where ${at} was next`);
          covered.set(d.page, at + d.payload.byteLength);
          seen.set(d.payload, d.page * ps + d.offset);
        }
        for (let p = 0; p < pages; p++) if (covered.get(p) !== ps) return fail(`page ${p} covered whole`, `${covered.get(p) ?? 0} of ${ps} bytes`);
        const node = attachUnderTest(ctx, u.hello);
        if (node === null) return pass;
        try {
          const native = Buffer.from(node.ro);
          const want = Buffer.alloc(native.length);
          toWire(native, want, u.hello.wordSize);
          return seen.equals(want) ? pass : fail('its RO in the network-neutral form (§5.3)', firstDiff(seen, want, ps));
        } finally {
          node.detach();
        }
      }),
  },
];
