// V8 heap sizing for the agent: a scan's findings all survive (the agent reports every one), and
// V8's defaults answer a high survival rate by growing the heap far beyond what is live.
//
// - Young generation: V8 doubles it up to 16 MiB per semi-space (32 MiB of RSS) when most objects
//   survive scavenges, which buys nothing here: survivors are promoted anyway.
//   `--max-semi-space-size` cannot be changed once the heap exists (measured: no effect through
//   v8.setFlagsFromString), and a single executable takes no node flags; but the growth factor is
//   read each time V8 grows the space, so setting it to 1 keeps the initial size.
// - Old generation: after each full GC V8 lets the heap grow to up to 4x the live size before the
//   next one; 20% keeps the garbage between full GCs small. Full GCs become more frequent; with a
//   scan's live set of ~35 MB each costs a few milliseconds.
//
// Measured on the 20,000-leaf corpus (tools/bench/discovery/run.sh, one core), with this change's
// allocation fixes in place: peak RSS 141.5 MB with CERTFLEET_AGENT_HEAP_TUNING=off, 114-125 MB
// with the young-generation cap alone, 111.7-114.2 MB with both settings; certificates per
// CPU-second unchanged within noise (2,311 off, 2,569-2,828 on: the scan's time goes to key
// decoding and PBKDF2, not to the GC).
// CERTFLEET_AGENT_HEAP_TUNING=off leaves V8's own sizing in place (for comparisons).
import { setFlagsFromString } from 'node:v8';

let applied = false;

/** Applies the agent's heap sizing once per process; call as early as possible (agent start). */
export function tuneHeapForAgent(): void {
  if (applied || process.env.CERTFLEET_AGENT_HEAP_TUNING === 'off') return;
  applied = true;
  setFlagsFromString('--semi-space-growth-factor=1');
  setFlagsFromString('--heap-growing-percent=20');
}
