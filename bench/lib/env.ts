// Imported first by every bench entry point: ESM evaluates imports in order, so this runs before the runtime
// reads its log level. The supervision benches crash actors (and a thread) thousands of times on purpose: their
// crash and worker-lost logs would garble the table and cost time that is not the runtime's. Workers inherit it.
process.env.TROUPE_LOG_LEVEL ??= 'silent';
export {};
