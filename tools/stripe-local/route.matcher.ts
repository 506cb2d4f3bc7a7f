/** A route of stripe-local: a method and a path pattern whose first group, if any, is the `:id`. */
export interface MatchableRoute {
  method: string;
  path: RegExp;
}

/** The first route for `method path`, with the `:id` its path captured ('' when it has none). */
export function matchRoute<R extends MatchableRoute>(
  routes: readonly R[],
  method: string,
  path: string,
): { route: R; id: string } | undefined {
  for (const route of routes) {
    const match = route.method === method ? route.path.exec(path) : null;
    if (match) return { route, id: match[1] ?? '' };
  }
  return undefined;
}
