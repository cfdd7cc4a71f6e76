// Distinguished names as RFC 4514 strings: RDNs most specific first ("CN=x, O=y, C=US"), ", "
// between RDNs (the common display form; RFC 4514 itself uses ","), "+" inside multi-valued RDNs,
// RFC 4514 escaping of special characters, unknown attribute types as dotted OIDs.
import { NAME_ATTRIBUTES } from './oids';
import { children, decodeOid, decodeString, Tlv } from './asn1-reader';

export function formatName(name: Tlv): string {
  const rdns = children(name).map((set) =>
    children(set)
      .map((attribute) => {
        const [type, value] = children(attribute);
        const oid = decodeOid(type);
        return `${NAME_ATTRIBUTES[oid] ?? oid}=${escapeValue(decodeString(value))}`;
      })
      .join('+'),
  );
  return rdns.reverse().join(', ');
}

function escapeValue(value: string): string {
  let out = value.replace(/[\\,+"<>;=]/g, (c) => `\\${c}`).replace(/\0/g, '\\00');
  if (out.startsWith('#') || out.startsWith(' ')) out = `\\${out}`;
  if (out.endsWith(' ') && out.length > 1) out = `${out.slice(0, -1)}\\ `;
  return out;
}
