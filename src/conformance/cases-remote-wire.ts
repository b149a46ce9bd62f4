/**
 * Cases of `pdsm conformance remote` over everything the remote sent in the run so far
 * (spec §3, §3.2, §9.5): each datagram decodes (no unlisted flag, packet number below
 * 2^48, options and flow entries in order), with a PSK each is sealed, and no two of one
 * session share (Src, Dst, Epoch, Packet Number). They run after the session cases that make it talk.
 */
import { isSealed } from '../udp/seal.js';
import { fail, pass, skip, type RemoteCase } from './case.js';

export const REMOTE_WIRE_CASES: RemoteCase[] = [
  {
    id: 'sent-datagrams-decode',
    section: '3.2',
    requirement:
      'A remote MUST send every unlisted flag as 0 (and, §3, §4.5, §6.2, §9.5: packet numbers below 2^48, options and flow entries in order, sealed with a PSK): every datagram it sent in the run decodes.',
    run: (ctx) => {
      const all = ctx.probe.arrivals;
      if (all.length === 0) return Promise.resolve(skip('the remote sent nothing'));
      const bad = all.find((a) => a.reason?.startsWith('decode-') === true);
      if (bad !== undefined) return Promise.resolve(fail(`${all.length} datagrams that decode`, `one that does not (${bad.reason}, ${bad.bytes} bytes)`));
      if (ctx.psk !== null) {
        const clear = all.find((a) => a.raw !== undefined && !isSealed(a.raw));
        if (clear !== undefined) return Promise.resolve(fail('every datagram sealed (§9.5)', `an unsealed ${clear.msg?.type.toUpperCase() ?? 'datagram'}`));
      }
      return Promise.resolve(pass);
    },
  },
  {
    id: 'packet-numbers-unique',
    section: '3',
    requirement:
      'A remote MUST NOT send two datagrams of one session with the same (Src, Dst, Epoch, Packet Number): none of a session of the run repeats one (HELLOs aside).',
    run: (ctx) => {
      const seen = new Map<string, string>();
      for (const a of ctx.probe.arrivals) {
        const m = a.msg;
        if (m === null) continue;
        // §3: HELLOs (handshake datagrams) may share numbers with the session's, and a session's
        // count may start again at 0: numbers are compared within the session of each WELCOME
        // sent (a remote that takes a master's second WELCOME keeps its epoch, §4.6).
        if (m.type === 'hello') continue;
        const key = `${m.src}/${m.dst}/${m.epoch}/${m.packetNumber}/${a.session ?? 0}`;
        const before = seen.get(key);
        if (before !== undefined)
          return Promise.resolve(
            fail(
              'a new packet number for every datagram',
              `${before} and ${m.type.toUpperCase()} both with (Src, Dst, Epoch, Packet Number) = (${m.src}, ${m.dst}, ${m.epoch}, ${m.packetNumber}) in one session`,
            ),
          );
        seen.set(key, m.type.toUpperCase());
      }
      return Promise.resolve(seen.size > 0 ? pass : skip('nothing decoded arrived'));
    },
  },
];
