import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, ToolMessage, type BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import { tool } from "@langchain/core/tools";
import { END, MemorySaver, MessagesAnnotation, START, StateGraph, type BaseCheckpointSaver } from "@langchain/langgraph";
import { ToolNode } from "@langchain/langgraph/prebuilt";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { z } from "zod";
import { TOOL_OUTPUT_BYTES, type TimeInside } from "./kernel";

/**
 * The peer: the same agent loop in LangGraph.js 1.7 — a StateGraph with an agent node (a fake chat model proposing
 * one tool call per step, then answering) and a ToolNode (an in-process tool returning 1 KB), looping agent → tools
 * → agent, exactly the ReAct shape of its prebuilt agent. Times inside the model and the tool are measured at the
 * same boundaries as ours (the framework's call into the model, the tool function) and subtracted.
 */

export type Checkpointing = "none" | "MemorySaver" | "SqliteSaver";

/** The part of better-sqlite3's connection (SqliteSaver.db) the bench uses; its type declarations are not installed. */
interface SqliteConnection {
  pragma(source: string, options: { simple: true }): unknown;
  close(): void;
}

/** A chat model that plays `steps` tool calls (one per turn, a different file each), then answers; optional latency. */
class ScriptedToolCallingModel extends BaseChatModel {
  constructor(
    private readonly steps: number,
    private readonly delayMs: number,
  ) {
    super({});
  }

  _llmType(): string {
    return "bench-scripted";
  }

  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    const answered = messages.filter((message) => message instanceof ToolMessage).length;
    // Latency on the tool-proposing turns only, as in ours: the final answer comes at once.
    if (this.delayMs > 0 && answered < this.steps) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const message =
      answered < this.steps
        ? new AIMessage({ content: "", tool_calls: [{ id: `call_${answered}`, name: "read_file", args: { path: `bench-step-${answered}.txt` }, type: "tool_call" }] })
        : new AIMessage(`Read ${this.steps} files.`);
    return { generations: [{ message, text: typeof message.content === "string" ? message.content : "" }] };
  }
}

export interface LangGraphBench {
  checkpointing: Checkpointing;
  /** Journal mode and synchronous setting of the SQLite file, for SqliteSaver. */
  durability: string;
  inside: TimeInside;
  /** When each thread's first node started (performance.now()), for "runnable → started". */
  firstStepAt: Map<string, number>;
  /** One complete agent run (a new thread); resolves with the number of messages in the final state. */
  invoke(threadId: string): Promise<number>;
  /** Bytes on disk of the checkpoint database (the .db file and its WAL), 0 without SQLite. */
  storedBytes(): number;
  close(): void;
}

export function createLangGraphBench(options: { checkpointing: Checkpointing; steps: number; delayMs: number }): LangGraphBench {
  const inside: TimeInside = { modelMs: 0, toolMs: 0, modelCalls: 0, toolCalls: 0 };
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "sb-bench-langgraph-"));
  for (let step = 0; step < options.steps; step += 1) {
    const line = `step ${step}: `;
    fs.writeFileSync(path.join(folder, `bench-step-${step}.txt`), line + "x".repeat(TOOL_OUTPUT_BYTES - line.length));
  }
  const readFile = tool(
    async ({ path: name }: { path: string }) => {
      const start = process.hrtime.bigint();
      try {
        return await fs.promises.readFile(path.join(folder, path.basename(name)), "utf8");
      } finally {
        inside.toolMs += Number(process.hrtime.bigint() - start) / 1e6;
        inside.toolCalls += 1;
      }
    },
    { name: "read_file", description: "Reads a text file.", schema: z.object({ path: z.string() }) },
  );
  const model = new ScriptedToolCallingModel(options.steps, options.delayMs);
  const firstStepAt = new Map<string, number>();

  const dbFile = path.join(folder, "checkpoints.db");
  let sqlite: SqliteSaver | null = null;
  let checkpointer: BaseCheckpointSaver | undefined;
  if (options.checkpointing === "MemorySaver") checkpointer = new MemorySaver();
  if (options.checkpointing === "SqliteSaver") {
    sqlite = SqliteSaver.fromConnString(dbFile);
    checkpointer = sqlite;
  }

  const graph = new StateGraph(MessagesAnnotation)
    .addNode("agent", async (state, config) => {
      const threadId: unknown = config.configurable?.thread_id;
      const key = typeof threadId === "string" ? threadId : "";
      if (!firstStepAt.has(key)) firstStepAt.set(key, performance.now());
      const start = process.hrtime.bigint();
      const reply = await model.invoke(state.messages);
      inside.modelMs += Number(process.hrtime.bigint() - start) / 1e6;
      inside.modelCalls += 1;
      return { messages: [reply] };
    })
    .addNode("tools", new ToolNode([readFile]))
    .addEdge(START, "agent")
    .addConditionalEdges("agent", (state) => {
      const last = state.messages[state.messages.length - 1];
      return last instanceof AIMessage && (last.tool_calls?.length ?? 0) > 0 ? "tools" : END;
    })
    .addEdge("tools", "agent")
    .compile(checkpointer ? { checkpointer } : {});

  const durability = () => {
    if (!sqlite) return options.checkpointing === "MemorySaver" ? "in memory (nothing on disk)" : "no checkpoints";
    const connection = sqlite.db as unknown as SqliteConnection;
    const journal = String(connection.pragma("journal_mode", { simple: true }));
    const synchronous = Number(connection.pragma("synchronous", { simple: true }));
    const names = ["OFF", "NORMAL", "FULL", "EXTRA"];
    return `SQLite file, journal_mode=${journal}, synchronous=${names[synchronous] ?? synchronous}`;
  };

  return {
    checkpointing: options.checkpointing,
    get durability() {
      return durability();
    },
    inside,
    firstStepAt,
    async invoke(threadId) {
      const result = await graph.invoke(
        { messages: [{ role: "user", content: "Read the files." }] },
        { configurable: { thread_id: threadId }, recursionLimit: options.steps * 2 + 10 },
      );
      return result.messages.length;
    },
    storedBytes() {
      if (!sqlite) return 0;
      return [dbFile, `${dbFile}-wal`].reduce((sum, file) => sum + (fs.existsSync(file) ? fs.statSync(file).size : 0), 0);
    },
    close() {
      if (sqlite) (sqlite.db as unknown as SqliteConnection).close();
      fs.rmSync(folder, { recursive: true, force: true });
    },
  };
}
