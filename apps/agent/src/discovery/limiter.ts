// Runs at most `limit` tasks at once; `schedule` waits for a free slot (back-pressure for the walker).
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly idle: (() => void)[] = [];
  constructor(private readonly limit: number) {}

  async schedule(task: () => Promise<void>): Promise<void> {
    while (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    void task().finally(() => {
      this.active--;
      this.waiting.shift()?.();
      if (this.active === 0) this.idle.splice(0).forEach((resolve) => resolve());
    });
  }

  /** Resolves when every scheduled task has finished. */
  async drain(): Promise<void> {
    if (this.active > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
  }
}
