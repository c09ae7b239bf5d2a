// Node fires a timer set beyond 2^31-1 ms (about 24.8 days) after 1 ms instead.
const longestTimerMs = 2 ** 31 - 1;

/**
 * Runs `run` once a token's expiry has come, also when that is weeks away; returns
 * the cancel function. Open streams (SSE, WebSocket) end with the token that opened them.
 */
export function atTokenExpiry(expiresAt: Date, run: () => void): () => void {
  let timer: NodeJS.Timeout;
  const arm = () => {
    const delay = expiresAt.getTime() - Date.now();
    timer = delay > longestTimerMs ? setTimeout(arm, longestTimerMs) : setTimeout(run, Math.max(0, delay));
  };
  arm();
  return () => clearTimeout(timer);
}
