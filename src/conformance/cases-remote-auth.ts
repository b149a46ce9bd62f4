/**
 * Source and sealing cases of `pdsm conformance remote` (spec §7.1, §7.6, §9.4, §9.5): an
 * RO NACK is the probe here, since a remote answers one it accepts by retransmitting the
 * DATA it names. Each case sends a NACK the remote must drop (from another port, unsealed
 * or sealed wrongly, replayed) and then, as a control, one it must take.
 */
import { randomBytes } from 'node:crypto';
import type { DataMessage } from '../udp/codec.js';
import { NODE_MASTER } from '../udp/constants.js';
import { fail, pass, skip, type Outcome } from './case.js';
import type { RemoteCase } from './case.js';
import { firstRoBatch, withUp } from './cases-remote-join.js';
import { ofSession, type Up } from './master-play.js';
import { Probe, type Unnumbered } from './probe.js';
import { ANSWER_MS } from './session.js';

const nackRo = (u: Up, seq: number): Unnumbered => ({
  type: 'nack',
  src: NODE_MASTER,
  dst: u.hello.src,
  epoch: u.ctx.masterEpoch,
  flow: 'ro',
  ranges: [{ first: seq, count: 1 }],
});

/** Does RO DATA `seq` come again (to the master port) within `ms` after `send`? */
async function retransmitted(u: Up, seq: number, send: () => void, ms = ANSWER_MS): Promise<DataMessage | undefined> {
  const from = u.ctx.probe.arrivals.length;
  send();
  const inSession = ofSession(u.hello, u.helloArrival.from);
  const f = await u.ctx.probe.find((a) => inSession(a) && a.msg?.type === 'data' && a.msg.flow === 'ro' && a.msg.seq === seq, ms, from);
  return f?.a.msg as DataMessage | undefined;
}

/** The session up, its first RO DATA known: `f` gets its sequence number. */
function withRoData(f: (u: Up, d: DataMessage) => Promise<Outcome>): RemoteCase['run'] {
  return (ctx) =>
    withUp(ctx, async (u) => {
      const b = await firstRoBatch(u);
      const d = b?.data[0];
      if (d === undefined) return skip('no RO DATA arrived to NACK (see ro-first-batch-full)');
      // The Repair Hold-off (§8.2) of the first transmission is long over after this.
      await new Promise((r) => setTimeout(r, 100));
      return f(u, d);
    });
}

/** After a NACK the remote must drop drew nothing: the control NACK must draw the DATA, or the silence proves nothing. */
async function control(u: Up, d: DataMessage): Promise<Outcome> {
  await new Promise((r) => setTimeout(r, 100));
  const again = await retransmitted(u, d.seq, () => u.ctx.probe.send(nackRo(u, d.seq)));
  return again !== undefined ? pass : skip('a valid NACK drew no retransmission either (see ro-nack-retransmits), so the silence proves nothing');
}

export const REMOTE_AUTH_CASES: RemoteCase[] = [
  {
    id: 'ro-nack-retransmits',
    section: '7.6',
    requirement: 'A remote MUST answer a NACK for RO DATA it still holds with that DATA again: same Seq, Batch Id, page, offset and payload.',
    run: withRoData(async (u, d) => {
      const again = await retransmitted(u, d.seq, () => u.ctx.probe.send(nackRo(u, d.seq)));
      if (again === undefined) return fail(`RO DATA ${d.seq} again`, `nothing within ${ANSWER_MS} ms`);
      const same =
        again.batchId === d.batchId && again.page === d.page && again.offset === d.offset && Buffer.from(again.payload).equals(Buffer.from(d.payload));
      return same ? pass : fail(`DATA ${d.seq} as first sent`, `batch ${again.batchId}, page ${again.page}, offset ${again.offset}, other payload bytes`);
    }),
  },
  {
    id: 'nack-overlapping-ranges',
    section: '6.1',
    requirement: 'A remote MUST tolerate overlapping NACK ranges: a NACK naming one RO DATA in three overlapping ranges draws that DATA again.',
    run: withRoData(async (u, d) => {
      const nack = {
        ...nackRo(u, d.seq),
        ranges: [
          { first: (d.seq - 1) >>> 0, count: 3 },
          { first: d.seq, count: 1 },
          { first: d.seq, count: 2 },
        ],
      } as Unnumbered;
      const again = await retransmitted(u, d.seq, () => u.ctx.probe.send(nack));
      return again !== undefined ? pass : fail(`RO DATA ${d.seq} again`, `nothing within ${ANSWER_MS} ms for a NACK of overlapping ranges`);
    }),
  },
  {
    id: 'nack-before-first-ignored',
    section: '7.6',
    requirement:
      'A remote MUST ignore NACKed RO numbers before its session’s first (its HELLO’s RO Next Seq, never sent in it): no retransmission and no replacement batch.',
    run: withRoData(async (u) => {
      const first = u.hello.roNextSeq;
      const from = u.ctx.probe.arrivals.length;
      u.ctx.probe.send({ ...nackRo(u, first), ranges: [{ first: (first - 8) >>> 0, count: 8 }] } as Unnumbered);
      await new Promise((r) => setTimeout(r, ANSWER_MS));
      const inSession = ofSession(u.hello, u.helloArrival.from);
      const ro = u.ctx.probe.arrivals.slice(from).filter((a) => inSession(a) && (a.msg?.type === 'data' || a.msg?.type === 'commit') && a.msg.flow === 'ro');
      const seen = ro.map((a) => a.msg!);
      const commit = seen.find((m) => m.type === 'commit' && m.replaces);
      if (commit !== undefined) return fail('nothing for a NACK of RO numbers before the first', 'a REPLACES batch (a replacement, §7.7)');
      const before = seen.find((m) => m.type === 'data' && ((m.seq - first) | 0) < 0);
      if (before !== undefined) return fail('nothing for a NACK of RO numbers before the first', `RO DATA ${(before as DataMessage).seq}`);
      return pass;
    }),
  },
  {
    id: 'resync-beyond-segment-dropped',
    section: '6.4',
    requirement:
      'A remote MUST drop whole, never partly answer, an RO RESYNC whose First Page + Page Count goes beyond its segment: it draws no RO batch (one within the segment then does).',
    run: withRoData(async (u) => {
      const pages = u.hello.segSize / u.hello.pageSize;
      const resync = (firstPage: number, pageCount: number): Unnumbered =>
        ({ type: 'resync', src: NODE_MASTER, dst: u.hello.src, epoch: u.ctx.masterEpoch, flow: 'ro', full: false, firstPage, pageCount }) as Unnumbered;
      const inSession = ofSession(u.hello, u.helloArrival.from);
      const roBatch = async (send: () => void): Promise<boolean> => {
        const from = u.ctx.probe.arrivals.length;
        send();
        const f = await u.ctx.probe.find((a) => inSession(a) && (a.msg?.type === 'data' || a.msg?.type === 'commit') && a.msg.flow === 'ro', ANSWER_MS, from);
        return f !== undefined;
      };
      if (await roBatch(() => u.ctx.probe.send(resync(pages - 1, 2), true)))
        return fail(`nothing for a RESYNC of pages ${pages - 1}..${pages} (of ${pages})`, 'RO DATA or COMMIT');
      return (await roBatch(() => u.ctx.probe.send(resync(pages - 1, 1))))
        ? pass
        : skip(`a RESYNC of page ${pages - 1} alone drew no RO batch either, so the silence proves nothing`);
    }),
  },
  {
    id: 'other-source-dropped',
    section: '7.1',
    requirement: 'A remote MUST accept datagrams only from the master’s address and port: a NACK (sealed right, with a PSK) from another port draws nothing.',
    run: withRoData(async (u, d) => {
      const p = u.ctx.probe;
      const from = u.helloArrival.from!;
      const stranger = await Probe.open({ host: from.address, port: from.port, family: u.ctx.family, psk: u.ctx.psk });
      try {
        stranger.keys = p.keys;
        // Packet numbers the session has not used, so only the source is wrong (§9.4).
        stranger.packetNumber = p.packetNumber + 100;
        const again = await retransmitted(u, d.seq, () => stranger.send(nackRo(u, d.seq)));
        if (again !== undefined || stranger.arrivals.length > 0) return fail('nothing', `RO DATA ${d.seq} again, for a NACK from port ${stranger.port}`);
      } finally {
        await stranger.close();
      }
      p.packetNumber += 200;
      return control(u, d);
    }),
  },
  {
    id: 'mixed-seal-dropped',
    section: '9.5',
    requirement: 'A remote with a PSK MUST drop every unsealed datagram, and one without a PSK every sealed one: such a NACK draws nothing.',
    run: withRoData(async (u, d) => {
      const p = u.ctx.probe;
      const wire = p.craft(nackRo(u, d.seq), { key: u.ctx.psk === null ? randomBytes(32) : null });
      const again = await retransmitted(u, d.seq, () => p.sendRaw(wire));
      if (again !== undefined) return fail('nothing', `RO DATA ${d.seq} again, for ${u.ctx.psk === null ? 'a sealed' : 'an unsealed'} NACK`);
      return control(u, d);
    }),
  },
  {
    id: 'wrong-key-dropped',
    section: '9.3',
    requirement: 'A remote MUST drop a sealed datagram whose tag does not verify: sealed under another key, or with one ciphertext byte changed.',
    run: withRoData(async (u, d) => {
      if (u.ctx.psk === null) return Promise.resolve(skip('needs a PSK (--psk-file): nothing is sealed without one'));
      const p = u.ctx.probe;
      const other = p.craft(nackRo(u, d.seq), { key: randomBytes(32) });
      const altered = Buffer.from(p.craft(nackRo(u, d.seq)));
      altered[26] = altered[26]! ^ 0x01;
      for (const [what, wire] of [
        ['another key', other],
        ['a changed byte', altered],
      ] as const) {
        const again = await retransmitted(u, d.seq, () => p.sendRaw(wire));
        if (again !== undefined) return fail('nothing', `RO DATA ${d.seq} again, for a NACK sealed with ${what}`);
      }
      return control(u, d);
    }),
  },
  {
    id: 'replay-dropped',
    section: '9.4',
    requirement:
      'A remote MUST drop a sealed datagram whose packet number its replay window already holds: a NACK sent twice, byte for byte, draws one retransmission.',
    run: withRoData(async (u, d) => {
      if (u.ctx.psk === null) return skip('needs a PSK (--psk-file): without one there is no replay window');
      const p = u.ctx.probe;
      const wire = p.craft(nackRo(u, d.seq));
      const first = await retransmitted(u, d.seq, () => p.sendRaw(wire));
      if (first === undefined) return skip('the NACK drew no retransmission the first time (see ro-nack-retransmits)');
      await new Promise((r) => setTimeout(r, 200));
      const again = await retransmitted(u, d.seq, () => p.sendRaw(wire));
      if (again !== undefined) return fail('nothing for the replayed NACK', `RO DATA ${d.seq} again`);
      // Control: the same NACK under a new packet number is answered, so the window (not a repair limit) refused the copy.
      return control(u, d);
    }),
  },
  {
    id: 'replay-window-far-edge',
    section: '9.4',
    requirement:
      'A remote MUST drop a sealed datagram whose packet number is more than 1023 below the highest it accepted, and accept one 1023 below that it has not seen, and a new highest.',
    run: withRoData(async (u, d) => {
      if (u.ctx.psk === null) return skip('needs a PSK (--psk-file): without one there is no replay window');
      const p = u.ctx.probe;
      // A NACK `below` under the highest number sent so far (heartbeats included), or a new highest (null).
      // The count resumes above at once, so the session's heartbeats never reuse or lower it.
      const at = async (below: number | null): Promise<{ pn: number; high: number; answered: boolean }> => {
        const high = p.packetNumber - 1;
        const pn = below === null ? high + 1 : high - below;
        p.packetNumber = pn;
        const wire = p.craft(nackRo(u, d.seq));
        p.packetNumber = Math.max(high + 1, pn + 1);
        const again = await retransmitted(u, d.seq, () => p.sendRaw(wire));
        await new Promise((r) => setTimeout(r, 200));
        return { pn, high, answered: again !== undefined };
      };
      // Numbers far ahead: the ones 1023 and 1024 below the highest were never sent.
      p.packetNumber += 3000;
      const jump = await at(null);
      if (!jump.answered) return skip(`a NACK with packet number ${jump.pn} (a jump ahead) drew no retransmission (see ro-nack-retransmits)`);
      const old = await at(1024);
      if (old.answered) return fail(`nothing for packet number ${old.pn}, 1024 below the highest (${old.high})`, `RO DATA ${d.seq} again`);
      const edge = await at(1023);
      if (!edge.answered) return fail(`RO DATA ${d.seq} again for packet number ${edge.pn}, 1023 below the highest (${edge.high}), unseen`, 'nothing');
      const next = await at(null);
      if (!next.answered) return fail(`RO DATA ${d.seq} again for a new highest packet number ${next.pn}`, 'nothing');
      return pass;
    }),
  },
];
