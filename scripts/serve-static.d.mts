// Types of scripts/serve-static.mjs for the TypeScript tests that start it.
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface StaticServer {
  /** The page's URL, ending in the base path. */
  url: string;
  bytesServed(): number;
  requests(): number;
  resetCounts(): void;
  close(): Promise<void>;
}

export function serveStatic(options: {
  dir: string;
  base?: string;
  port?: number;
  host?: string;
  isolationHeaders?: boolean;
  intercept?: (request: IncomingMessage, response: ServerResponse) => boolean;
}): Promise<StaticServer>;
