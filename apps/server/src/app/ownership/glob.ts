/**
 * Glob to RegExp for ownership rules. Paths: `**` spans directories, `*` and `?` stay within one.
 * Names (`dns: true`): `*` may span labels, so `*.example.com` also matches `a.b.example.com`,
 * and matching ignores case.
 */
export function globToRegExp(glob: string, options: { dns?: boolean } = {}): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      out += '.*';
      i++;
      if (glob[i + 1] === '/') i++, (out += '(?:/)?');
    } else if (c === '*') out += options.dns ? '.*' : '[^/]*';
    else if (c === '?') out += options.dns ? '.' : '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`^${out}$`, options.dns ? 'i' : '');
}
