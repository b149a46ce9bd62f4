/**
 * A remote's network side: joins the master (HELLO until WELCOME), runs the RO flow to
 * the master and the MO flow from it, heartbeats, notices a silent or restarted master and
 * joins again, says goodbye on a clean stop. Protocol logic lives in src/reliability and
 * src/udp; this file wires flows to the master and to the segments.
 *
 * Timing: while joining, HELLO after 500 ms, doubling to 8 s, with jitter (spec §4.6). Once joined: the scan timer (-i)
 * sends RO's changed pages as one batch; the heartbeat timer (the master's value from
 * WELCOME) sends heartbeats and goes back to joining when the master was silent past the
 * liveness timeout. All on the monotonic clock.
 */
import { randomInt } from 'node:crypto';
import { hostname } from 'node:os';
import { PdsmError } from '../errors.js';
import { REMOTE_ST } from '../segments/layout.js';
import { PeerState, type PeerStateValue } from '../segments/status.js';
import { realClock, type Clock } from '../reliability/clock.js';
import { multicastNackDelay } from '../reliability/receiver.js';
import type { Message, RejectMessage, WelcomeMessage } from '../udp/codec.js';
import { NODE_ALL, NODE_MASTER, VERSION } from '../udp/constants.js';
import { UdpEndpoint, addressText, formatPeer, multicastInterface, peerKey, resolveHost, type Peer } from '../udp/socket.js';
import type { Logger } from '../log.js';
import type { RemoteConfig } from './config.js';
import { InFlow, OutFlow, feedback, hashesPerDigest, type Feedback, type FlowGeometry } from './flows.js';
import { attachBroadcast, type NodeSegments } from './node-segments.js';
import { PskKeys } from '../udp/seal.js';
import { readKeyFile } from './key-file.js';
import type { Service } from './run.js';
import { defaultTimers, helloDelay, echoFor, heardHeartbeat, stampUs, type ProtocolTimers } from './timers.js';
import { Transport } from './transport.js';
import { Observers, type DaemonReport } from './status-report.js';

interface Joined {
  masterEpoch: number;
  mtu: number;
  /** BC of this session: how it arrives, and the fallback bookkeeping of spec §8.4. */
  bcMode: WelcomeMessage['bcMode'];
  bcHighest: number | undefined;
  /** BC highest seq at the previous check, to see it advance (spec §8.4). */
  bcHighestAtCheck: number | undefined;
  heartbeatsWithoutMulticast: number;
  advancingWithoutMulticast: number;
  wantBcUnicast: boolean;
  lastHeard: number;
  peerStamp: { timestamp: number; at: number } | undefined;
  rttMs: number | undefined;
  timers: ProtocolTimers;
}

const REJECT_WHAT: Partial<Record<RejectMessage['reason'], string>> = {
  'seg-size': 'segment size (-s)',
  'page-size': 'page size (--page-size)',
  'word-size': 'word size (-w)',
  'bc-size': 'broadcast size',
  version: 'protocol version',
  'client-id': 'client id (-n)',
};

export class RemoteService implements Service {
  readonly config: RemoteConfig;
  readonly transport: Transport;
  readonly #log: Logger;
  readonly #node: NodeSegments;
  readonly #master: Peer;
  readonly #clock: Clock = realClock;
  readonly #geometry: FlowGeometry;
  readonly #roOut: OutFlow;
  readonly #moIn: InFlow;
  #bcIn: InFlow | undefined;
  /** The socket that receives the master's multicast BC (port + 1), joined at WELCOME. */
  #multicast: { endpoint: UdpEndpoint; group: string; iface: string | undefined } | undefined;
  #multicastReceived = 0;
  #welcoming = false;
  readonly #startedAt = performance.now();
  readonly observers = new Observers();
  readonly #scanMs: number[] = [];
  #everJoined = false;
  #lastHeard: number | undefined;
  readonly #fail: (err: Error) => void;
  #joined: Joined | undefined;
  #roNextSeq = 0;
  #timers: ProtocolTimers;
  #helloTimer: NodeJS.Timeout | undefined;
  #helloAttempt = 0;
  #digestTimer: NodeJS.Timeout | undefined;
  #scanTimer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #stopped = false;

  private constructor(config: RemoteConfig, node: NodeSegments, log: Logger, transport: Transport, master: Peer, fail: (err: Error) => void) {
    this.config = config;
    this.#node = node;
    this.#log = log;
    this.transport = transport;
    this.#master = master;
    this.#fail = fail;
    this.#timers = defaultTimers(config.intervalMs, config.digestMs ? { digestMs: config.digestMs } : {});
    this.#geometry = { pageSize: config.pageSize, wordSize: config.wordSize, mtu: config.mtu };
    this.#roOut = new OutFlow('ro', node.ro.buffer, config.pageSize, node.status, REMOTE_ST.RO_OUT);
    this.#moIn = new InFlow('mo', node.mo.buffer, this.#geometry, node.status, REMOTE_ST.MO_IN);
    this.#roOut.onStuck((intervals) =>
      log.warn('writers keep the flow\'s ST generation odd or moving; nothing is sent until it is even (did a writer die mid-update?)', {
        flow: 'ro', st_record: REMOTE_ST.RO_OUT, intervals,
      }),
    );
  }

  static async start(config: RemoteConfig, node: NodeSegments, log: Logger, fail: (err: Error) => void): Promise<RemoteService> {
    const keys = config.pskFile !== undefined ? new PskKeys(readKeyFile(config.pskFile)) : undefined;
    const address = await resolveHost(config.masterHost, config.family);
    const endpoint = await UdpEndpoint.bind({ family: config.family, port: 0, ...(config.listen ? { address: config.listen } : {}) });
    const transport = new Transport(endpoint, log, node.status.nextEpoch(), {
      self: config.clientId,
      acceptSrc: (src) => src === NODE_MASTER,
      ...(keys ? { keys } : {}),
    });
    const service = new RemoteService(config, node, log, transport, { address, port: config.port }, fail);
    if (keys) log.info('datagrams are authenticated and encrypted', { psk_file: config.pskFile });
    else log.warn('the network side is unauthenticated: anyone who can reach this node can write into its MO and BC; use --psk-file');
    service.transport.listen((msg, from) => service.#handle(msg, from));
    service.#setState(PeerState.JOINING);
    service.#startJoining();
    service.#scanTimer = setInterval(() => service.#scan(), config.intervalMs);
    log.info('joining master', { master: formatPeer(service.#master), host: config.masterHost, epoch: service.epoch });
    return service;
  }

  get epoch(): number {
    return this.transport.epoch;
  }

  get joined(): boolean {
    return this.#joined !== undefined;
  }

  /** Status of this remote and its master (pdsm status, top, metrics). */
  report(): DaemonReport {
    const c = this.config;
    const now = this.#clock.now();
    const j = this.#joined;
    const flows = [this.#moIn.report(), this.#roOut.report()];
    if (this.#bcIn) flows.push(this.#bcIn.report());
    return {
      role: 'remote',
      pid: process.pid,
      epoch: this.epoch,
      uptimeS: Math.round((now - this.#startedAt) / 1000),
      params: {
        client_id: c.clientId, master: formatPeer(this.#master), family: c.family, seg_size: c.segSize, page_size: c.pageSize,
        word_size: c.wordSize, interval_ms: c.intervalMs, mtu: j?.mtu ?? c.mtu, heartbeat_ms: this.#timers.heartbeatMs,
        liveness_ms: this.#timers.livenessMs, bc_size: this.#node.bc?.size ?? 0, bc_mode: j?.bcMode ?? 'none',
        ...(j ? { master_epoch: j.masterEpoch } : {}),
      },
      peers: [{
        id: -1,
        state: j ? 'up' : this.#everJoined ? 'down' : 'joining',
        address: formatPeer(this.#master),
        ...(this.#lastHeard !== undefined ? { lastHeardMsAgo: Math.round(now - (j?.lastHeard ?? this.#lastHeard)) } : {}),
        ...(j?.rttMs !== undefined ? { rttMs: j.rttMs } : {}),
        ...(j && j.bcMode === 'multicast' ? { bcUnicast: j.wantBcUnicast } : {}),
        flows,
      }],
      wire: { sent: Object.fromEntries(this.transport.sent), received: Object.fromEntries(this.transport.received) },
      drops: Object.fromEntries(this.transport.drops),
      scanMs: [...this.#scanMs],
    };
  }

  #setState(state: PeerStateValue): void {
    for (const r of [REMOTE_ST.MO_IN, REMOTE_ST.RO_OUT]) this.#node.status.setPeerState(r, state);
    if (this.#bcIn) this.#node.status.setPeerState(REMOTE_ST.BC_IN, state);
  }

  /** spec §8.1: join the group on --multicast-if (or the default interface) before acting on WELCOME. */
  async #joinGroup(group: string, port: number): Promise<void> {
    if (this.#multicast?.group === group && this.#multicast.endpoint.localPort === port) return;
    await this.#leaveGroup();
    const iface = this.config.multicastIf !== undefined ? multicastInterface(this.config.multicastIf, this.config.family) : undefined;
    const endpoint = await UdpEndpoint.bind({ family: this.config.family, port, reuseAddr: true });
    try {
      endpoint.socket.addMembership(group, iface);
    } catch (err) {
      await endpoint.close(0);
      throw new PdsmError('PDSM_ERR_NETWORK', `cannot join multicast group ${group}${iface ? ` on ${this.config.multicastIf}` : ''}: ${(err as Error).message}`, { cause: err });
    }
    this.#multicast = { endpoint, group, iface };
    this.transport.listen((msg, from) => {
      this.#multicastReceived++;
      this.#handle(msg, from);
    }, endpoint);
    this.#log.info('joined multicast group', { group, port, interface: this.config.multicastIf });
  }

  async #leaveGroup(): Promise<void> {
    const m = this.#multicast;
    if (!m) return;
    this.#multicast = undefined;
    try {
      m.endpoint.socket.dropMembership(m.group, m.iface);
    } catch {
      // already gone with the interface
    }
    await m.endpoint.close(0);
  }

  #startJoining(): void {
    clearInterval(this.#heartbeatTimer);
    clearInterval(this.#digestTimer);
    this.#heartbeatTimer = undefined;
    this.#roNextSeq = randomInt(0, 2 ** 32 - 1) >>> 0;
    const hello = (): void =>
      this.transport.send({
        type: 'hello', src: this.config.clientId, dst: NODE_MASTER, epoch: this.epoch,
        versionMin: VERSION, versionMax: VERSION, mtu: this.config.mtu, pageSize: this.config.pageSize,
        segSize: this.config.segSize, bcSize: 0, roNextSeq: this.#roNextSeq, wordSize: this.config.wordSize,
        hostname: hostname().slice(0, 255), options: [],
      }, this.#master);
    clearTimeout(this.#helloTimer);
    this.#helloAttempt = 0;
    let warnedAt = this.#clock.now();
    const again = (): void => {
      hello();
      // No answer at all: the master is down, unreachable, or drops us for a key mismatch.
      if (this.#helloAttempt >= 5 && this.#clock.now() - warnedAt >= 30_000) {
        warnedAt = this.#clock.now();
        this.#log.warn('no answer from the master; is it running and reachable, and do both sides use the same --psk-file?', { master: formatPeer(this.#master), hellos: this.#helloAttempt + 1 });
      } else if (this.#helloAttempt === 4) {
        this.#log.warn('no answer from the master yet; is it running and reachable, and do both sides use the same --psk-file?', { master: formatPeer(this.#master), hellos: 5 });
      }
      this.#helloTimer = setTimeout(again, helloDelay(this.#helloAttempt++));
    };
    again();
  }

  /** spec §7.8: every Digest Period, the hashes of RO as last sent. */
  #digest(): void {
    const j = this.#joined;
    if (!j || this.transport.endpoint.queued > 0) return;
    for (const chunk of this.#roOut.digest(this.config.wordSize, hashesPerDigest(j.mtu, this.transport.sealed))) {
      this.transport.send({ type: 'digest', src: this.config.clientId, dst: NODE_MASTER, epoch: this.epoch, flow: 'ro', ...chunk }, this.#master);
    }
  }

  #scan(): void {
    if (!this.#joined) return;
    const started = performance.now();
    this.#roOut.tick();
    const ms = performance.now() - started;
    this.#scanMs.push(ms);
    if (this.#scanMs.length > 64) this.#scanMs.shift();
    this.observers.emitScan(ms);
  }

  #heartbeat(): void {
    const j = this.#joined;
    if (!j) return;
    const now = this.#clock.now();
    if (now - j.lastHeard > j.timers.livenessMs) {
      this.#lost('master silent past the liveness timeout');
      return;
    }
    this.#checkMulticast(j);
    const sender = this.#roOut.sender;
    this.transport.send({
      type: 'heartbeat', src: this.config.clientId, dst: NODE_MASTER, epoch: this.epoch, timestamp: stampUs(now),
      echo: echoFor(j, now),
      wantBcUnicast: j.wantBcUnicast,
      flows: [{ flow: 'ro', highestSeq: sender ? sender.highestSeq : (this.#roNextSeq - 1) >>> 0 }],
    }, this.#master);
  }

  /**
   * spec §8.4, checked once per heartbeat period in multicast mode. The master's BC highest
   * seq advanced past what we have in each of 3 periods in a row while not one multicast
   * datagram arrived: multicast does not reach us. Safety net for a quiet BC (one change,
   * then nothing, would never make 3 advancing periods): behind for 20 periods in a row
   * with no multicast at all, though our NACKs asked for repairs all along. Plain loss
   * lets some datagrams through and resets both counts. Sticky until the next join.
   */
  #checkMulticast(j: Joined): void {
    if (j.bcMode !== 'multicast' || j.wantBcUnicast) return;
    const receiver = this.#bcIn?.receiver;
    const highest = j.bcHighest;
    const behind = receiver !== undefined && highest !== undefined && ((highest - receiver.expected + 1) | 0) > 0;
    const advanced = highest !== undefined && j.bcHighestAtCheck !== undefined && ((highest - j.bcHighestAtCheck) | 0) > 0;
    j.bcHighestAtCheck = highest;
    const heard = this.#multicastReceived > 0;
    this.#multicastReceived = 0;
    if (heard || !behind) {
      j.heartbeatsWithoutMulticast = 0;
      j.advancingWithoutMulticast = 0;
      return;
    }
    j.heartbeatsWithoutMulticast++;
    j.advancingWithoutMulticast = advanced ? j.advancingWithoutMulticast + 1 : 0;
    if (j.advancingWithoutMulticast >= 3 || j.heartbeatsWithoutMulticast >= 20) {
      j.wantBcUnicast = true;
      this.#log.warn('no multicast arrives; asking the master for BC by unicast', {
        group: this.#multicast?.group, periods: j.heartbeatsWithoutMulticast, advancing: j.advancingWithoutMulticast,
      });
    }
  }

  /** The master went away (silence, goodbye, restart): back to joining. */
  #lost(why: string): void {
    if (!this.#joined) return;
    this.#joined = undefined;
    this.#roOut.stop();
    this.#moIn.stop();
    this.#bcIn?.stop();
    this.#setState(PeerState.DOWN);
    // A new epoch: the master must see a new session (fresh sequence numbers, full resync),
    // not a retransmitted HELLO of the one it may still hold (spec §4.6, §7.1).
    this.transport.renew(this.#node.status.nextEpoch());
    this.#log.warn('master down; joining again', { master: formatPeer(this.#master), reason: why, epoch: this.epoch });
    if (!this.#stopped) this.#startJoining();
  }

  #handle(msg: Message, from: Peer): void {
    // Only the master's socket may speak to us (multicast too is sent from it). A master with
    // several addresses should be given -L, or reached with -H at the address it sends from.
    if (peerKey({ address: from.address.replace(/^::ffff:/, ''), port: from.port }) !== peerKey(this.#master)) {
      this.transport.drop('unknown-source', from);
      return;
    }
    const toAll = msg.dst === NODE_ALL && 'flow' in msg && msg.flow === 'bc';
    if (msg.src !== NODE_MASTER || (msg.dst !== this.config.clientId && !toAll)) {
      this.transport.drop('not-for-us', from);
      return;
    }
    if (msg.type === 'welcome') {
      if (!this.#welcoming) void this.#onWelcome(msg).catch((err: Error) => this.#fail(err));
      return;
    }
    if (msg.type === 'reject') return this.#onReject(msg);
    const j = this.#joined;
    if (!j) {
      this.transport.drop('not-joined', from, 'debug'); // e.g. the full batch racing our WELCOME
      return;
    }
    if (msg.epoch !== j.masterEpoch) {
      // spec §7.1: HEARTBEAT or GOODBYE from another master epoch: the master restarted.
      if (msg.type === 'heartbeat' || msg.type === 'goodbye') this.#lost('master restarted (new epoch)');
      else this.transport.drop('old-master-epoch', from);
      return;
    }
    const now = this.#clock.now();
    j.lastHeard = now;
    this.#lastHeard = now;
    this.#node.status.stampHeard(REMOTE_ST.MO_IN);
    this.#node.status.stampHeard(REMOTE_ST.RO_OUT);
    switch (msg.type) {
      case 'data':
      case 'commit': {
        const receiver = msg.flow === 'mo' ? this.#moIn.receiver : msg.flow === 'bc' ? this.#bcIn?.receiver : undefined;
        if (!receiver) this.transport.drop('wrong-flow', from);
        else this.transport.deliver(receiver, msg, from);
        break;
      }
      case 'nack':
        if (msg.flow === 'ro' && this.#roOut.sender) this.#roOut.sender.onNack(msg.ranges);
        else this.transport.drop('wrong-flow', from);
        break;
      case 'resync':
        if (msg.flow === 'ro' && this.#roOut.sender) this.#roOut.sender.onResync(msg.firstPage, msg.pageCount, msg.full);
        else this.transport.drop('wrong-flow', from);
        break;
      case 'heartbeat':
        {
          const rtt = heardHeartbeat(j, msg, now);
          if (rtt !== undefined) this.observers.emitRtt(-1, rtt);
        }
        for (const f of msg.flows) {
          if (f.flow === 'mo') this.#moIn.receiver?.onHighestSeq(f.highestSeq);
          if (f.flow === 'bc') {
            j.bcHighest = f.highestSeq;
            this.#bcIn?.receiver?.onHighestSeq(f.highestSeq);
          }
        }
        break;
      case 'digest': {
        const flow = msg.flow === 'mo' ? this.#moIn : msg.flow === 'bc' ? this.#bcIn : undefined;
        if (flow) {
          const differ = flow.onDigest(msg);
          if (differ.length) this.#log.warn('digest found divergent pages; resyncing them', { flow: msg.flow, pages: differ.length });
        } else this.transport.drop('wrong-flow', from);
        break;
      }
      case 'goodbye':
        this.#lost('master said goodbye');
        break;
      default:
        this.transport.drop(`unexpected-${msg.type}`, from);
    }
  }

  async #onWelcome(w: WelcomeMessage): Promise<void> {
    this.#lastHeard = this.#clock.now();
    if (w.remoteEpoch !== this.epoch) {
      this.transport.drop('stale-welcome');
      return;
    }
    if (this.#joined?.masterEpoch === w.epoch) return; // a repeat of the WELCOME we acted on
    if (this.#joined) this.#lost('master restarted (new epoch)');
    this.#welcoming = true;
    try {
      // BC: create or re-attach the segment, list it in the registry, join the group.
      if (w.bcSize > 0) {
        await attachBroadcast(this.config, this.#node, w.bcSize);
        this.#bcIn ??= new InFlow('bc', this.#node.bc!.buffer, this.#geometry, this.#node.status, REMOTE_ST.BC_IN);
        if (w.bcMode === 'multicast' && w.multicast) await this.#joinGroup(addressText(w.multicast.address), w.multicast.port);
      }
    } finally {
      this.#welcoming = false;
    }
    if (this.#stopped) return;
    clearTimeout(this.#helloTimer);
    this.#helloTimer = undefined;
    const timers = defaultTimers(this.config.intervalMs, { heartbeatMs: w.heartbeatMs, livenessMs: w.livenessMs, digestMs: this.#timers.digestMs });
    this.#timers = timers;
    const now = this.#clock.now();
    const mtu = Math.min(this.config.mtu, w.mtu);
    this.#joined = {
      masterEpoch: w.epoch, mtu, lastHeard: now, peerStamp: undefined, rttMs: undefined, timers,
      bcMode: w.bcMode, bcHighest: undefined, bcHighestAtCheck: undefined, heartbeatsWithoutMulticast: 0, advancingWithoutMulticast: 0, wantBcUnicast: false,
    };
    if (this.#bcIn && w.bcMode !== 'none') {
      this.#bcIn.start({
        firstSeq: w.bcNextSeq,
        clock: this.#clock,
        ...this.#feedback('bc'),
        // spec §8.2: many remotes miss the same multicast datagram; back off at random.
        ...(w.bcMode === 'multicast' ? { nackBackoff: () => multicastNackDelay(50, w.clientCount) } : {}),
      });
    }
    this.#moIn.start({
      firstSeq: w.moNextSeq,
      clock: this.#clock,
      ...this.#feedback('mo'),
    });
    this.#roOut.start({
      src: this.config.clientId, dst: NODE_MASTER, epoch: this.epoch, firstSeq: this.#roNextSeq,
      geometry: { ...this.#geometry, mtu }, sealed: this.transport.sealed, clock: this.#clock,
      emit: (msg) => this.transport.send(msg, this.#master),
    });
    this.#setState(PeerState.UP);
    this.#everJoined = true;
    this.#node.status.stampHeard(REMOTE_ST.MO_IN);
    this.#heartbeatTimer = setInterval(() => this.#heartbeat(), timers.heartbeatMs);
    clearInterval(this.#digestTimer);
    this.#digestTimer = setInterval(() => this.#digest(), timers.digestMs);
    this.#log.info('joined master', { master: formatPeer(this.#master), master_epoch: w.epoch, remotes: w.clientCount });
    this.#roOut.tick(); // the full RO batch right away
  }

  /** NACK and RESYNC of an incoming flow go to the master by unicast (spec §8.1 for BC too). */
  #feedback(flow: 'mo' | 'bc'): Feedback {
    return feedback((m) => this.transport.send(m, this.#master), flow, this.config.clientId, NODE_MASTER, () => this.epoch);
  }

  #onReject(r: RejectMessage): void {
    if (r.remoteEpoch !== this.epoch) {
      this.transport.drop('stale-reject');
      return;
    }
    if (r.reason === 'not-joined') {
      if (this.#joined) this.#lost('master does not know us (it restarted or marked us down)');
      return;
    }
    if (r.reason === 'duplicate' || r.reason === 'unavailable') {
      this.#log.warn('master refused the join for now; retrying', { reason: r.reason, text: r.text ?? undefined });
      return;
    }
    if (r.reason === 'auth-required') {
      this.#fail(new PdsmError('PDSM_ERR_REJECTED', 'the master requires authentication: start this remote with --psk-file and the master\'s key'));
      return;
    }
    const what = REJECT_WHAT[r.reason];
    const detail = what ? `${what}: the master has ${r.expected}, this remote has ${r.offered}` : (r.text ?? r.reason);
    this.#fail(new PdsmError('PDSM_ERR_REJECTED', `the master rejected this remote (${r.reason}): ${detail}`));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#helloTimer);
    clearInterval(this.#digestTimer);
    clearInterval(this.#scanTimer);
    clearInterval(this.#heartbeatTimer);
    if (this.#joined) {
      this.#roOut.tick();
      this.transport.send({ type: 'goodbye', src: this.config.clientId, dst: NODE_MASTER, epoch: this.epoch, reason: 'shutdown' }, this.#master);
    }
    this.#moIn.stop();
    this.#bcIn?.stop();
    await this.#leaveGroup();
    await this.transport.endpoint.close(1000);
  }
}
