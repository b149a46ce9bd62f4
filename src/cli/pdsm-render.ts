/**
 * The text views of a DaemonReport: `pdsm status` (renderStatus) and `pdsm top`
 * (renderTop). Pure functions of a report, laid out for an 80-column terminal, with no
 * imports beyond the report's types, so tests compare them with fixed snapshots.
 */
import type { DaemonReport, FlowReport, PeerReport } from '../daemon/status-report.js';

// ---- number formats: every one fits its column ----

/** A count in at most 5 characters: 12345, 123k, 1.23M. */
export function fmtCount(n: number): string {
  if (n < 100_000) return String(Math.round(n));
  const units = ['k', 'M', 'G', 'T', 'P'];
  let v = n / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toPrecision(3)}${units[i]!}`;
}

/** Bytes in at most 7 characters: 1023B, 1.23KiB, 12.3MiB, 1023GiB. */
export function fmtBytes(n: number): string {
  if (n < 1024) return `${Math.round(n)}B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)}${units[i]!}`;
}

/** A duration in seconds as 45s, 3m07s, 1h02m03s, 4d03h. */
export function fmtUptime(s: number): string {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  const two = (x: number): string => String(x).padStart(2, '0');
  if (d > 0) return `${d}d${two(h)}h`;
  if (h > 0) return `${h}h${two(m)}m${two(sec)}s`;
  if (m > 0) return `${m}m${two(sec)}s`;
  return `${sec}s`;
}

/** Time since last heard, at most 6 characters: 0.0s, 59.9s, 12m03s, 5h07m, 12d. */
export function fmtAgo(ms: number | undefined): string {
  if (ms === undefined) return '-';
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86400)}d`;
}

/** A round-trip time, at most 7 characters: 0.31ms, 12.3ms, 123ms, 1.23s. */
export function fmtRtt(ms: number | undefined): string {
  if (ms === undefined) return '-';
  if (ms < 10) return `${ms.toFixed(2)}ms`;
  if (ms < 100) return `${ms.toFixed(1)}ms`;
  if (ms < 1000) return `${ms.toFixed(0)}ms`;
  return `${(ms / 1000).toFixed(2)}s`;
}

export function fmtEpoch(epoch: number): string {
  return `0x${(epoch >>> 0).toString(16).padStart(8, '0')}`;
}

/** Cut a line to `width` columns, marking the cut with "~". */
export function fit(line: string, width: number): string {
  return line.length <= width ? line : `${line.slice(0, Math.max(0, width - 1))}~`;
}

/** Words joined by spaces, wrapped at `width`; continuation lines indented by two. */
export function wrap(words: string[], width: number, first = ''): string[] {
  const lines: string[] = [];
  let line = first;
  for (const w of words) {
    if (line.trim() !== '' && line.length + 1 + w.length > width) {
      lines.push(line);
      line = `  ${w}`;
    } else line = line === '' ? w : `${line} ${w}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

// ---- the peer table: 79 columns, one line per flow, the address under the peer ----

const COLUMNS: [title: string, width: number, align: 'l' | 'r'][] = [
  ['PEER', 6, 'l'],
  ['STATE', 7, 'l'],
  ['HEARD', 6, 'r'],
  ['RTT', 7, 'r'],
  ['FLOW', 6, 'l'],
  ['PAGES', 7, 'r'],
  ['BYTES', 7, 'r'],
  ['NACKS', 6, 'r'],
  ['RETX', 6, 'r'],
  ['RESYNC', 6, 'r'],
  ['PEND', 5, 'r'],
];
/** Characters before the FLOW column: where the address line has room. */
const ADDRESS_WIDTH = 6 + 1 + 7 + 1 + 6 + 1 + 7;

/** One table line; `lead` (an address) replaces the first four columns when given. */
function row(cells: string[], lead?: string): string {
  const cols = COLUMNS.map(([, w, align], i) => {
    const c = cells[i] ?? '';
    return align === 'l' ? c.padEnd(w) : c.padStart(w);
  });
  if (lead !== undefined) cols.splice(0, 4, lead.padEnd(ADDRESS_WIDTH));
  return cols.join(' ').trimEnd();
}

function peerName(id: number): string {
  return id < 0 ? 'master' : String(id);
}

function flowCells(f: FlowReport, pageSize: number | undefined): string[] {
  return [
    `${f.flow.toUpperCase()} ${f.direction}`,
    pageSize ? fmtCount(Math.round(f.bytes / pageSize)) : '-',
    fmtBytes(f.bytes),
    fmtCount(f.nacks),
    f.direction === 'out' ? fmtCount(f.retransmits) : '-',
    fmtCount(f.resyncs),
    f.direction === 'in' ? fmtCount(f.pending) : '-',
  ];
}

function peerLines(p: PeerReport, pageSize: number | undefined): string[] {
  const lines: string[] = [];
  const first = p.flows[0];
  const head = [peerName(p.id), p.state, p.state === 'unknown' ? '-' : fmtAgo(p.lastHeardMsAgo), fmtRtt(p.rttMs)];
  lines.push(row([...head, ...(first ? flowCells(first, pageSize) : [])]));
  let address = p.address ?? '';
  if (p.bcUnicast) address += ' bc-unicast';
  // A long (IPv6) address keeps its end, where the port is.
  if (address.length > ADDRESS_WIDTH) address = `~${address.slice(address.length - ADDRESS_WIDTH + 1)}`;
  const rest = p.flows.slice(1);
  if (rest.length === 0 && address !== '') lines.push(address);
  rest.forEach((f, i) => lines.push(row(['', '', '', '', ...flowCells(f, pageSize)], i === 0 ? address : '')));
  // A remote the master keeps refusing says why (its last REJECT), cut to the line.
  if (p.problem) lines.push(`  ${p.problem}`.slice(0, 80));
  return lines;
}

/** The peer table: a header, then each peer's flows (and the master's BC, shared by all). */
export function renderPeerTable(report: DaemonReport): string[] {
  const pageSize = typeof report.params.page_size === 'number' ? report.params.page_size : undefined;
  const lines = [row(COLUMNS.map(([t]) => t))];
  for (const p of report.peers) lines.push(...peerLines(p, pageSize));
  if (report.bc) {
    const mode = report.params.bc_mode === 'multicast' ? 'mcast' : String(report.params.bc_mode ?? '-').slice(0, 7);
    lines.push(row(['all', mode, '', '', ...flowCells(report.bc, pageSize)]));
  }
  return lines;
}

// ---- the header ----

export function renderTitle(report: DaemonReport): string {
  const who = report.role === 'master' ? 'pdsm_master' : `pdsm_remote ${String(report.params.client_id ?? '?')}`;
  return `${who}  pid ${report.pid}  epoch ${fmtEpoch(report.epoch)}  up ${fmtUptime(report.uptimeS)}`;
}

function wireTotals(byType: Record<string, { datagrams: number; bytes: number }>): { datagrams: number; bytes: number } {
  let datagrams = 0;
  let bytes = 0;
  for (const c of Object.values(byType)) {
    datagrams += c.datagrams;
    bytes += c.bytes;
  }
  return { datagrams, bytes };
}

export function renderWire(report: DaemonReport): string {
  const out = wireTotals(report.wire.sent);
  const inn = wireTotals(report.wire.received);
  return `wire out ${fmtCount(out.datagrams)} datagrams ${fmtBytes(out.bytes)}, in ${fmtCount(inn.datagrams)} datagrams ${fmtBytes(inn.bytes)}`;
}

export function renderDrops(report: DaemonReport, width: number): string[] {
  const drops = Object.entries(report.drops)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => a.localeCompare(b));
  if (drops.length === 0) return ['dropped: none'];
  return wrap(
    drops.map(([reason, n]) => `${reason}=${n}`),
    width,
    'dropped:',
  );
}

export function renderScan(report: DaemonReport): string {
  const s = report.scanMs;
  if (s.length === 0) return 'scan: none yet';
  const last = s[s.length - 1]!;
  const max = Math.max(...s);
  return `scan: last ${last.toFixed(2)} ms, max ${max.toFixed(2)} ms over the last ${s.length}`;
}

/** The daemon's event-loop delay (loop-monitor.ts) on a line of its own, when reported. */
export function renderLoopDelay(report: DaemonReport): string[] {
  const d = report.loopDelay;
  if (!d) return [];
  return [`event loop delay p99 ${d.p99Ms} ms, max ${d.maxMs} ms, p50 ${d.p50Ms} ms over ${d.windowS} s`];
}

/** One line per flow with a full resync under way: bytes done of total, rate, time left. */
export function renderResyncs(report: DaemonReport): string[] {
  const all = report.peers.flatMap((p) => p.flows.map((f) => ({ who: peerName(p.id), f })));
  if (report.bc) all.push({ who: 'all', f: report.bc });
  return all
    .filter(({ f }) => f.resync)
    .map(({ who, f }) => {
      const r = f.resync!;
      const pct = r.bytesTotal > 0 ? Math.floor((100 * r.bytesDone) / r.bytesTotal) : 0;
      const eta = r.etaS !== undefined ? `, ${r.etaS} s left` : '';
      return `resync ${f.flow.toUpperCase()} ${f.direction} ${who}${r.phase ? ` ${r.phase}` : ''}: ${fmtBytes(r.bytesDone)} of ${fmtBytes(r.bytesTotal)} (${pct}%), ${fmtBytes(r.rate)}/s${eta}`;
    });
}

/**
 * One line per outgoing flow that left NACKed numbers unanswered (spec §8.2): older than its
 * history, in a NACK too big to repair, or shed from a full repair queue. None when all are 0.
 */
export function renderUnanswered(report: DaemonReport): string[] {
  const all = report.peers.flatMap((p) => p.flows.map((f) => ({ who: peerName(p.id), f })));
  if (report.bc) all.push({ who: 'all', f: report.bc });
  return all
    .filter(({ f }) => (f.nackedTooOld ?? 0) + (f.nackedOversized ?? 0) + (f.nackShed ?? 0) > 0)
    .map(
      ({ who, f }) =>
        `NACKs unanswered ${f.flow.toUpperCase()} ${f.direction} ${who}: ${fmtCount(f.nackedTooOld ?? 0)} too old, ` +
        `${fmtCount(f.nackedOversized ?? 0)} oversized, ${fmtCount(f.nackShed ?? 0)} shed`,
    );
}

/** `pdsm status` as text: every line at most `width` (default 80) columns. */
export function renderStatus(report: DaemonReport, width = 80): string {
  const params = Object.entries(report.params).map(([k, v]) => `${k}=${String(v)}`);
  const lines = [
    renderTitle(report),
    ...wrap(params, width, 'params:'),
    renderWire(report),
    ...renderDrops(report, width),
    renderScan(report),
    ...renderLoopDelay(report),
    ...renderResyncs(report),
    ...renderUnanswered(report),
    '',
    ...renderPeerTable(report),
  ];
  return lines.map((l) => fit(l, width)).join('\n') + '\n';
}

export interface TopRates {
  previous: DaemonReport;
  elapsedMs: number;
}

/** Datagrams and bytes per second each way between two reports of the same daemon. */
export function renderRates(report: DaemonReport, rates: TopRates): string {
  const s = rates.elapsedMs / 1000;
  if (s <= 0 || rates.previous.epoch !== report.epoch) return 'rate: -';
  const per = (now: ReturnType<typeof wireTotals>, before: ReturnType<typeof wireTotals>): string =>
    `${fmtCount(Math.max(0, now.datagrams - before.datagrams) / s)}/s ${fmtBytes(Math.max(0, now.bytes - before.bytes) / s)}/s`;
  return `rate out ${per(wireTotals(report.wire.sent), wireTotals(rates.previous.wire.sent))}, in ${per(wireTotals(report.wire.received), wireTotals(rates.previous.wire.received))}`;
}

/** Peers by state: "peers: 2 up, 1 down" (joining and never only when there are some). */
export function renderPeerCounts(report: DaemonReport): string {
  const n = { up: 0, down: 0, joining: 0, unknown: 0 };
  for (const p of report.peers) n[p.state]++;
  const parts = [`${n.up} up`, `${n.down} down`];
  if (n.joining) parts.push(`${n.joining} joining`);
  if (n.unknown) parts.push(`${n.unknown} never joined`);
  return `peers: ${parts.join(', ')}`;
}

/**
 * One view of `pdsm top`: every line at most `width` columns. The caller cuts it to the
 * terminal's height.
 */
export function renderTop(report: DaemonReport, width: number, rates?: TopRates): string {
  const title = renderTitle(report);
  const hint = 'q: quit';
  // The hint ends one column short of the edge, like every other line, so no terminal wraps.
  const first = title.length + 3 + hint.length <= width ? title + ' '.repeat(width - 1 - title.length - hint.length) + hint : title;
  const lines = [
    first,
    renderPeerCounts(report),
    renderWire(report),
    ...(rates ? [renderRates(report, rates)] : []),
    ...renderDrops(report, width),
    renderScan(report),
    ...renderLoopDelay(report),
    ...renderResyncs(report),
    ...renderUnanswered(report),
    '',
    ...renderPeerTable(report),
  ];
  return lines.map((l) => fit(l, width)).join('\n') + '\n';
}
