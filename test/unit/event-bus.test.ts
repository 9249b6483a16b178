import { describe, expect, it } from 'vitest';
import { EventBus } from '../../shared/event-bus.js';

type Events = { 'session.started': [{ id: string }]; tick: [number] };

function busWithLog() {
  const errors: Array<{ obj: object; msg: string }> = [];
  const bus = new EventBus<Events>({ error: (obj, msg) => errors.push({ obj, msg }) });
  return { bus, errors };
}

describe('event bus', () => {
  it('calls every listener in registration order with the event data', () => {
    const { bus } = busWithLog();
    const seen: string[] = [];
    bus.on('session.started', {}, (s) => seen.push(`a:${s.id}`));
    bus.on('session.started', {}, (s) => seen.push(`b:${s.id}`));
    bus.emit('session.started', { id: 's1' });
    expect(seen).toEqual(['a:s1', 'b:s1']);
  });

  it('a throwing listener is logged and neither the emitter nor the next listener notices', () => {
    const { bus, errors } = busWithLog();
    const seen: number[] = [];
    bus.on('tick', {}, () => {
      throw new Error('listener bug');
    });
    bus.on('tick', {}, (n) => seen.push(n));
    expect(() => bus.emit('tick', 7)).not.toThrow();
    expect(seen).toEqual([7]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toBe('event listener failed');
    expect(errors[0]!.obj).toMatchObject({ event: 'tick' });
    expect((errors[0]!.obj as { err: Error }).err.message).toBe('listener bug');
  });

  it('a rejected promise of an async listener is logged, not left unhandled', async () => {
    const { bus, errors } = busWithLog();
    bus.on('tick', {}, async () => {
      throw new Error('async bug');
    });
    bus.emit('tick', 1);
    await new Promise((r) => setImmediate(r));
    expect(errors.map((e) => (e.obj as { err: Error }).err.message)).toEqual(['async bug']);
  });

  it('off(owner) removes all of that owner\'s listeners and only those', () => {
    const { bus } = busWithLog();
    const stopped = {};
    const running = {};
    const seen: string[] = [];
    bus.on('tick', stopped, () => seen.push('stopped tick'));
    bus.on('session.started', stopped, () => seen.push('stopped session'));
    bus.on('tick', running, () => seen.push('running tick'));
    bus.off(stopped);
    bus.emit('tick', 1);
    bus.emit('session.started', { id: 's' });
    expect(seen).toEqual(['running tick']);
    expect(bus.listenerCount('tick')).toBe(1);
    expect(bus.listenerCount('session.started')).toBe(0);
  });

  it('the function on() returns removes just that listener', () => {
    const { bus } = busWithLog();
    const owner = {};
    const seen: string[] = [];
    const offFirst = bus.on('tick', owner, () => seen.push('first'));
    bus.on('tick', owner, () => seen.push('second'));
    offFirst();
    bus.emit('tick', 1);
    expect(seen).toEqual(['second']);
  });

  it('a listener removed while the event is being delivered still completes that delivery, then never runs again', () => {
    const { bus } = busWithLog();
    const owner = {};
    const seen: string[] = [];
    bus.on('tick', {}, () => bus.off(owner));
    bus.on('tick', owner, (n) => seen.push(`late ${n}`));
    bus.emit('tick', 1);
    bus.emit('tick', 2);
    expect(seen).toEqual(['late 1']);
  });
});
