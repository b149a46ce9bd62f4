/**
 * DIGEST cases of `pdsm conformance remote` (spec §6.3, §7.8): after a FULL MO batch the
 * tool, as the master, sends a DIGEST of that batch. A page whose hash differs draws a
 * RESYNC of that run of pages; a DIGEST reaching beyond the segment is dropped whole.
 */
import type { DigestMessage, ResyncMessage } from '../udp/codec.js';
import { native } from '../segments/native.js';
import { NODE_MASTER } from '../udp/constants.js';
import { fail, pass, skip, type RemoteCase } from './case.js';
import { withFullMo } from './cases-remote-mo.js';
import { allPages, ofSession, type Up } from './master-play.js';
import type { Unnumbered } from './probe.js';
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
];
