import { GroupCommit } from './group-commit';

describe('GroupCommit', () => {
  it('answers each request with its own output and groups the ones that wait behind a running batch', async () => {
    const batches: number[][] = [];
    const gc = new GroupCommit<number, string>(async (inputs) => {
      batches.push(inputs);
      await new Promise((r) => setTimeout(r, 20));
      return inputs.map((n) => `answer ${n}`);
    });
    const first = gc.submit(1);
    await new Promise((r) => setTimeout(r, 5)); // the first batch is running now
    const rest = [2, 3, 4, 5].map((n) => gc.submit(n));
    expect(await Promise.all([first, ...rest])).toEqual(['answer 1', 'answer 2', 'answer 3', 'answer 4', 'answer 5']);
    expect(batches).toEqual([[1], [2, 3, 4, 5]]);
  });

  it('never puts more than maxBatch requests in one batch', async () => {
    const sizes: number[] = [];
    const gc = new GroupCommit<number, number>(async (inputs) => {
      sizes.push(inputs.length);
      return inputs.map((n) => n * 2);
    }, 3);
    expect(await Promise.all([1, 2, 3, 4, 5, 6, 7].map((n) => gc.submit(n)))).toEqual([2, 4, 6, 8, 10, 12, 14]);
    expect(sizes).toEqual([3, 3, 1]);
  });

  it('retries a failed batch one by one, so only the bad request fails', async () => {
    const calls: number[][] = [];
    const gc = new GroupCommit<number, number>(async (inputs) => {
      calls.push(inputs);
      if (inputs.includes(13)) throw new Error('unlucky');
      return inputs;
    });
    const results = await Promise.allSettled([12, 13, 14].map((n) => gc.submit(n)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason.message).toBe('unlucky');
    expect(calls).toEqual([[12, 13, 14], [12], [13], [14]]);
  });

  it('rejects every request of a batch whose answers do not match the requests', async () => {
    const gc = new GroupCommit<number, number>(async () => [1]);
    const results = await Promise.allSettled([1, 2].map((n) => gc.submit(n)));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
  });
});
