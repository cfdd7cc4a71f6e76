// Discovery keeps a few bounded caches while a scan runs (parsed certificates by fingerprint,
// public keys, interned strings, signature checks, the DER slab being filled). They speed up the
// scan and save memory on repeated material, but must not outlive it: a walker calls
// releaseDiscoveryCaches() when its scan ends, so an idle agent holds none of it.
import { clearVerifyCache } from './chain';
import { releaseDerSlab } from './der-arena';
import { clearDescribeCaches } from './describe';

export function releaseDiscoveryCaches(): void {
  clearDescribeCaches();
  clearVerifyCache();
  releaseDerSlab();
}
