/**
 * What a daemon reports about itself: the snapshot behind `pdsm status`, `pdsm top` and
 * the metrics endpoint. Plain data (JSON-serialisable), built on demand, never on a hot path.
 */
import type { ReceiverCounters } from '../reliability/receiver.js';
import type { SenderCounters } from '../reliability/sender.js';
import type { PeerStateName } from '../session/states.js';

/** Counters of one flow direction, summed over every session of that peer. */
export interface FlowReport {
  flow: 'mo' | 'ro' | 'bc';
  direction: 'in' | 'out';
  /** Batches sent (out) or applied (in). */
  batches: number;
  /** DATA datagrams sent, not counting retransmissions (out) or accepted (in). */
  datagrams: number;
  /** Page bytes sent (out) or applied (in). */
  bytes: number;
  /** NACKs received (out) or sent (in). */
  nacks: number;
  /** Datagrams retransmitted (out). */
  retransmits: number;
  /** Full or replacement batches sent (out) or RESYNCs asked for (in). */
  resyncs: number;
  /** Out only: NACKed DATA no longer in the retransmit history (a replacement batch went instead). */
  nackedTooOld?: number;
  /** Out only: NACKed DATA cut larger than the NACKing session's MTU takes (spec §8.1; a replacement batch went instead). */
  nackedOversized?: number;
  /** Out only: NACKed numbers not queued for repair, the queue being full (a NACK flood; the receiver asks again). */
  nackShed?: number;
  /** In only: datagrams still missing or held before they can be applied. */
  pending: number;
  /** A full resync under way on this flow (out: being sent; in: arriving or being applied). */
  resync?: ResyncProgress;
  /** Out only: the flow controller's current rate, datagrams/s (spec §7.9). */
  paceRate?: number;
  /** Out only: flush requests taken for this flow (src/daemon/flush-gate.ts). */
  flushRequests?: number;
  /** Out only: scans those requests ran (coalesced: at most one per --flush-min-ms). */
  flushScans?: number;
}

/** Progress of a full resync: page bytes done of total, bytes per second, seconds left. */
export interface ResyncProgress {
  bytesDone: number;
  bytesTotal: number;
  /** Page bytes per second so far (0 until known). */
  rate: number;
  etaS?: number;
  /** In only: 'receiving' while datagrams arrive, 'applying' while the batch is written. */
  phase?: 'receiving' | 'applying';
}

/** Event-loop delay of the daemon (perf_hooks monitorEventLoopDelay), ms. */
export interface LoopDelayReport {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Over how long the figures were taken, s (they reset each report window). */
  windowS: number;
}

export interface PeerReport {
  /** Client id (0..N-1); on a remote, the master is reported with id -1. */
  id: number;
  /** ST's peer-state name (src/session/states.ts): 'unknown' is a remote that never joined. */
  state: PeerStateName;
  /** Sessions opened with this peer since the daemon started (each re-join counts). */
  sessions?: number;
  /** Master: the session's address is validated (spec §4.6; absent without a session). */
  validated?: boolean;
  /** Remote: why the master does not take it (its last REJECT), while it keeps trying. */
  problem?: string;
  address?: string;
  /** Milliseconds since the peer was last heard. */
  lastHeardMsAgo?: number;
  rttMs?: number;
  /** Remote only: BC arrives by unicast because no multicast reached it. */
  bcUnicast?: boolean;
  flows: FlowReport[];
}

export interface DaemonReport {
  role: 'master' | 'remote';
  pid: number;
  epoch: number;
  /** Seconds since start. */
  uptimeS: number;
  params: Record<string, string | number | boolean>;
  peers: PeerReport[];
  /** Datagrams and bytes by type and direction. */
  wire: { sent: Record<string, { datagrams: number; bytes: number }>; received: Record<string, { datagrams: number; bytes: number }> };
  /** Dropped datagrams by reason. */
  drops: Record<string, number>;
  /** The master's BC flow out (all remotes share it). */
  bc?: FlowReport;
  /** Last scan durations, ms (most recent last; at most 64). */
  scanMs: number[];
  /** Periodic scan passes since start (every -i; flush scans are the flows' flushScans). */
  scans?: number;
  /** Event-loop delay (loop-monitor.ts); the daemon sets it from its LoopMonitor. */
  loopDelay?: LoopDelayReport;
}

/** Sums counters across sessions: a new session's sender or receiver starts from zero. */
export class FlowTotals {
  readonly flow: FlowReport['flow'];
  readonly direction: FlowReport['direction'];
  #done: FlowReport;

  constructor(flow: FlowReport['flow'], direction: FlowReport['direction']) {
    this.flow = flow;
    this.direction = direction;
    this.#done = { flow, direction, batches: 0, datagrams: 0, bytes: 0, nacks: 0, retransmits: 0, resyncs: 0, pending: 0 };
  }

  static fromSender(flow: FlowReport['flow'], c: SenderCounters | undefined): FlowReport {
    return {
      flow,
      direction: 'out',
      batches: c?.batches ?? 0,
      datagrams: c?.datagrams ?? 0,
      bytes: c?.bytes ?? 0,
      nacks: c?.nacksReceived ?? 0,
      retransmits: c?.retransmits ?? 0,
      resyncs: c?.replaces ?? 0,
      nackedTooOld: c?.nackedTooOld ?? 0,
      nackedOversized: c?.nackedOversized ?? 0,
      nackShed: c?.nackShed ?? 0,
      pending: 0,
    };
  }

  static fromReceiver(flow: FlowReport['flow'], c: ReceiverCounters | undefined, pending: number, bytes: number): FlowReport {
    return {
      flow,
      direction: 'in',
      batches: c?.batchesApplied ?? 0,
      datagrams: c?.datagrams ?? 0,
      bytes,
      nacks: c?.nacksSent ?? 0,
      retransmits: 0,
      resyncs: c?.resyncsSent ?? 0,
      pending,
    };
  }

  /** Fold a finished session's counters in. */
  add(r: FlowReport): void {
    const d = this.#done;
    d.batches += r.batches;
    d.datagrams += r.datagrams;
    d.bytes += r.bytes;
    d.nacks += r.nacks;
    d.retransmits += r.retransmits;
    d.resyncs += r.resyncs;
    Object.assign(d, outOnlySums(d, r));
  }

  /** Finished sessions plus the live one. */
  with(live: FlowReport | undefined): FlowReport {
    const d = this.#done;
    if (!live) return { ...d, pending: 0 };
    return {
      ...d,
      batches: d.batches + live.batches,
      datagrams: d.datagrams + live.datagrams,
      bytes: d.bytes + live.bytes,
      nacks: d.nacks + live.nacks,
      retransmits: d.retransmits + live.retransmits,
      resyncs: d.resyncs + live.resyncs,
      ...outOnlySums(d, live),
      pending: live.pending,
    };
  }
}

/** Counters only an outgoing flow has: fromSender sets them, fromReceiver does not. */
const OUT_ONLY = ['nackedTooOld', 'nackedOversized', 'nackShed'] as const;

/** Each out-only counter that `a` or `b` has, summed; those neither has stay absent. */
function outOnlySums(a: FlowReport, b: FlowReport): Partial<FlowReport> {
  const sums: Partial<FlowReport> = {};
  for (const key of OUT_ONLY) if (a[key] !== undefined || b[key] !== undefined) sums[key] = (a[key] ?? 0) + (b[key] ?? 0);
  return sums;
}

/** Listeners for samples a snapshot cannot carry (metrics histograms). */
export class Observers {
  /** A scan pass of every outgoing flow took `ms`. */
  readonly scan = new Set<(ms: number) => void>();
  /** A round-trip sample to peer `id` (-1: the master), ms. */
  readonly rtt = new Set<(id: number, ms: number) => void>();

  emitScan(ms: number): void {
    for (const f of this.scan) f(ms);
  }

  emitRtt(id: number, ms: number): void {
    for (const f of this.rtt) f(id, ms);
  }
}
