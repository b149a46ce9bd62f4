/**
 * A node's segments: create or re-attach MO, RO, BC and ST with the sizes of docs/design.md §1,
 * claim them for this daemon (one daemon per role and id), write the registry file, and
 * undo all of it: detach on shutdown, remove on -r.
 */
import { join } from 'node:path';
import { PdsmError, isSystemError } from '../errors.js';
import { platform } from '../platform.js';
import { masterKeys, masterStRecords, remoteKeys, REMOTE_ST, stSegmentSize, type NodeKeys } from '../segments/layout.js';
import {
  formatMasterRegistry,
  formatRemoteRegistry,
  MASTER_REGISTRY_NAME,
  remoteRegistryName,
  removeRegistryFile,
  checkRegistryPath,
  writeRegistryFile,
} from '../segments/registry.js';
import { Segment, formatKey } from '../segments/segment.js';
import type { MappingNamespace } from '../segments/namespace.js';
import { StatusRecords } from '../segments/status.js';
import { PrivateState, statePathFor } from './state-file.js';
import type { DaemonConfig, MasterConfig, RemoteConfig } from './config.js';

export interface NodeSegments {
  role: 'master' | 'remote';
  /** "pdsm_master" or "pdsm_remote 3", for messages. */
  what: string;
  mo: Segment;
  ro: Segment;
  bc?: Segment;
  st: Segment;
  status: StatusRecords;
  registryPath: string;
  /** Windows: the namespace of the node's mappings, said in the registry file; undefined on POSIX. */
  namespace?: MappingNamespace;
  /** The private state file: owner and epoch history (issue 19.3). */
  statePath: string;
  /**
   * A new epoch, never used before by this node: chosen from and recorded in the private
   * state file, then published in ST's owner record for readers (never read back).
   */
  nextEpoch(): number;
  /** The registry text last written. */
  registryText: string;
  /** Detach `seg` with the others at close(). */
  adopt(seg: Segment): void;
  /** Give up ownership and detach everything (segments stay). Idempotent. */
  close(): void;
}

interface Plan {
  what: string;
  keys: NodeKeys;
  moSize: number;
  roSize: number;
  bcSize: number;
  stRecords: number;
  registryPath: string;
  format: (plan: Plan, extra: Record<string, string | number>, namespace?: MappingNamespace) => string;
}

function planFor(config: DaemonConfig, bcSize: number): Plan {
  if (config.role === 'master') {
    return {
      what: 'pdsm_master',
      keys: masterKeys(config.keyBase),
      moSize: config.segSize * config.remotes,
      roSize: config.segSize * config.remotes,
      bcSize,
      stRecords: masterStRecords(config.remotes).count,
      registryPath: join(config.registryDir, MASTER_REGISTRY_NAME),
      format: (p, extra, namespace) =>
        formatMasterRegistry({
          MO: { key: p.keys.MO, size: p.moSize },
          RO: { key: p.keys.RO, size: p.roSize },
          ...(p.bcSize > 0 ? { BC: { key: p.keys.BC, size: p.bcSize } } : {}),
          ST: { key: p.keys.ST, size: stSegmentSize(p.stRecords) },
          segs: config.remotes,
          segSize: config.segSize,
          extra,
          ...(namespace ? { namespace } : {}),
        }),
    };
  }
  return {
    what: `pdsm_remote ${config.clientId}`,
    keys: remoteKeys(config.clientId, config.keyBase),
    moSize: config.segSize,
    roSize: config.segSize,
    bcSize,
    stRecords: REMOTE_ST.COUNT,
    registryPath: join(config.registryDir, remoteRegistryName(config.clientId)),
    format: (p, extra, namespace) =>
      formatRemoteRegistry({
        MO: { key: p.keys.MO, size: p.moSize },
        RO: { key: p.keys.RO, size: p.roSize },
        ...(p.bcSize > 0 ? { BC: { key: p.keys.BC, size: p.bcSize } } : {}),
        ST: { key: p.keys.ST, size: stSegmentSize(p.stRecords) },
        extra,
        ...(namespace ? { namespace } : {}),
      }),
  };
}

/** ST records of the flows this daemon applies (docs/design.md §3b): their generation is its own. */
function incomingRecords(config: DaemonConfig): number[] {
  if (config.role === 'remote') return [REMOTE_ST.MO_IN, REMOTE_ST.BC_IN];
  const records = masterStRecords(config.remotes);
  return Array.from({ length: config.remotes }, (_, n) => records.roIn(n));
}

/** Issue 19.10: a daemon re-attaches only segments of its own user with no wider mode than --mode. */
function ownSegments(config: DaemonConfig): { own?: { uid: number; mode: number } } {
  // Windows has no segment owner or mode to check (a mapping's security is an ACL; src/platform.ts).
  const uid = platform.modeBits ? process.geteuid?.() : undefined;
  return uid === undefined ? {} : { own: { uid, mode: config.mode } };
}

/**
 * Whether `err` is Windows refusing a Global\ create (no SeCreateGlobalPrivilege). An existing
 * Global\ mapping this user may not open is another matter (OpenFileMappingW): no fall-back.
 */
function refusedGlobal(err: unknown): boolean {
  const cause = err instanceof PdsmError ? err.cause : err;
  return isSystemError(cause) && cause.code === 'EACCES' && cause.syscall === 'CreateFileMappingW';
}

/** Issue 19.11: registry files are never group- or world-writable, whatever --mode says (0666 -> 0644). */
export function registryMode(mode: number): number {
  return mode & ~0o022;
}

/**
 * Claim the node in the private state file, then open (creating when missing) this daemon's
 * segments. Refuses when another daemon of the same role and id owns them, when the state
 * file is not this user's private file, or when the registry path is a symlink or not a
 * regular file. Does not write the registry yet: see writeRegistry().
 */
export function openNodeSegments(config: DaemonConfig, bcSize: number = config.role === 'master' ? config.broadcastSize : 0): NodeSegments {
  const plan = planFor(config, bcSize);
  checkRegistryPath(plan.registryPath);
  // Who owns the node is decided before any segment is touched, and never by ST (issue 19.3).
  const state = PrivateState.claim(statePathFor(plan.registryPath), plan.what);
  const opened: Segment[] = [];
  // Windows: --namespace global or local, or auto: Global\ when this process may create
  // global objects, else Local\. Decided once, by ST (the first segment), for all of them.
  const choice = config.namespace ?? 'auto';
  let namespace: MappingNamespace | undefined = platform.kind !== 'windows' ? undefined : choice === 'local' ? 'Local' : 'Global';
  const open = (label: string, key: number, size: number): Segment => {
    const seg = Segment.open(key, size, {
      create: true,
      mode: config.mode,
      label,
      ...ownSegments(config),
      ...(namespace ? { namespace } : {}),
    });
    opened.push(seg);
    return seg;
  };
  const openFirst = (label: string, key: number, size: number): Segment => {
    try {
      return open(label, key, size);
    } catch (err) {
      if (namespace !== 'Global' || !refusedGlobal(err)) throw err;
      if (choice === 'global') {
        throw new PdsmError(
          'PDSM_ERR_SEGMENT',
          `${(err as Error).message} (creating Global\\ mappings needs SeCreateGlobalPrivilege: run as a service or elevated, or use --namespace local or auto)`,
          { cause: err },
        );
      }
      namespace = 'Local';
      return open(label, key, size);
    }
  };
  try {
    const st = openFirst('ST', plan.keys.ST, stSegmentSize(plan.stRecords));
    const status = new StatusRecords(st.buffer, plan.stRecords);
    status.publishOwner(process.pid, state.epoch);
    // The generations of incoming flows belong to the daemon. One killed between the two
    // bumps of an apply left its generation odd; the segments outlived it, so make it even
    // again, or consistent readers would find no stable window (and take a batch for one).
    for (const record of incomingRecords(config)) {
      if ((status.generation(record) & 1n) === 1n) status.bump(record);
    }
    const mo = open('MO', plan.keys.MO, plan.moSize);
    const ro = open('RO', plan.keys.RO, plan.roSize);
    const bc = plan.bcSize > 0 ? open('BC', plan.keys.BC, plan.bcSize) : undefined;
    let closed = false;
    const node: NodeSegments = {
      role: config.role,
      what: plan.what,
      mo,
      ro,
      st,
      status,
      registryPath: plan.registryPath,
      ...(namespace ? { namespace } : {}),
      statePath: state.path,
      nextEpoch() {
        const epoch = state.nextEpoch();
        status.publishOwner(process.pid, epoch);
        return epoch;
      },
      registryText: '',
      adopt(seg) {
        opened.push(seg);
      },
      close() {
        if (closed) return;
        closed = true;
        status.clearOwner();
        for (const seg of opened) seg.detach();
        state.release();
      },
    };
    if (bc) node.bc = bc;
    return node;
  } catch (err) {
    for (const seg of opened) seg.detach();
    state.release();
    throw err;
  }
}

/** The lines after the segment lines of the registry file: what a client may want to know. */
export function registryExtras(config: DaemonConfig): Record<string, string | number> {
  const extra: Record<string, string | number> = {
    PDSM_port: config.port,
    PDSM_page_size: config.pageSize,
    PDSM_word_size: config.wordSize,
  };
  if (config.role === 'remote') extra.PDSM_client_id = config.clientId;
  extra.PDSM_pid = process.pid;
  return extra;
}

/**
 * A remote learns the broadcast size at join (issue 5): create or re-attach its BC segment
 * (key R+4n+2) and list it in the registry, after MO and RO. A BC of another size from an
 * earlier master is an error naming both sizes, and is left untouched.
 */
export async function attachBroadcast(config: RemoteConfig, node: NodeSegments, size: number): Promise<void> {
  if (node.bc) {
    if (node.bc.size === size) return;
    throw new PdsmError('PDSM_ERR_SEGMENT_SIZE', `the master's broadcast segment is ${size} bytes but this remote's BC is ${node.bc.size}`);
  }
  const keys = remoteKeys(config.clientId, config.keyBase);
  node.bc = Segment.open(keys.BC, size, {
    create: true,
    mode: config.mode,
    label: 'BC',
    ...ownSegments(config),
    ...(node.namespace ? { namespace: node.namespace } : {}),
  });
  node.adopt(node.bc);
  await writeRegistry(config, node, registryExtras(config));
}

const registryWrites = new WeakMap<NodeSegments, Promise<void>>();

/**
 * Write (or rewrite) the node's registry file atomically, with `extra` lines after the
 * segments. Writes of one node run one after another and each reads the node's segments
 * when its turn comes, so the file always ends listing what the node has (a remote adds BC
 * while its first write may still be in flight).
 */
export async function writeRegistry(config: DaemonConfig, node: NodeSegments, extra: Record<string, string | number>): Promise<void> {
  const write = async (): Promise<void> => {
    const plan = planFor(config, node.bc?.size ?? 0);
    const text = plan.format(plan, extra, node.namespace);
    await writeRegistryFile(node.registryPath, text, registryMode(config.mode));
    node.registryText = text;
  };
  const next = (registryWrites.get(node) ?? Promise.resolve()).catch(() => undefined).then(write);
  registryWrites.set(node, next);
  return next;
}

export interface RemovalReport {
  removed: string[];
  absent: string[];
}

/**
 * `-r`: remove the daemon's segments and registry file. Refuses while a live daemon owns
 * them (stop it first), so a running daemon's memory is never pulled from under it. The
 * private state file is kept, so the next start still takes an epoch never used before.
 */
export async function removeNodeSegments(config: MasterConfig | RemoteConfig): Promise<RemovalReport> {
  const plan = planFor(config, 0);
  const report: RemovalReport = { removed: [], absent: [] };
  // Refuse while a live daemon owns them: the private state file says who, never ST (issue
  // 19.3). The file itself stays: its epoch history must outlive the segments (spec §7.1).
  const owner = PrivateState.liveOwner(statePathFor(plan.registryPath));
  if (owner !== 0) {
    throw new PdsmError('PDSM_ERR_ALREADY_RUNNING', `${plan.what} is running (pid ${owner}); stop it before removing its segments`);
  }
  // Windows: whichever namespace an earlier run used (POSIX: SysV keys have none).
  const namespaces: (MappingNamespace | undefined)[] = platform.kind === 'windows' ? ['Global', 'Local'] : [undefined];
  for (const [name, key] of Object.entries(plan.keys) as [string, number][]) {
    const removed = namespaces.map((ns) => Segment.remove(key, ns)).some(Boolean);
    (removed ? report.removed : report.absent).push(`${name} ${formatKey(key)}`);
  }
  if (await removeRegistryFile(plan.registryPath)) report.removed.push(plan.registryPath);
  else report.absent.push(plan.registryPath);
  return report;
}
