const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30s`, `5m`, `1h`, `7d` → milliseconds; undefined for anything else. How operators write ages. */
export function parseDurationMs(text: string): number | undefined {
  const match = /^(\d{1,9})([smhd])$/.exec(text.trim());
  return match ? Number(match[1]) * UNITS[match[2]!]! : undefined;
}

/** Milliseconds as operators read them: `850 ms`, `12 s`, `4 min 5 s`, `3 h 20 min`, `2 d 4 h`. */
export function formatDuration(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs < 1000) return `${sign}${Math.round(abs)} ms`;
  const s = Math.floor(abs / 1000);
  if (s < 60) return `${sign}${s} s`;
  const [d, h, m] = [
    Math.floor(s / 86_400),
    Math.floor((s % 86_400) / 3600),
    Math.floor((s % 3600) / 60),
  ];
  if (d > 0) return `${sign}${d} d${h ? ` ${h} h` : ''}`;
  if (h > 0) return `${sign}${h} h${m ? ` ${m} min` : ''}`;
  return `${sign}${m} min${s % 60 ? ` ${s % 60} s` : ''}`;
}
