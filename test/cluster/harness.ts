/**
 * A PDSM cluster on a real (virtual) multi-host network, for fault tests: the master in
 * host 0 and remote n in host n+1 of a createBridgeNetwork, each daemon a real process
 * started with `ip netns exec`, faults injected with nft inside a host's namespace, and
 * daemons killed and restarted by pid.
 *
 * SysV IPC is not split by network namespaces, so every host gets its own key base (-k)
 * and registry folder (-d), as if it were its own machine; the test process attaches to
 * every host's segments from outside through those folders. Key bases are one random
 * 64K window per cluster, host i at window + i*0x1000 (a node uses at most
 * 0x28 + 4*(N+1) keys from its base), away from testPlace()'s 0x20000000..0x5fffffff.
 *
 * The same harness runs on loopback without namespaces (`network: 'loopback'`) so that
 * the seeded relay, which only relays on loopback, can sit between remotes and master.
 *
 * BC (`bc` option): the master gets `-b size`; remotes learn BC at join. In 'multicast'
 * mode (namespaces only) the master also gets `-m group --multicast-if <its address>` and
 * every remote `--multicast-if <its address>`; the group is random per harness, on the
 * master's port + 1 (IPv4 239.77.x.y, IPv6 ff15::77:x, scope 5 as site-local).
 *
 * Teardown is always complete: destroy() (register it with t.teardown) stops daemons by
 * pid, detaches, removes every segment of every key base and the folders, and deletes the
 * namespaces; a synchronous version runs on process exit and on SIGINT/SIGTERM/SIGHUP, so
 * a test that times out (tap sends SIGTERM) leaves nothing behind either.
 *
 * Processes are watched, and segments removed, by the one kit of src/cli/launch.ts (the
 * tests' fixtures, the benchmarks and the demo use it too).
 *
 * Timing: daemons are waited for by their log lines (`running`, `joined master`) with a
 * bounded timeout; a stop waits at most `graceMs` after SIGTERM before SIGKILL.
 */
import { execFileSync, type ChildProcess, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachMaster, attachRemote, type MasterNode, type RemoteNode } from '../../src/index.js';
import { BIN, freeUdpPort, removeSegments, watchProcess } from '../../src/cli/launch.js';
import { createBridgeNetwork, type BridgeNetwork, type LossSpec, type NetnsHost } from '../fixtures/netns.js';

export interface HarnessOptions {
  remotes: number;
  /** 'netns' (default): one namespace per node; 'loopback': every daemon on 127.0.0.1 / ::1. */
  network?: 'netns' | 'loopback';
  family?: 4 | 6;
  /** -i, default 50 ms. */
  intervalMs?: number;
  /** -s of every node, default 16K. */
  size?: string;
  /** Extra arguments for every daemon. */
  args?: string[];
  /** Namespace name prefix (1..4 letters). */
  prefix?: string;
  /** A broadcast segment: its size (-b) and how the master sends it. */
  bc?: BcOptions;
}

export interface BcOptions {
  /** -b on the master, e.g. '8K'. */
  size: string;
  /** 'unicast': fan-out to each remote (no -m); 'multicast': -m to a random group (netns only). */
  mode: 'unicast' | 'multicast';
}

/** One node: the master (id 'master') or remote n. */
export type NodeId = 'master' | number;

export interface DaemonProcess {
  readonly node: NodeId;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Everything this process wrote to stderr. */
  stderr(): string;
  /** Resolves once stderr matches; rejects after timeoutMs or when the process exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  readonly exited: Promise<string>;
  alive(): boolean;
}

export interface NodePlace {
  readonly node: NodeId;
  readonly dir: string;
  readonly keyBase: number;
  /** The namespace, or undefined on loopback. */
  readonly host: NetnsHost | undefined;
  /** Address the daemons use on this node's network. */
  readonly address: string;
}

export interface Harness {
  readonly options: Required<Omit<HarnessOptions, 'prefix' | 'args' | 'bc'>> & { args: string[]; bc: BcOptions | undefined };
  /** The BC multicast group in 'multicast' mode, else undefined. */
  readonly group: string | undefined;
  readonly net: BridgeNetwork | undefined;
  readonly family: 4 | 6;
  readonly port: number;
  readonly places: ReadonlyMap<NodeId, NodePlace>;
  /** The current process of each node that has been started (killed ones stay until restarted). */
  readonly daemons: ReadonlyMap<NodeId, DaemonProcess>;
  /** Every process ever started, in order, for logs. */
  readonly history: readonly DaemonProcess[];
  /** Starts the master and waits for `running`. */
  startMaster(extra?: string[]): Promise<DaemonProcess>;
  /** Starts remote n (master port override for a relay) and waits for `joined master` unless wait is 'running'. */
  startRemote(n: number, opts?: { port?: number; extra?: string[]; wait?: 'joined' | 'running' }): Promise<DaemonProcess>;
  /** SIGKILL (default) a node's current daemon by pid and wait until it is gone. */
  kill(node: NodeId, signal?: NodeJS.Signals): Promise<string>;
  loss(node: NodeId, spec: LossSpec): Promise<void>;
  partition(node: NodeId): Promise<void>;
  heal(node: NodeId): Promise<void>;
  /** Packets the node's nft fault rules have dropped so far (0 when it has none). */
  dropped(node: NodeId): Promise<number>;
  /** Packets received on the node's eth0 so far (the kernel's count, below nft). */
  rxPackets(node: NodeId): Promise<number>;
  /** Views of every node's segments (attached once; valid across daemon restarts). */
  attach(): { master: MasterNode; remotes: Map<number, RemoteNode> };
  /** Runs `fn` first thing in destroy (and on the exit path): stop timers that use the attachments. */
  atDestroy(fn: () => void): void;
  /** The last lines of every daemon's log, for a failure report. */
  logTail(lines?: number): string;
  destroy(): Promise<void>;
}

const GRACE_MS = 2000;
/** `p`'s value, or 'timeout' after ms; the timer is cleared either way, so it never holds the process. */
function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Everything made by harnesses not yet destroyed, for the synchronous exit path. */
interface Leftovers {
  pids: Set<number>;
  keyBases: number[];
  remotes: number;
  dirs: string[];
  detach: (() => void)[];
  /** Stops of timers that read or write the attachments: run before anything is detached. */
  stops: (() => void)[];
  /** Network namespaces, deleted on the synchronous path only (destroy() leaves them to netns.ts). */
  namespaces: string[];
}
const leftovers = new Set<Leftovers>();

function removeSync(l: Leftovers): void {
  for (const stop of l.stops.splice(0)) stop();
  for (const pid of l.pids) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  l.pids.clear();
  for (const d of l.detach) d();
  for (const base of l.keyBases) removeSegments(base, l.remotes);
  for (const dir of l.dirs) rmSync(dir, { recursive: true, force: true });
  leftovers.delete(l);
}

/** The exit path: also the namespaces (netns.ts does this on exit and SIGINT/TERM/HUP, but not on SIGALRM). */
function removeAllSync(): void {
  for (const l of [...leftovers]) {
    removeSync(l);
    for (const ns of l.namespaces) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore', timeout: 5000 });
      } catch {
        // already gone
      }
    }
  }
}

let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', removeAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      removeAllSync();
      process.off(sig, onSignal);
      // Let the default action (or another handler, such as netns.ts's) see it now.
      process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
  // tap's timeout: the runner sends SIGALRM, tap reports the timeout and then kills the
  // process with SIGALRM again, leaving teardowns no time to finish. Clean up at once and
  // leave the ending to tap.
  const onAlarm = (): void => {
    removeAllSync();
    process.off('SIGALRM', onAlarm);
  };
  process.on('SIGALRM', onAlarm);
}

/** A daemon of `node`, watched by the one kit (src/cli/launch.ts): stderr kept, waits bounded. */
function watch(node: NodeId, child: ChildProcess): DaemonProcess {
  const p = watchProcess(child, { label: label(node) });
  return { node, pid: p.pid, child, stderr: p.stderr, waitFor: p.waitFor, alive: p.alive, exited: p.exited.then(String) };
}

export function label(node: NodeId): string {
  return node === 'master' ? 'master' : `remote ${node}`;
}

/** Builds the network (or not, on loopback) and the places; starts nothing. */
export async function createHarness(o: HarnessOptions): Promise<Harness> {
  const options = {
    remotes: o.remotes,
    network: o.network ?? 'netns',
    family: o.family ?? 4,
    intervalMs: o.intervalMs ?? 50,
    size: o.size ?? '16K',
    args: o.args ?? [],
    bc: o.bc,
  } as const;
  if (!Number.isInteger(options.remotes) || options.remotes < 1 || options.remotes > 14) throw new RangeError(`remotes must be 1..14, got ${options.remotes}`);
  if (options.bc?.mode === 'multicast' && options.network !== 'netns') throw new RangeError('BC multicast needs the netns network (every daemon on loopback would share one interface)');
  const group = options.bc?.mode !== 'multicast' ? undefined
    : options.family === 6 ? `ff15::77:${randomInt(1, 0xffff).toString(16)}` : `239.77.${randomInt(1, 255)}.${randomInt(1, 255)}`;
  hookExit();
  const net = options.network === 'netns' ? await createBridgeNetwork({ hosts: options.remotes + 1, ...(o.prefix ? { prefix: o.prefix } : {}) }) : undefined;
  const window = 0x60000000 + (randomInt(0, 0x1ffe) << 16);
  const own: Leftovers = {
    pids: new Set(), keyBases: [], remotes: options.remotes, dirs: [], detach: [], stops: [],
    namespaces: net ? [...net.hosts.map((x) => x.name), net.bridge] : [],
  };
  leftovers.add(own);
  const places = new Map<NodeId, NodePlace>();
  const loop = options.family === 6 ? '::1' : '127.0.0.1';
  const nodes: NodeId[] = ['master', ...Array.from({ length: options.remotes }, (_, n) => n)];
  nodes.forEach((node, i) => {
    const dir = mkdtempSync(join(tmpdir(), `pdsm-cluster-${i}-`));
    const keyBase = window + i * 0x1000;
    own.dirs.push(dir);
    own.keyBases.push(keyBase);
    const host = net?.hosts[i];
    const address = host ? (options.family === 6 ? host.ipv6 : host.ipv4) : loop;
    places.set(node, { node, dir, keyBase, host, address });
  });
  const port = net ? 31415 : await freeUdpPort(options.family);
  const daemons = new Map<NodeId, DaemonProcess>();
  const history: DaemonProcess[] = [];
  let views: { master: MasterNode; remotes: Map<number, RemoteNode> } | undefined;
  let destroying: Promise<void> | undefined;

  const place = (node: NodeId): NodePlace => {
    const p = places.get(node);
    if (!p) throw new RangeError(`no such node: ${String(node)}`);
    return p;
  };
  const hostOf = (node: NodeId): NetnsHost => {
    const h = place(node).host;
    if (!h || !net) throw new Error('faults by nft need the netns network; use the relay on loopback');
    return h;
  };
  const common = (p: NodePlace): string[] => [
    '-d', p.dir, '-k', `0x${p.keyBase.toString(16)}`, '-s', options.size, '-i', String(options.intervalMs),
    ...(options.family === 6 ? ['-y', '6'] : []), ...options.args,
  ];
  const launch = (node: NodeId, bin: string, args: string[]): DaemonProcess => {
    if (destroying) throw new Error('harness is being destroyed');
    const current = daemons.get(node);
    if (current?.alive()) throw new Error(`${label(node)} is still running (pid ${current.pid})`);
    const p = place(node);
    const child = p.host
      ? p.host.spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const d = watch(node, child);
    if (d.pid > 0) {
      own.pids.add(d.pid);
      void d.exited.then(() => own.pids.delete(d.pid));
    }
    daemons.set(node, d);
    history.push(d);
    return d;
  };

  const h: Harness = {
    options,
    group,
    net,
    family: options.family,
    port,
    places,
    daemons,
    history,
    async startMaster(extra = []) {
      const p = place('master');
      const bc = options.bc ? ['-b', options.bc.size, ...(group ? ['-m', group, '--multicast-if', p.address] : [])] : [];
      const d = launch('master', BIN.master, [...common(p), '-p', String(options.remotes), '-P', String(port), '-L', p.address, ...bc, ...extra]);
      await d.waitFor(/running/);
      return d;
    },
    async startRemote(n, so = {}) {
      const p = place(n);
      const master = place('master');
      const mcast = group ? ['--multicast-if', p.address] : [];
      const d = launch(n, BIN.remote, [...common(p), '-n', String(n), '-P', String(so.port ?? port), '-H', master.address, '-L', p.address, ...mcast, ...(so.extra ?? [])]);
      // The remote joins before it writes its registry and says `running`: wait for both.
      await d.waitFor(/running/);
      if (so.wait !== 'running') await d.waitFor(/joined master/);
      return d;
    },
    async kill(node, signal = 'SIGKILL') {
      const d = daemons.get(node);
      if (!d) throw new Error(`${label(node)} was never started`);
      if (!d.alive()) return d.exited;
      process.kill(d.pid, signal);
      const how = await within(d.exited, GRACE_MS * 5);
      if (how === 'timeout') throw new Error(`${label(node)} (pid ${d.pid}) did not exit after ${signal}`);
      return how;
    },
    loss: (node, spec) => net!.loss(hostOf(node), spec),
    partition: (node) => net!.partition(hostOf(node)),
    heal: (node) => net!.heal(hostOf(node)),
    async rxPackets(node) {
      const r = await hostOf(node).exec('ip', ['-j', '-s', 'link', 'show', 'dev', 'eth0']);
      const parsed = JSON.parse(r.stdout) as { stats64?: { rx?: { packets?: number } } }[];
      const packets = parsed[0]?.stats64?.rx?.packets;
      if (packets === undefined) throw new Error(`no rx count for ${label(node)}: ${r.stdout}${r.stderr}`);
      return packets;
    },
    async dropped(node) {
      const r = await hostOf(node).exec('nft', ['list', 'table', 'inet', 'pdsm_fault']);
      if (r.code !== 0) return 0;
      let sum = 0;
      for (const m of r.stdout.matchAll(/counter packets (\d+) bytes \d+ drop/g)) sum += Number(m[1]);
      return sum;
    },
    attach() {
      if (views) return views;
      const master = attachMaster({ registryDir: place('master').dir });
      own.detach.push(() => master.detach());
      const remotes = new Map<number, RemoteNode>();
      for (let n = 0; n < options.remotes; n++) {
        const r = attachRemote({ registryDir: place(n).dir, clientId: n });
        own.detach.push(() => r.detach());
        remotes.set(n, r);
      }
      views = { master, remotes };
      return views;
    },
    atDestroy(fn) {
      own.stops.push(fn);
    },
    logTail(lines = 25) {
      return history
        .map((d) => {
          const tail = d.stderr().trimEnd().split('\n').slice(-lines).join('\n');
          return `--- ${label(d.node)} pid ${d.pid} (${d.alive() ? 'running' : 'exited'}) ---\n${tail}`;
        })
        .join('\n');
    },
    destroy() {
      destroying ??= (async () => {
        for (const stop of own.stops.splice(0)) stop();
        const running = [...daemons.values()].filter((d) => d.alive());
        for (const d of running) {
          try {
            process.kill(d.pid, 'SIGTERM');
          } catch {
            // gone
          }
        }
        await Promise.all(running.map((d) => within(d.exited, GRACE_MS)));
        removeSync(own); // SIGKILLs what is left, detaches, removes segments and folders
        await net?.destroy();
      })();
      return destroying;
    },
  };
  return h;
}

/** Minimal slice of tap's Test that the harness needs, so soak.ts can run without tap. */
export interface TeardownHost {
  teardown(fn: () => unknown): void;
  passing(): boolean;
  comment(...args: unknown[]): void;
}

/** A harness torn down with the test; on failure the test output gets every daemon's log tail. */
export async function harnessFor(t: TeardownHost, o: HarnessOptions): Promise<Harness> {
  const h = await createHarness(o);
  t.teardown(async () => {
    if (!t.passing()) t.comment(`daemon logs:\n${h.logTail()}`);
    await h.destroy();
  });
  return h;
}
