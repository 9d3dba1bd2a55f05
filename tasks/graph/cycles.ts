/**
 * Strongly connected components (Tarjan, iterative: a 10,000-task chain must not overflow the stack) over the
 * "waits for" edges task -> dependency. A component of two or more tasks, or one task waiting for itself, is a
 * deadlock: none of its tasks can ever become ready.
 */
export function findCycles(n: number, edges: (v: number) => readonly number[], include: (v: number) => boolean = () => true): number[][] {
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const cycles: number[][] = [];
  let counter = 0;
  // Explicit DFS frames: the vertex and how far through its edges we are.
  const frameV: number[] = [];
  const frameI: number[] = [];
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1 || !include(root)) continue;
    frameV.push(root);
    frameI.push(0);
    index[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = 1;
    while (frameV.length > 0) {
      const top = frameV.length - 1;
      const v = frameV[top];
      const out = edges(v);
      if (frameI[top] < out.length) {
        const w = out[frameI[top]++];
        if (!include(w)) continue;
        if (index[w] === -1) {
          index[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = 1;
          frameV.push(w);
          frameI.push(0);
        } else if (onStack[w]) {
          low[v] = Math.min(low[v], index[w]);
        }
        continue;
      }
      frameV.pop();
      frameI.pop();
      if (frameV.length > 0) {
        const parent = frameV[frameV.length - 1];
        low[parent] = Math.min(low[parent], low[v]);
      }
      if (low[v] === index[v]) {
        const scc: number[] = [];
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = 0;
          scc.push(w);
        } while (w !== v);
        if (scc.length > 1 || out.includes(v)) cycles.push(scc.reverse());
      }
    }
  }
  return cycles;
}
