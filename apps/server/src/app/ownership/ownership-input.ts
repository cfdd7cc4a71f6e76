import { BadRequestException } from '@nestjs/common';
import { globToRegExp } from './glob';
import { OwnerFields, RuleInput } from './owner-resolution';

const EMAIL = /^[^\s@<>,;"]{1,64}@[A-Za-z0-9.-]{1,253}$/;
const TAG = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,62}$/;
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/;
const LABEL_VALUE = /^[A-Za-z0-9._:/-]{0,128}$/;
const CHANNEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

function list(body: Record<string, unknown>, field: string, pattern: RegExp, what: string): string[] {
  const value = body[field] ?? [];
  if (!Array.isArray(value) || value.length > 50) throw new BadRequestException(`${field} must be a list of at most 50 ${what}s`);
  for (const v of value) if (typeof v !== 'string' || !pattern.test(v)) throw new BadRequestException(`${field}: "${String(v)}" is not a valid ${what}`);
  return [...new Set(value as string[])];
}

function optionalText(body: Record<string, unknown>, field: string, max: number): string | null {
  const v = body[field];
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string' || v.length > max || /[\x00-\x1f]/.test(v)) throw new BadRequestException(`${field} must be text of at most ${max} characters`);
  return v;
}

/** Validates an owner assignment (team, emails, channels, tags); at least one must be given. */
export function parseOwnerFields(body: Record<string, unknown>): OwnerFields {
  const fields = {
    team: optionalText(body, 'team', 200),
    emails: list(body, 'emails', EMAIL, 'e-mail address'),
    channels: list(body, 'channels', CHANNEL_NAME, 'channel name'),
    tags: list(body, 'tags', TAG, 'tag'),
  };
  if (!fields.team && !fields.emails.length && !fields.channels.length && !fields.tags.length) {
    throw new BadRequestException('give at least one of team, emails, channels, tags');
  }
  return fields;
}

export function parseLabels(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new BadRequestException(`${field} must be an object of label: value`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (!LABEL_KEY.test(k)) throw new BadRequestException(`${field}: "${k}" is not a valid label name`);
    if (typeof v !== 'string' || !LABEL_VALUE.test(v)) throw new BadRequestException(`${field}.${k}: "${String(v)}" is not a valid label value`);
    out[k] = v;
  }
  return out;
}

export function parseLabelKeys(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((k) => typeof k !== 'string' || !LABEL_KEY.test(k))) throw new BadRequestException('remove must be a list of label names');
  return value as string[];
}

/** Validates a rule: a name, at least one criterion (that compiles), and something to assign. */
export function parseRule(body: Record<string, unknown>): RuleInput {
  const name = optionalText(body, 'name', 200);
  if (!name || !CHANNEL_NAME.test(name)) throw new BadRequestException('name is required (letters, digits, . _ -)');
  const priority = body.priority ?? 100;
  if (!Number.isInteger(priority) || (priority as number) < 0 || (priority as number) > 1_000_000) throw new BadRequestException('priority must be an integer 0..1000000');
  const pathGlob = optionalText(body, 'pathGlob', 1024);
  const sanPattern = optionalText(body, 'sanPattern', 512);
  const agentLabels = parseLabels(body.agentLabels, 'agentLabels');
  if (!pathGlob && !sanPattern && Object.keys(agentLabels).length === 0) throw new BadRequestException('give at least one of pathGlob, sanPattern, agentLabels');
  if (pathGlob && !pathGlob.startsWith('/') && !pathGlob.startsWith('*') && !/^[A-Za-z]:/.test(pathGlob)) throw new BadRequestException('pathGlob must be absolute (or start with *)');
  for (const [field, glob, dns] of [['pathGlob', pathGlob, false], ['sanPattern', sanPattern, true]] as const) {
    if (glob) {
      try {
        globToRegExp(glob, { dns });
      } catch {
        throw new BadRequestException(`${field} "${glob}" is not a valid pattern`);
      }
    }
  }
  return { name, priority: priority as number, pathGlob, sanPattern, agentLabels: Object.keys(agentLabels).length ? agentLabels : null, ...parseOwnerFields(body) };
}
