/**
 * Replication cases of `pdsm conformance master` (spec §5, §6, §7): the MO flow a master
 * sends a freshly validated session, and how it answers NACK and RESYNC on it.
 */
import type { CommitMessage, DataMessage, DigestMessage, HelloMessage, Message } from '../udp/codec.js';
import type { Arrival } from './probe.js';
import { attachMaster } from '../index.js';
import { toWire } from '../segments/word-codec.js';
import { MIN_MTU, NODE_MASTER } from '../udp/constants.js';
import { fail, pass, skip, type MasterCase, type MasterContext, type Outcome } from './case.js';
import { ANSWER_MS, join, type Session } from './session.js';

export interface Joined {
  s: Session;
  data: DataMessage[];
  commit: CommitMessage;
}

export const isMo = (m: Message): m is DataMessage | CommitMessage => (m.type === 'data' || m.type === 'commit') && m.flow === 'mo';

/** Join, validate, and take the MO batch that validation starts (the first COMMIT, with what came before it). */
export async function joinWithFullBatch(ctx: MasterContext, over: Partial<HelloMessage> = {}): Promise<Joined | string> {
  const s = await join(ctx.target, ctx.params, ctx.client, true, over);
  if (typeof s === 'string') return s;
  const data: DataMessage[] = [];
  const deadline = Date.now() + 5000 + 2 * s.welcome.intervalMs;
  for (;;) {
    const m = await s.probe.next(isMo, deadline - Date.now());
    if (m === undefined) {
      await s.end();
      return `no MO COMMIT within ${5000 + 2 * s.welcome.intervalMs} ms of validation (${data.length} DATA)`;
    }
    if (m.type === 'data') data.push(m);
    else return { s, data, commit: m };
  }
}

/** What is wrong with the first batch of a session, or undefined (§7.1, §7.3, §5.3). */
function firstBatchProblem(j: Joined, ctx: MasterContext): string | undefined {
  const { commit: c, data, s } = j;
  const pages = ctx.params.segSize / ctx.params.pageSize;
  if (!c.full || !c.replaces) return `COMMIT without ${c.full ? 'REPLACES' : 'FULL'}`;
  const first = (c.seq - c.dataCount) >>> 0;
  if (first !== s.welcome.moNextSeq) return `first sequence ${first}, WELCOME MO Next Seq ${s.welcome.moNextSeq}`;
  if (c.pageCount !== pages) return `Page Count ${c.pageCount} for ${pages} pages`;
  const seqs = new Set(data.map((d) => d.seq));
  for (let i = 0; i < c.dataCount; i++) if (!seqs.has((first + i) >>> 0)) return `DATA ${(first + i) >>> 0} of the batch did not arrive (loss?)`;
  const other = data.find((d) => d.batchId !== c.batchId);
  if (other !== undefined) return `DATA ${other.seq} carries batch ${other.batchId}, COMMIT ${c.batchId}`;
  const covered = new Map<number, number>();
  for (const d of data) {
    const at = covered.get(d.page) ?? 0;
    if (d.offset !== at) return `page ${d.page}: a range at ${d.offset} where ${at} was next (§5.3: consecutive ranges from 0)`;
    covered.set(d.page, at + d.payload.byteLength);
  }
  for (let p = 0; p < pages; p++) if (covered.get(p) !== ctx.params.pageSize) return `page ${p} covered ${covered.get(p) ?? 0} of ${ctx.params.pageSize} bytes`;
  return undefined;
}

/** Send `msg`-like flow feedback on MO and collect MO DATA/COMMIT for `ms`. */
async function answerTo(j: Joined, body: { type: 'nack' | 'resync' } & Record<string, unknown>, ms: number): Promise<(DataMessage | CommitMessage)[]> {
  const { s } = j;
  s.probe.send({ src: s.hello.src, dst: NODE_MASTER, epoch: s.hello.epoch, flow: 'mo', ...body } as never);
  const got = await s.probe.collect(ms);
  return got.flatMap((a) => (a.msg !== null && isMo(a.msg) ? [a.msg] : []));
}

/** Run `f` on a joined session with its first batch taken, and end the session. */
export async function withBatch(ctx: MasterContext, f: (j: Joined) => Promise<Outcome>, over: Partial<HelloMessage> = {}): Promise<Outcome> {
  const j = await joinWithFullBatch(ctx, over);
  if (typeof j === 'string') return skip(`no first batch to work on: ${j}`);
  try {
    return await f(j);
  } finally {
    await j.s.end();
  }
}

/** How long to wait for a DIGEST: the default Digest Period (30 s, §12) and a margin. */
const DIGEST_WAIT_MS = 35_000;

const quiet = (j: Joined): number => 2 * j.s.welcome.intervalMs + ANSWER_MS;

export const REPLICATION_CASES: MasterCase[] = [
  {
    id: 'first-batch-full-after-validation',
    section: '7.1',
    requirement:
      'Once the COOKIE validates the session, a master MUST send a FULL and REPLACES MO batch from WELCOME’s MO Next Seq, whole pages, every DATA with its COMMIT’s Batch Id.',
    async run(ctx) {
      const j = await joinWithFullBatch(ctx);
      if (typeof j === 'string') return fail('a FULL MO batch', j);
      const bad = firstBatchProblem(j, ctx);
      await j.s.end();
      return bad === undefined ? pass : fail('a FULL+REPLACES batch of whole pages closed by its COMMIT', bad);
    },
  },
  {
    id: 'nack-retransmits-same-data',
    section: '7.6',
    requirement: 'A master MUST answer a NACK for a DATA it still holds with that DATA again: same Seq, Batch Id, page, offset and payload.',
    run: (ctx) =>
      withBatch(ctx, async (j) => {
        const d = j.data[0];
        if (d === undefined) return skip('the first batch had no DATA');
        const got = await answerTo(j, { type: 'nack', ranges: [{ first: d.seq, count: 1 }] }, ANSWER_MS);
        const again = got.find((m): m is DataMessage => m.type === 'data' && m.seq === d.seq);
        if (again === undefined) return fail(`DATA ${d.seq} again`, `${got.length} MO datagrams, none of them DATA ${d.seq}`);
        const same =
          again.batchId === d.batchId && again.page === d.page && again.offset === d.offset && Buffer.from(again.payload).equals(Buffer.from(d.payload));
        return same ? pass : fail(`DATA ${d.seq} as first sent`, `batch ${again.batchId}, page ${again.page}, offset ${again.offset}, other payload bytes`);
      }),
  },
  {
    id: 'nack-before-first-ignored',
    section: '7.6',
    requirement: 'A master MUST ignore NACKed numbers before the session’s first (never sent in it): no retransmission and no replacement batch.',
    run: (ctx) =>
      withBatch(ctx, async (j) => {
        const first = j.s.welcome.moNextSeq;
        const got = await answerTo(j, { type: 'nack', ranges: [{ first: (first - 100) >>> 0, count: 50 }] }, quiet(j));
        return got.length === 0 ? pass : fail('no MO datagram', `${got.length} MO datagrams (first ${got[0]!.type} ${got[0]!.seq})`);
      }),
  },
  {
    id: 'resync-beyond-segment-dropped',
    section: '6.4',
    requirement: 'A master MUST drop whole, never partly answer, a RESYNC whose First Page + Page Count goes beyond the segment.',
    run: (ctx) =>
      withBatch(ctx, async (j) => {
        const pages = ctx.params.segSize / ctx.params.pageSize;
        const got = await answerTo(j, { type: 'resync', full: false, firstPage: pages - 1, pageCount: 2 }, quiet(j));
        if (got.length > 0) return fail('no answer', `${got.length} MO datagrams (first ${got[0]!.type} ${got[0]!.seq})`);
        // Control: the same session answers a valid RESYNC, so the silence above meant something.
        const ok = await answerTo(j, { type: 'resync', full: false, firstPage: pages - 1, pageCount: 1 }, quiet(j));
        if (!ok.some((m) => m.type === 'commit')) return skip('the master answered no valid RESYNC either, so its silence proves nothing');
        return pass;
      }),
  },
  {
    id: 'first-batch-matches-segment',
    section: '5.3',
    requirement:
      'The DATA of a master’s first batch MUST carry its MO slice for that remote as the registry files show it, in the network-neutral form (W-byte words big-endian).',
    async run(ctx) {
      const dir = ctx.registryDir;
      if (dir === null) return skip('needs the master’s registry folder (-d), on this host');
      const j = await joinWithFullBatch(ctx);
      if (typeof j === 'string') return fail('a FULL MO batch', j);
      await j.s.end();
      const master = attachMaster({ registryDir: dir });
      try {
        const want = Buffer.alloc(ctx.params.segSize);
        toWire(master.moSlice(ctx.client), want, ctx.params.wordSize);
        const seen = Buffer.alloc(ctx.params.segSize);
        for (const d of j.data) seen.set(d.payload, d.page * ctx.params.pageSize + d.offset);
        if (seen.equals(want)) return pass;
        const at = seen.findIndex((b, i) => b !== want[i]);
        return fail(`slice ${ctx.client} of MO, network-neutral`, `byte ${at} is 0x${seen[at]!.toString(16)}, the slice has 0x${want[at]!.toString(16)}`);
      } finally {
        master.detach();
      }
    },
  },
  {
    id: 'session-mtu-kept',
    section: '4.2',
    requirement:
      'A master MUST keep every datagram it sends a session within the session MTU (WELCOME MTU): with a HELLO MTU of 576, the first MO batch and, with BC, the FULL BC batch too.',
    async run(ctx) {
      const j = await joinWithFullBatch(ctx, { mtu: MIN_MTU });
      if (typeof j === 'string') return fail('a FULL MO batch', j);
      try {
        if (j.s.welcome.mtu > MIN_MTU) return fail(`WELCOME MTU at most ${MIN_MTU}`, `${j.s.welcome.mtu}`);
        // With BC, validation also starts a FULL batch on the shared BC stream (§4.6, §8.1): wait for its COMMIT.
        if (j.s.welcome.bcMode !== 'none') await j.s.probe.next((m: Message) => m.type === 'commit' && m.flow === 'bc', 5000 + 2 * j.s.welcome.intervalMs);
        const over = j.s.probe.arrivals.filter((a) => a.bytes > j.s.welcome.mtu);
        if (over.length === 0) return pass;
        const m = over[0]!.msg;
        return fail(
          `no datagram over ${j.s.welcome.mtu} bytes`,
          `${over.length}, the first ${over[0]!.bytes} bytes (${m === null ? 'undecoded' : `${m.type} ${'flow' in m ? m.flow : ''}`})`,
        );
      } finally {
        await j.s.end();
      }
    },
  },
  {
    id: 'digest-fits-mtu',
    section: '6.3',
    requirement:
      'A master MUST fit every DIGEST in the session MTU: with a HELLO MTU of 576 each MO DIGEST holds at most (576 - 34 - 16 if sealed) / 8 hashes and is at most 576 bytes.',
    run: (ctx) =>
      withBatch(
        ctx,
        async (j) => {
          const mtu = j.s.welcome.mtu;
          const pages = ctx.params.segSize / ctx.params.pageSize;
          const isDigest = (a: Arrival): boolean => a.msg?.type === 'digest' && a.msg.flow === 'mo';
          const seen: Arrival[] = [];
          const deadline = Date.now() + DIGEST_WAIT_MS;
          // One Digest Period's DIGESTs cover every page (§7.8): take them until they do.
          for (let covered = 0, from = 0; covered < pages && seen.length < 10_000;) {
            const f = await j.s.probe.find(isDigest, deadline - Date.now(), from);
            if (f === undefined) break;
            seen.push(f.a);
            from = f.index + 1;
            covered += (f.a.msg as DigestMessage).hashes.length;
          }
          if (seen.length === 0) return skip(`no MO DIGEST within ${DIGEST_WAIT_MS} ms (Digest Period, §12)`);
          const most = Math.floor((mtu - 34 - (ctx.target.psk ? 16 : 0)) / 8);
          const over = seen.find((a) => a.bytes > mtu || (a.msg as DigestMessage).hashes.length > most);
          if (over === undefined) return pass;
          return fail(`DIGESTs of at most ${most} hashes and ${mtu} bytes`, `one of ${(over.msg as DigestMessage).hashes.length} hashes, ${over.bytes} bytes`);
        },
        { mtu: MIN_MTU },
      ),
  },
  {
    id: 'bc-repair-fits-session-mtu',
    section: '8.1',
    requirement:
      'A master MUST fit a BC retransmission by unicast in the NACKing session’s MTU: with a HELLO MTU of 576, a NACK for a BC DATA of the session draws it (or a replacement batch), every datagram at most 576 bytes.',
    async run(ctx) {
      if (ctx.params.bcSize === 0) return skip('the master has no BC (start it with -b)');
      return withBatch(
        ctx,
        async (j) => {
          const w = j.s.welcome;
          if (w.bcMode !== 'unicast') return skip(`BC Mode ${w.bcMode}: the case NACKs the unicast fan-out`);
          const isBc = (m: Message): m is DataMessage | CommitMessage => (m.type === 'data' || m.type === 'commit') && m.flow === 'bc';
          const wait = 5000 + 2 * w.intervalMs;
          // From the first arrival: waiting for the MO COMMIT took (skipped) what came before it.
          const commit = await j.s.probe.find((a) => a.msg !== null && isBc(a.msg) && a.msg.type === 'commit', wait);
          const d = j.s.probe.arrivals.find((a) => a.msg !== null && isBc(a.msg) && a.msg.type === 'data')?.msg as DataMessage | undefined;
          if (commit === undefined || d === undefined) return skip(`no BC batch within ${wait} ms of validation`);
          const from = j.s.probe.arrivals.length;
          j.s.probe.send({
            type: 'nack',
            src: j.s.hello.src,
            dst: NODE_MASTER,
            epoch: j.s.hello.epoch,
            flow: 'bc',
            ranges: [{ first: d.seq, count: 1 }],
          } as never);
          await j.s.probe.collect(ANSWER_MS);
          const got = j.s.probe.arrivals.slice(from).filter((a) => a.msg !== null && isBc(a.msg));
          if (got.length === 0) return fail(`BC DATA ${d.seq} again (or a replacement batch)`, `no BC datagram within ${ANSWER_MS} ms`);
          const over = got.find((a) => a.bytes > w.mtu);
          return over === undefined ? pass : fail(`BC repairs of at most ${w.mtu} bytes`, `a BC ${over.msg!.type.toUpperCase()} of ${over.bytes} bytes`);
        },
        { mtu: MIN_MTU },
      );
    },
  },
];
