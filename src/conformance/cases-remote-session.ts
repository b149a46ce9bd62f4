/**
 * Session cases of `pdsm conformance remote` (spec §4.3, §7.1, §7.11): which REJECTs and
 * HEARTBEATs end a remote's session, which it ignores, and that a configuration REJECT
 * without a PSK never ends a remote for good, while a sealed one does (the last two cases:
 * the remote is left in its back-off, or stopped).
 */
import type { HelloMessage, RejectReason } from '../udp/codec.js';
import { NODE_MASTER } from '../udp/constants.js';
import { fail, pass, skip, type Outcome, type RemoteContext } from './case.js';
import type { RemoteCase } from './case.js';
import { withUp } from './cases-remote-join.js';
import { nextHello, ofSession, type Up } from './master-play.js';
import type { Arrival, Unnumbered } from './probe.js';
import { ANSWER_MS } from './session.js';

const reject = (ctx: RemoteContext, h: HelloMessage, reason: RejectReason, remoteEpoch = h.epoch, expected = 0, offered = 0): Unnumbered => ({
  type: 'reject',
  src: NODE_MASTER,
  dst: h.src,
  epoch: ctx.masterEpoch,
  remoteEpoch,
  expected,
  offered,
  reason,
  text: null,
  options: [],
});

/** A HELLO of a new epoch (the session ended at the remote) within `ms`; or undefined. */
async function rejoined(u: Up, ms: number): Promise<HelloMessage | undefined> {
  const got = await nextHello(u.ctx, ms);
  if (got === undefined) return undefined;
  u.ctx.cursor = got.index; // the next case takes this HELLO
  return got.hello.epoch !== u.hello.epoch ? got.hello : undefined;
}

/** The session goes on for `ms`: no HELLO, and HEARTBEATs of it keep coming. */
async function goesOn(u: Up, ms: number): Promise<Outcome> {
  const from = u.ctx.probe.arrivals.length;
  await new Promise((r) => setTimeout(r, ms));
  const later = u.ctx.probe.arrivals.slice(from);
  const hello = later.find((a) => a.msg?.type === 'hello');
  if (hello !== undefined) return fail('the session untouched', `HELLO with Epoch ${hello.msg!.epoch} (the remote left the session)`);
  const beats = later.filter((a) => ofSession(u.hello, u.helloArrival.from)(a) && a.msg?.type === 'heartbeat').length;
  return beats >= 2 ? pass : fail('HEARTBEATs of the session going on', `${beats} in ${ms} ms`);
}

/**
 * spec §4.3: answer the remote's next HELLO with a configuration REJECT (seg-size, Expected
 * twice its size), then look 5 s for a HELLO sent after the REJECT arrived (arrivals from
 * 100 ms after it was sent: not one already on its way). `sentAt`: when the REJECT left.
 */
async function helloAfterConfigReject(ctx: RemoteContext): Promise<'no first HELLO' | { again: { a: Arrival; index: number } | undefined; sentAt: number }> {
  const got = await nextHello(ctx, ctx.firstHelloMs);
  if (got === undefined) return 'no first HELLO';
  const h = got.hello;
  ctx.probe.send(reject(ctx, h, 'seg-size', h.epoch, h.segSize * 2, h.segSize));
  const sentAt = Date.now();
  const again = await ctx.probe.find((a) => a.msg?.type === 'hello' && a.at! >= sentAt + 100, 5000, ctx.cursor);
  return { again, sentAt };
}

export const REMOTE_SESSION_CASES: RemoteCase[] = [
  {
    id: 'reject-ignored-while-up',
    section: '4.3',
    requirement:
      'A remote MUST ignore a REJECT whose Remote Epoch is not its own, and while UP every REJECT but not-joined (duplicate, seg-size): its session goes on.',
    run: (ctx) =>
      withUp(ctx, async (u) => {
        const h = u.hello;
        ctx.probe.send(reject(ctx, h, 'not-joined', (h.epoch + 1) >>> 0));
        ctx.probe.send(reject(ctx, h, 'duplicate'));
        ctx.probe.send(reject(ctx, h, 'seg-size', h.epoch, h.segSize * 2, h.segSize));
        return goesOn(u, 3 * u.welcome.heartbeatMs + 200);
      }),
  },
  {
    id: 'reject-not-joined-rejoins',
    section: '7.1',
    requirement: 'A remote that gets REJECT not-joined for its epoch while UP MUST leave the session and say HELLO again with a new epoch.',
    run: (ctx) =>
      withUp(ctx, async (u) => {
        ctx.probe.send(reject(ctx, u.hello, 'not-joined'));
        const h = await rejoined(u, 3 * ANSWER_MS);
        return h !== undefined ? pass : fail('HELLO with a new Epoch', `none within ${3 * ANSWER_MS} ms`);
      }),
  },
  {
    id: 'heartbeat-other-master-epoch',
    section: '7.1',
    requirement:
      'Without a PSK a remote MUST take a HEARTBEAT with another master Epoch as a master restart (HELLO with a new epoch); with one it MUST drop it (§9.3) and go on.',
    run: (ctx) =>
      withUp(ctx, async (u) => {
        u.beat({ epoch: (ctx.masterEpoch + 1) >>> 0 });
        if (ctx.psk !== null) return goesOn(u, 3 * u.welcome.heartbeatMs + 200);
        const h = await rejoined(u, 3 * ANSWER_MS);
        return h !== undefined ? pass : fail('HELLO with a new Epoch', `none within ${3 * ANSWER_MS} ms`);
      }),
  },
  {
    id: 'config-reject-keeps-trying',
    section: '4.3',
    requirement: 'Without a PSK a remote MUST NOT stop on a configuration REJECT (it cannot be authenticated): it says HELLO again, after its back-off.',
    async run(ctx) {
      if (ctx.psk !== null) return skip('with a PSK the REJECT is authenticated and the remote must stop for good, which would end the run');
      const r = await helloAfterConfigReject(ctx);
      if (r === 'no first HELLO') return fail('a HELLO', 'none');
      if (r.again === undefined) return fail('another HELLO (back-off 1 s x [0.5, 1.5))', 'none within 5 s');
      ctx.cursor = r.again.index;
      return pass;
    },
  },
  {
    id: 'sealed-config-reject-final',
    section: '4.3',
    requirement:
      'With a PSK a remote MUST NOT say HELLO again after a sealed configuration REJECT for its epoch while JOINING (it reports Expected and Offered; PDSM’s exits 1): no HELLO for 5 s.',
    async run(ctx) {
      if (ctx.psk === null) return skip('needs a PSK (--psk-file): without one the REJECT is not authenticated (config-reject-keeps-trying)');
      const r = await helloAfterConfigReject(ctx);
      if (r === 'no first HELLO') return fail('a HELLO', 'none');
      if (r.again === undefined) return pass;
      ctx.cursor = r.again.index;
      return fail('no HELLO after the sealed REJECT seg-size', `HELLO with Epoch ${r.again.a.msg!.epoch} ${r.again.a.at! - r.sentAt} ms after it`);
    },
  },
];
