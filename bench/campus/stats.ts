/** Latencies and outcomes per request type, and the table they are reported as. */
export class Stats {
  private readonly latencies = new Map<string, number[]>();
  private readonly outcomes = new Map<string, Map<string, number>>();

  record(type: string, ms: number, outcome: string): void {
    if (!this.latencies.has(type)) {
      this.latencies.set(type, []);
      this.outcomes.set(type, new Map());
    }
    this.latencies.get(type)!.push(ms);
    const o = this.outcomes.get(type)!;
    o.set(outcome, (o.get(outcome) ?? 0) + 1);
  }

  count(type: string): number {
    return this.latencies.get(type)?.length ?? 0;
  }

  summary(): Array<{ type: string; count: number; p50: number; p99: number; outcomes: Record<string, number> }> {
    return [...this.latencies].map(([type, xs]) => {
      const sorted = [...xs].sort((a, b) => a - b);
      const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
      return { type, count: xs.length, p50: pct(0.5), p99: pct(0.99), outcomes: Object.fromEntries(this.outcomes.get(type)!) };
    });
  }
}

export function table(header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...cells.slice(1).map(line)].join('\n');
}
