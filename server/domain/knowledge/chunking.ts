/**
 * Splits a document's extracted text into passages for full-text search and citation. Every chunk is an exact
 * slice of the text (`content === text.slice(startOffset, endOffset)`), so a citation can always be traced back to
 * where it came from. Chunks follow the document's structure: paragraphs are kept whole where they fit, a Markdown
 * heading starts a new chunk (with the section under it), and only a paragraph longer than a chunk is cut — at a
 * line break, else a sentence end, else a space. Consecutive chunks of the same section overlap a little, so a
 * sentence cut at a boundary is found in both.
 */

export interface ChunkOptions {
  /** A chunk is closed before it would grow past this many characters. */
  maxChars: number;
  /** A heading starts a new chunk only when the open chunk has at least this many characters (tiny chunks help nobody). */
  minChars: number;
  /** How many characters of the previous chunk the next one repeats (snapped to a word boundary). */
  overlapChars: number;
}

export const DEFAULT_CHUNK_OPTIONS: ChunkOptions = { maxChars: 1_200, minChars: 400, overlapChars: 150 };

export interface TextChunk {
  /** 1-based order in the document; citations link to `#chunk-<position>`. */
  position: number;
  content: string;
  startOffset: number;
  endOffset: number;
}

interface Segment {
  start: number;
  end: number;
  heading: boolean;
}

const HEADING = /^#{1,6}\s/;

/** Paragraphs (runs of text between blank lines) as [start, end) ranges without surrounding whitespace. */
function paragraphs(text: string): Segment[] {
  const found: Segment[] = [];
  const separator = /\n[ \t]*\n\s*/g;
  let from = 0;
  const push = (start: number, end: number) => {
    while (start < end && /\s/.test(text[start]!)) start++;
    while (end > start && /\s/.test(text[end - 1]!)) end--;
    if (end > start) found.push({ start, end, heading: HEADING.test(text.slice(start, start + 7)) });
  };
  for (const match of text.matchAll(separator)) {
    push(from, match.index);
    from = match.index + match[0].length;
  }
  push(from, text.length);
  return splitHeadingLines(text, found);
}

/** A heading written directly above its text (no blank line) still starts its own segment; so does one directly below text. */
function splitHeadingLines(text: string, segments: Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const segment of segments) {
    let start = segment.start;
    const body = text.slice(segment.start, segment.end);
    for (const match of body.matchAll(/\n(?=#{1,6}\s)/g)) {
      const cut = segment.start + match.index;
      if (cut > start) out.push({ start, end: cut, heading: HEADING.test(text.slice(start, start + 7)) });
      start = cut + 1;
    }
    out.push({ start, end: segment.end, heading: HEADING.test(text.slice(start, start + 7)) });
  }
  return out;
}

/** The best place to cut text[start, start + limit): the last line break, else sentence end, else space. */
function cutPoint(text: string, start: number, limit: number): number {
  const window = text.slice(start, start + limit);
  const floor = Math.floor(limit / 2);
  const lastMatch = (pattern: RegExp): number => {
    let at = -1;
    for (const match of window.matchAll(pattern)) if (match.index + match[0].length >= floor) at = match.index + match[0].length;
    return at;
  };
  for (const pattern of [/\n/g, /[.!?]["')\]]?\s/g, /\s/g]) {
    const at = lastMatch(pattern);
    if (at > 0) return start + at;
  }
  return start + limit;
}

/** Cuts segments longer than `limit` into pieces of at most `limit` characters. */
function boundSegments(text: string, segments: Segment[], limit: number): Segment[] {
  const out: Segment[] = [];
  for (const segment of segments) {
    let start = segment.start;
    let heading = segment.heading;
    while (segment.end - start > limit) {
      let cut = cutPoint(text, start, limit);
      // Pieces never start or end with whitespace.
      let end = cut;
      while (end > start && /\s/.test(text[end - 1]!)) end--;
      out.push({ start, end, heading });
      while (cut < segment.end && /\s/.test(text[cut]!)) cut++;
      start = cut;
      heading = false;
    }
    if (segment.end > start) out.push({ start, end: segment.end, heading });
  }
  return out;
}

/** Where the next chunk starts when it continues the previous one: about `overlap` characters back, at a word start. */
function overlapStart(text: string, chunkStart: number, chunkEnd: number, overlap: number): number {
  if (overlap <= 0) return chunkEnd;
  let at = Math.max(chunkStart + 1, chunkEnd - overlap);
  while (at < chunkEnd && !(/\s/.test(text[at - 1]!) && !/\s/.test(text[at]!))) at++;
  return at < chunkEnd ? at : chunkEnd;
}

export function chunkText(text: string, options: ChunkOptions = DEFAULT_CHUNK_OPTIONS): TextChunk[] {
  const { maxChars, minChars, overlapChars } = options;
  // A continued chunk starts up to `overlapChars` early, so its own segments must leave room for that.
  const segments = boundSegments(text, paragraphs(text), Math.max(1, maxChars - overlapChars));
  const chunks: TextChunk[] = [];
  let open: { start: number; end: number } | null = null;
  const close = () => {
    if (!open) return;
    chunks.push({ position: chunks.length + 1, content: text.slice(open.start, open.end), startOffset: open.start, endOffset: open.end });
  };
  for (const segment of segments) {
    if (!open) {
      open = { start: segment.start, end: segment.end };
      continue;
    }
    const newSection = segment.heading && open.end - open.start >= minChars;
    if (newSection || segment.end - open.start > maxChars) {
      close();
      // A new section never repeats the end of the previous one.
      const start: number = segment.heading ? segment.start : overlapStart(text, open.start, open.end, overlapChars);
      open = { start: Math.min(start, segment.start), end: segment.end };
    } else {
      open.end = segment.end;
    }
  }
  close();
  return chunks;
}
