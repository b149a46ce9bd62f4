/**
 * MO cases of `pdsm conformance remote` (spec §5, §7.3, §7.5, §10.1): the remote applies
 * whole batches only, byte-exactly, NACKs what is missing, refuses a broken batch with a
 * RESYNC, and drops DATA that does not fit its segment and datagrams that do not decode.
 * Each case starts its own session, and so its MO from a FULL batch (§7.1).
 */
import type { NackMessage, ResyncMessage } from '../udp/codec.js';
import type { RemoteNode } from '../index.js';
import { fail, HEADER_FAULTS, pass, skip, type Outcome, type RemoteCase, type WireFault } from './case.js';
import { withUp } from './cases-remote-join.js';
import {
  allPages,
  attachUnderTest,
  batch,
  firstDiff,
  MAX_MO_BYTES,
  moWire,
  ofSession,
  randomSegment,
  sendAll,
  sendFull,
  watchMo,
  type Up,
} from './master-play.js';
import type { Unnumbered } from './probe.js';
import { ANSWER_MS } from './session.js';

/** How long a remote may take to apply a batch or to NACK a gap (NACK Delay is 10 ms, §12). */
const APPLY_MS = 3000;

const covers = (n: NackMessage, seq: number): boolean => n.flow === 'mo' && n.ranges.some((r) => (seq - r.first) >>> 0 < r.count);

/** The first MO NACK of the session from arrival `from` on that names every number of `seqs`. */
async function nackFor(u: Up, from: number, seqs: number[], ms: number): Promise<NackMessage | undefined> {
  const inSession = ofSession(u.hello, u.helloArrival.from);
  const f = await u.ctx.probe.find((a) => inSession(a) && a.msg?.type === 'nack' && seqs.every((s) => covers(a.msg as NackMessage, s)), ms, from);
  return f?.a.msg as NackMessage | undefined;
}

/** The MO cases send a FULL batch as one unpaced burst: only of a segment this small. */
const tooLarge = (u: Up): Outcome =>
  skip(`a segment of ${u.hello.segSize} bytes: the MO cases send FULL batches of at most ${MAX_MO_BYTES} (start the remote with a smaller -s)`);

/** With the session up and its FULL batch of random bytes applied (checked with -d): `f` gets the content and the segments (or null). */
export function withFullMo(f: (u: Up, a: Buffer, node: RemoteNode | null) => Promise<Outcome>): RemoteCase['run'] {
  return (ctx) =>
    withUp(ctx, async (u) => {
      if (u.hello.segSize > MAX_MO_BYTES) return tooLarge(u);
      const node = attachUnderTest(ctx, u.hello);
      try {
        const a = randomSegment(u);
        await sendFull(u, a);
        if (node !== null && !(await watchMo(node, u.hello.wordSize, APPLY_MS, (w) => w.equals(a)))) {
          return skip(`the FULL batch was not applied within ${APPLY_MS} ms (see full-batch-applied)`);
        }
        if (node === null) await new Promise((r) => setTimeout(r, 200));
        return await f(u, a, node);
      } finally {
        node?.detach();
      }
    });
}

/** Sample MO (with -d) while `wait` runs: the first sample that is not `a`, or undefined. */
async function unchangedWhile<T>(u: Up, node: RemoteNode | null, a: Buffer, wait: Promise<T>): Promise<{ r: T; changed?: string }> {
  let done = false;
  let changed: string | undefined;
  const r = wait.then((v) => ((done = true), v));
  if (node !== null) {
    for (let i = 0; i < 10_000 && !done && changed === undefined; i++) {
      const seen = moWire(node, u.hello.wordSize);
      if (!seen.equals(a)) changed = firstDiff(seen, a, u.hello.pageSize);
      else await new Promise((res) => setTimeout(res, 10));
    }
  }
  return { r: await r, ...(changed === undefined ? {} : { changed }) };
}

export const REMOTE_MO_CASES: RemoteCase[] = [
  {
    id: 'full-batch-applied',
    section: '7.3',
    requirement:
      'A remote MUST apply a complete FULL batch, every page, writing each W-byte word back in its native order (§5.3): its MO then holds the batch byte for byte.',
    run: (ctx) =>
      withUp(ctx, async (u) => {
        if (u.hello.segSize > MAX_MO_BYTES) return tooLarge(u);
        const node = attachUnderTest(ctx, u.hello);
        if (node === null) return skip('needs the remote’s registry folder (-d), on this host');
        try {
          const a = randomSegment(u);
          await sendFull(u, a);
          let last: Buffer = Buffer.alloc(0);
          if (
            await watchMo(
              node,
              u.hello.wordSize,
              APPLY_MS,
              (w) => w.equals(a),
              (w) => (last = w),
            )
          )
            return pass;
          return fail(`MO = the batch within ${APPLY_MS} ms`, firstDiff(last, a, u.hello.pageSize));
        } finally {
          node.detach();
        }
      }),
  },
  {
    id: 'missing-data-nacked-not-applied',
    section: '7.5',
    requirement:
      'A remote MUST NOT apply a batch with a DATA missing, not even in part, and MUST NACK the missing number; once it arrives, the batch is applied whole.',
    run: withFullMo(async (u, a, node) => {
      const b2 = randomSegment(u);
      const b = batch(u, allPages(u), b2);
      const k = Math.floor(b.data.length / 2);
      const missing = b.data[k]!;
      const from = u.ctx.probe.arrivals.length;
      await sendAll(u, [...b.data.filter((_, i) => i !== k), b.commit]);
      const { r: nack, changed } = await unchangedWhile(u, node, a, nackFor(u, from, [missing.seq], APPLY_MS));
      if (changed !== undefined) return fail('MO untouched while a DATA of the batch is missing', changed);
      if (nack === undefined) return fail(`a NACK for ${missing.seq}`, `none within ${APPLY_MS} ms`);
      await sendAll(u, [missing]);
      if (node === null) return pass;
      let last: Buffer = Buffer.alloc(0);
      if (
        await watchMo(
          node,
          u.hello.wordSize,
          APPLY_MS,
          (w) => w.equals(b2),
          (w) => (last = w),
        )
      )
        return pass;
      return fail('the batch applied once its DATA came', firstDiff(last, b2, u.hello.pageSize));
    }),
  },
  {
    id: 'mixed-batch-id-resynced',
    section: '7.3',
    requirement:
      'A remote MUST NOT apply a batch whose DATA carry another Batch Id than its COMMIT; it sends RESYNC for its pages and moves its apply point past it (the next batch applies).',
    run: withFullMo(async (u, a, node) => {
      const pages = allPages(u);
      const b = batch(u, pages, randomSegment(u));
      const last = pages[pages.length - 1]!;
      for (const d of b.data) if (d.page === last) d.batchId = (d.batchId + 7) >>> 0;
      const from = u.ctx.probe.arrivals.length;
      const inSession = ofSession(u.hello, u.helloArrival.from);
      const asked = new Set<number>();
      const resynced = u.ctx.probe.find(
        (x) => {
          if (!inSession(x) || x.msg?.type !== 'resync' || x.msg.flow !== 'mo') return false;
          const r = x.msg as ResyncMessage;
          for (let p = r.full ? 0 : r.firstPage; p < (r.full ? pages.length : r.firstPage + r.pageCount); p++) asked.add(p);
          return pages.every((p) => asked.has(p));
        },
        APPLY_MS,
        from,
      );
      await sendAll(u, [...b.data, b.commit]);
      const { r, changed } = await unchangedWhile(u, node, a, resynced);
      if (changed !== undefined) return fail('MO untouched by the broken batch', changed);
      if (r === undefined) return fail(`RESYNC of pages 0..${last}`, asked.size === 0 ? 'no RESYNC' : `RESYNC of ${[...asked].join(',')} only`);
      // The apply point is past the broken batch: the next batch (not REPLACES) applies.
      const c = randomSegment(u);
      const next = batch(u, [0], c);
      await sendAll(u, [...next.data, next.commit]);
      if (node === null) return pass;
      const want = Buffer.from(a);
      c.copy(want, 0, 0, u.hello.pageSize);
      let seen: Buffer = Buffer.alloc(0);
      if (
        await watchMo(
          node,
          u.hello.wordSize,
          APPLY_MS,
          (w) => w.equals(want),
          (w) => (seen = w),
        )
      )
        return pass;
      return fail('the next batch applied (apply point past the broken one)', firstDiff(seen, want, u.hello.pageSize));
    }),
  },
  {
    id: 'data-beyond-page-dropped',
    section: '5.1',
    requirement:
      'A remote MUST drop, before writing anything, DATA whose range crosses its page’s end or whose Page lies beyond the segment (the batch stays incomplete: it NACKs them, §7.5).',
    run: withFullMo(async (u, a, node) => {
      const ps = u.hello.pageSize;
      const pages = u.hello.segSize / ps;
      const base = { type: 'data', src: 0xffff, dst: u.hello.src, epoch: u.ctx.masterEpoch, flow: 'mo', batchId: u.batchId } as const;
      const s0 = u.seq;
      const s1 = (s0 + 1) >>> 0;
      const cross = { ...base, seq: s0, page: 0, offset: ps - 8, payload: Buffer.alloc(16, 0xee) };
      const beyond = { ...base, seq: s1, page: pages, offset: 0, payload: Buffer.alloc(8, 0xee) };
      const commit = {
        type: 'commit',
        src: 0xffff,
        dst: u.hello.src,
        epoch: u.ctx.masterEpoch,
        flow: 'mo',
        seq: (s0 + 2) >>> 0,
        batchId: u.batchId,
        dataCount: 2,
        pageCount: 2,
        replaces: false,
        full: false,
      };
      u.seq = (s0 + 3) >>> 0;
      u.batchId++;
      const from = u.ctx.probe.arrivals.length;
      await sendAll(u, [cross, beyond, commit] as unknown as Unnumbered[], true);
      const { r: nack, changed } = await unchangedWhile(u, node, a, nackFor(u, from, [s0, s1], APPLY_MS));
      if (changed !== undefined) return fail('MO untouched', changed);
      return nack !== undefined ? pass : fail(`both DATA dropped, so NACKed (${s0}, ${s1})`, `no such NACK within ${APPLY_MS} ms`);
    }),
  },
  {
    id: 'malformed-dropped',
    section: '10.1',
    requirement:
      'A remote MUST drop a datagram that does not decode or is not for it: trailing byte, undefined flag, bad Flow, header Version 1, nonzero top bits of the packet number, Epoch 0, another Dst, another master Epoch (§7.1).',
    run: withFullMo(async (u) => {
      const h = u.hello;
      const next = u.seq;
      const commit = {
        type: 'commit',
        src: 0xffff,
        dst: h.src,
        epoch: u.ctx.masterEpoch,
        flow: 'mo',
        seq: (next + 2) >>> 0,
        batchId: u.batchId,
        dataCount: 2,
        pageCount: 1,
        replaces: false,
        full: false,
      } as Unnumbered;
      const variants: WireFault[] = [
        ...HEADER_FAULTS,
        ['Epoch 0', (p) => (p.writeUInt32BE(0, 12), p)],
        [`Dst ${h.src ^ 1}`, (p) => (p.writeUInt16BE(h.src ^ 1, 10), p)],
        ['another master Epoch', (p) => (p.writeUInt32BE((u.ctx.masterEpoch + 1) >>> 0, 12), p)],
      ];
      for (const [what, mutate] of variants) {
        const from = u.ctx.probe.arrivals.length;
        u.ctx.probe.sendRaw(u.ctx.probe.craft(commit, { mutate }));
        const n = await nackFor(u, from, [next], 400);
        if (n !== undefined) return fail(`COMMIT with ${what} dropped`, 'it drew a NACK (the remote took it)');
      }
      const from = u.ctx.probe.arrivals.length;
      u.ctx.probe.send(commit);
      const n = await nackFor(u, from, [next], ANSWER_MS);
      return n !== undefined ? pass : skip('the well-formed COMMIT drew no NACK either, so the silence proves nothing');
    }),
  },
];
