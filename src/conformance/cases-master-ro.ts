/**
 * RO cases of `pdsm conformance master` (spec §6.3, §7.5, §7.8): the tool, as a remote,
 * sends its FULL RO batch (§7.1) of random bytes; with a DATA held back the master NACKs
 * it, and after the whole batch a DIGEST with one wrong page hash draws a RESYNC of that
 * page, while a DIGEST reaching beyond the segment draws none.
 */
import { randomBytes } from 'node:crypto';
import { native } from '../segments/native.js';
import type { Message, NackMessage, ResyncMessage } from '../udp/codec.js';
import { NODE_MASTER } from '../udp/constants.js';
import { fail, pass, skip, type MasterContext, type MasterCase, type Outcome } from './case.js';
import { MAX_MO_BYTES } from './master-play.js';
import type { Unnumbered } from './probe.js';
import { ANSWER_MS, join, type Session } from './session.js';

/** How long a master may take to NACK a gap or apply a batch (NACK Delay is 10 ms, §12). */
const APPLY_MS = 3000;

interface Ro {
  s: Session;
  /** The RO the tool sent, in wire form. */
  wire: Buffer;
  pages: number;
  /** The FULL batch: its DATA then its COMMIT. */
  batch: Unnumbered[];
  batchId: number;
}

/** Join, validated, with a FULL RO batch of random bytes made (not sent); `f` sends what it wants. */
async function withRo(ctx: MasterContext, f: (r: Ro) => Promise<Outcome>): Promise<Outcome> {
  const { pageSize, segSize, wordSize } = ctx.params;
  if (segSize > MAX_MO_BYTES) return skip(`a segment of ${segSize} bytes: the RO cases send FULL batches of at most ${MAX_MO_BYTES}`);
  const s = await join(ctx.target, ctx.params, ctx.client, true);
  if (typeof s === 'string') return fail('a session to start from', s);
  try {
    const room = s.welcome.mtu - 40 - (ctx.target.psk ? 16 : 0);
    const step = Math.min(pageSize, room - (room % wordSize));
    const wire = randomBytes(segSize);
    const env = { src: ctx.client, dst: NODE_MASTER, epoch: s.hello.epoch, flow: 'ro' as const };
    const batchId = 1;
    const batch: Unnumbered[] = [];
    let seq = s.hello.roNextSeq;
    const pages = segSize / pageSize;
    for (let page = 0; page < pages; page++)
      for (let offset = 0; offset < pageSize; offset += step) {
        const payload = wire.subarray(page * pageSize + offset, page * pageSize + Math.min(pageSize, offset + step));
        batch.push({ type: 'data', ...env, seq, batchId, page, offset, payload } as Unnumbered);
        seq = (seq + 1) >>> 0;
      }
    batch.push({ type: 'commit', ...env, seq, batchId, dataCount: batch.length, pageCount: pages, replaces: true, full: true } as Unnumbered);
    return await f({ s, wire, pages, batch, batchId });
  } finally {
    await s.end();
  }
}

async function sendAll(r: Ro, msgs: Unnumbered[]): Promise<void> {
  let n = 0;
  for (const m of msgs) {
    r.s.probe.send(m);
    if (++n % 64 === 0) await new Promise((res) => setTimeout(res, 2));
  }
}

/** A DIGEST of the FULL batch: hashes of pages first.. (XXH64 of the wire form, §5.4), those `wrong` picks flipped. */
function digest(ctx: MasterContext, r: Ro, first: number, count: number, wrong: (p: number) => boolean): Unnumbered {
  const ps = ctx.params.pageSize;
  const hashes = new BigUint64Array(count);
  for (let i = 0; i < count; i++) {
    const p = first + i;
    const h = p < r.pages ? native.xxh64(r.wire.subarray(p * ps, (p + 1) * ps), 0n) : 0n;
    hashes[i] = wrong(p) ? h ^ 0xffn : h;
  }
  return { type: 'digest', src: ctx.client, dst: NODE_MASTER, epoch: r.s.hello.epoch, flow: 'ro', batchId: r.batchId, firstPage: first, hashes } as Unnumbered;
}

/** Every RO RESYNC within `ms` after `send`. */
async function resyncsAfter(r: Ro, send: () => void, ms = ANSWER_MS): Promise<ResyncMessage[]> {
  const from = r.s.probe.arrivals.length;
  send();
  await new Promise((res) => setTimeout(res, ms));
  return r.s.probe.arrivals.slice(from).flatMap((a) => (a.msg?.type === 'resync' && a.msg.flow === 'ro' ? [a.msg] : []));
}

const said = (rs: ResyncMessage[]): string =>
  rs.length === 0 ? 'no RESYNC' : rs.map((x) => (x.full ? 'RESYNC FULL' : `RESYNC of ${x.pageCount} page(s) from ${x.firstPage}`)).join(', ');

/** The batch whole and (after a moment to apply it) a DIGEST answered as `judge` says. */
async function afterWholeBatch(r: Ro): Promise<void> {
  await sendAll(r, r.batch);
  await new Promise((res) => setTimeout(res, 300));
}

export const MASTER_RO_CASES: MasterCase[] = [
  {
    id: 'ro-missing-data-nacked',
    section: '7.5',
    requirement: 'A master MUST NACK the missing number of an RO batch that lacks one DATA (its FULL batch, DATA 2 held back), and keep NACKing it.',
    run: (ctx) =>
      withRo(ctx, async (r) => {
        const held = r.batch[1] as Unnumbered & { seq: number };
        const from = r.s.probe.arrivals.length;
        await sendAll(
          r,
          r.batch.filter((m) => m !== held),
        );
        const covers = (m: Message | null): boolean =>
          m?.type === 'nack' && m.flow === 'ro' && (m as NackMessage).ranges.some((x) => (held.seq - x.first) >>> 0 < x.count);
        const first = await r.s.probe.find((a) => covers(a.msg), APPLY_MS, from);
        if (first === undefined) return fail(`an RO NACK of ${held.seq}`, `none within ${APPLY_MS} ms`);
        const again = await r.s.probe.find((a) => covers(a.msg), APPLY_MS, first.index + 1);
        if (again === undefined) return fail(`RO NACKs of ${held.seq} until it comes`, `one only, none for ${APPLY_MS} ms after it`);
        r.s.probe.send(held);
        return pass;
      }),
  },
  {
    id: 'digest-differing-run-resynced',
    section: '7.8',
    requirement:
      'A master MUST answer an RO DIGEST of the batch it applied last with a RESYNC of each run of pages whose hashes differ: one wrong hash (page 1) draws RESYNC of page 1 alone.',
    run: (ctx) =>
      withRo(ctx, async (r) => {
        if (r.pages < 3) return skip(`a segment of ${r.pages} page(s): the case needs 3`);
        await afterWholeBatch(r);
        const rs = await resyncsAfter(r, () => r.s.probe.send(digest(ctx, r, 0, Math.min(r.pages, 64), (p) => p === 1)));
        const right = rs.length === 1 && !rs[0]!.full && rs[0]!.firstPage === 1 && rs[0]!.pageCount === 1;
        return right ? pass : fail('RESYNC of 1 page(s) from 1, nothing else', said(rs));
      }),
  },
  {
    id: 'digest-beyond-segment-dropped',
    section: '6.3',
    requirement:
      'A master MUST drop whole an RO DIGEST whose First Page + Hash Count goes beyond the segment: with every hash wrong it draws no RESYNC (one within the segment then does).',
    run: (ctx) =>
      withRo(ctx, async (r) => {
        await afterWholeBatch(r);
        const first = Math.max(0, r.pages - 2);
        const beyond = await resyncsAfter(r, () =>
          r.s.probe.send(
            digest(ctx, r, first, r.pages - first + 1, () => true),
            true,
          ),
        );
        if (beyond.length > 0) return fail(`no RESYNC for a DIGEST of pages ${first}..${r.pages} (of ${r.pages})`, said(beyond));
        const control = await resyncsAfter(r, () => r.s.probe.send(digest(ctx, r, first, r.pages - first, () => true)));
        return control.length > 0 ? pass : skip('a DIGEST within the segment, every hash wrong, drew no RESYNC either (see digest-differing-run-resynced)');
      }),
  },
];
