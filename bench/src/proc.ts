import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second for /proc/<pid>/stat times (USER_HZ; 100 on Linux x86-64 and arm64). */
const CLK_TCK = 100;

/** The fields of /proc/<pid>/stat after the command name (which may contain spaces): index 0 is field 3. */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** `pid` and its live descendants (a `serve --workers` primary and its workers). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let ppid: number;
    try {
      ppid = Number(statFields(Number(name))[1]);
    } catch {
      continue; // exited meanwhile
    }
    children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

/**
 * User + system CPU seconds of a process (all its threads) and of its live child processes, from
 * /proc/<pid>/stat fields 14 and 15.
 */
export function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    const fields = statFields(p);
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / CLK_TCK;
}

/** Peak resident set size in KiB (VmHWM from /proc/<pid>/status), summed over the process and its children. */
export function peakRssKiB(pid: number): number {
  let kib = 0;
  for (const p of processTree(pid)) {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
    kib += m?.[1] ? Number(m[1]) : NaN;
  }
  return kib;
}
