/** Minimal `--name value` / `--flag` parsing for the bench scripts. */
export class Args {
  private readonly values = new Map<string, string>();

  constructor(argv: readonly string[]) {
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) {
        this.values.set(a.slice(2), next);
        i++;
      } else {
        this.values.set(a.slice(2), 'true');
      }
    }
  }

  flag(name: string): boolean {
    return this.values.get(name) === 'true';
  }

  string(name: string, fallback?: string): string {
    const v = this.values.get(name) ?? fallback;
    if (v === undefined) throw new Error(`--${name} is required`);
    return v;
  }

  number(name: string, fallback: number): number {
    const v = this.values.get(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`--${name} must be a number`);
    return n;
  }

  numbers(name: string, fallback: readonly number[]): number[] {
    const v = this.values.get(name);
    if (v === undefined) return [...fallback];
    return v.split(',').map((s) => {
      const n = Number(s);
      if (!Number.isFinite(n)) throw new Error(`--${name} must be a comma-separated list of numbers`);
      return n;
    });
  }
}
