import { createHmac } from 'node:crypto';
import { AlertMessage, ChannelSender } from '../notification-message';

/**
 * `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`: the receiver recomputes it with the shared
 * key and rejects old timestamps, so a captured request cannot be replayed later.
 */
export function webhookSignature(key: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', key).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** POSTs a JSON body and fails on anything but 2xx. */
export async function postJson(url: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, signal, redirect: 'error' });
  const text = await res.text().catch(() => '');
  if (res.status < 200 || res.status > 299) throw new Error(`HTTP ${res.status} from ${new URL(url).host}${text ? `: ${text.slice(0, 200)}` : ''}`);
}

/** Generic webhook: the alert as JSON, signed with the channel's HMAC key. */
export class WebhookChannel implements ChannelSender {
  constructor(
    private readonly url: string,
    private readonly hmacKey: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  send(message: AlertMessage, _recipients: string[], signal: AbortSignal): Promise<void> {
    const body = JSON.stringify(message);
    const timestamp = String(Math.floor(this.now().getTime() / 1000));
    return postJson(
      this.url,
      body,
      { 'x-certfleet-timestamp': timestamp, 'x-certfleet-signature': webhookSignature(this.hmacKey, timestamp, body), 'x-certfleet-delivery': message.deliveryId },
      signal,
    );
  }
}
