// Display helpers: one time format (UTC), relative days, serial grouping.

export function utc(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function day(iso) {
  return iso ? new Date(iso).toISOString().slice(0, 10) : '–';
}

export function daysFrom(iso, now = Date.now()) {
  return Math.floor((new Date(iso).getTime() - now) / 86_400_000);
}

export function shortSerial(serial) {
  return serial.length > 16 ? `${serial.slice(0, 8)}…${serial.slice(-6)}` : serial;
}

/** The CN of a subject DN, or the whole DN. */
export function commonName(dn) {
  const m = /(?:^|,\s*)CN=([^,]+)/.exec(dn ?? '');
  return m ? m[1] : dn || '–';
}
