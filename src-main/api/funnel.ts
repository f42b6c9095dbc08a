// The one door into the core. Every request, from IPC or HTTP, goes through invoke(): the sender is
// checked, the route named, the input parsed against its schema, the handler called with the parsed
// value only, and its output checked against the output schema. Nothing unvalidated reaches a handler
// and nothing but the envelope leaves.
import type { ApiErrorShape, ErrorCode, ParsedInput, Result, RouteName, RouteOutput } from '../../src-shared/contract';
import { routes } from '../../src-shared/contract';
import { toApiError } from './errors';

export type Handler<R extends RouteName> = (input: ParsedInput<R>) => RouteOutput<R> | Promise<RouteOutput<R>>;
export type HandlerTable = { [R in RouteName]: Handler<R> };

export interface FunnelOptions {
  /** The host's check that a request comes from our own app (frame URL, token + Origin). */
  trustSender: (sender: unknown) => boolean;
  /** Told about failures that are bugs (handler threw unexpectedly, output off-schema). */
  onInternalError?: (route: string, error: unknown) => void;
}

export type Invoke = (route: unknown, input: unknown, sender: unknown) => Promise<Result<unknown>>;

function fail(code: ErrorCode, message: string, details?: unknown): { ok: false; error: ApiErrorShape } {
  return { ok: false, error: details === undefined ? { code, message } : { code, message, details } };
}

function isRoute(route: unknown): route is RouteName {
  return typeof route === 'string' && Object.hasOwn(routes, route);
}

interface Issue {
  path: PropertyKey[];
  message: string;
}

function describeIssues(issues: readonly Issue[]) {
  const list = issues.slice(0, 20).map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
  const first = list[0];
  const summary = first ? (first.path ? `${first.path}: ${first.message}` : first.message) : 'invalid input';
  return { summary, issues: list };
}

function senderIsTrusted(trustSender: FunnelOptions['trustSender'], sender: unknown): boolean {
  try {
    return trustSender(sender) === true;
  } catch {
    return false;
  }
}

export function createFunnel(handlers: HandlerTable, options: FunnelOptions): Invoke {
  return async function invoke(route, input, sender) {
    if (!senderIsTrusted(options.trustSender, sender)) {
      return fail('FORBIDDEN', 'this request did not come from the studio');
    }
    if (!isRoute(route)) {
      return fail('VALIDATION', `unknown route: ${typeof route === 'string' ? route.slice(0, 100) : typeof route}`);
    }
    const schema = routes[route];
    const parsed = schema.input.safeParse(input);
    if (!parsed.success) {
      const { summary, issues } = describeIssues(parsed.error.issues);
      return fail('VALIDATION', `${route}: ${summary}`, { issues });
    }

    let output: unknown;
    try {
      // The table is keyed by route, so this handler belongs to the schema that parsed the input.
      const handler = handlers[route] as (value: unknown) => unknown;
      output = await handler(parsed.data);
    } catch (error) {
      const apiError = toApiError(error, route);
      if (apiError.code === 'INTERNAL') options.onInternalError?.(route, error);
      return { ok: false, error: apiError };
    }

    const checked = schema.output.safeParse(output);
    if (!checked.success) {
      options.onInternalError?.(route, checked.error);
      return fail('INTERNAL', `${route} produced a result that does not match its schema`);
    }
    return { ok: true, data: checked.data };
  };
}
