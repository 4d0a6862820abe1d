import type { DatabaseBackend } from './store/backend.js';
import type { Stores } from './store/contracts.js';
import type { EdgeHealth } from './edges/edge-health.js';
import type { CloudMetrics } from './metrics/cloud-metrics.js';
import type { ImageStore } from './images/image-store.js';
import type { StreamHub } from './stream/hub.js';
import type { StreamBus } from './stream/bus.js';
import type { RateLimiter } from './http/rate-limit.js';
import type { Logger } from '../shared/log.js';
import type { SignInThrottle } from './auth/login-throttle.js';
import type { TrustedProxies } from './auth/trusted-proxies.js';

/** Everything a route needs, built once by cloud/server.ts; the stores are the database's. */
export interface CloudContext extends Stores {
  /** The database and its health probe. */
  database: DatabaseBackend;
  dataDir: string;
  /** Edges' last heartbeats and status (online/degraded/offline), announced on change. */
  edgeHealth: EdgeHealth;
  /** Prometheus metrics of this cloud instance (its own registry). */
  metrics: CloudMetrics;
  images: ImageStore;
  hub: StreamHub;
  /** How accepted events reach the subscribers (of every replica, on PostgreSQL). */
  stream: StreamBus;
  limiter: RateLimiter;
  jwtSecret: string;
  tokenTtlS: number;
  log: Logger;
  version: string;
  startedAt: number;
  /** Most stream connections one API key may hold (contract: 1 per edge). */
  maxStreamsPerKey: number;
  /** Per-account backoff of failed password sign-ins. */
  loginThrottle: SignInThrottle;
  /** Reverse proxies whose X-Forwarded-For is believed (`ANPR_TRUSTED_PROXIES`). */
  trustedProxies: TrustedProxies;
  /** Model mirror and models dir for `POST /recognize` (the edge's pipeline, loaded on first use). */
  modelsMirror?: string;
  modelsDir?: string;
  /** Largest JSON request body, bytes (cloud/http/body-limit.ts). */
  maxJsonBytes: number;
  /**
   * Base of the URLs handed out (image URLs of events, exports), e.g. https://anpr.example.com;
   * undefined: relative paths. Never taken from the request's Host header.
   */
  publicUrl?: string;
  /** Run by close(): releases what routes start lazily (the recognizer's worker threads). */
  onClose: Array<() => Promise<void> | void>;
}
