// The route table: every route's input and output schema, and the types inferred from them.
import type { z } from 'zod';
import { appRoutes } from './app';
import { batchRoutes } from './batch';
import type { AtelierEvent } from './events';
import type { Result } from './errors';
import { historyRoutes } from './history';
import { imagesRoutes } from './images';
import { jobsRoutes } from './jobs';
import { loraRoutes } from './lora';
import { modelsRoutes } from './models';
import type { RouteName } from './route-names';
import { settingsRoutes } from './settings';

export interface RouteSchema {
  input: z.ZodType;
  output: z.ZodType;
}

export const routes = {
  ...appRoutes,
  ...settingsRoutes,
  ...jobsRoutes,
  ...historyRoutes,
  ...modelsRoutes,
  ...imagesRoutes,
  ...batchRoutes,
  ...loraRoutes,
} as const satisfies Record<RouteName, RouteSchema>;

// Compile-time proof that route-names.ts and the schemas name the same routes.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const routeNamesMatch: Same<keyof typeof routes, RouteName> = true;
void routeNamesMatch;

type Routes = typeof routes;
/** What a caller may send (before defaults/transforms). */
export type RouteInput<R extends RouteName> = z.input<Routes[R]['input']>;
/** What a handler receives (after parsing). */
export type ParsedInput<R extends RouteName> = z.output<Routes[R]['input']>;
export type RouteOutput<R extends RouteName> = z.output<Routes[R]['output']>;

type MethodFor<R extends RouteName> = undefined extends RouteInput<R>
  ? (input?: RouteInput<R>) => Promise<Result<RouteOutput<R>>>
  : (input: RouteInput<R>) => Promise<Result<RouteOutput<R>>>;

type DomainOf<R> = R extends `${infer D}.${string}` ? D : never;
export type DomainName = DomainOf<RouteName>;

/** The shape of `window.atelier`, the same under every host. */
export type AtelierApi = {
  readonly [D in DomainName]: {
    readonly [R in RouteName as R extends `${D}.${infer M}` ? M : never]: MethodFor<R>;
  };
} & {
  readonly events: { on(listener: (event: AtelierEvent) => void): () => void };
};
