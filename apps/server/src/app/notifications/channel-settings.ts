import { BadRequestException } from '@nestjs/common';
import { isAbsolute } from 'node:path';
import { CHANNEL_ROLES, CHANNEL_TYPES, ChannelRole, ChannelType } from './notification-channel.entity';

const EMAIL = /^[^\s@<>,;"]{1,64}@[A-Za-z0-9.-]{1,253}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export interface ChannelInput {
  name: string;
  type: ChannelType;
  role: ChannelRole;
  settings: Record<string, unknown>;
  secret: string | null;
}

function httpUrl(value: unknown, field: string): string {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new BadRequestException(`${field} must be an http(s) URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new BadRequestException(`${field} must be an http(s) URL`);
  return url.toString();
}

function emails(value: unknown, field: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((e) => typeof e !== 'string' || !EMAIL.test(e))) throw new BadRequestException(`${field} must be a list of e-mail addresses`);
  return value as string[];
}

/**
 * Validates a new channel. Secrets: webhook = HMAC key (required), slack = the webhook URL itself
 * (it carries the token), smtp = the password. They are encrypted before they are stored.
 */
export function parseChannel(body: Record<string, unknown>, allowedCommands: readonly string[]): ChannelInput {
  const { name, type, role = 'all', secret } = body;
  const settings = (body.settings ?? {}) as Record<string, unknown>;
  if (typeof name !== 'string' || !NAME.test(name)) throw new BadRequestException('name is required (letters, digits, . _ -)');
  if (!CHANNEL_TYPES.includes(type as ChannelType)) throw new BadRequestException(`type must be one of ${CHANNEL_TYPES.join(', ')}`);
  if (!CHANNEL_ROLES.includes(role as ChannelRole)) throw new BadRequestException(`role must be one of ${CHANNEL_ROLES.join(', ')}`);
  if (typeof settings !== 'object' || Array.isArray(settings)) throw new BadRequestException('settings must be an object');
  if (secret !== undefined && secret !== null && (typeof secret !== 'string' || secret.length > 4096)) throw new BadRequestException('secret must be text');
  const out: ChannelInput = { name, type: type as ChannelType, role: role as ChannelRole, settings: {}, secret: (secret as string) || null };
  switch (out.type) {
    case 'webhook':
      out.settings = { url: httpUrl(settings.url, 'settings.url') };
      if (!out.secret || out.secret.length < 16) throw new BadRequestException('a webhook needs an HMAC key (secret) of at least 16 characters');
      break;
    case 'slack':
      if (!out.secret) throw new BadRequestException('a slack channel needs its incoming-webhook URL as the secret');
      out.settings = { host: new URL(httpUrl(out.secret, 'secret')).host };
      break;
    case 'smtp': {
      const port = settings.port ?? 587;
      const tls = settings.tls ?? 'starttls';
      if (typeof settings.host !== 'string' || !settings.host) throw new BadRequestException('settings.host is required');
      if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535) throw new BadRequestException('settings.port must be 1..65535');
      if (!['starttls', 'implicit', 'off'].includes(tls as string)) throw new BadRequestException('settings.tls must be starttls, implicit or off');
      if (typeof settings.from !== 'string' || !EMAIL.test(settings.from.replace(/^.*<(.*)>$/, '$1'))) throw new BadRequestException('settings.from must be an e-mail address');
      if (settings.username !== undefined && typeof settings.username !== 'string') throw new BadRequestException('settings.username must be text');
      if (settings.caPem !== undefined && (typeof settings.caPem !== 'string' || !settings.caPem.includes('-----BEGIN CERTIFICATE-----'))) throw new BadRequestException('settings.caPem must be a PEM certificate');
      const to = emails(settings.to, 'settings.to');
      const mailOwners = settings.mailOwners === true;
      if (!to.length && !mailOwners) throw new BadRequestException('an smtp channel needs settings.to recipients or settings.mailOwners');
      out.settings = { host: settings.host, port, tls, from: settings.from, to, mailOwners, ...(settings.username ? { username: settings.username } : {}), ...(settings.caPem ? { caPem: settings.caPem } : {}) };
      break;
    }
    case 'command': {
      const argv = settings.command;
      if (!Array.isArray(argv) || argv.length === 0 || argv.some((a) => typeof a !== 'string') || !isAbsolute(argv[0] as string)) {
        throw new BadRequestException('settings.command must be an argument list starting with an absolute program path');
      }
      // It runs on the server: only programs the operator listed, not any an API token names.
      if (!allowedCommands.includes(argv[0] as string)) {
        throw new BadRequestException(`program "${argv[0]}" is not allowed: commands run on the server, so the operator lists them in CERTFLEET_SERVER_COMMANDS (absolute paths, comma-separated)`);
      }
      out.settings = { command: argv, timeoutSeconds: 10 };
      break;
    }
  }
  // Every channel may bound its attempts tighter (or looser) than CERTFLEET_ALERT_DELIVERY_TIMEOUT_SECONDS.
  if (settings.timeoutSeconds !== undefined) {
    const t = settings.timeoutSeconds;
    if (!Number.isInteger(t) || (t as number) < 1 || (t as number) > 600) throw new BadRequestException('settings.timeoutSeconds must be 1..600');
    out.settings.timeoutSeconds = t;
  }
  return out;
}
