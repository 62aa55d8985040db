export { callModel, type CallModelOptions } from "./gateway";
export { ModelCallError, isModelCallError, type ModelCallErrorKind } from "./errors";
export { runScript } from "./scripted";
export { costMicros, estimateTokens, estimateInputTokens } from "./usage";
export type * from "./types";
