/** Browser-safe helpers shared by the knowledge views. */

export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
export const ACCEPTED_FILES = ".md,.markdown,.txt,.pdf,text/markdown,text/plain,application/pdf";

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

const TYPE_LABELS: Record<string, string> = { "text/markdown": "Markdown", "text/plain": "Text", "application/pdf": "PDF" };

export function typeLabel(mimeType: string): string {
  return TYPE_LABELS[mimeType] ?? mimeType;
}

/** The file as base64, for the upload mutation (the browser's FileReader does the encoding off the main thread). */
export function readAsBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onerror = () => reject(reader.error ?? new Error("The file could not be read."));
    reader.onload = () => {
      const url = typeof reader.result === "string" ? reader.result : "";
      resolve(url.slice(url.indexOf(",") + 1));
    };
    reader.readAsDataURL(file);
  });
}
