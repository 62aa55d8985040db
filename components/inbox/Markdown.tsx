"use client";

import ReactMarkdown, { type Components } from "react-markdown";
import { cn } from "@/lib/cn";

/**
 * A draft's Markdown, styled by hand (no typography plugin). Raw HTML in the text is not rendered and unsafe link
 * protocols are dropped (react-markdown's defaults): a draft is written by a model that read untrusted content.
 */
const components: Components = {
  p: ({ node: _node, ...props }) => <p className="my-3 first:mt-0 last:mb-0" {...props} />,
  h1: ({ node: _node, ...props }) => <h3 className="mt-5 mb-2 text-base font-semibold first:mt-0" {...props} />,
  h2: ({ node: _node, ...props }) => <h4 className="mt-5 mb-2 text-[15px] font-semibold first:mt-0" {...props} />,
  h3: ({ node: _node, ...props }) => <h5 className="mt-4 mb-1.5 text-sm font-semibold text-gray-950 first:mt-0" {...props} />,
  h4: ({ node: _node, ...props }) => <h6 className="mt-4 mb-1.5 text-sm font-semibold text-gray-950 first:mt-0" {...props} />,
  h5: ({ node: _node, ...props }) => <h6 className="mt-4 mb-1.5 text-sm font-semibold text-gray-950 first:mt-0" {...props} />,
  h6: ({ node: _node, ...props }) => <h6 className="mt-4 mb-1.5 text-sm font-semibold text-gray-950 first:mt-0" {...props} />,
  strong: ({ node: _node, ...props }) => <strong className="font-semibold text-gray-950" {...props} />,
  em: ({ node: _node, ...props }) => <em className="italic" {...props} />,
  a: ({ node: _node, ...props }) => <a className="font-medium text-accent-700 underline decoration-accent-300 underline-offset-2 hover:decoration-accent-600" target="_blank" rel="noopener noreferrer nofollow" {...props} />,
  ul: ({ node: _node, ...props }) => <ul className="my-3 list-disc space-y-1 pl-6 marker:text-fg-subtle" {...props} />,
  ol: ({ node: _node, ...props }) => <ol className="my-3 list-decimal space-y-1 pl-6 marker:text-fg-subtle" {...props} />,
  li: ({ node: _node, ...props }) => <li className="pl-1" {...props} />,
  blockquote: ({ node: _node, ...props }) => <blockquote className="my-3 border-l-4 border-border-strong pl-3 text-fg-muted" {...props} />,
  hr: ({ node: _node, ...props }) => <hr className="my-5 border-border" {...props} />,
  pre: ({ node: _node, ...props }) => <pre className="my-3 overflow-x-auto rounded-md border border-border bg-gray-50 p-3 font-mono text-xs leading-relaxed [&_code]:bg-transparent [&_code]:p-0" {...props} />,
  code: ({ node: _node, className, ...props }) => <code className={cn("rounded bg-gray-100 px-1 py-0.5 font-mono text-[0.85em]", className)} {...props} />,
  img: ({ node: _node, alt }) => <span className="text-fg-subtle">[image: {alt || "no description"}]</span>,
};

interface MdNode {
  type: string;
  value?: string;
  children?: MdNode[];
}

/**
 * Drafts are mostly email: a single newline is a line break ("Best regards,\nAcme Support"), not a space as in
 * strict Markdown. Splits text nodes at newlines into breaks (what remark-breaks does, without the dependency).
 */
function remarkSoftBreaks() {
  const walk = (node: MdNode) => {
    if (!node.children) return;
    const children: MdNode[] = [];
    for (const child of node.children) {
      if (child.type === "text" && child.value?.includes("\n")) {
        child.value.split("\n").forEach((part, index) => {
          if (index > 0) children.push({ type: "break" });
          if (part) children.push({ type: "text", value: part });
        });
      } else {
        walk(child);
        children.push(child);
      }
    }
    node.children = children;
  };
  return (tree: MdNode) => walk(tree);
}

const remarkPlugins = [remarkSoftBreaks];

export function Markdown({ text, className }: { text: string; className?: string }) {
  return (
    <div className={cn("text-[15px] leading-7 break-words text-fg", className)}>
      <ReactMarkdown components={components} remarkPlugins={remarkPlugins}>{text}</ReactMarkdown>
    </div>
  );
}
