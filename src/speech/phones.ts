// The phone inventory used for alignments and phone purity: 40 phones plus silence (41 labels), i.e. the usual
// TIMIT 61 -> 39 folding (Lee & Hon, 1989) except that /ao/ and /zh/ are kept apart from /aa/ and /sh/, as the
// paper's 41-label set does. `foldTo39` applies the two remaining merges for the standard 39-class scoring.
//
// TIMIT 61 -> inventory (everything not listed maps to itself):
//   ax, ax-h -> ah    axr -> er    ix -> ih    ux -> uw    hv -> hh
//   el -> l    em -> m    en -> n    nx -> n    eng -> ng
//   bcl dcl gcl pcl tcl kcl (stop closures), pau, epi, h# -> sil
//   q (glottal stop) -> removed: its interval is merged into the preceding phone (the following one at the start)
//
// espeak-ng phoneme events (IPA mnemonics, e.g. "ˈeɪ") -> inventory: stress marks (ˈ ˌ), length (ː ˑ) and
// combining diacritics are stripped, then the table ESPEAK below is looked up; an unlisted string is split into
// the longest listed pieces (e.g. "ɑːɹ" -> aa r), and a multi-phone symbol shares its interval equally.
// Empty phoneme events (espeak's pauses) are silence. Vowel mapping follows the American reference: schwa ə, ɐ
// -> ah; ᵻ, ɨ -> ih; ɒ (British LOT) -> aa; centring diphthongs ɪə eə ʊə -> vowel + ah; ʔ -> merged like TIMIT q.
//
// ARPAbet (flite's CMU lexicon phones, as printed by `flite -psdur`): stress digits are stripped; pau -> sil;
// ax -> ah, axr -> er and the other TIMIT folds above; the rest are inventory phones already.

export const PHONES: readonly string[] = [
  'sil',
  'aa', 'ae', 'ah', 'ao', 'aw', 'ay', 'b', 'ch', 'd', 'dh', 'dx', 'eh', 'er', 'ey', 'f', 'g', 'hh', 'ih', 'iy',
  'jh', 'k', 'l', 'm', 'n', 'ng', 'ow', 'oy', 'p', 'r', 's', 'sh', 't', 'th', 'uh', 'uw', 'v', 'w', 'y', 'z', 'zh',
];
export const SIL = 'sil';
export const PHONE_COUNT = PHONES.length; // 41
const PHONE_INDEX = new Map(PHONES.map((p, i) => [p, i]));

export function phoneIndex(p: string): number {
  const i = PHONE_INDEX.get(p);
  if (i === undefined) throw new Error(`phoneIndex: "${p}" is not in the phone inventory`);
  return i;
}

export function isPhone(p: string): boolean {
  return PHONE_INDEX.has(p);
}

/** The standard 39-class folding for scoring (ao -> aa, zh -> sh). */
export function foldTo39(p: string): string {
  return p === 'ao' ? 'aa' : p === 'zh' ? 'sh' : p;
}

const TIMIT_FOLD: Record<string, string | null> = {
  ax: 'ah', 'ax-h': 'ah', axr: 'er', ix: 'ih', ux: 'uw', hv: 'hh',
  el: 'l', em: 'm', en: 'n', nx: 'n', eng: 'ng',
  bcl: 'sil', dcl: 'sil', gcl: 'sil', pcl: 'sil', tcl: 'sil', kcl: 'sil', pau: 'sil', epi: 'sil', 'h#': 'sil',
  q: null,
};

/** TIMIT label -> inventory phone; null for q (merge into the neighbour); undefined for an unknown label. */
export function fromTimit(label: string): string | null | undefined {
  const l = label.toLowerCase();
  if (l in TIMIT_FOLD) return TIMIT_FOLD[l];
  return PHONE_INDEX.has(l) ? l : undefined;
}

/** espeak-ng IPA phoneme names (stress/length stripped) -> inventory phones. [] = merge into the neighbour. */
const ESPEAK: Record<string, string[]> = {
  // vowels
  i: ['iy'], 'ɪ': ['ih'], 'ᵻ': ['ih'], 'ɨ': ['ih'], e: ['eh'], 'ɛ': ['eh'], 'æ': ['ae'], a: ['ae'], 'ʌ': ['ah'],
  'ə': ['ah'], 'ɐ': ['ah'], 'ɑ': ['aa'], 'ɒ': ['aa'], 'ɔ': ['ao'], o: ['ow'], 'ʊ': ['uh'], u: ['uw'], 'ʉ': ['uw'],
  'ɜ': ['er'], 'ɚ': ['er'], 'ɝ': ['er'], 'ɵ': ['ow'], 'ø': ['er'],
  'eɪ': ['ey'], 'aɪ': ['ay'], 'ɑɪ': ['ay'], 'ʌɪ': ['ay'], 'ɔɪ': ['oy'], 'oɪ': ['oy'], 'aʊ': ['aw'], 'ʌʊ': ['aw'],
  'oʊ': ['ow'], 'əʊ': ['ow'], 'ɔʊ': ['ow'], 'ɛɪ': ['ey'], 'æɪ': ['ay'], 'ɐʊ': ['aw'],
  'ɪə': ['ih', 'ah'], 'iə': ['iy', 'ah'], 'eə': ['eh', 'ah'], 'ɛə': ['eh', 'ah'], 'ʊə': ['uh', 'ah'],
  'əl': ['ah', 'l'],
  // consonants
  p: ['p'], b: ['b'], t: ['t'], d: ['d'], k: ['k'], g: ['g'], 'ɡ': ['g'], f: ['f'], v: ['v'], 'θ': ['th'],
  'ð': ['dh'], s: ['s'], z: ['z'], 'ʃ': ['sh'], 'ʒ': ['zh'], h: ['hh'], 'ɦ': ['hh'], x: ['hh'], 'ç': ['hh'],
  m: ['m'], n: ['n'], 'ŋ': ['ng'], l: ['l'], 'ɫ': ['l'], 'ɬ': ['l'], 'ɹ': ['r'], r: ['r'], 'ɾ': ['dx'],
  w: ['w'], 'ʍ': ['w'], j: ['y'], 'tʃ': ['ch'], 'dʒ': ['jh'], 'ʧ': ['ch'], 'ʤ': ['jh'], 'ʔ': [],
};

const STRIP = /[ˈˌːˑ:ʲ\u0300-\u036f'",%=_#^]/g;

/**
 * Map one espeak-ng phoneme event name to inventory phones. Returns null for a name that cannot be mapped
 * (the caller counts these; the corpus builder labels them as the neighbouring phone).
 */
export function fromEspeak(name: string): string[] | null {
  const s = name.replace(STRIP, '');
  if (s === '') return [SIL];
  const direct = ESPEAK[s];
  if (direct) return direct;
  // Greedy longest-prefix split, e.g. "ɑɹ" -> aa r, "aɪɚ" -> ay er.
  const out: string[] = [];
  let i = 0;
  const chars = [...s];
  while (i < chars.length) {
    let found = false;
    for (let len = Math.min(3, chars.length - i); len >= 1; len--) {
      const piece = ESPEAK[chars.slice(i, i + len).join('')];
      if (piece) {
        out.push(...piece);
        i += len;
        found = true;
        break;
      }
    }
    if (!found) return null;
  }
  return out;
}

/** A phone interval [phone, start_s, end_s] as stored in manifests. */
export type PhoneInterval = [string, number, number];

/** ARPAbet phone (flite, CMUdict; stress digits allowed) -> inventory phones; null when unknown. */
export function fromArpabet(name: string): string[] | null {
  const l = name.toLowerCase().replace(/[0-2]$/, '');
  if (l === 'pau' || l === 'sil' || l === 'h#') return [SIL];
  const t = fromTimit(l);
  if (t === null) return [];
  return t === undefined ? null : [t];
}
