/**
 * The common shape of a fault scenario: a cluster started and attached, writers on every
 * side, a continuous reader on every receiver, a watcher of the ST peer states, and a log
 * of convergence times. Used by the tests in this folder and by test/slow/soak.ts.
 *
 * Timing: writers tick every 5 ms, the reader every 2 ms, the peer-state watcher every
 * 20 ms, all timers in the test process; stop() clears every one of them.
 */
import { PeerState, type MasterNode, type RemoteNode } from '../../src/index.js';
import { ContinuousReader, waitCaughtUp, waitConverged, type Comparison } from './checker.js';
import { label, type Harness, type NodeId } from './harness.js';
import { clusterFlows, Writers, type Flow, type WritersOptions } from './workload.js';

export const STATE_NAMES: Record<number, string> = { 0: 'UNKNOWN', 1: 'JOINING', 2: 'UP', 3: 'DOWN' };

/** Peer states seen in ST over time, per remote, on the master (its ro and mo records) and on the remote (mo in, and bc in when it has BC). */
export class PeerStateWatch {
  readonly onMaster = new Map<number, Set<number>>();
  readonly onRemote = new Map<number, Set<number>>();
  readonly #master: MasterNode;
  readonly #remotes: ReadonlyMap<number, RemoteNode>;
  #timer: NodeJS.Timeout | undefined;

  constructor(master: MasterNode, remotes: ReadonlyMap<number, RemoteNode>) {
    this.#master = master;
    this.#remotes = remotes;
    this.reset();
  }

  reset(): void {
    for (const n of this.#remotes.keys()) {
      this.onMaster.set(n, new Set());
      this.onRemote.set(n, new Set());
    }
  }

  sample(): void {
    for (const [n, r] of this.#remotes) {
      this.onMaster.get(n)!.add(this.#master.status('ro', n).peerState).add(this.#master.status('mo', n).peerState);
      const seen = this.onRemote.get(n)!.add(r.status('mo').peerState);
      if (r.bc) seen.add(r.status('bc').peerState);
    }
  }

  start(everyMs = 20): void {
    this.sample();
    this.#timer ??= setInterval(() => this.sample(), everyMs);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** True when remote n was seen only UP, on both the master and itself, since the last reset. */
  alwaysUp(n: number): boolean {
    const m = this.onMaster.get(n);
    const r = this.onRemote.get(n);
    return !!m && !!r && m.size === 1 && m.has(PeerState.UP) && r.size === 1 && r.has(PeerState.UP);
  }

  describe(n: number): string {
    const names = (s: Set<number> | undefined): string => [...(s ?? [])].map((v) => STATE_NAMES[v] ?? String(v)).join('/');
    return `remote ${n}: master saw ${names(this.onMaster.get(n))}, remote saw ${names(this.onRemote.get(n))}`;
  }
}

export interface ConvergenceRecord {
  fault: string;
  /** Catch-up: every receiver reached the writers' position at the end of the fault (writers running). */
  catchUpMs: number | undefined;
}

export interface Scenario {
  h: Harness;
  master: MasterNode;
  remotes: Map<number, RemoteNode>;
  flows: Flow[];
  writers: Writers;
  reader: ContinuousReader;
  states: PeerStateWatch;
  records: ConvergenceRecord[];
  /** Flows of remote n (mo[n], ro[n] and bc[n]). */
  flowsOf(n: number): Flow[];
  /** The bc[n] flows (empty without BC). */
  bcFlows: Flow[];
  /** One line on BC: mode, updates written, remotes the master moved to unicast. */
  describeBc(): string;
  /**
   * After a fault ended: marks the writers' position now and waits (bounded) until every
   * tracked flow's receiver reached it, records and returns the time.
   */
  catchUp(fault: string, timeoutMs?: number, only?: readonly Flow[]): Promise<number | undefined>;
  /** Stops the writers and waits until every tracked flow is byte-identical and as written. */
  settle(timeoutMs?: number): Promise<{ ms: number | undefined; last: Comparison }>;
  stop(): void;
}

export interface ScenarioOptions {
  /** Remote ids to start (default all). */
  start?: number[];
  writers?: WritersOptions;
  /** Starts remotes with these master ports (the relay), by id. */
  remotePort?: (n: number) => number | undefined;
}

/** Remotes the master's log says it moved to unicast BC (spec §8.4 fallback), in order, repeats kept. */
export function unicastFallbacks(h: Harness): number[] {
  const out: number[] = [];
  for (const d of h.history) {
    if (d.node !== 'master') continue;
    for (const m of d.stderr().matchAll(/remote gets no multicast; sending it BC by unicast client=(\d+)/g)) out.push(Number(m[1]));
  }
  return out;
}

/** Starts the master and remotes, attaches, and starts writers, reader and peer-state watch. */
export async function startScenario(h: Harness, o: ScenarioOptions = {}): Promise<Scenario> {
  await h.startMaster();
  const ids = o.start ?? Array.from({ length: h.options.remotes }, (_, n) => n);
  await Promise.all(ids.map(async (n) => {
    const port = o.remotePort?.(n);
    const d = await h.startRemote(n, port === undefined ? {} : { port });
    // Multicast mode for real: each remote joined the group before the writers start.
    if (h.group) await d.waitFor(/joined multicast group/, 5000);
  }));
  const { master, remotes } = h.attach();
  if (h.options.bc && !master.bc) throw new Error('the master was started with -b but its registry lists no BC');
  const flows = clusterFlows(master, remotes);
  const bcFlows = flows.filter((f) => f.model.name.dir === 'bc');
  const writers = new Writers(flows, o.writers);
  const reader = new ContinuousReader(flows);
  const states = new PeerStateWatch(master, remotes);
  const records: ConvergenceRecord[] = [];
  const s: Scenario = {
    h, master, remotes, flows, writers, reader, states, records, bcFlows,
    flowsOf: (n) => flows.filter((f) => f.model.name.client === n),
    describeBc() {
      if (!h.options.bc) return 'no BC';
      const fallbacks = unicastFallbacks(h);
      const mode = h.group ? `multicast to ${h.group}` : 'unicast fan-out';
      const fb = h.group ? `; master moved to unicast: ${fallbacks.length ? fallbacks.map((n) => `remote ${n}`).join(', ') : 'none'}` : '';
      return `BC ${h.options.bc.size} by ${mode} to ${bcFlows.length} remotes: ${writers.totalOf('bc')} updates written${fb}`;
    },
    async catchUp(fault, timeoutMs = 15_000, only) {
      const marks = new Map([...writers.marks()].filter(([f]) => !only || only.includes(f)));
      const ms = await waitCaughtUp(marks, timeoutMs);
      records.push({ fault, catchUpMs: ms });
      return ms;
    },
    async settle(timeoutMs = 15_000) {
      writers.stop();
      return waitConverged(flows.filter((f) => f.tracked), timeoutMs);
    },
    stop() {
      writers.stop();
      reader.stop();
      states.stop();
    },
  };
  h.atDestroy(() => s.stop());
  reader.start();
  states.start();
  writers.start();
  return s;
}

/**
 * True when the comparison covers a bc[n] flow for every tracked remote with BC, BC was
 * written at all, and each of those remotes' BC equals the master's and the writer's state.
 */
export function bcAgrees(s: Scenario, last: Comparison): boolean {
  const tracked = s.bcFlows.filter((f) => f.tracked).map((f) => f.label);
  const reports = last.flows.filter((r) => tracked.includes(r.label));
  return tracked.length > 0 && reports.length === tracked.length && reports.every((r) => r.agree) && s.writers.totalOf('bc') > 0n;
}

export const ms = (v: number | undefined): string => (v === undefined ? 'did not converge' : `${Math.round(v)} ms`);

/** Starts (or restarts) a node and returns how long that took, for the log. */
export async function restart(h: Harness, node: NodeId, port?: number): Promise<number> {
  const t0 = performance.now();
  if (node === 'master') await h.startMaster();
  else await h.startRemote(node, port === undefined ? {} : { port });
  return performance.now() - t0;
}

export { label };
