import { authorizationStatusAt, canStartChallenge, orderStatusAt } from './order-state';

const now = new Date('2026-06-01T12:00:00Z');
const later = new Date(now.getTime() + 3600_000);
const earlier = new Date(now.getTime() - 1000);

describe('ACME order state', () => {
  it.each([
    ['pending with pending authorizations', 'pending', [['pending', later]], 'pending'],
    ['pending with all authorizations valid becomes ready', 'pending', [['valid', later], ['valid', later]], 'ready'],
    ['one of two valid stays pending', 'pending', [['valid', later], ['pending', later]], 'pending'],
    ['a failed authorization makes it invalid', 'pending', [['valid', later], ['invalid', later]], 'invalid'],
    ['a deactivated authorization makes it invalid', 'pending', [['deactivated', later]], 'invalid'],
    ['an expired pending authorization makes it invalid', 'pending', [['pending', earlier]], 'invalid'],
    ['valid stays valid', 'valid', [['valid', earlier]], 'valid'],
    ['processing stays processing', 'processing', [['valid', later]], 'processing'],
    ['no authorizations is not ready', 'pending', [], 'pending'],
  ] as const)('%s', (_name, status, authzs, expected) => {
    expect(orderStatusAt({ status, expires: later }, authzs.map(([s, e]) => ({ status: s, expires: e })), now)).toBe(expected);
  });

  it('an expired order is invalid even when its authorizations are valid', () => {
    expect(orderStatusAt({ status: 'ready', expires: earlier }, [{ status: 'valid', expires: later }], now)).toBe('invalid');
  });

  it('reads a pending authorization past its expiry as expired, a final one as it is', () => {
    expect(authorizationStatusAt({ status: 'pending', expires: earlier }, now)).toBe('expired');
    expect(authorizationStatusAt({ status: 'invalid', expires: earlier }, now)).toBe('invalid');
    expect(authorizationStatusAt({ status: 'pending', expires: later }, now)).toBe('pending');
  });

  it('starts only a pending challenge of a pending authorization', () => {
    expect(canStartChallenge('pending', 'pending')).toBe(true);
    expect(canStartChallenge('pending', 'processing')).toBe(false);
    expect(canStartChallenge('valid', 'pending')).toBe(false);
    expect(canStartChallenge('expired', 'pending')).toBe(false);
  });
});
