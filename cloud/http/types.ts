import type { Role } from '../auth/users-store.js';

/** Who made a request: a signed-in user (JWT) or an edge (API key). */
export type Principal =
  | { kind: 'user'; username: string; role: Role }
  | { kind: 'edge'; keyId: string; name: string };

export interface Env {
  Variables: {
    requestId: string;
    principal: Principal;
    /** Where the URLs this service hands out point: the configured public URL, or '' (relative). */
    baseUrl: string;
  };
}
