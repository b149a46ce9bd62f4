/**
 * Handshake cases of `pdsm conformance master` (spec §4, §10.4): what a master answers to
 * HELLOs, valid and not, and that it answers nothing else before admission.
 */
import { encodeUnchecked, type HelloMessage, type Message, type RejectReason, type WelcomeMessage } from '../udp/codec.js';
import { NODE_MASTER } from '../udp/constants.js';
import { brief, fail, hex, pass, skip, type MasterCase, type MasterContext, type Outcome } from './case.js';
import { Probe, type Unnumbered } from './probe.js';
import { ANSWER_MS, ask, freshEpoch, hello, join } from './session.js';

/** Send one HELLO (spending a REJECT token) and expect REJECT `reason` with these Expected/Offered. */
async function expectReject(
  ctx: MasterContext,
  over: Partial<HelloMessage>,
  reason: RejectReason,
  expected?: number,
  offered?: number,
  src = ctx.client,
): Promise<Outcome> {
  const probe = await Probe.open(ctx.target);
  try {
    await ctx.budget.take();
    const h = hello(ctx.params, src, freshEpoch(), over);
    const a = await ask(probe, h);
    const want = `REJECT ${reason}${expected === undefined ? '' : ` (Expected ${hex(expected)}, Offered ${hex(offered)})`} with Remote Epoch = HELLO Epoch, Dst = HELLO Src`;
    if (a?.type === 'welcome') {
      await endWelcomed(probe, h);
      return fail(want, 'WELCOME');
    }
    if (a === undefined || a.reason !== reason) return fail(want, brief(a));
    if (a.dst !== src) return fail(want, `Dst ${a.dst}`);
    if (expected !== undefined && (a.expected !== expected || a.offered !== offered)) return fail(want, brief(a));
    return pass;
  } finally {
    await probe.close();
  }
}

/** A case that unexpectedly got a session ends it, so the next case finds the client id free. */
async function endWelcomed(probe: Probe, h: Unnumbered): Promise<void> {
  probe.send({ type: 'goodbye', src: h.src, dst: NODE_MASTER, epoch: h.epoch, reason: 'shutdown' });
  await new Promise((r) => setTimeout(r, 50));
}

/** Send `bytes` from a fresh socket and expect no answer at all. */
async function expectSilence(ctx: MasterContext, datagrams: { what: string; bytes: Uint8Array }[]): Promise<Outcome> {
  const probe = await Probe.open(ctx.target);
  try {
    for (const d of datagrams) probe.sendRaw(d.bytes);
    const got = await probe.collect(ANSWER_MS);
    if (got.length > 0) return fail('no answer', `${got.length} datagram(s), first ${brief(got[0]!.msg ?? undefined)}`);
    return pass;
  } finally {
    await probe.close();
  }
}

const welcomeFields = (h: Unnumbered & HelloMessage, w: WelcomeMessage): string | undefined => {
  if (w.src !== NODE_MASTER || w.dst !== h.src) return `Src ${w.src}, Dst ${w.dst}`;
  if (w.pageSize !== h.pageSize || w.segSize !== h.segSize || w.wordSize !== h.wordSize) return `page ${w.pageSize}, seg ${w.segSize}, W ${w.wordSize}`;
  if (w.mtu > h.mtu || w.mtu < 576) return `MTU ${w.mtu} for a HELLO MTU of ${h.mtu}`;
  if (w.version !== 2) return `version ${w.version}`;
  if (w.clientCount <= h.src) return `Client Count ${w.clientCount} for client ${h.src}`;
  if (w.livenessMs < w.heartbeatMs) return `Liveness Ms ${w.livenessMs} < Heartbeat Ms ${w.heartbeatMs}`;
  if (w.nonce === null || w.cookie === null) return 'no NONCE or COOKIE';
  if (h.bcSize !== 0 && w.bcSize !== h.bcSize) return `BC Size ${w.bcSize} for a HELLO BC Size of ${h.bcSize}`;
  return undefined;
};

export const HANDSHAKE_CASES: MasterCase[] = [
  {
    id: 'hello-welcome-fields',
    section: '4.2',
    requirement:
      'A master MUST answer an acceptable HELLO with a WELCOME for its Epoch and Src, with the HELLO sizes, an MTU of at most the HELLO MTU, version 2, NONCE and COOKIE.',
    async run(ctx) {
      const s = await join(ctx.target, ctx.params, ctx.client, false);
      if (typeof s === 'string') return fail('WELCOME', s);
      const bad = welcomeFields(s.hello, s.welcome);
      await s.end();
      return bad === undefined ? pass : fail('WELCOME fields as §4.2 says', bad);
    },
  },
  {
    id: 'hello-retransmission-same-welcome',
    section: '4.6',
    requirement: 'A master MUST answer a retransmitted HELLO (same address, port and Epoch) with the same WELCOME: same NONCE, COOKIE and Next Seqs.',
    async run(ctx) {
      const s = await join(ctx.target, ctx.params, ctx.client, false);
      if (typeof s === 'string') return fail('WELCOME', s);
      try {
        s.probe.send(s.hello);
        const again = await s.probe.next((m): m is WelcomeMessage => m.type === 'welcome' && m.remoteEpoch === s.hello.epoch, ANSWER_MS);
        if (again === undefined) return fail('the same WELCOME again', 'nothing');
        const same = (a: WelcomeMessage): string =>
          JSON.stringify([a.moNextSeq, a.bcNextSeq, Buffer.from(a.nonce ?? []).toString('hex'), Buffer.from(a.cookie ?? []).toString('hex'), a.epoch]);
        return same(again) === same(s.welcome) ? pass : fail(same(s.welcome), same(again));
      } finally {
        await s.end();
      }
    },
  },
  {
    id: 'reject-version-expected-offered',
    section: '4.3',
    requirement:
      'A master MUST answer a HELLO whose versions do not overlap its own with REJECT version, Expected = (its min << 8) | max and Offered = (the HELLO min << 8) | max.',
    async run(ctx) {
      const probe = await Probe.open(ctx.target);
      try {
        await ctx.budget.take();
        const h = hello(ctx.params, ctx.client, freshEpoch(), { versionMin: 3, versionMax: 4 });
        const a = await ask(probe, h);
        const want = 'REJECT version, Offered 0x0304, Expected a range (min << 8) | max below version 3';
        if (a === undefined || a.type !== 'reject' || a.reason !== 'version') return fail(want, brief(a));
        const min = a.expected >>> 8;
        const max = a.expected & 0xff;
        if (a.offered !== 0x0304 || a.expected > 0xffff || min < 1 || min > max || max >= 3) return fail(want, brief(a));
        return pass;
      } finally {
        await probe.close();
      }
    },
  },
  {
    id: 'check-order-version-first',
    section: '4.6',
    requirement:
      'A master MUST check a HELLO’s versions before its client id and sizes: versions 3..3 with an unknown client id and a wrong page size get REJECT version.',
    // With a PSK a sealed HELLO from a Src >= N is dropped before it is opened (auth-unknown-route,
    // §10.2), so the sealed run checks the version before the sizes only.
    run: (ctx) =>
      expectReject(
        ctx,
        { versionMin: 3, versionMax: 3, ...otherPage(ctx) },
        'version',
        undefined,
        undefined,
        ctx.target.psk ? ctx.client : ctx.params.clientCount,
      ),
  },
  {
    id: 'check-order-client-id-before-sizes',
    section: '4.6',
    requirement:
      'A master MUST check the client id before the sizes: an unknown client id with a wrong page size gets REJECT client-id (Expected N, Offered the id).',
    run: (ctx) =>
      ctx.target.psk
        ? Promise.resolve(skip('with a PSK a sealed HELLO from a Src >= N is dropped unopened (auth-unknown-route, §10.2), never answered'))
        : expectReject(ctx, otherPage(ctx), 'client-id', ctx.params.clientCount, ctx.params.clientCount, ctx.params.clientCount),
  },
  {
    id: 'check-order-page-word-seg',
    section: '4.6',
    requirement:
      'A master MUST check page size, then word size, then segment size, and report the first that fails with Expected = its value and Offered = the HELLO’s.',
    async run(ctx) {
      const p = ctx.params;
      const page = otherPageSize(ctx);
      const word = p.wordSize === 8 ? 4 : 8;
      // A multiple of both page sizes, so that the HELLO decodes (§4.1) and only admission refuses it.
      const seg = 2 * p.segSize;
      const steps: [Partial<HelloMessage>, RejectReason, number, number][] = [
        [{ pageSize: page, wordSize: word, segSize: seg }, 'page-size', p.pageSize, page],
        [{ wordSize: word, segSize: seg }, 'word-size', p.wordSize, word],
        [{ segSize: seg }, 'seg-size', p.segSize, seg],
      ];
      for (const [over, reason, expected, offered] of steps) {
        const r = await expectReject(ctx, over, reason, expected, offered);
        if (r.verdict !== 'pass') return r;
      }
      return pass;
    },
  },
  {
    id: 'large-hello-accepted',
    section: '5.3',
    requirement:
      'A master MUST accept a datagram of any size up to 65507 bytes whatever its MTU: a valid HELLO of 1,600 bytes (unknown options, §4.5) gets its WELCOME.',
    async run(ctx) {
      const probe = await Probe.open(ctx.target);
      try {
        const options = Array.from({ length: 6 }, (_, i) => ({ type: 200 + i, value: new Uint8Array(255).fill(0x41 + i) }));
        const h = hello(ctx.params, ctx.client, freshEpoch(), { mtu: 65507, options });
        const a = await ask(probe, h);
        if (a?.type === 'welcome') await endWelcomed(probe, h);
        return a?.type === 'welcome' ? pass : fail(`WELCOME to a ${probe.bytesSent}-byte HELLO`, brief(a));
      } finally {
        await probe.close();
      }
    },
  },
  {
    id: 'malformed-hello-no-answer',
    section: '10.1',
    requirement:
      'A master MUST drop, without an answer, a datagram that does not decode: truncated, bad Magic, trailing garbage, a version-2 HELLO without NONCE (§10.4), random bytes, 65507 bytes of junk.',
    async run(ctx) {
      if (ctx.target.psk !== null) return skip('unsealed malformed datagrams at a master with a PSK draw REJECT auth-required (§4.3); run without --psk-file');
      const good = encodeHello(ctx);
      const badMagic = Buffer.from(good);
      badMagic[0] = 0x51;
      const noNonce = encodeHello(ctx, { nonce: null });
      return expectSilence(ctx, [
        { what: 'truncated', bytes: good.subarray(0, 40) },
        { what: 'bad magic', bytes: badMagic },
        { what: 'trailing zero option', bytes: Buffer.concat([good, Buffer.from([0, 0])]) },
        { what: 'no nonce', bytes: noNonce },
        { what: 'junk', bytes: Buffer.from('PDSM conformance: this is not a datagram of any type') },
        { what: 'oversized junk', bytes: Buffer.alloc(65507, 0xa5) },
      ]);
    },
  },
  {
    id: 'goodbye-without-session-no-answer',
    section: '4.4',
    requirement: 'A master MUST NOT answer a GOODBYE that matches no session (not even with REJECT not-joined).',
    async run(ctx) {
      const probe = await Probe.open(ctx.target);
      try {
        probe.send({ type: 'goodbye', src: ctx.client, dst: NODE_MASTER, epoch: freshEpoch(), reason: 'shutdown' });
        const got = await probe.collect(ANSWER_MS);
        return got.length === 0 ? pass : fail('no answer', brief(got[0]!.msg ?? undefined));
      } finally {
        await probe.close();
      }
    },
  },
  {
    id: 'not-joined-answered',
    section: '7.1',
    requirement: 'A master MUST answer a HEARTBEAT of a client id with no session with REJECT not-joined for its Epoch.',
    async run(ctx) {
      const probe = await Probe.open(ctx.target);
      try {
        if (ctx.target.psk !== null) return skip('a sealed HEARTBEAT needs session keys this probe does not have');
        await ctx.budget.take();
        const epoch = freshEpoch();
        probe.send({ type: 'heartbeat', src: ctx.client, dst: NODE_MASTER, epoch, timestamp: 1, echo: null, wantBcUnicast: false, flows: [], cookie: null });
        const a = await probe.next((m: Message) => m.type === 'reject' && m.remoteEpoch === epoch, ANSWER_MS);
        return a !== undefined && a.type === 'reject' && a.reason === 'not-joined' ? pass : fail('REJECT not-joined', brief(a));
      } finally {
        await probe.close();
      }
    },
  },
];

function otherPageSize(ctx: MasterContext): number {
  return ctx.params.pageSize === 1024 ? 2048 : 1024;
}

/** Another page size, with a segment size that is a multiple of it (so the HELLO decodes, §4.1). */
function otherPage(ctx: MasterContext): Partial<HelloMessage> {
  return { pageSize: otherPageSize(ctx), segSize: 2 * ctx.params.segSize };
}

function encodeHello(ctx: MasterContext, over: Partial<HelloMessage> = {}): Buffer {
  return Buffer.from(encodeUnchecked({ ...hello(ctx.params, ctx.client, freshEpoch(), over), packetNumber: 0 } as Message));
}
