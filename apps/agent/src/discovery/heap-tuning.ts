// Keeps V8's young generation at its initial size (1 MiB per semi-space on 64-bit Node 20).
//
// Every finding of a scan survives (the agent reports them all), so V8 sees a high survival rate
// and doubles the young generation up to its 16 MiB-per-semi-space maximum: 32 MiB of RSS that
// buys nothing here, as the survivors are promoted anyway. `--max-semi-space-size` cannot be
// changed once the heap exists (measured: no effect through v8.setFlagsFromString) and a single
// executable cannot take node flags, but the growth factor is read each time V8 grows the space,
// so setting it to 1 at run time stops the growth.
//
// Measured on the 20,000-leaf corpus (tools/bench/discovery/run.sh): peak RSS 150 MB -> 122 MB
// with this alone; scavenges become more frequent, at a cost of ~3-5% of scan CPU time.
// CERTFLEET_AGENT_YOUNG_GEN=default leaves V8's own sizing in place (for comparisons).
import { setFlagsFromString } from 'node:v8';

let capped = false;

/** Stops the young generation from growing; idempotent. Call as early as possible (agent start). */
export function capYoungGeneration(): void {
  if (capped || process.env.CERTFLEET_AGENT_YOUNG_GEN === 'default') return;
  capped = true;
  setFlagsFromString('--semi-space-growth-factor=1');
}
