// Streams a report to any Writable (an HTTP response, a file) with backpressure: the next batch is
// read from the database only after the previous one was taken by the socket. JSON is one array of
// objects written element by element (a valid JSON document, not NDJSON).
import type { Writable } from 'node:stream';
import { csvLine, type Cell } from './csv';
import type { ReportSource } from './report-sources';

export type ReportFormat = 'csv' | 'json';

/** Writes the whole report; returns the number of rows. Stops early (returns -1) if the reader went away. */
export async function writeReport(source: ReportSource, format: ReportFormat, out: Writable): Promise<number> {
  let rows = 0;
  const write = async (chunk: string): Promise<boolean> => {
    if (out.destroyed) return false;
    if (!out.write(chunk)) await drainOrClose(out);
    return !out.destroyed;
  };
  if (!(await write(format === 'csv' ? csvLine(source.columns) : '['))) return -1;
  const keys = source.columns.map((c, i) => (i === 0 ? '{' : ',') + JSON.stringify(c) + ':');
  for await (const batch of source.batches()) {
    let text = '';
    for (const cells of batch) text += format === 'csv' ? csvLine(cells) : (rows++ === 0 ? '\n' : ',\n') + jsonRow(keys, cells);
    if (format === 'csv') rows += batch.length;
    if (!(await write(text))) return -1;
  }
  if (!(await write(format === 'csv' ? '' : rows === 0 ? ']\n' : '\n]\n'))) return -1;
  return rows;
}

/** One object, as JSON.stringify would write it; `keys` are the column names pre-encoded ('{"a":', ',"b":'). */
function jsonRow(keys: string[], cells: Cell[]): string {
  let text = '';
  for (let i = 0; i < keys.length; i++) text += keys[i] + JSON.stringify(cells[i] ?? null);
  return text + '}';
}

/** Resolves on 'drain' or 'close', removing both listeners (events.once would leave one behind per wait). */
function drainOrClose(out: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
  });
}
