import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where a server's CPU time went, from a `node --cpu-prof` profile: top functions by self time and the
 * share of each package. Bundle positions are mapped back to sources through the bundle's source map.
 *
 *   npx tsx bench/profile-summary.ts <file.cpuprofile | directory> [top]
 */
interface ProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const root = fileURLToPath(new URL('../', import.meta.url));
const maps = new Map<string, SourceMap | null>();
function sourceMapOf(url: string): SourceMap | null {
  if (!maps.has(url)) {
    let map: SourceMap | null = null;
    try {
      const file = `${fileURLToPath(url)}.map`;
      if (existsSync(file)) map = new SourceMap(JSON.parse(readFileSync(file, 'utf8')));
    } catch {
      map = null;
    }
    maps.set(url, map);
  }
  return maps.get(url) ?? null;
}

/** "package or file:line" of a frame, mapped to its original source when the bundle has a map. */
function locate(frame: ProfileNode['callFrame']): { where: string; group: string } {
  if (!frame.url)
    return { where: '(native)', group: frame.functionName.startsWith('(') ? frame.functionName : '(native)' };
  if (frame.url.startsWith('node:')) return { where: frame.url, group: 'node internals' };
  let source = frame.url;
  let line = frame.lineNumber + 1;
  const map = frame.url.startsWith('file:') ? sourceMapOf(frame.url) : null;
  const entry = map?.findEntry(frame.lineNumber, frame.columnNumber) as
    | { originalSource?: string; originalLine?: number }
    | undefined;
  if (entry?.originalSource) {
    // Sources are relative to the map (bench/.build/<run>/): make them relative to the repository.
    source = relative(root, resolve(dirname(fileURLToPath(frame.url)), entry.originalSource));
    line = (entry.originalLine ?? 0) + 1;
  }
  const modules = source.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = source.slice(modules + 'node_modules/'.length).split('/');
    const pkg = rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? '?');
    return { where: `${rest.join('/')}:${line}`, group: pkg };
  }
  const project = source.startsWith('file:') ? relative(root, fileURLToPath(source)) : source;
  return { where: `${project}:${line}`, group: `project ${project.split('/').slice(0, 2).join('/')}` };
}

export function summariseProfile(file: string, top = 20): string[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });

  const located = new Map<number, ReturnType<typeof locate>>();
  const where = (id: number) => {
    let l = located.get(id);
    if (!l) {
      l = locate(byId.get(id)!.callFrame);
      located.set(id, l);
    }
    return l;
  };
  /** Node internals and natives are charged to the nearest package or project frame that called them. */
  const owner = (id: number): string => {
    const own = where(id).group;
    if (own.startsWith('(') && own !== '(native)') return own;
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const group = where(at).group;
      if (group !== '(native)' && group !== 'node internals') return group;
    }
    return own;
  };

  /** The leaf, then the nearest callers that are package or project code: what a reader can act on. */
  const stackOf = (id: number): string => {
    const frames = [`${byId.get(id)!.callFrame.functionName || '(anonymous)'} (${where(id).where})`];
    for (let at = parentOf.get(id); at !== undefined && frames.length < 5; at = parentOf.get(at)) {
      const { group, where: w } = where(at);
      if (group === '(native)' || group === 'node internals' || group.startsWith('(')) continue;
      frames.push(`${byId.get(at)!.callFrame.functionName || '(anonymous)'} (${w})`);
    }
    return frames.join('\n           ← ');
  };

  const functions = new Map<string, number>();
  const groups = new Map<string, number>();
  const owners = new Map<string, number>();
  const stacks = new Map<string, number>();
  const inclusive = new Map<string, number>();
  /** The profiler's own Profiler.stop (serialising this profile) is not the server's work. */
  const isProfiler = (id: number) => {
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      if (byId.get(at)!.callFrame.url === 'node:inspector') return true;
    }
    return false;
  };
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    if (isProfiler(id)) continue;
    if (frame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    const { where: at, group } = where(id);
    const key = `${frame.functionName || '(anonymous)'}  ${at}`;
    functions.set(key, (functions.get(key) ?? 0) + us);
    groups.set(group, (groups.get(group) ?? 0) + us);
    const by = owner(id);
    owners.set(by, (owners.get(by) ?? 0) + us);
    const stack = stackOf(id);
    stacks.set(stack, (stacks.get(stack) ?? 0) + us);
    // Total time: each package or project function on the stack, once per stack (recursion counted once).
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const { group, where: w } = where(at);
      if (group === '(native)' || group === 'node internals' || group.startsWith('(')) continue;
      const fn = `${byId.get(at)!.callFrame.functionName || '(anonymous)'}  ${w}`;
      if (seen.has(fn)) continue;
      seen.add(fn);
      inclusive.set(fn, (inclusive.get(fn) ?? 0) + us);
    }
  }
  const pct = (us: number) => `${((100 * us) / Math.max(total, 1)).toFixed(1).padStart(5)}%`;
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  const list = (m: Map<string, number>, n: number) =>
    sorted(m)
      .slice(0, n)
      .map(([k, us]) => `    ${pct(us)}  ${k}`);
  return [
    `${basename(file)}: ${(total / 1e6).toFixed(1)} s on CPU, ${(idle / 1e6).toFixed(1)} s idle`,
    '  by package, node internals and natives charged to the package or project file that called them:',
    ...list(owners, 14),
    '  by package, self time only:',
    ...list(groups, 8),
    `  top ${top} package/project functions by total time (self + callees):`,
    ...list(inclusive, top),
    `  top ${top} functions by self time:`,
    ...list(functions, top),
    '  heaviest stacks (leaf ← nearest package/project callers):',
    ...list(stacks, 8),
  ];
}

/** Every .cpuprofile in a directory (one per server process: the cluster primary's is nearly idle). */
export function summariseProfiles(dir: string, top = 20): string[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  return files.flatMap((f) => [...summariseProfile(join(dir, f), top), '']);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const target = process.argv[2];
  if (!target) {
    console.error('usage: npx tsx bench/profile-summary.ts <file.cpuprofile | directory> [top]');
    process.exit(64);
  }
  const top = Number(process.argv[3] ?? 20);
  const lines = target.endsWith('.cpuprofile')
    ? summariseProfile(target, top)
    : summariseProfiles(target, top);
  console.log(lines.join('\n'));
}
