/**
 * DIGEST cases of `pdsm conformance remote` (spec §6.3, §7.8): after a FULL MO batch the
 * tool, as the master, sends a DIGEST of that batch. A page whose hash differs draws a
 * RESYNC of that run of pages; a DIGEST reaching beyond the segment is dropped whole.
 */
import type { DigestMessage, ResyncMessage } from '../udp/codec.js';
import { native } from '../segments/native.js';
import { MIN_MTU, NODE_MASTER } from '../udp/constants.js';
import { fail, pass, skip, type RemoteCase } from './case.js';
import { withUp } from './cases-remote-join.js';
import { withFullMo } from './cases-remote-mo.js';
import { allPages, attachUnderTest, batch, firstDiff, MAX_MO_BYTES, ofSession, randomSegment, sendAll, watchMo, type Up } from './master-play.js';
import type { Arrival, Unnumbered } from './probe.js';
import { ANSWER_MS } from './session.js';

/** XXH64 (seed 0) of page `p` of `wire`, the segment in network-neutral form (§5.4). */
const hashOf = (u: Up, wire: Buffer, p: number): bigint => native.xxh64(wire.subarray(p * u.hello.pageSize, (p + 1) * u.hello.pageSize), 0n);

/** A DIGEST of the last batch sent (the FULL one): hashes of pages first.. with those of `wrong` flipped. */
function digest(u: Up, wire: Buffer, first: number, count: number, wrong: (p: number) => boolean): Unnumbered {
  const hashes = new BigUint64Array(count);
  for (let i = 0; i < count; i++) {
    const p = first + i;
    const h = p * u.hello.pageSize < wire.length ? hashOf(u, wire, p) : 0n;
    hashes[i] = wrong(p) ? h ^ 0xffn : h;
  }
  const d: Omit<DigestMessage, 'packetNumber'> = {
    type: 'digest',
    src: NODE_MASTER,
    dst: u.hello.src,
    epoch: u.ctx.masterEpoch,
    flow: 'mo',
    batchId: (u.batchId - 1) >>> 0,
    firstPage: first,
    hashes,
  };
  return d as Unnumbered;
}

/** Every MO RESYNC of the session that arrives within `ms` of `send`. */
async function resyncsAfter(u: Up, send: () => void, ms = ANSWER_MS): Promise<ResyncMessage[]> {
  const from = u.ctx.probe.arrivals.length;
  send();
  await new Promise((r) => setTimeout(r, ms));
  const inSession = ofSession(u.hello, u.helloArrival.from);
  return u.ctx.probe.arrivals
    .slice(from)
    .filter((a) => inSession(a) && a.msg?.type === 'resync' && a.msg.flow === 'mo')
    .map((a) => a.msg as ResyncMessage);
}

const said = (rs: ResyncMessage[]): string =>
  rs.length === 0 ? 'no RESYNC' : rs.map((r) => (r.full ? 'RESYNC FULL' : `RESYNC of ${r.pageCount} page(s) from ${r.firstPage}`)).join(', ');

/** How long a remote may take to apply a batch (as cases-remote-mo.ts). */
const APPLY_MS = 3000;

/** How long to wait for a DIGEST: the default Digest Period (30 s, §12) and a margin. */
const DIGEST_WAIT_MS = 35_000;

/** Hashes of at most this many pages go in one DIGEST (34 + 8 × 64 bytes fits the smallest MTU sealed). */
const MAX_HASHES = 64;

export const REMOTE_DIGEST_CASES: RemoteCase[] = [
  {
    id: 'digest-differing-run-resynced',
    section: '7.8',
    requirement:
      'A remote MUST answer a DIGEST of the batch it applied last with a RESYNC of each run of pages whose hashes differ: one wrong hash (page 1) draws RESYNC of page 1 alone.',
    run: withFullMo(async (u, a) => {
      const pages = allPages(u).length;
      if (pages < 3) return skip(`a segment of ${pages} page(s): the case needs 3 (start the remote with a larger -s)`);
      const count = Math.min(pages, MAX_HASHES);
      const rs = await resyncsAfter(u, () => u.ctx.probe.send(digest(u, a, 0, count, (p) => p === 1)));
      const right = rs.length === 1 && !rs[0]!.full && rs[0]!.firstPage === 1 && rs[0]!.pageCount === 1;
      return right ? pass : fail('RESYNC of 1 page(s) from 1, nothing else', said(rs));
    }),
  },
  {
    id: 'digest-beyond-segment-dropped',
    section: '6.3',
    requirement:
      'A remote MUST drop whole a DIGEST whose First Page + Hash Count goes beyond its segment: with every hash wrong it draws no RESYNC (one within the segment then does).',
    run: withFullMo(async (u, a) => {
      const pages = allPages(u).length;
      const first = Math.max(0, pages - 2);
      const beyond = await resyncsAfter(u, () =>
        u.ctx.probe.send(
          digest(u, a, first, pages - first + 1, () => true),
          true,
        ),
      );
      if (beyond.length > 0) return fail(`no RESYNC for a DIGEST of pages ${first}..${pages} (of ${pages})`, said(beyond));
      const control = await resyncsAfter(u, () => u.ctx.probe.send(digest(u, a, first, pages - first, () => true)));
      return control.length > 0 ? pass : skip('a DIGEST within the segment, every hash wrong, drew no RESYNC either (see digest-differing-run-resynced)');
    }),
  },
  {
    id: 'any-cut-applied',
    section: '5.3',
    requirement:
      'A remote MUST accept any cut of a page into consecutive ranges: a FULL MO batch whose pages are cut into ranges of 1, 5, 17 and 3 words (and the rest) is applied (with -d: byte for byte; without: as a DIGEST shows it).',
    run: (ctx) =>
      withUp(ctx, async (u) => {
        if (u.hello.segSize > MAX_MO_BYTES) return skip(`a segment of ${u.hello.segSize} bytes: the MO cases send FULL batches of at most ${MAX_MO_BYTES}`);
        const w = u.hello.wordSize;
        const a = randomSegment(u);
        const b = batch(u, allPages(u), a, { full: true, replaces: true, cut: (i, step) => [1, 5, 17, 3][i % 4]! * w + (i >= 4 ? step : 0) });
        const node = attachUnderTest(ctx, u.hello);
        try {
          await sendAll(u, [...b.data, b.commit]);
          if (node !== null) {
            let last: Buffer = Buffer.alloc(0);
            const ok = await watchMo(
              node,
              w,
              APPLY_MS,
              (x) => x.equals(a),
              (x) => (last = x),
            );
            return ok ? pass : fail(`MO = the batch (${b.data.length} DATA) within ${APPLY_MS} ms`, firstDiff(last, a, u.hello.pageSize));
          }
          const pages = allPages(u).length;
          if (pages < 3) return skip(`without -d the batch is judged by a DIGEST of 3 pages or more; the segment has ${pages}`);
          await new Promise((r) => setTimeout(r, 300));
          const rs = await resyncsAfter(u, () => u.ctx.probe.send(digest(u, a, 0, Math.min(pages, MAX_HASHES), (p) => p === 1)));
          const right = rs.length === 1 && !rs[0]!.full && rs[0]!.firstPage === 1 && rs[0]!.pageCount === 1;
          return right ? pass : fail('the batch applied: a DIGEST with page 1 wrong draws RESYNC of page 1 alone', said(rs));
        } finally {
          node?.detach();
        }
      }),
  },
  {
    id: 'digest-fits-mtu',
    section: '6.3',
    requirement:
      'A remote MUST fit every DIGEST in the session MTU: with a WELCOME MTU of 576 each RO DIGEST holds at most (576 - 34 - 16 if sealed) / 8 hashes and is at most 576 bytes.',
    run: (ctx) =>
      withUp(
        ctx,
        async (u) => {
          const mtu = u.welcome.mtu;
          const pages = allPages(u).length;
          const inSession = ofSession(u.hello, u.helloArrival.from);
          const isDigest = (x: Arrival): boolean => inSession(x) && x.msg?.type === 'digest' && x.msg.flow === 'ro';
          const seen: Arrival[] = [];
          const deadline = Date.now() + DIGEST_WAIT_MS;
          // One Digest Period's DIGESTs cover every page (§7.8): take them until they do.
          for (let covered = 0, from = u.since; covered < pages && seen.length < 10_000;) {
            const f = await u.ctx.probe.find(isDigest, deadline - Date.now(), from);
            if (f === undefined) break;
            seen.push(f.a);
            from = f.index + 1;
            covered += (f.a.msg as DigestMessage).hashes.length;
          }
          if (seen.length === 0) return skip(`no RO DIGEST within ${DIGEST_WAIT_MS} ms (Digest Period, §12)`);
          const most = Math.floor((mtu - 34 - (ctx.psk ? 16 : 0)) / 8);
          const over = seen.find((x) => x.bytes > mtu || (x.msg as DigestMessage).hashes.length > most);
          if (over === undefined) return pass;
          return fail(`DIGESTs of at most ${most} hashes and ${mtu} bytes`, `one of ${(over.msg as DigestMessage).hashes.length} hashes, ${over.bytes} bytes`);
        },
        { mtu: MIN_MTU },
      ),
  },
];
