import type { Delivery } from '../delivery.js';
import type { DeliveryLog, ResendInfo } from '../delivery-log.js';
import type { DeliveryWatch } from './delivery-watch.js';

/**
 * A DeliveryLog for tests: saves go to `inner` (the store, usually), then to `watch`, so
 * that tests wait on saved states; `saves` keeps each one in order.
 */
export function watchedLog(
  inner: DeliveryLog,
  watch: DeliveryWatch,
): DeliveryLog & { saves: { delivery: Delivery; resend?: ResendInfo }[] } {
  const saves: { delivery: Delivery; resend?: ResendInfo }[] = [];
  return {
    saves,
    save(delivery, resend) {
      inner.save(delivery, resend);
      saves.push(resend === undefined ? { delivery } : { delivery, resend });
      watch.sink({ ...delivery });
    },
    list: (query) => inner.list(query),
    unfinished: () => inner.unfinished(),
  };
}
