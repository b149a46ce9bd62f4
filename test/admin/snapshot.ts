/** A fixed master report (three remotes: up, down, never joined; BC by multicast) for render tests. */
import type { DaemonReport } from '../../src/daemon/status-report.js';

export const MASTER_SNAPSHOT: DaemonReport = {
  role: 'master',
  pid: 4242,
  epoch: 0x1a2b3c4d,
  uptimeS: 3723,
  params: {
    port: 31415, family: 4, remotes: 3, seg_size: 65536, page_size: 1024, word_size: 8, interval_ms: 100, mtu: 1200,
    heartbeat_ms: 100, liveness_ms: 1000, bc_size: 4096, bc_mode: 'multicast', multicast_group: '239.1.2.3:31416',
  },
  peers: [
    {
      id: 0, state: 'up', address: '10.0.0.11:40001', lastHeardMsAgo: 42, rttMs: 0.314, bcUnicast: false,
      flows: [
        { flow: 'mo', direction: 'out', batches: 1200, datagrams: 123456, bytes: 130_000_000, nacks: 12, retransmits: 15, resyncs: 1, pending: 0 },
        { flow: 'ro', direction: 'in', batches: 900, datagrams: 5000, bytes: 5_120_000, nacks: 3, retransmits: 0, resyncs: 0, pending: 2 },
      ],
    },
    {
      id: 1, state: 'down', address: '[2001:db8:1234:5678:9abc:def0:1234:5678]:40002', lastHeardMsAgo: 754_000, rttMs: 12.5, bcUnicast: true,
      flows: [
        { flow: 'mo', direction: 'out', batches: 10, datagrams: 800, bytes: 819_200, nacks: 0, retransmits: 0, resyncs: 2, pending: 0 },
        { flow: 'ro', direction: 'in', batches: 7, datagrams: 64, bytes: 65536, nacks: 1, retransmits: 0, resyncs: 1, pending: 0 },
      ],
    },
    {
      id: 2, state: 'unknown', bcUnicast: false,
      flows: [
        { flow: 'mo', direction: 'out', batches: 0, datagrams: 0, bytes: 0, nacks: 0, retransmits: 0, resyncs: 0, pending: 0 },
        { flow: 'ro', direction: 'in', batches: 0, datagrams: 0, bytes: 0, nacks: 0, retransmits: 0, resyncs: 0, pending: 0 },
      ],
    },
  ],
  wire: {
    sent: { data: { datagrams: 124_300, bytes: 131_000_000 }, commit: { datagrams: 1210, bytes: 48_400 }, heartbeat: { datagrams: 74_000, bytes: 3_108_000 } },
    received: { data: { datagrams: 5064, bytes: 5_300_000 }, nack: { datagrams: 12, bytes: 600 }, heartbeat: { datagrams: 70_000, bytes: 2_940_000 } },
  },
  drops: { 'decode-short': 3, duplicate: 17, 'unknown-source': 0 },
  bc: { flow: 'bc', direction: 'out', batches: 30, datagrams: 120, bytes: 122_880, nacks: 4, retransmits: 4, resyncs: 0, pending: 0 },
  scanMs: [0.12, 0.5, 0.25],
};

/** The same master a second later: 1000 more DATA datagrams out, 50 more in. */
export const MASTER_SNAPSHOT_LATER: DaemonReport = {
  ...MASTER_SNAPSHOT,
  uptimeS: 3724,
  wire: {
    sent: { ...MASTER_SNAPSHOT.wire.sent, data: { datagrams: 125_300, bytes: 132_048_576 } },
    received: { ...MASTER_SNAPSHOT.wire.received, data: { datagrams: 5114, bytes: 5_351_200 } },
  },
};
