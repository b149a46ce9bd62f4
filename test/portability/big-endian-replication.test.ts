import t from 'tap';
import { freeUdpPort } from '../fixtures/cluster.js';
import { testPlace } from '../fixtures/daemon.js';
import { host, s390x, type Platform } from '../fixtures/portability/platforms.js';
import { AgentPool, BIN, eventuallyAsync, startOn, type Agent, type Proc } from '../fixtures/portability/processes.js';

// A big-endian node and a little-endian node replicate MO, RO and BC with every word size:
// a value exactly W bytes wide, stored in native order on one side, reads back as the same
// number in native order on the other (spec/protocol.md §5.3).
const be = s390x();

/** A W-byte value whose bytes all differ (0x11 0x12 ... for k = 1), as a bigint. */
function value(width: number, k: number): bigint {
  let v = 0n;
  for (let i = 0; i < width; i++) v = (v << 8n) | BigInt(0x10 * k + i + 1);
  return v;
}

const agents = new AgentPool((fn) => t.teardown(fn));

interface Pair {
  master: Proc;
  remote: Proc;
  onMaster: Agent;
  onRemote: Agent;
  close(): Promise<void>;
}

async function startPair(masterOn: Platform, remoteOn: Platform, width: number): Promise<Pair> {
  const t0 = Date.now();
  const mark = (s: string): void => {
    if (process.env.PDSM_TRACE_PORT) console.error(`${Date.now() - t0} ms ${s}`);
  };
  const place = testPlace(1);
  const port = await freeUdpPort(4);
  const common = ['-d', place.dir, '-k', place.key, '-P', String(port), '-i', '50', '-w', String(width)];
  const procs: Proc[] = [];
  const attached: Agent[] = [];
  const close = async (): Promise<void> => {
    for (const a of attached) await a.detach();
    mark('agents quit');
    for (const p of procs.reverse()) await p.stop('SIGTERM', 15_000);
    mark('daemons stopped');
    place.cleanup();
  };
  try {
    const master = startOn(masterOn, BIN.master, [...common, '-p', '1', '-b', '4096', '-L', '127.0.0.1']);
    procs.push(master);
    await master.waitFor(/running/);
    mark('master running');
    const remote = startOn(remoteOn, BIN.remote, [...common, '-n', '0', '-H', '127.0.0.1']);
    procs.push(remote);
    // A remote may say it joined before its registry file is written: wait for both.
    await remote.waitFor(/joined master/);
    await remote.waitFor(/registry written/);
    mark('remote joined');
    const { onMaster, onRemote } = await agents.attachPair(masterOn, remoteOn, place.dir, 0, attached);
    mark('agents ready');
    return { master, remote, onMaster, onRemote, close };
  } catch (err) {
    await close();
    throw err;
  }
}

for (const [masterOn, remoteOn] of typeof be === 'string'
  ? []
  : ([
      [host, be],
      [be, host],
    ] as const)) {
  for (const width of [1, 2, 4, 8]) {
    t.test(
      `with -w ${width}, a ${masterOn.name} master and a ${remoteOn.name} remote carry MO, RO and BC values exactly ${width} bytes wide with the same numeric value`,
      async (t) => {
        const p = await startPair(masterOn, remoteOn, width);
        t.teardown(() => p.close());
        t.not(
          p.onMaster.endianness,
          p.onRemote.endianness,
          `the two nodes differ in byte order (${p.onMaster.endianness} master, ${p.onRemote.endianness} remote)`,
        );
        // Two adjacent words per segment: each word is converted on its own.
        const at = { MO: 8, RO: 64, BC: 256 } as const;
        const stores: [Agent, Agent, 'MO' | 'RO' | 'BC', number][] = [
          [p.onMaster, p.onRemote, 'MO', 1],
          [p.onRemote, p.onMaster, 'RO', 3],
          [p.onMaster, p.onRemote, 'BC', 5],
        ];
        for (const [writer, , seg, k] of stores) {
          await writer.store(seg, at[seg], width, value(width, k));
          await writer.store(seg, at[seg] + width, width, value(width, k + 1));
        }
        for (const [, reader, seg, k] of stores) {
          const ok = await eventuallyAsync(async () => (await reader.load(seg, at[seg] + width, width)) === value(width, k + 1));
          t.ok(ok, `${seg} arrived`);
          t.equal(await reader.load(seg, at[seg], width), value(width, k), `${seg} word at ${at[seg]} reads 0x${value(width, k).toString(16)}`);
          t.equal(
            await reader.load(seg, at[seg] + width, width),
            value(width, k + 1),
            `${seg} word at ${at[seg] + width} reads 0x${value(width, k + 1).toString(16)}`,
          );
        }
      },
    );
  }
}

t.test(
  'with -w 8, a u32 stored by a big-endian remote lands in the other half of its word on a little-endian master; the same value widened to u64 arrives whole',
  { skip: typeof be === 'string' ? be : false },
  async (t) => {
    const p = await startPair(host, be as Platform, 8);
    t.teardown(() => p.close());
    await p.onRemote.store('RO', 8, 4, 0x0a0b0c0dn);
    await p.onRemote.store('RO', 16, 8, 0x0a0b0c0dn);
    t.ok(await eventuallyAsync(async () => (await p.onMaster.load('RO', 16, 8)) === 0x0a0b0c0dn), 'the widened value arrived');
    t.equal(await p.onMaster.load('RO', 8, 4), 0n, 'the u32 does not read back at its offset');
    t.equal(await p.onMaster.load('RO', 12, 4), 0x0a0b0c0dn, 'it reads at offset 12, the other half of the 8-byte word');
    t.equal(await p.onMaster.load('RO', 16, 8), 0x0a0b0c0dn, 'the u32 widened to a u64 reads back as the same number');
  },
);

if (typeof be === 'string') t.test('big-endian replication', { skip: be }, () => {});
