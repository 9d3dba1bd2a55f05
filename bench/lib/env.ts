// Imported first by every bench entry point: ESM evaluates imports in order, so this runs before the runtime
// reads its log level. Bench actors crash on purpose nowhere, but a stray crash log would garble the table.
process.env.TROUPE_LOG_LEVEL ??= 'silent';
export {};
