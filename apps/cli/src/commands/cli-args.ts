// Argument handling shared by the commands: a usage mistake is exit code 2 with the command's usage,
// so scripts can tell "you called it wrong" from "the server said no" (exit code 1).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError } from '../api/api-client';

/** A usage mistake: the message, then the usage of the command that was called. */
export function usageError(message: string, usage: string): CliError {
  return new CliError(`${message}\n\n${usage}`, 2);
}

/** node:util parseArgs, with unknown options, missing values and stray arguments as usage errors. */
export function parseCommandArgs<T extends ParseArgsConfig>(config: T, usage: string): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    if (String((err as { code?: string }).code).startsWith('ERR_PARSE_ARGS')) throw usageError((err as Error).message, usage);
    throw err;
  }
}

/** The one positional argument a command names its subject with (an id or a name). */
export function onePositional(positionals: string[], what: string, usage: string): string {
  if (positionals.length === 0) throw usageError(`${what} is required`, usage);
  if (positionals.length > 1) throw usageError(`expected a single argument, ${what}; got ${positionals.length}: ${positionals.join(' ')}`, usage);
  return positionals[0];
}

/** An optional whole-number flag; range rules are the server's (it names them when refusing). */
export function intFlag(value: string | undefined, flag: string, usage: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim())) throw usageError(`${flag} must be a whole number, got "${value}"`, usage);
  return Number(value);
}

/** Repeated flags, each of which may also hold a comma-separated list: --dns a --dns b,c. */
export function listFlag(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}
