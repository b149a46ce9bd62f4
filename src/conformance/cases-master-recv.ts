/**
 * Cases of `pdsm conformance master` on the master as a receiver (spec §3.2, §3.4, §6.1,
 * §9.3..§9.5, §10): on a validated session whose first MO batch arrived, a NACK for its
 * first DATA draws that DATA again (§7.6), so a NACK the master takes is seen by what it
 * draws. Each case sends NACKs the master must drop (malformed, from another port, sealed
 * wrong, replayed, ...) and expects no DATA, then the well-formed NACK, which must draw it
 * (a control: without it the silence proves nothing, and the case skips).
 */
import { randomBytes } from 'node:crypto';
import type { DataMessage, Message, SeqRange } from '../udp/codec.js';
import { HANDSHAKE_SALT_SIZE, HEADER_SIZE, KEY_SIZE, NODE_ALL, NODE_MASTER } from '../udp/constants.js';
import { brief, fail, HEADER_FAULTS, pass, skip, type MasterCase, type Outcome, type WireFault } from './case.js';
import { withBatch, type Joined } from './cases-replication.js';
import { Probe, type Unnumbered } from './probe.js';
import { ANSWER_MS, hello, join } from './session.js';

/** How long a dropped NACK is given to draw DATA anyway (longer than the Repair Hold-off, §12, on a LAN). */
const DROP_MS = 400;
/** Wait this long before a NACK that repeats one just answered: a repair is sent at most once per Repair Hold-off (§8.2). */
const HOLD_OFF_WAIT_MS = 250;

/** The NACK of `ranges` on MO, of the session. */
const nack = (j: Joined, ranges: SeqRange[]): Unnumbered =>
  ({ type: 'nack', src: j.s.hello.src, dst: NODE_MASTER, epoch: j.s.hello.epoch, flow: 'mo', ranges }) as Unnumbered;

/** Whether DATA `seq` of MO arrives at any of `probes` within `ms` after `send` runs. */
async function drawsData(probes: Probe[], seq: number, send: () => void, ms: number): Promise<boolean> {
  const from = probes.map((p) => p.arrivals.length);
  send();
  const isIt = (a: { msg: Message | null }): boolean => a.msg?.type === 'data' && a.msg.flow === 'mo' && (a.msg as DataMessage).seq === seq;
  const found = await Promise.all(probes.map((p, i) => p.find(isIt, ms, from[i])));
  return found.some((f) => f !== undefined);
}

/**
 * On a session with its first MO batch: each of `dropped` (what, the wire bytes; sent from
 * `probe`, default the session's) must draw no DATA; the well-formed NACK then must.
 */
async function droppedThenControl(j: Joined, dropped: () => { what: string; wire: Buffer; probe?: Probe }[]): Promise<Outcome> {
  const d = j.data[0];
  if (d === undefined) return skip('the first batch had no DATA');
  const probes = [j.s.probe];
  // Past the Repair Hold-off since the batch went out (§8.2): a NACK the master took now draws DATA.
  await new Promise((res) => setTimeout(res, HOLD_OFF_WAIT_MS));
  for (const x of dropped()) {
    if (x.probe !== undefined && !probes.includes(x.probe)) probes.push(x.probe);
    const took = await drawsData(probes, d.seq, () => (x.probe ?? j.s.probe).sendRaw(x.wire), DROP_MS);
    if (took) return fail(`a NACK with ${x.what} dropped`, `it drew DATA ${d.seq} again (the master took it)`);
  }
  const control = await drawsData([j.s.probe], d.seq, () => j.s.probe.send(nack(j, [{ first: d.seq, count: 1 }])), ANSWER_MS);
  return control ? pass : skip(`the well-formed NACK drew no DATA ${d.seq} either, so the silence proves nothing`);
}

/** The session's NACK for its first DATA, crafted (numbered, sealed as the run seals) with `o`. */
const crafted = (j: Joined, o: Parameters<Probe['craft']>[1] = {}): Buffer => j.s.probe.craft(nack(j, [{ first: j.data[0]!.seq, count: 1 }]), o);

export const MASTER_RECV_CASES: MasterCase[] = [
  {
    id: 'malformed-dropped',
    section: '10.1',
    requirement:
      'A master MUST drop a datagram that does not decode or is not for it: a session NACK with a trailing byte, an undefined flag (§3.2), bad Flow, header Version 1 (§10.4), nonzero top bits of the packet number, another Dst, Dst ALL or Src MASTER (§3.4), another Epoch (§9.3).',
    run: (ctx) =>
      withBatch(ctx, (j) => {
        const other = (ctx.client + 1) % Math.max(2, ctx.params.clientCount);
        const variants: WireFault[] = [
          ...HEADER_FAULTS,
          [`Dst ${other}`, (p) => (p.writeUInt16BE(other, 10), p)],
          ['Dst ALL', (p) => (p.writeUInt16BE(NODE_ALL, 10), p)],
          ['Src MASTER', (p) => (p.writeUInt16BE(NODE_MASTER, 8), p)],
          ['another Epoch', (p) => (p.writeUInt32BE((j.s.hello.epoch + 1) >>> 0, 12), p)],
        ];
        return droppedThenControl(j, () => variants.map(([what, mutate]) => ({ what, wire: crafted(j, { mutate }) })));
      }),
  },
  {
    id: 'nack-overlapping-ranges',
    section: '6.1',
    requirement: 'A master MUST tolerate overlapping NACK ranges: a NACK naming its first MO DATA in three overlapping ranges draws that DATA again.',
    run: (ctx) =>
      withBatch(ctx, async (j) => {
        const d = j.data[0];
        if (d === undefined) return skip('the first batch had no DATA');
        const n = Math.min(3, j.data.length);
        const ranges = [
          { first: d.seq, count: n },
          { first: d.seq, count: 1 },
          { first: d.seq, count: n },
        ];
        const got = await drawsData([j.s.probe], d.seq, () => j.s.probe.send(nack(j, ranges)), ANSWER_MS);
        return got ? pass : fail(`DATA ${d.seq} again`, `none within ${ANSWER_MS} ms`);
      }),
  },
  {
    id: 'session-address-checked',
    section: '9.3',
    requirement:
      'A master MUST take a session’s datagrams only from the session address and port: its NACK (sealed with the session’s keys, with a PSK) from another port draws nothing.',
    run: (ctx) =>
      withBatch(ctx, async (j) => {
        const other = await Probe.open(ctx.target);
        try {
          other.keys = j.s.probe.keys;
          // Above every number the session used, so that only the address can make it a drop (§9.3 step 5).
          other.packetNumber = j.s.probe.packetNumber + 1000;
          const wire = other.craft(nack(j, [{ first: j.data[0]?.seq ?? 0, count: 1 }]));
          const out = await droppedThenControl(j, () => [{ what: `another source port (${other.port})`, wire, probe: other }]);
          const answered = other.arrivals.find((a) => a.msg !== null && a.msg.type !== 'reject');
          if (out.verdict === 'pass' && answered !== undefined) return fail('nothing to the other port (a REJECT at most)', brief(answered.msg ?? undefined));
          return out;
        } finally {
          await other.close();
        }
      }),
  },
  {
    id: 'mixed-seal-dropped',
    section: '9.5',
    requirement: 'A master with a PSK MUST drop every unsealed datagram, and one without a PSK every sealed one: such a session NACK draws nothing.',
    run: (ctx) =>
      withBatch(ctx, (j) =>
        droppedThenControl(j, () => [
          ctx.target.psk === null
            ? { what: 'a seal (a master without a PSK)', wire: crafted(j, { key: randomBytes(KEY_SIZE) }) }
            : { what: 'no seal (a master with a PSK)', wire: crafted(j, { key: null }) },
        ]),
      ),
  },
  {
    id: 'wrong-key-dropped',
    section: '9.3',
    requirement:
      'A master MUST drop a sealed datagram whose tag does not verify: a session NACK sealed under another key, or with one ciphertext byte changed.',
    run: (ctx) =>
      ctx.target.psk === null
        ? Promise.resolve(skip('needs a PSK (--psk-file)'))
        : withBatch(ctx, (j) =>
            droppedThenControl(j, () => {
              const flipped = crafted(j);
              flipped[HEADER_SIZE] = flipped[HEADER_SIZE]! ^ 0x01;
              return [
                { what: 'another key', wire: crafted(j, { key: randomBytes(KEY_SIZE) }) },
                { what: 'a ciphertext byte changed', wire: flipped },
              ];
            }),
          ),
  },
  {
    id: 'replay-dropped',
    section: '9.4',
    requirement:
      'A master MUST drop a sealed datagram whose packet number its replay window holds (a NACK sent again byte for byte) or that is more than 1023 below the highest it accepted; one 1023 below, not seen, it takes.',
    run: (ctx) =>
      ctx.target.psk === null
        ? Promise.resolve(skip('needs a PSK (--psk-file)'))
        : withBatch(ctx, async (j) => {
            const d = j.data[0];
            if (d === undefined) return skip('the first batch had no DATA');
            const p = j.s.probe;
            const one = (): Unnumbered => nack(j, [{ first: d.seq, count: 1 }]);
            const took = (wire: Buffer, ms: number): Promise<boolean> => drawsData([p], d.seq, () => p.sendRaw(wire), ms);
            // Kept here, not taken from lastWire: the session's HEARTBEATs go out in between.
            const wire = p.craft(one());
            if (!(await took(wire, ANSWER_MS))) return skip(`the NACK drew no DATA ${d.seq}, so a silence would prove nothing`);
            // Past the Repair Hold-off (max(SRTT, 20 ms), §8.2, §12), so that a replay the master took would draw DATA again.
            await new Promise((res) => setTimeout(res, HOLD_OFF_WAIT_MS));
            if (await took(wire, DROP_MS)) return fail('the NACK sent again byte for byte dropped', `it drew DATA ${d.seq} again`);
            // A new highest, well above (the numbers between stay unseen); then, below the highest
            // sent so far (the session's HEARTBEATs keep counting on), one 1024 below it (outside the
            // window) and one 1023 below (inside, not seen), each crafted at once so no HEARTBEAT takes its number.
            p.packetNumber += 2000;
            if (!(await took(p.craft(one()), ANSWER_MS))) return fail(`a NACK with a new highest packet number ${p.packetNumber - 1} taken`, 'no DATA');
            const at = (below: number): { n: number; wire: Buffer } => {
              const next = p.packetNumber;
              const n = next - 1 - below;
              p.packetNumber = n;
              const wire = p.craft(one());
              p.packetNumber = next;
              return { n, wire };
            };
            const outside = at(1024);
            if (await took(outside.wire, DROP_MS)) return fail(`packet number ${outside.n} (1024 below the highest) dropped`, 'it drew DATA');
            const inside = at(1023);
            if (!(await took(inside.wire, ANSWER_MS))) return fail(`packet number ${inside.n} (1023 below the highest, not seen) taken`, 'no DATA');
            return pass;
          }),
  },
  {
    id: 'older-hello-dropped',
    section: '9.3',
    requirement:
      'A master MUST drop an authenticated HELLO whose Epoch is older than the newest of its Src: while a session lives, a sealed HELLO from its address and port with an older Epoch draws nothing and the session goes on.',
    async run(ctx) {
      if (ctx.target.psk === null) return skip('needs a PSK (--psk-file): the rule is for authenticated HELLOs');
      const s = await join(ctx.target, ctx.params, ctx.client, true);
      if (typeof s === 'string') return fail('a session to start from', s);
      try {
        const older = (s.hello.epoch - 5) >>> 0;
        s.probe.send(hello(ctx.params, ctx.client, older));
        const a = await s.probe.next((m: Message) => (m.type === 'welcome' || m.type === 'reject') && m.remoteEpoch === older, ANSWER_MS);
        if (a !== undefined) return fail(`no answer to a HELLO with Epoch ${older} (the session's is ${s.hello.epoch})`, brief(a));
        const wait = 2 * s.welcome.heartbeatMs + ANSWER_MS;
        const beat = await s.probe.next((m: Message) => m.type === 'heartbeat' && m.epoch === s.welcome.epoch, wait);
        return beat !== undefined ? pass : fail('the session going on (the master’s HEARTBEATs)', `no HEARTBEAT within ${wait} ms`);
      } finally {
        await s.end();
      }
    },
  },
  {
    id: 'welcome-new-salt',
    section: '9.3',
    requirement:
      'A master MUST draw a new Salt for every sealed datagram, retransmissions included: the WELCOMEs to a HELLO and to its retransmission carry two Salts.',
    async run(ctx) {
      if (ctx.target.psk === null) return skip('needs a PSK (--psk-file): only sealed handshake datagrams carry a Salt');
      const s = await join(ctx.target, ctx.params, ctx.client, false);
      if (typeof s === 'string') return fail('WELCOME', s);
      try {
        s.probe.send(s.hello);
        const isWelcome = (a: { msg: Message | null }): boolean => a.msg?.type === 'welcome' && a.msg.remoteEpoch === s.hello.epoch;
        const first = await s.probe.find(isWelcome, ANSWER_MS);
        const again = first && (await s.probe.find(isWelcome, ANSWER_MS, first.index + 1));
        if (first === undefined || again === undefined) return fail('two WELCOMEs', `${first === undefined ? 0 : 1}`);
        const salt = (raw: Buffer | undefined): string => raw?.subarray(HEADER_SIZE, HEADER_SIZE + HANDSHAKE_SALT_SIZE).toString('hex') ?? '';
        const [a, b] = [salt(first.a.raw), salt(again.a.raw)];
        return a !== b ? pass : fail('two Salts', `Salt ${a} twice`);
      } finally {
        await s.end();
      }
    },
  },
];
