import { AlertMessage, ChannelSender, summaryLine } from '../notification-message';
import { postJson } from './webhook.channel';

/** The Slack incoming-webhook body: `text` for notifications, `blocks` for the message itself. */
export function slackBody(m: AlertMessage): { text: string; blocks: unknown[] } {
  const text = summaryLine(m);
  const facts = [`*Subject:* \`${m.subjectKey}\``, m.owner.team ? `*Owner:* ${m.owner.team}` : null, m.tags.length ? `*Tags:* ${m.tags.join(', ')}` : null].filter(Boolean).join('   ');
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${escapeMrkdwn(text)}*` } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: escapeMrkdwn(facts) }] },
    ],
  };
}

function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat...). The URL is the secret. */
export class SlackChannel implements ChannelSender {
  constructor(private readonly url: string) {}

  send(message: AlertMessage, _recipients: string[], signal: AbortSignal): Promise<void> {
    return postJson(this.url, JSON.stringify(slackBody(message)), {}, signal);
  }
}
