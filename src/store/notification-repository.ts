import type { ChannelType } from '../notify/notification-config.js';
import type { Delivery, DeliveryStatus } from '../notify/delivery.js';
import type {
  DeliveryLog,
  DeliveryQuery,
  ResendInfo,
  UnfinishedDelivery,
} from '../notify/delivery-log.js';
import type { NotificationEventType } from '../notify/notification-event.js';
import { notificationEventSchema } from '../notify/notification-event-schema.js';
import { PlatformError } from '../shared/errors.js';
import { epochMs, isoTime, readJson } from './columns.js';
import type { Database } from './database.js';

/**
 * Deliveries kept: the newest by creation; older finished ones are deleted as new ones come.
 * Pending ones stay until they are final (a notifier bounds how many wait).
 */
export const DEFAULT_MAX_KEPT_DELIVERIES = 10_000;

interface DeliveryRow {
  seq: number;
  id: string;
  event: NotificationEventType;
  service: string;
  environment: string | null;
  run_id: string | null;
  deployment_id: string | null;
  approval_id: string | null;
  channel: string;
  channel_type: ChannelType;
  status: DeliveryStatus;
  attempts: number;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  last_attempt_at: number | null;
  next_attempt_at: number | null;
  event_json: string | null;
  config_commit: string | null;
}

type DeliveryParams = Omit<DeliveryRow, 'seq'>;

const FIELDS =
  'id, event, service, environment, run_id, deployment_id, approval_id, channel, ' +
  'channel_type, status, attempts, last_error, created_at, updated_at, last_attempt_at, ' +
  'next_attempt_at, event_json, config_commit';
const COLUMNS = `seq, ${FIELDS}`;

/**
 * Notification deliveries (src/notify), the store's DeliveryLog: one row per event and
 * channel, rewritten at each change, so that GET /api/notifications outlives the server and
 * a delivery a stop interrupted can be sent after the next start. Holds what the API shows
 * (secrets in errors were masked by the notifier), and while a delivery is pending its
 * event and the commit naming its channel; never a channel's URL or credentials.
 */
export class NotificationRepository implements DeliveryLog {
  /** Times come with the deliveries, stamped by the notifier's clock. */
  constructor(
    private readonly db: Database,
    private readonly maxKept = DEFAULT_MAX_KEPT_DELIVERIES,
  ) {}

  save(delivery: Delivery, resend?: ResendInfo): void {
    const params = toParams(delivery, resend);
    const save = this.db.transaction(() => {
      // A pending delivery saved without `resend` keeps the one it had; a final one drops it.
      const updated = this.db
        .prepare<DeliveryParams>(
          `UPDATE notification_deliveries SET event = @event, service = @service,
             environment = @environment, run_id = @run_id, deployment_id = @deployment_id,
             approval_id = @approval_id, channel = @channel, channel_type = @channel_type,
             status = @status, attempts = @attempts, last_error = @last_error,
             updated_at = @updated_at, last_attempt_at = @last_attempt_at,
             next_attempt_at = @next_attempt_at,
             event_json = CASE WHEN @status = 'pending' THEN COALESCE(@event_json, event_json) END,
             config_commit =
               CASE WHEN @status = 'pending' THEN COALESCE(@config_commit, config_commit) END
           WHERE id = @id`,
        )
        .run(params);
      if (updated.changes > 0) return;
      const inserted = this.db
        .prepare<DeliveryParams, { seq: number }>(
          `INSERT INTO notification_deliveries (${FIELDS})
           VALUES (@id, @event, @service, @environment, @run_id, @deployment_id, @approval_id,
             @channel, @channel_type, @status, @attempts, @last_error, @created_at, @updated_at,
             @last_attempt_at, @next_attempt_at, @event_json, @config_commit)
           RETURNING seq`,
        )
        .get(params);
      if (inserted !== undefined) this.prune(inserted.seq);
    });
    save.immediate();
  }

  list(query: DeliveryQuery): Delivery[] {
    return this.db
      .prepare<{ service: string | null; status: string | null; limit: number }, DeliveryRow>(
        `SELECT ${COLUMNS} FROM notification_deliveries
         WHERE (@service IS NULL OR service = @service) AND (@status IS NULL OR status = @status)
         ORDER BY seq DESC LIMIT @limit`,
      )
      .all({
        service: query.service ?? null,
        status: query.status ?? null,
        limit: Math.max(0, Math.floor(query.limit)),
      })
      .map(toDelivery);
  }

  unfinished(): UnfinishedDelivery[] {
    return this.db
      .prepare<[], DeliveryRow>(
        `SELECT ${COLUMNS} FROM notification_deliveries WHERE status = 'pending' ORDER BY seq`,
      )
      .all()
      .map((row) => {
        const delivery = toDelivery(row);
        if (row.event_json === null || row.config_commit === null) return { delivery };
        try {
          const event = readJson(
            notificationEventSchema,
            row.event_json,
            `delivery ${row.id} event`,
          );
          return { delivery, resend: { event, commit: row.config_commit } };
        } catch (error) {
          // One unreadable row (damaged, or from a Phoenix whose events differ) is given up
          // alone; the others are still sent.
          if (!(error instanceof PlatformError)) throw error;
          return { delivery };
        }
      });
  }

  /**
   * Deletes finished deliveries more than `maxKept` older than the one at `newestSeq`. By
   * sequence, not by count: a range on the primary key, however big the table.
   */
  private prune(newestSeq: number): void {
    this.db
      .prepare<[number]>(
        `DELETE FROM notification_deliveries WHERE seq <= ? AND status <> 'pending'`,
      )
      .run(newestSeq - this.maxKept);
  }
}

function toParams(delivery: Delivery, resend: ResendInfo | undefined): DeliveryParams {
  const pending = delivery.status === 'pending';
  return {
    id: delivery.id,
    event: delivery.event,
    service: delivery.service,
    environment: delivery.environment ?? null,
    run_id: delivery.runId ?? null,
    deployment_id: delivery.deploymentId ?? null,
    approval_id: delivery.approvalId ?? null,
    channel: delivery.channel,
    channel_type: delivery.channelType,
    status: delivery.status,
    attempts: delivery.attempts,
    last_error: delivery.lastError ?? null,
    created_at: requiredMs(delivery.createdAt),
    updated_at: requiredMs(delivery.updatedAt),
    last_attempt_at: epochMs(delivery.lastAttemptAt) ?? null,
    next_attempt_at: epochMs(delivery.nextAttemptAt) ?? null,
    event_json: pending && resend !== undefined ? JSON.stringify(resend.event) : null,
    config_commit: pending && resend !== undefined ? resend.commit : null,
  };
}

function requiredMs(iso: string): number {
  const ms = epochMs(iso);
  if (ms === undefined) throw new RangeError('a required time is missing');
  return ms;
}

function toDelivery(row: DeliveryRow): Delivery {
  const lastAttemptAt = isoTime(row.last_attempt_at);
  const nextAttemptAt = isoTime(row.next_attempt_at);
  return {
    id: row.id,
    event: row.event,
    service: row.service,
    ...(row.environment === null ? {} : { environment: row.environment }),
    ...(row.run_id === null ? {} : { runId: row.run_id }),
    ...(row.deployment_id === null ? {} : { deploymentId: row.deployment_id }),
    ...(row.approval_id === null ? {} : { approvalId: row.approval_id }),
    channel: row.channel,
    channelType: row.channel_type,
    status: row.status,
    attempts: row.attempts,
    ...(row.last_error === null ? {} : { lastError: row.last_error }),
    createdAt: isoTime(row.created_at),
    updatedAt: isoTime(row.updated_at),
    ...(lastAttemptAt === undefined ? {} : { lastAttemptAt }),
    ...(nextAttemptAt === undefined ? {} : { nextAttemptAt }),
  };
}
