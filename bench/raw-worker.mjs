// Baseline for the cross-thread figures: a plain worker_threads worker, one message per postMessage, no batching.
//   start {n}    reset the count; post {type:'done'} back once n adds arrived
//   add {by}     count
//   ping {i}     answer {type:'pong', i} at once
//   peer {port}  a MessagePort to another raw worker (worker-to-worker figure)
//   blast {n}    send start + n adds to the peer; forward the peer's 'done' to the main thread
import { parentPort } from 'node:worker_threads';

let target = 0;
let count = 0;
let peer;

function handle(msg, from) {
  switch (msg.type) {
    case 'add':
      count += msg.by;
      if (count === target) from.postMessage({ type: 'done', count });
      return;
    case 'ping':
      return from.postMessage({ type: 'pong', i: msg.i });
    case 'start':
      target = msg.n;
      count = 0;
      return;
    case 'peer':
      peer = msg.port;
      peer.on('message', (m) => (m.type === 'done' ? parentPort.postMessage(m) : handle(m, peer)));
      return;
    case 'blast':
      peer.postMessage({ type: 'start', n: msg.n });
      for (let i = 0; i < msg.n; i++) peer.postMessage({ type: 'add', by: 1 });
      return;
  }
}

parentPort.on('message', (msg) => handle(msg, parentPort));
