import type { ThreadServices } from '../runtime/extensions.ts';

/**
 * On every worker of a runtime in a cluster: a message for an id this thread does not host may be for an actor of
 * another node, and only the main thread talks to NATS, so it goes there with its reply address (once: the main
 * thread sends back here only what it knows lives here, and a miss then is a real 'not found').
 */
export function attachToThread(services: ThreadServices): void {
  services.onMiss((id, type, payload, from, ask, replyNode, messageId, ack, forwarded) => {
    if (forwarded) return false;
    services.forward(0, id, type, payload, from, ask, replyNode, messageId, ack);
    return true;
  });
  // Watches and stops of ids not here (a ref naming this thread number, made on another node) go to the main
  // thread, which knows where they are: the watcher is sent there, the stop passed on (once: not back to it).
  services.onRemoteActors({
    watch: (node) => (node === 0 ? false : 0),
    unwatch: () => {},
    stop(id, reason, from) {
      if (from === 0) return false;
      services.stop({ id, kind: '', node: 0 }, reason);
      return true;
    },
  });
}
