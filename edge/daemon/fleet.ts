/**
 * The daemon's side of the fleet (issue 9): its heartbeat sender, and what happens when the
 * cloud says another box runs this edge id (409 EDGE_ID_IN_USE): a fatal log saying what to do,
 * and exit code 78 (EX_CONFIG), which systemd does not restart.
 */
import type { Logger } from '../../shared/log.js';
import type { EdgeConfig } from '../config/schema.js';
import { HeartbeatSender, type HeartbeatBody } from '../cloud/heartbeat.js';
import type { Metrics } from './metrics.js';

/** Exit code when the configuration must be fixed before a restart can help (sysexits EX_CONFIG). */
export const EX_CONFIG = 78;

/** Another box runs this edge id (409 EDGE_ID_IN_USE at the first heartbeat): exit EX_CONFIG. */
export class EdgeIdInUseError extends Error {
  readonly exitCode = EX_CONFIG;
}

/** The fatal log line for a refused edge id: what happened and what to do. */
export function edgeIdInUseMessage(edgeId: string, cloud: string): string {
  return `edge id ${edgeId} is in use by another box (the cloud: ${cloud}). Give this box its own edge_id in its config and its own API key (anpr apikey create NEW_EDGE_ID), or retire the other box; exiting with code ${EX_CONFIG} (systemd does not restart it)`;
}

/** The heartbeat sender for this edge, counting each result in `anpr_edge_heartbeats_total{result}`. */
export function fleetHeartbeat(
  cloud: NonNullable<EdgeConfig['cloud']>,
  edgeId: string,
  instanceId: string,
  o: { collect: () => HeartbeatBody; onConflict: (message: string) => void; onConfigVersion?: (version: string) => void; metrics: Metrics; logger: Logger },
): HeartbeatSender {
  return new HeartbeatSender({
    url: cloud.url,
    apiKey: cloud.api_key,
    edgeId,
    instanceId,
    intervalS: cloud.heartbeat_s,
    timeoutMs: cloud.timeout_ms,
    collect: o.collect,
    onConflict: o.onConflict,
    onConfigVersion: o.onConfigVersion,
    onResult: (result) => o.metrics.inc('anpr_edge_heartbeats_total', 'Heartbeats to the cloud by result (ok, conflict, clock_skew, refused, no_route, failed)', { result }),
    logger: o.logger,
  });
}
