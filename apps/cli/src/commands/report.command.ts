import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ApiSettings, CliError } from '../api/api-client';
import { intFlag, parseCommandArgs, usageError } from './cli-args';

export const REPORT_USAGE = `usage:
  certfleet report inventory [--key-algorithm RSA] [--key-bits-below 2048] [--signature-hash sha1|md5]
  certfleet report expiring [--days 30] [--by owner]
  certfleet report violations          (findings of the active policy, one row per copy)
  certfleet report crypto              (algorithms in use by count, with quantum vulnerability)
  certfleet report trust --ca SUBJECT|SKI|FINGERPRINT   (which hosts hold that CA certificate)
    each with [--format csv|json] [--output FILE]

Reports stream from the server (CSV per RFC 4180, or one JSON array) to stdout or FILE; FILE
appears only once the whole report arrived. Owners are the teams assigned by hand
("certfleet owners"); rule-based owners are not applied in reports.`;

const KINDS = ['inventory', 'expiring', 'violations', 'crypto', 'trust'];

/** The REST path for the arguments; usage errors for what the server would refuse anyway. */
export function reportPath(args: string[]): { path: string; output?: string } {
  const [kind, ...rest] = args;
  if (!kind || !KINDS.includes(kind)) throw usageError(kind ? `unknown report "${kind}"` : 'which report?', REPORT_USAGE);
  const { values } = parseCommandArgs(
    {
      args: rest,
      options: {
        format: { type: 'string', default: 'csv' },
        output: { type: 'string', short: 'o' },
        days: { type: 'string' },
        by: { type: 'string' },
        ca: { type: 'string' },
        'key-algorithm': { type: 'string' },
        'key-bits-below': { type: 'string' },
        'signature-hash': { type: 'string' },
      },
    },
    REPORT_USAGE,
  );
  if (values.format !== 'csv' && values.format !== 'json') throw usageError('--format must be csv or json', REPORT_USAGE);
  if (values.by !== undefined && values.by !== 'owner') throw usageError('--by must be owner', REPORT_USAGE);
  if (kind === 'trust' && !values.ca) throw usageError('the trust report needs --ca', REPORT_USAGE);
  const query = new URLSearchParams({ format: values.format });
  const days = intFlag(values.days, '--days', REPORT_USAGE);
  if (days !== undefined) query.set('days', String(days));
  if (values.by) query.set('by', values.by);
  if (values.ca) query.set('ca', values.ca);
  if (values['key-algorithm']) query.set('keyAlgorithm', values['key-algorithm']);
  const bits = intFlag(values['key-bits-below'], '--key-bits-below', REPORT_USAGE);
  if (bits !== undefined) query.set('keyBitsBelow', String(bits));
  if (values['signature-hash']) query.set('signatureHash', values['signature-hash']);
  return { path: `/api/v1/reports/${kind}?${query}`, output: values.output };
}

export async function reportCommand(args: string[], api: () => ApiSettings, stdout: Writable = process.stdout): Promise<number> {
  if (args[0] === 'help' || args[0] === '--help') {
    console.log(REPORT_USAGE);
    return 0;
  }
  const { path, output } = reportPath(args);
  const settings = api();
  let response: Response;
  try {
    response = await fetch(settings.baseUrl + path, { headers: { authorization: `Bearer ${settings.token}` } });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    throw new CliError(`cannot reach the certfleet server at ${settings.baseUrl}: ${cause?.code ?? (err as Error).message}`);
  }
  if (!response.ok || !response.body) {
    const text = await response.text();
    let message = text;
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? text;
    } catch {
      // not JSON
    }
    throw new CliError(`GET ${path} failed: HTTP ${response.status}: ${message}`);
  }
  const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
  if (!output) {
    await pipeline(body, stdout, { end: false });
    return 0;
  }
  // Into a temporary file beside FILE, renamed when complete: a broken transfer leaves FILE as it was.
  const partial = `${output}.partial-${process.pid}`;
  try {
    await pipeline(body, createWriteStream(partial, { flags: 'wx' }));
    await rename(partial, output);
  } catch (err) {
    await rm(partial, { force: true });
    throw new CliError(`report not written to ${output}: ${(err as Error).message}`);
  }
  return 0;
}
