import { InvalidInput, PayloadTooLarge } from "../errors";

/**
 * Turns an uploaded file into the plain text that is chunked and indexed. Markdown and plain text are decoded as
 * UTF-8; PDF text is extracted with unpdf (pdf.js, pure JavaScript: no native code, no network). Offsets of chunks
 * refer to the text returned here, after normalisation (line endings, NUL bytes), so they stay exact.
 */

export const MAX_DOCUMENT_BYTES = 10 * 1024 * 1024;
export const KNOWLEDGE_FORMATS = ["markdown", "text", "pdf"] as const;
export type KnowledgeFormat = (typeof KNOWLEDGE_FORMATS)[number];

/** The MIME type stored for each format (what a browser or curl sends varies; this does not). */
export const MIME_TYPE_OF: Record<KnowledgeFormat, string> = {
  markdown: "text/markdown",
  text: "text/plain",
  pdf: "application/pdf",
};

const EXTENSIONS: Record<string, KnowledgeFormat> = {
  md: "markdown",
  markdown: "markdown",
  mdown: "markdown",
  txt: "text",
  text: "text",
  pdf: "pdf",
};

const MIME_TYPES: Record<string, KnowledgeFormat> = {
  "text/markdown": "markdown",
  "text/x-markdown": "markdown",
  "text/plain": "text",
  "application/pdf": "pdf",
  "application/x-pdf": "pdf",
};

export class UnsupportedDocumentType extends InvalidInput {
  constructor(fileName: string, mimeType: string) {
    super(
      `"${fileName}"${mimeType ? ` (${mimeType})` : ""} is not a supported document. Upload Markdown (.md), plain text (.txt) or PDF (.pdf).`,
      { file: ["Upload a .md, .txt or .pdf file."] },
    );
  }
}

export class EmptyDocument extends InvalidInput {
  constructor(fileName: string, why = "has no text in it") {
    super(`"${fileName}" ${why}, so there is nothing to search.`, { file: [`The file ${why}.`] });
  }
}

export class UnreadablePdf extends InvalidInput {
  constructor(fileName: string) {
    super(`"${fileName}" could not be read as a PDF: it may be damaged or password-protected.`, { file: ["The PDF could not be read."] });
  }
}

export class DocumentTooLarge extends PayloadTooLarge {
  constructor(sizeBytes: number) {
    super(`The file is ${(sizeBytes / (1024 * 1024)).toFixed(1)} MB; documents are limited to ${MAX_DOCUMENT_BYTES / (1024 * 1024)} MB. Split it into smaller files.`);
  }
}

/**
 * The format of an upload. The PDF signature wins over names (a PDF called notes.txt is still a PDF); otherwise
 * the extension decides, then the MIME type. Generic types (application/octet-stream, empty) defer to the name.
 */
export function detectFormat(fileName: string, mimeType: string, bytes: Uint8Array): KnowledgeFormat {
  if (isPdf(bytes)) return "pdf";
  const extension = /\.([a-z0-9]+)$/i.exec(fileName)?.[1]?.toLowerCase();
  const byExtension = extension ? EXTENSIONS[extension] : undefined;
  const byMime = MIME_TYPES[mimeType.split(";")[0]!.trim().toLowerCase()];
  const format = byExtension ?? byMime;
  // A file that claims to be a PDF but lacks the signature is not silently indexed as text.
  if (!format || format === "pdf") throw format === "pdf" ? new UnreadablePdf(fileName) : new UnsupportedDocumentType(fileName, mimeType);
  return format;
}

function isPdf(bytes: Uint8Array): boolean {
  // "%PDF-" may follow a few junk bytes; readers accept it within the first kilobyte.
  const head = new TextDecoder("latin1").decode(bytes.subarray(0, 1024));
  return head.includes("%PDF-");
}

/** Line endings to \n, NUL bytes (PostgreSQL text cannot hold them) and a byte order mark removed. */
export function normaliseText(text: string): string {
  return text.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n").replaceAll("\u0000", "");
}

export async function extractText(format: KnowledgeFormat, fileName: string, bytes: Uint8Array): Promise<string> {
  if (bytes.byteLength === 0) throw new EmptyDocument(fileName, "is empty");
  if (bytes.byteLength > MAX_DOCUMENT_BYTES) throw new DocumentTooLarge(bytes.byteLength);
  let text: string;
  if (format === "pdf") {
    text = await extractPdfText(fileName, bytes);
  } else {
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      throw new InvalidInput(`"${fileName}" is not UTF-8 text. Save it as UTF-8, or upload a PDF.`, { file: ["The file is not UTF-8 text."] });
    }
  }
  text = normaliseText(text);
  if (text.trim() === "") throw new EmptyDocument(fileName, format === "pdf" ? "has no text layer (a scanned PDF needs OCR first)" : "has no text in it");
  return text;
}

async function extractPdfText(fileName: string, bytes: Uint8Array): Promise<string> {
  // Loaded on first use: pdf.js is large and most processes never read a PDF.
  const { extractText: extractPages, getDocumentProxy } = await import("unpdf");
  try {
    // pdf.js takes ownership of (detaches) the buffer it is given: hand it a copy.
    const pdf = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0, isEvalSupported: false });
    try {
      const { text } = await extractPages(pdf, { mergePages: false });
      // Pages become paragraphs, so a chunk boundary can fall between them.
      return text.map((page) => page.trim()).filter(Boolean).join("\n\n");
    } finally {
      await pdf.destroy();
    }
  } catch (error) {
    if (error instanceof InvalidInput) throw error;
    throw new UnreadablePdf(fileName);
  }
}
