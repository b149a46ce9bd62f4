/**
 * What a master under test sent during a `pdsm conformance master` run, kept as counts and
 * keys rather than datagrams (the cases' probes come and go): the first datagram that did
 * not decode, the first unsealed one of a sealed run, and the first packet number repeated
 * within one session (spec §3: per probe, from its WELCOME on; handshake datagrams aside).
 */
import { isSealed } from '../udp/seal.js';
import type { Arrival } from './probe.js';

export class WireTally {
  count = 0;
  undecodable: { reason: string; bytes: number } | null = null;
  unsealed: string | null = null;
  repeated: string | null = null;
  /** Per probe port: the (Dst, Epoch, Packet Number) of the session datagrams since its last WELCOME. */
  readonly #keys = new Map<number, Set<string>>();

  constructor(private readonly sealed: boolean) {}

  add(a: Arrival, port: number): void {
    this.count++;
    if (a.reason?.startsWith('decode-') === true) this.undecodable ??= { reason: a.reason, bytes: a.bytes };
    const m = a.msg;
    // §4.3: REJECT auth-required answers an unsealed HELLO unsealed.
    if (this.sealed && a.raw !== undefined && !isSealed(a.raw) && !(m?.type === 'reject' && m.reason === 'auth-required'))
      this.unsealed ??= m?.type.toUpperCase() ?? 'datagram';
    if (m === null) return;
    // §3: a session's count may start at 0 (a WELCOME starts one); handshake datagrams may repeat numbers.
    if (m.type === 'welcome') this.#keys.set(port, new Set());
    if (m.type === 'welcome' || m.type === 'reject') return;
    const keys = this.#keys.get(port) ?? new Set<string>();
    this.#keys.set(port, keys);
    const key = `${m.dst}/${m.epoch}/${m.packetNumber}`;
    if (keys.has(key)) this.repeated ??= `${m.type.toUpperCase()} with packet number ${m.packetNumber} again (Dst ${m.dst}, Epoch ${m.epoch}, to port ${port})`;
    keys.add(key);
  }
}
