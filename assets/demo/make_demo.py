#!/usr/bin/python3
"""Generate synthetic scanned, handwritten exam pages for the GradeDesk demo.

Usage:
    /usr/bin/python3 assets/demo/make_demo.py --out DIR [--students N] [--seed S]
                                              [--dpi 300] [--format jpg|png]

Writes DIR/student-01.jpg ... (one A4 page per student) and DIR/layout.json:
    [{"file": "student-01.jpg", "student": "Emma Schmidt",
      "boxes": {"Q1": [x, y, w, h], ...}}, ...]
with every box given as fractions of the page width/height (origin top-left),
enclosing the ruled answer area of that question on the final (rotated) scan.

With --class, also writes DIR/blank.png (the exam as printed, nobody's writing on it: the
template), DIR/class.pdf (every student's scan, one page each, in order: what a scanner
makes of the whole class) and DIR/template.json:
    {"blank": "blank.png", "class": "class.pdf", "students": [...names in order],
     "regions": {"Q1": [x, y, w, h], ..., "name": [x, y, w, h]}}
with the regions as fractions of the blank page.

Only needs Debian's python3-pil plus the fonts from fonts-dejavu-core,
fonts-humor-sans and/or fonts-breip (any handwriting font that is missing is
skipped; with none at all, DejaVu Sans Oblique stands in). Output is fully
deterministic for a given --seed (no C-level RNG is used).
"""

import argparse
import glob
import json
import math
import os
import random
import sys
import time
import unicodedata

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

HERE = os.path.dirname(os.path.abspath(__file__))

# --------------------------------------------------------------------------- fonts

PRINT_FONTS = {
    "serif": ["/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"],
    "serif_bold": ["/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf"],
    "sans": ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"],
    "sans_bold": ["/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"],
    "sans_oblique": ["/usr/share/fonts/truetype/dejavu/DejaVuSans-Oblique.ttf"],
}
HAND_FONTS = [
    "/usr/share/fonts/truetype/humor-sans/Humor-Sans.ttf",
    "/usr/share/fonts/truetype/breip/Breip.ttf",
    "/usr/share/fonts/truetype/breip/breipfont.ttf",
]


def find_font(candidates, pattern=None):
    for p in candidates:
        if os.path.exists(p):
            return p
    if pattern:
        hits = sorted(glob.glob("/usr/share/fonts/**/" + pattern, recursive=True))
        if hits:
            return hits[0]
    return None


def print_font_path(kind):
    p = find_font(PRINT_FONTS[kind], os.path.basename(PRINT_FONTS[kind][0]))
    if p is None:
        p = find_font([], "DejaVu*.ttf")
    if p is None:
        sys.exit("make_demo: no DejaVu font found (apt install fonts-dejavu-core)")
    return p


def hand_font_paths():
    """Available handwriting fonts, one per family (breip ships two copies)."""
    found, families = [], set()
    for p in HAND_FONTS + sorted(glob.glob("/usr/share/fonts/**/[Bb]reip*.ttf", recursive=True)):
        if not os.path.exists(p) or p in found:
            continue
        try:
            fam = ImageFont.truetype(p, 20).getname()[0]
        except OSError:
            continue
        if fam in families:
            continue
        families.add(fam)
        found.append(p)
    return found


class FontCache:
    def __init__(self):
        self._c = {}

    def get(self, path, size):
        key = (path, int(size))
        f = self._c.get(key)
        if f is None:
            f = self._c[key] = ImageFont.truetype(path, max(6, int(size)))
        return f


FONTS = FontCache()
_NOTDEF = {}


def has_glyph(path, ch):
    """True if the font has a real glyph for ch (compares against .notdef)."""
    key = (path, ch)
    if key in _NOTDEF:
        return _NOTDEF[key]
    f = FONTS.get(path, 60)
    nd = _NOTDEF.get((path, None))
    if nd is None:
        nd = _NOTDEF[(path, None)] = bytes(f.getmask("\U0010FFFD"))
    ok = ch.isspace() or bytes(f.getmask(ch)) != nd
    _NOTDEF[key] = ok
    return ok


# --------------------------------------------------------------------------- exam content

SCHOOL = "Riverside Secondary School"
EXAM_TITLE = "Year 10 Mid-Term Exam: Mathematics & Science"
EXAM_INFO = "Time allowed: 40 minutes  ·  Calculators allowed  ·  Answer in the boxes"

FIRST = ["Emma", "Lukas", "Sofia", "Noah", "Mia", "Jonas", "Hannah", "Elias",
         "Lea", "Ben", "Clara", "Finn", "Amira", "David", "Zoe", "Milan"]
LAST = ["Schmidt", "Becker", "Novak", "Okafor", "Weber", "Lindqvist", "Rossi",
        "Hoffmann", "Kaya", "Fischer", "Moreau", "Jensen", "Costa", "Wagner"]

# Handwritten answers.  Markup: ^x / _x  superscript / subscript of one char
# (^{..} / _{..} for several), ~word~  crossed out, [[word]]  an optional
# false start that is crossed out on some pages.  Quality: 2 = correct,
# 1 = partially correct, 0 = wrong.
ANSWERS = {
    "Q1": [
        (2, ["3x + 7 = 22", "3x = 22 - 7 = [[29]] 15", "x = 15 / 3 = 5"]),
        (2, ["3x = 22 - 7", "3x = 15  ->  x = [[3]] 5"]),
        (1, ["3x = 22 + 7 = 29", "x = 29 / 3 = [[9.6]] 9.67"]),
        (1, ["3x = 15", "x = 15 - 3 = 12"]),
        (0, ["x + 7 = 22 / 3", "x = [[13]] 0.33"]),
    ],
    "Q2": [
        (2, ["A = π r^2 = 3.14 x 4^2 = 3.14 x 16", "A = 50.24 cm^2",
             "C = 2 π r = 2 x 3.14 x 4 = 25.12 cm"]),
        (2, ["Area = π x 16 = [[50.2]] 50.24 cm^2", "Circumference = 2 x π x 4 = 25.12 cm"]),
        (1, ["A = π x 4 x 2 = 25.12 cm^2", "C = 2 π r = 25.12 cm"]),
        (1, ["A = 3.14 x 16 = 50.24", "C = [[2x]] 3.14 x 4 = 12.56"]),
        (0, ["A = 2 π r = 25.12", "C = π r^2 = 50.24 cm"]),
    ],
    "Q3": [
        (2, ["(a) a = (20 - 0) / 5 = 4 m/s^2", "(b) s = 1/2 a t^2 = 0.5 x 4 x [[5]] 25",
             "     s = 50 m"]),
        (2, ["(a) a = v / t = 20 / 5 = 4 m/s^2", "(b) average speed = 10 m/s",
             "     s = 10 x 5 = 50 m"]),
        (1, ["(a) a = 20 / 5 = 4 m/s^2", "(b) s = v x t = 20 x 5 = [[10]] 100 m"]),
        (1, ["(a) a = 20 / 5 = 4", "(b) s = 1/2 x 4 x 5 = 10 m"]),
        (0, ["(a) a = 20 x 5 = 100 m/s", "(b) s = [[20]] 100 m"]),
    ],
    "Q4": [
        (2, ["It takes place in the [[mitochondria]] chloroplasts.",
             "Chlorophyll absorbs sunlight, which gives the",
             "energy. Carbon dioxide + water -> glucose + oxygen",
             ">>6CO_2 + 6H_2O -> C_6H_{12}O_6 + 6O_2"]),
        (2, ["In the chloroplasts (they contain chlorophyll).",
             "Reactants: CO_2 and water. Products: glucose",
             "(sugar) and O_2. The energy comes from light."]),
        (1, ["In the chloroplasts. The plant takes in oxygen",
             "and water and makes glucose and [[water]] carbon",
             "dioxide using light energy."]),
        (1, ["Plants make their food from sunlight in the",
             "leaves. They need water and CO_2 and they",
             "give off oxygen."]),
        (0, ["Photosynthesis is when plants breathe. They",
             "take in [[water]] oxygen at night and give off",
             "carbon dioxide through the roots."]),
    ],
}

# answers written as running text: a line that does not fit continues on the
# next one (a line starting with ">>" always starts a new line)
PROSE = {"Q4"}

# height of each ruled answer box, in ruled lines
BOX_LINES = {"Q1": 4, "Q2": 4, "Q3": 4, "Q4": 5}

INKS = [(22, 42, 128), (18, 26, 88), (34, 34, 40), (40, 60, 150)]

# --------------------------------------------------------------------------- handwriting


def parse_word(word):
    """-> (glyphs, struck): glyphs = [(char, 'n'|'sup'|'sub')]."""
    struck = len(word) > 2 and word.startswith("~") and word.endswith("~")
    if struck:
        word = word[1:-1]
    out, i = [], 0
    while i < len(word):
        c = word[i]
        if c in "^_" and i + 1 < len(word):
            kind = "sup" if c == "^" else "sub"
            if word[i + 1] == "{" and "}" in word[i + 2:]:
                j = word.index("}", i + 2)
                out += [(ch, kind) for ch in word[i + 2:j]]
                i = j + 1
            else:
                out.append((word[i + 1], kind))
                i += 2
            continue
        out.append((c, "n"))
        i += 1
    return out, struck


class Hand:
    """One student's handwriting style."""

    def __init__(self, rng, font_path, scale):
        self.rng = rng
        self.font = font_path
        # normalise sizes on the height of capitals/digits (~5 mm, ~60 px at 300 dpi)
        probe = FONTS.get(font_path, 100)
        bb = probe.getbbox("H48")
        cap = max(1, bb[3] - bb[1])
        bb = probe.getbbox("xvnoa")
        xh = max(1, bb[3] - bb[1])
        self.size = 100 * rng.uniform(54, 62) * scale / cap
        # some fonts (Breip) have tiny lower case next to big digits: even it out
        ratio = xh / float(cap)
        self.lower_boost = (0.6 / ratio) ** 0.6 if ratio < 0.55 else 1.0
        # Breip's zero is an open 'C'-like curve that reads as a letter; draw
        # a closed hand-drawn oval for it instead
        self.own_zero = "breip" in probe.getname()[0].lower()
        sw100 = self._stroke_width(probe)
        self.bold = sw100 < 9 and rng.random() < 0.5  # thicker pen for thin fonts
        self.stroke = max(2, int(round(sw100 * 0.8 * self.size / 100.0)))
        self.slant = rng.uniform(-0.04, 0.24)        # shear, + = leaning right
        self.size_jit = rng.uniform(0.03, 0.07)
        self.base_jit = rng.uniform(0.02, 0.05)       # per glyph, in em
        self.track = rng.uniform(-0.02, 0.06)         # extra letter spacing, in em
        self.word_gap = rng.uniform(0.30, 0.45)       # in em
        self.line_slope = rng.uniform(-0.008, 0.010)  # radians-ish
        self.bold = None  # decided below, once the font's pen width is known
        self.scale = scale
        self.fallback = print_font_path("sans_oblique")

    @staticmethod
    def _stroke_width(font100):
        """Typical pen width of a font at size 100 (horizontal run through 'l')."""
        m = font100.getmask("l")
        w, h = m.size
        if w == 0 or h == 0:
            return 6.0
        row = [m.getpixel((x, h // 2)) for x in range(w)]
        return float(max(3, sum(1 for v in row if v > 100)))

    def _zero(self, d, x, y, s, f):
        """Closed hand-drawn oval standing on baseline y; returns the advance."""
        rng = self.rng
        adv = f.getlength("0")
        bb = f.getbbox("8", anchor="ls")
        hgt = (bb[3] - bb[1]) * rng.uniform(0.93, 1.0)
        rx, ry = adv * rng.uniform(0.30, 0.36), hgt / 2.0
        cx, cy = x + adv * 0.5, y + (bb[1] + bb[3]) / 2.0
        start = rng.uniform(-1.9, -1.2)
        pts = []
        steps = 28
        for i in range(steps + 3):
            t = start + 2 * math.pi * i / steps
            wob = 1 + 0.04 * math.sin(3 * t + start)
            pts.append((cx + rx * wob * math.cos(t), cy + ry * wob * math.sin(t)))
        d.line(pts, fill=255, width=self.stroke, joint="curve")
        return adv

    def _glyph_font(self, ch, size):
        path = self.font if has_glyph(self.font, ch) else self.fallback
        if path == self.fallback:
            size *= 0.82
        return FONTS.get(path, size)

    def render_word(self, word):
        """-> (L image, baseline y inside the image, advance width)."""
        rng = self.rng
        glyphs, struck = parse_word(word)
        em = self.size
        pad = int(em * 0.6)
        w = int(em * 0.9 * (len(glyphs) + 1)) + 2 * pad
        h = int(em * 2.0)
        base = int(em * 1.3)
        img = Image.new("L", (w, h), 0)
        d = ImageDraw.Draw(img)
        x = float(pad)
        for ch, kind in glyphs:
            s = em * (1 + rng.uniform(-self.size_jit, self.size_jit))
            y = base + rng.uniform(-self.base_jit, self.base_jit) * em
            if kind == "sup":
                s *= 0.62
                y -= em * 0.38
            elif kind == "sub":
                s *= 0.62
                y += em * 0.14
            if ch.islower():
                s *= self.lower_boost
            f = self._glyph_font(ch, s)
            if ch == "0" and self.own_zero:
                x += self._zero(d, x, y, s, f) + em * (self.track + rng.uniform(-0.02, 0.02))
                continue
            d.text((x, y), ch, font=f, fill=255, anchor="ls")
            x += f.getlength(ch) + em * (self.track + rng.uniform(-0.02, 0.02))
        adv = x - pad
        if self.bold:
            img = img.filter(ImageFilter.MaxFilter(3))
        # slant: shear around the baseline
        k = self.slant + rng.uniform(-0.03, 0.03)
        extra = int(abs(k) * h) + 2
        img = img.crop((0, 0, w + extra, h))
        img = img.transform(img.size, Image.AFFINE, (1, k, -k * base, 0, 1, 0),
                            resample=Image.BILINEAR)
        if struck:
            self._strike(img, pad, adv, base, em)
        # pen pressure
        op = rng.uniform(0.80, 1.0)
        img = img.point(lambda v, op=op: int(v * op))
        return img, pad, base, adv

    def _strike(self, img, x0, adv, base, em):
        rng = self.rng
        d = ImageDraw.Draw(img)
        lw = self.stroke
        mid = base - em * 0.32
        if rng.random() < 0.6:
            n = rng.choice([1, 2, 2])
            for i in range(n):
                yy = mid + (i - (n - 1) / 2) * em * 0.16
                d.line([(x0 - em * 0.1, yy + rng.uniform(-4, 4) * self.scale),
                        (x0 + adv + em * 0.1, yy + rng.uniform(-6, 6) * self.scale)],
                       fill=255, width=lw)
        else:  # scribble
            x_a, x_b = x0 - em * 0.05, x0 + adv + em * 0.05
            n = max(7, int((x_b - x_a) / (self.stroke * 1.4)))
            pts = []
            for i in range(n + 1):
                xx = x_a + (x_b - x_a) * (i + rng.uniform(-0.2, 0.2)) / n
                sign = -1 if i % 2 == 0 else 1
                pts.append((xx, mid - em * 0.05 + sign * em * rng.uniform(0.26, 0.4)))
            if len(pts) > 1:
                d.line(pts, fill=255, width=max(2, int(lw * 0.8)), joint="curve")

    def write_line(self, ink, text, x, baseline, max_x):
        """Write one line of words starting at (x, baseline); returns words that
        did not fit (to be wrapped onto the next line)."""
        rng = self.rng
        words = text.split(" ")
        cur = x + rng.uniform(-6, 10) * self.scale
        slope = self.line_slope + rng.uniform(-0.004, 0.004)
        em = self.size
        for idx, word in enumerate(words):
            if word == "":
                cur += em * self.word_gap
                continue
            img, pad, base, adv = self.render_word(word)
            if cur + adv > max_x and cur > x + em:
                return [w for w in words[idx:]]
            by = baseline + (cur - x) * slope + rng.uniform(-3, 3) * self.scale
            px, py = int(cur - pad), int(by - base)
            region = (px, py, px + img.width, py + img.height)
            ink.paste(ImageChops.lighter(ink.crop(region), img), region[:2])
            cur += adv + em * (self.word_gap + rng.uniform(-0.08, 0.1))
        return []


def expand_optional(lines, rng, force):
    """[[w]] -> '~w~ ' (crossed-out false start) or dropped."""
    out, used = [], False
    for line in lines:
        parts = line.split("[[")
        s = parts[0]
        for p in parts[1:]:
            word, rest = p.split("]]", 1)
            if force or rng.random() < 0.45:
                s += "~" + word.replace(" ", "") + "~" + rest
                used = True
            else:
                s += rest.lstrip(" ")
        out.append(s)
    return out, used


# --------------------------------------------------------------------------- printed page


def wrap_text(draw, text, font, width):
    lines, cur = [], ""
    for w in text.split():
        t = (cur + " " + w).strip()
        if draw.textlength(t, font=font) <= width or not cur:
            cur = t
        else:
            lines.append(cur)
            cur = w
    if cur:
        lines.append(cur)
    return lines


def draw_student_code(d, box, number, fill):
    """The fake model's stand-in for reading a name: NUMBER as a row of printed cells in
    the top-right corner of the name box (see src-tauri/fake-gemini/src/names.rs: 12 cells
    across x 0.70..0.98 and y 0.05..0.25 of the box, dark guards first and last, then 10
    bits, most significant first)."""
    x, y, w, h = box
    cells = [True] + [bool(number >> (9 - b) & 1) for b in range(10)] + [True]
    cw = (0.98 - 0.70) * w / len(cells)
    for k, on in enumerate(cells):
        if on:
            x0 = x + 0.70 * w + k * cw
            d.rectangle([int(x0), int(y + 0.05 * h), int(x0 + cw) - 1, int(y + 0.25 * h)], fill=fill)


def render_page(questions, student, qsel, rng, scale, hand_fonts, font_idx, blank=False,
                code=None):
    S = lambda v: int(round(v * scale))  # noqa: E731  (px at 300 dpi -> px at dpi)
    W, H = S(2480), S(3508)
    paper = tuple(int(c + rng.uniform(-2, 2)) for c in (249, 247, 241))
    page = Image.new("RGB", (W, H), paper)
    ink = Image.new("L", (W, H), 0)
    d = ImageDraw.Draw(page)
    black = (24, 24, 24)
    f_title = FONTS.get(print_font_path("serif_bold"), S(62))
    f_sub = FONTS.get(print_font_path("serif"), S(44))
    f_small = FONTS.get(print_font_path("sans"), S(34))
    f_q = FONTS.get(print_font_path("serif"), S(46))
    f_qb = FONTS.get(print_font_path("serif_bold"), S(46))
    f_pts = FONTS.get(print_font_path("sans"), S(36))

    hand = Hand(rng, hand_fonts[font_idx % len(hand_fonts)] if hand_fonts
                else print_font_path("sans_oblique"), scale)
    ink_color = rng.choice(INKS)

    L, R = S(200), W - S(200)
    y = S(190)
    # ---- header
    d.text((W // 2, y), SCHOOL, font=f_title, fill=black, anchor="mt")
    y += S(92)
    d.text((W // 2, y), EXAM_TITLE, font=f_sub, fill=black, anchor="mt")
    y += S(70)
    d.text((W // 2, y), EXAM_INFO, font=f_small, fill=(60, 60, 60), anchor="mt")
    y += S(110)
    # Name / Class / Date fields
    base_y = y + S(60)
    d.text((L, base_y), "Name:", font=f_sub, fill=black, anchor="ls")
    nx = L + int(d.textlength("Name:", font=f_sub)) + S(20)
    d.line([(nx, base_y + S(8)), (L + S(1020), base_y + S(8))], fill=(70, 70, 70), width=S(3))
    cx = L + S(1090)
    d.text((cx, base_y), "Class:", font=f_sub, fill=black, anchor="ls")
    cx2 = cx + int(d.textlength("Class:", font=f_sub)) + S(20)
    d.line([(cx2, base_y + S(8)), (cx2 + S(230), base_y + S(8))], fill=(70, 70, 70), width=S(3))
    dx = cx2 + S(280)
    d.text((dx, base_y), "Date:", font=f_sub, fill=black, anchor="ls")
    dx2 = dx + int(d.textlength("Date:", font=f_sub)) + S(20)
    d.line([(dx2, base_y + S(8)), (R, base_y + S(8))], fill=(70, 70, 70), width=S(3))
    name_box = (nx, base_y - S(80), L + S(1020) - nx, S(100))
    if code is not None:
        draw_student_code(d, name_box, code, black)
    if not blank:
        # The name stays left of the code's corner.
        name_end = L + S(1020) if code is None else nx + int(0.68 * name_box[2])
        hand.write_line(ink, student, nx + S(30), base_y - S(4), name_end)
        hand.write_line(ink, "10" + rng.choice("ABC"), cx2 + S(40), base_y - S(4), cx2 + S(230))
        hand.write_line(ink, rng.choice(["12/03", "12.3.", "12/3/25", "12.03."]), dx2 + S(20), base_y - S(4), R)
    y = base_y + S(60)
    total = sum(q["max_points"] for q in questions)
    d.line([(L, y), (R, y)], fill=(40, 40, 40), width=S(4))
    y += S(18)
    d.text((R, y), "Total:  ______ / %g" % total, font=f_pts, fill=black, anchor="rt")
    y += S(80)

    # ---- questions: fit the ruled boxes into the space that is left
    prompt_gap, box_gap, bottom = S(62), S(70), H - S(240)
    wrapped = []
    for q in questions:
        hw = int(d.textlength(q["label"] + ".  ", font=f_qb))
        pts = "(%g %s)" % (q["max_points"], "point" if q["max_points"] == 1 else "points")
        pw = int(d.textlength(pts, font=f_pts))
        wrapped.append((hw, pts, wrap_text(d, q["prompt"], f_q, R - L - hw - pw - S(40))))
    fixed = sum(len(w[2]) * prompt_gap + S(22) + S(30) + box_gap for w in wrapped) - box_gap
    total_lines = sum(BOX_LINES.get(q["label"], 4) for q in questions)
    rule = int(min(S(110), max(S(70), (bottom - y - fixed) / float(total_lines))))
    boxes = {}
    for q, (hw, pts, lines) in zip(questions, wrapped):
        label = q["label"]
        head = label + ".  "
        d.text((L, y), head, font=f_qb, fill=black, anchor="lt")
        d.text((R, y + S(6)), pts, font=f_pts, fill=(50, 50, 50), anchor="rt")
        for ln in lines:
            d.text((L + hw, y), ln, font=f_q, fill=black, anchor="lt")
            y += prompt_gap
        y += S(22)
        nlines = BOX_LINES.get(label, 4)
        bx0, by0, bx1 = L, y, R
        by1 = y + rule * nlines + S(30)
        d.rectangle([bx0, by0, bx1, by1], outline=(80, 80, 80), width=S(3))
        # teacher's score field in the top-right corner of the box
        sw = S(250)
        d.rectangle([bx1 - sw, by0, bx1, by0 + S(76)], outline=(80, 80, 80), width=S(2))
        d.text((bx1 - S(16), by0 + S(40)), "/ %g" % q["max_points"], font=f_pts,
               fill=(70, 70, 70), anchor="rm")
        for i in range(1, nlines + 1):
            ry = by0 + S(20) + rule * i
            if ry < by1 - S(12):
                d.line([(bx0 + S(20), ry), (bx1 - S(20), ry)], fill=(178, 190, 214), width=S(2))
        boxes[label] = (bx0, by0, bx1 - bx0, by1 - by0)
        # handwriting
        text_lines = [] if blank else list(qsel[label])
        li = 0
        while text_lines and li < nlines:
            line = text_lines.pop(0)
            if line.startswith(">>"):
                line = line[2:]
            baseline = by0 + S(20) + rule * (li + 1) - S(10)
            max_x = bx1 - (sw + S(30) if li == 0 else S(40))
            rest = hand.write_line(ink, line, bx0 + S(40), baseline, max_x)
            if rest:
                rest = " ".join(rest)
                if label in PROSE and text_lines and not text_lines[0].startswith(">>"):
                    text_lines[0] = rest + " " + text_lines[0]
                else:
                    text_lines.insert(0, rest)
            li += 1
        y = by1 + box_gap

    d.text((W // 2, H - S(150)), "Page 1 of 1", font=f_small, fill=(70, 70, 70), anchor="mb")
    # ink onto paper
    page = Image.composite(Image.new("RGB", (W, H), ink_color), page, ink)
    if blank:
        boxes["name"] = name_box
    return page, boxes


# --------------------------------------------------------------------------- scanner


def noise_image(rng, size, amp):
    """Triangular ('gaussian-ish') noise around 128 with +/- amp, from a seeded RNG."""
    w, h = size
    a = Image.frombytes("L", size, rng.randbytes(w * h))
    b = Image.frombytes("L", size, rng.randbytes(w * h))
    n = ImageChops.add(a, b, scale=2.0)  # mean 127.5, triangular on 0..255
    return n.point(lambda v: max(0, min(255, int(round(128 + (v - 128) * amp / 128.0)))))


def scan(page, rng, scale):
    W, H = page.size
    # blotchy paper tone
    tex = noise_image(rng, (max(2, W // 60), max(2, H // 60)), 40).resize((W, H), Image.BICUBIC)
    tex = tex.point(lambda v: int(128 + (v - 128) * 0.12))
    page = ImageChops.add(page, Image.merge("RGB", (tex, tex, tex)), 1.0, -128)
    # scanner optics: slight blur
    page = page.filter(ImageFilter.GaussianBlur(0.55 * scale + 0.15))
    # a few dust specks
    d = ImageDraw.Draw(page)
    for _ in range(rng.randint(6, 18)):
        x, y = rng.uniform(0, W), rng.uniform(0, H)
        r = rng.uniform(1, 3.2) * scale
        g = rng.randint(90, 170)
        d.ellipse([x - r, y - r, x + r, y + r], fill=(g, g, g))
    # skew
    angle = rng.choice([-1, 1]) * rng.uniform(0.3, 1.2)
    tx, ty = rng.uniform(-14, 14) * scale, rng.uniform(-10, 10) * scale
    bed = (236, 236, 233)
    page = page.rotate(angle, resample=Image.BICUBIC, translate=(tx, ty), fillcolor=bed)
    # faint gray gradient (uneven lamp / lid)
    g = Image.linear_gradient("L").rotate(rng.uniform(0, 360), resample=Image.BILINEAR,
                                          fillcolor=128)
    g = g.crop((48, 48, 208, 208)).resize((W, H), Image.BILINEAR)
    depth = rng.uniform(0.05, 0.09)
    g = g.point(lambda v: int(255 - depth * v))
    page = ImageChops.multiply(page, Image.merge("RGB", (g, g, g)))
    # sensor noise (luminance + a little chroma)
    n = noise_image(rng, (W, H), rng.uniform(7, 9))
    page = ImageChops.add(page, Image.merge("RGB", (n, n, n)), 1.0, -128)
    return page, angle, (tx, ty)


def transform_box(box, angle, shift, W, H):
    """Axis-aligned bounding box (fractions) of a page box after PIL's rotate()."""
    x, y, w, h = box
    cx, cy = W / 2.0, H / 2.0
    a = math.radians(angle)
    ca, sa = math.cos(a), math.sin(a)
    xs, ys = [], []
    for px, py in ((x, y), (x + w, y), (x, y + h), (x + w, y + h)):
        dx, dy = px - cx, py - cy
        xs.append(cx + dx * ca + dy * sa + shift[0])
        ys.append(cy - dx * sa + dy * ca + shift[1])
    x0, x1 = max(0.0, min(xs)), min(float(W), max(xs))
    y0, y1 = max(0.0, min(ys)), min(float(H), max(ys))
    return [round(x0 / W, 4), round(y0 / H, 4), round((x1 - x0) / W, 4), round((y1 - y0) / H, 4)]


# --------------------------------------------------------------------------- main


def student_names(rng, n):
    combos = [(f, l) for f in FIRST for l in LAST]
    rng.shuffle(combos)
    names, firsts, lasts = [], set(), set()
    for f, l in combos:  # prefer distinct first and last names
        if f not in firsts and l not in lasts:
            names.append(f + " " + l)
            firsts.add(f)
            lasts.add(l)
        if len(names) == n:
            return names
    for f, l in combos:
        nm = f + " " + l
        if nm not in names:
            names.append(nm)
        if len(names) == n:
            return names
    return [names[i % len(names)] + (" %d" % (i // len(names) + 1) if i >= len(names) else "")
            for i in range(n)]


def choose_answers(questions, rng, skill):
    sel, used = {}, False
    for q in questions:
        opts = ANSWERS.get(q["label"])
        if not opts:
            sel[q["label"]] = [rng.choice(["see back", "I don't know", "?"])]
            continue
        r = rng.random()
        want = 2 if r < skill else (1 if r < skill + (1 - skill) * 0.65 else 0)
        cands = [lines for qual, lines in opts if qual == want] or [opts[0][1]]
        lines, u = expand_optional(rng.choice(cands), rng, False)
        used |= u
        sel[q["label"]] = lines
    if not used:  # every page gets at least one crossed-out word
        labels = [q["label"] for q in questions if q["label"] in ANSWERS]
        rng.shuffle(labels)
        for lab in labels:
            cands = [lines for qual, lines in ANSWERS[lab] if any("[[" in ln for ln in lines)]
            if cands:
                sel[lab], _ = expand_optional(rng.choice(cands), rng, True)
                break
    return sel


def main(argv=None):
    ap = argparse.ArgumentParser(description="Generate synthetic scanned handwritten exam pages.")
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--students", type=int, default=3, help="number of pages/students (default 3)")
    ap.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    ap.add_argument("--dpi", type=int, default=300, help="resolution (default 300 -> 2480x3508)")
    ap.add_argument("--format", choices=["jpg", "png"], default="jpg")
    ap.add_argument("--questions", default=os.path.join(HERE, "questions.json"))
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--class", dest="whole_class", action="store_true",
                    help="also write blank.png, class.pdf and template.json (the class workflow)")
    args = ap.parse_args(argv)
    if args.students < 1 or not (72 <= args.dpi <= 600):
        ap.error("--students must be >= 1 and --dpi within 72..600")

    with open(args.questions, encoding="utf-8") as fh:
        questions = json.load(fh)
    scale = args.dpi / 300.0
    hand_fonts = hand_font_paths()
    if not hand_fonts:
        print("make_demo: warning: no handwriting font found (fonts-humor-sans / fonts-breip);"
              " using DejaVu Sans Oblique", file=sys.stderr)
    os.makedirs(args.out, exist_ok=True)
    master = random.Random("gradedesk-demo-%d" % args.seed)
    names = student_names(master, args.students)
    skills = [0.85, 0.5, 0.25]
    font_offset = master.randrange(len(hand_fonts)) if hand_fonts else 0
    layout = []
    scans = []
    for i in range(args.students):
        t0 = time.time()
        rng = random.Random("gradedesk-demo-%d-student-%d" % (args.seed, i))
        skill = min(0.95, max(0.1, skills[i % 3] + rng.uniform(-0.1, 0.1)))
        sel = choose_answers(questions, rng, skill)
        # handwriting font: alternate per student, random start per seed
        page, boxes = render_page(questions, names[i], sel, rng, scale, hand_fonts,
                                  i + font_offset,
                                  code=(i + 1) if args.whole_class else None)
        page, angle, shift = scan(page, rng, scale)
        W, H = page.size
        fname = "student-%02d.%s" % (i + 1, args.format)
        path = os.path.join(args.out, fname)
        if args.whole_class:
            scans.append(page)
        if args.format == "jpg":
            page.save(path, "JPEG", quality=85, optimize=True, dpi=(args.dpi, args.dpi))
        else:
            page.save(path, "PNG", dpi=(args.dpi, args.dpi))
        layout.append({
            "file": fname,
            "student": names[i],
            "boxes": {k: transform_box(b, angle, shift, W, H) for k, b in boxes.items()},
        })
        if not args.quiet:
            print("%s  %-18s  %.2fs  %d KB" % (fname, names[i], time.time() - t0,
                                             os.path.getsize(path) // 1024))
    with open(os.path.join(args.out, "layout.json"), "w", encoding="utf-8") as fh:
        json.dump(layout, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    if args.whole_class:
        write_class(args, questions, names, scans, scale, hand_fonts)


def write_class(args, questions, names, scans, scale, hand_fonts):
    """The class workflow's files: the blank exam, one PDF of every scan, the regions."""
    rng = random.Random("gradedesk-demo-%d-blank" % args.seed)
    sel = {q["label"]: [] for q in questions}
    blank, boxes = render_page(questions, "", sel, rng, scale, hand_fonts, 0, blank=True)
    W, H = blank.size
    blank.save(os.path.join(args.out, "blank.png"), "PNG", dpi=(args.dpi, args.dpi))
    scans[0].save(os.path.join(args.out, "class.pdf"), "PDF", save_all=True,
                  append_images=scans[1:], resolution=float(args.dpi), quality=85)
    regions = {k: [round(x / W, 4), round(y / H, 4), round(w / W, 4), round(h / H, 4)]
               for k, (x, y, w, h) in boxes.items()}
    with open(os.path.join(args.out, "template.json"), "w", encoding="utf-8") as fh:
        json.dump({"blank": "blank.png", "class": "class.pdf", "students": names,
                   "regions": regions, "roster": "roster.csv", "names": "names.json"},
                  fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    write_roster(args, names)


# The roster spells some names with the accents a hurried hand (and a model) drops.
ROSTER_SPELLING = {"Zoe": "Zoë", "Lea": "Léa", "Elias": "Elías", "Milan": "Milán",
                   "Jensen": "Jensén", "Kaya": "Kaya", "Moreau": "Moreau"}


def misread(rng, first, last):
    """What a model reads from a legible handwritten name: mostly the name as written,
    sometimes an initial, a letter misread or the order turned (seeded)."""
    r = rng.random()
    if r < 0.12 and len(last) > 4:
        i = rng.randrange(1, len(last) - 1)
        last = last[:i] + rng.choice("aeinorstu") + last[i + 1:]
    elif r < 0.22:
        first = first[0] + "."
    elif r < 0.32:
        return "%s, %s" % (last, first)
    return "%s %s" % (first, last)


def ascii_login(first, last):
    """A school login: the name without accents, lower case."""
    strip = lambda t: unicodedata.normalize("NFKD", t).encode("ascii", "ignore").decode()  # noqa: E731
    return "%s.%s" % (strip(first).lower(), strip(last).lower())


def write_roster(args, names):
    """DIR/roster.csv (a Canvas gradebook export of the class: its students, two who were
    absent, IDs) and DIR/names.json (what the fake model reads in each script's name box,
    by the number printed there)."""
    rng = random.Random("gradedesk-demo-%d-roster" % args.seed)
    everyone = list(names)
    for f in FIRST:
        for l in LAST:
            if len(everyone) >= len(names) + 2:
                break
            if f + " " + l not in everyone and all(not n.startswith(f + " ") for n in everyone):
                everyone.append(f + " " + l)
    rows = []
    for k, name in enumerate(everyone):
        first, last = name.split(" ", 1)
        first, last = ROSTER_SPELLING.get(first, first), ROSTER_SPELLING.get(last, last)
        rows.append(('"%s, %s"' % (last, first), str(5001 + k), "2026%04d" % (k + 1),
                     ascii_login(first, last), "Period 2"))
    rows.sort()
    with open(os.path.join(args.out, "roster.csv"), "w", encoding="utf-8") as fh:
        fh.write("Student,ID,SIS User ID,SIS Login ID,Section\n")
        fh.write("    Points Possible,,,,\n")
        for row in rows:
            fh.write(",".join(row) + "\n")
    table = {}
    for i, name in enumerate(names):
        first, last = name.split(" ", 1)
        table[str(i + 1)] = {"name": misread(rng, first, last), "student_id": "",
                             "confidence": round(rng.uniform(0.75, 0.97), 2)}
    with open(os.path.join(args.out, "names.json"), "w", encoding="utf-8") as fh:
        json.dump(table, fh, indent=2, ensure_ascii=False)
        fh.write("\n")


if __name__ == "__main__":
    main()
