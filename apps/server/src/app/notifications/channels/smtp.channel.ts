import { createTransport } from 'nodemailer';
import { AlertMessage, ChannelSender, summaryLine } from '../notification-message';

export interface SmtpSettings {
  host: string;
  port: number;
  /** starttls (default): the session must upgrade before AUTH/MAIL; implicit: TLS from the start (465); off: plain text. */
  tls: 'starttls' | 'implicit' | 'off';
  from: string;
  username?: string;
  /** PEM of a CA to trust besides the system ones (private mail relays). */
  caPem?: string;
}

/** E-mail over SMTP with nodemailer. Recipients come with each notification. */
export class SmtpChannel implements ChannelSender {
  constructor(
    private readonly settings: SmtpSettings,
    private readonly password: string | null,
    private readonly timeoutMs: number,
  ) {}

  async send(message: AlertMessage, recipients: string[], signal: AbortSignal): Promise<void> {
    if (recipients.length === 0) throw new Error('no recipients');
    const s = this.settings;
    const transport = createTransport({
      host: s.host,
      port: s.port,
      secure: s.tls === 'implicit',
      requireTLS: s.tls === 'starttls',
      ignoreTLS: s.tls === 'off',
      auth: s.username ? { user: s.username, pass: this.password ?? '' } : undefined,
      tls: s.caPem ? { ca: [s.caPem] } : undefined,
      connectionTimeout: this.timeoutMs,
      greetingTimeout: this.timeoutMs,
      socketTimeout: this.timeoutMs,
    });
    const abort = () => transport.close();
    signal.addEventListener('abort', abort, { once: true });
    try {
      await transport.sendMail({
        from: s.from,
        to: recipients,
        subject: summaryLine(message),
        text: `${summaryLine(message)}\n\nSubject: ${message.subjectKey}\nStage: ${message.stageLabel}\nTags: ${message.tags.join(', ') || '-'}\n\n${JSON.stringify(message.detail, null, 2)}\n`,
        headers: { 'X-Certfleet-Alert': message.alertId, 'X-Certfleet-Delivery': message.deliveryId },
      });
    } finally {
      signal.removeEventListener('abort', abort);
      transport.close();
    }
  }
}
