/**
 * Where segments live and how big they are: the SysV key layout (docs/design.md §2), size
 * rounding (docs/design.md §1), the master's slice layout and the status segment's records (§3b).
 * Pure functions, no system calls.
 */

/** The OS page size that segment sizes are rounded up to (docs/design.md §1). */
export const OS_PAGE_SIZE = 4096;
/** Default key base of the master: MO = K, RO = K+1, BC = K+2, ST = K+3. */
export const DEFAULT_KEY_BASE = 0x314158;
/** Distance from the master's key base to the remotes' base R (0x314180 - 0x314158). */
export const REMOTE_KEY_OFFSET = 0x28;
/** Keys per node: MO, RO, BC, ST. */
export const KEYS_PER_NODE = 4;
/** Most remotes one master serves (spec/protocol.md, limits). */
export const MAX_REMOTES = 16_384;
/** Largest key base: every remote key must stay a positive 31-bit SysV key. */
export const MAX_KEY_BASE = 0x7fffffff - REMOTE_KEY_OFFSET - KEYS_PER_NODE * MAX_REMOTES;
/** Size of one status record (docs/design.md §3b). */
export const ST_RECORD_SIZE = 64;

export type SegmentName = 'MO' | 'RO' | 'BC' | 'ST';

export interface NodeKeys {
  MO: number;
  RO: number;
  BC: number;
  ST: number;
}

/** Keys of the master's segments for key base K. */
export function masterKeys(base: number = DEFAULT_KEY_BASE): NodeKeys {
  return { MO: base, RO: base + 1, BC: base + 2, ST: base + 3 };
}

/** Keys of remote n's segments: R+4n .. R+4n+3 with R = K + 0x28. */
export function remoteKeys(clientId: number, base: number = DEFAULT_KEY_BASE): NodeKeys {
  const r = base + REMOTE_KEY_OFFSET + KEYS_PER_NODE * clientId;
  return { MO: r, RO: r + 1, BC: r + 2, ST: r + 3 };
}

/**
 * Round a requested size up to a whole number of OS pages, and to a whole number of
 * replication pages when those are larger than an OS page, so every page is whole.
 */
export function roundSegmentSize(size: number, pageSize: number = OS_PAGE_SIZE): number {
  const unit = Math.max(OS_PAGE_SIZE, pageSize);
  if (size <= 0) return unit;
  return Math.ceil(size / unit) * unit;
}

/** Byte offset of slice n in the master's MO or RO (docs/design.md §1: slice n at n*Seg_size). */
export function sliceOffset(clientId: number, segSize: number): number {
  return clientId * segSize;
}

/** Status records of a remote (docs/design.md §3b). */
export const REMOTE_ST = { MO_IN: 0, BC_IN: 1, RO_OUT: 2, COUNT: 3 } as const;

/** Status record indexes of a master with `remotes` remotes (docs/design.md §3b). */
export function masterStRecords(remotes: number): {
  roIn: (n: number) => number;
  moOut: (n: number) => number;
  bcOut: number;
  count: number;
} {
  return {
    roIn: (n) => n,
    moOut: (n) => remotes + n,
    bcOut: 2 * remotes,
    count: 2 * remotes + 1,
  };
}

/**
 * Size of a status segment with `records` flow records. One more 64-byte record follows the
 * flow records: the owner record (README "Status segment"), whose first u32 holds the pid of
 * the daemon that owns this node's segments, so a second daemon of the same role and id
 * refuses to start.
 */
export function stSegmentSize(records: number): number {
  return roundSegmentSize((records + 1) * ST_RECORD_SIZE);
}

/** Byte offset of the owner record in a status segment with `records` flow records. */
export function stOwnerOffset(records: number): number {
  return records * ST_RECORD_SIZE;
}
