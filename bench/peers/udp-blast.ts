/**
 * Bench helper process: the raw datagram rate baseline of the fleet benchmark. Sends
 * `count` datagrams of `size` bytes to 127.0.0.1:`port` as fast as Node's dgram allows
 * (chunks of 64, each chunk after the previous one's last send callback, so libuv's queue
 * stays bounded), then prints `sent N in T ms` on stderr and exits. Bounded by `maxSeconds`.
 *
 *   udp-blast.ts PORT COUNT SIZE MAX_SECONDS
 */
import { createSocket } from 'node:dgram';

const [port, count, size, maxSeconds] = process.argv.slice(2, 6).map(Number) as [number, number, number, number];
const socket = createSocket('udp4');
const payload = Buffer.alloc(size, 0x5a);
const CHUNK = 64;
let sent = 0;
const start = performance.now();
const deadline = start + maxSeconds * 1000;

function chunk(): void {
  const n = Math.min(CHUNK, count - sent);
  if (n <= 0 || performance.now() > deadline) {
    process.stderr.write(`sent ${sent} in ${(performance.now() - start).toFixed(1)} ms\n`);
    socket.close();
    return;
  }
  for (let i = 0; i < n; i++) {
    payload.writeUInt32BE(sent, 0);
    sent++;
    socket.send(payload, port, '127.0.0.1', i === n - 1 ? chunk : undefined);
  }
}

socket.bind(0, '127.0.0.1', () => {
  socket.setSendBufferSize(4 * 1024 * 1024);
  chunk();
});
