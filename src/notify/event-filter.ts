import {
  environmentsOf,
  NOTIFICATION_EVENT_TYPES,
  type NotificationEvent,
  type NotificationEventType,
} from './notification-event.js';

/**
 * Which events a channel hears, as pure rules. Both lists hold names or globs where `*`
 * matches any characters (dots included: `*.failed` is every failure); a `!` pattern takes
 * back what an earlier one let in, and the last pattern that matches decides (as GitHub
 * Actions' filters). An omitted list lets everything through.
 */
export interface EventFilter {
  events?: readonly string[];
  environments?: readonly string[];
}

export function globMatches(pattern: string, name: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`).test(name);
}

/** Whether `name` passes `patterns`; undefined patterns pass everything. */
export function passesPatterns(patterns: readonly string[] | undefined, name: string): boolean {
  if (patterns === undefined) return true;
  let passed = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    if (globMatches(negated ? pattern.slice(1) : pattern, name)) passed = !negated;
  }
  return passed;
}

/**
 * An `environments` filter restricts every event: an event without an environment (a run
 * that names none of its targets) passes only a channel that lists no environments.
 */
export function filterAccepts(filter: EventFilter, event: NotificationEvent): boolean {
  if (!passesPatterns(filter.events, event.type)) return false;
  if (filter.environments === undefined) return true;
  return environmentsOf(event).some((environment) =>
    passesPatterns(filter.environments, environment),
  );
}

/** The known event types a pattern matches; none means a typo. */
export function eventTypesMatching(pattern: string): NotificationEventType[] {
  const body = pattern.startsWith('!') ? pattern.slice(1) : pattern;
  return NOTIFICATION_EVENT_TYPES.filter((type) => globMatches(body, type));
}
