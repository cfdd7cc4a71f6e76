interface Waiting<I, O> {
  input: I;
  resolve: (output: O) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: requests that arrive while a batch is being written wait and go together in the
 * next one, so many concurrent requests share one transaction (and one commit) instead of each
 * paying for its own. A lone request goes at once (after the current I/O turn). If a batch fails,
 * its requests are tried one by one, so one bad request cannot fail the others.
 */
export class GroupCommit<I, O> {
  private waiting: Waiting<I, O>[] = [];
  private scheduled = false;

  /** `run` answers its inputs in order, one output each. */
  constructor(
    private readonly run: (inputs: I[]) => Promise<O[]>,
    private readonly maxBatch = 256,
  ) {}

  submit(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ input, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting.splice(0, this.maxBatch);
        try {
          this.settle(batch, await this.run(batch.map((w) => w.input)));
        } catch (err) {
          if (batch.length === 1) batch[0].reject(err);
          else for (const w of batch) await this.run([w.input]).then((out) => this.settle([w], out), w.reject);
        }
      }
    } finally {
      this.scheduled = false;
    }
  }

  private settle(batch: Waiting<I, O>[], outputs: O[]): void {
    if (outputs.length !== batch.length) {
      const err = new Error(`group commit: ${outputs.length} answers for ${batch.length} requests`);
      for (const w of batch) w.reject(err);
      return;
    }
    batch.forEach((w, i) => w.resolve(outputs[i]));
  }
}
