// The order/authorization state machine of RFC 8555 section 7.1.6, as pure functions of the stored
// rows and the clock: expiry is applied when read, so no sweeper is needed.
import type { AcmeAuthorization, AcmeAuthorizationStatus } from './acme-authorization.entity';
import type { AcmeOrder, AcmeOrderStatus } from './acme-order.entity';

/** A pending authorization past its expiry reads as expired. */
export function authorizationStatusAt(authz: Pick<AcmeAuthorization, 'status' | 'expires'>, now: Date): AcmeAuthorizationStatus {
  if ((authz.status === 'pending' || authz.status === 'valid') && authz.expires.getTime() <= now.getTime()) return 'expired';
  return authz.status;
}

/**
 * What an order is now: final states stay; an expired order or one with a failed, deactivated or
 * expired authorization is invalid; pending becomes ready once every authorization is valid.
 */
export function orderStatusAt(order: Pick<AcmeOrder, 'status' | 'expires'>, authzs: Array<Pick<AcmeAuthorization, 'status' | 'expires'>>, now: Date): AcmeOrderStatus {
  if (order.status === 'valid' || order.status === 'invalid' || order.status === 'processing') return order.status;
  if (order.expires.getTime() <= now.getTime()) return 'invalid';
  const states = authzs.map((a) => authorizationStatusAt(a, now));
  if (states.some((s) => s !== 'pending' && s !== 'valid')) return 'invalid';
  return states.length > 0 && states.every((s) => s === 'valid') ? 'ready' : 'pending';
}

/** Only a pending challenge of a pending authorization can be started; anything else is answered as it is. */
export function canStartChallenge(authzStatus: AcmeAuthorizationStatus, challengeStatus: string): boolean {
  return authzStatus === 'pending' && challengeStatus === 'pending';
}
