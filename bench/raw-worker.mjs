// Baseline for the cross-thread figures: a plain worker_threads worker, one message per postMessage, no batching.
//   start {n}    reset the count; post {type:'done'} back once n adds arrived
//   add {by}     count
//   ping {i}     answer {type:'pong', i} at once
//   peer {port}  a MessagePort to another raw worker (worker-to-worker figure)
//   blast {n}    send start + n adds to the peer; forward the peer's 'done' to the main thread
//   shape {name} from now on each add also applies, in plain JS, the handler of that nested state of
//                bench/actors.ts (nestedStates) to a state of that shape: the cross-thread nested figures' baseline
import { parentPort } from 'node:worker_threads';

let target = 0;
let count = 0;
let peer;
/** The nested state and its handler (plain mutation: no copy, no rollback), when a shape was set. */
let state;
let apply;

const chatMessages = () =>
  Array.from({ length: 50 }, (_, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', content: `message ${i}: `.padEnd(200, 'lorem ipsum dolor sit amet ') }));

// The same states and handlers as bench/actors.ts (tallyLog, tallyChat, taskBoard, transcript).
const shapes = {
  'log: {}': [() => ({ count: 0, log: {} }), (s, by) => { s.count += by; }],
  'messages: 50': [() => ({ count: 0, messages: chatMessages() }), (s, by) => { s.count += by; }],
  'map: 1000': [() => {
    const tasks = {};
    for (let i = 0; i < 1000; i++) tasks[`t${i}`] = { status: 'idle', runs: 0 };
    return { n: 0, tasks };
  }, (s, by) => {
    const task = s.tasks[`t${s.n % 1000}`];
    task.runs += by;
    task.status = 'ran';
    s.n += by;
  }],
  'append': [() => ({ count: 0, items: [] }), (s, by) => {
    s.items.push({ seq: s.count, by });
    if (s.items.length > 200) s.items.splice(0, 100);
    s.count += by;
  }],
};

function handle(msg, from) {
  switch (msg.type) {
    case 'add':
      if (apply !== undefined) apply(state, msg.by);
      count += msg.by;
      if (count === target) from.postMessage({ type: 'done', count });
      return;
    case 'ping':
      return from.postMessage({ type: 'pong', i: msg.i });
    case 'start':
      target = msg.n;
      count = 0;
      return;
    case 'shape':
      [state, apply] = [shapes[msg.name][0](), shapes[msg.name][1]];
      return from.postMessage({ type: 'shaped' });
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
