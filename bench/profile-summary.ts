// "Where the time goes" from a V8 CPU profile (node --cpu-prof, written by `--cpu-prof` runs):
// the share of the sampled time each function spent itself (self time), and the share of each
// place it lives in (the project's directories, node's internals, each package), so that a run
// says what its CPU went to without opening a profiler.
// `npx tsx bench/profile-summary.ts bench/profiles/fleet-api-….cpuprofile` prints one.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Sampled milliseconds in all (idle included). */
  totalMs: number;
  /** Share of the busy time (idle and garbage collection excluded from neither: GC is work). */
  busyMs: number;
  functions: Array<{ name: string; where: string; percent: number }>;
  places: Array<{ place: string; percent: number }>;
}

/** node_modules/<package> (or @scope/package), node:internal/<module>, or the project's top directory. */
function placeOf(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  const file = url.startsWith('file://') ? fileURLToPath(url) : url;
  const dist = file.split(`${path.sep}dist${path.sep}`);
  const relative = dist.length > 1 ? dist.at(-1)! : file;
  return relative.split(path.sep).slice(0, 2).join('/');
}

export function summariseProfile(profile: CpuProfile, top = 12): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfMs = new Map<number, number>();
  let totalMs = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    totalMs += ms;
    selfMs.set(id, (selfMs.get(id) ?? 0) + ms);
  });
  const fn = new Map<string, number>();
  const place = new Map<string, number>();
  let busyMs = 0;
  for (const [id, ms] of selfMs) {
    const { callFrame } = byId.get(id)!;
    if (callFrame.functionName === '(idle)' || callFrame.functionName === '(program)') continue;
    busyMs += ms;
    const where = placeOf(callFrame.url, callFrame.functionName);
    const key = `${callFrame.functionName || '(anonymous)'}\t${where}:${callFrame.lineNumber + 1}`;
    fn.set(key, (fn.get(key) ?? 0) + ms);
    place.set(where, (place.get(where) ?? 0) + ms);
  }
  const pct = (ms: number) => Math.round((ms / Math.max(busyMs, 1e-9)) * 1000) / 10;
  return {
    totalMs: Math.round(totalMs),
    busyMs: Math.round(busyMs),
    functions: [...fn].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, ms]) => {
      const [name, where] = k.split('\t');
      return { name, where, percent: pct(ms) };
    }),
    places: [...place].sort((a, b) => b[1] - a[1]).slice(0, top).map(([p, ms]) => ({ place: p, percent: pct(ms) })),
  };
}

/** `--cpu-prof` on the bench's command line: the node flags that make a spawned process write its profile, and where it went. */
export function profiling(scenario: string, processName: string, argv: readonly string[] = process.argv): { flags: string[]; file: string } | null {
  if (!argv.includes('--cpu-prof')) return null;
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'profiles');
  const name = `${scenario}-${processName}-${Date.now()}.cpuprofile`;
  return { flags: ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}`], file: path.join(dir, name) };
}

/** The summary of a profile a stopped process wrote (null when it wrote none). */
export function summaryOf(label: string, file: string, top = 8): string | null {
  if (!fs.existsSync(file)) return null;
  return formatSummary(label, summariseProfile(readProfile(file), top));
}

export function readProfile(file: string): CpuProfile {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
}

/** A few lines a person reads: the places, then the functions, by share of the busy time. */
export function formatSummary(label: string, s: ProfileSummary): string {
  return [
    `${label}: busy ${s.busyMs} of ${s.totalMs} sampled ms`,
    `  by place: ${s.places.map((p) => `${p.place} ${p.percent}%`).join(', ')}`,
    ...s.functions.map((f) => `  ${String(f.percent).padStart(5)}%  ${f.name}  (${f.where})`),
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  for (const file of process.argv.slice(2)) process.stdout.write(`${formatSummary(path.basename(file), summariseProfile(readProfile(file), 20))}\n\n`);
}
