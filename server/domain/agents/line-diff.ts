/** One line of a line diff. Line numbers are 1-based; an added line has no old number, a removed one no new number. */
export type DiffLine =
  | { op: "equal"; text: string; oldLine: number; newLine: number }
  | { op: "remove"; text: string; oldLine: number }
  | { op: "add"; text: string; newLine: number };

/**
 * Beyond this many cells the LCS table would cost too much memory; the changed middle is then shown as removed
 * and re-added. Common prefix and suffix are trimmed first, so real edits of even long instructions stay far below.
 */
const MAX_LCS_CELLS = 4_000_000;

export function splitLines(text: string): string[] {
  if (text === "") return [];
  return text.replace(/\r\n?/g, "\n").split("\n");
}

/** Line diff by longest common subsequence. Deterministic: on ties, removals come before additions. */
export function diffLines(before: string, after: string): DiffLine[] {
  const a = splitLines(before);
  const b = splitLines(after);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start += 1;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA -= 1;
    endB -= 1;
  }

  const out: DiffLine[] = [];
  for (let i = 0; i < start; i += 1) out.push({ op: "equal", text: a[i]!, oldLine: i + 1, newLine: i + 1 });

  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  const n = midA.length;
  const m = midB.length;
  if (n * m > MAX_LCS_CELLS) {
    midA.forEach((text, i) => out.push({ op: "remove", text, oldLine: start + i + 1 }));
    midB.forEach((text, j) => out.push({ op: "add", text, newLine: start + j + 1 }));
  } else {
    // lcs[i][j] = LCS length of midA[i..] and midB[j..], flattened into one typed array.
    const width = m + 1;
    const lcs = new Uint32Array((n + 1) * width);
    for (let i = n - 1; i >= 0; i -= 1) {
      for (let j = m - 1; j >= 0; j -= 1) {
        lcs[i * width + j] =
          midA[i] === midB[j] ? lcs[(i + 1) * width + j + 1]! + 1 : Math.max(lcs[(i + 1) * width + j]!, lcs[i * width + j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && midA[i] === midB[j]) {
        out.push({ op: "equal", text: midA[i]!, oldLine: start + i + 1, newLine: start + j + 1 });
        i += 1;
        j += 1;
      } else if (j >= m || (i < n && lcs[(i + 1) * width + j]! >= lcs[i * width + j + 1]!)) {
        out.push({ op: "remove", text: midA[i]!, oldLine: start + i + 1 });
        i += 1;
      } else {
        out.push({ op: "add", text: midB[j]!, newLine: start + j + 1 });
        j += 1;
      }
    }
  }

  const shift = b.length - a.length;
  for (let i = endA; i < a.length; i += 1) out.push({ op: "equal", text: a[i]!, oldLine: i + 1, newLine: i + shift + 1 });
  return out;
}

export function diffStats(lines: readonly DiffLine[]): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const line of lines) {
    if (line.op === "add") added += 1;
    else if (line.op === "remove") removed += 1;
  }
  return { added, removed };
}
