import { parseArgs } from 'node:util';
import { ApiSettings, callApi, CliError } from '../api/api-client';
import { parseDurationSeconds } from './format';

/** certfleet token create --ttl 1h [--description TEXT] [--json] */
export async function tokenCommand(args: string[], api: () => ApiSettings): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'create') throw new CliError('usage: certfleet token create --ttl 1h [--description TEXT] [--json]', 2);
  const { values } = parseArgs({ args: rest, options: { ttl: { type: 'string', default: '1h' }, description: { type: 'string' }, json: { type: 'boolean' } } });
  let ttlSeconds: number;
  try {
    ttlSeconds = parseDurationSeconds(values.ttl!);
  } catch (err) {
    throw new CliError(`--ttl: ${(err as Error).message}`, 2);
  }
  const created = await callApi<{ token: string; id: string; expiresAt: string }>(api(), 'POST', '/api/v1/enrollment-tokens', {
    ttlSeconds,
    description: values.description ?? '',
  });
  if (values.json) console.log(JSON.stringify(created, null, 2));
  else {
    console.log(created.token);
    console.error(`one-time enrollment token, valid until ${created.expiresAt}`);
  }
  return 0;
}
