import type { Logger } from '../logger.ts';

export interface AuthUser {
  id: string;
  role: 'user' | 'admin';
}

/** Per-request values every handler may read. */
export interface AppEnv {
  Variables: {
    requestId: string;
    logger: Logger;
    user: AuthUser;
    /** Set by a route that wrote its answer to the Node response itself (event-stream.ts). */
    sentDirectly?: boolean;
  };
}
