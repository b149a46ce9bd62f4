/**
 * The library API for Node applications on a PDSM node: attach to the segments that a
 * daemon published in its registry file, and use them as Buffers.
 *
 *   import { attachRemote } from 'pdsm';
 *   const node = attachRemote({ clientId: 3 });   // registry in $PDSM_REGISTRY_DIR or /tmp
 *   node.ro.writeBigUInt64LE(42n, 0);             // travels to slice 3 of the master's RO
 *   node.detach();
 *
 * Attaching never creates a segment: the daemon owns creation. After detach() every Buffer
 * handed out is empty (length 0) rather than dangling.
 */
import { PdsmError } from './errors.js';
import { masterStRecords, REMOTE_ST, sliceOffset, ST_RECORD_SIZE } from './segments/layout.js';
import { readMasterRegistry, readRemoteRegistry, registryDir, type SegmentEntry } from './segments/registry.js';
import { Segment } from './segments/segment.js';
import type { MappingNamespace } from './segments/namespace.js';
import { StatusRecords, consistentRead, consistentWrite, type SeqlockOptions } from './segments/status.js';
import type { WordSize } from './segments/word-codec.js';
import { isWordSize } from './udp/join.js';
import { controlSocketPath } from './daemon/control.js';
import { ControlClient } from './daemon/control-client.js';
import type { FlushResult } from './daemon/flush-gate.js';

export type { FlushResult } from './daemon/flush-gate.js';

export { PdsmError, ERROR_CODES, type PdsmErrorCode } from './errors.js';

/**
 * A native-order u64 view of a segment or slice: stores and loads through it cost a few ns,
 * against ~90 ns for Buffer's writeBigUInt64LE. Like the Buffer, it reads as empty (length
 * 0) after detach(). Word i is bytes 8i..8i+7; the region must start 8-aligned (segments and
 * slices do).
 */
export function u64View(region: Buffer): BigUint64Array {
  if (region.byteOffset % 8 !== 0) throw new PdsmError('PDSM_ERR_RANGE', `a u64 view needs an 8-aligned region (offset ${region.byteOffset})`);
  return new BigUint64Array(region.buffer, region.byteOffset, Math.floor(region.length / 8));
}
export { PeerState } from './segments/status.js';

/** A native-order view whose elements are exactly W bytes wide, W the daemons' -w. */
export type WordView = Uint8Array | Uint16Array | Uint32Array | BigUint64Array;

/**
 * The only access that survives every byte order: words exactly W wide (spec §5.3). Each
 * element of the view is one word of the network-neutral form, so a value stored through it
 * reads as the same number on a node of the other byte order. A narrower value (a u32 under
 * W = 8) does not: it travels inside its W-byte word, and a node of the other byte order finds
 * it at another offset. Pass the node's `wordSize`; the region must start W-aligned (segments
 * and slices do).
 */
export function wordView(region: Buffer, wordSize: number): WordView {
  if (!isWordSize(wordSize)) throw new PdsmError('PDSM_ERR_RANGE', `word size must be 1, 2, 4 or 8, got ${wordSize}`);
  if (region.byteOffset % wordSize !== 0)
    throw new PdsmError('PDSM_ERR_RANGE', `a ${wordSize}-byte word view needs a ${wordSize}-aligned region (offset ${region.byteOffset})`);
  const { buffer, byteOffset } = region;
  const n = Math.floor(region.length / wordSize);
  if (wordSize === 1) return new Uint8Array(buffer, byteOffset, n);
  if (wordSize === 2) return new Uint16Array(buffer, byteOffset, n);
  if (wordSize === 4) return new Uint32Array(buffer, byteOffset, n);
  return new BigUint64Array(buffer, byteOffset, n);
}

/** PDSM_word_size of a registry file; 8 (the default -w) for daemons that predate the line. */
function registryWordSize(extra: Record<string, string>, file: string): WordSize {
  const raw = extra['PDSM_word_size'];
  if (raw === undefined) return 8;
  const w = Number(raw);
  if (!isWordSize(w)) throw new PdsmError('PDSM_ERR_REGISTRY', `${file}: PDSM_word_size must be 1, 2, 4 or 8, got "${raw}"`);
  return w;
}

export interface AttachOptions {
  /** Registry folder (default $PDSM_REGISTRY_DIR, else /tmp; Windows: the temp folder). */
  registryDir?: string;
  /** Map every segment read-only. */
  readOnly?: boolean;
}

/** A status record as read from ST (docs/design.md §3b). */
export interface FlowStatus {
  generation: bigint;
  lastBatchNs: bigint;
  peerHeardNs: bigint;
  peerState: number;
  batches: bigint;
}

export interface FlushOptions {
  /** Give up after this long (default 10000 ms): PDSM_ERR_NETWORK naming the socket. */
  timeoutMs?: number;
  /** false: resolve as soon as the daemon took the request (outcome 'queued'). Default true. */
  wait?: boolean;
}

/** Default time a flush waits for the daemon's answer. */
export const FLUSH_TIMEOUT_MS = 10_000;

interface Attached {
  /** Detach every segment (and close the flush connection); all Buffers handed out become empty. Idempotent. */
  detach(): void;
  /** The daemons' -w (PDSM_word_size): store values exactly this wide, e.g. through wordView(). */
  wordSize: WordSize;
}

export interface RemoteNode extends Attached {
  clientId: number;
  /** Master owned: written by the master's apps, read here. */
  mo: Buffer;
  /** Remote owned: written here, copied to slice clientId of the master's RO. */
  ro: Buffer;
  /** Broadcast from the master, when the master has one. */
  bc?: Buffer;
  /** Status segment; prefer the calls below. */
  st?: Buffer;
  /** Status of a flow: 'mo' (in), 'bc' (in), 'ro' (out). */
  status(flow: 'mo' | 'bc' | 'ro'): FlowStatus;
  /** Run `read` so that it sees a whole batch of MO (or BC), never half of one. */
  readConsistent<T>(flow: 'mo' | 'bc', read: () => T, options?: SeqlockOptions): T;
  /** Run `write` so that it travels in one batch of RO. */
  writeConsistent<T>(write: () => T): T;
  /**
   * Have the daemon scan RO and send what changed now, not at the next interval (README
   * "Flush on demand"). Resolves when the datagrams are queued; PDSM_ERR_BUSY when writers
   * held RO's generation; PDSM_ERR_NETWORK naming the control socket when no daemon answers.
   */
  flush(options?: FlushOptions): Promise<FlushResult[]>;
}

export interface MasterNode extends Attached {
  /** Number of remotes (slices). */
  remotes: number;
  /** Size of one slice. */
  segSize: number;
  mo: Buffer;
  ro: Buffer;
  bc?: Buffer;
  st?: Buffer;
  /** Slice n of MO (goes to remote n). */
  moSlice(n: number): Buffer;
  /** Slice n of RO (comes from remote n). */
  roSlice(n: number): Buffer;
  /** Status of a flow: 'ro' (in from remote n), 'mo' (out to remote n), 'bc' (out). */
  status(flow: 'mo' | 'ro', n: number): FlowStatus;
  status(flow: 'bc'): FlowStatus;
  /** Read slice n of RO whole (never half of a batch). */
  readConsistent<T>(n: number, read: () => T, options?: SeqlockOptions): T;
  /** Write MO slice n (or BC with n = 'bc') so the update travels in one batch. */
  writeConsistent<T>(n: number | 'bc', write: () => T): T;
  /**
   * Have the daemon scan and send now: MO slice n, BC ('bc'), or every outgoing flow (no
   * argument). As RemoteNode.flush.
   */
  flush(target?: number | 'bc', options?: FlushOptions): Promise<FlushResult[]>;
}

/** Ask the daemon behind `client` to flush; a busy flow (writers held its generation) rejects. */
async function flushVia(client: ControlClient, request: Record<string, unknown>, options: FlushOptions = {}): Promise<FlushResult[]> {
  const answer = (await client.request(
    { cmd: 'flush', ...request, ...(options.wait === false ? { wait: false } : {}) },
    options.timeoutMs ?? FLUSH_TIMEOUT_MS,
  )) as {
    flushed: FlushResult[];
  };
  const busy = answer.flushed.filter((f) => f.outcome === 'busy');
  if (busy.length > 0) {
    const names = busy.map((f) => (f.client === undefined ? f.flow : `${f.flow} ${f.client}`)).join(', ');
    throw new PdsmError('PDSM_ERR_BUSY', `writers hold the ST generation of ${names} odd or moving: nothing was sent (the next interval tries again)`);
  }
  return answer.flushed;
}

function attachAll(
  entries: Record<string, SegmentEntry | undefined>,
  readOnly: boolean,
  namespace: MappingNamespace | undefined,
): { segs: Record<string, Segment>; detach: () => void } {
  const segs: Record<string, Segment> = {};
  const detach = (): void => {
    for (const seg of Object.values(segs)) seg.detach();
  };
  try {
    for (const [label, entry] of Object.entries(entries)) {
      // Windows: the namespace the registry file names (Local\ when it names none).
      if (entry) segs[label] = Segment.open(entry.key, entry.size, { create: false, readOnly, label, ...(namespace ? { namespace } : {}) });
    }
  } catch (err) {
    detach();
    throw err;
  }
  return { segs, detach };
}

function statusOf(st: Segment | undefined, records: number): StatusRecords {
  if (!st) throw new PdsmError('PDSM_ERR_REGISTRY', 'the registry lists no status segment (PDSM_ST_key): the daemon is too old for consistent reads');
  return new StatusRecords(st.buffer, records);
}

/** Attach to remote `clientId`'s segments through its registry file. */
export function attachRemote(options: AttachOptions & { clientId: number }): RemoteNode {
  const dir = registryDir(options.registryDir);
  const reg = readRemoteRegistry(dir, options.clientId);
  const wordSize = registryWordSize(reg.extra, `pdsm_registry_client_${options.clientId}`);
  const { segs, detach } = attachAll({ MO: reg.MO, RO: reg.RO, BC: reg.BC, ST: reg.ST }, options.readOnly ?? false, reg.namespace);
  const record = { mo: REMOTE_ST.MO_IN, bc: REMOTE_ST.BC_IN, ro: REMOTE_ST.RO_OUT } as const;
  const control = new ControlClient(controlSocketPath(dir, options.clientId));
  const node: RemoteNode = {
    clientId: options.clientId,
    wordSize,
    mo: segs.MO!.buffer,
    ro: segs.RO!.buffer,
    detach: () => {
      control.close();
      detach();
    },
    flush: (opts) => flushVia(control, { flow: 'ro' }, opts),
    status: (flow) => statusOf(segs.ST, REMOTE_ST.COUNT).read(record[flow]),
    readConsistent: (flow, read, opts) => consistentRead(statusOf(segs.ST, REMOTE_ST.COUNT), record[flow], read, opts),
    writeConsistent: (write) => consistentWrite(statusOf(segs.ST, REMOTE_ST.COUNT), record.ro, write),
  };
  if (segs.BC) node.bc = segs.BC.buffer;
  if (segs.ST) node.st = segs.ST.buffer;
  return node;
}

/** Attach to the master's segments through its registry file. */
export function attachMaster(options: AttachOptions = {}): MasterNode {
  const dir = registryDir(options.registryDir);
  const reg = readMasterRegistry(dir);
  const wordSize = registryWordSize(reg.extra, 'pdsm_master_registry');
  const { segs, detach } = attachAll({ MO: reg.MO, RO: reg.RO, BC: reg.BC, ST: reg.ST }, options.readOnly ?? false, reg.namespace);
  const layout = masterStRecords(reg.segs);
  const slice = (seg: Segment, n: number): Buffer => {
    if (!Number.isInteger(n) || n < 0 || n >= reg.segs) {
      throw new PdsmError('PDSM_ERR_RANGE', `client ${n} is out of range 0..${reg.segs - 1}`);
    }
    return seg.buffer.subarray(sliceOffset(n, reg.segSize), sliceOffset(n + 1, reg.segSize));
  };
  const st = (): StatusRecords => statusOf(segs.ST, layout.count);
  const control = new ControlClient(controlSocketPath(dir));
  const node: MasterNode = {
    remotes: reg.segs,
    segSize: reg.segSize,
    wordSize,
    mo: segs.MO!.buffer,
    ro: segs.RO!.buffer,
    detach: () => {
      control.close();
      detach();
    },
    flush: async (target, opts) => {
      if (target !== undefined && target !== 'bc') slice(segs.MO!, target); // PDSM_ERR_RANGE before asking
      return await flushVia(control, target === undefined ? {} : target === 'bc' ? { flow: 'bc' } : { flow: 'mo', client: target }, opts);
    },
    moSlice: (n) => slice(segs.MO!, n),
    roSlice: (n) => slice(segs.RO!, n),
    status: ((flow: 'mo' | 'ro' | 'bc', n: number = 0) =>
      st().read(flow === 'bc' ? layout.bcOut : flow === 'mo' ? layout.moOut(n) : layout.roIn(n))) as MasterNode['status'],
    readConsistent: (n, read, opts) => consistentRead(st(), layout.roIn(n), read, opts),
    writeConsistent: (n, write) => consistentWrite(st(), n === 'bc' ? layout.bcOut : layout.moOut(n), write),
  };
  if (segs.BC) node.bc = segs.BC.buffer;
  if (segs.ST) node.st = segs.ST.buffer;
  return node;
}

export { ST_RECORD_SIZE };
