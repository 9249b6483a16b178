/**
 * Polls `check` until it returns something other than undefined, null or false, and resolves with
 * that value; rejects after `timeoutMs`, naming `what` so the failure says what never happened.
 * `check` may be async. The one polling helper of the tests.
 */
type NotYet = undefined | null | false;

export async function eventually<T>(check: () => T | NotYet | Promise<T | NotYet>, timeoutMs = 5_000, what = 'condition', intervalMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
