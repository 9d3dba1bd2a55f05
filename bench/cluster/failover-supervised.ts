// Cluster figure C3s: C3 (bench/cluster/failover.ts) with the actors declared as cluster-owned children of one
// supervision tree (ChildSpec.failover) instead of spawned with spawnFailover.
process.env.TROUPE_BENCH_FAILOVER_SUPERVISED = '1';
await import('./failover.ts');
