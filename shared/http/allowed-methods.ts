/** A route as hono lists it in `app.routes`. */
export interface RouteEntry {
  method: string;
  path: string;
}

export type AllowedMethods = (path: string) => string[];

/**
 * The methods each path of this process answers, from the routes it actually registered: a function
 * run alone knows only its own paths, the all-in-one server all of them. Middleware (`ALL`) is not a
 * route. HEAD rides on GET in hono, and OPTIONS is answered for every known path.
 */
export function allowedMethods(routes: readonly RouteEntry[]): AllowedMethods {
  const table = new Map<string, { pattern: RegExp; methods: Set<string> }>();
  for (const { method, path } of routes) {
    if (method === 'ALL') continue;
    let entry = table.get(path);
    if (!entry) {
      entry = { pattern: patternOf(path), methods: new Set() };
      table.set(path, entry);
    }
    entry.methods.add(method.toUpperCase());
  }
  return (path) => {
    const methods = new Set<string>();
    for (const { pattern, methods: served } of table.values()) {
      if (pattern.test(path)) for (const method of served) methods.add(method);
    }
    if (methods.size === 0) return [];
    if (methods.has('GET')) methods.add('HEAD');
    methods.add('OPTIONS');
    return [...methods].sort();
  };
}

function patternOf(path: string): RegExp {
  const source = path
    .split('/')
    .map((part) => {
      if (part === '*') return '.*';
      if (part.startsWith(':')) return '[^/]+';
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return new RegExp(`^${source}$`);
}
