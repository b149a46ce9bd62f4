/**
 * Session cases of `pdsm conformance master` (spec §4.6, §7.1): one session per client id
 * and address, and what a master sends to an address it has not validated.
 */
import type { Message, RejectMessage } from '../udp/codec.js';
import { brief, fail, pass, type MasterCase, type MasterContext, type Outcome } from './case.js';
import { Probe } from './probe.js';
import { ANSWER_MS, ask, freshEpoch, hello, join, type Session } from './session.js';

/** With a live, validated session from one port, a HELLO from another port gets REJECT duplicate and the session goes on. */
async function duplicate(ctx: MasterContext, sameEpoch: boolean): Promise<Outcome> {
  const s = await join(ctx.target, ctx.params, ctx.client, true);
  if (typeof s === 'string') return fail('a session to start from', s);
  const other = await Probe.open(ctx.target);
  try {
    await ctx.budget.take();
    const h = sameEpoch ? s.hello : hello(ctx.params, ctx.client, freshEpoch());
    const a = await ask(other, h);
    if (a?.type !== 'reject' || a.reason !== 'duplicate') {
      if (a?.type === 'welcome') other.send({ type: 'goodbye', src: ctx.client, dst: 0xffff, epoch: h.epoch, reason: 'shutdown' });
      return fail('REJECT duplicate, the live session untouched', brief(a));
    }
    return await stillServed(s);
  } finally {
    await other.close();
    await s.end();
  }
}

/** The session still gets the master's HEARTBEATs and its own HEARTBEATs draw no REJECT not-joined. */
async function stillServed(s: Session): Promise<Outcome> {
  const wait = 2 * s.welcome.heartbeatMs + ANSWER_MS;
  const beat = await s.probe.next((m: Message) => m.type === 'heartbeat' && m.epoch === s.welcome.epoch, wait);
  if (beat === undefined) return fail('the old session still heartbeated by the master', `no HEARTBEAT within ${wait} ms`);
  const rejected = s.probe.arrivals.find((a) => a.msg?.type === 'reject' && (a.msg as RejectMessage).reason === 'not-joined');
  return rejected === undefined ? pass : fail('the old session untouched', 'its datagrams drew REJECT not-joined');
}

/** Say HELLO and never validate; what comes back in 2.5 heartbeat periods (at least 1.5 s). */
async function unvalidated(ctx: MasterContext): Promise<{ helloBytes: number; got: { msg: Message | null; bytes: number }[] } | string> {
  const probe = await Probe.open(ctx.target);
  try {
    const h = hello(ctx.params, ctx.client, freshEpoch());
    const helloBytes = probe.send(h);
    const w = await probe.next((m: Message) => m.type === 'welcome' && m.remoteEpoch === h.epoch, ANSWER_MS);
    if (w === undefined || w.type !== 'welcome') return 'no WELCOME to a valid HELLO';
    const got = await probe.collect(Math.max(1500, 2.5 * w.heartbeatMs));
    probe.send({ type: 'goodbye', src: ctx.client, dst: 0xffff, epoch: h.epoch, reason: 'shutdown' });
    const welcomeBytes = probe.arrivals.find((a) => a.msg === w)?.bytes ?? 0;
    return { helloBytes, got: [{ msg: w, bytes: welcomeBytes }, ...got] };
  } finally {
    await probe.close();
  }
}

export const SESSION_CASES: MasterCase[] = [
  {
    id: 'duplicate-other-port-new-epoch',
    section: '4.6',
    requirement:
      'While a session is live, a master MUST answer a HELLO with a new Epoch for its client id from another port with REJECT duplicate and MUST NOT touch the session.',
    run: (ctx) => duplicate(ctx, false),
  },
  {
    id: 'duplicate-other-port-same-epoch',
    section: '4.6',
    requirement: 'While a session is live, a master MUST answer a HELLO with the session’s own Epoch from another port with REJECT duplicate.',
    run: (ctx) => duplicate(ctx, true),
  },
  {
    id: 'unvalidated-three-times-budget',
    section: '9.6',
    requirement: 'Until the COOKIE comes back, a master MUST NOT send a session address more than 3 times the bytes it received from it (here: one HELLO).',
    async run(ctx) {
      const r = await unvalidated(ctx);
      if (typeof r === 'string') return fail('WELCOME', r);
      const sent = r.got.reduce((n, a) => n + a.bytes, 0);
      return sent <= 3 * r.helloBytes
        ? pass
        : fail(
            `at most ${3 * r.helloBytes} bytes (3 x ${r.helloBytes})`,
            `${sent} bytes in ${r.got.length} datagrams (${r.got.map((a) => brief(a.msg ?? undefined)).join(', ')})`,
          );
    },
  },
  {
    id: 'unvalidated-no-page-content',
    section: '9.6',
    requirement: 'Before the session address is validated, a master MUST NOT send it DATA, COMMIT or DIGEST.',
    async run(ctx) {
      const r = await unvalidated(ctx);
      if (typeof r === 'string') return fail('WELCOME', r);
      const content = r.got.filter((a) => a.msg !== null && ['data', 'commit', 'digest'].includes(a.msg.type));
      return content.length === 0 ? pass : fail('no DATA, COMMIT or DIGEST', `${content.length} (${brief(content[0]!.msg ?? undefined)})`);
    },
  },
  {
    id: 'goodbye-ends-session',
    section: '4.4',
    requirement: 'A master MUST end a session on its GOODBYE: a HEARTBEAT of that session afterwards belongs to no session and draws REJECT not-joined (§7.1).',
    async run(ctx) {
      const s = await join(ctx.target, ctx.params, ctx.client, true);
      if (typeof s === 'string') return fail('a session to start from', s);
      try {
        s.stopBeating();
        s.probe.send({ type: 'goodbye', src: ctx.client, dst: 0xffff, epoch: s.hello.epoch, reason: 'shutdown' });
        await new Promise((r) => setTimeout(r, 100));
        await ctx.budget.take();
        s.beat();
        const a = await s.probe.next((m: Message) => m.type === 'reject' && m.remoteEpoch === s.hello.epoch, ANSWER_MS);
        return a?.type === 'reject' && a.reason === 'not-joined' ? pass : fail('REJECT not-joined for the ended session', brief(a));
      } finally {
        await s.end();
      }
    },
  },
  {
    id: 'welcome-nonce-per-session',
    section: '9.2',
    requirement: 'A master MUST draw a new welcome_nonce for every session it opens: two sessions one after the other get two NONCEs.',
    async run(ctx) {
      const nonces: string[] = [];
      for (let i = 0; i < 2; i++) {
        const s = await join(ctx.target, ctx.params, ctx.client, true);
        if (typeof s === 'string') return fail(`session ${i + 1} to start`, s);
        nonces.push(Buffer.from(s.welcome.nonce ?? []).toString('hex'));
        await s.end();
        await new Promise((r) => setTimeout(r, 100));
      }
      return nonces[0] !== nonces[1] ? pass : fail('two NONCEs', `NONCE ${nonces[0]} twice`);
    },
  },
];
