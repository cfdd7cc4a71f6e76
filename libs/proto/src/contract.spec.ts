import { AgentMessage, InventoryReport } from './index';

describe('generated certfleet.agent.v1 code', () => {
  it('round-trips a report with 64-bit sequences, timestamps, bytes and oneof items', () => {
    const report: InventoryReport = {
      sequence: 2n ** 40n + 1n,
      fullSyncStart: true,
      fullSyncEnd: false,
      upserts: [
        { key: 'p', item: { $case: 'problem', value: { path: '/x', kind: 'locked', reason: 'no password fits', format: 'pkcs12' } } },
      ],
      removedKeys: ['gone'],
      scannedAt: new Date('2026-05-01T12:00:00.123Z'),
      stats: { filesSeen: 3, certificates: 1, privateKeys: 0, problems: 1, durationMs: 9 },
    };
    const bytes = AgentMessage.encode({ payload: { $case: 'report', value: report } }).finish();
    const decoded = AgentMessage.decode(bytes);
    expect(decoded.payload).toEqual({ $case: 'report', value: report });
  });

  it('refuses bytes that are not a message', () => {
    expect(() => AgentMessage.decode(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]))).toThrow();
  });
});
