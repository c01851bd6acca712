// Notification transports for unit tests: answers as plain objects, no network.
//
//   answer({ status: 403, statusText: 'Forbidden', body: 'nope', headers: { 'retry-after': '3' } })
//   netError('connect ECONNREFUSED 10.0.0.1:443', 'ECONNREFUSED')   // as Node's http gives it
//   const { calls, transport } = manualTransport();                  // answered by hand:
//   calls[0].resolve(answer()) / calls[0].reject(netError(...))      // (or at once: manualTransport(() => answer()))
import type { NotifyTransport, PostAnswer } from '../../src/notify/delivery.js';
import type { PreparedRequest } from '../../src/notify/format.js';

export interface FakeReply {
  status?: number;
  statusText?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** An answer whose body is there at once. */
export function answer(reply: FakeReply = {}): PostAnswer {
  const headers = Object.fromEntries(Object.entries(reply.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    status: reply.status ?? 200,
    statusText: reply.statusText ?? '',
    header: (name) => headers[name.toLowerCase()],
    readSome: (maxChars) => Promise.resolve((reply.body ?? 'ok').slice(0, maxChars)),
    close: () => undefined,
  };
}

/** A network error as node:http reports it. */
export function netError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

export interface TransportCall {
  url: string;
  request: PreparedRequest;
  body: string;
  signal: AbortSignal;
  resolve: (a: PostAnswer) => void;
  reject: (e: unknown) => void;
}

/** A transport whose answers the test gives by hand, or at once with `auto`. Rejects on its signal. */
export function manualTransport(auto?: (url: string) => PostAnswer | Error): { calls: TransportCall[]; transport: NotifyTransport } {
  const calls: TransportCall[] = [];
  const transport: NotifyTransport = (url, request, signal) =>
    new Promise<PostAnswer>((resolve, reject) => {
      const call = { url, request, body: request.body, signal, resolve, reject };
      calls.push(call);
      signal.addEventListener('abort', () => reject(signal.reason));
      if (auto) {
        const a = auto(url);
        if (a instanceof Error) reject(a);
        else resolve(a);
      }
    });
  return { calls, transport };
}
