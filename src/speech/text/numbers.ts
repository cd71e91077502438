// Numbers, dates, times and amounts as English words, the way people say them (American usage): the everyday
// text generator speaks every number through these, since transcripts hold letters only (vocab.ts).

const ONES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve',
  'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
const SCALES: [number, string][] = [[1e9, 'billion'], [1e6, 'million'], [1e3, 'thousand']];

function under100(n: number): string {
  if (n < 20) return ONES[n];
  return TENS[Math.floor(n / 10)] + (n % 10 ? ` ${ONES[n % 10]}` : '');
}

function under1000(n: number, and: boolean): string {
  const h = Math.floor(n / 100), rest = n % 100;
  if (!h) return under100(rest);
  return `${ONES[h]} hundred` + (rest ? `${and ? ' and' : ''} ${under100(rest)}` : '');
}

/** A whole number in words: 342 -> "three hundred forty two" ("... and forty two" with `and`). */
export function cardinal(n: number, opts: { and?: boolean } = {}): string {
  if (!Number.isInteger(n)) throw new RangeError(`cardinal: ${n} is not an integer`);
  if (n < 0) return `minus ${cardinal(-n, opts)}`;
  if (n >= 1e12) throw new RangeError(`cardinal: ${n} is too large`);
  if (n < 1000) return under1000(n, !!opts.and);
  const parts: string[] = [];
  let rest = n;
  for (const [v, name] of SCALES) {
    if (rest >= v) {
      parts.push(`${under1000(Math.floor(rest / v), !!opts.and)} ${name}`);
      rest %= v;
    }
  }
  if (rest) parts.push((opts.and && rest < 100 ? 'and ' : '') + under1000(rest, !!opts.and));
  return parts.join(' ');
}

const ORD_IRREGULAR: Record<string, string> = {
  one: 'first', two: 'second', three: 'third', five: 'fifth', eight: 'eighth', nine: 'ninth', twelve: 'twelfth',
};

/** 21 -> "twenty first", 100 -> "one hundredth". */
export function ordinal(n: number): string {
  const words = cardinal(n).split(' ');
  const last = words[words.length - 1];
  words[words.length - 1] = ORD_IRREGULAR[last] ?? (last.endsWith('y') ? `${last.slice(0, -1)}ieth` : `${last}th`);
  return words.join(' ');
}

/** A year as spoken: 1986 -> "nineteen eighty six", 2005 -> "two thousand five", 1900 -> "nineteen hundred",
 *  2024 -> "twenty twenty four", 1805 -> "eighteen oh five". */
export function year(y: number): string {
  if (!Number.isInteger(y) || y < 1000 || y > 2099) throw new RangeError(`year: ${y} is outside 1000..2099`);
  if (y >= 2000 && y < 2010) return cardinal(y);
  const hi = Math.floor(y / 100), lo = y % 100;
  if (lo === 0) return `${cardinal(hi)} hundred`;
  return `${cardinal(hi)} ${lo < 10 ? `oh ${ONES[lo]}` : under100(lo)}`;
}

/** Digits one by one, zero as "oh" or "zero": "555" -> "five five five". */
export function digits(s: string, zero: 'oh' | 'zero' = 'zero'): string {
  return [...s].map((c) => {
    const d = c.charCodeAt(0) - 48;
    if (d < 0 || d > 9) throw new RangeError(`digits: "${c}" is not a digit`);
    return d === 0 ? zero : ONES[d];
  }).join(' ');
}

/** A clock time in one of the usual spoken styles. h 0..23, m 0..59; style picks among the forms. */
export function clockTime(h: number, m: number, style: 0 | 1 | 2 | 3): string {
  const h12 = h % 12 === 0 ? 12 : h % 12;
  const next12 = (h + 1) % 12 === 0 ? 12 : (h + 1) % 12;
  const ampm = h < 12 ? 'in the morning' : h < 17 ? 'in the afternoon' : 'in the evening';
  if (h === 12 && m === 0 && style !== 0) return 'noon';
  if (h === 0 && m === 0 && style !== 0) return 'midnight';
  if (style === 1 && m % 15 === 0) {
    if (m === 0) return `${cardinal(h12)} o'clock`;
    if (m === 15) return `a quarter past ${cardinal(h12)}`;
    if (m === 30) return `half past ${cardinal(h12)}`;
    return `a quarter to ${cardinal(next12)}`;
  }
  const base = m === 0 ? `${cardinal(h12)}` : m < 10 ? `${cardinal(h12)} oh ${ONES[m]}` : `${cardinal(h12)} ${under100(m)}`;
  if (style === 2) return `${base} ${h < 12 ? 'a m' : 'p m'}`;
  if (style === 3) return `${base} ${ampm}`;
  return m === 0 ? `${cardinal(h12)} o'clock` : base;
}

export const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October',
  'November', 'December'];
export const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const DAYS_IN = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** A calendar date: month 0..11, day 1..31; style 0 "March third", 1 "the third of March". */
export function date(month: number, day: number, style: 0 | 1): string {
  if (day < 1 || day > DAYS_IN[month]) throw new RangeError(`date: ${MONTHS[month]} has no day ${day}`);
  return style === 0 ? `${MONTHS[month]} ${ordinal(day)}` : `the ${ordinal(day)} of ${MONTHS[month]}`;
}

export function daysIn(month: number): number {
  return DAYS_IN[month];
}

/** Dollars and cents: (42, 50) -> "forty two dollars and fifty cents". */
export function money(dollars: number, cents: number): string {
  const d = dollars === 1 ? 'one dollar' : `${cardinal(dollars)} dollars`;
  if (!cents) return d;
  const c = cents === 1 ? 'one cent' : `${cardinal(cents)} cents`;
  return dollars ? `${d} and ${c}` : c;
}

/** A decimal with one or two places: 3.5 -> "three point five". */
export function decimal(whole: number, frac: string): string {
  return `${cardinal(whole)} point ${digits(frac)}`;
}
