/**
 * Admission: what the master answers to a HELLO, as one pure function of the HELLO, where
 * it came from and what the master holds (spec/protocol.md §4.6). The checks run in the
 * spec's order and the first that fails is the answer:
 *
 *   unavailable (the master is closing) > version > client-id > address > page-size >
 *   word-size > seg-size > bc-size > session (retransmission, replacement or duplicate)
 *
 * A session is the source address AND port of its HELLO (§7.1): a HELLO for a client id
 * whose session is live (heard within Liveness Ms) from any other address or port is
 * REJECT duplicate, whatever its epoch; once that session has been silent past Liveness Ms
 * the HELLO replaces it and the old peer is sent GOODBYE evicted (§4.4).
 */
import type { HelloMessage, RejectReason } from '../udp/codec.js';
import { negotiateVersion } from '../udp/join.js';

export interface VersionRange {
  min: number;
  max: number;
}

export interface AdmissionContext {
  /** spec §7.11: the master got SIGTERM/SIGINT and said GOODBYE: no new sessions. */
  closing: boolean;
  versions: VersionRange;
  /** N: client ids are 0..N-1. */
  remotes: number;
  /** With -g: why the HELLO's source is not this id's Clientname, or undefined when it is (or there is no -g). */
  addressProblem(clientId: number): string | undefined;
  pageSize: number;
  wordSize: number;
  segSize: number;
  /** 0 without BC. */
  bcSize: number;
  /** The client id's current session, if any. */
  session: { peerKey: string; remoteEpoch: number; live: boolean } | undefined;
}

export type Admission =
  | { kind: 'reject'; reason: RejectReason; expected: number; offered: number; text: string }
  /** spec §10.4: a HELLO that offers version 2 without its NONCE is malformed: dropped, not answered. */
  | { kind: 'drop'; reason: 'decode-option' }
  /** Our WELCOME was lost: send the same one again, change nothing (§4.6). */
  | { kind: 'resend' }
  /** A new session; `replaces` says what happens to the old one. */
  | { kind: 'welcome'; version: number; replaces: 'nothing' | 'restarted' | 'silent' };

const reject = (reason: RejectReason, expected: number, offered: number, text: string): Admission => ({ kind: 'reject', reason, expected, offered, text });

export function admit(m: HelloMessage, fromKey: string, c: AdmissionContext): Admission {
  if (c.closing) return reject('unavailable', 0, 0, 'the master is shutting down');
  const v = negotiateVersion(m, c.versions);
  if (!v.ok) return 'drop' in v ? { kind: 'drop', reason: 'decode-option' } : reject(v.reject.reason, v.reject.expected, v.reject.offered, v.reject.text);
  const version = v.version;
  if (m.src >= c.remotes) return reject('client-id', c.remotes, m.src, `client id ${m.src} is out of range 0..${c.remotes - 1}`);
  const problem = c.addressProblem(m.src);
  if (problem !== undefined) return reject('address', 0, 0, problem);
  if (m.pageSize !== c.pageSize) return reject('page-size', c.pageSize, m.pageSize, `page size: master ${c.pageSize}, remote ${m.pageSize}`);
  if (m.wordSize !== c.wordSize) return reject('word-size', c.wordSize, m.wordSize, `word size: master ${c.wordSize}, remote ${m.wordSize}`);
  if (m.segSize !== c.segSize) return reject('seg-size', c.segSize, m.segSize, `segment size: master ${c.segSize}, remote ${m.segSize}`);
  if (m.bcSize !== 0 && m.bcSize !== c.bcSize) return reject('bc-size', c.bcSize, m.bcSize, `broadcast size: master ${c.bcSize}, remote ${m.bcSize}`);
  const s = c.session;
  if (!s) return { kind: 'welcome', version, replaces: 'nothing' };
  if (s.peerKey === fromKey) return s.remoteEpoch === m.epoch ? { kind: 'resend' } : { kind: 'welcome', version, replaces: 'restarted' };
  if (s.live) return reject('duplicate', 0, 0, `client ${m.src} is already joined from another address or port`);
  return { kind: 'welcome', version, replaces: 'silent' };
}
