#!/usr/bin/env python3
"""Make data/austen-sentences.txt from Debian's r-cran-janeaustenr package (see data/README.md).

    apt-get download r-cran-janeaustenr && dpkg -x r-cran-janeaustenr_*.deb pkg
    python3 data/tools/austen-sentences.py pkg/usr/lib/R/site-library/janeaustenr/data/Rdata.rdb > data/austen-sentences.txt

The .rdb file is R's lazy-load database: one zlib block per novel (4-byte big-endian length, then the stream),
each an R serialisation (XDR) of a character vector, one element per line of the Project Gutenberg text.
"""
import re, struct, sys, zlib

def blocks(data):
    pos = 0
    while pos < len(data):
        d = zlib.decompressobj()
        out = d.decompress(data[pos + 4:])
        pos += 4 + (len(data) - pos - 4 - len(d.unused_data))
        yield out

def strings(b):
    """CHARSXP elements of a serialised character vector, in order."""
    assert b[:2] == b'X\n'
    i = 18 + struct.unpack('>i', b[14:18])[0] if struct.unpack('>i', b[2:6])[0] == 3 else 14
    out = []
    while i < len(b) - 8:
        flags = struct.unpack('>I', b[i:i + 4])[0]
        if flags & 0xff == 9:
            n = struct.unpack('>i', b[i + 4:i + 8])[0]
            if n == -1:
                out.append(''); i += 8; continue
            if 0 <= n < 100000:
                out.append(b[i + 8:i + 8 + n].decode('utf-8')); i += 8 + n; continue
        i += 4
    return out

TITLES = {'Mr.': 'Mister', 'Mrs.': 'Missus', 'Dr.': 'Doctor', 'St.': 'Saint', 'Esq.': 'Esquire'}
OK = re.compile(r"^[A-Za-z' ,.?!-]+$")

def sentences(lines):
    paras, cur = [], []
    for ln in lines + ['']:
        if ln.strip(): cur.append(ln.strip())
        elif cur: paras.append(' '.join(cur)); cur = []
    for p in paras:
        if re.match(r'^(CHAPTER|Chapter|VOLUME|Volume)\b', p) or p.isupper(): continue
        for k, v in TITLES.items(): p = p.replace(k, v)
        p = p.replace('_', '').replace('"', ' ').replace('\u201c', ' ').replace('\u201d', ' ')
        p = p.replace('\u2019', "'").replace('\u2018', "'").replace('--', '; ')
        for piece in re.split(r'(?<=[.?!;:])\s+', p):
            s = re.sub(r'[;:,]\s*$', '.', piece.strip()).strip(" '")
            s = re.sub(r'\s+', ' ', s)
            if not s or not OK.match(s): continue
            words = s.split()
            if 3 <= len(words) <= 14 and s[0].isupper(): yield s if s[-1] in '.?!' else s + '.'

data = open(sys.argv[1], 'rb').read()
seen, keep = set(), []
for b in blocks(data):
    for s in sentences(strings(b)):
        key = re.sub(r"[^a-z' ]", '', s.lower())
        if key not in seen:
            seen.add(key); keep.append(s)
print(f'{len(keep)} distinct sentences; keeping every 2nd', file=sys.stderr)
sys.stdout.write(''.join(s + '\n' for s in keep[::2]))
