import { auditCommand, AuditEventRow, fetchAuditEvents, parseSubject, summarizeDetail } from './audit.command';

describe('parseSubject', () => {
  it('takes TYPE or TYPE:ID (the id may itself hold colons)', () => {
    expect(parseSubject('issuing-ca')).toEqual({ subjectType: 'issuing-ca' });
    expect(parseSubject('managed-certificate:5f0c6a4e-0000-4000-8000-000000000001')).toEqual({
      subjectType: 'managed-certificate',
      subjectId: '5f0c6a4e-0000-4000-8000-000000000001',
    });
    expect(parseSubject('token:initial admin:x')).toEqual({ subjectType: 'token', subjectId: 'initial admin:x' });
  });

  it.each([':abc', 'issuing-ca:', ''])('refuses %j', (value) => expect(() => parseSubject(value)).toThrow('--subject must be TYPE or TYPE:ID'));
});

describe('summarizeDetail', () => {
  it('shows what changed first, then what was added or dropped', () => {
    expect(
      summarizeDetail({
        before: { status: 'pending', name: 'ca1', note: 'x' },
        after: { name: 'ca1', status: 'active', subject: 'O=Acme\nCN=ca1' },
      }),
    ).toBe('status: pending→active, subject=O=Acme, CN=ca1, -note');
  });

  it('lists what was created and what was removed', () => {
    expect(summarizeDetail({ after: { name: 'www', curve: 'P-256', targets: [{ kind: 'combined-pem' }] } })).toBe('name=www, curve=P-256, targets=[{"kind":"combined-pem"}]');
    expect(summarizeDetail({ before: { status: 'active', name: 'www' } })).toBe('was status=active, name=www');
    expect(summarizeDetail({ reason: 'issue', attempt: 1 })).toBe('reason=issue, attempt=1');
    expect(summarizeDetail({ before: { a: 1 }, after: { a: 1 } })).toBe('no change');
    expect(summarizeDetail({})).toBe('');
  });

  it('shortens long values and the whole line', () => {
    const long = 'x'.repeat(60);
    expect(summarizeDetail({ after: { v: long } })).toBe(`v=${'x'.repeat(39)}…`);
    const line = summarizeDetail({ after: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`key${i}`, 'value'])) }, 50);
    expect(line).toHaveLength(50);
    expect(line.endsWith('…')).toBe(true);
    expect(line.startsWith('key0=value, key1=value')).toBe(true);
  });
});

describe('fetchAuditEvents', () => {
  const trail: AuditEventRow[] = Array.from({ length: 23 }, (_, i) => ({
    seq: String(i + 1),
    at: new Date(1_700_000_000_000 + i * 1000).toISOString(),
    actor: 'token:initial admin',
    action: i % 2 ? 'managed.created' : 'issuing-ca.created',
    subjectType: 'x',
    subjectId: String(i),
    detail: {},
    prevHash: '',
    hash: '',
  }));
  /** A fake server: filters by action and afterSeq, caps at the requested limit, records each query. */
  function server() {
    const calls: Record<string, string>[] = [];
    const fetchPage = async (params: URLSearchParams) => {
      const q = Object.fromEntries(params);
      calls.push(q);
      const after = Number(q.afterSeq ?? 0);
      return trail.filter((e) => Number(e.seq) > after && (!q.action || e.action === q.action)).slice(0, Number(q.limit));
    };
    return { calls, fetchPage };
  }

  it('asks once when the limit fits in a page', async () => {
    const s = server();
    const events = await fetchAuditEvents(s.fetchPage, { action: 'managed.created', actor: 'token:initial admin' }, 5, 10);
    expect(events.map((e) => e.seq)).toEqual(['2', '4', '6', '8', '10']);
    expect(s.calls).toEqual([{ action: 'managed.created', actor: 'token:initial admin', limit: '5' }]);
  });

  it('pages with afterSeq up to a limit above the page size', async () => {
    const s = server();
    const events = await fetchAuditEvents(s.fetchPage, {}, 17, 5);
    expect(events.map((e) => Number(e.seq))).toEqual(Array.from({ length: 17 }, (_, i) => i + 1));
    expect(s.calls.map((c) => [c.afterSeq, c.limit])).toEqual([[undefined, '5'], ['5', '5'], ['10', '5'], ['15', '2']]);
  });

  it('pages to the end of the trail for --all, and stops at a short page', async () => {
    const s = server();
    const events = await fetchAuditEvents(s.fetchPage, { action: 'managed.created' }, undefined, 4);
    expect(events.map((e) => e.seq)).toEqual(['2', '4', '6', '8', '10', '12', '14', '16', '18', '20', '22']);
    expect(s.calls.map((c) => c.afterSeq)).toEqual([undefined, '8', '16']);
    expect(s.calls.every((c) => c.action === 'managed.created' && c.limit === '4')).toBe(true);
  });

  it('asks once more when the trail ends exactly at a page boundary', async () => {
    const s = server();
    expect(await fetchAuditEvents(s.fetchPage, {}, undefined, 23)).toHaveLength(23);
    expect(s.calls.map((c) => c.afterSeq)).toEqual([undefined, '23']);
  });
});

describe('audit flags', () => {
  const noServer = () => {
    throw new Error('the server must not be contacted for a usage error');
  };
  it.each([
    [['--since', 'yesterday'], '--since: "yesterday" is neither an ISO 8601 time'],
    [['--subject', ':x'], '--subject must be TYPE or TYPE:ID'],
    [['--limit', '0'], '--limit must be at least 1'],
    [['--limit', 'ten'], '--limit must be a whole number'],
    [['--limit', '5', '--all'], 'give --limit or --all, not both'],
    [['events'], "Unexpected argument 'events'"],
    [['verify', '--all'], "Unknown option '--all'"],
  ])('%j is a usage error', async (args, message) => {
    const promise = auditCommand(args, noServer);
    await expect(promise).rejects.toThrow(message);
    await expect(promise).rejects.toMatchObject({ exitCode: 2 });
  });
});
