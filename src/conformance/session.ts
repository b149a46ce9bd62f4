/**
 * The remote side of a session, as `pdsm conformance master` plays it: HELLOs built from
 * what the master wants (learned from its REJECTs or WELCOME, spec §4.3's Expected), a join
 * that optionally validates the address (the COOKIE echo, §4.6, §9.6) and keeps the
 * session alive with HEARTBEATs, and a GOODBYE that ends it.
 */
import type { HelloMessage, Message, RejectMessage, WelcomeMessage, WordSize } from '../udp/codec.js';
import { NODE_MASTER } from '../udp/constants.js';
import { deriveSessionKeys, freshNonce } from '../udp/seal.js';
import { is, Probe, type Target, type Unnumbered } from './probe.js';

/** What the master under test accepts, as its WELCOME (or REJECTs) said. */
export interface MasterParams {
  clientCount: number;
  pageSize: number;
  segSize: number;
  bcSize: number;
  wordSize: WordSize;
}

/** Wait for an answer to a HELLO (or other request) this long. */
export const ANSWER_MS = 1000;
/** Listen this long to conclude that nothing comes back. */
export const SILENCE_MS = 600;

let lastEpoch = 0;
/** A fresh epoch for each HELLO that must be new (spec §7.1: never 0, never repeated in this run). */
export function freshEpoch(): number {
  lastEpoch = Math.max(lastEpoch + 1, Math.floor(Date.now() / 1000) >>> 0);
  return lastEpoch >>> 0;
}

export function hello(p: MasterParams, src: number, epoch: number, over: Partial<Unnumbered & HelloMessage> = {}): Unnumbered {
  return {
    type: 'hello',
    src,
    dst: NODE_MASTER,
    epoch,
    versionMin: 2,
    versionMax: 2,
    mtu: 1200,
    pageSize: p.pageSize,
    segSize: p.segSize,
    bcSize: p.bcSize,
    roNextSeq: 0xffff_fff0,
    wordSize: p.wordSize,
    hostname: 'pdsm-conformance',
    nonce: freshNonce(),
    options: [],
    ...over,
  } as Unnumbered;
}

export const isRejectFor =
  (epoch: number) =>
  (m: Message): m is RejectMessage =>
    m.type === 'reject' && m.remoteEpoch === epoch;
export const isWelcomeFor =
  (epoch: number) =>
  (m: Message): m is WelcomeMessage =>
    m.type === 'welcome' && m.remoteEpoch === epoch;

/** REJECTs of the run, spent carefully: the master's per-address budget is a burst of 8 refilled at 2/s (§4.3). */
export class RejectBudget {
  #tokens = 8;
  #at = Date.now();
  /** Wait until the master's bucket for our address holds a token (refill taken as 1.5/s, to be safe). */
  async take(): Promise<void> {
    const refill = (): void => {
      const now = Date.now();
      this.#tokens = Math.min(8, this.#tokens + ((now - this.#at) / 1000) * 1.5);
      this.#at = now;
    };
    refill();
    if (this.#tokens < 1) await new Promise((r) => setTimeout(r, ((1 - this.#tokens) / 1.5) * 1000 + 50));
    refill();
    this.#tokens -= 1;
  }
}

/** Ask the master once; answer: the WELCOME or REJECT for this HELLO, or undefined. */
export async function ask(probe: Probe, h: Unnumbered): Promise<WelcomeMessage | RejectMessage | undefined> {
  probe.send(h);
  return probe.next((m): m is WelcomeMessage | RejectMessage => (m.type === 'welcome' || m.type === 'reject') && m.remoteEpoch === h.epoch, ANSWER_MS);
}

/**
 * Learn the master's parameters: say HELLO with a guess and take each configuration
 * REJECT's Expected until a WELCOME comes (then end that session with GOODBYE).
 */
export async function discover(target: Target, client: number, budget: RejectBudget): Promise<MasterParams | string> {
  const p: MasterParams = { clientCount: client + 1, pageSize: 1024, segSize: 4096, bcSize: 0, wordSize: 8 };
  const probe = await Probe.open(target);
  try {
    for (let i = 0; i < 8; i++) {
      await budget.take();
      const epoch = freshEpoch();
      const a = await ask(probe, hello(p, client, epoch));
      if (a === undefined) return `no answer to HELLO from the master at ${target.host}:${target.port}`;
      if (a.type === 'welcome') {
        probe.send({ type: 'goodbye', src: client, dst: NODE_MASTER, epoch, reason: 'shutdown' });
        return { clientCount: a.clientCount, pageSize: a.pageSize, segSize: a.segSize, bcSize: a.bcSize, wordSize: a.wordSize };
      }
      if (a.reason === 'page-size') p.pageSize = a.expected;
      else if (a.reason === 'seg-size') p.segSize = a.expected;
      else if (a.reason === 'word-size' && [1, 2, 4, 8].includes(a.expected)) p.wordSize = a.expected as WordSize;
      else if (a.reason === 'bc-size') p.bcSize = a.expected;
      else return `HELLO for client ${client} drew REJECT ${a.reason} (expected ${a.expected}, offered ${a.offered})`;
    }
    return 'the master kept rejecting HELLO';
  } finally {
    await probe.close();
  }
}

export interface Session {
  probe: Probe;
  hello: Unnumbered & HelloMessage;
  welcome: WelcomeMessage;
  /** Send one HEARTBEAT of the session (with the COOKIE). */
  beat(): void;
  /** Stop the periodic HEARTBEATs. */
  stopBeating(): void;
  /** Stop heartbeating and send GOODBYE; closes the probe. */
  end(): Promise<void>;
}

/**
 * Join as `client`: HELLO, WELCOME, and (with `validate`) the HEARTBEAT echoing the COOKIE,
 * then a HEARTBEAT every Heartbeat Ms until end(). Returns a reason when it did not work.
 */
export async function join(target: Target, p: MasterParams, client: number, validate: boolean, over: Partial<HelloMessage> = {}): Promise<Session | string> {
  const pr = await Probe.open(target);
  const h = hello(p, client, freshEpoch(), over) as Unnumbered & HelloMessage;
  const a = await ask(pr, h);
  if (a === undefined || a.type !== 'welcome') {
    await pr.close();
    return a === undefined ? 'no WELCOME to a valid HELLO' : `REJECT ${a.reason} to a valid HELLO`;
  }
  if (target.psk !== null) {
    const secrets = { clientId: client, helloNonce: h.nonce!, welcomeNonce: a.nonce!, remoteEpoch: h.epoch, masterEpoch: a.epoch };
    pr.keys = deriveSessionKeys(target.psk, secrets, 'remote');
  }
  let timer: NodeJS.Timeout | undefined;
  const beat = (): void => {
    pr.send({
      type: 'heartbeat',
      src: client,
      dst: NODE_MASTER,
      epoch: h.epoch,
      timestamp: Number(process.hrtime.bigint() / 1000n) >>> 0,
      echo: null,
      wantBcUnicast: false,
      flows: [{ flow: 'ro', highestSeq: (h.roNextSeq - 1) >>> 0 }],
      cookie: a.cookie,
    });
  };
  if (validate) {
    beat();
    timer = setInterval(beat, a.heartbeatMs);
  }
  return {
    probe: pr,
    hello: h,
    welcome: a,
    beat,
    stopBeating: () => clearInterval(timer),
    async end() {
      clearInterval(timer);
      pr.send({ type: 'goodbye', src: client, dst: NODE_MASTER, epoch: h.epoch, reason: 'shutdown' });
      await pr.close();
    },
  };
}

export { is };
