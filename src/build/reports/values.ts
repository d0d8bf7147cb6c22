/** Values as test tools write them into report files. */

export function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** Numbers as test tools print them, thousands separators included ("1,234.5"). */
export function parseNumber(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const number = Number(value.replace(/,/g, '').trim());
  return Number.isFinite(number) && number >= 0 ? number : undefined;
}

export function parseCount(value: string | undefined): number {
  return Math.floor(parseNumber(value) ?? 0);
}

export function secondsToMs(seconds: number): number {
  return Math.round(seconds * 1000);
}

export function stripBom(text: string): string {
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}
