/**
 * What a session core hands out (spec-neutral, no sockets, no timers): datagrams to send,
 * drops to count, log lines, peer-state changes for ST. The daemon implements this sink
 * with its Transport, Logger and status segment; tests implement it with arrays.
 *
 * The core's time comes in as `now` (monotonic ms) on every call, and its next deadline
 * goes out through `nextDeadline()`; it never reads a clock of its own.
 */
import type { Message } from '../udp/codec.js';
import type { Peer } from '../udp/socket.js';
import type { PeerStateValue } from '../segments/status.js';
import type { SessionSecrets } from '../udp/seal.js';
import type { DropReason } from './drop-reasons.js';

/** A session the handshake established (spec §9.2): what the transport needs to seal and open it. */
export interface SessionStart {
  /** Both nonces and both epochs: the session keys derive from them and the pre-shared key. */
  secrets: SessionSecrets;
  /** The peer's epoch in this session. */
  peerEpoch: number;
  /** The session address (the master pins it; a remote knows its master's already). */
  peer?: Peer;
}

/** A message before the transport gives it a packet number. */
export type Outgoing = Message extends infer M ? (M extends Message ? Omit<M, 'packetNumber'> : never) : never;

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type LogFields = Record<string, string | number | boolean | undefined>;

export interface SessionIo {
  /** Send `msg` to `to` (sealed when a key is configured, unless `plain`). */
  send(msg: Outgoing, to: Peer, plain?: boolean): void;
  /** Count a dropped datagram by reason. */
  drop(reason: DropReason, from?: Peer, level?: 'warn' | 'debug'): void;
  log(level: LogLevel, text: string, fields?: LogFields): void;
  /** The peer state of client `id` (on a remote: the master, id -1) changed (ST records). */
  peerState(id: number, state: PeerStateValue): void;
  /** A datagram of the session with `id` arrived (ST "peer last heard" stamps). */
  heard(id: number): void;
  /** A round-trip sample, ms (metrics histogram). */
  rtt(id: number, ms: number): void;
  /** A scan pass took `ms` (metrics histogram). */
  scanned(ms: number): void;
  /**
   * spec §9.2: a session with `peerId` (a client id on the master, NODE_MASTER on a remote)
   * is established: its datagrams are sealed and opened under keys from `s` from now on.
   */
  installSession?(peerId: number, s: SessionStart): void;
  /** The session with `peerId` ended: its keys are forgotten, its datagrams dropped. */
  dropSession?(peerId: number): void;
  /** spec §9.2: the master's multicast stream is keyed by `groupNonce` and its epoch. */
  installGroup?(groupNonce: Uint8Array, masterEpoch: number): void;
  dropGroup?(): void;
}
