// Reads the Prometheus text format the way a dashboard query would: one sample by name and its
// exact label set.
export interface Sample { name: string; labels: Record<string, string>; value: number }

export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

/** The value of `name` with exactly `labels`, or undefined when the series is absent. */
export function valueOf(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).sort();
  return parseMetrics(text).find((s) => s.name === name
    && JSON.stringify(Object.entries(s.labels).sort()) === JSON.stringify(wanted))?.value;
}

export async function scrape(url: string, token: string | null): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(url, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });
  return { status: res.status, text: await res.text(), headers: res.headers };
}
