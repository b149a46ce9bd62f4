/**
 * The master's shared BC stream (spec §8) without I/O: one sender for all remotes, sent by
 * unicast fan-out (BC Mode 1) or to the multicast group with the §8.4 unicast fallback
 * (BC Mode 2); its repairs, its digest, and its growth period, which follows the slowest
 * remote. MasterSessions owns the sessions; this module only reads them through `slots`.
 *
 * The BC MTU (spec §8.1): the stream is one sequence of datagrams for every remote, so it is
 * cut for the smallest session MTU among the master's sessions (validated or not: in multicast
 * mode a remote listens to the group from its WELCOME on), or the master's --mtu with none.
 * sessionsChanged() recomputes it whenever a session opens or ends, before the new session's
 * WELCOME leaves, so every BC datagram made after a WELCOME fits that session. DATA made
 * before (cut larger) are never retransmitted to where they do not fit: repairLimitFor()
 * makes the sender answer such a NACK with a replacement batch, cut at the new size.
 *
 * Timing: nothing of its own. The master's scan ticks the flow, its digest period calls
 * digest(), and a newly validated session calls startFor() (spec §4.6, §8.1).
 */
import type { Clock } from '../reliability/clock.js';
import type { WordSize } from '../segments/word-codec.js';
import type { CommitMessage, DataMessage, HeartbeatMessage } from '../udp/codec.js';
import { maxDataPayload } from '../udp/codec.js';
import { NODE_ALL, NODE_MASTER } from '../udp/constants.js';
import type { Peer } from '../udp/socket.js';
import type { Outgoing, SessionIo } from './io.js';
import { hashesPerDigest, type OutPort } from './link.js';

/** What the BC stream needs of a session (MasterSessions' Session fits it). */
export interface BcSession {
  readonly link: { readonly validated: boolean; readonly rttMs: number | undefined };
  /** spec §4.2 WELCOME MTU: the session MTU. */
  readonly mtu: number;
}

/** What the BC stream needs of one client id's slot (MasterSessions' Slot fits it). */
export interface BcSlot<S extends BcSession> {
  readonly id: number;
  readonly address: string | undefined;
  /** spec §8.4: the remote asked for BC by unicast. */
  bcUnicast: boolean;
  readonly session: S | undefined;
}

export interface MasterBcConfig {
  epoch: number;
  pageSize: number;
  wordSize: WordSize;
  mtu: number;
  sealed: boolean;
  /** -m: the multicast group BC goes to. */
  group?: Peer;
  clock: Clock;
  firstSeq: number;
  /** spec §9.2 GROUP_NONCE, in multicast mode with version 2. */
  groupNonce?: Uint8Array;
}

export class MasterBc<S extends BcSession> {
  readonly flow: OutPort;
  readonly #c: MasterBcConfig;
  readonly #io: SessionIo;
  readonly #slots: readonly BcSlot<S>[];
  /** To a session's address, within its anti-amplification budget (MasterSessions' #send). */
  readonly #sendTo: (s: S, msg: Outgoing) => void;
  /** spec §8.1 the BC MTU: the smallest session MTU, or ours with no session. */
  #mtu: number;

  constructor(flow: OutPort, config: MasterBcConfig, io: SessionIo, slots: readonly BcSlot<S>[], sendTo: (s: S, msg: Outgoing) => void) {
    this.flow = flow;
    this.#c = config;
    this.#io = io;
    this.#slots = slots;
    this.#sendTo = sendTo;
    this.#mtu = config.mtu;
    if (config.groupNonce) io.installGroup?.(config.groupNonce, config.epoch);
    flow.start({
      src: NODE_MASTER,
      dst: NODE_ALL,
      epoch: config.epoch,
      firstSeq: config.firstSeq,
      geometry: { pageSize: config.pageSize, wordSize: config.wordSize, mtu: config.mtu },
      sealed: config.sealed,
      clock: config.clock,
      emit: (m) => this.fanOut(m),
    });
  }

  get mode(): 'unicast' | 'multicast' {
    return this.#c.group ? 'multicast' : 'unicast';
  }

  /** spec §8.1: the MTU the stream is cut for now. */
  get mtu(): number {
    return this.#mtu;
  }

  /** spec §8.1: a session opened or ended; cut what is sent from now on for the smallest MTU. */
  sessionsChanged(): void {
    let mtu = this.#c.mtu;
    for (const slot of this.#slots) if (slot.session && slot.session.mtu < mtu) mtu = slot.session.mtu;
    this.#mtu = mtu;
    this.flow.sender?.setMtu?.(mtu);
  }

  /**
   * spec §8.1: the most page bytes a repair for `slot`'s session may carry: what the group
   * takes now (the stream's current cut), or by unicast what that session's MTU takes.
   */
  repairLimitFor(slot: BcSlot<S>, session: () => S): () => number {
    const { wordSize, sealed } = this.#c;
    return () => (this.#c.group && !slot.bcUnicast ? maxDataPayload(this.#mtu, wordSize, sealed) : maxDataPayload(session().mtu, wordSize, sealed));
  }

  /**
   * A BC datagram to every validated session: once to the group in multicast mode (plus by
   * unicast to the remotes in fallback), else once per remote with Dst = its id.
   */
  fanOut(msg: Outgoing): void {
    const group = this.#c.group;
    if (group) this.#io.send({ ...msg, dst: NODE_ALL } as Outgoing, group);
    for (const slot of this.#slots) {
      const s = slot.session;
      if (s?.link.validated && (!group || slot.bcUnicast)) this.#sendTo(s, { ...msg, dst: slot.id } as Outgoing);
    }
  }

  /** spec §8.3: how a BC datagram NACKed by `slot`'s session (`session()`) is repaired. */
  repairFor(slot: BcSlot<S>, session: () => S): (r: DataMessage | CommitMessage) => void {
    const group = this.#c.group;
    // spec §8.3: BC repairs by multicast, except to a remote in unicast fallback or fan-out.
    return (r) => (group && !slot.bcUnicast ? this.#io.send({ ...r, dst: NODE_ALL }, group) : this.#sendTo(session(), { ...r, dst: slot.id }));
  }

  /** spec §8.1: a session was validated: one FULL+REPLACES batch on the shared stream. */
  startFor(): void {
    this.flow.owesFull();
    this.flow.tick();
  }

  /** spec §7.8: the hashes of BC as last sent. */
  digest(): void {
    for (const chunk of this.flow.digest(this.#c.wordSize, hashesPerDigest(this.#mtu, this.#c.sealed))) {
      this.fanOut({ type: 'digest', src: NODE_MASTER, dst: NODE_ALL, epoch: this.#c.epoch, flow: 'bc', ...chunk });
    }
  }

  /** spec §7.9: the shared flow's growth period follows the slowest remote (`srttMs` is the newest sample). */
  setRtt(srttMs: number): void {
    const bc = this.flow.sender;
    if (!bc) return;
    let slowest = srttMs;
    for (const slot of this.#slots) {
      const r = slot.session?.link.rttMs;
      if (r !== undefined && r > slowest) slowest = r;
    }
    bc.setRtt(slowest);
  }

  /** spec §8.4: a HEARTBEAT of `slot`'s session; WANT_BC_UNICAST moves it off multicast. */
  onHeartbeat(slot: BcSlot<S>, msg: HeartbeatMessage): void {
    if (!msg.wantBcUnicast || !this.#c.group || slot.bcUnicast) return;
    slot.bcUnicast = true;
    const onUnicast = this.#slots.filter((x) => x.bcUnicast).map((x) => x.id);
    this.#io.log('warn', 'remote gets no multicast; sending it BC by unicast', {
      client: slot.id,
      address: slot.address,
      unicast_remotes: onUnicast.join(','),
    });
  }
}
