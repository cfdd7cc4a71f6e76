import { mkdirSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { InventoryReport } from '@certfleet/proto';
import { StateDir } from '../state/state-dir';

const DIR = 'outbox';
const SEQUENCE_FILE = 'sequence';

/**
 * Reports not yet acknowledged by the server, one file each, so nothing is lost when the agent
 * or the server stops. Sequence numbers only grow, across restarts too.
 */
export class Outbox {
  private lastSequence: bigint;

  constructor(private readonly state: StateDir) {
    state.ensure();
    mkdirSync(state.path(DIR), { recursive: true, mode: 0o700 });
    const stored = BigInt(state.readText(SEQUENCE_FILE)?.trim() || '0');
    const pending = this.sequences();
    // A crash between writing a report and the counter leaves the report as the better witness.
    this.lastSequence = pending.reduce((max, s) => (s > max ? s : max), stored);
  }

  get last(): bigint {
    return this.lastSequence;
  }

  /** Moves the counter forward (never back), e.g. when the server has applied more than we recall. */
  advanceTo(sequence: bigint): void {
    if (sequence > this.lastSequence) {
      this.lastSequence = sequence;
      this.state.write(SEQUENCE_FILE, `${sequence}\n`);
    }
  }

  /** Numbers and stores reports; returns them with their sequences. */
  append(reports: Omit<InventoryReport, 'sequence'>[]): InventoryReport[] {
    const out: InventoryReport[] = [];
    for (const r of reports) {
      const report = { ...r, sequence: this.lastSequence + 1n };
      this.state.write(`${DIR}/${fileName(report.sequence)}`, InventoryReport.encode(report).finish());
      this.lastSequence = report.sequence;
      out.push(report);
    }
    if (out.length) this.state.write(SEQUENCE_FILE, `${this.lastSequence}\n`);
    return out;
  }

  /** Pending reports after `applied`, oldest first. */
  pendingAfter(applied: bigint): InventoryReport[] {
    return this.sequences()
      .filter((s) => s > applied)
      .map((s) => InventoryReport.decode(readFileSync(this.state.path(DIR, fileName(s)))));
  }

  /** Forgets every report up to and including `sequence`. */
  acknowledge(sequence: bigint): void {
    for (const s of this.sequences()) if (s <= sequence) unlinkSync(this.state.path(DIR, fileName(s)));
  }

  clear(): void {
    this.acknowledge(this.lastSequence);
  }

  get size(): number {
    return this.sequences().length;
  }

  private sequences(): bigint[] {
    return readdirSync(this.state.path(DIR))
      .filter((f) => /^\d{20}\.pb$/.test(f))
      .map((f) => BigInt(f.slice(0, 20)))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
}

function fileName(sequence: bigint): string {
  return `${sequence.toString().padStart(20, '0')}.pb`;
}
