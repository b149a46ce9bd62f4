/**
 * The master's network side: admits remotes (HELLO -> WELCOME or REJECT), runs the MO flow
 * to each remote and the RO flow from each, heartbeats, liveness, goodbye. Protocol logic
 * lives in src/reliability and src/udp; this file wires flows to peers and segments.
 *
 * Timing: one scan timer (-i) sends each remote's changed MO pages as one batch; one
 * heartbeat timer sends heartbeats and marks remotes silent past the liveness timeout as
 * down (they re-join and resync when they return). Both use the monotonic clock.
 */
import { randomInt } from 'node:crypto';
import { masterStRecords, sliceOffset } from '../segments/layout.js';
import { PeerState } from '../segments/status.js';
import { realClock, type Clock } from '../reliability/clock.js';
import { decode, type HeartbeatMessage, type HelloMessage, type Message, type RejectReason } from '../udp/codec.js';
import { PskKeys } from '../udp/seal.js';
import { readKeyFile } from './key-file.js';
import { NODE_ALL, NODE_MASTER, VERSION } from '../udp/constants.js';
import { UdpEndpoint, addressBytes, formatPeer, multicastInterface, peerKey, resolveAll, type Peer } from '../udp/socket.js';
import type { Logger } from '../log.js';
import type { MasterConfig } from './config.js';
import { InFlow, OutFlow, feedback, hashesPerDigest, type FlowGeometry } from './flows.js';
import type { NodeSegments } from './node-segments.js';
import type { Service } from './run.js';
import { defaultTimers, echoFor, heardHeartbeat, stampUs, type ProtocolTimers } from './timers.js';
import { Transport, type Outgoing } from './transport.js';
import { Observers, type DaemonReport } from './status-report.js';

interface Session {
  peer: Peer;
  remoteEpoch: number;
  roNextSeq: number;
  moNextSeq: number;
  /** Where this remote starts on the shared BC stream (spec §8.1). */
  bcNextSeq: number;
  /** Session MTU: the smaller of ours and the remote's (spec §5.3). */
  mtu: number;
  lastHeard: number;
  /** The peer's last heartbeat timestamp and when it arrived, for the echo (RTT). */
  peerStamp: { timestamp: number; at: number } | undefined;
  rttMs: number | undefined;
}

interface Slot {
  id: number;
  /** The remote asked for BC by unicast (no multicast reached it, spec §8.4). */
  bcUnicast: boolean;
  moOut: OutFlow;
  roIn: InFlow;
  session: Session | undefined;
  /** 'never' until the first join. */
  state: 'never' | 'up' | 'down';
  address: string | undefined;
  /** When the remote was last heard (monotonic ms), kept after it went down. */
  lastHeard: number | undefined;
  rttMs: number | undefined;
}


export class MasterService implements Service {
  readonly config: MasterConfig;
  readonly transport: Transport;
  readonly timers: ProtocolTimers;
  readonly #log: Logger;
  readonly #node: NodeSegments;
  readonly #slots: Slot[] = [];
  readonly #clock: Clock = realClock;
  readonly #geometry: FlowGeometry;
  readonly #allowed = new Map<number, Set<string>>();
  readonly #rejectedAt = new Map<string, number>();
  #scanTimer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #namesTimer: NodeJS.Timeout | undefined;
  #digestTimer: NodeJS.Timeout | undefined;
  /** The BC flow (-b): one sequence space shared by every remote (spec §8.1). */
  readonly #bc: OutFlow | undefined;
  /** The multicast group BC goes to (-m), at the master's port + 1. */
  #group: Peer | undefined;
  readonly #startedAt = performance.now();
  readonly #scanMs: number[] = [];
  readonly observers = new Observers();

  private constructor(config: MasterConfig, node: NodeSegments, log: Logger, transport: Transport) {
    this.config = config;
    this.#node = node;
    this.#log = log;
    this.transport = transport;
    this.timers = defaultTimers(config.intervalMs, config.digestMs ? { digestMs: config.digestMs } : {});
    this.#geometry = { pageSize: config.pageSize, wordSize: config.wordSize, mtu: config.mtu };
    const records = masterStRecords(config.remotes);
    for (let id = 0; id < config.remotes; id++) {
      const start = sliceOffset(id, config.segSize);
      const mo = node.mo.buffer.subarray(start, start + config.segSize);
      const ro = node.ro.buffer.subarray(start, start + config.segSize);
      this.#slots.push({
        id,
        moOut: new OutFlow('mo', mo, config.pageSize, node.status, records.moOut(id)),
        roIn: new InFlow('ro', ro, this.#geometry, node.status, records.roIn(id)),
        session: undefined,
        state: 'never',
        address: undefined,
        lastHeard: undefined,
        rttMs: undefined,
        bcUnicast: false,
      });
    }
    if (node.bc) this.#bc = new OutFlow('bc', node.bc.buffer, config.pageSize, node.status, records.bcOut);
    for (const slot of this.#slots) slot.moOut.onStuck((n) => this.#stuck('mo', records.moOut(slot.id), n, slot.id));
    this.#bc?.onStuck((n) => this.#stuck('bc', records.bcOut, n));
  }

  #stuck(flow: string, record: number, intervals: number, client?: number): void {
    this.#log.warn('writers keep the flow\'s ST generation odd or moving; nothing is sent until it is even (did a writer die mid-update?)', {
      flow, client, st_record: record, intervals,
    });
  }

  static async start(config: MasterConfig, node: NodeSegments, log: Logger): Promise<MasterService> {
    const keys = config.pskFile !== undefined ? new PskKeys(readKeyFile(config.pskFile)) : undefined;
    const endpoint = await UdpEndpoint.bind({ family: config.family, port: config.port, ...(config.listen ? { address: config.listen } : {}) });
    const epoch = node.status.nextEpoch();
    let service: MasterService | undefined;
    const transport = new Transport(endpoint, log, epoch, {
      self: NODE_MASTER,
      acceptSrc: (src) => src < config.remotes,
      ...(keys ? { keys } : {}),
      // spec §9.5: tell a remote without the key why it cannot join.
      onUnsealed: (bytes, from) => service?.onUnsealed(bytes, from),
    });
    service = new MasterService(config, node, log, transport);
    if (keys) log.info('datagrams are authenticated and encrypted', { psk_file: config.pskFile });
    else {
      log.warn('the network side is unauthenticated: anyone who can reach this UDP port can write into these segments; use --psk-file', {
        port: endpoint.localPort,
        clientname_check: config.clientNames ? 'on' : 'off (no -g)',
      });
    }
    try {
      service.#startBroadcast();
    } catch (err) {
      await endpoint.close(0);
      throw err;
    }
    await service.#refreshNames();
    service.transport.listen((msg, from) => service.#handle(msg, from));
    service.#scanTimer = setInterval(() => service.#scan(), config.intervalMs);
    service.#heartbeatTimer = setInterval(() => service.#heartbeat(), service.timers.heartbeatMs);
    service.#digestTimer = setInterval(() => service.#digest(), service.timers.digestMs);
    if (config.clientNames) service.#namesTimer = setInterval(() => void service.#refreshNames(), 60_000);
    log.info('listening', { port: endpoint.localPort, family: `IPv${config.family}`, epoch, remotes: config.remotes, interval_ms: config.intervalMs });
    return service;
  }

  get epoch(): number {
    return this.transport.epoch;
  }

  /** BC (-b): unicast fan-out, or multicast to -m group at port + 1 (spec §8.1). */
  #startBroadcast(): void {
    const bc = this.#bc;
    if (!bc) return;
    const c = this.config;
    if (c.multicast) {
      const socket = this.transport.endpoint.socket;
      socket.setMulticastTTL(c.multicast.ttl);
      socket.setMulticastLoopback(true); // remotes on this host (and tests on lo) hear it too
      if (c.multicastIf) socket.setMulticastInterface(multicastInterface(c.multicastIf, c.family));
      this.#group = { address: c.multicast.group, port: c.port + 1 };
    }
    bc.start({
      src: NODE_MASTER, dst: NODE_ALL, epoch: this.epoch, firstSeq: randomInt(0, 2 ** 32 - 1) >>> 0,
      geometry: this.#geometry, sealed: this.transport.sealed, clock: this.#clock,
      emit: (msg) => this.#fanOut(msg),
    });
    this.#log.info('broadcast segment', { size: c.broadcastSize, mode: this.#group ? `multicast ${formatPeer(this.#group)} ttl=${c.multicast!.ttl}` : 'unicast fan-out' });
  }

  /**
   * A BC datagram to every joined remote: once to the group in multicast mode (plus by
   * unicast to the remotes in fallback), else once per remote with Dst = its id.
   */
  #fanOut(msg: Outgoing): void {
    if (this.#group) this.transport.send({ ...msg, dst: NODE_ALL } as Outgoing, this.#group);
    for (const slot of this.#slots) {
      if (slot.session && (!this.#group || slot.bcUnicast)) this.transport.send({ ...msg, dst: slot.id } as Outgoing, slot.session.peer);
    }
  }

  /** spec-neutral status of this master and every remote (pdsm status, top, metrics). */
  report(): DaemonReport {
    const c = this.config;
    const now = this.#clock.now();
    const report: DaemonReport = {
      role: 'master',
      pid: process.pid,
      epoch: this.epoch,
      uptimeS: Math.round((now - this.#startedAt) / 1000),
      params: {
        port: this.transport.endpoint.localPort, family: c.family, remotes: c.remotes, seg_size: c.segSize, page_size: c.pageSize,
        word_size: c.wordSize, interval_ms: c.intervalMs, mtu: c.mtu, heartbeat_ms: this.timers.heartbeatMs,
        liveness_ms: this.timers.livenessMs, bc_size: c.broadcastSize, bc_mode: this.#bc ? (this.#group ? 'multicast' : 'unicast') : 'none',
        ...(this.#group ? { multicast_group: formatPeer(this.#group) } : {}),
      },
      peers: this.#slots.map((s) => ({
        id: s.id,
        state: s.state,
        ...(s.address ? { address: s.address } : {}),
        ...(s.lastHeard !== undefined ? { lastHeardMsAgo: Math.round(now - (s.session?.lastHeard ?? s.lastHeard)) } : {}),
        ...((s.session?.rttMs ?? s.rttMs) !== undefined ? { rttMs: s.session?.rttMs ?? s.rttMs } : {}),
        ...(this.#group ? { bcUnicast: s.bcUnicast } : {}),
        flows: [s.moOut.report(), s.roIn.report()],
      })),
      wire: { sent: Object.fromEntries(this.transport.sent), received: Object.fromEntries(this.transport.received) },
      drops: Object.fromEntries(this.transport.drops),
      scanMs: [...this.#scanMs],
    };
    if (this.#bc) report.bc = this.#bc.report();
    return report;
  }

  /** -g: the addresses each Clientname resolves to, refreshed every minute. */
  async #refreshNames(): Promise<void> {
    const names = this.config.clientNames;
    if (!names) return;
    await Promise.all(
      names.map(async (name, id) => {
        const addrs = await resolveAll(name, this.config.family);
        if (addrs.length === 0) this.#log.warn('Clientname does not resolve; that remote cannot join', { client: id, name });
        this.#allowed.set(id, new Set(addrs));
      }),
    );
  }

  #scan(): void {
    const started = performance.now();
    this.#scanBody();
    const ms = performance.now() - started;
    this.#scanMs.push(ms);
    this.observers.emitScan(ms);
    if (this.#scanMs.length > 64) this.#scanMs.shift();
  }

  #scanBody(): void {
    let anyone = false;
    for (const slot of this.#slots) {
      if (!slot.session) continue;
      anyone = true;
      slot.moOut.tick();
    }
    if (anyone) this.#bc?.tick();
  }

  /** spec §7.8: every Digest Period, the hashes of each MO slice as last sent. */
  #digest(): void {
    if (this.transport.endpoint.queued > 0) return; // still SENDING: the next period will do
    for (const slot of this.#slots) {
      const s = slot.session;
      if (!s) continue;
      for (const chunk of slot.moOut.digest(this.config.wordSize, hashesPerDigest(s.mtu, this.transport.sealed))) {
        this.transport.send({ type: 'digest', src: NODE_MASTER, dst: slot.id, epoch: this.epoch, flow: 'mo', ...chunk }, s.peer);
      }
    }
    if (this.#bc && this.#slots.some((slot) => slot.session)) {
      for (const chunk of this.#bc.digest(this.config.wordSize, hashesPerDigest(this.config.mtu, this.transport.sealed))) {
        this.#fanOut({ type: 'digest', src: NODE_MASTER, dst: NODE_ALL, epoch: this.epoch, flow: 'bc', ...chunk });
      }
    }
  }

  #heartbeat(): void {
    const now = this.#clock.now();
    for (const slot of this.#slots) {
      const s = slot.session;
      if (!s) continue;
      if (now - s.lastHeard > this.timers.livenessMs) {
        this.#down(slot, 'silent past the liveness timeout');
        continue;
      }
      const sender = slot.moOut.sender;
      this.#sendHeartbeat(slot.id, s, sender ? sender.highestSeq : (s.moNextSeq - 1) >>> 0, now);
    }
  }

  #sendHeartbeat(id: number, s: Session, moHighest: number, now: number): void {
    const msg: Omit<HeartbeatMessage, 'packetNumber'> = {
      type: 'heartbeat', src: NODE_MASTER, dst: id, epoch: this.epoch,
      timestamp: stampUs(now),
      echo: echoFor(s, now),
      wantBcUnicast: false,
      flows: this.#bc?.sender ? [{ flow: 'mo', highestSeq: moHighest }, { flow: 'bc', highestSeq: this.#bc.sender.highestSeq }] : [{ flow: 'mo', highestSeq: moHighest }],
    };
    this.transport.send(msg, s.peer);
  }

  #down(slot: Slot, why: string): void {
    if (!slot.session) return;
    slot.lastHeard = slot.session.lastHeard;
    slot.rttMs = slot.session.rttMs;
    slot.session = undefined;
    slot.state = 'down';
    slot.moOut.stop();
    slot.roIn.stop();
    const records = masterStRecords(this.config.remotes);
    this.#node.status.setPeerState(records.roIn(slot.id), PeerState.DOWN);
    this.#node.status.setPeerState(records.moOut(slot.id), PeerState.DOWN);
    this.#log.warn('remote down', { client: slot.id, address: slot.address, reason: why });
  }

  #reject(to: Peer, dst: number, remoteEpoch: number, reason: RejectReason, expected: number, offered: number, text: string, plain = false): void {
    // At most one REJECT per second per source, so junk cannot make us a reflector.
    const key = `${peerKey(to)}|${reason}`;
    const now = this.#clock.now();
    if (now - (this.#rejectedAt.get(key) ?? -Infinity) < 1000) return;
    if (this.#rejectedAt.size > 4096) this.#rejectedAt.clear();
    this.#rejectedAt.set(key, now);
    const msg: Outgoing = { type: 'reject', src: NODE_MASTER, dst, epoch: this.epoch, remoteEpoch, expected, offered, reason, text, options: [] };
    if (plain) this.transport.sendPlain(msg, to);
    else this.transport.send(msg, to);
    if (reason !== 'not-joined') this.#log.warn('rejected remote', { client: dst, from: formatPeer(to), reason, expected, offered });
  }

  /** With a key, an unsealed HELLO gets an unsealed REJECT auth-required (rate-limited). */
  onUnsealed(bytes: Buffer, from: Peer): void {
    const r = decode(bytes);
    if (!r.ok || r.msg.type !== 'hello' || r.msg.src >= this.config.remotes) return;
    this.#reject(from, r.msg.src, r.msg.epoch, 'auth-required', 0, 0, 'this master authenticates every datagram: give the remote --psk-file with the same key', true);
  }

  #handle(msg: Message, from: Peer): void {
    if (msg.dst !== NODE_MASTER) {
      this.transport.drop('not-for-master', from);
      return;
    }
    if (msg.src >= this.config.remotes) {
      if (msg.type === 'hello') this.#reject(from, msg.src, msg.epoch, 'client-id', this.config.remotes, msg.src, `client id ${msg.src} is out of range 0..${this.config.remotes - 1}`);
      else this.transport.drop('unknown-client', from);
      return;
    }
    const slot = this.#slots[msg.src]!;
    if (msg.type === 'hello') {
      this.#onHello(slot, msg, from);
      return;
    }
    const s = slot.session;
    if (!s || peerKey(s.peer) !== peerKey(from) || s.remoteEpoch !== msg.epoch) {
      this.transport.drop('not-joined', from);
      if (msg.type !== 'goodbye' && msg.type !== 'reject') this.#reject(from, msg.src, msg.epoch, 'not-joined', 0, 0, 'no session: say HELLO');
      return;
    }
    const now = this.#clock.now();
    s.lastHeard = now;
    const records = masterStRecords(this.config.remotes);
    this.#node.status.stampHeard(records.roIn(slot.id));
    this.#node.status.stampHeard(records.moOut(slot.id));
    switch (msg.type) {
      case 'data':
      case 'commit':
        if (msg.flow !== 'ro' || !slot.roIn.receiver) this.transport.drop('wrong-flow', from);
        else this.transport.deliver(slot.roIn.receiver, msg, from);
        break;
      case 'nack':
        if (msg.flow === 'mo' && slot.moOut.sender) slot.moOut.sender.onNack(msg.ranges);
        else if (msg.flow === 'bc' && this.#bc?.sender) {
          // spec §8.3: repair by multicast, except to a remote in unicast fallback or fan-out.
          const group = this.#group;
          this.#bc.sender.onNack(msg.ranges, (m) =>
            group && !slot.bcUnicast ? this.transport.send({ ...m, dst: NODE_ALL }, group) : this.transport.send({ ...m, dst: slot.id }, s.peer),
          );
        } else this.transport.drop('wrong-flow', from);
        break;
      case 'resync':
        if (msg.flow === 'mo' && slot.moOut.sender) slot.moOut.sender.onResync(msg.firstPage, msg.pageCount, msg.full);
        else if (msg.flow === 'bc' && this.#bc?.sender) this.#bc.sender.onResync(msg.firstPage, msg.pageCount, msg.full);
        else this.transport.drop('wrong-flow', from);
        break;
      case 'heartbeat':
        {
          const rtt = heardHeartbeat(s, msg, now);
          if (rtt !== undefined) this.observers.emitRtt(slot.id, rtt);
        }
        for (const f of msg.flows) if (f.flow === 'ro') slot.roIn.receiver?.onHighestSeq(f.highestSeq);
        if (msg.wantBcUnicast && this.#group && !slot.bcUnicast) {
          slot.bcUnicast = true;
          const onUnicast = this.#slots.filter((x) => x.bcUnicast).map((x) => x.id);
          this.#log.warn('remote gets no multicast; sending it BC by unicast', { client: slot.id, address: slot.address, unicast_remotes: onUnicast.join(',') });
        }
        break;
      case 'digest':
        if (msg.flow === 'ro') {
          const differ = slot.roIn.onDigest(msg);
          if (differ.length) this.#log.warn('digest found divergent pages; resyncing them', { client: slot.id, flow: 'ro', pages: differ.length });
        } else this.transport.drop('wrong-flow', from);
        break;
      case 'goodbye':
        this.#down(slot, 'said goodbye');
        break;
      default:
        this.transport.drop(`unexpected-${msg.type}`, from);
    }
  }

  #onHello(slot: Slot, m: HelloMessage, from: Peer): void {
    const c = this.config;
    const reject = (reason: RejectReason, expected: number, offered: number, text: string): void =>
      this.#reject(from, m.src, m.epoch, reason, expected, offered, text);
    // spec §4.6: version, client-id (checked by the caller), address, page-size, word-size,
    // seg-size, bc-size, duplicate; the first that fails is the answer.
    if (m.versionMin > VERSION || m.versionMax < VERSION) return reject('version', VERSION, m.versionMax, `this master speaks version ${VERSION}`);
    const allowed = this.#allowed.get(slot.id);
    const source = from.address.replace(/^::ffff:/, '');
    if (c.clientNames && !(allowed?.has(source) || allowed?.has(from.address))) {
      return reject('address', 0, 0, `${source} is not ${c.clientNames[slot.id]} (Clientname of client ${slot.id})`);
    }
    if (m.pageSize !== c.pageSize) return reject('page-size', c.pageSize, m.pageSize, `page size: master ${c.pageSize}, remote ${m.pageSize}`);
    if (m.wordSize !== c.wordSize) return reject('word-size', c.wordSize, m.wordSize, `word size: master ${c.wordSize}, remote ${m.wordSize}`);
    if (m.segSize !== c.segSize) return reject('seg-size', c.segSize, m.segSize, `segment size: master ${c.segSize}, remote ${m.segSize}`);
    if (m.bcSize !== 0 && m.bcSize !== c.broadcastSize) return reject('bc-size', c.broadcastSize, m.bcSize, `broadcast size: master ${c.broadcastSize}, remote ${m.bcSize}`);
    const s = slot.session;
    if (s && s.remoteEpoch === m.epoch && peerKey(s.peer) === peerKey(from)) {
      this.#welcome(slot, s); // our WELCOME was lost: say it again, same numbers
      return;
    }
    if (s && s.peer.address !== from.address && this.#clock.now() - s.lastHeard < this.timers.livenessMs) {
      return reject('duplicate', 0, 0, `client ${slot.id} is already joined from ${formatPeer(s.peer)}`);
    }
    // A new remote, or one that restarted (new epoch or port): a new session, full sync.
    const now = this.#clock.now();
    const session: Session = {
      peer: from, remoteEpoch: m.epoch, roNextSeq: m.roNextSeq, moNextSeq: randomInt(0, 2 ** 32 - 1) >>> 0,
      bcNextSeq: this.#bc?.sender ? (this.#bc.sender.highestSeq + 1) >>> 0 : 0,
      mtu: Math.min(c.mtu, m.mtu), lastHeard: now, peerStamp: undefined, rttMs: undefined,
    };
    slot.session = session;
    slot.state = 'up';
    slot.lastHeard = now;
    slot.bcUnicast = false;
    slot.address = formatPeer(from);
    const records = masterStRecords(c.remotes);
    this.#node.status.setPeerState(records.roIn(slot.id), PeerState.UP);
    this.#node.status.setPeerState(records.moOut(slot.id), PeerState.UP);
    this.#node.status.stampHeard(records.roIn(slot.id));
    slot.roIn.start({
      firstSeq: m.roNextSeq,
      clock: this.#clock,
      ...feedback((msg) => this.transport.send(msg, session.peer), 'ro', NODE_MASTER, slot.id, () => this.epoch),
    });
    slot.moOut.start({
      src: NODE_MASTER, dst: slot.id, epoch: this.epoch, firstSeq: session.moNextSeq, geometry: { ...this.#geometry, mtu: session.mtu },
      sealed: this.transport.sealed, clock: this.#clock,
      emit: (msg) => this.transport.send(msg, session.peer),
    });
    this.#welcome(slot, session);
    this.#log.info('remote joined', { client: slot.id, address: slot.address, epoch: m.epoch, hostname: m.hostname ?? undefined });
    slot.moOut.tick(); // the full MO batch right away, not at the next interval
    if (this.#bc) {
      // spec §8.1: one FULL+REPLACES batch on the shared stream for the newcomer.
      this.#bc.owesFull();
      this.#bc.tick();
    }
  }

  #welcome(slot: Slot, s: Session): void {
    const c = this.config;
    this.transport.send({
      type: 'welcome', src: NODE_MASTER, dst: slot.id, epoch: this.epoch, remoteEpoch: s.remoteEpoch,
      pageSize: c.pageSize, segSize: c.segSize, bcSize: this.#bc ? c.broadcastSize : 0, moNextSeq: s.moNextSeq, bcNextSeq: s.bcNextSeq,
      intervalMs: c.intervalMs, heartbeatMs: this.timers.heartbeatMs, livenessMs: this.timers.livenessMs,
      clientCount: c.remotes, mtu: s.mtu, version: VERSION, wordSize: c.wordSize,
      bcMode: this.#bc ? (this.#group ? 'multicast' : 'unicast') : 'none',
      multicast: this.#group ? { port: this.#group.port, address: addressBytes(this.#group.address) } : null,
      options: [],
    }, s.peer);
  }

  /** Flush what changed, say goodbye to every remote, close the socket. */
  async stop(): Promise<void> {
    clearInterval(this.#scanTimer);
    clearInterval(this.#heartbeatTimer);
    clearInterval(this.#namesTimer);
    clearInterval(this.#digestTimer);
    this.#scan();
    for (const slot of this.#slots) {
      if (slot.session) this.transport.send({ type: 'goodbye', src: NODE_MASTER, dst: slot.id, epoch: this.epoch, reason: 'shutdown' }, slot.session.peer);
      slot.roIn.stop();
    }
    await this.transport.endpoint.close(1000);
  }
}
