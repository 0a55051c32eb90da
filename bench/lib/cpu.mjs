// CPU time from /proc, to tell what a benchmark's own processes used from what the rest of a
// shared machine did meanwhile.
import { readFileSync, readdirSync } from 'node:fs';

/** USER_HZ: /proc's clock ticks per second (100 on Linux for every architecture Node runs on). */
const HZ = 100;

/** Busy CPU seconds of the whole machine since boot (all but idle and iowait, /proc/stat). */
export function machineBusySeconds() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = fields;
  return (user + nice + system + irq + softirq + steal) / HZ;
}

/**
 * CPU seconds (user + system) of process `rootPid` and every live descendant (children that
 * exited are not counted: read it while they run).
 */
export function treeCpuSeconds(rootPid) {
  const stats = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const after = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1].split(' ');
      stats.set(Number(entry), { ppid: Number(after[1]), cpu: (Number(after[11]) + Number(after[12])) / HZ });
    } catch {
      // exited meanwhile
    }
  }
  const children = new Map();
  for (const [pid, { ppid }] of stats) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  let total = 0;
  const pending = [rootPid];
  while (pending.length > 0) {
    const pid = pending.pop();
    total += stats.get(pid)?.cpu ?? 0;
    pending.push(...(children.get(pid) ?? []));
  }
  return total;
}
