/** Where alert evaluation and delivery read the time; tests inject a fake one. */
export interface Clock {
  now(): Date;
}

export const ALERT_CLOCK = Symbol('ALERT_CLOCK');

export const systemClock: Clock = { now: () => new Date() };

/** A clock that stands still until moved. */
export class FakeClock implements Clock {
  constructor(private at: Date) {}
  now(): Date {
    return new Date(this.at);
  }
  set(at: Date): void {
    this.at = at;
  }
  advanceDays(days: number): void {
    this.at = new Date(this.at.getTime() + days * 86_400_000);
  }
  advanceMs(ms: number): void {
    this.at = new Date(this.at.getTime() + ms);
  }
}
