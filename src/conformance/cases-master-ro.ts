/**
 * RO cases of `pdsm conformance master` (spec §6.3, §7.5, §7.8): the tool, as a remote,
 * sends its FULL RO batch (§7.1) of random bytes; with a DATA held back the master NACKs
 * it, and after the whole batch a DIGEST with one wrong page hash draws a RESYNC of that
 * page, while a DIGEST reaching beyond the segment draws none.
 */
import { randomBytes } from 'node:crypto';
import { attachMaster } from '../index.js';
import { toWire } from '../segments/word-codec.js';
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

/**
 * Join, validated, with a FULL RO batch of random bytes made (not sent); `f` sends what it
 * wants. Each page is cut into ranges of at most P bytes (§5.3), or of the lengths `cut`
 * gives for range i (multiples of W, at most P; the last of a page ends at the page's end).
 */
async function withRo(ctx: MasterContext, f: (r: Ro) => Promise<Outcome>, cut?: (i: number, step: number) => number): Promise<Outcome> {
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
      for (let offset = 0, i = 0; offset < pageSize; i++) {
        const len = Math.min(pageSize - offset, cut === undefined ? step : Math.max(wordSize, Math.min(step, cut(i, step))));
        const payload = wire.subarray(page * pageSize + offset, page * pageSize + offset + len);
        batch.push({ type: 'data', ...env, seq, batchId, page, offset, payload } as Unnumbered);
        seq = (seq + 1) >>> 0;
        offset += len;
      }
    batch.push({ type: 'commit', ...env, seq, batchId, dataCount: batch.length, pageCount: pages, replaces: true, full: true } as Unnumbered);
    return await f({ s, wire, pages, batch, batchId });
  } finally {
    await s.end();
  }
}

async function sendAll(r: Ro, msgs: Unnumbered[], unchecked = false): Promise<void> {
  let n = 0;
  for (const m of msgs) {
    r.s.probe.send(m, unchecked);
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

/**
 * With -d: poll the master's RO slice of the tool's client (wire form) for `ms` until it holds
 * `r.wire`; undefined then, else where it differs at the end. null without -d.
 */
async function roHolds(ctx: MasterContext, r: Ro, ms = APPLY_MS): Promise<string | undefined | null> {
  if (ctx.registryDir === null) return null;
  const master = attachMaster({ registryDir: ctx.registryDir, readOnly: true });
  try {
    const seen = Buffer.alloc(ctx.params.segSize);
    const deadline = Date.now() + ms;
    for (let i = 0; i < 10_000; i++) {
      master.readConsistent(ctx.client, () => toWire(master.roSlice(ctx.client), seen, ctx.params.wordSize));
      if (seen.equals(r.wire)) return undefined;
      if (Date.now() >= deadline) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    const at = seen.findIndex((b, i) => b !== r.wire[i]);
    return `byte ${at} (page ${Math.floor(at / ctx.params.pageSize)}) of RO slice ${ctx.client} is 0x${seen[at]!.toString(16)}, not 0x${r.wire[at]!.toString(16)}`;
  } finally {
    master.detach();
  }
}

/** Whether the master applied the batch, as its segment (-d) or, without it, a DIGEST with page 1 wrong shows it. */
async function applied(ctx: MasterContext, r: Ro): Promise<Outcome> {
  await afterWholeBatch(r);
  const held = await roHolds(ctx, r);
  if (held !== null) return held === undefined ? pass : fail(`RO = the batch within ${APPLY_MS} ms`, held);
  if (r.pages < 3) return skip(`without -d the batch is judged by a DIGEST of 3 pages or more; the segment has ${r.pages}`);
  const rs = await resyncsAfter(r, () => r.s.probe.send(digest(ctx, r, 0, Math.min(r.pages, 64), (p) => p === 1)));
  const right = rs.length === 1 && !rs[0]!.full && rs[0]!.firstPage === 1 && rs[0]!.pageCount === 1;
  return right ? pass : fail('the batch applied: a DIGEST with page 1 wrong draws RESYNC of page 1 alone', said(rs));
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
  {
    id: 'ro-full-batch-applied',
    section: '7.3',
    requirement:
      'A master MUST apply a complete FULL RO batch, every page, writing each W-byte word back in its native order (§5.3): with -d its RO slice then holds the batch byte for byte.',
    run: (ctx) =>
      ctx.registryDir === null ? Promise.resolve(skip('needs the master’s registry folder (-d), on this host')) : withRo(ctx, (r) => applied(ctx, r)),
  },
  {
    id: 'ro-any-cut-applied',
    section: '5.3',
    requirement:
      'A master MUST accept any cut of a page into consecutive ranges: a FULL RO batch whose pages are cut into ranges of 1, 5, 17 and 3 words (and the rest) is applied (with -d: byte for byte; without: as a DIGEST shows it).',
    run: (ctx) =>
      withRo(
        ctx,
        (r) => applied(ctx, r),
        (i, step) => [1, 5, 17, 3][i % 4]! * ctx.params.wordSize + (i >= 4 ? step : 0),
      ),
  },
  {
    id: 'ro-data-beyond-page-dropped',
    section: '5.1',
    requirement:
      'A master MUST drop, before writing anything, RO DATA whose range crosses its page’s end or whose Page lies beyond the segment: in place of DATA 2 and 3 of its FULL batch they leave it incomplete, so it NACKs them.',
    run: (ctx) =>
      withRo(ctx, async (r) => {
        const w = ctx.params.wordSize;
        const ps = ctx.params.pageSize;
        const [d1, d2] = [r.batch[1], r.batch[2]] as (Unnumbered & { seq: number; payload: Uint8Array })[];
        if (d1 === undefined || d2 === undefined || d2.type !== 'data') return skip('the FULL batch has fewer than 3 DATA');
        const crossing = { ...d1, offset: ps - w, payload: Buffer.alloc(2 * w, 0x5a) } as Unnumbered;
        const beyond = { ...d2, page: r.pages, offset: 0 } as Unnumbered;
        const from = r.s.probe.arrivals.length;
        await sendAll(
          r,
          r.batch.map((m) => (m === d1 ? crossing : m === d2 ? beyond : m)),
          true,
        );
        const covers = (m: Message | null, seq: number): boolean =>
          m?.type === 'nack' && m.flow === 'ro' && (m as NackMessage).ranges.some((x) => (seq - x.first) >>> 0 < x.count);
        const nacked = await r.s.probe.find((a) => covers(a.msg, d1.seq) && covers(a.msg, d2.seq), APPLY_MS, from);
        await sendAll(r, [d1, d2]);
        if (nacked !== undefined) return pass;
        const some = r.s.probe.arrivals.slice(from).find((a) => a.msg?.type === 'nack');
        return fail(
          `an RO NACK of ${d1.seq} and ${d2.seq} (the DATA it dropped)`,
          some === undefined ? `no NACK within ${APPLY_MS} ms` : 'NACKs not naming both',
        );
      }),
  },
  {
    id: 'ro-mixed-batch-id-not-applied',
    section: '7.3',
    requirement:
      'A master MUST NOT apply an RO batch whose DATA carry another Batch Id than its COMMIT: with -d its RO slice never holds that FULL batch (whose last DATA says batch 2, its COMMIT 1); the next, well-formed batch then applies.',
    run: (ctx) =>
      ctx.registryDir === null
        ? Promise.resolve(skip('needs the master’s registry folder (-d), on this host'))
        : withRo(ctx, async (r) => {
            const last = r.batch[r.batch.length - 2] as Unnumbered & { batchId: number };
            await sendAll(
              r,
              r.batch.map((m) => (m === last ? ({ ...last, batchId: r.batchId + 1 } as Unnumbered) : m)),
            );
            const held = await roHolds(ctx, r, 1000);
            if (held === undefined) return fail('RO slice untouched by the batch with two Batch Ids', 'it holds that batch');
            // The same content as the next batch, well formed: a FULL+REPLACES batch 2 after it.
            const n = r.batch.length;
            const next = r.batch.map((m) => {
              const x = m as Unnumbered & { seq: number };
              return { ...x, seq: (x.seq + n) >>> 0, batchId: r.batchId + 1 } as Unnumbered;
            });
            await sendAll(r, next);
            const now = await roHolds(ctx, r);
            return now === undefined ? pass : skip(`the well-formed batch after it was not applied either (${now}), so the first proves nothing`);
          }),
  },
];
