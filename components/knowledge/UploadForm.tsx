"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRef, useState, type FormEvent } from "react";
import { Button, Card, CardBody, CardHeader, Field, Input, useToast } from "@/components/ui";
import { fieldErrorsOf, messageOf, useTRPC } from "@/lib/trpc";
import { ACCEPTED_FILES, formatBytes, MAX_UPLOAD_BYTES, readAsBase64 } from "./shared";

/** Adds a document to a collection: Markdown, text or PDF, split into passages on the server. */
export function UploadForm({ collections, defaultCollection }: { collections: string[]; defaultCollection: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { toast } = useToast();
  const fileInput = useRef<HTMLInputElement>(null);
  const [collection, setCollection] = useState(defaultCollection);
  const [title, setTitle] = useState("");
  const [file, setFile] = useState<File | null>(null);
  const [reading, setReading] = useState(false);
  const [fileError, setFileError] = useState<string | null>(null);

  const upload = useMutation(
    trpc.knowledge.upload.mutationOptions({
      onSuccess: (result) => {
        toast({ title: `Added “${result.title}”`, description: `${result.chunks} ${result.chunks === 1 ? "passage" : "passages"} indexed for search.`, tone: "success" });
        setFile(null);
        setTitle("");
        if (fileInput.current) fileInput.current.value = "";
        void queryClient.invalidateQueries({ queryKey: trpc.knowledge.pathKey() });
      },
    }),
  );
  const fields = fieldErrorsOf(upload.error);
  const busy = reading || upload.isPending;

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!file) {
      setFileError("Choose a .md, .txt or .pdf file.");
      return;
    }
    if (file.size > MAX_UPLOAD_BYTES) {
      setFileError(`The file is ${formatBytes(file.size)}; documents are limited to 10 MB.`);
      return;
    }
    setFileError(null);
    setReading(true);
    try {
      const contentBase64 = await readAsBase64(file);
      upload.mutate({ collection, title: title.trim() || undefined, fileName: file.name, mimeType: file.type, contentBase64 });
    } catch (error) {
      setFileError(messageOf(error));
    } finally {
      setReading(false);
    }
  }

  const formError = upload.error && !fields.collection && !fields.file && !fields.title ? messageOf(upload.error) : null;

  return (
    <Card>
      <CardHeader title="Upload a document" description="Markdown, plain text or PDF up to 10 MB. It is split into passages that agents and people can search and cite." />
      <CardBody>
        <form aria-label="Upload a document" className="grid gap-3 sm:grid-cols-[minmax(0,1fr)_minmax(0,1fr)]" onSubmit={(e) => void submit(e)}>
          <Field label="Collection" error={fields.collection} hint="e.g. support, policies">
            <Input value={collection} onChange={(e) => setCollection(e.target.value)} list="knowledge-collections" required maxLength={60} />
          </Field>
          <datalist id="knowledge-collections">
            {collections.map((name) => <option key={name} value={name} />)}
          </datalist>
          <Field label="Title" optional error={fields.title} hint="Defaults to the first heading, else the file name">
            <Input value={title} onChange={(e) => setTitle(e.target.value)} maxLength={300} />
          </Field>
          <Field label="File" error={fileError ?? fields.file} className="sm:col-span-2">
            <Input
              ref={fileInput}
              type="file"
              accept={ACCEPTED_FILES}
              onChange={(e) => {
                setFile(e.target.files?.[0] ?? null);
                setFileError(null);
                upload.reset();
              }}
              className="file:mr-3 file:rounded file:border-0 file:bg-subtle file:px-2 file:py-0.5 file:text-xs file:font-medium file:text-fg"
            />
          </Field>
          <div className="flex items-center gap-3 sm:col-span-2">
            <Button type="submit" variant="primary" loading={busy}>
              {reading ? "Reading file…" : upload.isPending ? "Indexing…" : "Upload"}
            </Button>
            {file ? <span className="text-xs text-fg-muted">{file.name} · {formatBytes(file.size)}</span> : null}
            {formError ? <p role="alert" className="text-sm text-danger-700">{formError}</p> : null}
          </div>
        </form>
      </CardBody>
    </Card>
  );
}
