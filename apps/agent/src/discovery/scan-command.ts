// `certfleet-agent scan [PATH...] [--password P]... [--max-file-size BYTES] [--json]`
import { parseArgs } from 'node:util';
import { WriteStream } from 'node:tty';
import { ProgressBar } from './progress-bar';
import { renderJson, renderTable } from './scan-report';
import { scanPaths } from './scan-paths';
import { DEFAULT_MAX_FILE_SIZE, DEFAULT_SCAN_ROOTS } from './scan-types';

const USAGE = 'usage: certfleet-agent scan [PATH...] [--password P]... [--max-file-size BYTES] [--json]';

export interface CommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** Runs the scan command (argv after "scan"); returns the exit code: 0 after a scan, 2 on bad usage. */
export async function runScanCommand(argv: string[], io: CommandIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        password: { type: 'string', multiple: true, default: [] },
        'max-file-size': { type: 'string', default: String(DEFAULT_MAX_FILE_SIZE) },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    io.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const maxFileSize = Number(values['max-file-size']);
  if (!Number.isInteger(maxFileSize) || maxFileSize <= 0) {
    io.stderr.write(`--max-file-size must be a positive number of bytes\n${USAGE}\n`);
    return 2;
  }
  const tty = io.stderr instanceof WriteStream && io.stderr.isTTY ? io.stderr : undefined;
  const bar = tty ? new ProgressBar(tty) : undefined; // stderr only, so --json output stays clean
  const scan = await scanPaths(positionals.length ? positionals : [...DEFAULT_SCAN_ROOTS], {
    passwords: values.password,
    maxFileSize,
    onProgress: bar ? (p) => bar.update(p) : undefined,
  });
  bar?.clear();
  io.stdout.write(`${values.json ? renderJson(scan) : renderTable(scan)}\n`);
  return 0;
}
