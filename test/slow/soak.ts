/**
 * Soak: a cluster in network namespaces under random faults for a long time, with writers
 * on every side and a reader on every receiver the whole time.
 *
 *   npm run soak -- --minutes 10 [--remotes 4] [--family 4|6] [--bc multicast|unicast] [--seed N]
 *
 * The master has a broadcast segment (8K) written by its own writer the whole time, sent by
 * multicast (default) or unicast fan-out; every remote's BC is read and checked like MO.
 * Faults (drawn from a seeded generator; the seed is printed for a replay of the same
 * sequence of decisions, though not of the kernel's random loss or of timing): random loss
 * by direction on some hosts, a partition of one remote or of the master (sometimes past
 * the liveness timeout), SIGKILL of the master or a remote and a restart, SIGTERM of a
 * remote and a restart, and (multicast) a block of the group's port on one remote, which
 * must move it to unicast BC. After each fault ends, the time until every receiver caught up
 * with the writers is measured; every few faults and at the end the writers pause and
 * every slice must become byte-identical and equal to what was written. Those updates
 * count as verified. Any violation the reader sees, a flow that does not catch up, or a
 * daemon that dies on its own stops the soak and exits 1 with the daemons' logs.
 * Needs root, ip and nft (it says why and exits 2 otherwise). Not part of `npm test`.
 */
import { parseArgs } from 'node:util';
import { canUseNetns } from '../fixtures/netns.js';
import { Prng, testSeed } from '../fixtures/prng.js';
import { createHarness, label, type Harness, type NodeId } from '../fixtures/scenario/harness.js';
import { bcAgrees, ms, startScenario, unicastFallbacks, type Scenario } from '../fixtures/scenario/scenario.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    remotes: { type: 'string', default: '4' },
    family: { type: 'string', default: '4' },
    bc: { type: 'string', default: 'multicast' },
    seed: { type: 'string' },
  },
});
const minutes = Number(values.minutes);
const remoteCount = Number(values.remotes);
const family = values.family === '6' ? 6 : 4;
const bcMode = values.bc === 'unicast' ? 'unicast' : 'multicast';
if (
  !(minutes > 0 && minutes <= 24 * 60) ||
  !Number.isInteger(remoteCount) ||
  remoteCount < 1 ||
  remoteCount > 8 ||
  !['4', '6'].includes(values.family) ||
  !['multicast', 'unicast'].includes(values.bc)
) {
  process.stderr.write(
    'usage: soak [--minutes N (default 10)] [--remotes 1..8 (default 4)] [--family 4|6] [--bc multicast|unicast (default multicast)] [--seed N]\n',
  );
  process.exit(2);
}
const seed = values.seed === undefined ? testSeed() : Number(values.seed) >>> 0;

const CATCH_UP_TIMEOUT_MS = 30_000;
const VERIFY_EVERY = 4;
const sleep = (n: number): Promise<void> => new Promise((r) => setTimeout(r, n));

const started = performance.now();
const stamp = (): string => `[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s]`;
const say = (line: string): void => void process.stdout.write(`${stamp()} ${line}\n`);

class SoakFailure extends Error {}

interface Tally {
  faults: Map<string, number>;
  catchUps: number[];
  longest: { ms: number; fault: string };
  verified: bigint;
  /** Of those, BC updates (each counted once, though every remote got it). */
  bcVerified: bigint;
  verifications: number;
  longestSettle: number;
}

/** One random fault, injected, held and ended; the catch-up is measured by the caller. */
async function injectFault(h: Harness, rng: Prng, s: Scenario): Promise<{ kind: string; text: string }> {
  const kinds = ['loss', 'loss', 'partition-remote', 'partition-master', 'kill-master', 'kill-remote', 'term-remote'];
  if (h.group) kinds.push('block-multicast');
  const kind = kinds[rng.int(kinds.length)]!;
  return { kind, text: await runFault(kind, h, rng, s) };
}

async function runFault(kind: string, h: Harness, rng: Prng, s: Scenario): Promise<string> {
  const remotes = [...s.remotes.keys()];
  const anyRemote = (): number => remotes[rng.int(remotes.length)]!;
  const hold = (lo: number, hi: number): number => lo + rng.int(hi - lo + 1);
  switch (kind) {
    case 'loss': {
      const pct = [1, 5, 10, 20, 30][rng.int(5)]!;
      const hosts: NodeId[] = rng.int(3) === 0 ? ['master'] : remotes.filter(() => rng.int(2) === 0);
      if (hosts.length === 0) hosts.push(anyRemote());
      const dir = ['in', 'out', 'both'][rng.int(3)]!;
      const spec = { ingress: dir === 'out' ? 0 : pct, egress: dir === 'in' ? 0 : pct };
      const ms = hold(2000, 5000);
      await Promise.all(hosts.map((n) => h.loss(n, spec)));
      await sleep(ms);
      await Promise.all(hosts.map((n) => h.heal(n)));
      return `loss ${pct}% ${dir} on ${hosts.map(label).join(', ')} for ${ms} ms`;
    }
    case 'partition-remote':
    case 'partition-master': {
      const node: NodeId = kind === 'partition-master' ? 'master' : anyRemote();
      const ms = hold(300, 3000);
      await h.partition(node);
      await sleep(ms);
      await h.heal(node);
      return `partition of ${label(node)} for ${ms} ms`;
    }
    case 'kill-master':
    case 'kill-remote':
    case 'term-remote': {
      const node: NodeId = kind === 'kill-master' ? 'master' : anyRemote();
      const signal = kind === 'term-remote' ? 'SIGTERM' : 'SIGKILL';
      const ms = hold(200, 2500);
      await h.kill(node, signal);
      await sleep(ms);
      if (node === 'master') await h.startMaster();
      else await h.startRemote(node, { wait: 'running' });
      return `${signal} of ${label(node)}, restarted after ${ms} ms`;
    }
    case 'block-multicast': {
      // The group's datagrams stop reaching one remote (its unicast still works): spec §8.4
      // says it asks for BC by unicast after 3 silent heartbeats while BC advances.
      const n = anyRemote();
      const host = h.places.get(n)!.host!;
      const ms = hold(3000, 5000);
      const rule = `table inet pdsm_soak_mcast {\n  chain mcast_in {\n    type filter hook input priority -10;\n    udp dport ${h.port + 1} drop\n  }\n}\n`;
      const asks = (): number =>
        (
          h.daemons
            .get(n)
            ?.stderr()
            .match(/asking the master for BC by unicast/g) ?? []
        ).length;
      const asked = asks();
      const r = await host.exec('nft', ['-f', '-'], { input: rule });
      if (r.code !== 0) throw new Error(`nft could not block multicast on ${label(n)}: ${r.stderr}`);
      await sleep(ms);
      await host.exec('nft', ['delete', 'table', 'inet', 'pdsm_soak_mcast']);
      return `multicast blocked on ${label(n)} for ${ms} ms (${asks() > asked ? 'it asked for unicast BC' : 'it did not ask for unicast BC'})`;
    }
    default:
      throw new Error(`unknown fault ${kind}`);
  }
}

function checkHealth(h: Harness, s: Scenario): void {
  for (const [node, d] of h.daemons) if (!d.alive()) throw new SoakFailure(`${label(node)} (pid ${d.pid}) exited on its own: ${d.exited}`);
  if (s.reader.total > 0) throw new SoakFailure(`the reader saw violations: ${s.reader.summary()}`);
}

async function verify(s: Scenario, tally: Tally, why: string): Promise<void> {
  const { ms: took, last } = await s.settle(CATCH_UP_TIMEOUT_MS);
  if (took === undefined) throw new SoakFailure(`slices did not become byte-identical within ${CATCH_UP_TIMEOUT_MS} ms (${why}):\n${last.text}`);
  if (!bcAgrees(s, last)) throw new SoakFailure(`BC was not verified on every remote (${why}):\n${last.text}`);
  tally.verified = s.writers.total;
  tally.bcVerified = s.writers.totalOf('bc');
  tally.verifications++;
  tally.longestSettle = Math.max(tally.longestSettle, took);
  say(
    `verify (${why}): every slice byte-identical and as written ${ms(took)} after the writers paused; ${tally.verified} updates verified (${tally.bcVerified} of them BC)`,
  );
  s.writers.start();
}

async function soak(): Promise<number> {
  const netns = canUseNetns();
  if (!netns.ok) {
    process.stderr.write(`soak needs network namespaces: ${netns.why}\n`);
    return 2;
  }
  const rng = new Prng(seed);
  say(`soak: ${minutes} min, ${remoteCount} remotes, IPv${family}, BC by ${bcMode}, seed ${seed} (replay the fault sequence with --seed ${seed})`);
  const h = await createHarness({ remotes: remoteCount, family, prefix: 'soak', bc: { size: '8K', mode: bcMode } });
  const tally: Tally = { faults: new Map(), catchUps: [], longest: { ms: 0, fault: '' }, verified: 0n, bcVerified: 0n, verifications: 0, longestSettle: 0 };
  let s: Scenario | undefined;
  let failed: string | undefined;
  const deadline = started + minutes * 60_000;
  try {
    s = await startScenario(h);
    say('cluster up; writers and readers running');
    for (let i = 1; i <= 100_000 && performance.now() < deadline; i++) {
      await sleep(200 + rng.int(800));
      checkHealth(h, s);
      const { kind, text: fault } = await injectFault(h, rng, s);
      tally.faults.set(kind, (tally.faults.get(kind) ?? 0) + 1);
      const caught = await s.catchUp(fault, CATCH_UP_TIMEOUT_MS);
      if (caught === undefined) throw new SoakFailure(`receivers did not catch up within ${CATCH_UP_TIMEOUT_MS} ms after: ${fault}`);
      tally.catchUps.push(caught);
      if (caught > tally.longest.ms) tally.longest = { ms: caught, fault };
      say(`fault ${i}: ${fault}; caught up in ${ms(caught)}`);
      checkHealth(h, s);
      if (i % VERIFY_EVERY === 0) await verify(s, tally, `after fault ${i}`);
    }
    await verify(s, tally, 'final');
    checkHealth(h, s);
  } catch (err) {
    failed = err instanceof SoakFailure ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
  } finally {
    s?.stop();
  }

  const sorted = [...tally.catchUps].sort((a, b) => a - b);
  const median = sorted.length ? sorted[Math.floor(sorted.length / 2)]! : 0;
  const lines = [
    '',
    `soak summary (seed ${seed}, ${((performance.now() - started) / 60_000).toFixed(1)} min, ${remoteCount} remotes, IPv${family}, BC by ${bcMode})`,
    `  faults injected:       ${tally.catchUps.length + (failed ? 1 : 0)} (${[...tally.faults].map(([k, v]) => `${k} ${v}`).join(', ')})`,
    `  updates written:       ${s?.writers.total ?? 0n}`,
    `  updates verified:      ${tally.verified} (${tally.verifications} verifications, byte-identical and as written on every side)`,
    `  BC updates:            ${s?.writers.totalOf('bc') ?? 0n} written, ${tally.bcVerified} verified on all ${remoteCount} remotes` +
      (h.group ? `; remotes moved to unicast BC ${unicastFallbacks(h).length} times` : ''),
    `  longest convergence:   ${ms(tally.longest.ms)} after: ${tally.longest.fault || '-'}`,
    `  median convergence:    ${ms(median)}; longest settle after a pause: ${ms(tally.longestSettle)}`,
    `  reader:                ${s?.reader.summary() ?? '-'}`,
    `  result:                ${failed ? `FAILED: ${failed}` : 'ok'}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (failed) process.stdout.write(`\ndaemon logs:\n${h.logTail(40)}\n`);
  await h.destroy();
  return failed ? 1 : 0;
}

process.exitCode = await soak();
