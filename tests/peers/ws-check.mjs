// An independent RFC 6455 check of jsync-relay with the npm `ws` package (not Beast): framing,
// ping/pong, close codes and the size limit. Usage: node ws-check.mjs ws://127.0.0.1:PORT
// (wss:// accepts a self-signed certificate). Prints one line per check; exits 1 if any failed.
import { WebSocket } from 'ws';
import { randomBytes } from 'node:crypto';

const base = process.argv[2];
if (!base) {
  console.error('usage: node ws-check.mjs ws://HOST:PORT');
  process.exit(2);
}
const options = { rejectUnauthorized: false, maxPayload: 1 << 20 };
const hex = () => randomBytes(32).toString('hex');
let failed = 0;

function report(name, ok, detail = '') {
  console.log(`${ok ? 'ok' : 'FAIL'} ${name}${detail ? ': ' + detail : ''}`);
  if (!ok) failed++;
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

function open(path) {
  return withTimeout(new Promise((resolve, reject) => {
    const ws = new WebSocket(base + path, options);
    ws.binaryType = 'nodebuffer';
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  }), 5000, `open ${path}`);
}

function nextMessage(ws) {
  return withTimeout(new Promise((resolve) => ws.once('message', (data, isBinary) => resolve({ data, isBinary }))),
                     5000, 'message');
}

function closeCode(ws) {
  return withTimeout(new Promise((resolve) => ws.once('close', (code) => resolve(code))), 5000, 'close');
}

// A frame the relay forwards: version 1, kind 1, 46+ bytes.
function sealed(size) {
  const f = randomBytes(size);
  f[0] = 1;
  f[1] = 1;
  return f;
}

async function check(name, fn) {
  try {
    await fn();
  } catch (e) {
    report(name, false, e.message);
  }
}

await check('binary frame reaches the other device of the room', async () => {
  const room = `/v1/room/${hex()}`;
  const a = await open(room);
  const b = await open(room);
  const frame = sealed(1000);
  const got = nextMessage(b);
  const first = nextMessage(a);  // a's first message must be b's answer, never its own frame
  a.send(frame, { binary: true });
  const { data, isBinary } = await got;
  report('binary frame reaches the other device of the room', isBinary && Buffer.compare(data, frame) === 0,
         `${data.length} bytes`);
  // The relay handled a's frame before b sent this one: an echo would have reached a first.
  const back = sealed(60);
  b.send(back, { binary: true });
  const r = await first;
  report('the sender does not get its own frame', Buffer.compare(r.data, back) === 0);
  a.close(1000);
  b.close(1000);
});

await check('ping is answered with a pong carrying the same payload', async () => {
  const ws = await open(`/v1/room/${hex()}`);
  const payload = Buffer.from('jsync-ping');
  const pong = withTimeout(new Promise((resolve) => ws.once('pong', resolve)), 5000, 'pong');
  ws.ping(payload);
  const data = await pong;
  report('ping is answered with a pong carrying the same payload', Buffer.compare(data, payload) === 0);
  ws.close(1000);
});

await check('a text frame is closed with 1003', async () => {
  const ws = await open(`/v1/room/${hex()}`);
  const code = closeCode(ws);
  ws.send('hello', { binary: false });
  const c = await code;
  report('a text frame is closed with 1003', c === 1003, `close ${c}`);
});

await check('a frame over 73,728 bytes is closed with 1009', async () => {
  const ws = await open(`/v1/room/${hex()}`);
  const code = closeCode(ws);
  ws.send(sealed(73729), { binary: true });
  const c = await code;
  report('a frame over 73,728 bytes is closed with 1009', c === 1009, `close ${c}`);
});

await check('a frame of exactly 73,728 bytes is forwarded', async () => {
  const room = `/v1/room/${hex()}`;
  const a = await open(room);
  const b = await open(room);
  const frame = sealed(73728);
  const got = nextMessage(b);
  a.send(frame, { binary: true });
  const { data } = await got;
  report('a frame of exactly 73,728 bytes is forwarded', Buffer.compare(data, frame) === 0);
  a.close(1000);
  b.close(1000);
});

await check('a fragmented message is reassembled and forwarded whole', async () => {
  const room = `/v1/room/${hex()}`;
  const a = await open(room);
  const b = await open(room);
  const frame = sealed(300);
  const got = nextMessage(b);
  a.send(frame.subarray(0, 100), { binary: true, fin: false });
  a.send(frame.subarray(100), { binary: true, fin: true });
  const { data } = await got;
  report('a fragmented message is reassembled and forwarded whole', Buffer.compare(data, frame) === 0);
  a.close(1000);
  b.close(1000);
});

await check('a bad path is refused with 404', async () => {
  try {
    const ws = await open('/v1/room/not-a-room');
    ws.close();
    report('a bad path is refused with 404', false, 'the upgrade succeeded');
  } catch (e) {
    report('a bad path is refused with 404', e.message === 'HTTP 404', e.message);
  }
});

await check('a malformed hook is refused with 400', async () => {
  try {
    const ws = await open(`/v1/room/${hex()}?hook=XYZ`);
    ws.close();
    report('a malformed hook is refused with 400', false, 'the upgrade succeeded');
  } catch (e) {
    report('a malformed hook is refused with 400', e.message === 'HTTP 400', e.message);
  }
});

await check('a normal close is echoed with 1000', async () => {
  const ws = await open(`/v1/room/${hex()}`);
  const code = closeCode(ws);
  ws.close(1000, 'bye');
  const c = await code;
  report('a normal close is echoed with 1000', c === 1000, `close ${c}`);
});

console.log(failed === 0 ? 'all checks passed' : `${failed} check(s) failed`);
process.exit(failed === 0 ? 0 : 1);
