import { TroupeError } from '../runtime/errors.ts';

/**
 * `troupe start` refuses to start: every bad field of the configuration (unknown key, wrong type, port in use,
 * unwritable data dir) is one line of `problems`. The CLI prints one line per problem and exits with code 2.
 */
export class ConfigError extends TroupeError {
  static readonly code = 'ERR_CONFIG';
  override readonly code = 'ERR_CONFIG';
  constructor(readonly problems: string[]) {
    super(problems.join('; '), { details: { problems } });
  }
}

/** The module given to `troupe start` cannot be loaded or exports no system (see ops/system.ts). Exit code 2. */
export class SystemModuleError extends TroupeError {
  static readonly code = 'ERR_SYSTEM_MODULE';
  override readonly code = 'ERR_SYSTEM_MODULE';
}
