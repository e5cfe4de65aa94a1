#!/usr/bin/env python3
"""Usage: scripts/fmt-store-sql.py crates/nunchi-store/src/sql/*.rs

Makes the store's SQL modules formattable: long SQL string literals are wrapped across
lines (SQL ignores the whitespace), `macro_rules!` impl bodies are run through rustfmt with
their metavariables swapped for placeholder identifiers, and the wrapped literals are then
re-flowed to the column they ended up at."""
import re, subprocess, sys

WIDTH = 100
MARK = '\u2042'  # ⁂, never in our sources
SQL_START = re.compile(r'^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|FROM|WHERE|AND|OR|ORDER|GROUP|LEFT|JOIN|VALUES|ON|SET|RETURNING|UNION|CASE|LIMIT|COALESCE|EXISTS|NOT|INNER|HAVING|CREATE|DROP|ALTER)\b')
KW = ['FROM', 'WHERE', 'LEFT JOIN', 'JOIN', 'ORDER BY', 'GROUP BY', 'VALUES', 'ON CONFLICT', 'RETURNING', 'SET', 'HAVING', 'LIMIT', 'UNION', 'AND', 'DO UPDATE', 'WHEN', 'ELSE']

def lex(code):
    """Spans (start, content_start, content_end, end) of "..." and r#"..."# literals."""
    i, n, out = 0, len(code), []
    while i < n:
        c = code[i]
        if c == '/' and code.startswith('//', i):
            j = code.find('\n', i); i = n if j < 0 else j; continue
        if c == '/' and code.startswith('/*', i):
            j = code.find('*/', i); i = n if j < 0 else j + 2; continue
        m = re.match(r'(b?r)(#*)"', code[i:]) if c in 'rb' and (i == 0 or not (code[i-1].isalnum() or code[i-1] == '_')) else None
        if m:
            hashes = m.group(2)
            cs = i + len(m.group(0))
            ce = code.find('"' + hashes, cs)
            out.append((i, cs, ce, ce + 1 + len(hashes))); i = ce + 1 + len(hashes); continue
        if c == '"':
            j = i + 1
            while code[j] != '"':
                j += 2 if code[j] == '\\' else 1
            out.append((i, i + 1, j, j + 1)); i = j + 1; continue
        if c == "'":
            if code[i+1] == '\\':
                j = code.find("'", i + 3); i = j + 1; continue
            if i + 2 < n and code[i+2] == "'":
                i += 3; continue
            i += 1; continue
        i += 1
    return out

def sql_value(raw):
    """The value of a literal's content when it is plain enough to re-wrap, else None."""
    return re.sub(r'(?<!\\)\\\n\s*', '', raw)

def spaces(sql):
    out, q = [], False
    for i, ch in enumerate(sql):
        if ch == "'":
            q = not q
        elif ch == ' ' and not q:
            out.append(i)
    return out

def pieces(sql, first, rest):
    sp = spaces(sql)
    out, start, room = [], 0, first
    while len(sql) - start > room:
        cands = [s for s in sp if start < s <= start + room]
        if not cands:
            later = [s for s in sp if s > start]
            if not later:
                break
            cut = later[0]
        else:
            kw = [s for s in cands if s - start > room // 3 and any(sql.startswith(k + ' ', s + 1) or sql.startswith(k + '(', s + 1) for k in KW)]
            cut = kw[-1] if kw else cands[-1]
        out.append(sql[start:cut]); start = cut + 1; room = rest
    out.append(sql[start:])
    return out

def prewrap(code, threshold=50):
    out, pos = [], 0
    for s, cs, ce, e in lex(code):
        raw = code[cs:ce]
        if code[s] != '"' or not SQL_START.match(raw) or len(raw) <= threshold:
            continue
        v = sql_value(raw)
        if v is None or '\n' in v:
            continue
        lead = len(v) - len(v.lstrip(' ')); trail = len(v) - len(v.rstrip(' '))
        core = v.strip(' ')
        ps = pieces(core, 30, 30)
        if len(ps) == 1:
            continue
        new = ' ' * lead + ('\n' + MARK).join(ps) + ' ' * trail
        out.append(code[pos:cs]); out.append(new); pos = ce
    out.append(code[pos:])
    return ''.join(out)

def reflow(code):
    out, pos = [], 0
    for s, cs, ce, e in lex(code):
        raw = code[cs:ce]
        if MARK not in raw:
            continue
        line_start = code.rfind('\n', 0, s) + 1
        col = s - line_start
        whole = raw.replace('\n' + MARK, ' ')
        # what follows the literal on its last line: `")`, `",` …
        after = code[e:code.find('\n', e) if code.find('\n', e) >= 0 else len(code)]
        room = WIDTH - (col + 1) - 1 - len(after)
        ps = pieces(whole, room, room)
        ind = ' ' * (col + 1)
        new = ps[0] + ''.join('\n' + ind + p for p in ps[1:])
        # A named constant that needs several lines starts on its own line, indented once,
        # as the hand-written ones do.
        if len(ps) > 1 and re.match(r'\s*(pub\(crate\) )?const \w+: &str =\s*$', code[line_start:s]):
            room = WIDTH - 4 - 1 - len(after)
            new = ''.join('\n    ' + p for p in pieces(whole, room, room))
        out.append(code[pos:cs]); out.append(new); pos = ce
    out.append(code[pos:])
    return ''.join(out)

def rustfmt(code, width):
    p = subprocess.run(['rustfmt', '--edition', '2024', '--config', f'max_width={width},use_field_init_shorthand=true', '--emit', 'stdout', '-q'],
                       input=code, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(p.stderr)
    return p.stdout

def fmt_macros(path, src):
    out, pos = [], 0
    pat = re.compile(r'(macro_rules! \w+ \{\n    \(([^)]*)\) => \{\n)(.*?)(\n    \};\n\})', re.S)
    for m in pat.finditer(src):
        if ':ty' not in m.group(2):
            continue  # a macro that expands to a literal, not an impl
        params = re.findall(r'\$(\w+):', m.group(2))
        body = m.group(3)
        ph = body.replace('$crate', '__mv_crate')
        for p in params:
            ph = re.sub(r'\$' + p + r'\b', '__mv_' + p, ph)
        spans = lex(ph)
        outside, last = [], 0
        for s, cs, ce, e in spans:
            outside.append(ph[last:s]); last = e
        outside.append(ph[last:])
        if '$' in ''.join(outside):
            print(f'{path}: {m.group(0)[:40]!r}: $ outside strings, not formatted', file=sys.stderr)
            continue
        code = '\n'.join(l[8:] if l.startswith('        ') else l.lstrip(' ') if not l.startswith(MARK) else l for l in ph.split('\n'))
        try:
            fmt = rustfmt(code + '\n', WIDTH - 8)
        except RuntimeError as e:
            print(f'{path}: {m.group(0)[:40]!r}: rustfmt: {str(e)[:200]}', file=sys.stderr)
            continue
        fmt = fmt.rstrip('\n').replace('__mv_crate', '$crate')
        for p in params:
            fmt = re.sub(r'\b__mv_' + p + r'\b', '$' + p, fmt)
        fmt = '\n'.join(('        ' + l) if l and not l.startswith(MARK) else l for l in fmt.split('\n'))
        out.append(src[pos:m.start()]); out.append(m.group(1) + fmt + m.group(4)); pos = m.end()
    out.append(src[pos:])
    return ''.join(out)

for path in sys.argv[1:]:
    src = open(path).read()
    src = prewrap(src)
    src = fmt_macros(path, src)
    # the code outside macros: rustfmt the whole file (it leaves macro bodies alone)
    src = rustfmt(src, WIDTH)
    src = reflow(src)
    src = rustfmt(src, WIDTH)
    open(path, 'w').write(src)
