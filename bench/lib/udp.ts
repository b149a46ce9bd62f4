/**
 * UDP figures the benchmarks share: the kernel's receive-buffer drops, and the raw datagram
 * rate baseline (a helper process blasting datagrams at one socket of this process,
 * unpaced, in the same run), which the fleet and big-segment resyncs are compared with.
 */
import { createSocket, type Socket } from 'node:dgram';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { onCleanup, sleep, spawnHelper } from './cluster.js';

/** RcvbufErrors of /proc/net/snmp (Udp line), the whole network namespace. */
export function rcvbufErrors(): number {
  const lines = readFileSync('/proc/net/snmp', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('Udp:'));
  const names = lines[0]!.split(/\s+/);
  const values = lines[1]!.split(/\s+/);
  return Number(values[names.indexOf('RcvbufErrors')]);
}

/** Drops per local port from /proc/net/udp (last column), summed over the ports asked. */
export function socketDrops(ports: Set<number>): number {
  let drops = 0;
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 13) continue;
    const port = parseInt(f[1]!.split(':')[1]!, 16);
    if (ports.has(port)) drops += Number(f[f.length - 1]);
  }
  return drops;
}

/** The local UDP ports of process `pid` (its socket inodes matched against /proc/net/udp). */
export function udpPortsOf(pid: number): Set<number> {
  const inodes = new Set<string>();
  for (const fd of readdirSafe(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      /* closed meanwhile */
    }
  }
  const ports = new Set<number>();
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 13 && inodes.has(f[9]!)) ports.add(parseInt(f[1]!.split(':')[1]!, 16));
  }
  return ports;
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** A UDP socket of this process on 127.0.0.1 with the receive buffer a real daemon asks for. */
export async function bindSocket(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  try {
    s.setRecvBufferSize(8 * 1024 * 1024); // what a real remote asks for (capped at rmem_max)
  } catch {
    /* capped */
  }
  return s;
}

export interface RawRate {
  sent: number;
  received: number;
  sendMs: number;
  receivedPerSecond: number;
  sentPerSecond: number;
  drops: number;
}

/** Raw baseline: a helper process blasts `count` datagrams of `bytes` at one socket of ours. */
export async function rawRate(count: number, bytes: number): Promise<RawRate> {
  const socket = await bindSocket();
  const undo = onCleanup(() => {
    socket.close();
  });
  const port = socket.address().port;
  let received = 0;
  let first = 0;
  let last = 0;
  socket.on('message', () => {
    const t = performance.now();
    if (received === 0) first = t;
    last = t;
    received++;
  });
  const drops0 = socketDrops(new Set([port]));
  const blast = spawnHelper('peers/udp-blast.ts', [String(port), String(count), String(bytes), '20']);
  try {
    await blast.waitFor(/sent \d+ in [\d.]+ ms/, 40_000);
    await sleep(300); // let the last datagrams in
    const m = /sent (\d+) in ([\d.]+) ms/.exec(blast.stderr())!;
    const sent = Number(m[1]);
    const sendMs = Number(m[2]);
    const drops = socketDrops(new Set([port])) - drops0;
    return { sent, received, sendMs, receivedPerSecond: received / ((last - first) / 1000), sentPerSecond: sent / (sendMs / 1000), drops };
  } finally {
    await blast.stop();
    socket.close();
    undo();
  }
}
