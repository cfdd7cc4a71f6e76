import { BadRequestException } from '@nestjs/common';

/**
 * What a break-glass campaign replaces, across the whole inventory. Every field given must match
 * (AND); at least one is required. `issuer` names an internal issuing CA (compromised CA: it is
 * rotated and revoked); the others select by what the certificates themselves say.
 */
export interface CampaignSelector {
  /** Internal issuing CA id or name. */
  issuer?: string;
  /** Authority key identifier (hex) of any CA, internal or external. */
  caKey?: string;
  /** Certificate serials (hex). */
  serials?: string[];
  /** Shell-style pattern on DNS names, e.g. *.example.com. */
  san?: string;
  /** RSA | EC | Ed25519 ... */
  keyAlgorithm?: string;
  /** Keys smaller than this many bits (with keyAlgorithm, e.g. RSA below 2048). */
  keyBitsBelow?: number;
  /** Substring of the signature algorithm, case-insensitive, e.g. sha1 or md5. */
  signatureAlgorithm?: string;
}

const HEX = /^[0-9a-f]+$/;

/** Validates and normalises a selector from a request body; throws 400 naming the bad field. */
export function parseSelector(body: unknown): CampaignSelector {
  if (!body || typeof body !== 'object') throw new BadRequestException('a selector is required: issuer, caKey, serials, san, keyAlgorithm/keyBitsBelow or signatureAlgorithm');
  const b = body as Record<string, unknown>;
  const known = ['issuer', 'caKey', 'serials', 'san', 'keyAlgorithm', 'keyBitsBelow', 'signatureAlgorithm'];
  const unknown = Object.keys(b).filter((k) => !known.includes(k) && b[k] !== undefined);
  if (unknown.length) throw new BadRequestException(`unknown selector field(s): ${unknown.join(', ')} (known: ${known.join(', ')})`);
  const s: CampaignSelector = {};
  const text = (k: string, max = 200): string | undefined => {
    const v = b[k];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string' || v.length > max) throw new BadRequestException(`selector.${k} must be text of at most ${max} characters`);
    return v.trim();
  };
  s.issuer = text('issuer');
  const caKey = text('caKey')?.toLowerCase().replace(/:/g, '');
  if (caKey !== undefined && (!HEX.test(caKey) || caKey.length > 128)) throw new BadRequestException('selector.caKey must be a hex key identifier (colons allowed)');
  s.caKey = caKey;
  if (b.serials !== undefined) {
    if (!Array.isArray(b.serials) || b.serials.length === 0 || b.serials.length > 100_000) throw new BadRequestException('selector.serials must be a list of 1 to 100,000 hex serials');
    s.serials = b.serials.map((x) => {
      const hex = typeof x === 'string' ? x.trim().toLowerCase().replace(/[:\s]/g, '').replace(/^(00)+(?=..)/, '') : '';
      if (!HEX.test(hex) || hex.length > 64) throw new BadRequestException(`selector.serials: "${String(x).slice(0, 80)}" is not a hex serial`);
      return hex.length % 2 ? `0${hex}` : hex;
    });
  }
  const san = text('san', 253);
  if (san !== undefined && !/^[A-Za-z0-9*?.\-_]+$/.test(san)) throw new BadRequestException('selector.san is a DNS name pattern: letters, digits, dots, dashes, * and ?');
  s.san = san?.toLowerCase();
  s.keyAlgorithm = text('keyAlgorithm', 32);
  if (b.keyBitsBelow !== undefined) {
    if (!Number.isInteger(b.keyBitsBelow) || (b.keyBitsBelow as number) < 1 || (b.keyBitsBelow as number) > 65536) throw new BadRequestException('selector.keyBitsBelow must be a whole number of bits');
    s.keyBitsBelow = b.keyBitsBelow as number;
  }
  s.signatureAlgorithm = text('signatureAlgorithm', 64);
  for (const k of Object.keys(s) as (keyof CampaignSelector)[]) if (s[k] === undefined) delete s[k];
  if (Object.keys(s).length === 0) throw new BadRequestException('a selector is required: issuer, caKey, serials, san, keyAlgorithm/keyBitsBelow or signatureAlgorithm');
  return s;
}

/** A LIKE pattern for a shell-style DNS pattern (* any run, ? one character). */
export function sanToLike(pattern: string): string {
  return pattern.replace(/[%_\\]/g, (c) => `\\${c}`).replace(/\*/g, '%').replace(/\?/g, '_');
}

/**
 * SQL conditions on an inventory row `i` (certificate kind) for a selector; `issuerKeyId` is the
 * internal CA's key identifier when `issuer` was given. Parameters are appended to `params`.
 */
export function inventoryConditions(s: CampaignSelector, issuerKeyId: string | null, params: unknown[]): string[] {
  const p = (v: unknown) => (params.push(v), `$${params.length}`);
  const where: string[] = [`i."kind" = 'certificate'`, `coalesce(i."detail"->>'isCa', 'false') <> 'true'`];
  if (issuerKeyId !== null) where.push(`i."detail"->>'authorityKeyId' = ${p(issuerKeyId)}`);
  if (s.caKey) where.push(`i."detail"->>'authorityKeyId' = ${p(s.caKey)}`);
  if (s.serials) where.push(`i."serial" = ANY(${p(s.serials)}::varchar[])`);
  if (s.san) where.push(`EXISTS (SELECT 1 FROM jsonb_array_elements_text(coalesce(i."detail"->'dnsNames', '[]'::jsonb)) d WHERE lower(d) LIKE ${p(sanToLike(s.san))})`);
  if (s.keyAlgorithm) where.push(`lower(i."detail"->>'keyAlgorithm') = lower(${p(s.keyAlgorithm)})`);
  if (s.keyBitsBelow) where.push(`coalesce((i."detail"->>'keySize')::int, 0) < ${p(s.keyBitsBelow)}`);
  if (s.signatureAlgorithm) where.push(`i."detail"->>'signatureAlgorithm' ILIKE ${p(`%${s.signatureAlgorithm.replace(/[%_\\]/g, (c) => `\\${c}`)}%`)}`);
  return where;
}
