import type { Role } from '../auth/users-store.js';

/** Who made a request: a signed-in user (JWT) or an edge (API key). */
export type Principal =
  | { kind: 'user'; username: string; role: Role }
  /** An edge's API key: `edgeId` is the one edge the key belongs to (cloud/auth/api-keys.ts). */
  | { kind: 'edge'; keyId: string; name: string; edgeId: string };

export interface Env {
  Variables: {
    requestId: string;
    principal: Principal;
    /** Where the URLs this service hands out point: the configured public URL, or '' (relative). */
    baseUrl: string;
  };
}
