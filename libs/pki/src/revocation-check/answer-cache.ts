// Bounded map of answers kept until their nextUpdate. Insertion order is age: when full, the
// oldest entry is dropped. Answers without a nextUpdate are never stored.
export class AnswerCache<V extends { nextUpdate?: Date }> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly limit: number) {}

  get(key: string, now: Date): V | undefined {
    const value = this.entries.get(key);
    if (value && !isFresh(value, now)) {
      this.entries.delete(key);
      return undefined;
    }
    return value;
  }

  set(key: string, value: V, now: Date): void {
    this.entries.delete(key);
    if (this.limit <= 0 || !isFresh(value, now)) return;
    while (this.entries.size >= this.limit) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, value);
  }

  /** Entries still before their nextUpdate (expired ones are dropped). */
  size(now: Date): number {
    for (const [key, value] of this.entries) if (!isFresh(value, now)) this.entries.delete(key);
    return this.entries.size;
  }
}

const isFresh = (value: { nextUpdate?: Date }, now: Date): boolean => value.nextUpdate !== undefined && value.nextUpdate.getTime() > now.getTime();
