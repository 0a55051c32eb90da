/**
 * A tiny built-in 5×7 bitmap font (HD44780-style) for the human-readable text of the pattern:
 * digits, upper-case letters and a few symbols. Glyphs are drawn scaled by an integer factor.
 */

/** Width of a glyph in font pixels. */
export const GLYPH_WIDTH = 5;
/** Height of a glyph in font pixels. */
export const GLYPH_HEIGHT = 7;
/** Horizontal advance per character in font pixels (glyph plus one column of spacing). */
export const GLYPH_ADVANCE = 6;

// Each glyph: 7 rows of 5 columns, '#' = set.
const GLYPHS: Record<string, string> = {
  ' ': '..... ..... ..... ..... ..... ..... .....',
  '0': '.###. #...# #..## #.#.# ##..# #...# .###.',
  '1': '..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.',
  '2': '.###. #...# ....# ...#. ..#.. .#... #####',
  '3': '##### ...#. ..#.. ...#. ....# #...# .###.',
  '4': '...#. ..##. .#.#. #..#. ##### ...#. ...#.',
  '5': '##### #.... ####. ....# ....# #...# .###.',
  '6': '..##. .#... #.... ####. #...# #...# .###.',
  '7': '##### ....# ...#. ..#.. .#... .#... .#...',
  '8': '.###. #...# #...# .###. #...# #...# .###.',
  '9': '.###. #...# #...# .#### ....# ...#. .##..',
  A: '.###. #...# #...# #...# ##### #...# #...#',
  B: '####. #...# #...# ####. #...# #...# ####.',
  C: '.###. #...# #.... #.... #.... #...# .###.',
  D: '###.. #..#. #...# #...# #...# #..#. ###..',
  E: '##### #.... #.... ####. #.... #.... #####',
  F: '##### #.... #.... ####. #.... #.... #....',
  G: '.###. #...# #.... #.### #...# #...# .####',
  H: '#...# #...# #...# ##### #...# #...# #...#',
  I: '.###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.',
  J: '..### ...#. ...#. ...#. ...#. #..#. .##..',
  K: '#...# #..#. #.#.. ##... #.#.. #..#. #...#',
  L: '#.... #.... #.... #.... #.... #.... #####',
  M: '#...# ##.## #.#.# #.#.# #...# #...# #...#',
  N: '#...# #...# ##..# #.#.# #..## #...# #...#',
  O: '.###. #...# #...# #...# #...# #...# .###.',
  P: '####. #...# #...# ####. #.... #.... #....',
  Q: '.###. #...# #...# #...# #.#.# #..#. .##.#',
  R: '####. #...# #...# ####. #.#.. #..#. #...#',
  S: '.#### #.... #.... .###. ....# ....# ####.',
  T: '##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..',
  U: '#...# #...# #...# #...# #...# #...# .###.',
  V: '#...# #...# #...# #...# #...# .#.#. ..#..',
  W: '#...# #...# #...# #.#.# #.#.# #.#.# .#.#.',
  X: '#...# #...# .#.#. ..#.. .#.#. #...# #...#',
  Y: '#...# #...# #...# .#.#. ..#.. ..#.. ..#..',
  Z: '##### ....# ...#. ..#.. .#... #.... #####',
  '.': '..... ..... ..... ..... ..... .##.. .##..',
  ',': '..... ..... ..... ..... .##.. ..#.. .#...',
  ':': '..... .##.. .##.. ..... .##.. .##.. .....',
  ';': '..... .##.. .##.. ..... .##.. ..#.. .#...',
  '-': '..... ..... ..... ##### ..... ..... .....',
  _: '..... ..... ..... ..... ..... ..... #####',
  '/': '..... ....# ...#. ..#.. .#... #.... .....',
  '#': '.#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.',
  '+': '..... ..#.. ..#.. ##### ..#.. ..#.. .....',
  '=': '..... ..... ##### ..... ##### ..... .....',
  '(': '...#. ..#.. .#... .#... .#... ..#.. ...#.',
  ')': '.#... ..#.. ...#. ...#. ...#. ..#.. .#...',
  '[': '.###. .#... .#... .#... .#... .#... .###.',
  ']': '.###. ...#. ...#. ...#. ...#. ...#. .###.',
  '<': '...#. ..#.. .#... #.... .#... ..#.. ...#.',
  '>': '.#... ..#.. ...#. ....# ...#. ..#.. .#...',
  '?': '.###. #...# ....# ...#. ..#.. ..... ..#..',
  '!': '..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#..',
  "'": '.##.. ..#.. .#... ..... ..... ..... .....',
  '%': '##... ##..# ...#. ..#.. .#... #..## ...##',
  '*': '..... ..#.. #.#.# .###. #.#.# ..#.. .....',
  '@': '.###. #...# ....# .##.# #.#.# #.#.# .###.',
  '&': '.##.. #..#. #.#.. .#... #.#.# #..#. .##.#',
  '|': '..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#..',
};

/** Every character the font can draw. Lower-case letters are drawn as upper case, others as '?'. */
export const FONT_CHARACTERS: string = Object.keys(GLYPHS).join('');

const CHARS = Object.keys(GLYPHS);
const CODE_OF = new Map(CHARS.map((c, i) => [c, i]));
const UNKNOWN = CODE_OF.get('?') ?? 0;

/** Glyph code of the digit 0; digits 0–9 have consecutive codes. */
export const DIGIT_ZERO_CODE = CODE_OF.get('0') ?? 0;

// Runs of set pixels per glyph row: RUN_INDEX[code * 7 + row] .. RUN_INDEX[code * 7 + row + 1] index
// pairs (start column, length) in RUN_DATA.
const runIndex: number[] = [0];
const runData: number[] = [];
for (const char of CHARS) {
  const rows = (GLYPHS[char] ?? '').split(' ');
  if (rows.length !== GLYPH_HEIGHT) throw new Error(`font: bad glyph ${char}`);
  for (const row of rows) {
    if (row.length !== GLYPH_WIDTH) throw new Error(`font: bad glyph ${char}`);
    let col = 0;
    while (col < GLYPH_WIDTH) {
      if (row[col] === '#') {
        const start = col;
        while (col < GLYPH_WIDTH && row[col] === '#') col++;
        runData.push(start, col - start);
      } else {
        col++;
      }
    }
    runIndex.push(runData.length);
  }
}
const RUN_INDEX = Uint16Array.from(runIndex);
const RUN_DATA = Uint8Array.from(runData);

/**
 * The bitmap of a character: 7 strings of 5 characters, '#' = set, '.' = clear; undefined if the
 * font lacks the character.
 *
 * @internal
 */
export function glyphRows(char: string): readonly string[] | undefined {
  return GLYPHS[char]?.split(' ');
}

/**
 * Converts text to glyph codes (upper-casing letters; characters the font lacks become '?').
 *
 * @internal
 */
export function textToGlyphCodes(text: string): Uint8Array {
  const chars = Array.from(text.toUpperCase());
  return Uint8Array.from(chars, (c) => CODE_OF.get(c) ?? UNKNOWN);
}

/** Width in pixels of `count` characters at a scale (without the trailing spacing column). */
export function textWidth(count: number, scale: number): number {
  return count > 0 ? (count * GLYPH_ADVANCE - 1) * scale : 0;
}

/**
 * Draws glyphs into an 8-bit plane: pixel (x, y) is at `offset + y * stride + x`. Each font pixel
 * becomes a `scale` × `scale` block of value `value`. The rectangle of the line must have a uniform
 * background, since each scaled row is replicated with copyWithin. Allocates nothing.
 *
 * @internal
 */
export function drawGlyphs(
  plane: Uint8Array,
  offset: number,
  stride: number,
  codes: Uint8Array,
  x: number,
  y: number,
  scale: number,
  value: number,
): void {
  const count = codes.length;
  const lineWidth = count * GLYPH_ADVANCE * scale;
  for (let row = 0; row < GLYPH_HEIGHT; row++) {
    const rowStart = offset + (y + row * scale) * stride + x;
    for (let k = 0; k < count; k++) {
      const slot = (codes[k] ?? 0) * GLYPH_HEIGHT + row;
      const end = RUN_INDEX[slot + 1] ?? 0;
      const charStart = rowStart + k * GLYPH_ADVANCE * scale;
      for (let r = RUN_INDEX[slot] ?? 0; r < end; r += 2) {
        const from = charStart + (RUN_DATA[r] ?? 0) * scale;
        plane.fill(value, from, from + (RUN_DATA[r + 1] ?? 0) * scale);
      }
    }
    for (let dy = 1; dy < scale; dy++) {
      plane.copyWithin(rowStart + dy * stride, rowStart, rowStart + lineWidth);
    }
  }
}
