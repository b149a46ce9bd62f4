/**
 * Bench helper process: a raw UDP echo on 127.0.0.1 (the ping-pong baseline of the latency
 * benchmark). Prints `port N` on stderr once bound; sends every datagram back to its
 * sender; exits on SIGTERM or after `maxSeconds` (argv[2], default 120) whatever happens.
 */
import { createSocket } from 'node:dgram';

const maxSeconds = Number(process.argv[2] ?? 120);
const socket = createSocket('udp4');
socket.on('message', (msg, rinfo) => {
  socket.send(msg, rinfo.port, rinfo.address);
});
socket.bind(0, '127.0.0.1', () => process.stderr.write(`port ${socket.address().port}\n`));
const stop = (): void => {
  socket.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
setTimeout(stop, maxSeconds * 1000).unref();
