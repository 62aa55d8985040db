import { ChatOllama } from "@langchain/ollama";
import type { ModelEndpoint } from "../types";

export function createOllamaModel(endpoint: ModelEndpoint, signal: AbortSignal): ChatOllama {
  return new ChatOllama({
    model: endpoint.model,
    baseUrl: endpoint.baseUrl ?? undefined,
    maxRetries: 0,
    numPredict: endpoint.maxOutputTokens ?? undefined,
    // Ollama has no auth of its own; a key means it sits behind a proxy that expects a bearer token.
    headers: endpoint.apiKey ? { Authorization: `Bearer ${endpoint.apiKey}` } : undefined,
    // ChatOllama never hands the call's signal to the HTTP request (it only checks it between stream chunks), so a
    // hung server would keep the socket open forever; the signal is wired into fetch here instead.
    fetch: (url, init) => fetch(url, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal }),
  });
}
