/** Where a number rings, as the admin console's select writes it: `user:<id>`, `group:<id>`, `number` (kept as it is) or `none`. */
import type { NumberRoute } from '@callstack/protocol';

export function routeValue(route: NumberRoute): string {
  switch (route.kind) {
    case 'user':
      return `user:${route.userId}`;
    case 'group':
      return `group:${route.groupId}`;
    case 'number':
    case 'none':
      return route.kind;
    default:
      return route satisfies never;
  }
}

/** The route a select value stands for; `number` only keeps a forward the number already has. */
export function routeOf(value: string, current?: NumberRoute): NumberRoute {
  if (value.startsWith('user:')) return { kind: 'user', userId: value.slice('user:'.length) };
  if (value.startsWith('group:')) return { kind: 'group', groupId: value.slice('group:'.length) };
  return value === 'number' && current?.kind === 'number' ? current : { kind: 'none' };
}
