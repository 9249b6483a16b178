/* global fetch, TextDecoderStream, AbortController, setTimeout */
// Reads the live-session event stream with fetch(), so the bearer token travels in a header
// (EventSource could only put it in the URL). Reconnects after the server's `retry` delay when
// the stream ends, which it does every few minutes on purpose.
import { auth } from './dashboard-api.js';

function parseEvent(block) {
  const event = { type: 'message', data: '' };
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue; // keep-alive comment
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
    if (field === 'event') event.type = value;
    else if (field === 'data') event.data += (event.data ? '\n' : '') + value;
    else if (field === 'retry') event.retry = Number(value);
  }
  return event;
}

/**
 * Follows /api/v1/teacher/live for one course, calling onSnapshot with each snapshot and onState
 * with 'open' | 'reconnecting' | 'closed'. Returns a function that stops it.
 */
export function followLive(courseId, { onSnapshot, onState }) {
  const control = new AbortController();
  let retryMs = 3000;

  async function once() {
    const res = await fetch(`/api/v1/teacher/live?course_id=${encodeURIComponent(courseId)}`, {
      headers: { ...auth.header(), Accept: 'text/event-stream' },
      signal: control.signal,
    });
    if (res.status === 401 || res.status === 403 || res.status === 404) return false;
    if (!res.ok || !res.body) return true;
    onState('open');
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return true;
      buffer += value.replace(/\r\n?/g, '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const event = parseEvent(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (event.retry) retryMs = event.retry;
        if (event.type === 'snapshot') onSnapshot(JSON.parse(event.data));
      }
    }
  }

  (async () => {
    while (!control.signal.aborted) {
      let again = true;
      try {
        again = await once();
      } catch {
        // network error or abort: retry unless stopped
      }
      if (control.signal.aborted || !again) break;
      onState('reconnecting');
      await new Promise((r) => setTimeout(r, retryMs));
    }
    onState('closed');
  })();

  return () => control.abort();
}
