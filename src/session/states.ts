/**
 * The session states of spec/protocol.md §7.11, one enum per side, and the one vocabulary
 * for a peer's state that every report uses: ST's peer-state codes (docs/design.md §3b), named.
 */
import { PeerState, type PeerStateValue } from '../segments/status.js';

/** spec §7.11, remote. */
export enum RemoteState {
  /** Saying HELLO until WELCOME (or a REJECT that ends it). */
  JOINING = 'JOINING',
  /** In a session with the master. */
  UP = 'UP',
  /** An authenticated REJECT for a configuration mismatch: the remote exits 1. */
  FAILED = 'FAILED',
  /** Stopped (SIGTERM/SIGINT): final batch and GOODBYE sent. */
  CLOSED = 'CLOSED',
}

/** spec §7.11, master, per client id. */
export enum MasterPeerState {
  DOWN = 'DOWN',
  UP = 'UP',
}

/** spec §7.11, the master as a whole: CLOSING answers every HELLO with REJECT unavailable. */
export enum MasterState {
  RUNNING = 'RUNNING',
  CLOSING = 'CLOSING',
}

/** ST's peer-state codes by name; `pdsm status`, `--json` and metrics say these words. */
export const PEER_STATE_NAMES = { [PeerState.UNKNOWN]: 'unknown', [PeerState.JOINING]: 'joining', [PeerState.UP]: 'up', [PeerState.DOWN]: 'down' } as const;
export type PeerStateName = (typeof PEER_STATE_NAMES)[PeerStateValue];

export function peerStateName(code: PeerStateValue): PeerStateName {
  return PEER_STATE_NAMES[code];
}
