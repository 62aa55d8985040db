import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { runScript } from "../scripted";
import type { ModelCallInput, ModelEndpoint, ModelResponse } from "../types";
import { createAnthropicModel, systemMessagesFirst } from "./anthropic";
import { fromLangChainMessage, toLangChainMessages, toOpenAITools } from "./convert";
import { createOllamaModel } from "./ollama";
import { createOpenAIModel } from "./openai";

/**
 * One attempt against one endpoint, no retries (the gateway owns retries and timeouts). A fresh client per call:
 * construction is cheap and offline, and it keeps per-call state such as Ollama's fetch signal from leaking.
 */
export async function invokeProvider(endpoint: ModelEndpoint, input: ModelCallInput, signal: AbortSignal): Promise<ModelResponse> {
  let model: BaseChatModel;
  let messages = input.messages;
  switch (endpoint.provider) {
    case "SCRIPTED":
      return runScript(input, signal);
    case "OPENAI":
      model = createOpenAIModel(endpoint);
      break;
    case "ANTHROPIC":
      model = createAnthropicModel(endpoint);
      messages = systemMessagesFirst(messages);
      break;
    case "OLLAMA":
      model = createOllamaModel(endpoint, signal);
      break;
    default: {
      const unknown: never = endpoint.provider;
      throw new Error(`Unknown model provider ${String(unknown)}`);
    }
  }
  const runnable = input.tools.length > 0 && model.bindTools ? model.bindTools(toOpenAITools(input.tools)) : model;
  const reply = await runnable.invoke(toLangChainMessages(messages), { signal });
  return fromLangChainMessage(reply, input);
}
