// A one-connection TCP relay run inside a pod's network namespace
// (`nsenter --net=<ns> node netns-relay.js <host> <port>`): Node cannot enter a
// namespace itself, so port-forward connects from here. stdin goes to the
// socket and the socket to stdout, each direction half-closed on its own
// end. The first line on stderr says "connected" or why it is not.
import { connect } from 'node:net';

const [host, portText] = process.argv.slice(2);
const port = Number(portText);
if (!host || !Number.isInteger(port) || port < 1 || port > 65535) {
  process.stderr.write('usage: netns-relay.js <host> <port>\n');
  process.exit(2);
}
const socket = connect({ host, port, allowHalfOpen: true });
socket.once('connect', () => {
  process.stderr.write('connected\n');
  process.stdin.pipe(socket);
  socket.pipe(process.stdout);
});
socket.on('error', (e: NodeJS.ErrnoException) => {
  process.stderr.write(`${e.code === 'ECONNREFUSED' ? `dial tcp4 ${host}:${port}: connect: connection refused` : e.message}\n`);
  process.exit(1);
});
socket.on('close', () => process.stdout.end(() => process.exit(0)));
process.stdout.on('error', () => process.exit(0));
