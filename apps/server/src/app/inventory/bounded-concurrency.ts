/**
 * Runs `work` over `items` with at most `limit` running at once; stops taking new items once
 * `stop()` says so (the results of items not started are absent). Order of results is not kept.
 */
export async function forEachLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>, stop: () => boolean = () => false): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length && !stop()) results.push(await work(items[next++]));
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
