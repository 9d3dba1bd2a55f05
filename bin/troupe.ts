#!/usr/bin/env node
// The `troupe` command: `troupe start ./app.ts` runs a system as a service (ops/start-command.ts); the admin
// commands (actors, tree, inspect, send, ...) talk to a running one over its admin API (ops/cli.ts).
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerStartCommand } from '../ops/start-command.ts';
import { ignoreCliExit, registerAdminCommands } from '../ops/cli.ts';

const program = new Command('troupe')
  .description('Troupe: an actor runtime for AI agents on Node.js')
  .version(version(), '-v, --version')
  .showHelpAfterError()
  // Usage errors (unknown option or command, missing argument) exit 2 with commander's one-line message.
  .exitOverride((err: CommanderError) => {
    process.exit(err.exitCode === 0 ? 0 : 2);
  });
registerStartCommand(program);
registerAdminCommands(program);

await program.parseAsync(process.argv).catch(ignoreCliExit);

/** This package's version: package.json is two levels up in the compiled package (dist/bin/), one from the source. */
function version(): string {
  for (const up of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'troupe' && pkg.version !== undefined) return pkg.version;
    } catch {
      // not this one
    }
  }
  return 'unknown';
}
