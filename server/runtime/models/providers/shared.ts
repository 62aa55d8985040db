/**
 * SDK-level timeouts sit just above the gateway's own (an AbortSignal per attempt), so the gateway's fires first and
 * the error is classified uniformly; the SDK's is only a backstop and disables SDK-specific timeout heuristics.
 */
export const SDK_TIMEOUT_SLACK_MS = 1_000;
